"""The VAD protocol and the energy gate that every detector shares."""

import math
from typing import Protocol

from media.audioop_lib import audioop
from media.errors import AudioFormatError
from media.format import SAMPLE_WIDTH


class VAD(Protocol):
    """Per-stream voice activity detector over fixed frames of pcm16.

    `prob` takes exactly one frame of `frame_ms` at `sample_rate` and returns a
    speech probability in 0..1 (already gated by loudness); a frame counts as
    speech when `prob >= threshold`. Synchronous and cheap: it runs on the
    20 ms audio path.
    """

    sample_rate: int
    frame_ms: int
    threshold: float

    def prob(self, frame: bytes) -> float: ...

    def reset(self) -> None: ...


def check_threshold(threshold: float) -> float:
    """The seed's `vad_threshold`: a number from 0.0 to 1.0."""
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 <= threshold <= 1.0:
        raise AudioFormatError(f"vad_threshold must be a number from 0.0 to 1.0, got {threshold!r}")
    return float(threshold)


def gate_dbfs(threshold: float) -> float:
    """Quietest frame (RMS, dBFS) that may count as speech: -60 dBFS at 0.0, -45 at 0.5, -30 at 1.0.

    Why a gate at all: webrtcvad judges spectral shape, not loudness, so faint
    background talk in a call center passes it; the seed's threshold is "higher
    needs louder speech", which only a level check can honour.
    """
    return -60.0 + 30.0 * threshold


def gate_rms(threshold: float) -> int:
    """`gate_dbfs` as a pcm16 RMS value, for audioop.rms comparisons."""
    return int(32768 * math.pow(10.0, gate_dbfs(threshold) / 20.0))


def frame_rms(frame: bytes) -> int:
    return audioop.rms(frame, SAMPLE_WIDTH)
