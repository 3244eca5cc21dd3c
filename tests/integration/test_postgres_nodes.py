"""Two `parley serve` nodes on one real PostgreSQL server: any node serves any REST call, a stream resumes on the
other node, keys made with the CLI work on both; PostgreSQL down at start-up or while running."""

import asyncio
import json
import subprocess

import aiohttp
import pytest

from gateway.client import GatewayClient, converse
from tests.integration.test_admin_api import PERSONA
from tests.integration.test_api import new_key, request
from tests.integration.ws import next_event
from tests.postgres import PostgresServer, start_postgres
from tests.servers import PARLEY, ROOT, Server, free_port, start_server, stop_server
from tests.twilio_phone import TwilioPhone

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def database() -> PostgresServer:
    """Its own server: a test here stops it for a while."""
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def nodes(tmp_path_factory, database, twilio_api) -> tuple[Server, Server]:
    env = {"PARLEY_DATABASE_URL": database.create_database(), **twilio_api.env()}
    first = start_server(tmp_path_factory.mktemp("node-a"), env)
    try:
        second = start_server(tmp_path_factory.mktemp("node-b"), env)
    except BaseException:
        stop_server(first)
        raise
    yield first, second
    stop_server(first)
    stop_server(second)


@pytest.fixture(scope="module")
def admin(nodes) -> str:
    return new_key(nodes[0], "--admin", "--name", "ops")  # the CLI writes to PostgreSQL, as node a's config says


def test_any_node_serves_any_rest_call(nodes, admin):
    a, b = nodes
    status, persona = request(a, "POST", "/v1/personas", admin, PERSONA)
    assert status == 201, persona
    status, route = request(b, "POST", "/v1/phone-numbers", admin,
                            {"number": "+15550142", "persona_id": persona["persona_id"]})
    assert status == 201, route
    status, seen = request(b, "GET", f"/v1/personas/{persona['persona_id']}", admin)
    assert status == 200 and seen["numbers"] == ["+15550142"] and seen["name"] == PERSONA["name"]
    status, created = request(a, "POST", "/v1/conversations/create", admin,
                              {"persona_id": persona["persona_id"]})
    assert status == 201, created
    status, listed = request(b, "GET", "/v1/conversations?limit=100", admin)
    assert status == 200 and created["session_id"] in [s["session_id"] for s in listed["conversations"]]
    status, _ = request(b, "DELETE", f"/v1/conversations/{created['session_id']}", admin)
    assert status in (200, 204)
    status, gone = request(a, "GET", f"/v1/conversations/{created['session_id']}", admin)
    assert status == 200 and gone["status"] == "ended" and gone["end_reason"] == "deleted"


async def test_a_stream_resumes_on_the_other_node(nodes, admin):
    a, b = nodes
    async with aiohttp.ClientSession() as http:
        on_a = GatewayClient(a.url, admin, http)
        sid = (await on_a.create(voice_id="joe", system_prompt="Answer in one short sentence."))["session_id"]
        first = await converse(on_a, sid, texts=["Say hello."], on_event=lambda e: None, hang_up=False)
        assert [e["turn_id"] for e in first.events if e["type"] == "turn_end"] == ["turn_001", "turn_002"]
        on_b = GatewayClient(b.url, admin, http)  # node a's connection is gone: the client comes back through b
        async with http.ws_connect(on_b.stream_url(sid, 16000, "pcm16", last_turn_id="turn_001"),
                                   headers=on_b.headers) as ws:
            started = await next_event(ws)
            assert started == {"type": "session_started", "session_id": sid, "resumed": True,
                               "last_turn_id": "turn_002"}
            replay = [await next_event(ws) for _ in range(2)]
            assert [e["type"] for e in replay] == ["transcript", "turn_end"] and replay[0]["turn_id"] == "turn_002"
            await ws.send_str(json.dumps({"type": "user_text", "text": "And goodbye."}))
            assert await next_event(ws) == {"type": "turn_start", "role": "user", "turn_id": "turn_003"}
            while (event := await next_event(ws))["type"] != "turn_end" or event["role"] != "assistant":
                pass
        status, detail = request(a, "GET", f"/v1/conversations/{sid}", admin)
    assert status == 200
    assert [t["turn_id"] for t in detail["history"]] == ["turn_001", "turn_002", "turn_003", "turn_004"]


