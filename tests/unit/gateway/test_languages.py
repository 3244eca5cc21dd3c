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


class FakeWhisper:
    def __init__(self, model_path, **options):
        self.name, self.model_path, self.options = "whisper", model_path, options
        self.languages = frozenset({"en"}) if model_path == "tiny.en" else frozenset({"en", "de", "fr", "ta", "zh"})

    def tuned(self, **options):
        aided = FakeWhisper(self.model_path, **{**self.options, **options})
        aided.tuned_from = self
        return aided


@pytest.fixture
def loaded(monkeypatch):
    """make_asr_from with fake models: which model files were loaded, and with what."""
    import agents.providers.asr as asr_package
    import agents.providers.asr.packaged as packaged

    made = []

    def make_asr(provider, **options):
        made.append(FakeWhisper(**options))
        return made[-1]

    monkeypatch.setattr(asr_package, "make_asr", make_asr)
    monkeypatch.setattr(packaged, "resolve_whisper", lambda name: name)
    return made


def make(env):
    from gateway.models import make_asr_from

    return make_asr_from(load_config(env=env))


def test_english_stays_on_tiny_en_and_the_rest_goes_to_base(loaded):
    from agents.providers.asr.whisper import MULTILINGUAL_TEMPERATURES

    router = make({"PARLEY_ASR_LANGUAGES": "en,de,fr"})
    assert router.languages == {"en", "de", "fr"}
    assert router.model_for("en").model_path == "tiny.en"
    assert router.model_for("de") is router.model_for("fr") and router.model_for("de").model_path == "base"
    assert router.model_for("de").options["final_temperatures"] == MULTILINGUAL_TEMPERATURES
    assert [m.model_path for m in loaded] == ["tiny.en", "base"]  # each loaded once, sharing one pool
    assert loaded[0].options["pool"] is loaded[1].options["pool"]
    # A session may pick base for English: the loaded base with the main model's decoding aids.
    assert router.models_for("en") == ["base", "tiny.en"] and router.models_for("de") == ["base"]
    aided = router.choices[("base", "en")]
    assert aided.tuned_from is router.model_for("de") and aided.options["use_vocabulary"] is True
    assert aided.options["final_temperatures"] == router.model_for("en").options["final_temperatures"]


def test_english_only_loads_no_multilingual_model(loaded):
    assert make({"PARLEY_ASR_LANGUAGES": "en"}).languages == {"en"}
    assert make({"PARLEY_ASR_MULTILINGUAL_MODEL": "none"}).languages == {"en"}
    assert [m.model_path for m in loaded] == ["tiny.en", "tiny.en"]


def test_all_languages_and_languages_no_model_hears(loaded):
    assert make({"PARLEY_ASR_LANGUAGES": "all"}).languages == {"en", "de", "fr", "ta", "zh"}
    with pytest.raises(ConfigError, match="transcribe none of them"):
        make({"PARLEY_ASR_LANGUAGES": "xx", "PARLEY_ASR_MULTILINGUAL_MODEL": "none"})
