"""``/apps/{uuid}/deploy`` and ``/apps/{uuid}/deployments``: the client of Deployment.

Wire shape (miget-api.md §8.1): a deployment is ``{id, app_id, state, status, image_url, tag,
credential_id, command, args, logs_stored_at, created_at, updated_at}``; ``state`` and
``status`` carry the same value (``pending``, ``running``, ``cancelling`` while active, then
``completed``, ``failed`` or ``cancelled``). ``POST /apps/{uuid}/deploy`` answers 201 with the
new deployment and **409** while one is active; the list is newest first; the logs answer
``text/plain`` once settled, 404 ``Logs are not available yet`` before.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import NotFoundError
from .collection import Collection

__all__ = ["ACTIVE", "DeploymentsApi", "revision_of"]

ACTIVE = frozenset({"pending", "running", "cancelling"})
_REVISION = ("image_url", "tag", "credential_id", "command", "args")


def revision_of(item: Mapping[str, Any]) -> dict[str, Any]:
    """What a deployment (or an app, in field names) ships, with empty values as None."""
    return {key: item.get(key) or None for key in _REVISION}


class DeploymentsApi(Collection):
    """An app's deployments (every call names the app's uuid)."""

    path = "/apps"

    def from_wire(self, item: Mapping[str, Any]) -> dict[str, Any]:
        state = item.get("state") or item.get("status")
        return {
            "uuid": item["id"],
            "app_id": item.get("app_id"),
            "state": state,
            **revision_of(item),
            "logs_stored_at": item.get("logs_stored_at"),
            "created_at": item.get("created_at"),
            "updated_at": item.get("updated_at"),
        }

    def create_body(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return {}  # POST /apps/{uuid}/deploy ships the app's deployment config: no body

    def deploy(self, app: str, workspace: str, operation: str) -> dict[str, Any]:
        """``POST /apps/{app}/deploy``: the new deployment (ConflictError-like ApiError 409
        while another one is active)."""
        item = self.client.request(
            "POST", f"{self.item_path(app)}/deploy", operation, workspace_id=workspace
        )
        return self.from_wire(item)

    def list_for(self, app: str, workspace: str, operation: str) -> list[dict[str, Any]]:
        """The app's deployments, newest first."""
        items = self.client.list(
            f"{self.item_path(app)}/deployments", operation, workspace_id=workspace
        )
        return [self.from_wire(item) for item in items]

    def show(self, app: str, deployment: str, workspace: str, operation: str) -> dict[str, Any]:
        item = self.client.request(
            "GET",
            f"{self.item_path(app)}/deployments/{deployment}",
            operation,
            workspace_id=workspace,
        )
        return self.from_wire(item)

    def logs(
        self,
        app: str,
        deployment: str,
        workspace: str,
        operation: str,
        *,
        secrets: Iterable[str | None] = (),
        attempts: int = 5,
        pause: float = 0.1,
    ) -> str | None:
        """The stored logs, or None when they are still "not available yet" after a few
        tries (they are stored a moment after the deployment settles)."""
        path = f"{self.item_path(app)}/deployments/{deployment}/logs"
        for attempt in range(attempts):
            try:
                text = self.client.request(
                    "GET", path, operation, workspace_id=workspace, secrets=secrets, text=True
                )
            except NotFoundError:
                if attempt + 1 < attempts:
                    time.sleep(pause)
                continue
            return text if isinstance(text, str) else None
        return None
