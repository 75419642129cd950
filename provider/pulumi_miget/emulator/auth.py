"""Authentication and workspace resolution for Miget's API (``/api/v1``).

Every Miget API request (``Authorization: Bearer <key>``, optional ``X-Workspace-Id``) passes
these checks before its route, after the latency and any matching fault (``wsgi.py``); the first
failure answers:

1. 401 ``Unauthorized`` [INF message]: no ``Bearer`` key, or an unknown one. The scheme is
   case-insensitive, the key exact.
2. No (or an empty) ``X-Workspace-Id`` means the key's default workspace [DOC]. 400 for one that
   is not a UUID [INF]; 403 ``You don't have access to this workspace`` for one the key may not
   use: a scoped key's other workspaces, unknown workspaces [INF]. 403 with Miget's suspension
   message for a suspended workspace, on every request, reads included [DOC].

Keys and workspaces [INF]: the emulator models one user who belongs to every workspace it knows
(the default one, ``--workspace`` ones, scoped keys' ones). ``KEY`` is that user's token;
``KEY@WORKSPACE_UUID`` is a workspace token, locked to (and defaulting to) that workspace.
"""

from __future__ import annotations

from flask import Blueprint, g, request

from pulumi_miget.emulator.http import ErrorAnswer, current_emulator
from pulumi_miget.emulator.tenancy import KeyGrant, Tenancy, normalise_workspace_id

__all__ = ["API_PREFIX", "NO_ACCESS", "SUSPENDED", "UNAUTHORIZED", "authorise", "miget_api"]

API_PREFIX = "/api/v1"

UNAUTHORIZED = "Unauthorized"
NO_ACCESS = "You don't have access to this workspace"
SUSPENDED = "Your workspace has been suspended. Please contact support to reactivate it."


def miget_api(name: str) -> Blueprint:
    """A blueprint for part of Miget's API: under ``/api/v1``, every route authenticated and
    resolved to a workspace (``g.workspace``) first."""
    api = Blueprint(name, __name__, url_prefix=API_PREFIX)
    api.before_request(authorise)
    return api


def authorise() -> None:
    """Checks 1-2 of the module docstring; leaves the workspace in ``g.workspace``."""
    tenancy = current_emulator().tenancy
    grant = _grant(tenancy)
    workspace = _requested_workspace(grant)
    g.workspace = workspace  # logged even when refused below
    if not tenancy.may_use(grant, workspace):
        raise ErrorAnswer(403, NO_ACCESS)
    if tenancy.is_suspended(workspace):
        raise ErrorAnswer(403, SUSPENDED)


def _grant(tenancy: Tenancy) -> KeyGrant:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    # [INF] The scheme is case-insensitive (RFC 9110 §11.1); the key is exact.
    grant = tenancy.grant(key.strip()) if scheme.lower() == "bearer" else None
    if grant is None:
        raise ErrorAnswer(401, UNAUTHORIZED)
    return grant


def _requested_workspace(grant: KeyGrant) -> str:
    raw = request.headers.get("X-Workspace-Id", "").strip()
    if not raw:
        return grant.default_workspace
    try:
        return normalise_workspace_id(raw)
    except ValueError:
        raise ErrorAnswer(400, "X-Workspace-Id must be a workspace UUID") from None
