"""Bad SIP input: refused or outlived, logged, and the gateway keeps serving every other call."""

import socket
import threading

import pytest

from tests.integration.sip.conftest import sipp_dir
from tests.integration.sip.gateway import call_ids
from tests.integration.sip.sipp import SippRun, run_sipp
from tests.integration.sip.test_sip_calls import ANSWERS, answered_session, assert_question_answered
from tests.servers import http_get, metric

pytestmark = pytest.mark.slow

GARBAGE = [
    b"\x00\xff" * 700,
    b"INVITE sip:1000@127.0.0.1 SIP/2.0\r\n\r\n",  # no Via, From, To, Call-ID, CSeq
    b"INVITE sip:1000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx\r\n"
    b"From: <sip:a@b>;tag=1\r\nTo: <sip:1000@127.0.0.1>\r\nCall-ID: broken-1\r\nCSeq: x INVITE\r\n"
    b"Content-Length: 99999\r\n\r\nv=0",  # a CSeq that is no number, a body shorter than announced
    b"SIP/2.0 200 OK\r\nCall-ID: nobody-asked\r\n\r\n",  # a response to nothing
    b"HELLO \xc3\x28 SIP/2.0\r\n" + b"X: " + b"a" * 60000 + b"\r\n\r\n",  # unknown method, bad UTF-8, huge header
]


def test_no_codec_in_common_is_refused_with_488(sip_gateway, tmp_path):
    run = run_sipp("no_common_codec", sip_gateway.target, tmp_path)
    assert run.ok, run.output[-2000:]
    assert "SIP/2.0 488 Not Acceptable Here" in run.messages
    [call_id] = call_ids(run.messages)
    assert any(e["call_id"] == call_id and e["status_code"] == 488 for e in sip_gateway.log_events("sip_call_rejected"))
    assert metric(sip_gateway.server, sip_gateway.admin_key, "parley_sip_invites_total", {"code": "488"}) >= 1  # counted too


def test_malformed_sip_is_dropped_and_the_next_call_is_served(sip_gateway, tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        for datagram in GARBAGE:
            udp.sendto(datagram, ("127.0.0.1", sip_gateway.sip_port))
    with socket.create_connection(("127.0.0.1", sip_gateway.sip_port), timeout=5) as tcp:
        tcp.sendall(GARBAGE[0] + GARBAGE[2])
    assert http_get(sip_gateway.server.url + "/healthz")[0] == 200
    run = run_sipp("agent_hangs_up", sip_gateway.target, sipp_dir(tmp_path), service=ANSWERS)
    assert_question_answered(answered_session(sip_gateway, run))


def test_a_caller_that_never_acks_is_hung_up_and_other_calls_carry_on(sip_gateway, tmp_path):
    """Our 200 OK is retransmitted until RFC 3261's 32 s run out, then the gateway ends the call with BYE;
    no session runs for it, and a call placed meanwhile is served as usual."""
    result: list[SippRun] = []
    silent = threading.Thread(target=lambda: result.append(
        run_sipp("never_ack", sip_gateway.target, tmp_path / "never-ack", timeout_s=60)))
    silent.start()
    run = run_sipp("agent_hangs_up", sip_gateway.target, sipp_dir(tmp_path / "other"), service=ANSWERS)
    assert_question_answered(answered_session(sip_gateway, run))
    silent.join(70)
    assert result and result[0].ok, result and result[0].output[-2000:]  # the BYE came, sipp answered it
    messages = result[0].messages
    assert messages.count("SIP/2.0 200 OK") >= 3  # our answer, retransmitted while no ACK came
    [call_id] = call_ids(messages)
    session = sip_gateway.ended_session_of(call_id)
    assert session["history"] == [] and session["end_reason"] == "hangup"  # never started: no greeting went out
