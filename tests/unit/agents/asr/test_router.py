"""LanguageRouter: each language's stream goes to the recogniser that hears it."""

import pytest

from agents.errors import InvalidRequest
from agents.providers.asr.router import LanguageRouter


class FakeASR:
    def __init__(self, name, languages):
        self.name, self.languages, self.opened, self.warmed = name, frozenset(languages), [], 0

    def open(self, language, sample_rate=16000):
        self.opened.append((language, sample_rate))
        return (self.name, language)

    def warm_up(self):
        self.warmed += 1


def test_streams_go_to_the_model_for_their_language():
    english, multi = FakeASR("tiny.en", {"en"}), FakeASR("base", {"en", "fr", "de", "ta"})
    router = LanguageRouter({"en": english, "fr": multi, "de": multi})
    assert router.languages == {"en", "fr", "de"}
    assert router.open("en", 8000) == ("tiny.en", "en")
    assert router.open("fr") == ("base", "fr")
    assert english.opened == [("en", 8000)] and multi.opened == [("fr", 16000)]
    assert router.providers == [english, multi]
    router.warm_up()
    assert english.warmed == 1 and multi.warmed == 1  # a model serving many languages warms once


def test_an_unrouted_language_is_a_400_naming_the_installed_ones():
    router = LanguageRouter({"en": FakeASR("a", {"en"}), "de": FakeASR("b", {"de", "ta"})})
    with pytest.raises(InvalidRequest, match=r"language 'ta' is not installed \(installed: de, en\)") as err:
        router.open("ta")
    assert err.value.param == "language"


def test_a_route_to_a_model_that_cannot_hear_the_language_is_refused():
    with pytest.raises(ValueError, match="does not transcribe 'fr'"):
        LanguageRouter({"fr": FakeASR("tiny.en", {"en"})})
    with pytest.raises(ValueError):
        LanguageRouter({})


class VocabularyASR(FakeASR):
    def open(self, language, sample_rate=16000, vocabulary=()):
        self.opened.append((language, sample_rate, tuple(vocabulary)))
        return (self.name, language)


def test_a_session_may_pick_another_loaded_model_for_its_language():
    english, multi = VocabularyASR("tiny.en", {"en"}), VocabularyASR("base", {"en", "fr", "de"})
    aided = VocabularyASR("base+aids", {"en", "fr"})
    router = LanguageRouter({"en": english, "fr": multi},
                            {("tiny.en", "en"): english, ("base", "en"): aided, ("base", "fr"): multi,
                             ("base", "de"): multi})  # de is not routed here: not offered
    assert router.models_for("en") == ["base", "tiny.en"] and router.models_for("fr") == ["base"]
    assert router.models_for("de") == []
    assert router.open("en", 8000, ("Acme",), model="base") == ("base+aids", "en")
    assert router.open("en", 8000, model="tiny.en") == ("tiny.en", "en")
    assert router.open("en") == ("tiny.en", "en")  # no pick: the language's own route
    assert aided.opened == [("en", 8000, ("Acme",))]


def test_picking_a_model_that_does_not_hear_the_language_is_a_400_naming_the_choices():
    english = FakeASR("tiny.en", {"en"})
    router = LanguageRouter({"en": english}, {("tiny.en", "en"): english})
    with pytest.raises(InvalidRequest, match=r"asr.model 'base' does not hear 'en' here \(available: tiny.en\)") as err:
        router.open("en", model="base")
    assert err.value.param == "asr"
