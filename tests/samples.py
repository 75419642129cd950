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
