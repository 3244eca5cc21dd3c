"""Streaming resampler between Parley's rates (8, 16, 22.05, 24, 48 kHz) with exact frame sizes.

Why not one library call per frame:
- `audioop.ratecv` keeps state across calls (no clicks at frame edges) and costs
  about 4 us per 20 ms frame, but its first call comes back one sample short
  (638 bytes for a 640-byte target) and it has no anti-aliasing filter.
- soxr's streaming qualities above "quick" buffer about 100 ms before they emit
  anything: fine for files, wrong for a 20 ms real-time path.
So: downsampling runs a short windowed-sinc low-pass (state kept across frames)
before `ratecv`, and the output is re-sliced so that every call returns exactly
`len(input) * dst / src` samples, the first call included.
"""

import numpy as np

from media.audioop_lib import audioop
from media.format import SAMPLE_WIDTH, check_pcm16, check_rate

def _tap_count(src_hz: int, dst_hz: int) -> int:
    """Filter length for a src->dst downsampling: longer for steeper ratios, whose transition band is
    narrower relative to the input rate (31 taps for 2:1, 95 for 48k->8k). Odd, so the delay is whole."""
    return 2 * round(7.5 * src_hz / dst_hz) + 1


def _lowpass_taps(cutoff: float, taps: int) -> np.ndarray:
    """Windowed-sinc low-pass with `cutoff` as a fraction of the input rate (0..0.5), unit DC gain."""
    n = np.arange(taps) - (taps - 1) / 2
    h = np.sinc(2 * cutoff * n) * np.blackman(taps)
    return (h / h.sum()).astype(np.float32)


class Resampler:
    """Resample a pcm16 stream from `src_hz` to `dst_hz`, one call per chunk, state kept between calls.

    Every call returns exactly the number of samples that the input so far
    entitles it to (floor(total_in * dst / src) minus what was already
    returned), so 20 ms in gives 20 ms out whenever 20 ms is a whole number of
    samples at both rates.
    """

    def __init__(self, src_hz: int, dst_hz: int) -> None:
        self.src_hz = check_rate(src_hz)
        self.dst_hz = check_rate(dst_hz)
        self._state = None
        self._in_samples = 0
        self._out_samples = 0
        # ratecv's output lags the samples due by up to ceil(dst/src) - 1 (one when
        # downsampling or doubling, five for 8k -> 48k): start the output that many
        # samples of silence ahead so frames come out whole, not short then long,
        # and never need padding mid-stream (which would insert a click).
        self._pending = bytearray(b"\x00" * SAMPLE_WIDTH * max(1, -(-dst_hz // src_hz) - 1))
        self._taps: np.ndarray | None = None
        self._history: np.ndarray | None = None
        if dst_hz < src_hz:
            # Cut a little below the new Nyquist so that what folds back is attenuated.
            taps = _tap_count(src_hz, dst_hz)
            self._taps = _lowpass_taps(0.45 * dst_hz / src_hz, taps)
            self._history = np.zeros(taps - 1, dtype=np.float32)

    def process(self, pcm: bytes) -> bytes:
        """Resample one chunk of pcm16 at `src_hz`; returns pcm16 at `dst_hz`."""
        check_pcm16(pcm)
        if self.src_hz == self.dst_hz:
            return bytes(pcm)
        if not pcm:
            return b""
        if self._taps is not None:
            pcm = self._lowpass(pcm)
        out, self._state = audioop.ratecv(pcm, SAMPLE_WIDTH, 1, self.src_hz, self.dst_hz, self._state)
        self._in_samples += len(pcm) // SAMPLE_WIDTH
        due = self._in_samples * self.dst_hz // self.src_hz - self._out_samples
        pending = self._pending
        pending += out
        short = due * SAMPLE_WIDTH - len(pending)
        if short > 0:  # never happens given the lead above; pad rather than return a short frame
            pending += b"\x00" * short
        result = bytes(pending[: due * SAMPLE_WIDTH])
        del pending[: due * SAMPLE_WIDTH]
        self._out_samples += due
        return result

    def _lowpass(self, pcm: bytes) -> bytes:
        x = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
        assert self._history is not None and self._taps is not None
        padded = np.concatenate((self._history, x))
        self._history = padded[-(len(self._taps) - 1) :]
        y = np.convolve(padded, self._taps, mode="valid")
        return np.clip(np.rint(y), -32768, 32767).astype(np.int16).tobytes()


def resample(pcm: bytes, src_hz: int, dst_hz: int) -> bytes:
    """Resample a whole clip in one go (same filter as the stream; output length floor(n * dst / src))."""
    return Resampler(src_hz, dst_hz).process(pcm)
