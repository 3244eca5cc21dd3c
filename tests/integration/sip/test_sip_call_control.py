"""Call control over SIP: end_call -> BYE, transfer_call -> REFER, send_dtmf -> RFC 2833, POST /v1/calls -> INVITE,
SIGTERM -> BYE. The LLM is scripted (tests/integration/sip/scripted_llm.py), so each tool is called when the
caller asks for it; everything else (ASR, TTS, the gateway, pjsua2, sipp) is real."""

import re
import signal
import threading
import time

import pytest

from agents.lines import TRANSFER_FAILED
from agents.reply import TRANSFER_LINE
from tests.integration.sip.conftest import pcm_wav, sipp_dir
from tests.integration.sip.gateway import call_ids
from tests.integration.sip.scripted_llm import DTMF_DIGITS
from tests.integration.sip.sipp import SippRun, free_udp_port, run_sipp
from tests.integration.sip.softphone import call
from tests.integration.sip.test_sip_calls import answered_session
from tests.servers import stop_server

pytestmark = pytest.mark.slow

CONTROL = "3000"  # the persona with end_call, transfer_call (to +15550100) and send_dtmf


def tool_calls(session: dict) -> list[dict]:
    return [c for t in session["history"] if t["role"] == "assistant" for c in t["tool_calls"]]


def test_end_call_says_goodbye_then_sends_bye(control_gateway, tmp_path):
    run = run_sipp("agent_hangs_up", control_gateway.target, sipp_dir(tmp_path, "Thank you, goodbye."),
                   service=CONTROL)
    session = answered_session(control_gateway, run)  # sipp succeeds only once our BYE came
    assert [c["name"] for c in tool_calls(session)] == ["end_call"]
    last = session["history"][-1]
    assert last["text"] == "Thank you for calling. Goodbye." and not last["interrupted"]  # heard out, then BYE
    assert session["end_reason"] == "hangup"


def test_transfer_call_sends_a_refer_and_hangs_up_once_the_target_answered(control_gateway, tmp_path):
    run = run_sipp("transfer", control_gateway.target, sipp_dir(tmp_path, "Put me through to the front desk."),
                   service=CONTROL)
    session = answered_session(control_gateway, run)  # REFER accepted, NOTIFY 200 sent, then our BYE came
    refer = run.messages.split("REFER sip:caller@", 1)[1]
    assert re.search(r"^Refer-To: <?sip:\+15550100@127\.0\.0\.1>?", refer, re.MULTILINE)
    [transfer] = tool_calls(session)
    assert transfer["name"] == "transfer_call" and transfer["result"] == {"transferring": True, "target": "+15550100"}
    last = session["history"][-1]
    assert last["text"] == TRANSFER_LINE and not last["interrupted"]  # heard out before the REFER


def test_a_transfer_to_a_busy_target_is_said_and_the_call_stays_up(control_gateway, tmp_path):
    run = run_sipp("transfer_busy", control_gateway.target, sipp_dir(tmp_path, "Put me through to the front desk."),
                   service=CONTROL)
    session = answered_session(control_gateway, run)  # REFER accepted, NOTIFY 486, no BYE from us: the caller's
    assert [t["text"] for t in session["history"] if t["role"] == "assistant"][-2:] == [TRANSFER_LINE, TRANSFER_FAILED]
    assert not session["history"][-1]["interrupted"]  # the caller heard it out before hanging up
    assert session["end_reason"] == "hangup"


def test_send_dtmf_plays_key_presses_to_the_caller(control_gateway, tmp_path):
    result = call(f"sip:{CONTROL}@{control_gateway.target}",
                  pcm_wav(tmp_path / "press.wav", "Please press the keys for me.", 8000), tmp_path, seconds=15)
    assert result.connected and result.digits == DTMF_DIGITS  # as RFC 2833 telephone-events
    session = control_gateway.ended_session_of(result.call_id)
    assert [c["name"] for c in tool_calls(session)] == ["send_dtmf"]


def _callee(tmp_path, scenario: str, text: str = "Goodbye.") -> tuple[int, threading.Thread, list[SippRun]]:
    port = free_udp_port()
    result: list[SippRun] = []
    thread = threading.Thread(target=lambda: result.append(
        run_sipp(scenario, None, sipp_dir(tmp_path, text), port=port)))
    thread.start()
    time.sleep(0.5)  # sipp binds its port
    return port, thread, result


def test_an_outbound_call_places_an_invite_and_runs_the_session_once_answered(control_gateway, tmp_path):
    port, thread, result = _callee(tmp_path, "callee")
    status, body = control_gateway.api("POST", "/v1/calls", {
        "to": f"sip:callee@127.0.0.1:{port}", "persona_id": "control", "channel": "sip", "from": "+15550100"})
    assert status == 201 and body["status"] == "dialing", body
    thread.join(150)
    assert result and result[0].ok, result and result[0].output[-2000:]  # answered, spoke, and got our BYE
    invite = result[0].messages.split("INVITE sip:callee@", 1)[1].split("\n\n", 1)[0]
    assert re.search(r"^From: <?sip:\+15550100@", invite, re.MULTILINE)
    assert call_ids(result[0].messages) == [body["call_id"]]
    session = control_gateway.ended_session_of(body["call_id"])
    assert session["session_id"] == body["session_id"] and session["channel"] == "sip"
    assert [t["role"] for t in session["history"]] == ["assistant", "user", "assistant"]  # greeting, callee, bye
    assert [c["name"] for c in tool_calls(session)] == ["end_call"]


def test_a_busy_callee_ends_the_session(control_gateway, tmp_path):
    port, thread, result = _callee(tmp_path, "callee_busy")
    status, body = control_gateway.api("POST", "/v1/calls", {
        "to": f"sip:callee@127.0.0.1:{port}", "persona_id": "control", "channel": "sip"})
    assert status == 201, body
    thread.join(30)
    assert result and result[0].ok, result and result[0].output[-2000:]
    session = control_gateway.ended_session_of(body["call_id"])
    assert session["status"] == "ended" and session["end_reason"] == "hangup" and session["history"] == []


def test_a_number_needs_a_registrar_to_be_dialled(control_gateway):
    status, body = control_gateway.api("POST", "/v1/calls", {
        "to": "+15551234567", "persona_id": "control", "channel": "sip"})
    assert status == 400 and body["error"]["param"] == "to" and "registrar" in body["error"]["message"]


def test_sigterm_hangs_up_live_calls_and_exits_cleanly(control_gateway, tmp_path):
    """Last in this module: it stops the gateway."""
    result: list[SippRun] = []
    thread = threading.Thread(target=lambda: result.append(
        run_sipp("agent_hangs_up", control_gateway.target, sipp_dir(tmp_path, "Hello there."), service=CONTROL)))
    thread.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the caller has spoken and been answered: sipp waits for a BYE
        _, page = control_gateway.api("GET", "/v1/conversations?channel=sip&status=active&limit=10")
        if page["conversations"] and page["conversations"][0]["total_turns"] >= 3:
            break
        time.sleep(0.2)
    session_id = page["conversations"][0]["session_id"]
    started = time.monotonic()
    code = stop_server(control_gateway.server, signal.SIGTERM, timeout=30)
    assert code == 0 and time.monotonic() - started < 15
    thread.join(30)
    assert result and result[0].ok, result and result[0].output[-2000:]  # the BYE reached the caller
    log = control_gateway.server.log()
    assert "Traceback" not in log and '"event": "sip_stopped"' in log
    ended = [line for line in log.splitlines() if '"session_ended"' in line and session_id in line]
    assert ended and '"reason": "hangup"' in ended[0]
