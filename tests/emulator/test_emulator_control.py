"""The control API under /_emulator/: reset, the redacted request log, suspension, latency."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests

from pulumi_miget.emulator import EmulatorServer
from tests.emulator.helpers import TIMEOUT, Api, github_credential
from tests.samples import (
    API_KEY,
    CREDENTIALS_PATH,
    DEFAULT_WORKSPACE_ID,
    OTHER_WORKSPACE_ID,
    UNKNOWN_WORKSPACE_ID,
)


def control(
    emulator: EmulatorServer, method: str, path: str, body: Any = None
) -> requests.Response:
    """A control-API call: no Authorization header, as a test harness would send it."""
    return requests.request(method, f"{emulator.url}/_emulator{path}", json=body, timeout=TIMEOUT)


# --- reset ---------------------------------------------------------------------------------


def test_reset_drops_credentials_faults_log_suspensions_and_latency(
    api: Api, emulator: EmulatorServer
) -> None:
    api.create()
    emulator.add_fault("GET", "/nowhere", "status", status=503)
    emulator.suspend(OTHER_WORKSPACE_ID)
    emulator.set_latency(0.5)

    response = control(emulator, "POST", "/reset")

    assert (response.status_code, response.content) == (204, b"")
    assert emulator.pending_faults() == []
    assert emulator.requests_log() == []
    assert emulator.emulator.latency == 0.0
    assert api.list().json() == []
    assert api.in_workspace(OTHER_WORKSPACE_ID).list().status_code == 200


def test_reset_keeps_the_configured_keys_and_workspaces(api: Api) -> None:
    control_response = requests.post(f"{api.base_url}/_emulator/reset", timeout=TIMEOUT)

    assert control_response.status_code == 204
    assert api.in_workspace(OTHER_WORKSPACE_ID).list().status_code == 200


# --- the request log -----------------------------------------------------------------------


def test_the_log_records_each_api_request(api: Api, emulator: EmulatorServer) -> None:
    created = api.create()
    api.in_workspace(OTHER_WORKSPACE_ID).get(created["uuid"])
    api.delete(created["uuid"])

    response = control(emulator, "GET", "/requests")

    assert response.status_code == 200
    assert response.json() == [
        {
            "method": "POST",
            "path": CREDENTIALS_PATH,
            "status": 201,
            "workspace": DEFAULT_WORKSPACE_ID,
            "fields": ["name", "registry", "token", "username"],
        },
        {
            "method": "GET",
            "path": f"{CREDENTIALS_PATH}/{created['uuid']}",
            "status": 404,
            "workspace": OTHER_WORKSPACE_ID,
            "fields": [],
        },
        {
            "method": "DELETE",
            "path": f"{CREDENTIALS_PATH}/{created['uuid']}",
            "status": 204,
            "workspace": DEFAULT_WORKSPACE_ID,
            "fields": [],
        },
    ]


def test_the_log_records_the_names_of_the_body_fields_sent_including_unknown_ones(
    api: Api, emulator: EmulatorServer
) -> None:
    created = api.create()
    emulator.clear_log()

    api.put(created["uuid"], {"token": "ghp_rotated", "name": "renamed", "__provider": "blob"})

    [entry] = emulator.requests_log()
    assert entry["fields"] == ["__provider", "name", "token"]
    assert "ghp_rotated" not in json.dumps(entry)


def test_the_log_records_refused_requests_with_what_was_known(
    api: Api, emulator: EmulatorServer
) -> None:
    api.with_key("wrong").post(github_credential())
    api.in_workspace(UNKNOWN_WORKSPACE_ID).list()
    api.request("GET", "/api/v1/projects")

    assert emulator.requests_log() == [
        {
            "method": "POST",
            "path": CREDENTIALS_PATH,
            "status": 401,
            "workspace": None,
            "fields": [],  # the body of an unauthenticated request is never read
        },
        {
            "method": "GET",
            "path": CREDENTIALS_PATH,
            "status": 403,
            "workspace": UNKNOWN_WORKSPACE_ID,
            "fields": [],
        },
        {
            "method": "GET",
            "path": "/api/v1/projects",
            "status": 404,
            "workspace": None,
            "fields": [],
        },
    ]


def test_the_log_never_holds_the_api_key_a_token_or_a_query_string(
    api: Api, emulator: EmulatorServer
) -> None:
    token = "ghp_log_secret_31337"
    created = api.create(token=token)
    api.put(created["uuid"], {"token": token + "_rotated"})
    api.post(github_credential(name="bad", token="invalid" + token))
    api.request("GET", f"{CREDENTIALS_PATH}?token={token}&key={API_KEY}")
    api.with_key(API_KEY + "x").list()

    text = control(emulator, "GET", "/requests").text

    assert len(json.loads(text)) == 5
    for secret in (token, API_KEY, "Bearer", "Authorization", "?"):
        assert secret not in text


def test_control_calls_are_not_logged(emulator: EmulatorServer) -> None:
    control(emulator, "GET", "/faults")
    control(emulator, "POST", "/latency", {"seconds": 0})

    assert control(emulator, "GET", "/requests").json() == []


def test_clearing_the_log_empties_it(api: Api, emulator: EmulatorServer) -> None:
    api.list()

    response = control(emulator, "DELETE", "/requests")

    assert response.status_code == 204
    assert emulator.requests_log() == []
    api.list()
    assert len(emulator.requests_log()) == 1


def test_the_server_helpers_read_and_clear_the_same_log(api: Api, emulator: EmulatorServer) -> None:
    api.list()
    assert emulator.requests_log() == control(emulator, "GET", "/requests").json()

    emulator.clear_log()

    assert control(emulator, "GET", "/requests").json() == []


# --- suspension over HTTP ------------------------------------------------------------------


def test_a_workspace_is_suspended_and_reactivated_over_http(
    api: Api, emulator: EmulatorServer
) -> None:
    suspended = control(
        emulator, "POST", f"/workspaces/{DEFAULT_WORKSPACE_ID}", {"suspended": True}
    )
    refused = api.list()
    reactivated = control(
        emulator, "POST", f"/workspaces/{DEFAULT_WORKSPACE_ID}", {"suspended": False}
    )

    assert (suspended.status_code, suspended.json()) == (
        200,
        {"workspace_id": DEFAULT_WORKSPACE_ID, "suspended": True},
    )
    assert refused.status_code == 403
    assert reactivated.json() == {"workspace_id": DEFAULT_WORKSPACE_ID, "suspended": False}
    assert api.list().status_code == 200


@pytest.mark.parametrize(
    ("workspace", "body", "status", "error"),
    [
        (UNKNOWN_WORKSPACE_ID, {"suspended": True}, 404, "Unknown workspace"),
        ("not-a-uuid", {"suspended": True}, 400, "workspace id must be a UUID"),
        (DEFAULT_WORKSPACE_ID, {"suspended": "yes"}, 400, "suspended must be true or false"),
        (DEFAULT_WORKSPACE_ID, {}, 400, "suspended must be true or false"),
        (DEFAULT_WORKSPACE_ID, [True], 400, "Request body must be a JSON object"),
    ],
)
def test_bad_suspension_requests_are_refused(
    emulator: EmulatorServer, workspace: str, body: Any, status: int, error: str
) -> None:
    response = control(emulator, "POST", f"/workspaces/{workspace}", body)

    assert (response.status_code, response.json()) == (status, {"error": error})


# --- latency -------------------------------------------------------------------------------


def test_latency_delays_every_api_request(api: Api, emulator: EmulatorServer) -> None:
    response = control(emulator, "POST", "/latency", {"seconds": 0.2})

    started = time.monotonic()
    api.list()
    elapsed = time.monotonic() - started

    assert (response.status_code, response.json()) == (200, {"seconds": 0.2})
    assert elapsed >= 0.2


def test_latency_does_not_delay_the_control_api(emulator: EmulatorServer) -> None:
    # 60 s of latency against a 10 s client timeout: a delayed answer would raise, with a
    # margin no loaded machine comes near (no timed assertion).
    emulator.set_latency(60.0)

    response = requests.get(f"{emulator.url}/_emulator/requests", timeout=10)

    assert response.status_code == 200


@pytest.mark.parametrize("body", [{"seconds": -1}, {"seconds": "1"}, {"seconds": True}, {}])
def test_bad_latency_is_refused(emulator: EmulatorServer, body: dict[str, Any]) -> None:
    response = control(emulator, "POST", "/latency", body)

    assert response.status_code == 400
    assert response.json() == {"error": "seconds must be a non-negative number"}


def test_unknown_control_routes_are_json_404(emulator: EmulatorServer) -> None:
    response = control(emulator, "GET", "/nothing")

    assert (response.status_code, response.json()) == (404, {"error": "Not Found"})


@pytest.mark.parametrize("raw", [b'{"seconds": Infinity}', b'{"seconds": NaN}'])
def test_non_finite_latency_is_refused(emulator: EmulatorServer, raw: bytes) -> None:
    response = requests.post(f"{emulator.url}/_emulator/latency", data=raw, timeout=TIMEOUT)

    assert response.status_code == 400
    assert response.json() == {"error": "seconds must be a non-negative number"}
    assert emulator.emulator.latency == 0.0
