"""The encoder window fitted to each clip: same words as Whisper's 30 s window, a fraction of the work."""

import pytest

from agents.providers.asr.whisper import WhisperASR
from agents.providers.asr.whisper_window import FULL_WINDOW_FRAMES, Window
from tests.unit.agents.asr.clips import at_rate, piper, words


def test_a_short_clip_gets_the_floor_and_a_long_one_its_length_plus_padding():
    window = Window(min_s=15, pad_s=2)
    assert window.frames(150) == 1500  # 1.5 s of speech: the 15 s floor
    assert window.frames(2000) == 2200  # 20 s: its length and 2 s of silence
    assert window.frames(2001) == 2202  # always even: the encoder halves it


def test_clips_too_long_for_a_fitted_window_take_the_full_window_path():
    window = Window(min_s=15, pad_s=2)
    assert window.frames(FULL_WINDOW_FRAMES - 200) == FULL_WINDOW_FRAMES
    assert window.frames(FULL_WINDOW_FRAMES - 199) is None
    assert Window(min_s=30).frames(100) is None  # 30 s floor = Whisper's own window, always


@pytest.mark.slow
@pytest.mark.parametrize("text", [
    "What is the status of my order? Order number one two three four.",
    "I would like to cancel my subscription, please.",
    "Yes.",
    "No.",
    "Thanks.",
])
def test_the_fitted_window_hears_what_the_full_window_hears(whisper_asr, text):
    full = WhisperASR(whisper_asr.model_path, window=Window(min_s=30), pool=whisper_asr.pool)
    pcm = at_rate(piper(text), 16000)
    fitted_text = whisper_asr.transcribe(pcm, "en")
    assert words(fitted_text) == words(full.transcribe(pcm, "en"))
    assert fitted_text.rstrip()[-1] in ".?"  # the end-of-turn guess reads the full stop


@pytest.mark.slow
def test_silence_is_no_words(whisper_asr):
    assert whisper_asr.transcribe(b"\x00" * 32000 * 2, "en") == ""
