"""Offline tests of the stack in stack.py: no Pulumi CLI, no Miget account, no network.

Run them with ``python -m pytest -q examples/testing`` (or ``pytest`` in a copy of this folder).
The fixtures come from the plugin that conftest.py enables:

- ``miget_emulator``: a fresh Miget emulator for each test (``requests_log()``, ``clear_log()``,
  ``add_fault(...)``), stopped afterwards;
- ``miget_stack(program, **options)``: an ``OfflineStack`` against it, whose ``preview()``,
  ``up()``, ``refresh()`` and ``destroy()`` run the program through the SDK's real provider
  server, as ``pulumi`` would.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import requests
from stack import program

from pulumi_miget.emulator import DEFAULT_API_KEY, EmulatorServer
from pulumi_miget.testing import OfflineStack, Secret, StepFailed

TOKEN = "ghp_first_token"
CONFIG = {"ghcrToken": Secret(TOKEN)}  # pulumi config set --secret ghcrToken ghp_first_token


@pytest.fixture
def stack(miget_stack: Callable[..., OfflineStack]) -> OfflineStack:
    """The stack of project "acme" (config keys without a namespace are "acme:...")."""
    return miget_stack(program, project="acme", config=CONFIG)


def calls(emulator: EmulatorServer) -> list[tuple[str, str]]:
    """The API requests since the emulator started (or since ``clear_log()``)."""
    return [(entry["method"], entry["path"]) for entry in emulator.requests_log()]


def test_first_up_creates_the_credential_then_the_app(
    stack: OfflineStack, miget_emulator: EmulatorServer
) -> None:
    result = stack.up()
    assert result.summary == {"create": 2}
    assert {step.name: step.op for step in result.steps} == {"ghcr": "create", "api": "create"}
    assert calls(miget_emulator) == [
        ("POST", "/api/v1/container_registry_credentials"),
        ("POST", "/api/v1/apps"),
    ]
    assert result.outputs["registry_token"] == Secret(TOKEN)  # exported, and still a secret
    app_name = result.output("app_name")
    assert app_name.startswith("acme-api-")  # Miget appends a random suffix to the seed
    assert result.output("public_url").startswith(f"https://{app_name}.")


def test_a_second_up_changes_nothing_and_calls_no_api(
    stack: OfflineStack, miget_emulator: EmulatorServer
) -> None:
    first = stack.up()
    miget_emulator.clear_log()
    second = stack.up()
    assert second.summary == {"same": 2}
    assert second.outputs == first.outputs
    assert miget_emulator.requests_log() == []


def test_a_token_rotation_updates_the_credential_only(
    stack: OfflineStack, miget_emulator: EmulatorServer
) -> None:
    credential_id = stack.up().output("credential_id")
    stack.config["acme:ghcrToken"] = Secret("ghp_rotated")  # pulumi config set --secret ...
    miget_emulator.clear_log()

    preview = stack.preview()
    assert preview.summary == {"update": 1, "same": 1}
    assert (preview.step("ghcr").op, preview.step("ghcr").changed) == ("update", ("token",))
    assert preview.step("api").op == "same"  # the app keeps the credential's uuid
    assert miget_emulator.requests_log() == []  # a preview never calls Miget

    assert stack.up().summary == {"update": 1, "same": 1}
    assert calls(miget_emulator) == [
        ("PUT", f"/api/v1/container_registry_credentials/{credential_id}")
    ]
    assert miget_emulator.requests_log()[0]["fields"] == ["token"]


def test_the_checkpoint_holds_the_token_only_as_a_secret(stack: OfflineStack) -> None:
    stack.up()
    state = stack.state  # JSON-able; every secret value is wrapped as {"secret": value}
    [credential] = [r for r in state["resources"] if r["urn"].endswith("::ghcr")]
    assert credential["inputs"]["token"] == {"secret": TOKEN}
    assert credential["outputs"]["token"] == {"secret": TOKEN}
    in_plain_text = json.dumps(without_secrets(state))
    assert TOKEN not in in_plain_text
    assert DEFAULT_API_KEY not in in_plain_text  # miget:apiKey, kept as the provider's config


def test_a_saved_checkpoint_picks_up_where_it_left_off(
    stack: OfflineStack,
    miget_stack: Callable[..., OfflineStack],
    miget_emulator: EmulatorServer,
) -> None:
    stack.up()
    saved = json.loads(json.dumps(stack.state))  # e.g. written to a file and read back
    miget_emulator.clear_log()
    restarted = miget_stack(program, project="acme", config=CONFIG, state=saved)
    assert restarted.up().summary == {"same": 2}
    assert miget_emulator.requests_log() == []


def test_a_tagged_image_fails_the_preview_on_image_url(
    miget_stack: Callable[..., OfflineStack], miget_emulator: EmulatorServer
) -> None:
    config = {**CONFIG, "image": "ghcr.io/acme/api:1.4.2"}  # the tag belongs in imageTag
    stack = miget_stack(program, project="acme", config=config)
    with pytest.raises(StepFailed, match="resource 'api': property image_url has a problem"):
        stack.preview()
    assert miget_emulator.requests_log() == []  # checked before any API call


def test_refresh_notices_an_app_deleted_outside_pulumi(
    stack: OfflineStack, miget_emulator: EmulatorServer
) -> None:
    app_id = stack.up().output("app_id")
    gone = requests.delete(  # someone deletes the app in the dashboard
        f"{miget_emulator.api_url}/apps/{app_id}",
        headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"},
        timeout=10,
    )
    assert gone.status_code == 204
    refreshed = stack.refresh()
    assert {step.name: step.op for step in refreshed.steps} == {"ghcr": "same", "api": "delete"}
    assert stack.up().summary == {"same": 1, "create": 1}  # the next up creates it again


def test_destroy_deletes_the_app_before_its_credential(
    stack: OfflineStack, miget_emulator: EmulatorServer
) -> None:
    up = stack.up()
    miget_emulator.clear_log()
    assert stack.destroy().summary == {"delete": 2}
    assert calls(miget_emulator) == [
        ("DELETE", f"/api/v1/apps/{up.output('app_id')}"),
        ("DELETE", f"/api/v1/container_registry_credentials/{up.output('credential_id')}"),
    ]
    assert stack.state["resources"] == []


def without_secrets(value: Any) -> Any:
    """``value`` with every ``{"secret": ...}`` replaced: what a checkpoint shows in plain text."""
    if isinstance(value, dict):
        if set(value) == {"secret"}:
            return "[secret]"
        return {key: without_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_secrets(item) for item in value]
    return value
