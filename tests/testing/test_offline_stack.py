"""``OfflineStack`` itself (pulumi_miget.testing.stack): its results, its checkpoint, its errors,
mixed stacks, and the config rule of ``destroy``/``refresh`` (issue I, section 2, rule 8).

Miget resources against the (reset) session emulator. Most tests share the module's provider
server (tests/conftest.py ``server``: every stack here sends the same Miget config); the config
rule needs a process per command, as the CLI starts one, and gets it by passing no server.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from pulumi_miget import App, ContainerRegistryCredential
from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.testing import UNKNOWN, OfflineStack, ProviderServer, Secret, StepFailed
from pulumi_miget.tokens import APP_TYPE, CREDENTIAL_TYPE
from tests.emulator.helpers import Api, calls
from tests.samples import (
    API_KEY,
    APP,
    CREDENTIAL,
    CREDENTIALS_PATH,
    DEFAULT_WORKSPACE_ID,
    OTHER_WORKSPACE_ID,
)

TOKEN = "ghp_offline_stack_token_3e8a"
ROTATED = "ghp_offline_stack_token_rotated_90b4"


def shop(token: str = TOKEN, **app_args: Any) -> Callable[[], Any]:
    """A credential and an app that pulls with it; the token and app ids are exported."""

    def program() -> None:
        ghcr = ContainerRegistryCredential("ghcr", **CREDENTIAL, token=token)
        api = App("api", **{**APP, "credential_id": ghcr.uuid, **app_args})
        pulumi.export("token", ghcr.token)
        pulumi.export("credential_id", ghcr.uuid)
        pulumi.export("app_name", api.app_name)

    return program


def offline(
    program: Callable[[], Any], emulator: EmulatorServer, server: ProviderServer | None, **kw: Any
) -> OfflineStack:
    return OfflineStack(program, emulator=emulator, server=server, api_key=API_KEY, **kw)


def without_secrets(value: Any) -> Any:
    """``value`` with every ``{"secret": ...}`` replaced: what a checkpoint shows in plain text."""
    if isinstance(value, dict):
        if set(value) == {"secret"}:
            return "[secret]"
        return {key: without_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_secrets(item) for item in value]
    return value


def dead_url() -> str:
    """A loopback API URL nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/v1"


# --------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------


def test_results_have_outputs_steps_and_a_summary_like_the_cli(
    server: ProviderServer, emulator: EmulatorServer
) -> None:
    stack = offline(shop(), emulator, server)
    preview = stack.preview()
    assert preview.summary == {"create": 2}
    assert preview.outputs["token"] == Secret(TOKEN) and preview.output("app_name") is UNKNOWN

    first = stack.up()
    assert first.summary == {"create": 2}
    ghcr, api = first.step("ghcr"), first.step("api")
    assert (ghcr.type, ghcr.op, ghcr.changed, ghcr.name) == (CREDENTIAL_TYPE, "create", (), "ghcr")
    assert ghcr.urn.startswith("urn:pulumi:dev::test::") and ghcr.urn.endswith("::ghcr")
    assert (api.type, api.op) == (APP_TYPE, "create")
    assert first.outputs["token"] == Secret(TOKEN)  # an export keeps its secretness
    assert first.output("token") == TOKEN and first.output("app_name").startswith("acme-api-")
    assert first.output("credential_id") == stack.state["resources"][0]["id"]

    assert stack.up().summary == {"same": 2}
    rotated = offline(shop(ROTATED), emulator, server, state=stack.state).up()
    assert rotated.summary == {"update": 1, "same": 1}
    assert rotated.step("ghcr").changed == ("token",) and rotated.step("api").changed == ()

    destroyed = offline(shop(), emulator, server, state=stack.state).destroy()
    assert destroyed.summary == {"delete": 2} and destroyed.outputs == {}


