"""Every example program in examples/ runs end to end: program → provider server → emulator.

Each ``examples/<name>/__main__.py`` is run as the Pulumi program (``runpy.run_path`` with
``run_name="__main__"``, as the Python language host does) under the project name from its
``Pulumi.yaml``, with the stack config a user would set. The policy pack (``PulumiPolicy.yaml``,
no ``Pulumi.yaml``) is not a program; the policy tests run it.

``run_program`` gives the stack config to the provider's Configure only; the program's own
``pulumi.Config()`` reads the SDK's config store, so :func:`example_program` loads the same
stack config there, with the same keys marked secret.
"""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.testing import ProviderServer, Secret, Stack, plain, run_program
from tests.emulator.helpers import Api
from tests.samples import API_KEY, DEFAULT_WORKSPACE_ID

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

QUICKSTART_TOKENS = {"ghcrToken": "ghp_quickstart_token"}
PRIVATE_IMAGE_SECRETS = {
    "ghcrToken": "ghp_private_image_token",
    "databaseUrl": "postgres://app:example-secret@db/app",
}
# all-registries: resource name → (registry, username, registry_hostname, token config key)
ALL_REGISTRIES = {
    "docker-hub": ("docker_hub", "acme", None, "dockerHubToken"),
    "ghcr": ("github", "acme-bot", None, "ghcrToken"),
    "gitlab": ("gitlab", "acme-deploy", None, "gitlabToken"),
    "ecr": ("aws_ecr", "AWS", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "ecrToken"),
    "acr": ("azure", "acme-pull", "acmeregistry.azurecr.io", "acrToken"),
    "docr": ("digitalocean", "acme@example.com", None, "digitaloceanToken"),
    "quay": ("quay", "acme+robot", None, "quayToken"),
    "harbor": ("generic", "robot$pull", "harbor.example.com:8443", "harborToken"),
}
# The secret config each example needs (key without the project prefix → value).
EXAMPLE_SECRETS = {
    "quickstart": QUICKSTART_TOKENS,
    "all-registries": {key: f"token-for-{key}" for *_, key in ALL_REGISTRIES.values()},
    "private-image-app": PRIVATE_IMAGE_SECRETS,
}


def project_of(example: str) -> str:
    project: str = yaml.safe_load((EXAMPLES / example / "Pulumi.yaml").read_text())["name"]
    return project


def example_stack(example: str, emulator: EmulatorServer) -> Stack:
    project = project_of(example)
    config: dict[str, Any] = {"miget:apiKey": Secret(API_KEY), "miget:apiUrl": emulator.api_url}
    config["miget:workspaceId"] = DEFAULT_WORKSPACE_ID
    for key, value in EXAMPLE_SECRETS[example].items():
        config[f"{project}:{key}"] = Secret(value)
    return Stack(config=config)


def example_program(example: str, stack: Stack, seen: dict[str, Any]) -> Any:
    """The example's __main__.py as a program, with the stack config loaded for pulumi.Config.
    ``seen`` receives the module's globals (the resources it created)."""

    def program() -> None:
        secret_keys = [key for key, value in stack.config.items() if isinstance(value, Secret)]
        pulumi.runtime.set_all_config(plain(stack.config), secret_keys)
        seen.update(runpy.run_path(str(EXAMPLES / example / "__main__.py"), run_name="__main__"))

    return program


def run_example(
    example: str, stack: Stack, server: ProviderServer, *, preview: bool = False
) -> tuple[Any, dict[str, Any]]:
    seen: dict[str, Any] = {}
    result = run_program(
        example_program(example, stack, seen),
        stack,
        server,
        preview=preview,
        project=project_of(example),
    )
    return result, seen


def test_every_example_program_is_covered_here() -> None:
    programs = {path.parent.name for path in EXAMPLES.glob("*/Pulumi.yaml")}
    assert programs == set(EXAMPLE_SECRETS)
    for name in programs:
        assert (EXAMPLES / name / "__main__.py").is_file()


def test_quickstart_creates_one_github_credential(
    server: ProviderServer, emulator: EmulatorServer, api: Api
) -> None:
    stack = example_stack("quickstart", emulator)
    result, _ = run_example("quickstart", stack, server)
    assert result.ops == {"ghcr": "create"}
    assert [entry["method"] for entry in emulator.requests_log()] == ["POST"]
    [live] = api.list().json()
    assert result.output("credential_id") == live["uuid"]
    assert result.outputs["credential_name"] == ("ghcr-acme", False)
    assert (live["name"], live["registry"], live["username"]) == ("ghcr-acme", "github", "acme-bot")
    assert live["registry_hostname"] is None
    state = stack.resources["ghcr"]
    assert state.outputs["token"] == Secret(QUICKSTART_TOKENS["ghcrToken"])
    assert state.inputs["token"] == Secret(QUICKSTART_TOKENS["ghcrToken"])


