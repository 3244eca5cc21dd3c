"""Webhook tools on a real `parley serve` with the real models: a slow service gets the hold line and then a
spoken answer; a service that never answers still gets a spoken reply and the turn ends."""

import asyncio
import json
import re

import aiohttp
import pytest
from aiohttp import web

from gateway.client import DEFAULT_PROMPT, GatewayClient, converse
from tests.integration.test_api import new_key
from tests.unit.agents.test_webhook import documented_verifier

QUESTION = "What is the status of order 1234?"
LOOKUP = {"name": "lookup_order",
          "description": "Look up an order by its ID and return its status, carrier and expected delivery.",
          "parameters": {"order_id": {"type": "string", "description": "the order number, digits only",
                                      "required": True}}}


class OrderService:
    """The shop's order service, reached over HTTP by the gateway; answers after `delay_s`."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.requests: list[tuple[dict, bytes]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> "OrderService":
        app = web.Application()
        app.router.add_post("/orders/lookup", self.lookup)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/orders/lookup"
        return self

    async def __aexit__(self, *exc) -> None:
        await self._runner.cleanup()

    async def lookup(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append((dict(request.headers), body))
        await asyncio.sleep(self.delay_s)
        order_id = re.sub(r"\D", "", str(json.loads(body).get("order_id", "")))
        if order_id != "1234":
            return web.json_response({"found": False, "order_id": order_id})
        return web.json_response({"found": True, "order_id": "1234", "status": "shipped", "carrier": "UPS",
                                  "expected_delivery": "Friday"})


@pytest.fixture(scope="module")
def key(server) -> str:
    return new_key(server, "--name", "webhook-tests")


@pytest.fixture(scope="module")
def webhook_secret(server) -> str:
    result = server.cli("webhook-secret")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


async def ask(server, key: str, tool: dict) -> tuple[str, list[dict], bytearray, dict]:
    async with aiohttp.ClientSession() as http:
        client = GatewayClient(server.url, key, http)
        sid = (await client.create(system_prompt=DEFAULT_PROMPT, tools=[tool]))["session_id"]
        result = await converse(client, sid, texts=[QUESTION], on_event=lambda e: None, reply_timeout_s=90)
        detail = await client.request("GET", f"/v1/conversations/{sid}")
    return sid, result.events, result.audio, detail


def kinds(events: list[dict]) -> list[str]:
    return [e["type"] + (":" + e["role"] if "role" in e and e["type"] != "transcript" else "") for e in events]


async def test_a_slow_webhook_gets_the_hold_line_then_a_spoken_answer(server, key, webhook_secret):
    async with OrderService(delay_s=1.5) as service:
        sid, events, audio, detail = await ask(server, key, {**LOOKUP, "url": service.url})
    order = kinds(events)
    call = next(e for e in events if e["type"] == "tool_call")
    result = next(e for e in events if e["type"] == "tool_result")
    assert call["name"] == "lookup_order" and re.sub(r"\D", "", call["arguments"]["order_id"]) == "1234"
    assert result["result"]["status"] == "shipped" and result["duration_ms"] >= 1400
    # the caller heard the hold line while the service was still working, then the answer
    assert order.index("turn_start:assistant") < order.index("tool_result") < order.index("turn_end:assistant")
    said = next(e for e in events if e["type"] == "transcript" and e["role"] == "assistant")["text"]
    assert said.startswith("Let me look that up.") and len(said) > len("Let me look that up.") + 5, said
    assert "ship" in said.lower() or "ups" in said.lower(), said
    assert len(audio) > 16000 * 2  # more than a second of speech
    # the service got the arguments, who asked, and a signature it can check with the README's recipe
    [(headers, body)] = service.requests
    assert json.loads(body) == call["arguments"]
    assert headers["X-Parley-Session-Id"] == sid and headers["X-Parley-Tool-Call-Id"] == call["call_id"]
    assert documented_verifier()(webhook_secret, headers["X-Parley-Signature"], body)
    stored = detail["history"][1]["tool_calls"][0]
    assert stored["result"]["status"] == "shipped" and stored["duration_ms"] == result["duration_ms"]


async def test_a_webhook_that_never_answers_still_gets_a_spoken_reply(server, key):
    async with OrderService(delay_s=30) as service:
        sid, events, audio, detail = await ask(server, key, {**LOOKUP, "url": service.url, "timeout_s": 1.5})
    result = next(e for e in events if e["type"] == "tool_result")
    assert result["error"] == "the tool lookup_order did not answer within 1.5 s"
    assert 1400 <= result["duration_ms"] < 5000
    end = next(e for e in events if e["type"] == "turn_end" and e["role"] == "assistant")
    assert end["interrupted"] is False
    said = next(e for e in events if e["type"] == "transcript" and e["role"] == "assistant")["text"]
    assert said.startswith("Let me look that up.") and len(said) > len("Let me look that up.") + 5, said
    assert len(audio) > 16000 * 2
    assert events[-1]["type"] == "session_ended" and events[-1]["reason"] == "hangup"  # we hung up, not the gateway
    assert detail["history"][1]["tool_calls"][0]["error"] == result["error"]