def test_the_state_is_json_and_holds_no_secret_in_plain_text(
    server: ProviderServer, emulator: EmulatorServer
) -> None:
    config = {"dbPassword": Secret("hunter2-db")}  # pulumi config set --secret dbPassword ...
    stack = offline(shop(env={"DATABASE_URL": "postgres://pw@db"}), emulator, server, config=config)
    stack.up()
    text = json.dumps(stack.state)  # JSON-serialisable as it is
    assert json.loads(text) == stack.state
    for secret in (TOKEN, API_KEY, "postgres://pw@db", "hunter2-db"):
        assert secret in text  # stored ...
        assert secret not in json.dumps(without_secrets(stack.state))  # ... only as a secret
    [credential] = [r for r in stack.state["resources"] if r["urn"].endswith("::ghcr")]
    assert credential["inputs"]["token"] == {"secret": TOKEN}
    assert credential["outputs"]["token"] == {"secret": TOKEN}
    assert stack.state["outputs"]["token"] == {"secret": TOKEN}
    assert stack.state["provider_config"]["miget:apiKey"] == {"secret": API_KEY}


def test_a_program_change_applies_to_a_stack_started_from_a_saved_state(
    server: ProviderServer, emulator: EmulatorServer
) -> None:
    first = offline(shop(), emulator, server)
    first.up()
    saved = json.loads(json.dumps(first.state))  # as a file would keep it
    credential_id = first.state["resources"][0]["id"]
    emulator.clear_log()

    second = offline(shop(tag="2.0.0"), emulator, server, state=saved)
    result = second.up()
    assert result.summary == {"same": 1, "update": 1}
    assert result.step("api").changed == ("tag",)
    app_id = second.state["resources"][1]["id"]
    assert calls(emulator) == [("PUT", f"/api/v1/apps/{app_id}/deployment")]
    assert result.output("credential_id") == credential_id  # the saved credential, kept


def test_a_failed_deferred_delete_is_kept_in_the_state_and_the_next_up_deletes_it(
    server: ProviderServer, emulator: EmulatorServer, api: Api
) -> None:
    """A credential moved to another workspace is replaced create-before-delete; its old self
    is still used by an app of another stack, so Miget refuses the delete (422 "in use"). The
    old credential stays in ``state["pending_deletes"]``, in a saved state too, until an up
    can delete it."""

    def credential_only(workspace: str) -> Callable[[], Any]:
        def program() -> None:
            ghcr = ContainerRegistryCredential(
                "ghcr", **{**CREDENTIAL, "token": TOKEN, "workspace_id": workspace}
            )
            pulumi.export("credential_id", ghcr.uuid)

        return program

    stack = offline(credential_only(DEFAULT_WORKSPACE_ID), emulator, server)
    old = stack.up().output("credential_id")
    other = offline(lambda: App("api", **{**APP, "credential_id": old}), emulator, server)
    other.up()

    stack.program = credential_only(OTHER_WORKSPACE_ID)
    with pytest.raises(StepFailed, match=r"Credential is in use by 1 application\(s\)") as failed:
        stack.up()
    assert failed.value.urn is not None and failed.value.urn.endswith("::ghcr")
    assert [r["id"] for r in stack.state["pending_deletes"]] == [old]
    new = stack.state["resources"][0]["id"]
    assert new != old and stack.state["resources"][0]["inputs"]["workspace_id"] == (
        OTHER_WORKSPACE_ID
    )

    other.destroy()
    saved = json.loads(json.dumps(stack.state))
    emulator.clear_log()
    again = offline(credential_only(OTHER_WORKSPACE_ID), emulator, server, state=saved).up()
    assert again.summary == {"same": 1}
    assert calls(emulator) == [("DELETE", f"{CREDENTIALS_PATH}/{old}")]
    assert api.list().json() == []  # the old workspace is empty


def test_refresh_reports_drift_and_drops_what_is_gone(
    server: ProviderServer, emulator: EmulatorServer, api: Api
) -> None:
    stack = offline(shop(), emulator, server)
    stack.up()
    [credential, app] = stack.state["resources"]
    assert stack.refresh().summary == {"same": 2}
    assert api.put(credential["id"], {"username": "renamed-bot"}).status_code == 200
    assert api.request("DELETE", f"/api/v1/apps/{app['id']}").status_code == 204
    refreshed = stack.refresh()
    assert (refreshed.step("ghcr").op, refreshed.step("api").op) == ("update", "delete")
    [kept] = stack.state["resources"]
    assert kept["outputs"]["username"] == "renamed-bot"
    assert stack.up().summary == {"update": 1, "create": 1}  # the program wins again


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------


