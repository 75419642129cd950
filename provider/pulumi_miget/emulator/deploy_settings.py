"""How the emulator's next deployments behave: the settings the control API
(``PUT /_emulator/deployments``) and ``EmulatorServer.set_deployments`` change. Not part of
Miget's API, and not persisted (configuration, like faults); each deployment copies the settings
it started with into its row (``records.DeploymentRecord``), so changing them never changes a
deployment that has started.

Settings (JSON, all optional in a PUT; omitted ones keep their current value [INF]):

- ``duration_s`` (default 0.2, or ``--deploy-seconds``): seconds from the deploy to its end.
  The first quarter of it, at most 0.1 s, is ``pending``; the rest ``running`` [INF].
- ``outcome``: ``completed`` (default) or ``failed``: how the deployment ends.
- ``message``: the last line of the logs (default ``Deployment completed`` / ``Deployment
  failed``). Miget's REST API carries the failure reason only in the logs [DOC].
- ``log``: text the logs hold between the emulator's first and last lines (default none).
- ``auto_deploy`` (default false): creating an app, or changing what its deployment config
  ships, starts a deployment by itself [INF: "Miget may deploy by itself"].
- ``cancel_s`` (default 0.05): how long a cancelled deployment stays ``cancelling`` [INF].
- ``app``: an app uuid: the settings apply to that app only (its own settings start as a copy
  of the defaults of the moment). Without it, the defaults for every other app change.

Bounds [INF]: durations from 0 to 86400 seconds (a day); ``message`` and ``log`` are text
(no lone surrogates); an unknown field is refused, so a typo cannot pass unnoticed.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from pulumi_miget.emulator.faults import is_seconds
from pulumi_miget.rules.common import is_uuid

__all__ = [
    "DEFAULT_CANCEL_SECONDS",
    "DEFAULT_DEPLOY_SECONDS",
    "MAX_DEPLOY_SECONDS",
    "OUTCOMES",
    "DeployPlan",
    "DeploySettings",
    "DeploySpecError",
    "check_deploy_seconds",
]

DEFAULT_DEPLOY_SECONDS = 0.2
DEFAULT_CANCEL_SECONDS = 0.05
MAX_DEPLOY_SECONDS = 86_400  # [INF] a day: longer than any test, shorter than an overflow
OUTCOMES = ("completed", "failed")
_DURATIONS = ("duration_s", "cancel_s")
_TEXTS = ("message", "log")
FIELDS = ("app", *_DURATIONS, "outcome", *_TEXTS, "auto_deploy")


class DeploySpecError(ValueError):
    """A deployment setting sent to the control API is invalid."""


@dataclass(frozen=True)
class DeploySettings:
    """How a deployment started now behaves (the module docstring describes each field)."""

    duration_s: float = DEFAULT_DEPLOY_SECONDS
    outcome: str = "completed"
    message: str = ""
    log: str = ""
    auto_deploy: bool = False
    cancel_s: float = DEFAULT_CANCEL_SECONDS

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def check_deploy_seconds(value: object, name: str = "duration_s") -> float:
    """``value`` as a duration in seconds; DeploySpecError unless it is a number in
    0..MAX_DEPLOY_SECONDS."""
    if not is_seconds(value):
        raise DeploySpecError(f"{name} must be a non-negative number of seconds")
    if value > MAX_DEPLOY_SECONDS:
        raise DeploySpecError(f"{name} must be at most {MAX_DEPLOY_SECONDS} seconds")
    return float(value)


def _is_text(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")  # SQLite needs UTF-8: a lone surrogate cannot be stored
    except UnicodeEncodeError:
        return False
    return True


def _changes(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The settings fields of ``spec``, checked; DeploySpecError names the first bad one."""
    unknown = sorted(key for key in spec if key not in FIELDS)
    if unknown:
        raise DeploySpecError(f"unknown field(s): {', '.join(unknown)}")
    changes: dict[str, Any] = {}
    for key in _DURATIONS:
        if key in spec:
            changes[key] = check_deploy_seconds(spec[key], key)
    if "outcome" in spec:
        if spec["outcome"] not in OUTCOMES:
            raise DeploySpecError(f"outcome must be one of {', '.join(OUTCOMES)}")
        changes["outcome"] = spec["outcome"]
    for key in _TEXTS:
        if key in spec:
            if not _is_text(spec[key]):
                raise DeploySpecError(f"{key} must be a string")
            changes[key] = spec[key]
    if "auto_deploy" in spec:
        if not isinstance(spec["auto_deploy"], bool):
            raise DeploySpecError("auto_deploy must be true or false")
        changes["auto_deploy"] = spec["auto_deploy"]
    return changes


def _app_id(spec: Mapping[str, Any]) -> str | None:
    raw = spec.get("app")
    if raw is None:
        return None
    if not (isinstance(raw, str) and is_uuid(raw)):
        raise DeploySpecError("app must be an app uuid")
    return str(uuid.UUID(raw))


class DeployPlan:
    """The current settings: the defaults, and each app's own ones (in memory, thread-safe)."""

    def __init__(self, duration_s: float = DEFAULT_DEPLOY_SECONDS) -> None:
        self._initial = DeploySettings(duration_s=check_deploy_seconds(duration_s))
        self._default = self._initial
        self._apps: dict[str, DeploySettings] = {}
        self._lock = threading.Lock()

    def for_app(self, app_id: str) -> DeploySettings:
        """The settings a deployment of ``app_id`` starts with now."""
        with self._lock:
            return self._apps.get(app_id, self._default)

    def update(self, spec: Mapping[str, Any]) -> tuple[str | None, DeploySettings]:
        """Apply a control-API body: (its app or None, the settings now in force for it).
        DeploySpecError, changing nothing, when a field is invalid."""
        app_id = _app_id(spec)
        changes = _changes(spec)
        with self._lock:
            if app_id is None:
                self._default = replace(self._default, **changes)
                return None, self._default
            settings = replace(self._apps.get(app_id, self._default), **changes)
            self._apps[app_id] = settings
            return app_id, settings

    def to_json(self) -> dict[str, Any]:
        """``{"default": {...}, "apps": {uuid: {...}}}``."""
        with self._lock:
            return {
                "default": self._default.to_json(),
                "apps": {app_id: s.to_json() for app_id, s in self._apps.items()},
            }

    def reset(self) -> None:
        """Back to the settings the emulator started with (``--deploy-seconds``)."""
        with self._lock:
            self._default = self._initial
            self._apps.clear()
