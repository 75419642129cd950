"""The emulator's App endpoints: just enough of Miget's ``/apps`` API for the ``App`` resource.

Scope: apps deployed with ``deployment_method = "container_registry"`` (a pre-built image pulled
with a container registry credential). Other deployment methods answer 422 (the emulator does not
implement them). Same conventions as the credential endpoints (``routes/credentials.py``):
authentication and workspace resolution first (``auth.py``), workspace-scoped storage,
``{"error": ...}`` bodies, the redacted request log. Behaviour the docs do not state is marked
**[INF]**.

Routes (``/api/v1``):

- ``GET    /apps``                    200, bare array ordered by ``created_at`` [INF]
- ``POST   /apps``                    201, the entity
- ``GET    /apps/{uuid}``             200, the entity
- ``PUT    /apps/{uuid}``             200: ``label``, ``ram_size``, ``cpu_size``, ``builder``;
  omitted fields stay; other fields are ignored [INF field list]. PATCH is an alias [INF]
- ``PUT    /apps/{uuid}/deployment``  200: ``deployment_method`` + ``deployment_config_attributes``,
  a **patch** [DOC]: omitted fields stay, ``""`` (or null) clears one (``tag`` falls back to
  ``latest`` [INF]); the credential may be sent as ``container_registry_credential_id`` [DOC] or
  ``credential_id`` [INF], the former winning when both are sent [INF]
- ``DELETE /apps/{uuid}``             204, the app, its variables and its deployments
- ``POST   /apps/{uuid}/vars``        201 ``{"key"}``: ``{key, value}``; 422 ``Key has already been
  taken`` [INF message]
- ``PUT    /apps/{uuid}/vars``        200 ``{"key"}``: ``{key, value}``; 404 ``Variable not found``
- ``DELETE /apps/{uuid}/vars``        204: ``{key}``; 404 ``Variable not found``
- ``/apps/{uuid}/deploy`` and ``/apps/{uuid}/deployments[...]``: see ``routes/deployments.py``

The entity [DOC fields; INF shapes and values]: ``uuid``, ``name`` (the seed plus ``-`` and 6
random lowercase letters/digits [INF]; Miget's notes show 5), ``label``, ``service_name`` (the
unsuffixed seed), ``project_id``, ``resource_id`` [INF], ``builder``, ``deployment_method``,
``deployment_config`` (``image_url``, ``tag``, ``credential_id``, ``command``, ``args``; null when
unset), ``quota`` (``ram_size`` in **bytes**, ``cpu_size`` in cores [DOC]), ``state``
(``created`` until deployed [INF], then following the app's deployments: ``pending`` while the
first runs, ``running`` once one completed, ``failed`` [INF]; ``deployments.py`` has the rules),
``region`` (``{id, name, code}``; always ``eu-east-1`` [INF]), ``miget`` (the resource:
``{uuid, name}``), ``private_access`` (false), ``public_url``
(``https://<name>.<region>.migetapp.com`` [DOC]), ``internal_url``
(``<service_name>.<resource name>.<region>.migetapp.internal:5000`` [DOC]), ``created_at``,
``updated_at``.

**App variables are write-only in the emulator** [INF]: values are stored as SHA-256 hashes and
never appear in any response or in the request log (which keeps body field names only). Miget's
own ``GET /apps/{uuid}/vars`` probably returns values; the emulator does not serve it.

Checks, in order (the first failing step answers):

1. 400 parameter errors, Grape-style and comma-joined: missing/empty/ill-typed ``name``,
   ``label``, ``project_id`` / ``resource_id`` (UUIDs), ``builder`` (``auto``, ``dockerfile``,
   ``custom``), ``ram_size`` / ``cpu_size`` (numbers), ``deployment_method`` (the six methods),
   ``deployment_config[...]`` field types, ``app_vars_attributes`` (``[{key, value}]`` strings).
   ``ram_size`` outside 1-1048576 (MiB, 1 TiB) or ``cpu_size`` outside 0.001-256 (cores) is
   ``<field> does not have a valid value`` [INF: the bounds of the provider's own check,
   Grape's ``values:`` wording], on create and on update; non-finite numbers (``NaN``,
   ``Infinity``, ``1e999``) and lone surrogates in any string are refused before that, while
   the body is read (``http.py``). Nothing is stored when any check fails.
2. 422 ``The emulator implements only the container_registry deployment method`` for any other
   (or no) ``deployment_method`` [emulator limit].
3. 404 ``App not found`` (unknown uuid, or one in another workspace) for the ``{uuid}`` routes.
4. 422 model errors as ``{"errors": "A, B"}`` [DOC: the app endpoints use the ``errors`` key]:
   ``Name is invalid`` (not lowercase/alnum/hyphen), ``Name is too long (maximum is 40
   characters)`` (seed over 33, so seed + suffix > 40), ``Label is too long (maximum is 40
   characters)``, ``Image url can't be blank``, the image-reference rule (``image_url`` with a
   scheme, an embedded tag or digest, or no ``/``) [DOC rule, INF message], ``Service name has
   already been taken`` (per workspace [DOC]), ``Container registry credential not found in this
   workspace`` for a ``credential_id`` that does not exist in the app's workspace [INF].

Automatic deploys [INF: "Miget may deploy by itself"]: while the emulator's control settings say
``auto_deploy`` (``PUT /_emulator/deployments``; off by default), creating an app, or a
``PUT /apps/{uuid}/deployment`` that changes what the config ships (``image_url``, ``tag``,
``credential_id``, ``command``, ``args``), starts a deployment by itself, superseding one still
active. The answer's ``state`` then reads ``pending`` (or ``running`` on an app already live).
No app field names a deployment [DOC absence]: the newest one heads
``GET /apps/{uuid}/deployments``.

Other inferred choices: ``ram_size`` defaults to 128 MiB and ``cpu_size`` to 0.25 cores;
``project_id`` and ``resource_id`` must be UUIDs but are **not** checked for existence (the
emulator has no projects or resources); the region and the resource name are derived, not looked
up. A credential that an app still uses cannot be deleted: see ``routes/credentials.py``.
"""

