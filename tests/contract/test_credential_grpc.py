"""ContainerRegistryCredential through the SDK's real provider server, driven like the engine.

The engine harness (pulumi_miget.testing) starts ``python -u -m pulumi.dynamic``, sends
Configure with the stack config, then Check / Diff / Create / Read / Update / Delete exactly as
the engine marshals them (secrets stripped, old outputs as ``olds``, unknowns only in preview),
and re-applies the engine's secret rules to the answers. The provider talks to the emulator, so
every test can assert the exact HTTP calls an RPC made.

One server serves the module; tests that need other config (a wrong or missing API key) start
their own, because the SDK server configures a provider once per blob per process.
"""

from __future__ import annotations

import base64
from typing import Any

import dill
import grpc
import pytest

from pulumi_miget.credential import ContainerRegistryCredentialProvider
from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.emulator.records import sha256_hex
from pulumi_miget.testing import (
    DIFF_NONE,
    DIFF_SOME,
    UNKNOWN,
    CheckFailed,
    Engine,
    ProviderServer,
    ResourceState,
    Secret,
    destroy,
    provider_blob,
    refresh,
    up,
)
from pulumi_miget.tokens import CREDENTIAL_TYPE
from tests.contract.common import WRONG_KEY, stack_config
from tests.emulator.helpers import Api, calls
from tests.samples import (
    API_KEY,
    CREDENTIALS_PATH,
    DEFAULT_WORKSPACE_ID,
    OTHER_WORKSPACE_ID,
)

ASO = ("token",)  # what ContainerRegistryCredential registers as additional_secret_outputs
BLOB = provider_blob(ContainerRegistryCredentialProvider())
TOKEN = "ghp_contract_registry_token_0001"
NEW_TOKEN = "ghp_contract_registry_token_0002"
REJECTED_TOKEN = "invalid_registry_token_that_must_never_leak"


def news(blob: str = BLOB, **changes: Any) -> dict[str, Any]:
    """What the program registers: the token wrapped as a secret, __provider a plain string."""
    props: dict[str, Any] = {
        "name": "ghcr-acme",
        "registry": "github",
        "username": "acme-bot",
        "token": Secret(TOKEN),
        "workspace_id": DEFAULT_WORKSPACE_ID,
        "__provider": blob,
    }
    props.update(changes)
    return {key: value for key, value in props.items() if value is not None}


def item(uuid: str) -> str:
    return f"{CREDENTIALS_PATH}/{uuid}"


@pytest.fixture(scope="module")
def resource_type() -> str:
    """What the ``engine`` fixture (tests/contract/conftest.py) registers."""
    return CREDENTIAL_TYPE


@pytest.fixture
def created(engine: Engine, emulator: EmulatorServer) -> ResourceState:
    """A credential created through the engine, with the engine's call list and the emulator's
    log emptied afterwards."""
    op, state = up(engine, "cred", news(), None, ASO)
    assert op == "create" and state is not None
    engine.calls.clear()
    emulator.clear_log()
    return state


# ---- Configure ----------------------------------------------------------------------------------


def test_configure_reply_accepts_no_secrets_and_no_preview(configured: tuple[Engine, Any]) -> None:
    _, reply = configured
    assert reply.acceptSecrets is False
    assert reply.supportsPreview is False


# ---- Check --------------------------------------------------------------------------------------


def test_check_returns_valid_inputs_with_the_token_still_secret_and_no_http(
    engine: Engine, emulator: EmulatorServer
) -> None:
    inputs, failures = engine.check("cred", {}, news(skip_validation=False))
    assert failures == []
    assert inputs == news(skip_validation=False)
    assert inputs["token"] == Secret(TOKEN)  # stripped on the wire, re-annotated by the engine
    assert inputs["__provider"] == BLOB
    assert calls(emulator) == []


def test_check_records_the_configured_workspace_in_the_inputs(engine: Engine) -> None:
    inputs, failures = engine.check("cred", {}, news(workspace_id=None))
    assert failures == []
    assert inputs["workspace_id"] == DEFAULT_WORKSPACE_ID  # miget:workspaceId of the stack


