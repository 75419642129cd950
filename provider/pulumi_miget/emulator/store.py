"""Credentials, apps and deployments in SQLite (``:memory:`` by default, a file with ``--db``), so
a local stack survives an emulator restart. API keys, workspaces and suspensions are not stored
here: they are configuration, kept in memory (``tenancy.py``).

Each table is a ``Table`` of one record dataclass (``records.py``): a column per field, in field
order, converted the same way for every table (``bool`` as 0/1, ``float`` as REAL read back as
an int when whole, a ``Mapping`` as JSON text with sorted keys). The schema below is written out
by hand and is the file format: files written by earlier versions of the emulator stay readable.
New tables are only ever added (``CREATE TABLE IF NOT EXISTS`` adds them to an older file when it
is opened), and the columns of an existing table never change, so ``SCHEMA_VERSION`` stays 1.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Generic, TypeVar, get_origin, get_type_hints

from pulumi_miget.emulator.records import AppRecord, CredentialRecord, DeploymentRecord

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["SCHEMA_VERSION", "DuplicateNameError", "Store", "Table"]

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
-- Added with the deployment endpoints, the same way. The logs are the row's own text.
CREATE TABLE IF NOT EXISTS deployments (
    uuid              TEXT PRIMARY KEY,
    workspace_id      TEXT NOT NULL,
    app_uuid          TEXT NOT NULL,
    deployment_method TEXT NOT NULL,
    revision          TEXT NOT NULL,  -- JSON object: the app's deployment config it ships
    rollback_of       TEXT,
    outcome           TEXT NOT NULL,  -- completed | failed, unless cancelled
    pending_ms        INTEGER NOT NULL,
    duration_ms       INTEGER NOT NULL,
    cancel_ms         INTEGER NOT NULL,
    log               TEXT NOT NULL,
    message           TEXT NOT NULL,
    cancelled_ms      INTEGER,
    created_ms        INTEGER NOT NULL,
    updated_ms        INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS deployments_by_app ON deployments (workspace_id, app_uuid, created_ms);
"""

RecordT = TypeVar("RecordT", bound="DataclassInstance")


class DuplicateNameError(Exception):
    """Another row of the workspace already has this value in its table's unique column (a
    credential's name, an app's service name)."""


# --- columns --------------------------------------------------------------------------------


def _same(value: Any) -> Any:
    return value


def _number(value: float) -> float:
    """SQLite REAL → int when whole, so 256 MiB reads back as 256, not 256.0."""
    return int(value) if float(value).is_integer() else float(value)


def _json_text(value: Mapping[str, Any]) -> str:
    return json.dumps(dict(value), sort_keys=True)


@dataclasses.dataclass(frozen=True)
class _Column:
    name: str
    to_sql: Callable[[Any], Any]
    from_sql: Callable[[Any], Any]


_PLAIN_TYPES: tuple[Any, ...] = (str, int, str | None, int | None)


def _column(name: str, hint: Any) -> _Column:
    """The column for one record field, its conversions chosen by the field's type."""
    if hint is bool:
        return _Column(name, int, bool)
    if hint is float:
        return _Column(name, _same, _number)
    if get_origin(hint) is Mapping:
        return _Column(name, _json_text, json.loads)
    if hint in _PLAIN_TYPES:
        return _Column(name, _same, _same)
    raise TypeError(f"no SQLite column type for field {name!r} of type {hint!r}")


def columns_of(record_type: type[DataclassInstance]) -> tuple[_Column, ...]:
    """A column per field of ``record_type``, in field order."""
    hints = get_type_hints(record_type)
    return tuple(_column(f.name, hints[f.name]) for f in dataclasses.fields(record_type))


# --- tables and the store ---------------------------------------------------------------------


