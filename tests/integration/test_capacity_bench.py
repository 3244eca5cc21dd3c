"""`parley bench capacity` against the shared gateway (real models), on both doors: calls set up, held and
answered, and the server's own figures (CPU and memory per call, outbound clock lag) read from /metrics."""

import json
import subprocess

from tests.integration.test_api import new_key
from tests.integration.twilio.conftest import persona
from tests.servers import PARLEY
from tests.twilio_api import AUTH_TOKEN, PUBLIC_URL

CAPACITY_LINE = "+15557770099"


def bench(server, *args: str) -> dict:
    result = subprocess.run([*PARLEY, "bench", "capacity", server.url, "--calls", "2", "--rate", "4", "--hold", "1",
                             "--turns", "1", "--think", "0.2", "--json", "--quiet", *args],
                            env=server.env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def assert_held_and_answered(report: dict) -> None:
    calls, turns = report["calls"], report["turns"]
    assert calls["set_up"] == 2 and calls["failed"] == 0 and calls["dropped"] == 0 and calls["held_in_window"] == 2
    assert turns["answered"] == 2 and turns["unanswered"] == 0, turns  # each caller asked once and was answered
    assert 0 < turns["latency_p50_ms"] < 15000
    server = report["server"]
    assert server["cpu_percent_of_core"] > 0 and server["rss_mb"] > 100  # the models are in memory
    assert server["outbound_tick_lag_ms"]["ticks"] > 0  # the answers went out on the paced clock
    assert report["stalls"]["frames_heard"] > 50  # a second of speech and more


def test_capacity_over_the_api_stream(server):
    admin = new_key(server, "--admin", "--name", "capacity")
    report = bench(server, "--door", "api", "--key", new_key(server, "--name", "capacity-api"), "--admin-key", admin)
    assert report["door"] == "api"
    assert_held_and_answered(report)


def test_capacity_over_twilio_media_streams(server):
    admin = new_key(server, "--admin", "--name", "capacity-twilio")
    persona(server, admin, CAPACITY_LINE, system_prompt="You answer Acme's phone. One short sentence.",
            greeting="Acme, hello.")
    report = bench(server, "--door", "twilio", "--to", CAPACITY_LINE, "--twilio-auth-token", AUTH_TOKEN,
                   "--public-url", PUBLIC_URL, "--admin-key", admin)
    assert report["door"] == "twilio" and report["set_up_s"]["p50"] > 0  # the signed webhook answered
    assert_held_and_answered(report)


def test_an_unrouted_number_is_a_failed_call_not_a_crash(server):
    result = subprocess.run([*PARLEY, "bench", "capacity", server.url, "--door", "twilio", "--to", "+15550000001",
                             "--calls", "1", "--hold", "0", "--silent", "--quiet", "--twilio-auth-token", AUTH_TOKEN,
                             "--public-url", PUBLIC_URL], env=server.env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "0/1 set up, 1 failed" in result.stdout and "is the number routed?" in result.stdout
