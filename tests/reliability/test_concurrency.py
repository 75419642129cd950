"""Concurrency: 200 credentials created, updated and deleted through one provider server.

The SDK's provider server serves at most four calls at once, all on one provider instance; the
engine sends them from many goroutines. Here eight client threads drive one server through three
phases (create all, update all, delete all) for 100 credentials in the default workspace and 100
in another one, with the **same names** in both, so any request sent to the wrong workspace shows
up (as a duplicate-name refusal, a wrong field or a record in the wrong list). After each phase
each workspace's list must hold exactly its own credentials, and every request must have been
sent to the workspace of the credential it touched.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.testing import Engine, Props, ResourceState, Secret, destroy, up
from tests.reliability.common import ASO, Provider, matches, news, remember_secret, stored
from tests.reliability.figures import Figures
from tests.samples import CREDENTIALS_PATH, DEFAULT_WORKSPACE_ID, OTHER_WORKSPACE_ID

PER_WORKSPACE = 100
THREADS = 8
WORKSPACES = {"default": DEFAULT_WORKSPACE_ID, "other": OTHER_WORKSPACE_ID}


@dataclass
class Credential:
    """One resource of the stack: its workspace, its program inputs and its state."""

    space: str  # "default" (no workspace_id input) or "other"
    index: int
    state: ResourceState | None = None

    @property
    def urn_name(self) -> str:
        return f"cred-{self.space}-{self.index:03d}"

    @property
    def workspace(self) -> str:
        return WORKSPACES[self.space]

    def program(self, version: int) -> Props:
        token = remember_secret(f"ghp_conc_{self.space}_{self.index:03d}_v{version}_c0ffee")
        return news(
            name=f"conc-{self.index:03d}",  # the same names in both workspaces
            username=f"bot-{self.space}-{self.index:03d}-v{version}",
            token=Secret(token),
            workspace_id=None if self.space == "default" else self.workspace,
        )


def in_parallel(credentials: list[Credential], step: Callable[[Credential], None]) -> set[int]:
    """Run ``step`` for every credential on THREADS threads; returns the threads' ids.
    The first failure is re-raised after all steps ran."""
    threads: set[int] = set()

    def run(credential: Credential) -> None:
        threads.add(threading.get_ident())
        step(credential)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        futures = [pool.submit(run, credential) for credential in credentials]
    errors = [f.exception() for f in futures if f.exception() is not None]
    assert errors == [], f"{len(errors)} operations failed, the first: {errors[0]!r}"
    return threads


def cross_talk(emulator: EmulatorServer, credentials: list[Credential], version: int) -> int:
    """Records in a workspace that are not exactly that workspace's credentials (wrong
    workspace, wrong fields, unknown to the state), plus credentials missing from their own."""
    problems = 0
    for space, workspace in WORKSPACES.items():
        mine = {c.state.id: c for c in credentials if c.space == space and c.state is not None}
        records = {r.uuid: r for r in stored(emulator, workspace)}
        for uuid, record in records.items():
            owner = mine.get(uuid)
            if owner is None or not matches(record, owner.program(version)):
                problems += 1
        problems += len(mine.keys() - records.keys())
    return problems


def misaddressed(emulator: EmulatorServer, credentials: list[Credential]) -> int:
    """Item requests (PUT/DELETE) sent with another credential's workspace."""
    workspace_of = {c.state.id: c.workspace for c in credentials if c.state is not None}
    return sum(
        1
        for entry in emulator.requests_log()
        if entry["path"].startswith(CREDENTIALS_PATH + "/")
        and entry["workspace"] != workspace_of.get(entry["path"].rsplit("/", 1)[-1])
    )


def test_200_credentials_in_two_workspaces_with_8_client_threads_and_no_cross_talk(
    standard_provider: Provider, emulator: EmulatorServer, figures: Figures
) -> None:
    engine: Engine = standard_provider.engine
    credentials = [Credential(space, i) for i in range(PER_WORKSPACE) for space in WORKSPACES]

    def create(c: Credential) -> None:
        op, c.state = up(engine, c.urn_name, c.program(1), None, ASO)
        assert op == "create"

    def update(c: Credential) -> None:
        before = c.state
        op, c.state = up(engine, c.urn_name, c.program(2), before, ASO)
        assert op == "update" and c.state is not None and before is not None
        assert c.state.id == before.id

    def delete(c: Credential) -> None:
        assert c.state is not None
        destroy(engine, c.state)

    threads = in_parallel(credentials, create)
    assert cross_talk(emulator, credentials, version=1) == 0
    emulator.clear_log()

    threads |= in_parallel(credentials, update)
    assert cross_talk(emulator, credentials, version=2) == 0
    assert misaddressed(emulator, credentials) == 0
    assert [e["fields"] for e in emulator.requests_log()] == [["token", "username"]] * 200
    emulator.clear_log()

    threads |= in_parallel(credentials, delete)
    assert misaddressed(emulator, credentials) == 0
    assert [e["status"] for e in emulator.requests_log()] == [204] * 200
    assert all(stored(emulator, workspace) == [] for workspace in WORKSPACES.values())

    assert len(threads) >= 4
    figures.add(
        "concurrency",
        resources=len(credentials),
        operations=3 * len(credentials),
        errors=0,
        cross_talk=0,
    )
