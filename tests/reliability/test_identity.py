"""Identity: state records where each object lives, so no command orphans, moves or deletes an
object the stack still uses (issue G, items 1-4).

Each test runs real Pulumi programs (pulumi_miget.testing) through the SDK's provider server
against the emulator. Every CLI command gets its own provider process, as under ``pulumi``: the
engine starts the plugin per command and configures it once with the stack config.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pulumi
import pytest

from pulumi_miget import App, ContainerRegistryCredential
from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.testing import (
    CheckFailed,
    ProgramResult,
    ProviderServer,
    Stack,
    destroy_stack,
    run_program,
)
from tests.emulator.helpers import Api
from tests.reliability.common import stored
from tests.reliability.figures import Figures
from tests.samples import (
    CREDENTIALS_PATH,
    DEFAULT_WORKSPACE_ID,
    OTHER_WORKSPACE_ID,
    PROJECT_ID,
    RESOURCE_ID,
)
from tests.scenarios.common import refresh_stack

TOKEN = "ghp_identity_token_5d2c81"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def credential_program(resource_name: str = "cred", **args: Any) -> Callable[[], None]:
    def program() -> None:
        credential = ContainerRegistryCredential(
            resource_name,
            name="ghcr-acme",
            registry="github",
            username="acme-bot",
            token=TOKEN,
            **args,
        )
        pulumi.export("uuid", credential.uuid)

    return program


def app_program(**args: Any) -> Callable[[], None]:
    def program() -> None:
        app = App(
            "api",
            name="acme-api",
            project_id=PROJECT_ID,
            resource_id=RESOURCE_ID,
            image_url="ghcr.io/acme/api",
            tag="1.0.0",
            **args,
        )
        pulumi.export("uuid", app.uuid)

    return program


@contextmanager
def command() -> Iterator[ProviderServer]:
    """One CLI command's provider process."""
    with ProviderServer() as server:
        yield server


def up(stack: Stack, program: Callable[[], None], emulator: EmulatorServer) -> ProgramResult:
    emulator.clear_log()
    with command() as server:
        return run_program(program, stack, server)


def requests(emulator: EmulatorServer) -> list[tuple[str, str, str | None]]:
    return [(e["method"], e["path"], e["workspace"]) for e in emulator.requests_log()]


def writes(emulator: EmulatorServer) -> list[tuple[str, str, str | None]]:
    return [call for call in requests(emulator) if call[0] in WRITES]


def as_written_by_0_1_0(stack: Stack, name: str) -> None:
    """Rewrite a resource's state as pulumi-miget 0.1.0 recorded it without a workspace: no
    ``workspace_id`` in the inputs, ``workspace_id: None`` in the outputs."""
    state = stack.resources[name]
    inputs = {k: v for k, v in state.inputs.items() if k != "workspace_id"}
    stack.resources[name] = dataclasses.replace(
        state, inputs=inputs, outputs={**state.outputs, "workspace_id": None}
    )


# ---- 1. the key's "default workspace" is not a place --------------------------------------------


def test_without_a_workspace_check_fails_saying_where_to_find_one(
    stack: Stack, emulator: EmulatorServer
) -> None:
    del stack.config["miget:workspaceId"]
    with pytest.raises(CheckFailed) as failed:
        up(stack, credential_program(), emulator)
    [(prop, reason)] = failed.value.failures
    assert prop == "workspace_id"
    assert "miget:workspaceId" in reason and "MIGET_WORKSPACE_ID" in reason
    assert "dashboard" in reason
    assert requests(emulator) == [] and stack.resources == {}


