"""route_call: the dialled number -> the persona routed to it (TOML-declared here) -> its checked session settings."""

import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.config import ConfigError, load_config
from gateway.models import Models
from gateway.routing import normalise_number, number_candidates, parse_number, route_call
from agents.errors import InvalidRequest
from tests.fakes.engine import FakeASR, FakeLLM, FakeTTS, make_engine

TOML = """
[routing]
default_persona = "front"

[personas.support]
name = "Acme support"
voice_id = "fake_voice"
system_prompt = "You help Acme customers."
greeting = "Acme support, how can I help?"
vad_threshold = 0.7
recording = true
numbers = ["+1 555 010-0", "1000"]
tools = [{ name = "end_call" }]
llm = { temperature = 0.6, max_tokens = 90 }

[personas.front]
name = "Front desk"
voice_id = "fake_voice"
system_prompt = "You answer the front desk."

[personas.broken]
name = "Broken"
voice_id = "no_such_voice"
system_prompt = "x"
numbers = ["2000"]
"""


@pytest.fixture
async def app(tmp_path):
    path = tmp_path / "parley.toml"
    path.write_text(TOML)
    engine = make_engine(FakeASR(), FakeLLM([]), FakeTTS())
    voice = FakeTTS().voices()[0]
    models = Models(engine=engine, voices={voice.voice_id: voice}, languages=frozenset({"en"}),
                    registry=engine.tools.registry)
    models.ready.set()
    config = load_config(path, env={"PARLEY_DATA_DIR": str(tmp_path)})
    client = TestClient(TestServer(create_app(config, models=models)))
    await client.start_server()
    yield client.app
    await client.close()


async def test_a_routed_number_gets_its_personas_settings(app):
    request = await route_call(app, "+15550100", "twilio")
    assert request is not None and request.persona_id == "support"
    assert request.voice_id == "fake_voice" and request.greeting == "Acme support, how can I help?"
    assert request.vad_threshold == 0.7 and request.recording is True
    assert request.llm.temperature == 0.6 and request.llm.max_tokens == 90
    assert [t.name for t in request.tools] == ["end_call"]
    settings = request.settings()
    assert settings["llm"] == {"max_tokens": 90, "temperature": 0.6} and settings["recording"] is True


async def test_sip_user_parts_and_a_plus_dropped_by_a_pbx(app):
    assert (await route_call(app, "1000", "sip")).persona_id == "support"
    assert (await route_call(app, "15550100", "sip")).persona_id == "support"


async def test_unrouted_numbers_take_the_default_route(app):
    assert (await route_call(app, "+15559999", "twilio")).persona_id == "front"


async def test_an_invalid_persona_is_unrouted_not_a_crash(app):
    assert await route_call(app, "2000", "sip") is None


async def test_no_default_route_means_unrouted(tmp_path):
    engine = make_engine(FakeASR(), FakeLLM([]), FakeTTS())
    models = Models(engine=engine, voices={}, languages=frozenset({"en"}), registry=engine.tools.registry)
    models.ready.set()
    client = TestClient(TestServer(create_app(load_config(env={"PARLEY_DATA_DIR": str(tmp_path)}), models=models)))
    await client.start_server()
    try:
        assert await route_call(client.app, "+15550100", "twilio") is None
    finally:
        await client.close()


def test_numbers_are_normalised_and_checked():
    assert normalise_number(" +1 (555) 010-0 ") == "+15550100"
    assert parse_number("support") == "support" and parse_number("default") == "default"
    assert number_candidates("+15550100") == ["+15550100", "15550100"]
    for bad in ("+0123", "+1234567890123456", "", "sip:alice@pbx", "a b", 5):
        with pytest.raises(InvalidRequest):
            parse_number(bad)


def test_bad_persona_tables_stop_start_up(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[personas."bad id"]\nvoice_id = "joe"\n')
    with pytest.raises(ConfigError, match="persona id"):
        load_config(path, env={})
    path.write_text('[personas.x]\nnumbers = "1000"\n')
    with pytest.raises(ConfigError, match="numbers"):
        load_config(path, env={})
