"""Twilio's webhooks: POST /twilio/voice (a call comes in) and POST /twilio/status (how a call or stream went).

Both are signed by Twilio (gateway/twilio/signatures.py); both answer Twilio, not a
person, so a refusal is the JSON error envelope and the status code Twilio logs.
"""

from datetime import UTC, datetime

import structlog
from aiohttp import web

from agents.errors import InvalidRequest
from gateway.app_keys import CONFIG, LIVE, MODELS, STORAGE
from gateway.call_session import phone_session_record
from gateway.draining import refuse_new_calls
from gateway.routing import route_call
from gateway.twilio import twiml
from gateway.twilio.signatures import check_signature, public_base, websocket_base

log = structlog.get_logger(__name__)

STREAM_PATH = "/twilio/stream"
STATUS_PATH = "/twilio/status"
STARTING_MESSAGE = "Sorry, this service is starting up. Please call again in a minute. Goodbye."
# Call statuses after which the call is over, and the session's end reason for each (SPEC §4 reasons).
ENDED_CALL_STATUSES = {"completed": "hangup", "busy": "hangup", "no-answer": "hangup", "canceled": "hangup",
                       "failed": "error"}
_MAX_FIELD_CHARS = 256


def _xml(body: str) -> web.Response:
    return web.Response(text=body, content_type="text/xml")


def _field(form, name: str, required: bool = False) -> str | None:
    value = form.get(name)
    if value is None or value == "":
        if required:
            raise InvalidRequest(f"{name} is required", param=name)
        return None
    if not isinstance(value, str) or len(value) > _MAX_FIELD_CHARS:
        raise InvalidRequest(f"{name} must be text of at most {_MAX_FIELD_CHARS} characters", param=name)
    return value


def stream_twiml(request: web.Request, session_id: str) -> str:
    """<Connect><Stream> to our Media Streams socket for `session_id`, stream status to /twilio/status."""
    return twiml.connect_stream(websocket_base(request) + STREAM_PATH, session_id,
                                public_base(request) + STATUS_PATH)


async def voice(request: web.Request) -> web.Response:
    """A call to one of our Twilio numbers: route `To` to a persona, make the session, connect the stream."""
    form = await request.post()
    check_signature(request, public_base(request) + request.path_qs, form)
    call_sid = _field(form, "CallSid", required=True)
    caller, called = _field(form, "From"), _field(form, "To") or ""
    structlog.contextvars.bind_contextvars(channel="twilio", call_id=call_sid)
    try:
        app, storage = request.app, request.app[STORAGE]
        existing = await storage.find_session_by_call(call_sid)
        if existing is not None and existing.status != "ended":  # Twilio asked again (a retry): same session
            log.info("twilio_call_again", session_id=existing.session_id)
            return _xml(stream_twiml(request, existing.session_id))
        refuse_new_calls(app)
        if not app[MODELS].ready.is_set():
            log.warning("twilio_call_refused", reason="models still loading", called=called)
            return _xml(twiml.say_and_hang_up(STARTING_MESSAGE))
        routed = await route_call(app, called, "twilio")
        if routed is None:
            return _xml(twiml.say_and_hang_up(app[CONFIG].twilio.unrouted_message))
        record = phone_session_record(routed, "twilio", caller, called, call_sid)
        await storage.create_session(record)
        log.info("twilio_call_answered", session_id=record.session_id, persona_id=record.persona_id,
                 caller=caller, called=called)
        return _xml(stream_twiml(request, record.session_id))
    finally:
        structlog.contextvars.clear_contextvars()


async def end_call_session(app: web.Application, session_id: str | None, call_sid: str | None, reason: str) -> None:
    """The call is over: end its session, live on this node or not yet started."""
    storage = app[STORAGE]
    record = await storage.get_session(session_id) if session_id else None
    if record is None and call_sid:
        record = await storage.find_session_by_call(call_sid)
    if record is None or record.status == "ended" or (call_sid and record.call_sid not in (None, call_sid)):
        return
    live = app[LIVE].get(record.session_id)
    if live is not None:
        await live.end(reason)  # session_ended, the end stored, the stream closed
    else:
        await storage.set_session_status(record.session_id, "ended", ended_at=datetime.now(UTC), end_reason=reason)
    log.info("twilio_call_ended", session_id=record.session_id, reason=reason)


async def status(request: web.Request) -> web.Response:
    """Call status callbacks (CallStatus) end the session once the call is over; stream status
    callbacks (StreamEvent) are logged. An outbound call's callback URL names its session."""
    form = await request.post()
    check_signature(request, public_base(request) + request.path_qs, form)
    call_sid = _field(form, "CallSid")
    structlog.contextvars.bind_contextvars(channel="twilio", call_id=call_sid)
    try:
        stream_event = _field(form, "StreamEvent")
        if stream_event is not None:
            level = log.warning if stream_event == "stream-error" else log.info
            level("twilio_stream_status", event=stream_event, error=_field(form, "StreamError"),
                  stream_sid=_field(form, "StreamSid"))
            return web.Response(status=204)
        call_status = _field(form, "CallStatus")
        log.info("twilio_call_status", status=call_status)
        reason = ENDED_CALL_STATUSES.get(call_status or "")
        if reason is not None:
            await end_call_session(request.app, request.query.get("session_id"), call_sid, reason)
        return web.Response(status=204)
    finally:
        structlog.contextvars.clear_contextvars()
