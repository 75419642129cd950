"""Deploying apps and waiting for them: the work behind a Deployment's create and update.

One :class:`Rollout` deploys a list of app revisions **concurrently** (one thread per app, over
the thread-safe :class:`~pulumi_miget.api.http.MigetClient`), so N apps take about as long as
the slowest. Per app:

1. ``GET /apps/{uuid}``; when its deployment config differs from the revision, one
   ``PUT /apps/{uuid}/deployment`` (``AppsApi.deployment_body``) makes it equal;
2. ``POST /apps/{uuid}/deploy``; a 409 (a deployment is active) lists the deployments: an
   active one shipping the same revision is attached to, another one is waited for first;
3. with ``wait``: the deployment is polled with backoff until it settles, then the app until
   its ``state`` is ``running`` or a failed state. Past ``timeout_seconds`` the app fails with
   "still <state>", and the deployment is left running.

A failure names the app, its deployment, the final state and the last :data:`LOG_LINES` lines
of the deployment's logs (the client redacts the API key). With ``rollback_on_failure`` the
previous completed deployment's revision is put back and deployed, and the error says so.

Polling: every :data:`POLL_SECONDS` growing ×1.5 to :data:`POLL_CAP_SECONDS` against Miget;
against an emulator on this machine (a loopback API URL) :data:`EMULATOR_POLL_SECONDS`, scaled
alike; ``MIGET_DEPLOY_POLL_SECONDS`` (environment of the provider process) overrides the base.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import ApiError, MigetError
from ..rules.app import DEFAULT_TAG
from ..settings import is_loopback

if TYPE_CHECKING:
    from ..api.apps import AppsApi
    from ..api.deployments import DeploymentsApi

__all__ = [
    "EMULATOR_POLL_SECONDS",
    "FAILED_APP_STATES",
    "LOG_LINES",
    "POLL_CAP_SECONDS",
    "POLL_ENV",
    "POLL_SECONDS",
    "AppResult",
    "Rollout",
    "normalize_revision",
    "poll_base",
]

POLL_SECONDS = 2.0
POLL_CAP_SECONDS = 15.0
EMULATOR_POLL_SECONDS = 0.05
POLL_ENV = "MIGET_DEPLOY_POLL_SECONDS"
LOG_LINES = 20
ACTIVE = frozenset({"pending", "running", "cancelling"})
FAILED_APP_STATES = frozenset(
    {"failed", "failing", "lost", "crashloopbackoff", "problem", "stopped", "blocked"}
)
_KEYS = ("image_url", "tag", "credential_id", "command", "args")


def poll_base(api_url: str) -> float:
    """The first poll interval (the module docstring says how it is chosen)."""
    raw = os.environ.get(POLL_ENV)
    if raw:
        try:
            value = float(raw)
        except ValueError:
            value = 0.0
        if value > 0:
            return value
    host = urlsplit(api_url).hostname or ""
    return EMULATOR_POLL_SECONDS if is_loopback(host) else POLL_SECONDS


def _delays(base: float) -> Iterator[float]:
    cap, delay = base * POLL_CAP_SECONDS / POLL_SECONDS, base
    while True:
        yield delay
        delay = min(delay * 1.5, cap)


def normalize_revision(item: Mapping[str, Any]) -> dict[str, Any]:
    """A revision in one comparable form: lower-case UUIDs, ``latest`` for no tag, None for
    empty values, lists as lists."""
    out: dict[str, Any] = {"app_id": str(item.get("app_id") or "").lower()}
    for key in _KEYS:
        value = item.get(key) or None
        if isinstance(value, (list, tuple)):
            value = list(value)
        out[key] = value
    out["tag"] = out["tag"] or DEFAULT_TAG
    if isinstance(out["credential_id"], str):
        out["credential_id"] = out["credential_id"].lower()
    return out


def _shipped(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in normalize_revision(item).items() if k != "app_id"}


class _Timeout(Exception):
    def __init__(self, state: str, deployment: str | None) -> None:
        self.state, self.deployment = state, deployment


@dataclass
class AppResult:
    """How one app's deploy ended."""

    app_id: str
    deployment_id: str | None = None
    status: str | None = None
    app_state: str | None = None
    image: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    problem: str | None = None
    notes: list[str] = field(default_factory=list)

    def output(self) -> dict[str, Any]:
        keys = ("deployment_id", "status", "app_state", "image", "started_at", "finished_at")
        return {key: getattr(self, key) for key in keys}

    def record(self, deployment: Mapping[str, Any]) -> None:
        self.deployment_id, self.status = deployment["uuid"], deployment["state"]
        self.image = f"{deployment.get('image_url')}:{deployment.get('tag')}"
        self.started_at = deployment.get("created_at")
        settled = deployment["state"] not in ACTIVE
        self.finished_at = (
            (deployment.get("logs_stored_at") or deployment.get("updated_at")) if settled else None
        )


