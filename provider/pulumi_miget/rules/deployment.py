"""The Deployment field rules: one table for the provider's ``check`` (and any policy).

Miget's deploy endpoint takes no body we send, so every rule here is this project's own
(``api_status=None``):

- ``apps`` (a non-empty list of revisions) or ``app`` (one revision), not both and not neither;
- a revision is a map with ``app_id`` (a UUID, unique within ``apps``), ``image_url`` (a
  non-empty string), and optionally ``tag`` (non-empty string), ``credential_id`` (a UUID),
  ``command`` and ``args`` (lists of strings);
- ``timeout_seconds`` a number, more than 0 and at most 86400 (a day);
- ``wait`` and ``rollback_on_failure`` booleans; ``triggers`` a list; ``workspace_id`` a UUID.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .common import Violation, describe_type, is_uuid, never_unknown

__all__ = ["MAX_TIMEOUT_SECONDS", "REVISION_KEYS", "check_deployment"]

MAX_TIMEOUT_SECONDS = 86400
REVISION_KEYS = ("app_id", "image_url", "tag", "credential_id", "command", "args")


def _revision_problems(
    prop: str, item: object, is_unknown: Callable[[object], bool]
) -> list[Violation]:
    if is_unknown(item):
        return []
    if not isinstance(item, Mapping):
        return [
            Violation(prop, f"must be a map of an app's revision, got {describe_type(item)}", None)
        ]
    out: list[Violation] = []
    extra = sorted(set(item) - set(REVISION_KEYS))
    if extra:
        out.append(Violation(prop, f"has unknown keys {', '.join(extra)}", None))
    app_id = item.get("app_id")
    if app_id is None:
        out.append(Violation(f"{prop}.app_id", "is required (the App's id)", None))
    elif not is_unknown(app_id) and not is_uuid(app_id):
        out.append(Violation(f"{prop}.app_id", "must be an app UUID", None))
    image = item.get("image_url")
    if image is None:
        out.append(Violation(f"{prop}.image_url", "is required", None))
    elif not is_unknown(image) and (not isinstance(image, str) or not image.strip()):
        out.append(Violation(f"{prop}.image_url", "must be a non-empty string", None))
    tag = item.get("tag")
    if tag is not None and not is_unknown(tag) and (not isinstance(tag, str) or not tag):
        out.append(Violation(f"{prop}.tag", "must be a non-empty string", None))
    cred = item.get("credential_id")
    if cred is not None and not is_unknown(cred) and not is_uuid(cred):
        out.append(Violation(f"{prop}.credential_id", "must be a credential UUID", None))
    for key in ("command", "args"):
        value = item.get(key)
        if value is None or is_unknown(value):
            continue
        if not isinstance(value, (list, tuple)) or not all(
            isinstance(v, str) or is_unknown(v) for v in value
        ):
            out.append(Violation(f"{prop}.{key}", "must be a list of strings", None))
    return out


def check_deployment(
    props: Mapping[str, Any],
    *,
    is_unknown: Callable[[object], bool] = never_unknown,
    partial: bool = False,
    api_rules_only: bool = False,
) -> list[Violation]:
    """Every rule a Deployment's properties must meet (all are our own: see the docstring)."""
    if api_rules_only:
        return []
    out: list[Violation] = []
    apps, app = props.get("apps"), props.get("app")
    if apps is not None and app is not None:
        out.append(Violation("apps", "set apps or app, not both", None))
    elif apps is None and app is None and not partial:
        out.append(Violation("apps", "is required: a non-empty list of apps (or set app)", None))
    if apps is not None and not is_unknown(apps):
        if not isinstance(apps, (list, tuple)):
            out.append(Violation("apps", f"must be a list, got {describe_type(apps)}", None))
        elif not apps:
            out.append(Violation("apps", "must not be empty", None))
        else:
            seen: set[str] = set()
            for index, item in enumerate(apps):
                out += _revision_problems(f"apps[{index}]", item, is_unknown)
                app_id = item.get("app_id") if isinstance(item, Mapping) else None
                if isinstance(app_id, str) and not is_unknown(app_id):
                    if app_id.lower() in seen:
                        out.append(
                            Violation(f"apps[{index}]", f"app {app_id} is listed twice", None)
                        )
                    seen.add(app_id.lower())
    if app is not None:
        out += _revision_problems("app", app, is_unknown)
    timeout = props.get("timeout_seconds")
    if timeout is not None and not is_unknown(timeout):
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            out.append(
                Violation(
                    "timeout_seconds", f"must be a number, got {describe_type(timeout)}", None
                )
            )
        elif not 0 < timeout <= MAX_TIMEOUT_SECONDS:
            out.append(
                Violation(
                    "timeout_seconds",
                    f"must be more than 0 and at most {MAX_TIMEOUT_SECONDS}",
                    None,
                )
            )
    for key in ("wait", "rollback_on_failure"):
        value = props.get(key)
        if value is not None and not is_unknown(value) and not isinstance(value, bool):
            out.append(Violation(key, f"must be a boolean, got {describe_type(value)}", None))
    triggers = props.get("triggers")
    if (
        triggers is not None
        and not is_unknown(triggers)
        and not isinstance(triggers, (list, tuple))
    ):
        out.append(Violation("triggers", f"must be a list, got {describe_type(triggers)}", None))
    workspace = props.get("workspace_id")
    if workspace is not None and not is_unknown(workspace) and not is_uuid(workspace):
        out.append(Violation("workspace_id", "must be a workspace UUID", None))
    return out
