"""The Conversational API over HTTP against a real `parley serve`: fields, defaults, errors, auth, paging, delete."""

import json
import urllib.request

import aiohttp
import pytest

from tests.servers import Server


def request(server: Server, method: str, path: str, key: str | None, body=None, raw: bytes | None = None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(server.url + path, data=data, method=method)
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def new_key(server: Server, *flags: str) -> str:
    result = server.cli("keys", "create", *flags)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def admin(server) -> str:
    return new_key(server, "--admin", "--name", "admin")


@pytest.fixture(scope="module")
def client_key(server) -> str:
    return new_key(server, "--name", "app")


SEED_BODY = {
    "voice_id": "joe",
    "system_prompt": "You are a knowledgeable customer support agent for Acme Corp. Be concise and helpful.",
    "language": "en",
    "tools": [{"name": "lookup_order", "description": "Look up an order by its ID",
               "parameters": {"order_id": {"type": "string", "required": True}}}],
    "context_window": 40,
    "max_turns": 100,
}


def test_create_answers_the_seed_example(server, client_key):
    status, body = request(server, "POST", "/v1/conversations/create", client_key, SEED_BODY)
    assert status == 201
    assert body["session_id"].startswith("conv_") and body["status"] == "ready"
    assert body["voice_id"] == "joe" and body["language"] == "en"
    assert body["context_window"] == 40 and body["max_turns"] == 100
    assert body["tools"] == ["lookup_order"]
    assert body["created_at"].endswith("Z")
    assert body["websocket_url"] == server.url.replace("http://", "ws://") + f"/v1/conversations/{body['session_id']}/stream"
    assert body["stream_token"].startswith("st_")


def test_create_defaults(server, client_key):
    status, body = request(server, "POST", "/v1/conversations/create", client_key,
                           {"voice_id": "joe", "system_prompt": "Hi."})
    assert status == 201
    assert body["language"] == "en" and body["context_window"] == 50 and body["max_turns"] is None
    assert body["tools"] == []


def test_tool_named_only_takes_the_handlers_own_schema(server, client_key):
    status, body = request(server, "POST", "/v1/conversations/create", client_key,
                           {"voice_id": "joe", "system_prompt": "Hi.", "tools": [{"name": "lookup_order"}]})
    assert status == 201 and body["tools"] == ["lookup_order"]


@pytest.mark.parametrize(("change", "param"), [
    ({"voice_id": None}, "voice_id"),
    ({"voice_id": "nadia_v2"}, "voice_id"),
    ({"voice_id": 7}, "voice_id"),
    ({"system_prompt": None}, "system_prompt"),
    ({"system_prompt": "   "}, "system_prompt"),
    ({"language": "english"}, "language"),
    ({"language": "xx"}, "language"),
    ({"tools": "lookup_order"}, "tools"),
    ({"tools": [{"name": "launch_rockets"}]}, "tools"),
    ({"tools": [{"name": "lookup_order", "parameters": {"order_id": {"type": "text"}}}]}, "tools"),
    ({"tools": [{"name": "lookup_order"}, {"name": "lookup_order"}]}, "tools"),
    ({"context_window": 0}, "context_window"),
    ({"context_window": "40"}, "context_window"),
    ({"context_window": True}, "context_window"),
    ({"max_turns": 0}, "max_turns"),
    ({"max_turns": 2.5}, "max_turns"),
    ({"metadata": "x"}, "metadata"),
    ({"colour": "blue"}, "colour"),
])
def test_create_validation_errors_name_the_field(server, client_key, change, param):
    body = {**SEED_BODY, **change}
    body = {k: v for k, v in body.items() if v is not None}
    status, error = request(server, "POST", "/v1/conversations/create", client_key, body)
    assert status == 400, error
    assert error["error"]["code"] == "invalid_request"
    assert error["error"]["param"] == param
    assert error["error"]["message"]


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"", "\"hi\"".encode(),
                                 b'{"a":' * 100_000 + b"1" + b"}" * 100_000])  # nested too deeply for json
def test_create_rejects_bodies_that_are_not_objects(server, client_key, raw):
    status, error = request(server, "POST", "/v1/conversations/create", client_key, raw=raw)
    assert status == 400 and error["error"]["code"] == "invalid_request"


def test_unknown_persona_is_404(server, client_key):
    status, error = request(server, "POST", "/v1/conversations/create", client_key,
                            {**SEED_BODY, "persona_id": "pers_nope"})
    assert status == 404 and error["error"]["param"] == "persona_id"


@pytest.mark.parametrize("key", [None, "pk_wrong", "not-a-key"])
def test_requests_without_a_valid_key_are_401(server, key):
    for method, path in (("POST", "/v1/conversations/create"), ("GET", "/v1/conversations"),
                         ("GET", "/v1/voices"), ("GET", "/v1/conversations/conv_x")):
        status, error = request(server, method, path, key, SEED_BODY if method == "POST" else None)
        assert status == 401 and error["error"]["code"] == "unauthorized"


def test_get_returns_session_with_empty_history(server, client_key):
    _, created = request(server, "POST", "/v1/conversations/create", client_key, SEED_BODY)
    status, body = request(server, "GET", f"/v1/conversations/{created['session_id']}", client_key)
    assert status == 200
    assert body["history"] == [] and body["total_turns"] == 0 and body["status"] == "ready"
    assert body["system_prompt"] == SEED_BODY["system_prompt"]
    assert "stream_token" not in body
    assert body["last_activity_at"].endswith("Z")


