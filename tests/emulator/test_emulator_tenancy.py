"""API keys, workspaces, workspace-scoped keys and suspension."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests

from pulumi_miget.emulator import DEFAULT_API_KEY, DEFAULT_WORKSPACE_ID, EmulatorServer
from tests import samples
from tests.emulator.helpers import Api, github_credential
from tests.samples import (
    API_KEY,
    CREDENTIALS_PATH,
    OTHER_WORKSPACE_ID,
    THIRD_WORKSPACE_ID,
    UNKNOWN_WORKSPACE_ID,
)

UNAUTHORIZED = {"error": "Unauthorized"}
NO_ACCESS = {"error": "You don't have access to this workspace"}
SUSPENDED = {"error": "Your workspace has been suspended. Please contact support to reactivate it."}
NOT_FOUND = {"error": "Container registry credential not found"}


def every_endpoint(api: Api, credential_id: str) -> list[requests.Response]:
    return [
        api.list(),
        api.post(github_credential(name="during")),
        api.get(credential_id),
        api.put(credential_id, {"username": "x"}),
        api.delete(credential_id),
    ]


def test_the_documented_defaults_are_exported() -> None:
    assert (DEFAULT_API_KEY, DEFAULT_WORKSPACE_ID) == (
        samples.API_KEY,
        samples.DEFAULT_WORKSPACE_ID,
    )


# --- authentication ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer wrong-key",
        f"Bearer {API_KEY.upper()}",
        f"Basic {API_KEY}",
        API_KEY,
    ],
)
def test_a_missing_or_wrong_bearer_key_is_401(api: Api, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    response = api.with_key(None).request("GET", CREDENTIALS_PATH, headers=headers)

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


def test_every_endpoint_requires_the_key(api: Api) -> None:
    created = api.create()

    answers = every_endpoint(api.with_key("wrong"), created["uuid"])

    assert [(a.status_code, a.json()) for a in answers] == [(401, UNAUTHORIZED)] * 5
    assert api.get(created["uuid"]).json() == created


def test_the_bearer_scheme_is_case_insensitive(api: Api) -> None:
    response = api.with_key(None).request(
        "GET", CREDENTIALS_PATH, headers={"Authorization": f"bearer {API_KEY}"}
    )

    assert response.status_code == 200


def test_authentication_is_checked_before_the_workspace(api: Api) -> None:
    response = api.with_key("wrong").in_workspace("not-a-uuid").list()

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


# --- workspaces ----------------------------------------------------------------------------


def test_a_non_uuid_workspace_header_is_400(api: Api) -> None:
    response = api.in_workspace("my-workspace").list()

    assert response.status_code == 400
    assert response.json() == {"error": "X-Workspace-Id must be a workspace UUID"}


def test_an_unknown_workspace_is_403(api: Api) -> None:
    response = api.in_workspace(UNKNOWN_WORKSPACE_ID).list()

    assert response.status_code == 403
    assert response.json() == NO_ACCESS


def test_no_header_means_the_default_workspace(api: Api) -> None:
    created = api.create()

    response = api.in_workspace(DEFAULT_WORKSPACE_ID).list()

    assert response.json() == [created]


def test_an_upper_case_workspace_header_names_the_same_workspace(api: Api) -> None:
    created = api.in_workspace(OTHER_WORKSPACE_ID).create()

    response = api.in_workspace(OTHER_WORKSPACE_ID.upper()).list()

    assert response.json() == [created]


def test_credentials_in_one_workspace_are_invisible_from_another(api: Api) -> None:
    other = api.in_workspace(OTHER_WORKSPACE_ID)
    created = other.create()

    answers = [
        api.get(created["uuid"]),
        api.put(created["uuid"], {"name": "x"}),
        api.delete(created["uuid"]),
        api.in_workspace(THIRD_WORKSPACE_ID).get(created["uuid"]),
    ]

    assert [(a.status_code, a.json()) for a in answers] == [(404, NOT_FOUND)] * 4
    assert api.list().json() == []
    assert other.list().json() == [created]


# --- workspace-scoped keys -----------------------------------------------------------------

SCOPED_KEY = "miget_live_workspace_key"
NEW_WORKSPACE_ID = "00000000-0000-4000-8000-0000000000b1"
NEW_WORKSPACE_KEY = "miget_live_new_workspace_key"


@pytest.fixture(scope="module")
def scoped_server() -> Iterator[EmulatorServer]:
    """API_KEY (a user key), a key scoped to OTHER_WORKSPACE_ID (listed) and one scoped to a
    workspace that is not listed with --workspace."""
    keys = [
        API_KEY,
        f"{SCOPED_KEY}@{OTHER_WORKSPACE_ID}",
        f"{NEW_WORKSPACE_KEY}@{NEW_WORKSPACE_ID}",
    ]
    with EmulatorServer(api_keys=keys, workspaces=[OTHER_WORKSPACE_ID]) as server:
        yield server


@pytest.fixture
def scoped(scoped_server: EmulatorServer) -> EmulatorServer:
    scoped_server.reset()
    return scoped_server


def test_a_scoped_key_defaults_to_its_own_workspace(scoped: EmulatorServer) -> None:
    created = Api(scoped.url, key=SCOPED_KEY).create()

    seen_by_user = Api(scoped.url).in_workspace(OTHER_WORKSPACE_ID).list()

    assert seen_by_user.json() == [created]
    assert Api(scoped.url).list().json() == []


def test_a_scoped_key_may_name_its_own_workspace(scoped: EmulatorServer) -> None:
    response = Api(scoped.url, key=SCOPED_KEY, workspace=OTHER_WORKSPACE_ID).list()

    assert response.status_code == 200


@pytest.mark.parametrize("workspace", [DEFAULT_WORKSPACE_ID, NEW_WORKSPACE_ID])
def test_a_scoped_key_is_403_on_any_other_workspace(scoped: EmulatorServer, workspace: str) -> None:
    response = Api(scoped.url, key=SCOPED_KEY, workspace=workspace).list()

    assert response.status_code == 403
    assert response.json() == NO_ACCESS


def test_a_scoped_keys_unlisted_workspace_is_created_for_every_user_key(
    scoped: EmulatorServer,
) -> None:
    created = Api(scoped.url, key=NEW_WORKSPACE_KEY).create()

    response = Api(scoped.url, workspace=NEW_WORKSPACE_ID).list()

    assert response.status_code == 200
    assert response.json() == [created]


@pytest.mark.parametrize(
    ("api_keys", "workspaces"),
    [
        (["key@not-a-uuid"], []),
        (["@" + OTHER_WORKSPACE_ID], []),
        ([""], []),
        (["two words"], []),
        ([], []),
        ([API_KEY], ["not-a-uuid"]),
    ],
)
def test_a_bad_key_or_workspace_configuration_is_refused(
    api_keys: list[str], workspaces: list[str]
) -> None:
    with pytest.raises(ValueError):
        EmulatorServer(api_keys=api_keys, workspaces=workspaces)


# --- suspension ----------------------------------------------------------------------------


def test_a_suspended_workspace_answers_403_to_every_request(
    api: Api, emulator: EmulatorServer
) -> None:
    created = api.create()

    emulator.suspend(DEFAULT_WORKSPACE_ID)
    answers = every_endpoint(api, created["uuid"])

    assert [(a.status_code, a.json()) for a in answers] == [(403, SUSPENDED)] * 5
    emulator.suspend(DEFAULT_WORKSPACE_ID, suspended=False)
    assert api.list().json() == [created]


def test_suspension_leaves_other_workspaces_alone(api: Api, emulator: EmulatorServer) -> None:
    emulator.suspend(OTHER_WORKSPACE_ID)

    assert api.list().status_code == 200
    assert api.in_workspace(OTHER_WORKSPACE_ID).list().status_code == 403


def test_access_is_checked_before_suspension(scoped: EmulatorServer) -> None:
    scoped.suspend(DEFAULT_WORKSPACE_ID)

    response = Api(scoped.url, key=SCOPED_KEY, workspace=DEFAULT_WORKSPACE_ID).list()

    assert response.status_code == 403
    assert response.json() == NO_ACCESS


def test_suspending_an_unknown_workspace_is_refused(emulator: EmulatorServer) -> None:
    with pytest.raises(KeyError):
        emulator.suspend(str(uuid.uuid4()))
