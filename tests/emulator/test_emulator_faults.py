"""Fault injection, observed the way a real client sees it (requests over loopback)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from pulumi_miget.emulator import EmulatorServer, FaultSpecError
from tests.emulator.helpers import TIMEOUT, Api, github_credential
from tests.samples import CREDENTIALS_PATH, DEFAULT_WORKSPACE_ID

ITEMS = f"{CREDENTIALS_PATH}/*"


def add_fault(emulator: EmulatorServer, spec: dict[str, Any]) -> requests.Response:
    return requests.post(f"{emulator.url}/_emulator/faults", json=spec, timeout=TIMEOUT)


# --- managing faults -----------------------------------------------------------------------


def test_a_fault_is_added_listed_and_cleared_over_http(emulator: EmulatorServer) -> None:
    added = add_fault(
        emulator,
        {"method": "get", "path": ITEMS, "action": "status", "status": 429, "retry_after": 2},
    )
    listed = requests.get(f"{emulator.url}/_emulator/faults", timeout=TIMEOUT)
    cleared = requests.delete(f"{emulator.url}/_emulator/faults", timeout=TIMEOUT)

    expected = {
        "method": "GET",
        "path": ITEMS,
        "action": "status",
        "times": 1,
        "status": 429,
        "retry_after": "2",
        "delay": None,
    }
    assert (added.status_code, added.json()) == (201, expected)
    assert (listed.status_code, listed.json()) == (200, [expected])
    assert cleared.status_code == 204
    assert emulator.pending_faults() == []


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ({"path": "/x", "action": "drop"}, "method is required and must be a non-empty string"),
        ({"method": "GET", "action": "drop"}, "path is required and must be a non-empty string"),
        ({"method": "GET", "path": "x", "action": "drop"}, "path must start with '/'"),
        (
            {"method": "GET", "path": "/x", "action": "explode"},
            "action must be one of status, delay, drop, lost_response",
        ),
        (
            {"method": "GET", "path": "/x", "action": "status"},
            "status must be an HTTP error status (400-599)",
        ),
        (
            {"method": "GET", "path": "/x", "action": "status", "status": 200},
            "status must be an HTTP error status (400-599)",
        ),
        (
            {"method": "GET", "path": "/x", "action": "drop", "status": 500},
            "status is only used with action 'status'",
        ),
        (
            {"method": "GET", "path": "/x", "action": "drop", "retry_after": 1},
            "retry_after is only used with action 'status'",
        ),
        (
            {"method": "GET", "path": "/x", "action": "status", "status": 429, "retry_after": -1},
            "retry_after must be a number of seconds or an HTTP date",
        ),
        (
            {"method": "GET", "path": "/x", "action": "delay"},
            "delay (seconds) is required with action 'delay'",
        ),
        (
            {"method": "GET", "path": "/x", "action": "delay", "delay": "1"},
            "delay must be a non-negative number of seconds",
        ),
        (
            {"method": "GET", "path": "/x", "action": "drop", "times": 0},
            "times must be a positive integer",
        ),
        (
            {"method": "GET", "path": "/x", "action": "drop", "times": True},
            "times must be a positive integer",
        ),
    ],
)
def test_an_invalid_fault_is_refused_with_the_reason(
    emulator: EmulatorServer, spec: dict[str, Any], error: str
) -> None:
    response = add_fault(emulator, spec)

    assert (response.status_code, response.json()) == (400, {"error": error})
    assert emulator.pending_faults() == []


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (
            b'{"method": "GET", "path": "/x", "action": "delay", "delay": Infinity}',
            "delay must be a non-negative number of seconds",
        ),
        (
            b'{"method": "GET", "path": "/x", "action": "status", "status": 503, '
            b'"retry_after": NaN}',
            "retry_after must be a number of seconds or an HTTP date",
        ),
    ],
)
def test_non_finite_durations_are_refused(emulator: EmulatorServer, raw: bytes, error: str) -> None:
    response = requests.post(f"{emulator.url}/_emulator/faults", data=raw, timeout=TIMEOUT)

    assert (response.status_code, response.json()) == (400, {"error": error})


def test_the_in_process_helper_validates_faults_the_same_way(emulator: EmulatorServer) -> None:
    with pytest.raises(FaultSpecError, match=r"^status must be an HTTP error status \(400-599\)$"):
        emulator.add_fault("GET", "/x", "status")

    assert emulator.pending_faults() == []


def test_a_fault_body_that_is_not_json_is_refused(emulator: EmulatorServer) -> None:
    response = requests.post(f"{emulator.url}/_emulator/faults", data=b"{", timeout=TIMEOUT)

    assert (response.status_code, response.json()) == (
        400,
        {"error": "Request body is not valid JSON"},
    )


# --- action "status" -----------------------------------------------------------------------


def test_a_status_fault_answers_without_doing_the_operation(
    api: Api, emulator: EmulatorServer
) -> None:
    emulator.add_fault("POST", CREDENTIALS_PATH, "status", status=503)

    response = api.post(github_credential())

    assert response.status_code == 503
    assert response.json() == {"error": "Service Unavailable"}
    assert "Retry-After" not in response.headers
    assert api.list().json() == []


def test_a_status_fault_can_carry_retry_after(api: Api, emulator: EmulatorServer) -> None:
    emulator.add_fault("GET", CREDENTIALS_PATH, "status", status=429, retry_after=7)

    response = api.list()

    assert response.status_code == 429
    assert response.json() == {"error": "Too Many Requests"}
    assert response.headers["Retry-After"] == "7"


def test_a_status_fault_applies_before_authentication(api: Api, emulator: EmulatorServer) -> None:
    emulator.add_fault("GET", CREDENTIALS_PATH, "status", status=502)

    response = api.with_key(None).list()

    assert (response.status_code, response.json()) == (502, {"error": "Bad Gateway"})


def test_a_fault_is_used_for_the_next_n_matching_requests_only(
    api: Api, emulator: EmulatorServer
) -> None:
    emulator.add_fault("GET", CREDENTIALS_PATH, "status", status=500, times=2)

    statuses = [api.list().status_code for _ in range(3)]

    assert statuses == [500, 500, 200]
    assert emulator.pending_faults() == []


def test_pending_faults_show_the_uses_left(api: Api, emulator: EmulatorServer) -> None:
    emulator.add_fault("GET", CREDENTIALS_PATH, "status", status=500, times=3)

    api.list()

    assert [fault["times"] for fault in emulator.pending_faults()] == [2]


def test_a_fault_matches_on_method_and_path(api: Api, emulator: EmulatorServer) -> None:
    emulator.add_fault("DELETE", CREDENTIALS_PATH, "status", status=500)

    assert api.list().status_code == 200
    assert api.post(github_credential()).status_code == 201
    assert len(emulator.pending_faults()) == 1


def test_a_glob_path_matches_every_credential_but_not_the_collection(
    api: Api, emulator: EmulatorServer
) -> None:
    created = api.create()
    emulator.add_fault("*", ITEMS, "status", status=503, times=2)

    answers = [api.list(), api.get(created["uuid"]), api.put(created["uuid"], {"name": "x"})]

    assert [a.status_code for a in answers] == [200, 503, 503]
    assert api.get(created["uuid"]).json() == created


def test_faults_are_used_first_in_first_out(api: Api, emulator: EmulatorServer) -> None:
    emulator.add_fault("GET", CREDENTIALS_PATH, "status", status=502)
    emulator.add_fault("GET", CREDENTIALS_PATH, "status", status=504)

    assert [api.list().status_code for _ in range(3)] == [502, 504, 200]


# --- action "delay" ------------------------------------------------------------------------


def test_a_delay_fault_slows_the_request_then_serves_it(api: Api, emulator: EmulatorServer) -> None:
    emulator.add_fault("POST", CREDENTIALS_PATH, "delay", delay=0.3)

    started = time.monotonic()
    response = api.post(github_credential())
    elapsed = time.monotonic() - started

    assert response.status_code == 201
    assert elapsed >= 0.3
    assert len(api.list().json()) == 1


def test_a_delay_longer_than_the_client_timeout_is_a_read_timeout(
    api: Api, emulator: EmulatorServer
) -> None:
    emulator.add_fault("GET", CREDENTIALS_PATH, "delay", delay=0.5)

    with pytest.raises(requests.ReadTimeout):
        requests.get(api.base_url + CREDENTIALS_PATH, headers=api.headers(), timeout=0.1)

    # The server finishes the request after the delay; wait for it so no later test sees it.
    deadline = time.monotonic() + 5
    while not emulator.requests_log() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert emulator.requests_log() == [
        {
            "method": "GET",
            "path": CREDENTIALS_PATH,
            "status": 200,
            "workspace": DEFAULT_WORKSPACE_ID,
            "fields": [],
        }
    ]


# --- actions "drop" and "lost_response" ----------------------------------------------------


def test_a_drop_fault_closes_the_connection_without_doing_the_operation(
    api: Api, emulator: EmulatorServer
) -> None:
    emulator.add_fault("POST", CREDENTIALS_PATH, "drop")

    with pytest.raises(requests.ConnectionError):
        api.post(github_credential())

    assert api.list().json() == []


def test_a_drop_fault_on_a_read_is_a_connection_error(api: Api, emulator: EmulatorServer) -> None:
    emulator.add_fault("GET", CREDENTIALS_PATH, "drop")

    with pytest.raises(requests.ConnectionError):
        api.list()
    assert api.list().status_code == 200


def test_a_lost_response_fault_commits_the_operation_then_closes_the_connection(
    api: Api, emulator: EmulatorServer
) -> None:
    emulator.add_fault("POST", CREDENTIALS_PATH, "lost_response")

    with pytest.raises(requests.ConnectionError):
        api.post(github_credential(name="committed"))

    [entity] = api.list().json()
    assert entity["name"] == "committed"


def test_a_lost_response_on_delete_still_deletes(api: Api, emulator: EmulatorServer) -> None:
    created = api.create()
    emulator.add_fault("DELETE", ITEMS, "lost_response")

    with pytest.raises(requests.ConnectionError):
        api.delete(created["uuid"])

    assert api.get(created["uuid"]).status_code == 404


def test_faulted_requests_are_logged_with_the_status_returned_or_zero(
    api: Api, emulator: EmulatorServer
) -> None:
    emulator.add_fault("GET", CREDENTIALS_PATH, "status", status=429)
    emulator.add_fault("POST", CREDENTIALS_PATH, "drop")
    emulator.add_fault("POST", CREDENTIALS_PATH, "lost_response")
    emulator.add_fault("GET", CREDENTIALS_PATH, "delay", delay=0.01)
    api.list()
    for _ in range(2):
        with pytest.raises(requests.ConnectionError):
            api.post(github_credential())
    api.list()

    log = emulator.requests_log()

    assert [(e["method"], e["status"]) for e in log] == [
        ("GET", 429),
        ("POST", 0),
        ("POST", 0),
        ("GET", 200),
    ]
    assert log[2]["workspace"] == DEFAULT_WORKSPACE_ID  # lost_response ran the whole request


def test_a_dropped_connection_leaves_the_server_serving(api: Api, emulator: EmulatorServer) -> None:
    emulator.add_fault("*", "/api/*", "drop", times=5)
    for _ in range(5):
        with pytest.raises(requests.ConnectionError):
            api.list()

    assert api.list().status_code == 200
