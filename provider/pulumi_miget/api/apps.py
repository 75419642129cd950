"""``/apps`` with the ``container_registry`` deployment method: the client of App.

Wire shape (miget-api.md §3 and Miget's ``apps.md``) and the field names it maps to:

- the entity: ``name`` is the suffixed name (field ``app_name``), ``service_name`` the seed
  (fields ``name`` and ``service_name``); ``quota.ram_size`` is in **bytes** (field
  ``ram_size``, MiB), ``quota.cpu_size`` in cores; ``region`` may be an object (its ``code``);
  ``deployment_config`` holds ``image_url``, ``tag`` (``latest`` when unset), ``credential_id``,
  ``command`` and ``args``;
- ``POST /apps``: the app fields, ``deployment_method``, ``deployment_config`` and the variables
  as ``app_vars_attributes``;
- ``PUT /apps/{uuid}``: changed ``label``, ``ram_size``, ``cpu_size``, ``builder``;
- ``PUT /apps/{uuid}/deployment``: ``deployment_method`` and ``deployment_config_attributes``
  with ``image_url`` always (git methods require their identifying fields on every PUT; under
  patch semantics resending it is harmless) and the changed fields, a removed one as ``""``;
- ``POST``/``PUT``/``DELETE /apps/{uuid}/vars``: one variable, ``{key, value}`` or ``{key}``.

**The credential's wire names** live here and nowhere else: ``credential_id`` in the POST body's
``deployment_config`` and in responses, ``container_registry_credential_id`` in a deployment
PUT's ``deployment_config_attributes`` (the documented key of that endpoint).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..rules.app import DEFAULT_TAG
from .collection import Collection

__all__ = ["APP_FIELDS", "DEPLOYMENT_FIELDS", "AppsApi", "whole_number"]

DEPLOYMENT_METHOD = "container_registry"
MIB = 1024 * 1024
# Sent with PUT /apps/{uuid}.
APP_FIELDS = ("label", "ram_size", "cpu_size", "builder")
# Sent with PUT /apps/{uuid}/deployment (deployment_config_attributes).
DEPLOYMENT_FIELDS = ("image_url", "tag", "credential_id", "command", "args")
_CREATE_FIELDS = ("name", "label", "project_id", "resource_id", "builder", "ram_size", "cpu_size")
# Field → its key in a deployment PUT's deployment_config_attributes, where it differs.
_DEPLOYMENT_PUT_KEYS = {"credential_id": "container_registry_credential_id"}
_RETURNED = ("label", "project_id", "resource_id", "builder", "public_url", "internal_url", "state")


def whole_number(value: Any) -> Any:
    """Numbers cross the engine as floats: send 256, not 256.0, when the value is whole."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class AppsApi(Collection):
    path = "/apps"
    name_label = "service name"  # the name field is the seed, Miget's service_name

    def from_wire(self, item: Mapping[str, Any]) -> dict[str, Any]:
        config = item.get("deployment_config") or {}
        quota = item.get("quota") or {}
        region = item.get("region")
        ram_bytes = quota.get("ram_size")
        ram_mib = ram_bytes / MIB if isinstance(ram_bytes, (int, float)) else item.get("ram_size")
        return {
            "uuid": item["uuid"],
            **{key: item.get(key) for key in _RETURNED},
            "name": item.get("service_name"),  # the seed
            "app_name": item.get("name"),
            "service_name": item.get("service_name"),
            "ram_size": whole_number(ram_mib),
            "cpu_size": whole_number(quota.get("cpu_size", item.get("cpu_size"))),
            "image_url": config.get("image_url"),
            "tag": config.get("tag") or DEFAULT_TAG,
            "credential_id": config.get("credential_id") or None,
            "command": config.get("command") or None,
            "args": config.get("args") or None,
            "region": region.get("code") if isinstance(region, Mapping) else region,
            "created_at": item.get("created_at"),
            "updated_at": item.get("updated_at"),
        }

    # ---- create --------------------------------------------------------------------------------
    def create_body(self, props: Mapping[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {
            key: whole_number(props[key]) for key in _CREATE_FIELDS if props.get(key) is not None
        }
        body["deployment_method"] = DEPLOYMENT_METHOD
        body["deployment_config"] = {
            key: props[key] for key in DEPLOYMENT_FIELDS if props.get(key) is not None
        }
        env = props.get("env")
        if env:
            body["app_vars_attributes"] = [{"key": k, "value": env[k]} for k in sorted(env)]
        return body

    # ---- update: one request per endpoint --------------------------------------------------------
    @staticmethod
    def app_body(olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
        return {
            key: whole_number(news[key])
            for key in APP_FIELDS
            if news.get(key) is not None and news.get(key) != olds.get(key)
        }

    @staticmethod
    def deployment_body(olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
        """The deployment PUT for the changed fields (empty: nothing changed)."""
        changed = [key for key in DEPLOYMENT_FIELDS if news.get(key) != olds.get(key)]
        if not changed:
            return {}
        attributes: dict[str, Any] = {"image_url": news.get("image_url")}
        for key in changed:
            value = news.get(key)
            attributes[_DEPLOYMENT_PUT_KEYS.get(key, key)] = "" if value is None else value
        return {"deployment_method": DEPLOYMENT_METHOD, "deployment_config_attributes": attributes}

    def put_part(
        self,
        uuid: str,
        part: str,
        body: dict[str, Any],
        workspace: str,
        operation: str,
        secrets: Iterable[str],
    ) -> dict[str, Any]:
        """``PUT /apps/{uuid}`` (``part=""``) or ``PUT /apps/{uuid}/deployment``
        (``part="deployment"``); both answer the app."""
        suffix = f"/{part}" if part else ""
        return self.put(uuid, body, workspace, operation, secrets, suffix=suffix)

    def variable(
        self,
        method: str,
        uuid: str,
        key: str,
        value: str | None,
        workspace: str,
        operation: str,
        secrets: Iterable[str | None],
    ) -> None:
        """One variable call: ``POST`` (new), ``PUT`` (changed) or ``DELETE`` (removed)."""
        body: dict[str, Any] = {"key": key} if method == "DELETE" else {"key": key, "value": value}
        self.client.request(
            method,
            f"{self.item_path(uuid)}/vars",
            operation,
            body=body,
            workspace_id=workspace,
            secrets=secrets,
        )
