"""Voice activity detection: a small protocol, webrtcvad and Silero behind it, and a speech detector."""

from media.vad.base import VAD, check_threshold, gate_dbfs
from media.vad.detector import SpeechDetector, SpeechEnd, SpeechStart, VADEvent
from media.vad.webrtc import WebRtcVAD

__all__ = [
    "VAD",
    "SpeechDetector",
    "SpeechEnd",
    "SpeechStart",
    "VADEvent",
    "WebRtcVAD",
    "check_threshold",
    "gate_dbfs",
]
