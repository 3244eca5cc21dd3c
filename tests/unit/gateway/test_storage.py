"""SQLite storage: sessions, turns committed atomically, paging, retention purge, concurrent writers."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from agents.errors import InvalidRequest
from agents.ports import ToolCallRecord, TurnRecord
from gateway.storage import SessionRecord, SQLiteStorage
from gateway.storage.admin import PersonaRecord, RouteRecord


def session(sid: str, created: datetime, owner: str = "key_a") -> SessionRecord:
    return SessionRecord(sid, owner, "ready", {"voice_id": "joe"}, created, created)


@pytest.fixture
async def storage(tmp_path):
    db = SQLiteStorage(tmp_path / "parley.db")
    await db.open()
    yield db
    await db.close()


async def test_turns_round_trip_with_tool_calls_and_counters(storage):
    now = datetime.now(UTC)
    await storage.create_session(session("conv_1", now))
    call = ToolCallRecord("call_1", "lookup_order", {"order_id": "1234"}, {"status": "shipped"}, None, 12)
    await storage.save_turn("conv_1", TurnRecord("turn_001", "user", "where is 1234", now, 1500))
    await storage.save_turn("conv_1", TurnRecord("turn_002", "assistant", "It shipped.", now, 900, latency_ms=640,
                                                  tool_calls=[call], endpoint_ms=500, asr_ms=120,
                                                  llm_first_token_ms=300, tts_first_audio_ms=80, guarded=2,
                                                  answer_latency_ms=1900))
    turns = await storage.list_turns("conv_1")
    assert [t.turn_id for t in turns] == ["turn_001", "turn_002"]
    assert turns[1].tool_calls[0].result == {"status": "shipped"} and turns[1].latency_ms == 640
    assert turns[1].to_wire()["latency_breakdown"]["asr_ms"] == 120 and turns[1].to_wire()["guarded"] == 2
    assert turns[1].to_wire()["answer_latency_ms"] == 1900
    assert "guarded" not in turns[0].to_wire()
    stored = await storage.get_session("conv_1")
    assert stored.total_turns == 2 and stored.last_turn_number == 2


async def test_paging_newest_first_per_owner(storage):
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(5):
        await storage.create_session(session(f"conv_{i}", base + timedelta(seconds=i), "key_a" if i % 2 else "key_b"))
    page = await storage.list_sessions(None, None, None, 2, None)
    assert [s.session_id for s in page.sessions] == ["conv_4", "conv_3"]
    page = await storage.list_sessions(None, None, None, 10, page.next_cursor)
    assert [s.session_id for s in page.sessions] == ["conv_2", "conv_1", "conv_0"] and page.next_cursor is None
    mine = await storage.list_sessions("key_a", None, None, 10, None)
    assert [s.session_id for s in mine.sessions] == ["conv_3", "conv_1"]
    with pytest.raises(InvalidRequest):
        await storage.list_sessions(None, None, None, 10, "garbage!")


async def test_purge_removes_sessions_deleted_before_the_cutoff_with_their_turns(storage):
    now = datetime.now(UTC)
    for sid in ("conv_old", "conv_recent", "conv_live"):
        await storage.create_session(session(sid, now))
        await storage.save_turn(sid, TurnRecord("turn_001", "user", "hi", now, 100))
    await storage.set_session_status("conv_old", "ended", ended_at=now, end_reason="deleted",
                                     deleted_at=now - timedelta(days=31))
    await storage.set_session_status("conv_recent", "ended", ended_at=now, end_reason="deleted", deleted_at=now)
    assert await storage.purge_deleted(now - timedelta(days=30)) == 1
    assert await storage.get_session("conv_old") is None and await storage.list_turns("conv_old") == []
    assert await storage.get_session("conv_recent") is not None
    assert await storage.get_session("conv_live") is not None


async def test_status_timestamps_are_set_once(storage):
    now = datetime.now(UTC)
    await storage.create_session(session("conv_1", now))
    await storage.set_session_status("conv_1", "ended", ended_at=now, end_reason="max_turns")
    await storage.set_session_status("conv_1", "ended", ended_at=now + timedelta(hours=1), end_reason="deleted",
                                     deleted_at=now)
    stored = await storage.get_session("conv_1")
    assert stored.end_reason == "max_turns" and stored.ended_at == now and stored.deleted_at == now


async def test_two_connections_share_the_file(tmp_path, storage):
    other = SQLiteStorage(storage.path)
    await other.open()  # a second process (parley keys create) opening the same database
    try:
        await other.create_session(session("conv_x", datetime.now(UTC)))
        assert await storage.get_session("conv_x") is not None
    finally:
        await other.close()


async def test_concurrent_writers_on_one_connection_do_not_break_the_config_sync(storage):
    # The retention purge, calls saving turns and the config sync share one connection: on a clean-clone
    # CI run the sync's BEGIN met the purge's open transaction and the gateway failed to start.
    now = datetime.now(UTC)
    await storage.create_session(session("conv_1", now))
    personas = [PersonaRecord("support", "Support", {"voice_id": "joe"}, now, now, "config")]
    routes = [RouteRecord("+15550100", "support", now, "config")]
    writes = [storage.purge_deleted(now) for _ in range(20)]
    writes += [storage.save_turn("conv_1", TurnRecord(f"turn_{n:03d}", "user", "hi", now, 100)) for n in range(1, 21)]
    writes.insert(10, storage.sync_config(personas, routes))
    await asyncio.gather(*writes)
    assert [r.number for r in await storage.list_routes()] == ["+15550100"]
    assert (await storage.get_session("conv_1")).total_turns == 20
    assert len(await storage.list_turns("conv_1")) == 20
