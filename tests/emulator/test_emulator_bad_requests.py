"""Malformed requests get a clear JSON 4xx, never a 500 or an HTML page."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pulumi_miget.emulator import EmulatorServer
from tests.emulator.helpers import Api, github_credential
from tests.samples import CREDENTIALS_PATH

JSON = {"Content-Type": "application/json"}
LIMIT = 64 * 1024


def post_raw(
    api: Api, data: bytes, content_type: str | None = "application/json"
) -> dict[str, Any]:
    headers = {"Content-Type": content_type} if content_type else {}
    response = api.request("POST", CREDENTIALS_PATH, data=data, headers=headers)
    return {"status": response.status_code, "body": response.json()}


def test_malformed_json_is_400(api: Api) -> None:
    assert post_raw(api, b'{"name": "x",') == {
        "status": 400,
        "body": {"error": "Request body is not valid JSON"},
    }


def test_a_body_that_is_not_utf8_is_400(api: Api) -> None:
    assert post_raw(api, b'{"name": "\xff\xfe"}') == {
        "status": 400,
        "body": {"error": "Request body is not valid JSON"},
    }


def test_absurdly_deep_json_nesting_is_400_not_500(api: Api) -> None:
    assert post_raw(api, b"[" * 50_000) == {
        "status": 400,
        "body": {"error": "Request body is not valid JSON"},
    }


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"42", b"null", b"true"])
def test_a_json_body_that_is_not_an_object_is_400(api: Api, body: bytes) -> None:
    assert post_raw(api, body) == {
        "status": 400,
        "body": {"error": "Request body must be a JSON object"},
    }


def test_an_empty_post_body_counts_as_an_empty_object(api: Api) -> None:
    assert post_raw(api, b"") == {
        "status": 400,
        "body": {
            "error": "name is missing, registry is missing, username is missing, token is missing"
        },
    }


def test_an_empty_put_body_changes_nothing(api: Api) -> None:
    created = api.create()

    response = api.request("PUT", f"{CREDENTIALS_PATH}/{created['uuid']}", data=b"", headers=JSON)

    assert response.status_code == 200
    assert response.json()["username"] == created["username"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_post_without_a_json_content_type_is_415(api: Api, content_type: str | None) -> None:
    data = json.dumps(github_credential()).encode()

    assert post_raw(api, data, content_type) == {
        "status": 415,
        "body": {"error": "Content-Type must be application/json"},
    }
    assert api.list().json() == []


def test_put_without_a_json_content_type_is_415(api: Api) -> None:
    created = api.create()

    response = api.request(
        "PUT",
        f"{CREDENTIALS_PATH}/{created['uuid']}",
        data=b'{"name": "x"}',
        headers={"Content-Type": "text/plain"},
    )

    assert response.status_code == 415
    assert response.json() == {"error": "Content-Type must be application/json"}


def test_a_json_content_type_with_a_charset_is_accepted(api: Api) -> None:
    data = json.dumps(github_credential()).encode()

    assert post_raw(api, data, "application/json; charset=utf-8")["status"] == 201


def test_a_body_of_exactly_64_kib_is_accepted(api: Api) -> None:
    body = github_credential(padding="")
    body["padding"] = "x" * (LIMIT - len(json.dumps(body)))
    data = json.dumps(body).encode()
    assert len(data) == LIMIT

    assert post_raw(api, data)["status"] == 201


def test_a_body_over_64_kib_is_413_as_json(api: Api) -> None:
    body = github_credential(padding="")
    body["padding"] = "x" * (LIMIT + 1 - len(json.dumps(body)))

    assert post_raw(api, json.dumps(body).encode()) == {
        "status": 413,
        "body": {"error": "Request body is larger than 65536 bytes"},
    }
    assert api.list().json() == []


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("bad_id", ["42", "not-a-uuid", "00000000-0000-4000-8000-00000000000g"])
def test_a_path_id_that_is_not_a_uuid_is_400(api: Api, method: str, bad_id: str) -> None:
    response = api.request(method, f"{CREDENTIALS_PATH}/{bad_id}", json={})

    assert response.status_code == 400
    assert response.json() == {"error": "uuid is invalid"}


def test_an_unknown_route_is_a_json_404(api: Api) -> None:
    response = api.request("GET", "/api/v1/projects")

    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"error": "Not Found"}


def test_a_nested_path_below_a_credential_is_a_json_404(api: Api) -> None:
    created = api.create()

    response = api.request("GET", f"{CREDENTIALS_PATH}/{created['uuid']}/token")

    assert response.status_code == 404
    assert response.json() == {"error": "Not Found"}


def test_a_wrong_method_is_a_json_405_with_allow(api: Api) -> None:
    response = api.request("DELETE", CREDENTIALS_PATH)

    assert response.status_code == 405
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"error": "Method Not Allowed"}
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}


def test_an_internal_error_is_a_json_500() -> None:
    with EmulatorServer() as server:
        server.emulator.store.close()  # every query now raises sqlite3.ProgrammingError

        response = Api(server.url).list()

    assert response.status_code == 500
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"error": "Internal Server Error"}
