"""Scripted stand-ins for the engine's providers, for fast, deterministic engine tests.

Only for tests, and only where the real part is tested too (tests/unit/agents/{asr,llm,tts},
tests/integration). Loud audio is "speech" to FakeVAD; FakeASR returns scripted transcripts.
"""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from agents.engine import Engine
from agents.ports import TurnRecord
from agents.providers.llm.base import LLMOptions, Message, TextDelta, ToolCallRequest, ToolSpec
from agents.providers.tts.base import AudioChunk, VoiceInfo
from agents.tools.registry import ToolRegistry
from agents.tools.runner import ToolRunner
from media.audioop_lib import audioop

RATE = 16000


def speech(ms: int, rate: int = RATE) -> bytes:
    """Loud audio FakeVAD calls speech (a square-ish wave at about -10 dBFS)."""
    period = b"\x00\x30" * 8 + b"\x00\xd0" * 8
    n = rate * ms // 1000 * 2
    return (period * (n // len(period) + 1))[:n]


def silence(ms: int, rate: int = RATE) -> bytes:
    return b"\x00\x00" * (rate * ms // 1000)


class FakeVAD:
    frame_ms = 20
    threshold = 0.5

    def __init__(self, sample_rate: int, threshold: float) -> None:
        self.sample_rate = sample_rate

    def prob(self, frame: bytes) -> float:
        return 1.0 if audioop.rms(frame, 2) > 1000 else 0.0

    def reset(self) -> None:
        pass


class FakeASRStream:
    def __init__(self, asr: "FakeASR") -> None:
        self.asr = asr
        self.audio = bytearray()
        self.cancelled = False
        self.text: str | None = None

    def push(self, pcm: bytes) -> None:
        self.audio += pcm

    async def partial(self) -> str | None:
        return self.asr.partial_text if self.audio else None

    def _scripted(self) -> str:
        """Each stream (utterance) takes the next scripted transcript, once, on first asking."""
        if self.text is None:
            self.text = self.asr.transcripts.pop(0) if self.asr.transcripts else ""
        return self.text

    async def so_far(self, quick: bool = False) -> str:
        await asyncio.sleep(self.asr.so_far_delay_s)
        return self._scripted()

    async def final(self) -> str:
        await asyncio.sleep(0.01)
        return self._scripted()

    def cancel(self) -> None:
        self.cancelled = True


@dataclass
class FakeASR:
    transcripts: list[str] = field(default_factory=list)
    partial_text: str = "what is"
    so_far_delay_s: float = 0.01
    name: str = "fake"
    languages: frozenset = frozenset({"en"})
    streams: list[FakeASRStream] = field(default_factory=list)

    def open(self, language: str, sample_rate: int = 16000, vocabulary=()) -> FakeASRStream:
        stream = FakeASRStream(self)
        self.streams.append(stream)
        return stream


@dataclass
class FakeLLM:
    """Each call pops the next script: a list of str (text deltas) and ToolCallRequest items."""

    scripts: list[list] = field(default_factory=list)
    calls: list[list[Message]] = field(default_factory=list)
    delay_s: float = 0.0
    name: str = "fake"

    async def reply(self, messages: list[Message], tools: list[ToolSpec], options: LLMOptions) -> AsyncIterator:
        self.calls.append(list(messages))
        script = self.scripts.pop(0) if self.scripts else ["OK."]
        for item in script:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            yield TextDelta(item) if isinstance(item, str) else item


class FakeTTS:
    """50 ms of tone a word, delivered in one chunk per sentence."""

    name = "fake"
    ms_per_word = 50

    def __init__(self) -> None:
        self.spoken: list[str] = []

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo("fake_voice", "Fake", ("en",), None, "fake", RATE)]

    async def speak(self, text: str, voice_id: str, sample_rate: int) -> AsyncIterator[AudioChunk]:
        self.spoken.append(text)
        await asyncio.sleep(0)
        yield AudioChunk(speech(self.ms_per_word * len(text.split()), sample_rate), sample_rate, text)


class MemoryStore:
    def __init__(self) -> None:
        self.turns: list[tuple[str, TurnRecord]] = []

    async def save_turn(self, session_id: str, turn: TurnRecord) -> None:
        self.turns.append((session_id, turn))


def make_engine(asr=None, llm=None, tts=None, handlers=None, **options) -> Engine:
    return Engine(
        asr=asr or FakeASR(),
        llm=llm or FakeLLM(),
        tts=tts or FakeTTS(),
        tools=ToolRunner(ToolRegistry(handlers or {}), timeout_s=options.pop("tool_timeout_s", 2.0)),
        make_vad=FakeVAD,
        min_speech_ms=60,
        hangover_ms=options.pop("hangover_ms", 200),
        partial_interval_ms=options.pop("partial_interval_ms", 0),
        endpoint_min_ms=options.pop("endpoint_min_ms", 0),  # fixed hangover unless a test is about endpointing
        # Scripted fakes answer each call in turn: a reply begun in a pause would take a script meant for a later
        # turn. Off unless a test is about it (tests/unit/agents/test_speculation.py).
        speculate=options.pop("speculate", False),
        **options,
    )


def tool_call(name: str, **arguments) -> ToolCallRequest:
    return ToolCallRequest(f"call_{name}", name, arguments)