def test_other_keys_sessions_are_invisible_but_admin_sees_all(server, client_key, admin):
    other = new_key(server, "--name", "other")
    _, mine = request(server, "POST", "/v1/conversations/create", client_key, SEED_BODY)
    sid = mine["session_id"]
    assert request(server, "GET", f"/v1/conversations/{sid}", other)[0] == 404
    assert request(server, "DELETE", f"/v1/conversations/{sid}", other)[0] == 404
    assert request(server, "GET", f"/v1/conversations/{sid}", admin)[0] == 200
    _, listed = request(server, "GET", "/v1/conversations?limit=100", other)
    assert sid not in [c["session_id"] for c in listed["conversations"]]
    _, listed = request(server, "GET", "/v1/conversations?limit=100", admin)
    assert sid in [c["session_id"] for c in listed["conversations"]]


def test_list_is_newest_first_and_pages_with_a_cursor(server):
    key = new_key(server, "--name", "pager")
    ids = [request(server, "POST", "/v1/conversations/create", key, SEED_BODY)[1]["session_id"] for _ in range(5)]
    seen, cursor = [], None
    while True:
        path = "/v1/conversations?limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, page = request(server, "GET", path, key)
        assert status == 200 and len(page["conversations"]) <= 2
        assert all("history" not in c and c["channel"] == "api" for c in page["conversations"])
        seen += [c["session_id"] for c in page["conversations"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    _, ready = request(server, "GET", "/v1/conversations?status=ready", key)
    assert len(ready["conversations"]) == 5


@pytest.mark.parametrize(("query", "param"), [
    ("limit=0", "limit"), ("limit=101", "limit"), ("limit=ten", "limit"),
    ("status=done", "status"), ("cursor=%%%", "cursor"), ("cursor=bm9wZQ", "cursor"),
])
def test_list_rejects_bad_parameters(server, client_key, query, param):
    status, error = request(server, "GET", f"/v1/conversations?{query}", client_key)
    assert status == 400 and error["error"]["param"] == param


def test_delete_ends_session_and_history_stays_readable(server, client_key):
    _, created = request(server, "POST", "/v1/conversations/create", client_key, SEED_BODY)
    sid = created["session_id"]
    status, body = request(server, "DELETE", f"/v1/conversations/{sid}", client_key)
    assert status == 200
    assert body["session_id"] == sid and body["status"] == "ended" and body["total_turns"] == 0
    assert body["total_duration_ms"] == 0 and body["ended_at"].endswith("Z")
    status, after = request(server, "GET", f"/v1/conversations/{sid}", client_key)
    assert status == 200 and after["status"] == "ended" and after["end_reason"] == "deleted"
    assert request(server, "DELETE", f"/v1/conversations/{sid}", client_key)[0] == 200  # idempotent
    assert request(server, "DELETE", "/v1/conversations/conv_missing", client_key)[0] == 404


def test_voices_lists_the_installed_voices(server, client_key):
    status, body = request(server, "GET", "/v1/voices", client_key)
    assert status == 200
    joe = next(v for v in body["voices"] if v["voice_id"] == "joe")
    assert joe["engine"] == "piper" and "en" in joe["languages"] and joe["sample_rate"] == 22050
    assert {"voice_id", "name", "languages", "gender", "engine", "sample_rate"} <= set(joe)


@pytest.mark.parametrize(("query", "param"), [
    ("sample_rate=44100", "sample_rate"), ("sample_rate=abc", "sample_rate"), ("encoding=wav", "encoding"),
    ("vad_threshold=1.5", "vad_threshold"), ("vad_threshold=loud", "vad_threshold"),
    ("last_turn_id=7", "last_turn_id"), ("last_turn_id=turn_", "last_turn_id"),
])
async def test_stream_refuses_bad_parameters_before_the_upgrade(server, client_key, query, param):
    _, created = request(server, "POST", "/v1/conversations/create", client_key, SEED_BODY)
    url = f"{server.url}/v1/conversations/{created['session_id']}/stream?{query}"
    async with aiohttp.ClientSession() as http:
        async with http.get(url, headers={"Authorization": f"Bearer {client_key}"}) as resp:
            assert resp.status == 400
            body = await resp.json()
            assert body["error"]["param"] == param


async def test_stream_auth(server, client_key):
    _, created = request(server, "POST", "/v1/conversations/create", client_key, SEED_BODY)
    base = f"{server.url}/v1/conversations/{created['session_id']}/stream"
    async with aiohttp.ClientSession() as http:
        async with http.get(base) as resp:
            assert resp.status == 401
        async with http.get(base + "?token=st_wrong") as resp:
            assert resp.status == 403
        async with http.get(f"{server.url}/v1/conversations/conv_nope/stream",
                            headers={"Authorization": f"Bearer {client_key}"}) as resp:
            assert resp.status == 404
        for token in (client_key, created["stream_token"]):  # browsers: the key or the session's stream token
            async with http.ws_connect(f"{base}?token={token}") as ws:
                first = await ws.receive_json(timeout=10)
                assert first == {"type": "session_started", "session_id": created["session_id"],
                                 "resumed": False, "last_turn_id": None}


async def test_stream_on_an_ended_session_is_409(server, client_key):
    _, created = request(server, "POST", "/v1/conversations/create", client_key, SEED_BODY)
    request(server, "DELETE", f"/v1/conversations/{created['session_id']}", client_key)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.url}/v1/conversations/{created['session_id']}/stream",
                            headers={"Authorization": f"Bearer {client_key}"}) as resp:
            assert resp.status == 409 and (await resp.json())["error"]["code"] == "conflict"
