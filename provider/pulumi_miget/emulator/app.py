"""The Miget API emulator: a Flask app serving Miget's container-registry-credential API, and
the part of its app API that the ``App`` resource uses (``apps.py`` documents those routes).

It implements the contract Miget documents (docs.miget.com API reference and Miget's agent-skill
API notes; see the README's "Emulator" section). Behaviour the docs do not state is the
emulator's own choice and is marked **[INF]**.

Miget API (``/api/v1``, ``Authorization: Bearer <key>``, optional ``X-Workspace-Id``):

- ``GET    /container_registry_credentials``         200, bare array ordered by ``created_at`` [INF]
- ``POST   /container_registry_credentials``         201, the entity [INF status]
- ``GET    /container_registry_credentials/{uuid}``  200, the entity
- ``PUT    /container_registry_credentials/{uuid}``  200, partial update; PATCH is an alias [INF]
- ``DELETE /container_registry_credentials/{uuid}``  204, empty body; 422 ``Credential is in use
  by N application(s)`` while apps of the workspace still pull with it [INF]
- ``/apps`` and ``/apps/{uuid}[/deployment|/vars]``  see ``apps.py``

The entity is exactly ``uuid, name, registry, username, registry_hostname, created_at,
updated_at``; the token is never returned. Errors are ``{"error": "<message>"}``.

Checks, in order (the first failure answers):

1. 401 ``Unauthorized`` [INF message]: no ``Bearer`` key, or an unknown one. The scheme is
   case-insensitive, the key exact.
2. No (or an empty) ``X-Workspace-Id`` means the key's default workspace [DOC]. 400 for one that
   is not a UUID [INF]; 403 ``You don't have access to this workspace`` for one the key may not
   use: a scoped key's other workspaces, unknown workspaces [INF]. 403 with Miget's suspension
   message for a suspended workspace, on every request, reads included [DOC].
3. 400 ``uuid is invalid`` for a path id that is not a UUID [INF].
4. 415 for a POST/PUT body that is not ``application/json``; 413 over 64 KiB; 400 for malformed
   JSON or a body that is not a JSON object. An empty body counts as ``{}`` [INF, as Grape].
5. 400 parameter errors, Grape-style and comma-joined [INF]: ``name is missing``, ``name is
   empty`` (null or ""), ``name is invalid`` (wrong JSON type), ``registry does not have a valid
   value``. On PUT every field is optional, but null is refused for name/registry/username/token
   (only ``registry_hostname`` can be cleared with null) [INF]. Unknown fields are ignored.
6. 404 ``Container registry credential not found`` (unknown uuid, or one in another workspace).
7. 422 model errors, comma-joined: ``Name has already been taken`` (exact, case-sensitive, per
   workspace; a PUT does not collide with its own row) and ``Registry hostname can't be blank``
   (``generic``/``aws_ecr``/``azure``, checked on the merged record for a PUT) [INF messages].
8. 422 ``Invalid registry credentials``: the simulated live validation (below) [INF].

Live validation [INF]: unless ``skip_validation`` is true, the simulated registry rejects every
token that starts with ``invalid``. On PUT it runs when the body has a ``token`` or changes the
``username``, ``registry`` or ``registry_hostname``, and judges the effective token (the new one,
or else the stored verdict on the old one).

Other inferred choices: timestamps are ISO 8601 UTC with milliseconds (``…45:00.123Z``),
``created_at == updated_at`` on create, and every successful PUT moves ``updated_at`` forward
(strictly, even within one millisecond). ``registry_hostname`` is stored as given and is ``null``
when omitted. Unknown routes answer 404 and wrong methods 405, as JSON.

Keys and workspaces [INF]: the emulator models one user who belongs to every workspace it knows
(the default one, ``--workspace`` ones, scoped keys' ones). ``KEY`` is that user's token;
``KEY@WORKSPACE_UUID`` is a workspace token, locked to (and defaulting to) that workspace.

Control API (``/_emulator``; not part of Miget's API, no authentication, never logged):

- ``POST   /_emulator/reset``               drop credentials, faults, the log, suspensions, latency
- ``GET    /_emulator/requests``            the log: ``[{method, path, status, workspace, fields}]``
- ``DELETE /_emulator/requests``            clear it
- ``POST   /_emulator/faults``              ``{method, path, action, times?, status?,
  retry_after?, delay?}``; actions ``status``, ``delay``, ``drop``, ``lost_response`` (faults.py)
- ``GET    /_emulator/faults``              pending faults; ``DELETE`` clears them
- ``POST   /_emulator/workspaces/{uuid}``   ``{"suspended": true|false}``
- ``POST   /_emulator/latency``             ``{"seconds": 0.05}``: a delay before every API request

Faults match the request's method and path (no query string; ``fnmatch`` globs allowed) and act
before authentication, like a proxy in front of the API would. Latency applies first.

The request log holds method, path (no query string), status (0 when the connection was dropped),
the workspace addressed (null when unknown, e.g. on 401) and ``fields``: the names of the JSON
body's top-level keys, plus ``parent.child`` for the keys of a top-level object (e.g.
``deployment_config_attributes.container_registry_credential_id``), sorted ([] when the body was
never read). Headers and body values are never kept, so neither an API key, a registry token nor
an app variable's value can leak through it.

Deleting a credential that apps still use [INF; the real behaviour is undocumented]: refused with
422 ``{"error": "Credential is in use by N application(s)"}``. Pulumi deletes an app before the
credential it depends on, so stacks are unaffected; deleting such a credential by hand (or out of
order) fails with that message.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from http import HTTPStatus
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from pulumi_miget.emulator.faults import (
    Fault,
    FaultPlan,
    FaultSpecError,
    LogEntry,
    RequestLog,
    drop_connection,
    is_seconds,
    parse_fault,
)
from pulumi_miget.emulator.store import (
    DEFAULT_API_KEY,
    CredentialRecord,
    DuplicateNameError,
    KeyGrant,
    Store,
    Tenancy,
    hash_token,
    new_record,
    normalise_workspace_id,
)
from pulumi_miget.rules import check_credential, is_uuid

__all__ = ["Emulator", "EmulatorServer", "create_app", "emulator_of"]

MAX_BODY_BYTES = 64 * 1024
API_FIELDS = ("name", "registry", "username", "token", "registry_hostname", "skip_validation")
REQUIRED_FIELDS = ("name", "registry", "username", "token")
REVALIDATING_FIELDS = ("username", "registry", "registry_hostname")

NOT_FOUND = "Container registry credential not found"
UNAUTHORIZED = "Unauthorized"
NO_ACCESS = "You don't have access to this workspace"
SUSPENDED = "Your workspace has been suspended. Please contact support to reactivate it."
INVALID_CREDENTIALS = "Invalid registry credentials"
NAME_TAKEN = "Name has already been taken"
CREDENTIAL_IN_USE = "Credential is in use by {count} application(s)"
# Rails full messages for the 422 rules of rules.py, keyed by property.
MODEL_MESSAGES = {"registry_hostname": "Registry hostname can't be blank"}

_EXTENSION = "miget_emulator"


class ApiError(Exception):
    """An error answer: ``{key: message}`` with ``status``. ``key`` is ``error``, or ``errors``
    for the app endpoints' 422 validation answers (Miget documents both shapes)."""

    def __init__(self, status: int, message: str, *, key: str = "error") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.key = key


