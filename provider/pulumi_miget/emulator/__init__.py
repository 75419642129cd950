"""A local emulator of Miget's container-registry-credential API and of the app endpoints the
``App`` resource uses, for tests and offline stacks.

Run it with ``miget-emulator`` (or ``python -m pulumi_miget.emulator``), or in-process::

    from pulumi_miget.emulator import DEFAULT_API_KEY, EmulatorServer

    with EmulatorServer() as server:
        ...  # point a client at server.api_url with "Authorization: Bearer " + DEFAULT_API_KEY

Needs Flask (the ``emulator`` extra). ``import pulumi_miget`` never imports this package.
"""

from __future__ import annotations

from pulumi_miget.emulator.app import Emulator, create_app, emulator_of
from pulumi_miget.emulator.faults import Fault, FaultSpecError
from pulumi_miget.emulator.server import EmulatorServer
from pulumi_miget.emulator.store import DEFAULT_API_KEY, DEFAULT_WORKSPACE_ID, Store, Tenancy

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_WORKSPACE_ID",
    "Emulator",
    "EmulatorServer",
    "Fault",
    "FaultSpecError",
    "Store",
    "Tenancy",
    "create_app",
    "emulator_of",
]
