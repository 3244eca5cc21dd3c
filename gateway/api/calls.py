"""POST /v1/calls (admin): call someone with a persona (SPEC §6), on any channel that has a dialer.

A channel's door registers a Dialer under app[DIALERS][channel] ("twilio", "sip");
this endpoint checks the request, makes the session from the persona (channel,
caller = `from`, called = `to`) and asks the dialer to place the call. The session
then runs, and ends, as an inbound call's does.

    {"to": "+15551234567" | "sip:alice@pbx", "persona_id": "...", "from": "+15550100",
     "channel": "twilio" | "sip", "metadata": {...}}
    -> 201 {"call_id", "session_id", "status": "dialing"}
"""

from datetime import UTC, datetime
from typing import Protocol

import structlog
from aiohttp import web

from agents.errors import InvalidRequest, NotFound, ParleyError
from agents.tools.builtins import is_transfer_target
from gateway.api.conversations import json_body, loaded_models
from gateway.app_keys import DIALERS, STORAGE
from gateway.auth import authenticate_admin
from gateway.call_session import phone_session_record
from gateway.draining import refuse_new_calls
from gateway.routing import persona_request
from gateway.storage import SessionRecord

log = structlog.get_logger(__name__)

CHANNELS = ("twilio", "sip")
_FIELDS = {"to", "persona_id", "from", "channel", "metadata"}
MAX_FROM_CHARS = 64


class ChannelUnavailable(ParleyError):
    """No dialer for the channel on this gateway (SIP not running, Twilio not configured)."""

    status = 503

    def __init__(self, channel: str, message: str) -> None:
        super().__init__(message, param="channel")
        self.code = f"{channel}_not_configured"


class CallFailed(ParleyError):
    """The channel could not place the call (its provider unreachable or refusing)."""

    code, status = "call_failed", 502


class Dialer(Protocol):
    """Places outbound calls on one channel (registered as app[DIALERS][channel])."""

    def check(self, to: str, from_: str | None) -> None:
        """Raise a ParleyError if this call cannot be placed (channel not configured, `from` missing)."""

    async def dial(self, request: web.Request, session: SessionRecord, to: str, from_: str | None) -> str:
        """Start calling `to` for the stored, `ready` session; return the call's id. The session runs once
        the callee answers. Raise ParleyError (e.g. CallFailed) if the call could not be placed."""


def _parse(body) -> tuple[str, str, str | None, str, dict | None]:
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object")
    unknown = set(body) - _FIELDS
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidRequest(f"unknown field {name!r} (known: {', '.join(sorted(_FIELDS))})", param=name)
    to = body.get("to")
    if not isinstance(to, str) or len(to) > 256 or not is_transfer_target(to.strip()):
        raise InvalidRequest("to must be an E.164 number such as +15551234567 or a sip: URI", param="to")
    persona_id = body.get("persona_id")
    if not isinstance(persona_id, str) or not persona_id.strip():
        raise InvalidRequest("persona_id is required: the persona that talks on the call", param="persona_id")
    from_ = body.get("from")
    if from_ is not None and (not isinstance(from_, str) or not from_.strip() or len(from_) > MAX_FROM_CHARS):
        raise InvalidRequest(f"from must be a number or SIP user of at most {MAX_FROM_CHARS} characters",
                             param="from")
    channel = body.get("channel", "twilio")
    if channel not in CHANNELS:
        raise InvalidRequest(f"channel must be one of {', '.join(CHANNELS)}, got {channel!r}", param="channel")
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidRequest("metadata must be a JSON object", param="metadata")
    return to.strip(), persona_id, from_.strip() if from_ else None, channel, metadata


async def place_call(request: web.Request) -> web.Response:
    storage = request.app[STORAGE]
    key = await authenticate_admin(request, storage, "placing calls")
    refuse_new_calls(request.app)
    to, persona_id, from_, channel, metadata = _parse(await json_body(request))
    dialer = request.app[DIALERS].get(channel)
    if dialer is None:
        raise ChannelUnavailable(channel, f"this gateway cannot place {channel} calls: the {channel} door is "
                                          "not running (see the README for its settings)")
    loaded_models(request)
    persona = await storage.get_persona(persona_id)
    if persona is None:
        raise NotFound(f"no persona {persona_id!r}", param="persona_id")
    dialer.check(to, from_)
    session = phone_session_record(persona_request(request.app, persona), channel, from_, to, None,
                                   owner_key_id=key.key_id, metadata=metadata)
    await storage.create_session(session)
    log.info("call_dialing", channel=channel, session_id=session.session_id, persona_id=persona_id, to=to)
    try:
        call_id = await dialer.dial(request, session, to, from_)
    except BaseException:
        await storage.set_session_status(session.session_id, "ended", ended_at=datetime.now(UTC), end_reason="error")
        raise
    await storage.set_call_sid(session.session_id, call_id)
    return web.json_response({"call_id": call_id, "session_id": session.session_id, "status": "dialing"},
                             status=201)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/calls", place_call)
