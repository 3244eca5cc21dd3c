"""Call recordings (a persona's `recording: true`): both sides of a call under data_dir/recordings/<session_id>/.

While the call runs each side is appended as raw 16 kHz pcm16 (`caller.pcm`, `agent.pcm`), placed
on one wall clock so the two line up (silence fills the gaps: the assistant is quiet while the
caller talks, a client may send nothing between utterances). When the call stops they become one
stereo `recording.wav` (left: the caller, right: the assistant). Recordings go with their session's
retention: `sweep` deletes those whose session was purged.
"""

import asyncio
import shutil
import time
import wave
from pathlib import Path

import structlog

from gateway.storage import Storage
from media.audioop_lib import audioop
from media.resample import Resampler

log = structlog.get_logger(__name__)

RATE = 16000
WAV_NAME = "recording.wav"
_SAMPLE_BYTES = 2
_GAP_SAMPLES = RATE // 10  # a chunk later than this counts as a gap to fill; less is network jitter


class _Track:
    """One side: raw pcm16 at RATE, padded with silence up to the wall clock before each chunk."""

    def __init__(self, path: Path, started: float) -> None:
        self.path = path
        self._file = open(path, "wb")  # noqa: SIM115 - open for the whole call, closed by close()
        self._started = started
        self.samples = 0

    def write(self, pcm: bytes) -> None:
        n = len(pcm) // _SAMPLE_BYTES
        # This chunk ends now: whatever lies between the last one and its start was silence.
        start = round((time.monotonic() - self._started) * RATE) - n
        if start - self.samples > _GAP_SAMPLES:
            self._file.write(b"\x00\x00" * (start - self.samples))
            self.samples = start
        self._file.write(pcm)
        self.samples += n

    def close(self) -> None:
        self._file.close()


class CallRecorder:
    """agents.ports.Recorder for one session; `finish()` (once, off the event loop) writes the WAV."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        started = time.monotonic()
        self._caller = _Track(directory / "caller.pcm", started)
        self._agent = _Track(directory / "agent.pcm", started)
        self._resamplers: dict[int, Resampler] = {}
        self._closed = False

    def caller(self, pcm: bytes) -> None:
        if not self._closed:
            self._caller.write(pcm)

    def agent(self, pcm: bytes, sample_rate: int) -> None:
        if self._closed:
            return
        if sample_rate != RATE:
            resampler = self._resamplers.get(sample_rate)
            if resampler is None:
                resampler = self._resamplers[sample_rate] = Resampler(sample_rate, RATE)
            pcm = resampler.process(pcm)
        self._agent.write(pcm)

    def finish(self) -> Path | None:
        """Close both sides and interleave them into recording.wav (blocking: run in a thread)."""
        if self._closed:
            return None
        self._closed = True
        self._caller.close()
        self._agent.close()
        left, right = self._caller.path.read_bytes(), self._agent.path.read_bytes()
        size = max(len(left), len(right))
        left, right = left.ljust(size, b"\x00"), right.ljust(size, b"\x00")
        stereo = audioop.add(audioop.tostereo(left, _SAMPLE_BYTES, 1, 0),
                             audioop.tostereo(right, _SAMPLE_BYTES, 0, 1), _SAMPLE_BYTES) if size else b""
        path = self.directory / WAV_NAME
        if path.exists():  # a resumed stream: this connection's audio follows the earlier ones'
            with wave.open(str(path), "rb") as earlier:
                stereo = earlier.readframes(earlier.getnframes()) + stereo
        tmp = path.with_suffix(".tmp")
        with wave.open(str(tmp), "wb") as wav:
            wav.setnchannels(2)
            wav.setsampwidth(_SAMPLE_BYTES)
            wav.setframerate(RATE)
            wav.writeframes(stereo)
        tmp.replace(path)
        self._caller.path.unlink()
        self._agent.path.unlink()
        return path


class Recordings:
    """The recordings folder of this gateway (data_dir/recordings)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def directory(self, session_id: str) -> Path:
        return self.root / session_id

    def start(self, session_id: str) -> CallRecorder:
        return CallRecorder(self.directory(session_id))

    async def finish(self, recorder: CallRecorder) -> None:
        try:
            path = await asyncio.to_thread(recorder.finish)
        except OSError as exc:  # a full disk must not take the call's ending down with it
            log.error("recording_failed", error=str(exc))
            return
        if path is not None:
            log.info("recording_saved", path=str(path), bytes=path.stat().st_size)

    def session_ids(self) -> list[str]:
        return [d.name for d in self.root.iterdir() if d.is_dir()] if self.root.is_dir() else []

    def wav(self, session_id: str) -> Path | None:
        path = self.directory(session_id) / WAV_NAME
        return path if path.is_file() else None

    def describe(self, session_id: str) -> dict | None:
        """{duration_ms, bytes} of a finished recording, or None."""
        path = self.wav(session_id)
        if path is None:
            return None
        size = path.stat().st_size
        return {"duration_ms": max(0, size - 44) * 1000 // (RATE * 2 * _SAMPLE_BYTES), "bytes": size}

    async def sweep(self, storage: Storage) -> int:
        """Delete the recordings of sessions that no longer exist (purged by retention); returns how many."""
        if not self.root.is_dir():
            return 0
        removed = 0
        for directory in [d for d in self.root.iterdir() if d.is_dir()]:
            if await storage.get_session(directory.name) is None:
                await asyncio.to_thread(shutil.rmtree, directory, True)
                removed += 1
        return removed
