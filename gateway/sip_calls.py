"""SIP calls as sessions: the user agent's life in a cleanup_ctx, INVITEs routed to personas, calls placed.

An INVITE's request-URI user part (the dialled number or extension) goes
through the same routing as Twilio's `To` (gateway/routing.py): a persona's
settings, or 404 for a number nothing routes (503 while models load or the
worker drains; OPTIONS probes get the same 503 then, sip/availability.py). The
call is answered, and once the caller's ACK and audio are in, the session
runs on the call (gateway/call_session.py): the greeting plays, BYE from the
caller ends the session, the session's end (end_call, idle timeout, DELETE)
sends BYE. POST /v1/calls with "channel": "sip" places an INVITE through
the same agent (SipDialer) and runs the session the same way once answered.
"""

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import structlog
from aiohttp import web

from agents.errors import InvalidRequest
from agents.session import History
from gateway import __version__
from gateway.api.calls import CallFailed
from gateway.app_keys import CONFIG, DIALERS, DRAINING, METRICS, MODELS, SIP_AGENT, STORAGE
from gateway.call_session import LiveSession, phone_session_record
from gateway.routing import route_call
from gateway.storage import SessionRecord
from sip.door import SipCall
from sip.ua import SipError, UserAgent
from sip.uri import dial_uri

log = structlog.get_logger(__name__)

_CALLS = web.AppKey("sip_calls", set)  # the tasks running SIP calls, awaited at shutdown
_PJSIP_LOG_LEVELS = {"debug": 4, "info": 2, "warning": 2, "error": 1}  # pjsip's info level is a line per packet
_SHUTDOWN_S = 8.0  # calls get this long to hang up and store their end


async def _carry(app: web.Application, call: SipCall, record: SessionRecord) -> None:
    """Run the stored session `record` on `call` from the moment it connects until either side ends it."""
    if not await call.connected():  # refused, unanswered, cancelled, or our answer never acknowledged
        log.info("sip_call_not_connected", status_code=call.status_code, reason=call.reason)
        await app[STORAGE].set_session_status(record.session_id, "ended", ended_at=datetime.now(UTC),
                                              end_reason="hangup")
        return
    live = LiveSession(app, record, call)
    try:
        call.attach(await live.start(History()))
        await call.ended.wait()
    finally:
        await live.stop("hangup")


async def _answer(app: web.Application, call: SipCall) -> None:
    """One incoming call, from routing to the end of its session."""
    log.info("sip_incoming", called=call.called, caller=call.caller)
    if (unavailable := _unavailable(app)) is not None:
        await _refuse(app, call, 503, unavailable)
        return
    request = await route_call(app, call.called, "sip")
    if request is None:
        await _refuse(app, call, 404, "Not Found")
        return
    record = phone_session_record(request, "sip", call.caller, call.called, call.call_id)
    await app[STORAGE].create_session(record)
    structlog.contextvars.bind_contextvars(session_id=record.session_id)
    try:
        await call.answer()
        app[METRICS].sip_invite(200)
    except SipError as exc:  # the caller gave up (CANCEL) while we routed: _carry stores the end
        log.info("sip_call_gone", error=str(exc))
    await _carry(app, call, record)


def _unavailable(app: web.Application) -> str | None:
    """Why this worker takes no new call now (the reason phrase of its 503 to INVITE and OPTIONS), or None.
    Also read on the SIP thread, for each OPTIONS probe: flags only."""
    if not app[MODELS].ready.is_set():
        return "Starting Up"
    if app[DRAINING].is_set():
        return "Shutting Down"
    return None


async def _refuse(app: web.Application, call: SipCall, status_code: int, reason: str) -> None:
    app[METRICS].sip_invite(status_code)
    try:
        await call.reject(status_code, reason)
    except SipError as exc:  # already cancelled by the caller: nothing to refuse
        log.info("sip_call_gone", error=str(exc))


def _spawn(app: web.Application, call: SipCall, job, session_id: str | None = None) -> None:
    """Run `job` for `call` as a task of its own, with the call's ids on every log line."""

    async def run() -> None:
        structlog.contextvars.bind_contextvars(channel="sip", call_id=call.call_id)
        if session_id is not None:
            structlog.contextvars.bind_contextvars(session_id=session_id)
        try:
            await job
        except Exception:
            log.exception("sip_call_failed")
            if not call.ended.is_set():
                await call.disconnect("internal error")

    task = asyncio.create_task(run(), name=f"sip-{call.call_id}")
    app[_CALLS].add(task)
    task.add_done_callback(app[_CALLS].discard)


class SipDialer:
    """app[DIALERS]["sip"]: POST /v1/calls with a sip: URI (or a number, through the registrar)."""

    def __init__(self, app: web.Application, agent: UserAgent) -> None:
        self.app = app
        self.agent = agent

    def check(self, to: str, from_: str | None) -> None:
        if not to.lower().startswith(("sip:", "sips:")) and not self.agent.domain:
            raise InvalidRequest("a phone number needs a trunk to be dialled through: set [sip] registrar, "
                                 "or call a sip: URI", param="to")

    async def dial(self, request: web.Request, session: SessionRecord, to: str, from_: str | None) -> str:
        domain = self.agent.domain or self.agent.host
        from_uri = None if from_ is None else dial_uri(from_, domain)
        try:
            call = await self.agent.dial(dial_uri(to, domain), from_uri)
        except SipError as exc:
            raise CallFailed(f"the SIP call to {to} could not be placed: {exc}") from None
        _spawn(self.app, call, _carry(self.app, call, session), session.session_id)
        return call.call_id


async def sip_ctx(app: web.Application) -> AsyncIterator[None]:
    """The SIP user agent, when [sip] port is set: started with the app, stopped (calls hung up) with it."""
    config = app[CONFIG]
    if config.sip.port is None:
        yield
        return
    options = dataclasses.replace(config.sip, bind_address=config.sip.bind_address or config.server.host)
    app[_CALLS] = set()
    agent = UserAgent(options, lambda call: _spawn(app, call, _answer(app, call)), user_agent=f"Parley/{__version__}",
                      pjsip_log_level=_PJSIP_LOG_LEVELS.get(config.log.level, 2),
                      on_rejected=app[METRICS].sip_invite, refusing=lambda: _unavailable(app))
    try:
        await agent.start()
    except SipError as exc:  # a port in use, an address not ours: the command line says so and exits
        raise OSError(f"SIP: {exc}") from None
    app[SIP_AGENT] = agent
    app[DIALERS]["sip"] = SipDialer(app, agent)
    yield
    app[DIALERS].pop("sip", None)
    for call in list(agent.doors.values()):
        asyncio.ensure_future(call.disconnect("server shutting down"))
    tasks = list(app[_CALLS])
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=_SHUTDOWN_S)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    await agent.stop()
