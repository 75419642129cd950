"""Fixtures of the resource contract tests: an engine for the module's resource type (each module
names it in a ``resource_type`` fixture), configured once per module on the module's provider
server (``server``, tests/conftest.py) with the stack config the engine would send."""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.testing import Engine, ProviderServer
from tests.contract.common import stack_config


@pytest.fixture(scope="module")
def configured(
    server: ProviderServer, emulator_server: EmulatorServer, resource_type: str
) -> tuple[Engine, Any]:
    """The engine and the provider's Configure reply."""
    engine = Engine(server, resource_type)
    return engine, engine.configure(stack_config(emulator_server))


@pytest.fixture
def engine(configured: tuple[Engine, Any], emulator: EmulatorServer) -> Engine:
    """The module's engine with its call list emptied, talking to the reset emulator."""
    engine = configured[0]
    engine.calls.clear()
    return engine
