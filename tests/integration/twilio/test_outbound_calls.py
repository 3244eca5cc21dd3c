"""POST /v1/calls on the real gateway: Twilio (the stand-in) is asked to dial with the stream TwiML, the test
then plays the answered call; refusals are clear JSON errors."""

import asyncio
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from tests.integration.test_api import new_key, request
from tests.twilio_phone import TwilioPhone, post_signed

CALLEE, OUR_NUMBER = "+15551234567", "+15550100"


@pytest.fixture(scope="module")
def client_key(server) -> str:
    return new_key(server, "--name", "outbound-client")


def dial(server, key, **fields):
    body = {"to": CALLEE, "from": OUR_NUMBER, "channel": "twilio", **fields}
    return request(server, "POST", "/v1/calls", key, body)


async def test_an_outbound_call_dials_through_twilio_and_runs_the_persona(server, admin, greeter, twilio_api):
    status, placed = dial(server, admin, persona_id=greeter, metadata={"campaign": "renewals"})
    assert status == 201, placed
    assert placed["status"] == "dialing" and placed["session_id"].startswith("conv_")
    call_sid = placed["call_id"]
    create = await twilio_api.wait_for(lambda r: r.call_sid is None and r.value("To") == CALLEE
                                       and placed["session_id"] in (r.value("Twiml") or ""))
    assert create.value("From") == OUR_NUMBER
    stream = ET.fromstring(create.value("Twiml")).find("Connect/Stream")
    assert stream.get("url") == "wss://parley.example.test/twilio/stream"
    assert stream.find("Parameter").get("value") == placed["session_id"]
    callback = urlsplit(create.value("StatusCallback"))
    assert callback.path == "/twilio/status" and parse_qs(callback.query)["session_id"] == [placed["session_id"]]
    status, before = request(server, "GET", f"/v1/conversations/{placed['session_id']}", admin)
    assert before["status"] == "ready" and before["channel"] == "twilio" and before["call_id"] == call_sid
    assert (before["caller"], before["called"]) == (OUR_NUMBER, CALLEE)
    assert before["metadata"] == {"campaign": "renewals"} and before["persona_id"] == greeter
    async with aiohttp.ClientSession() as http:
        phone = TwilioPhone(http, server.url, CALLEE, caller=OUR_NUMBER, call_sid=call_sid)
        async with phone:  # the callee answered: Twilio runs the TwiML
            await phone.connect(session_id=placed["session_id"])
            await phone.wait_quiet(quiet_s=0.5, timeout=30)  # the persona's greeting
            await phone.stop()
            await phone.wait_until(lambda: phone.closed_at is not None, timeout=10, what="stream closed")
    await asyncio.sleep(0.2)
    status, after = request(server, "GET", f"/v1/conversations/{placed['session_id']}", admin)
    assert after["status"] == "ended" and after["end_reason"] == "hangup" and after["history"][0]["role"] == "assistant"


async def test_a_callee_who_does_not_answer_ends_the_session(server, admin, greeter, twilio_api):
    status, placed = dial(server, admin, persona_id=greeter)
    assert status == 201
    async with aiohttp.ClientSession() as http:
        phone = TwilioPhone(http, server.url, CALLEE, call_sid=placed["call_id"])
        # The callback URL Twilio was given carries the session: post to exactly that.
        create = await twilio_api.wait_for(lambda r: placed["session_id"] in (r.value("Twiml") or ""))
        query = urlsplit(create.value("StatusCallback")).query
        resp = await post_signed(http, server.url, "/twilio/status?" + query,
                                 {"CallSid": placed["call_id"], "CallStatus": "no-answer"})
        assert resp.status == 204
    status, body = request(server, "GET", f"/v1/conversations/{placed['session_id']}", admin)
    assert body["status"] == "ended" and body["end_reason"] == "hangup" and body["history"] == []


@pytest.mark.parametrize(("fields", "status", "code", "param"), [
    ({"persona_id": "per_nobody"}, 404, "not_found", "persona_id"),
    ({"persona_id": "x", "to": "5551234"}, 400, "invalid_request", "to"),
    ({"persona_id": "x", "to": None}, 400, "invalid_request", "to"),
    ({"to": CALLEE}, 400, "invalid_request", "persona_id"),
    ({"persona_id": "x", "channel": "fax"}, 400, "invalid_request", "channel"),
    ({"persona_id": "x", "metadata": "vip"}, 400, "invalid_request", "metadata"),
    ({"persona_id": "x", "ring_for": 30}, 400, "invalid_request", "ring_for"),
])
def test_bad_outbound_requests_are_clear_json_errors(server, admin, fields, status, code, param):
    got, error = dial(server, admin, **fields)
    assert got == status and error["error"]["code"] == code and error["error"]["param"] == param, error


def test_outbound_calls_need_an_admin_key_a_from_number_and_a_dialer(server, admin, client_key, greeter):
    status, error = dial(server, client_key, persona_id=greeter)
    assert status == 403 and error["error"]["code"] == "forbidden"
    assert dial(server, None, persona_id=greeter)[0] == 401
    status, error = dial(server, admin, persona_id=greeter, **{"from": None})
    assert status == 400 and error["error"]["param"] == "from"
    status, error = dial(server, admin, persona_id=greeter, channel="sip", to="sip:alice@pbx.example.com")
    assert status == 503 and error["error"]["code"] == "sip_not_configured", error  # this gateway runs no SIP
