"""Which persona answers a call: the dialled number (E.164 for Twilio, the SIP request-URI user part) -> the
persona routed to it, or the default route -> that persona's session settings (SPEC §6, §7).

Doors call `route_call` once per incoming call and create the session from what it returns; the
settings are a copy, so editing the persona later never changes a call already running.
"""

import re

import structlog
from aiohttp import web

from agents.errors import InvalidRequest
from gateway.api.validation import CreateRequest, parse_create
from gateway.keys import CONFIG, MODELS

log = structlog.get_logger(__name__)

DEFAULT_ROUTE = "default"  # the route for numbers no other route names
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_SIP_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~*#+-]{0,63}$")
_SEPARATORS = re.compile(r"[\s().-]")
PERSONA_ONLY = ("name", "numbers")  # persona fields that are not session settings


def normalise_number(value: str) -> str:
    """"+1 (555) 010-0" -> "+15550100"; a SIP user part such as "support" or "1000" is kept as it is."""
    value = value.strip()
    if value.startswith("+"):
        return _SEPARATORS.sub("", value)
    return value


def parse_number(value, param: str = "number") -> str:
    """A route's number: E.164 (+15550100, separators allowed), a SIP user part (1000, support), or "default"."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"{param} must be an E.164 number such as +15550100, a SIP user part such as 1000, "
                             f"or {DEFAULT_ROUTE!r}", param=param)
    number = normalise_number(value)
    if number.startswith("+"):
        if not _E164.match(number):
            raise InvalidRequest(f"{param} {value!r} is not an E.164 number (+, country code, up to 15 digits)",
                                 param=param)
        return number
    if not _SIP_USER.match(number):
        raise InvalidRequest(f"{param} {value!r} is neither an E.164 number nor a SIP user part (letters, digits "
                             "and . _ ~ * # + -, at most 64)", param=param)
    return number


def number_candidates(called: str) -> list[str]:
    """The route keys a dialled number may be stored under: a PBX often drops the "+" of an E.164 number."""
    number = normalise_number(called)
    if number.startswith("+"):
        return [number, number[1:]]
    if number.isdigit():
        return [number, "+" + number]
    return [number]


def persona_request(app: web.Application, persona_id: str, fields: dict) -> CreateRequest:
    """A persona's fields checked as a session create would be (voices, languages and tools as loaded now)."""
    models = app[MODELS]
    body = {k: v for k, v in fields.items() if k not in PERSONA_ONLY}
    body["persona_id"] = persona_id
    return parse_create(body, models.voices, models.languages, models.registry, models.llm_models)


def _configured_route(app: web.Application, candidates: list[str]) -> str | None:
    """The persona the TOML configuration routes one of `candidates` to."""
    for persona_id, table in app[CONFIG].personas.items():
        numbers = {normalise_number(n) for n in table.get("numbers", [])}
        if any(c in numbers for c in candidates):
            return persona_id
    return None


async def _routed_persona(app: web.Application, called: str) -> str | None:
    candidates = number_candidates(called) if called.strip() else []
    return _configured_route(app, candidates) or app[CONFIG].routing.default_persona


async def _persona_fields(app: web.Application, persona_id: str) -> dict | None:
    table = app[CONFIG].personas.get(persona_id)
    return dict(table) if table is not None else None


async def route_call(app: web.Application, called: str, channel: str) -> CreateRequest | None:
    """The settings of the persona `called` is routed to (or the default route's); None = unrouted.

    `called`: the dialled number, E.164 for Twilio, the request-URI user part for SIP. `channel`:
    "twilio" or "sip" (for the log). The returned CreateRequest carries `persona_id`. A persona that
    no longer validates (a voice was removed from the configuration) is logged and treated as unrouted.
    """
    if not app[MODELS].ready.is_set():
        log.warning("call_not_routed", called=called, channel=channel, reason="models still loading")
        return None
    persona_id = await _routed_persona(app, called)
    if persona_id is None:
        log.info("call_not_routed", called=called, channel=channel, reason="no route")
        return None
    fields = await _persona_fields(app, persona_id)
    if fields is None:
        log.error("call_not_routed", called=called, channel=channel, persona_id=persona_id,
                  reason="the route names a persona that does not exist")
        return None
    try:
        request = persona_request(app, persona_id, fields)
    except InvalidRequest as exc:
        log.error("call_not_routed", called=called, channel=channel, persona_id=persona_id,
                  reason=f"the persona is invalid: {exc}")
        return None
    log.info("call_routed", called=called, channel=channel, persona_id=persona_id)
    return request
