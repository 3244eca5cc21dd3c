"""In-band DTMF tones: each key's two frequencies, heard back after a trip through G.711 mu-law."""

import numpy as np
import pytest

from media.codecs import make_codec
from media.dtmf import GAP_MS, KEY_TONES, TONE_MS, dtmf_tones
from media.errors import AudioFormatError

RATE = 8000
ALL_FREQUENCIES = sorted({f for pair in KEY_TONES.values() for f in pair})


def power(samples: np.ndarray, frequency: float) -> float:
    """Goertzel: how strong `frequency` is in `samples` (what a DTMF detector computes)."""
    coefficient = 2 * np.cos(2 * np.pi * frequency / RATE)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + coefficient * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coefficient * s1 * s2


def heard_keys(pcm: bytes) -> str:
    samples = np.frombuffer(pcm, dtype="<i2").astype(float)
    step = RATE * (TONE_MS + GAP_MS) // 1000
    keys = ""
    for start in range(0, len(samples), step):
        tone = samples[start:start + RATE * TONE_MS // 1000]
        strongest = sorted(ALL_FREQUENCIES, key=lambda f: power(tone, f), reverse=True)[:2]
        keys += next(k for k, pair in KEY_TONES.items() if set(pair) == set(strongest))
    return keys


def test_every_key_is_heard_back_through_mulaw():
    mulaw = make_codec("mulaw", RATE)
    keys = "0123456789*#ABCD"
    pcm = mulaw.decode(mulaw.encode(dtmf_tones(keys, RATE)))
    assert len(pcm) == len(keys) * RATE * (TONE_MS + GAP_MS) // 1000 * 2
    assert heard_keys(pcm) == keys


def test_tones_are_loud_but_never_clip():
    samples = np.frombuffer(dtmf_tones("1", RATE), dtype="<i2")
    assert 15000 < np.abs(samples).max() < 32767


@pytest.mark.parametrize("digits", ["", "12x", "E"])
def test_only_dtmf_keys_make_tones(digits):
    with pytest.raises(AudioFormatError):
        dtmf_tones(digits, RATE)
