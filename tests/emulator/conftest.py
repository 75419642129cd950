"""Fixtures for the emulator's own tests."""

from __future__ import annotations

import pytest

from pulumi_miget.emulator import EmulatorServer
from tests.emulator.helpers import Api


@pytest.fixture
def api(emulator: EmulatorServer) -> Api:
    """A client of the (reset) session emulator, using API_KEY and no X-Workspace-Id."""
    return Api(emulator.url)
