"""Whisper's decoding aids: a stream's vocabulary reaches every decode as its prompt; gain and band limit work."""

import numpy as np
import pytest

from agents.providers.asr.whisper import FINAL_TEMPERATURES, low_pass, speech_rms
from gateway.config import load_config
from tests.unit.agents.asr.clips import espeak, phone_line


def test_low_pass_removes_what_is_above_the_cutoff():
    t = np.arange(16000) / 16000
    audio = (0.3 * np.sin(2 * np.pi * 1000 * t) + 0.3 * np.sin(2 * np.pi * 6000 * t)).astype(np.float32)
    spectrum = np.abs(np.fft.rfft(low_pass(audio, 3800)))
    assert spectrum[6000] < 1e-3 * spectrum[1000]


def test_speech_rms_ignores_the_pauses():
    tone = 0.1 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)
    padded = np.concatenate([np.zeros(32000), tone, np.zeros(32000)]).astype(np.float32)
    assert speech_rms(padded) == pytest.approx(0.1 / np.sqrt(2), rel=0.02)
    assert speech_rms(np.zeros(1000, dtype=np.float32)) == 0.0


def test_config_gives_the_whisper_options():
    options = load_config(env={}).asr.whisper_options()
    assert set(options) == {"beam_size", "final_temperatures", "use_vocabulary", "prompt", "gain_dbfs", "band_limit"}
    changed = load_config(env={"PARLEY_ASR_BEAM_SIZE": "5", "PARLEY_ASR_TEMPERATURE_FALLBACK": "false",
                               "PARLEY_ASR_VOCABULARY_PROMPT": "no", "PARLEY_ASR_GAIN_DBFS": "-18",
                               "PARLEY_ASR_BAND_LIMIT": "on", "PARLEY_ASR_PROMPT": "Acme support."}).asr
    assert changed.whisper_options() == {"beam_size": 5, "final_temperatures": (0.0,), "use_vocabulary": False,
                                         "prompt": "Acme support.", "gain_dbfs": -18.0, "band_limit": True}
    assert load_config(env={"PARLEY_ASR_TEMPERATURE_FALLBACK": "true"}).asr.whisper_options()[
        "final_temperatures"] == FINAL_TEMPERATURES


@pytest.mark.slow
async def test_the_vocabulary_primes_every_decode_of_the_stream(whisper_asr, monkeypatch):
    prompts = []
    real = whisper_asr.transcribe

    def recording(pcm, language, *, final=True, prompt=None, source_rate=16000):
        prompts.append((prompt, source_rate))
        return real(pcm, language, final=final, prompt=prompt, source_rate=source_rate)

    monkeypatch.setattr(whisper_asr, "transcribe", recording)
    pcm = phone_line(espeak("My order number is one two three four."))
    stream = whisper_asr.open("en", 8000, ("Acme", "order number"))
    stream.push(pcm)
    await stream.so_far()
    text = await stream.final()
    assert prompts == [("Acme, order number.", 8000)] * 2
    assert "order" in text.lower()
    monkeypatch.setattr(whisper_asr, "use_vocabulary", False)
    stream = whisper_asr.open("en", 8000, ("Acme",))
    stream.push(pcm)
    await stream.final()
    assert prompts[-1] == (whisper_asr.prompt, 8000)


@pytest.mark.slow
def test_gain_normalisation_brings_quiet_speech_to_the_level(whisper_asr, monkeypatch):
    monkeypatch.setattr(whisper_asr, "gain_dbfs", -20.0)
    quiet = (0.01 * np.sin(2 * np.pi * 300 * np.arange(16000) / 16000)).astype(np.float32)
    louder = whisper_asr.condition(quiet)
    assert 20 * np.log10(speech_rms(louder)) == pytest.approx(-20.0, abs=0.5)
    monkeypatch.setattr(whisper_asr, "gain_dbfs", None)
    assert np.array_equal(whisper_asr.condition(quiet), quiet)
