"""SQLite storage (the embedded default) through aiosqlite, in WAL mode so `parley keys create` can write while a server runs."""

import asyncio
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from agents.ports import ToolCallRecord, TurnRecord
from gateway.storage.base import ApiKeyRecord, SessionPage, SessionRecord, StreamOwnership
from gateway.storage.cursor import decode_cursor
from gateway.storage.sqlite_admin import ADMIN_TABLES, AdminTables

# Each entry upgrades the schema by one version; never edit a released entry, append.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE api_keys (
        key_id TEXT PRIMARY KEY,
        name TEXT,
        admin INTEGER NOT NULL,
        key_hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );
    """,
    """
    CREATE TABLE sessions (
        session_id TEXT PRIMARY KEY,
        owner_key_id TEXT,
        status TEXT NOT NULL,
        channel TEXT NOT NULL,
        settings TEXT NOT NULL,
        metadata TEXT,
        stream_token_hash TEXT,
        persona_id TEXT,
        caller TEXT,
        called TEXT,
        total_turns INTEGER NOT NULL DEFAULT 0,
        last_turn_number INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        last_activity_at TEXT NOT NULL,
        started_at TEXT,
        ended_at TEXT,
        end_reason TEXT,
        deleted_at TEXT
    );
    CREATE INDEX sessions_newest ON sessions (created_at DESC, session_id DESC);
    CREATE TABLE turns (
        session_id TEXT NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
        number INTEGER NOT NULL,
        turn_id TEXT NOT NULL,
        role TEXT NOT NULL,
        text TEXT NOT NULL,
        timestamp TEXT NOT NULL,
        duration_ms INTEGER NOT NULL,
        latency_ms INTEGER,
        interrupted INTEGER NOT NULL DEFAULT 0,
        tool_calls TEXT NOT NULL DEFAULT '[]',
        endpoint_ms INTEGER,
        asr_ms INTEGER,
        llm_first_token_ms INTEGER,
        tts_first_audio_ms INTEGER,
        PRIMARY KEY (session_id, number)
    );
    """,
    """
    ALTER TABLE sessions ADD COLUMN call_sid TEXT;
    CREATE INDEX sessions_call_sid ON sessions (call_sid) WHERE call_sid IS NOT NULL;
    """,
    ADMIN_TABLES,
    "ALTER TABLE turns ADD COLUMN guarded INTEGER NOT NULL DEFAULT 0;",
    "ALTER TABLE turns ADD COLUMN answer_latency_ms INTEGER;",
    "ALTER TABLE sessions ADD COLUMN stream_owner TEXT;",
)


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class SQLiteStorage(AdminTables):
    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: aiosqlite.Connection | None = None
        self._writing = asyncio.Lock()

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("storage used before open()")
        return self._db

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self.path)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute("PRAGMA busy_timeout=5000")
        await self._db.execute("PRAGMA foreign_keys=ON")
        await self._migrate()

    async def _migrate(self) -> None:
        db = self.db
        await db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        async with db.execute("SELECT version FROM schema_version") as cur:
            row = await cur.fetchone()
        version = row[0] if row else 0
        if version > len(MIGRATIONS):
            raise RuntimeError(f"database {self.path} has schema {version}, newer than this Parley ({len(MIGRATIONS)})")
        for number in range(version, len(MIGRATIONS)):
            # BEGIN IMMEDIATE: two processes starting at once must not both migrate.
            await db.execute("BEGIN IMMEDIATE")
            async with db.execute("SELECT version FROM schema_version") as cur:
                row = await cur.fetchone()
            if (row[0] if row else 0) > number:
                await db.rollback()
                continue
            for statement in MIGRATIONS[number].split(";"):
                if statement.strip():
                    await db.execute(statement)
            await db.execute("DELETE FROM schema_version")
            await db.execute("INSERT INTO schema_version (version) VALUES (?)", (number + 1,))
            await db.commit()

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def add_api_key(self, key: ApiKeyRecord) -> None:
        async with self._write() as db:
            await db.execute(
                "INSERT INTO api_keys (key_id, name, admin, key_hash, prefix, created_at, revoked_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key.key_id, key.name, int(key.admin), key.key_hash, key.prefix, key.created_at.isoformat(),
                 key.revoked_at.isoformat() if key.revoked_at else None),
            )

    async def find_api_key(self, key_hash: str) -> ApiKeyRecord | None:
        async with self.db.execute(
            "SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL", (key_hash,)
        ) as cur:
            row = await cur.fetchone()
        return self._key(row) if row else None

    async def list_api_keys(self) -> list[ApiKeyRecord]:
        async with self.db.execute("SELECT * FROM api_keys ORDER BY created_at") as cur:
            return [self._key(row) for row in await cur.fetchall()]

    async def revoke_api_key(self, key_id: str, at: datetime) -> bool:
        async with self._write() as db:
            cur = await db.execute("UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL",
                                   (at.isoformat(), key_id))
        return cur.rowcount == 1

    @staticmethod
    def _key(row) -> ApiKeyRecord:
        key_id, name, admin, key_hash, prefix, created_at, revoked_at = row
        return ApiKeyRecord(key_id, name, bool(admin), key_hash, prefix, _dt(created_at), _dt(revoked_at))

    # -- sessions ------------------------------------------------------------------------------

    async def create_session(self, session: SessionRecord) -> None:
        async with self._write() as db:
            await db.execute(
                "INSERT INTO sessions (session_id, owner_key_id, status, channel, settings, metadata, stream_token_hash,"
                " persona_id, caller, called, call_sid, total_turns, last_turn_number, created_at, last_activity_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (session.session_id, session.owner_key_id, session.status, session.channel,
                 json.dumps(session.settings), json.dumps(session.metadata) if session.metadata is not None else None,
                 session.stream_token_hash, session.persona_id, session.caller, session.called, session.call_sid,
                 session.total_turns, session.last_turn_number, session.created_at.isoformat(),
                 session.last_activity_at.isoformat()),
            )

    async def get_session(self, session_id: str) -> SessionRecord | None:
        async with self.db.execute("SELECT * FROM sessions WHERE session_id = ?", (session_id,)) as cur:
            row = await cur.fetchone()
            return self._session(row, cur.description) if row else None

    async def find_session_by_call(self, call_sid: str) -> SessionRecord | None:
        async with self.db.execute(
            "SELECT * FROM sessions WHERE call_sid = ? ORDER BY created_at DESC LIMIT 1", (call_sid,)
        ) as cur:
            row = await cur.fetchone()
            return self._session(row, cur.description) if row else None

    async def set_call_sid(self, session_id: str, call_sid: str) -> None:
        async with self._write() as db:
            await db.execute("UPDATE sessions SET call_sid = ? WHERE session_id = ?", (call_sid, session_id))

    async def list_sessions(self, owner_key_id: str | None, status: str | None, persona_id: str | None,
                            limit: int, cursor: str | None, *, channel: str | None = None,
                            number: str | None = None) -> SessionPage:
        where, args = [], []
        if channel is not None:
            where.append("channel = ?")
            args.append(channel)
        if number is not None:
            where.append("(called = ? OR caller = ?)")
            args += [number, number]
        if owner_key_id is not None:
            where.append("owner_key_id = ?")
            args.append(owner_key_id)
        if status is not None:
            where.append("status = ?")
            args.append(status)
        if persona_id is not None:
            where.append("persona_id = ?")
            args.append(persona_id)
        if cursor is not None:
            created_at, session_id = decode_cursor(cursor)
            where.append("(created_at < ? OR (created_at = ? AND session_id < ?))")
            args += [created_at, created_at, session_id]
        sql = "SELECT * FROM sessions" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY created_at DESC, session_id DESC LIMIT ?"
        async with self.db.execute(sql, (*args, limit + 1)) as cur:
            return SessionPage.of([self._session(row, cur.description) for row in await cur.fetchall()], limit)

    async def set_session_status(self, session_id: str, status: str, *, started_at: datetime | None = None,
                                 ended_at: datetime | None = None, end_reason: str | None = None,
                                 deleted_at: datetime | None = None) -> None:
        iso = [d.isoformat() if d else None for d in (started_at, ended_at, deleted_at)]
        async with self._write() as db:
            await db.execute(
                "UPDATE sessions SET status = ?, started_at = COALESCE(started_at, ?), ended_at = COALESCE(ended_at, ?),"
                " end_reason = COALESCE(end_reason, ?), deleted_at = COALESCE(deleted_at, ?),"
                " last_activity_at = ? WHERE session_id = ?",
                (status, iso[0], iso[1], end_reason, iso[2], datetime.now(UTC).isoformat(), session_id),
            )

    async def save_turn(self, session_id: str, turn: TurnRecord) -> None:
        number = int(turn.turn_id.split("_", 1)[1])
        async with self._write() as db:
            await db.execute(
                "INSERT INTO turns (session_id, number, turn_id, role, text, timestamp, duration_ms, latency_ms,"
                " interrupted, tool_calls, endpoint_ms, asr_ms, llm_first_token_ms, tts_first_audio_ms, guarded,"
                " answer_latency_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (session_id, number, turn.turn_id, turn.role, turn.text, turn.timestamp.isoformat(), turn.duration_ms,
                 turn.latency_ms, int(turn.interrupted), json.dumps([c.to_wire() for c in turn.tool_calls]),
                 turn.endpoint_ms, turn.asr_ms, turn.llm_first_token_ms, turn.tts_first_audio_ms, turn.guarded,
                 turn.answer_latency_ms),
            )
            await db.execute(
                "UPDATE sessions SET total_turns = total_turns + 1, last_turn_number = MAX(last_turn_number, ?),"
                " last_activity_at = ? WHERE session_id = ?",
                (number, datetime.now(UTC).isoformat(), session_id),
            )

    async def list_turns(self, session_id: str) -> list[TurnRecord]:
        async with self.db.execute(
            "SELECT turn_id, role, text, timestamp, duration_ms, latency_ms, interrupted, tool_calls, endpoint_ms, asr_ms,"
            " llm_first_token_ms, tts_first_audio_ms, guarded, answer_latency_ms"
            " FROM turns WHERE session_id = ? ORDER BY number",
            (session_id,),
        ) as cur:
            rows = await cur.fetchall()
        return [
            TurnRecord(turn_id, role, text, datetime.fromisoformat(ts), duration_ms, latency_ms, bool(interrupted),
                       [ToolCallRecord(**c) for c in json.loads(calls)], endpoint_ms, asr_ms, llm_ms, tts_ms, guarded,
                       answer_ms)
            for (turn_id, role, text, ts, duration_ms, latency_ms, interrupted, calls, endpoint_ms, asr_ms, llm_ms,
                 tts_ms, guarded, answer_ms) in rows
        ]

    async def take_stream(self, session_id: str, owner: str) -> None:
        async with self._write() as db:
            await db.execute("UPDATE sessions SET stream_owner = ? WHERE session_id = ?", (owner, session_id))

    async def check_streams(self, owners: Mapping[str, str]) -> dict[str, StreamOwnership]:
        found: dict[str, tuple] = {}
        ids = list(owners)
        for i in range(0, len(ids), 500):  # SQLite's limit on bound values is 32766 (999 before 3.32)
            chunk = ids[i:i + 500]
            async with self.db.execute("SELECT session_id, stream_owner, end_reason FROM sessions WHERE session_id "
                                       f"IN ({', '.join('?' * len(chunk))})", chunk) as cur:
                found.update((row[0], row[1:]) for row in await cur.fetchall())
        return {sid: StreamOwnership(sid in found and found[sid][0] == owner, found[sid][1] if sid in found else None)
                for sid, owner in owners.items()}

    async def release_stream(self, session_id: str, owner: str) -> None:
        async with self._write() as db:
            await db.execute("UPDATE sessions SET stream_owner = NULL WHERE session_id = ? AND stream_owner = ?",
                             (session_id, owner))

    async def purge_deleted(self, before: datetime) -> int:
        async with self._write() as db:
            cur = await db.execute(
                "DELETE FROM sessions WHERE deleted_at IS NOT NULL AND deleted_at < ?", (before.isoformat(),)
            )
        return cur.rowcount

    @staticmethod
    def _session(row, description) -> SessionRecord:
        values = dict(zip([d[0] for d in description], row))
        for name in ("created_at", "last_activity_at", "started_at", "ended_at", "deleted_at"):
            values[name] = _dt(values[name])
        values["settings"] = json.loads(values["settings"])
        values["metadata"] = json.loads(values["metadata"]) if values["metadata"] is not None else None
        return SessionRecord(**values)
