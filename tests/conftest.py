"""Shared fixtures: one real `parley serve` per test run."""

from agents.providers.libstdcxx import prefer_system_libstdcxx

prefer_system_libstdcxx()  # before any test imports vosk: llama.cpp must keep the system libstdc++

import pytest  # noqa: E402

from tests.postgres import start_postgres
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


def _servers_of(item: pytest.Item) -> list[Server]:
    found = []
    for value in getattr(item, "funcargs", {}).values():
        for candidate in (value, getattr(value, "server", None)):
            if isinstance(candidate, Server):
                found.append(candidate)
    return found


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A test that failed because its gateway died shows how it died (the log's end: a traceback, or
    faulthandler's stacks for a crash in native code), not only the connection errors that followed."""
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    for server in _servers_of(item):
        if server.process.poll() is not None:
            tail = "\n".join(server.log().splitlines()[-80:])
            report.sections.append((f"gateway exited with {server.process.returncode}", tail))


@pytest.fixture(scope="session")
def postgres():
    """A private PostgreSQL server for the run (tests/postgres.py), started on first use."""
    server = start_postgres()
    yield server
    server.stop()
