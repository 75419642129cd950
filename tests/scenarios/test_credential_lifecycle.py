"""Multi-``up`` scenarios: one stack, several runs of a program, the emulator as the world.

Each scenario keeps a :class:`Stack` (config + checkpoint) across ``run_program`` calls, as
consecutive ``pulumi up`` / ``refresh`` / ``destroy`` commands would, and asserts what each run
did to the stack and exactly which API calls it made. Out-of-band changes go straight to the
emulator over HTTP, as a person using the Miget dashboard or API would make them.

The emulator's request log names the top-level fields of every request body (never values),
so "one PUT with only the token" is asserted directly.
"""

from __future__ import annotations

from typing import Any

import grpc
import pulumi
import pytest

from pulumi_miget import ContainerRegistryCredential, Registry
from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.emulator.records import sha256_hex
from pulumi_miget.testing import ProviderServer, Secret, Stack, destroy_stack, run_program
from tests.emulator.helpers import Api, calls
from tests.samples import (
    CREDENTIALS_PATH,
    DEFAULT_WORKSPACE_ID,
    OTHER_WORKSPACE_ID,
)
from tests.scenarios.common import WRITES, refresh_stack

TOKEN = "ghp_scenario_token_one"
ROTATED = "ghp_scenario_token_two"


def program(**overrides: Any) -> Any:
    """A program with one credential, ``cred``; ``overrides`` change its arguments."""

    def body() -> None:
        args: dict[str, Any] = {
            "name": "ghcr-acme",
            "registry": Registry.GITHUB,
            "username": "acme-bot",
            "token": TOKEN,
        }
        args.update(overrides)
        credential = ContainerRegistryCredential("cred", **args)
        pulumi.export("uuid", credential.uuid)
        pulumi.export("token", credential.token)

    return body


def writes(emulator: EmulatorServer) -> list[tuple[str, str, str, list[str]]]:
    """The API writes since the log was last cleared: (method, path, workspace, body fields)."""
    return [
        (entry["method"], entry["path"], entry["workspace"], entry["fields"])
        for entry in emulator.requests_log()
        if entry["method"] in WRITES
    ]


def item(uuid: str) -> str:
    return f"{CREDENTIALS_PATH}/{uuid}"


def up(stack: Stack, server: ProviderServer, emulator: EmulatorServer, **overrides: Any) -> Any:
    """``pulumi up`` with a fresh request log, so each step's calls are its own."""
    emulator.clear_log()
    return run_program(program(**overrides), stack, server)


def test_create_noop_rename_rotate_then_destroy_from_a_new_process(
    server: ProviderServer, stack: Stack, emulator: EmulatorServer, api: Api
) -> None:
    first = up(stack, server, emulator)
    assert first.ops == {"cred": "create"}
    uuid = first.output("uuid")
    assert writes(emulator) == [
        ("POST", CREDENTIALS_PATH, DEFAULT_WORKSPACE_ID, ["name", "registry", "token", "username"])
    ]

    noop = up(stack, server, emulator)
    assert noop.ops == {"cred": "same"}
    assert writes(emulator) == []
    assert calls(emulator) == []  # check and diff make no HTTP call at all
    assert noop.outputs == first.outputs

    renamed = up(stack, server, emulator, name="ghcr-renamed")
    assert renamed.ops == {"cred": "update"}
    assert writes(emulator) == [("PUT", item(uuid), DEFAULT_WORKSPACE_ID, ["name"])]
    assert renamed.output("uuid") == uuid
    assert api.get(uuid).json()["name"] == "ghcr-renamed"

    rotated = up(stack, server, emulator, name="ghcr-renamed", token=ROTATED)
    assert rotated.ops == {"cred": "update"}
    assert writes(emulator) == [("PUT", item(uuid), DEFAULT_WORKSPACE_ID, ["token"])]
    assert rotated.outputs["token"] == (ROTATED, True)
    assert stack.resources["cred"].outputs["token"] == Secret(ROTATED)
    record = emulator.emulator.store.credentials.get(DEFAULT_WORKSPACE_ID, uuid)
    assert record is not None and record.token_sha256 == sha256_hex(ROTATED)

    # `pulumi destroy` is a new CLI command: a new provider process un-pickles the state's blob.
    emulator.clear_log()
    with ProviderServer() as later:
        assert destroy_stack(stack, later) == {"cred": "delete"}
    assert writes(emulator) == [("DELETE", item(uuid), DEFAULT_WORKSPACE_ID, [])]
    assert api.list().json() == [] and stack.resources == {}


