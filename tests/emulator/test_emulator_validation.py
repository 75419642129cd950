"""Parameter errors (400), model rules (422), simulated live validation (422) and their order."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.emulator.helpers import Api, github_credential
from tests.samples import OTHER_WORKSPACE_ID

HOSTNAME_BLANK = {"error": "Registry hostname can't be blank"}
NAME_TAKEN = {"error": "Name has already been taken"}
INVALID_CREDENTIALS = {"error": "Invalid registry credentials"}

# --- 400: parameters ----------------------------------------------------------------------


def test_create_with_an_empty_object_lists_every_missing_field_in_order(api: Api) -> None:
    response = api.post({})

    assert response.status_code == 400
    assert response.json() == {
        "error": "name is missing, registry is missing, username is missing, token is missing"
    }


def test_create_joins_several_missing_fields_grape_style(api: Api) -> None:
    response = api.post({"registry": "github", "username": "bot"})

    assert response.status_code == 400
    assert response.json() == {"error": "name is missing, token is missing"}


def test_create_with_an_unknown_registry_is_not_a_valid_value(api: Api) -> None:
    response = api.post(github_credential(registry="harbor"))

    assert response.status_code == 400
    assert response.json() == {"error": "registry does not have a valid value"}


def test_registry_kinds_are_case_sensitive(api: Api) -> None:
    response = api.post(github_credential(registry="GitHub"))

    assert response.status_code == 400
    assert response.json() == {"error": "registry does not have a valid value"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", []),
        ("name", 5),
        ("registry", 5),
        ("username", {"a": 1}),
        ("token", 12345),
        ("token", True),
        ("registry_hostname", 5),
        ("skip_validation", "yes"),
        ("skip_validation", 1),
    ],
)
def test_create_with_a_wrong_json_type_is_invalid(api: Api, field: str, value: Any) -> None:
    response = api.post(github_credential(**{field: value}))

    assert response.status_code == 400
    assert response.json() == {"error": f"{field} is invalid"}


def test_several_wrong_types_are_reported_together(api: Api) -> None:
    response = api.post({"registry": 5, "name": [], "username": "u", "token": "t"})

    assert response.status_code == 400
    assert response.json() == {"error": "name is invalid, registry is invalid"}


@pytest.mark.parametrize("field", ["name", "username", "token"])
@pytest.mark.parametrize("value", ["", None])
def test_create_with_an_empty_or_null_required_string_is_empty(
    api: Api, field: str, value: str | None
) -> None:
    response = api.post(github_credential(**{field: value}))

    assert response.status_code == 400
    assert response.json() == {"error": f"{field} is empty"}


def test_update_refuses_an_empty_token(api: Api) -> None:
    created = api.create()

    response = api.put(created["uuid"], {"token": ""})

    assert response.status_code == 400
    assert response.json() == {"error": "token is empty"}


@pytest.mark.parametrize("field", ["name", "registry", "username", "token"])
def test_update_refuses_null_for_a_required_field(api: Api, field: str) -> None:
    created = api.create()

    response = api.put(created["uuid"], {field: None})

    assert response.status_code == 400
    assert response.json() == {"error": f"{field} is empty"}
    assert api.get(created["uuid"]).json() == created


def test_update_checks_types_and_enum_of_the_fields_sent(api: Api) -> None:
    created = api.create()

    response = api.put(created["uuid"], {"registry": "harbor", "username": 7})

    assert response.status_code == 400
    assert response.json() == {"error": "registry does not have a valid value, username is invalid"}


# --- 422: model rules ------------------------------------------------------------------------


@pytest.mark.parametrize("registry", ["generic", "aws_ecr", "azure"])
@pytest.mark.parametrize("hostname", ["omitted", None, ""])
def test_create_requires_a_hostname_for_generic_ecr_and_azure(
    api: Api, registry: str, hostname: str | None
) -> None:
    body = github_credential(registry=registry)
    if hostname != "omitted":
        body["registry_hostname"] = hostname

    response = api.post(body)

    assert response.status_code == 422
    assert response.json() == HOSTNAME_BLANK
    assert api.list().json() == []


@pytest.mark.parametrize("registry", ["docker_hub", "github", "gitlab", "digitalocean", "quay"])
def test_create_does_not_need_a_hostname_for_the_other_registries(api: Api, registry: str) -> None:
    response = api.post(github_credential(registry=registry))

    assert response.status_code == 201
    assert response.json()["registry"] == registry
    assert response.json()["registry_hostname"] is None


def test_create_with_a_name_taken_in_the_workspace_is_422(api: Api) -> None:
    api.create(name="dup")

    response = api.post(github_credential(name="dup", username="other"))

    assert response.status_code == 422
    assert response.json() == NAME_TAKEN
    assert len(api.list().json()) == 1


def test_name_uniqueness_is_case_sensitive(api: Api) -> None:
    api.create(name="dup")

    response = api.post(github_credential(name="DUP"))

    assert response.status_code == 201


def test_the_same_name_may_exist_in_two_workspaces(api: Api) -> None:
    api.create(name="shared")

    response = api.in_workspace(OTHER_WORKSPACE_ID).post(github_credential(name="shared"))

    assert response.status_code == 201


def test_both_model_errors_are_joined(api: Api) -> None:
    api.create(name="dup")

    response = api.post(github_credential(name="dup", registry="azure"))

    assert response.status_code == 422
    assert response.json() == {
        "error": "Name has already been taken, Registry hostname can't be blank"
    }


def test_update_renaming_onto_another_credential_is_422(api: Api) -> None:
    api.create(name="first")
    second = api.create(name="second")

    response = api.put(second["uuid"], {"name": "first"})

    assert response.status_code == 422
    assert response.json() == NAME_TAKEN
    assert api.get(second["uuid"]).json() == second


def test_update_sending_the_credentials_own_name_is_not_a_collision(api: Api) -> None:
    created = api.create(name="mine")

    response = api.put(created["uuid"], {"name": "mine"})

    assert response.status_code == 200


def test_update_to_a_hostname_registry_without_a_hostname_is_422(api: Api) -> None:
    created = api.create()

    response = api.put(created["uuid"], {"registry": "generic"})

    assert response.status_code == 422
    assert response.json() == HOSTNAME_BLANK
    assert api.get(created["uuid"]).json() == created


def test_update_to_a_hostname_registry_with_a_hostname_in_the_same_body_is_fine(
    api: Api,
) -> None:
    created = api.create()

    response = api.put(
        created["uuid"], {"registry": "aws_ecr", "registry_hostname": "1.dkr.ecr.aws.com"}
    )

    assert response.status_code == 200
    assert response.json()["registry"] == "aws_ecr"


def test_update_clearing_the_hostname_of_a_generic_credential_is_422(api: Api) -> None:
    created = api.create(registry="generic", registry_hostname="registry.example.com")

    response = api.put(created["uuid"], {"registry_hostname": None})

    assert response.status_code == 422
    assert response.json() == HOSTNAME_BLANK


def test_update_of_a_generic_credential_keeps_its_stored_hostname(api: Api) -> None:
    created = api.create(registry="generic", registry_hostname="registry.example.com")

    response = api.put(created["uuid"], {"username": "other"})

    assert response.status_code == 200
    assert response.json()["registry_hostname"] == "registry.example.com"


# --- 422: simulated live validation ---------------------------------------------------------


def test_create_with_a_token_starting_with_invalid_fails_live_validation(api: Api) -> None:
    response = api.post(github_credential(token="invalid-token"))

    assert response.status_code == 422
    assert response.json() == INVALID_CREDENTIALS
    assert api.list().json() == []


def test_only_the_prefix_invalid_fails_live_validation(api: Api) -> None:
    response = api.post(github_credential(token="ghp_invalid"))

    assert response.status_code == 201


def test_skip_validation_true_accepts_a_rejected_token(api: Api) -> None:
    response = api.post(github_credential(token="invalid-token", skip_validation=True))

    assert response.status_code == 201


def test_skip_validation_false_still_validates(api: Api) -> None:
    response = api.post(github_credential(token="invalid-token", skip_validation=False))

    assert response.status_code == 422
    assert response.json() == INVALID_CREDENTIALS


def test_update_rotating_to_a_rejected_token_fails_and_keeps_the_record(api: Api) -> None:
    created = api.create()

    response = api.put(created["uuid"], {"token": "invalid-rotated"})

    assert response.status_code == 422
    assert response.json() == INVALID_CREDENTIALS
    assert api.get(created["uuid"]).json() == created


def test_update_rotating_to_a_rejected_token_with_skip_validation_succeeds(api: Api) -> None:
    created = api.create()

    response = api.put(created["uuid"], {"token": "invalid-rotated", "skip_validation": True})

    assert response.status_code == 200


@pytest.mark.parametrize(
    "change",
    [{"username": "someone-else"}, {"registry": "gitlab"}, {"registry_hostname": "ghcr.io"}],
)
def test_update_changing_a_login_field_revalidates_the_stored_token(
    api: Api, change: dict[str, str]
) -> None:
    created = api.create(token="invalid-but-skipped", skip_validation=True)

    response = api.put(created["uuid"], change)

    assert response.status_code == 422
    assert response.json() == INVALID_CREDENTIALS


@pytest.mark.parametrize(
    "change", [{"name": "renamed"}, {"username": "acme-bot"}, {"registry": "github"}]
)
def test_update_without_a_login_change_does_not_revalidate(
    api: Api, change: dict[str, str]
) -> None:
    created = api.create(token="invalid-but-skipped", skip_validation=True)

    response = api.put(created["uuid"], change)

    assert response.status_code == 200


def test_update_resending_a_rejected_token_revalidates_it(api: Api) -> None:
    created = api.create(token="invalid-but-skipped", skip_validation=True)

    response = api.put(created["uuid"], {"token": "invalid-but-skipped"})

    assert response.status_code == 422
    assert response.json() == INVALID_CREDENTIALS


def test_update_judges_the_new_token_when_login_fields_change_together(api: Api) -> None:
    created = api.create(token="invalid-but-skipped", skip_validation=True)

    response = api.put(created["uuid"], {"username": "new-bot", "token": "ghp_good"})

    assert response.status_code == 200
    assert api.put(created["uuid"], {"username": "newer-bot"}).status_code == 200


# --- the order of the checks ----------------------------------------------------------------


def test_parameter_errors_come_before_model_errors(api: Api) -> None:
    api.create(name="dup")

    response = api.post({"name": "dup", "registry": "azure", "username": "u"})

    assert response.status_code == 400
    assert response.json() == {"error": "token is missing"}


def test_model_errors_come_before_live_validation(api: Api) -> None:
    response = api.post(github_credential(registry="generic", token="invalid-x"))

    assert response.status_code == 422
    assert response.json() == HOSTNAME_BLANK


def test_update_parameter_errors_come_before_the_lookup(api: Api) -> None:
    response = api.put(str(uuid.uuid4()), {"registry": "harbor"})

    assert response.status_code == 400
    assert response.json() == {"error": "registry does not have a valid value"}


def test_update_lookup_comes_before_model_errors(api: Api) -> None:
    response = api.put(str(uuid.uuid4()), {"registry": "generic"})

    assert response.status_code == 404
    assert response.json() == {"error": "Container registry credential not found"}
