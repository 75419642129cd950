"""The emulator's deployment endpoints: Miget's ``POST /apps/{uuid}/deploy`` and
``/apps/{uuid}/deployments`` (miget-api.md §8.1). Same conventions as the app endpoints
(``routes/apps.py``): authentication and workspace first (``auth.py``), the app looked up in the
request's workspace, ``{"error": ...}`` bodies, the redacted request log, faults. States, the
timeline, the entity and the app's ``state`` are in ``deployments.py``; how the next deployments
behave is set with the control API (``deploy_settings.py``). Behaviour the docs do not state is
marked **[INF]**.

Routes (``/api/v1``):

- ``POST /apps/{uuid}/deploy``  201 [INF status], the new deployment [INF: the docs leave the
  body undocumented], ``pending`` [INF]. Optional JSON body [DOC]: ``custom_tag`` (the image tag
  this deployment ships instead of the config's; the config keeps its own [INF]),
  ``commit_sha`` and ``branch`` (accepted and ignored: not a git method [DOC: "other deployment
  methods do not check the SHA"]). No body at all needs no ``Content-Type`` [INF].
  **409** ``A deployment is already in progress`` [DOC status, INF message] while one is
  ``pending``, ``running`` or ``cancelling`` [INF: all three are in progress].
- ``GET /apps/{uuid}/deployments``  200, bare array, newest first [INF]; filters [DOC]
  ``status`` (the six states) and ``period`` (``7days``, ``30days``, ``90days``, ``all``; by
  ``created_at``; default ``all`` [INF]); another value answers 400 ``status does not have a
  valid value`` [INF, Grape's wording].
- ``GET /apps/{uuid}/deployments/{id}``  200, the deployment (``{id}`` = its UUID [DOC]).
- ``GET /apps/{uuid}/deployments/{id}/logs``  200 ``text/plain`` once the deployment has settled
  (``logs_stored_at`` is then non-null) [DOC]; 404 ``{"error": "Logs are not available yet"}``
  while it is active [DOC message, INF shape]. Logs never age out of the emulator, so it never
  answers ``Logs not found in storage`` [INF].
- ``POST /apps/{uuid}/deployments/{id}/cancel``  200, the deployment, now ``cancelling`` [INF];
  only a ``running`` one [DOC]: any other state answers 422 ``Only a running deployment can be
  cancelled`` [INF status and message] (``pending`` included, as the docs say "running").
- ``POST /apps/{uuid}/deployments/{id}/rollback``  201, a new deployment of the target's
  revision (image, tag, credential, command, args), with ``rollback_of`` = the target [INF];
  the app's deployment config does not change [INF]. The target must be rollbackable [DOC],
  else 422 [INF status, messages]: ``Deployment has no image to roll back to``, ``Deployment used
  another deployment method``, ``Deployment is still running`` (pending, running, cancelling),
  ``A failed deployment cannot be rolled back``. Then the app must be deployable [DOC]: 409 as
  for a deploy while another one is active [INF]. (The ``apps:deploy`` permission [DOC] is not
  modelled: every key may deploy.)

Checks, in order: 400 ``uuid is invalid`` / ``id is invalid`` for the path ids [INF]; the body
(``http.py``) and its 400 parameter errors (``custom_tag is invalid``, ``custom_tag is empty``,
``commit_sha is invalid``, ``branch is invalid``); 404 ``App not found``; 404 ``Deployment not
found`` (unknown, or another app's) [INF]; then the route's own rules above.
``GET .../stream_logs`` (SSE) is not served (404).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from flask import Flask, Response, g, jsonify, request

from pulumi_miget.emulator.app_checks import app_uuid, find_app
from pulumi_miget.emulator.auth import miget_api
from pulumi_miget.emulator.deployments import (
    ACTIVE_STATES,
    DAY_MS,
    PERIOD_DAYS,
    STATES,
    DeploymentActive,
    deployment_entity,
    deployments_of,
    logs_text,
    shipped_revision,
    start_deployment,
    state_of,
)
from pulumi_miget.emulator.http import ErrorAnswer, current_emulator, json_object
from pulumi_miget.emulator.records import AppRecord, DeploymentRecord
from pulumi_miget.emulator.store import Store
from pulumi_miget.rules.common import is_uuid

__all__ = ["register"]

IN_PROGRESS = "A deployment is already in progress"
DEPLOYMENT_NOT_FOUND = "Deployment not found"
LOGS_NOT_READY = "Logs are not available yet"
ONLY_RUNNING = "Only a running deployment can be cancelled"
NO_IMAGE = "Deployment has no image to roll back to"
OTHER_METHOD = "Deployment used another deployment method"
STILL_RUNNING = "Deployment is still running"
FAILED = "A failed deployment cannot be rolled back"


def register(app: Flask) -> None:
    """Add the deployment routes to ``app``, under ``/api/v1`` and authenticated (``auth.py``)."""
    api = miget_api("miget_deployments")
    api.post("/apps/<app_id>/deploy")(deploy_application)
    api.get("/apps/<app_id>/deployments")(list_deployments)
    api.get("/apps/<app_id>/deployments/<deployment_id>")(show_deployment)
    api.get("/apps/<app_id>/deployments/<deployment_id>/logs")(deployment_logs)
    api.post("/apps/<app_id>/deployments/<deployment_id>/cancel")(cancel_deployment)
    api.post("/apps/<app_id>/deployments/<deployment_id>/rollback")(rollback_deployment)
    app.register_blueprint(api)


# --- views --------------------------------------------------------------------------------


def deploy_application(app_id: str) -> tuple[Response, int]:
    aid = app_uuid(app_id)
    custom_tag = _deploy_params(json_object(require_json_type=True, body_optional=True))
    store = _store()
    with store.transaction():
        record = find_app(store, g.workspace, aid)
        revision = shipped_revision(record)
        if custom_tag is not None:
            revision["tag"] = custom_tag
        deployment = _start(store, record, revision=revision)
    return jsonify(deployment_entity(deployment, deployment.created_ms)), 201


def list_deployments(app_id: str) -> Response:
    aid = app_uuid(app_id)
    status, period = request.args.get("status"), request.args.get("period", "all")
    problems = []
    if status is not None and status not in STATES:
        problems.append("status does not have a valid value")
    if period not in PERIOD_DAYS:
        problems.append("period does not have a valid value")
    if problems:
        raise ErrorAnswer(400, ", ".join(problems))
    store = _store()
    record = find_app(store, g.workspace, aid)
    now = store.clock_ms()
    days = PERIOD_DAYS[period]
    since = now - days * DAY_MS if days is not None else None
    entities = [
        deployment_entity(deployment, now)
        for deployment in reversed(deployments_of(store, record))
        if since is None or deployment.created_ms >= since
    ]
    return jsonify([e for e in entities if status is None or e["state"] == status])


def show_deployment(app_id: str, deployment_id: str) -> Response:
    store = _store()
    _, deployment = _find(store, app_id, deployment_id)
    return jsonify(deployment_entity(deployment, store.clock_ms()))


def deployment_logs(app_id: str, deployment_id: str) -> Response:
    store = _store()
    _, deployment = _find(store, app_id, deployment_id)
    now = store.clock_ms()
    if state_of(deployment, now) in ACTIVE_STATES:
        raise ErrorAnswer(404, LOGS_NOT_READY)
    return Response(logs_text(deployment, now), mimetype="text/plain")


def cancel_deployment(app_id: str, deployment_id: str) -> Response:
    store = _store()
    with store.transaction():
        _, deployment = _find(store, app_id, deployment_id)
        now = store.clock_ms()
        if state_of(deployment, now) != "running":
            raise ErrorAnswer(422, ONLY_RUNNING)
        cancelled = replace(deployment, cancelled_ms=now, updated_ms=store.now_ms())
        store.deployments.replace(cancelled)
    return jsonify(deployment_entity(cancelled, now))


def rollback_deployment(app_id: str, deployment_id: str) -> tuple[Response, int]:
    store = _store()
    with store.transaction():
        record, target = _find(store, app_id, deployment_id)
        problem = _rollback_problem(record, target, store.clock_ms())
        if problem:
            raise ErrorAnswer(422, problem)
        deployment = _start(store, record, revision=target.revision, rollback_of=target.uuid)
    return jsonify(deployment_entity(deployment, deployment.created_ms)), 201


# --- helpers ------------------------------------------------------------------------------


def _store() -> Store:
    return current_emulator().store


def _deploy_params(body: Mapping[str, Any]) -> str | None:
    """The deploy body's ``custom_tag`` (None when not sent), after its 400 checks."""
    problems = []
    custom_tag = body.get("custom_tag")
    if custom_tag is not None and not isinstance(custom_tag, str):
        problems.append("custom_tag is invalid")
    elif custom_tag == "":
        problems.append("custom_tag is empty")
    for key in ("commit_sha", "branch"):
        if body.get(key) is not None and not isinstance(body[key], str):
            problems.append(f"{key} is invalid")
    if problems:
        raise ErrorAnswer(400, ", ".join(problems))
    return custom_tag


