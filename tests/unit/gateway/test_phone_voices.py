"""phone_voices: a synthetic caller comes out as a phone line delivers it (8 kHz, band-limited, G.711)."""

import shutil

import numpy as np
import pytest

from gateway.evaluation.phone_voices import (
    HELD_OUT_VOICES,
    TUNING_VOICES,
    synthesise,
    telephone_line,
    voices_for,
)

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


def _band_energy(x: np.ndarray, low_hz: float, high_hz: float) -> float:
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(x.size, 1 / 8000)
    return float(spectrum[(freqs >= low_hz) & (freqs < high_hz)].sum())


def test_espeak_clip_is_phone_band_audio():
    voice = next(v for v in TUNING_VOICES if v.engine == "espeak")
    pcm = synthesise("Hello, I would like to check my order.", voice)
    x = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    seconds = x.size / 8000
    assert 1.0 < seconds < 5.0  # 8 kHz: a short sentence lasts seconds, not a third of that
    assert np.abs(x).max() > 1000
    speech = _band_energy(x, 300, 3400)
    assert _band_energy(x, 0, 150) < speech * 0.01  # below the band: cut
    assert _band_energy(x, 3700, 4001) < speech * 0.01  # above: cut
    assert synthesise("Hello, I would like to check my order.", voice) == pcm  # deterministic (and cached)


def test_line_is_mulaw_quantised():
    tone = (np.sin(2 * np.pi * 1000 * np.arange(8000) / 8000) * 8000).astype(np.int16).tobytes()
    out = np.frombuffer(telephone_line(tone, 8000), dtype=np.int16)
    assert len(np.unique(out)) <= 256  # G.711 has 256 code words


def test_voice_sets_are_disjoint_and_piper_joe_only_tunes():
    assert not set(TUNING_VOICES) & set(HELD_OUT_VOICES)
    assert not {v.name for v in TUNING_VOICES} & {v.name for v in HELD_OUT_VOICES}
    assert all(v.engine == "espeak" for v in HELD_OUT_VOICES)
    assert sum(v.engine == "piper" for v in TUNING_VOICES) == 1 < len(TUNING_VOICES)
    for language in ("de", "es", "fr"):
        assert voices_for(language, held_out=False) and voices_for(language, held_out=True)
        assert not set(voices_for(language, False)) & set(voices_for(language, True))
    with pytest.raises(ValueError):
        voices_for("xx", held_out=False)
