"""Engine facts the resources respect (issue G, items 5-8; pulumi-dynamic.md "Engine audit").

Real programs through the SDK's provider server and the emulator (pulumi_miget.testing),
whose engine model follows the Go source cited in each test.
"""

from __future__ import annotations

import uuid as uuid_module
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from pulumi_miget import App, ContainerRegistryCredential
from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.errors import ResourceOptionsError
from pulumi_miget.testing import UNKNOWN, ProviderServer, Stack, run_program
from tests.emulator.helpers import Api
from tests.samples import (
    CREDENTIALS_PATH,
    DEFAULT_WORKSPACE_ID,
    OTHER_RESOURCE_ID,
    PROJECT_ID,
    RESOURCE_ID,
)

TOKEN = "ghp_engine_facts_token_71a0"
ROTATED = "ghp_engine_facts_token_rotated_2b9e"


def credential(token: str = TOKEN, **args: Any) -> ContainerRegistryCredential:
    return ContainerRegistryCredential(
        "ghcr", name="ghcr-acme", registry="github", username="acme-bot", token=token, **args
    )


def app(credential_id: Any = None, **args: Any) -> App:
    return App(
        "api",
        name="acme-api",
        project_id=PROJECT_ID,
        resource_id=args.pop("resource_id", RESOURCE_ID),
        image_url="ghcr.io/acme/api",
        tag="1.0.0",
        credential_id=credential_id,
        **args,
    )


def stack_with_app(token: str = TOKEN) -> Callable[[], None]:
    def program() -> None:
        ghcr = credential(token)
        api = app(ghcr.uuid)
        pulumi.export("credential_uuid", ghcr.uuid)
        pulumi.export("app_credential", api.credential_id)

    return program


def methods(emulator: EmulatorServer) -> list[tuple[str, str]]:
    return [(e["method"], e["path"]) for e in emulator.requests_log()]


# ---- 5. .get() of a uuid that does not exist fails ----------------------------------------------


@pytest.mark.parametrize("kind", ["credential", "app"])
def test_get_of_a_missing_uuid_fails_with_not_found(
    kind: str, server: ProviderServer, stack: Stack
) -> None:
    missing = str(uuid_module.uuid4())

    def program() -> None:
        resource = (ContainerRegistryCredential if kind == "credential" else App).get(
            "lookup", missing
        )
        pulumi.export("name", resource.name)

    with pytest.raises(Exception) as failed:
        run_program(program, stack, server)
    text = failed.value.details() if hasattr(failed.value, "details") else str(failed.value)
    assert f"{kind} {missing}: not found in workspace {DEFAULT_WORKSPACE_ID}" in text


def test_get_of_an_existing_uuid_still_reads_it(
    server: ProviderServer, stack: Stack, api: Api
) -> None:
    existing = api.create(name="made-by-hand")

    def program() -> None:
        found = ContainerRegistryCredential.get("lookup", existing["uuid"])
        pulumi.export("name", found.name)
        pulumi.export("uuid", found.uuid)

    result = run_program(program, stack, server)
    assert result.output("name") == "made-by-hand"
    assert result.output("uuid") == existing["uuid"]


# ---- 6. uuid stays known in the preview of an update --------------------------------------------


def test_a_token_rotation_previews_the_app_as_unchanged(
    server: ProviderServer, stack: Stack, emulator: EmulatorServer
) -> None:
    first = run_program(stack_with_app(), stack, server)
    cred_uuid = first.output("credential_uuid")

    preview = run_program(stack_with_app(ROTATED), stack, server, preview=True)
    # provider_plugin.go:1709-1714: a preview Update returns the checked inputs as outputs, so
    # only the id stays known; uuid is the id, so the App's input does not change.
    assert preview.ops == {"ghcr": "update", "api": "same"}
    assert preview.output("credential_uuid") == cred_uuid
    assert preview.output("app_credential") == cred_uuid

    emulator.clear_log()
    rotated = run_program(stack_with_app(ROTATED), stack, server)
    assert rotated.ops == {"ghcr": "update", "api": "same"}
    assert methods(emulator) == [("PUT", f"{CREDENTIALS_PATH}/{cred_uuid}")]


