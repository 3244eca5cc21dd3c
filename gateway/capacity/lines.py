"""One simulated caller of `parley bench capacity` (its door, the API stream or Twilio's: doors.py).

A caller dials (Twilio: the signed voice webhook, then the stream; API: create, then the stream), then
lives on one shared 20 ms clock (`tick`), as a phone does: every tick it sends 20 ms of audio (its
question, else silence) and its earpiece plays 20 ms of what arrived. A talking caller waits for the
greeting to end, asks, listens to the answer to its end, thinks for a moment and asks again.

What it measures is what a caller notices: the time from the end of its question to the answer's first
audio, turns left unanswered, the earpiece running dry in the middle of the assistant's speech (a stall),
and the call ending before it hung up (dropped).
"""

import asyncio
from collections import deque
from dataclasses import dataclass, field

import aiohttp

# A gap shorter than this in the assistant's speech is a stall (the player ran dry mid-reply); a longer one is a
# pause between replies.
STALL_GAP_S = 0.5
REPLY_OVER_S = 0.8  # nothing more heard this long after the earpiece emptied: the reply is over
GREETING_WAIT_S = 3.0  # no greeting within this long: the caller talks anyway
REPLY_TIMEOUT_S = 15.0  # no answer this long after the question: counted unanswered, the caller asks again


class DialError(Exception):
    """The call could not be set up; str(exc) says why."""


@dataclass
class Script:
    """What the callers say, already encoded for their door: questions, each a list of 20 ms frames. Caller
    i starts with question i (modulo), and asks the next one each turn: callers ask different things at once."""

    questions: list[list]
    silence: object
    think_s: float = 1.0
    talk: bool = True
    turns: int = 0  # questions each caller asks, then it only listens; 0: as many as the call lasts


@dataclass
class CallFigures:
    setup_s: float | None = None  # webhook / create answered
    connected_at: float | None = None
    hung_up_at: float | None = None
    turn_latencies: list[float] = field(default_factory=list)  # end of the question -> first answer audio (s)
    unanswered: int = 0
    stalls: list[float] = field(default_factory=list)  # how long the earpiece was dry, each time (s)
    frames_heard: int = 0
    dropped: str | None = None  # why the call ended before the caller hung up


class Earpiece:
    """Plays what arrived, 20 ms a tick, in order; a mark is echoed once the audio before it has played."""

    def __init__(self) -> None:
        self.queue: deque = deque()  # [frames] counts and ("mark", name) items
        self.buffered = 0
        self.dry_since: float | None = None  # when it emptied in the middle of the assistant's speech
        self.last_audio_at: float | None = None

    def audio(self, frames: int, now: float, figures: CallFigures) -> None:
        if self.buffered == 0 and self.dry_since is not None and now - self.dry_since < STALL_GAP_S:
            figures.stalls.append(now - self.dry_since)
        self.dry_since = None
        if self.queue and isinstance(self.queue[-1], int):
            self.queue[-1] += frames
        else:
            self.queue.append(frames)
        self.buffered += frames
        self.last_audio_at = now
        figures.frames_heard += frames

    def mark(self, name: str) -> None:
        self.queue.append(("mark", name))

    def play(self, now: float) -> list[str]:
        """One tick: 20 ms played; the marks now reached."""
        marks = []
        while self.queue and not isinstance(self.queue[0], int):
            marks.append(self.queue.popleft()[1])
        if self.buffered:
            self.queue[0] -= 1
            self.buffered -= 1
            if self.queue[0] == 0:
                self.queue.popleft()
            if self.buffered == 0:
                self.dry_since = now
            while self.queue and not isinstance(self.queue[0], int):
                marks.append(self.queue.popleft()[1])
        return marks

    def clear(self) -> list[str]:
        """Drop what is buffered; the pending marks are echoed at once (as Twilio does)."""
        marks = [item[1] for item in self.queue if not isinstance(item, int)]
        self.queue.clear()
        self.buffered = 0
        self.dry_since = None
        return marks


