"""Deployments on the emulator's clock, without Flask: their states, their entity and logs, the
app ``state`` they imply, and starting one. The routes are in ``routes/deployments.py``; how the
next deployments behave is in ``deploy_settings.py``.

Time [INF]: no background work. A deployment stores when it started (``created_ms``, from the
store's strictly increasing clock) and the durations its settings gave it; every read computes
its state from the store's clock (``Store.clock_ms``), so a test with short durations sees the
same sequence every time, and a ``--db`` file keeps the sequence across a restart.

States [DOC: pending, running, completed, failed, cancelling, cancelled; running = still
building or rolling out, completed = the final success]. The emulator's timeline [INF]:

    pending  (the first quarter of the duration, at most 0.1 s)
    running  (until duration_s after the deploy)
    completed | failed   (the outcome set when it started)

and, after a cancel, ``cancelling`` for ``cancel_s``, then ``cancelled`` whatever the outcome
would have been [INF]. ``pending``, ``running`` and ``cancelling`` are *active*: an app has at
most one active deployment (409 otherwise [DOC for deploy]).

The app's ``state`` follows its deployments [DOC: pending → running after a deploy]: ``created``
before any [INF]; ``pending`` while the first one runs; ``running`` once one completed, also
while a later one runs and after a later one fails or is cancelled (the previous version keeps
running [INF]); ``failed`` after a failure with no previous successful version [INF]; a
cancelled deployment changes nothing [INF].

Automatic deploys [INF: "Miget may deploy by itself"]: with ``auto_deploy`` on, creating an app
or changing what its config ships starts a deployment; one still active is then superseded:
``cancelled`` at once, so the new config is what ends up running.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from pulumi_miget.emulator.deploy_settings import DeployPlan, DeploySettings
from pulumi_miget.emulator.records import (
    REVISION_FIELDS,
    AppRecord,
    DeploymentRecord,
    format_timestamp,
)
from pulumi_miget.emulator.store import Store

__all__ = [
    "ACTIVE_STATES",
    "DAY_MS",
    "PERIOD_DAYS",
    "STATES",
    "DeploymentActive",
    "app_entity",
    "app_state",
    "deployment_entity",
    "deployments_of",
    "ended_ms",
    "logs_text",
    "maybe_auto_deploy",
    "shipped_revision",
    "start_deployment",
    "state_of",
]

STATES = ("pending", "running", "completed", "failed", "cancelling", "cancelled")
ACTIVE_STATES = frozenset({"pending", "running", "cancelling"})
PERIOD_DAYS: Mapping[str, int | None] = {"7days": 7, "30days": 30, "90days": 90, "all": None}
MAX_PENDING_MS = 100
DAY_MS = 86_400_000


class DeploymentActive(Exception):
    """The app has an active deployment already (its uuid is the argument)."""


# --- one deployment -------------------------------------------------------------------------


def state_of(deployment: DeploymentRecord, now_ms: int) -> str:
    """The deployment's state at ``now_ms`` (the module docstring's timeline)."""
    if deployment.cancelled_ms is not None:
        ends = deployment.cancelled_ms + deployment.cancel_ms
        return "cancelling" if now_ms < ends else "cancelled"
    elapsed = now_ms - deployment.created_ms
    if elapsed < deployment.pending_ms:
        return "pending"
    if elapsed < deployment.duration_ms:
        return "running"
    return deployment.outcome


def ended_ms(deployment: DeploymentRecord) -> int:
    """When the deployment settles (or settled): the moment its logs are stored."""
    if deployment.cancelled_ms is not None:
        return deployment.cancelled_ms + deployment.cancel_ms
    return deployment.created_ms + deployment.duration_ms


def _updated_ms(deployment: DeploymentRecord, now_ms: int) -> int:
    """The last change of state (or of the row) at or before ``now_ms``."""
    moments = [deployment.updated_ms, ended_ms(deployment)]
    started = deployment.created_ms + deployment.pending_ms
    if deployment.cancelled_ms is None or started <= deployment.cancelled_ms:
        moments.append(started)  # it did leave pending (a superseded one may not have)
    return max([deployment.created_ms, *(m for m in moments if m <= now_ms)])


def deployment_entity(deployment: DeploymentRecord, now_ms: int) -> dict[str, Any]:
    """The API entity at ``now_ms``.

    [DOC] ``id`` (the deployment UUID, as in the path and in webhooks), ``state`` (the detail's
    name for it) and ``status`` (the list filter's and webhooks' name) — both, same value [INF];
    ``commit_sha``, ``commit_message``, ``branch`` (null: not a git method); ``logs_stored_at``
    (null until the logs are stored); no failure reason. [INF] ``app_id`` (as in webhooks),
    ``deployment_method``, the revision it ships (``image_url``, ``tag``, ``credential_id``,
    ``command``, ``args``), ``rollback_of`` (the deployment a rollback redeploys, else null),
    ``created_at``, ``updated_at`` (the last change of state).
    """
    state = state_of(deployment, now_ms)
    ended = ended_ms(deployment)
    entity: dict[str, Any] = {
        "id": deployment.uuid,
        "app_id": deployment.app_uuid,
        "state": state,
        "status": state,
        "deployment_method": deployment.deployment_method,
    }
    entity.update({key: deployment.revision.get(key) for key in REVISION_FIELDS})
    entity.update(
        {
            "rollback_of": deployment.rollback_of,
            "commit_sha": None,
            "commit_message": None,
            "branch": None,
            "logs_stored_at": format_timestamp(ended) if now_ms >= ended else None,
            "created_at": format_timestamp(deployment.created_ms),
            "updated_at": format_timestamp(_updated_ms(deployment, now_ms)),
        }
    )
    return entity


def logs_text(deployment: DeploymentRecord, now_ms: int) -> str:
    """The stored logs of a settled deployment [INF content]: one blob, as Miget's [DOC]:

    ``-----> Deploying IMAGE:TAG`` (and ``-----> Rolling back to deployment ID``), the settings'
    ``log`` text, ``-----> Release`` unless it was cancelled, then a last line: the settings'
    ``message``, else ``Deployment completed`` / ``Deployment failed`` / ``Deployment
    cancelled``. The message of a cancelled deployment is always the last of these.
    """
    revision = deployment.revision
    lines = [f"-----> Deploying {revision.get('image_url')}:{revision.get('tag')}"]
    if deployment.rollback_of:
        lines.append(f"-----> Rolling back to deployment {deployment.rollback_of}")
    if deployment.log:
        lines.append(deployment.log.rstrip("\n"))
    state = state_of(deployment, now_ms)
    if state == "cancelled":
        lines.append("Deployment cancelled")
    else:
        lines.append("-----> Release")
        lines.append(deployment.message or f"Deployment {state}")
    return "\n".join(lines) + "\n"


# --- an app's deployments ---------------------------------------------------------------------


def deployments_of(store: Store, app: AppRecord) -> list[DeploymentRecord]:
    """The app's deployments, oldest first."""
    return store.deployments.where(app.workspace_id, "app_uuid", app.uuid)


