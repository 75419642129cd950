"""How deployments are controlled: ``PUT/GET /_emulator/deployments`` and the in-process helpers,
per-app settings, ``auto_deploy`` (creating an app or changing its config deploys by itself),
reset, ``miget-emulator --deploy-seconds``, and the deployments table of the store (a new
table: older ``--db`` files gain it and stay served; deployments survive a restart)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.emulator.store import Store
from tests.emulator.deploy_helpers import (
    APPS,
    LONG,
    change_config,
    control,
    create_app,
    listing,
    logs,
    settle,
    show_app,
    start,
)
from tests.emulator.helpers import TIMEOUT, Api
from tests.emulator.test_emulator_cli import START_TIMEOUT, CliEmulator
from tests.samples import DEFAULT_WORKSPACE_ID

DEFAULTS = {
    "duration_s": 0.2,
    "outcome": "completed",
    "message": "",
    "log": "",
    "auto_deploy": False,
    "cancel_s": 0.05,
}
DEPLOYMENT_COLUMNS = [
    ("uuid", "TEXT", 0, 1),
    ("workspace_id", "TEXT", 1, 0),
    ("app_uuid", "TEXT", 1, 0),
    ("deployment_method", "TEXT", 1, 0),
    ("revision", "TEXT", 1, 0),
    ("rollback_of", "TEXT", 0, 0),
    ("outcome", "TEXT", 1, 0),
    ("pending_ms", "INTEGER", 1, 0),
    ("duration_ms", "INTEGER", 1, 0),
    ("cancel_ms", "INTEGER", 1, 0),
    ("log", "TEXT", 1, 0),
    ("message", "TEXT", 1, 0),
    ("cancelled_ms", "INTEGER", 0, 0),
    ("created_ms", "INTEGER", 1, 0),
    ("updated_ms", "INTEGER", 1, 0),
]


# ---- the control API ----------------------------------------------------------------------------


def test_the_settings_start_as_the_documented_defaults(emulator: EmulatorServer) -> None:
    response = control(emulator, "GET", "/deployments")

    assert (response.status_code, response.json()) == (200, {"default": DEFAULTS, "apps": {}})
    assert emulator.deployment_settings() == {"default": DEFAULTS, "apps": {}}


def test_put_changes_the_fields_sent_and_keeps_the_others(emulator: EmulatorServer) -> None:
    first = control(emulator, "PUT", "/deployments", {"duration_s": 1, "outcome": "failed"})
    second = control(emulator, "PUT", "/deployments", {"message": "boom", "auto_deploy": True})

    expected = {**DEFAULTS, "duration_s": 1.0, "outcome": "failed", "message": "boom"}
    expected["auto_deploy"] = True
    assert (first.status_code, first.json()) == (
        200,
        {"app": None, **DEFAULTS, "duration_s": 1.0, "outcome": "failed"},
    )
    assert (second.status_code, second.json()) == (200, {"app": None, **expected})
    assert control(emulator, "GET", "/deployments").json() == {"default": expected, "apps": {}}


def test_settings_for_one_app_apply_to_that_app_only(api: Api, emulator: EmulatorServer) -> None:
    failing = create_app(api, name="failing-api")
    fine = create_app(api, name="fine-api")
    control(emulator, "PUT", "/deployments", {"duration_s": 0})
    app_id = failing["uuid"].upper()  # any spelling of the uuid

    response = control(emulator, "PUT", "/deployments", {"app": app_id, "outcome": "failed"})

    own = {**DEFAULTS, "duration_s": 0.0, "outcome": "failed"}
    assert response.json() == {"app": failing["uuid"], **own}
    assert emulator.deployment_settings()["apps"] == {failing["uuid"]: own}
    assert start(api, failing["uuid"])["state"] == "failed"
    assert start(api, fine["uuid"])["state"] == "completed"


def test_a_deployment_keeps_the_settings_it_started_with(
    api: Api, emulator: EmulatorServer
) -> None:
    app = create_app(api)
    emulator.set_deployments(duration_s=0.05, outcome="failed")
    deployment = start(api, app["uuid"])

    emulator.set_deployments(duration_s=LONG, outcome="completed")

    assert settle(api, app["uuid"], deployment["id"])["state"] == "failed"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"duration_s": -1}, "duration_s must be a non-negative number of seconds"),
        ({"duration_s": "1"}, "duration_s must be a non-negative number of seconds"),
        ({"duration_s": True}, "duration_s must be a non-negative number of seconds"),
        ({"duration_s": 86_401}, "duration_s must be at most 86400 seconds"),
        ({"cancel_s": -0.5}, "cancel_s must be a non-negative number of seconds"),
        ({"outcome": "cancelled"}, "outcome must be one of completed, failed"),
        ({"message": 5}, "message must be a string"),
        ({"log": ["line"]}, "log must be a string"),
        ({"auto_deploy": "yes"}, "auto_deploy must be true or false"),
        ({"app": "web"}, "app must be an app uuid"),
        ({"duration": 1, "outcomes": "failed"}, "unknown field(s): duration, outcomes"),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(
    emulator: EmulatorServer, body: dict[str, Any], error: str
) -> None:
    response = control(emulator, "PUT", "/deployments", {"outcome": "failed", **body})

    assert (response.status_code, response.json()) == (400, {"error": error})
    assert emulator.deployment_settings() == {"default": DEFAULTS, "apps": {}}


@pytest.mark.parametrize(
    "raw", [b'{"duration_s": NaN}', b'{"duration_s": Infinity}', b'{"log": "\\ud800"}']
)
def test_non_finite_durations_and_lone_surrogates_are_refused(
    emulator: EmulatorServer, raw: bytes
) -> None:
    response = control_raw(emulator, raw)

    assert response.status_code == 400
    assert emulator.deployment_settings()["default"] == DEFAULTS


def control_raw(emulator: EmulatorServer, raw: bytes) -> requests.Response:
    return requests.put(
        f"{emulator.url}/_emulator/deployments",
        data=raw,
        headers={"Content-Type": "application/json"},
        timeout=TIMEOUT,
    )


def test_the_in_process_helpers_validate_like_the_control_api(emulator: EmulatorServer) -> None:
    app_id = str(uuid.uuid4())

    answer = emulator.set_deployments(duration_s=0.5, app=app_id, log="x")

    assert answer == {"app": app_id, **DEFAULTS, "duration_s": 0.5, "log": "x"}
    with pytest.raises(ValueError, match="outcome must be one of"):
        emulator.set_deployments(outcome="maybe")
    with pytest.raises(ValueError, match="duration_s must be a non-negative"):
        emulator.set_deployments(duration_s=float("nan"))


def test_reset_restores_the_settings_and_drops_the_deployments(
    api: Api, emulator: EmulatorServer
) -> None:
    app = create_app(api)
    emulator.set_deployments(duration_s=0, outcome="failed", auto_deploy=True, app=app["uuid"])
    emulator.set_deployments(duration_s=LONG, message="m")
    start(api, app["uuid"])

    response = control(emulator, "POST", "/reset")

    assert response.status_code == 204
    assert control(emulator, "GET", "/deployments").json() == {"default": DEFAULTS, "apps": {}}
    assert emulator.emulator.store.deployments.in_workspace(DEFAULT_WORKSPACE_ID) == []
    assert listing(api, app["uuid"]).status_code == 404  # the app went too


# ---- automatic deploys --------------------------------------------------------------------------


def test_without_auto_deploy_nothing_deploys_by_itself(api: Api) -> None:
    app = create_app(api)
    change_config(api, app["uuid"], tag="2.0.0")

    assert listing(api, app["uuid"]).json() == []
    assert show_app(api, app["uuid"])["state"] == "created"


def test_with_auto_deploy_creating_an_app_starts_a_deployment(
    api: Api, emulator: EmulatorServer
) -> None:
    emulator.set_deployments(auto_deploy=True, duration_s=0.05)

    app = create_app(api)

    assert app["state"] == "pending"
    [deployment] = listing(api, app["uuid"]).json()
    assert (deployment["image_url"], deployment["tag"]) == ("ghcr.io/acme/api", "1.2.3")
    settle(api, app["uuid"], deployment["id"])
    assert show_app(api, app["uuid"])["state"] == "running"


def test_with_auto_deploy_a_config_change_supersedes_the_active_deployment(
    api: Api, emulator: EmulatorServer
) -> None:
    emulator.set_deployments(auto_deploy=True, duration_s=LONG)
    app = create_app(api)
    [first] = listing(api, app["uuid"]).json()

    changed = change_config(api, app["uuid"], tag="2.0.0")
    manual = api.request("POST", f"{APPS}/{app['uuid']}/deploy")

    assert changed.status_code == 200 and changed.json()["state"] == "pending"
    newest, superseded = listing(api, app["uuid"]).json()
    assert superseded["id"] == first["id"] and superseded["state"] == "cancelled"
    assert (newest["tag"], newest["state"] in ("pending", "running")) == ("2.0.0", True)
    assert manual.status_code == 409  # Miget deployed by itself: the client's deploy conflicts


def test_with_auto_deploy_only_a_change_of_what_ships_deploys(
    api: Api, emulator: EmulatorServer
) -> None:
    app = create_app(api)
    emulator.set_deployments(auto_deploy=True, duration_s=0)

    same = change_config(api, app["uuid"], tag="1.2.3")
    label = api.request("PUT", f"{APPS}/{app['uuid']}", json={"label": "Renamed"})
    args = change_config(api, app["uuid"], args=["--fast"])

    assert (same.status_code, label.status_code, args.status_code) == (200, 200, 200)
    [deployment] = listing(api, app["uuid"]).json()
    assert deployment["args"] == ["--fast"] and deployment["state"] == "completed"
    assert args.json()["state"] == "running"


def test_auto_deploy_can_be_set_for_one_app(api: Api, emulator: EmulatorServer) -> None:
    auto = create_app(api, name="auto-api")
    manual = create_app(api, name="manual-api")
    emulator.set_deployments(auto_deploy=True, duration_s=0, app=auto["uuid"])

    change_config(api, auto["uuid"], tag="2.0.0")
    change_config(api, manual["uuid"], tag="2.0.0")

    assert [d["tag"] for d in listing(api, auto["uuid"]).json()] == ["2.0.0"]
    assert listing(api, manual["uuid"]).json() == []


# ---- the command line and the server's constructor ----------------------------------------------


@pytest.fixture
def cli() -> Iterator[list[CliEmulator]]:
    started: list[CliEmulator] = []
    yield started
    for process in started:
        process.kill()


def test_the_cli_flag_sets_the_default_duration_and_reset_brings_it_back(
    cli: list[CliEmulator],
) -> None:
    server = CliEmulator("--deploy-seconds", "0")
    cli.append(server)
    api = Api(server.url)
    app = create_app(api)
    deployment = start(api, app["uuid"])

    def settings() -> Any:
        return control_url(server.url, "GET").json()["default"]

    assert deployment["state"] == "completed"  # 0 s: settled as it starts
    assert logs(api, app["uuid"], deployment["id"]).status_code == 200
    assert settings()["duration_s"] == 0.0
    control_url(server.url, "PUT", {"duration_s": 5})
    control_url(server.url, "POST", route="/reset")
    assert settings() == {**DEFAULTS, "duration_s": 0.0}
    code, _, stderr = server.stop()
    assert code == 0 and "Traceback" not in stderr


def control_url(
    base: str, method: str, body: Any = None, route: str = "/deployments"
) -> requests.Response:
    return requests.request(method, f"{base}/_emulator{route}", json=body, timeout=TIMEOUT)


@pytest.mark.parametrize("value", ["-1", "nan", "86401"])
def test_a_bad_deploy_seconds_flag_is_a_one_line_error_with_exit_2(value: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pulumi_miget.emulator", "--port", "0", "--deploy-seconds", value],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
    )

    assert result.returncode == 2
    assert result.stderr.startswith("miget-emulator: --deploy-seconds must be")
    assert len(result.stderr.splitlines()) == 1


def test_the_server_takes_deploy_seconds_and_refuses_a_bad_value(tmp_path: Path) -> None:
    with EmulatorServer(deploy_seconds=0) as server:
        assert server.deployment_settings()["default"]["duration_s"] == 0.0
    db = tmp_path / "never.db"
    with pytest.raises(ValueError, match="deploy_seconds must be"):
        EmulatorServer(deploy_seconds=-1, db=str(db))
    assert not db.exists()  # refused before the database was opened


# ---- the store ----------------------------------------------------------------------------------


def table_info(db: Path, table: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return [(r[1], r[2], r[3], r[5]) for r in conn.execute(f"PRAGMA table_info({table})")]


def test_the_deployments_table_has_the_columns_of_the_file_format(tmp_path: Path) -> None:
    db = tmp_path / "emulator.db"
    Store(str(db)).close()

    assert table_info(db, "deployments") == DEPLOYMENT_COLUMNS


def test_a_file_written_before_deployments_gains_the_table_and_keeps_its_apps(
    tmp_path: Path,
) -> None:
    db = tmp_path / "before.db"
    with EmulatorServer(db=str(db)) as first:
        app = create_app(Api(first.url))
    with sqlite3.connect(db) as conn:  # as the emulator before deployments left it
        conn.execute("DROP TABLE deployments")

    with EmulatorServer(db=str(db), deploy_seconds=0) as second:
        api = Api(second.url)
        assert show_app(api, app["uuid"])["state"] == "created"
        assert start(api, app["uuid"])["state"] == "completed"
        assert show_app(api, app["uuid"])["state"] == "running"
    assert table_info(db, "deployments") == DEPLOYMENT_COLUMNS


def test_deployments_and_their_logs_survive_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "emulator.db")
    with EmulatorServer(db=db) as first:
        api = Api(first.url)
        app = create_app(api)
        first.set_deployments(duration_s=0.05, log="built\n")
        deployment = start(api, app["uuid"])

    with EmulatorServer(db=db) as second:
        api = Api(second.url)
        settled = settle(api, app["uuid"], deployment["id"])
        text = logs(api, app["uuid"], deployment["id"]).text
        state = show_app(api, app["uuid"])["state"]

    assert settled["state"] == "completed" and "built\n" in text
    assert state == "running"
