"""The multilingual Whisper base on speech synthesised in each default language, with its word error rate.

The clips are espeak-ng's (the voice a non-English session gets; robotic, so
harder for Whisper than a person): the test asserts a bound only where the
measured figures leave room (tests/perf/language_bench.py has the full table)
and prints every language's WER (`pytest -s`).
"""

import pytest

from agents.providers.asr.packaged import resolve_whisper
from agents.providers.asr.router import LanguageRouter
from agents.providers.asr.whisper import MULTILINGUAL_TEMPERATURES, WhisperASR
from agents.providers.tts.espeak import CURATED
from gateway.config import DEFAULT_LANGUAGES
from tests.integration.languages import SENTENCES, word_error_rate
from tests.unit.agents.asr.clips import at_rate, espeak, piper, say

# Ceiling per language on the first test sentence; measured 0.0 (en, Piper + tiny.en), de 0.0-0.3,
# es 0.0-0.3 on espeak-ng. The others are only required to be heard as something.
MAX_WER = {"en": 0.1, "de": 0.5, "es": 0.5}


@pytest.fixture(scope="module")
def router(asr_pool, whisper_asr):
    base = WhisperASR(resolve_whisper("base"), pool=asr_pool, final_temperatures=MULTILINGUAL_TEMPERATURES)
    base.warm_up()
    wanted = DEFAULT_LANGUAGES.split(",")
    return LanguageRouter({lang: whisper_asr if lang == "en" else base for lang in wanted})


def test_base_is_multilingual_and_tiny_en_is_not(router, whisper_asr):
    base = router.model_for("fr")
    assert base is not whisper_asr and router.model_for("en") is whisper_asr
    assert {"fr", "de", "es", "it", "pt", "nl", "ja", "zh"} <= base.languages
    assert whisper_asr.languages == {"en"}


@pytest.mark.parametrize("language", DEFAULT_LANGUAGES.split(","))
async def test_each_default_language_is_heard(router, language):
    text = SENTENCES[language][0]
    clip = piper(text) if language == "en" else espeak(text, CURATED[language][0])
    stream = router.open(language, 16000)
    await say(stream, at_rate(clip, 16000), 16000)
    heard = await stream.final()
    errors, words = word_error_rate(text, heard)
    print(f"\n{language}: WER {errors / words:.2f}  {text!r} -> {heard!r}")
    assert heard.strip()
    if language in MAX_WER:
        assert errors / words <= MAX_WER[language], heard


def test_a_retuned_model_shares_the_weights_and_changes_only_its_aids(router):
    base = router.model_for("fr")
    aided = base.tuned(beam_size=3, use_vocabulary=False, final_temperatures=[0.0, 0.2])
    assert aided.model is base.model and aided.pool is base.pool and aided.decoder.window is base.decoder.window
    assert aided.beam_size == 3 and aided.decoder.beam_size == 3 and base.decoder.beam_size == 1
    assert aided.final_temperatures == (0.0, 0.2) and base.final_temperatures == MULTILINGUAL_TEMPERATURES
    assert not aided.use_vocabulary and base.use_vocabulary
    with pytest.raises(TypeError):
        base.tuned(window=None)
