"""What the program tests of ContainerRegistryCredential and App share."""

from __future__ import annotations

from typing import Any

from pulumi_miget.testing import ProgramResult, from_struct


def sent(result: ProgramResult, name: str) -> dict[str, Any]:
    """The inputs the SDK registered for ``name``, decoded (secrets as Secret)."""
    return from_struct(result.registration(name).object)
