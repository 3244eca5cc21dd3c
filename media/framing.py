"""Turn arbitrary-sized chunks of audio into exact frames (10/20/30 ms for VAD, 20 ms for RTP) and back."""

from collections import deque

from media.errors import AudioFormatError
from media.format import frame_bytes


class Framer:
    """Re-slice a byte stream into frames of exactly `size` bytes, keeping the remainder.

    Going the other way (frames into larger packets, e.g. three 20 ms frames per
    60 ms Opus packet) is the same object with a larger `size`.
    """

    def __init__(self, size: int) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0 or size % 2:
            raise AudioFormatError(f"frame size must be a positive even number of bytes, got {size!r}")
        self.size = size
        self._buffer = bytearray()

    @classmethod
    def for_duration(cls, sample_rate: int, frame_ms: float) -> "Framer":
        """A framer for pcm16 frames of `frame_ms` at `sample_rate`."""
        return cls(frame_bytes(sample_rate, frame_ms))

    @property
    def pending(self) -> int:
        """Bytes held back, waiting to complete a frame."""
        return len(self._buffer)

    def push(self, chunk: bytes) -> list[bytes]:
        """Add a chunk; return every whole frame now available, in order."""
        size = self.size
        if not self._buffer and len(chunk) == size:  # the common case on a paced stream
            return [bytes(chunk)]
        buf = self._buffer
        buf += chunk
        whole = len(buf) - len(buf) % size
        if not whole:
            return []
        frames = [bytes(buf[i : i + size]) for i in range(0, whole, size)]
        del buf[:whole]
        return frames

    def flush(self, pad: bool = True) -> bytes | None:
        """Return the held-back remainder as a last frame (padded with silence if `pad`), or None if empty."""
        if not self._buffer:
            return None
        rest = bytes(self._buffer)
        self._buffer.clear()
        return rest + b"\x00" * (self.size - len(rest)) if pad else rest

    def reset(self) -> None:
        """Drop anything held back (e.g. on barge-in)."""
        self._buffer.clear()


class Tail:
    """The last `max_bytes` (or a little more, less than one chunk) of a stream of chunks, kept without copying
    the rest on each push: the pre-roll the recogniser is given when speech starts, 50 pushes a second a call."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._chunks: deque[bytes] = deque()
        self._size = 0

    def push(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        self._size += len(chunk)
        while self._size - len(self._chunks[0]) >= self.max_bytes:
            self._size -= len(self._chunks.popleft())

    def __bytes__(self) -> bytes:
        """The last `max_bytes` pushed (all of it while fewer were pushed)."""
        return b"".join(self._chunks)[-self.max_bytes :] if self.max_bytes else b""
