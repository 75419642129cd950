"""The five credential endpoints on the happy path: statuses, entity shape, timestamps, PUT."""

from __future__ import annotations

import hashlib
import re
import uuid

from pulumi_miget.emulator import EmulatorServer
from tests.emulator.helpers import ENTITY_FIELDS, Api, github_credential
from tests.samples import CREDENTIALS_PATH, DEFAULT_WORKSPACE_ID

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def test_create_answers_201_with_exactly_the_entity_fields_and_no_token(api: Api) -> None:
    response = api.post(github_credential(token="ghp_secret_create"))

    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == ENTITY_FIELDS
    assert {k: body[k] for k in ("name", "registry", "username", "registry_hostname")} == {
        "name": "ghcr-acme",
        "registry": "github",
        "username": "acme-bot",
        "registry_hostname": None,
    }
    assert "ghp_secret_create" not in response.text


def test_create_assigns_a_random_uuid(api: Api) -> None:
    first = api.create(name="one")
    second = api.create(name="two")

    assert uuid.UUID(first["uuid"]).version == 4
    assert str(uuid.UUID(first["uuid"])) == first["uuid"]
    assert first["uuid"] != second["uuid"]


def test_create_sets_created_at_equal_to_updated_at_in_utc_with_milliseconds(api: Api) -> None:
    body = api.create()

    assert TIMESTAMP.match(body["created_at"]), body["created_at"]
    assert body["created_at"] == body["updated_at"]


def test_create_stores_registry_hostname_exactly_as_given(api: Api) -> None:
    response = api.post(
        github_credential(registry="generic", registry_hostname="https://Registry.Example:5000")
    )

    assert response.status_code == 201
    assert response.json()["registry_hostname"] == "https://Registry.Example:5000"


def test_create_ignores_unknown_fields_and_never_echoes_skip_validation(api: Api) -> None:
    response = api.post(
        github_credential(skip_validation=True, adopt="yes", workspace_id="nope", extra=[1])
    )

    assert response.status_code == 201
    assert set(response.json()) == ENTITY_FIELDS


def test_show_answers_200_with_the_created_entity(api: Api) -> None:
    created = api.create()

    response = api.get(created["uuid"])

    assert response.status_code == 200
    assert response.json() == created


def test_show_accepts_an_upper_case_uuid(api: Api) -> None:
    created = api.create()

    response = api.get(created["uuid"].upper())

    assert response.status_code == 200
    assert response.json() == created


def test_list_of_an_empty_workspace_is_an_empty_array(api: Api) -> None:
    response = api.list()

    assert response.status_code == 200
    assert response.json() == []


def test_list_is_a_bare_array_ordered_by_created_at(api: Api) -> None:
    created = [api.create(name=name) for name in ("charlie", "alpha", "bravo")]

    response = api.list()

    assert response.status_code == 200
    assert response.json() == created
    assert [c["created_at"] for c in created] == sorted(c["created_at"] for c in created)


def test_update_changes_only_the_fields_sent(api: Api) -> None:
    created = api.create(registry="gitlab", registry_hostname="gitlab.example.com")

    response = api.put(created["uuid"], {"username": "new-bot"})

    assert response.status_code == 200
    body = response.json()
    assert body == {**created, "username": "new-bot", "updated_at": body["updated_at"]}
    assert api.get(created["uuid"]).json() == body


def test_update_moves_updated_at_forward_and_keeps_created_at(api: Api) -> None:
    created = api.create()

    body = api.put(created["uuid"], {"name": "renamed"}).json()

    assert TIMESTAMP.match(body["updated_at"])
    assert body["created_at"] == created["created_at"]
    assert body["updated_at"] > created["updated_at"]


def test_updated_at_strictly_increases_even_for_updates_in_the_same_millisecond(
    api: Api,
) -> None:
    created = api.create()

    stamps = [api.put(created["uuid"], {}).json()["updated_at"] for _ in range(5)]

    assert stamps == sorted(set(stamps))
    assert stamps[0] > created["updated_at"]


def test_update_with_an_empty_object_changes_nothing_but_updated_at(api: Api) -> None:
    created = api.create()

    response = api.put(created["uuid"], {})

    assert response.status_code == 200
    assert response.json() == {**created, "updated_at": response.json()["updated_at"]}


def test_patch_is_an_alias_of_put(api: Api) -> None:
    created = api.create()

    response = api.put(created["uuid"], {"username": "patched"}, method="PATCH")

    assert response.status_code == 200
    assert response.json()["username"] == "patched"
    assert api.get(created["uuid"]).json()["username"] == "patched"


def test_update_with_null_registry_hostname_clears_it(api: Api) -> None:
    created = api.create(registry_hostname="ghcr.io")

    response = api.put(created["uuid"], {"registry_hostname": None})

    assert response.status_code == 200
    assert response.json()["registry_hostname"] is None


def test_update_can_change_every_field_in_place(api: Api) -> None:
    created = api.create()
    changes = {
        "name": "quay-acme",
        "registry": "quay",
        "username": "acme+robot",
        "registry_hostname": "quay.io",
        "token": "quay_rotated",
    }

    response = api.put(created["uuid"], changes)

    assert response.status_code == 200
    body = response.json()
    assert body["uuid"] == created["uuid"]
    assert {k: body[k] for k in ("name", "registry", "username", "registry_hostname")} == {
        k: v for k, v in changes.items() if k != "token"
    }
    assert "quay_rotated" not in response.text


def test_update_with_a_token_rotates_the_stored_hash(api: Api, emulator: EmulatorServer) -> None:
    created = api.create(token="ghp_before")

    response = api.put(created["uuid"], {"token": "ghp_after"})

    assert response.status_code == 200
    assert set(response.json()) == ENTITY_FIELDS
    record = emulator.emulator.store.credentials.get(DEFAULT_WORKSPACE_ID, created["uuid"])
    assert record is not None
    assert record.token_sha256 == hashlib.sha256(b"ghp_after").hexdigest()


def test_no_endpoint_ever_returns_the_token(api: Api) -> None:
    token = "ghp_never_returned_4242"
    created = api.create(token=token)
    answers = [
        api.get(created["uuid"]),
        api.list(),
        api.put(created["uuid"], {"token": token}),
        api.put(created["uuid"], {"username": "x"}),
    ]

    assert [a.status_code for a in answers] == [200, 200, 200, 200]
    for answer in answers:
        assert token not in answer.text
        assert "token" not in answer.text


def test_delete_answers_204_with_an_empty_body_and_the_credential_is_gone(api: Api) -> None:
    created = api.create()

    response = api.delete(created["uuid"])

    assert response.status_code == 204
    assert response.content == b""
    assert api.get(created["uuid"]).status_code == 404
    assert api.list().json() == []


def test_delete_works_without_a_content_type(api: Api) -> None:
    created = api.create()

    response = api.request("DELETE", f"{CREDENTIALS_PATH}/{created['uuid']}")

    assert "Content-Type" not in response.request.headers
    assert response.status_code == 204


def test_unknown_uuid_answers_404_on_show_update_and_delete(api: Api) -> None:
    missing = str(uuid.uuid4())
    expected = {"error": "Container registry credential not found"}

    answers = [api.get(missing), api.put(missing, {"name": "x"}), api.delete(missing)]

    assert [(a.status_code, a.json()) for a in answers] == [(404, expected)] * 3


def test_deleting_twice_answers_404_the_second_time(api: Api) -> None:
    created = api.create()

    first, second = api.delete(created["uuid"]), api.delete(created["uuid"])

    assert (first.status_code, second.status_code) == (204, 404)
    assert second.json() == {"error": "Container registry credential not found"}
