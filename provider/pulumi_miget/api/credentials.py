"""``/container_registry_credentials``: the client of ContainerRegistryCredential.

Wire shape (miget-api.md §1): the entity carries ``uuid``, ``name``, ``registry``, ``username``,
``registry_hostname``, ``created_at`` and ``updated_at``; Miget never returns the ``token``. A
create or update body carries the API fields that are set (or changed), plus
``skip_validation: true`` when the program asks to skip Miget's live login check.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .collection import Collection

__all__ = ["API_FIELDS", "CredentialsApi"]

# What the API stores (the token: stores only, never returns).
API_FIELDS = ("name", "registry", "username", "token", "registry_hostname")
_RETURNED = ("uuid", "name", "registry", "username", "created_at", "updated_at")


class CredentialsApi(Collection):
    path = "/container_registry_credentials"

    def from_wire(self, item: Mapping[str, Any]) -> dict[str, Any]:
        entity = {key: item.get(key) for key in _RETURNED}
        entity["uuid"] = item["uuid"]
        entity["registry_hostname"] = item.get("registry_hostname") or None  # "" means unset
        return entity

    def create_body(self, props: Mapping[str, Any]) -> dict[str, Any]:
        body = {key: props[key] for key in API_FIELDS if props.get(key) is not None}
        if props.get("skip_validation"):
            body["skip_validation"] = True
        return body

    @staticmethod
    def update_body(olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
        """Only the changed API fields (empty: nothing to send)."""
        body = {key: news.get(key) for key in API_FIELDS if news.get(key) != olds.get(key)}
        if body and news.get("skip_validation"):
            body["skip_validation"] = True
        return body
