"""The fault matrix: every injected fault against every operation, transient and persistent.

Each case runs one operation through the SDK's real provider server (``miget:timeout`` 0.5 s,
``miget:maxRetries`` 1) while the emulator injects a fault on that operation's request:

- **transient** (the fault fires once, within the retry budget): the operation succeeds and the
  emulator holds exactly the desired credential — no duplicate, no orphan;
- **persistent** (the fault fires on every attempt): the operation fails within a bounded time
  with an error naming the operation, the credential and the HTTP status (or, for transport
  faults, the failure kind), and the next run converges to exactly the desired credential.

The request log pins the retry policy down: idempotent GET/PUT/DELETE are simply retried, a
POST is re-sent at once only after 429/503 (nothing happened), and after any ambiguous failure
(500/502/504, a dropped connection, a timeout, a lost response) the provider first looks the
credential up by name and adopts it if it is there and ours.

Two persistent cases end differently, by design: a create whose response is always lost has in
fact succeeded, and is reconciled (the lookup finds it); a create whose POSTs are all held past
the client timeout fails, then the held POST lands — the next ``up`` finds the name taken, names
the credential and says to set ``adopt=True``, which converges.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest

from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.testing import Engine, Props, ResourceState, Secret, destroy, refresh, up
from tests.reliability.common import (
    ASO,
    HANG,
    NAME,
    NEW_TOKEN,
    NEW_USERNAME,
    Provider,
    calls,
    closed_port,
    leaked,
    matches,
    news,
    stack_config,
    start_provider,
    stored,
    wait_for_requests,
)
from tests.reliability.figures import Figures
from tests.samples import CREDENTIALS_PATH

# A persistent fault must fail the operation in bounded time. That is proven without a timed
# assertion (performance lives in benchmarks/): the exact number of requests is asserted, and
# each one is bounded by ``miget:timeout``. The slowest failure is printed in the summary.
PERSISTENT = 10
"""``times`` of a persistent fault: more attempts than any call makes."""

Call = tuple[str, str, int]  # (method, "list" | "item", status) as in common.calls


@dataclass(frozen=True)
class Fault:
    id: str
    action: str
    says: str
    """What a clean failure's message must contain."""
    status: int | None = None
    retry_after: int | None = None
    delay: float | None = None

    def inject(self, emulator: EmulatorServer, method: str, path: str, times: int) -> None:
        emulator.add_fault(
            method,
            path,
            self.action,
            times=times,
            status=self.status,
            retry_after=self.retry_after,
            delay=self.delay,
        )

    @property
    def applied_late(self) -> bool:
        """The request is held past the client timeout, then performed anyway."""
        return self.action == "delay"

    @property
    def nothing_happened(self) -> bool:
        """429 and 503 promise the request was not processed: even a POST is simply re-sent."""
        return self.status in (429, 503)


FAULTS = (
    Fault("429-retry-after-0", "status", "HTTP 429", status=429, retry_after=0),
    Fault("429", "status", "HTTP 429", status=429),
    Fault("500", "status", "HTTP 500", status=500),
    Fault("502", "status", "HTTP 502", status=502),
    Fault("503", "status", "HTTP 503", status=503),
    Fault("504", "status", "HTTP 504", status=504),
    Fault("connection-dropped", "drop", "failed or was dropped"),
    Fault("read-timeout", "delay", "no answer from", delay=HANG),
    Fault("response-lost", "lost_response", "failed or was dropped"),
)


@dataclass(frozen=True)
class Operation:
    id: str
    method: str
    ok: int
    """The status of a successful request."""

    @property
    def path(self) -> str:
        return CREDENTIALS_PATH if self.id == "create" else f"{CREDENTIALS_PATH}/*"

    @property
    def where(self) -> str:
        return "list" if self.id == "create" else "item"


CREATE = Operation("create", "POST", 201)
READ = Operation("read", "GET", 200)
UPDATE = Operation("update", "PUT", 200)
DELETE = Operation("delete", "DELETE", 204)
OPERATIONS = (CREATE, READ, UPDATE, DELETE)
UPDATED = news(username=NEW_USERNAME, token=Secret(NEW_TOKEN))


