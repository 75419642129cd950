"""The emulator's deployment endpoints (miget-api.md §8.1): deploy, list (status and period
filters), detail, logs, cancel, rollback, and the app's ``state`` following its deployments.

Every test talks HTTP to the session emulator (reset before each test, which also restores the
deployment settings). Durations come from the control settings; the tests wait with bounded
polling (``deploy_helpers.wait_for``) and never assert how long anything took.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import replace
from typing import Any

import pytest
import requests

from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.emulator.records import DeploymentRecord
from tests.emulator.deploy_helpers import (
    APPS,
    DEPLOYMENT_KEYS,
    LONG,
    SETTLED,
    cancel,
    change_config,
    create_app,
    deploy,
    listing,
    logs,
    path,
    rollback,
    settle,
    show,
    show_app,
    start,
    wait_for,
    wait_until_running,
)
from tests.emulator.helpers import Api
from tests.samples import DEFAULT_WORKSPACE_ID, OTHER_WORKSPACE_ID

IN_PROGRESS = {"error": "A deployment is already in progress"}
NOT_READY = {"error": "Logs are not available yet"}
DAY_MS = 86_400_000


@pytest.fixture
def app(api: Api) -> dict[str, Any]:
    return create_app(api)


def completed_deployment(api: Api, emulator: EmulatorServer, app_id: str) -> dict[str, Any]:
    """A deployment that has completed (duration 0: settled as it starts)."""
    emulator.set_deployments(duration_s=0, outcome="completed", app=app_id)
    deployment = start(api, app_id)
    assert deployment["state"] == "completed"
    return deployment


def failed_deployment(api: Api, emulator: EmulatorServer, app_id: str) -> dict[str, Any]:
    emulator.set_deployments(duration_s=0, outcome="failed", app=app_id)
    deployment = start(api, app_id)
    assert deployment["state"] == "failed"
    return deployment


# ---- deploy -------------------------------------------------------------------------------------


def test_deploy_answers_201_with_a_pending_deployment_of_the_apps_config(
    api: Api, app: dict[str, Any]
) -> None:
    response = deploy(api, app["uuid"])

    assert response.status_code == 201
    deployment = response.json()
    assert set(deployment) == DEPLOYMENT_KEYS
    assert uuid.UUID(deployment["id"])
    assert deployment["app_id"] == app["uuid"]
    assert deployment["state"] == deployment["status"] == "pending"
    assert deployment["deployment_method"] == "container_registry"
    assert (deployment["image_url"], deployment["tag"]) == ("ghcr.io/acme/api", "1.2.3")
    assert deployment["credential_id"] is deployment["command"] is deployment["args"] is None
    assert deployment["rollback_of"] is None
    # Not a git method: no commit [DOC]; logs are stored once it ends [DOC].
    assert deployment["commit_sha"] is deployment["commit_message"] is deployment["branch"] is None
    assert deployment["logs_stored_at"] is None
    assert deployment["created_at"] == deployment["updated_at"]
    assert show(api, app["uuid"], deployment["id"])["id"] == deployment["id"]


def test_a_deployment_goes_pending_then_running_then_completed(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    emulator.set_deployments(duration_s=0.05)
    deployment = start(api, app["uuid"])
    seen = [deployment["state"]]

    def record(entity: dict[str, Any]) -> bool:
        if entity["state"] != seen[-1]:
            seen.append(entity["state"])
        return entity["state"] in SETTLED

    final = wait_for(api, app["uuid"], deployment["id"], record)

    assert seen[0] == "pending" and seen[-1] == "completed"
    assert seen in (["pending", "completed"], ["pending", "running", "completed"])
    assert final["logs_stored_at"] is not None
    assert final["updated_at"] == final["logs_stored_at"] > final["created_at"]


def test_a_long_deployment_is_running_after_its_pending_phase(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    emulator.set_deployments(duration_s=LONG)
    deployment = start(api, app["uuid"])

    running = wait_until_running(api, app["uuid"], deployment["id"])

    assert running["status"] == "running" and running["logs_stored_at"] is None


def test_a_deployment_set_to_fail_ends_failed(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    emulator.set_deployments(duration_s=0.05, outcome="failed")
    deployment = start(api, app["uuid"])

    final = settle(api, app["uuid"], deployment["id"])

    assert final["state"] == final["status"] == "failed"
    assert "message" not in final and "error" not in final  # no failure reason [DOC]


def test_a_zero_duration_deployment_has_settled_when_it_is_answered(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    emulator.set_deployments(duration_s=0)

    deployment = start(api, app["uuid"])

    assert deployment["state"] == "completed"
    assert deployment["logs_stored_at"] == deployment["created_at"]
    assert logs(api, app["uuid"], deployment["id"]).status_code == 200


def test_a_second_deploy_while_one_is_active_answers_409(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    emulator.set_deployments(duration_s=LONG)
    first = start(api, app["uuid"])

    pending_or_running = deploy(api, app["uuid"])
    wait_until_running(api, app["uuid"], first["id"])
    running = deploy(api, app["uuid"], {"custom_tag": "2.0.0"})

    assert (pending_or_running.status_code, pending_or_running.json()) == (409, IN_PROGRESS)
    assert (running.status_code, running.json()) == (409, IN_PROGRESS)
    assert [d["id"] for d in listing(api, app["uuid"]).json()] == [first["id"]]


def test_a_cancelling_deployment_still_blocks_a_deploy_and_a_settled_one_does_not(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    emulator.set_deployments(duration_s=LONG, cancel_s=LONG)
    first = start(api, app["uuid"])
    wait_until_running(api, app["uuid"], first["id"])
    assert cancel(api, app["uuid"], first["id"]).json()["state"] == "cancelling"

    blocked = deploy(api, app["uuid"])
    other_app = create_app(api, name="other-api")
    unblocked_elsewhere = deploy(api, other_app["uuid"])

    assert (blocked.status_code, blocked.json()) == (409, IN_PROGRESS)
    assert unblocked_elsewhere.status_code == 201  # one active deployment per app, not workspace


def test_after_a_deployment_settles_the_next_deploy_is_accepted(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    emulator.set_deployments(duration_s=0.05)
    first = start(api, app["uuid"])
    settle(api, app["uuid"], first["id"])

    second = deploy(api, app["uuid"])

    assert second.status_code == 201
    assert [d["id"] for d in listing(api, app["uuid"]).json()] == [second.json()["id"], first["id"]]


def test_concurrent_deploys_start_exactly_one_deployment(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    emulator.set_deployments(duration_s=LONG)
    statuses: list[int] = []

    def one() -> None:
        statuses.append(deploy(api, app["uuid"]).status_code)

    threads = [threading.Thread(target=one) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201] + [409] * 9
    assert len(listing(api, app["uuid"]).json()) == 1


def test_custom_tag_ships_that_tag_and_leaves_the_config_alone(
    api: Api, app: dict[str, Any]
) -> None:
    deployment = start(api, app["uuid"], {"custom_tag": "2.0.0-rc1", "commit_sha": "abc123"})

    assert deployment["tag"] == "2.0.0-rc1"
    assert deployment["commit_sha"] is None  # not a git method: accepted, ignored [DOC]
    assert show_app(api, app["uuid"])["deployment_config"]["tag"] == "1.2.3"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"custom_tag": 5}, "custom_tag is invalid"),
        ({"custom_tag": ""}, "custom_tag is empty"),
        ({"commit_sha": 1, "branch": ["main"]}, "commit_sha is invalid, branch is invalid"),
        ([1, 2], "Request body must be a JSON object"),
    ],
)
def test_bad_deploy_bodies_answer_400_and_start_nothing(
    api: Api, app: dict[str, Any], body: Any, error: str
) -> None:
    response = deploy(api, app["uuid"], body)

    assert (response.status_code, response.json()) == (400, {"error": error})
    assert listing(api, app["uuid"]).json() == []


def test_a_bare_deploy_needs_no_content_type_but_a_body_does(api: Api, app: dict[str, Any]) -> None:
    text_body = api.request(
        "POST",
        f"{APPS}/{app['uuid']}/deploy",
        data='{"custom_tag": "x"}',
        headers={"Content-Type": "text/plain"},
    )
    empty_json = api.request(
        "POST", f"{APPS}/{app['uuid']}/deploy", data="", headers={"Content-Type": "text/plain"}
    )

    assert (text_body.status_code, text_body.json()) == (
        415,
        {"error": "Content-Type must be application/json"},
    )
    assert empty_json.status_code == 201


def test_deploy_checks_the_app_id_the_app_and_the_key(api: Api, app: dict[str, Any]) -> None:
    unknown = deploy(api, str(uuid.uuid4()))
    malformed = deploy(api, "not-a-uuid")
    elsewhere = deploy(api.in_workspace(OTHER_WORKSPACE_ID), app["uuid"])
    no_key = deploy(api.with_key(None), app["uuid"])

    assert (unknown.status_code, unknown.json()) == (404, {"error": "App not found"})
    assert (malformed.status_code, malformed.json()) == (400, {"error": "uuid is invalid"})
    assert (elsewhere.status_code, elsewhere.json()) == (404, {"error": "App not found"})
    assert (no_key.status_code, no_key.json()) == (401, {"error": "Unauthorized"})
    assert listing(api, app["uuid"]).json() == []


def test_a_deployment_keeps_the_revision_it_shipped_after_the_config_changes(
    api: Api, emulator: EmulatorServer
) -> None:
    credential = api.create()
    app = create_app(api, command=["/bin/api"], args=["--port", "5000"])
    first = completed_deployment(api, emulator, app["uuid"])

    changed = change_config(
        api,
        app["uuid"],
        image_url="ghcr.io/acme/api-v2",
        tag="2.0.0",
        container_registry_credential_id=credential["uuid"],
        command="",
        args=["--verbose"],
    )
    second = start(api, app["uuid"])

    assert changed.status_code == 200
    old = show(api, app["uuid"], first["id"])
    assert [old[k] for k in ("image_url", "tag", "credential_id", "command", "args")] == [
        "ghcr.io/acme/api",
        "1.2.3",
        None,
        ["/bin/api"],
        ["--port", "5000"],
    ]
    assert [second[k] for k in ("image_url", "tag", "credential_id", "command", "args")] == [
        "ghcr.io/acme/api-v2",
        "2.0.0",
        credential["uuid"],
        None,
        ["--verbose"],
    ]


# ---- list and detail ----------------------------------------------------------------------------


def test_the_list_is_newest_first_and_filters_by_status(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    completed = completed_deployment(api, emulator, app["uuid"])
    failed = failed_deployment(api, emulator, app["uuid"])
    emulator.set_deployments(duration_s=LONG, app=app["uuid"])
    running = start(api, app["uuid"])
    wait_until_running(api, app["uuid"], running["id"])

    def ids(**params: str) -> list[str]:
        response = listing(api, app["uuid"], **params)
        assert response.status_code == 200, response.text
        return [d["id"] for d in response.json()]

    assert ids() == [running["id"], failed["id"], completed["id"]]
    assert ids(status="completed") == [completed["id"]]
    assert ids(status="failed") == [failed["id"]]
    assert ids(status="running") == [running["id"]]
    assert ids(status="pending") == ids(status="cancelled") == ids(status="cancelling") == []
    assert ids(status="failed", period="7days") == [failed["id"]]
    assert listing(api, app["uuid"]).json()[1] == show(api, app["uuid"], failed["id"])


def test_the_period_filter_counts_back_from_now(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    recent = completed_deployment(api, emulator, app["uuid"])
    store = emulator.emulator.store
    [template] = store.deployments.where(DEFAULT_WORKSPACE_ID, "app_uuid", app["uuid"])
    now = store.clock_ms()
    aged: dict[int, str] = {}
    for days in (10, 45, 100):
        record = replace(
            template,
            uuid=str(uuid.uuid4()),
            created_ms=now - days * DAY_MS,
            updated_ms=now - days * DAY_MS,
        )
        store.deployments.insert(record)
        aged[days] = record.uuid

    def ids(period: str) -> list[str]:
        return [d["id"] for d in listing(api, app["uuid"], period=period).json()]

    assert ids("7days") == [recent["id"]]
    assert ids("30days") == [recent["id"], aged[10]]
    assert ids("90days") == [recent["id"], aged[10], aged[45]]
    assert ids("all") == [recent["id"], aged[10], aged[45], aged[100]]
    assert [d["id"] for d in listing(api, app["uuid"]).json()] == ids("all")  # default: all


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"status": "done"}, "status does not have a valid value"),
        ({"period": "1year"}, "period does not have a valid value"),
        (
            {"status": "Completed", "period": ""},
            "status does not have a valid value, period does not have a valid value",
        ),
    ],
)
def test_bad_list_filters_answer_400(
    api: Api, app: dict[str, Any], params: dict[str, str], error: str
) -> None:
    response = listing(api, app["uuid"], **params)

    assert (response.status_code, response.json()) == (400, {"error": error})


def test_unknown_deployments_and_other_apps_deployments_answer_404(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    deployment = completed_deployment(api, emulator, app["uuid"])
    other_app = create_app(api, name="other-api")

    for route in ("", "logs"):
        unknown = api.request("GET", path(app["uuid"], str(uuid.uuid4()), route))
        other = api.request("GET", path(other_app["uuid"], deployment["id"], route))
        malformed = api.request("GET", path(app["uuid"], "42", route))
        assert (unknown.status_code, unknown.json()) == (404, {"error": "Deployment not found"})
        assert (other.status_code, other.json()) == (404, {"error": "Deployment not found"})
        assert (malformed.status_code, malformed.json()) == (400, {"error": "id is invalid"})
    for action in ("cancel", "rollback"):
        response = api.request("POST", path(other_app["uuid"], deployment["id"], action))
        assert (response.status_code, response.json()) == (404, {"error": "Deployment not found"})
    missing_app = listing(api, str(uuid.uuid4()))
    assert (missing_app.status_code, missing_app.json()) == (404, {"error": "App not found"})
    elsewhere = api.in_workspace(OTHER_WORKSPACE_ID).request(
        "GET", path(app["uuid"], deployment["id"])
    )
    assert (elsewhere.status_code, elsewhere.json()) == (404, {"error": "App not found"})


def test_deleting_the_app_deletes_its_deployments(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    completed_deployment(api, emulator, app["uuid"])
    kept_app = create_app(api, name="kept-api")
    emulator.set_deployments(duration_s=0, app=kept_app["uuid"])
    kept = start(api, kept_app["uuid"])

    assert api.request("DELETE", f"{APPS}/{app['uuid']}").status_code == 204

    store = emulator.emulator.store
    assert store.deployments.where(DEFAULT_WORKSPACE_ID, "app_uuid", app["uuid"]) == []
    assert [d["id"] for d in listing(api, kept_app["uuid"]).json()] == [kept["id"]]


# ---- logs ---------------------------------------------------------------------------------------


def test_logs_answer_404_while_the_deployment_runs(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    emulator.set_deployments(duration_s=LONG)
    deployment = start(api, app["uuid"])

    early = logs(api, app["uuid"], deployment["id"])
    wait_until_running(api, app["uuid"], deployment["id"])
    running = logs(api, app["uuid"], deployment["id"])

    for response in (early, running):
        assert (response.status_code, response.json()) == (404, NOT_READY)
    assert show(api, app["uuid"], deployment["id"])["logs_stored_at"] is None


def test_logs_are_404_until_the_deployment_ends_then_text_plain(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    emulator.set_deployments(duration_s=0.05)
    deployment = start(api, app["uuid"])

    def check(_: dict[str, Any]) -> bool:
        # Read state, then logs, then state: the logs must agree with the clock in between.
        before = show(api, app["uuid"], deployment["id"])
        response = logs(api, app["uuid"], deployment["id"])
        after = show(api, app["uuid"], deployment["id"])
        if response.status_code == 404:
            assert response.json() == NOT_READY
            assert before["state"] not in SETTLED and before["logs_stored_at"] is None
            return False
        assert response.status_code == 200
        assert after["state"] in SETTLED and after["logs_stored_at"] is not None
        return True

    wait_for(api, app["uuid"], deployment["id"], check)
    final = logs(api, app["uuid"], deployment["id"])
    assert final.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert final.text == (
        "-----> Deploying ghcr.io/acme/api:1.2.3\n-----> Release\nDeployment completed\n"
    )


def test_the_logs_hold_the_control_log_and_end_with_the_message(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    emulator.set_deployments(
        duration_s=0,
        outcome="failed",
        log="npm ci\nError: Cannot find module 'vite'\n",
        message="Build failed: Release job failed",
    )
    deployment = start(api, app["uuid"])

    response = logs(api, app["uuid"], deployment["id"])

    assert response.status_code == 200
    assert response.text.splitlines() == [
        "-----> Deploying ghcr.io/acme/api:1.2.3",
        "npm ci",
        "Error: Cannot find module 'vite'",
        "-----> Release",
        "Build failed: Release job failed",
    ]
    assert "Build failed" not in str(show(api, app["uuid"], deployment["id"]))  # REST: logs only


# ---- cancel -------------------------------------------------------------------------------------


def test_cancel_takes_a_running_deployment_through_cancelling_to_cancelled(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    emulator.set_deployments(duration_s=LONG, cancel_s=0.05)
    deployment = start(api, app["uuid"])
    wait_until_running(api, app["uuid"], deployment["id"])

    response = cancel(api, app["uuid"], deployment["id"])

    assert response.status_code == 200
    assert set(response.json()) == DEPLOYMENT_KEYS
    assert response.json()["state"] == response.json()["status"] == "cancelling"
    final = settle(api, app["uuid"], deployment["id"])
    assert final["state"] == "cancelled" and final["logs_stored_at"] is not None
    text = logs(api, app["uuid"], deployment["id"]).text
    assert text.splitlines()[-1] == "Deployment cancelled" and "Release" not in text
    assert deploy(api, app["uuid"]).status_code == 201


@pytest.mark.parametrize("outcome", ["completed", "failed"])
def test_cancel_refuses_a_settled_deployment(
    api: Api, emulator: EmulatorServer, app: dict[str, Any], outcome: str
) -> None:
    emulator.set_deployments(duration_s=0, outcome=outcome)
    deployment = start(api, app["uuid"])

    response = cancel(api, app["uuid"], deployment["id"])

    assert (response.status_code, response.json()) == (
        422,
        {"error": "Only a running deployment can be cancelled"},
    )
    assert show(api, app["uuid"], deployment["id"])["state"] == outcome


def test_cancel_refuses_a_deployment_already_cancelling_or_cancelled(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    emulator.set_deployments(duration_s=LONG, cancel_s=LONG)
    slow = start(api, app["uuid"])
    wait_until_running(api, app["uuid"], slow["id"])
    cancel(api, app["uuid"], slow["id"])

    again = cancel(api, app["uuid"], slow["id"])

    assert again.status_code == 422
    assert show(api, app["uuid"], slow["id"])["state"] == "cancelling"


# ---- rollback -----------------------------------------------------------------------------------


def test_rollback_deploys_the_targets_revision_again(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    target = completed_deployment(api, emulator, app["uuid"])
    change_config(api, app["uuid"], tag="2.0.0", command=["/bin/v2"])
    newer = start(api, app["uuid"])
    assert (newer["tag"], newer["command"]) == ("2.0.0", ["/bin/v2"])

    response = rollback(api, app["uuid"], target["id"])

    assert response.status_code == 201
    rolled = response.json()
    assert rolled["id"] not in (target["id"], newer["id"])
    assert rolled["rollback_of"] == target["id"]
    assert (rolled["image_url"], rolled["tag"], rolled["command"]) == (
        "ghcr.io/acme/api",
        "1.2.3",
        None,
    )
    assert show_app(api, app["uuid"])["deployment_config"]["tag"] == "2.0.0"  # config unchanged
    assert (
        "-----> Rolling back to deployment " + target["id"]
        in logs(api, app["uuid"], rolled["id"]).text
    )
    assert listing(api, app["uuid"]).json()[0]["id"] == rolled["id"]


def test_rollback_refuses_a_failed_target(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    failed = failed_deployment(api, emulator, app["uuid"])

    response = rollback(api, app["uuid"], failed["id"])

    assert (response.status_code, response.json()) == (
        422,
        {"error": "A failed deployment cannot be rolled back"},
    )
    assert len(listing(api, app["uuid"]).json()) == 1


def test_rollback_refuses_a_running_target_and_waits_for_an_active_deployment(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    old = completed_deployment(api, emulator, app["uuid"])
    emulator.set_deployments(duration_s=LONG, app=app["uuid"])
    running = start(api, app["uuid"])

    to_itself = rollback(api, app["uuid"], running["id"])
    while_busy = rollback(api, app["uuid"], old["id"])

    assert (to_itself.status_code, to_itself.json()) == (
        422,
        {"error": "Deployment is still running"},
    )
    assert (while_busy.status_code, while_busy.json()) == (409, IN_PROGRESS)


def test_rollback_to_a_cancelled_deployment_is_allowed(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    emulator.set_deployments(duration_s=LONG, cancel_s=0)
    deployment = start(api, app["uuid"])
    wait_until_running(api, app["uuid"], deployment["id"])
    assert cancel(api, app["uuid"], deployment["id"]).json()["state"] == "cancelled"

    assert rollback(api, app["uuid"], deployment["id"]).status_code == 201


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"revision": {"tag": "1.0.0"}}, "Deployment has no image to roll back to"),
        ({"deployment_method": "github"}, "Deployment used another deployment method"),
    ],
)
def test_rollback_refuses_a_target_without_an_image_or_of_another_method(
    api: Api, emulator: EmulatorServer, app: dict[str, Any], change: dict[str, Any], error: str
) -> None:
    # Neither can be made over the emulator's API (it deploys container_registry images only):
    # such rows come from Miget's other methods, so the test writes one into the store.
    done = completed_deployment(api, emulator, app["uuid"])
    store = emulator.emulator.store
    record: DeploymentRecord | None = store.deployments.get(DEFAULT_WORKSPACE_ID, done["id"])
    assert record is not None
    store.deployments.replace(replace(record, **change))

    response = rollback(api, app["uuid"], done["id"])

    assert (response.status_code, response.json()) == (422, {"error": error})


# ---- the app's state ----------------------------------------------------------------------------


def test_the_app_is_created_then_pending_then_running(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    assert app["state"] == "created"
    emulator.set_deployments(duration_s=0.05)
    deployment = start(api, app["uuid"])

    assert show_app(api, app["uuid"])["state"] in ("pending", "running")
    settle(api, app["uuid"], deployment["id"])
    assert show_app(api, app["uuid"])["state"] == "running"
    assert [a["state"] for a in api.request("GET", APPS).json()] == ["running"]


def test_the_app_is_pending_while_its_first_deployment_runs(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    emulator.set_deployments(duration_s=LONG)
    deployment = start(api, app["uuid"])
    wait_until_running(api, app["uuid"], deployment["id"])

    assert show_app(api, app["uuid"])["state"] == "pending"


def test_a_first_deployment_that_fails_leaves_the_app_failed(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    failed_deployment(api, emulator, app["uuid"])

    assert show_app(api, app["uuid"])["state"] == "failed"


def test_after_a_failure_the_previous_version_keeps_running(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    completed_deployment(api, emulator, app["uuid"])
    failed_deployment(api, emulator, app["uuid"])

    assert show_app(api, app["uuid"])["state"] == "running"


def test_a_redeploy_of_a_live_app_keeps_it_running(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    completed_deployment(api, emulator, app["uuid"])
    emulator.set_deployments(duration_s=LONG, app=app["uuid"])
    start(api, app["uuid"])

    assert show_app(api, app["uuid"])["state"] == "running"


def test_a_failed_app_recovers_with_a_successful_deployment(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    failed_deployment(api, emulator, app["uuid"])
    completed_deployment(api, emulator, app["uuid"])

    assert show_app(api, app["uuid"])["state"] == "running"


@pytest.mark.parametrize(("before", "expected"), [(None, "created"), ("failed", "failed")])
def test_a_cancelled_deployment_changes_nothing_on_the_app(
    api: Api, emulator: EmulatorServer, app: dict[str, Any], before: str | None, expected: str
) -> None:
    if before == "failed":
        failed_deployment(api, emulator, app["uuid"])
    emulator.set_deployments(duration_s=LONG, cancel_s=0, app=app["uuid"])
    deployment = start(api, app["uuid"])
    wait_until_running(api, app["uuid"], deployment["id"])
    cancel(api, app["uuid"], deployment["id"])

    assert show_app(api, app["uuid"])["state"] == expected


# ---- faults and the request log -----------------------------------------------------------------


def test_faults_apply_to_the_deployment_routes(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    emulator.add_fault("POST", "/api/v1/apps/*/deploy", "status", status=503)
    emulator.add_fault("GET", "/api/v1/apps/*/deployments", "status", status=429, retry_after=2)

    refused = deploy(api, app["uuid"])
    throttled = listing(api, app["uuid"])

    assert (refused.status_code, refused.json()) == (503, {"error": "Service Unavailable"})
    assert (throttled.status_code, throttled.headers["Retry-After"]) == (429, "2")
    assert listing(api, app["uuid"]).json() == []  # the 503 started nothing


def test_a_lost_response_to_a_deploy_still_starts_the_deployment(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    emulator.add_fault("POST", f"/api/v1/apps/{app['uuid']}/deploy", "lost_response")

    with pytest.raises(requests.ConnectionError):
        deploy(api, app["uuid"], {"custom_tag": "9.9.9"})

    [deployment] = listing(api, app["uuid"]).json()
    assert deployment["tag"] == "9.9.9"
    assert deploy(api, app["uuid"]).status_code in (201, 409)  # 409 while it still runs


def test_the_request_log_keeps_the_deploy_field_names_never_their_values(
    api: Api, emulator: EmulatorServer, app: dict[str, Any]
) -> None:
    emulator.set_deployments(duration_s=0)
    emulator.clear_log()
    deployment = start(api, app["uuid"], {"custom_tag": "secret-looking-tag", "branch": "main"})
    logs(api, app["uuid"], deployment["id"])

    entries = emulator.requests_log()

    assert [(e["method"], e["status"], e["fields"]) for e in entries] == [
        ("POST", 201, ["branch", "custom_tag"]),
        ("GET", 200, []),
    ]
    assert entries[1]["path"] == path(app["uuid"], deployment["id"], "logs")
    assert "secret-looking-tag" not in str(entries)
