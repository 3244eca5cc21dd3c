"""Webhook tools against a real aiohttp server on 127.0.0.1: signed requests in, JSON or clear errors out."""

import asyncio
import json
import re
import socket
from pathlib import Path

import pytest
from aiohttp import web

from agents.events import ToolCall, ToolResult
from agents.providers.llm.base import ToolCallRequest
from agents.tools.handler import ToolContext
from agents.tools.registry import ToolRegistry
from agents.tools.runner import ToolRunner
from agents.tools.spec import ToolDefinition, normalise_parameters
from agents.tools.webhook import WebhookClient
from tests.fakes.engine import FakeASR, FakeLLM, FakeTTS, make_engine, tool_call
from tests.unit.agents.test_call_tools import Call, assistant_end

SECRET = "whsec_test_0123456789abcdef"
README = Path(__file__).resolve().parents[3] / "README.md"


def documented_verifier():
    """The receiver's check exactly as README.md documents it."""
    text = README.read_text()
    section = text[text.index("**Verifying the signature.**"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 - our own README's example
    return namespace["parley_signature_ok"]


class Receiver:
    """A webhook service: records each request; the path picks the behaviour."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{behaviour}", self.handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)  # a slow handler still sleeping is dropped
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        await self._runner.cleanup()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append({"headers": dict(request.headers), "body": body, "path": request.path})
        behaviour = request.match_info["behaviour"]
        if behaviour == "ok":
            args = json.loads(body)
            return web.json_response({"order_id": args.get("order_id"), "status": "shipped"})
        if behaviour == "slow":
            await asyncio.sleep(float(request.query.get("s", "5")))
            return web.json_response({"status": "late"})
        if behaviour == "fail":
            return web.json_response({"error": {"message": "inventory database is down"}}, status=500)
        if behaviour == "html":
            return web.Response(text="<html>hello</html>", content_type="text/html")
        if behaviour == "empty":
            return web.Response(status=204)
        if behaviour == "redirect":
            raise web.HTTPFound("/ok")
        return web.Response(status=404)


@pytest.fixture
async def receiver():
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


@pytest.fixture
async def webhooks():
    client = WebhookClient(SECRET)
    await client.start()
    yield client
    await client.close()


def definition(url: str, timeout_s: float | None = None) -> ToolDefinition:
    return ToolDefinition("lookup_order", "Look up an order",
                          normalise_parameters({"order_id": {"type": "string", "required": True}}, "tools[0]"),
                          url=url, timeout_s=timeout_s)


async def run(webhooks, url: str, arguments: dict | None = None, timeout_s: float | None = None,
              runner_timeout_s: float = 10.0):
    runner = ToolRunner(ToolRegistry(), timeout_s=runner_timeout_s, webhooks=webhooks)
    d = definition(url, timeout_s)
    call = ToolCallRequest("call_7", d.name, arguments if arguments is not None else {"order_id": "1234"})
    return await runner.run({d.name: d}, call, ToolContext("conv_abc", "turn_002"))


async def test_arguments_are_posted_signed_and_the_json_answer_is_the_result(receiver, webhooks):
    record = await run(webhooks, receiver.url + "/ok")
    assert record.error is None and record.result == {"order_id": "1234", "status": "shipped"}
    [sent] = receiver.requests
    assert json.loads(sent["body"]) == {"order_id": "1234"}
    headers = sent["headers"]
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Parley-Session-Id"] == "conv_abc"
    assert headers["X-Parley-Tool-Call-Id"] == "call_7"
    assert headers["X-Parley-Tool-Name"] == "lookup_order"
    verify = documented_verifier()
    assert verify(SECRET, headers["X-Parley-Signature"], sent["body"])
    # ... and the recipe refuses what it should
    assert not verify("whsec_some_other_secret_value", headers["X-Parley-Signature"], sent["body"])
    assert not verify(SECRET, headers["X-Parley-Signature"], sent["body"] + b" ")
    assert not verify(SECRET, "nonsense", sent["body"])
    old = headers["X-Parley-Signature"].replace("t=", "t=1", 1)  # a timestamp from long ago
    assert not verify(SECRET, old, sent["body"])


async def test_a_slow_webhook_times_out_into_an_error_result(receiver, webhooks):
    record = await run(webhooks, receiver.url + "/slow?s=5", timeout_s=0.3)
    assert record.result is None
    assert record.error == "the tool lookup_order did not answer within 0.3 s"
    assert 250 <= record.duration_ms < 1500


async def test_the_gateway_default_timeout_applies_without_a_tool_timeout(receiver, webhooks):
    record = await run(webhooks, receiver.url + "/slow?s=5", runner_timeout_s=0.2)
    assert record.error == "the tool lookup_order did not answer within 0.2 s"


async def test_http_500_is_an_error_result_with_the_services_reason(receiver, webhooks):
    record = await run(webhooks, receiver.url + "/fail")
    assert record.error == "the tool lookup_order failed: its service answered HTTP 500: inventory database is down"


async def test_an_answer_that_is_not_json_is_an_error_result(receiver, webhooks):
    record = await run(webhooks, receiver.url + "/html")
    assert record.error == "the tool lookup_order failed: its service did not answer with JSON"


async def test_an_empty_answer_counts_as_ok(receiver, webhooks):
    record = await run(webhooks, receiver.url + "/empty")
    assert record.error is None and record.result == {"ok": True}


async def test_redirects_are_not_followed(receiver, webhooks):
    record = await run(webhooks, receiver.url + "/redirect")
    assert "answered HTTP 302" in record.error
    assert [r["path"] for r in receiver.requests] == ["/redirect"]


async def test_a_service_that_is_down_is_an_error_result(webhooks):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    record = await run(webhooks, f"http://127.0.0.1:{port}/ok")
    assert record.error == "the tool lookup_order could not reach its service (connection refused)"


async def test_bad_arguments_never_reach_the_webhook(receiver, webhooks):
    record = await run(webhooks, receiver.url + "/ok", arguments={"order_id": 1234})
    assert "invalid arguments for lookup_order" in record.error
    assert receiver.requests == []


async def test_without_a_client_a_webhook_tool_fails_cleanly(receiver):
    record = await run(None, receiver.url + "/ok")
    assert "webhooks are not running" in record.error


async def test_a_webhook_tool_in_a_conversation_is_streamed_and_stored(receiver, webhooks):
    llm = FakeLLM([[tool_call("lookup_order", order_id="1234")], ["Order 1234 has shipped."]])
    engine = make_engine(FakeASR(), llm, FakeTTS(), hold_after_ms=100)
    engine.tools.webhooks = webhooks
    c = Call(engine, tools=(definition(receiver.url + "/slow?s=0.4"),))
    try:
        c.conversation.feed_text("Where is order 1234?")
        await c.wait_for(assistant_end)
        call = next(e for e in c.events if isinstance(e, ToolCall))
        result = next(e for e in c.events if isinstance(e, ToolResult))
        assert call.arguments == {"order_id": "1234"} and result.result == {"status": "late"}
        assert result.duration_ms >= 380
        stored = c.stored()["turn_002"]
        assert stored.tool_calls[0].to_wire() == {"call_id": "call_lookup_order", "name": "lookup_order",
                                                  "arguments": {"order_id": "1234"}, "duration_ms": result.duration_ms,
                                                  "result": {"status": "late"}}
        assert stored.text == "Let me look that up. Order 1234 has shipped."  # the hold line, then the answer
        assert receiver.requests[0]["headers"]["X-Parley-Session-Id"] == "conv_tools"
        assert receiver.requests[0]["headers"]["X-Parley-Turn-Id"] == "turn_002"
    finally:
        await c.close()


async def test_a_webhook_timeout_in_a_conversation_gets_an_apology_and_the_turn_ends(receiver, webhooks):
    tts = FakeTTS()
    llm = FakeLLM([[tool_call("lookup_order", order_id="1234")], [""]])  # the model then says nothing
    engine = make_engine(FakeASR(), llm, tts, hold_after_ms=100)
    engine.tools.webhooks = webhooks
    c = Call(engine, tools=(definition(receiver.url + "/slow?s=5", timeout_s=0.3),))
    try:
        c.conversation.feed_text("Where is order 1234?")
        await c.wait_for(assistant_end, timeout=3)
        assert tts.spoken == ["Let me look that up.", "Sorry, I could not get that information just now."]
        assert "did not answer" in c.stored()["turn_002"].tool_calls[0].error
    finally:
        await c.close()
