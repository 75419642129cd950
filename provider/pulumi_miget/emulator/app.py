"""The Miget API emulator as a Flask app: the factory, the emulator's state, and what every
request goes through before and after its route. The routes live in one module per job:

- ``credentials.py``  Miget's container-registry-credential API (``/api/v1``)
- ``apps.py``         the part of Miget's app API that the ``App`` resource uses (``/api/v1``)
- ``control.py``      the emulator's own control API (``/_emulator``)
- ``server.py``       ``EmulatorServer``: the app served on a loopback port

It implements the contract Miget documents (docs.miget.com API reference and Miget's agent-skill
API notes; see the README's "Emulator" section). Behaviour the docs do not state is the
emulator's own choice and is marked **[INF]**.

Every Miget API request (``/api/v1``, ``Authorization: Bearer <key>``, optional
``X-Workspace-Id``) first waits out the latency and meets any matching fault (``control.py``),
then passes these checks (the first failure answers):

1. 401 ``Unauthorized`` [INF message]: no ``Bearer`` key, or an unknown one. The scheme is
   case-insensitive, the key exact.
2. No (or an empty) ``X-Workspace-Id`` means the key's default workspace [DOC]. 400 for one that
   is not a UUID [INF]; 403 ``You don't have access to this workspace`` for one the key may not
   use: a scoped key's other workspaces, unknown workspaces [INF]. 403 with Miget's suspension
   message for a suspended workspace, on every request, reads included [DOC].

The routes then check their path ids, and read their bodies with ``json_object``: 415 for a
POST/PUT body that is not ``application/json``; 413 over 64 KiB, with a ``Content-Length`` or
sent chunked [INF for chunked]; 400 for malformed JSON or a body that is not a JSON object. An
empty body counts as ``{}`` [INF, as Grape]. Values JSON cannot carry faithfully answer 400
``<field> is invalid`` naming each one (Grape-style paths: ``ram_size``,
``deployment_config[tag]``, ``app_vars_attributes[0][value]``; comma-joined), before any field
check and with nothing stored [INF]: a number that is not finite (``NaN``, ``Infinity``,
``-Infinity``, which RFC 8259 §6 does not allow, or one that overflows a double such as
``1e999``), an integer too long for Python to parse, and a string or key with a lone UTF-16
surrogate (JSON ``"\\ud800"``, which no UTF-8 text can hold).

Errors are ``{"error": "<message>"}`` (the app endpoints' 422 answers use ``errors``). Unknown
routes answer 404 and wrong methods 405, as JSON [INF]; so do the errors the HTTP server answers
before a request reaches the app, such as 400 for a garbage request line (``server.py``) [INF].
After the route, the request is added to the request log (``control.py`` describes it).

Keys and workspaces [INF]: the emulator models one user who belongs to every workspace it knows
(the default one, ``--workspace`` ones, scoped keys' ones). ``KEY`` is that user's token;
``KEY@WORKSPACE_UUID`` is a workspace token, locked to (and defaulting to) that workspace.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from pulumi_miget.emulator.faults import (
    MAX_DELAY_SECONDS,
    Fault,
    FaultPlan,
    LogEntry,
    RequestLog,
    drop_connection,
    is_seconds,
)
from pulumi_miget.emulator.store import (
    DEFAULT_API_KEY,
    KeyGrant,
    Store,
    Tenancy,
    normalise_workspace_id,
)

__all__ = ["ApiError", "Emulator", "create_app", "current_emulator", "emulator_of", "json_object"]

MAX_BODY_BYTES = 64 * 1024

UNAUTHORIZED = "Unauthorized"
NO_ACCESS = "You don't have access to this workspace"
SUSPENDED = "Your workspace has been suspended. Please contact support to reactivate it."

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
        if seconds > MAX_DELAY_SECONDS:  # [INF] as a fault's delay
            raise ValueError(f"seconds must be at most {MAX_DELAY_SECONDS}")
        self.latency = float(seconds)


def emulator_of(app: Flask) -> Emulator:
    emulator: Emulator = app.extensions[_EXTENSION]
    return emulator


def current_emulator() -> Emulator:
    """The state of the app handling the current request."""
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
    # The route modules import this one (ApiError and the helpers), so they are imported here.
    from pulumi_miget.emulator.control import control_blueprint

    tenancy = Tenancy(api_keys if api_keys is not None else [DEFAULT_API_KEY], workspaces)
    app = Flask(__name__)
    app.json = _OrderedJSON(app)
    # One byte over the limit, so json_object can tell a chunked body (no Content-Length) of
    # exactly 64 KiB from a longer one: werkzeug silently truncates a chunked body at the limit.
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES + 1
    app.extensions[_EXTENSION] = Emulator(Store(db), tenancy)
    app.register_blueprint(_api_blueprint())
    app.register_blueprint(control_blueprint())
    app.before_request(_inject_latency_and_faults)
    app.after_request(_finish_and_log)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    return app


def _api_blueprint() -> Blueprint:
    """Miget's API: every route authenticated and resolved to a workspace first."""
    # The route modules import this one (ApiError and the helpers), so they are imported here.
    from pulumi_miget.emulator.apps import register_app_routes
    from pulumi_miget.emulator.credentials import register_credential_routes

    api = Blueprint("miget_api", __name__, url_prefix="/api/v1")
    api.before_request(_authorise)
    register_credential_routes(api)
    register_app_routes(api)
    return api


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


