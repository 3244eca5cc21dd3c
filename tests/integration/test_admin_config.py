"""Personas and routes declared in the TOML configuration: loaded at start, visible and read-only in the API."""

import json
import time

import pytest

from tests.integration.test_api import new_key, request
from tests.servers import start_server, stop_server

CONFIG = """
[routing]
default_persona = "front"

[personas.support]
name = "Acme support"
voice_id = "joe"
system_prompt = "You help Acme customers."
greeting = "Acme support, how can I help?"
numbers = ["+1 555 010-0", "1000"]
tools = [{ name = "lookup_order" }]
llm = { max_tokens = 80 }

[personas.front]
name = "Front desk"
voice_id = "joe"
system_prompt = "You answer the front desk."

[personas.broken]
voice_id = "nadia_v2"
system_prompt = "x"
"""


@pytest.fixture(scope="module")
def configured(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("configured")
    path = tmp / "parley.toml"
    path.write_text(CONFIG)
    server = start_server(tmp, {"PARLEY_CONFIG": str(path)})
    yield server, path
    stop_server(server)


def test_declared_personas_and_routes_are_listed(configured):
    server, _ = configured
    admin = new_key(server, "--admin")
    _, listed = request(server, "GET", "/v1/personas", admin)
    personas = {p["persona_id"]: p for p in listed["personas"]}
    assert set(personas) == {"support", "front", "broken"}
    support = personas["support"]
    assert support["source"] == "config" and support["name"] == "Acme support"
    assert sorted(support["numbers"]) == ["+15550100", "1000"] and support["llm"] == {"max_tokens": 80}
    assert personas["front"]["numbers"] == ["default"]
    assert "problem" not in support
    # A declared persona that does not fit what is installed says why, instead of failing calls silently.
    assert personas["broken"]["name"] == "broken" and personas["broken"]["problem"]["param"] == "voice_id"
    _, routes = request(server, "GET", "/v1/phone-numbers", admin)
    assert {(r["number"], r["persona_id"], r["source"]) for r in routes["phone_numbers"]} == {
        ("+15550100", "support", "config"), ("1000", "support", "config"), ("default", "front", "config")}


def test_declared_ones_are_read_only(configured):
    server, _ = configured
    admin = new_key(server, "--admin")
    for method, path, body in (("PATCH", "/v1/personas/support", {"name": "x"}), ("DELETE", "/v1/personas/support", None),
                               ("DELETE", "/v1/phone-numbers/1000", None),
                               ("PATCH", "/v1/phone-numbers/default", {"persona_id": "support"})):
        status, error = request(server, method, path, admin, body)
        assert status == 409 and "configuration" in error["error"]["message"], (method, path, error)
    status, error = request(server, "POST", "/v1/phone-numbers", admin, {"number": "1000", "persona_id": "front"})
    assert status == 409


def test_sessions_start_from_a_declared_persona(configured):
    server, _ = configured
    key = new_key(server)
    status, session = request(server, "POST", "/v1/conversations/create", key, {"persona_id": "support"})
    assert status == 201 and session["persona_id"] == "support" and session["greeting"] == "Acme support, how can I help?"


def test_a_restart_with_another_file_replaces_the_declared_ones(tmp_path):
    path = tmp_path / "parley.toml"
    path.write_text(CONFIG)
    server = start_server(tmp_path, {"PARLEY_CONFIG": str(path)})
    admin = new_key(server, "--admin")
    status, mine = request(server, "POST", "/v1/personas", admin,
                           {"name": "Mine", "voice_id": "joe", "system_prompt": "Hi."})
    assert status == 201
    assert request(server, "POST", "/v1/phone-numbers", admin, {"number": "2000", "persona_id": "front"})[0] == 201
    stop_server(server)
    path.write_text('[personas.sales]\nvoice_id = "joe"\nsystem_prompt = "Sell."\nnumbers = ["3000"]\n')
    server = start_server(tmp_path, {"PARLEY_CONFIG": str(path)})
    try:
        _, listed = request(server, "GET", "/v1/personas", admin)
        personas = {p["persona_id"]: p["source"] for p in listed["personas"]}
        # support and broken went with the file; front stays (an API route still uses it), now the API's own.
        assert personas == {"sales": "config", "front": "api", mine["persona_id"]: "api"}
        _, routes = request(server, "GET", "/v1/phone-numbers", admin)
        assert {r["number"] for r in routes["phone_numbers"]} == {"2000", "3000"}
    finally:
        stop_server(server)


def test_a_default_persona_that_does_not_exist_stops_start_up(tmp_path):
    path = tmp_path / "parley.toml"
    path.write_text('[routing]\ndefault_persona = "ghost"\n')
    with pytest.raises(RuntimeError, match="routing.default_persona"):
        start_server(tmp_path, {"PARLEY_CONFIG": str(path)}, ready_timeout=60)


def test_the_default_routes_persona_and_the_demo_agent_are_in_the_llm_cache_before_the_first_call(configured):
    # The first call after a start-up found the LLM's prompt cache cold (first answer 2.5-3.5 s): the
    # prompts the first calls use are read in as soon as the models are loaded (gateway/prompt_warmth.py).
    server, _ = configured
    deadline = time.monotonic() + 120
    warmed: set[str] = set()
    while time.monotonic() < deadline and warmed != {"demo", "persona:front"}:
        lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
        warmed = {line["prompt"] for line in lines if line.get("event") == "prompt_warmed"}
        time.sleep(0.2)
    assert warmed == {"demo", "persona:front"}
