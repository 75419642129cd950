"""Pulumi programs using ContainerRegistryCredential, end to end without the CLI.

Each program runs under ``set_mocks`` (pulumi_miget.testing); its dynamic registrations go
through the SDK's pickling, the real provider server and the emulator, and the engine-annotated
outputs come back into the program, so ``Output.is_secret()`` means what it means under
``pulumi up``. The raw ``RegisterResourceRequest`` shows what the SDK put on the wire.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from pulumi_miget import ContainerRegistryCredential, Registry
from pulumi_miget.credential import ContainerRegistryCredentialProvider
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
from pulumi_miget.tokens import CREDENTIAL_TYPE
from tests.emulator.helpers import Api
from tests.programs.common import sent
from tests.samples import (
    CREDENTIALS_PATH,
    DEFAULT_WORKSPACE_ID,
    OTHER_WORKSPACE_ID,
)

TOKEN = "ghp_program_registry_token"
BLOB = provider_blob(ContainerRegistryCredentialProvider())
HOSTNAMES = {
    Registry.AWS_ECR: "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
    Registry.AZURE: "acme.azurecr.io",
    Registry.GENERIC: "registry.example.com:5000",
}


def methods(emulator: EmulatorServer) -> list[str]:
    return [entry["method"] for entry in emulator.requests_log()]


def one_credential(seen: dict[str, Any], **overrides: Any) -> Any:
    async def program() -> None:
        args: dict[str, Any] = {
            "name": "ghcr-acme",
            "registry": Registry.GITHUB,
            "username": "acme-bot",
            "token": TOKEN,  # a plain string: the resource makes it secret itself
        }
        args.update(overrides)
        credential = ContainerRegistryCredential("ghcr", **args)
        pulumi.export("uuid", credential.uuid)
        pulumi.export("name", credential.name)
        pulumi.export("token", credential.token)
        seen["token_is_secret"] = await credential.token.is_secret()
        seen["name_is_secret"] = await credential.name.is_secret()

    return program


def test_a_program_creates_the_credential_and_gets_its_token_back_as_a_secret(
    server: ProviderServer, stack: Stack, emulator: EmulatorServer, api: Api
) -> None:
    seen: dict[str, Any] = {}
    result = run_program(one_credential(seen), stack, server)
    assert result.ops == {"ghcr": "create"}
    assert methods(emulator) == ["POST"]
    uuid = result.output("uuid")
    live = api.get(uuid).json()
    assert (live["name"], live["registry"], live["username"]) == ("ghcr-acme", "github", "acme-bot")
    assert result.outputs["token"] == (TOKEN, True)
    assert result.outputs["name"] == ("ghcr-acme", False)
    assert seen == {"token_is_secret": True, "name_is_secret": False}
    assert stack.resources["ghcr"].outputs["token"] == Secret(TOKEN)  # secret in state


def test_the_registration_has_the_type_token_and_token_as_additional_secret_output(
    server: ProviderServer, stack: Stack
) -> None:
    result = run_program(one_credential({}), stack, server, preview=True)
    request = result.registration("ghcr")
    assert request.type == CREDENTIAL_TYPE
    assert CREDENTIAL_TYPE == "pulumi-python:dynamic/miget:ContainerRegistryCredential"
    assert request.custom is True
    assert list(request.additionalSecretOutputs) == ["token"]


def test_additional_secret_outputs_of_the_user_are_kept(
    server: ProviderServer, stack: Stack
) -> None:
    opts = pulumi.ResourceOptions(additional_secret_outputs=["username"])
    result = run_program(one_credential({}, opts=opts), stack, server, preview=True)
    assert sorted(result.registration("ghcr").additionalSecretOutputs) == ["token", "username"]


def test_the_token_input_is_a_secret_on_the_wire_and_the_provider_blob_is_not(
    server: ProviderServer, stack: Stack
) -> None:
    result = run_program(one_credential({}), stack, server, preview=True)
    inputs = sent(result, "ghcr")
    assert inputs["token"] == Secret(TOKEN)
    # serialize_as_secret_always = False and nothing secret captured: a plain string.
    assert inputs["__provider"] == BLOB
    # Output-only properties are not sent; None inputs are dropped.
    assert set(inputs) == {"name", "registry", "username", "token", "__provider"}


def test_registry_enum_members_are_sent_as_plain_strings(
    server: ProviderServer, stack: Stack, emulator: EmulatorServer
) -> None:
    def program() -> None:
        for member in Registry:
            ContainerRegistryCredential(
                member.value,
                name=f"acme-{member.value}",
                registry=member,
                username="acme",
                token=TOKEN,
                registry_hostname=HOSTNAMES.get(member),
            )

    result = run_program(program, stack, server, preview=True)
    assert result.ops == {member.value: "create" for member in Registry}
    for member in Registry:
        registry = sent(result, member.value)["registry"]
        assert type(registry) is str and registry == member.value
    assert emulator.requests_log() == []  # preview: Check and Diff only


def test_preview_makes_no_http_call_and_leaves_the_uuid_unknown(
    server: ProviderServer, stack: Stack, emulator: EmulatorServer
) -> None:
    result = run_program(one_credential({}), stack, server, preview=True)
    assert result.ops == {"ghcr": "create"}
    assert result.outputs["uuid"] == (UNKNOWN, False)
    assert result.outputs["token"] == (TOKEN, True)
    assert emulator.requests_log() == [] and stack.resources == {}


@pytest.mark.parametrize("workspace", [None, OTHER_WORKSPACE_ID])
def test_get_reads_an_existing_credential(
    server: ProviderServer,
    stack: Stack,
    emulator: EmulatorServer,
    api: Api,
    workspace: str | None,
) -> None:
    existing = api.in_workspace(workspace).create(name="made-elsewhere", username="someone")
    emulator.clear_log()
    seen: dict[str, Any] = {}

    async def program() -> None:
        credential = ContainerRegistryCredential.get(
            "existing", existing["uuid"], workspace_id=workspace
        )
        pulumi.export("name", credential.name)
        pulumi.export("username", credential.username)
        pulumi.export("created_at", credential.created_at)
        seen["token"] = await credential.token.future()

    result = run_program(program, stack, server)
    assert result.ops == {"existing": "read"}
    [entry] = emulator.requests_log()
    assert (entry["method"], entry["path"]) == ("GET", f"{CREDENTIALS_PATH}/{existing['uuid']}")
    assert entry["workspace"] == (workspace or DEFAULT_WORKSPACE_ID)
    assert result.outputs["name"] == ("made-elsewhere", False)
    assert result.outputs["username"] == ("someone", False)
    assert result.output("created_at") == existing["created_at"]
    assert seen["token"] is None  # the API never returns a token
    assert stack.resources == {}  # a read resource is not managed: destroy leaves it alone


def test_a_check_failure_stops_the_program_naming_the_property(
    server: ProviderServer, stack: Stack, emulator: EmulatorServer
) -> None:
    with pytest.raises(CheckFailed) as caught:
        run_program(one_credential({}, registry=Registry.AWS_ECR, username="AWS"), stack, server)
    assert [prop for prop, _ in caught.value.failures] == ["registry_hostname"]
    assert "registry_hostname" in str(caught.value) and "aws_ecr" in str(caught.value)
    assert emulator.requests_log() == [] and stack.resources == {}
