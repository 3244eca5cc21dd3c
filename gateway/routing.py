"""Which persona answers a call: the dialled number (E.164 for Twilio, the SIP request-URI user part) -> the
persona routed to it, or the default route -> that persona's session settings (SPEC §6, §7).

Doors call `route_call` once per incoming call and create the session from what it returns; the
settings are a copy, so editing the persona later never changes a call already running.
"""

import structlog
from aiohttp import web

from agents.errors import InvalidRequest
from gateway.api.validation import CreateRequest, parse_create
from gateway.app_keys import MODELS, STORAGE
from gateway.numbers import DEFAULT_ROUTE, normalise_number, number_candidates, parse_number
from gateway.storage.admin import PersonaRecord

log = structlog.get_logger(__name__)

__all__ = ["DEFAULT_ROUTE", "normalise_number", "number_candidates", "parse_number", "persona_request",
           "route_call", "routed_persona"]


def persona_request(app: web.Application, persona: PersonaRecord, overrides: dict | None = None) -> CreateRequest:
    """A session's settings from a persona (and a create request's `overrides` of its fields), checked as a
    session create is, against the voices, languages and tools loaded now. Raises InvalidRequest."""
    models = app[MODELS]
    body = {**persona.fields, **(overrides or {}), "persona_id": persona.persona_id}
    return parse_create(body, models.voices, models.languages, models.registry, models.llm_models,
                        models.asr_models)


async def routed_persona(app: web.Application, called: str) -> str | None:
    """The persona_id a call to `called` goes to: its own route, else the default route; None if neither.
    (Routes declared in the configuration are in storage too, synced at start-up.)"""
    storage = app[STORAGE]
    route = await storage.find_route(number_candidates(called)) or await storage.get_route(DEFAULT_ROUTE)
    return route.persona_id if route is not None else None


async def route_call(app: web.Application, called: str, channel: str) -> CreateRequest | None:
    """The settings of the persona `called` is routed to (or the default route's); None = unrouted.

    `called`: the dialled number, E.164 for Twilio, the request-URI user part for SIP. `channel`:
    "twilio" or "sip" (for the log). The returned CreateRequest carries `persona_id`. A persona that
    no longer validates (a voice was removed from the configuration) is logged and treated as unrouted.
    """
    if not app[MODELS].ready.is_set():
        log.warning("call_not_routed", called=called, channel=channel, reason="models still loading")
        return None
    persona_id = await routed_persona(app, called)
    if persona_id is None:
        log.info("call_not_routed", called=called, channel=channel, reason="no route")
        return None
    persona = await app[STORAGE].get_persona(persona_id)
    if persona is None:
        log.error("call_not_routed", called=called, channel=channel, persona_id=persona_id,
                  reason="the route names a persona that does not exist")
        return None
    try:
        request = persona_request(app, persona)
    except InvalidRequest as exc:
        log.error("call_not_routed", called=called, channel=channel, persona_id=persona_id,
                  reason=f"the persona is invalid: {exc}")
        return None
    log.info("call_routed", called=called, channel=channel, persona_id=persona_id)
    return request
