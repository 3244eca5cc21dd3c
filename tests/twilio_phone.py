"""Twilio's part of one phone call, played against the gateway over loopback as Twilio plays it.

`ring()` posts the signed voice webhook and reads the TwiML; `connect()` opens the
Media Streams socket (signed for the wss:// URL Twilio was given) and sends
`connected` and `start`. From then on a clock ticks every 20 ms, like Twilio's:
it sends the caller's audio (speech from `say()`, else silence) as a mu-law
`media` message, plays 20 ms of what the gateway sent, and echoes each `mark`
once the audio before it has played. A `clear` drops what is buffered and echoes
the pending marks at once. Everything is kept for the tests to check: arrival
times, what was played (pcm16 8 kHz), when clears came.
"""

import asyncio
import base64
import json
import secrets
import time
import xml.etree.ElementTree as ET
from collections import deque

import aiohttp
from twilio.request_validator import RequestValidator

from media.codecs import make_codec
from tests.twilio_api import ACCOUNT_SID, AUTH_TOKEN, PUBLIC_URL

RATE = 8000
FRAME = RATE * 2 // 50  # 20 ms of pcm16 at 8 kHz
_MULAW = make_codec("mulaw", RATE)


def sign(url: str, params: dict) -> dict:
    return {"X-Twilio-Signature": RequestValidator(AUTH_TOKEN).compute_signature(url, params)}


async def post_signed(http: aiohttp.ClientSession, base_url: str, path: str, form: dict) -> aiohttp.ClientResponse:
    """A webhook as Twilio sends it: form-encoded, signed for the public URL + path."""
    resp = await http.post(base_url + path, data=form, headers=sign(PUBLIC_URL + path, form))
    await resp.read()
    return resp


