"""The emulator's container registry credential endpoints: Miget's
``/container_registry_credentials`` API. ``auth.py`` authenticates each request and resolves its
workspace first; behaviour the docs do not state is marked **[INF]**.

Miget API (``/api/v1``, ``Authorization: Bearer <key>``, optional ``X-Workspace-Id``):

- ``GET    /container_registry_credentials``         200, bare array ordered by ``created_at`` [INF]
- ``POST   /container_registry_credentials``         201, the entity [INF status]
- ``GET    /container_registry_credentials/{uuid}``  200, the entity
- ``PUT    /container_registry_credentials/{uuid}``  200, partial update; PATCH is an alias [INF]
- ``DELETE /container_registry_credentials/{uuid}``  204, empty body; 422 ``Credential is in use
  by N application(s)`` while apps of the workspace still pull with it [INF]
- ``/apps`` and ``/apps/{uuid}[/deployment|/vars]``  see ``routes/apps.py``

The entity is exactly ``uuid, name, registry, username, registry_hostname, created_at,
updated_at``; the token is never returned. Errors are ``{"error": "<message>"}``.

Checks, in order (the first failure answers):

1. 401 ``Unauthorized``: no or an unknown API key (``auth.py``).
2. 400/403 for the ``X-Workspace-Id`` (not a UUID, not the key's, suspended) (``auth.py``).
3. 400 ``uuid is invalid`` for a path id that is not a UUID [INF].
4. 415/413/400 for a POST/PUT body that is not a JSON object of at most 64 KiB (``http.py``).
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
when omitted.

Deleting a credential that apps still use [INF; the real behaviour is undocumented]: refused with
422 ``{"error": "Credential is in use by N application(s)"}``. Pulumi deletes an app before the
credential it depends on, so stacks are unaffected; deleting such a credential by hand (or out of
order) fails with that message.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from flask import Flask, Response, g, jsonify

from pulumi_miget.emulator.auth import miget_api
from pulumi_miget.emulator.http import ErrorAnswer, current_emulator, json_object
from pulumi_miget.emulator.records import CredentialRecord, new_credential, sha256_hex
from pulumi_miget.emulator.store import DuplicateNameError, Table
from pulumi_miget.rules.common import is_uuid
from pulumi_miget.rules.credential import check_credential

__all__ = ["register", "token_rejected"]

API_FIELDS = ("name", "registry", "username", "token", "registry_hostname", "skip_validation")
REQUIRED_FIELDS = ("name", "registry", "username", "token")
REVALIDATING_FIELDS = ("username", "registry", "registry_hostname")

NOT_FOUND = "Container registry credential not found"
INVALID_CREDENTIALS = "Invalid registry credentials"
NAME_TAKEN = "Name has already been taken"
CREDENTIAL_IN_USE = "Credential is in use by {count} application(s)"
# Rails full messages for the 422 rules of rules.credential, keyed by property.
MODEL_MESSAGES = {"registry_hostname": "Registry hostname can't be blank"}


def register(app: Flask) -> None:
    """Add the credential routes to ``app``, under ``/api/v1`` and authenticated (``auth.py``)."""
    api = miget_api("miget_credentials")
    api.get("/container_registry_credentials")(list_credentials)
    api.post("/container_registry_credentials")(create_credential)
    api.get("/container_registry_credentials/<credential_id>")(show_credential)
    api.route("/container_registry_credentials/<credential_id>", methods=["PUT", "PATCH"])(
        update_credential
    )
    api.delete("/container_registry_credentials/<credential_id>")(delete_credential)
    app.register_blueprint(api)


# --- views --------------------------------------------------------------------------------


def list_credentials() -> Response:
    records = _credentials().in_workspace(g.workspace)
    return jsonify([record.to_api() for record in records])


def create_credential() -> tuple[Response, int]:
    params = _params(json_object(require_json_type=True), partial=False)
    store = current_emulator().store
    with store.transaction():
        errors = _model_errors(g.workspace, params)
        if errors:
            raise ErrorAnswer(422, ", ".join(errors))
        rejected = token_rejected(params["token"])
        if rejected and not _skips_validation(params):
            raise ErrorAnswer(422, INVALID_CREDENTIALS)
        record = new_credential(
            workspace_id=g.workspace,
            name=params["name"],
            registry=params["registry"],
            username=params["username"],
            token=params["token"],
            token_rejected=rejected,
            registry_hostname=params.get("registry_hostname"),
            now_ms=store.now_ms(),
        )
        _save(store.credentials, record, insert=True)
    return jsonify(record.to_api()), 201


def show_credential(credential_id: str) -> Response:
    return jsonify(_find(_credential_id(credential_id)).to_api())


def update_credential(credential_id: str) -> Response:
    cid = _credential_id(credential_id)
    params = _params(json_object(require_json_type=True), partial=True)
    store = current_emulator().store
    with store.transaction():
        record = _find(cid)
        merged = _merge(record, params)
        errors = _model_errors(g.workspace, _fields(merged), except_id=cid)
        if errors:
            raise ErrorAnswer(422, ", ".join(errors))
        revalidate = _needs_validation(record, params) and not _skips_validation(params)
        if revalidate and merged.token_rejected:
            raise ErrorAnswer(422, INVALID_CREDENTIALS)
        merged = replace(merged, updated_ms=store.now_ms())
        _save(store.credentials, merged, insert=False)
    return jsonify(merged.to_api())


def delete_credential(credential_id: str) -> Response:
    cid = _credential_id(credential_id)
    store = current_emulator().store
    with store.transaction():
        if store.credentials.get(g.workspace, cid) is None:
            raise ErrorAnswer(404, NOT_FOUND)
        in_use = store.apps_using_credential(g.workspace, cid)
        if in_use:
            raise ErrorAnswer(422, CREDENTIAL_IN_USE.format(count=in_use))
        store.credentials.delete(g.workspace, cid)
    return Response(status=204)


# --- parameters and validation --------------------------------------------------------------


def _params(body: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    """The API's fields from ``body`` (others ignored), after the 400 checks of rules.credential."""
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
        raise ErrorAnswer(400, ", ".join(problems[key] for key in API_FIELDS if key in problems))
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
        raise ErrorAnswer(400, "uuid is invalid")
    return str(uuid.UUID(raw))


def _model_errors(
    workspace: str, fields: Mapping[str, Any], *, except_id: str | None = None
) -> list[str]:
    """The 422 rules on a complete record (a create, or a PUT merged with the stored row)."""
    errors = []
    if _credentials().taken(workspace, fields["name"], except_id=except_id):
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


# --- records --------------------------------------------------------------------------------


def _find(credential_id: str) -> CredentialRecord:
    record = _credentials().get(g.workspace, credential_id)
    if record is None:
        raise ErrorAnswer(404, NOT_FOUND)
    return record


def _merge(record: CredentialRecord, params: Mapping[str, Any]) -> CredentialRecord:
    """PUT semantics: omitted fields stay; null clears registry_hostname; a token rotates."""
    changes = {key: params[key] for key in ("name", "registry", "username") if key in params}
    if "registry_hostname" in params:
        changes["registry_hostname"] = params["registry_hostname"]
    if "token" in params:
        changes["token_sha256"] = sha256_hex(params["token"])
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


def _credentials() -> Table[CredentialRecord]:
    return current_emulator().store.credentials


def _save(table: Table[CredentialRecord], record: CredentialRecord, *, insert: bool) -> None:
    try:
        if insert:
            table.insert(record)
        else:
            table.replace(record)
    except DuplicateNameError:
        raise ErrorAnswer(422, NAME_TAKEN) from None
