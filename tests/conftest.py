"""Shared fixtures: one real `parley serve` per test run."""

from agents.providers.libstdcxx import prefer_system_libstdcxx

prefer_system_libstdcxx()  # before any test imports vosk: llama.cpp must keep the system libstdc++

import pytest  # noqa: E402

from tests.servers import Server, start_server, stop_server
from tests.twilio_api import TwilioApi


@pytest.fixture(scope="session")
def twilio_api() -> TwilioApi:
    """A stand-in for Twilio's REST API on loopback (tests/twilio_api.py), for the whole run."""
    with TwilioApi() as api:
        yield api


@pytest.fixture(scope="session")
def server(tmp_path_factory, twilio_api) -> Server:
    """One real gateway shared by the integration tests (models load once per run); its Twilio door
    checks the tests' signatures and calls the stand-in for Twilio's REST API."""
    srv = start_server(tmp_path_factory.mktemp("gateway"), extra_env=twilio_api.env())
    yield srv
    stop_server(srv)
