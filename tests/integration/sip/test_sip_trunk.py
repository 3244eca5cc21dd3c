"""A gateway as a trunk/PBX sees it: it registers with digest credentials (sipp plays the registrar and checks
them), refuses calls past sip.max_calls with 486, and un-REGISTERs when it stops."""

import os
import re
import socket
import subprocess
import threading
import time

import pytest

from tests.integration.sip.conftest import sipp_dir
from tests.integration.sip.gateway import SipGateway, start_sip_gateway
from tests.integration.sip.sipp import SippRun, free_udp_port, run_sipp
from tests.servers import PARLEY, stop_server

pytestmark = pytest.mark.slow

PASSWORD = "Pa55-for-the-pbx"  # what scenarios/registrar.xml checks the digest answer against


@pytest.fixture(scope="module")
def trunk(tmp_path_factory, scripted_llm):
    """(the gateway, the registrar's thread, its result); the gateway is stopped by the last test."""
    tmp = tmp_path_factory.mktemp("trunk")
    port = free_udp_port()
    result: list[SippRun] = []
    registrar = threading.Thread(target=lambda: result.append(
        run_sipp("registrar", None, tmp / "pbx", port=port, timeout_s=300)))
    registrar.start()
    gateway = start_sip_gateway(tmp / "gateway", {
        "PARLEY_LLM_PROVIDER": "openai", "PARLEY_LLM_BASE_URL": scripted_llm.base_url, "PARLEY_LLM_MODEL": "scripted",
        "PARLEY_SIP_REGISTRAR": f"sip:127.0.0.1:{port}", "PARLEY_SIP_USERNAME": "parley",
        "PARLEY_SIP_PASSWORD": PASSWORD, "PARLEY_SIP_MAX_CALLS": "1"})
    yield gateway, registrar, result
    stop_server(gateway.server)


def test_registers_with_digest_credentials(trunk):
    gateway, _, _ = trunk
    deadline = time.monotonic() + 20
    while not gateway.log_events("sip_registered") and time.monotonic() < deadline:
        time.sleep(0.2)
    [registered] = gateway.log_events("sip_registered")
    assert registered["expires_s"] == 300 and not gateway.log_events("sip_registration_failed")


def test_a_call_past_max_calls_is_busy(trunk, tmp_path):
    gateway: SipGateway = trunk[0]
    first: list[SippRun] = []
    thread = threading.Thread(target=lambda: first.append(
        run_sipp("agent_hangs_up", gateway.target, sipp_dir(tmp_path / "first"), service="2000")))
    thread.start()
    deadline = time.monotonic() + 30
    while not gateway.log_events("sip_call_confirmed") and time.monotonic() < deadline:
        time.sleep(0.1)
    second = run_sipp("busy_here", gateway.target, tmp_path / "second", service="2000")
    assert second.ok and "SIP/2.0 486 Busy Here" in second.messages, second.output[-2000:]
    thread.join(120)
    assert first and first[0].ok, first and first[0].output[-2000:]  # the call in progress went on to its end


def test_stopping_unregisters_and_never_logs_the_password(trunk):
    """Last in this module: it stops the gateway."""
    gateway, registrar, result = trunk
    assert stop_server(gateway.server) == 0
    registrar.join(30)
    assert result and result[0].ok, result and result[0].output[-2000:]  # challenged, checked, un-REGISTERed
    messages = result[0].messages
    assert re.search(r'^Authorization: Digest username="parley", realm="pbx\.test"', messages, re.MULTILINE)
    assert re.search(r"^To: <sip:parley@127\.0\.0\.1[:>]", messages, re.MULTILINE)  # the account's address
    assert PASSWORD not in gateway.server.log()


def test_a_sip_port_in_use_stops_start_up_with_a_clear_message(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        env = {**os.environ, "PARLEY_DATA_DIR": str(tmp_path), "PARLEY_LOG_FORMAT": "json"}
        done = subprocess.run([*PARLEY, "serve", "--port", "0", "--sip-port", str(port)], env=env,
                              capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert f"parley: SIP: cannot listen for SIP on 127.0.0.1:{port}/udp" in done.stderr
    assert "Traceback" not in done.stderr
