"""Sample rates, sample width and frame sizes: the vocabulary every media function checks against."""

from media.errors import AudioFormatError

SAMPLE_WIDTH = 2  # bytes per pcm16 sample; Parley's audio is mono throughout
SUPPORTED_RATES: tuple[int, ...] = (8000, 16000, 22050, 24000, 48000)


def check_rate(sample_rate: int) -> int:
    """Return `sample_rate` if Parley supports it, else raise AudioFormatError naming it."""
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int) or sample_rate not in SUPPORTED_RATES:
        supported = ", ".join(str(r) for r in SUPPORTED_RATES)
        raise AudioFormatError(f"unsupported sample rate {sample_rate!r} Hz (supported: {supported})")
    return sample_rate


def frame_samples(sample_rate: int, frame_ms: float) -> int:
    """Samples in one frame of `frame_ms` at `sample_rate`; the frame must hold a whole number of samples."""
    check_rate(sample_rate)
    exact = sample_rate * frame_ms / 1000
    if frame_ms <= 0 or exact != int(exact):
        raise AudioFormatError(f"a {frame_ms!r} ms frame at {sample_rate} Hz is not a whole number of samples")
    return int(exact)


def frame_bytes(sample_rate: int, frame_ms: float) -> int:
    """Bytes in one pcm16 frame of `frame_ms` at `sample_rate` (640 for 20 ms at 16 kHz)."""
    return frame_samples(sample_rate, frame_ms) * SAMPLE_WIDTH


def check_pcm16(pcm: bytes) -> None:
    """Raise AudioFormatError unless `pcm` is bytes-like with a whole number of 16-bit samples."""
    if not isinstance(pcm, (bytes, bytearray, memoryview)):
        raise AudioFormatError(f"pcm16 audio must be bytes, got {type(pcm).__name__}")
    if len(pcm) % SAMPLE_WIDTH:
        raise AudioFormatError(f"pcm16 audio must have an even number of bytes, got {len(pcm)}")


def duration_ms(pcm_bytes: int, sample_rate: int) -> float:
    """Duration in ms of `pcm_bytes` bytes of pcm16 at `sample_rate`."""
    return pcm_bytes / SAMPLE_WIDTH * 1000 / sample_rate
