"""A live session's turns on their way to storage: a call goes on through a database outage.

Normally `save_turn` returns once the turn is committed (so a client that saw a turn_end finds the turn
stored). While the database is unreachable the turn waits here instead, and so does every later one, and
a background task writes them, in order, once it is back. The session's end is stored after its turns.
"""

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

import structlog

from agents.ports import TurnRecord
from gateway.storage import Storage, StorageUnavailable

log = structlog.get_logger(__name__)

_RETRY_FIRST_S = 0.5
_RETRY_MAX_S = 10.0


async def until_stored(write: Callable[[], Awaitable[None]], what: str) -> None:
    """Run `write` until the database takes it (retrying, with a growing pause, while it is unreachable)."""
    pause = _RETRY_FIRST_S
    while True:
        try:
            await write()
            return
        except StorageUnavailable as exc:
            log.warning("storage_retry", what=what, retry_in_s=pause, error=str(exc))
            await asyncio.sleep(pause)
            pause = min(pause * 2, _RETRY_MAX_S)


class TurnWriter:
    """The Conversation's TurnStore for one live session."""

    def __init__(self, storage: Storage, on_turn: Callable[[TurnRecord], None] | None = None) -> None:
        self.storage = storage
        self.on_turn = on_turn  # told of each turn as it is handed over (metrics)
        self._waiting: deque[tuple[str, TurnRecord]] = deque()
        self._flusher: asyncio.Task | None = None

    @property
    def waiting(self) -> int:
        """Turns not stored yet (the database was unreachable)."""
        return len(self._waiting)

    async def save_turn(self, session_id: str, turn: TurnRecord) -> None:
        if self.on_turn is not None:
            self.on_turn(turn)
        if not self._waiting:
            try:
                await self.storage.save_turn(session_id, turn)
                return
            except StorageUnavailable as exc:
                log.warning("turn_store_deferred", turn_id=turn.turn_id, error=str(exc))
        self._waiting.append((session_id, turn))  # after any earlier waiting turn: the order is kept
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name=f"turns-{session_id}")

    async def _flush(self) -> None:
        stored = 0
        while self._waiting:
            session_id, turn = self._waiting[0]
            try:
                await until_stored(lambda: self.storage.save_turn(session_id, turn), f"turn {turn.turn_id}")
                stored += 1
            except Exception:  # e.g. the first try was committed after all: a duplicate; the next turns still go
                log.exception("turn_store_failed", turn_id=turn.turn_id)
            self._waiting.popleft()
        log.info("turns_stored_late", count=stored)

    async def drained(self) -> None:
        """Returns once every turn handed over is stored."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.shield(self._flusher)