class Rollout:
    """Deploys revisions in one workspace (see the module docstring)."""

    def __init__(
        self,
        apps: AppsApi,
        deployments: DeploymentsApi,
        workspace: str,
        *,
        wait: bool = True,
        timeout: float = 900.0,
        rollback: bool = False,
        poll: float = POLL_SECONDS,
        secrets: Sequence[str] = (),
    ) -> None:
        self.apps, self.deployments, self.workspace = apps, deployments, workspace
        self.wait, self.timeout, self.rollback, self.poll = wait, timeout, rollback, poll
        self.secrets = list(secrets)

    def run(self, revisions: Sequence[Mapping[str, Any]]) -> list[AppResult]:
        """Deploy every revision at once; one result per revision, in order."""
        if not revisions:
            return []
        with ThreadPoolExecutor(max_workers=len(revisions)) as pool:
            return list(pool.map(self.one, [normalize_revision(r) for r in revisions]))

    # ---- one app ------------------------------------------------------------------------------
    def one(self, revision: dict[str, Any]) -> AppResult:
        uuid = revision["app_id"]
        result = AppResult(uuid)
        deadline = time.monotonic() + self.timeout
        label = f"app {uuid}"
        try:
            entity = self.apps.get(uuid, self.workspace, f"read {label}")
            if entity is None:
                result.problem = f"{label}: not found in workspace {self.workspace}"
                return result
            label = f"app {entity.get('app_name') or entity.get('name')!r} ({uuid})"
            deployment = self._ship(uuid, entity, revision, label, deadline)
            result.record(deployment)
            result.app_state = entity.get("state")
            if not self.wait:
                return result
            self._finish(result, uuid, deployment, label, deadline)
        except _Timeout as exc:
            result.status = result.status or exc.state
            result.problem = (
                f"{label}: still {exc.state} after {self.timeout:g} s (deployment "
                f"{exc.deployment or result.deployment_id}); it was left running"
            )
        except MigetError as exc:
            result.problem = f"{label}: {exc}"
        return result

    def _finish(
        self, result: AppResult, uuid: str, deployment: dict[str, Any], label: str, deadline: float
    ) -> None:
        deployment = self._settle(uuid, deployment, label, deadline)
        result.record(deployment)
        if deployment["state"] == "completed":
            result.app_state = self._app_settled(uuid, label, deadline, deployment["uuid"])
            if result.app_state == "running":
                return
        else:
            result.app_state = self._app_state(uuid, label)
        result.status = "failed"
        tail = self._log_tail(uuid, deployment["uuid"], label)
        result.problem = (
            f"{label}: deployment {deployment['uuid']} of {result.image} ended "
            f"{deployment['state']}, app state {result.app_state}"
            + (f"; last log lines:\n{tail}" if tail else "; no logs available")
        )
        if self.rollback:
            result.notes.append(self._roll_back(uuid, deployment["uuid"], label, deadline))

    def _ship(
        self,
        uuid: str,
        entity: Mapping[str, Any],
        revision: dict[str, Any],
        label: str,
        deadline: float,
    ) -> dict[str, Any]:
        """Config PUT when needed, then a deploy (or the active one of the same revision)."""
        want = {k: v for k, v in revision.items() if k != "app_id"}
        body = self.apps.deployment_body(_shipped(entity), want)
        if body:
            self.apps.put_part(
                uuid, "deployment", body, self.workspace, f"configure {label}", self.secrets
            )
        while True:
            try:
                return self.deployments.deploy(uuid, self.workspace, f"deploy {label}")
            except ApiError as exc:
                if exc.status != 409:
                    raise
            listed = self.deployments.list_for(uuid, self.workspace, f"list deployments of {label}")
            active = next((d for d in listed if d["state"] in ACTIVE), None)
            if active is not None and _shipped(active) == want:
                return active  # attach: it ships what we want already
            if active is not None:
                self._settle(uuid, active, label, deadline)
            elif time.monotonic() >= deadline:
                raise _Timeout("waiting to deploy", None)
            else:
                time.sleep(self.poll)

    def _settle(
        self, uuid: str, deployment: dict[str, Any], label: str, deadline: float
    ) -> dict[str, Any]:
        delays = _delays(self.poll)
        while deployment["state"] in ACTIVE:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Timeout(deployment["state"], deployment["uuid"])
            time.sleep(min(next(delays), left))
            deployment = self.deployments.show(
                uuid, deployment["uuid"], self.workspace, f"read deployment of {label}"
            )
        return deployment

    def _app_state(self, uuid: str, label: str) -> str | None:
        entity = self.apps.get(uuid, self.workspace, f"read {label}")
        return None if entity is None else entity.get("state")

    def _app_settled(self, uuid: str, label: str, deadline: float, deployment: str) -> str:
        delays = _delays(self.poll)
        while True:
            state = self._app_state(uuid, label) or "gone"
            if state == "running" or state in FAILED_APP_STATES or state == "gone":
                return state
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Timeout(state, deployment)
            time.sleep(min(next(delays), left))

    def _log_tail(self, uuid: str, deployment: str, label: str) -> str:
        text = self.deployments.logs(
            uuid,
            deployment,
            self.workspace,
            f"read logs of {label}",
            secrets=self.secrets,
            pause=self.poll,
        )
        if not text:
            return ""
        return "\n".join(f"    {line}" for line in text.splitlines()[-LOG_LINES:])

    def _roll_back(self, uuid: str, failed: str, label: str, deadline: float) -> str:
        """Put back the previous completed deployment's revision and deploy it."""
        listed = self.deployments.list_for(uuid, self.workspace, f"list deployments of {label}")
        previous = next(
            (d for d in listed if d["state"] == "completed" and d["uuid"] != failed), None
        )
        if previous is None:
            return f"{label}: not rolled back: no earlier completed deployment"
        entity = self.apps.get(uuid, self.workspace, f"read {label}") or {}
        image = f"{previous.get('image_url')}:{previous.get('tag')}"
        try:
            deployment = self._ship(
                uuid, entity, {"app_id": uuid, **_shipped(previous)}, label, deadline
            )
            deployment = self._settle(uuid, deployment, label, deadline)
        except (_Timeout, MigetError) as exc:
            return f"{label}: rollback to {image} did not finish: {exc}"
        return (
            f"{label}: rolled back to {image} (deployment {deployment['uuid']} "
            f"{deployment['state']}); the app's config is {image} again"
        )
