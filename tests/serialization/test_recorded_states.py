"""States written by an earlier release still mean "no change" to this code.

``golden/state_v0_2_0.json`` is the checkpoint (inputs and outputs of every resource) that the
release before the v2 layout wrote for :func:`program`. Loaded into a stack, the same program
must plan every resource as ``same`` with no HTTP request: a user upgrading the package sees no
diff. Regenerate (only when a release deliberately changes state) with
``python -m tests.serialization.test_recorded_states``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pulumi_miget import App, ContainerRegistryCredential, Registry
from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.testing import ProviderServer, ResourceState, Secret, Stack, run_program

GOLDEN = Path(__file__).parent / "golden" / "state_v0_2_0.json"
TOKEN = "ghp_recorded_state_token"
DATABASE_URL = "postgres://app:recorded-state@db/app"


def program() -> None:
    ghcr = ContainerRegistryCredential(
        "ghcr",
        name="ghcr-recorded",
        registry=Registry.AWS_ECR,
        username="AWS",
        token=TOKEN,
        registry_hostname="123456789012.dkr.ecr.eu-west-1.amazonaws.com",
        skip_validation=True,
    )
    App(
        "api",
        name="recorded-api",
        project_id="3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b",
        resource_id="7d8e9f0a-1b2c-4d3e-9f5a-6b7c8d9e0f1a",
        image_url="123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/api",
        tag="1.4.2",
        credential_id=ghcr.uuid,
        label="Recorded API",
        ram_size=512,
        cpu_size=0.5,
        command=["/bin/api"],
        args=["serve", "--port", "5000"],
        env={"DATABASE_URL": DATABASE_URL, "LOG_LEVEL": "info"},
    )


def _dump(value: Any) -> Any:
    if isinstance(value, Secret):
        return {"$secret": _dump(value.value)}
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dump(v) for v in value]
    return value


def _load(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$secret"}:
            return Secret(_load(value["$secret"]))
        return {k: _load(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_load(v) for v in value]
    return value


def load_stack(config: dict[str, Any]) -> Stack:
    recorded = json.loads(GOLDEN.read_text())
    stack = Stack(config=config)
    for name, state in recorded["resources"].items():
        stack.resources[name] = ResourceState(
            state["urn"],
            state["id"],
            _load(state["inputs"]),
            _load(state["outputs"]),
            tuple(state["additional_secret_outputs"]),
        )
    return stack


def test_the_recorded_state_holds_both_resources_with_their_blobs() -> None:
    recorded = json.loads(GOLDEN.read_text())["resources"]
    assert set(recorded) == {"ghcr", "api"}
    for state in recorded.values():
        assert state["outputs"]["__provider"] == state["inputs"]["__provider"]


def test_a_state_of_the_previous_release_plans_no_change(
    stack: Stack, server: ProviderServer, emulator: EmulatorServer
) -> None:
    upgraded = load_stack(stack.config)
    emulator.clear_log()
    result = run_program(program, upgraded, server, preview=True)
    assert result.ops == {"ghcr": "same", "api": "same"}
    result = run_program(program, upgraded, server)
    assert result.ops == {"ghcr": "same", "api": "same"}
    assert emulator.requests_log() == []  # check and diff alone decided


def record() -> None:  # pragma: no cover - run by hand, see the module docstring
    from tests.samples import API_KEY, DEFAULT_WORKSPACE_ID

    with EmulatorServer(api_keys=[API_KEY]) as emulator, ProviderServer() as server:
        stack = Stack(
            config={
                "miget:apiKey": Secret(API_KEY),
                "miget:apiUrl": emulator.api_url,
                "miget:workspaceId": DEFAULT_WORKSPACE_ID,
            }
        )
        run_program(program, stack, server)
        resources = {
            name: {
                "urn": state.urn,
                "id": state.id,
                "inputs": _dump(state.inputs),
                "outputs": _dump(state.outputs),
                "additional_secret_outputs": list(state.additional_secret_outputs),
            }
            for name, state in stack.resources.items()
        }
    GOLDEN.write_text(json.dumps({"resources": resources}, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    record()