class Emulator:
    """Everything one emulator instance knows: credentials, tenancy, faults, log, latency."""

    def __init__(self, store: Store, tenancy: Tenancy) -> None:
        self.store = store
        self.tenancy = tenancy
        self.faults = FaultPlan()
        self.log = RequestLog()
        self.latency = 0.0  # seconds; a float assignment is atomic, so no lock

    def reset(self) -> None:
        self.store.clear()  # credentials and apps
        self.faults.clear()
        self.log.clear()
        self.tenancy.clear_suspensions()
        self.latency = 0.0

    def suspend(self, workspace_id: str, suspended: bool = True) -> None:
        """ValueError for a non-UUID, KeyError for a workspace the emulator does not know."""
        workspace = normalise_workspace_id(workspace_id)
        if workspace not in self.tenancy.workspaces:
            raise KeyError(workspace)
        self.tenancy.set_suspended(workspace, suspended)

    def set_latency(self, seconds: object) -> None:
        if not is_seconds(seconds):
            raise ValueError("seconds must be a non-negative number")
        self.latency = float(seconds)


def emulator_of(app: Flask) -> Emulator:
    emulator: Emulator = app.extensions[_EXTENSION]
    return emulator


def _emulator() -> Emulator:
    return emulator_of(current_app)


class _OrderedJSON(DefaultJSONProvider):
    sort_keys = False  # keep the entity's documented field order


