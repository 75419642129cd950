"""State in a SQLite file survives a restart; the token is stored only as a hash."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from pulumi_miget.emulator import EmulatorServer
from tests.emulator.helpers import Api, github_credential
from tests.samples import OTHER_WORKSPACE_ID


def test_credentials_survive_a_restart_on_the_same_db_file(tmp_path: Path) -> None:
    db = str(tmp_path / "emulator.db")
    with EmulatorServer(db=db, workspaces=[OTHER_WORKSPACE_ID]) as first:
        created = Api(first.url).create(name="kept")
        other = Api(first.url, workspace=OTHER_WORKSPACE_ID).create(name="kept-too")

    with EmulatorServer(db=db, workspaces=[OTHER_WORKSPACE_ID]) as second:
        api = Api(second.url)
        assert api.list().json() == [created]
        assert api.in_workspace(OTHER_WORKSPACE_ID).list().json() == [other]
        assert api.post(github_credential(name="kept")).json() == {
            "error": "Name has already been taken"
        }


def test_updated_at_keeps_moving_forward_after_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "emulator.db")
    with EmulatorServer(db=db) as first:
        created = Api(first.url).create()

    with EmulatorServer(db=db) as second:
        updated = Api(second.url).put(created["uuid"], {"username": "after-restart"}).json()

    assert updated["updated_at"] > created["updated_at"]
    assert updated["created_at"] == created["created_at"]


def test_a_rotated_token_survives_a_restart_for_revalidation(tmp_path: Path) -> None:
    db = str(tmp_path / "emulator.db")
    with EmulatorServer(db=db) as first:
        created = Api(first.url).create(token="invalid-kept", skip_validation=True)

    with EmulatorServer(db=db) as second:
        response = Api(second.url).put(created["uuid"], {"username": "someone"})

    assert response.status_code == 422
    assert response.json() == {"error": "Invalid registry credentials"}


def test_the_db_file_holds_the_token_hash_but_never_the_token(tmp_path: Path) -> None:
    db = tmp_path / "emulator.db"
    token = "ghp_plaintext_must_not_be_stored"
    with EmulatorServer(db=str(db)) as server:
        Api(server.url).create(token=token)

    content = db.read_bytes()
    assert token.encode() not in content
    assert hashlib.sha256(token.encode()).hexdigest().encode() in content


def test_without_a_db_file_each_server_starts_empty() -> None:
    with EmulatorServer() as first:
        Api(first.url).create()
    with EmulatorServer() as second:
        assert Api(second.url).list().json() == []


def test_a_file_that_is_not_an_emulator_db_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 99")

    with pytest.raises(ValueError, match="schema version 99"):
        EmulatorServer(db=str(db))
