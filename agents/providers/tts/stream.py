"""The streaming loop every TTS provider shares: one piece at a time on the pool, resampled, cancellable.

`stream_pieces` turns a list of text pieces into AudioChunks. Each piece is one
job on the provider's InferencePool: synthesise (blocking, GIL released by the
engine), trim leading silence if it is the first audio of the reply, resample.
While the consumer handles piece n, piece n+1 is already being synthesised
(one job ahead, never more), so playback never waits on the engine and a
barge-in wastes at most one piece.

Results cross from the worker to the event loop through the job's future
(`asyncio.wrap_future`, i.e. `call_soon_threadsafe`): the loop never blocks
and the worker never waits for the consumer, so a consumer that stops
iterating can never leave a worker stuck.
"""

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import Future

import numpy as np

from agents.errors import InvalidRequest, ParleyError, ProviderError
from agents.pool import InferencePool
from agents.providers.tts.alignment import shifted
from agents.providers.tts.base import AudioChunk, SpokenWord
from media.errors import MediaError
from media.format import check_rate
from media.resample import Resampler

LEAD_IN_MS = 20  # speech onset kept after trimming: enough for a soft consonant, no audible gap
ONSET_LEVEL = 328  # -40 dBFS: the first sample this loud counts as the onset of speech

# One piece -> pcm16 at the engine's native rate (blocking), with its words' timing if the engine has one.
Synthesise = Callable[[str], bytes | tuple[bytes, tuple[SpokenWord, ...] | None]]
Synthesised = tuple[bytes, tuple[SpokenWord, ...] | None]  # at the stream's rate


def check_sample_rate(sample_rate: int) -> int:
    """`sample_rate` if media/ can resample to it, else InvalidRequest(param="sample_rate")."""
    try:
        return check_rate(sample_rate)
    except MediaError as exc:
        raise InvalidRequest(str(exc), param="sample_rate") from exc


def trim_leading_silence(pcm: bytes, sample_rate: int, lead_in_ms: int = LEAD_IN_MS) -> bytes:
    """Drop the silence before the first sample louder than -40 dBFS, keeping `lead_in_ms` of it."""
    samples = np.frombuffer(pcm, dtype=np.int16)
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) >= ONSET_LEVEL)
    if not len(loud):
        return pcm
    start = max(0, int(loud[0]) - sample_rate * lead_in_ms // 1000)
    return pcm[start * 2 :]


class _Job:
    """Synthesis of one piece on a worker; checks the reply's stop flag before starting."""

    def __init__(self, synthesise: Synthesise, resampler: Resampler, stop: threading.Event) -> None:
        self._synthesise = synthesise
        self._resampler = resampler
        self._stop = stop

    def __call__(self, piece: str, first: bool) -> Synthesised | None:
        if self._stop.is_set():  # the consumer left while this job sat in the queue
            return None
        result = self._synthesise(piece)
        pcm, words = result if isinstance(result, tuple) else (result, None)
        if not pcm:
            return b"", None
        if first:
            trimmed = trim_leading_silence(pcm, self._resampler.src_hz)
            words = shifted(words, -round((len(pcm) - len(trimmed)) / 2 * 1000 / self._resampler.src_hz))
            pcm = trimmed
        # Jobs of one reply never overlap (n+1 is submitted after n finished), so
        # the resampler's state advances in order without a lock.
        return self._resampler.process(pcm), words


async def stream_pieces(
    pool: InferencePool,
    pieces: Sequence[str],
    synthesise: Synthesise,
    native_hz: int,
    sample_rate: int,
    engine: str,
) -> AsyncIterator[AudioChunk]:
    """Yield one AudioChunk (pcm16 at `sample_rate`, text = the piece) per piece as soon as it is ready.

    Runs on the event loop; synthesis runs on `pool`. Stopping the iteration
    (aclose, break, task cancelled) starts no further piece: a queued job is
    cancelled, a running one finishes and its audio is dropped. Library
    failures come out as ProviderError naming `engine`.
    """
    if not pieces:
        return
    stop = threading.Event()
    job = _Job(synthesise, Resampler(native_hz, sample_rate), stop)
    pending: Future | None = _submit(pool, job, pieces[0], True, engine)
    first = True
    try:
        for index in range(len(pieces)):
            assert pending is not None
            pcm, words = await _result(pending, engine) or (b"", None)
            # Until audio has come out, the next piece is still "first": its silence gets trimmed.
            first = first and not pcm
            pending = _submit(pool, job, pieces[index + 1], first, engine) if index + 1 < len(pieces) else None
            if pcm:
                yield AudioChunk(pcm=pcm, sample_rate=sample_rate, text=pieces[index], words=words)
    finally:
        stop.set()
        if pending is not None:
            pending.cancel()


def _submit(pool: InferencePool, job: _Job, piece: str, first: bool, engine: str) -> Future:
    try:
        return pool.submit(job, piece, first)
    except RuntimeError as exc:  # the executor refuses work once shut down (gateway stopping)
        raise ProviderError(f"{engine} cannot synthesise: its pool {pool.name!r} is shut down") from exc


async def _result(future: Future, engine: str) -> Synthesised | None:
    try:
        return await asyncio.wrap_future(future)
    except ParleyError:
        raise
    except Exception as exc:  # a library failure: wrap it, keep the original as the cause
        raise ProviderError(f"{engine} synthesis failed: {exc}") from exc
