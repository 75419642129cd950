"""Pulumi resources for Miget.

    from pulumi_miget import ContainerRegistryCredential, Registry

Only re-exports live here, loaded on first use (PEP 562): ``import pulumi_miget.policies`` or
``pulumi_miget.emulator`` loads no resource module, and a Pulumi program pays for nothing it
does not use (the HTTP client loads only inside the provider process).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .tokens import APP_TYPE, CREDENTIAL_TYPE, DEPLOYMENT_TYPE

if TYPE_CHECKING:
    from .app import App
    from .credential import ContainerRegistryCredential
    from .resources.deployment import Deployment
    from .rules.credential import Registry

__all__ = [
    "APP_TYPE",
    "CREDENTIAL_TYPE",
    "DEPLOYMENT_TYPE",
    "App",
    "ContainerRegistryCredential",
    "Deployment",
    "Registry",
    "__version__",
]

# public name → the module that defines it
_LAZY = {
    "App": ".app",
    "ContainerRegistryCredential": ".credential",
    "Deployment": ".resources.deployment",
    "Registry": ".rules.credential",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pulumi_miget' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
