"""API keys and workspaces: who may address which workspace, and which are suspended.

Kept in memory: keys, workspaces and suspensions come from the command line and the control API
and are not persisted (they describe the emulator's configuration, not Miget data). Requests are
checked against them by ``auth.py``.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from pulumi_miget.rules.common import is_uuid

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_WORKSPACE_ID",
    "KeyGrant",
    "Tenancy",
    "normalise_workspace_id",
]

DEFAULT_API_KEY = "miget_live_emulator_local_key"
"""The API key the emulator accepts when none is configured (local use only)."""

DEFAULT_WORKSPACE_ID = "00000000-0000-4000-8000-000000000001"
"""The default workspace: used when a request has no ``X-Workspace-Id`` header."""


def normalise_workspace_id(value: str) -> str:
    """The canonical (lower-case, hyphenated) form of a workspace UUID; ValueError otherwise."""
    if not is_uuid(value):
        raise ValueError(f"workspace id {value!r} is not a UUID")
    return str(uuid.UUID(value))


@dataclass(frozen=True)
class KeyGrant:
    """What one API key may do: its default workspace, and the one workspace it is locked to
    when it is a workspace-scoped key (``KEY@WORKSPACE_UUID``)."""

    default_workspace: str
    scoped_to: str | None


class Tenancy:
    """API keys, workspaces and suspensions (in memory, configured at start-up).

    [INF] The emulator models one user who belongs to every known workspace: an unscoped key
    (a user token) may use any of them; a scoped key (a workspace token) only its own.
    Known workspaces are the default one, every ``--workspace`` and every scoped key's workspace.
    """

    def __init__(self, api_keys: Iterable[str], workspaces: Iterable[str] = ()) -> None:
        self.workspaces: set[str] = {DEFAULT_WORKSPACE_ID}
        self.workspaces.update(normalise_workspace_id(w) for w in workspaces)
        self.keys: dict[str, KeyGrant] = {}
        for spec in api_keys:
            key, grant = self._parse_key(spec)
            self.keys[key] = grant
        if not self.keys:
            raise ValueError("at least one API key is required")
        self._suspended: set[str] = set()
        self._lock = threading.Lock()

    def _parse_key(self, spec: str) -> tuple[str, KeyGrant]:
        key, sep, workspace = spec.partition("@")
        if not key or any(c.isspace() for c in key):
            raise ValueError("an API key must be non-empty and contain no whitespace")
        if not sep:
            return key, KeyGrant(DEFAULT_WORKSPACE_ID, None)
        scoped = normalise_workspace_id(workspace)
        self.workspaces.add(scoped)
        return key, KeyGrant(scoped, scoped)

    def grant(self, key: str) -> KeyGrant | None:
        return self.keys.get(key)

    def may_use(self, grant: KeyGrant, workspace_id: str) -> bool:
        if grant.scoped_to is not None:
            return workspace_id == grant.scoped_to
        return workspace_id in self.workspaces

    def is_suspended(self, workspace_id: str) -> bool:
        with self._lock:
            return workspace_id in self._suspended

    def set_suspended(self, workspace_id: str, suspended: bool) -> None:
        with self._lock:
            if suspended:
                self._suspended.add(workspace_id)
            else:
                self._suspended.discard(workspace_id)

    def clear_suspensions(self) -> None:
        with self._lock:
            self._suspended.clear()
