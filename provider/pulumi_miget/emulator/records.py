"""The records the emulator stores (one dataclass per SQLite table, a field per column) and the
API entities they answer as.

The registry token is never stored: only its SHA-256 (to tell a rotation from a resend) and the
simulated registry's verdict on it (so a later update that changes the username re-validates
without the plaintext). App variable values are stored the same way: only their SHA-256.

A deployment's entity depends on the clock (its state is computed on each read), so
``DeploymentRecord`` has no ``to_api``: ``deployments.py`` renders it.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

__all__ = [
    "MIB",
    "REGION",
    "REVISION_FIELDS",
    "AppRecord",
    "CredentialRecord",
    "DeploymentRecord",
    "format_timestamp",
    "new_credential",
    "resource_name",
    "sha256_hex",
]

REGION = {"id": 1, "name": "EU East 1", "code": "eu-east-1"}
"""The one region the emulator simulates [INF]: every resource is in it."""

MIB = 1024 * 1024

REVISION_FIELDS = ("image_url", "tag", "credential_id", "command", "args")
"""The ``container_registry`` deployment config fields: what an app's config holds and what a
deployment records of it (its revision)."""


def sha256_hex(secret: str) -> str:
    """SHA-256 of a registry token or an app variable's value: what the emulator stores instead
    of the secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def format_timestamp(epoch_ms: int) -> str:
    """ISO 8601 UTC with milliseconds and ``Z`` (Rails' JSON format) [INF]."""
    moment = datetime.fromtimestamp(epoch_ms // 1000, tz=timezone.utc)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{epoch_ms % 1000:03d}Z"


def resource_name(resource_id: str) -> str:
    """The resource's (Miget's) name as it appears in ``internal_url`` [INF: derived from its
    uuid, since the emulator has no resources; Miget's look like ``migetmxq``]."""
    return "miget" + resource_id.replace("-", "")[:3]


@dataclass(frozen=True)
class CredentialRecord:
    """One stored credential. ``token_rejected`` is the simulated registry's verdict."""

    uuid: str
    workspace_id: str
    name: str
    registry: str
    username: str
    token_sha256: str
    token_rejected: bool
    registry_hostname: str | None
    created_ms: int
    updated_ms: int

    def to_api(self) -> dict[str, Any]:
        """The API entity: exactly these seven fields, never the token (miget-api.md §1.1)."""
        return {
            "uuid": self.uuid,
            "name": self.name,
            "registry": self.registry,
            "username": self.username,
            "registry_hostname": self.registry_hostname,
            "created_at": format_timestamp(self.created_ms),
            "updated_at": format_timestamp(self.updated_ms),
        }


def new_credential(
    *,
    workspace_id: str,
    name: str,
    registry: str,
    username: str,
    token: str,
    token_rejected: bool,
    registry_hostname: str | None,
    now_ms: int,
) -> CredentialRecord:
    """A credential created now, with a fresh uuid; the token is kept as its hash only."""
    return CredentialRecord(
        uuid=str(uuid.uuid4()),
        workspace_id=workspace_id,
        name=name,
        registry=registry,
        username=username,
        token_sha256=sha256_hex(token),
        token_rejected=token_rejected,
        registry_hostname=registry_hostname,
        created_ms=now_ms,
        updated_ms=now_ms,
    )


@dataclass(frozen=True)
class AppRecord:
    """One stored app. ``name`` is the suffixed name, ``service_name`` the seed.

    ``deployment_config`` holds the ``container_registry`` fields (``image_url``, ``tag``,
    ``credential_id``, ``command``, ``args``); ``vars_sha256`` maps each variable's key to the
    SHA-256 of its value (values are never kept).
    """

    uuid: str
    workspace_id: str
    name: str
    service_name: str
    label: str
    project_id: str
    resource_id: str
    builder: str
    ram_size: float  # MiB
    cpu_size: float  # cores
    deployment_method: str
    deployment_config: Mapping[str, Any] = field(default_factory=dict)
    vars_sha256: Mapping[str, str] = field(default_factory=dict)
    state: str = "created"
    created_ms: int = 0
    updated_ms: int = 0

    @property
    def credential_id(self) -> str | None:
        value = self.deployment_config.get("credential_id")
        return value if isinstance(value, str) and value else None

    def to_api(self) -> dict[str, Any]:
        """The API entity [DOC fields, INF shapes]: never an app variable."""
        region_code = REGION["code"]
        return {
            "uuid": self.uuid,
            "name": self.name,
            "label": self.label,
            "service_name": self.service_name,
            "project_id": self.project_id,
            "resource_id": self.resource_id,
            "builder": self.builder,
            "deployment_method": self.deployment_method,
            "deployment_config": {key: self.deployment_config.get(key) for key in REVISION_FIELDS},
            # Miget reports limits under quota, RAM in bytes [DOC]; no top-level ram/cpu.
            "quota": {"ram_size": int(self.ram_size * MIB), "cpu_size": self.cpu_size},
            "state": self.state,
            "region": dict(REGION),
            "miget": {"uuid": self.resource_id, "name": resource_name(self.resource_id)},
            "private_access": False,
            "public_url": f"https://{self.name}.{region_code}.migetapp.com",
            "internal_url": (
                f"{self.service_name}.{resource_name(self.resource_id)}.{region_code}"
                ".migetapp.internal:5000"
            ),
            "created_at": format_timestamp(self.created_ms),
            "updated_at": format_timestamp(self.updated_ms),
        }


@dataclass(frozen=True)
class DeploymentRecord:
    """One stored deployment of an app (``app_uuid``): what it ships and how it behaves.

    ``revision`` is the app's deployment config when the deployment started
    (``REVISION_FIELDS``; ``tag`` is the deploy's ``custom_tag`` when one was sent), so a later
    config change does not change what it ran. The behaviour comes from the control settings of
    that moment (``deploy_settings.py``): it stays ``pending`` for ``pending_ms``, ends
    ``duration_ms`` after ``created_ms`` as ``outcome`` (``completed`` or ``failed``), and
    ``log`` and ``message`` are the settings' text for its logs. ``cancelled_ms`` is when a
    cancel was accepted (None: never); it then stays ``cancelling`` for ``cancel_ms``. The state
    is never stored: ``deployments.state_of`` derives it.
    """

    uuid: str
    workspace_id: str
    app_uuid: str
    deployment_method: str
    revision: Mapping[str, Any]
    rollback_of: str | None
    outcome: str
    pending_ms: int
    duration_ms: int
    cancel_ms: int
    log: str
    message: str
    cancelled_ms: int | None
    created_ms: int
    updated_ms: int
