"""Storage, on both backends (SQLite and a real PostgreSQL server): sessions, turns committed atomically, paging,
retention purge, concurrent writers, personas and routes."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from agents.errors import InvalidRequest
from agents.ports import ToolCallRecord, TurnRecord
from gateway.storage import ApiKeyRecord, SessionRecord, SQLiteStorage, StorageUnavailable
from gateway.storage.base import StreamOwnership
from gateway.storage.admin import PersonaRecord, RouteRecord
from gateway.storage.postgres import PostgresStorage
from tests.postgres import start_postgres
from tests.servers import free_port


def session(sid: str, created: datetime, owner: str = "key_a") -> SessionRecord:
    return SessionRecord(sid, owner, "ready", {"voice_id": "joe"}, created, created)


def opened_elsewhere(storage):
    """A second Storage on the same database, as another process (parley keys create) or node would have."""
    return SQLiteStorage(storage.path) if isinstance(storage, SQLiteStorage) else PostgresStorage(storage.url)


@pytest.fixture(params=["sqlite", "postgresql"])
async def storage(request, tmp_path):
    if request.param == "sqlite":
        db = SQLiteStorage(tmp_path / "parley.db")
    else:
        db = PostgresStorage(request.getfixturevalue("postgres").create_database())
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


async def test_two_connections_share_the_database(storage):
    other = opened_elsewhere(storage)
    await other.open()  # a second process (parley keys create) or gateway node opening the same database
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


async def test_personas_and_routes_keep_their_rules(storage):
    now = datetime.now(UTC)
    support = PersonaRecord("support", "Support", {"voice_id": "joe", "greeting": "Hi", "tools": ["end_call"]}, now,
                            now)
    assert await storage.add_persona(support)
    assert not await storage.add_persona(support)  # the id is taken
    assert (await storage.get_persona("support")).fields == support.fields
    assert list((await storage.get_persona("support")).fields) == ["voice_id", "greeting", "tools"]  # order kept
    assert not await storage.add_route(RouteRecord("+15550100", "nobody", now))  # no such persona
    assert await storage.add_route(RouteRecord("+15550100", "support", now))
    assert not await storage.add_route(RouteRecord("+15550100", "support", now))  # the number is taken
    assert await storage.add_route(RouteRecord("default", "support", now))
    assert not await storage.delete_persona("support")  # a route still names it
    assert (await storage.find_route(["+15550199", "default", "+15550100"])).number == "default"  # first that has one
    assert await storage.find_route([]) is None and await storage.get_route("+15550199") is None
    assert not await storage.update_route("+15550100", "nobody")
    later = now + timedelta(minutes=1)
    assert await storage.update_persona(PersonaRecord("support", "Help desk", {"voice_id": "joe"}, now, later))
    assert not await storage.update_persona(PersonaRecord("ghost", "Ghost", {}, now, later))
    stored = await storage.get_persona("support")
    assert stored.name == "Help desk" and stored.updated_at == later and stored.created_at == now
    assert [r.number for r in await storage.list_routes()] == ["+15550100", "default"]
    assert await storage.delete_route("+15550100") and await storage.delete_route("default")
    assert not await storage.delete_route("default")
    assert await storage.delete_persona("support") and await storage.list_personas() == []


async def test_the_config_sync_replaces_only_what_the_file_declares(storage):
    now = datetime.now(UTC)
    await storage.add_persona(PersonaRecord("made", "Made by API", {"voice_id": "joe"}, now, now))
    await storage.add_route(RouteRecord("+15550100", "made", now))
    await storage.add_route(RouteRecord("+15550101", "made", now))
    old = PersonaRecord("old", "From the file before", {"voice_id": "joe"}, now, now, "config")
    kept = PersonaRecord("kept", "From the file, named by an API route", {"voice_id": "joe"}, now, now, "config")
    await storage.sync_config([old, kept], [RouteRecord("+15550102", "old", now, "config")])
    await storage.add_route(RouteRecord("+15550103", "kept", now))
    file_persona = PersonaRecord("front", "Front desk", {"voice_id": "joe"}, now, now, "config")
    replaced = await storage.sync_config([file_persona], [RouteRecord("+15550100", "front", now, "config")])
    assert replaced == ["+15550100"]  # the API's route on a number the file now claims
    routes = {r.number: (r.persona_id, r.source) for r in await storage.list_routes()}
    assert routes == {"+15550100": ("front", "config"), "+15550101": ("made", "api"), "+15550103": ("kept", "api")}
    personas = {p.persona_id: p.source for p in await storage.list_personas()}
    assert personas == {"made": "api", "kept": "api", "front": "config"}  # "old" went with the file


async def test_sessions_round_trip_with_metadata_in_order_and_aware_times(storage):
    created = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    record = SessionRecord("conv_1", "key_a", "ready", {"voice_id": "joe", "language": "en"}, created, created,
                           channel="twilio", metadata={"zeta": 1, "alpha": {"b": 2, "a": 1}}, persona_id="support",
                           caller="+15550111", called="+15550100", call_sid="CA123")
    await storage.create_session(record)
    stored = await storage.get_session("conv_1")
    assert stored.created_at == created and stored.created_at.utcoffset() == timedelta(0)
    assert list(stored.metadata) == ["zeta", "alpha"] and list(stored.metadata["alpha"]) == ["b", "a"]
    assert (await storage.find_session_by_call("CA123")).session_id == "conv_1"
    page = await storage.list_sessions(None, None, None, 10, None, channel="twilio", number="+15550111")
    assert [s.session_id for s in page.sessions] == ["conv_1"]
    assert (await storage.list_sessions(None, None, "other", 10, None)).sessions == []


async def test_paging_is_exact_when_sessions_share_a_creation_time(storage):
    same = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(5):
        await storage.create_session(session(f"conv_{i}", same))
    seen, cursor = [], None
    while True:
        page = await storage.list_sessions(None, None, None, 2, cursor)
        seen += [s.session_id for s in page.sessions]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == ["conv_4", "conv_3", "conv_2", "conv_1", "conv_0"]


async def test_opening_again_or_from_two_places_at_once_migrates_once(storage):
    others = [opened_elsewhere(storage) for _ in range(3)]
    await asyncio.gather(*(other.open() for other in others))  # nodes starting together
    try:
        await others[0].create_session(session("conv_x", datetime.now(UTC)))
        assert await storage.get_session("conv_x") is not None
    finally:
        await asyncio.gather(*(other.close() for other in others))


async def test_an_unreachable_postgresql_is_said_plainly_without_the_password():
    port = free_port()  # nothing listens there
    storage = PostgresStorage(f"postgresql://parley:s3cret@127.0.0.1:{port}/parley")
    with pytest.raises(StorageUnavailable) as caught:
        await storage.open()
    message = str(caught.value)
    assert f"postgresql://parley:***@127.0.0.1:{port}/parley" in message and "s3cret" not in message


async def test_a_postgresql_outage_is_storage_unavailable_and_it_works_again_once_the_server_is_back():
    server = start_postgres()  # its own: this test stops it
    try:
        storage = PostgresStorage(server.create_database())
        await storage.open()
        now = datetime.now(UTC)
        await storage.create_session(session("conv_1", now))
        server.halt()
        with pytest.raises(StorageUnavailable):
            await storage.get_session("conv_1")
        with pytest.raises(StorageUnavailable):
            await storage.save_turn("conv_1", TurnRecord("turn_001", "user", "hi", now, 100))
        server.start()
        await storage.save_turn("conv_1", TurnRecord("turn_001", "user", "hi", now, 100))
        assert (await storage.get_session("conv_1")).total_turns == 1
        await storage.close()
    finally:
        server.stop()


async def test_a_sessions_stream_has_one_owner_and_the_newest_connection_takes_it(storage):
    now = datetime.now(UTC)
    await storage.create_session(session("conv_1", now))
    await storage.create_session(session("conv_2", now))

    async def check(session_id: str, owner: str) -> StreamOwnership:
        return (await storage.check_streams({session_id: owner}))[session_id]

    await storage.take_stream("conv_1", "node-a:1")
    await storage.take_stream("conv_2", "node-a:2")
    assert await storage.check_streams({"conv_1": "node-a:1", "conv_2": "node-a:2", "conv_gone": "node-a:3"}) == {
        "conv_1": StreamOwnership(True, None), "conv_2": StreamOwnership(True, None),
        "conv_gone": StreamOwnership(False, None)}  # one query for every stream of a node
    await storage.take_stream("conv_1", "node-b:7")  # the client reconnected through another node
    assert await check("conv_1", "node-a:1") == StreamOwnership(False, None)
    await storage.release_stream("conv_1", "node-a:1")  # the old connection closing does not free the new one's
    assert (await check("conv_1", "node-b:7")).owned
    await storage.set_session_status("conv_1", "ended", ended_at=now, end_reason="deleted", deleted_at=now)
    assert await check("conv_1", "node-b:7") == StreamOwnership(True, "deleted")
    await storage.release_stream("conv_1", "node-b:7")
    assert (await storage.get_session("conv_1")).stream_owner is None
    assert await storage.check_streams({}) == {}
    many = {f"conv_{i}": "node-a:9" for i in range(3, 1203)}  # more than one statement's bound values
    for sid in list(many)[:3]:
        await storage.create_session(session(sid, now))
        await storage.take_stream(sid, "node-a:9")
    states = await storage.check_streams(many)
    assert sum(state.owned for state in states.values()) == 3 and len(states) == 1200


async def test_a_revoked_key_is_refused_from_then_on_and_listed_as_revoked(storage):
    now = datetime.now(UTC)
    await storage.add_api_key(ApiKeyRecord("key_1", "app", False, "hash1", "pk_abc", now))
    assert (await storage.find_api_key("hash1")).key_id == "key_1"
    assert await storage.revoke_api_key("key_1", now)
    assert await storage.find_api_key("hash1") is None
    assert not await storage.revoke_api_key("key_1", now)  # already revoked
    assert not await storage.revoke_api_key("key_nope", now)
    [listed] = await storage.list_api_keys()
    assert listed.revoked_at == now