def test_the_resolved_workspace_is_recorded_and_later_commands_address_it(
    stack: Stack, emulator: EmulatorServer
) -> None:
    uuid = up(stack, credential_program(), emulator).output("uuid")
    state = stack.resources["cred"]
    assert state.inputs["workspace_id"] == DEFAULT_WORKSPACE_ID
    assert state.outputs["workspace_id"] == DEFAULT_WORKSPACE_ID
    assert writes(emulator) == [("POST", CREDENTIALS_PATH, DEFAULT_WORKSPACE_ID)]

    # destroy with a config that names another workspace: the recorded one is addressed.
    stack.config["miget:workspaceId"] = OTHER_WORKSPACE_ID
    emulator.clear_log()
    with command() as server:
        destroy_stack(stack, server)
    assert writes(emulator) == [("DELETE", f"{CREDENTIALS_PATH}/{uuid}", DEFAULT_WORKSPACE_ID)]
    assert stored(emulator) == []


@pytest.mark.parametrize("kind", ["credential", "app"])
def test_a_0_1_0_state_is_migrated_by_one_get_and_no_write(
    kind: str, stack: Stack, emulator: EmulatorServer, figures: Figures
) -> None:
    program = credential_program() if kind == "credential" else app_program()
    name = "cred" if kind == "credential" else "api"
    uuid = up(stack, program, emulator).output("uuid")
    as_written_by_0_1_0(stack, name)

    migrated = up(stack, program, emulator)
    assert migrated.ops == {name: "update"}  # `~ update [workspace_id]`, never a replace
    path = f"{CREDENTIALS_PATH}/{uuid}" if kind == "credential" else f"/api/v1/apps/{uuid}"
    assert requests(emulator) == [("GET", path, DEFAULT_WORKSPACE_ID)]
    assert migrated.output("uuid") == uuid
    assert stack.resources[name].outputs["workspace_id"] == DEFAULT_WORKSPACE_ID

    assert up(stack, program, emulator).ops == {name: "same"}
    assert requests(emulator) == []
    figures.add("identity", scenarios=1, spurious_replaces=0)


def test_a_0_1_0_state_whose_object_is_not_in_the_configured_workspace_changes_nothing(
    stack: Stack, emulator: EmulatorServer, api: Api, figures: Figures
) -> None:
    uuid = up(stack, credential_program(), emulator).output("uuid")
    as_written_by_0_1_0(stack, "cred")
    legacy = stack.resources["cred"]
    stack.config["miget:workspaceId"] = OTHER_WORKSPACE_ID  # not where the credential lives

    for run in ("up", "refresh", "destroy"):
        emulator.clear_log()
        with command() as server, pytest.raises(Exception) as failed:
            if run == "up":
                run_program(credential_program(), stack, server)
            elif run == "refresh":
                refresh_stack(stack, server, emulator)
            else:  # --run-program: the current config (without it, the config of the last up)
                destroy_stack(stack, server, run_program=True)
        message = str(getattr(failed.value, "details", lambda: failed.value)())
        assert "0.1.0" in message and OTHER_WORKSPACE_ID in message, run
        assert "pulumi state delete" in message, run
        assert writes(emulator) == [] or run == "destroy", run
        assert stack.resources["cred"] == legacy, run  # nothing dropped, nothing recorded
    assert api.get(uuid).status_code == 200  # still in Miget, still in the stack
    orphans = 0 if stack.resources else len(stored(emulator))
    assert orphans == 0
    figures.add("identity", scenarios=1, orphans=orphans)


# ---- 2. changing miget:workspaceId moves the object, the delete reaches the old workspace -------


def test_a_workspace_config_change_replaces_and_leaves_no_orphan(
    stack: Stack, emulator: EmulatorServer, figures: Figures
) -> None:
    old_uuid = up(stack, credential_program(), emulator).output("uuid")

    stack.config["miget:workspaceId"] = OTHER_WORKSPACE_ID
    moved = up(stack, credential_program(), emulator)
    assert moved.ops == {"cred": "replace"}
    new_uuid = moved.output("uuid")
    assert writes(emulator) == [
        ("POST", CREDENTIALS_PATH, OTHER_WORKSPACE_ID),
        ("DELETE", f"{CREDENTIALS_PATH}/{old_uuid}", DEFAULT_WORKSPACE_ID),
    ]
    orphans = len(stored(emulator, DEFAULT_WORKSPACE_ID))
    assert orphans == 0
    assert [r.uuid for r in stored(emulator, OTHER_WORKSPACE_ID)] == [new_uuid]

    # A refresh afterwards reads the recorded workspace and keeps the live object.
    with command() as server:
        refresh_stack(stack, server, emulator)
    assert requests(emulator) == [("GET", f"{CREDENTIALS_PATH}/{new_uuid}", OTHER_WORKSPACE_ID)]
    assert stack.resources["cred"].id == new_uuid
    figures.add("identity", scenarios=1, orphans=orphans)


