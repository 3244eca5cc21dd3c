"""A session's ASR settings over HTTP against a real `parley serve`: `vocabulary` and `asr.model` (another loaded
recogniser for its language), on a session and on a persona, a call heard on the picked model, and the 400s."""

import aiohttp
import pytest

from gateway.client import GatewayClient, converse
from tests.integration.languages import words
from tests.integration.test_admin_api import create_persona
from tests.integration.test_api import SEED_BODY, new_key, request
from tests.unit.agents.asr.clips import at_rate, piper


@pytest.fixture(scope="module")
def admin(server) -> str:
    return new_key(server, "--admin", "--name", "vocabulary-admin")


@pytest.fixture(scope="module")
def client_key(server) -> str:
    return new_key(server, "--name", "vocabulary-app")


def test_a_session_keeps_and_shows_its_vocabulary(server, client_key):
    status, body = request(server, "POST", "/v1/conversations/create", client_key,
                           {**SEED_BODY, "vocabulary": ["Acme", "Nguyen", "Acme"]})
    assert status == 201, body
    assert body["vocabulary"] == ["Acme", "Nguyen"]
    status, got = request(server, "GET", f"/v1/conversations/{body['session_id']}", client_key)
    assert status == 200 and got["vocabulary"] == ["Acme", "Nguyen"]
    status, plain = request(server, "POST", "/v1/conversations/create", client_key, SEED_BODY)
    assert status == 201 and "vocabulary" not in plain


@pytest.mark.parametrize("vocabulary", ["Acme", [""], ["x" * 65], [f"w{i}" for i in range(101)], [1]])
def test_a_bad_vocabulary_is_a_400_naming_it(server, client_key, vocabulary):
    status, body = request(server, "POST", "/v1/conversations/create", client_key,
                           {**SEED_BODY, "vocabulary": vocabulary})
    assert status == 400, body
    assert body["error"]["code"] == "invalid_request" and body["error"]["param"] == "vocabulary"


def test_a_persona_vocabulary_reaches_its_sessions(server, admin, client_key):
    persona = create_persona(server, admin, vocabulary=["Acme", "refund"])
    assert persona["vocabulary"] == ["Acme", "refund"]
    status, body = request(server, "POST", "/v1/conversations/create", client_key,
                           {"persona_id": persona["persona_id"]})
    assert status == 201 and body["vocabulary"] == ["Acme", "refund"], body
    status, body = request(server, "POST", "/v1/conversations/create", client_key,
                           {"persona_id": persona["persona_id"], "vocabulary": ["Globex"]})
    assert status == 201 and body["vocabulary"] == ["Globex"]  # the request's own field wins
    status, error = request(server, "POST", "/v1/personas", admin, {"name": "x", "voice_id": "joe",
                                                                    "system_prompt": "Hi.", "vocabulary": [""]})
    assert status == 400 and error["error"]["param"] == "vocabulary"
    status, plain = request(server, "GET", f"/v1/personas/{create_persona(server, admin)['persona_id']}", admin)
    assert status == 200 and plain["vocabulary"] == []


def test_a_session_keeps_and_shows_its_asr_model(server, client_key):
    status, body = request(server, "POST", "/v1/conversations/create", client_key,
                           {**SEED_BODY, "asr": {"model": "base"}})
    assert status == 201, body
    assert body["asr"] == {"model": "base"}
    status, got = request(server, "GET", f"/v1/conversations/{body['session_id']}", client_key)
    assert status == 200 and got["asr"] == {"model": "base"}
    status, plain = request(server, "POST", "/v1/conversations/create", client_key, {**SEED_BODY, "asr": {}})
    assert status == 201 and "asr" not in plain


@pytest.mark.parametrize("asr, says", [
    ({"model": "small"}, "available for 'en': base, tiny.en"),
    ("base", "must be an object"),
    ({"model": 3}, "non-empty model name"),
    ({"model": "base", "beam": 5}, "unknown field"),
])
def test_a_bad_asr_model_is_a_400_naming_the_choices(server, client_key, asr, says):
    status, body = request(server, "POST", "/v1/conversations/create", client_key, {**SEED_BODY, "asr": asr})
    assert status == 400, body
    assert body["error"]["param"] == "asr" and says in body["error"]["message"], body


def test_an_english_only_model_is_refused_for_another_language(server, client_key):
    status, body = request(server, "POST", "/v1/conversations/create", client_key,
                           {**SEED_BODY, "voice_id": "espeak_de", "language": "de", "asr": {"model": "tiny.en"}})
    assert status == 400 and body["error"]["param"] == "asr", body
    assert "available for 'de': base" in body["error"]["message"]


def test_a_persona_asr_model_reaches_its_sessions(server, admin, client_key):
    persona = create_persona(server, admin, asr={"model": "base"})
    assert persona["asr"] == {"model": "base"}
    status, body = request(server, "POST", "/v1/conversations/create", client_key,
                           {"persona_id": persona["persona_id"]})
    assert status == 201 and body["asr"] == {"model": "base"}, body
    status, error = request(server, "POST", "/v1/personas", admin, {"name": "x", "voice_id": "joe",
                                                                    "system_prompt": "Hi.", "asr": {"model": "x"}})
    assert status == 400 and error["error"]["param"] == "asr"


async def test_a_caller_is_heard_on_the_picked_model(server, client_key):
    wav = at_rate(piper("What is the status of order one two three four?"), 8000)
    async with aiohttp.ClientSession() as http:
        client = GatewayClient(server.url, client_key, http)
        created = await client.create(**{**SEED_BODY, "asr": {"model": "base"}})
        result = await converse(client, created["session_id"], wav=wav + bytes(16000), sample_rate=8000,
                                encoding="mulaw", on_event=lambda e: None, reply_timeout_s=120)
    user = next(e for e in result.events if e["type"] == "transcript" and e["role"] == "user" and e["is_final"])
    assert {"status", "order"} <= set(words(user["text"])), user
