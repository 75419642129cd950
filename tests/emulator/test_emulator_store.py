"""The store's file format and its generic tables: the same tables, columns and row encoding as
the files earlier emulators wrote, so an existing ``--db`` file keeps working."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.emulator.records import AppRecord, CredentialRecord, sha256_hex
from pulumi_miget.emulator.store import SCHEMA_VERSION, DuplicateNameError, Store, Table
from tests.emulator.helpers import Api
from tests.samples import DEFAULT_WORKSPACE_ID

# (name, declared type, NOT NULL, primary key) per column, as PRAGMA table_info reports them.
CREDENTIAL_COLUMNS = [
    ("uuid", "TEXT", 0, 1),
    ("workspace_id", "TEXT", 1, 0),
    ("name", "TEXT", 1, 0),
    ("registry", "TEXT", 1, 0),
    ("username", "TEXT", 1, 0),
    ("token_sha256", "TEXT", 1, 0),
    ("token_rejected", "INTEGER", 1, 0),
    ("registry_hostname", "TEXT", 0, 0),
    ("created_ms", "INTEGER", 1, 0),
    ("updated_ms", "INTEGER", 1, 0),
]
APP_COLUMNS = [
    ("uuid", "TEXT", 0, 1),
    ("workspace_id", "TEXT", 1, 0),
    ("name", "TEXT", 1, 0),
    ("service_name", "TEXT", 1, 0),
    ("label", "TEXT", 1, 0),
    ("project_id", "TEXT", 1, 0),
    ("resource_id", "TEXT", 1, 0),
    ("builder", "TEXT", 1, 0),
    ("ram_size", "REAL", 1, 0),
    ("cpu_size", "REAL", 1, 0),
    ("deployment_method", "TEXT", 1, 0),
    ("deployment_config", "TEXT", 1, 0),
    ("vars_sha256", "TEXT", 1, 0),
    ("state", "TEXT", 1, 0),
    ("created_ms", "INTEGER", 1, 0),
    ("updated_ms", "INTEGER", 1, 0),
]
# The first file format: credentials only (the apps table came later, added on open).
FIRST_SCHEMA = """
CREATE TABLE credentials (
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
    UNIQUE (workspace_id, name)
);
CREATE INDEX credentials_by_age ON credentials (workspace_id, created_ms);
"""
CREDENTIAL_ID = "6f1c2a8e-3b4d-4c5e-9f60-718293a4b5c6"
APP_ID = "0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f"
PROJECT_ID = "11111111-2222-4333-8444-555555555555"
RESOURCE_ID = "66666666-7777-4888-8999-aaaaaaaaaaaa"
MS = 1_700_000_000_000  # 2023-11-14T22:13:20.000Z


def table_info(db: Path, table: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return [(r[1], r[2], r[3], r[5]) for r in conn.execute(f"PRAGMA table_info({table})")]


def credential(**overrides: Any) -> CredentialRecord:
    fields: dict[str, Any] = {
        "uuid": CREDENTIAL_ID,
        "workspace_id": DEFAULT_WORKSPACE_ID,
        "name": "ghcr-acme",
        "registry": "github",
        "username": "acme-bot",
        "token_sha256": sha256_hex("ghp_token"),
        "token_rejected": True,
        "registry_hostname": None,
        "created_ms": 1_700_000_000_123,
        "updated_ms": 1_700_000_000_456,
    }
    return CredentialRecord(**{**fields, **overrides})


def app(**overrides: Any) -> AppRecord:
    fields: dict[str, Any] = {
        "uuid": APP_ID,
        "workspace_id": DEFAULT_WORKSPACE_ID,
        "name": "web-abc123",
        "service_name": "web",
        "label": "Web",
        "project_id": PROJECT_ID,
        "resource_id": RESOURCE_ID,
        "builder": "auto",
        "ram_size": 256,
        "cpu_size": 0.5,
        "deployment_method": "container_registry",
        "deployment_config": {"tag": "v1", "image_url": "ghcr.io/acme/web"},
        "vars_sha256": {"B": sha256_hex("b"), "A": sha256_hex("a")},
        "created_ms": 1_700_000_000_789,
        "updated_ms": 1_700_000_000_789,
    }
    return AppRecord(**{**fields, **overrides})


def test_a_new_file_has_the_tables_columns_and_version_of_the_file_format(tmp_path: Path) -> None:
    db = tmp_path / "emulator.db"
    Store(str(db)).close()

    assert table_info(db, "credentials") == CREDENTIAL_COLUMNS
    assert table_info(db, "apps") == APP_COLUMNS
    with sqlite3.connect(db) as conn:
        objects = conn.execute(
            "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
        ).fetchall()
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    assert objects == [
        ("table", "apps"),
        ("index", "apps_by_age"),
        ("table", "credentials"),
        ("index", "credentials_by_age"),
        ("table", "deployments"),  # added with the deployment endpoints
        ("index", "deployments_by_app"),
    ]
    assert version == SCHEMA_VERSION == 1


@pytest.mark.parametrize(
    ("record_type", "columns"), [(CredentialRecord, CREDENTIAL_COLUMNS), (AppRecord, APP_COLUMNS)]
)
def test_each_record_field_is_a_column_in_the_same_order(
    record_type: type[Any], columns: list[tuple[Any, ...]]
) -> None:
    assert [f.name for f in dataclasses.fields(record_type)] == [c[0] for c in columns]


def test_rows_are_written_as_the_earlier_emulators_wrote_them(tmp_path: Path) -> None:
    db = tmp_path / "emulator.db"
    store = Store(str(db))
    store.credentials.insert(credential())
    store.apps.insert(app())
    store.close()

    with sqlite3.connect(db) as conn:
        [credential_row] = conn.execute("SELECT * FROM credentials").fetchall()
        [app_row] = conn.execute("SELECT * FROM apps").fetchall()
    assert credential_row == (
        CREDENTIAL_ID,
        DEFAULT_WORKSPACE_ID,
        "ghcr-acme",
        "github",
        "acme-bot",
        sha256_hex("ghp_token"),
        1,
        None,
        1_700_000_000_123,
        1_700_000_000_456,
    )
    assert app_row == (
        APP_ID,
        DEFAULT_WORKSPACE_ID,
        "web-abc123",
        "web",
        "Web",
        PROJECT_ID,
        RESOURCE_ID,
        "auto",
        256.0,
        0.5,
        "container_registry",
        '{"image_url": "ghcr.io/acme/web", "tag": "v1"}',
        f'{{"A": "{sha256_hex("a")}", "B": "{sha256_hex("b")}"}}',
        "created",
        1_700_000_000_789,
        1_700_000_000_789,
    )


def test_rows_read_back_as_the_records_that_were_written(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "emulator.db"))
    store.credentials.insert(credential())
    store.apps.insert(app())

    [read_credential] = store.credentials.in_workspace(DEFAULT_WORKSPACE_ID)
    read_app = store.apps.get(DEFAULT_WORKSPACE_ID, APP_ID)
    store.close()

    assert read_credential == credential()
    assert read_credential.token_rejected is True
    assert read_app == app()
    assert read_app is not None
    assert type(read_app.ram_size) is int  # whole REAL values read back as ints
    assert type(read_app.cpu_size) is float


def test_a_file_of_the_first_format_is_served_and_gains_the_apps_table(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:
        conn.executescript(FIRST_SCHEMA)
        conn.execute(
            "INSERT INTO credentials VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                CREDENTIAL_ID,
                DEFAULT_WORKSPACE_ID,
                "kept",
                "docker_hub",
                "bot",
                "0" * 64,
                0,
                None,
                MS,
                MS,
            ),
        )

    with EmulatorServer(db=str(db)) as server:
        listed = Api(server.url).list().json()

    assert listed == [
        {
            "uuid": CREDENTIAL_ID,
            "name": "kept",
            "registry": "docker_hub",
            "username": "bot",
            "registry_hostname": None,
            "created_at": "2023-11-14T22:13:20.000Z",
            "updated_at": "2023-11-14T22:13:20.000Z",
        }
    ]
    assert table_info(db, "apps") == APP_COLUMNS


def test_the_unique_column_is_per_workspace_and_a_duplicate_is_refused() -> None:
    store = Store()
    store.credentials.insert(credential())
    other = "00000000-0000-4000-8000-000000000002"

    assert store.credentials.taken(DEFAULT_WORKSPACE_ID, "ghcr-acme")
    assert not store.credentials.taken(DEFAULT_WORKSPACE_ID, "ghcr-acme", except_id=CREDENTIAL_ID)
    assert not store.credentials.taken(other, "ghcr-acme")
    with pytest.raises(DuplicateNameError, match="ghcr-acme"):
        store.credentials.insert(credential(uuid="7f1c2a8e-3b4d-4c5e-9f60-718293a4b5c6"))
    store.apps.insert(app())
    assert store.apps.taken(DEFAULT_WORKSPACE_ID, "web")
    with pytest.raises(DuplicateNameError, match="web"):
        store.apps.insert(app(uuid="1b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f", name="web-zzz999"))
    store.close()


def test_delete_and_clear_empty_the_tables() -> None:
    store = Store()
    store.credentials.insert(credential())
    store.apps.insert(app())

    assert store.credentials.delete(DEFAULT_WORKSPACE_ID, CREDENTIAL_ID)
    assert not store.credentials.delete(DEFAULT_WORKSPACE_ID, CREDENTIAL_ID)
    store.clear()
    assert store.apps.in_workspace(DEFAULT_WORKSPACE_ID) == []
    store.close()


def test_a_record_field_of_a_type_with_no_column_is_refused_when_the_table_is_built() -> None:
    @dataclasses.dataclass(frozen=True)
    class Odd:
        uuid: str
        when: complex

    conn = sqlite3.connect(":memory:")
    with pytest.raises(TypeError, match="'when'"):
        Table(conn, threading.RLock(), "odd", Odd, unique="uuid")
    conn.close()
