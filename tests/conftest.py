"""Shared fixtures: one emulator per test session, reset before every test that uses it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pulumi_miget.emulator import EmulatorServer
from tests.support.constants import API_KEY, OTHER_WORKSPACE_ID, THIRD_WORKSPACE_ID


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmulatorServer]:
    """The emulator on a free loopback port, with API_KEY and two extra workspaces."""
    with EmulatorServer(
        api_keys=[API_KEY], workspaces=[OTHER_WORKSPACE_ID, THIRD_WORKSPACE_ID]
    ) as server:
        yield server


@pytest.fixture
def emulator(emulator_server: EmulatorServer) -> EmulatorServer:
    """The session emulator, emptied: no credentials, faults, log entries or suspensions."""
    emulator_server.reset()
    return emulator_server
