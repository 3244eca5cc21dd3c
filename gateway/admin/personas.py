"""/v1/personas (admin, SPEC §7): create, list, read, change and delete personas.

A persona is a named set of session fields (voice, prompt, language, greeting, tools, limits,
vad_threshold, llm settings, recording, vocabulary, asr model, noise suppression), checked exactly as POST /v1/conversations/create checks
them. Sessions copy a persona's settings when they start: editing it changes no running call.
Personas declared in the TOML configuration are listed with `"source": "config"` and are read-only.
"""

import re
import secrets
from datetime import UTC, datetime, timedelta

from aiohttp import web

from agents.errors import Conflict, InvalidRequest, NotFound, ParleyError
from gateway.api.conversations import iso, json_body, loaded_models
from gateway.app_keys import CONFIG, MODELS, STORAGE
from gateway.auth import authenticate_admin
from gateway.routing import persona_request
from gateway.storage import PersonaRecord

PERSONA_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_NAME_CHARS = 120
# What a persona shows for a field it does not set: the session defaults (SPEC §3).
DEFAULTS = {"language": "en", "greeting": None, "tools": [], "context_window": 50, "max_turns": None,
            "transfer_targets": [], "vad_threshold": None, "llm": {}, "recording": False, "metadata": None,
            "vocabulary": [], "asr": {}, "noise_suppression": False}


def persona_object(request: web.Request, persona: PersonaRecord, numbers: list[str]) -> dict:
    body = {"persona_id": persona.persona_id, "name": persona.name, **DEFAULTS, **persona.fields,
            "numbers": numbers, "source": persona.source,
            "created_at": iso(persona.created_at), "updated_at": iso(persona.updated_at)}
    if request.app[MODELS].ready.is_set():
        # A persona declared in the file is checked only now, against what is installed: say what is wrong.
        try:
            persona_request(request.app, persona)
        except ParleyError as exc:
            body["problem"] = exc.to_wire()["error"]
    return body


