"""The web console at /console (SPEC §7): plain HTML, CSS and ES modules shipped inside the package, served by
the gateway itself. It signs in with an admin key and uses the same public API as any client; nothing
here bypasses the API's checks."""

from pathlib import Path

from aiohttp import web

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


@web.middleware
async def _static_headers(request: web.Request, handler):
    response = await handler(request)
    if request.path.startswith("/console/"):
        response.headers.update({k: v for k, v in _HEADERS.items() if k not in response.headers})
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_get("/console", redirect)
    app.router.add_get("/console/", index)
    app.router.add_static("/console/static/", STATIC, append_version=False)
    app.middlewares.append(_static_headers)