from __future__ import annotations

import secrets
import string
import uuid
from collections.abc import Mapping
from dataclasses import replace

from flask import Flask, Response, g, jsonify

from pulumi_miget.emulator import app_checks as checks
from pulumi_miget.emulator.app_checks import (
    APP_NOT_FOUND,
    APP_UPDATE_FIELDS,
    ATTRIBUTE_PARAMS,
    CONFIG_FIELDS,
    CONTAINER_REGISTRY,
    CREATE_PARAMS,
    DEPLOYMENT_METHODS,
    REQUIRED,
)
from pulumi_miget.emulator.auth import miget_api
from pulumi_miget.emulator.deployments import app_entity, maybe_auto_deploy, shipped_revision
from pulumi_miget.emulator.http import ErrorAnswer, current_emulator, json_object
from pulumi_miget.emulator.records import AppRecord, sha256_hex
from pulumi_miget.emulator.store import DuplicateNameError, Store
from pulumi_miget.rules.app import DEFAULT_TAG
from pulumi_miget.rules.common import is_uuid

__all__ = ["register"]

DEFAULT_RAM_MIB = 128
DEFAULT_CPU = 0.25
SUFFIX_ALPHABET = string.ascii_lowercase + string.digits
SUFFIX_LENGTH = 6

VAR_NOT_FOUND = "Variable not found"
VAR_TAKEN = "Key has already been taken"
SERVICE_NAME_TAKEN = "Service name has already been taken"
CREDENTIAL_MISSING = "Container registry credential not found in this workspace"
UNSUPPORTED_METHOD = "The emulator implements only the container_registry deployment method"


def register(app: Flask) -> None:
    """Add the App routes to ``app``, under ``/api/v1`` and authenticated (``auth.py``)."""
    api = miget_api("miget_apps")
    api.get("/apps")(list_applications)
    api.post("/apps")(create_application)
    api.get("/apps/<app_id>")(show_application)
    api.route("/apps/<app_id>", methods=["PUT", "PATCH"])(update_application)
    api.delete("/apps/<app_id>")(delete_application)
    api.put("/apps/<app_id>/deployment")(update_deployment)
    api.post("/apps/<app_id>/vars")(create_variable)
    api.put("/apps/<app_id>/vars")(update_variable)
    api.delete("/apps/<app_id>/vars")(delete_variable)
    app.register_blueprint(api)


# --- views --------------------------------------------------------------------------------