def desired(op: Operation) -> Props | None:
    """What the emulator must hold once the operation has succeeded."""
    return {"delete": None, "update": UPDATED}.get(op.id, news())


def perform(engine: Engine, op: Operation, state: ResourceState | None) -> ResourceState | None:
    """The operation as the engine runs it: up (create/update), refresh (read), destroy."""
    if op is CREATE:
        return up(engine, "cred", news(), None, ASO)[1]
    assert state is not None
    if op is READ:
        return refresh(engine, state)
    if op is UPDATE:
        return up(engine, "cred", UPDATED, state, ASO)[1]
    destroy(engine, state)
    return None


# ---- the expected requests: the retry policy, written out ----------------------------------------


def transient_requests(fault: Fault, op: Operation) -> Counter[Call]:
    """The requests a transient fault leads to (as a multiset: a dropped request may be logged
    after its retry)."""
    m, where, ok = op.method, op.where, op.ok
    if op is CREATE:
        if fault.nothing_happened:  # re-sent at once
            return Counter([(m, where, fault.status or 0), (m, where, ok)])
        if fault.action == "lost_response":  # created, answer lost: found by name and adopted
            return Counter([(m, where, 0), ("GET", "list", 200)])
        # Ambiguous: look up by name (not there yet), then post again. A held POST lands late
        # and is refused: the name is taken by then.
        first = {"status": fault.status or 0, "drop": 0, "delay": 422}[fault.action]
        return Counter([(m, where, first), ("GET", "list", 200), (m, where, ok)])
    # Idempotent requests are simply retried; a DELETE that already happened then answers 404.
    again = 404 if op is DELETE and fault.action in ("delay", "lost_response") else ok
    failed = {"status": fault.status or 0, "drop": 0, "lost_response": 0, "delay": again}
    retry = ok if fault.action == "delay" else again
    return Counter([(m, where, failed[fault.action]), (m, where, retry)])


def persistent_requests(fault: Fault, op: Operation) -> Counter[Call]:
    """The requests a persistent fault leads to: two attempts (plus lookups for a POST)."""
    m, where = op.method, op.where
    if op is CREATE:
        if fault.nothing_happened:
            return Counter({(m, where, fault.status or 0): 2})
        if fault.action == "lost_response":  # the first attempt created it: adopted
            return Counter([(m, where, 0), ("GET", "list", 200)])
        if fault.action == "delay":  # both land after the call gave up: the second is refused
            return Counter(
                [(m, where, 201), (m, where, 422), ("GET", "list", 200), ("GET", "list", 200)]
            )
        failed = fault.status or 0
        return Counter({(m, where, failed): 2, ("GET", "list", 200): 2})
    if fault.action == "delay":  # both attempts are performed late
        late = [op.ok, 404] if op is DELETE else [op.ok, op.ok]
        return Counter((m, where, status) for status in late)
    return Counter({(m, where, fault.status or 0): 2})


def persistent_outcome(fault: Fault, op: Operation) -> str:
    """``succeeds`` when the operation in fact happened and is reconciled; ``fails`` else."""
    return "succeeds" if (op is CREATE and fault.action == "lost_response") else "fails"


# ---- fixtures and checks -------------------------------------------------------------------------


class Injector:
    """Injects faults and remembers whether a held request may still be in flight."""

    def __init__(self, emulator: EmulatorServer) -> None:
        self.emulator = emulator
        self.in_flight = False

    def inject(self, fault: Fault, op: Operation, times: int) -> None:
        fault.inject(self.emulator, op.method, op.path, times)
        self.in_flight = self.in_flight or fault.applied_late

    def settle(self, expected: Counter[Call]) -> list[Call]:
        """Wait for every expected request (held ones are logged when they finally finish)."""
        wait_for_requests(self.emulator, sum(expected.values()))
        self.in_flight = False
        return calls(self.emulator)


