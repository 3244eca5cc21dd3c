"""The API door: GET /v1/conversations/{session_id}/stream, a WebSocket carrying audio both ways and JSON events.

Decode audio in (pcm16 / mulaw / opus at the stream's rate) -> 16 kHz pcm16 ->
Conversation.feed_audio, with plain calls per message; speech out goes
through a PacedSink and the same ordered writer as the events (SPEC §4).
"""

import asyncio
import json
import re
import secrets
from datetime import UTC, datetime

import structlog
from aiohttp import WSMsgType, web

from agents.conversation import ENGINE_RATE
from agents.errors import Conflict, Forbidden, InvalidRequest
from agents.events import Event, SessionStarted, Transcript, TurnEnd
from agents.keypad import DTMF_KEYS
from agents.playout import PacedSink
from agents.ports import CallControlError
from agents.session import History, turn_number
from gateway.api.conversations import load_owned, loaded_models
from gateway.app_keys import CONFIG, LIVE, STORAGE
from gateway.auth import authenticate, hash_key
from gateway.call_session import LiveSession
from gateway.limits import check_live_sessions
from gateway.outbox import Outbox
from gateway.storage import SessionRecord
from media.codecs import make_codec
from media.errors import AudioFormatError
from media.resample import Resampler

log = structlog.get_logger(__name__)

STREAM_RATES = (8000, 16000, 24000, 48000)
ENCODINGS = ("pcm16", "opus", "mulaw")
_TURN_ID = re.compile(r"^turn_\d{3,}$")
MAX_USER_TEXT = 2000
MAX_DTMF_DIGITS = 64
_ERROR_EVERY_S = 1.0  # at most one error event a second for bad audio, however many bad frames


def _query(request: web.Request) -> tuple[int, str, float, str | None]:
    q = request.query
    raw_rate = q.get("sample_rate", "16000")
    if not raw_rate.isdigit() or int(raw_rate) not in STREAM_RATES:
        raise InvalidRequest(f"sample_rate must be one of {', '.join(map(str, STREAM_RATES))}, got {raw_rate!r}",
                             param="sample_rate")
    encoding = q.get("encoding", "pcm16")
    if encoding not in ENCODINGS:
        raise InvalidRequest(f"encoding must be one of {', '.join(ENCODINGS)}, got {encoding!r}", param="encoding")
    raw_vad = q.get("vad_threshold", "0.5")
    try:
        vad_threshold = float(raw_vad)
    except ValueError:
        vad_threshold = -1.0
    if not 0.0 <= vad_threshold <= 1.0:
        raise InvalidRequest(f"vad_threshold must be a number from 0.0 to 1.0, got {raw_vad!r}", param="vad_threshold")
    last_turn_id = q.get("last_turn_id")
    if last_turn_id is not None and not _TURN_ID.match(last_turn_id):
        raise InvalidRequest(f"last_turn_id must look like turn_001, got {last_turn_id!r}", param="last_turn_id")
    return int(raw_rate), encoding, vad_threshold, last_turn_id


async def _authorised_session(request: web.Request) -> SessionRecord:
    storage = request.app[STORAGE]
    session_id = request.match_info["session_id"]
    token = request.query.get("token", "")
    if token.startswith("st_") and "Authorization" not in request.headers:
        session = await storage.get_session(session_id)
        if session is None or not secrets.compare_digest(session.stream_token_hash or "", hash_key(token)):
            raise Forbidden("this stream token does not open this conversation")
        ttl_s = request.app[CONFIG].sessions.stream_token_ttl_s
        if (datetime.now(UTC) - max(session.created_at, session.last_activity_at)).total_seconds() > ttl_s:
            raise Forbidden("this stream token has expired; open the stream with the API key")
        return session
    key = await authenticate(request, storage, allow_query_token=True)
    return await load_owned(request, key, session_id)


