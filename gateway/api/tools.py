"""GET /v1/tools (admin, SPEC §7): the installed tool handlers, built-ins included, with their descriptions and schemas.

These are what a session's `tools` may name without a `url`; a declaration that only
names one (`{"name": "end_call"}`) takes the description and parameters listed here.
"""

from aiohttp import web

from agents.errors import Forbidden
from gateway.api.conversations import loaded_models
from gateway.app_keys import STORAGE
from gateway.auth import authenticate


async def list_tools(request: web.Request) -> web.Response:
    key = await authenticate(request, request.app[STORAGE])
    if not key.admin:
        raise Forbidden("listing the installed tools needs an admin key")
    registry = loaded_models(request).registry
    tools = [{**registry.describe(name), "builtin": registry.is_builtin(name)} for name in registry.names()]
    return web.json_response({"tools": tools})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/v1/tools", list_tools)