@pytest.fixture
def engine(fault_provider: Provider, emulator: EmulatorServer) -> Engine:
    fault_provider.engine.calls.clear()
    return fault_provider.engine


@pytest.fixture
def injector(emulator: EmulatorServer) -> Iterator[Injector]:
    injector = Injector(emulator)
    yield injector
    emulator.clear_faults()
    if injector.in_flight:  # the test stopped early: let held requests finish before the next
        time.sleep(HANG + 0.1)


def prepared(engine: Engine, emulator: EmulatorServer, op: Operation) -> ResourceState | None:
    """The state an operation starts from (a created credential, except for create), with the
    emulator's log emptied."""
    state = None if op is CREATE else up(engine, "cred", news(), None, ASO)[1]
    emulator.clear_log()
    return state


def world(
    emulator: EmulatorServer, state: ResourceState | None, want: Props | None
) -> Counter[str]:
    """Duplicates and orphans in the API relative to the stack's state, asserting that the
    emulator holds exactly the desired credential."""
    records = stored(emulator)
    tracked = state.id if state is not None else None
    found = Counter(
        duplicates=max(0, sum(r.name == NAME for r in records) - 1),
        orphans=sum(r.uuid != tracked for r in records),
    )
    if want is None:
        assert records == [], "a deleted credential is still there"
    else:
        assert len(records) == 1 and matches(records[0], want), records
        assert records[0].uuid == tracked
    assert found == Counter(duplicates=0, orphans=0)
    return found


def assert_clean_failure(
    caught: pytest.ExceptionInfo[grpc.RpcError],
    op: Operation,
    state: ResourceState | None,
    says: str,
) -> None:
    """The error the CLI prints: the operation, the credential and the status / failure kind."""
    assert caught.value.code() == grpc.StatusCode.UNKNOWN
    message = caught.value.details().strip().splitlines()[-1]  # the exception line
    assert f"{op.id} credential '{NAME}'" in message, message
    if state is not None:
        assert state.id in message
    assert says in message, message
    assert leaked(caught.value.details()) == []


def converge(
    engine: Engine, emulator: EmulatorServer, op: Operation, state: ResourceState | None
) -> ResourceState | None:
    """The next run after a clean failure, with the fault gone: the same command again. A
    create whose POST landed after the call gave up finds its name taken; the error names the
    credential and says to adopt it, which converges."""
    emulator.clear_faults()
    emulator.clear_log()
    if op is not CREATE or not stored(emulator):
        return perform(engine, op, state)
    [late] = stored(emulator)
    with pytest.raises(grpc.RpcError) as caught:
        perform(engine, op, state)
    assert late.uuid in caught.value.details() and "adopt=True" in caught.value.details()
    return up(engine, "cred", news(adopt=True), None, ASO)[1]


# ---- the matrix ----------------------------------------------------------------------------------

CASES = [pytest.param(f, o, id=f"{o.id}-{f.id}") for o in OPERATIONS for f in FAULTS]


@pytest.mark.parametrize(("fault", "op"), CASES)
def test_a_transient_fault_is_survived_without_duplicate_or_orphan(
    engine: Engine,
    emulator: EmulatorServer,
    injector: Injector,
    figures: Figures,
    fault: Fault,
    op: Operation,
) -> None:
    state = prepared(engine, emulator, op)
    injector.inject(fault, op, times=1)

    after = perform(engine, op, state)

    expected = transient_requests(fault, op)
    assert Counter(injector.settle(expected)) == expected
    if op is READ:
        assert after == state  # nothing drifted: the refresh changes nothing
    found = world(emulator, after, desired(op))
    adopted = op is CREATE and fault.action == "lost_response"
    figures.add("faults", tried=1, survived=1, reconciled=int(adopted), **found)


