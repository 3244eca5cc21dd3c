"""A caller on a real-time line to the gateway's stream, for turn-taking tests.

Like a phone, it sends a frame every 20 ms whether the caller talks or not,
plays what it receives at real time (dropping what it buffered when told of an
`interruption`, as a client must), and can leak what it plays back into its
microphone: `echo_gain` (0.1 = -20 dB) after `echo_delay_s`.
"""

import asyncio
import json
import time
from collections import deque

import aiohttp

from media.audioop_lib import audioop

RATE = 16000
FRAME = RATE * 2 // 50  # 20 ms of pcm16


class Line:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse, echo_gain: float = 0.0, echo_delay_s: float = 0.15):
        self.ws = ws
        self.events: list[dict] = []
        self.event_times: list[float] = []
        self.received: list[tuple[float, bytes]] = []  # (arrival, frame) of reply audio
        self.played = bytearray()  # what the caller's speaker played, in order
        self._to_play = bytearray()
        self._to_say = bytearray()
        self._echo: deque[bytes] = deque([b"\x00" * FRAME] * max(1, round(echo_delay_s * 50)))
        self.echo_gain = echo_gain
        self.speech_started_at: float | None = None  # when the latest say() began going out
        self.played_at_interruption: int | None = None  # bytes of `played` when `interruption` came
        self._tasks: list[asyncio.Task] = []

    async def __aenter__(self) -> "Line":
        self._tasks = [asyncio.create_task(self._receive()), asyncio.create_task(self._clock())]
        return self

    async def __aexit__(self, *exc) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def say(self, pcm: bytes) -> None:
        self._to_say += pcm
        self.speech_started_at = None

    def send_json(self, message: dict) -> asyncio.Future:
        return asyncio.ensure_future(self.ws.send_str(json.dumps(message)))

    async def wait_for(self, predicate, timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events:
                if predicate(event):
                    return event
            await asyncio.sleep(0.02)
        raise AssertionError(f"no such event within {timeout} s; got {[e['type'] for e in self.events]}")

    async def _receive(self) -> None:
        async for msg in self.ws:
            now = time.monotonic()
            if msg.type == aiohttp.WSMsgType.BINARY:
                self.received.append((now, msg.data))
                self._to_play += msg.data
            elif msg.type == aiohttp.WSMsgType.TEXT:
                event = json.loads(msg.data)
                self.events.append(event)
                self.event_times.append(now)
                if event["type"] == "interruption":
                    self.played_at_interruption = len(self.played)
                    self._to_play.clear()  # the client's part of the barge-in: stop its own playback

    async def _clock(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        n = 0
        while True:
            heard = bytes(self._to_play[:FRAME]).ljust(FRAME, b"\x00")
            del self._to_play[:FRAME]
            self.played += heard
            self._echo.append(heard)
            frame = b"\x00" * FRAME
            if self._to_say:
                if self.speech_started_at is None:
                    self.speech_started_at = time.monotonic()
                frame = bytes(self._to_say[:FRAME]).ljust(FRAME, b"\x00")
                del self._to_say[:FRAME]
            echo = self._echo.popleft()
            if self.echo_gain:
                frame = audioop.add(frame, audioop.mul(echo, 2, self.echo_gain), 2)
            if self.ws.closed:
                return
            await self.ws.send_bytes(frame)
            n += 1
            await asyncio.sleep(max(0.0, start + n * 0.02 - loop.time()))

    def last_audio_before(self, t: float) -> float | None:
        """Arrival time of the last reply frame received before `t` (after it, for a while, nothing came)."""
        before = [at for at, _ in self.received if at <= t]
        return before[-1] if before else None
