"""What the gateway needs from a database: records and the Storage protocol that SQLite and PostgreSQL implement."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from gateway.storage.admin import AdminStorage
from gateway.storage.cursor import encode_cursor


class StorageUnavailable(ConnectionError):
    """The database cannot be reached (a server down, a wrong address or password). At start-up the gateway
    says so and exits; while it runs, a request that needs the database gets 503, not a 500."""


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """An API key as stored: only its SHA-256 hash, never the key itself."""

    key_id: str
    name: str | None
    admin: bool
    key_hash: str
    prefix: str  # the first characters of the key, so an operator can tell keys apart
    created_at: datetime
    revoked_at: datetime | None = None


class KeyStorage(Protocol):
    """API keys."""

    async def add_api_key(self, key: ApiKeyRecord) -> None: ...

    async def find_api_key(self, key_hash: str) -> ApiKeyRecord | None:
        """The live (not revoked) key with this hash, if any."""

    async def list_api_keys(self) -> list[ApiKeyRecord]: ...

    async def revoke_api_key(self, key_id: str, at: datetime) -> bool:
        """Revoke a live key (refused from then on); False if there is no such live key."""


@dataclass(slots=True)
class SessionRecord:
    """A conversation session as stored. `settings` holds what create/persona decided (JSON-ready)."""

    session_id: str
    owner_key_id: str | None
    status: str  # ready | active | ended
    settings: dict
    created_at: datetime
    last_activity_at: datetime
    channel: str = "api"
    metadata: dict | None = None
    stream_token_hash: str | None = None
    persona_id: str | None = None
    caller: str | None = None
    called: str | None = None
    call_sid: str | None = None  # the telephony call carrying it (Twilio CallSid, SIP Call-ID)
    total_turns: int = 0
    last_turn_number: int = 0
    started_at: datetime | None = None  # first stream connected
    ended_at: datetime | None = None
    end_reason: str | None = None
    deleted_at: datetime | None = None
    stream_owner: str | None = None  # the live connection (on some node) carrying it, if any


@dataclass(frozen=True, slots=True)
class SessionPage:
    sessions: list[SessionRecord]
    next_cursor: str | None

    @classmethod
    def of(cls, fetched: list[SessionRecord], limit: int) -> "SessionPage":
        """A page from up to `limit + 1` sessions, newest first (one more than asked: is there a next page?)."""
        sessions = fetched[:limit]
        more = len(fetched) > limit
        return cls(sessions, encode_cursor(sessions[-1].created_at.isoformat(), sessions[-1].session_id) if more
                   else None)


@dataclass(frozen=True, slots=True)
class StreamOwnership:
    """What a live connection learns when it checks on its session."""

    owned: bool  # it still carries the session's stream (no newer connection took it over, on any node)
    end_reason: str | None  # the session was ended meanwhile (DELETE, a call status callback), maybe elsewhere


class SessionStorage(Protocol):
    """Sessions and their turns (the conversation engine's TurnStore is `save_turn`)."""

    async def create_session(self, session: SessionRecord) -> None: ...

    async def get_session(self, session_id: str) -> SessionRecord | None: ...

    async def find_session_by_call(self, call_sid: str) -> SessionRecord | None:
        """The newest session of the telephony call `call_sid`, if any."""

    async def set_call_sid(self, session_id: str, call_sid: str) -> None:
        """Bind a session to its call once the call exists (an outbound call's id comes after the session)."""

    async def list_sessions(self, owner_key_id: str | None, status: str | None, persona_id: str | None,
                            limit: int, cursor: str | None, *, channel: str | None = None,
                            number: str | None = None) -> SessionPage:
        """Newest first; `owner_key_id` None lists every owner's (admin); `number` matches called or caller."""

    async def set_session_status(self, session_id: str, status: str, *, started_at: datetime | None = None,
                                 ended_at: datetime | None = None, end_reason: str | None = None,
                                 deleted_at: datetime | None = None) -> None:
        """Change status; the timestamps and reason are set only the first time (later values are ignored)."""

    async def save_turn(self, session_id: str, turn) -> None:
        """Insert one completed turn (agents.ports.TurnRecord) and update the session's counters, atomically."""

    async def list_turns(self, session_id: str) -> list: ...

    async def take_stream(self, session_id: str, owner: str) -> None:
        """`owner` (one live connection, on this node or another) carries the session's stream from now on,
        whoever did before: a reconnecting client takes over."""

    async def check_streams(self, owners: Mapping[str, str]) -> dict[str, StreamOwnership]:
        """For each session_id -> owner (every live stream of a node, in one query): does that owner still
        carry it, and has the session ended. A session that is gone is neither owned nor ended."""

    async def release_stream(self, session_id: str, owner: str) -> None:
        """The connection is over; nothing if another owner took the stream meanwhile."""

    async def purge_deleted(self, before: datetime) -> int:
        """Delete sessions (and their turns) deleted before `before`; returns how many."""


class Storage(KeyStorage, SessionStorage, AdminStorage, Protocol):
    """Everything the gateway stores. Implementations are safe to share across the event loop's tasks."""

    async def open(self) -> None:
        """Connect and bring the schema up to date."""

    async def close(self) -> None: ...