class StreamConnection:
    """One WebSocket bound to one Conversation; also the conversation's CallControl (agents/ports.py)."""

    def __init__(self, request: web.Request, session: SessionRecord, sample_rate: int, encoding: str,
                 vad_threshold: float) -> None:
        self.request = request
        self.session = session
        self.ws = web.WebSocketResponse(heartbeat=20, max_msg_size=1 << 20)
        self.codec = make_codec(encoding, sample_rate)
        self.inbound = Resampler(sample_rate, ENGINE_RATE)
        self.outbox = Outbox(self.ws, "api", abort=self._abort)
        self.sink = PacedSink(sample_rate, self._send_audio)
        self.live = LiveSession(request.app, session, self, vad_threshold)
        self._last_error: dict[str, float] = {}  # error code -> when it was last sent
        self._finishing: asyncio.Future | None = None

    def _send_audio(self, frame: bytes) -> None:
        self.outbox.put(self.codec.encode(frame))

    def _abort(self) -> None:
        if self.request.transport is not None:
            self.request.transport.abort()

    def emit(self, event: Event) -> None:
        self.outbox.put(json.dumps(event.to_wire()))

    def error(self, code: str, message: str, throttle: bool = False) -> None:
        now = asyncio.get_running_loop().time()
        if throttle and now - self._last_error.get(code, -_ERROR_EVERY_S) < _ERROR_EVERY_S:
            return
        self._last_error[code] = now
        self.outbox.put(json.dumps({"type": "error", "code": code, "message": message}))

    # -- Door (gateway/call_session.py) -----------------------------------------------------------

    async def finish(self) -> None:
        """The session ended: send what is queued (session_ended last), then close the socket. Shielded:
        the session's runner may be cancelled as the socket closes under it."""
        if self._finishing is None:
            self._finishing = asyncio.ensure_future(self._flush_and_close(b"session ended"))
        await asyncio.shield(self._finishing)

    async def disconnect(self, message: str) -> None:
        await self.ws.close(message=message.encode())

    # -- CallControl: what the engine's call-control tools may do on this channel -----------------

    def check_transfer(self) -> None:
        raise CallControlError("transferring the call is not available on the api channel")

    async def transfer(self, target: str) -> None:
        self.check_transfer()

    async def send_dtmf(self, digits: str) -> None:
        raise CallControlError("sending key presses is not available on the api channel")

    async def _flush_and_close(self, message: bytes) -> None:
        await self.outbox.close()  # everything queued goes out (session_ended last)
        await self.ws.close(message=message)

    async def run(self, last_turn_id: str | None) -> web.WebSocketResponse:
        storage = self.request.app[STORAGE]
        await self.ws.prepare(self.request)
        self.outbox.start()
        try:
            await self.live.claim()
            turns = await storage.list_turns(self.session.session_id)
            # A turn id the client saw but that was never stored (noise with no words) is not issued again.
            seen = turn_number(last_turn_id) if last_turn_id is not None else 0
            history = History.of(turns, max(self.session.last_turn_number, seen))
            self.emit(SessionStarted(self.session.session_id, last_turn_id is not None,
                                     turns[-1].turn_id if turns else None))
            if last_turn_id is not None:  # resume: replay what the client missed, nothing twice
                for turn in turns:
                    if turn_number(turn.turn_id) > turn_number(last_turn_id):
                        self.emit(Transcript(turn.role, turn.text, True, turn.turn_id))
                        self.emit(TurnEnd(turn.role, turn.turn_id, turn.duration_ms, turn.interrupted))
            await self.live.start(history)
            await self._receive()
        finally:
            # A dropped stream can be resumed: close the session, do not end it. Shielded: a handler cancelled as
            # its socket closes (aiohttp's handler_cancellation) must still let the session go (metrics, registry).
            await asyncio.shield(self.live.stop(None))
            await asyncio.gather(self.outbox.close(), *([self._finishing] if self._finishing else []),
                                 return_exceptions=True)
            await self.ws.close()
        return self.ws

    async def _receive(self) -> None:
        conversation = self.live.conversation
        assert conversation is not None
        async for msg in self.ws:
            if msg.type == WSMsgType.BINARY:
                try:
                    conversation.feed_audio(self.inbound.process(self.codec.decode(msg.data)))
                except AudioFormatError as exc:
                    self.error("bad_audio", str(exc), throttle=True)
            elif msg.type == WSMsgType.TEXT:
                await self._control(msg.data)
            elif msg.type == WSMsgType.ERROR:
                break

    async def _control(self, text: str) -> None:
        conversation = self.live.conversation
        assert conversation is not None
        try:
            message = json.loads(text)
        except (json.JSONDecodeError, RecursionError):  # RecursionError: nested too deeply
            return self.error("bad_message", "text messages must be JSON objects")
        if not isinstance(message, dict):
            return self.error("bad_message", "text messages must be JSON objects")
        kind = message.get("type")
        if kind == "user_text":
            value = message.get("text")
            if not isinstance(value, str) or not value.strip() or len(value) > MAX_USER_TEXT:
                return self.error("bad_message", f"user_text needs a non-empty text of at most {MAX_USER_TEXT} characters")
            conversation.feed_text(value.strip())
        elif kind == "playback":
            played = message.get("played_ms")
            if isinstance(played, bool) or not isinstance(played, (int, float)) or played < 0:
                return self.error("bad_message", "playback needs played_ms, a number >= 0")
            self.sink.note_played(int(played))
        elif kind == "dtmf":
            digits = message.get("digits")
            if (not isinstance(digits, str) or not 1 <= len(digits) <= MAX_DTMF_DIGITS
                    or set(digits.upper()) - DTMF_KEYS):
                return self.error("bad_message", f"dtmf needs digits: 1 to {MAX_DTMF_DIGITS} of 0-9, *, #, A-D")
            for digit in digits.upper():
                conversation.feed_dtmf(digit)
        elif kind == "end":
            await conversation.end("hangup")
        else:
            self.error("bad_message", f"unknown message type {kind!r} (user_text, dtmf, playback, end)")


async def stream(request: web.Request) -> web.StreamResponse:
    sample_rate, encoding, vad_threshold, last_turn_id = _query(request)
    session = await _authorised_session(request)
    if session.status == "ended":
        raise Conflict(f"conversation {session.session_id} has ended", param="session_id")
    loaded_models(request)
    check_live_sessions(request.app[LIVE], session.owner_key_id, request.app[CONFIG].limits.sessions_per_key,
                        session.session_id)
    connection = StreamConnection(request, session, sample_rate, encoding, vad_threshold)
    structlog.contextvars.bind_contextvars(channel="api", session_id=session.session_id)
    log.info("stream_opened", encoding=encoding, sample_rate=sample_rate, resumed=last_turn_id is not None)
    try:
        return await connection.run(last_turn_id)
    finally:
        log.info("stream_closed")
        structlog.contextvars.clear_contextvars()


def add_routes(app: web.Application) -> None:
    app.router.add_get("/v1/conversations/{session_id}/stream", stream)
