"""One simulated caller of `parley bench capacity`, on the API stream or on Twilio Media Streams.

A caller dials (Twilio: the signed voice webhook, then the stream; API: create, then the stream), then
lives on one shared 20 ms clock (`tick`), as a phone does: every tick it sends 20 ms of audio (its
question, else silence) and its earpiece plays 20 ms of what arrived. A talking caller waits for the
greeting to end, asks, listens to the answer to its end, thinks for a moment and asks again.

What it measures is what a caller notices: the time from the end of its question to the answer's first
audio, turns left unanswered, the earpiece running dry in the middle of the assistant's speech (a stall),
and the call ending before it hung up (dropped).
"""

import asyncio
import base64
import json
import secrets
import xml.etree.ElementTree as ET
from collections import deque
from dataclasses import dataclass, field

import aiohttp
from twilio.request_validator import RequestValidator

FRAME_S = 0.02
MULAW_FRAME = 160  # bytes of mu-law 8 kHz in 20 ms
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


class ApiLine(Line):
    """A caller on the Conversational API: POST /v1/conversations/create, then the stream (binary audio)."""

    def __init__(self, script: Script, figures: CallFigures, index: int, base_url: str, api_key: str,
                 sample_rate: int, encoding: str, fields: dict) -> None:
        super().__init__(script, figures, index)
        self.base_url, self.headers = base_url, {"Authorization": f"Bearer {api_key}"}
        self.sample_rate, self.encoding, self.fields = sample_rate, encoding, fields
        self.frame_bytes = sample_rate // 50 * (1 if encoding == "mulaw" else 2)

    async def dial(self, http: aiohttp.ClientSession) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with http.post(self.base_url + "/v1/conversations/create", json=self.fields,
                             headers=self.headers) as resp:
            body = await resp.json(content_type=None)
            if resp.status >= 300:
                raise DialError(f"create: HTTP {resp.status} {body.get('error', body)}")
        self.figures.setup_s = loop.time() - started
        url = (f"{self.base_url}/v1/conversations/{body['session_id']}/stream"
               f"?sample_rate={self.sample_rate}&encoding={self.encoding}")
        try:
            self.ws = await http.ws_connect(url, headers=self.headers, max_msg_size=0)
        except aiohttp.WSServerHandshakeError as exc:
            raise DialError(f"stream: HTTP {exc.status}") from None
        self.figures.connected_at = loop.time()

    async def _send(self, frame) -> None:
        await self.ws.send_bytes(frame)

    async def _bye(self) -> None:
        await self.ws.send_str('{"type": "end"}')

    def _message(self, msg: aiohttp.WSMessage) -> None:
        if msg.type == aiohttp.WSMsgType.BINARY:
            self.heard(max(1, len(msg.data) // self.frame_bytes))
        elif msg.type == aiohttp.WSMsgType.TEXT:
            event = json.loads(msg.data)
            kind = event.get("type")
            if kind == "session_ended":
                self.ended(f"session_ended ({event.get('reason')})")
            elif kind == "error":
                self.ended(f"error event ({event.get('code')})")
            elif kind == "interruption":
                self.ear.clear()


class TwilioLine(Line):
    """A caller through Twilio: the signed voice webhook, then Media Streams as Twilio speaks it."""

    def __init__(self, script: Script, figures: CallFigures, index: int, base_url: str, public_url: str,
                 auth_token: str, called: str) -> None:
        super().__init__(script, figures, index)
        self.base_url, self.public_url = base_url, public_url.rstrip("/")
        self.validator = RequestValidator(auth_token)
        self.called = called
        self.call_sid = "CA" + secrets.token_hex(16)
        self.stream_sid = "MZ" + secrets.token_hex(16)
        self._sequence = 0
        self._prefix = ""
        self._echoes: set[asyncio.Future] = set()

    async def dial(self, http: aiohttp.ClientSession) -> None:
        loop = asyncio.get_running_loop()
        form = {"CallSid": self.call_sid, "AccountSid": "AC" + "0" * 32, "From": "+15550001111", "To": self.called,
                "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"}
        signature = self.validator.compute_signature(self.public_url + "/twilio/voice", form)
        started = loop.time()
        async with http.post(self.base_url + "/twilio/voice", data=form,
                             headers={"X-Twilio-Signature": signature}) as resp:
            text = await resp.text()
            if resp.status != 200:
                raise DialError(f"webhook: HTTP {resp.status} {text[:200]}")
        self.figures.setup_s = loop.time() - started
        stream = ET.fromstring(text).find("Connect/Stream")
        if stream is None:
            raise DialError(f"webhook: no <Connect><Stream> in the answer (is the number routed?): {text[:200]}")
        parameter = stream.find("Parameter[@name='session_id']")
        public_ws = stream.get("url", "")
        path = "/" + public_ws.split("://", 1)[-1].split("/", 1)[-1]
        headers = {"X-Twilio-Signature": self.validator.compute_signature(public_ws, {})}
        try:
            self.ws = await http.ws_connect(self.base_url.replace("http", "ws", 1) + path, headers=headers,
                                            max_msg_size=0)
        except aiohttp.WSServerHandshakeError as exc:
            raise DialError(f"stream: HTTP {exc.status}") from None
        await self.ws.send_str(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        start = {"accountSid": "AC" + "0" * 32, "streamSid": self.stream_sid, "callSid": self.call_sid,
                 "tracks": ["inbound"], "customParameters": {"session_id": parameter.get("value")},
                 "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}
        await self.ws.send_str(json.dumps({"event": "start", "sequenceNumber": "1", "start": start,
                                           "streamSid": self.stream_sid}))
        self._sequence = 1
        self._prefix = '{"event": "media", "streamSid": "' + self.stream_sid + '", "sequenceNumber": "'
        self.figures.connected_at = loop.time()

    async def _send(self, payload: str) -> None:
        # Built by hand: 50 messages a second per caller, and the bench must cost far less than the gateway.
        self._sequence += 1
        await self.ws.send_str(f'{self._prefix}{self._sequence}", "media": {{"track": "inbound", "payload": '
                               f'"{payload}"}}}}')

    async def _echo(self, mark: str) -> None:
        await self.ws.send_str(json.dumps({"event": "mark", "streamSid": self.stream_sid, "mark": {"name": mark}}))

    async def _bye(self) -> None:
        await self.ws.send_str(json.dumps({"event": "stop", "streamSid": self.stream_sid,
                                           "stop": {"accountSid": "AC" + "0" * 32, "callSid": self.call_sid}}))

    def _message(self, msg: aiohttp.WSMessage) -> None:
        if msg.type != aiohttp.WSMsgType.TEXT:
            return
        data = msg.data
        if data.startswith('{"event": "media"'):  # the gateway's own layout (gateway/twilio/protocol.py)
            start = data.index('"payload": "') + 12
            payload_chars = data.index('"', start) - start
            self.heard(max(1, payload_chars * 3 // 4 // MULAW_FRAME))
            return
        message = json.loads(data)
        event = message.get("event")
        if event == "media":
            self.heard(max(1, len(base64.b64decode(message["media"]["payload"])) // MULAW_FRAME))
        elif event == "mark":
            self.ear.mark(message["mark"]["name"])
        elif event == "clear":
            for name in self.ear.clear():  # echoed at once, as Twilio does; kept until sent (tasks are weakly held)
                echo = asyncio.ensure_future(self._echo(name))
                self._echoes.add(echo)
                echo.add_done_callback(self._echoes.discard)
