"""`vocabulary` over HTTP against a real `parley serve`: on a session, on a persona, and the 400s for bad ones."""

import pytest

from tests.integration.test_admin_api import create_persona
from tests.integration.test_api import SEED_BODY, new_key, request


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
