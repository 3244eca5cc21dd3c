"""PostgreSQL storage through asyncpg and its connection pool: what several gateway nodes share.

Every method takes a connection from the pool for one statement or one transaction; nothing is held between
requests, so any node can serve any REST call. Schema versions are applied at start-up under an advisory
lock: nodes starting together migrate once, one after the other.
"""

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from urllib.parse import urlparse, urlunparse

import asyncpg

from agents.errors import InvalidRequest
from agents.ports import ToolCallRecord, TurnRecord
from gateway.storage.base import ApiKeyRecord, SessionPage, SessionRecord, StorageUnavailable, StreamOwnership
from gateway.storage.cursor import decode_cursor
from gateway.storage.postgres_admin import AdminTables

# Each entry upgrades the schema by one version; never edit a released entry, append.
# JSON, not JSONB: settings, metadata and persona fields come back with their keys in the order given.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE api_keys (
        key_id TEXT PRIMARY KEY,
        name TEXT,
        admin BOOLEAN NOT NULL,
        key_hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        revoked_at TIMESTAMPTZ
    );
    CREATE TABLE sessions (
        session_id TEXT PRIMARY KEY,
        owner_key_id TEXT,
        status TEXT NOT NULL,
        channel TEXT NOT NULL,
        settings JSON NOT NULL,
        metadata JSON,
        stream_token_hash TEXT,
        persona_id TEXT,
        caller TEXT,
        called TEXT,
        call_sid TEXT,
        total_turns INTEGER NOT NULL DEFAULT 0,
        last_turn_number INTEGER NOT NULL DEFAULT 0,
        created_at TIMESTAMPTZ NOT NULL,
        last_activity_at TIMESTAMPTZ NOT NULL,
        started_at TIMESTAMPTZ,
        ended_at TIMESTAMPTZ,
        end_reason TEXT,
        deleted_at TIMESTAMPTZ
    );
    CREATE INDEX sessions_newest ON sessions (created_at DESC, session_id DESC);
    CREATE INDEX sessions_call_sid ON sessions (call_sid) WHERE call_sid IS NOT NULL;
    CREATE INDEX sessions_persona ON sessions (persona_id, created_at DESC);
    CREATE INDEX sessions_deleted ON sessions (deleted_at) WHERE deleted_at IS NOT NULL;
    CREATE TABLE turns (
        session_id TEXT NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
        number INTEGER NOT NULL,
        turn_id TEXT NOT NULL,
        role TEXT NOT NULL,
        text TEXT NOT NULL,
        timestamp TIMESTAMPTZ NOT NULL,
        duration_ms INTEGER NOT NULL,
        latency_ms INTEGER,
        interrupted BOOLEAN NOT NULL DEFAULT FALSE,
        tool_calls JSON NOT NULL DEFAULT '[]',
        endpoint_ms INTEGER,
        asr_ms INTEGER,
        llm_first_token_ms INTEGER,
        tts_first_audio_ms INTEGER,
        guarded INTEGER NOT NULL DEFAULT 0,
        answer_latency_ms INTEGER,
        PRIMARY KEY (session_id, number)
    );
    CREATE TABLE personas (
        persona_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        fields JSON NOT NULL,
        source TEXT NOT NULL DEFAULT 'api',
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE routes (
        number TEXT PRIMARY KEY,
        persona_id TEXT NOT NULL REFERENCES personas (persona_id),
        source TEXT NOT NULL DEFAULT 'api',
        created_at TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX routes_persona ON routes (persona_id);
    """,
    "ALTER TABLE sessions ADD COLUMN stream_owner TEXT;",
)

_MIGRATION_LOCK = 0x7061726C6579  # pg_advisory_xact_lock key ("parley"): one node migrates at a time
# What "the database is not there" looks like: refused or dropped connections, a server shutting down or
# starting, a pool that could not hand out a connection in time.
_UNREACHABLE = (OSError, TimeoutError, asyncpg.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError)
_SESSION_COLUMNS = ("session_id, owner_key_id, status, settings, created_at, last_activity_at, channel, metadata,"
                    " stream_token_hash, persona_id, caller, called, call_sid, total_turns, last_turn_number,"
                    " started_at, ended_at, end_reason, deleted_at, stream_owner")


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parsed = urlparse(url)
    if parsed.password is None:
        return url
    netloc = parsed.netloc.rsplit("@", 1)
    user = parsed.username or ""
    return urlunparse(parsed._replace(netloc=f"{user}:***@{netloc[-1]}"))


def _session(row: asyncpg.Record) -> SessionRecord:
    values = dict(row)
    values["settings"] = json.loads(values["settings"])
    values["metadata"] = json.loads(values["metadata"]) if values["metadata"] is not None else None
    return SessionRecord(**values)


def _key(row: asyncpg.Record) -> ApiKeyRecord:
    return ApiKeyRecord(row["key_id"], row["name"], row["admin"], row["key_hash"], row["prefix"], row["created_at"],
                        row["revoked_at"])


class PostgresStorage(AdminTables):
    # No floor of idle connections: asyncpg would keep reconnecting to keep one during an outage (and log a
    # traceback each time); connections are made as requests need them and kept while in use.
    def __init__(self, url: str, min_connections: int = 0, max_connections: int = 10) -> None:
        # asyncpg takes postgresql:// and postgres://; SQLAlchemy-style postgresql+asyncpg:// is accepted too.
        scheme, rest = url.split("://", 1)
        self.url = f"{scheme.split('+', 1)[0]}://{rest}"
        self.min_connections = min_connections
        self.max_connections = max_connections
        self._pool: asyncpg.Pool | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("storage used before open()")
        return self._pool

    async def open(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(self.url, min_size=self.min_connections,
                                                   max_size=self.max_connections, command_timeout=30, timeout=10)
            await self._migrate()
        except (*_UNREACHABLE, asyncpg.PostgresError) as exc:
            await self.close()
            raise StorageUnavailable(f"cannot use PostgreSQL at {safe_url(self.url)}: {exc or type(exc).__name__}") \
                from None

    async def _migrate(self) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            version = await conn.fetchval("SELECT version FROM schema_version") or 0
            if version > len(MIGRATIONS):
                raise RuntimeError(f"database {safe_url(self.url)} has schema {version}, newer than this Parley"
                                   f" ({len(MIGRATIONS)})")
            for number in range(version, len(MIGRATIONS)):
                await conn.execute(MIGRATIONS[number])
            if version < len(MIGRATIONS):
                await conn.execute("DELETE FROM schema_version")
                await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", len(MIGRATIONS))

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    @asynccontextmanager
    async def _connection(self, transaction: bool = False) -> AsyncIterator[asyncpg.Connection]:
        """A pooled connection (in a transaction if asked); an unreachable server is StorageUnavailable."""
        try:
            async with self.pool.acquire() as conn:
                if transaction:
                    async with conn.transaction():
                        yield conn
                else:
                    yield conn
        except _UNREACHABLE as exc:
            raise StorageUnavailable(f"the database is unreachable: {exc or type(exc).__name__}") from exc

    async def _fetch(self, sql: str, *args) -> list[asyncpg.Record]:
        async with self._connection() as conn:
            return await conn.fetch(sql, *args)

    async def _fetchrow(self, sql: str, *args) -> asyncpg.Record | None:
        async with self._connection() as conn:
            return await conn.fetchrow(sql, *args)

    async def _execute(self, sql: str, *args) -> int:
        """Run one statement; how many rows it touched."""
        async with self._connection() as conn:
            status = await conn.execute(sql, *args)
        return int(status.rsplit(" ", 1)[-1]) if status[-1:].isdigit() else 0

    # -- keys ----------------------------------------------------------------------------------

    async def add_api_key(self, key: ApiKeyRecord) -> None:
        await self._execute(
            "INSERT INTO api_keys (key_id, name, admin, key_hash, prefix, created_at, revoked_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)",
            key.key_id, key.name, key.admin, key.key_hash, key.prefix, key.created_at, key.revoked_at)

    async def find_api_key(self, key_hash: str) -> ApiKeyRecord | None:
        row = await self._fetchrow("SELECT * FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL", key_hash)
        return _key(row) if row else None

    async def list_api_keys(self) -> list[ApiKeyRecord]:
        return [_key(row) for row in await self._fetch("SELECT * FROM api_keys ORDER BY created_at")]

    async def revoke_api_key(self, key_id: str, at: datetime) -> bool:
        return await self._execute("UPDATE api_keys SET revoked_at = $1 WHERE key_id = $2 AND revoked_at IS NULL",
                                   at, key_id) == 1

    # -- sessions ------------------------------------------------------------------------------

    async def create_session(self, session: SessionRecord) -> None:
        await self._execute(
            "INSERT INTO sessions (session_id, owner_key_id, status, channel, settings, metadata, stream_token_hash,"
            " persona_id, caller, called, call_sid, total_turns, last_turn_number, created_at, last_activity_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            session.session_id, session.owner_key_id, session.status, session.channel, json.dumps(session.settings),
            json.dumps(session.metadata) if session.metadata is not None else None, session.stream_token_hash,
            session.persona_id, session.caller, session.called, session.call_sid, session.total_turns,
            session.last_turn_number, session.created_at, session.last_activity_at)

    async def get_session(self, session_id: str) -> SessionRecord | None:
        row = await self._fetchrow(f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE session_id = $1", session_id)
        return _session(row) if row else None

    async def find_session_by_call(self, call_sid: str) -> SessionRecord | None:
        row = await self._fetchrow(f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE call_sid = $1"
                                   " ORDER BY created_at DESC LIMIT 1", call_sid)
        return _session(row) if row else None

    async def set_call_sid(self, session_id: str, call_sid: str) -> None:
        await self._execute("UPDATE sessions SET call_sid = $1 WHERE session_id = $2", call_sid, session_id)

    async def list_sessions(self, owner_key_id: str | None, status: str | None, persona_id: str | None,
                            limit: int, cursor: str | None, *, channel: str | None = None,
                            number: str | None = None) -> SessionPage:
        where: list[str] = []
        args: list = []

        def arg(value) -> str:
            args.append(value)
            return f"${len(args)}"

        for column, value in (("channel", channel), ("owner_key_id", owner_key_id), ("status", status),
                              ("persona_id", persona_id)):
            if value is not None:
                where.append(f"{column} = {arg(value)}")
        if number is not None:
            mark = arg(number)
            where.append(f"(called = {mark} OR caller = {mark})")
        if cursor is not None:
            created_text, session_id = decode_cursor(cursor)
            try:
                created_at = datetime.fromisoformat(created_text)
            except ValueError:
                raise InvalidRequest("cursor is not one this server gave out", param="cursor") from None
            at, sid = arg(created_at), arg(session_id)
            where.append(f"(created_at < {at} OR (created_at = {at} AND session_id < {sid}))")
        sql = f"SELECT {_SESSION_COLUMNS} FROM sessions" + (" WHERE " + " AND ".join(where) if where else "")
        sql += f" ORDER BY created_at DESC, session_id DESC LIMIT {arg(limit + 1)}"
        return SessionPage.of([_session(row) for row in await self._fetch(sql, *args)], limit)

    async def set_session_status(self, session_id: str, status: str, *, started_at: datetime | None = None,
                                 ended_at: datetime | None = None, end_reason: str | None = None,
                                 deleted_at: datetime | None = None) -> None:
        await self._execute(
            "UPDATE sessions SET status = $1, started_at = COALESCE(started_at, $2), ended_at = COALESCE(ended_at, $3),"
            " end_reason = COALESCE(end_reason, $4), deleted_at = COALESCE(deleted_at, $5), last_activity_at = $6"
            " WHERE session_id = $7",
            status, started_at, ended_at, end_reason, deleted_at, datetime.now(UTC), session_id)

    async def save_turn(self, session_id: str, turn: TurnRecord) -> None:
        number = int(turn.turn_id.split("_", 1)[1])
        async with self._connection(transaction=True) as conn:
            await conn.execute(
                "INSERT INTO turns (session_id, number, turn_id, role, text, timestamp, duration_ms, latency_ms,"
                " interrupted, tool_calls, endpoint_ms, asr_ms, llm_first_token_ms, tts_first_audio_ms, guarded,"
                " answer_latency_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                session_id, number, turn.turn_id, turn.role, turn.text, turn.timestamp, turn.duration_ms,
                turn.latency_ms, turn.interrupted, json.dumps([c.to_wire() for c in turn.tool_calls]),
                turn.endpoint_ms, turn.asr_ms, turn.llm_first_token_ms, turn.tts_first_audio_ms, turn.guarded,
                turn.answer_latency_ms)
            await conn.execute(
                "UPDATE sessions SET total_turns = total_turns + 1, last_turn_number = GREATEST(last_turn_number, $1),"
                " last_activity_at = $2 WHERE session_id = $3",
                number, datetime.now(UTC), session_id)

    async def list_turns(self, session_id: str) -> list[TurnRecord]:
        rows = await self._fetch(
            "SELECT turn_id, role, text, timestamp, duration_ms, latency_ms, interrupted, tool_calls, endpoint_ms,"
            " asr_ms, llm_first_token_ms, tts_first_audio_ms, guarded, answer_latency_ms"
            " FROM turns WHERE session_id = $1 ORDER BY number", session_id)
        return [
            TurnRecord(row["turn_id"], row["role"], row["text"], row["timestamp"], row["duration_ms"],
                       row["latency_ms"], row["interrupted"],
                       [ToolCallRecord(**c) for c in json.loads(row["tool_calls"])], row["endpoint_ms"],
                       row["asr_ms"], row["llm_first_token_ms"], row["tts_first_audio_ms"], row["guarded"],
                       row["answer_latency_ms"])
            for row in rows
        ]

    async def take_stream(self, session_id: str, owner: str) -> None:
        await self._execute("UPDATE sessions SET stream_owner = $1 WHERE session_id = $2", owner, session_id)

    async def check_streams(self, owners: Mapping[str, str]) -> dict[str, StreamOwnership]:
        rows = await self._fetch("SELECT session_id, stream_owner, end_reason FROM sessions "
                                 "WHERE session_id = ANY($1::text[])", list(owners))
        found = {row["session_id"]: row for row in rows}
        return {sid: StreamOwnership(sid in found and found[sid]["stream_owner"] == owner,
                                     found[sid]["end_reason"] if sid in found else None)
                for sid, owner in owners.items()}

    async def release_stream(self, session_id: str, owner: str) -> None:
        await self._execute("UPDATE sessions SET stream_owner = NULL WHERE session_id = $1 AND stream_owner = $2",
                            session_id, owner)

    async def purge_deleted(self, before: datetime) -> int:
        return await self._execute("DELETE FROM sessions WHERE deleted_at IS NOT NULL AND deleted_at < $1", before)
