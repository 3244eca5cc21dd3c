"""Fixtures of the SIP tests: gateways with SIP on, the callers' spoken clips."""

import shutil
from pathlib import Path

import pytest

from gateway.client import write_wav
from tests.integration.sip.gateway import SipGateway, start_sip_gateway
from tests.integration.sip.scripted_llm import ScriptedLLM
from tests.integration.sip.sipp import g711_wav
from tests.servers import stop_server
from tests.unit.agents.asr.clips import at_rate, piper

# Whisper tiny.en (the gateway's ASR) hears "capital of France" as "capital of friends" after some codec paths
# (G.722 resampled to the 8 kHz bridge); "capital city of France" comes through every one tried.
QUESTION = "What is the capital city of France?"

if shutil.which("sipp") is None:
    pytest.skip("sipp is missing: install Debian's sip-tester (scripts/setup.sh test does)", allow_module_level=True)


@pytest.fixture(scope="session")
def sip_gateway(tmp_path_factory) -> SipGateway:
    """The real models behind SIP; sessions idle for 20 s end (and hang up)."""
    gateway = start_sip_gateway(tmp_path_factory.mktemp("sip-gateway"), {"PARLEY_SESSIONS_IDLE_TIMEOUT_S": "20"})
    yield gateway
    stop_server(gateway.server)


@pytest.fixture(scope="session")
def scripted_llm() -> ScriptedLLM:
    with ScriptedLLM() as llm:
        yield llm


@pytest.fixture(scope="module")
def control_gateway(tmp_path_factory, scripted_llm) -> SipGateway:
    """A SIP gateway whose LLM is scripted (tests/integration/sip/scripted_llm.py): the tools it calls are
    decided by what the caller says, so the SIP side of end_call, transfer_call and send_dtmf is what is tested."""
    gateway = start_sip_gateway(tmp_path_factory.mktemp("sip-control"), {
        "PARLEY_LLM_PROVIDER": "openai", "PARLEY_LLM_BASE_URL": scripted_llm.base_url,
        "PARLEY_LLM_MODEL": "scripted"})
    yield gateway
    stop_server(gateway.server)


def sipp_dir(tmp_path: Path, text: str = QUESTION, encoding: str = "mulaw") -> Path:
    """A working directory for sipp with the caller's words as question.wav (8 kHz G.711)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    g711_wav(tmp_path / "question.wav", *piper(text), encoding)
    return tmp_path


def pcm_wav(path: Path, text: str, rate: int) -> Path:
    """The caller's words as a 16-bit PCM WAV at `rate` (what the pjsua2 softphone plays). At the codec's own
    rate: pjsua2's resampling on the softphone's side blurred "France" into "friends" for Whisper tiny.en."""
    write_wav(path, at_rate(piper(text), rate), rate)
    return path
