"""The remote ASR and TTS against servers shaped like the others they are meant to reach (OpenAI's 24 kHz `pcm`
with no rate header, Kokoro-FastAPI's list of voice names), on loopback. `parley models serve` itself is
tested end to end in tests/integration/test_model_server.py."""

import asyncio
import io
import wave

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from agents.errors import InvalidRequest, ProviderError
from agents.providers.asr.remote import RemoteASR
from agents.providers.tts.remote import RemoteTTS

TONE_24K = b"\x10\x00" * 2400  # 100 ms at 24 kHz


class OpenAIShaped:
    """A server answering as OpenAI's audio endpoints do, recording what it was sent."""

    def __init__(self) -> None:
        self.speech: list[dict] = []
        self.uploads: list[dict] = []
        self.failing = False

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/audio/speech", self.on_speech)
        app.router.add_post("/v1/audio/transcriptions", self.on_transcription)
        app.router.add_get("/v1/audio/voices", self.on_voices)
        return app

    async def on_speech(self, request: web.Request) -> web.Response:
        if self.failing:
            return web.json_response({"error": {"message": "overloaded"}}, status=500)
        self.speech.append(await request.json())
        return web.Response(body=TONE_24K, content_type="audio/pcm")  # 24 kHz, whatever was asked

    async def on_transcription(self, request: web.Request) -> web.Response:
        if self.failing:
            return web.Response(text="down", status=503)
        form = await request.post()
        with wave.open(io.BytesIO(form["file"].file.read())) as wav:
            self.uploads.append({**{k: v for k, v in form.items() if k != "file"}, "rate": wav.getframerate(),
                                 "frames": wav.getnframes()})
        return web.json_response({"text": " Hello there. "})

    async def on_voices(self, request: web.Request) -> web.Response:
        return web.json_response({"voices": ["af_bella", "am_adam"]})  # Kokoro-FastAPI's shape


@pytest.fixture
async def server():
    fake = OpenAIShaped()
    test_server = TestServer(fake.app())
    await test_server.start_server()
    yield fake, str(test_server.make_url("/v1"))
    await test_server.close()


async def test_speech_at_24_khz_is_resampled_to_the_call_and_spoken_piece_by_piece(server):
    fake, base = server
    tts = RemoteTTS(base, voices=["alloy"])
    chunks = [chunk async for chunk in tts.speak("Your order has shipped. Anything else?", "alloy", 8000)]
    assert [c.text for c in chunks] == ["Your order has shipped.", "Anything else?"]
    assert [len(c.pcm) for c in chunks] == [1600, 1600]  # 100 ms at 8 kHz each
    assert [s["input"] for s in fake.speech] == ["Your order has shipped.", "Anything else?"]
    assert fake.speech[0]["response_format"] == "pcm" and fake.speech[0]["voice"] == "alloy"
    with pytest.raises(InvalidRequest):
        tts.speak("Hi.", "nobody", 8000)
    assert tts.health.error is None
    await tts.close()


async def test_voices_are_read_from_a_server_that_lists_names(server):
    _, base = server
    tts = RemoteTTS(base)
    await asyncio.to_thread(tts.load)
    assert [(v.voice_id, v.languages, v.engine) for v in tts.voices()] == [
        ("af_bella", ("en",), "remote"), ("am_adam", ("en",), "remote")]


async def test_a_failing_speech_server_is_a_provider_error_and_shows_in_health(server):
    fake, base = server
    tts = RemoteTTS(base, voices=["alloy"])
    fake.failing = True
    with pytest.raises(ProviderError, match="answered 500: .*overloaded"):
        async for _ in tts.speak("Hello.", "alloy", 16000):
            pass
    assert "500" in tts.health.error
    fake.failing = False
    assert [c async for c in tts.speak("Hello.", "alloy", 16000)]
    assert tts.health.error is None
    await tts.close()


async def test_an_utterance_goes_as_a_16_khz_wav_with_its_language_and_vocabulary(server):
    fake, base = server
    asr = RemoteASR(base, {"en"})
    stream = asr.open("en", 8000, vocabulary=["Acme", "order"])
    for _ in range(50):  # a second of 8 kHz audio, 20 ms a push
        stream.push(b"\x01\x00" * 160)
    assert await stream.so_far() == "Hello there."
    assert await stream.final() == "Hello there."
    assert fake.uploads[0] == {"model": "whisper-1", "language": "en", "response_format": "json",
                               "prompt": "Acme, order.", "rate": 16000, "frames": 16000}
    with pytest.raises(InvalidRequest):
        asr.open("fr")
    await asr.close()


async def test_a_failing_recogniser_is_a_provider_error(server):
    fake, base = server
    asr = RemoteASR(base, {"en"})
    fake.failing = True
    stream = asr.open("en", 16000)
    stream.push(b"\x01\x00" * 16000)
    with pytest.raises(ProviderError, match="503"):
        await stream.final()
    assert "503" in asr.health.error
    await asr.close()
