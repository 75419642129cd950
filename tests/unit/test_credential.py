"""The provider's methods called directly, against the emulator over real HTTP.

Each test names one behaviour and asserts the exact HTTP calls it makes (from the emulator's
redacted request log) as well as its result.
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.output import Unknown

from pulumi_miget.credential import ContainerRegistryCredentialProvider
from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.errors import ConfigurationError, MigetError
from tests.emulator.helpers import calls
from tests.samples import DEFAULT_WORKSPACE_ID, OTHER_WORKSPACE_ID
from tests.unit.common import configured

PATH = "/api/v1/container_registry_credentials"
TOKEN = "ghp_unit_test_token_value"


def inputs(**changes: Any) -> dict[str, Any]:
    """Checked inputs: check records the configured workspace in them."""
    base = {
        "name": "ghcr-acme",
        "registry": "github",
        "username": "acme-bot",
        "token": TOKEN,
        "workspace_id": DEFAULT_WORKSPACE_ID,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture
def provider(emulator: EmulatorServer) -> ContainerRegistryCredentialProvider:
    return configured(ContainerRegistryCredentialProvider(), emulator)


# ---- check --------------------------------------------------------------------------------------
def test_check_accepts_valid_inputs_without_any_http_call(provider, emulator) -> None:
    result = provider.check({}, {**inputs(), "__provider": "blob"})
    assert result.failures == []
    assert result.inputs == inputs()
    assert calls(emulator) == []


def test_check_reports_each_broken_rule_on_its_property(provider, emulator) -> None:
    result = provider.check({}, inputs(name="", registry="generic", token=None))
    assert sorted(f.property for f in result.failures) == ["name", "registry_hostname", "token"]
    assert calls(emulator) == []


def test_check_lets_unknown_preview_values_through(provider) -> None:
    unknown = Unknown()
    result = provider.check({}, inputs(name=unknown, registry="azure", registry_hostname=unknown))
    assert result.failures == []
    assert result.inputs["name"] is unknown


def test_check_does_not_need_configuration() -> None:
    result = ContainerRegistryCredentialProvider().check({}, inputs())
    assert result.failures == []


# ---- diff ---------------------------------------------------------------------------------------
def olds(**changes: Any) -> dict[str, Any]:
    return {**inputs(), "uuid": "u", "__provider": "old-blob", **changes}


def test_diff_ignores_provider_blob_and_skip_validation(provider) -> None:
    result = provider.diff("u", olds(), {**inputs(skip_validation=True), "__provider": "new"})
    assert result.changes is False and result.replaces == []


@pytest.mark.parametrize("field", ["name", "registry", "username", "token", "registry_hostname"])
def test_diff_updates_in_place_for_every_api_field(provider, field) -> None:
    result = provider.diff("u", olds(), {**inputs(), field: "changed"})
    assert result.changes is True and result.replaces == []


def test_diff_replaces_when_the_workspace_changes(provider) -> None:
    result = provider.diff("u", olds(), inputs(workspace_id=OTHER_WORKSPACE_ID))
    assert result.changes is True and result.replaces == ["workspace_id"]
    assert result.delete_before_replace is False


def test_check_records_the_configured_workspace_and_diff_sees_no_change(emulator) -> None:
    provider = configured(
        ContainerRegistryCredentialProvider(), emulator, **{"miget:workspaceId": OTHER_WORKSPACE_ID}
    )
    checked = provider.check({}, inputs(workspace_id=None)).inputs
    assert checked["workspace_id"] == OTHER_WORKSPACE_ID
    result = provider.diff("u", olds(workspace_id=OTHER_WORKSPACE_ID), checked)
    assert result.changes is False


def test_diff_counts_unknown_values_as_changed(provider) -> None:
    assert provider.diff("u", olds(), inputs(token=Unknown())).changes is True
    replaced = provider.diff("u", olds(), inputs(workspace_id=Unknown()))
    assert replaced.replaces == ["workspace_id"]


# ---- create -------------------------------------------------------------------------------------
def test_create_is_one_post_and_echoes_every_input(provider, emulator) -> None:
    result = provider.create({**inputs(), "__provider": "blob"})
    assert calls(emulator) == [("POST", PATH)]
    outs = result.outs
    assert result.id == outs["uuid"]
    assert outs["token"] == TOKEN  # echoed under the same key: the engine keeps it secret
    assert (outs["name"], outs["registry"], outs["username"]) == ("ghcr-acme", "github", "acme-bot")
    assert outs["registry_hostname"] is None and outs["workspace_id"] == DEFAULT_WORKSPACE_ID
    assert outs["created_at"] == outs["updated_at"]
    assert "__provider" not in outs


def test_create_with_a_taken_name_gives_the_existing_uuid_and_how_to_adopt(
    provider, emulator
) -> None:
    first = provider.create(inputs())
    emulator.clear_log()
    with pytest.raises(MigetError) as err:
        provider.create(inputs(username="someone-else"))
    message = str(err.value)
    assert first.id in message and "adopt=True" in message
    assert TOKEN not in message
    assert calls(emulator) == [("POST", PATH), ("GET", PATH)]


def test_create_with_adopt_takes_over_the_existing_credential(provider, emulator) -> None:
    first = provider.create(inputs())
    emulator.clear_log()
    adopted = provider.create(inputs(username="new-bot", token="rotated", adopt=True))
    assert adopted.id == first.id
    assert adopted.outs["username"] == "new-bot" and adopted.outs["adopt"] is True
    assert calls(emulator) == [("GET", PATH), ("PUT", f"{PATH}/{first.id}")]


def test_create_with_adopt_and_no_existing_credential_posts(provider, emulator) -> None:
    provider.create(inputs(adopt=True))
    assert calls(emulator) == [("GET", PATH), ("POST", PATH)]


def test_create_rejected_by_live_validation_names_the_credential(provider) -> None:
    with pytest.raises(MigetError) as err:
        provider.create(inputs(token="invalid-token"))
    assert "create credential 'ghcr-acme'" in str(err.value) and "422" in str(err.value)
    assert "invalid-token" not in str(err.value)


def test_skip_validation_is_sent_to_the_api(provider) -> None:
    result = provider.create(inputs(token="invalid-but-skipped", skip_validation=True))
    assert result.outs["skip_validation"] is True


def test_create_in_a_named_workspace_sends_it(provider, emulator) -> None:
    result = provider.create(inputs(workspace_id=OTHER_WORKSPACE_ID))
    [entry] = emulator.requests_log()
    assert entry["workspace"] == OTHER_WORKSPACE_ID
    assert result.outs["workspace_id"] == OTHER_WORKSPACE_ID


# ---- read ---------------------------------------------------------------------------------------
def test_read_is_one_get_and_carries_the_token_over(provider, emulator) -> None:
    created = provider.create(inputs())
    emulator.clear_log()
    result = provider.read(created.id, {**created.outs, "__provider": "blob"})
    assert calls(emulator) == [("GET", f"{PATH}/{created.id}")]
    assert result.id == created.id
    assert result.outs == created.outs
    assert result.inputs == inputs()


def test_read_of_a_deleted_credential_reports_it_gone(provider, emulator) -> None:
    created = provider.create(inputs())
    provider.delete(created.id, created.outs)
    result = provider.read(created.id, created.outs)
    assert (result.id, result.outs) == ("", {})


# ---- update -------------------------------------------------------------------------------------
def test_update_is_one_put_with_only_the_changed_fields(provider, emulator) -> None:
    created = provider.create(inputs())
    emulator.clear_log()
    result = provider.update(created.id, created.outs, inputs(token="rotated", name="renamed"))
    [entry] = emulator.requests_log()
    assert (entry["method"], entry["path"]) == ("PUT", f"{PATH}/{created.id}")
    assert entry["fields"] == ["name", "token"]
    assert result.outs["name"] == "renamed" and result.outs["token"] == "rotated"
    assert result.outs["uuid"] == created.id and result.outs["created_at"]


def test_update_of_a_credential_deleted_out_of_band_says_to_refresh(provider) -> None:
    created = provider.create(inputs())
    provider.delete(created.id, created.outs)
    with pytest.raises(MigetError, match="pulumi refresh"):
        provider.update(created.id, created.outs, inputs(username="x"))


def test_update_with_nothing_for_the_api_makes_no_call(provider, emulator) -> None:
    created = provider.create(inputs())
    emulator.clear_log()
    result = provider.update(created.id, created.outs, inputs(skip_validation=True))
    assert calls(emulator) == []
    assert result.outs["skip_validation"] is True and result.outs["uuid"] == created.id


# ---- delete -------------------------------------------------------------------------------------
def test_delete_is_one_delete_and_404_counts_as_done(provider, emulator) -> None:
    created = provider.create(inputs())
    emulator.clear_log()
    provider.delete(created.id, created.outs)
    provider.delete(created.id, created.outs)
    assert calls(emulator) == [("DELETE", f"{PATH}/{created.id}")] * 2


# ---- configure ----------------------------------------------------------------------------------
def test_a_missing_api_key_fails_the_first_api_call_naming_key_and_variable(monkeypatch) -> None:
    monkeypatch.delenv("MIGET_API_KEY", raising=False)
    provider = ContainerRegistryCredentialProvider()
    provider.configure(ConfigureRequest(Config({}, "proj")))
    with pytest.raises(ConfigurationError, match=r"miget:apiKey.*MIGET_API_KEY"):
        provider.create(inputs())


def test_a_wrong_api_key_is_one_clear_401(emulator) -> None:
    provider = configured(
        ContainerRegistryCredentialProvider(), emulator, **{"miget:apiKey": "miget_live_wrong"}
    )
    with pytest.raises(MigetError, match="HTTP 401") as err:
        provider.create(inputs())
    assert "miget_live_wrong" not in str(err.value)
    assert calls(emulator) == [("POST", PATH)]


def test_the_pickled_state_is_empty() -> None:
    assert ContainerRegistryCredentialProvider().__getstate__() == {}
