"""Helpers shared by the multi-``up`` scenarios: which API calls write, and ``pulumi refresh``."""

from __future__ import annotations

from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.testing import ProviderServer, Stack, engine_factory, refresh

WRITES = ("POST", "PUT", "PATCH", "DELETE")
"""The methods that change something in Miget."""


def refresh_stack(stack: Stack, server: ProviderServer, emulator: EmulatorServer) -> None:
    """``pulumi refresh`` (without running the program) with a fresh request log: Read every
    resource in the stack, keep what comes back, drop what is gone."""
    emulator.clear_log()
    engines = engine_factory(server, stack.config, "proj", "dev")
    for name, state in list(stack.resources.items()):
        fresh = refresh(engines(state.type), state)
        if fresh is None:
            del stack.resources[name]
        else:
            stack.resources[name] = fresh
