"""State of the emulator: credentials and apps in SQLite, API keys and workspaces in memory.

Credentials and apps live in SQLite (``:memory:`` by default, a file with ``--db``) so a local
stack survives an emulator restart. Keys, workspaces and suspensions come from the command line
and the control API and are not persisted: they describe the emulator's configuration, not Miget
data.

The registry token is never stored: only its SHA-256 (to tell a rotation from a resend) and the
simulated registry's verdict on it (so a later update that changes the username re-validates
without the plaintext). App variable values are stored the same way: only their SHA-256.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pulumi_miget.rules import is_uuid

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_WORKSPACE_ID",
    "REGION",
    "AppRecord",
    "CredentialRecord",
    "DuplicateNameError",
    "Store",
    "Tenancy",
    "format_timestamp",
    "hash_token",
    "new_record",
    "normalise_workspace_id",
]

DEFAULT_API_KEY = "miget_live_emulator_local_key"
"""The API key the emulator accepts when none is configured (local use only)."""

DEFAULT_WORKSPACE_ID = "00000000-0000-4000-8000-000000000001"
"""The default workspace: used when a request has no ``X-Workspace-Id`` header."""

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS credentials (
    uuid              TEXT PRIMARY KEY,
    workspace_id      TEXT NOT NULL,
    name              TEXT NOT NULL,
    registry          TEXT NOT NULL,
    username          TEXT NOT NULL,
    token_sha256      TEXT NOT NULL,
    token_rejected    INTEGER NOT NULL,
    registry_hostname TEXT,
    created_ms        INTEGER NOT NULL,
    updated_ms        INTEGER NOT NULL,
    -- BINARY collation: names are unique per workspace, exact and case-sensitive [INF].
    UNIQUE (workspace_id, name)
);
CREATE INDEX IF NOT EXISTS credentials_by_age ON credentials (workspace_id, created_ms);
-- Added with the App endpoints; CREATE ... IF NOT EXISTS adds it to older files too.
CREATE TABLE IF NOT EXISTS apps (
    uuid              TEXT PRIMARY KEY,
    workspace_id      TEXT NOT NULL,
    name              TEXT NOT NULL,
    service_name      TEXT NOT NULL,
    label             TEXT NOT NULL,
    project_id        TEXT NOT NULL,
    resource_id       TEXT NOT NULL,
    builder           TEXT NOT NULL,
    ram_size          REAL NOT NULL,
    cpu_size          REAL NOT NULL,
    deployment_method TEXT NOT NULL,
    deployment_config TEXT NOT NULL,  -- JSON object
    vars_sha256       TEXT NOT NULL,  -- JSON object: key -> SHA-256 of the value
    state             TEXT NOT NULL,
    created_ms        INTEGER NOT NULL,
    updated_ms        INTEGER NOT NULL,
    -- service_name is unique across the workspace [DOC]
    UNIQUE (workspace_id, service_name)
);
CREATE INDEX IF NOT EXISTS apps_by_age ON apps (workspace_id, created_ms);
"""

_APP_COLUMNS = (
    "uuid, workspace_id, name, service_name, label, project_id, resource_id, builder, ram_size, "
    "cpu_size, deployment_method, deployment_config, vars_sha256, state, created_ms, updated_ms"
)
_APP_PLACEHOLDERS = ",".join("?" * 16)

REGION = {"id": 1, "name": "EU East 1", "code": "eu-east-1"}
"""The one region the emulator simulates [INF]: every resource is in it."""

MIB = 1024 * 1024

_COLUMNS = (
    "uuid, workspace_id, name, registry, username, token_sha256, token_rejected, "
    "registry_hostname, created_ms, updated_ms"
)


