"""Authentication and workspace errors: one clear error each, and no retry storm.

A wrong API key (401), a missing key (a configuration error), a workspace the key may not use
(403) and a suspended workspace (403) are not transient: retrying cannot fix them. Each of
create, read, update and delete must fail at once with an error naming the operation, the
credential, the status and what to check — after exactly one request (none for a missing key),
even though the providers here have a retry budget of two.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import grpc
import pytest

from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.testing import Engine, ResourceState, destroy, refresh, up
from tests.reliability.common import (
    ASO,
    NAME,
    NEW_USERNAME,
    WRONG_KEY,
    Provider,
    calls,
    leaked,
    news,
    serve,
    stack_config,
)
from tests.reliability.figures import Figures
from tests.samples import OTHER_WORKSPACE_ID, UNKNOWN_WORKSPACE_ID

OPERATIONS = ("create", "read", "update", "delete")
METHODS = {"create": "POST", "read": "GET", "update": "PUT", "delete": "DELETE"}


@pytest.fixture(scope="module")
def wrong_key(emulator_server: EmulatorServer, figures: Figures) -> Iterator[Provider]:
    config = stack_config(emulator_server, api_key=WRONG_KEY, timeout="5", maxRetries="2")
    yield from serve(config, figures)


@pytest.fixture(scope="module")
def no_key(emulator_server: EmulatorServer, figures: Figures) -> Iterator[Provider]:
    config = stack_config(emulator_server, api_key=None, timeout="5", maxRetries="2")
    yield from serve(config, figures, env={"MIGET_API_KEY": ""})


@dataclass(frozen=True)
class Case:
    """One kind of error: which provider meets it, in which workspace, and what it must say."""

    id: str
    provider: str  # fixture name
    workspace: str | None
    says: tuple[str, ...]
    requests: int
    prepare: Callable[[EmulatorServer], None] = lambda emulator: None
    names_operation: bool = True
    """A configuration error is raised before any operation, so it names the setting instead."""


def suspend_other(emulator: EmulatorServer) -> None:
    emulator.suspend(OTHER_WORKSPACE_ID)


CASES = (
    Case(
        "wrong-key",
        provider="wrong_key",
        workspace=None,
        says=("HTTP 401", "Unauthorized", "miget:apiKey"),
        requests=1,
    ),
    Case(
        "missing-key",
        provider="no_key",
        workspace=None,
        says=("miget:apiKey", "MIGET_API_KEY"),
        requests=0,
        names_operation=False,
    ),
    Case(
        "foreign-workspace",
        provider="standard_provider",
        workspace=UNKNOWN_WORKSPACE_ID,
        says=("HTTP 403", "access to this workspace", UNKNOWN_WORKSPACE_ID),
        requests=1,
    ),
    Case(
        "suspended-workspace",
        provider="standard_provider",
        workspace=OTHER_WORKSPACE_ID,
        says=("HTTP 403", "suspended", OTHER_WORKSPACE_ID),
        requests=1,
        prepare=suspend_other,
    ),
)


def existing_state(good: Engine, workspace: str | None) -> ResourceState:
    """A credential the stack already manages. For a workspace the key may not use (the key was
    removed from it, say) it is created elsewhere and its state moved there."""
    reachable = OTHER_WORKSPACE_ID if workspace == UNKNOWN_WORKSPACE_ID else workspace
    op, state = up(good, "cred", news(workspace_id=reachable), None, ASO)
    assert op == "create" and state is not None
    if workspace == UNKNOWN_WORKSPACE_ID:
        state = ResourceState(
            state.urn,
            state.id,
            {**state.inputs, "workspace_id": workspace},
            {**state.outputs, "workspace_id": workspace},
            state.additional_secret_outputs,
        )
    return state


def run(engine: Engine, op: str, workspace: str | None, state: ResourceState | None) -> None:
    if op == "create":
        up(engine, "cred", news(workspace_id=workspace), None, ASO)
    elif op == "read":
        assert state is not None
        refresh(engine, state)
    elif op == "update":
        assert state is not None
        up(engine, "cred", news(workspace_id=workspace, username=NEW_USERNAME), state, ASO)
    else:
        assert state is not None
        destroy(engine, state)


@pytest.mark.parametrize("op", OPERATIONS)
@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_an_auth_or_workspace_error_is_one_clear_error_after_at_most_one_request(
    request: pytest.FixtureRequest,
    standard_provider: Provider,
    emulator: EmulatorServer,
    figures: Figures,
    case: Case,
    op: str,
) -> None:
    provider: Provider = request.getfixturevalue(case.provider)
    state = None if op == "create" else existing_state(standard_provider.engine, case.workspace)
    case.prepare(emulator)
    emulator.clear_log()

    with pytest.raises(grpc.RpcError) as caught:
        run(provider.engine, op, case.workspace, state)

    assert caught.value.code() == grpc.StatusCode.UNKNOWN
    message = caught.value.details().strip().splitlines()[-1]
    if case.names_operation:
        assert f"{op} credential '{NAME}'" in message, message
    for words in case.says:
        assert words in message, message
    sent = calls(emulator)
    assert [method for method, _, _ in sent] == [METHODS[op]] * case.requests
    assert leaked(caught.value.details()) == []
    figures.add("auth", cases=1, clear_errors=1, extra_requests=len(sent) - case.requests)
    figures.add("leaks", probes=1)
