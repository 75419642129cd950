"""The Miget API emulator as a Flask app: the factory, and what every request goes through before
and after its route. The parts:

- ``routes/credentials.py``  Miget's container-registry-credential API (``/api/v1``)
- ``routes/apps.py``         the part of Miget's app API that the ``App`` resource uses
- ``routes/deployments.py``  Miget's deploy and deployment API (``/apps/{uuid}/deploy[ments]``)
- ``routes/control.py``      the emulator's own control API (``/_emulator``)
- ``auth.py``                authentication and workspace resolution of ``/api/v1`` requests
- ``http.py``                the error answer, the current emulator, JSON bodies
- ``state.py``, ``store.py``, ``tenancy.py``, ``faults.py``: what the emulator knows
- ``deployments.py``, ``deploy_settings.py``: deployments on the emulator's clock, and how the
  next ones behave
- ``server.py``              ``EmulatorServer``: the app served on a loopback port

It implements the contract Miget documents (docs.miget.com API reference and Miget's agent-skill
API notes; see the README's "Emulator" section). Behaviour the docs do not state is the
emulator's own choice and is marked **[INF]**.

Every Miget API request (``/api/v1``) first waits out the latency and meets any matching fault
(``routes/control.py``), then is authenticated and resolved to a workspace (``auth.py``). The
routes then check their path ids and read their bodies (``http.json_object``).

Errors are ``{"error": "<message>"}`` (the app endpoints' 422 answers use ``errors``). Unknown
routes answer 404 and wrong methods 405, as JSON [INF]; so do the errors the HTTP server answers
before a request reaches the app, such as 400 for a garbage request line (``server.py``) [INF].
After the route, the request is added to the request log (``routes/control.py`` describes it).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from http import HTTPStatus

from flask import Flask, Response, current_app, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from pulumi_miget.emulator.deploy_settings import DEFAULT_DEPLOY_SECONDS, check_deploy_seconds
from pulumi_miget.emulator.faults import Fault, LogEntry, drop_connection
from pulumi_miget.emulator.http import (
    EXTENSION,
    MAX_BODY_BYTES,
    ErrorAnswer,
    current_emulator,
)
from pulumi_miget.emulator.routes import ROUTES
from pulumi_miget.emulator.routes.control import URL_PREFIX as CONTROL_PREFIX
from pulumi_miget.emulator.state import Emulator
from pulumi_miget.emulator.store import Store
from pulumi_miget.emulator.tenancy import DEFAULT_API_KEY, Tenancy

__all__ = ["create_app"]


class _OrderedJSON(DefaultJSONProvider):
    sort_keys = False  # keep the entity's documented field order


def create_app(
    *,
    api_keys: Sequence[str] | None = None,
    workspaces: Sequence[str] = (),
    db: str = ":memory:",
    deploy_seconds: float = DEFAULT_DEPLOY_SECONDS,
) -> Flask:
    """The emulator as a WSGI app.

    ``api_keys``: ``KEY`` or ``KEY@WORKSPACE_UUID`` (scoped); default ``[DEFAULT_API_KEY]``.
    ``workspaces``: extra workspace UUIDs next to ``DEFAULT_WORKSPACE_ID``.
    ``db``: the SQLite file, or ``:memory:``. The state is ``emulator_of(app)``.
    ``deploy_seconds``: how long a deployment takes unless the control API says otherwise
    (0..86400; ValueError otherwise).
    """
    tenancy = Tenancy(api_keys if api_keys is not None else [DEFAULT_API_KEY], workspaces)
    app = Flask(__name__)
    app.json = _OrderedJSON(app)
    # One byte over the limit, so json_object can tell a chunked body (no Content-Length) of
    # exactly 64 KiB from a longer one: werkzeug silently truncates a chunked body at the limit.
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES + 1
    seconds = check_deploy_seconds(deploy_seconds, "deploy_seconds")  # before opening the db
    app.extensions[EXTENSION] = Emulator(Store(db), tenancy, deploy_seconds=seconds)
    for register in ROUTES:
        register(app)
    app.before_request(_inject_latency_and_faults)
    app.after_request(_finish_and_log)
    app.register_error_handler(ErrorAnswer, _error_answer)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    return app


# --- errors -------------------------------------------------------------------------------


def _error(
    status: int, message: str, headers: Mapping[str, str] | None = None, *, key: str = "error"
) -> Response:
    response = jsonify({key: message})
    response.status_code = status
    response.headers.update(headers or {})
    return response


def _error_answer(error: ErrorAnswer) -> Response:
    return _error(error.status, error.message, key=error.key)


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    message = error.name
    if status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE:
        message = f"Request body is larger than {MAX_BODY_BYTES} bytes"
    # Keep protocol headers such as Allow (405); drop werkzeug's HTML content type.
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    return _error(status, message, headers)


def _unexpected_error(error: Exception) -> Response:
    current_app.logger.error(
        "unhandled error in %s %s", request.method, request.path, exc_info=error
    )
    return _error(500, "Internal Server Error")


# --- latency, faults and the request log ---------------------------------------------------


def _is_control_request() -> bool:
    return request.path == CONTROL_PREFIX or request.path.startswith(f"{CONTROL_PREFIX}/")


def _inject_latency_and_faults() -> Response | None:
    if _is_control_request():
        return None
    emulator = current_emulator()
    if emulator.latency:
        time.sleep(emulator.latency)
    fault = emulator.faults.take(request.method, request.path)
    if fault is None:
        return None
    g.fault = fault
    if fault.delay:
        time.sleep(fault.delay)
    if fault.action == "status":
        return _fault_response(fault)
    if fault.action == "drop":
        drop_connection(request.environ)
        g.dropped = True
        # Never reaches the client (the socket is gone). 444 is nginx's "closed without
        # response", so the access log shows what happened.
        return Response(status=444)
    return None  # "delay" and "lost_response" carry on with the request


def _fault_response(fault: Fault) -> Response:
    assert fault.status is not None  # parse_fault requires it for this action
    try:
        message = HTTPStatus(fault.status).phrase
    except ValueError:
        message = "Injected fault"
    headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
    return _error(fault.status, message, headers)


def _finish_and_log(response: Response) -> Response:
    if _is_control_request():
        return response
    fault: Fault | None = g.get("fault")
    if fault is not None and fault.action == "lost_response":
        # The operation is committed; the client never learns the outcome.
        drop_connection(request.environ)
        g.dropped = True
    status = 0 if g.get("dropped") else response.status_code
    entry = LogEntry(
        method=request.method,
        path=request.path,
        status=status,
        workspace=g.get("workspace"),
        fields=g.get("body_fields", ()),
    )
    current_emulator().log.record(entry)
    return response
