"""Personas and routes declared in the TOML configuration, brought into storage at start-up (SPEC §7)."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import structlog
from aiohttp import web

from gateway.app_keys import CONFIG, STORAGE
from gateway.config import Config, ConfigError
from gateway.numbers import DEFAULT_ROUTE, parse_number
from gateway.storage import PersonaRecord, RouteRecord, Storage

log = structlog.get_logger(__name__)


def configured(config: Config) -> tuple[list[PersonaRecord], list[RouteRecord]]:
    """The [personas.<id>] tables as records (`name` defaults to the id) and the routes they and
    [routing] default_persona declare. Numbers were checked when the configuration was loaded."""
    now = datetime.now(UTC)
    personas, routes = [], []
    for persona_id, table in config.personas.items():
        fields = {k: v for k, v in table.items() if k not in ("name", "numbers")}
        personas.append(PersonaRecord(persona_id, str(table.get("name", persona_id)), fields, now, now, "config"))
        routes += [RouteRecord(parse_number(n), persona_id, now, "config") for n in table.get("numbers", [])]
    default = config.routing.default_persona
    if default is not None:
        routes.append(RouteRecord(DEFAULT_ROUTE, default, now, "config"))
    return personas, routes


async def sync(config: Config, storage: Storage) -> None:
    personas, routes = configured(config)
    default = config.routing.default_persona
    if default is not None and default not in config.personas and await storage.get_persona(default) is None:
        raise ConfigError(f"invalid setting routing.default_persona (PARLEY_ROUTING_DEFAULT_PERSONA): no persona "
                          f"{default!r} (declare it as [personas.{default}] or create it through the API)")
    replaced = await storage.sync_config(personas, routes)
    if replaced:
        log.warning("routes_replaced_by_config", numbers=replaced)
    if personas or routes:
        log.info("config_personas_loaded", personas=[p.persona_id for p in personas],
                 routes={r.number: r.persona_id for r in routes})


async def config_sync_ctx(app: web.Application) -> AsyncIterator[None]:
    """After storage opens: the file's personas and routes replace the file's previous ones."""
    await sync(app[CONFIG], app[STORAGE])
    yield
