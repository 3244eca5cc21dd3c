"""The SIP door: one call seen from the event loop, carrying one conversation (STYLE §2, SPEC §6).

Caller audio: the clock thread leaves frames in a deque; the shared pump
(sip/pump.py) hands them to `deliver`, which resamples them to the engine
rate and feeds the conversation. Our audio: a PacedSink at the bridge's
rate puts frames in the other deque, from which pjsua2 takes one every
20 ms; what it took is what was heard (barge-in drops the rest). Control:
RFC 2833 / SIP INFO digits in, BYE and REFER out, digits out. Every pjsua2
action is a command run on the UA thread (`ua.on_call`).
"""

import asyncio
import contextvars
from typing import TYPE_CHECKING

import pjsua2 as pj
import structlog

from agents.conversation import ENGINE_RATE, Conversation
from agents.events import Event
from agents.keypad import DTMF_KEYS
from agents.playout import PacedSink
from agents.ports import CallControlError
from media.resample import Resampler
from sip.bridge import FrameQueues
from sip.call import CallDetails
from sip.uri import dial_uri, host_part

if TYPE_CHECKING:
    from sip.ua import UserAgent

log = structlog.get_logger(__name__)

_DRAIN_MAX_S = 15.0  # longest a hang-up or transfer waits for queued speech to be heard
_BYE_WAIT_S = 5.0  # longest we wait for our BYE (or CANCEL) to be answered
_TRANSFER_ANSWER_S = 10.0  # longest we wait for the far end to accept or refuse a REFER
_TRANSFER_RING_S = 60.0  # then, for its final report (the target answered, was busy, did not answer)


def _op(status_code: int = 0, reason: str = "") -> pj.CallOpParam:
    op = pj.CallOpParam(True)
    if status_code:
        op.statusCode = status_code
    if reason:
        op.reason = reason
    return op