def _name(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest("name is required: a non-empty string", param="name")
    if len(value) > MAX_NAME_CHARS:
        raise InvalidRequest(f"name is longer than {MAX_NAME_CHARS} characters", param="name")
    return value.strip()


def _checked(request: web.Request, persona: PersonaRecord) -> PersonaRecord:
    """The persona if its fields make a valid session now (400 naming the field otherwise)."""
    if "persona_id" in persona.fields:
        raise InvalidRequest("persona_id is the persona's own id, not one of its fields", param="persona_id")
    loaded_models(request)  # voices and tools are known only once the models are in
    persona_request(request.app, persona)
    return persona


async def _numbers_by_persona(request: web.Request) -> dict[str, list[str]]:
    numbers: dict[str, list[str]] = {}
    for route in await request.app[STORAGE].list_routes():
        numbers.setdefault(route.persona_id, []).append(route.number)
    return numbers


async def _load(request: web.Request) -> PersonaRecord:
    persona_id = request.match_info["persona_id"]
    persona = await request.app[STORAGE].get_persona(persona_id)
    if persona is None:
        raise NotFound(f"no persona {persona_id!r}", param="persona_id")
    return persona


def _writable(persona: PersonaRecord) -> None:
    if persona.source == "config":
        raise Conflict(f"persona {persona.persona_id!r} is declared in the configuration file: change it there "
                       "(it is loaded at start-up)", param="persona_id")


async def create_persona(request: web.Request) -> web.Response:
    storage = request.app[STORAGE]
    await authenticate_admin(request, storage, "managing personas")
    body = await json_body(request)
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object")
    fields = {k: v for k, v in body.items() if k not in ("name", "persona_id")}
    persona_id = body.get("persona_id")
    if persona_id is None:
        persona_id = "per_" + secrets.token_hex(6)
    elif not isinstance(persona_id, str) or not PERSONA_ID.match(persona_id):
        raise InvalidRequest("persona_id must be 1-64 letters, digits, _ or -", param="persona_id")
    now = datetime.now(UTC)
    persona = _checked(request, PersonaRecord(persona_id, _name(body.get("name")), fields, now, now))
    if not await storage.add_persona(persona):
        raise Conflict(f"persona {persona_id!r} already exists", param="persona_id")
    return web.json_response(persona_object(request, persona, []), status=201)


async def list_personas(request: web.Request) -> web.Response:
    storage = request.app[STORAGE]
    await authenticate_admin(request, storage, "managing personas")
    numbers = await _numbers_by_persona(request)
    personas = await storage.list_personas()
    return web.json_response({"personas": [persona_object(request, p, numbers.get(p.persona_id, []))
                                           for p in personas]})


async def get_persona(request: web.Request) -> web.Response:
    await authenticate_admin(request, request.app[STORAGE], "managing personas")
    persona = await _load(request)
    numbers = await _numbers_by_persona(request)
    return web.json_response(persona_object(request, persona, numbers.get(persona.persona_id, [])))


async def update_persona(request: web.Request) -> web.Response:
    """PATCH: the fields given replace the persona's; a field set to null goes back to its default."""
    storage = request.app[STORAGE]
    await authenticate_admin(request, storage, "managing personas")
    persona = await _load(request)
    _writable(persona)
    body = await json_body(request)
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object")
    if "persona_id" in body and body["persona_id"] != persona.persona_id:
        raise InvalidRequest("a persona's persona_id cannot change", param="persona_id")
    fields = dict(persona.fields)
    for name, value in body.items():
        if name in ("name", "persona_id"):
            continue
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value
    name = _name(body["name"]) if "name" in body else persona.name
    updated = _checked(request, PersonaRecord(persona.persona_id, name, fields, persona.created_at,
                                              datetime.now(UTC), persona.source))
    if not await storage.update_persona(updated):
        raise NotFound(f"no persona {persona.persona_id!r}", param="persona_id")
    numbers = await _numbers_by_persona(request)
    return web.json_response(persona_object(request, updated, numbers.get(updated.persona_id, [])))


async def _live_sessions(request: web.Request, persona_id: str) -> list[str]:
    """Sessions of this persona that are on a call now: active, and heard from within the idle timeout
    (an `active` session left behind by a crashed node does not block anything forever)."""
    storage = request.app[STORAGE]
    idle_s = request.app[CONFIG].sessions.idle_timeout_s
    recent = datetime.now(UTC) - timedelta(seconds=idle_s) if idle_s > 0 else None
    page = await storage.list_sessions(None, "active", persona_id, 100, None)
    return [s.session_id for s in page.sessions if recent is None or s.last_activity_at >= recent]


async def delete_persona(request: web.Request) -> web.Response:
    """Refused (409) while numbers route to it or calls made from it are live; its past sessions stay."""
    storage = request.app[STORAGE]
    await authenticate_admin(request, storage, "managing personas")
    persona = await _load(request)
    _writable(persona)
    numbers = (await _numbers_by_persona(request)).get(persona.persona_id, [])
    if numbers:
        raise Conflict(f"numbers still route to persona {persona.persona_id!r}: {', '.join(numbers)}; delete or "
                       "re-point those routes first", param="persona_id")
    live = await _live_sessions(request, persona.persona_id)
    if live:
        raise Conflict(f"persona {persona.persona_id!r} has {len(live)} live call(s) ({', '.join(live[:5])}); "
                       "end them (DELETE /v1/conversations/{session_id}) or wait for them to finish",
                       param="persona_id")
    if not await storage.delete_persona(persona.persona_id):
        raise Conflict(f"persona {persona.persona_id!r} is still routed to", param="persona_id")
    return web.json_response({"persona_id": persona.persona_id, "deleted": True})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/personas", create_persona)
    app.router.add_get("/v1/personas", list_personas)
    app.router.add_get("/v1/personas/{persona_id}", get_persona)
    app.router.add_patch("/v1/personas/{persona_id}", update_persona)
    app.router.add_delete("/v1/personas/{persona_id}", delete_persona)