async def test_a_delete_through_one_node_ends_the_live_stream_on_the_other(nodes, admin):
    a, b = nodes
    async with aiohttp.ClientSession() as http:
        client = GatewayClient(a.url, admin, http)
        sid = (await client.create(voice_id="joe", system_prompt="Answer in one short sentence."))["session_id"]
        async with http.ws_connect(client.stream_url(sid, 16000, "pcm16"), headers=client.headers) as ws:
            assert (await next_event(ws))["type"] == "session_started"
            status, _ = request(b, "DELETE", f"/v1/conversations/{sid}", admin)
            assert status == 200
            while (event := await next_event(ws, timeout=30))["type"] != "session_ended":
                pass
            assert event["reason"] == "deleted"  # within the live session's ownership check (2 s)
            closing = await ws.receive(timeout=30)
            assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)


async def test_a_client_reconnecting_through_the_other_node_takes_the_stream_over(nodes, admin):
    a, b = nodes
    async with aiohttp.ClientSession() as http:
        on_a, on_b = GatewayClient(a.url, admin, http), GatewayClient(b.url, admin, http)
        sid = (await on_a.create(voice_id="joe", system_prompt="Answer in one short sentence."))["session_id"]
        async with http.ws_connect(on_a.stream_url(sid, 16000, "pcm16"), headers=on_a.headers) as old:
            assert (await next_event(old))["type"] == "session_started"
            # The old connection looks alive to the client's side (a half-open link): it comes back through b.
            async with http.ws_connect(on_b.stream_url(sid, 16000, "pcm16"), headers=on_b.headers) as new:
                assert (await next_event(new))["type"] == "session_started"
                while (msg := await old.receive(timeout=30)).type in (aiohttp.WSMsgType.BINARY,
                                                                       aiohttp.WSMsgType.TEXT):
                    pass  # the greeting, until node a drops the connection
                assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED), msg
                assert old.close_code is not None
                await new.send_str(json.dumps({"type": "user_text", "text": "Are you still there?"}))
                while (event := await next_event(new))["type"] != "turn_end" or event["role"] != "assistant":
                    pass  # the session runs on node b
        status, detail = request(a, "GET", f"/v1/conversations/{sid}", admin)
    assert status == 200 and "Are you still there?" in [t["text"] for t in detail["history"]]


async def test_a_node_killed_mid_call_loses_no_finished_turn_and_the_stream_resumes_on_another(
        nodes, admin, database, tmp_path):
    _, b = nodes
    (tmp_path / "node-c").mkdir()
    doomed = start_server(tmp_path / "node-c", {"PARLEY_DATABASE_URL": b.env["PARLEY_DATABASE_URL"]})
    try:
        async with aiohttp.ClientSession() as http:
            on_c = GatewayClient(doomed.url, admin, http)
            sid = (await on_c.create(voice_id="joe", system_prompt="Answer in one short sentence."))["session_id"]
            async with http.ws_connect(on_c.stream_url(sid, 16000, "pcm16"), headers=on_c.headers) as ws:
                assert (await next_event(ws))["type"] == "session_started"
                await ws.send_str(json.dumps({"type": "user_text", "text": "Say hello."}))
                seen = []
                while len(seen) < 2:
                    if (event := await next_event(ws))["type"] == "turn_end":
                        seen.append(event["turn_id"])
                doomed.process.kill()  # mid-call: no shutdown, no goodbye
                doomed.process.wait()
            on_b = GatewayClient(b.url, admin, http)
            async with http.ws_connect(on_b.stream_url(sid, 16000, "pcm16", last_turn_id=seen[-1]),
                                       headers=on_b.headers) as ws:
                started = await next_event(ws)
                assert started == {"type": "session_started", "session_id": sid, "resumed": True,
                                   "last_turn_id": seen[-1]}
                await ws.send_str(json.dumps({"type": "user_text", "text": "And goodbye."}))
                assert await next_event(ws) == {"type": "turn_start", "role": "user", "turn_id": "turn_003"}
        status, detail = request(b, "GET", f"/v1/conversations/{sid}", admin)
        assert status == 200 and [t["turn_id"] for t in detail["history"]][:3] == ["turn_001", "turn_002",
                                                                                   "turn_003"]
    finally:
        stop_server(doomed)


