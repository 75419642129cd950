"""What every Miget collection client shares: one path, its entity's wire shape, and the five
requests a resource needs (get, list, post, put, delete) over the shared :class:`MigetClient`.

A resource's client (``CredentialsApi``, ``AppsApi``) says where the collection lives and how
its entity maps to the resource's field names (:meth:`Collection.from_wire`), and builds its
request bodies; this base sends them. Every request names the workspace explicitly: the
providers always pass the one recorded in state.

404 has one meaning per verb here: a GET answers None ("gone"), a DELETE answers False
("already gone"); a PUT or POST lets :class:`~pulumi_miget.errors.NotFoundError` through, for
the provider to explain.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from ..errors import NotFoundError
from .http import MigetClient

__all__ = ["Collection"]


class Collection(abc.ABC):
    """One collection of the Miget API, e.g. ``/container_registry_credentials``."""

    path: ClassVar[str]
    name_label: ClassVar[str] = "name"
    """What the ``name`` field is called in messages ("look up app 'x' by service name")."""

    def __init__(self, client: MigetClient) -> None:
        self.client = client

    @abc.abstractmethod
    def from_wire(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """Miget's entity as the resource's fields (``uuid`` included)."""

    @abc.abstractmethod
    def create_body(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """The POST body that creates an object with these (checked) inputs."""

    def create(
        self,
        props: Mapping[str, Any],
        workspace: str,
        operation: str,
        secrets: Iterable[str | None] = (),
    ) -> dict[str, Any]:
        return self.post(self.create_body(props), workspace, operation, secrets)

    def find_by_name(self, name: Any, workspace: str, operation: str) -> dict[str, Any] | None:
        """The object whose ``name`` field is ``name`` (names are unique per workspace), or
        None: the lookup that reconciles a lost create and finds what to adopt."""
        return next((e for e in self.get_all(workspace, operation) if e["name"] == name), None)

    def item_path(self, uuid: str) -> str:
        return f"{self.path}/{uuid}"

    def get(self, uuid: str, workspace: str, operation: str) -> dict[str, Any] | None:
        """One object, or None when Miget says it is gone (404)."""
        try:
            item = self.client.request(
                "GET", self.item_path(uuid), operation, workspace_id=workspace
            )
        except NotFoundError:
            return None
        return self.from_wire(item)

    def get_all(self, workspace: str, operation: str) -> list[dict[str, Any]]:
        return [
            self.from_wire(item)
            for item in self.client.list(self.path, operation, workspace_id=workspace)
        ]

    def post(
        self,
        body: dict[str, Any],
        workspace: str,
        operation: str,
        secrets: Iterable[str | None] = (),
    ) -> dict[str, Any]:
        item = self.client.request(
            "POST", self.path, operation, body=body, workspace_id=workspace, secrets=secrets
        )
        return self.from_wire(item)

    def put(
        self,
        uuid: str,
        body: dict[str, Any],
        workspace: str,
        operation: str,
        secrets: Iterable[str | None] = (),
        *,
        suffix: str = "",
    ) -> dict[str, Any]:
        item = self.client.request(
            "PUT",
            self.item_path(uuid) + suffix,
            operation,
            body=body,
            workspace_id=workspace,
            secrets=secrets,
        )
        return self.from_wire(item)

    def delete(self, uuid: str, workspace: str, operation: str) -> bool:
        """Delete one object; False when it was already gone (404)."""
        try:
            self.client.request("DELETE", self.item_path(uuid), operation, workspace_id=workspace)
        except NotFoundError:
            return False
        return True
