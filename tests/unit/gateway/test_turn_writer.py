"""A live session's turns through a database outage: the call goes on, the turns are stored in order once the
database is back, and the session's end after them. (The real outage, a PostgreSQL server stopped under a
running gateway, is tests/integration/test_postgres_nodes.py.)"""

import asyncio
from datetime import UTC, datetime

import pytest

from agents.ports import TurnRecord
from gateway.storage import StorageUnavailable
from gateway.turn_writer import TurnWriter, until_stored

pytestmark = pytest.mark.looptime


class FlakyStore:
    """Stores turns in a list; while `down`, every write fails as an unreachable database does."""

    def __init__(self) -> None:
        self.down = False
        self.turns: list[str] = []
        self.ended = False

    async def save_turn(self, session_id: str, turn: TurnRecord) -> None:
        await asyncio.sleep(0.001)
        if self.down:
            raise StorageUnavailable("the database is unreachable: connection refused")
        self.turns.append(turn.turn_id)

    async def set_session_status(self, session_id: str, status: str, **_) -> None:
        if self.down:
            raise StorageUnavailable("the database is unreachable: connection refused")
        self.ended = True


def turn(n: int) -> TurnRecord:
    return TurnRecord(f"turn_{n:03d}", "user", "hi", datetime.now(UTC), 100)


async def test_turns_wait_out_an_outage_and_are_stored_in_order_once_it_is_over():
    store = FlakyStore()
    writer = TurnWriter(store)
    await writer.save_turn("conv_1", turn(1))
    store.down = True
    for n in (2, 3):
        await writer.save_turn("conv_1", turn(n))  # returns: the call goes on
    assert store.turns == ["turn_001"] and writer.waiting == 2
    store.down = False
    await writer.save_turn("conv_1", turn(4))  # behind the waiting ones, not before them
    await asyncio.wait_for(writer.drained(), 30)
    assert store.turns == ["turn_001", "turn_002", "turn_003", "turn_004"] and writer.waiting == 0


async def test_a_write_is_retried_until_the_database_takes_it():
    store = FlakyStore()
    store.down = True
    loop = asyncio.get_running_loop()
    started = loop.time()
    ending = asyncio.ensure_future(until_stored(lambda: store.set_session_status("conv_1", "ended"), "session end"))
    await asyncio.sleep(20)
    assert not ending.done()
    store.down = False
    await asyncio.wait_for(ending, 30)
    assert store.ended and loop.time() - started < 31  # retried every 10 s at most
