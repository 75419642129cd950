"""Fixtures for program tests: one real provider server per module, a client of the emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pulumi_miget.emulator import EmulatorServer
from tests.emulator.helpers import Api
from tests.support.engine import ProviderServer


@pytest.fixture(scope="module")
def server() -> Iterator[ProviderServer]:
    """The SDK's dynamic-provider server; pulumi_miget imports from the venv, as in a user's
    project. Every stack in a module uses the same provider config (the SDK server configures a
    provider once per process)."""
    with ProviderServer() as srv:
        yield srv


@pytest.fixture
def api(emulator: EmulatorServer) -> Api:
    """Out-of-band access to the (reset) emulator, as a person with the API key would have."""
    return Api(emulator.url)