def create_app(
    *,
    api_keys: Sequence[str] | None = None,
    workspaces: Sequence[str] = (),
    db: str = ":memory:",
) -> Flask:
    """The emulator as a WSGI app.

    ``api_keys``: ``KEY`` or ``KEY@WORKSPACE_UUID`` (scoped); default ``[DEFAULT_API_KEY]``.
    ``workspaces``: extra workspace UUIDs next to ``DEFAULT_WORKSPACE_ID``.
    ``db``: the SQLite file, or ``:memory:``. The state is ``emulator_of(app)``.
    """
    tenancy = Tenancy(api_keys if api_keys is not None else [DEFAULT_API_KEY], workspaces)
    app = Flask(__name__)
    app.json = _OrderedJSON(app)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions[_EXTENSION] = Emulator(Store(db), tenancy)
    app.register_blueprint(_api_blueprint())
    app.register_blueprint(_control_blueprint())
    app.before_request(_inject_latency_and_faults)
    app.after_request(_finish_and_log)
    app.register_error_handler(ApiError, _api_error)
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


def _api_error(error: ApiError) -> Response:
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
    return request.path == "/_emulator" or request.path.startswith("/_emulator/")


def _inject_latency_and_faults() -> Response | None:
    if _is_control_request():
        return None
    emulator = _emulator()
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
    _emulator().log.record(entry)
    return response


# --- authentication and workspace resolution ------------------------------------------------


def _authorise() -> None:
    """Checks 1-2 of the module docstring; leaves the workspace in ``g.workspace``."""
    tenancy = _emulator().tenancy
    grant = _grant(tenancy)
    workspace = _requested_workspace(grant)
    g.workspace = workspace  # logged even when refused below
    if not tenancy.may_use(grant, workspace):
        raise ApiError(403, NO_ACCESS)
    if tenancy.is_suspended(workspace):
        raise ApiError(403, SUSPENDED)


def _grant(tenancy: Tenancy) -> KeyGrant:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    # [INF] The scheme is case-insensitive (RFC 9110 §11.1); the key is exact.
    grant = tenancy.grant(key.strip()) if scheme.lower() == "bearer" else None
    if grant is None:
        raise ApiError(401, UNAUTHORIZED)
    return grant


def _requested_workspace(grant: KeyGrant) -> str:
    raw = request.headers.get("X-Workspace-Id", "").strip()
    if not raw:
        return grant.default_workspace
    try:
        return normalise_workspace_id(raw)
    except ValueError:
        raise ApiError(400, "X-Workspace-Id must be a workspace UUID") from None


# --- request bodies and parameters ----------------------------------------------------------


def _json_object(*, require_json_type: bool) -> dict[str, Any]:
    """The request body as a JSON object; ApiError 415/400 (413 comes from werkzeug)."""
    if require_json_type and not request.is_json:
        raise ApiError(415, "Content-Type must be application/json")
    data = request.get_data(cache=False)  # raises 413 past MAX_CONTENT_LENGTH
    if not data.strip():
        return {}
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise ApiError(400, "Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object")
    g.body_fields = _field_names(body)  # names only, for the request log
    return body


def _field_names(body: Mapping[str, Any]) -> tuple[str, ...]:
    """The body's top-level keys, plus ``key.child`` for each key of a top-level object."""
    names = set(body)
    for key, value in body.items():
        if isinstance(value, Mapping):
            names.update(f"{key}.{child}" for child in value)
    return tuple(sorted(names))


