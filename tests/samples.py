"""Canonical sample data of the tests: the identities the shared emulator fixture is configured
with (see tests/conftest.py) and the sample inputs every layer builds its props from.

The key and default workspace are spelled out rather than imported, so a test can check that
the emulator still uses the values its documentation promises.
"""

from __future__ import annotations

API_KEY = "miget_live_emulator_local_key"
"""The key the session emulator accepts (the emulator's documented local default)."""

DEFAULT_WORKSPACE_ID = "00000000-0000-4000-8000-000000000001"
"""The emulator's default workspace, used when a request carries no X-Workspace-Id."""

OTHER_WORKSPACE_ID = "00000000-0000-4000-8000-0000000000a2"
"""An extra workspace the session emulator's key may use."""

THIRD_WORKSPACE_ID = "00000000-0000-4000-8000-0000000000a3"
"""A second extra workspace the session emulator's key may use."""

UNKNOWN_WORKSPACE_ID = "00000000-0000-4000-8000-0000000000ff"
"""A well-formed workspace UUID the emulator does not know."""

CREDENTIALS_PATH = "/api/v1/container_registry_credentials"

PROJECT_ID = "3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
"""A project UUID (the emulator has no projects: any UUID works)."""

OTHER_PROJECT_ID = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"

RESOURCE_ID = "7d8e9f0a-1b2c-4d3e-9f5a-6b7c8d9e0f1a"
"""A compute resource UUID (likewise)."""

OTHER_RESOURCE_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"

APP = {
    "name": "acme-api",
    "project_id": PROJECT_ID,
    "resource_id": RESOURCE_ID,
    "image_url": "ghcr.io/acme/api",
    "tag": "1.2.3",
}
"""What a typical App program sets. Copy it (``{**APP, ...}``); never change it in place."""

APP_CHECKED = {**APP, "label": "acme-api", "builder": "auto", "workspace_id": DEFAULT_WORKSPACE_ID}
""":data:`APP` as the provider's ``check`` returns it: defaults and the workspace filled in."""

CREDENTIAL = {"name": "ghcr-acme", "registry": "github", "username": "acme-bot"}
"""What a typical credential program sets, but the token (each test names its own)."""
