"""/v1/phone-numbers (admin, SPEC §7): which persona answers which dialled number.

A number is E.164 (`+15550100`, Twilio's `To`) or a SIP user part (`1000`, `support`: the
request-URI's user); `default` is the route for every number no other route names. A call to a
number with no route and no default route is turned away politely (gateway/routing.py).
"""

from datetime import UTC, datetime

from aiohttp import web

from agents.errors import Conflict, InvalidRequest, NotFound
from gateway.api.conversations import iso, json_body
from gateway.app_keys import STORAGE
from gateway.auth import authenticate_admin
from gateway.numbers import parse_number
from gateway.storage import RouteRecord

_FIELDS = {"number", "persona_id"}


def route_object(route: RouteRecord, names: dict[str, str]) -> dict:
    return {"number": route.number, "persona_id": route.persona_id, "persona_name": names.get(route.persona_id),
            "default": route.number == "default", "source": route.source, "created_at": iso(route.created_at)}


async def _names(request: web.Request) -> dict[str, str]:
    return {p.persona_id: p.name for p in await request.app[STORAGE].list_personas()}


async def _body(request: web.Request, required: set[str]) -> dict:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object")
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise InvalidRequest(f"unknown field {unknown[0]!r} (known: number, persona_id)", param=unknown[0])
    for name in sorted(required):
        if name not in body:
            raise InvalidRequest(f"{name} is required", param=name)
    return body


async def _persona_id(request: web.Request, value) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidRequest("persona_id must be a persona's id (see GET /v1/personas)", param="persona_id")
    if await request.app[STORAGE].get_persona(value) is None:
        raise NotFound(f"no persona {value!r} to route to (see GET /v1/personas)", param="persona_id")
    return value


async def _load(request: web.Request) -> RouteRecord:
    number = parse_number(request.match_info["number"])
    route = await request.app[STORAGE].get_route(number)
    if route is None:
        raise NotFound(f"no route for {number!r}", param="number")
    return route


def _writable(route: RouteRecord) -> None:
    if route.source == "config":
        raise Conflict(f"the route for {route.number!r} is declared in the configuration file: change it there",
                       param="number")


async def create_route(request: web.Request) -> web.Response:
    storage = request.app[STORAGE]
    await authenticate_admin(request, storage, "routing numbers")
    body = await _body(request, {"number", "persona_id"})
    number = parse_number(body["number"])
    persona_id = await _persona_id(request, body["persona_id"])
    route = RouteRecord(number, persona_id, datetime.now(UTC))
    if not await storage.add_route(route):
        existing = await storage.get_route(number)
        if existing is None:  # the persona went away in between
            raise NotFound(f"no persona {persona_id!r} to route to", param="persona_id")
        raise Conflict(f"{number!r} is already routed to persona {existing.persona_id!r}; delete that route or "
                       f"PATCH /v1/phone-numbers/{number} to re-point it", param="number")
    return web.json_response(route_object(route, await _names(request)), status=201)


async def list_routes(request: web.Request) -> web.Response:
    storage = request.app[STORAGE]
    await authenticate_admin(request, storage, "routing numbers")
    names = await _names(request)
    return web.json_response({"phone_numbers": [route_object(r, names) for r in await storage.list_routes()]})


async def get_route(request: web.Request) -> web.Response:
    await authenticate_admin(request, request.app[STORAGE], "routing numbers")
    route = await _load(request)
    return web.json_response(route_object(route, await _names(request)))


async def update_route(request: web.Request) -> web.Response:
    """PATCH {"persona_id"}: point the number at another persona (calls already running keep theirs)."""
    storage = request.app[STORAGE]
    await authenticate_admin(request, storage, "routing numbers")
    route = await _load(request)
    _writable(route)
    body = await _body(request, {"persona_id"})
    if "number" in body and parse_number(body["number"]) != route.number:
        raise InvalidRequest("a route's number cannot change: create a new route", param="number")
    persona_id = await _persona_id(request, body["persona_id"])
    if not await storage.update_route(route.number, persona_id):
        raise NotFound(f"no route for {route.number!r}", param="number")
    updated = RouteRecord(route.number, persona_id, route.created_at, route.source)
    return web.json_response(route_object(updated, await _names(request)))


async def delete_route(request: web.Request) -> web.Response:
    storage = request.app[STORAGE]
    await authenticate_admin(request, storage, "routing numbers")
    route = await _load(request)
    _writable(route)
    if not await storage.delete_route(route.number):
        raise NotFound(f"no route for {route.number!r}", param="number")
    return web.json_response({"number": route.number, "deleted": True})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/phone-numbers", create_route)
    app.router.add_get("/v1/phone-numbers", list_routes)
    app.router.add_get("/v1/phone-numbers/{number}", get_route)
    app.router.add_patch("/v1/phone-numbers/{number}", update_route)
    app.router.add_delete("/v1/phone-numbers/{number}", delete_route)