def _params(body: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    """The API's fields from ``body`` (others ignored), after the 400 checks of rules.py."""
    params = {key: body[key] for key in API_FIELDS if key in body}
    problems: dict[str, str] = {}
    for violation in check_credential(params, partial=partial, api_rules_only=True):
        if violation.api_status == 400:
            problems.setdefault(violation.property, _grape_message(violation.property, params))
    if partial:
        for key in REQUIRED_FIELDS:
            if key in params and params[key] is None:
                problems.setdefault(key, f"{key} is empty")
    if problems:
        raise ApiError(400, ", ".join(problems[key] for key in API_FIELDS if key in problems))
    return params


def _grape_message(key: str, params: Mapping[str, Any]) -> str:
    """Grape's wording for a parameter error [INF: Grape's default messages]."""
    if key not in params:
        return f"{key} is missing"
    value = params[key]
    if value is None or value == "":
        return f"{key} is empty"
    if key == "registry" and isinstance(value, str):
        return "registry does not have a valid value"
    return f"{key} is invalid"


def _credential_id(raw: str) -> str:
    if not is_uuid(raw):
        raise ApiError(400, "uuid is invalid")
    return str(uuid.UUID(raw))


def _model_errors(
    workspace: str, fields: Mapping[str, Any], *, except_id: str | None = None
) -> list[str]:
    """The 422 rules on a complete record (a create, or a PUT merged with the stored row)."""
    errors = []
    if _emulator().store.name_taken(workspace, fields["name"], except_id=except_id):
        errors.append(NAME_TAKEN)
    for violation in check_credential(fields, api_rules_only=True):
        if violation.api_status == 422:
            errors.append(MODEL_MESSAGES.get(violation.property, violation.reason))
    return errors


def token_rejected(token: str) -> bool:
    """The simulated registry login [INF]: tokens starting with ``invalid`` are refused."""
    return token.startswith("invalid")


def _skips_validation(params: Mapping[str, Any]) -> bool:
    return params.get("skip_validation") is True


# --- the Miget API --------------------------------------------------------------------------


def _api_blueprint() -> Blueprint:
    api = Blueprint("miget_api", __name__, url_prefix="/api/v1")
    api.before_request(_authorise)
    api.get("/container_registry_credentials")(list_credentials)
    api.post("/container_registry_credentials")(create_credential)
    api.get("/container_registry_credentials/<credential_id>")(show_credential)
    api.route("/container_registry_credentials/<credential_id>", methods=["PUT", "PATCH"])(
        update_credential
    )
    api.delete("/container_registry_credentials/<credential_id>")(delete_credential)
    from pulumi_miget.emulator.apps import register_app_routes  # apps.py imports this module

    register_app_routes(api)
    return api


def list_credentials() -> Response:
    records = _emulator().store.list(g.workspace)
    return jsonify([record.to_api() for record in records])


def create_credential() -> tuple[Response, int]:
    params = _params(_json_object(require_json_type=True), partial=False)
    store = _emulator().store
    with store.transaction():
        errors = _model_errors(g.workspace, params)
        if errors:
            raise ApiError(422, ", ".join(errors))
        rejected = token_rejected(params["token"])
        if rejected and not _skips_validation(params):
            raise ApiError(422, INVALID_CREDENTIALS)
        record = new_record(
            workspace_id=g.workspace,
            name=params["name"],
            registry=params["registry"],
            username=params["username"],
            token=params["token"],
            token_rejected=rejected,
            registry_hostname=params.get("registry_hostname"),
            now_ms=store.now_ms(),
        )
        _save(store, record, insert=True)
    return jsonify(record.to_api()), 201


def show_credential(credential_id: str) -> Response:
    return jsonify(_find(_credential_id(credential_id)).to_api())


def update_credential(credential_id: str) -> Response:
    cid = _credential_id(credential_id)
    params = _params(_json_object(require_json_type=True), partial=True)
    store = _emulator().store
    with store.transaction():
        record = _find(cid)
        merged = _merge(record, params)
        errors = _model_errors(g.workspace, _fields(merged), except_id=cid)
        if errors:
            raise ApiError(422, ", ".join(errors))
        revalidate = _needs_validation(record, params) and not _skips_validation(params)
        if revalidate and merged.token_rejected:
            raise ApiError(422, INVALID_CREDENTIALS)
        merged = replace(merged, updated_ms=store.now_ms())
        _save(store, merged, insert=False)
    return jsonify(merged.to_api())


def delete_credential(credential_id: str) -> Response:
    cid = _credential_id(credential_id)
    store = _emulator().store
    with store.transaction():
        if store.get(g.workspace, cid) is None:
            raise ApiError(404, NOT_FOUND)
        in_use = store.apps_using_credential(g.workspace, cid)
        if in_use:
            raise ApiError(422, CREDENTIAL_IN_USE.format(count=in_use))
        store.delete(g.workspace, cid)
    return Response(status=204)


def _find(credential_id: str) -> CredentialRecord:
    record = _emulator().store.get(g.workspace, credential_id)
    if record is None:
        raise ApiError(404, NOT_FOUND)
    return record


def _merge(record: CredentialRecord, params: Mapping[str, Any]) -> CredentialRecord:
    """PUT semantics: omitted fields stay; null clears registry_hostname; a token rotates."""
    changes = {key: params[key] for key in ("name", "registry", "username") if key in params}
    if "registry_hostname" in params:
        changes["registry_hostname"] = params["registry_hostname"]
    if "token" in params:
        changes["token_sha256"] = hash_token(params["token"])
        changes["token_rejected"] = token_rejected(params["token"])
    return replace(record, **changes)


def _fields(record: CredentialRecord) -> dict[str, Any]:
    return {
        "name": record.name,
        "registry": record.registry,
        "username": record.username,
        "registry_hostname": record.registry_hostname,
    }


def _needs_validation(record: CredentialRecord, params: Mapping[str, Any]) -> bool:
    if "token" in params:
        return True
    return any(key in params and params[key] != getattr(record, key) for key in REVALIDATING_FIELDS)


def _save(store: Store, record: CredentialRecord, *, insert: bool) -> None:
    try:
        if insert:
            store.insert(record)
        else:
            store.replace(record)
    except DuplicateNameError:
        raise ApiError(422, NAME_TAKEN) from None


# --- the control API ------------------------------------------------------------------------


def _control_blueprint() -> Blueprint:
    control = Blueprint("emulator_control", __name__, url_prefix="/_emulator")
    control.post("/reset")(control_reset)
    control.get("/requests")(control_requests)
    control.delete("/requests")(control_clear_requests)
    control.get("/faults")(control_faults)
    control.post("/faults")(control_add_fault)
    control.delete("/faults")(control_clear_faults)
    control.post("/workspaces/<workspace_id>")(control_workspace)
    control.post("/latency")(control_latency)
    return control


def _no_content() -> Response:
    return Response(status=204)


def control_reset() -> Response:
    _emulator().reset()
    return _no_content()


def control_requests() -> Response:
    return jsonify([entry.to_json() for entry in _emulator().log.entries()])


def control_clear_requests() -> Response:
    _emulator().log.clear()
    return _no_content()


def control_faults() -> Response:
    return jsonify([fault.to_json() for fault in _emulator().faults.pending()])


def control_add_fault() -> tuple[Response, int]:
    # The control API takes JSON without insisting on the Content-Type (curl -d friendly).
    try:
        fault = parse_fault(_json_object(require_json_type=False))
    except FaultSpecError as error:
        raise ApiError(400, str(error)) from None
    _emulator().faults.add(fault)
    return jsonify(fault.to_json()), 201


def control_clear_faults() -> Response:
    _emulator().faults.clear()
    return _no_content()


def control_workspace(workspace_id: str) -> Response:
    suspended = _json_object(require_json_type=False).get("suspended")
    if not isinstance(suspended, bool):
        raise ApiError(400, "suspended must be true or false")
    try:
        _emulator().suspend(workspace_id, suspended)
    except KeyError:
        raise ApiError(404, "Unknown workspace") from None
    except ValueError:
        raise ApiError(400, "workspace id must be a UUID") from None
    return jsonify({"workspace_id": workspace_id.lower(), "suspended": suspended})


def control_latency() -> Response:
    seconds = _json_object(require_json_type=False).get("seconds")
    try:
        _emulator().set_latency(seconds)
    except ValueError as error:
        raise ApiError(400, str(error)) from None
    return jsonify({"seconds": _emulator().latency})


# --- serving ------------------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    """No access log: tests run thousands of requests."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class _AccessLogHandler(WSGIRequestHandler):
    """One plain line per request on stderr: no colour codes (werkzeug adds them even when
    stderr is not a terminal) and no query string."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = urlsplit(getattr(self, "path", "") or "").path
        self.log("info", '"%s %s" %s', getattr(self, "command", None) or "-", path, code)


class EmulatorServer:
    """The emulator on a loopback port, served by werkzeug in a daemon thread.

    ``with EmulatorServer() as server:`` serves on a free port; ``server.api_url`` is the base
    URL for clients. The control methods act on the live state directly (no HTTP needed).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_keys: Sequence[str] | None = None,
        workspaces: Sequence[str] = (),
        db: str = ":memory:",
        access_log: bool = False,
    ) -> None:
        self.app = create_app(api_keys=api_keys, workspaces=workspaces, db=db)
        self.emulator = emulator_of(self.app)
        try:
            self._server = _bind(host, port, self.app, access_log=access_log)
        except BaseException:
            self.emulator.store.close()
            raise
        self.host = host
        self.port: int = self._server.port
        display_host = f"[{host}]" if ":" in host else host
        self.url = f"http://{display_host}:{self.port}"
        self.api_url = f"{self.url}/api/v1"
        self._thread = threading.Thread(target=self._serve, name="miget-emulator", daemon=True)
        self._stopped = False

    def _serve(self) -> None:
        # A short poll interval makes stop() take milliseconds instead of up to half a second.
        self._server.serve_forever(poll_interval=0.05)

    def start(self) -> EmulatorServer:
        if not self._thread.is_alive() and not self._stopped:
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the database (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        if self._thread.is_alive():
            self._server.shutdown()  # serve_forever() closes the socket on its way out
            self._thread.join()
        else:
            self._server.server_close()
        self.emulator.store.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # The control API, without HTTP.

    def reset(self) -> None:
        self.emulator.reset()

    def requests_log(self) -> list[dict[str, Any]]:
        return [entry.to_json() for entry in self.emulator.log.entries()]

    def clear_log(self) -> None:
        self.emulator.log.clear()

    def add_fault(
        self,
        method: str,
        path: str,
        action: str,
        times: int = 1,
        status: int | None = None,
        retry_after: float | str | None = None,
        delay: float | None = None,
    ) -> dict[str, Any]:
        spec = {"method": method, "path": path, "action": action, "times": times}
        optional = {"status": status, "retry_after": retry_after, "delay": delay}
        spec.update({key: value for key, value in optional.items() if value is not None})
        fault = parse_fault(spec)
        self.emulator.faults.add(fault)
        return fault.to_json()

    def pending_faults(self) -> list[dict[str, Any]]:
        return [fault.to_json() for fault in self.emulator.faults.pending()]

    def clear_faults(self) -> None:
        self.emulator.faults.clear()

    def suspend(self, workspace_id: str, suspended: bool = True) -> None:
        self.emulator.suspend(workspace_id, suspended)

    def set_latency(self, seconds: float) -> None:
        self.emulator.set_latency(seconds)


def _bind(host: str, port: int, app: Flask, *, access_log: bool) -> BaseWSGIServer:
    """A threaded werkzeug server on a socket we bind ourselves.

    werkzeug's own bind prints to stderr and calls sys.exit(1) when the port is taken; binding
    here turns that into an ordinary OSError the caller can report.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=128)
    try:
        handler = _AccessLogHandler if access_log else _QuietHandler
        return make_server(
            host,
            sock.getsockname()[1],
            app,
            threaded=True,
            request_handler=handler,
            fd=sock.fileno(),
        )
    finally:
        sock.close()  # werkzeug works on its own duplicate of the descriptor