class DuplicateNameError(Exception):
    """Another credential in the workspace already has this name."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def format_timestamp(epoch_ms: int) -> str:
    """ISO 8601 UTC with milliseconds and ``Z`` (Rails' JSON format) [INF]."""
    moment = datetime.fromtimestamp(epoch_ms // 1000, tz=timezone.utc)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{epoch_ms % 1000:03d}Z"


def normalise_workspace_id(value: str) -> str:
    """The canonical (lower-case, hyphenated) form of a workspace UUID; ValueError otherwise."""
    if not is_uuid(value):
        raise ValueError(f"workspace id {value!r} is not a UUID")
    return str(uuid.UUID(value))


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


def hash_value(value: str) -> str:
    """SHA-256 of an app variable's value: what the emulator stores instead of the value."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def resource_name(resource_id: str) -> str:
    """The resource's (Miget's) name as it appears in ``internal_url`` [INF: derived from its
    uuid, since the emulator has no resources; Miget's look like ``migetmxq``]."""
    return "miget" + resource_id.replace("-", "")[:3]


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
            "deployment_config": {
                key: self.deployment_config.get(key)
                for key in ("image_url", "tag", "credential_id", "command", "args")
            },
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


class Store:
    """Credentials and apps in SQLite: one connection shared by the server's threads, behind a lock.

    ``transaction()`` holds the (re-entrant) lock across a read-check-write sequence, so two
    concurrent updates cannot both pass a uniqueness check and then collide.
    """

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        # check_same_thread=False: the threaded server calls in from many threads; _lock
        # serialises every use of the connection.
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        try:
            self._migrate()
            self._last_ms = self._latest_timestamp()
        except BaseException:
            self._conn.close()  # e.g. the file is not a database
            raise

    def _migrate(self) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, SCHEMA_VERSION):
            raise ValueError(
                f"{self.path} holds emulator schema version {version}; "
                f"this emulator understands version {SCHEMA_VERSION}"
            )
        self._conn.executescript(_SCHEMA)
        self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _latest_timestamp(self) -> int:
        row = self._conn.execute(
            "SELECT MAX(m) FROM (SELECT MAX(updated_ms) AS m FROM credentials "
            "UNION ALL SELECT MAX(updated_ms) FROM apps)"
        ).fetchone()
        return int(row[0] or 0)

    def now_ms(self) -> int:
        """Milliseconds since the epoch, strictly greater than any earlier answer.

        Strictly increasing even within one millisecond (and across restarts on a file), so
        ``updated_at`` always advances on update and ``created_at`` orders the list.
        """
        with self._lock:
            self._last_ms = max(time.time_ns() // 1_000_000, self._last_ms + 1)
            return self._last_ms

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def list(self, workspace_id: str) -> list[CredentialRecord]:
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_COLUMNS} FROM credentials WHERE workspace_id = ? "
                "ORDER BY created_ms, rowid",
                (workspace_id,),
            ).fetchall()
        return [_record(row) for row in rows]

    def get(self, workspace_id: str, credential_id: str) -> CredentialRecord | None:
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_COLUMNS} FROM credentials WHERE workspace_id = ? AND uuid = ?",
                (workspace_id, credential_id),
            ).fetchone()
        return None if row is None else _record(row)

    def name_taken(self, workspace_id: str, name: str, *, except_id: str | None = None) -> bool:
        with self._lock:
            row = self._conn.execute(
                "SELECT 1 FROM credentials WHERE workspace_id = ? AND name = ? AND uuid IS NOT ?",
                (workspace_id, name, except_id),
            ).fetchone()
        return row is not None

    def insert(self, record: CredentialRecord) -> None:
        self._write(f"INSERT INTO credentials ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)", record)

    def replace(self, record: CredentialRecord) -> None:
        self._write(f"REPLACE INTO credentials ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)", record)

    def _write(self, sql: str, record: CredentialRecord) -> None:
        try:
            with self._lock:
                self._conn.execute(sql, _row(record))
        except sqlite3.IntegrityError as error:
            # The UNIQUE index is the last line of defence behind name_taken().
            raise DuplicateNameError(record.name) from error

    def delete(self, workspace_id: str, credential_id: str) -> bool:
        with self._lock:
            cursor = self._conn.execute(
                "DELETE FROM credentials WHERE workspace_id = ? AND uuid = ?",
                (workspace_id, credential_id),
            )
        return cursor.rowcount > 0

    def clear(self) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM credentials")
            self._conn.execute("DELETE FROM apps")

    # ---- apps ---------------------------------------------------------------------------------

    def list_apps(self, workspace_id: str) -> builtins.list[AppRecord]:
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_APP_COLUMNS} FROM apps WHERE workspace_id = ? "
                "ORDER BY created_ms, rowid",
                (workspace_id,),
            ).fetchall()
        return [_app(row) for row in rows]

    def get_app(self, workspace_id: str, app_id: str) -> AppRecord | None:
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_APP_COLUMNS} FROM apps WHERE workspace_id = ? AND uuid = ?",
                (workspace_id, app_id),
            ).fetchone()
        return None if row is None else _app(row)

    def service_name_taken(self, workspace_id: str, service_name: str) -> bool:
        with self._lock:
            row = self._conn.execute(
                "SELECT 1 FROM apps WHERE workspace_id = ? AND service_name = ?",
                (workspace_id, service_name),
            ).fetchone()
        return row is not None

    def apps_using_credential(self, workspace_id: str, credential_id: str) -> int:
        """How many of the workspace's apps pull with this credential."""
        return sum(1 for app in self.list_apps(workspace_id) if app.credential_id == credential_id)

    def insert_app(self, record: AppRecord) -> None:
        self._write_app("INSERT", record)

    def replace_app(self, record: AppRecord) -> None:
        self._write_app("REPLACE", record)

    def _write_app(self, verb: str, record: AppRecord) -> None:
        sql = f"{verb} INTO apps ({_APP_COLUMNS}) VALUES ({_APP_PLACEHOLDERS})"
        try:
            with self._lock:
                self._conn.execute(sql, _app_row(record))
        except sqlite3.IntegrityError as error:
            raise DuplicateNameError(record.service_name) from error

    def delete_app(self, workspace_id: str, app_id: str) -> bool:
        with self._lock:
            cursor = self._conn.execute(
                "DELETE FROM apps WHERE workspace_id = ? AND uuid = ?", (workspace_id, app_id)
            )
        return cursor.rowcount > 0

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def new_record(
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
    return CredentialRecord(
        uuid=str(uuid.uuid4()),
        workspace_id=workspace_id,
        name=name,
        registry=registry,
        username=username,
        token_sha256=hash_token(token),
        token_rejected=token_rejected,
        registry_hostname=registry_hostname,
        created_ms=now_ms,
        updated_ms=now_ms,
    )


def _row(record: CredentialRecord) -> tuple[Any, ...]:
    return (
        record.uuid,
        record.workspace_id,
        record.name,
        record.registry,
        record.username,
        record.token_sha256,
        int(record.token_rejected),
        record.registry_hostname,
        record.created_ms,
        record.updated_ms,
    )


def _record(row: tuple[Any, ...]) -> CredentialRecord:
    (cid, workspace, name, registry, username, sha, rejected, hostname, created, updated) = row
    return CredentialRecord(
        uuid=cid,
        workspace_id=workspace,
        name=name,
        registry=registry,
        username=username,
        token_sha256=sha,
        token_rejected=bool(rejected),
        registry_hostname=hostname,
        created_ms=created,
        updated_ms=updated,
    )


def _app_row(record: AppRecord) -> tuple[Any, ...]:
    return (
        record.uuid,
        record.workspace_id,
        record.name,
        record.service_name,
        record.label,
        record.project_id,
        record.resource_id,
        record.builder,
        record.ram_size,
        record.cpu_size,
        record.deployment_method,
        json.dumps(dict(record.deployment_config), sort_keys=True),
        json.dumps(dict(record.vars_sha256), sort_keys=True),
        record.state,
        record.created_ms,
        record.updated_ms,
    )


def _app(row: tuple[Any, ...]) -> AppRecord:
    (aid, workspace, name, service, label, project, resource, builder, ram, cpu, method) = row[:11]
    config, vars_sha256, state, created, updated = row[11:]
    return AppRecord(
        uuid=aid,
        workspace_id=workspace,
        name=name,
        service_name=service,
        label=label,
        project_id=project,
        resource_id=resource,
        builder=builder,
        ram_size=_number(ram),
        cpu_size=_number(cpu),
        deployment_method=method,
        deployment_config=json.loads(config),
        vars_sha256=json.loads(vars_sha256),
        state=state,
        created_ms=created,
        updated_ms=updated,
    )


def _number(value: float) -> float:
    """SQLite REAL → int when whole, so 256 MiB reads back as 256, not 256.0."""
    return int(value) if float(value).is_integer() else float(value)


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