class Line:
    """A caller on one door; `tick` runs on the shared clock, `_receive` on the socket."""

    def __init__(self, script: Script, figures: CallFigures, index: int = 0) -> None:
        self.script = script
        self.index = index  # which caller it is: where in the questions it starts
        self.figures = figures
        self.ear = Earpiece()
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.hanging_up = False
        self._state = "greeting"
        self._since = 0.0  # when the current state began
        self._spoken = 0
        self._question_end: float | None = None
        self._answered = False
        self._receiver: asyncio.Task | None = None

    @property
    def turns_done(self) -> int:
        return len(self.figures.turn_latencies) + self.figures.unanswered

    @property
    def done_talking(self) -> bool:
        """It asked all its questions and heard (or gave up on) every answer."""
        turns = self.script.turns
        return not self.script.talk or bool(turns) and self.turns_done >= turns and self._state != "listening"

    @property
    def live(self) -> bool:
        return self.ws is not None and not self.ws.closed and self.figures.dropped is None

    def start(self, now: float) -> None:
        self._since = now
        self._receiver = asyncio.create_task(self._receive(), name="capacity-receive")

    async def tick(self, now: float) -> None:
        if not self.live:
            return
        for name in self.ear.play(now):
            await self._echo(name)
        await self._send(self._next_frame(now))

    def _next_frame(self, now: float):
        script, ear = self.script, self.ear
        if not script.talk:
            return script.silence
        if self._state == "greeting":
            quiet = ear.buffered == 0 and (ear.last_audio_at is None and now - self._since >= GREETING_WAIT_S
                                           or ear.last_audio_at is not None and now - ear.last_audio_at >= REPLY_OVER_S)
            if quiet:
                self._state, self._spoken = "talking", 0
        elif self._state == "thinking" and now - self._since >= script.think_s:
            if not script.turns or self.turns_done < script.turns:
                self._state, self._spoken = "talking", 0
        elif self._state == "listening":
            assert self._question_end is not None
            over = (self._answered and ear.buffered == 0 and ear.last_audio_at is not None
                    and now - ear.last_audio_at >= REPLY_OVER_S)
            if not self._answered and now - self._question_end >= REPLY_TIMEOUT_S:
                self.figures.unanswered += 1
                over = True
            if over:
                self._state, self._since = "thinking", now
        if self._state != "talking":
            return script.silence
        speech = script.questions[(self.index + self.turns_done) % len(script.questions)]
        frame = speech[self._spoken]
        self._spoken += 1
        if self._spoken == len(speech):
            self._state, self._question_end, self._answered = "listening", now, False
            self.ear.dry_since = None  # the caller spoke: what comes next is a new reply
        return frame

    def heard(self, frames: int) -> None:
        now = asyncio.get_running_loop().time()
        if self._state == "listening" and not self._answered and self._question_end is not None:
            self._answered = True
            self.figures.turn_latencies.append(now - self._question_end)
        self.ear.audio(frames, now, self.figures)

    def ended(self, why: str) -> None:
        if not self.hanging_up and self.figures.dropped is None:
            self.figures.dropped = why

    async def hang_up(self) -> None:
        self.hanging_up = True
        if self.ws is not None and not self.ws.closed:
            try:
                await self._bye()
            except (ConnectionError, RuntimeError):
                pass
            await self.ws.close()
        if self._receiver is not None:
            await asyncio.gather(self._receiver, return_exceptions=True)
        self.figures.hung_up_at = asyncio.get_running_loop().time()

    async def _receive(self) -> None:
        assert self.ws is not None
        try:
            async for msg in self.ws:
                self._message(msg)
        except (ConnectionError, asyncio.TimeoutError) as exc:
            self.ended(f"connection lost: {exc}")
        self.ended(f"closed by the gateway ({self.ws.close_code})")

    # -- the door --------------------------------------------------------------------------------

    async def _send(self, frame) -> None:
        raise NotImplementedError

    async def _echo(self, mark: str) -> None:
        pass

    async def _bye(self) -> None:
        raise NotImplementedError

    def _message(self, msg: aiohttp.WSMessage) -> None:
        raise NotImplementedError
