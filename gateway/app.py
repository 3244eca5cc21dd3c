"""create_app(config) -> web.Application: the one place where storage, models and routes are wired."""

import asyncio
from datetime import UTC, datetime, timedelta
from collections.abc import AsyncIterator

import structlog
from aiohttp import web

from agents.tools.webhook import WebhookClient
from gateway import admin, health
from gateway.api import calls, conversations, stream, tools
from gateway.app_keys import CONFIG, DIALERS, DRAINING, LIMITER, LIVE, METRICS, MODELS, RECORDINGS, STORAGE, WEBHOOKS
from gateway.auth import authenticate_admin
from gateway.config import Config
from gateway.errors import error_middleware
from gateway.limits import KeyLimiter
from gateway.metrics import Metrics
from gateway.models import Models, close_providers, load_models
from gateway.prompt_warmth import warm_prompts
from gateway.sip_calls import sip_ctx
from gateway.storage import storage_for
from gateway.stream_owners import stream_owners_ctx
from gateway.telemetry import tracing_ctx
from gateway.twilio import routes as twilio
from gateway.webhooks import secret_path, webhook_secret, wire_tools

log = structlog.get_logger(__name__)


async def _storage_ctx(app: web.Application) -> AsyncIterator[None]:
    storage = storage_for(app[CONFIG].resolved_database_url)
    await storage.open()
    app[STORAGE] = storage
    yield
    await storage.close()


async def _webhooks_ctx(app: web.Application) -> AsyncIterator[None]:
    """One HTTP client for every webhook tool call of the process, signing with the webhook secret."""
    config = app[CONFIG]
    client = WebhookClient(webhook_secret(config))
    if config.tools.webhook_secret is None:
        log.info("webhook_secret", path=str(secret_path(config)), show="parley webhook-secret")
    await client.start()
    app[WEBHOOKS] = client
    wire_tools(app)  # models passed in ready-made (tests); otherwise _load_models wires them
    yield
    await client.close()


async def _load_models(app: web.Application) -> None:
    await load_models(app[CONFIG], app[MODELS])
    # No await between the models turning ready and this: no call starts on an unwired engine.
    wire_tools(app)
    if app[MODELS].ready.is_set():
        await warm_prompts(app)  # the first call after a start-up must not find the LLM's cache cold


async def _models_ctx(app: web.Application) -> AsyncIterator[None]:
    # Load in the background: the server listens (and says 503) while models load.
    task = asyncio.create_task(_load_models(app), name="load_models")
    yield
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    await close_providers(app[MODELS])


async def _retention_ctx(app: web.Application) -> AsyncIterator[None]:
    """Purge sessions deleted more than `retention_days` ago, at start-up and then hourly."""

    async def purge_forever():
        while True:
            cutoff = datetime.now(UTC) - timedelta(days=app[CONFIG].sessions.retention_days)
            try:
                purged = await app[STORAGE].purge_deleted(cutoff)
                if purged:
                    log.info("sessions_purged", count=purged, deleted_before=cutoff.isoformat())
                # A recording goes with its session (gateway/recordings.py).
                swept = await app[RECORDINGS].sweep(app[STORAGE])
                if swept:
                    log.info("recordings_purged", count=swept)
            except Exception:
                log.exception("purge_failed")
            await asyncio.sleep(3600)

    task = asyncio.create_task(purge_forever(), name="retention")
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def _metrics(request: web.Request) -> web.Response:
    """GET /metrics: what they tell (personas, tools, call volumes) is the operator's, so an admin key."""
    await authenticate_admin(request, request.app[STORAGE], "reading metrics")
    return request.app[METRICS].response()


async def _close_streams(app: web.Application) -> None:
    # Shutdown: live calls get a clean close instead of a dropped socket.
    for live in list(app[LIVE].values()):
        await live.disconnect("server shutting down")


def create_app(config: Config, models: Models | None = None) -> web.Application:
    """The gateway application. `models` may be passed in to share loaded models (tests)."""
    app = web.Application(middlewares=[error_middleware], client_max_size=4 * 1024 * 1024)
    app[CONFIG] = config
    app[MODELS] = models or Models()
    app[LIVE] = {}
    app[DIALERS] = {}
    app[METRICS] = Metrics()
    app[DRAINING] = asyncio.Event()
    app[LIMITER] = KeyLimiter(config.limits.requests_per_minute)
    app.router.add_get("/metrics", _metrics)
    app.cleanup_ctx.append(tracing_ctx)  # first in, last out: the calls' spans are ended before it flushes
    app.cleanup_ctx.append(_storage_ctx)
    app.cleanup_ctx.append(_retention_ctx)
    app.cleanup_ctx.append(_webhooks_ctx)
    app.cleanup_ctx.append(stream_owners_ctx)
    # After storage (its calls store their end as they hang up), before the models: a SIP port in use
    # stops start-up at once instead of after the models have loaded in vain.
    app.cleanup_ctx.append(sip_ctx)
    if models is None:
        app.cleanup_ctx.append(_models_ctx)
    app.on_shutdown.append(_close_streams)
    health.add_routes(app)
    conversations.add_routes(app)
    stream.add_routes(app)
    tools.add_routes(app)
    admin.setup(app)
    calls.add_routes(app)
    twilio.setup(app)
    return app