@pytest.mark.parametrize(
    ("changes", "prop"),
    [
        pytest.param({"name": ""}, "name", id="empty-name"),
        pytest.param({"registry": "dockerhub"}, "registry", id="unknown-registry"),
        pytest.param({"username": None}, "username", id="missing-username"),
        pytest.param({"token": Secret(" " + TOKEN)}, "token", id="token-whitespace"),
        pytest.param({"registry": "aws_ecr"}, "registry_hostname", id="ecr-needs-hostname"),
        pytest.param(
            {"registry": "generic", "registry_hostname": "http://r.example.com"},
            "registry_hostname",
            id="http-hostname",
        ),
        pytest.param({"workspace_id": "ws-1"}, "workspace_id", id="workspace-not-uuid"),
        pytest.param({"skip_validation": "yes"}, "skip_validation", id="flag-not-bool"),
    ],
)
def test_check_failure_names_the_property_and_makes_no_http(
    engine: Engine, emulator: EmulatorServer, changes: dict[str, Any], prop: str
) -> None:
    with pytest.raises(CheckFailed) as caught:
        up(engine, "bad", news(**changes), None, ASO)
    assert [p for p, _ in caught.value.failures] == [prop]
    assert TOKEN not in str(caught.value)  # reasons never quote the token
    assert [method for method, _ in engine.calls] == ["Check"]
    assert calls(emulator) == []


def test_check_in_preview_lets_unknown_values_through(
    engine: Engine, emulator: EmulatorServer
) -> None:
    # An Azure credential whose hostname and token come from resources not created yet.
    props = news(registry="azure", registry_hostname=UNKNOWN, token=Secret(UNKNOWN))
    inputs, failures = engine.check("pv", {}, props, preview=True)
    assert failures == []
    assert inputs["registry_hostname"] is UNKNOWN
    assert inputs["token"] == Secret(UNKNOWN)
    assert calls(emulator) == []


# ---- Diff ---------------------------------------------------------------------------------------


def test_diff_of_unchanged_inputs_is_no_change(
    engine: Engine, created: ResourceState, emulator: EmulatorServer
) -> None:
    diff = engine.diff("cred", created, news())
    assert diff.changes == DIFF_NONE and list(diff.replaces) == []
    assert calls(emulator) == []


def test_a_provider_blob_only_change_is_no_diff(
    engine: Engine, created: ResourceState, emulator: EmulatorServer
) -> None:
    # Another encoding of the same provider, as an older SDK or dill would have written it.
    other_blob = base64.b64encode(
        dill.dumps(ContainerRegistryCredentialProvider(), protocol=2)
    ).decode()
    assert other_blob != BLOB
    diff = engine.diff("cred", created, news(other_blob))
    assert diff.changes == DIFF_NONE
    op, same = up(engine, "cred", news(other_blob), created, ASO)
    assert op == "same" and same is not None
    assert same.outputs["__provider"] == BLOB  # a Same step keeps the old outputs
    assert calls(emulator) == []


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"name": "ghcr-renamed"}, id="name"),
        pytest.param({"username": "other-bot"}, id="username"),
        pytest.param({"token": Secret(NEW_TOKEN)}, id="token"),
        pytest.param({"registry": "gitlab"}, id="registry"),
        pytest.param({"registry_hostname": "ghcr.io"}, id="hostname"),
    ],
)
def test_diff_of_an_api_field_is_an_in_place_update(
    engine: Engine, created: ResourceState, emulator: EmulatorServer, changes: dict[str, Any]
) -> None:
    diff = engine.diff("cred", created, news(**changes))
    assert diff.changes == DIFF_SOME
    assert list(diff.replaces) == []
    assert calls(emulator) == []


def test_diff_of_the_workspace_is_a_create_before_delete_replacement(
    engine: Engine, created: ResourceState
) -> None:
    diff = engine.diff("cred", created, news(workspace_id=OTHER_WORKSPACE_ID))
    assert diff.changes == DIFF_SOME
    assert list(diff.replaces) == ["workspace_id"]
    assert diff.deleteBeforeReplace is False


def test_diff_in_preview_counts_unknowns_as_changes(
    engine: Engine, created: ResourceState, emulator: EmulatorServer
) -> None:
    update = engine.diff("cred", created, news(token=Secret(UNKNOWN)), preview=True)
    assert update.changes == DIFF_SOME and list(update.replaces) == []
    replace = engine.diff("cred", created, news(workspace_id=UNKNOWN), preview=True)
    assert replace.changes == DIFF_SOME and list(replace.replaces) == ["workspace_id"]
    assert calls(emulator) == []


