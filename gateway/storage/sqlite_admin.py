"""SQLite tables for personas and number routes (gateway/storage/admin.py), mixed into SQLiteStorage."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import aiosqlite

from gateway.storage.admin import PersonaRecord, RouteRecord

# Appended to SQLiteStorage's MIGRATIONS (one schema version).
ADMIN_TABLES = """
    CREATE TABLE personas (
        persona_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        fields TEXT NOT NULL,
        source TEXT NOT NULL DEFAULT 'api',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE routes (
        number TEXT PRIMARY KEY,
        persona_id TEXT NOT NULL REFERENCES personas (persona_id),
        source TEXT NOT NULL DEFAULT 'api',
        created_at TEXT NOT NULL
    );
    CREATE INDEX routes_persona ON routes (persona_id);
    CREATE INDEX sessions_persona ON sessions (persona_id, created_at DESC);
"""


def _persona(row) -> PersonaRecord:
    persona_id, name, fields, source, created_at, updated_at = row
    return PersonaRecord(persona_id, name, json.loads(fields), datetime.fromisoformat(created_at),
                         datetime.fromisoformat(updated_at), source)


def _route(row) -> RouteRecord:
    number, persona_id, source, created_at = row
    return RouteRecord(number, persona_id, datetime.fromisoformat(created_at), source)


_PERSONA_COLUMNS = "persona_id, name, fields, source, created_at, updated_at"
_ROUTE_COLUMNS = "number, persona_id, source, created_at"


class AdminTables:
    """Persona and route queries; `db` is the open connection SQLiteStorage provides."""

    db: aiosqlite.Connection
    _writing: asyncio.Lock

    @asynccontextmanager
    async def _write(self, immediate: bool = False) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction at a time on the shared connection, committed at the end or rolled back.

        Requests, the retention purge and the config sync all write through one connection; without the
        lock one coroutine's commit would end another's half-done transaction, and a BEGIN would fail with
        "cannot start a transaction within a transaction" (seen on clean-clone CI runs). `immediate` takes
        the database's write lock up front, so two processes starting at once apply their work in turn.
        """
        async with self._writing:
            db = self.db
            if immediate:
                await db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                await db.rollback()
                raise
            await db.commit()

    async def _insert_persona(self, persona: PersonaRecord, replace: bool = False) -> None:
        # replace: an upsert, not INSERT OR REPLACE, which would delete the row routes refer to
        upsert = (" ON CONFLICT (persona_id) DO UPDATE SET name = excluded.name, fields = excluded.fields,"
                  " source = excluded.source, updated_at = excluded.updated_at") if replace else ""
        await self.db.execute(
            f"INSERT INTO personas ({_PERSONA_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?){upsert}",
            (persona.persona_id, persona.name, json.dumps(persona.fields), persona.source,
             persona.created_at.isoformat(), persona.updated_at.isoformat()),
        )

    async def add_persona(self, persona: PersonaRecord) -> bool:
        try:
            async with self._write():
                await self._insert_persona(persona)
        except aiosqlite.IntegrityError:
            return False
        return True

    async def get_persona(self, persona_id: str) -> PersonaRecord | None:
        async with self.db.execute(f"SELECT {_PERSONA_COLUMNS} FROM personas WHERE persona_id = ?",
                                   (persona_id,)) as cur:
            row = await cur.fetchone()
        return _persona(row) if row else None

    async def list_personas(self) -> list[PersonaRecord]:
        async with self.db.execute(f"SELECT {_PERSONA_COLUMNS} FROM personas ORDER BY created_at, persona_id") as cur:
            return [_persona(row) for row in await cur.fetchall()]

    async def update_persona(self, persona: PersonaRecord) -> bool:
        async with self._write() as db:
            cur = await db.execute(
                "UPDATE personas SET name = ?, fields = ?, updated_at = ? WHERE persona_id = ?",
                (persona.name, json.dumps(persona.fields), persona.updated_at.isoformat(), persona.persona_id),
            )
        return cur.rowcount == 1

    async def delete_persona(self, persona_id: str) -> bool:
        try:
            async with self._write() as db:
                cur = await db.execute("DELETE FROM personas WHERE persona_id = ?", (persona_id,))
        except aiosqlite.IntegrityError:  # a route still names it
            return False
        return cur.rowcount == 1

    async def add_route(self, route: RouteRecord) -> bool:
        try:
            async with self._write() as db:
                await db.execute(f"INSERT INTO routes ({_ROUTE_COLUMNS}) VALUES (?, ?, ?, ?)",
                                 (route.number, route.persona_id, route.source, route.created_at.isoformat()))
        except aiosqlite.IntegrityError:
            return False
        return True

    async def get_route(self, number: str) -> RouteRecord | None:
        return await self.find_route([number])

    async def find_route(self, numbers: list[str]) -> RouteRecord | None:
        for number in numbers:
            async with self.db.execute(f"SELECT {_ROUTE_COLUMNS} FROM routes WHERE number = ?", (number,)) as cur:
                row = await cur.fetchone()
            if row:
                return _route(row)
        return None

    async def list_routes(self) -> list[RouteRecord]:
        async with self.db.execute(f"SELECT {_ROUTE_COLUMNS} FROM routes ORDER BY number") as cur:
            return [_route(row) for row in await cur.fetchall()]

    async def update_route(self, number: str, persona_id: str) -> bool:
        try:
            async with self._write() as db:
                cur = await db.execute("UPDATE routes SET persona_id = ? WHERE number = ?", (persona_id, number))
        except aiosqlite.IntegrityError:
            return False
        return cur.rowcount == 1

    async def delete_route(self, number: str) -> bool:
        async with self._write() as db:
            cur = await db.execute("DELETE FROM routes WHERE number = ?", (number,))
        return cur.rowcount == 1

    async def sync_config(self, personas: list[PersonaRecord], routes: list[RouteRecord]) -> list[str]:
        async with self._write(immediate=True) as db:  # two gateways starting at once apply it one after the other
            claimed = [r.number for r in routes]
            marks = ",".join("?" * len(claimed))
            replaced = []
            if claimed:
                async with db.execute(f"SELECT number FROM routes WHERE source = 'api' AND number IN ({marks})",
                                      claimed) as cur:
                    replaced = [row[0] for row in await cur.fetchall()]
            await db.execute("DELETE FROM routes WHERE source = 'config'" + (f" OR number IN ({marks})" if claimed else ""),
                             claimed)
            ids = [p.persona_id for p in personas]
            keep = ",".join("?" * len(ids))
            # A persona dropped from the file goes; one an API route still names stays, now the API's own.
            dropped = " WHERE source = 'config'" + (f" AND persona_id NOT IN ({keep})" if ids else "")
            await db.execute("DELETE FROM personas" + dropped + " AND persona_id NOT IN (SELECT persona_id FROM routes)",
                             ids)
            await db.execute("UPDATE personas SET source = 'api'" + dropped, ids)
            for persona in personas:
                await self._insert_persona(persona, replace=True)
            for route in routes:
                await db.execute(f"INSERT INTO routes ({_ROUTE_COLUMNS}) VALUES (?, ?, ?, ?)",
                                 (route.number, route.persona_id, route.source, route.created_at.isoformat()))
        return replaced
