"""The admin side (SPEC §7): personas, number routes, recordings and the live event feed, admin keys only."""

from aiohttp import web

from gateway.admin import personas, phone_numbers
from gateway.admin.config_sync import config_sync_ctx


def setup(app: web.Application) -> None:
    """Add the admin routes and start-up work; call after the storage cleanup context is added."""
    app.cleanup_ctx.append(config_sync_ctx)
    personas.add_routes(app)
    phone_numbers.add_routes(app)
