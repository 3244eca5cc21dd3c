"""The web console at /console (SPEC §7): plain HTML, CSS and ES modules shipped inside the package, served by
the gateway itself. It signs in with an admin key and uses the same public API as any client; nothing
here bypasses the API's checks."""

from pathlib import Path

from aiohttp import web

from gateway.errors import error_response

STATIC = Path(__file__).parent / "static"
# The console's pages load only its own files; API calls go to this same origin.
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
                               "connect-src 'self' ws: wss:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html", headers={**_HEADERS, "Content-Type": "text/html; charset=utf-8"})


async def redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound("/console/")


_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".html": "text/html; charset=utf-8"}


async def static(request: web.Request) -> web.StreamResponse:
    """One of the console's own files: a plain name in the static folder, nothing else."""
    name = request.match_info["name"]
    path = STATIC / name
    if "/" in name or name.startswith(".") or path.suffix not in _TYPES or not path.is_file():
        return error_response(404, "not_found", f"no such console file: {name}")
    return web.FileResponse(path, headers={**_HEADERS, "Content-Type": _TYPES[path.suffix]})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/console", redirect)
    app.router.add_get("/console/", index)
    app.router.add_get("/console/static/{name}", static)
