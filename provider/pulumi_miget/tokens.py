"""The type tokens of the Miget resources, in one small module with no imports of its own.

A Python dynamic resource's type is ``pulumi-python:dynamic/<module>:<name>``, from the
``module=``/``name=`` class keywords of :class:`pulumi.dynamic.Resource`. The tokens are a
stable API (users' states and policy packs hold them). The policies import this module, never
a resource module, so ``import pulumi_miget.policies`` loads no provider code.
"""

from __future__ import annotations

from typing import Final

__all__ = ["APP_TYPE", "CREDENTIAL_TYPE", "DEPLOYMENT_TYPE", "MODULE", "type_token"]

MODULE: Final = "miget"


def type_token(name: str) -> str:
    """The type token of the dynamic resource class ``name`` registered under :data:`MODULE`."""
    return f"pulumi-python:dynamic/{MODULE}:{name}"


CREDENTIAL_TYPE: Final = type_token("ContainerRegistryCredential")
APP_TYPE: Final = type_token("App")
DEPLOYMENT_TYPE: Final = type_token("Deployment")
