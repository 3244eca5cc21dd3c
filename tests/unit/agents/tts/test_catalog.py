"""VoiceCatalog and make_tts: one voice list for GET /v1/voices, speak() routed by voice_id."""

import pytest

from agents.errors import InvalidRequest
from agents.providers.tts import VoiceCatalog, make_tts
from agents.providers.tts.base import AudioChunk, VoiceInfo
from tests.unit.agents.tts.speech import collect, pcm_of, seconds


class FakeTTS:
    """Fits the TTS protocol by shape; records what it was asked to speak."""

    def __init__(self, name: str, voice_ids: list[str], languages=("en",)) -> None:
        self.name = name
        self._voices = [VoiceInfo(v, v.title(), tuple(languages), None, name, 16000) for v in voice_ids]
        self.spoken: list[tuple[str, str, int]] = []

    def voices(self) -> list[VoiceInfo]:
        return list(self._voices)

    def speak(self, text, voice_id, sample_rate):
        self.spoken.append((text, voice_id, sample_rate))

        async def chunks():
            yield AudioChunk(b"\x00\x00" * 160, sample_rate, text)

        return chunks()


async def test_speak_goes_to_the_provider_that_owns_the_voice():
    a, b = FakeTTS("a", ["anna", "abe"]), FakeTTS("b", ["bob"], languages=("fr", "en"))
    catalog = VoiceCatalog([a, b])
    assert [v.voice_id for v in catalog.voices()] == ["anna", "abe", "bob"]
    chunks = await collect(catalog.speak("Bonjour.", "bob", 8000))
    assert [c.text for c in chunks] == ["Bonjour."]
    assert b.spoken == [("Bonjour.", "bob", 8000)] and a.spoken == []
    assert catalog.find("bob").engine == "b"
    assert catalog.find("nobody") is None
    assert catalog.languages_for("bob") == ("fr", "en")


def test_an_unknown_voice_is_an_invalid_request_on_voice_id():
    catalog = VoiceCatalog([FakeTTS("a", ["anna"])])
    for call in (lambda: catalog.speak("Hi.", "nobody", 8000), lambda: catalog.languages_for("nobody")):
        with pytest.raises(InvalidRequest) as info:
            call()
        assert info.value.param == "voice_id"


def test_a_voice_id_offered_twice_is_refused():
    with pytest.raises(ValueError, match="'anna' is offered by both a and b"):
        VoiceCatalog([FakeTTS("a", ["anna"]), FakeTTS("b", ["anna"])])


def test_make_tts_refuses_an_unknown_provider_by_name():
    with pytest.raises(ValueError, match="'festival'"):
        make_tts("festival")


async def test_the_real_providers_side_by_side(piper, espeak, tts_pool):
    catalog = VoiceCatalog([piper, espeak])
    wire = [v.to_wire() for v in catalog.voices()]
    assert wire[0]["voice_id"] == "joe" and {"espeak_en", "espeak_fr"} <= {w["voice_id"] for w in wire}
    for voice_id in ("joe", "espeak_fr"):
        pcm = pcm_of(await collect(catalog.speak("Merci beaucoup.", voice_id, 16000)))
        assert seconds(pcm, 16000) > 0.5
    built = make_tts("espeak", languages=["en"], pool=tts_pool)
    assert [v.voice_id for v in built.voices()] == ["espeak_en"]


def test_warm_up_and_close_reach_the_providers_that_have_them():
    class Lifecycle(FakeTTS):
        def __init__(self) -> None:
            super().__init__("life", ["liz"])
            self.calls: list[str] = []

        def warm_up(self) -> None:
            self.calls.append("warm_up")

        def close(self) -> None:
            self.calls.append("close")

    life = Lifecycle()
    catalog = VoiceCatalog([life, FakeTTS("plain", ["pat"])])
    catalog.warm_up()
    catalog.close()
    assert life.calls == ["warm_up", "close"]
