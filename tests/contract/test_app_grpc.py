"""App through the SDK's real provider server, driven like the engine (pulumi_miget.testing).

Configure with the stack config, then Check / Diff / Create / Read / Update / Delete as the engine
marshals them: secrets stripped (``env`` arrives in plain text), old outputs as ``olds``, unknowns
only in preview; the engine's secret rules re-applied to the answers (``env`` is secret through
the same-key rule and ``additional_secret_outputs``). Every test asserts the HTTP calls made.
"""

from __future__ import annotations

import base64
from typing import Any

import dill
import grpc
import pytest

from pulumi_miget.app import AppProvider
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
from pulumi_miget.tokens import APP_TYPE
from tests.contract.common import WRONG_KEY, stack_config
from tests.emulator.helpers import Api, calls
from tests.samples import (
    API_KEY,
    APP,
    DEFAULT_WORKSPACE_ID,
    OTHER_RESOURCE_ID,
    OTHER_WORKSPACE_ID,
    PROJECT_ID,
)

ASO = ("env",)  # what App registers as additional_secret_outputs
BLOB = provider_blob(AppProvider())
APPS = "/api/v1/apps"
DB_URL = "postgres://app:contract-secret-value@db/app"
NEW_DB_URL = "postgres://app:contract-rotated-value@db/app"


def news(credential_id: Any = None, blob: str = BLOB, **changes: Any) -> dict[str, Any]:
    """What the program registers: env wrapped as a secret (App does Output.secret(env))."""
    props: dict[str, Any] = {
        **APP,
        "credential_id": credential_id,
        "env": Secret({"DATABASE_URL": DB_URL, "LOG_LEVEL": "info"}),
        "workspace_id": DEFAULT_WORKSPACE_ID,
        "__provider": blob,
    }
    props.update(changes)
    return {key: value for key, value in props.items() if value is not None}


def item(uuid: str) -> str:
    return f"{APPS}/{uuid}"


@pytest.fixture(scope="module")
def resource_type() -> str:
    """What the ``engine`` fixture (tests/contract/conftest.py) registers."""
    return APP_TYPE


@pytest.fixture
def credential(api: Api, emulator: EmulatorServer) -> str:
    uuid: str = api.create()["uuid"]
    emulator.clear_log()
    return uuid


@pytest.fixture
def created(engine: Engine, emulator: EmulatorServer, credential: str) -> ResourceState:
    op, state = up(engine, "api", news(credential), None, ASO)
    assert op == "create" and state is not None
    engine.calls.clear()
    emulator.clear_log()
    return state


# ---- Configure / Check --------------------------------------------------------------------------


def test_configure_reply_accepts_no_secrets_and_no_preview(configured: tuple[Engine, Any]) -> None:
    _, reply = configured
    assert reply.acceptSecrets is False and reply.supportsPreview is False


def test_check_fills_defaults_keeps_env_secret_and_makes_no_http(
    engine: Engine, emulator: EmulatorServer, credential: str
) -> None:
    inputs, failures = engine.check("api", {}, news(credential, tag=None))
    assert failures == []
    assert inputs == {
        **news(credential),
        "tag": "latest",
        "label": "acme-api",
        "builder": "auto",
    }
    assert inputs["env"] == Secret({"DATABASE_URL": DB_URL, "LOG_LEVEL": "info"})
    assert calls(emulator) == []


@pytest.mark.parametrize(
    ("changes", "prop"),
    [
        pytest.param({"image_url": "nginx"}, "image_url", id="bare-image"),
        pytest.param({"image_url": "https://ghcr.io/x/y"}, "image_url", id="image-scheme"),
        pytest.param({"image_url": "ghcr.io/x/y:1.0"}, "image_url", id="image-tag"),
        pytest.param({"name": "Acme"}, "name", id="name-case"),
        pytest.param({"name": "a" * 34}, "name", id="name-length"),
        pytest.param({"project_id": "p-1"}, "project_id", id="project"),
        pytest.param({"credential_id": "ghcr-acme"}, "credential_id", id="credential"),
        pytest.param({"ram_size": -1}, "ram_size", id="ram"),
        pytest.param({"command": "run"}, "command", id="command"),
        pytest.param({"env": Secret({"bad-key": DB_URL})}, "env", id="env-key"),
        pytest.param({"env": Secret({"PORT": 5000})}, "env", id="env-value"),
    ],
)
def test_check_failure_names_the_property_and_makes_no_http(
    engine: Engine, emulator: EmulatorServer, changes: dict[str, Any], prop: str
) -> None:
    with pytest.raises(CheckFailed) as caught:
        up(engine, "bad", news(**changes), None, ASO)
    assert [p for p, _ in caught.value.failures] == [prop]
    assert DB_URL not in str(caught.value)
    assert [method for method, _ in engine.calls] == ["Check"]
    assert calls(emulator) == []


