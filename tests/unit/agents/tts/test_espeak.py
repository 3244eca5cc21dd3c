"""EspeakTTS through the espeak-ng command line: many languages, same streaming contract as Piper."""

import asyncio
import time

import pytest

from agents.errors import InvalidRequest, ProviderError
from agents.providers.tts.espeak import EspeakTTS
from tests.unit.agents.tts.speech import collect, onset_ms, pcm_of, rms_dbfs, seconds

LONG = " ".join(f"This is sentence number {n} of a long answer." for n in range(1, 9))


def test_voices_cover_the_main_languages_with_iso_codes(espeak):
    voices = {v.voice_id: v for v in espeak.voices()}
    for code in ("en", "fr", "de", "es", "it", "pt", "ru", "zh", "ja", "ko", "ar", "hi"):
        voice = voices[f"espeak_{code}"]
        assert voice.languages == (code,)
        assert voice.engine == "espeak" and voice.sample_rate == 22050
        assert voice.gender in ("male", "female", None)
    assert voices["espeak_en"].name == "English (US, eSpeak)"
    assert voices["espeak_de"].name == "German (eSpeak)"
    assert all(len(v.languages[0]) == 2 for v in voices.values())


@pytest.mark.parametrize("rate", [8000, 16000, 24000, 48000])
async def test_english_is_audible_speech_at_the_requested_rate(espeak, rate):
    chunks = await collect(espeak.speak("Hello, how can I help you today?", "espeak_en", rate))
    assert chunks and all(c.sample_rate == rate for c in chunks)
    pcm = pcm_of(chunks)
    assert 0.8 <= seconds(pcm, rate) <= 3.0
    assert rms_dbfs(pcm) > -30
    assert onset_ms(pcm, rate) <= 40


@pytest.mark.parametrize(
    ("voice_id", "text"),
    [("espeak_fr", "Bonjour, votre commande est partie."), ("espeak_ko", "주문이 발송되었습니다."),
     ("espeak_de", "Guten Tag, wie kann ich helfen?")],
)
async def test_other_languages_speak_too(espeak, voice_id, text):
    pcm = pcm_of(await collect(espeak.speak(text, voice_id, 16000)))
    assert 0.8 <= seconds(pcm, 16000) <= 4.0
    assert rms_dbfs(pcm) > -30


async def test_a_reply_streams_one_chunk_per_sentence(espeak):
    text = "Your order has shipped. It arrives Tuesday. Anything else?"
    chunks = await collect(espeak.speak(text, "espeak_en", 8000))
    assert [c.text for c in chunks] == ["Your order has shipped.", "It arrives Tuesday.", "Anything else?"]


async def test_text_starting_with_a_dash_is_spoken_not_taken_for_an_option(espeak):
    pcm = pcm_of(await collect(espeak.speak("-v is not an option here.", "espeak_en", 16000)))
    assert seconds(pcm, 16000) > 0.8


async def test_closing_the_stream_stops_synthesis(espeak, monkeypatch, tts_pool):
    calls: list[str] = []
    inner = espeak._synthesise

    def counting(name, piece):
        calls.append(piece)
        return inner(name, piece)

    monkeypatch.setattr(espeak, "_synthesise", counting)
    stream = espeak.speak(LONG, "espeak_en", 16000)
    await anext(stream)
    await stream.aclose()
    started = len(calls)
    assert started <= 2
    await asyncio.sleep(0.3)
    assert len(calls) == started
    await asyncio.wait_for(asyncio.gather(tts_pool.run(time.sleep, 0), tts_pool.run(time.sleep, 0)), 1.0)


async def test_blank_text_yields_nothing(espeak):
    assert await collect(espeak.speak(" ", "espeak_en", 8000)) == []


def test_unknown_voice_is_refused(espeak):
    with pytest.raises(InvalidRequest) as info:
        espeak.speak("Hello.", "espeak_xx", 16000)
    assert info.value.param == "voice_id"
    with pytest.raises(InvalidRequest):
        espeak.speak("Hello.", "joe", 16000)  # a Piper voice is not espeak's


def test_languages_can_be_limited_and_a_missing_one_is_an_error(tts_pool):
    tts = EspeakTTS(["en", "fr"], pool=tts_pool)
    assert [v.voice_id for v in tts.voices()] == ["espeak_en", "espeak_fr"]
    with pytest.raises(ProviderError, match="'tlh'"):
        EspeakTTS(["en", "tlh"], pool=tts_pool)


def test_a_missing_binary_says_what_to_install():
    with pytest.raises(ProviderError, match="Debian package espeak-ng"):
        EspeakTTS(binary="espeak-ng-not-installed")


async def test_concurrent_replies_keep_to_themselves(espeak):
    replies = {
        "espeak_en": "Good morning. Your order is ready.",
        "espeak_fr": "Bonjour. Votre commande est prête.",
        "espeak_de": "Guten Morgen. Ihre Bestellung ist fertig.",
        "espeak_es": "Buenos días. Su pedido está listo.",
    }
    results = await asyncio.gather(*(collect(espeak.speak(text, vid, 8000)) for vid, text in replies.items()))
    for (vid, text), chunks in zip(replies.items(), results):
        assert " ".join(c.text for c in chunks) == text
        assert seconds(pcm_of(chunks), 8000) > 1.5