def test_preview_sends_only_check_and_diff_and_no_http(
    engine: Engine, created: ResourceState, emulator: EmulatorServer
) -> None:
    assert up(engine, "new", news(name="other"), None, ASO, preview=True) == ("create", None)
    assert up(engine, "cred", news(name="x"), created, ASO, preview=True) == ("update", None)
    assert {method for method, _ in engine.calls} == {"Check", "Diff"}
    assert calls(emulator) == []


# ---- Create -------------------------------------------------------------------------------------


def test_create_is_one_post_echoing_the_inputs_with_the_token_secret(
    engine: Engine, emulator: EmulatorServer
) -> None:
    op, state = up(engine, "cred", news(), None, ASO)
    assert op == "create" and state is not None
    assert calls(emulator) == [("POST", CREDENTIALS_PATH)]
    outs = state.outputs
    assert outs["uuid"] == state.id
    assert (outs["name"], outs["registry"], outs["username"]) == ("ghcr-acme", "github", "acme-bot")
    assert outs["token"] == Secret(TOKEN)
    assert outs["__provider"] == BLOB
    assert outs["created_at"] == outs["updated_at"]
    # The provider got the plaintext token (secrets are stripped for it), and sent it on.
    record = emulator.emulator.store.credentials.get(DEFAULT_WORKSPACE_ID, state.id)
    assert record is not None and record.token_sha256 == sha256_hex(TOKEN)


# ---- Read ---------------------------------------------------------------------------------------


def test_refresh_is_one_get_returning_live_fields_as_inputs_with_the_token_carried_over(
    engine: Engine, created: ResourceState, emulator: EmulatorServer, api: Api
) -> None:
    assert api.put(created.id, {"username": "changed-elsewhere"}).status_code == 200
    emulator.clear_log()
    fresh = refresh(engine, created)
    assert calls(emulator) == [("GET", item(created.id))]
    assert fresh is not None and fresh.id == created.id
    assert fresh.outputs["username"] == "changed-elsewhere"
    assert fresh.inputs["username"] == "changed-elsewhere"
    # The API never returns the token: it is carried over from state, and still secret.
    assert fresh.outputs["token"] == Secret(TOKEN)
    assert fresh.inputs["token"] == Secret(TOKEN)
    assert fresh.inputs["__provider"] == BLOB


def test_refresh_without_drift_changes_nothing(engine: Engine, created: ResourceState) -> None:
    assert refresh(engine, created) == created


def test_refresh_of_a_credential_deleted_elsewhere_drops_it(
    engine: Engine, created: ResourceState, api: Api
) -> None:
    assert api.delete(created.id).status_code == 204
    assert refresh(engine, created) is None


def test_get_reads_an_existing_credential_by_id_without_state(
    engine: Engine, api: Api, emulator: EmulatorServer
) -> None:
    existing = api.create(name="made-elsewhere", registry="quay", username="robot")
    emulator.clear_log()
    new_id, outputs, inputs = engine.get_read("got", existing["uuid"], {"__provider": BLOB})
    assert calls(emulator) == [("GET", item(existing["uuid"]))]
    assert new_id == existing["uuid"]
    assert (outputs["name"], outputs["registry"]) == ("made-elsewhere", "quay")
    assert outputs["uuid"] == existing["uuid"]
    assert "token" not in outputs  # the API never returns one, so there is nothing to expose
    assert inputs is not None and inputs["username"] == "robot"


def test_import_read_fails_without_the_provider_blob(engine: Engine, api: Api) -> None:
    """Documented limitation (pulumi#16175): `pulumi import` sends no state, so the SDK server
    cannot find ``__provider``. Use ``adopt=True`` instead."""
    existing = api.create()
    with pytest.raises(grpc.RpcError) as caught:
        engine.import_read("imported", existing["uuid"])
    assert caught.value.code() == grpc.StatusCode.UNKNOWN
    assert "'__provider'" in caught.value.details()


# ---- Update -------------------------------------------------------------------------------------