def test_preview_lets_an_unknown_credential_and_env_value_through(
    engine: Engine, emulator: EmulatorServer
) -> None:
    # The credential is created in the same run: its uuid is unknown during preview.
    props = news(UNKNOWN, env=Secret({"DATABASE_URL": UNKNOWN}))
    inputs, failures = engine.check("pv", {}, props, preview=True)
    assert failures == []
    assert inputs["credential_id"] is UNKNOWN
    assert inputs["env"] == Secret({"DATABASE_URL": UNKNOWN})
    assert up(engine, "pv", props, None, ASO, preview=True) == ("create", None)
    assert {method for method, _ in engine.calls} == {"Check"}
    assert calls(emulator) == []


# ---- Diff ---------------------------------------------------------------------------------------


def test_diff_of_unchanged_inputs_is_no_change(
    engine: Engine, created: ResourceState, emulator: EmulatorServer
) -> None:
    inputs, _ = engine.check("api", created.inputs, news(created.outputs["credential_id"]))
    diff = engine.diff("api", created, inputs)
    assert diff.changes == DIFF_NONE and list(diff.replaces) == []
    assert calls(emulator) == []


def test_a_provider_blob_only_change_is_a_same_step(
    engine: Engine, created: ResourceState, emulator: EmulatorServer
) -> None:
    other_blob = base64.b64encode(dill.dumps(AppProvider(), protocol=2)).decode()
    assert other_blob != BLOB
    props = news(created.outputs["credential_id"], other_blob)
    op, same = up(engine, "api", props, created, ASO)
    assert op == "same" and same is not None
    assert same.outputs["__provider"] == BLOB  # a Same step keeps the old outputs
    assert same.outputs["env"] == Secret({"DATABASE_URL": DB_URL, "LOG_LEVEL": "info"})
    assert calls(emulator) == []


def test_diff_in_preview_counts_an_unknown_credential_as_an_update(
    engine: Engine, created: ResourceState, emulator: EmulatorServer
) -> None:
    inputs, _ = engine.check("api", created.inputs, news(UNKNOWN), preview=True)
    diff = engine.diff("api", created, inputs, preview=True)
    assert diff.changes == DIFF_SOME and list(diff.replaces) == []
    assert calls(emulator) == []


@pytest.mark.parametrize(
    ("changes", "replaces", "delete_first"),
    [
        pytest.param({"name": "acme-web"}, ["name"], False, id="name"),
        pytest.param({"resource_id": OTHER_RESOURCE_ID}, ["resource_id"], True, id="resource"),
        pytest.param({"project_id": OTHER_RESOURCE_ID}, ["project_id"], True, id="project"),
        pytest.param(
            {"workspace_id": OTHER_WORKSPACE_ID, "credential_id": None},
            ["workspace_id"],
            False,
            id="workspace",
        ),
    ],
)
def test_diff_of_a_replace_field(
    engine: Engine,
    created: ResourceState,
    changes: dict[str, Any],
    replaces: list[str],
    delete_first: bool,
) -> None:
    props = {**news(created.outputs["credential_id"]), **changes}
    inputs, _ = engine.check("api", created.inputs, {k: v for k, v in props.items() if v})
    diff = engine.diff("api", created, inputs)
    assert diff.changes == DIFF_SOME and list(diff.replaces) == replaces
    assert diff.deleteBeforeReplace is delete_first


# ---- Create -------------------------------------------------------------------------------------


