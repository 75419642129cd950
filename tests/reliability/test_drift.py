"""Drift: changes made outside Pulumi (the Miget dashboard, the API, another tool).

- A credential deleted out of band: ``refresh`` drops it from the state, and the next ``up``
  creates it again with one POST.
- A field changed out of band (name, username, hostname, registry, a cleared hostname):
  ``refresh`` reports the live value, and the next ``up`` puts the program's value back with one
  PUT carrying only that field. Without a refresh, ``up`` compares against the last known state
  and sees nothing (use ``pulumi up --refresh``).
- A token changed out of band cannot be seen: the API never returns a token, so ``refresh`` keeps
  the one in the state and ``up`` does nothing. Changing the token in the program rotates it.
"""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.emulator.records import sha256_hex
from pulumi_miget.testing import Engine, Props, ResourceState, Secret, refresh, up
from tests.emulator.helpers import Api
from tests.reliability.common import (
    ASO,
    NEW_TOKEN,
    TOKEN,
    Provider,
    calls,
    matches,
    news,
    remember_secret,
    stored,
)
from tests.reliability.figures import Figures
from tests.samples import DEFAULT_WORKSPACE_ID, OTHER_WORKSPACE_ID

GENERIC = news(registry="generic", registry_hostname="registry.example.com:5000")
ELSEWHERE_TOKEN = remember_secret("ghp_reliability_token_set_in_dashboard_77aa")


@pytest.fixture
def engine(standard_provider: Provider, emulator: EmulatorServer) -> Engine:
    standard_provider.engine.calls.clear()
    return standard_provider.engine


def created(engine: Engine, emulator: EmulatorServer, props: Props) -> ResourceState:
    op, state = up(engine, "cred", props, None, ASO)
    assert op == "create" and state is not None
    emulator.clear_log()
    return state


def workspace_of(props: Props) -> str:
    workspace: str = props.get("workspace_id", DEFAULT_WORKSPACE_ID)
    return workspace


def test_a_credential_deleted_out_of_band_is_dropped_by_refresh_and_recreated_by_up(
    engine: Engine, emulator: EmulatorServer, api: Api, figures: Figures
) -> None:
    state = created(engine, emulator, news())
    assert api.delete(state.id).status_code == 204
    emulator.clear_log()

    assert refresh(engine, state) is None
    assert calls(emulator) == [("GET", "item", 404)]

    emulator.clear_log()
    op, again = up(engine, "cred", news(), None, ASO)
    assert op == "create" and again is not None and again.id != state.id
    assert calls(emulator) == [("POST", "list", 201)]
    [record] = stored(emulator)
    assert record.uuid == again.id and matches(record, news())
    figures.add("drift", scenarios=1, detected=1, repaired=1)


def test_an_update_of_a_credential_deleted_out_of_band_says_to_refresh_which_repairs_it(
    engine: Engine, emulator: EmulatorServer, api: Api, figures: Figures
) -> None:
    state = created(engine, emulator, news())
    assert api.delete(state.id).status_code == 204
    program = news(username="renamed-bot")

    with pytest.raises(grpc.RpcError) as caught:
        up(engine, "cred", program, state, ASO)
    assert "deleted outside Pulumi" in caught.value.details()
    assert "pulumi refresh" in caught.value.details()
    assert stored(emulator) == []  # nothing was re-created behind the user's back

    assert refresh(engine, state) is None
    emulator.clear_log()
    op, again = up(engine, "cred", program, None, ASO)
    assert op == "create" and again is not None
    assert calls(emulator) == [("POST", "list", 201)]
    [record] = stored(emulator)
    assert record.uuid == again.id and matches(record, program)
    figures.add("drift", scenarios=1, detected=1, repaired=1)


