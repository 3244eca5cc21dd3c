"""GET /healthz: 503 until the models are loaded and a call can be taken, then 200 {"status": "ok"}; 503
{"status": "draining"} again once a drain has begun (gateway/draining.py).

Once loaded it also says how each part is doing ("providers": asr, llm, tts). A part on a model server whose
latest request failed makes the status "degraded", still 200: every node shares that server, so taking this
one out of a load balancer would not help its callers, who hear an apology meanwhile."""

from aiohttp import web

from gateway.app_keys import DRAINING, MODELS
from gateway.models import provider_health


async def healthz(request: web.Request) -> web.Response:
    models = request.app[MODELS]
    if request.app[DRAINING].is_set():  # finishing its live calls: send new ones elsewhere
        return web.json_response({"status": "draining"}, status=503)
    if models.ready.is_set():
        providers = provider_health(models)
        status = "ok" if all(p["status"] == "ok" for p in providers.values()) else "degraded"
        return web.json_response({"status": status, "providers": providers} if providers else {"status": status})
    body = {"status": models.status}
    if models.error:
        body["error"] = models.error
    return web.json_response(body, status=503)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
