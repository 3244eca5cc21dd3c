"""A Conversation wired to a real PacedSink and scripted providers, for engine tests."""

import asyncio
from agents.clock import loop_time

from agents.conversation import Conversation
from agents.events import TurnEnd
from agents.playout import PacedSink
from agents.session import History, SessionSettings
from tests.fakes.engine import MemoryStore, silence, speech


class Harness:
    """`control(harness)`, if given, makes the door's CallControl (it may record into the harness)."""

    def __init__(self, engine, control=None, **settings) -> None:
        self.events = []
        self.sent_by_event: list[tuple[int, float]] = []  # per event: frames sent before it, and when it came
        self.frames: list[bytes] = []
        self.first_frame_at: float | None = None
        self.store = MemoryStore()
        self.sent: list[tuple[float, bytes]] = []  # (when, frame): what a phone line would echo back
        self.sink = PacedSink(16000, self._send, lead_ms=60)
        defaults = dict(session_id="conv_test", voice_id="fake_voice", system_prompt="Be brief.")
        self.settings = SessionSettings(**{**defaults, **settings})
        self.history = History()
        self.control = control(self) if control is not None else None
        self.conversation = Conversation(engine, self.settings, self.history, self.sink, self._emit,
                                         self.store, control=self.control)
        self.conversation.start()

    def _emit(self, event) -> None:
        self.events.append(event)
        self.sent_by_event.append((len(self.frames), loop_time()))

    def sent_before(self, event) -> tuple[int, float]:
        """How many frames had been sent when `event` was emitted, and when it was."""
        return self.sent_by_event[next(i for i, e in enumerate(self.events) if e is event)]

    def _send(self, frame: bytes) -> None:
        now = loop_time()
        if self.first_frame_at is None:
            self.first_frame_at = now
        self.frames.append(frame)
        self.sent.append((now, frame))

    def stored(self) -> dict:
        return {t.turn_id: t for _, t in self.store.turns}

    async def say(self, ms: int = 400, pause_ms: int = 300, realtime: bool = False) -> None:
        """Speak for `ms`, then be silent for `pause_ms` (longer than the 200 ms hangover ends the turn).

        Fast by default (stream time runs ahead of the clock); `realtime` feeds a frame every 20 ms,
        for tests where the engine's own timing (transcribing in a pause) must keep up.
        """
        for chunk in (speech(ms), silence(pause_ms)):
            for i in range(0, len(chunk), 640):
                self.conversation.feed_audio(chunk[i:i + 640])
                await asyncio.sleep(0.02 if realtime else 0)

    async def wait_for(self, predicate, timeout: float = 5.0):
        async def poll():
            while True:
                for event in self.events:
                    if predicate(event):
                        return event
                await asyncio.sleep(0.01)
        return await asyncio.wait_for(poll(), timeout)

    def types(self) -> list[str]:
        return [f"{e.type}:{getattr(e, 'role', '')}" for e in self.events]

    async def close(self) -> None:
        await self.conversation.close()
        await self.sink.aclose()


def assistant_end(e) -> bool:
    return isinstance(e, TurnEnd) and e.role == "assistant"