class Table(Generic[RecordT]):
    """One SQLite table holding ``record_type`` rows, its columns the dataclass's fields.

    Rows belong to a workspace (``workspace_id``), are keyed by ``uuid``, listed in creation
    order (``created_ms``, then insertion order) and unique within the workspace by the
    ``unique`` column (the schema's ``UNIQUE`` constraint; ``uuid`` for a table without one).
    """

    def __init__(
        self,
        connection: sqlite3.Connection,
        lock: threading.RLock,
        name: str,
        record_type: type[RecordT],
        *,
        unique: str,
    ) -> None:
        self.name = name
        self.unique = unique
        self._conn = connection
        self._lock = lock
        self._make: Callable[..., RecordT] = record_type
        self._columns = columns_of(record_type)
        names = ", ".join(column.name for column in self._columns)
        placeholders = ",".join("?" * len(self._columns))
        self._select = f"SELECT {names} FROM {name}"
        self._write_sql = f"INTO {name} ({names}) VALUES ({placeholders})"

    def in_workspace(self, workspace_id: str) -> list[RecordT]:
        """The workspace's rows, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                f"{self._select} WHERE workspace_id = ? ORDER BY created_ms, rowid",
                (workspace_id,),
            ).fetchall()
        return [self._record(row) for row in rows]

    def where(self, workspace_id: str, column: str, value: str) -> list[RecordT]:
        """The workspace's rows whose ``column`` (one of the record's fields) is ``value``, oldest
        first."""
        self._check_column(column)
        with self._lock:
            rows = self._conn.execute(
                f"{self._select} WHERE workspace_id = ? AND {column} = ? "
                "ORDER BY created_ms, rowid",
                (workspace_id, value),
            ).fetchall()
        return [self._record(row) for row in rows]

    def delete_where(self, workspace_id: str, column: str, value: str) -> int:
        """Delete the workspace's rows whose ``column`` is ``value``; how many there were."""
        self._check_column(column)
        with self._lock:
            cursor = self._conn.execute(
                f"DELETE FROM {self.name} WHERE workspace_id = ? AND {column} = ?",
                (workspace_id, value),
            )
        return cursor.rowcount

    def get(self, workspace_id: str, record_id: str) -> RecordT | None:
        with self._lock:
            row = self._conn.execute(
                f"{self._select} WHERE workspace_id = ? AND uuid = ?", (workspace_id, record_id)
            ).fetchone()
        return None if row is None else self._record(row)

    def taken(self, workspace_id: str, value: str, *, except_id: str | None = None) -> bool:
        """Whether a row of the workspace (other than ``except_id``) has ``value`` in the
        ``unique`` column."""
        with self._lock:
            row = self._conn.execute(
                f"SELECT 1 FROM {self.name} "
                f"WHERE workspace_id = ? AND {self.unique} = ? AND uuid IS NOT ?",
                (workspace_id, value, except_id),
            ).fetchone()
        return row is not None

    def insert(self, record: RecordT) -> None:
        """DuplicateNameError when the workspace has the record's unique value already."""
        self._write("INSERT", record)

    def replace(self, record: RecordT) -> None:
        """Insert or overwrite the row with the record's uuid."""
        self._write("REPLACE", record)

    def delete(self, workspace_id: str, record_id: str) -> bool:
        """Whether there was such a row."""
        with self._lock:
            cursor = self._conn.execute(
                f"DELETE FROM {self.name} WHERE workspace_id = ? AND uuid = ?",
                (workspace_id, record_id),
            )
        return cursor.rowcount > 0

    def clear(self) -> None:
        with self._lock:
            self._conn.execute(f"DELETE FROM {self.name}")

    def _check_column(self, column: str) -> None:
        # Column names go into the SQL text: only the record's own field names may.
        if column not in {c.name for c in self._columns}:
            raise ValueError(f"{self.name} has no column {column!r}")

    def _write(self, verb: str, record: RecordT) -> None:
        row = tuple(column.to_sql(getattr(record, column.name)) for column in self._columns)
        try:
            with self._lock:
                self._conn.execute(f"{verb} {self._write_sql}", row)
        except sqlite3.IntegrityError as error:
            # The UNIQUE index is the last line of defence behind taken().
            raise DuplicateNameError(getattr(record, self.unique)) from error

    def _record(self, row: tuple[Any, ...]) -> RecordT:
        values = {
            column.name: column.from_sql(value)
            for column, value in zip(self._columns, row, strict=True)
        }
        return self._make(**values)


class Store:
    """Credentials, apps and deployments in SQLite: one connection shared by the server's
    threads, behind a lock.

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
            self.credentials = Table(
                self._conn, self._lock, "credentials", CredentialRecord, unique="name"
            )
            self.apps = Table(self._conn, self._lock, "apps", AppRecord, unique="service_name")
            self.deployments = Table(
                self._conn, self._lock, "deployments", DeploymentRecord, unique="uuid"
            )
            self._migrate()
            self._last_ms = self._latest_timestamp()
        except BaseException:
            self._conn.close()  # e.g. the file is not a database
            raise

    def _tables(self) -> tuple[Table[Any], ...]:
        return (self.credentials, self.apps, self.deployments)

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
        latest = " UNION ALL ".join(
            f"SELECT MAX(updated_ms) AS m FROM {table.name}" for table in self._tables()
        )
        row = self._conn.execute(f"SELECT MAX(m) FROM ({latest})").fetchone()
        return int(row[0] or 0)

    def now_ms(self) -> int:
        """Milliseconds since the epoch, strictly greater than any earlier answer.

        Strictly increasing even within one millisecond (and across restarts on a file), so
        ``updated_at`` always advances on update and ``created_at`` orders the list.
        """
        with self._lock:
            self._last_ms = max(time.time_ns() // 1_000_000, self._last_ms + 1)
            return self._last_ms

    def clock_ms(self) -> int:
        """The emulator's clock now, in milliseconds since the epoch: the wall clock, but never
        behind any timestamp ``now_ms`` handed out (so never going backwards either). Reading it
        does not advance it. Deployments progress on it (``deployments.py``)."""
        with self._lock:
            return max(time.time_ns() // 1_000_000, self._last_ms)

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

    def apps_using_credential(self, workspace_id: str, credential_id: str) -> int:
        """How many of the workspace's apps pull with this credential."""
        apps = self.apps.in_workspace(workspace_id)
        return sum(1 for app in apps if app.credential_id == credential_id)

    def clear(self) -> None:
        """Drop every credential, app and deployment."""
        with self._lock:
            for table in self._tables():
                table.clear()

    def close(self) -> None:
        with self._lock:
            self._conn.close()