def test_create_is_one_post_with_env_secret_in_the_outputs(
    engine: Engine, emulator: EmulatorServer, credential: str
) -> None:
    op, state = up(engine, "api", news(credential), None, ASO)
    assert op == "create" and state is not None
    assert calls(emulator) == [("POST", APPS)]
    outs = state.outputs
    assert outs["uuid"] == state.id
    assert outs["name"] == "acme-api" and outs["app_name"].startswith("acme-api-")
    assert outs["public_url"] == f"https://{outs['app_name']}.eu-east-1.migetapp.com"
    assert outs["credential_id"] == credential
    assert outs["env"] == Secret({"DATABASE_URL": DB_URL, "LOG_LEVEL": "info"})
    assert outs["__provider"] == BLOB
    record = emulator.emulator.store.apps.get(DEFAULT_WORKSPACE_ID, state.id)
    assert record is not None and record.vars_sha256["DATABASE_URL"] == sha256_hex(DB_URL)


def test_a_replace_with_the_same_seed_deletes_the_old_app_first(
    engine: Engine, created: ResourceState, emulator: EmulatorServer
) -> None:
    props = news(created.outputs["credential_id"], resource_id=OTHER_RESOURCE_ID)
    op, state = up(engine, "api", props, created, ASO)
    assert op == "replace" and state is not None
    assert calls(emulator) == [("DELETE", item(created.id)), ("POST", APPS)]
    assert state.outputs["resource_id"] == OTHER_RESOURCE_ID
    assert state.outputs["service_name"] == "acme-api"


def test_a_renamed_app_is_created_before_the_old_one_is_deleted(
    engine: Engine, created: ResourceState, emulator: EmulatorServer
) -> None:
    props = news(created.outputs["credential_id"], name="acme-web")
    op, state = up(engine, "api", props, created, ASO)
    assert op == "replace" and state is not None
    assert calls(emulator) == [("POST", APPS), ("DELETE", item(created.id))]


# ---- Read ---------------------------------------------------------------------------------------


def test_refresh_is_one_get_with_env_carried_over_and_secret(
    engine: Engine, created: ResourceState, emulator: EmulatorServer, api: Api
) -> None:
    api.request("PUT", item(created.id), json={"label": "Changed elsewhere"})
    emulator.clear_log()
    fresh = refresh(engine, created)
    assert calls(emulator) == [("GET", item(created.id))]
    assert fresh is not None and fresh.id == created.id
    assert fresh.outputs["label"] == fresh.inputs["label"] == "Changed elsewhere"
    assert fresh.outputs["env"] == Secret({"DATABASE_URL": DB_URL, "LOG_LEVEL": "info"})
    assert fresh.inputs["env"] == Secret({"DATABASE_URL": DB_URL, "LOG_LEVEL": "info"})
    assert fresh.inputs["__provider"] == BLOB


def test_refresh_without_drift_changes_nothing(engine: Engine, created: ResourceState) -> None:
    fresh = refresh(engine, created)
    assert fresh is not None and fresh.outputs == created.outputs


def test_refresh_of_an_app_deleted_elsewhere_drops_it(
    engine: Engine, created: ResourceState, api: Api
) -> None:
    assert api.request("DELETE", item(created.id)).status_code == 204
    assert refresh(engine, created) is None


@pytest.mark.parametrize(
    "env",
    [
        pytest.param({"DATABASE_URL": NEW_DB_URL, "LOG_LEVEL": "info"}, id="changed-variable"),
        pytest.param({"DATABASE_URL": DB_URL}, id="removed-variable"),
        pytest.param({"DATABASE_URL": DB_URL, "LOG_LEVEL": "info", "NEW": "x"}, id="new-variable"),
    ],
)
def test_an_env_only_update_of_an_app_deleted_elsewhere_says_to_refresh(
    engine: Engine, created: ResourceState, api: Api, credential: str, env: dict[str, str]
) -> None:
    # /vars answers 404 both for "no such variable" and "no such app": the second is not done.
    assert api.request("DELETE", item(created.id)).status_code == 204
    with pytest.raises(grpc.RpcError) as failed:
        up(engine, "api", news(credential, env=Secret(env)), created, ASO)
    details = failed.value.details()
    assert "deleted outside Pulumi" in details and "pulumi refresh" in details
    assert NEW_DB_URL not in details and DB_URL not in details


