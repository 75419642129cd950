"""Multi-``up`` scenarios for Deployment through ``OfflineStack``: real HTTP against the
emulator, deployments of 0.05 s, the exact write requests from the emulator's request log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from pulumi_miget import App, Deployment
from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.testing import OfflineStack, ProviderServer, StepFailed
from tests.samples import APP
from tests.scenarios.common import WRITES

APPS = "/api/v1/apps"


@pytest.fixture
def fast(emulator: EmulatorServer) -> EmulatorServer:
    emulator.set_deployments(duration_s=0.05, outcome="completed")
    return emulator


def program(
    *, api_tag: str = "1.2.3", worker_tag: str = "1.0.0", **options: Any
) -> Callable[[], None]:
    def body() -> None:
        api = App("api", **{**APP, "tag": api_tag})
        worker = App("worker", **{**APP, "name": "acme-worker", "tag": worker_tag})
        release = Deployment("release", apps=[api, worker], **options)
        pulumi.export("api", api.id)
        pulumi.export("worker", worker.id)
        pulumi.export("apps", release.apps)
        pulumi.export("status", release.status)

    return body


def writes(emulator: EmulatorServer) -> list[tuple[str, str]]:
    return sorted(
        (e["method"], e["path"]) for e in emulator.requests_log() if e["method"] in WRITES
    )


class Holder:
    def __init__(self, emulator: EmulatorServer, server: ProviderServer) -> None:
        self.emulator, self.server = emulator, server
        self.options: dict[str, Any] = {}
        self.stack = OfflineStack(
            lambda: program(**self.options)(), emulator=emulator, server=server
        )

    def up(self, **options: Any) -> Any:
        self.options = options
        self.emulator.clear_log()
        return self.stack.up()


@pytest.fixture
def holder(fast: EmulatorServer, server: ProviderServer) -> Holder:
    return Holder(fast, server)


def test_first_up_deploys_each_app_once_and_a_second_up_deploys_nothing(holder: Holder) -> None:
    first = holder.up()
    assert first.summary == {"create": 3}
    api, worker = first.output("api"), first.output("worker")
    assert writes(holder.emulator) == sorted(
        [
            ("POST", APPS),
            ("POST", APPS),
            ("POST", f"{APPS}/{api}/deploy"),
            ("POST", f"{APPS}/{worker}/deploy"),
        ]
    )
    apps = first.output("apps")
    assert apps[api]["status"] == "completed" and apps[api]["app_state"] == "running"
    assert apps[api]["image"] == "ghcr.io/acme/api:1.2.3"
    assert apps[worker]["image"] == "ghcr.io/acme/api:1.0.0"
    assert first.output("status") == "completed"

    second = holder.up()
    assert second.summary == {"same": 3}
    assert writes(holder.emulator) == []


def test_a_tag_bump_deploys_only_that_app(holder: Holder, api: Any) -> None:
    first = holder.up()
    app_id, worker = first.output("api"), first.output("worker")
    bumped = holder.up(api_tag="1.2.4")
    assert bumped.step("release").op == "update"
    assert writes(holder.emulator) == [
        ("POST", f"{APPS}/{app_id}/deploy"),
        ("PUT", f"{APPS}/{app_id}/deployment"),  # the App's own update
    ]
    apps = bumped.output("apps")
    assert apps[app_id]["image"] == "ghcr.io/acme/api:1.2.4"
    assert apps[worker] == first.output("apps")[worker]
    live = api.request("GET", f"{APPS}/{app_id}/deployments").json()
    assert (live[0]["tag"], live[0]["state"]) == ("1.2.4", "completed")


def test_wait_timeout_and_rollback_flags_alone_deploy_nothing(holder: Holder) -> None:
    holder.up()
    again = holder.up(timeout_seconds=60, rollback_on_failure=True)
    assert again.step("release").op == "same"
    assert writes(holder.emulator) == []


def test_a_failed_deploy_fails_the_up_with_its_logs_and_a_retry_succeeds(holder: Holder) -> None:
    first = holder.up()
    app_id = first.output("api")
    holder.emulator.set_deployments(
        outcome="failed", message="Error: image pull failed", log="pulling layer 3/7", app=app_id
    )
    with pytest.raises(StepFailed) as failed:
        holder.up(api_tag="9.9.9")
    message = str(failed.value)
    assert "app 'acme-api-" in message and "ended failed" in message
    assert "pulling layer 3/7" in message and "Error: image pull failed" in message
    assert "1 of 1 apps failed" in message

    holder.emulator.set_deployments(outcome="completed", message="", log="", app=app_id)
    retried = holder.up(api_tag="9.9.9")
    assert retried.output("apps")[app_id]["image"] == "ghcr.io/acme/api:9.9.9"
    assert ("POST", f"{APPS}/{app_id}/deploy") in writes(holder.emulator)


def test_rollback_on_failure_puts_the_old_version_back(holder: Holder, api: Any) -> None:
    first = holder.up(rollback_on_failure=True)
    app_id = first.output("api")
    holder.emulator.set_deployments(outcome="failed", app=app_id)
    with pytest.raises(StepFailed) as failed:
        holder.up(api_tag="2.0.0", rollback_on_failure=True)
    assert "rolled back to ghcr.io/acme/api:1.2.3" in str(failed.value)
    live = api.request("GET", f"{APPS}/{app_id}").json()
    assert live["deployment_config"]["tag"] == "1.2.3"
    assert live["state"] == "running"
    newest = api.request("GET", f"{APPS}/{app_id}/deployments").json()[0]
    assert newest["tag"] == "1.2.3"


def test_an_in_flight_deployment_of_the_same_revision_is_attached_to(holder: Holder) -> None:
    holder.emulator.set_deployments(auto_deploy=True, duration_s=0.3)
    first = holder.up()
    app_id = first.output("api")
    deploys = [p for m, p in writes(holder.emulator) if p.endswith("/deploy")]
    assert sorted(deploys) == sorted(
        [f"{APPS}/{app_id}/deploy", f"{APPS}/{first.output('worker')}/deploy"]
    )
    listed = [e for e in holder.emulator.requests_log() if e["path"].endswith("/deployments")]
    assert listed  # the 409 was resolved by looking at the active deployment
    ids = {a["deployment_id"] for a in first.output("apps").values()}
    assert len(ids) == 2 and first.output("status") == "completed"


def test_a_timeout_fails_and_leaves_the_deployment_running(holder: Holder) -> None:
    holder.emulator.set_deployments(duration_s=30)
    with pytest.raises(StepFailed) as failed:
        holder.up(timeout_seconds=0.3)
    assert "still running after 0.3 s (deployment " in str(failed.value)


def test_apps_deploy_concurrently(holder: Holder, api: Any) -> None:
    holder.emulator.set_deployments(duration_s=0.5)
    first = holder.up()
    spans = []
    for key in ("api", "worker"):
        item = first.output("apps")[first.output(key)]
        spans.append((item["started_at"], item["finished_at"]))
    (a_start, a_end), (b_start, b_end) = spans
    assert a_start < b_end and b_start < a_end  # the two deployments overlapped


def test_destroy_makes_no_deployment_call(holder: Holder) -> None:
    holder.up()
    holder.emulator.clear_log()
    holder.stack.destroy()
    paths = [e["path"] for e in holder.emulator.requests_log()]
    assert not any("deploy" in p for p in paths)


def test_refresh_reports_what_runs_and_keeps_the_resource(holder: Holder) -> None:
    first = holder.up()
    refreshed = holder.stack.refresh()
    assert refreshed.step("release").op in ("same", "update")
    state = {r["urn"].rsplit("::", 1)[-1]: r for r in holder.stack.state["resources"]}
    apps = state["release"]["outputs"]["apps"]
    assert apps[first.output("api")]["image"] == "ghcr.io/acme/api:1.2.3"


def test_an_env_value_printed_in_the_logs_never_reaches_the_error_or_the_state(
    fast: EmulatorServer, server: ProviderServer
) -> None:
    secret = "postgres://app:deploy-log-secret@db/app"

    def body() -> None:
        api = App("api", **APP, env={"DATABASE_URL": secret})
        Deployment("release", app=api)

    stack = OfflineStack(body, emulator=fast, server=server)
    fast.set_deployments(outcome="failed", log=f"connecting to {secret}", message="boom")
    with pytest.raises(StepFailed) as failed:
        stack.up()
    message = str(failed.value)
    assert "connecting to [redacted]" in message and secret not in message
    fast.set_deployments(outcome="completed", log="", message="")
    stack.up()
    release = next(r for r in stack.state["resources"] if r["urn"].endswith("::release"))
    assert release["outputs"]["redact"] == {"secret": {"0.DATABASE_URL": secret}}
    assert secret not in server.output()
