"""The two doors a simulated caller of `parley bench capacity` can come through: the API stream (create, then
the stream's binary audio and JSON events) and Twilio Media Streams (the signed voice webhook, then the stream
as Twilio speaks it). The caller itself, its script and its earpiece: lines.py."""

import asyncio
import base64
import json
import secrets
import xml.etree.ElementTree as ET

import aiohttp
from twilio.request_validator import RequestValidator

from gateway.capacity.lines import CallFigures, DialError, Line, Script

MULAW_FRAME = 160  # bytes of mu-law 8 kHz in 20 ms


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