class SipCall:
    """Inbound: `answer()` or `reject(code)`, then `await connected()`. Outbound: from `UserAgent.dial`,
    `await connected()`. Then `attach(conversation)`; `ended` is set once the call is over either way."""

    def __init__(self, ua: "UserAgent", details: CallDetails, queues: FrameQueues) -> None:
        self.ua = ua
        self.key = details.key
        self.direction = details.direction
        self.call_id = details.call_id
        self.called = details.called
        self.caller = details.caller
        self.remote_uri = details.remote_uri
        self.queues = queues
        self.sink = PacedSink(queues.sample_rate, queues.outbound.append, on_clear=queues.outbound.clear,
                              unheard_ms=queues.unheard_ms)
        self._inbound = Resampler(queues.sample_rate, ENGINE_RATE)
        self.conversation: Conversation | None = None
        self.context = contextvars.Context()  # what the engine logs with while fed from the pump
        self.codec: str | None = None
        self.confirmed = asyncio.Event()  # the 2xx was acknowledged (ACK sent or received)
        self.media_ready = asyncio.Event()
        self.ended = asyncio.Event()
        self.status_code: int | None = None  # the final SIP status: 200 for a call that was answered
        self.reason = ""
        self.ringing = False
        self._answered = False  # inbound: we sent 200 OK; outbound: the far end did
        self._transfer: asyncio.Queue[tuple[int, str, bool]] | None = None  # REFER progress: code, reason, final
        self._bye: asyncio.Task | None = None
        self.log = log.bind(channel="sip", call_id=self.call_id, direction=self.direction)

    # -- the call's set-up ------------------------------------------------------------------------

    async def answer(self) -> None:
        """Inbound: 200 OK with our SDP answer (or offer, for an INVITE without SDP)."""
        self._answered = True
        await self.ua.on_call(self.key, lambda call: call.answer(_op(200)))

    async def reject(self, status_code: int, reason: str = "") -> None:
        """Inbound, not answered yet: a final error response (404 unknown number, 503 not ready...)."""
        await self.ua.on_call(self.key, lambda call: call.hangup(_op(status_code, reason)))

    async def connected(self) -> bool:
        """Wait until the call is set up and audio flows (True) or it ended first (False: refused,
        cancelled, or our answer never acknowledged)."""

        async def up() -> None:
            await self.confirmed.wait()
            await self.media_ready.wait()

        ready = asyncio.ensure_future(up())
        ended = asyncio.ensure_future(self.ended.wait())
        await asyncio.wait({ready, ended}, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        ended.cancel()
        return ready.done() and not ready.cancelled() and not self.ended.is_set()

    def attach(self, conversation: Conversation) -> None:
        """Caller audio and digits go to `conversation` from now on (logged in the caller's context)."""
        self.conversation = conversation
        self.context = contextvars.copy_context()
        self.ua.pump.add(self)

    def detach(self) -> None:
        self.ua.pump.discard(self)
        self.conversation = None

    # -- frames (on the loop, from the pump) -------------------------------------------------------

    def deliver(self) -> None:
        inbound, conversation = self.queues.inbound, self.conversation
        if conversation is None:
            inbound.clear()
            return
        while inbound:
            conversation.feed_audio(self._inbound.process(inbound.popleft()))

    # -- events from the UA thread (run on the loop) -------------------------------------------------

    def _on_ringing(self, status_code: int) -> None:
        self.ringing = True

    def _on_confirmed(self) -> None:
        self._answered = True
        self.confirmed.set()
        self.log.info("sip_call_confirmed")

    def _on_media(self, codec: str) -> None:
        if self.codec != codec:
            self.log.info("sip_media_active", codec=codec)
        self.codec = codec
        self.media_ready.set()

    def _on_dtmf(self, digit: str) -> None:
        digit = digit.upper()
        if self.conversation is not None and digit in DTMF_KEYS:
            self.conversation.feed_dtmf(digit)

    def _on_transfer_status(self, status_code: int, reason: str, final: bool) -> None:
        self.log.info("sip_transfer_status", status_code=status_code, reason=reason, final=final)
        if self._transfer is not None:
            self._transfer.put_nowait((status_code, reason, final))

    def _on_disconnected(self, status_code: int, reason: str) -> None:
        self.status_code, self.reason = status_code, reason
        self.ua.doors.pop(self.key, None)
        self.detach()
        self.queues.outbound.clear()
        if self._transfer is not None:
            self._transfer.put_nowait((status_code if status_code >= 300 else 487, reason or "call ended", True))
        self.ended.set()
        self.log.info("sip_call_ended", status_code=status_code, reason=reason,
                      frames_in=self.queues.frames_in, frames_out=self.queues.frames_out)

    # -- the door's part of a session (gateway/call_session.py) --------------------------------------

    def emit(self, event: Event) -> None:
        """A phone call has no event channel: the session's events are stored, not sent."""

    async def finish(self) -> None:
        """The session ended: whatever is still queued is heard, then BYE (after a transfer: the caller is
        with the target now). Shielded: the session's runner may be cancelled as the call ends under it."""
        await self._hang_up("session_ended", drain=True)

    async def disconnect(self, message: str) -> None:
        """Hang up now (server shutdown): no waiting for queued speech."""
        await self._hang_up(message, drain=False)

    async def _hang_up(self, reason: str, drain: bool) -> None:
        """BYE (CANCEL, 480 while ringing); once, whoever asks first (finish, a shutdown)."""
        if self._bye is None:
            self._bye = asyncio.ensure_future(self._send_bye(reason, drain))
        await asyncio.shield(self._bye)

    async def _send_bye(self, reason: str, drain: bool) -> None:
        if self.ended.is_set():
            return
        if drain:
            await self._drain()
        self.log.info("sip_hang_up", reason=reason)
        try:
            # Answered: BYE. Ringing in: a final 480. Ringing out: CANCEL. pjsua2 picks by state.
            await self.ua.on_call(self.key, lambda call: call.hangup(_op(0 if self._answered else 480)))
        except Exception as exc:  # the call ended meanwhile, or the UA is stopping: nothing left to hang up
            self.log.info("sip_hang_up_skipped", error=str(exc))
            return
        try:
            await asyncio.wait_for(self.ended.wait(), _BYE_WAIT_S)
        except TimeoutError:
            self.log.warning("sip_bye_unanswered", waited_s=_BYE_WAIT_S)

    async def _drain(self) -> None:
        """Until the speech already queued has been heard (or the call ended)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _DRAIN_MAX_S
        while self.sink.pending_ms() > 0 and not self.ended.is_set() and loop.time() < deadline:
            await asyncio.sleep(0.02)

    # -- CallControl ---------------------------------------------------------------------------------

    def check_transfer(self) -> None:
        if self.ended.is_set():
            raise CallControlError("the call has already ended")

    async def transfer(self, target: str) -> None:
        """Blind transfer (REFER, RFC 3515) once queued speech is heard. Returns when the far end reports
        that the target answered (the session then ends and we hang up); CallControlError if it refused the
        REFER or the target did not answer: the caller is back with us. A far end that accepts but never
        reports is taken to have transferred the call."""
        self.check_transfer()
        await self._drain()
        uri = dial_uri(target, self.ua.domain or host_part(self.remote_uri))
        progress = self._transfer = asyncio.Queue()
        self.log.info("sip_transfer", target=uri)
        try:
            await self.ua.on_call(self.key, lambda call: call.xfer(uri, _op()))
        except Exception as exc:
            raise CallControlError(f"the transfer to {target} could not be sent: {exc}") from None
        wait_s, accepted = _TRANSFER_ANSWER_S, False
        while True:
            try:
                status_code, reason, final = await asyncio.wait_for(progress.get(), wait_s)
            except TimeoutError:
                if accepted:
                    self.log.warning("sip_transfer_unreported", waited_s=wait_s)
                    return
                raise CallControlError("the phone system did not answer the transfer request") from None
            if status_code >= 300:
                what = "refused the transfer to" if not accepted else "could not reach"
                raise CallControlError(f"the phone system {what} {target}: {status_code} {reason}")
            if final:
                return
            wait_s, accepted = _TRANSFER_RING_S, True

    async def send_dtmf(self, digits: str) -> None:
        """Key presses to the far end: RFC 2833 events, or SIP INFO when it did not offer them."""
        if self.ended.is_set():
            raise CallControlError("the call has already ended")

        def send(call) -> None:
            param = pj.CallSendDtmfParam()
            param.digits = digits
            param.method = pj.PJSUA_DTMF_METHOD_RFC2833
            try:
                call.sendDtmf(param)
            except pj.Error:  # no telephone-event in the SDP: the key presses go as SIP INFO
                param.method = pj.PJSUA_DTMF_METHOD_SIP_INFO
                call.sendDtmf(param)

        try:
            await self.ua.on_call(self.key, send)
        except Exception as exc:
            raise CallControlError(f"the key presses could not be sent: {exc}") from None
