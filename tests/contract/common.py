"""What the contract tests of ContainerRegistryCredential and App share: the stack config the
engine hands the provider, and a wrong API key."""

from __future__ import annotations

from typing import Any

from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.testing import Secret
from tests.samples import API_KEY, DEFAULT_WORKSPACE_ID

WRONG_KEY = "miget_live_wrong_key_that_must_never_leak"


def stack_config(emulator: EmulatorServer, api_key: str | None = API_KEY) -> dict[str, Any]:
    """The stack config the engine hands the default pulumi-python provider: the API key is a
    secret, and config of other namespaces is passed along too."""
    config: dict[str, Any] = {
        "miget:apiUrl": emulator.api_url,
        "miget:workspaceId": DEFAULT_WORKSPACE_ID,
        "proj:unrelated": "x",
    }
    if api_key is not None:
        config["miget:apiKey"] = Secret(api_key)
    return config