def test_quickstart_token_output_is_secret_in_the_program(
    server: ProviderServer, emulator: EmulatorServer
) -> None:
    stack = example_stack("quickstart", emulator)
    seen: dict[str, Any] = {}
    inner = example_program("quickstart", stack, seen)

    async def program() -> None:
        inner()
        seen["token_is_secret"] = await seen["ghcr"].token.is_secret()
        seen["uuid_is_secret"] = await seen["ghcr"].uuid.is_secret()

    run_program(program, stack, server, project=project_of("quickstart"))
    assert seen["token_is_secret"] is True and seen["uuid_is_secret"] is False


def test_all_registries_creates_one_credential_per_kind(
    server: ProviderServer, emulator: EmulatorServer, api: Api
) -> None:
    stack = example_stack("all-registries", emulator)
    result, _ = run_example("all-registries", stack, server)
    assert result.ops == dict.fromkeys(ALL_REGISTRIES, "create")
    live = {item["name"]: item for item in api.list().json()}
    assert len(live) == len(ALL_REGISTRIES) == 8
    assert {kind for kind, *_ in ALL_REGISTRIES.values()} == {i["registry"] for i in live.values()}
    for resource, (kind, username, hostname, token_key) in ALL_REGISTRIES.items():
        item = live[f"acme-{resource}"]
        assert result.output(f"{resource}_credential_id") == item["uuid"]
        assert (item["registry"], item["username"]) == (kind, username)
        assert item["registry_hostname"] == hostname
        token = EXAMPLE_SECRETS["all-registries"][token_key]
        assert stack.resources[resource].outputs["token"] == Secret(token)


@pytest.mark.parametrize("example", sorted(EXAMPLE_SECRETS))
def test_example_preview_checks_everything_and_calls_no_api(
    example: str, server: ProviderServer, emulator: EmulatorServer
) -> None:
    stack = example_stack(example, emulator)
    result, _ = run_example(example, stack, server, preview=True)
    assert result.ops and set(result.ops.values()) == {"create"}
    assert emulator.requests_log() == [] and stack.resources == {}


@pytest.mark.parametrize("example", sorted(EXAMPLE_SECRETS))
def test_example_second_up_changes_nothing(
    example: str, server: ProviderServer, emulator: EmulatorServer
) -> None:
    stack = example_stack(example, emulator)
    first, _ = run_example(example, stack, server)
    emulator.clear_log()
    second, _ = run_example(example, stack, server)
    assert set(second.ops.values()) == {"same"}
    assert second.outputs == first.outputs
    assert emulator.requests_log() == []


def test_private_image_app_creates_the_credential_then_an_app_that_pulls_with_it(
    server: ProviderServer, emulator: EmulatorServer, api: Api
) -> None:
    stack = example_stack("private-image-app", emulator)
    result, _ = run_example("private-image-app", stack, server)
    assert result.ops == {"ghcr": "create", "api": "create"}
    # The app's POST carries the credential's uuid, so it can only come after the credential.
    assert [(e["method"], e["path"]) for e in emulator.requests_log()] == [
        ("POST", "/api/v1/container_registry_credentials"),
        ("POST", "/api/v1/apps"),
    ]
    [credential] = api.list().json()
    [app] = api.request("GET", "/api/v1/apps").json()
    assert result.output("credential_id") == credential["uuid"]
    assert app["deployment_config"] == {
        "image_url": "ghcr.io/acme/api",
        "tag": "1.4.2",
        "credential_id": credential["uuid"],
        "command": None,
        "args": None,
    }
    assert (result.output("app_id"), result.output("app_name")) == (app["uuid"], app["name"])
    assert result.output("public_url") == app["public_url"]
    # The dependency is on the record: credential_id depends on the credential's URN.
    # (Mock URNs carry the root stack's type as a parent prefix.)
    deps = list(result.registration("api").propertyDependencies["credential_id"].urns)
    assert len(deps) == 1
    assert deps[0].endswith("::pulumi-python:dynamic/miget:ContainerRegistryCredential::ghcr")
    # env is secret in state; its values never reach the emulator's responses or log.
    env = stack.resources["api"].outputs["env"]
    assert env == Secret(
        {"LOG_LEVEL": "info", "DATABASE_URL": PRIVATE_IMAGE_SECRETS["databaseUrl"]}
    )
    assert PRIVATE_IMAGE_SECRETS["databaseUrl"] not in str(emulator.requests_log())
