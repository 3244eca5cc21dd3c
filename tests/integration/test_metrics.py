"""GET /metrics on a real `parley serve`: Prometheus' text format for an admin key, counting what a call did as
it happened."""

import urllib.request

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.client import GatewayClient, converse
from tests.integration.test_api import new_key, request
from tests.servers import metric


@pytest.fixture(scope="module")
def admin(server) -> str:
    return new_key(server, "--admin", "--name", "prometheus")


def test_metrics_are_prometheus_text_for_an_admin_key_only(server, admin):
    status, error = request(server, "GET", "/metrics", None)
    assert status == 401 and error["error"]["code"] == "unauthorized"
    status, error = request(server, "GET", "/metrics", new_key(server, "--name", "app"))
    assert status == 403 and error["error"]["code"] == "forbidden"
    req = urllib.request.Request(server.url + "/metrics", headers={"Authorization": f"Bearer {admin}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
        families = {f.name for f in text_string_to_metric_families(resp.read().decode())}
    assert {"parley_calls_active", "parley_calls_started", "parley_first_audio_seconds", "parley_errors",
            "parley_tool_calls", "parley_sip_invites", "parley_outbound_frames_late"} <= families


def test_errors_are_counted_by_code(server, admin):
    before = metric(server, admin, "parley_errors_total", {"code": "unauthorized"})
    status, _ = request(server, "GET", "/v1/conversations", None)
    assert status == 401
    assert metric(server, admin, "parley_errors_total", {"code": "unauthorized"}) == before + 1


async def test_a_call_is_counted_with_its_turns_and_latencies(server, admin):
    key = new_key(server, "--name", "metrics")
    labels = {"channel": "api"}
    names = ("parley_turns_total", "parley_llm_first_token_seconds_count", "parley_tts_first_audio_seconds_count",
             "parley_outbound_frames_total")
    before = {name: metric(server, admin, name, labels) for name in names}
    started = metric(server, admin, "parley_calls_started_total", {"channel": "api", "persona": "none"})
    ended = metric(server, admin, "parley_calls_ended_total", {"channel": "api", "reason": "max_turns"})
    async with aiohttp.ClientSession() as http:
        client = GatewayClient(server.url, key, http)
        sid = (await client.create(voice_id="joe", system_prompt="Answer in one short sentence.", max_turns=2))[
            "session_id"]
        result = await converse(client, sid, texts=["Hello, who are you?"], on_event=lambda e: None)
    assert result.events[-1]["type"] == "session_ended"
    after = {name: metric(server, admin, name, labels) for name in names}
    assert metric(server, admin, "parley_calls_started_total", {"channel": "api", "persona": "none"}) == started + 1
    assert metric(server, admin, "parley_calls_ended_total", {"channel": "api", "reason": "max_turns"}) == ended + 1
    assert after["parley_turns_total"] == before["parley_turns_total"] + 2  # the caller's, the reply
    for name in ("parley_llm_first_token_seconds_count", "parley_tts_first_audio_seconds_count"):
        assert after[name] == before[name] + 1, name
    assert after["parley_outbound_frames_total"] > before["parley_outbound_frames_total"]
