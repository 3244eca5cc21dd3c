"""GET /healthz: 503 until the models are loaded and a call can be taken, then 200 {"status": "ok"}."""

from aiohttp import web

from gateway.app_keys import MODELS


async def healthz(request: web.Request) -> web.Response:
    models = request.app[MODELS]
    if models.ready.is_set():
        return web.json_response({"status": "ok"})
    body = {"status": models.status}
    if models.error:
        body["error"] = models.error
    return web.json_response(body, status=503)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