def test_a_workspace_change_creates_in_the_new_workspace_then_deletes_the_old(
    server: ProviderServer, stack: Stack, emulator: EmulatorServer, api: Api
) -> None:
    old_uuid = up(stack, server, emulator).output("uuid")

    moved = up(stack, server, emulator, workspace_id=OTHER_WORKSPACE_ID)
    assert moved.ops == {"cred": "replace"}
    new_uuid = moved.output("uuid")
    assert new_uuid != old_uuid
    fields = ["name", "registry", "token", "username"]
    assert writes(emulator) == [
        ("POST", CREDENTIALS_PATH, OTHER_WORKSPACE_ID, fields),
        ("DELETE", item(old_uuid), DEFAULT_WORKSPACE_ID, []),
    ]
    assert api.list().json() == []
    [live] = api.in_workspace(OTHER_WORKSPACE_ID).list().json()
    assert (live["uuid"], live["name"]) == (new_uuid, "ghcr-acme")
    assert moved.outputs["token"] == (TOKEN, True)

    emulator.clear_log()
    destroy_stack(stack, server)
    assert writes(emulator) == [("DELETE", item(new_uuid), OTHER_WORKSPACE_ID, [])]
    assert api.in_workspace(OTHER_WORKSPACE_ID).list().json() == []


def test_refresh_reports_an_out_of_band_change_and_the_next_up_repairs_it(
    server: ProviderServer, stack: Stack, emulator: EmulatorServer, api: Api
) -> None:
    uuid = up(stack, server, emulator).output("uuid")
    assert api.put(uuid, {"username": "changed-in-dashboard"}).status_code == 200

    refresh_stack(stack, server, emulator)
    assert calls(emulator) == [("GET", item(uuid))]
    state = stack.resources["cred"]
    assert state.outputs["username"] == "changed-in-dashboard"
    assert state.inputs["username"] == "changed-in-dashboard"
    assert state.outputs["token"] == Secret(TOKEN)  # carried over: the API never returns it

    repaired = up(stack, server, emulator)
    assert repaired.ops == {"cred": "update"}
    assert writes(emulator) == [("PUT", item(uuid), DEFAULT_WORKSPACE_ID, ["username"])]
    assert api.get(uuid).json()["username"] == "acme-bot"

    assert up(stack, server, emulator).ops == {"cred": "same"}
    assert writes(emulator) == []


def test_refresh_drops_a_credential_deleted_out_of_band_and_the_next_up_recreates_it(
    server: ProviderServer, stack: Stack, emulator: EmulatorServer, api: Api
) -> None:
    old_uuid = up(stack, server, emulator).output("uuid")
    assert api.delete(old_uuid).status_code == 204

    # Without a refresh, an update fails and says what to do.
    with pytest.raises(grpc.RpcError) as caught:
        up(stack, server, emulator, name="ghcr-renamed")
    assert "pulumi refresh" in caught.value.details()
    assert stack.resources["cred"].id == old_uuid

    refresh_stack(stack, server, emulator)
    assert calls(emulator) == [("GET", item(old_uuid))]
    assert stack.resources == {}

    again = up(stack, server, emulator)
    assert again.ops == {"cred": "create"}
    assert [method for method, *_ in writes(emulator)] == ["POST"]
    [live] = api.list().json()
    assert live["uuid"] == again.output("uuid") != old_uuid


def test_adopt_takes_over_an_existing_credential_with_one_lookup_and_one_put(
    server: ProviderServer, stack: Stack, emulator: EmulatorServer, api: Api
) -> None:
    existing = api.create(name="ghcr-acme", username="made-by-hand", token="ghp_by_hand")

    # Without adopt the name is taken; the error says how to take the credential over.
    with pytest.raises(grpc.RpcError) as caught:
        up(stack, server, emulator)
    assert "adopt=True" in caught.value.details() and existing["uuid"] in caught.value.details()
    assert stack.resources == {}

    adopted = up(stack, server, emulator, adopt=True)
    assert adopted.ops == {"cred": "create"}
    assert calls(emulator) == [("GET", CREDENTIALS_PATH), ("PUT", item(existing["uuid"]))]
    assert [method for method, *_ in writes(emulator)] == ["PUT"]
    assert adopted.output("uuid") == existing["uuid"]
    assert api.get(existing["uuid"]).json()["username"] == "acme-bot"
    record = emulator.emulator.store.credentials.get(DEFAULT_WORKSPACE_ID, existing["uuid"])
    assert record is not None and record.token_sha256 == sha256_hex(TOKEN)
    assert adopted.outputs["token"] == (TOKEN, True)

    assert up(stack, server, emulator, adopt=True).ops == {"cred": "same"}
    assert calls(emulator) == []

    # `pulumi destroy` is another command, so another provider process (it has adopted nothing).
    emulator.clear_log()
    with ProviderServer() as destroying:
        destroy_stack(stack, destroying)
    assert writes(emulator) == [("DELETE", item(existing["uuid"]), DEFAULT_WORKSPACE_ID, [])]
    assert api.list().json() == []
