"""create_app(config) -> web.Application: the one place where storage, models and routes are wired."""

import asyncio
from collections.abc import AsyncIterator

import structlog
from aiohttp import web

from gateway import health
from gateway.config import Config
from gateway.errors import error_middleware
from gateway.keys import CONFIG, MODELS, STORAGE
from gateway.models import Models, load_models
from gateway.storage import storage_for

log = structlog.get_logger(__name__)


async def _storage_ctx(app: web.Application) -> AsyncIterator[None]:
    storage = storage_for(app[CONFIG].resolved_database_url)
    await storage.open()
    app[STORAGE] = storage
    yield
    await storage.close()


async def _models_ctx(app: web.Application) -> AsyncIterator[None]:
    # Load in the background: the server listens (and says 503) while models load.
    task = asyncio.create_task(load_models(app[CONFIG], app[MODELS]), name="load_models")
    yield
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


def create_app(config: Config, models: Models | None = None) -> web.Application:
    """The gateway application. `models` may be passed in to share loaded models (tests)."""
    app = web.Application(middlewares=[error_middleware], client_max_size=4 * 1024 * 1024)
    app[CONFIG] = config
    app[MODELS] = models or Models()
    app.cleanup_ctx.append(_storage_ctx)
    if models is None:
        app.cleanup_ctx.append(_models_ctx)
    health.add_routes(app)
    return app
