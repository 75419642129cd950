"""Multi-``up`` scenarios for an App that pulls with a ContainerRegistryCredential.

One stack, several runs of a program, the emulator as the world (see
``test_credential_lifecycle.py`` for the conventions). The emulator's request log names every
request's method, path and body field names (nested ones as ``parent.child``), never values, so
"one PUT /deployment with container_registry_credential_id and nothing else" is asserted
directly.
"""

from __future__ import annotations

from typing import Any

import grpc
import pulumi
import pytest

from pulumi_miget import App, ContainerRegistryCredential, Registry
from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.emulator.records import sha256_hex
from pulumi_miget.testing import (
    ProgramResult,
    ProviderServer,
    Secret,
    Stack,
    destroy_stack,
    engine_factory,
    run_program,
)
from tests.emulator.helpers import Api, calls
from tests.samples import API_KEY, APP, CREDENTIALS_PATH, DEFAULT_WORKSPACE_ID, OTHER_PROJECT_ID
from tests.scenarios.common import WRITES, refresh_stack

APPS = "/api/v1/apps"
TOKEN = "ghp_app_scenario_token_one"
ROTATED = "ghp_app_scenario_token_two"
DB_URL = "postgres://app:scenario-secret-one@db/app"
NEW_DB_URL = "postgres://app:scenario-secret-two@db/app"


def program(
    *,
    token: str = TOKEN,
    use: str = "ghcr",
    credentials: tuple[str, ...] = ("ghcr",),
    **app_overrides: Any,
) -> Any:
    """Credentials named in ``credentials`` (``ghcr`` and/or ``quay``) and one app, ``api``,
    pulling with the one named by ``use``."""

    def body() -> None:
        made = {}
        for name in credentials:
            registry = Registry.GITHUB if name == "ghcr" else Registry.QUAY
            made[name] = ContainerRegistryCredential(
                name, name=f"{name}-acme", registry=registry, username="acme-bot", token=token
            )
            pulumi.export(f"{name}_uuid", made[name].uuid)
        args: dict[str, Any] = {
            **APP,
            "credential_id": made[use].uuid,
            "env": {"DATABASE_URL": DB_URL},
        }
        args.update(app_overrides)
        app = App("api", **args)
        pulumi.export("app_uuid", app.uuid)
        pulumi.export("app_name", app.app_name)

    return body


def writes(emulator: EmulatorServer) -> list[tuple[str, str, list[str]]]:
    return [
        (entry["method"], entry["path"], entry["fields"])
        for entry in emulator.requests_log()
        if entry["method"] in WRITES
    ]


def up(stack: Stack, server: ProviderServer, emulator: EmulatorServer, **kwargs: Any) -> Any:
    """``pulumi up`` with a fresh request log, so each step's calls are its own."""
    emulator.clear_log()
    result: ProgramResult = run_program(program(**kwargs), stack, server)
    return result


def live_app(api: Api, uuid: str) -> dict[str, Any]:
    response = api.request("GET", f"{APPS}/{uuid}")
    assert response.status_code == 200, response.text
    app: dict[str, Any] = response.json()
    return app


def test_rotating_the_credential_token_does_not_touch_the_app(
    server: ProviderServer, stack: Stack, emulator: EmulatorServer, api: Api
) -> None:
    first = up(stack, server, emulator)
    assert first.ops == {"ghcr": "create", "api": "create"}
    cred_uuid, app_uuid = first.output("ghcr_uuid"), first.output("app_uuid")

    rotated = up(stack, server, emulator, token=ROTATED)
    assert rotated.ops == {"ghcr": "update", "api": "same"}
    assert writes(emulator) == [("PUT", f"{CREDENTIALS_PATH}/{cred_uuid}", ["token"])]
    assert not any(path.startswith(APPS) for _, path in calls(emulator))  # zero app calls
    record = emulator.emulator.store.credentials.get(DEFAULT_WORKSPACE_ID, cred_uuid)
    assert record is not None and record.token_sha256 == sha256_hex(ROTATED)
    assert live_app(api, app_uuid)["deployment_config"]["credential_id"] == cred_uuid
    assert rotated.output("app_name") == first.output("app_name")


def test_swapping_the_app_to_another_credential_is_one_deployment_put(
    server: ProviderServer, stack: Stack, emulator: EmulatorServer, api: Api
) -> None:
    both = ("ghcr", "quay")
    first = up(stack, server, emulator, credentials=both)
    app_uuid, quay_uuid = first.output("app_uuid"), first.output("quay_uuid")

    swapped = up(stack, server, emulator, credentials=both, use="quay")
    assert swapped.ops == {"ghcr": "same", "quay": "same", "api": "update"}
    assert writes(emulator) == [
        (
            "PUT",
            f"{APPS}/{app_uuid}/deployment",
            [
                "deployment_config_attributes",
                "deployment_config_attributes.container_registry_credential_id",
                "deployment_config_attributes.image_url",
                "deployment_method",
            ],
        )
    ]
    assert live_app(api, app_uuid)["deployment_config"]["credential_id"] == quay_uuid
    assert swapped.output("app_uuid") == app_uuid

    # The old credential is no longer used, so dropping it from the program deletes it.
    dropped = up(stack, server, emulator, credentials=("quay",), use="quay")
    assert dropped.ops == {"quay": "same", "api": "same", "ghcr": "delete"}
    assert [(method, path) for method, path, _ in writes(emulator)] == [
        ("DELETE", f"{CREDENTIALS_PATH}/{first.output('ghcr_uuid')}")
    ]
    assert [c["name"] for c in api.list().json()] == ["quay-acme"]