def list_applications() -> Response:
    store = _store()
    return jsonify([app_entity(store, record) for record in store.apps.in_workspace(g.workspace)])


def create_application() -> tuple[Response, int]:
    body = json_object(require_json_type=True)
    config = body.get("deployment_config")
    config = config if config is not None else {}
    problems = checks.type_problems(body)
    env = checks.variables(body.get("app_vars_attributes"), problems)
    if not isinstance(config, Mapping):
        problems.append("deployment_config is invalid")
        config = {}
    raw = {key: body.get(key) for key in (*APP_UPDATE_FIELDS, "name", "project_id", "resource_id")}
    raw.update({key: config.get(key) for key in CONFIG_FIELDS})
    raw["env"] = env
    props = {key: value for key, value in raw.items() if value is not None and value != ""}
    props.setdefault("tag", DEFAULT_TAG)
    problems += checks.size_problems(props)
    checks.raise_params(props, CREATE_PARAMS, problems, required=REQUIRED)
    if body.get("deployment_method") != CONTAINER_REGISTRY:
        raise ErrorAnswer(422, UNSUPPORTED_METHOD)

    store = _store()
    with store.transaction():
        errors = checks.model_errors(props)
        if store.apps.taken(g.workspace, props["name"]):
            errors.append(SERVICE_NAME_TAKEN)
        credential = _credential_reference(props.get("credential_id"), errors)
        if errors:
            raise ErrorAnswer(422, ", ".join(errors), key="errors")
        now = store.now_ms()
        record = AppRecord(
            uuid=str(uuid.uuid4()),
            workspace_id=g.workspace,
            name=f"{props['name']}-{_suffix()}",
            service_name=props["name"],
            label=props["label"],
            project_id=str(uuid.UUID(props["project_id"])),
            resource_id=str(uuid.UUID(props["resource_id"])),
            builder=props["builder"],
            ram_size=props.get("ram_size", DEFAULT_RAM_MIB),
            cpu_size=props.get("cpu_size", DEFAULT_CPU),
            deployment_method=CONTAINER_REGISTRY,
            deployment_config={
                "image_url": props["image_url"],
                "tag": props["tag"],
                "credential_id": credential,
                "command": props.get("command") or None,
                "args": props.get("args") or None,
            },
            vars_sha256={key: sha256_hex(value) for key, value in (env or {}).items()},
            created_ms=now,
            updated_ms=now,
        )
        try:
            store.apps.insert(record)
        except DuplicateNameError:
            raise ErrorAnswer(422, SERVICE_NAME_TAKEN, key="errors") from None
        maybe_auto_deploy(store, current_emulator().deploys, record)
        entity = app_entity(store, record)
    return jsonify(entity), 201


def show_application(app_id: str) -> Response:
    return jsonify(app_entity(_store(), _find(_app_id(app_id))))


def update_application(app_id: str) -> Response:
    aid = _app_id(app_id)
    body = json_object(require_json_type=True)
    params = {key: body[key] for key in APP_UPDATE_FIELDS if key in body}
    problems = [
        f"{key} is empty" for key in ("label", "builder") if key in params and not params[key]
    ]
    problems += [
        f"{key} is invalid" for key in ("ram_size", "cpu_size") if params.get(key, 0) is None
    ]
    present = {key: value for key, value in params.items() if value not in (None, "")}
    problems += checks.size_problems(present)
    checks.raise_params(present, CREATE_PARAMS, problems)
    store = _store()
    with store.transaction():
        record = _find(aid)
        errors = checks.model_errors(present, partial=True)
        if errors:
            raise ErrorAnswer(422, ", ".join(errors), key="errors")
        updated = replace(record, **present, updated_ms=store.now_ms())
        store.apps.replace(updated)
        entity = app_entity(store, updated)
    return jsonify(entity)


