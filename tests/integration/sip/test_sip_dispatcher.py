"""deploy/kamailio in front of Parley: Debian's real Kamailio with the project's own configuration dispatches real
calls (sipp) to a real gateway, skipping a worker that does not answer, and stays in the calls' signalling."""

import shutil

import pytest

from tests.integration.sip.conftest import sipp_dir
from tests.integration.sip.gateway import call_ids
from tests.integration.sip.kamailio import start_kamailio
from tests.integration.sip.sipp import free_udp_port, run_sipp

if shutil.which("kamailio") is None:
    pytest.skip("kamailio is missing: install Debian's kamailio (scripts/setup.sh test does)", allow_module_level=True)


@pytest.fixture
def dispatcher(tmp_path, sip_gateway):
    """Kamailio on a free port, dispatching to a worker nobody answers on and to the real gateway."""
    kamailio = start_kamailio(tmp_path, [f"127.0.0.1:{free_udp_port()}", sip_gateway.target])
    yield kamailio.target
    kamailio.stop()


def test_calls_through_kamailio_reach_a_worker_that_answers(dispatcher, sip_gateway, tmp_path):
    for n in (1, 2):  # round robin: a call meeting the dead worker before a probe marked it down is sent on
        run = run_sipp("through_proxy", dispatcher, sipp_dir(tmp_path / f"call{n}"), pause_ms=4000)
        assert run.ok, run.output[-3000:]
        assert "Record-Route: <sip:127.0.0.1:" + dispatcher.split(":")[1] in run.messages  # still in the path
        [call_id] = call_ids(run.messages)
        session = sip_gateway.ended_session_of(call_id)
        assert session["channel"] == "sip" and session["persona_id"] == "front" and session["end_reason"] == "hangup"
        assert session["history"][0]["text"] == "Hello, this is Parley."  # the greeting went out over RTP
