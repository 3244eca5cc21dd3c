"""The admin side (SPEC §7): personas, number routes, recordings and the live view, admin keys only."""

from aiohttp import web

from gateway import console
from gateway.admin import live, personas, phone_numbers, recordings_api
from gateway.admin.config_sync import config_sync_ctx
from gateway.app_keys import CONFIG, MONITOR, RECORDINGS
from gateway.monitor import Monitor
from gateway.recordings import Recordings


async def _end_live_feeds(app: web.Application) -> None:
    app[MONITOR].close()


def setup(app: web.Application) -> None:
    """Add the admin routes and start-up work; call after the storage cleanup context is added."""
    app[MONITOR] = Monitor()
    app[RECORDINGS] = Recordings(app[CONFIG].resolved_data_dir / "recordings")
    app.cleanup_ctx.append(config_sync_ctx)
    app.on_shutdown.append(_end_live_feeds)
    personas.add_routes(app)
    phone_numbers.add_routes(app)
    live.add_routes(app)
    recordings_api.add_routes(app)
    console.add_routes(app)
