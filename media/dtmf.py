"""In-band DTMF: key presses as the dual tones a phone makes (ITU-T Q.23), for lines that carry only audio.

A door whose wire has no key-press event of its own (Twilio Media Streams) plays these tones
to the far end; an IVR over G.711 hears them as keys.
"""

import math

import numpy as np

from media.errors import AudioFormatError
from media.format import check_rate

_ROWS = (697.0, 770.0, 852.0, 941.0)
_COLUMNS = (1209.0, 1336.0, 1477.0, 1633.0)
_KEYPAD = ("123A", "456B", "789C", "*0#D")
KEY_TONES: dict[str, tuple[float, float]] = {
    key: (_ROWS[r], _COLUMNS[c]) for r, row in enumerate(_KEYPAD) for c, key in enumerate(row)
}
TONE_MS = 100  # Q.24 asks for at least 40 ms of tone and 40 ms between keys; 100/80 is what phones send
GAP_MS = 80
_LEVEL = 0.3  # each of the two tones at about -10 dBFS: loud enough for any detector, no clipping


def dtmf_tones(digits: str, sample_rate: int, tone_ms: int = TONE_MS, gap_ms: int = GAP_MS) -> bytes:
    """pcm16 at `sample_rate`: each key's tone pair for `tone_ms`, then `gap_ms` of silence."""
    check_rate(sample_rate)
    unknown = set(digits.upper()) - set(KEY_TONES)
    if not digits or unknown:
        raise AudioFormatError(f"not DTMF keys: {digits!r} (0-9, *, #, A-D)")
    t = np.arange(round(sample_rate * tone_ms / 1000)) / sample_rate
    gap = np.zeros(round(sample_rate * gap_ms / 1000))
    parts = []
    for key in digits.upper():
        low, high = KEY_TONES[key]
        parts += [_LEVEL * (np.sin(2 * math.pi * low * t) + np.sin(2 * math.pi * high * t)), gap]
    return (np.concatenate(parts) * 32767).astype("<i2").tobytes()
