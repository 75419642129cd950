"""Pulumi resources for Miget.

    from pulumi_miget import ContainerRegistryCredential, Registry

Only re-exports live here. The HTTP client, the emulator and the policies load on demand, so a
Pulumi program pays for nothing it does not use.
"""

from ._version import __version__
from .app import App
from .credential import CREDENTIAL_TYPE, ContainerRegistryCredential
from .rules import Registry

__all__ = ["CREDENTIAL_TYPE", "App", "ContainerRegistryCredential", "Registry", "__version__"]
