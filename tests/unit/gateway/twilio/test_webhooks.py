"""Who may knock on the Twilio door: signatures against the public URL, 503 without a token, the TwiML built.

The gateway runs in-process on loopback with no models loaded (the routing itself is
tested against the real server in tests/integration/twilio/).
"""

import xml.etree.ElementTree as ET

import pytest
from aiohttp.test_utils import TestClient, TestServer
from twilio.request_validator import RequestValidator

from gateway.app import create_app
from gateway.config import load_config
from gateway.models import Models
from gateway.twilio import twiml

TOKEN = "test-auth-token"
PUBLIC = "https://parley.example.test"
CALL = {"CallSid": "CA0001", "AccountSid": "AC0001", "From": "+15550001111", "To": "+15550002222",
        "CallStatus": "ringing", "Direction": "inbound"}


def gateway(tmp_path, **env) -> TestClient:
    config = load_config(env={"PARLEY_DATA_DIR": str(tmp_path), **env})
    return TestClient(TestServer(create_app(config, models=Models())))


def signed(url: str, params: dict, token: str = TOKEN) -> dict:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, params)}


@pytest.mark.parametrize(("method", "path"), [("POST", "/twilio/voice"), ("POST", "/twilio/status"),
                                              ("GET", "/twilio/stream")])
async def test_without_an_auth_token_the_twilio_routes_say_503_not_configured(tmp_path, method, path):
    async with gateway(tmp_path) as client:
        resp = await client.request(method, path, data=CALL if method == "POST" else None)
        body = await resp.json()
    assert resp.status == 503 and body["error"]["code"] == "twilio_not_configured", body
    assert "PARLEY_TWILIO_AUTH_TOKEN" in body["error"]["message"]


async def test_signatures_are_checked_against_the_public_url_not_the_loopback_one(tmp_path):
    env = {"PARLEY_TWILIO_AUTH_TOKEN": TOKEN, "PARLEY_PUBLIC_URL": PUBLIC}
    async with gateway(tmp_path, **env) as client:
        missing = await client.post("/twilio/voice", data=CALL)
        wrong_token = await client.post("/twilio/voice", data=CALL, headers=signed(PUBLIC + "/twilio/voice", CALL, "x"))
        loopback = str(client.make_url("/twilio/voice"))
        wrong_url = await client.post("/twilio/voice", data=CALL, headers=signed(loopback, CALL))
        tampered = await client.post("/twilio/voice", data={**CALL, "To": "+15559999999"},
                                     headers=signed(PUBLIC + "/twilio/voice", CALL))
        good = await client.post("/twilio/voice", data=CALL, headers=signed(PUBLIC + "/twilio/voice", CALL))
        for refused in (missing, wrong_token, wrong_url, tampered):
            body = await refused.json()
            assert refused.status == 403 and body["error"]["code"] == "forbidden", body
        assert good.status == 200 and good.content_type == "text/xml"
        # no models yet: a polite line and a hang-up, never an error Twilio would read out
        root = ET.fromstring(await good.text())
        assert [child.tag for child in root] == ["Say", "Hangup"]


async def test_the_stream_upgrade_is_signed_for_its_wss_url(tmp_path):
    env = {"PARLEY_TWILIO_AUTH_TOKEN": TOKEN, "PARLEY_TWILIO_PUBLIC_URL": PUBLIC}
    async with gateway(tmp_path, **env) as client:
        refused = await client.get("/twilio/stream", headers=signed(PUBLIC + "/twilio/stream", {}))
        assert refused.status == 403  # signed for https://, but Twilio opens wss://
        wss = "wss://parley.example.test/twilio/stream"
        loading = await client.get("/twilio/stream", headers=signed(wss, {}))
        assert loading.status == 409  # signed right; the models are not loaded yet, so no upgrade


async def test_with_signature_checks_switched_off_no_token_is_needed(tmp_path):
    async with gateway(tmp_path, PARLEY_TWILIO_VALIDATE_SIGNATURES="false") as client:
        resp = await client.post("/twilio/voice", data=CALL)
        assert resp.status == 200 and "<Hangup" in await resp.text()
        status = await client.post("/twilio/status", data={**CALL, "CallStatus": "completed"})
        assert status.status == 204


async def test_a_webhook_without_a_call_sid_is_a_400(tmp_path):
    async with gateway(tmp_path, PARLEY_TWILIO_VALIDATE_SIGNATURES="false") as client:
        resp = await client.post("/twilio/voice", data={"To": "+15550002222"})
        body = await resp.json()
    assert resp.status == 400 and body["error"]["param"] == "CallSid"


def test_stream_twiml_connects_the_session_with_a_parameter_and_a_status_callback():
    root = ET.fromstring(twiml.connect_stream("wss://gw.example.com/twilio/stream", "conv_abc",
                                              "https://gw.example.com/twilio/status"))
    connect = root.find("Connect")
    stream = connect.find("Stream")
    assert root.tag == "Response" and list(root) == [connect] and list(connect) == [stream]
    assert stream.get("url") == "wss://gw.example.com/twilio/stream"  # no query string
    assert stream.get("statusCallback") == "https://gw.example.com/twilio/status"
    assert stream.get("statusCallbackMethod") == "POST"
    assert [(p.get("name"), p.get("value")) for p in stream.findall("Parameter")] == [("session_id", "conv_abc")]


def test_transfer_twiml_dials_a_number_or_a_sip_uri():
    number = ET.fromstring(twiml.dial("+15550100")).find("Dial")
    assert number.find("Number").text == "+15550100"
    sip = ET.fromstring(twiml.dial("sip:alice@pbx.example.com")).find("Dial")
    assert sip.find("Sip").text == "sip:alice@pbx.example.com"
    with pytest.raises(ValueError):
        twiml.dial("not a number")
