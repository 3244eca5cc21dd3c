"""PostgreSQL queries for personas and number routes (gateway/storage/admin.py), mixed into PostgresStorage."""

import json
from contextlib import AbstractAsyncContextManager
from typing import Protocol

import asyncpg

from gateway.storage.admin import PersonaRecord, RouteRecord

_PERSONA_COLUMNS = "persona_id, name, fields, source, created_at, updated_at"
_ROUTE_COLUMNS = "number, persona_id, source, created_at"
_CONFIG_SYNC_LOCK = 0x706572736F6E  # pg_advisory_xact_lock key: nodes starting together sync the config in turn


def _persona(row: asyncpg.Record) -> PersonaRecord:
    return PersonaRecord(row["persona_id"], row["name"], json.loads(row["fields"]), row["created_at"],
                         row["updated_at"], row["source"])


def _route(row: asyncpg.Record) -> RouteRecord:
    return RouteRecord(row["number"], row["persona_id"], row["created_at"], row["source"])


class _Connections(Protocol):
    def _connection(self, transaction: bool = False) -> AbstractAsyncContextManager[asyncpg.Connection]: ...

    async def _fetch(self, sql: str, *args) -> list[asyncpg.Record]: ...

    async def _fetchrow(self, sql: str, *args) -> asyncpg.Record | None: ...

    async def _execute(self, sql: str, *args) -> int: ...


async def _insert_persona(conn: asyncpg.Connection, persona: PersonaRecord, replace: bool = False) -> None:
    upsert = (" ON CONFLICT (persona_id) DO UPDATE SET name = excluded.name, fields = excluded.fields,"
              " source = excluded.source, updated_at = excluded.updated_at") if replace else ""
    await conn.execute(f"INSERT INTO personas ({_PERSONA_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6){upsert}",
                       persona.persona_id, persona.name, json.dumps(persona.fields), persona.source,
                       persona.created_at, persona.updated_at)


class AdminTables:
    """Persona and route queries over PostgresStorage's pooled connections."""

    async def add_persona(self: _Connections, persona: PersonaRecord) -> bool:
        try:
            async with self._connection() as conn:
                await _insert_persona(conn, persona)
        except asyncpg.UniqueViolationError:
            return False
        return True

    async def get_persona(self: _Connections, persona_id: str) -> PersonaRecord | None:
        row = await self._fetchrow(f"SELECT {_PERSONA_COLUMNS} FROM personas WHERE persona_id = $1", persona_id)
        return _persona(row) if row else None

    async def list_personas(self: _Connections) -> list[PersonaRecord]:
        rows = await self._fetch(f"SELECT {_PERSONA_COLUMNS} FROM personas ORDER BY created_at, persona_id")
        return [_persona(row) for row in rows]

    async def update_persona(self: _Connections, persona: PersonaRecord) -> bool:
        changed = await self._execute("UPDATE personas SET name = $1, fields = $2, updated_at = $3"
                                      " WHERE persona_id = $4", persona.name, json.dumps(persona.fields),
                                      persona.updated_at, persona.persona_id)
        return changed == 1

    async def delete_persona(self: _Connections, persona_id: str) -> bool:
        try:
            return await self._execute("DELETE FROM personas WHERE persona_id = $1", persona_id) == 1
        except asyncpg.ForeignKeyViolationError:  # a route still names it
            return False

    async def add_route(self: _Connections, route: RouteRecord) -> bool:
        try:
            await self._execute(f"INSERT INTO routes ({_ROUTE_COLUMNS}) VALUES ($1, $2, $3, $4)",
                                route.number, route.persona_id, route.source, route.created_at)
        except asyncpg.IntegrityConstraintViolationError:  # the number is taken, or no such persona
            return False
        return True

    async def get_route(self: _Connections, number: str) -> RouteRecord | None:
        row = await self._fetchrow(f"SELECT {_ROUTE_COLUMNS} FROM routes WHERE number = $1", number)
        return _route(row) if row else None

    async def find_route(self: _Connections, numbers: list[str]) -> RouteRecord | None:
        if not numbers:
            return None
        rows = await self._fetch(f"SELECT {_ROUTE_COLUMNS} FROM routes WHERE number = ANY($1::text[])", numbers)
        by_number = {row["number"]: row for row in rows}
        for number in numbers:  # the first of `numbers` that has a route, as asked
            if number in by_number:
                return _route(by_number[number])
        return None

    async def list_routes(self: _Connections) -> list[RouteRecord]:
        return [_route(row) for row in await self._fetch(f"SELECT {_ROUTE_COLUMNS} FROM routes ORDER BY number")]

    async def update_route(self: _Connections, number: str, persona_id: str) -> bool:
        try:
            return await self._execute("UPDATE routes SET persona_id = $1 WHERE number = $2", persona_id, number) == 1
        except asyncpg.ForeignKeyViolationError:
            return False

    async def delete_route(self: _Connections, number: str) -> bool:
        return await self._execute("DELETE FROM routes WHERE number = $1", number) == 1

    async def sync_config(self: _Connections, personas: list[PersonaRecord], routes: list[RouteRecord]) -> list[str]:
        claimed = [r.number for r in routes]
        ids = [p.persona_id for p in personas]
        async with self._connection(transaction=True) as conn:
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _CONFIG_SYNC_LOCK)
            replaced = [row["number"] for row in await conn.fetch(
                "SELECT number FROM routes WHERE source = 'api' AND number = ANY($1::text[]) ORDER BY number",
                claimed)]
            await conn.execute("DELETE FROM routes WHERE source = 'config' OR number = ANY($1::text[])", claimed)
            # A persona dropped from the file goes; one an API route still names stays, now the API's own.
            await conn.execute("DELETE FROM personas WHERE source = 'config' AND NOT (persona_id = ANY($1::text[]))"
                               " AND persona_id NOT IN (SELECT persona_id FROM routes)", ids)
            await conn.execute("UPDATE personas SET source = 'api' WHERE source = 'config'"
                               " AND NOT (persona_id = ANY($1::text[]))", ids)
            for persona in personas:
                await _insert_persona(conn, persona, replace=True)
            for route in routes:
                await conn.execute(f"INSERT INTO routes ({_ROUTE_COLUMNS}) VALUES ($1, $2, $3, $4)",
                                   route.number, route.persona_id, route.source, route.created_at)
        return replaced