def test_update_is_one_put_that_keeps_the_id_and_the_token_secret(
    engine: Engine, created: ResourceState, emulator: EmulatorServer
) -> None:
    op, updated = up(engine, "cred", news(name="ghcr-renamed"), created, ASO)
    assert op == "update" and updated is not None
    assert calls(emulator) == [("PUT", item(created.id))]
    assert emulator.requests_log()[0]["fields"] == ["name"]  # only what changed
    assert updated.id == created.id
    assert updated.outputs["name"] == "ghcr-renamed"
    assert updated.outputs["token"] == Secret(TOKEN)
    assert updated.outputs["__provider"] == BLOB


def test_token_rotation_is_one_put_and_the_new_token_is_secret(
    engine: Engine, created: ResourceState, emulator: EmulatorServer
) -> None:
    op, rotated = up(engine, "cred", news(token=Secret(NEW_TOKEN)), created, ASO)
    assert op == "update" and rotated is not None
    assert calls(emulator) == [("PUT", item(created.id))]
    assert emulator.requests_log()[0]["fields"] == ["token"]
    assert rotated.outputs["token"] == Secret(NEW_TOKEN)
    record = emulator.emulator.store.credentials.get(DEFAULT_WORKSPACE_ID, created.id)
    assert record is not None and record.token_sha256 == sha256_hex(NEW_TOKEN)


# ---- Delete -------------------------------------------------------------------------------------


def test_delete_is_one_delete_and_an_already_deleted_credential_is_fine(
    engine: Engine, created: ResourceState, emulator: EmulatorServer, api: Api
) -> None:
    destroy(engine, created)
    assert calls(emulator) == [("DELETE", item(created.id))]
    assert api.get(created.id).status_code == 404
    emulator.clear_log()
    destroy(engine, created)  # 404 counts as done: no error
    assert [(e["method"], e["status"]) for e in emulator.requests_log()] == [("DELETE", 404)]


# ---- Errors: what a user sees (the gRPC details are the traceback the CLI prints) --------------


@pytest.mark.parametrize(
    ("api_key", "token", "status"),
    [
        pytest.param(WRONG_KEY, TOKEN, "HTTP 401", id="wrong-api-key"),
        pytest.param(API_KEY, REJECTED_TOKEN, "HTTP 422", id="registry-login-rejected"),
    ],
)
def test_a_failing_create_reveals_neither_the_api_key_nor_the_token(
    emulator: EmulatorServer, api_key: str, token: str, status: str
) -> None:
    with ProviderServer() as server:
        engine = Engine(server, CREDENTIAL_TYPE)
        engine.configure(stack_config(emulator, api_key))
        with pytest.raises(grpc.RpcError) as caught:
            up(engine, "cred", news(token=Secret(token)), None, ASO)
    # Closing the server joined its output threads: everything it printed is in server.output().
    details = caught.value.details()
    assert caught.value.code() == grpc.StatusCode.UNKNOWN
    assert "Traceback" in details and status in details and "ghcr-acme" in details
    for secret in (api_key, token):
        assert secret not in details
        assert secret not in server.output()
    assert emulator.emulator.store.credentials.in_workspace(DEFAULT_WORKSPACE_ID) == []


def test_a_whole_lifecycle_prints_no_secret(emulator: EmulatorServer) -> None:
    with ProviderServer() as server:
        engine = Engine(server, CREDENTIAL_TYPE)
        engine.configure(stack_config(emulator))
        _, state = up(engine, "cred", news(), None, ASO)
        assert state is not None
        _, state = up(engine, "cred", news(token=Secret(NEW_TOKEN)), state, ASO)
        assert state is not None and refresh(engine, state) is not None
        destroy(engine, state)
    sent = [entry["method"] for entry in emulator.requests_log()]
    assert sent == ["POST", "PUT", "GET", "DELETE"]
    for secret in (API_KEY, TOKEN, NEW_TOKEN):
        assert secret not in server.output()


def test_a_missing_api_key_names_the_config_key_and_the_variable(
    emulator: EmulatorServer,
) -> None:
    with ProviderServer(env={"MIGET_API_KEY": ""}) as server:
        engine = Engine(server, CREDENTIAL_TYPE)
        engine.configure(stack_config(emulator, api_key=None))
        inputs, failures = engine.check("cred", {}, news())  # check needs no API access
        assert failures == []
        with pytest.raises(grpc.RpcError) as caught:
            engine.create("cred", inputs, ASO)
    details = caught.value.details()
    assert "miget:apiKey" in details and "MIGET_API_KEY" in details
    assert calls(emulator) == []