def update_deployment(app_id: str) -> Response:
    aid = _app_id(app_id)
    body = json_object(require_json_type=True)
    method = body.get("deployment_method")
    attributes = body.get("deployment_config_attributes")
    attributes = {} if attributes is None else attributes
    problems = []
    if method is None:
        problems.append("deployment_method is missing")
    elif method not in DEPLOYMENT_METHODS:
        problems.append("deployment_method does not have a valid value")
    if not isinstance(attributes, Mapping):
        problems.append("deployment_config_attributes is invalid")
        attributes = {}
    if problems:
        raise ErrorAnswer(400, ", ".join(problems))
    if method != CONTAINER_REGISTRY:
        raise ErrorAnswer(422, UNSUPPORTED_METHOD)
    changes = {key: attributes[key] for key in CONFIG_FIELDS if key in attributes}
    if "container_registry_credential_id" in attributes:  # the documented key wins
        changes["credential_id"] = attributes["container_registry_credential_id"]
    present = {key: value for key, value in changes.items() if value not in (None, "")}
    checks.raise_params(present, ATTRIBUTE_PARAMS, [])
    store = _store()
    with store.transaction():
        record = _find(aid)
        config = dict(record.deployment_config)
        for key, value in changes.items():
            config[key] = value if value not in (None, "", []) else None
        if not config.get("tag"):
            config["tag"] = DEFAULT_TAG
        merged = {key: value for key, value in config.items() if value is not None}
        errors = checks.model_errors(merged, partial=True)
        if not merged.get("image_url"):
            errors.append("Image url can't be blank")
        credential = _credential_reference(config.get("credential_id"), errors)
        if errors:
            raise ErrorAnswer(422, ", ".join(dict.fromkeys(errors)), key="errors")
        config["credential_id"] = credential
        updated = replace(record, deployment_config=config, updated_ms=store.now_ms())
        store.apps.replace(updated)
        if shipped_revision(updated) != shipped_revision(record):
            maybe_auto_deploy(store, current_emulator().deploys, updated)
        entity = app_entity(store, updated)
    return jsonify(entity)


def delete_application(app_id: str) -> Response:
    aid = _app_id(app_id)
    store = _store()
    with store.transaction():
        if not store.apps.delete(g.workspace, aid):
            raise ErrorAnswer(404, APP_NOT_FOUND)
        store.deployments.delete_where(g.workspace, "app_uuid", aid)
    return Response(status=204)


def create_variable(app_id: str) -> tuple[Response, int]:
    aid = _app_id(app_id)
    key, value = checks.variable_body(with_value=True)
    store = _store()
    with store.transaction():
        record = _find(aid)
        if key in record.vars_sha256:
            raise ErrorAnswer(422, VAR_TAKEN, key="errors")
        assert value is not None
        store.apps.replace(
            replace(record, vars_sha256={**record.vars_sha256, key: sha256_hex(value)})
        )
    return jsonify({"key": key}), 201


def update_variable(app_id: str) -> Response:
    aid = _app_id(app_id)
    key, value = checks.variable_body(with_value=True)
    store = _store()
    with store.transaction():
        record = _find(aid)
        if key not in record.vars_sha256:
            raise ErrorAnswer(404, VAR_NOT_FOUND)
        assert value is not None
        store.apps.replace(
            replace(record, vars_sha256={**record.vars_sha256, key: sha256_hex(value)})
        )
    return jsonify({"key": key})


def delete_variable(app_id: str) -> Response:
    aid = _app_id(app_id)
    key, _ = checks.variable_body(with_value=False)
    store = _store()
    with store.transaction():
        record = _find(aid)
        if key not in record.vars_sha256:
            raise ErrorAnswer(404, VAR_NOT_FOUND)
        remaining = {k: v for k, v in record.vars_sha256.items() if k != key}
        store.apps.replace(replace(record, vars_sha256=remaining))
    return Response(status=204)


# --- helpers ------------------------------------------------------------------------------


def _store() -> Store:
    return current_emulator().store


def _suffix() -> str:
    return "".join(secrets.choice(SUFFIX_ALPHABET) for _ in range(SUFFIX_LENGTH))


def _app_id(raw: str) -> str:
    return checks.app_uuid(raw)


def _find(app_id: str) -> AppRecord:
    return checks.find_app(_store(), g.workspace, app_id)


def _credential_reference(raw: object, errors: list[str]) -> str | None:
    """The normalised uuid of an existing credential in this workspace, or None when unset;
    appends the 422 message when it does not exist there."""
    if raw is None or raw == "":
        return None
    if not (isinstance(raw, str) and is_uuid(raw)):
        errors.append(CREDENTIAL_MISSING)
        return None
    credential_id = str(uuid.UUID(raw))
    if _store().credentials.get(g.workspace, credential_id) is None:
        errors.append(CREDENTIAL_MISSING)
        return None
    return credential_id