# ---- 3. the same workspace in another letter case is no change ----------------------------------


@pytest.mark.parametrize("kind", ["credential", "app"])
@pytest.mark.parametrize("where", ["resource", "config"])
def test_a_workspace_in_other_letter_case_is_no_change(
    kind: str, where: str, stack: Stack, emulator: EmulatorServer, figures: Figures
) -> None:
    make = credential_program if kind == "credential" else app_program
    name = "cred" if kind == "credential" else "api"
    up(stack, make(), emulator)
    if where == "config":
        stack.config["miget:workspaceId"] = DEFAULT_WORKSPACE_ID.upper()
        program = make()
    else:
        program = make(workspace_id=DEFAULT_WORKSPACE_ID.upper())
    again = up(stack, program, emulator)
    replaces = sum(op == "replace" for op in again.ops.values())
    assert again.ops == {name: "same"} and replaces == 0
    assert requests(emulator) == []
    figures.add("identity", scenarios=1, spurious_replaces=replaces)


# ---- 4. following our own advice after a rename keeps the credential ----------------------------


def test_rename_then_adopt_as_advised_keeps_the_credential(
    stack: Stack, emulator: EmulatorServer, api: Api, figures: Figures
) -> None:
    uuid = up(stack, credential_program("cred"), emulator).output("uuid")

    # The resource is renamed in the program (no alias): its create finds the name taken.
    emulator.clear_log()
    with command() as server, pytest.raises(Exception) as failed:
        run_program(credential_program("registry-login"), stack, server)
    advice = failed.value.details()  # type: ignore[attr-defined]
    assert uuid in advice
    # Aliases come first (the right fix for a rename), with a line to copy; adopt second.
    assert advice.index("aliases=[pulumi.Alias(name=") < advice.index("adopt=True")
    assert list(stack.resources) == ["cred"]  # a failed up deletes nothing

    # The user follows the second half of the advice instead: adopt=True.
    emulator.clear_log()
    with command() as server:
        adopted = run_program(credential_program("registry-login", adopt=True), stack, server)
        output = server.output
    assert adopted.ops == {"registry-login": "create", "cred": "delete"}
    assert adopted.output("uuid") == uuid
    assert [method for method, *_ in writes(emulator)] == ["PUT"]  # the adoption; no DELETE
    assert "not deleting credential 'ghcr-acme'" in output() and uuid in output()
    assert api.get(uuid).status_code == 200
    assert list(stack.resources) == ["registry-login"]

    # Later commands (new processes) manage it normally.
    assert up(stack, credential_program("registry-login", adopt=True), emulator).ops == {
        "registry-login": "same"
    }
    data_lost = 0 if api.get(uuid).status_code == 200 else 1
    assert data_lost == 0
    with command() as server:
        destroy_stack(stack, server)
    assert api.get(uuid).status_code == 404
    figures.add("identity", scenarios=1, data_lost=data_lost)


def test_an_aliased_rename_keeps_the_state_and_calls_nothing(
    stack: Stack, emulator: EmulatorServer
) -> None:
    """The first half of the advice. The harness matches resources by name, so an alias is
    modelled as the engine applies it: the old state is found under the new name."""
    up(stack, credential_program("cred"), emulator)
    stack.resources["registry-login"] = stack.resources.pop("cred")
    assert up(stack, credential_program("registry-login"), emulator).ops == {
        "registry-login": "same"
    }
    assert requests(emulator) == []
