"""GET /metrics on a real `parley serve`: Prometheus' text format, counting what a call did as it happened."""

import urllib.request

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from gateway.client import GatewayClient, converse
from tests.integration.test_api import new_key, request
from tests.servers import metric


def test_metrics_are_prometheus_text_without_a_key(server):
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
        families = {f.name for f in text_string_to_metric_families(resp.read().decode())}
    assert {"parley_calls_active", "parley_calls_started", "parley_first_audio_seconds", "parley_errors",
            "parley_tool_calls", "parley_sip_invites", "parley_outbound_frames_late"} <= families


def test_errors_are_counted_by_code(server):
    before = metric(server, "parley_errors_total", {"code": "unauthorized"})
    status, _ = request(server, "GET", "/v1/conversations", None)
    assert status == 401
    assert metric(server, "parley_errors_total", {"code": "unauthorized"}) == before + 1


async def test_a_call_is_counted_with_its_turns_and_latencies(server):
    key = new_key(server, "--name", "metrics")
    labels = {"channel": "api"}
    before = {name: metric(server, name, labels) for name in (
        "parley_turns_total", "parley_llm_first_token_seconds_count", "parley_tts_first_audio_seconds_count",
        "parley_outbound_frames_total")}
    started = metric(server, "parley_calls_started_total", {"channel": "api", "persona": "none"})
    ended = metric(server, "parley_calls_ended_total", {"channel": "api", "reason": "max_turns"})
    async with aiohttp.ClientSession() as http:
        client = GatewayClient(server.url, key, http)
        sid = (await client.create(voice_id="joe", system_prompt="Answer in one short sentence.", max_turns=2))[
            "session_id"]
        result = await converse(client, sid, texts=["Hello, who are you?"], on_event=lambda e: None)
    assert result.events[-1]["type"] == "session_ended"
    assert metric(server, "parley_calls_started_total", {"channel": "api", "persona": "none"}) == started + 1
    assert metric(server, "parley_calls_ended_total", {"channel": "api", "reason": "max_turns"}) == ended + 1
    assert metric(server, "parley_turns_total", labels) == before["parley_turns_total"] + 2  # the caller's, the reply
    for name in ("parley_llm_first_token_seconds_count", "parley_tts_first_audio_seconds_count"):
        assert metric(server, name, labels) == before[name] + 1, name
    assert metric(server, "parley_outbound_frames_total", labels) > before["parley_outbound_frames_total"]
