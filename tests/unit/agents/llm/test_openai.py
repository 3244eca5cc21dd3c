"""OpenAICompatibleLLM against a real OpenAI-compatible server on loopback (llama.cpp's, inside xllamacpp),
plus a replaying server for the SSE shapes the local one never sends (tool_call deltas split over chunks)."""

import asyncio
import contextlib
import json
import socket
import time
import urllib.request

import pytest
from aiohttp import web

from agents.errors import ProviderError
from agents.providers.llm.base import LLMOptions, Message, TextDelta, ToolCallRequest, ToolCallStarting, ToolSpec
from agents.providers.llm.openai import OpenAICompatibleLLM

SYSTEM = Message("system", "You are a concise phone support agent for Acme. Answer in one or two short sentences.")
LOOKUP = ToolSpec(
    "lookup_order",
    "Look up the status of a customer's order by its order number.",
    {"type": "object", "properties": {"order_id": {"type": "string", "description": "The order number"}}, "required": ["order_id"]},
)
GREEDY = LLMOptions(temperature=0.0, max_tokens=24, extra={"seed": 1})


async def _collect(llm, messages, tools=(), options=GREEDY):
    return [out async for out in llm.reply(messages, list(tools), options)]


# --- the real server -------------------------------------------------------------------------------


@pytest.fixture
async def client(http_llm_server):
    url, key = http_llm_server
    llm = OpenAICompatibleLLM(url + "/v1", "default", api_key=key)
    yield llm
    await llm.close()


@pytest.mark.slow
async def test_streams_text(client):
    outs = await _collect(client, [SYSTEM, Message("user", "Hi, can you help me?")])
    assert len(outs) >= 3 and all(isinstance(o, TextDelta) for o in outs)
    assert "".join(o.text for o in outs).strip()


@pytest.mark.slow
async def test_a_tool_call_comes_back_as_a_request(client):
    outs = await _collect(client, [SYSTEM, Message("user", "What is the status of order 1234?")], [LOOKUP], LLMOptions(0.0, 60, {"seed": 1}))
    assert [(o.name, o.arguments) for o in outs if isinstance(o, ToolCallRequest)] == [("lookup_order", {"order_id": "1234"})]
    assert "{" not in "".join(o.text for o in outs if isinstance(o, TextDelta))


TOOL_TURN = [
    SYSTEM,
    Message("user", "What is the status of order 1234?"),
    Message("assistant", "", tool_calls=(ToolCallRequest("call_1", "lookup_order", {"order_id": "1234"}),)),
    Message("tool", '{"status": "shipped", "carrier": "UPS"}', tool_call_id="call_1", name="lookup_order"),
]


@pytest.mark.slow
async def test_the_server_takes_a_tool_result_in_openai_shape(client):
    # llama.cpp validates tool_calls / tool_call_id; a 0.5B model answers this shape with echoed
    # JSON, which is never spoken, so only "accepted, and no braces read out" is asserted here
    outs = await _collect(client, TOOL_TURN, [LOOKUP], LLMOptions(0.0, 40, {"seed": 1}))
    assert "{" not in "".join(o.text for o in outs if isinstance(o, TextDelta))


@pytest.mark.slow
async def test_plain_tool_turns_let_a_small_model_answer_from_the_result(http_llm_server):
    url, key = http_llm_server
    llm = OpenAICompatibleLLM(url + "/v1", "default", api_key=key, plain_tool_turns=True)
    outs = await _collect(llm, TOOL_TURN, [LOOKUP], LLMOptions(0.0, 40, {"seed": 1}))
    await llm.close()
    assert all(isinstance(o, TextDelta) for o in outs)
    assert "shipped" in "".join(o.text for o in outs).lower()


@pytest.mark.slow
async def test_breaking_off_drops_the_connection_and_the_server_stops(client, http_llm_server):
    url, key = http_llm_server
    replies = client.reply([Message("user", "Tell me a long story about a lighthouse keeper.")], [], LLMOptions(0.0, 400))
    async with contextlib.aclosing(replies):
        async for _ in replies:
            break
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        if not any(slot["is_processing"] for slot in await asyncio.to_thread(_slots, url, key)):
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the server kept generating after the client went away")