# --- authentication and workspace resolution ------------------------------------------------


def _authorise() -> None:
    """Checks 1-2 of the module docstring; leaves the workspace in ``g.workspace``."""
    tenancy = current_emulator().tenancy
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


# --- request bodies -------------------------------------------------------------------------


def json_object(*, require_json_type: bool, check_values: bool = True) -> dict[str, Any]:
    """The request body as a JSON object; ApiError 415/400, RequestEntityTooLarge 413.

    ``check_values`` (the Miget API): 400 ``<field> is invalid`` for each value JSON cannot carry
    faithfully (see the module docstring). The control API turns it off and checks its own
    fields with its own messages (Python's lenient parse: ``NaN`` is a float there).
    """
    if require_json_type and not request.is_json:
        raise ApiError(415, "Content-Type must be application/json")
    # werkzeug raises 413 for a Content-Length past MAX_CONTENT_LENGTH (the limit + 1); a chunked
    # body is cut at MAX_CONTENT_LENGTH instead, so a body longer than the limit is refused here.
    data = request.get_data(cache=False)
    if len(data) > MAX_BODY_BYTES:
        raise RequestEntityTooLarge()
    if not data.strip():
        return {}
    try:
        body = _parse(data) if check_values else json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise ApiError(400, "Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object")
    if check_values:
        problems = [f"{path} is invalid" for path in _unfaithful_values(body)]
        if problems:
            raise ApiError(400, ", ".join(dict.fromkeys(problems)))
    g.body_fields = _field_names(body)  # names only, for the request log
    return body


class _Unfaithful:
    """What ``_parse`` puts where the body holds a number Python cannot use as one."""

    def __repr__(self) -> str:
        return "<not a usable number>"


_UNFAITHFUL = _Unfaithful()


def _finite_float(text: str) -> float | _Unfaithful:
    number = float(text)  # "1e999" parses as inf
    return number if math.isfinite(number) else _UNFAITHFUL


def _any_int(text: str) -> int | _Unfaithful:
    try:
        return int(text)
    except ValueError:  # longer than sys.get_int_max_str_digits() (4300 digits by default)
        return _UNFAITHFUL


def _parse(data: bytes) -> Any:
    """``json.loads`` with ``NaN``/``Infinity``/``-Infinity``, overflowing floats and unparseable
    integers turned into ``_UNFAITHFUL``, so the check can name their field."""
    return json.loads(
        data,
        parse_constant=lambda _: _UNFAITHFUL,
        parse_float=_finite_float,
        parse_int=_any_int,
    )


def _unfaithful_values(body: Mapping[str, Any]) -> Iterator[str]:
    """The Grape-style path of each non-finite number, and of each string (value or key) with a
    lone surrogate, in document order. Iterative: the body may nest as deep as json.loads
    allows, deeper than this request's remaining stack."""
    stack = list(reversed(_children("", body)))
    while stack:
        path, value = stack.pop()
        if value is _UNFAITHFUL or (isinstance(value, str) and not _is_utf8(value)):
            yield path
        elif isinstance(value, Mapping | list):
            stack.extend(reversed(_children(path, value)))


def _children(path: str, value: Mapping[str, Any] | list[Any]) -> list[tuple[str, Any]]:
    """(path, value) of each member. A key with a lone surrogate is itself the problem: its
    path (the key with ``\\udXXX`` escapes) stands for it, with ``_UNFAITHFUL`` as the value."""
    if isinstance(value, list):
        return [(f"{path}[{index}]", item) for index, item in enumerate(value)]
    members = []
    for key, child in value.items():
        broken = not _is_utf8(key)
        name = key.encode("utf-8", "backslashreplace").decode("utf-8") if broken else key
        members.append((f"{path}[{name}]" if path else name, _UNFAITHFUL if broken else child))
    return members


def _is_utf8(text: str) -> bool:
    """False for a string with a lone surrogate (JSON's ``"\\ud800"``): SQLite, hashing and
    logging all need UTF-8, which cannot encode one."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _field_names(body: Mapping[str, Any]) -> tuple[str, ...]:
    """The body's top-level keys, plus ``key.child`` for each key of a top-level object."""
    names = set(body)
    for key, value in body.items():
        if isinstance(value, Mapping):
            names.update(f"{key}.{child}" for child in value)
    return tuple(sorted(names))
