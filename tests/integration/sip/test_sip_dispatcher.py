"""deploy/kamailio in front of Parley: Debian's real Kamailio with the project's own configuration dispatches real
calls (sipp) to a real gateway, skipping a worker that does not answer, and stays in the calls' signalling."""

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.integration.sip.conftest import sipp_dir
from tests.integration.sip.gateway import call_ids
from tests.integration.sip.sipp import free_udp_port, run_sipp

CONFIG = Path(__file__).resolve().parents[3] / "deploy" / "kamailio" / "kamailio.cfg"

if shutil.which("kamailio") is None:
    pytest.skip("kamailio is missing: install Debian's kamailio (scripts/setup.sh test does)", allow_module_level=True)


def answers_options(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.5)
        s.bind(("127.0.0.1", 0))
        local = s.getsockname()[1]
        s.sendto((f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bKprobe\r\n"
                  f"From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:127.0.0.1:{port}>\r\nCall-ID: probe-{time.time()}\r\n"
                  "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode(), ("127.0.0.1", port))
        try:
            return s.recv(4096).startswith(b"SIP/2.0 200")
        except OSError:
            return False


@pytest.fixture
def dispatcher(tmp_path, sip_gateway):
    """Kamailio on a free port, dispatching to a worker nobody answers on and to the real gateway."""
    port, dead = free_udp_port(), free_udp_port()
    workers = tmp_path / "dispatcher.list"
    workers.write_text(f"1 sip:127.0.0.1:{dead}\n1 sip:{sip_gateway.target}\n")
    log = open(tmp_path / "kamailio.log", "w")
    proc = subprocess.Popen(["kamailio", "-f", str(CONFIG), "-D", "-E", "-l", f"udp:127.0.0.1:{port}",
                             "-A", f'DISPATCHER_LIST="{workers}"', "-P", str(tmp_path / "kamailio.pid"),
                             "-w", str(tmp_path), "-m", "32", "-M", "8"], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while not answers_options(port):
        assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "kamailio.log").read_text()[-3000:]
    yield f"127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)


def test_calls_through_kamailio_reach_a_worker_that_answers(dispatcher, sip_gateway, tmp_path):
    for n in (1, 2):  # round robin: one of the two calls meets the dead worker first and is sent on
        run = run_sipp("through_proxy", dispatcher, sipp_dir(tmp_path / f"call{n}"), pause_ms=4000)
        assert run.ok, run.output[-3000:]
        assert "Record-Route: <sip:127.0.0.1:" + dispatcher.split(":")[1] in run.messages  # still in the path
        [call_id] = call_ids(run.messages)
        session = sip_gateway.ended_session_of(call_id)
        assert session["channel"] == "sip" and session["persona_id"] == "front" and session["end_reason"] == "hangup"
        assert session["history"][0]["text"] == "Hello, this is Parley."  # the greeting went out over RTP
