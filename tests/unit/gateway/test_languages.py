"""Session language and voice rules (POST /v1/conversations/create) and the [asr] language settings."""

import pytest

from agents.errors import InvalidRequest
from agents.providers.tts.base import VoiceInfo
from agents.tools.registry import ToolRegistry
from gateway.api.validation import parse_create
from gateway.config import DEFAULT_LANGUAGES, ConfigError, load_config

VOICES = {
    v.voice_id: v for v in (
        VoiceInfo("joe", "Joe", ("en",), "male", "piper", 22050),
        VoiceInfo("espeak_en", "English", ("en",), "male", "espeak", 22050),
        VoiceInfo("espeak_fr", "French", ("fr",), "male", "espeak", 22050),
        VoiceInfo("espeak_de", "German", ("de",), "male", "espeak", 22050),
    )
}
LANGUAGES = frozenset({"en", "fr", "de"})


def create(**body):
    return parse_create({"system_prompt": "Be brief.", **body}, VOICES, LANGUAGES, ToolRegistry())


def test_language_defaults_to_english_and_a_matching_voice_is_accepted():
    assert create(voice_id="joe").language == "en"
    assert create(voice_id="espeak_fr", language="fr").language == "fr"


def test_an_uninstalled_language_is_a_400_naming_the_installed_ones():
    with pytest.raises(InvalidRequest) as err:
        create(voice_id="espeak_fr", language="ta")
    assert err.value.param == "language"
    assert "language 'ta' is not installed (installed: de, en, fr)" in str(err.value)


@pytest.mark.parametrize("language", ["EN", "eng", "", 7, "e1"])
def test_a_malformed_language_is_a_400(language):
    with pytest.raises(InvalidRequest) as err:
        create(voice_id="joe", language=language)
    assert err.value.param == "language"


def test_a_voice_that_cannot_speak_the_language_is_a_400_naming_the_voices_that_can():
    with pytest.raises(InvalidRequest) as err:
        create(voice_id="joe", language="fr")
    assert err.value.param == "voice_id"
    assert "voice 'joe' speaks en, not 'fr'; voices for 'fr': espeak_fr" in str(err.value)
    with pytest.raises(InvalidRequest, match="voices for 'en': joe, espeak_en"):
        create(voice_id="espeak_de", language="en")


def test_asr_languages_setting():
    assert load_config(env={}).asr.wanted_languages == frozenset(DEFAULT_LANGUAGES.split(","))
    assert load_config(env={"PARLEY_ASR_LANGUAGES": "all"}).asr.wanted_languages is None
    assert load_config(env={"PARLEY_ASR_LANGUAGES": "en, fr"}).asr.wanted_languages == {"en", "fr"}
    assert load_config(env={"PARLEY_ASR_MULTILINGUAL_MODEL": "none"}).asr.multilingual_model == "none"
    with pytest.raises(ConfigError, match=r"asr.languages \(PARLEY_ASR_LANGUAGES\).*got 'english'"):
        load_config(env={"PARLEY_ASR_LANGUAGES": "english"})