def test_get_reads_an_existing_app_by_id_without_state(
    engine: Engine, created: ResourceState, emulator: EmulatorServer
) -> None:
    new_id, outputs, inputs = engine.get_read("got", created.id, {"__provider": BLOB})
    assert calls(emulator) == [("GET", item(created.id))]
    assert new_id == created.id
    assert outputs["name"] == "acme-api" and outputs["image_url"] == "ghcr.io/acme/api"
    assert outputs.get("env") is None  # the API never returns variables
    assert inputs is not None and inputs["tag"] == "1.2.3"


# ---- Update -------------------------------------------------------------------------------------


def test_a_credential_swap_is_one_deployment_put(
    engine: Engine, created: ResourceState, emulator: EmulatorServer, api: Api
) -> None:
    other = api.create(name="other")["uuid"]
    emulator.clear_log()
    op, updated = up(engine, "api", news(other), created, ASO)
    assert op == "update" and updated is not None
    assert calls(emulator) == [("PUT", f"{item(created.id)}/deployment")]
    assert (
        "deployment_config_attributes.container_registry_credential_id"
        in (emulator.requests_log()[0]["fields"])
    )
    assert updated.outputs["credential_id"] == other
    assert updated.outputs["env"] == created.outputs["env"]


def test_an_env_rotation_is_one_vars_put_and_stays_secret(
    engine: Engine, created: ResourceState, emulator: EmulatorServer
) -> None:
    env = Secret({"DATABASE_URL": NEW_DB_URL, "LOG_LEVEL": "info"})
    op, updated = up(engine, "api", news(created.outputs["credential_id"], env=env), created, ASO)
    assert op == "update" and updated is not None
    assert calls(emulator) == [("PUT", f"{item(created.id)}/vars")]
    assert updated.outputs["env"] == env
    assert updated.outputs["__provider"] == BLOB
    record = emulator.emulator.store.apps.get(DEFAULT_WORKSPACE_ID, created.id)
    assert record is not None and record.vars_sha256["DATABASE_URL"] == sha256_hex(NEW_DB_URL)


# ---- Delete -------------------------------------------------------------------------------------


def test_delete_is_one_delete_and_an_already_deleted_app_is_fine(
    engine: Engine, created: ResourceState, emulator: EmulatorServer
) -> None:
    destroy(engine, created)
    destroy(engine, created)
    assert [(e["method"], e["status"]) for e in emulator.requests_log()] == [
        ("DELETE", 204),
        ("DELETE", 404),
    ]


# ---- Errors: what a user sees -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api_key", "credential_id", "status"),
    [
        pytest.param(WRONG_KEY, None, "HTTP 401", id="wrong-api-key"),
        pytest.param(API_KEY, PROJECT_ID, "HTTP 422", id="unknown-credential"),
    ],
)
def test_a_failing_create_reveals_neither_the_api_key_nor_env(
    emulator: EmulatorServer, api_key: str, credential_id: str | None, status: str
) -> None:
    with ProviderServer() as server:
        engine = Engine(server, APP_TYPE)
        engine.configure(stack_config(emulator, api_key))
        with pytest.raises(grpc.RpcError) as caught:
            up(engine, "api", news(credential_id), None, ASO)
    details = caught.value.details()
    assert caught.value.code() == grpc.StatusCode.UNKNOWN
    assert "Traceback" in details and status in details and "app 'acme-api'" in details
    for secret in (api_key, DB_URL):
        assert secret not in details
        assert secret not in server.output()
    assert emulator.emulator.store.apps.in_workspace(DEFAULT_WORKSPACE_ID) == []


def test_a_whole_lifecycle_prints_no_secret(emulator: EmulatorServer, api: Api) -> None:
    credential = api.create()["uuid"]
    emulator.clear_log()
    env = Secret({"DATABASE_URL": NEW_DB_URL})
    with ProviderServer() as server:
        engine = Engine(server, APP_TYPE)
        engine.configure(stack_config(emulator))
        _, state = up(engine, "api", news(credential), None, ASO)
        assert state is not None
        _, state = up(engine, "api", news(credential, env=env), state, ASO)
        assert state is not None and refresh(engine, state) is not None
        destroy(engine, state)
    assert [e["method"] for e in emulator.requests_log()] == [
        "POST",
        "PUT",
        "DELETE",
        "GET",
        "DELETE",
    ]
    for secret in (API_KEY, DB_URL, NEW_DB_URL):
        assert secret not in server.output()
