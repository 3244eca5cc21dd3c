"""The admin API against a real `parley serve`: personas, number routes, conversation filters, permissions (SPEC §7)."""

import asyncio

import aiohttp
import pytest

from tests.integration.test_api import new_key, request
from tests.servers import Server

PERSONA = {
    "name": "Acme support",
    "voice_id": "joe",
    "system_prompt": "You are Acme's support agent. Answer in one short sentence.",
    "language": "en",
    "greeting": "Acme support, how can I help?",
    "tools": [{"name": "lookup_order"}],
    "context_window": 20,
    "max_turns": 40,
    "vad_threshold": 0.6,
    "llm": {"temperature": 0.3, "max_tokens": 60},
    "recording": False,
}


@pytest.fixture(scope="module")
def admin(server) -> str:
    return new_key(server, "--admin", "--name", "console-admin")


@pytest.fixture(scope="module")
def client_key(server) -> str:
    return new_key(server, "--name", "app")


def create_persona(server: Server, admin: str, **change) -> dict:
    status, body = request(server, "POST", "/v1/personas", admin, {**PERSONA, **change})
    assert status == 201, body
    return body


ADMIN_ROUTES = [("POST", "/v1/personas"), ("GET", "/v1/personas"), ("GET", "/v1/personas/per_x"),
                ("PATCH", "/v1/personas/per_x"), ("DELETE", "/v1/personas/per_x"),
                ("POST", "/v1/phone-numbers"), ("GET", "/v1/phone-numbers"), ("GET", "/v1/phone-numbers/1000"),
                ("PATCH", "/v1/phone-numbers/1000"), ("DELETE", "/v1/phone-numbers/1000"), ("GET", "/v1/tools")]


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_admin_routes_refuse_client_keys_403_and_no_key_401(server, client_key, method, path):
    body = PERSONA if method in ("POST", "PATCH") else None
    status, error = request(server, method, path, client_key, body)
    assert status == 403 and error["error"]["code"] == "forbidden", error
    status, error = request(server, method, path, None, body)
    assert status == 401 and error["error"]["code"] == "unauthorized"


def test_persona_crud(server, admin):
    created = create_persona(server, admin)
    pid = created["persona_id"]
    assert pid.startswith("per_") and created["source"] == "api" and created["numbers"] == []
    assert {k: created[k] for k in PERSONA} == PERSONA
    assert created["created_at"].endswith("Z") and "problem" not in created

    status, listed = request(server, "GET", "/v1/personas", admin)
    assert status == 200 and pid in [p["persona_id"] for p in listed["personas"]]
    status, got = request(server, "GET", f"/v1/personas/{pid}", admin)
    assert status == 200 and got["name"] == "Acme support"

    status, patched = request(server, "PATCH", f"/v1/personas/{pid}", admin,
                              {"name": "Acme billing", "greeting": None, "llm": {"max_tokens": 30}})
    assert status == 200, patched
    assert patched["name"] == "Acme billing" and patched["greeting"] is None
    assert patched["llm"] == {"max_tokens": 30} and patched["system_prompt"] == PERSONA["system_prompt"]

    status, gone = request(server, "DELETE", f"/v1/personas/{pid}", admin)
    assert status == 200 and gone == {"persona_id": pid, "deleted": True}
    assert request(server, "GET", f"/v1/personas/{pid}", admin)[0] == 404
    assert request(server, "DELETE", f"/v1/personas/{pid}", admin)[0] == 404
    assert request(server, "PATCH", f"/v1/personas/{pid}", admin, {"name": "x"})[0] == 404


def test_a_chosen_persona_id_and_duplicates(server, admin):
    create_persona(server, admin, persona_id="front-desk")
    status, error = request(server, "POST", "/v1/personas", admin, {**PERSONA, "persona_id": "front-desk"})
    assert status == 409 and error["error"]["code"] == "conflict"


@pytest.mark.parametrize(("change", "param"), [
    ({"name": None}, "name"),
    ({"name": "  "}, "name"),
    ({"name": "x" * 121}, "name"),
    ({"voice_id": None}, "voice_id"),
    ({"voice_id": "nadia_v2"}, "voice_id"),
    ({"system_prompt": ""}, "system_prompt"),
    ({"language": "klingon"}, "language"),
    ({"language": "xx"}, "language"),
    ({"tools": [{"name": "launch_rockets"}]}, "tools"),
    ({"tools": [{"name": "hook", "url": "ftp://x"}]}, "tools"),
    ({"context_window": 0}, "context_window"),
    ({"max_turns": "ten"}, "max_turns"),
    ({"vad_threshold": 1.5}, "vad_threshold"),
    ({"vad_threshold": "loud"}, "vad_threshold"),
    ({"llm": {"temperature": 5}}, "llm"),
    ({"llm": {"max_tokens": 0}}, "llm"),
    ({"llm": {"top_k": 3}}, "llm"),
    ({"llm": {"model": "gpt-nonexistent"}}, "llm"),
    ({"llm": "fast"}, "llm"),
    ({"recording": "yes"}, "recording"),
    ({"greeting": 42}, "greeting"),
    ({"persona_id": "has space"}, "persona_id"),
    ({"colour": "blue"}, "colour"),
])
def test_persona_fields_are_checked_like_session_creation(server, admin, change, param):
    body = {k: v for k, v in {**PERSONA, **change}.items() if v is not None}
    status, error = request(server, "POST", "/v1/personas", admin, body)
    assert status == 400, error
    assert error["error"]["code"] == "invalid_request" and error["error"]["param"] == param