@pytest.mark.parametrize(("fault", "op"), CASES)
def test_a_persistent_fault_fails_cleanly_and_the_next_run_converges(
    engine: Engine,
    emulator: EmulatorServer,
    injector: Injector,
    figures: Figures,
    fault: Fault,
    op: Operation,
) -> None:
    state = prepared(engine, emulator, op)
    injector.inject(fault, op, times=PERSISTENT)

    started = time.monotonic()
    if persistent_outcome(fault, op) == "succeeds":
        after = perform(engine, op, state)
        expected = persistent_requests(fault, op)
        assert Counter(injector.settle(expected)) == expected
        found = world(emulator, after, desired(op))
        figures.add("faults", tried=1, survived=1, reconciled=1, **found)
        return

    with pytest.raises(grpc.RpcError) as caught:
        perform(engine, op, state)
    elapsed = time.monotonic() - started
    assert_clean_failure(caught, op, state, fault.says)
    expected = persistent_requests(fault, op)
    assert Counter(injector.settle(expected)) == expected

    after = converge(engine, emulator, op, state)
    found = world(emulator, after, desired(op))
    figures.add("faults", tried=1, failed_cleanly=1, converged=1, **found)
    figures.add("leaks", probes=1)
    figures.peak("faults", "slowest_failure", elapsed)


# ---- beyond the matrix ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "status"),
    [pytest.param(READ, 429, id="read-429"), pytest.param(CREATE, 503, id="create-503")],
)
def test_retry_after_is_honoured(
    engine: Engine, emulator: EmulatorServer, figures: Figures, op: Operation, status: int
) -> None:
    state = prepared(engine, emulator, op)
    emulator.add_fault(op.method, op.path, "status", status=status, retry_after=1)

    started = time.monotonic()
    after = perform(engine, op, state)
    elapsed = time.monotonic() - started

    assert elapsed >= 1.0  # it waited as told (a lower bound: sleeps never end early)
    assert calls(emulator) == [(op.method, op.where, status), (op.method, op.where, op.ok)]
    found = world(emulator, after, desired(op))
    figures.add("faults", tried=1, survived=1, **found)


def test_a_lost_post_that_lands_before_the_retry_is_adopted_not_reported_as_a_taken_name(
    engine: Engine, emulator: EmulatorServer, injector: Injector, figures: Figures
) -> None:
    """The first POST is held 0.8 s (the client gives up after 0.5 s); the lookup finds
    nothing yet; the second POST is throttled for 1 s, so the third arrives after the first has
    landed and is answered "Name has already been taken". That answer is reconciled like any
    other ambiguous outcome: the credential is ours, and it is adopted."""
    injector.inject(Fault("held", "delay", "", delay=0.8), CREATE, times=1)
    emulator.add_fault("POST", CREDENTIALS_PATH, "status", status=429, retry_after=1)

    state = perform(engine, CREATE, None)

    expected = Counter(
        [("POST", "list", 201), ("POST", "list", 429), ("POST", "list", 422)]
        + [("GET", "list", 200)] * 2
    )
    assert Counter(injector.settle(expected)) == expected
    found = world(emulator, state, news())
    figures.add("faults", tried=1, survived=1, reconciled=1, **found)


def test_an_unreachable_api_fails_fast_naming_the_operation(
    engine: Engine, emulator: EmulatorServer, figures: Figures
) -> None:
    """A refused connection is the one transport failure a POST may simply be re-sent after
    (nothing reached the server); when it persists the create fails within the budget, and
    once the API is reachable the next run creates the credential."""
    provider = start_provider(
        {
            **stack_config(emulator, timeout="0.25", maxRetries="1"),
            "miget:apiUrl": f"http://127.0.0.1:{closed_port()}/api/v1",
        }
    )
    try:
        started = time.monotonic()
        with pytest.raises(grpc.RpcError) as caught:
            perform(provider.engine, CREATE, None)
        elapsed = time.monotonic() - started
    finally:
        provider.server.close()
    assert_clean_failure(caught, CREATE, None, "failed or was dropped")
    assert leaked(provider.server.output()) == []
    after = converge(engine, emulator, CREATE, None)
    found = world(emulator, after, news())
    figures.add("faults", tried=1, failed_cleanly=1, converged=1, **found)
    figures.add("leaks", probes=2)
    figures.peak("faults", "slowest_failure", elapsed)
