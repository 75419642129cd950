"""The emulator's control API: the ``/_emulator`` blueprint that tests (and people) use to reset
the emulator, read its request log, inject faults, suspend workspaces, add latency and set how
deployments behave. It is not part of Miget's API: no authentication, and its own requests are
never logged.

Control API (``/_emulator``):

- ``POST   /_emulator/reset``               drop credentials, apps, deployments, faults, the log,
  suspensions, latency; restore the start-up deployment settings
- ``GET    /_emulator/requests``            the log: ``[{method, path, status, workspace, fields}]``
- ``DELETE /_emulator/requests``            clear it
- ``POST   /_emulator/faults``              ``{method, path, action, times?, status?,
  retry_after?, delay?}``; actions ``status``, ``delay``, ``drop``, ``lost_response`` (faults.py)
- ``GET    /_emulator/faults``              pending faults; ``DELETE`` clears them
- ``POST   /_emulator/workspaces/{uuid}``   ``{"suspended": true|false}``
- ``POST   /_emulator/latency``             ``{"seconds": 0.05}``: a delay before every API request
  (0 to 3600 seconds [INF])
- ``PUT    /_emulator/deployments``         ``{duration_s?, outcome?, message?, log?, auto_deploy?,
  cancel_s?, app?}``: how the next deployments behave (``deploy_settings.py``); 200
  ``{"app": uuid|null, <the settings now in force for it>}``; 400 ``{"error"}`` for a bad field
- ``GET    /_emulator/deployments``         ``{"default": {...}, "apps": {uuid: {...}}}``

Faults match the request's method and path (no query string; ``fnmatch`` globs allowed) and act
before authentication, like a proxy in front of the API would. Latency applies first. (The
request hooks in ``wsgi.py`` apply both, and keep the log.)

The request log holds method, path (no query string), status (0 when the connection was dropped),
the workspace addressed (null when unknown, e.g. on 401) and ``fields``: the names of the JSON
body's top-level keys, plus ``parent.child`` for the keys of a top-level object (e.g.
``deployment_config_attributes.container_registry_credential_id``), sorted ([] when the body was
never read). Headers and body values are never kept, so neither an API key, a registry token nor
an app variable's value can leak through it.

The control API takes JSON bodies without insisting on the Content-Type (``curl -d`` friendly).
``EmulatorServer`` (``server.py``) offers the same controls as methods, without HTTP.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, jsonify

from pulumi_miget.emulator.deploy_settings import DeploySpecError
from pulumi_miget.emulator.faults import FaultSpecError, parse_fault
from pulumi_miget.emulator.http import ErrorAnswer, current_emulator, json_object

__all__ = ["URL_PREFIX", "register"]

URL_PREFIX = "/_emulator"


def register(app: Flask) -> None:
    """Add the control API's routes to ``app`` (no authentication, never logged)."""
    control = Blueprint("emulator_control", __name__, url_prefix=URL_PREFIX)
    control.post("/reset")(control_reset)
    control.get("/requests")(control_requests)
    control.delete("/requests")(control_clear_requests)
    control.get("/faults")(control_faults)
    control.post("/faults")(control_add_fault)
    control.delete("/faults")(control_clear_faults)
    control.post("/workspaces/<workspace_id>")(control_workspace)
    control.post("/latency")(control_latency)
    control.get("/deployments")(control_deployments)
    control.put("/deployments")(control_set_deployments)
    app.register_blueprint(control)


def _body() -> dict[str, Any]:
    """The control API's own checks judge every field (``NaN`` arrives as a float)."""
    return json_object(require_json_type=False, check_values=False)


def _no_content() -> Response:
    return Response(status=204)


def control_reset() -> Response:
    current_emulator().reset()
    return _no_content()


def control_requests() -> Response:
    return jsonify([entry.to_json() for entry in current_emulator().log.entries()])


def control_clear_requests() -> Response:
    current_emulator().log.clear()
    return _no_content()


def control_faults() -> Response:
    return jsonify([fault.to_json() for fault in current_emulator().faults.pending()])


def control_add_fault() -> tuple[Response, int]:
    try:
        fault = parse_fault(_body())
    except FaultSpecError as error:
        raise ErrorAnswer(400, str(error)) from None
    current_emulator().faults.add(fault)
    return jsonify(fault.to_json()), 201


def control_clear_faults() -> Response:
    current_emulator().faults.clear()
    return _no_content()


def control_workspace(workspace_id: str) -> Response:
    suspended = _body().get("suspended")
    if not isinstance(suspended, bool):
        raise ErrorAnswer(400, "suspended must be true or false")
    try:
        current_emulator().suspend(workspace_id, suspended)
    except KeyError:
        raise ErrorAnswer(404, "Unknown workspace") from None
    except ValueError:
        raise ErrorAnswer(400, "workspace id must be a UUID") from None
    return jsonify({"workspace_id": workspace_id.lower(), "suspended": suspended})


def control_latency() -> Response:
    seconds = _body().get("seconds")
    try:
        current_emulator().set_latency(seconds)
    except ValueError as error:
        raise ErrorAnswer(400, str(error)) from None
    return jsonify({"seconds": current_emulator().latency})


def control_deployments() -> Response:
    return jsonify(current_emulator().deploys.to_json())


def control_set_deployments() -> Response:
    try:
        app_id, settings = current_emulator().deploys.update(_body())
    except DeploySpecError as error:
        raise ErrorAnswer(400, str(error)) from None
    return jsonify({"app": app_id, **settings.to_json()})