def test_a_bad_patch_changes_nothing(server, admin):
    pid = create_persona(server, admin)["persona_id"]
    status, error = request(server, "PATCH", f"/v1/personas/{pid}", admin, {"voice_id": "nadia_v2", "name": "X"})
    assert status == 400 and error["error"]["param"] == "voice_id"
    status, error = request(server, "PATCH", f"/v1/personas/{pid}", admin, {"name": None})
    assert status == 400 and error["error"]["param"] == "name"
    assert request(server, "GET", f"/v1/personas/{pid}", admin)[1]["name"] == "Acme support"


@pytest.mark.parametrize("raw", [b"{not json", b"[1]", b""])
def test_bodies_that_are_not_objects(server, admin, raw):
    for path in ("/v1/personas", "/v1/phone-numbers"):
        status, error = request(server, "POST", path, admin, raw=raw)
        assert status == 400 and error["error"]["code"] == "invalid_request"


def test_number_routes(server, admin):
    pid = create_persona(server, admin)["persona_id"]
    other = create_persona(server, admin, name="Other")["persona_id"]
    status, route = request(server, "POST", "/v1/phone-numbers", admin, {"number": "+1 (555) 010-0", "persona_id": pid})
    assert status == 201, route
    assert route["number"] == "+15550100" and route["persona_id"] == pid and route["persona_name"] == "Acme support"
    status, sip = request(server, "POST", "/v1/phone-numbers", admin, {"number": "1000", "persona_id": pid})
    assert status == 201 and sip["number"] == "1000"

    status, error = request(server, "POST", "/v1/phone-numbers", admin, {"number": "+15550100", "persona_id": other})
    assert status == 409 and error["error"]["param"] == "number"
    assert pid in error["error"]["message"]

    _, listed = request(server, "GET", "/v1/phone-numbers", admin)
    assert {"+15550100", "1000"} <= {r["number"] for r in listed["phone_numbers"]}
    _, persona = request(server, "GET", f"/v1/personas/{pid}", admin)
    assert sorted(persona["numbers"]) == ["+15550100", "1000"]

    # "+" in a path may come percent-encoded or not
    assert request(server, "GET", "/v1/phone-numbers/%2B15550100", admin)[1]["persona_id"] == pid
    status, moved = request(server, "PATCH", "/v1/phone-numbers/+15550100", admin, {"persona_id": other})
    assert status == 200 and moved["persona_id"] == other

    status, error = request(server, "DELETE", f"/v1/personas/{pid}", admin)
    assert status == 409 and "1000" in error["error"]["message"]
    for number in ("1000", "%2B15550100"):
        assert request(server, "DELETE", f"/v1/phone-numbers/{number}", admin)[0] == 200
    assert request(server, "DELETE", "/v1/phone-numbers/1000", admin)[0] == 404
    assert request(server, "GET", "/v1/phone-numbers/1000", admin)[0] == 404
    assert request(server, "DELETE", f"/v1/personas/{pid}", admin)[0] == 200


def test_the_default_route(server, admin):
    pid = create_persona(server, admin)["persona_id"]
    status, route = request(server, "POST", "/v1/phone-numbers", admin, {"number": "default", "persona_id": pid})
    assert status == 201 and route["default"] is True
    assert request(server, "POST", "/v1/phone-numbers", admin, {"number": "default", "persona_id": pid})[0] == 409
    assert request(server, "DELETE", "/v1/phone-numbers/default", admin)[0] == 200


@pytest.mark.parametrize(("body", "status", "param"), [
    ({"number": "+0123", "persona_id": "P"}, 400, "number"),
    ({"number": "+1234567890123456", "persona_id": "P"}, 400, "number"),
    ({"number": "sip:alice@pbx", "persona_id": "P"}, 400, "number"),
    ({"number": "", "persona_id": "P"}, 400, "number"),
    ({"number": 15550100, "persona_id": "P"}, 400, "number"),
    ({"persona_id": "P"}, 400, "number"),
    ({"number": "2000"}, 400, "persona_id"),
    ({"number": "2000", "persona_id": "per_missing"}, 404, "persona_id"),
    ({"number": "2000", "persona_id": 7}, 400, "persona_id"),
    ({"number": "2000", "persona_id": "P", "channel": "sip"}, 400, "channel"),
])
def test_bad_routes(server, admin, body, status, param):
    pid = create_persona(server, admin)["persona_id"]
    body = {k: (pid if v == "P" else v) for k, v in body.items()}
    got, error = request(server, "POST", "/v1/phone-numbers", admin, body)
    assert got == status and error["error"]["param"] == param, error


