"""The shared real gateway (tests/conftest.py: its Twilio door checks the tests' signatures and calls the
stand-in for Twilio's REST API), personas routed to test numbers, and Twilio's side of a call."""

import secrets

import pytest

from tests.integration.test_api import SEED_BODY, new_key, request
from tests.unit.agents.asr.clips import phone_line, piper

ORDER_DESK = "+15557770001"
CHATTY_LINE = "+15557770002"
GREETER = "+15557770003"
GREETING = "Thanks for calling Acme. How can I help?"
CHATTY = ("You are a chatty assistant. Whatever the user says, answer with at least six long sentences "
          "about the history of the telephone.")


@pytest.fixture(scope="module")
def admin(server) -> str:
    return new_key(server, "--admin", "--name", "twilio-tests")


def persona(server, admin: str, number: str | None, **fields) -> str:
    """A persona (and, with `number`, the route of that number to it); returns its id."""
    body = {"name": f"twilio test {secrets.token_hex(3)}", "voice_id": "joe", **fields}
    status, created = request(server, "POST", "/v1/personas", admin, body)
    assert status == 201, created
    if number is not None:
        status, route = request(server, "POST", "/v1/phone-numbers", admin,
                                {"number": number, "persona_id": created["persona_id"]})
        assert status in (201, 409), route
        if status == 409:
            status, route = request(server, "PATCH", f"/v1/phone-numbers/{number}", admin,
                                    {"persona_id": created["persona_id"]})
            assert status == 200, route
    return created["persona_id"]


@pytest.fixture(scope="module")
def order_desk(server, admin) -> str:
    # The seed's agent, as the API stream's spoken-order test uses it.
    return persona(server, admin, ORDER_DESK, system_prompt=SEED_BODY["system_prompt"], tools=SEED_BODY["tools"])


@pytest.fixture(scope="module")
def greeter(server, admin) -> str:
    """Answers with a greeting as the stream starts. (Not the order desk: after a greeting in its context
    the small default LLM answers order questions from thin air instead of calling lookup_order.)"""
    return persona(server, admin, GREETER, system_prompt=SEED_BODY["system_prompt"], greeting=GREETING)


@pytest.fixture(scope="module")
def chatty_line(server, admin) -> str:
    return persona(server, admin, CHATTY_LINE, system_prompt=CHATTY)


def spoken(text: str) -> bytes:
    """Piper saying `text` as it arrives over a phone line: 8 kHz, through mu-law and back."""
    return phone_line(piper(text))
