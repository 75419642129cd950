"""A thin HTTP client for the emulator tests: real requests, no cleverness.

Every method returns the raw ``requests.Response`` so tests assert exact statuses and bodies;
only ``create`` (for setting up a test) checks the answer itself.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import requests

from tests.samples import API_KEY, CREDENTIALS_PATH

if TYPE_CHECKING:
    from pulumi_miget.emulator import EmulatorServer

TIMEOUT = 10.0
ENTITY_FIELDS = {
    "uuid",
    "name",
    "registry",
    "username",
    "registry_hostname",
    "created_at",
    "updated_at",
}


def github_credential(**overrides: Any) -> dict[str, Any]:
    """A valid create body for a GitHub credential."""
    body: dict[str, Any] = {
        "name": "ghcr-acme",
        "registry": "github",
        "username": "acme-bot",
        "token": "ghp_example_token_value",
    }
    body.update(overrides)
    return body


def calls(emulator: EmulatorServer) -> list[tuple[str, str]]:
    """Every request in the emulator's log since it was last cleared: (method, path)."""
    return [(entry["method"], entry["path"]) for entry in emulator.requests_log()]


@dataclass(frozen=True)
class Api:
    base_url: str  # http://127.0.0.1:PORT
    key: str | None = API_KEY
    workspace: str | None = None

    def with_key(self, key: str | None) -> Api:
        return replace(self, key=key)

    def in_workspace(self, workspace: str | None) -> Api:
        return replace(self, workspace=workspace)

    def headers(self) -> dict[str, str]:
        headers = {}
        if self.key is not None:
            headers["Authorization"] = f"Bearer {self.key}"
        if self.workspace is not None:
            headers["X-Workspace-Id"] = self.workspace
        return headers

    def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> requests.Response:
        merged = {**self.headers(), **(headers or {})}
        return requests.request(
            method, self.base_url + path, headers=merged, timeout=TIMEOUT, **kwargs
        )

    def list(self) -> requests.Response:
        return self.request("GET", CREDENTIALS_PATH)

    def post(self, body: Any) -> requests.Response:
        return self.request("POST", CREDENTIALS_PATH, json=body)

    def get(self, credential_id: str) -> requests.Response:
        return self.request("GET", f"{CREDENTIALS_PATH}/{credential_id}")

    def put(self, credential_id: str, body: Any, method: str = "PUT") -> requests.Response:
        return self.request(method, f"{CREDENTIALS_PATH}/{credential_id}", json=body)

    def delete(self, credential_id: str) -> requests.Response:
        return self.request("DELETE", f"{CREDENTIALS_PATH}/{credential_id}")

    def create(self, **overrides: Any) -> dict[str, Any]:
        """Create a GitHub credential (fields overridable) and return the entity."""
        response = self.post(github_credential(**overrides))
        assert response.status_code == 201, response.text
        entity: dict[str, Any] = response.json()
        return entity
