"""Tools through the API, in-process with scripted models: create-time checks, DTMF and call control on the stream."""

import json

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.app_keys import STORAGE
from gateway.auth import create_api_key
from gateway.config import load_config
from gateway.models import Models
from tests.fakes.engine import FakeASR, FakeLLM, FakeTTS, make_engine, tool_call

WEBHOOK = {"name": "check_stock", "description": "How many are in stock",
           "parameters": {"sku": {"type": "string", "required": True}},
           "url": "https://shop.example.com/parley/check_stock", "timeout_s": 2.5, "cancel_on_interrupt": True}


class Api:
    def __init__(self, client: TestClient, key: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {key}"}

    async def create(self, **fields):
        body = {"voice_id": "fake_voice", "system_prompt": "Be brief.", **fields}
        resp = await self.client.post("/v1/conversations/create", json=body, headers=self.headers)
        return resp.status, await resp.json()

    async def get(self, session_id: str) -> dict:
        resp = await self.client.get(f"/v1/conversations/{session_id}", headers=self.headers)
        return await resp.json()

    async def stream(self, session_id: str):
        return await self.client.ws_connect(f"/v1/conversations/{session_id}/stream", headers=self.headers)


@pytest.fixture
async def gateway(tmp_path):
    """An app whose models are scripted: `start(llm_scripts)` returns an Api bound to it."""
    opened = []

    async def start(scripts=(), **env):
        engine = make_engine(FakeASR(), FakeLLM(list(scripts)), FakeTTS())
        voice = FakeTTS().voices()[0]
        models = Models(engine=engine, voices={voice.voice_id: voice}, languages=frozenset({"en"}),
                        registry=engine.tools.registry)
        models.ready.set()
        config = load_config(env={"PARLEY_DATA_DIR": str(tmp_path), **env})
        client = TestClient(TestServer(create_app(config, models=models)))
        await client.start_server()
        opened.append(client)
        key = await create_api_key(client.app[STORAGE], name="tools")
        return Api(client, key.key)

    yield start
    for client in opened:
        await client.close()


async def events_until(ws, stop, timeout: float = 5.0) -> list[dict]:
    events = []
    while True:
        msg = await ws.receive(timeout=timeout)
        if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
            return events
        if msg.type == aiohttp.WSMsgType.TEXT:
            events.append(json.loads(msg.data))
            if stop(events[-1]):
                return events


def is_assistant_end(e: dict) -> bool:
    return e["type"] == "turn_end" and e["role"] == "assistant"


@pytest.mark.parametrize(("fields", "param", "says"), [
    ({"tools": [{**WEBHOOK, "url": "ftp://shop.example.com/x"}]}, "tools", "tools[0].url must be an http:// or https://"),
    ({"tools": [{**WEBHOOK, "url": "https://"}]}, "tools", "with a host"),
    ({"tools": [{**WEBHOOK, "url": "http://shop.example.com:99999/x"}]}, "tools", "tools[0].url"),
    ({"tools": [{**WEBHOOK, "url": 42}]}, "tools", "tools[0].url"),
    ({"tools": [{**WEBHOOK, "retries": 3}]}, "tools", "unknown field(s): retries"),
    ({"tools": [{"name": "check_stock", "url": "https://shop.example.com/x"}]}, "tools", "description is required"),
    ({"tools": [{**WEBHOOK, "timeout_s": 0}]}, "tools", "timeout_s must be a number"),
    ({"tools": [{**WEBHOOK, "timeout_s": "5"}]}, "tools", "timeout_s must be a number"),
    ({"tools": [{**WEBHOOK, "timeout_s": True}]}, "tools", "timeout_s must be a number"),
    ({"tools": [{**WEBHOOK, "timeout_s": 3600}]}, "tools", "at most 600"),
    ({"tools": [{**WEBHOOK, "cancel_on_interrupt": "yes"}]}, "tools", "cancel_on_interrupt must be true or false"),
    ({"tools": [{"name": "end_call", "url": "https://x.example.com/", "description": "d"}]}, "tools", "built-in"),
    ({"tools": [{"name": "book_table"}]}, "tools", "no handler is installed for tool 'book_table'"),
    ({"transfer_targets": "+15550100"}, "transfer_targets", "must be an array"),
    ({"transfer_targets": [15550100]}, "transfer_targets", "transfer_targets[0]"),
    ({"transfer_targets": ["+15550100", "555-0100"]}, "transfer_targets", "transfer_targets[1] must be an E.164"),
    ({"transfer_targets": ["tel:+15550100"]}, "transfer_targets", "or a sip: URI"),
    ({"tools": [{"name": "transfer_call"}]}, "transfer_targets", "transfer_call needs transfer_targets"),
    ({"transfer_to": ["+15550100"]}, "transfer_to", "unknown field 'transfer_to'"),
])
async def test_bad_tool_settings_are_400_naming_the_param(gateway, fields, param, says):
    api = await gateway()
    status, body = await api.create(**fields)
    assert status == 400, body
    assert body["error"]["code"] == "invalid_request" and body["error"]["param"] == param
    assert says in body["error"]["message"]


async def test_webhook_and_builtin_tools_and_transfer_targets_are_kept(gateway):
    api = await gateway()
    status, body = await api.create(
        tools=[WEBHOOK, {"name": "end_call"}, {"name": "transfer_call"}, {"name": "send_dtmf"}],
        transfer_targets=["+15550100", "sip:desk@pbx.example.com"])
    assert status == 201, body
    assert body["tools"] == ["check_stock", "end_call", "transfer_call", "send_dtmf"]
    assert body["transfer_targets"] == ["+15550100", "sip:desk@pbx.example.com"]
    detail = await api.get(body["session_id"])
    assert detail["transfer_targets"] == body["transfer_targets"]
    stored = (await api.client.app[STORAGE].get_session(body["session_id"])).settings["tools"]
    assert stored[0]["url"] == WEBHOOK["url"] and stored[0]["timeout_s"] == 2.5 and stored[0]["cancel_on_interrupt"]
    assert stored[1]["description"].startswith("End the call")  # the built-in's own description
    # the model is shown exactly where it may transfer to
    assert stored[2]["parameters"]["properties"]["target"]["description"].endswith(
        "allowed: +15550100, sip:desk@pbx.example.com")


async def test_key_presses_on_the_stream_become_a_user_turn(gateway):
    api = await gateway([["You pressed one two, thanks."]])
    _, body = await api.create()
    async with await api.stream(body["session_id"]) as ws:
        assert (await ws.receive_json(timeout=5))["type"] == "session_started"
        for bad in ({"type": "dtmf", "digits": "12x"}, {"type": "dtmf", "digits": ""}, {"type": "dtmf"},
                    {"type": "dtmf", "digits": 12}):
            await ws.send_json(bad)
            event = await ws.receive_json(timeout=5)
            assert event["type"] == "error" and event["code"] == "bad_message" and "dtmf" in event["message"]
        await ws.send_json({"type": "dtmf", "digits": "12#"})  # the stream stayed open
        events = await events_until(ws, is_assistant_end)
        await ws.send_json({"type": "end"})
    assert [e["type"] for e in events[:3]] == ["turn_start", "transcript", "turn_end"]
    assert events[1] == {"type": "transcript", "role": "user", "text": "caller pressed 12#", "is_final": True,
                         "turn_id": "turn_001"}
    detail = await api.get(body["session_id"])
    assert [(t["role"], t["text"]) for t in detail["history"]] == [
        ("user", "caller pressed 12#"), ("assistant", "You pressed one two, thanks.")]


async def test_end_call_on_the_stream_ends_with_hangup_and_closes_the_socket(gateway):
    api = await gateway([["Goodbye, and thanks! ", tool_call("end_call")]])
    _, body = await api.create(tools=[{"name": "end_call"}])
    async with await api.stream(body["session_id"]) as ws:
        assert (await ws.receive_json(timeout=5))["type"] == "session_started"
        await ws.send_json({"type": "user_text", "text": "That's all, bye."})
        events = await events_until(ws, lambda e: False)  # until the server closes the socket
        assert ws.closed or (await ws.receive(timeout=5)).type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    kinds = [e["type"] for e in events]
    assert kinds[-3:] == ["transcript", "turn_end", "session_ended"]
    assert events[-1] == {"type": "session_ended", "reason": "hangup", "total_turns": 2}
    detail = await api.get(body["session_id"])
    assert detail["status"] == "ended" and detail["end_reason"] == "hangup"
    assert detail["history"][1]["tool_calls"][0]["name"] == "end_call"
    assert detail["history"][1]["text"] == "Goodbye, and thanks!"


async def test_transfer_and_keys_out_are_not_available_on_the_api_channel(gateway):
    api = await gateway([[tool_call("transfer_call", target="+15550100"), tool_call("send_dtmf", digits="1")],
                         ["I cannot transfer you from here."]])
    _, body = await api.create(tools=[{"name": "transfer_call"}, {"name": "send_dtmf"}],
                               transfer_targets=["+15550100"])
    async with await api.stream(body["session_id"]) as ws:
        await ws.receive_json(timeout=5)
        await ws.send_json({"type": "user_text", "text": "Put me through to sales."})
        events = await events_until(ws, is_assistant_end)
        await ws.send_json({"type": "end"})
    results = [e for e in events if e["type"] == "tool_result"]
    assert [r["error"] for r in results] == ["transferring the call is not available on the api channel",
                                             "sending key presses is not available on the api channel"]
    assert any(e["type"] == "transcript" and e["role"] == "assistant" and e["text"] == "I cannot transfer you from here."
               for e in events)


async def test_admins_see_the_installed_tools_with_the_built_ins(gateway):
    api = await gateway()
    resp = await api.client.get("/v1/tools", headers=api.headers)
    assert resp.status == 403 and (await resp.json())["error"]["code"] == "forbidden"
    admin = await create_api_key(api.client.app[STORAGE], name="admin", admin=True)
    resp = await api.client.get("/v1/tools", headers={"Authorization": f"Bearer {admin.key}"})
    tools = {t["name"]: t for t in (await resp.json())["tools"]}
    assert {"end_call", "transfer_call", "send_dtmf"} <= set(tools)
    assert tools["transfer_call"]["builtin"] is True
    assert tools["transfer_call"]["parameters"]["required"] == ["target"]
    assert tools["send_dtmf"]["description"].startswith("Send telephone key presses")