def _slots(url: str, key: str) -> list[dict]:
    req = urllib.request.Request(url + "/slots", headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.load(resp)


@pytest.mark.slow
async def test_a_wrong_key_is_a_provider_error(http_llm_server):
    url, _ = http_llm_server
    llm = OpenAICompatibleLLM(url + "/v1", "default", api_key="wrong")
    with pytest.raises(ProviderError, match="401"):
        await _collect(llm, [Message("user", "hi")])
    await llm.close()


async def test_an_unreachable_server_is_a_provider_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    llm = OpenAICompatibleLLM(f"http://127.0.0.1:{port}/v1", "m")
    with pytest.raises(ProviderError, match=f"127.0.0.1:{port}"):
        await _collect(llm, [Message("user", "hi")])
    await llm.close()


# --- a replaying server: chunk shapes as OpenAI documents them ----------------------------------

CHUNKS = [
    {"choices": [{"index": 0, "delta": {"role": "assistant", "content": None}, "finish_reason": None}]},
    {"choices": [{"index": 0, "delta": {"content": "One moment"}, "finish_reason": None}]},
    {"choices": [{"index": 0, "delta": {"content": "."}, "finish_reason": None}]},
    {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_Xy1", "type": "function", "function": {"name": "lookup_order", "arguments": ""}}]}, "finish_reason": None}]},
    {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{"ord'}}]}, "finish_reason": None}]},
    {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": 'er_id": "12'}}]}, "finish_reason": None}]},
    {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '34"}'}}]}, "finish_reason": None}]},
    {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 1, "id": "call_Zz2", "type": "function", "function": {"name": "end_call", "arguments": "{}"}}]}, "finish_reason": None}]},
    {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
]


@contextlib.asynccontextmanager
async def replay(handler):
    app = web.Application()
    app.router.add_post("/v1/chat/completions", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        await runner.cleanup()


async def test_tool_call_deltas_split_over_chunks_become_requests():
    seen = {}

    async def handler(request):
        seen["body"] = await request.json()
        seen["auth"] = request.headers.get("Authorization")
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(b": keep-alive comment\r\n\r\n")
        for chunk in CHUNKS:
            await resp.write(f"data: {json.dumps(chunk)}\r\n\r\n".encode())
        await resp.write(b"data:[DONE]\n\n")
        return resp

    end_call = ToolSpec("end_call", "Hang up", {"type": "object", "properties": {}})
    async with replay(handler) as url:
        llm = OpenAICompatibleLLM(url, "gpt-test", api_key="sk-test")
        outs = await _collect(llm, TOOL_TURN, [LOOKUP, end_call], LLMOptions(0.3, 50))
        await llm.close()
    assert outs == [
        TextDelta("One moment"),
        TextDelta("."),
        ToolCallStarting("lookup_order"),  # as soon as the first tool-call fragment arrives: the hold line can start
        ToolCallRequest("call_Xy1", "lookup_order", {"order_id": "1234"}),
        ToolCallRequest("call_Zz2", "end_call", {}),
    ]
    body = seen["body"]
    assert seen["auth"] == "Bearer sk-test"
    assert body["model"] == "gpt-test" and body["stream"] is True and body["max_tokens"] == 50 and body["temperature"] == 0.3
    assert [t["function"]["name"] for t in body["tools"]] == ["lookup_order", "end_call"]
    assert body["messages"][2:] == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "lookup_order", "arguments": '{"order_id": "1234"}'}}],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"status": "shipped", "carrier": "UPS"}', "name": "lookup_order"},
    ]


async def test_a_stalled_stream_times_out():
    release = asyncio.Event()

    async def handler(request):
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(f"data: {json.dumps(CHUNKS[1])}\n\n".encode())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(release.wait(), 10)
        return resp

    async with replay(handler) as url:
        llm = OpenAICompatibleLLM(url, "m", timeout_s=0.3)
        outs = []
        try:
            with pytest.raises(ProviderError, match="sent nothing for 0.3 s"):
                async for out in llm.reply([Message("user", "hi")], [], GREEDY):
                    outs.append(out)
        finally:
            release.set()
            await llm.close()
    assert outs == [TextDelta("One moment")]


async def test_an_error_event_mid_stream_is_a_provider_error():
    async def handler(request):
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(b'data: {"error": {"message": "context length exceeded", "type": "invalid_request_error"}}\n\n')
        return resp

    async with replay(handler) as url:
        llm = OpenAICompatibleLLM(url, "m")
        with pytest.raises(ProviderError, match="context length exceeded"):
            await _collect(llm, [Message("user", "hi")])
        await llm.close()
