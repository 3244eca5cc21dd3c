"""webrtcvad (Google's WebRTC GMM detector): 2-4 us a frame, the default VAD."""

import webrtcvad

from media.errors import AudioFormatError
from media.format import frame_bytes
from media.vad.base import check_threshold, frame_rms, gate_rms

WEBRTC_RATES = (8000, 16000, 32000, 48000)
WEBRTC_FRAME_MS = (10, 20, 30)


def aggressiveness(threshold: float) -> int:
    """Map the seed's 0.0-1.0 `vad_threshold` onto webrtcvad's modes 0-3 (0.5 -> 2)."""
    return min(3, int(threshold * 4))


class WebRtcVAD:
    """webrtcvad behind the VAD protocol; its yes/no becomes probability 1.0/0.0."""

    def __init__(self, sample_rate: int = 16000, threshold: float = 0.5, frame_ms: int = 20) -> None:
        if sample_rate not in WEBRTC_RATES:
            raise AudioFormatError(f"webrtcvad runs at {WEBRTC_RATES} Hz, not {sample_rate!r}")
        if frame_ms not in WEBRTC_FRAME_MS:
            raise AudioFormatError(f"webrtcvad needs 10, 20 or 30 ms frames, not {frame_ms!r}")
        self.sample_rate = sample_rate
        self.frame_ms = frame_ms
        self.threshold = 0.5  # prob is 0 or 1; the seed's threshold is applied through mode and gate
        self._frame_bytes = frame_bytes(sample_rate, frame_ms)
        self._gate = gate_rms(check_threshold(threshold))
        self._vad = webrtcvad.Vad(aggressiveness(threshold))

    def prob(self, frame: bytes) -> float:
        # webrtcvad rejects anything but an exact 10/20/30 ms frame with an opaque
        # error (or worse, reads past it): check here and name the size.
        if len(frame) != self._frame_bytes:
            raise AudioFormatError(
                f"VAD frame must be {self._frame_bytes} bytes ({self.frame_ms} ms at {self.sample_rate} Hz), "
                f"got {len(frame)}"
            )
        if frame_rms(frame) < self._gate:
            return 0.0
        return 1.0 if self._vad.is_speech(frame, self.sample_rate) else 0.0

    def reset(self) -> None:
        """webrtcvad keeps only adaptive noise estimates; nothing a new utterance must forget."""
