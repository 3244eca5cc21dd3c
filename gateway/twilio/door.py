"""WS /twilio/stream: one Twilio Media Streams connection carrying one phone call's session (the Twilio door).

Twilio's mu-law 8 kHz goes in as pcm16 at the engine rate with a plain call per
20 ms message. The agent's speech goes out through a PacedSink at 8 kHz, a little
ahead of what Twilio has played (`[twilio] lead_ms`), as a `media` message per 20 ms
frame and a `mark` every 100 ms. Twilio echoes each mark once the audio before it played,
which is the playback position barge-in truncation uses; a pause or a barge-in
sends `clear`, and the marks Twilio then echoes at once were not played.

The session is the one the voice webhook (or POST /v1/calls) created, named by
the stream's `session_id` parameter and bound to the call's CallSid. The stream's
`stop` (the caller hung up, a transfer took the call) ends the session; the
session's end (end_call, DELETE, idle timeout) hangs up through Twilio's REST API
and closes the stream, after which the call has no more TwiML and ends.
"""

import asyncio
import time

import structlog
from aiohttp import WSMsgType, web

from agents.events import Event
from agents.keypad import DTMF_KEYS
from agents.listening import ENGINE_RATE
from agents.playout import PacedSink, pcm_ms
from agents.ports import CallControlError
from gateway.app_keys import CONFIG, STORAGE
from gateway.call_session import LiveSession
from gateway.outbox import Outbox
from gateway.twilio import protocol, twiml
from gateway.twilio.protocol import MEDIA_ENCODING, MULAW_RATE, PlaybackMarks, ProtocolError
from gateway.twilio.rest import TwilioApiError, TwilioRest
from media.codecs import make_codec
from media.dtmf import dtmf_tones
from media.errors import AudioFormatError
from media.resample import Resampler

log = structlog.get_logger(__name__)

FRAME_MS = 20
# A mark after every frame doubled what went out and made Twilio echo 50 a second (about a tenth of a talking
# call's CPU, tests/perf/capacity_bench.py); between marks the playback position runs on the clock, as Twilio's
# player does.
MARK_EVERY_MS = 100
MAX_MESSAGE_BYTES = 64 * 1024  # a media message is ~250 bytes; bigger ones close the socket (1009)
START_TIMEOUT_S = 15.0  # connected/start come at once; a socket that says nothing is not Twilio
SILENCE_TIMEOUT_S = 20.0  # Twilio sends media every 20 ms for the whole call, silence included
_NOTE_EVERY_S = 5.0  # the same complaint about bad input is logged at most this often per stream


