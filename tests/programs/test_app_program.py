"""Pulumi programs using App (with ContainerRegistryCredential), end to end without the CLI.

Each program runs under ``set_mocks`` (pulumi_miget.testing): its dynamic registrations go
through the SDK's pickling, the real provider server and the emulator, and the engine-annotated
outputs come back into the program. The raw ``RegisterResourceRequest`` shows what the SDK put on
the wire: the type token, ``additionalSecretOutputs``, secret inputs and property dependencies.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from pulumi_miget import App, ContainerRegistryCredential, Registry
from pulumi_miget.app import AppProvider
from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.testing import (
    UNKNOWN,
    CheckFailed,
    ProviderServer,
    Secret,
    Stack,
    provider_blob,
    run_program,
)
from pulumi_miget.tokens import APP_TYPE, CREDENTIAL_TYPE
from tests.emulator.helpers import Api, calls
from tests.programs.common import sent
from tests.samples import APP, DEFAULT_WORKSPACE_ID, PROJECT_ID, RESOURCE_ID

APPS = "/api/v1/apps"
TOKEN = "ghp_app_program_registry_token"
DB_URL = "postgres://app:program-secret-value@db/app"
BLOB = provider_blob(AppProvider())
# Mock URNs carry the root stack's type as a parent prefix.
CREDENTIAL_URN_SUFFIX = "::pulumi-python:dynamic/miget:ContainerRegistryCredential::ghcr"


def app_args(**overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {**APP, "env": {"DATABASE_URL": DB_URL}}
    args.update(overrides)
    return args


def credential_and_app(seen: dict[str, Any], **overrides: Any) -> Any:
    async def program() -> None:
        credential = ContainerRegistryCredential(
            "ghcr", name="ghcr-acme", registry=Registry.GITHUB, username="bot", token=TOKEN
        )
        app = App("api", **app_args(credential_id=credential.uuid, **overrides))
        pulumi.export("app_name", app.app_name)
        pulumi.export("public_url", app.public_url)
        pulumi.export("credential_id", app.credential_id)
        pulumi.export("env", app.env)
        seen["env_is_secret"] = await app.env.is_secret()
        seen["url_is_secret"] = await app.public_url.is_secret()

    return program


def test_the_registration_has_the_type_token_and_env_as_additional_secret_output(
    server: ProviderServer, stack: Stack
) -> None:
    result = run_program(credential_and_app({}), stack, server, preview=True)
    request = result.registration("api")
    assert request.type == APP_TYPE == "pulumi-python:dynamic/miget:App"
    assert request.custom is True
    assert list(request.additionalSecretOutputs) == ["env"]


def test_additional_secret_outputs_of_the_user_are_kept(
    server: ProviderServer, stack: Stack
) -> None:
    def program() -> None:
        opts = pulumi.ResourceOptions(additional_secret_outputs=["internal_url"])
        App("api", **app_args(), opts=opts)

    result = run_program(program, stack, server, preview=True)
    assert sorted(result.registration("api").additionalSecretOutputs) == ["env", "internal_url"]


def test_env_is_a_secret_on_the_wire_and_the_provider_blob_is_not(
    server: ProviderServer, stack: Stack
) -> None:
    def program() -> None:
        App("api", **app_args())

    inputs = sent(run_program(program, stack, server, preview=True), "api")
    assert inputs["env"] == Secret({"DATABASE_URL": DB_URL})
    assert inputs["__provider"] == BLOB  # nothing secret captured: a plain string
    # Output-only properties are not sent; None inputs are dropped.
    assert set(inputs) == {
        "name",
        "project_id",
        "resource_id",
        "image_url",
        "tag",
        "env",
        "__provider",
    }


def test_credential_id_depends_on_the_credential_urn(server: ProviderServer, stack: Stack) -> None:
    result = run_program(credential_and_app({}), stack, server, preview=True)
    request = result.registration("api")
    deps = list(request.propertyDependencies["credential_id"].urns)
    assert len(deps) == 1 and deps[0].endswith(CREDENTIAL_URN_SUFFIX)
    assert deps[0] in list(request.dependencies)
    assert not request.propertyDependencies["image_url"].urns


def test_a_literal_credential_uuid_carries_no_dependency(
    server: ProviderServer, stack: Stack, api: Api
) -> None:
    literal = api.create()["uuid"]

    def program() -> None:
        App("api", **app_args(credential_id=literal))

    request = run_program(program, stack, server, preview=True).registration("api")
    assert not request.propertyDependencies["credential_id"].urns
    assert sent(run_program(program, stack, server, preview=True), "api")["credential_id"] == (
        literal
    )


def test_a_program_creates_the_credential_then_the_app(
    server: ProviderServer, stack: Stack, emulator: EmulatorServer, api: Api
) -> None:
    seen: dict[str, Any] = {}
    result = run_program(credential_and_app(seen), stack, server)
    assert result.ops == {"ghcr": "create", "api": "create"}
    assert calls(emulator) == [
        ("POST", "/api/v1/container_registry_credentials"),
        ("POST", APPS),
    ]
    [credential] = api.list().json()
    [live] = api.request("GET", APPS).json()
    assert result.output("credential_id") == credential["uuid"]
    assert live["deployment_config"]["credential_id"] == credential["uuid"]
    assert result.output("app_name") == live["name"]
    assert result.outputs["public_url"] == (live["public_url"], False)
    assert result.outputs["env"] == ({"DATABASE_URL": DB_URL}, True)
    assert seen == {"env_is_secret": True, "url_is_secret": False}
    assert stack.resources["api"].outputs["env"] == Secret({"DATABASE_URL": DB_URL})
    assert stack.resources["api"].inputs["env"] == Secret({"DATABASE_URL": DB_URL})


def test_a_second_up_changes_nothing_and_calls_no_api(
    server: ProviderServer, stack: Stack, emulator: EmulatorServer
) -> None:
    first = run_program(credential_and_app({}), stack, server)
    emulator.clear_log()
    second = run_program(credential_and_app({}), stack, server)
    assert second.ops == {"ghcr": "same", "api": "same"}
    assert second.outputs == first.outputs
    assert emulator.requests_log() == []


def test_preview_checks_with_the_credential_uuid_unknown_and_calls_no_api(
    server: ProviderServer, stack: Stack, emulator: EmulatorServer
) -> None:
    result = run_program(credential_and_app({}), stack, server, preview=True)
    assert result.ops == {"ghcr": "create", "api": "create"}
    assert result.outputs["credential_id"] == (UNKNOWN, False)
    assert result.outputs["public_url"] == (UNKNOWN, False)
    assert result.outputs["env"] == ({"DATABASE_URL": DB_URL}, True)
    assert emulator.requests_log() == [] and stack.resources == {}


def test_preview_of_a_credential_swap_is_an_app_update(
    server: ProviderServer, stack: Stack, emulator: EmulatorServer
) -> None:
    run_program(credential_and_app({}), stack, server)
    emulator.clear_log()

    def program() -> None:
        first = ContainerRegistryCredential(
            "ghcr", name="ghcr-acme", registry=Registry.GITHUB, username="bot", token=TOKEN
        )
        second = ContainerRegistryCredential(
            "quay", name="quay-acme", registry=Registry.QUAY, username="bot", token=TOKEN
        )
        App("api", **app_args(credential_id=second.uuid))
        pulumi.export("unused", first.uuid)

    result = run_program(program, stack, server, preview=True)
    assert result.ops == {"ghcr": "same", "quay": "create", "api": "update"}
    assert emulator.requests_log() == []


@pytest.mark.parametrize(
    ("overrides", "prop"),
    [
        ({"image_url": "nginx"}, "image_url"),
        ({"image_url": "ghcr.io/acme/api:1.2.3"}, "image_url"),
        ({"name": "Acme API"}, "name"),
        ({"env": {"DATABASE-URL": DB_URL}}, "env"),
    ],
)
def test_a_check_failure_stops_the_program_naming_the_property(
    server: ProviderServer,
    stack: Stack,
    emulator: EmulatorServer,
    overrides: dict[str, Any],
    prop: str,
) -> None:
    with pytest.raises(CheckFailed) as caught:
        run_program(credential_and_app({}, **overrides), stack, server)
    assert [p for p, _ in caught.value.failures] == [prop]
    assert DB_URL not in str(caught.value)
    # The credential may have been created before the app was checked; the app was not.
    assert "api" not in stack.resources
    assert all(path != APPS for _, path in calls(emulator))


def test_get_reads_an_existing_app(
    server: ProviderServer, stack: Stack, emulator: EmulatorServer, api: Api
) -> None:
    body = {
        "name": "made-elsewhere",
        "label": "Made elsewhere",
        "project_id": PROJECT_ID,
        "resource_id": RESOURCE_ID,
        "builder": "auto",
        "deployment_method": "container_registry",
        "deployment_config": {"image_url": "docker.io/library/nginx"},
    }
    existing = api.request("POST", APPS, json=body).json()
    emulator.clear_log()
    seen: dict[str, Any] = {}

    async def program() -> None:
        app = App.get("existing", existing["uuid"])
        pulumi.export("name", app.name)
        pulumi.export("app_name", app.app_name)
        pulumi.export("tag", app.tag)
        seen["env"] = await app.env.future()

    result = run_program(program, stack, server)
    assert result.ops == {"existing": "read"}
    [entry] = emulator.requests_log()
    assert (entry["method"], entry["path"]) == ("GET", f"{APPS}/{existing['uuid']}")
    assert entry["workspace"] == DEFAULT_WORKSPACE_ID
    assert result.outputs["name"] == ("made-elsewhere", False)
    assert result.output("app_name") == existing["name"]
    assert result.output("tag") == "latest"
    assert seen["env"] is None  # the API never returns variables
    assert stack.resources == {}


def test_the_type_tokens_match_the_policies() -> None:
    from pulumi_miget import policies

    assert policies.APP_TYPE == APP_TYPE and policies.CREDENTIAL_TYPE == CREDENTIAL_TYPE
