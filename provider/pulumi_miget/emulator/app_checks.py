"""The App endpoints' field checks (``routes/apps.py`` runs them, in the order its docstring
gives): the 400 parameter errors, Grape-style and comma-joined, and the 422 model errors of the
shared rules table (``pulumi_miget.rules.app``) as Rails full messages; and the app look-up that
every ``/apps/{uuid}/...`` route shares (``routes/deployments.py`` too). Behaviour the docs do not
state is marked **[INF]**.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from pulumi_miget.emulator.http import ErrorAnswer, json_object
from pulumi_miget.emulator.records import AppRecord
from pulumi_miget.emulator.store import Store
from pulumi_miget.rules.app import SIZES, check_app
from pulumi_miget.rules.common import is_uuid

__all__ = [
    "APP_NOT_FOUND",
    "APP_UPDATE_FIELDS",
    "ATTRIBUTE_PARAMS",
    "CONFIG_FIELDS",
    "CONTAINER_REGISTRY",
    "CREATE_PARAMS",
    "DEPLOYMENT_METHODS",
    "REQUIRED",
    "SIZE_RANGES",
    "app_uuid",
    "find_app",
    "model_errors",
    "raise_params",
    "size_problems",
    "type_problems",
    "variable_body",
    "variables",
]

APP_NOT_FOUND = "App not found"
CONTAINER_REGISTRY = "container_registry"
DEPLOYMENT_METHODS = (
    "git_push",
    "public_git",
    "github",
    CONTAINER_REGISTRY,
    "parent_image",
    "kamal",
)
# [INF] The sizes the emulator accepts: property → (minimum, maximum), inclusive. The same bounds
# as the provider's check (rules.app); past them the entity's byte count or SQLite would overflow.
# [INF] The provider's own limits (rules.app.SIZES): the API documents none, but a finite
# value far out of range (1e30) must not reach the store.
SIZE_RANGES: dict[str, tuple[float, float]] = {
    key: (low, high) for key, (low, high, _unit) in SIZES.items()
}

# Flat property (rules.app) → the request parameter it came from, for Grape-style messages.
CREATE_PARAMS = {
    "name": "name",
    "label": "label",
    "project_id": "project_id",
    "resource_id": "resource_id",
    "builder": "builder",
    "ram_size": "ram_size",
    "cpu_size": "cpu_size",
    "image_url": "deployment_config[image_url]",
    "tag": "deployment_config[tag]",
    "credential_id": "deployment_config[credential_id]",
    "command": "deployment_config[command]",
    "args": "deployment_config[args]",
    "env": "app_vars_attributes",
}
REQUIRED = ("name", "label", "project_id", "resource_id", "builder")
APP_UPDATE_FIELDS = ("label", "ram_size", "cpu_size", "builder")
CONFIG_FIELDS = ("image_url", "tag", "credential_id", "command", "args")
ATTRIBUTE_PARAMS = {
    key: f"deployment_config_attributes[{key}]" for key in CONFIG_FIELDS if key != "credential_id"
} | {"credential_id": "deployment_config_attributes[container_registry_credential_id]"}


def type_problems(body: Mapping[str, Any]) -> list[str]:
    """400s the shared rules table cannot see: the method enum and null-vs-empty wording."""
    problems = []
    method = body.get("deployment_method")
    if method is not None and method not in DEPLOYMENT_METHODS:
        problems.append("deployment_method does not have a valid value")
    for key in ("name", "label", "project_id", "resource_id", "builder"):
        if key in body and body[key] in (None, ""):
            problems.append(f"{key} is empty")
    return problems


def size_problems(props: Mapping[str, Any]) -> list[str]:
    """``<field> does not have a valid value`` for each number outside ``SIZE_RANGES`` (other
    types are the rules table's ``is invalid``)."""
    problems = []
    for key, (low, high) in SIZE_RANGES.items():
        value = props.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        # A comparison, not float(): exact for huge ints (10**30), and false for NaN.
        if not low <= value <= high:
            problems.append(f"{key} does not have a valid value")
    return problems


def variables(raw: object, problems: list[str]) -> dict[str, Any] | None:
    """``app_vars_attributes`` (``[{key, value}]``) as a map; appends 400 problems."""
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(
        isinstance(item, Mapping) and isinstance(item.get("key"), str) and item.get("key")
        for item in raw
    ):
        problems.append("app_vars_attributes is invalid")
        return None
    env: dict[str, Any] = {}
    for item in raw:
        if item["key"] in env:
            problems.append(f"app_vars_attributes has the key {item['key']} twice")
        env[item["key"]] = item.get("value")
    return env


def raise_params(
    props: Mapping[str, Any],
    names: Mapping[str, str],
    problems: list[str],
    *,
    required: tuple[str, ...] = (),
) -> None:
    """400 with every parameter problem (Grape-style, comma-joined), if there is any.

    ``props`` holds the present, non-empty values by rules-table name; ``names`` maps those to
    the request's parameter names; ``problems`` are the ones found already (e.g. ``x is empty``).
    """
    found = [
        f"{key} is missing"
        for key in required
        if key not in props and not any(p.startswith(f"{key} ") for p in problems)
    ]
    found += problems
    for violation in check_app(props, partial=True, api_rules_only=True):
        if violation.api_status == 400:
            found.append(f"{names.get(violation.property, violation.property)} is invalid")
    if found:
        raise ErrorAnswer(400, ", ".join(dict.fromkeys(found)))


def model_errors(props: Mapping[str, Any], *, partial: bool = False) -> list[str]:
    """The 422 rules of the shared table, as Rails full messages (deduplicated, in order)."""
    messages = [
        violation.api_message or violation.reason
        for violation in check_app(props, partial=partial, api_rules_only=True)
        if violation.api_status == 422
    ]
    return list(dict.fromkeys(messages))


def variable_body(*, with_value: bool) -> tuple[str, str | None]:
    body = json_object(require_json_type=True)
    problems = []
    key = body.get("key")
    if key is None:
        problems.append("key is missing")
    elif not isinstance(key, str) or not key:
        problems.append("key is invalid" if key != "" else "key is empty")
    value = body.get("value")
    if with_value:
        if value is None:
            problems.append("value is missing")
        elif not isinstance(value, str):
            problems.append("value is invalid")
    if problems:
        raise ErrorAnswer(400, ", ".join(problems))
    assert isinstance(key, str)
    return key, value if with_value else None


def app_uuid(raw: str) -> str:
    """The path's app uuid, normalised; 400 ``uuid is invalid`` [INF] for one that is not."""
    if not is_uuid(raw):
        raise ErrorAnswer(400, "uuid is invalid")
    return str(uuid.UUID(raw))


def find_app(store: Store, workspace_id: str, app_id: str) -> AppRecord:
    """The workspace's app; 404 ``App not found`` (unknown, or in another workspace)."""
    record = store.apps.get(workspace_id, app_id)
    if record is None:
        raise ErrorAnswer(404, APP_NOT_FOUND)
    return record
