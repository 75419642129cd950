"""Values JSON cannot carry faithfully, and numbers outside a sane range, are a clean 400 that
names the field, with nothing stored; never a 500, and never a row that breaks later reads.

- non-finite numbers: ``NaN``/``Infinity``/``-Infinity`` (not JSON, but Python parses them) and
  ``1e999`` (valid JSON that overflows a double); integers too long to parse;
- lone UTF-16 surrogates (``"\\ud800"``) in a string or a key;
- ``ram_size``/``cpu_size`` outside 1-1048576 MiB / 0.001-256 cores;
- the control API's durations and counts (a huge latency used to turn every request into a 500).

Bodies are sent as raw bytes: ``json.dumps`` cannot write ``1e999`` or a lone surrogate escape.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from pulumi_miget.emulator import EmulatorServer, FaultSpecError
from tests.emulator.helpers import TIMEOUT, Api, github_credential
from tests.samples import CREDENTIALS_PATH, DEFAULT_WORKSPACE_ID, PROJECT_ID, RESOURCE_ID

APPS = "/api/v1/apps"
JSON = {"Content-Type": "application/json"}
MARK = "@RAW@"  # a value that raw() replaces with the JSON text under test

NON_FINITE = ["1e999", "-1e999", "NaN", "Infinity", "-Infinity"]
HUGE_INTEGER = "1" + "0" * 30  # 10**30: Python parses it exactly; SQLite cannot hold it
UNPARSEABLE_INTEGER = "9" * 5000  # past Python's 4300-digit int parsing limit
OUT_OF_RANGE = {
    "ram_size": [HUGE_INTEGER, "1e308", "1048577", "0", "0.5", "-5", "-1e308"],
    "cpu_size": [HUGE_INTEGER, "1e308", "256.5", "0", "0.0009", "-1"],
}
IN_RANGE = {"ram_size": ["1", "1048576", "1.5"], "cpu_size": ["0.001", "256", "2"]}


def app_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "acme-api",
        "label": "Acme API",
        "project_id": PROJECT_ID,
        "resource_id": RESOURCE_ID,
        "builder": "auto",
        "ram_size": 256,
        "cpu_size": 0.5,
        "deployment_method": "container_registry",
        "deployment_config": {"image_url": "ghcr.io/acme/api", "tag": "1.2.3"},
    }
    body.update(overrides)
    return body


def raw(body: dict[str, Any], literal: str) -> bytes:
    """``body`` as JSON with the value ``MARK`` replaced by ``literal``, verbatim."""
    text = json.dumps(body)
    assert text.count(f'"{MARK}"') == 1, text
    return text.replace(f'"{MARK}"', literal).encode()


def send(api: Api, method: str, path: str, data: bytes) -> tuple[int, Any]:
    response = api.request(method, path, data=data, headers=JSON)
    return response.status_code, response.json()


def apps_listed(api: Api) -> tuple[int, Any]:
    response = api.request("GET", APPS)
    return response.status_code, response.json()


def create_app(api: Api) -> dict[str, Any]:
    response = api.request("POST", APPS, json=app_body())
    assert response.status_code == 201, response.text
    entity: dict[str, Any] = response.json()
    return entity


# ---- POST /apps ---------------------------------------------------------------------------------


@pytest.mark.parametrize("literal", NON_FINITE)
@pytest.mark.parametrize("field", ["ram_size", "cpu_size"])
def test_a_non_finite_size_on_create_is_400_naming_the_field_and_stores_nothing(
    api: Api, emulator: EmulatorServer, field: str, literal: str
) -> None:
    answer = send(api, "POST", APPS, raw(app_body(**{field: MARK}), literal))

    assert answer == (400, {"error": f"{field} is invalid"})
    assert apps_listed(api) == (200, [])
    assert emulator.requests_log()[0]["status"] == 400


@pytest.mark.parametrize(
    ("field", "literal"),
    [(field, literal) for field, literals in OUT_OF_RANGE.items() for literal in literals],
)
def test_a_size_out_of_range_on_create_is_400_and_stores_nothing(
    api: Api, field: str, literal: str
) -> None:
    answer = send(api, "POST", APPS, raw(app_body(**{field: MARK}), literal))

    assert answer == (400, {"error": f"{field} does not have a valid value"})
    assert apps_listed(api) == (200, [])


@pytest.mark.parametrize("field", ["ram_size", "cpu_size"])
def test_an_integer_too_long_to_parse_is_400_naming_the_field(api: Api, field: str) -> None:
    answer = send(api, "POST", APPS, raw(app_body(**{field: MARK}), UNPARSEABLE_INTEGER))

    assert answer == (400, {"error": f"{field} is invalid"})
    assert apps_listed(api) == (200, [])


@pytest.mark.parametrize(
    ("field", "literal"),
    [(field, literal) for field, literals in IN_RANGE.items() for literal in literals],
)
def test_sizes_at_and_inside_the_bounds_are_accepted(api: Api, field: str, literal: str) -> None:
    response = api.request("POST", APPS, data=raw(app_body(**{field: MARK}), literal), headers=JSON)

    assert response.status_code == 201, response.text
    quota = response.json()["quota"]
    expected = float(literal) * 1024 * 1024 if field == "ram_size" else float(literal)
    assert quota[field] == expected
    assert apps_listed(api)[0] == 200


def test_every_bad_size_and_type_is_reported_together(api: Api) -> None:
    body = raw(app_body(ram_size=MARK, cpu_size=1e6, label=7), "1e999")

    assert send(api, "POST", APPS, body) == (400, {"error": "ram_size is invalid"})
    # The value check runs while the body is read, before the field checks; once it passes,
    # the field checks report every problem together.
    body = json.dumps(app_body(ram_size=10**30, cpu_size=1e6, label=7)).encode()
    assert send(api, "POST", APPS, body) == (
        400,
        {
            "error": "ram_size does not have a valid value, cpu_size does not have a valid value, "
            "label is invalid"
        },
    )
    assert apps_listed(api) == (200, [])


@pytest.mark.parametrize(
    ("body", "error"),
    [
        pytest.param(
            app_body(deployment_config={"image_url": "ghcr.io/acme/api", "tag": MARK}),
            "deployment_config[tag] is invalid",
            id="nested",
        ),
        pytest.param(
            app_body(app_vars_attributes=[{"key": "A", "value": "1"}, {"key": "B", "value": MARK}]),
            "app_vars_attributes[1][value] is invalid",
            id="in-a-list",
        ),
        pytest.param(app_body(padding=MARK), "padding is invalid", id="ignored-field"),
    ],
)
def test_a_non_finite_number_anywhere_is_named_by_its_path(
    api: Api, body: dict[str, Any], error: str
) -> None:
    assert send(api, "POST", APPS, raw(body, "NaN")) == (400, {"error": error})
    assert apps_listed(api) == (200, [])


def test_several_non_finite_numbers_are_all_named_in_document_order(api: Api) -> None:
    data = raw(app_body(ram_size=MARK), "NaN").replace(b'"cpu_size": 0.5', b'"cpu_size": 1e999')

    assert send(api, "POST", APPS, data) == (
        400,
        {"error": "ram_size is invalid, cpu_size is invalid"},
    )


# ---- PUT /apps/{uuid} ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize(
    ("field", "literal", "error"),
    [
        *[("ram_size", literal, "ram_size is invalid") for literal in NON_FINITE],
        *[("cpu_size", literal, "cpu_size is invalid") for literal in NON_FINITE],
        ("ram_size", UNPARSEABLE_INTEGER, "ram_size is invalid"),
        *[
            (field, literal, f"{field} does not have a valid value")
            for field, literals in OUT_OF_RANGE.items()
            for literal in literals
        ],
    ],
)
def test_a_bad_size_on_update_is_400_and_changes_nothing(
    api: Api, method: str, field: str, literal: str, error: str
) -> None:
    app = create_app(api)
    path = f"{APPS}/{app['uuid']}"

    answer = send(api, method, path, raw({"label": "Changed", field: MARK}, literal))

    assert answer == (400, {"error": error})
    assert api.request("GET", path).json() == app
    assert apps_listed(api) == (200, [app])


def test_an_update_inside_the_bounds_is_accepted(api: Api) -> None:
    app = create_app(api)

    response = api.request(
        "PUT", f"{APPS}/{app['uuid']}", json={"ram_size": 1_048_576, "cpu_size": 0.001}
    )

    assert response.status_code == 200, response.text
    assert response.json()["quota"] == {"ram_size": 1_048_576 * 1024 * 1024, "cpu_size": 0.001}


def test_a_non_finite_deployment_attribute_is_400_and_changes_nothing(api: Api) -> None:
    app = create_app(api)
    path = f"{APPS}/{app['uuid']}"
    body = {"deployment_method": "container_registry", "deployment_config_attributes": {}}
    body["deployment_config_attributes"] = {"tag": MARK}

    answer = send(api, "PUT", f"{path}/deployment", raw(body, "Infinity"))

    assert answer == (400, {"error": "deployment_config_attributes[tag] is invalid"})
    assert api.request("GET", path).json() == app


# ---- lone surrogates ----------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["name", "username", "token", "registry_hostname"])
def test_a_lone_surrogate_in_a_credential_field_is_400_and_stores_nothing(
    api: Api, field: str
) -> None:
    body = github_credential(**{field: MARK})

    answer = send(api, "POST", CREDENTIALS_PATH, raw(body, r'"bad\ud800"'))

    assert answer == (400, {"error": f"{field} is invalid"})
    assert api.list().json() == []


@pytest.mark.parametrize("escape", [r"\ud800", r"\udfff", r"x\udc00y"])
def test_a_lone_surrogate_in_a_token_update_is_400_and_keeps_the_credential(
    api: Api, emulator: EmulatorServer, escape: str
) -> None:
    created = api.create()
    path = f"{CREDENTIALS_PATH}/{created['uuid']}"

    answer = send(api, "PUT", path, raw({"token": MARK}, f'"{escape}"'))

    assert answer == (400, {"error": "token is invalid"})
    assert api.get(created["uuid"]).json() == created
    assert emulator.requests_log()[-2] == {
        "method": "PUT",
        "path": path,
        "status": 400,
        "workspace": DEFAULT_WORKSPACE_ID,
        "fields": [],  # the body was refused while it was read
    }


def test_a_lone_surrogate_in_a_key_is_400_naming_it_escaped(api: Api) -> None:
    data = raw(github_credential(extra=MARK), "1").replace(b'"extra"', b'"k\\ud800"')

    assert send(api, "POST", CREDENTIALS_PATH, data) == (400, {"error": "k\\ud800 is invalid"})
    assert api.list().json() == []


def test_a_lone_surrogate_in_an_app_name_or_variable_is_400(api: Api) -> None:
    named = send(api, "POST", APPS, raw(app_body(name=MARK), r'"acme\ud800"'))
    variable = raw(app_body(app_vars_attributes=[{"key": "A", "value": MARK}]), r'"\udbff"')

    assert named == (400, {"error": "name is invalid"})
    assert send(api, "POST", APPS, variable) == (
        400,
        {"error": "app_vars_attributes[0][value] is invalid"},
    )
    assert apps_listed(api) == (200, [])


def test_a_lone_surrogate_in_a_variable_value_is_400_and_stores_nothing(api: Api) -> None:
    app = create_app(api)
    path = f"{APPS}/{app['uuid']}/vars"

    refused = send(api, "POST", path, raw({"key": "TOKEN", "value": MARK}, r'"\ud800"'))
    added = api.request("POST", path, json={"key": "TOKEN", "value": "ok"})

    assert refused == (400, {"error": "value is invalid"})
    assert added.status_code == 201  # the key was not taken by the refused request


def test_a_surrogate_pair_is_an_ordinary_character(api: Api) -> None:
    data = raw(github_credential(name=MARK), r'"ghcr-\ud83d\ude00"')

    status, body = send(api, "POST", CREDENTIALS_PATH, data)

    assert status == 201
    assert body["name"] == "ghcr-\U0001f600"


# ---- the control API ----------------------------------------------------------------------------


def post_control(emulator: EmulatorServer, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    response = requests.post(f"{emulator.url}/_emulator{path}", json=body, timeout=TIMEOUT)
    return response.status_code, response.json()


@pytest.mark.parametrize("seconds", [3600.5, 1e10, 1e300, 10**30, 10**400])
def test_a_latency_over_an_hour_is_400_and_requests_keep_working(
    api: Api, emulator: EmulatorServer, seconds: float
) -> None:
    answer = post_control(emulator, "/latency", {"seconds": seconds})

    assert answer == (400, {"error": "seconds must be at most 3600"})
    assert emulator.emulator.latency == 0.0
    assert api.list().status_code == 200


def test_a_latency_of_an_hour_is_accepted(emulator: EmulatorServer) -> None:
    answer = post_control(emulator, "/latency", {"seconds": 3600})
    emulator.set_latency(0)  # before asserting: an hour per request would stall later tests

    assert answer == (200, {"seconds": 3600.0})


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"action": "delay", "delay": 1e10}, "delay must be at most 3600 seconds"),
        ({"action": "delay", "delay": 10**30}, "delay must be at most 3600 seconds"),
        ({"action": "delay", "delay": 10**400}, "delay must be at most 3600 seconds"),
        (
            {"action": "status", "status": 503, "retry_after": 1e300},
            "retry_after must be at most 86400 seconds",
        ),
        (
            {"action": "status", "status": 503, "retry_after": 10**400},
            "retry_after must be at most 86400 seconds",
        ),
        ({"action": "drop", "times": 10**30}, "times must be at most 1000000"),
    ],
)
def test_fault_numbers_out_of_range_are_400(
    api: Api, emulator: EmulatorServer, extra: dict[str, Any], error: str
) -> None:
    answer = post_control(emulator, "/faults", {"method": "GET", "path": CREDENTIALS_PATH, **extra})

    assert answer == (400, {"error": error})
    assert emulator.pending_faults() == []
    assert api.list().status_code == 200


def test_fault_numbers_at_the_bounds_are_accepted(emulator: EmulatorServer) -> None:
    spec = {"method": "GET", "path": "/x", "action": "status", "status": 503}
    answer = post_control(
        emulator, "/faults", {**spec, "retry_after": 86_400, "delay": 3600, "times": 1_000_000}
    )

    assert answer[0] == 201
    assert (answer[1]["retry_after"], answer[1]["delay"], answer[1]["times"]) == (
        "86400",
        3600.0,
        1_000_000,
    )


def test_the_in_process_helpers_apply_the_same_bounds(emulator: EmulatorServer) -> None:
    with pytest.raises(FaultSpecError, match=r"^delay must be at most 3600 seconds$"):
        emulator.add_fault("GET", "/x", "delay", delay=1e10)
    with pytest.raises(ValueError, match=r"^seconds must be at most 3600$"):
        emulator.set_latency(1e10)

    assert emulator.pending_faults() == []
    assert emulator.emulator.latency == 0.0