class TwilioPhone:
    def __init__(self, http: aiohttp.ClientSession, base_url: str, called: str, caller: str = "+15550001111",
                 call_sid: str | None = None) -> None:
        self.http = http
        self.base_url = base_url
        self.called, self.caller = called, caller
        self.call_sid = call_sid or "CA" + secrets.token_hex(16)
        self.stream_sid = "MZ" + secrets.token_hex(16)
        self.twiml: ET.Element | None = None
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.received: list[tuple[float, int]] = []  # (arrival, bytes of pcm16) per media message
        self.played = bytearray()  # what the caller's earpiece played, pcm16 8 kHz, silence left out
        self.played_log: list[tuple[float, int]] = []  # (when, bytes of `played` by then)
        self.clears: list[float] = []
        self.played_at_clear: list[int] = []  # bytes of `played` when each clear came
        self.marks_echoed = 0
        self.others: list[dict] = []  # anything else the gateway sent
        self.closed_at: float | None = None
        self.speech_started_at: float | None = None  # when the latest say() began going out
        self._queue: deque = deque()  # ("audio", bytearray) and ("mark", name) in arrival order
        self._to_say = bytearray()
        self._sequence = 0
        self._send_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task] = []

    # -- the webhook ----------------------------------------------------------------------------

    async def ring(self, **extra: str) -> ET.Element:
        form = {"CallSid": self.call_sid, "AccountSid": ACCOUNT_SID, "From": self.caller, "To": self.called,
                "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01", **extra}
        resp = await post_signed(self.http, self.base_url, "/twilio/voice", form)
        assert resp.status == 200, (resp.status, await resp.text())
        self.twiml = ET.fromstring(await resp.text())
        return self.twiml

    @property
    def session_id(self) -> str:
        assert self.twiml is not None
        parameter = self.twiml.find("Connect/Stream/Parameter[@name='session_id']")
        assert parameter is not None, ET.tostring(self.twiml)
        return parameter.get("value")

    async def status(self, call_status: str, **extra: str) -> aiohttp.ClientResponse:
        form = {"CallSid": self.call_sid, "AccountSid": ACCOUNT_SID, "CallStatus": call_status, **extra}
        return await post_signed(self.http, self.base_url, "/twilio/status", form)

    # -- the Media Stream -----------------------------------------------------------------------

    async def open(self) -> None:
        """Open the stream socket as Twilio does (signed for the wss:// URL of the TwiML)."""
        ws_url = self.base_url.replace("http://", "ws://") + "/twilio/stream"
        public = PUBLIC_URL.replace("https://", "wss://") + "/twilio/stream"
        self.ws = await self.http.ws_connect(ws_url, headers=sign(public, {}))
        self._tasks = [asyncio.create_task(self._receive(), name="phone-receive")]

    async def connect(self, session_id: str | None = None) -> None:
        await self.open()
        await self.start(session_id)

    async def start(self, session_id: str | None = None) -> None:
        """`connected` and `start` naming the session, then media every 20 ms."""
        await self.send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        await self.send({"event": "start", "streamSid": self.stream_sid, "start": {
            "accountSid": ACCOUNT_SID, "streamSid": self.stream_sid, "callSid": self.call_sid,
            "tracks": ["inbound"], "customParameters": {"session_id": session_id or self.session_id},
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}})
        self._tasks.append(asyncio.create_task(self._clock(), name="phone-clock"))

    async def send(self, message: dict | str) -> None:
        assert self.ws is not None
        if isinstance(message, dict):
            self._sequence += 1
            message = json.dumps({**message, "sequenceNumber": str(self._sequence)})
        async with self._send_lock:
            if not self.ws.closed:
                await self.ws.send_str(message)

    def say(self, pcm8k: bytes) -> None:
        self._to_say += pcm8k
        self.speech_started_at = None

    async def press(self, digit: str) -> None:
        await self.send({"event": "dtmf", "streamSid": self.stream_sid, "dtmf": {"track": "inbound_track",
                                                                                  "digit": digit}})

    async def stop(self) -> None:
        """The caller hung up: Twilio's last message."""
        await self.send({"event": "stop", "streamSid": self.stream_sid,
                         "stop": {"accountSid": ACCOUNT_SID, "callSid": self.call_sid}})

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.ws is not None:
            await self.ws.close()

    async def __aenter__(self) -> "TwilioPhone":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # -- waiting --------------------------------------------------------------------------------

    async def wait_until(self, predicate, timeout: float = 30.0, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"phone: no {what} within {timeout} s")
            await asyncio.sleep(0.02)

    async def wait_quiet(self, quiet_s: float = 1.0, timeout: float = 60.0) -> None:
        """Until something was played and nothing is left to play or arriving for `quiet_s`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            last = self.received[-1][0] if self.received else None
            if last is not None and not self.buffered_ms and time.monotonic() - last >= quiet_s:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"phone: the gateway did not stop talking within {timeout} s")

    @property
    def buffered_ms(self) -> int:
        return sum(len(item) for kind, item in self._queue if kind == "audio") * 1000 // (RATE * 2)

    # -- Twilio's behaviour ---------------------------------------------------------------------

    async def _receive(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                self.others.append({"binary": len(msg.data)} if msg.type == aiohttp.WSMsgType.BINARY else {})
                continue
            message = json.loads(msg.data)
            event = message.get("event")
            if event == "media":
                pcm = _MULAW.decode(base64.b64decode(message["media"]["payload"]))
                self.received.append((time.monotonic(), len(pcm)))
                self._queue.append(("audio", bytearray(pcm)))
            elif event == "mark":
                self._queue.append(("mark", message["mark"]["name"]))
            elif event == "clear":
                self.clears.append(time.monotonic())
                self.played_at_clear.append(len(self.played))
                marks = [item for kind, item in self._queue if kind == "mark"]
                self._queue.clear()
                for name in marks:  # Twilio echoes the pending marks at once
                    await self._echo(name)
            else:
                self.others.append(message)
        self.closed_at = time.monotonic()

    async def _echo(self, name: str) -> None:
        self.marks_echoed += 1
        await self.send({"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}})

    async def _play_frame(self) -> None:
        """20 ms of the earpiece: marks whose audio has played are echoed."""
        wanted = FRAME
        while True:
            while self._queue and self._queue[0][0] == "mark":
                await self._echo(self._queue.popleft()[1])
            if not wanted or not self._queue:
                break
            audio = self._queue[0][1]
            take = audio[:wanted]
            del audio[:wanted]
            if not audio:
                self._queue.popleft()
            self.played += take
            wanted -= len(take)
        if wanted < FRAME:
            self.played_log.append((time.monotonic(), len(self.played)))

    async def _clock(self) -> None:
        loop = asyncio.get_running_loop()
        start, n = loop.time(), 0
        while self.ws is not None and not self.ws.closed:
            await self._play_frame()
            frame = b"\x00\x00" * (FRAME // 2)
            if self._to_say:
                if self.speech_started_at is None:
                    self.speech_started_at = time.monotonic()
                frame = bytes(self._to_say[:FRAME]).ljust(FRAME, b"\x00")
                del self._to_say[:FRAME]
            n += 1
            await self.send({"event": "media", "streamSid": self.stream_sid, "media": {
                "track": "inbound", "chunk": str(n), "timestamp": str(n * 20),
                "payload": base64.b64encode(_MULAW.encode(frame)).decode()}})
            await asyncio.sleep(max(0.0, start + n * 0.02 - loop.time()))