def test_a_check_failure_is_a_step_failed_naming_the_property(
    server: ProviderServer, emulator: EmulatorServer
) -> None:
    def program() -> None:
        ContainerRegistryCredential("ghcr", **{**CREDENTIAL, "registry": "nope", "token": TOKEN})

    stack = offline(program, emulator, server)
    with pytest.raises(StepFailed, match="resource 'ghcr': property registry has a problem: ") as e:
        stack.up()
    assert e.value.urn is not None and e.value.urn.endswith("::ghcr")
    assert stack.state["resources"] == [] and calls(emulator) == []


def test_a_taken_name_is_a_step_failed_with_the_providers_message(
    server: ProviderServer, emulator: EmulatorServer, api: Api
) -> None:
    existing = api.create(name=CREDENTIAL["name"])
    stack = offline(shop(), emulator, server)
    with pytest.raises(StepFailed) as failed:
        stack.up()
    message = str(failed.value)
    assert (
        f"create credential 'ghcr-acme': the name is already taken in this workspace by "
        f"credential {existing['uuid']}"
    ) in message
    assert "adopt=True" in message and TOKEN not in message
    assert failed.value.urn is not None and failed.value.urn.endswith("::ghcr")
    assert stack.state["resources"] == []  # the app never started


def test_a_protected_resource_removed_from_the_program_is_a_step_failed(
    server: ProviderServer, emulator: EmulatorServer
) -> None:
    def program() -> None:
        ContainerRegistryCredential(
            "ghcr", **CREDENTIAL, token=TOKEN, opts=pulumi.ResourceOptions(protect=True)
        )

    stack = offline(program, emulator, server)
    stack.up()
    stack.program = lambda: None
    with pytest.raises(StepFailed, match="cannot be deleted\nbecause it is protected") as failed:
        stack.up()
    assert failed.value.urn == stack.state["resources"][0]["urn"]
    with pytest.raises(StepFailed, match="because it is protected"):
        stack.destroy()
    assert len(stack.state["resources"]) == 1


# --------------------------------------------------------------------------------------------------
# Mixed stacks
# --------------------------------------------------------------------------------------------------


class Shop(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__("acme:index:Shop", name)
        self.credential = ContainerRegistryCredential(
            "ghcr",
            **CREDENTIAL,
            token=TOKEN,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"credential_id": self.credential.uuid})


def test_a_mixed_stack_echoes_other_resources_and_sends_miget_ones_to_the_server(
    server: ProviderServer, emulator: EmulatorServer, api: Api
) -> None:
    def program() -> None:
        pet = pulumi.CustomResource("random:index/randomPet:RandomPet", "pet", {"length": 2})
        component = Shop("shop")
        pulumi.export("pet_id", pet.id)
        pulumi.export("credential_id", component.credential.uuid)

    stack = offline(program, emulator, server)
    result = stack.up()
    assert result.output("pet_id") == "pet_id"  # echoed: a fake id, no provider
    [ghcr] = result.steps  # the steps are the Miget resources'
    assert ghcr.op == "create" and ghcr.type == CREDENTIAL_TYPE
    assert "::acme:index:Shop$" in ghcr.urn  # a child of the component
    assert [item["uuid"] for item in api.list().json()] == [result.output("credential_id")]
    assert stack.up().summary == {"same": 1}
    assert stack.destroy().summary == {"delete": 1} and api.list().json() == []


# --------------------------------------------------------------------------------------------------
# 8. destroy and refresh use the provider config of the last up
# --------------------------------------------------------------------------------------------------


def test_destroy_and_refresh_configure_the_provider_from_the_last_up(
    emulator: EmulatorServer, api: Api
) -> None:
    """providers/registry.go (the default provider's inputs are recorded at the last up and
    reused by ``destroy``/``refresh`` without ``--run-program``; with it, the current config).
    One provider process per command, as the CLI starts one."""
    stack = offline(shop(), emulator, None)
    stack.up()
    stack.config["miget:apiUrl"] = dead_url()  # Miget moved, as far as the config knows
    stack.config["miget:maxRetries"] = "0"

    with pytest.raises(StepFailed, match=r"127\.0\.0\.1"):
        stack.refresh(run_program=True)
    assert stack.refresh().summary == {"same": 2}
    with pytest.raises(StepFailed, match=r"127\.0\.0\.1"):
        stack.destroy(run_program=True)
    assert len(stack.state["resources"]) == 2 and len(api.list().json()) == 1

    assert stack.destroy().summary == {"delete": 2}
    assert stack.state["resources"] == [] and api.list().json() == []
