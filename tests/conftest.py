"""Shared fixtures: one emulator per test session, reset before every test that uses it; a client
of it; one real provider server per test module; and a stack configured for the emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.testing import ProviderServer, Secret, Stack
from tests.emulator.helpers import Api
from tests.samples import (
    API_KEY,
    DEFAULT_WORKSPACE_ID,
    OTHER_WORKSPACE_ID,
    THIRD_WORKSPACE_ID,
)


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


@pytest.fixture
def api(emulator: EmulatorServer) -> Api:
    """Out-of-band access to the (reset) emulator, as a person with the API key would have:
    API_KEY and no X-Workspace-Id."""
    return Api(emulator.url)


@pytest.fixture(scope="module")
def server() -> Iterator[ProviderServer]:
    """The SDK's dynamic-provider server; pulumi_miget imports from the venv, as in a user's
    project. Every stack or engine in a module uses the same provider config (the SDK server
    configures a provider once per blob per process): a test that needs another config starts
    its own server."""
    with ProviderServer() as srv:
        yield srv


@pytest.fixture
def stack(emulator: EmulatorServer) -> Stack:
    """An empty stack (pulumi_miget.testing) whose config points the provider at the
    (reset) emulator, with the API key set as a secret (``pulumi config set --secret``)."""
    return Stack(
        config={
            "miget:apiKey": Secret(API_KEY),
            "miget:apiUrl": emulator.api_url,
            "miget:workspaceId": DEFAULT_WORKSPACE_ID,
        }
    )
