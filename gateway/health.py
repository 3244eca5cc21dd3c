"""GET /healthz: 503 until the models are loaded and a call can be taken, then 200 {"status": "ok"}; 503
{"status": "draining"} again once a drain has begun (gateway/draining.py)."""

from aiohttp import web

from gateway.app_keys import DRAINING, MODELS


async def healthz(request: web.Request) -> web.Response:
    models = request.app[MODELS]
    if request.app[DRAINING].is_set():  # finishing its live calls: send new ones elsewhere
        return web.json_response({"status": "draining"}, status=503)
    if models.ready.is_set():
        return web.json_response({"status": "ok"})
    body = {"status": models.status}
    if models.error:
        body["error"] = models.error
    return web.json_response(body, status=503)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