DRIFTS = [
    pytest.param(GENERIC, {"name": "renamed-in-dashboard"}, id="name"),
    pytest.param(GENERIC, {"username": "changed-in-dashboard"}, id="username"),
    pytest.param(GENERIC, {"registry_hostname": "other.example.com"}, id="hostname"),
    pytest.param(
        news(registry_hostname="ghcr.io"), {"registry_hostname": None}, id="hostname-cleared"
    ),
    pytest.param(news(), {"registry": "gitlab"}, id="registry"),
    pytest.param(
        {**GENERIC, "workspace_id": OTHER_WORKSPACE_ID},
        {"name": "renamed-in-dashboard"},
        id="name-in-another-workspace",
    ),
]


@pytest.mark.parametrize(("program", "change"), DRIFTS)
def test_a_field_changed_out_of_band_is_reported_by_refresh_and_repaired_by_one_put(
    engine: Engine,
    emulator: EmulatorServer,
    api: Api,
    figures: Figures,
    program: Props,
    change: dict[str, Any],
) -> None:
    state = created(engine, emulator, program)
    workspace = workspace_of(program)
    [field] = change
    assert api.in_workspace(workspace).put(state.id, change).status_code == 200
    emulator.clear_log()

    # Without a refresh, up compares with the last known state: the drift is not seen.
    assert up(engine, "cred", program, state, ASO)[0] == "same"
    assert calls(emulator) == []

    fresh = refresh(engine, state)
    assert fresh is not None and fresh.id == state.id
    assert calls(emulator) == [("GET", "item", 200)]
    assert fresh.outputs.get(field) == change[field]
    assert fresh.inputs.get(field) == change[field]  # what the program would have to say
    assert fresh.outputs["token"] == Secret(TOKEN)  # never returned: carried over, still secret

    emulator.clear_log()
    op, repaired = up(engine, "cred", program, fresh, ASO)
    assert op == "update" and repaired is not None and repaired.id == state.id
    log = emulator.requests_log()
    assert [(e["method"], e["status"], e["fields"]) for e in log] == [("PUT", 200, [field])]
    [record] = stored(emulator, workspace)
    assert matches(record, program)

    emulator.clear_log()
    assert up(engine, "cred", program, repaired, ASO)[0] == "same"
    assert calls(emulator) == []
    figures.add("drift", scenarios=1, detected=1, repaired=1)


def test_a_token_changed_out_of_band_cannot_be_seen_and_a_rotation_in_the_program_repairs_it(
    engine: Engine, emulator: EmulatorServer, api: Api, figures: Figures
) -> None:
    """Documented limitation: Miget never returns a token (not on create, read, update or
    list), so neither refresh nor up can tell that someone replaced it. The state keeps the
    last token Pulumi set; the registry login Miget holds is the one set out of band."""
    state = created(engine, emulator, news())
    assert api.put(state.id, {"token": ELSEWHERE_TOKEN}).status_code == 200
    emulator.clear_log()

    fresh = refresh(engine, state)
    assert fresh is not None
    changed = {
        k
        for k in fresh.outputs.keys() | state.outputs.keys()
        if fresh.outputs.get(k) != state.outputs.get(k)
    }
    assert changed == {"updated_at"}  # all refresh can see is that something was updated
    assert fresh.outputs["token"] == Secret(TOKEN)  # the state still holds the old token
    assert up(engine, "cred", news(), fresh, ASO)[0] == "same"
    assert calls(emulator) == [("GET", "item", 200)]
    [record] = stored(emulator)
    assert record.token_sha256 == sha256_hex(ELSEWHERE_TOKEN) != sha256_hex(TOKEN)

    # What does repair it: a new token in the program (one PUT with only the token).
    emulator.clear_log()
    op, rotated = up(engine, "cred", news(token=Secret(NEW_TOKEN)), fresh, ASO)
    assert op == "update" and rotated is not None
    assert [e["fields"] for e in emulator.requests_log()] == [["token"]]
    [record] = stored(emulator)
    assert record.token_sha256 == sha256_hex(NEW_TOKEN)
    assert rotated.outputs["token"] == Secret(NEW_TOKEN)
    figures.add("drift", scenarios=1, undetectable=1)
