"""Shared fixtures: one real `parley serve` per test run."""

from agents.providers.libstdcxx import prefer_system_libstdcxx

prefer_system_libstdcxx()  # before any test imports vosk: llama.cpp must keep the system libstdc++

import pytest  # noqa: E402

from tests.servers import Server, start_server, stop_server


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Server:
    """One real gateway shared by the integration tests (models load once per run)."""
    srv = start_server(tmp_path_factory.mktemp("gateway"))
    yield srv
    stop_server(srv)
