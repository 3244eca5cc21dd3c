"""A model that fails (its server down, a library error): the caller hears a short apology, the error is an
event, and the call goes on to answer the next turn."""

import asyncio

import pytest

from agents import lines
from agents.errors import ProviderError
from agents.events import ErrorEvent, Transcript
from agents.reply import fixed_pieces
from tests.fakes.engine import FakeASR, FakeASRStream, FakeLLM, FakeTTS, make_engine
from tests.fakes.harness import Harness, assistant_end

pytestmark = pytest.mark.looptime


class DownLLM(FakeLLM):
    """Fails while `down` (as a server that refuses connections), then answers from its scripts."""

    down = True

    async def reply(self, messages, tools, options):
        if self.down:
            raise ProviderError("LLM server http://models:8090/v1 failed: ClientConnectorError")
        async for out in super().reply(messages, tools, options):
            yield out


class DownStream(FakeASRStream):
    async def so_far(self, quick: bool = False) -> str:
        if self.asr.down:
            raise ProviderError("ASR server http://models:8090/v1 failed: ClientConnectorError")
        return await super().so_far(quick)

    async def final(self) -> str:
        if self.asr.down:
            raise ProviderError("ASR server http://models:8090/v1 failed: ClientConnectorError")
        return await super().final()


class DownASR(FakeASR):
    down = True

    def open(self, language, sample_rate=16000, vocabulary=()):
        stream = DownStream(self)
        self.streams.append(stream)
        return stream


def assistant_said(h: Harness) -> list[str]:
    return [e.text for e in h.events if isinstance(e, Transcript) and e.role == "assistant" and e.is_final]


async def test_the_language_model_down_gets_an_apology_and_the_call_goes_on(closing):
    llm, tts = DownLLM([["We open at nine."]]), FakeTTS()
    h = Harness(make_engine(FakeASR(["When do you open?", "When do you open?"]), llm, tts))
    closing(h)
    await h.say()
    await h.wait_for(assistant_end)
    assert assistant_said(h) == [lines.TROUBLE]
    errors = [e for e in h.events if isinstance(e, ErrorEvent)]
    assert [e.code for e in errors] == ["provider_error"] and "ClientConnectorError" in errors[0].message
    llm.down = False  # the server is back
    await h.say()
    await h.wait_for(lambda e: assistant_end(e) and e.turn_id != "turn_002")
    assert assistant_said(h) == [lines.TROUBLE, "We open at nine."]


async def test_the_recogniser_down_gets_an_apology_and_the_call_goes_on(closing):
    asr, tts = DownASR(["When do you open?"]), FakeTTS()
    h = Harness(make_engine(asr, FakeLLM([["We open at nine."]]), tts))
    closing(h)
    await h.say()
    await h.wait_for(assistant_end)
    assert assistant_said(h) == [lines.TROUBLE]
    assert any(isinstance(e, ErrorEvent) and e.code == "provider_error" for e in h.events)
    assert not [turn for _, turn in h.store.turns if turn.role == "user"]  # no words to keep
    asr.down = False
    await h.say()
    await h.wait_for(lambda e: assistant_end(e) and len(assistant_said(h)) == 2)
    assert assistant_said(h) == [lines.TROUBLE, "We open at nine."]


class DownTTS(FakeTTS):
    down = False

    async def speak(self, text, voice_id, sample_rate):
        if self.down:
            raise ProviderError("TTS server http://models:8090/v1 failed: ClientConnectorError")
        async for chunk in super().speak(text, voice_id, sample_rate):
            yield chunk


async def test_a_kept_apology_is_heard_when_the_speech_server_is_down_too(closing):
    llm, tts = DownLLM(), DownTTS()
    h = Harness(make_engine(FakeASR(["When do you open?"]), llm, tts, keep_apology=True))
    closing(h)
    while len(tts.spoken) < 2:  # the apology, synthesised as the call started
        await asyncio.sleep(0.01)
    assert tts.spoken == fixed_pieces(lines.TROUBLE)
    tts.down = True  # the model server goes down: language model and voice at once
    await h.say()
    await h.wait_for(assistant_end)
    assert assistant_said(h) == [lines.TROUBLE]
    assert tts.spoken == fixed_pieces(lines.TROUBLE)  # nothing more was asked of the dead server
    assert h.frames, "the apology was heard"