def _start(
    store: Store,
    record: AppRecord,
    *,
    revision: Mapping[str, Any],
    rollback_of: str | None = None,
) -> DeploymentRecord:
    settings = current_emulator().deploys.for_app(record.uuid)
    try:
        return start_deployment(store, settings, record, revision=revision, rollback_of=rollback_of)
    except DeploymentActive:
        raise ErrorAnswer(409, IN_PROGRESS) from None


def _find(store: Store, app_id: str, deployment_id: str) -> tuple[AppRecord, DeploymentRecord]:
    """The app and its deployment named by the path; the 400/404 answers otherwise."""
    aid = app_uuid(app_id)
    if not is_uuid(deployment_id):
        raise ErrorAnswer(400, "id is invalid")
    record = find_app(store, g.workspace, aid)
    deployment = store.deployments.get(g.workspace, str(uuid.UUID(deployment_id)))
    if deployment is None or deployment.app_uuid != record.uuid:
        raise ErrorAnswer(404, DEPLOYMENT_NOT_FOUND)
    return record, deployment


def _rollback_problem(record: AppRecord, target: DeploymentRecord, now_ms: int) -> str | None:
    """Why ``target`` is not rollbackable [DOC rules, INF messages], or None."""
    if not target.revision.get("image_url"):
        return NO_IMAGE
    if target.deployment_method != record.deployment_method:
        return OTHER_METHOD
    state = state_of(target, now_ms)
    if state in ACTIVE_STATES:
        return STILL_RUNNING
    if state == "failed":
        return FAILED
    return None
