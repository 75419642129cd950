"""The stable import path of ContainerRegistryCredential.

Users' states pickle the provider by reference as
``pulumi_miget.credential.ContainerRegistryCredentialProvider``, so this module and that name
stay forever. The code lives in :mod:`pulumi_miget.resources.credential`.
"""

from .resources.credential import (
    ContainerRegistryCredential,
    ContainerRegistryCredentialArgs,
    ContainerRegistryCredentialProvider,
)

__all__ = [
    "ContainerRegistryCredential",
    "ContainerRegistryCredentialArgs",
    "ContainerRegistryCredentialProvider",
]
