"""AppProvider's methods called directly, against the emulator over real HTTP.

Each test names one behaviour and asserts the exact HTTP calls it makes (from the emulator's
redacted request log: method, path and body field names) as well as its result.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.output import Unknown

from pulumi_miget.app import AppProvider
from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.emulator.records import sha256_hex
from pulumi_miget.errors import ConfigurationError, MigetError
from tests.emulator.helpers import Api, calls
from tests.samples import (
    APP_CHECKED,
    DEFAULT_WORKSPACE_ID,
    OTHER_RESOURCE_ID,
    OTHER_WORKSPACE_ID,
    PROJECT_ID,
    RESOURCE_ID,
)
from tests.unit.common import configured

APPS = "/api/v1/apps"
SECRET = "postgres://app:unit-secret-value@db/app"


def inputs(**changes: Any) -> dict[str, Any]:
    """Checked inputs of a typical app (defaults already filled in, as check returns them)."""
    base: dict[str, Any] = dict(APP_CHECKED)
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def fields(emulator: EmulatorServer) -> list[list[str]]:
    return [entry["fields"] for entry in emulator.requests_log()]


@pytest.fixture
def provider(emulator: EmulatorServer) -> AppProvider:
    return configured(AppProvider(), emulator)


@pytest.fixture
def credential(api: Api, emulator: EmulatorServer) -> str:
    """A credential in the default workspace; the log is emptied afterwards."""
    uuid: str = api.create()["uuid"]
    emulator.clear_log()
    return uuid


# ---- check --------------------------------------------------------------------------------------


def test_check_fills_the_defaults_and_makes_no_http_call(provider, emulator) -> None:
    news = {
        "name": "acme-api",
        "project_id": PROJECT_ID,
        "resource_id": RESOURCE_ID,
        "image_url": "ghcr.io/acme/api",
        "__provider": "blob",
    }
    result = provider.check({}, news)
    assert result.failures == []
    assert result.inputs == inputs(tag="latest")  # label = name, builder auto, tag latest
    assert calls(emulator) == []


def test_check_normalises_empty_collections_and_uuid_case(provider, credential) -> None:
    result = provider.check(
        {},
        inputs(
            command=[],
            args=[],
            env={},
            project_id=PROJECT_ID.upper(),
            credential_id=credential.upper(),
        ),
    )
    assert result.failures == []
    assert {"command", "args", "env"}.isdisjoint(result.inputs)
    assert result.inputs["project_id"] == PROJECT_ID
    assert result.inputs["credential_id"] == credential


@pytest.mark.parametrize(
    ("changes", "prop", "words"),
    [
        pytest.param({"image_url": "nginx"}, "image_url", "library/nginx", id="bare-name"),
        pytest.param({"image_url": "https://ghcr.io/x/y"}, "image_url", "scheme", id="with-scheme"),
        pytest.param({"image_url": "ghcr.io/x/y:1.0"}, "image_url", "tag='1.0'", id="with-tag"),
        pytest.param({"image_url": "ghcr.io/X/Y"}, "image_url", "lowercase", id="uppercase"),
        pytest.param({"image_url": None}, "image_url", "required", id="missing-image"),
        pytest.param({"tag": "-bad"}, "tag", "Docker tag", id="bad-tag"),
        pytest.param({"name": "Acme_API"}, "name", "lowercase", id="name-charset"),
        pytest.param({"name": "a" * 34}, "name", "at most 33", id="name-too-long"),
        pytest.param({"name": "-acme"}, "name", "start and end", id="name-hyphen"),
        pytest.param({"label": "L" * 41}, "label", "at most 40", id="label-too-long"),
        pytest.param({"project_id": "proj"}, "project_id", "UUID", id="project-not-uuid"),
        pytest.param({"resource_id": 7}, "resource_id", "string", id="resource-not-string"),
        pytest.param({"credential_id": "ghcr"}, "credential_id", "credential.uuid", id="cred"),
        pytest.param({"workspace_id": "ws"}, "workspace_id", "UUID", id="workspace"),
        pytest.param({"ram_size": 0}, "ram_size", "positive", id="ram-zero"),
        pytest.param({"cpu_size": True}, "cpu_size", "number", id="cpu-bool"),
        pytest.param({"cpu_size": "1"}, "cpu_size", "number", id="cpu-string"),
        pytest.param({"command": "kc.sh start"}, "command", "list of strings", id="command-str"),
        pytest.param({"args": ["start", 1]}, "args", "list of strings", id="args-int"),
        pytest.param({"env": {"1X": "v"}}, "env", "environment variable name", id="env-key"),
        pytest.param({"env": {"PORT": 5000}}, "env", "must be a string", id="env-value"),
        pytest.param({"env": ["A=b"]}, "env", "map of names", id="env-list"),
        pytest.param({"builder": "buildpacks"}, "builder", "auto, dockerfile", id="builder"),
    ],
)
def test_check_reports_each_broken_rule_on_its_property(
    provider, emulator, changes: dict[str, Any], prop: str, words: str
) -> None:
    result = provider.check({}, {**inputs(), **changes})
    assert [f.property for f in result.failures] == [prop]
    assert words in result.failures[0].reason
    assert calls(emulator) == []


def test_check_never_quotes_an_env_value(provider) -> None:
    result = provider.check({}, inputs(env={"bad key": SECRET, "OK": SECRET + "\x00"}))
    assert len(result.failures) == 2
    assert not any(SECRET in f.reason for f in result.failures)


def test_check_lets_unknown_preview_values_through(provider) -> None:
    unknown = Unknown()
    news = inputs(credential_id=unknown, env={"DB": unknown, "LEVEL": "info"}, tag=unknown)
    result = provider.check({}, news)
    assert result.failures == []
    assert result.inputs["credential_id"] is unknown
    assert result.inputs["env"]["DB"] is unknown


def test_check_does_not_need_configuration() -> None:
    assert AppProvider().check({}, inputs()).failures == []


# ---- diff ---------------------------------------------------------------------------------------


def olds(**changes: Any) -> dict[str, Any]:
    """Old outputs: every input echoed, plus what the API computed."""
    return {
        **inputs(),
        "uuid": "u",
        "app_name": "acme-api-abc123",
        "service_name": "acme-api",
        "ram_size": 128,
        "cpu_size": 0.25,
        "credential_id": None,
        "command": None,
        "args": None,
        "env": None,
        "__provider": "old-blob",
        **changes,
    }


def test_diff_ignores_the_blob_the_suffix_and_server_defaults(provider) -> None:
    # ram_size/cpu_size unset in the program: Miget's values in the old outputs are kept.
    result = provider.diff("u", olds(), {**inputs(), "__provider": "new-blob"})
    assert result.changes is False and result.replaces == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("label", "Acme API"),
        ("ram_size", 512),
        ("cpu_size", 1),
        ("builder", "dockerfile"),
        ("image_url", "ghcr.io/acme/api2"),
        ("tag", "1.2.4"),
        ("credential_id", "6c1e8a52-0d4b-4d51-9a43-1f3f0b1e2c3d"),
        ("command", ["run"]),
        ("args", ["start"]),
        ("env", {"LOG_LEVEL": "debug"}),
    ],
)
def test_diff_updates_in_place(provider, field: str, value: Any) -> None:
    result = provider.diff("u", olds(), {**inputs(), field: value})
    assert result.changes is True and result.replaces == []


def test_diff_sees_a_removed_credential_or_variable(provider) -> None:
    with_cred = olds(credential_id="6c1e8a52-0d4b-4d51-9a43-1f3f0b1e2c3d", env={"A": "b"})
    assert provider.diff("u", with_cred, inputs()).changes is True
    assert provider.diff("u", with_cred, inputs()).replaces == []


@pytest.mark.parametrize(
    ("field", "value", "delete_first"),
    [
        ("name", "acme-web", False),  # a new seed is a new service name: both can exist
        ("project_id", "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b", True),
        ("resource_id", OTHER_RESOURCE_ID, True),  # same service name: delete first
        ("workspace_id", OTHER_WORKSPACE_ID, False),  # another workspace: no collision
    ],
)
def test_diff_replaces_what_the_api_cannot_change(
    provider, field: str, value: str, delete_first: bool
) -> None:
    result = provider.diff("u", olds(), {**inputs(), field: value})
    assert result.changes is True and result.replaces == [field]
    assert result.delete_before_replace is delete_first


def test_check_records_the_configured_workspace_and_diff_sees_no_change(emulator) -> None:
    provider = configured(AppProvider(), emulator, **{"miget:workspaceId": OTHER_WORKSPACE_ID})
    checked = provider.check({}, inputs(workspace_id=None)).inputs
    assert checked["workspace_id"] == OTHER_WORKSPACE_ID
    assert provider.diff("u", olds(workspace_id=OTHER_WORKSPACE_ID), checked).changes is False


def test_diff_counts_unknown_values_as_changed(provider) -> None:
    update = provider.diff("u", olds(), inputs(credential_id=Unknown()))
    assert update.changes is True and update.replaces == []
    nested = provider.diff("u", olds(env={"A": "b"}), inputs(env={"A": Unknown()}))
    assert nested.changes is True
    replace = provider.diff("u", olds(), inputs(name=Unknown()))
    assert replace.replaces == ["name"] and replace.delete_before_replace is False


# ---- create -------------------------------------------------------------------------------------


def test_create_is_one_post_and_echoes_every_input(provider, emulator, credential) -> None:
    props = inputs(credential_id=credential, env={"DATABASE_URL": SECRET}, ram_size=256.0)
    result = provider.create({**props, "__provider": "blob"})
    assert calls(emulator) == [("POST", APPS)]
    assert fields(emulator) == [
        [
            "app_vars_attributes",
            "builder",
            "deployment_config",
            "deployment_config.credential_id",
            "deployment_config.image_url",
            "deployment_config.tag",
            "deployment_method",
            "label",
            "name",
            "project_id",
            "ram_size",
            "resource_id",
        ]
    ]
    outs = result.outs
    assert result.id == outs["uuid"]
    assert outs["name"] == "acme-api"  # the seed, as given
    assert re.fullmatch(r"acme-api-[a-z0-9]{6}", outs["app_name"])
    assert outs["service_name"] == "acme-api"
    assert outs["public_url"] == f"https://{outs['app_name']}.eu-east-1.migetapp.com"
    assert outs["internal_url"] == "acme-api.miget7d8.eu-east-1.migetapp.internal:5000"
    assert (outs["state"], outs["region"]) == ("created", "eu-east-1")
    assert (outs["ram_size"], outs["cpu_size"]) == (256, 0.25)  # 0.25 is Miget's default
    assert outs["credential_id"] == credential
    assert outs["env"] == {"DATABASE_URL": SECRET}  # echoed under the same key: kept secret
    assert outs["command"] is None and outs["workspace_id"] == DEFAULT_WORKSPACE_ID
    assert "__provider" not in outs
    # Every input is in the outputs with the value diff will compare it to.
    assert provider.diff(result.id, outs, props).changes is False
    record = emulator.emulator.store.apps.get(DEFAULT_WORKSPACE_ID, result.id)
    assert record is not None and record.vars_sha256 == {"DATABASE_URL": sha256_hex(SECRET)}


def test_create_in_a_named_workspace_sends_it(provider, emulator, api) -> None:
    credential = api.in_workspace(OTHER_WORKSPACE_ID).create()["uuid"]
    emulator.clear_log()
    result = provider.create(inputs(workspace_id=OTHER_WORKSPACE_ID, credential_id=credential))
    [entry] = emulator.requests_log()
    assert entry["workspace"] == OTHER_WORKSPACE_ID
    assert result.outs["workspace_id"] == OTHER_WORKSPACE_ID


def test_create_with_a_credential_of_another_workspace_fails_clearly(provider, api) -> None:
    foreign = api.in_workspace(OTHER_WORKSPACE_ID).create()["uuid"]
    with pytest.raises(MigetError) as err:
        provider.create(inputs(credential_id=foreign, env={"DB": SECRET}))
    message = str(err.value)
    assert "create app 'acme-api'" in message and "HTTP 422" in message
    assert "Container registry credential not found in this workspace" in message
    assert SECRET not in message


def test_create_with_a_taken_service_name_names_the_existing_app(provider, emulator) -> None:
    first = provider.create(inputs())
    emulator.clear_log()
    with pytest.raises(MigetError) as err:
        provider.create(inputs(project_id=OTHER_RESOURCE_ID, env={"DB": SECRET}))
    message = str(err.value)
    assert first.id in message and "unique per workspace" in message
    assert SECRET not in message
    assert calls(emulator) == [("POST", APPS), ("GET", APPS)]


def test_a_lost_create_answer_is_reconciled_by_service_name(provider, emulator) -> None:
    emulator.add_fault("POST", APPS, "lost_response")
    result = provider.create(inputs())
    assert [(e["method"], e["path"], e["status"]) for e in emulator.requests_log()] == [
        ("POST", APPS, 0),
        ("GET", APPS, 200),
    ]
    [live] = emulator.emulator.store.apps.in_workspace(DEFAULT_WORKSPACE_ID)
    assert result.id == live.uuid and result.outs["app_name"] == live.name


def test_a_create_refused_before_anything_happened_is_posted_again(provider, emulator) -> None:
    emulator.add_fault("POST", APPS, "status", status=503)  # retried by the client itself
    result = provider.create(inputs())
    assert [e["status"] for e in emulator.requests_log()] == [503, 201]
    assert result.outs["service_name"] == "acme-api"


# ---- read ---------------------------------------------------------------------------------------


def test_read_is_one_get_and_carries_env_over(provider, emulator, credential) -> None:
    created = provider.create(inputs(credential_id=credential, env={"DB": SECRET}))
    emulator.clear_log()
    result = provider.read(created.id, {**created.outs, "__provider": "blob"})
    assert calls(emulator) == [("GET", f"{APPS}/{created.id}")]
    assert result.id == created.id
    assert result.outs == created.outs
    assert result.inputs == {
        **inputs(credential_id=credential, env={"DB": SECRET}),
        "ram_size": 128,
        "cpu_size": 0.25,
    }


def test_read_reports_drift_made_outside_pulumi(provider, emulator, api) -> None:
    created = provider.create(inputs())
    api.request("PUT", f"{APPS}/{created.id}", json={"label": "Renamed in the dashboard"})
    result = provider.read(created.id, created.outs)
    assert result.outs["label"] == result.inputs["label"] == "Renamed in the dashboard"
    assert provider.diff(created.id, result.outs, inputs()).changes is True


def test_read_of_a_deleted_app_reports_it_gone(provider) -> None:
    created = provider.create(inputs())
    provider.delete(created.id, created.outs)
    result = provider.read(created.id, created.outs)
    assert (result.id, result.outs) == ("", {})


def test_read_without_state_takes_the_seed_from_the_service_name(provider) -> None:
    created = provider.create(inputs())
    result = provider.read(created.id, {"__provider": "blob"})  # what App.get() sends
    assert result.outs["name"] == "acme-api" and result.outs["env"] is None


# ---- update -------------------------------------------------------------------------------------


@pytest.fixture
def created(provider, emulator, credential) -> Any:
    result = provider.create(inputs(credential_id=credential, env={"DB": SECRET, "LEVEL": "info"}))
    emulator.clear_log()
    return result


def updated_inputs(created: Any, **changes: Any) -> dict[str, Any]:
    news = {k: created.outs[k] for k in inputs(credential_id="x", env="x")}
    news.update(changes)
    return {k: v for k, v in news.items() if v is not None}


def test_a_label_change_is_one_put_of_the_app(provider, emulator, created) -> None:
    result = provider.update(created.id, created.outs, updated_inputs(created, label="Acme API"))
    assert calls(emulator) == [("PUT", f"{APPS}/{created.id}")]
    assert fields(emulator) == [["label"]]
    assert result.outs["label"] == "Acme API" and result.outs["uuid"] == created.id
    assert result.outs["env"] == created.outs["env"]


def test_sizes_are_sent_as_whole_numbers_when_whole(provider, emulator, created) -> None:
    news = updated_inputs(created, ram_size=512.0, cpu_size=1.5)
    result = provider.update(created.id, created.outs, news)
    assert fields(emulator) == [["cpu_size", "ram_size"]]
    assert (result.outs["ram_size"], result.outs["cpu_size"]) == (512, 1.5)


def test_a_tag_change_is_one_deployment_put_with_the_image(provider, emulator, created) -> None:
    result = provider.update(created.id, created.outs, updated_inputs(created, tag="1.2.4"))
    assert calls(emulator) == [("PUT", f"{APPS}/{created.id}/deployment")]
    assert fields(emulator) == [
        [
            "deployment_config_attributes",
            "deployment_config_attributes.image_url",
            "deployment_config_attributes.tag",
            "deployment_method",
        ]
    ]
    assert (
        result.outs["tag"] == "1.2.4"
        and result.outs["credential_id"] == created.outs["credential_id"]
    )


def test_a_credential_swap_uses_the_deployment_key(provider, emulator, created, api) -> None:
    other = api.create(name="other")["uuid"]
    emulator.clear_log()
    result = provider.update(created.id, created.outs, updated_inputs(created, credential_id=other))
    assert calls(emulator) == [("PUT", f"{APPS}/{created.id}/deployment")]
    assert "deployment_config_attributes.container_registry_credential_id" in fields(emulator)[0]
    assert result.outs["credential_id"] == other


def test_removing_the_credential_and_command_clears_them(provider, emulator, created) -> None:
    news = updated_inputs(created, credential_id=None)
    result = provider.update(created.id, created.outs, news)
    assert calls(emulator) == [("PUT", f"{APPS}/{created.id}/deployment")]
    assert result.outs["credential_id"] is None
    record = emulator.emulator.store.apps.get(DEFAULT_WORKSPACE_ID, created.id)
    assert record is not None and record.credential_id is None


def test_env_changes_are_one_call_per_variable(provider, emulator, created) -> None:
    news = updated_inputs(created, env={"DB": "rotated-secret-value", "NEW": "x"})  # LEVEL gone
    result = provider.update(created.id, created.outs, news)
    path = f"{APPS}/{created.id}/vars"
    assert calls(emulator) == [("PUT", path), ("POST", path), ("DELETE", path)]
    assert result.outs["env"] == {"DB": "rotated-secret-value", "NEW": "x"}
    assert result.outs["uuid"] == created.id and result.outs["app_name"] == created.outs["app_name"]
    assert "__provider" not in result.outs
    record = emulator.emulator.store.apps.get(DEFAULT_WORKSPACE_ID, created.id)
    assert record is not None
    assert record.vars_sha256 == {"DB": sha256_hex("rotated-secret-value"), "NEW": sha256_hex("x")}
    assert "rotated-secret-value" not in json.dumps(emulator.requests_log())


def test_variable_calls_converge_after_a_partial_failure(provider, emulator, created, api) -> None:
    # As if a previous update had set NEW and removed LEVEL before failing.
    path = f"{APPS}/{created.id}/vars"
    api.request("POST", path, json={"key": "NEW", "value": "x"})
    api.request("DELETE", path, json={"key": "LEVEL"})
    emulator.clear_log()
    news = updated_inputs(created, env={"DB": SECRET, "NEW": "x"})
    provider.update(created.id, created.outs, news)
    assert [(e["method"], e["status"]) for e in emulator.requests_log()] == [
        ("POST", 422),  # NEW exists already ...
        ("PUT", 200),  # ... so it is updated
        ("DELETE", 404),  # LEVEL is gone already ...
        ("GET", 200),  # ... and the app is there (not gone): done
    ]


def test_a_mixed_change_touches_each_endpoint_once(provider, emulator, created) -> None:
    news = updated_inputs(created, label="Acme", tag="2.0.0", env={"DB": SECRET})
    provider.update(created.id, created.outs, news)
    assert calls(emulator) == [
        ("PUT", f"{APPS}/{created.id}"),
        ("PUT", f"{APPS}/{created.id}/deployment"),
        ("DELETE", f"{APPS}/{created.id}/vars"),
    ]


def test_update_of_an_app_deleted_out_of_band_says_to_refresh(provider, created) -> None:
    provider.delete(created.id, created.outs)
    with pytest.raises(MigetError, match="pulumi refresh") as err:
        provider.update(created.id, created.outs, updated_inputs(created, label="x"))
    assert SECRET not in str(err.value)


# ---- delete -------------------------------------------------------------------------------------


def test_delete_is_one_delete_and_404_counts_as_done(provider, emulator, created) -> None:
    provider.delete(created.id, created.outs)
    provider.delete(created.id, created.outs)
    assert calls(emulator) == [("DELETE", f"{APPS}/{created.id}")] * 2
    assert [e["status"] for e in emulator.requests_log()] == [204, 404]


def test_deleting_the_credential_first_fails_clearly(emulator, created) -> None:
    from pulumi_miget.credential import ContainerRegistryCredentialProvider

    credentials = ContainerRegistryCredentialProvider()
    credentials = configured(credentials, emulator)
    cred_id = created.outs["credential_id"]
    with pytest.raises(MigetError) as err:
        credentials.delete(cred_id, {"name": "ghcr-acme", "workspace_id": DEFAULT_WORKSPACE_ID})
    assert "HTTP 422" in str(err.value)
    assert "Credential is in use by 1 application(s)" in str(err.value)


# ---- configure ----------------------------------------------------------------------------------


def test_a_missing_api_key_fails_the_first_api_call_naming_key_and_variable(monkeypatch) -> None:
    monkeypatch.delenv("MIGET_API_KEY", raising=False)
    provider = AppProvider()
    provider.configure(ConfigureRequest(Config({}, "proj")))
    assert provider.check({}, inputs()).failures == []  # check needs no API access
    with pytest.raises(ConfigurationError, match=r"miget:apiKey.*MIGET_API_KEY"):
        provider.create(inputs())


def test_a_wrong_api_key_is_one_clear_401(emulator) -> None:
    provider = configured(AppProvider(), emulator, **{"miget:apiKey": "miget_live_wrong"})
    with pytest.raises(MigetError, match="HTTP 401") as err:
        provider.create(inputs(env={"DB": SECRET}))
    assert "miget_live_wrong" not in str(err.value) and SECRET not in str(err.value)
    assert calls(emulator) == [("POST", APPS)]


def test_the_pickled_state_is_empty() -> None:
    assert AppProvider().__getstate__() == {}