def test_uuid_is_unknown_only_while_the_id_is(server: ProviderServer, stack: Stack) -> None:
    preview = run_program(stack_with_app(), stack, server, preview=True)
    assert preview.output("credential_uuid") is UNKNOWN  # a create has no id in preview


def test_uuid_still_carries_the_dependency_on_the_credential(
    server: ProviderServer, stack: Stack
) -> None:
    result = run_program(stack_with_app(), stack, server, preview=True)
    deps = result.registration("api").propertyDependencies["credential_id"].urns
    assert [urn.rsplit("::", 1)[-1] for urn in deps] == ["ghcr"]


# ---- 7. the user's delete_before_replace overrides the provider ---------------------------------


def test_an_app_refuses_delete_before_replace_false(server: ProviderServer, stack: Stack) -> None:
    def program() -> None:
        app(opts=pulumi.ResourceOptions(delete_before_replace=False))

    with pytest.raises(ResourceOptionsError, match="delete_before_replace=False cannot be used"):
        run_program(program, stack, server)
    assert stack.resources == {}


def test_a_resource_change_of_an_app_deletes_the_old_app_first(
    server: ProviderServer, stack: Stack, emulator: EmulatorServer
) -> None:
    """With the option unset the provider's delete-before-replace stands (the service name
    is unique per workspace); the engine model applies the override rule of
    step_generator.go:2043-2046."""
    run_program(lambda: app(), stack, server)
    old = stack.resources["api"].id
    emulator.clear_log()
    moved = run_program(lambda: app(resource_id=OTHER_RESOURCE_ID), stack, server)
    assert moved.ops == {"api": "replace"}
    assert methods(emulator) == [("DELETE", f"/api/v1/apps/{old}"), ("POST", "/api/v1/apps")]


# ---- 8. replace_on_changes is ignored by the engine; replacement_trigger works ------------------


@pytest.mark.parametrize("kind", ["credential", "app"])
def test_replace_on_changes_is_refused_pointing_at_replacement_trigger(
    kind: str, server: ProviderServer, stack: Stack
) -> None:
    opts = pulumi.ResourceOptions(replace_on_changes=["token" if kind == "credential" else "tag"])

    def program() -> None:
        if kind == "credential":
            credential(opts=opts)
        else:
            app(opts=opts)

    with pytest.raises(ResourceOptionsError) as failed:
        run_program(program, stack, server)
    assert "replace_on_changes is ignored" in str(failed.value)
    assert "replacement_trigger=" in str(failed.value)


def test_replacement_trigger_forces_a_replace(
    server: ProviderServer, stack: Stack, emulator: EmulatorServer, api: Api
) -> None:
    def program(trigger: str) -> Callable[[], None]:
        def body() -> None:
            ghcr = credential(
                opts=pulumi.ResourceOptions(replacement_trigger=trigger, delete_before_replace=True)
            )
            pulumi.export("uuid", ghcr.uuid)

        return body

    first = run_program(program("v1"), stack, server).output("uuid")
    emulator.clear_log()
    assert run_program(program("v1"), stack, server).ops == {"ghcr": "same"}
    assert methods(emulator) == []

    replaced = run_program(program("v2"), stack, server)
    assert replaced.ops == {"ghcr": "replace"}
    second = replaced.output("uuid")
    assert second != first
    assert methods(emulator) == [
        ("DELETE", f"{CREDENTIALS_PATH}/{first}"),
        ("POST", CREDENTIALS_PATH),
    ]
    assert [item["uuid"] for item in api.list().json()] == [second]


def test_replacement_trigger_without_delete_first_is_refused(
    server: ProviderServer, stack: Stack
) -> None:
    def program() -> None:
        credential(opts=pulumi.ResourceOptions(replacement_trigger="v1"))

    with pytest.raises(ResourceOptionsError, match="needs delete_before_replace=True"):
        run_program(program, stack, server)