class TwilioStream:
    """One Media Streams WebSocket bound to one session: its Door (gateway/call_session.py) and CallControl."""

    def __init__(self, request: web.Request, rest: TwilioRest | None) -> None:
        self.request = request
        self.rest = rest
        self.ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE_BYTES)
        self.codec = make_codec("mulaw", MULAW_RATE)
        self.inbound = Resampler(MULAW_RATE, ENGINE_RATE)
        self.sink = PacedSink(MULAW_RATE, self._send_audio, on_clear=self._clear, frame_ms=FRAME_MS,
                              lead_ms=request.app[CONFIG].twilio.lead_ms, batch=True)
        self.marks = PlaybackMarks()
        self.live: LiveSession | None = None
        self.stream_sid: str | None = None
        self.call_sid: str | None = None
        self.outbox = Outbox(self.ws, "twilio", abort=self._abort)
        self._closing: asyncio.Future | None = None  # finish(): the REST hang-up, then the stream's close
        self._hung_up = False  # by us, or the call is a <Dial>'s after a transfer
        self._noted: dict[str, tuple[float, int]] = {}  # complaint -> (last logged, times since)
        self._last_message = 0.0  # loop time of the latest message from Twilio
        self._silent_for: float | None = None  # the stream said nothing this long: the watchdog ended it

    # -- wire out ----------------------------------------------------------------------------------

    def _send_audio(self, chunk: bytes) -> None:
        """PacedSink's send: the 20 ms pcm16 frames due at one tick -> one media message, and a mark after it
        each time the reply passes a multiple of MARK_EVERY_MS (the sink runs its playback clock on from the
        last mark Twilio echoed)."""
        assert self.stream_sid is not None
        segment, sent_ms = self.sink.position
        self.outbox.put(protocol.media_message(self.stream_sid, self.codec.encode(chunk)))
        position = sent_ms + pcm_ms(chunk, MULAW_RATE)
        if position // MARK_EVERY_MS > sent_ms // MARK_EVERY_MS:
            self.outbox.put(protocol.mark_message(self.stream_sid, self.marks.sent(segment, position)))

    def _clear(self) -> None:
        """PacedSink's on_clear (a pause or a barge-in): Twilio drops what it buffered."""
        self.marks.cleared()
        if self.stream_sid is not None:
            self.outbox.put(protocol.clear_message(self.stream_sid))

    def _abort(self) -> None:
        if self.request.transport is not None:
            self.request.transport.abort()

    # -- Door ---------------------------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        """A phone has no event channel: the session's events are stored, not sent."""

    async def finish(self) -> None:
        """The session ended: hang the call up through the REST API (unless a transfer took it), then
        close the stream. Shielded: the session's runner is cancelled once the stream closes under it."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._hang_up_and_close())
        await asyncio.shield(self._closing)

    async def disconnect(self, message: str) -> None:
        await self.ws.close(message=message.encode())

    # -- CallControl --------------------------------------------------------------------------------

    def check_transfer(self) -> None:
        if self.rest is None or self.call_sid is None:
            raise CallControlError("transferring needs Twilio's REST API: set PARLEY_TWILIO_ACCOUNT_SID and "
                                   "PARLEY_TWILIO_AUTH_TOKEN")

    async def transfer(self, target: str) -> None:
        """Redirect the call to <Dial>target</Dial> (the "transferring you" line has been heard: a redirect
        stops the stream at once). Twilio takes the call from here; whether the target answers is the <Dial>'s."""
        self.check_transfer()
        assert self.rest is not None and self.call_sid is not None
        try:
            await self.rest.redirect(self.call_sid, twiml.dial(target))
        except TwilioApiError as exc:
            raise CallControlError(f"Twilio refused the transfer to {target}: {exc}") from None
        self._hung_up = True  # the call is the <Dial>'s now: ending the session must not hang it up

    async def send_dtmf(self, digits: str) -> None:
        """Media Streams has no key-press message: the keys go out in-band, as the tones a phone makes,
        in turn with the reply's speech (an IVR on the far end hears them through G.711)."""
        if self.live is None or self._closing is not None:
            raise CallControlError("the call has already ended")
        try:
            self.sink.push(dtmf_tones(digits, MULAW_RATE))
        except AudioFormatError as exc:
            raise CallControlError(str(exc)) from None
        log.info("dtmf_sent", digits=digits)

    async def _hang_up_call(self) -> None:
        if self._hung_up or self.rest is None or self.call_sid is None:
            return  # without REST credentials, closing the stream ends the call (no TwiML follows it)
        self._hung_up = True
        try:
            await self.rest.hang_up(self.call_sid)
        except TwilioApiError as exc:
            log.warning("hang_up_failed", error=str(exc))

    async def _hang_up_and_close(self) -> None:
        await self._hang_up_call()
        await self.outbox.close()  # what is queued goes out first
        await self.ws.close(message=b"session ended")

    # -- wire in ------------------------------------------------------------------------------------

    async def run(self) -> web.WebSocketResponse:
        await self.ws.prepare(self.request)
        self.outbox.start()
        self._last_message = asyncio.get_running_loop().time()
        watchdog = asyncio.create_task(self._watch_silence(asyncio.current_task()), name="twilio-silence")
        try:
            await self._receive()
        except asyncio.CancelledError:
            if self._silent_for is None:
                raise
            asyncio.current_task().uncancel()  # our own watchdog's doing: the call is over, not the server
            log.warning("twilio_stream_silent", seconds=self._silent_for, started=self.live is not None)
        finally:
            watchdog.cancel()
            if self.live is not None:  # a phone call that lost its stream is over; shielded as on the API stream
                await asyncio.shield(self.live.stop("hangup"))
            else:
                await self.sink.aclose()
            await asyncio.gather(self.outbox.close(), *([self._closing] if self._closing else []),
                                 return_exceptions=True)
            await self.ws.close()
        return self.ws

    async def _watch_silence(self, receiving: asyncio.Task) -> None:
        """End the stream once Twilio has said nothing for a while: one task per call that wakes when the
        silence would be over, instead of a timeout set and cancelled on each of the 50 messages a second
        (together with one ownership query per node instead of per call, a silent call's CPU went down by
        5 %, tests/perf/capacity_bench.py)."""
        loop = asyncio.get_running_loop()
        while True:
            timeout = START_TIMEOUT_S if self.live is None else SILENCE_TIMEOUT_S
            left = self._last_message + timeout - loop.time()
            if left <= 0:
                self._silent_for = timeout
                receiving.cancel()
                return
            await asyncio.sleep(left)

    async def _receive(self) -> None:
        loop = asyncio.get_running_loop()
        while not self.ws.closed:
            msg = await self.ws.receive()
            self._last_message = loop.time()
            if msg.type == WSMsgType.TEXT:
                try:
                    message = protocol.parse(msg.data)
                except ProtocolError as exc:
                    self._note(str(exc)[:40], str(exc))
                    continue
                if await self._handle(message) is False:
                    return
            elif msg.type == WSMsgType.BINARY:
                self._note("binary_message", "Media Streams messages are JSON text")
            elif msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                if msg.type == WSMsgType.ERROR:
                    log.warning("twilio_stream_error", error=str(self.ws.exception()))
                return

    async def _handle(self, message: protocol.Inbound) -> bool:
        """Act on one message; False ends the stream."""
        if isinstance(message, protocol.Media):
            if self._ours(message.stream_sid, "media") and message.track == "inbound":
                assert self.live is not None and self.live.conversation is not None
                self.live.conversation.feed_audio(self.inbound.process(self.codec.decode(message.payload)))
        elif isinstance(message, protocol.Mark):
            if self._ours(message.stream_sid, "mark"):
                played = self.marks.echoed(message.name)
                if played is not None and played[0] == self.sink.position[0]:
                    self.sink.note_played(played[1])
        elif isinstance(message, protocol.Start):
            if self.live is not None:
                self._note("second_start", "start after start ignored")
                return True
            return await self._open(message)
        elif isinstance(message, protocol.Dtmf):
            if self._ours(message.stream_sid, "dtmf"):
                if message.digit.upper() not in DTMF_KEYS:
                    self._note("bad_dtmf", f"not a DTMF key: {message.digit!r}")
                else:
                    assert self.live is not None and self.live.conversation is not None
                    self.live.conversation.feed_dtmf(message.digit.upper())
        elif isinstance(message, protocol.Stop):
            if self._ours(message.stream_sid, "stop"):
                log.info("twilio_stream_stopped")
                return False
        elif isinstance(message, protocol.Connected):
            log.info("twilio_stream_connected", protocol=message.protocol, version=message.version)
        return True

    def _ours(self, stream_sid: str, kind: str) -> bool:
        if self.live is None:
            self._note(f"{kind}_before_start", f"{kind} before start ignored")
            return False
        if stream_sid != self.stream_sid:
            self._note("wrong_stream_sid", f"{kind} for another stream ({stream_sid[:40]!r}) ignored")
            return False
        return True

    async def _open(self, start: protocol.Start) -> bool:
        """Bind the stream to the session Twilio names, and start the conversation (greeting first)."""
        structlog.contextvars.bind_contextvars(call_id=start.call_sid, stream_sid=start.stream_sid)
        if start.encoding != MEDIA_ENCODING or start.sample_rate != MULAW_RATE or start.channels != 1:
            log.error("twilio_stream_refused", reason="media format", encoding=start.encoding,
                      sample_rate=start.sample_rate, channels=start.channels)
            return False
        session_id = start.custom_parameters.get("session_id", "")
        record = await self.request.app[STORAGE].get_session(session_id) if session_id else None
        problem = ("no such session" if record is None else
                   "not a Twilio session" if record.channel != "twilio" else
                   "the session has ended" if record.status == "ended" else
                   "the session belongs to another call" if record.call_sid not in (None, start.call_sid) else None)
        if problem is not None:
            log.error("twilio_stream_refused", reason=problem, session_id=session_id[:64])
            return False
        assert record is not None
        structlog.contextvars.bind_contextvars(session_id=record.session_id)
        self.stream_sid, self.call_sid = start.stream_sid, start.call_sid
        self.live = LiveSession(self.request.app, record, self)
        await self.live.start()
        log.info("twilio_stream_started", caller=record.caller, called=record.called)
        return True

    def _note(self, kind: str, message: str) -> None:
        """Bad input is logged with the call's ids, not once per frame: at most every few seconds a kind."""
        now = time.monotonic()
        last, since = self._noted.get(kind, (-_NOTE_EVERY_S, 0))
        if now - last >= _NOTE_EVERY_S:
            log.warning("twilio_bad_input", kind=kind, detail=message, repeated=since)
            self._noted[kind] = (now, 0)
        else:
            self._noted[kind] = (last, since + 1)