def test_destroy_deletes_the_app_before_its_credential(
    server: ProviderServer, stack: Stack, emulator: EmulatorServer, api: Api
) -> None:
    first = up(stack, server, emulator)
    emulator.clear_log()
    # `pulumi destroy` is a new CLI command: a new provider process un-pickles the state's blobs.
    with ProviderServer() as later:
        assert destroy_stack(stack, later) == {"api": "delete", "ghcr": "delete"}
    assert [(e["method"], e["path"], e["status"]) for e in emulator.requests_log()] == [
        ("DELETE", f"{APPS}/{first.output('app_uuid')}", 204),
        ("DELETE", f"{CREDENTIALS_PATH}/{first.output('ghcr_uuid')}", 204),
    ]
    assert api.list().json() == [] and api.request("GET", APPS).json() == []


def test_deleting_the_credential_while_the_app_uses_it_fails_clearly(
    server: ProviderServer, stack: Stack, emulator: EmulatorServer, api: Api
) -> None:
    first = up(stack, server, emulator)
    cred_uuid = first.output("ghcr_uuid")
    engines = engine_factory(server, stack.config, "proj", "dev")
    credential = stack.resources["ghcr"]
    emulator.clear_log()

    with pytest.raises(grpc.RpcError) as caught:
        engines(credential.type).delete(credential)  # out of order, as a hand-made delete would
    details = caught.value.details()
    assert f"delete credential 'ghcr-acme' ({cred_uuid})" in details
    assert "HTTP 422: Credential is in use by 1 application(s)" in details
    assert TOKEN not in details and API_KEY not in details
    assert api.get(cred_uuid).status_code == 200  # nothing was deleted

    assert destroy_stack(stack, server) == {"api": "delete", "ghcr": "delete"}
    assert api.list().json() == []


def test_tag_bump_project_move_and_rename(
    server: ProviderServer, stack: Stack, emulator: EmulatorServer, api: Api
) -> None:
    first = up(stack, server, emulator)
    uuid = first.output("app_uuid")

    bumped = up(stack, server, emulator, tag="1.2.4")
    assert bumped.ops == {"ghcr": "same", "api": "update"}
    assert writes(emulator) == [
        (
            "PUT",
            f"{APPS}/{uuid}/deployment",
            [
                "deployment_config_attributes",
                "deployment_config_attributes.image_url",
                "deployment_config_attributes.tag",
                "deployment_method",
            ],
        )
    ]
    assert live_app(api, uuid)["deployment_config"]["tag"] == "1.2.4"

    # Same seed in another project: the service name would collide, so delete first.
    moved = up(stack, server, emulator, tag="1.2.4", project_id=OTHER_PROJECT_ID)
    assert moved.ops == {"ghcr": "same", "api": "replace"}
    assert [(m, p) for m, p, _ in writes(emulator)] == [
        ("DELETE", f"{APPS}/{uuid}"),
        ("POST", APPS),
    ]
    moved_uuid = moved.output("app_uuid")
    assert live_app(api, moved_uuid)["project_id"] == OTHER_PROJECT_ID

    # A new seed: create the new app, then delete the old one.
    renamed = up(stack, server, emulator, tag="1.2.4", project_id=OTHER_PROJECT_ID, name="acme-web")
    assert renamed.ops == {"ghcr": "same", "api": "replace"}
    assert [(m, p) for m, p, _ in writes(emulator)] == [
        ("POST", APPS),
        ("DELETE", f"{APPS}/{moved_uuid}"),
    ]
    [app] = api.request("GET", APPS).json()
    assert app["service_name"] == "acme-web" and app["name"] == renamed.output("app_name")
    assert app["deployment_config"]["credential_id"] == first.output("ghcr_uuid")


def test_env_rotation_then_refresh_after_an_out_of_band_delete(
    server: ProviderServer, stack: Stack, emulator: EmulatorServer, api: Api
) -> None:
    uuid = up(stack, server, emulator).output("app_uuid")

    rotated = up(stack, server, emulator, env={"DATABASE_URL": NEW_DB_URL, "LOG_LEVEL": "info"})
    assert rotated.ops == {"ghcr": "same", "api": "update"}
    assert writes(emulator) == [
        ("PUT", f"{APPS}/{uuid}/vars", ["key", "value"]),  # DATABASE_URL (keys in order)
        ("POST", f"{APPS}/{uuid}/vars", ["key", "value"]),  # LOG_LEVEL, new
    ]
    assert stack.resources["api"].outputs["env"] == Secret(
        {"DATABASE_URL": NEW_DB_URL, "LOG_LEVEL": "info"}
    )
    record = emulator.emulator.store.apps.get(DEFAULT_WORKSPACE_ID, uuid)
    assert record is not None and record.vars_sha256["DATABASE_URL"] == sha256_hex(NEW_DB_URL)

    # Deleted in the dashboard: refresh drops it, the next up creates it again.
    assert api.request("DELETE", f"{APPS}/{uuid}").status_code == 204
    refresh_stack(stack, server, emulator)
    assert set(stack.resources) == {"ghcr"}
    again = up(stack, server, emulator, env={"DATABASE_URL": NEW_DB_URL, "LOG_LEVEL": "info"})
    assert again.ops == {"ghcr": "same", "api": "create"}
    assert [(m, p) for m, p, _ in writes(emulator)] == [("POST", APPS)]
    assert again.output("app_uuid") != uuid
    assert DB_URL not in str(emulator.requests_log()) and NEW_DB_URL not in str(
        emulator.requests_log()
    )
