"""A local emulator of Miget's container-registry-credential API, of the app endpoints the
``App`` resource uses and of the deployment endpoints (deploy, deployments, logs, cancel,
rollback; ``routes/deployments.py``), for tests and offline stacks. Deployments progress on the
emulator's clock; ``EmulatorServer.set_deployments`` (or ``PUT /_emulator/deployments``) sets how
long they take and how they end.

Run it with ``miget-emulator`` (or ``python -m pulumi_miget.emulator``), or in-process::

    from pulumi_miget.emulator import DEFAULT_API_KEY, EmulatorServer

    with EmulatorServer() as server:
        ...  # point a client at server.api_url with "Authorization: Bearer " + DEFAULT_API_KEY

Needs Flask (the ``emulator`` extra). ``import pulumi_miget`` never imports this package, and
importing this package does not import Flask either: the names below are loaded on first use
[INF], so ``miget-emulator`` can say what is missing (``__main__.py``) instead of failing with a
traceback, and ``from pulumi_miget.emulator import EmulatorServer`` without Flask raises a
ModuleNotFoundError whose message is ``FLASK_MISSING``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pulumi_miget.emulator.deploy_settings import DeploySpecError
    from pulumi_miget.emulator.faults import Fault, FaultSpecError
    from pulumi_miget.emulator.http import emulator_of
    from pulumi_miget.emulator.server import EmulatorServer
    from pulumi_miget.emulator.state import Emulator
    from pulumi_miget.emulator.store import Store
    from pulumi_miget.emulator.tenancy import DEFAULT_API_KEY, DEFAULT_WORKSPACE_ID, Tenancy
    from pulumi_miget.emulator.wsgi import create_app

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_WORKSPACE_ID",
    "FLASK_MISSING",
    "DeploySpecError",
    "Emulator",
    "EmulatorServer",
    "Fault",
    "FaultSpecError",
    "Store",
    "Tenancy",
    "create_app",
    "emulator_of",
]

FLASK_MISSING = "the emulator needs Flask: pip install 'pulumi-miget[emulator]'"
"""What to tell someone whose environment lacks the ``emulator`` extra."""

_FLASK_PACKAGES = frozenset({"flask", "werkzeug"})

# name → the submodule that defines it.
_LAZY = {
    "Emulator": "state",
    "create_app": "wsgi",
    "emulator_of": "http",
    "Fault": "faults",
    "FaultSpecError": "faults",
    "DeploySpecError": "deploy_settings",
    "EmulatorServer": "server",
    "DEFAULT_API_KEY": "tenancy",
    "DEFAULT_WORKSPACE_ID": "tenancy",
    "Store": "store",
    "Tenancy": "tenancy",
}


def is_flask_missing(error: ImportError) -> bool:
    """Whether ``error`` means that Flask (or its werkzeug) is not installed."""
    return (error.name or "").partition(".")[0] in _FLASK_PACKAGES


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    except ImportError as error:
        if is_flask_missing(error):
            raise ModuleNotFoundError(FLASK_MISSING, name=error.name) from error
        raise
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
