"""Pure audio building blocks shared by every door and the engine.

Synchronous and free of Parley imports (see tests/unit/test_import_rule.py):
codecs, resampling, framing, VAD and a jitter buffer. Audio inside Parley is
16-bit signed little-endian mono PCM ("pcm16") unless a name says otherwise.
"""

from media.errors import AudioFormatError, MediaError
from media.format import SAMPLE_WIDTH, SUPPORTED_RATES, check_rate, frame_bytes

__all__ = [
    "AudioFormatError",
    "MediaError",
    "SAMPLE_WIDTH",
    "SUPPORTED_RATES",
    "check_rate",
    "frame_bytes",
]