def app_state(base: str, deployments: Sequence[DeploymentRecord], now_ms: int) -> str:
    """The app's ``state`` implied by its deployments (oldest first); ``base`` (the stored
    state, ``created``) when nothing has been deployed yet. The module docstring has the rules."""
    settled, live, active = base, False, False
    for deployment in deployments:
        state = state_of(deployment, now_ms)
        active = state in ACTIVE_STATES
        if state == "completed":
            settled, live = "running", True
        elif state == "failed":
            settled = "running" if live else "failed"
    if active:
        return "running" if live else "pending"
    return settled


def app_entity(store: Store, app: AppRecord) -> dict[str, Any]:
    """The app's API entity, its ``state`` following its deployments now."""
    state = app_state(app.state, deployments_of(store, app), store.clock_ms())
    return replace(app, state=state).to_api()


def shipped_revision(app: AppRecord) -> dict[str, Any]:
    """What a deployment of the app started now ships: its deployment config's fields."""
    return {key: app.deployment_config.get(key) for key in REVISION_FIELDS}


def _stopped(deployment: DeploymentRecord, now_ms: int) -> DeploymentRecord:
    """The deployment superseded at ``now_ms``: cancelled at once."""
    if deployment.cancelled_ms is None:
        return replace(deployment, cancelled_ms=now_ms, cancel_ms=0, updated_ms=now_ms)
    cancel_ms = max(0, now_ms - deployment.cancelled_ms)
    return replace(deployment, cancel_ms=cancel_ms, updated_ms=now_ms)


def start_deployment(
    store: Store,
    settings: DeploySettings,
    app: AppRecord,
    *,
    revision: Mapping[str, Any] | None = None,
    rollback_of: str | None = None,
    supersede: bool = False,
) -> DeploymentRecord:
    """Store a new deployment of ``app`` shipping ``revision`` (default: the app's config now)
    and behaving as ``settings`` say. Call it inside ``store.transaction()``.

    DeploymentActive when the app has an active deployment, unless ``supersede``: that one is
    then cancelled at once.
    """
    clock = store.clock_ms()
    for deployment in deployments_of(store, app):
        if state_of(deployment, clock) in ACTIVE_STATES:
            if not supersede:
                raise DeploymentActive(deployment.uuid)
            store.deployments.replace(_stopped(deployment, clock))
    now = store.now_ms()
    duration_ms = round(settings.duration_s * 1000)
    record = DeploymentRecord(
        uuid=str(uuid.uuid4()),
        workspace_id=app.workspace_id,
        app_uuid=app.uuid,
        deployment_method=app.deployment_method,
        revision=dict(revision if revision is not None else shipped_revision(app)),
        rollback_of=rollback_of,
        outcome=settings.outcome,
        pending_ms=min(duration_ms // 4, MAX_PENDING_MS),
        duration_ms=duration_ms,
        cancel_ms=round(settings.cancel_s * 1000),
        log=settings.log,
        message=settings.message,
        cancelled_ms=None,
        created_ms=now,
        updated_ms=now,
    )
    store.deployments.insert(record)
    return record


def maybe_auto_deploy(store: Store, plan: DeployPlan, app: AppRecord) -> DeploymentRecord | None:
    """Start a deployment of ``app`` by itself if its settings say ``auto_deploy``,
    superseding an active one. Call it inside ``store.transaction()``."""
    settings = plan.for_app(app.uuid)
    if not settings.auto_deploy:
        return None
    return start_deployment(store, settings, app, supersede=True)