async def test_twilios_webhook_and_its_media_stream_may_reach_different_nodes(nodes, admin, twilio_api):
    a, b = nodes
    status, persona = request(a, "POST", "/v1/personas", admin, {**PERSONA, "greeting": "Hello from any node."})
    assert status == 201, persona
    status, _ = request(a, "POST", "/v1/phone-numbers", admin,
                        {"number": "+15550177", "persona_id": persona["persona_id"]})
    assert status == 201
    async with aiohttp.ClientSession() as http, TwilioPhone(http, a.url, "+15550177") as phone:
        await phone.ring()  # the webhook reaches node a: it makes the session
        phone.base_url = b.url  # the media stream reaches node b
        await phone.connect()
        await phone.wait_until(lambda: phone.received, timeout=30, what="the greeting, from node b")
        await phone.wait_quiet(0.5)  # heard to its end: a DELETE during it would store only what was heard
        status, _ = request(a, "DELETE", f"/v1/conversations/{phone.session_id}", admin)  # through node a again
        assert status == 200
        hang_up = await twilio_api.wait_for(lambda r: r.call_sid == phone.call_sid, timeout=15)
        await phone.wait_until(lambda: phone.closed_at is not None, timeout=15, what="the stream closed")
    assert hang_up.value("Status") == "completed"  # node b hung the call up through Twilio's API
    status, detail = request(b, "GET", f"/v1/conversations/{phone.session_id}", admin)
    assert detail["end_reason"] == "deleted" and detail["history"][0]["text"] == "Hello from any node."


def test_rest_calls_get_503_while_postgresql_is_down_and_work_once_it_is_back(nodes, admin, database):
    a, _ = nodes
    database.halt()
    try:
        status, body = request(a, "GET", "/v1/conversations", admin)
        assert status == 503 and body["error"]["code"] == "storage_unavailable", body
        assert "Traceback" not in a.log()
    finally:
        database.start()
    status, body = request(a, "GET", "/v1/conversations", admin)
    assert status == 200, body


async def test_a_live_call_goes_on_through_an_outage_and_its_turns_are_stored_once_the_database_is_back(
        nodes, admin, database):
    a, b = nodes
    async with aiohttp.ClientSession() as http:
        client = GatewayClient(a.url, admin, http)
        sid = (await client.create(voice_id="joe", system_prompt="Answer in one short sentence."))["session_id"]
        async with http.ws_connect(client.stream_url(sid, 16000, "pcm16"), headers=client.headers) as ws:

            async def typed_turn(text: str) -> list[str]:
                await ws.send_str(json.dumps({"type": "user_text", "text": text}))
                ended = []
                while len(ended) < 2:
                    event = await next_event(ws)
                    assert event["type"] != "error", event
                    if event["type"] == "turn_end":
                        ended.append(event["turn_id"])
                return ended

            assert (await next_event(ws))["type"] == "session_started"
            assert await typed_turn("Say hello.") == ["turn_001", "turn_002"]
            database.halt()
            try:
                assert await typed_turn("And what is your name?") == ["turn_003", "turn_004"]  # answered all the same
            finally:
                database.start()
            deadline = asyncio.get_running_loop().time() + 60
            while True:  # written in the background once the database is back
                status, detail = request(b, "GET", f"/v1/conversations/{sid}", admin)
                if status == 200 and len(detail["history"]) == 4 or asyncio.get_running_loop().time() > deadline:
                    break
                await asyncio.sleep(0.5)
    assert [t["turn_id"] for t in detail["history"]] == ["turn_001", "turn_002", "turn_003", "turn_004"]
    assert detail["history"][2]["text"] == "And what is your name?"


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["keys", "create"]])
def test_an_unreachable_database_at_start_is_a_clear_message_and_a_failed_exit(tmp_path, command):
    url = f"postgresql://parley:s3cret@127.0.0.1:{free_port()}/parley"  # nothing listens there
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PARLEY_DATA_DIR": str(tmp_path / "data"),
           "PARLEY_DATABASE_URL": url, "PARLEY_LOG_FORMAT": "json"}
    result = subprocess.run([*PARLEY, *command], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "cannot use PostgreSQL at postgresql://parley:***@127.0.0.1" in result.stderr
    assert "s3cret" not in result.stdout + result.stderr and "Traceback" not in result.stdout + result.stderr