def test_sessions_from_a_persona_copy_its_settings(server, admin, client_key):
    persona = create_persona(server, admin)
    pid = persona["persona_id"]
    status, session = request(server, "POST", "/v1/conversations/create", client_key,
                              {"persona_id": pid, "max_turns": 4, "metadata": {"ticket": 7}})
    assert status == 201, session
    assert session["persona_id"] == pid and session["voice_id"] == "joe" and session["tools"] == ["lookup_order"]
    assert session["max_turns"] == 4 and session["context_window"] == 20 and session["metadata"] == {"ticket": 7}
    assert session["greeting"] == PERSONA["greeting"] and session["vad_threshold"] == 0.6
    assert session["llm"] == {"max_tokens": 60, "temperature": 0.3}
    # Editing the persona later changes no session already made from it.
    request(server, "PATCH", f"/v1/personas/{pid}", admin, {"system_prompt": "You are a pirate.", "greeting": None})
    _, again = request(server, "GET", f"/v1/conversations/{session['session_id']}", client_key)
    assert again["system_prompt"] == PERSONA["system_prompt"] and again["greeting"] == PERSONA["greeting"]
    status, error = request(server, "POST", "/v1/conversations/create", client_key,
                            {"persona_id": pid, "voice_id": "nadia_v2"})
    assert status == 400 and error["error"]["param"] == "voice_id"


def test_conversation_filters(server, admin, client_key):
    pid = create_persona(server, admin)["persona_id"]
    made = [request(server, "POST", "/v1/conversations/create", client_key, {"persona_id": pid})[1]["session_id"]
            for _ in range(2)]
    status, page = request(server, "GET", f"/v1/conversations?persona_id={pid}", admin)
    assert status == 200 and [c["session_id"] for c in page["conversations"]] == made[::-1]
    _, page = request(server, "GET", f"/v1/conversations?persona_id={pid}&channel=api&status=ready", admin)
    assert len(page["conversations"]) == 2
    for query in ("channel=twilio", "channel=sip", "number=%2B15550177"):
        _, page = request(server, "GET", f"/v1/conversations?persona_id={pid}&{query}", admin)
        assert page["conversations"] == [], query
    status, error = request(server, "GET", "/v1/conversations?channel=fax", admin)
    assert status == 400 and error["error"]["param"] == "channel"


async def test_a_persona_with_a_live_call_cannot_be_deleted(server, admin):
    pid = create_persona(server, admin, greeting=None)["persona_id"]
    _, session = request(server, "POST", "/v1/conversations/create", admin, {"persona_id": pid})
    sid = session["session_id"]
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(f"{server.url}/v1/conversations/{sid}/stream?token={admin}") as ws:
            assert (await ws.receive_json(timeout=10))["type"] == "session_started"
            for _ in range(50):  # the stream marks the session active as it starts
                if request(server, "GET", f"/v1/conversations/{sid}", admin)[1]["status"] == "active":
                    break
                await asyncio.sleep(0.1)
            status, error = request(server, "DELETE", f"/v1/personas/{pid}", admin)
            assert status == 409 and sid in error["error"]["message"]
            await ws.send_json({"type": "end"})
            while (await ws.receive()).type not in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                pass
    for _ in range(50):
        if request(server, "GET", f"/v1/conversations/{sid}", admin)[1]["status"] == "ended":
            break
        await asyncio.sleep(0.1)
    assert request(server, "DELETE", f"/v1/personas/{pid}", admin)[0] == 200
    # The session keeps naming the persona it came from.
    assert request(server, "GET", f"/v1/conversations/{sid}", admin)[1]["persona_id"] == pid


async def test_the_personas_llm_settings_reach_the_engine(server, admin):
    """max_tokens 1: the reply is cut to one token, so it is a word or two however the model would go on."""
    pid = create_persona(server, admin, greeting=None, tools=[],
                         system_prompt="Answer with a long, detailed paragraph.",
                         llm={"max_tokens": 1, "temperature": 0})["persona_id"]
    _, session = request(server, "POST", "/v1/conversations/create", admin, {"persona_id": pid})
    async with aiohttp.ClientSession() as http:
        url = f"{server.url}/v1/conversations/{session['session_id']}/stream?token={admin}"
        async with http.ws_connect(url) as ws:
            await ws.send_json({"type": "user_text", "text": "Tell me about the history of the telephone."})
            while True:
                msg = await ws.receive(timeout=60)
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                event = msg.json()
                if event["type"] == "transcript" and event["role"] == "assistant" and event["is_final"]:
                    break
    assert 0 < len(event["text"].split()) <= 2, event["text"]


def test_the_console_is_served_from_the_package(server):
    import urllib.request

    with urllib.request.urlopen(server.url + "/console/", timeout=10) as resp:
        page = resp.read().decode()
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/html")
        assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert 'src="/console/static/main.js"' in page
    for name in ("main.js", "console.css", "talk.js", "mic-worklet.js"):
        with urllib.request.urlopen(f"{server.url}/console/static/{name}", timeout=10) as resp:
            assert resp.status == 200 and resp.headers["X-Content-Type-Options"] == "nosniff"
    assert request(server, "GET", "/console/static/nope.js", None)[0] == 404
