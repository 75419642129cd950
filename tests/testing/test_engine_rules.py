"""One test per engine rule of the engine model (pulumi_miget.testing), through the SDK's real
dynamic-provider server (issue I, section 2).

Rules that need controllable provider behaviour (failures, blocking, the provider's
delete-before-replace answer) use the sample provider of ``tests/testing/sample_providers.py``,
whose calls are logged in order by the provider process itself; the others use the Miget
resources against the emulator. Each test names the Go source lines of the rule it checks (paths
in pulumi/pulumi ``pkg/resource/deploy`` unless said otherwise). The rules already specified in
tests/contract/test_harness.py are referenced, not repeated.

One provider server serves the whole module: every engine in it sends the same config (the SDK
server configures a provider once per blob per process).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import grpc
import pulumi
import pytest

from pulumi_miget import App, ContainerRegistryCredential
from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.testing import (
    UNKNOWN,
    CheckFailed,
    Engine,
    EngineFactory,
    ProgramResult,
    ProviderServer,
    Secret,
    Stack,
    destroy_stack,
    from_struct,
    import_root,
    plain,
    run_program,
)
from pulumi_miget.testing.steps import ProtectedError, refresh_step
from pulumi_miget.tokens import APP_TYPE, CREDENTIAL_TYPE
from tests.emulator.helpers import Api, calls
from tests.samples import (
    API_KEY,
    APP,
    CREDENTIAL,
    CREDENTIALS_PATH,
    DEFAULT_WORKSPACE_ID,
    OTHER_RESOURCE_ID,
    OTHER_WORKSPACE_ID,
)
from tests.testing import sample_providers
from tests.testing.sample_providers import DIR_KEY, Other, Thing, World, until, wait_for

TOKEN = "ghp_engine_rules_token_5c1d"
ROTATED = "ghp_engine_rules_token_rotated_77e0"

# --------------------------------------------------------------------------------------------------
# Fixtures and helpers
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world_root(tmp_path_factory: pytest.TempPathFactory) -> World:
    return World(tmp_path_factory.mktemp("kit-world"))


@pytest.fixture(scope="module")
def kit_server() -> Iterator[ProviderServer]:
    # tests.testing.sample_providers is pickled by reference: the server must import it.
    with ProviderServer(cwd=import_root(sample_providers)) as srv:
        yield srv


@pytest.fixture
def world(world_root: World) -> World:
    """The sample provider's world, emptied: no things, events or switches."""
    world_root.reset()
    return world_root


@pytest.fixture
def stack(world: World, emulator: EmulatorServer) -> Stack:
    """An empty stack whose config serves both the sample provider and Miget's (the reset
    emulator): one config for the module's one server."""
    return Stack(
        config={
            DIR_KEY: str(world.root),
            "miget:apiKey": Secret(API_KEY),
            "miget:apiUrl": emulator.api_url,
            "miget:workspaceId": DEFAULT_WORKSPACE_ID,
        }
    )


@dataclass
class Wire:
    """Every request the engine model sent and every answer's arrival, in order:
    ``("sent" | "returned", method, resource name, request)``; ``("engine", type, "", None)``
    each time a registration asked for its type's engine (before the step-generator lock)."""

    log: list[tuple[str, str, str, Any]] = field(default_factory=list)

    def sent(self, name: str | None = None) -> list[str]:
        """The methods sent (for ``name``), Configure left out."""
        return [
            method
            for kind, method, who, _ in list(self.log)
            if kind == "sent" and method != "Configure" and (name is None or who == name)
        ]

    def requests(self, method: str, name: str) -> list[Any]:
        return [r for kind, m, who, r in list(self.log) if (kind, m, who) == ("sent", method, name)]

    def index(self, kind: str, method: str, name: str) -> int:
        entries = [(k, m, w) for k, m, w, _ in list(self.log)]
        return entries.index((kind, method, name))

    def has(self, kind: str, method: str, name: str) -> bool:
        return any((k, m, w) == (kind, method, name) for k, m, w, _ in list(self.log))


class RecordingEngine(Engine):
    wire: Wire

    def _send(self, method: str, name: str, request: Any) -> Any:
        self.wire.log.append(("sent", method, name, request))
        try:
            return super()._send(method, name, request)
        finally:
            self.wire.log.append(("returned", method, name, None))


def recording(server: ProviderServer, stack: Stack, wire: Wire) -> EngineFactory:
    """An EngineFactory like ``engine_factory`` whose engines record into ``wire``."""
    engines: dict[str, Engine] = {}
    lock = threading.Lock()

    def get(type_token: str) -> Engine:
        wire.log.append(("engine", type_token, "", None))
        with lock:
            if type_token not in engines:
                engine = RecordingEngine(server, type_token)
                engine.wire = wire
                engine.configure(stack.config)
                engines[type_token] = engine
            return engines[type_token]

    return get


def up(
    program: Callable[[], Any], stack: Stack, server: ProviderServer, *, preview: bool = False
) -> tuple[ProgramResult, Wire]:
    wire = Wire()
    return run_program(program, stack, recording(server, stack, wire), preview=preview), wire


def failing_up(
    program: Callable[[], Any], stack: Stack, server: ProviderServer
) -> tuple[BaseException, Wire]:
    wire = Wire()
    with pytest.raises(Exception) as failed:
        run_program(program, stack, recording(server, stack, wire))
    return failed.value, wire


def details(exc: BaseException) -> str:
    return str(exc.details()) if isinstance(exc, grpc.RpcError) else str(exc)


def struct(message: Any, field_name: str) -> dict[str, Any]:
    return from_struct(getattr(message, field_name))


def before(events: list[str], first: str, second: str) -> bool:
    """Whether event ``first`` happened before ``second`` (both must have happened)."""
    return events.index(first) < events.index(second)


def credential(token: str = TOKEN, **args: Any) -> ContainerRegistryCredential:
    return ContainerRegistryCredential("ghcr", **{**CREDENTIAL, "token": token, **args})


def app(**args: Any) -> App:
    return App("api", **{**APP, **args})


# --------------------------------------------------------------------------------------------------
# 1. Check → Diff → same / update / replace; the second Check; delete-before-replace
# --------------------------------------------------------------------------------------------------


def test_check_then_diff_decide_same_update_and_replace(
    kit_server: ProviderServer, stack: Stack, world: World
) -> None:
    """step_generator.go:1318-1343 (Check: olds = old inputs), 2974-2992 (diffResource: old
    inputs and old outputs), 1946-2190 (replace keys → replace, else update, no change → same)."""
    result, wire = up(lambda: Thing("t", value="a"), stack, kit_server)
    assert result.ops == {"t": "create"} and wire.sent() == ["Check", "Create"]
    created = stack.resources["t"]

    result, wire = up(lambda: Thing("t", value="a"), stack, kit_server)
    assert result.ops == {"t": "same"} and wire.sent() == ["Check", "Diff"]
    check = wire.requests("Check", "t")[0]
    assert struct(check, "olds")["value"] == "a"  # Check got the old inputs
    diff = wire.requests("Diff", "t")[0]
    assert struct(diff, "olds")["revision"] == 1  # Diff got the old outputs ...
    assert "revision" not in struct(diff, "old_inputs")  # ... and the old inputs alongside
    assert stack.resources["t"].outputs == created.outputs  # a same step keeps the outputs

    result, wire = up(lambda: Thing("t", value="b"), stack, kit_server)
    assert result.ops == {"t": "update"} and wire.sent() == ["Check", "Diff", "Update"]
    assert stack.resources["t"].outputs["revision"] == 2
    assert stack.resources["t"].id == created.id

    result, wire = up(lambda: Thing("t", value="b", group="g"), stack, kit_server)
    assert result.ops == {"t": "replace"}
    assert wire.sent() == ["Check", "Diff", "Check", "Create", "Delete"]
    assert stack.resources["t"].id != created.id and list(world.things()) == [
        stack.resources["t"].id
    ]


def test_a_replace_checks_again_with_no_olds_and_creates_from_that_result(
    kit_server: ProviderServer, stack: Stack
) -> None:
    """step_generator.go:2003-2013: on replace the engine calls Check again with no olds and the
    create uses its result (the sample's Check records whether it had olds)."""
    up(lambda: Thing("t", group="g1"), stack, kit_server)
    assert stack.resources["t"].outputs["checked_with_olds"] is False  # a create: no olds
    up(lambda: Thing("t", group="g1", value="w"), stack, kit_server)
    assert stack.resources["t"].outputs["checked_with_olds"] is True  # an update: old inputs

    result, wire = up(lambda: Thing("t", group="g2", value="w"), stack, kit_server)
    assert result.ops == {"t": "replace"}
    first, second = wire.requests("Check", "t")
    assert struct(first, "olds")["group"] == "g1" and struct(second, "olds") == {}
    create = wire.requests("Create", "t")[0]
    assert struct(create, "properties")["checked_with_olds"] is False
    assert stack.resources["t"].inputs["checked_with_olds"] is False


@pytest.mark.parametrize(
    ("provider_says", "option", "delete_first"),
    [
        pytest.param(True, None, True, id="provider-true-option-unset"),
        pytest.param(False, None, False, id="provider-false-option-unset"),
        pytest.param(False, True, True, id="option-true-overrides"),
        pytest.param(True, False, False, id="option-false-overrides"),
    ],
)
def test_delete_before_replace_is_the_option_when_set_else_the_providers_answer(
    provider_says: bool,
    option: bool | None,
    delete_first: bool,
    kit_server: ProviderServer,
    stack: Stack,
    world: World,
) -> None:
    """source_eval.go:2351-2356 (the option counts when Defined is set or it is true) and
    step_generator.go:2043-2046 (it overrides the provider's ``deleteBeforeReplace``)."""
    opts = pulumi.ResourceOptions(delete_before_replace=option)
    up(lambda: Thing("t", group="g1", dbr=provider_says, opts=opts), stack, kit_server)
    world.clear_events()
    result, wire = up(
        lambda: Thing("t", group="g2", dbr=provider_says, opts=opts), stack, kit_server
    )
    assert result.ops == {"t": "replace"}
    expected = ["Delete", "Create"] if delete_first else ["Create", "Delete"]
    assert wire.sent()[-2:] == expected
    events = world.events()
    assert before(events, "begin delete t", "begin create t") is delete_first


# --------------------------------------------------------------------------------------------------
# 2. Deferred deletes of create-before-delete replacements; reverse dependency order
# --------------------------------------------------------------------------------------------------


def test_an_old_resource_is_deleted_after_every_create_and_update(
    kit_server: ProviderServer, stack: Stack, world: World
) -> None:
    """step_generator.go:2157-2165 ("the delete step is generated later on, after all
    creates/updates finish"), deployment_executor.go:486-553 (the deletes run after the
    program's steps)."""

    def program(group: str) -> Callable[[], Any]:
        def body() -> None:
            first = Thing("a", group=group)
            Thing("b", value=first.id)  # depends on a: updated when a is replaced
            Thing("c", value=group)  # unrelated, updated too

        return body

    up(program("g1"), stack, kit_server)
    old_a = stack.resources["a"].id
    world.clear_events()
    result, _ = up(program("g2"), stack, kit_server)
    assert result.ops == {"a": "replace", "b": "update", "c": "update"}
    events = world.events()
    assert before(events, "end create a", "begin update b")
    assert before(events, "end update b", "begin delete a")
    assert before(events, "end update c", "begin delete a")
    assert old_a not in world.things()


def test_deletes_run_dependents_first(
    kit_server: ProviderServer, stack: Stack, world: World
) -> None:
    """step_generator.go:2747-2790 (ScheduleDeletes: reversed antichains of the dependency
    graph): removed from the program, and on destroy."""

    def chain() -> None:
        root = Thing("root")
        middle = Thing("middle", value=root.id)
        Thing("leaf", value=middle.id, opts=pulumi.ResourceOptions(depends_on=[root]))

    up(chain, stack, kit_server)
    world.clear_events()
    result, _ = up(lambda: None, stack, kit_server)
    assert result.ops == {"root": "delete", "middle": "delete", "leaf": "delete"}
    deletes = [e for e in world.events() if e.startswith("begin delete")]
    assert deletes == ["begin delete leaf", "begin delete middle", "begin delete root"]

    up(chain, stack, kit_server)
    world.clear_events()
    assert set(destroy_stack(stack, kit_server)) == {"root", "middle", "leaf"}
    deletes = [e for e in world.events() if e.startswith("begin delete")]
    assert deletes == ["begin delete leaf", "begin delete middle", "begin delete root"]


def test_a_replaced_credential_is_deleted_only_after_its_app_moved(
    kit_server: ProviderServer, stack: Stack, emulator: EmulatorServer, api: Api
) -> None:
    """The Miget case of the two rules above: a workspace change replaces the credential and the
    app (create-before-delete). The emulator refuses to delete a credential an app still uses
    (422 "in use"), so the old credential must go after the old app."""

    def program(workspace: str) -> Callable[[], Any]:
        def body() -> None:
            ghcr = credential(workspace_id=workspace)
            app(credential_id=ghcr.uuid, workspace_id=workspace)

        return body

    up(program(DEFAULT_WORKSPACE_ID), stack, kit_server)
    old_credential, old_app = stack.resources["ghcr"].id, stack.resources["api"].id
    emulator.clear_log()
    result, _ = up(program(OTHER_WORKSPACE_ID), stack, kit_server)
    assert result.ops == {"ghcr": "replace", "api": "replace"}
    writes = [(m, p) for m, p in calls(emulator) if m != "GET"]
    assert writes == [
        ("POST", CREDENTIALS_PATH),
        ("POST", "/api/v1/apps"),
        ("DELETE", f"/api/v1/apps/{old_app}"),
        ("DELETE", f"{CREDENTIALS_PATH}/{old_credential}"),
    ]
    assert api.list().json() == []  # nothing left in the old workspace
    assert stack.pending_deletes == []


# --------------------------------------------------------------------------------------------------
# 3. ignore_changes, protect, retain_on_delete, replacement_trigger
# --------------------------------------------------------------------------------------------------


def test_ignore_changes_resets_inputs_before_check_and_diff(
    kit_server: ProviderServer, stack: Stack
) -> None:
    """step_generator.go:1264-1268 and 3076-3096 (processIgnoreChanges before Check and Diff);
    on replace the second Check gets the program's inputs (2003-2013), so the new value wins."""
    ignore = pulumi.ResourceOptions(ignore_changes=["value"])
    up(lambda: Thing("t", value="a", opts=ignore), stack, kit_server)

    result, wire = up(lambda: Thing("t", value="b", opts=ignore), stack, kit_server)
    assert result.ops == {"t": "same"} and wire.sent() == ["Check", "Diff"]
    assert struct(wire.requests("Check", "t")[0], "news")["value"] == "a"
    assert struct(wire.requests("Diff", "t")[0], "news")["value"] == "a"
    assert stack.resources["t"].inputs["value"] == "a"

    result, wire = up(lambda: Thing("t", value="c", group="g", opts=ignore), stack, kit_server)
    assert result.ops == {"t": "replace"}
    first, second = wire.requests("Check", "t")
    assert struct(first, "news")["value"] == "a" and struct(second, "news")["value"] == "c"
    assert stack.resources["t"].outputs["value"] == "c"


def test_protect_refuses_delete_and_replace(
    kit_server: ProviderServer, stack: Stack, world: World
) -> None:
    """step.go:614-649 (a protected delete is refused) and step_executor.go:443-449 with
    deployment_executor.go:513-547 (the other deletes still run); step_generator.go:1957-1971
    (no replace while protected before and after, checked before the second Check; unprotecting
    and replacing in one update is allowed)."""
    protect = pulumi.ResourceOptions(protect=True)

    def three() -> None:
        base = Thing("base")
        Thing("other")
        Thing("kept", value=base.id, opts=protect)  # deleted first: last in the checkpoint

    up(three, stack, kit_server)
    kept = stack.resources["kept"]
    with pytest.raises(ProtectedError):  # checked before the preview stops (step.go:651)
        up(lambda: None, stack, kit_server, preview=True)
    world.clear_events()
    failed, _ = failing_up(lambda: None, stack, kit_server)
    assert isinstance(failed, ProtectedError)
    assert str(failed).startswith(f'resource "{kept.urn}" cannot be deleted\nbecause it is')
    # the unprotected one is deleted after the refusal; what the protected one uses stays
    assert set(stack.resources) == {"kept", "base"}
    deletes = [e for e in world.events() if "delete" in e]
    assert deletes == ["begin delete other", "end delete other"]
    with pytest.raises(ProtectedError):
        destroy_stack(stack, kit_server)
    assert set(stack.resources) == {"kept", "base"}
    up(lambda: Thing("kept", value=stack.resources["base"].id, opts=protect), stack, kit_server)
    assert list(stack.resources) == ["kept"]  # base deleted once nothing needs it
    kept = stack.resources["kept"]

    failed, wire = failing_up(lambda: Thing("kept", group="g", opts=protect), stack, kit_server)
    assert isinstance(failed, ProtectedError) and "unable to replace resource" in str(failed)
    assert wire.sent() == ["Check", "Diff"]  # refused before the second Check and any Create
    assert stack.resources["kept"] == kept

    unprotect = pulumi.ResourceOptions(protect=False)
    result, wire = up(lambda: Thing("kept", group="g", opts=unprotect), stack, kit_server)
    assert result.ops == {"kept": "replace"} and wire.sent()[-2:] == ["Create", "Delete"]
    assert kept.id not in world.things()


def test_retain_on_delete_drops_the_resource_without_a_delete_call(
    kit_server: ProviderServer, stack: Stack, world: World
) -> None:
    """step.go:661-662: a delete of a retain_on_delete resource is a no-op for the provider."""
    up(lambda: Thing("t", opts=pulumi.ResourceOptions(retain_on_delete=True)), stack, kit_server)
    thing_id = stack.resources["t"].id
    result, wire = up(lambda: None, stack, kit_server)
    assert result.ops == {"t": "delete"} and stack.resources == {}
    assert "Delete" not in wire.sent() and thing_id in world.things()


def test_replacement_trigger_replaces_without_asking_diff(
    kit_server: ProviderServer, stack: Stack
) -> None:
    """step_generator.go:1804-1813 (a changed trigger is a replace, no Diff) and 3683-3698
    (shouldTriggerReplace: a null on either side is no trigger). The Miget resources' own test
    is tests/scenarios/test_engine_facts.py."""

    def program(trigger: Any) -> Callable[[], Any]:
        return lambda: Thing("t", opts=pulumi.ResourceOptions(replacement_trigger=trigger))

    up(program("v1"), stack, kit_server)
    first = stack.resources["t"].id
    result, wire = up(program("v1"), stack, kit_server)
    assert result.ops == {"t": "same"} and wire.sent() == ["Check", "Diff"]

    result, wire = up(program("v2"), stack, kit_server)
    assert result.ops == {"t": "replace"}
    assert wire.sent() == ["Check", "Check", "Create", "Delete"]
    assert stack.resources["t"].id != first and stack.resources["t"].replacement_trigger == "v2"

    result, wire = up(program(None), stack, kit_server)
    assert result.ops == {"t": "same"} and wire.sent() == ["Check", "Diff"]


# --------------------------------------------------------------------------------------------------
# 4. Failure semantics
# --------------------------------------------------------------------------------------------------


def test_a_failed_create_leaves_nothing_in_state(
    kit_server: ProviderServer, stack: Stack, world: World
) -> None:
    """step.go: CreateStep.Apply returns the error without a new state (no partial state from a
    Python dynamic provider): what the provider made is unknown to the stack."""
    world.switch("orphan", "create", "t")
    failed, _ = failing_up(lambda: Thing("t"), stack, kit_server)
    assert "create t failed after making" in details(failed)
    assert stack.resources == {} and len(world.things()) == 1  # the orphan
    world.switch("orphan", "create", "t", on=False)
    result, _ = up(lambda: Thing("t"), stack, kit_server)
    assert result.ops == {"t": "create"} and len(world.things()) == 2


def test_a_failed_update_keeps_the_old_inputs_and_outputs(
    kit_server: ProviderServer, stack: Stack, world: World
) -> None:
    """step.go:960-1060 (UpdateStep.Apply: on error no new state is recorded)."""
    up(lambda: Thing("t", value="a"), stack, kit_server)
    old = stack.resources["t"]
    world.switch("fail", "update", "t")
    failed, wire = failing_up(lambda: Thing("t", value="b"), stack, kit_server)
    assert "update t failed on purpose" in details(failed) and "Update" in wire.sent()
    assert stack.resources["t"] == old
    world.switch("fail", "update", "t", on=False)
    assert up(lambda: Thing("t", value="b"), stack, kit_server)[0].ops == {"t": "update"}


def test_a_failed_deferred_delete_stays_pending_and_the_next_up_deletes_it(
    kit_server: ProviderServer, stack: Stack, world: World
) -> None:
    """step.go:551-576 with step_generator.go:2389-2423: the old resource of a replacement stays
    in the checkpoint marked for deletion until a later update's delete succeeds."""
    up(lambda: Thing("t", group="g1"), stack, kit_server)
    old = stack.resources["t"]
    world.switch("fail", "delete", "t")
    failed, _ = failing_up(lambda: Thing("t", group="g2"), stack, kit_server)
    assert "delete t failed on purpose" in details(failed)
    new = stack.resources["t"]
    assert new.id != old.id and new.inputs["group"] == "g2"
    assert [s.id for s in stack.pending_deletes] == [old.id]
    assert set(world.things()) == {old.id, new.id}

    world.switch("fail", "delete", "t", on=False)
    result, wire = up(lambda: Thing("t", group="g2"), stack, kit_server)
    assert result.ops == {"t": "same"} and wire.sent() == ["Check", "Diff", "Delete"]
    assert stack.pending_deletes == [] and set(world.things()) == {new.id}


def test_after_the_first_error_no_step_starts_and_steps_in_flight_finish(
    kit_server: ProviderServer, stack: Stack, world: World
) -> None:
    """step_executor.go:404-418 and 435-461: the first failed step cancels the executor; a chain
    checks that before every step, so a resource whose Check was still running when the error
    came is not created, and a later registration gets no step at all; a create already
    running finishes and is recorded."""
    world.switch("block", "create", "slow")
    world.switch("block", "create", "bad")
    world.switch("fail", "create", "bad")
    world.switch("block", "check", "mid")
    outcome: dict[str, str] = {}

    async def failed(resource: pulumi.CustomResource) -> str:
        try:
            await resource.urn.future()
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        return "registered"

    async def program() -> None:
        Thing("slow")
        await until(lambda: "begin create slow" in world.events())
        bad = Thing("bad")
        await until(lambda: "begin create bad" in world.events())
        mid = Thing("mid")
        await until(lambda: "begin check mid" in world.events())
        world.release("create", "bad")
        outcome["bad"] = await failed(bad)  # the error is recorded
        world.release("check", "mid")  # mid's Check returns after it
        outcome["mid"] = await failed(mid)
        outcome["late"] = await failed(Thing("late"))
        world.release("create", "slow")

    error, wire = failing_up(program, stack, kit_server)
    assert "create bad failed on purpose" in details(error)
    assert "failed on purpose" in outcome["bad"]
    assert outcome["mid"].startswith("StepSkipped") and outcome["late"].startswith("StepSkipped")
    events = world.events()
    assert "end check mid" in events and "begin create mid" not in events
    assert wire.sent("mid") == ["Check"] and wire.sent("late") == []
    assert "end create slow" in events and list(stack.resources) == ["slow"]


# --------------------------------------------------------------------------------------------------
# 5. Check and Diff on one loop; steps in parallel; the server's 4 workers
# --------------------------------------------------------------------------------------------------


def test_four_blocked_creates_stall_the_next_check_and_the_loop_behind_it(
    kit_server: ProviderServer, stack: Stack, world: World
) -> None:
    """step_generator.go:1311-1343 and 2943-2950 (Check and Diff are called synchronously by
    the step generator) while step_executor.go:677-723 runs steps on parallel workers; the SDK's
    dynamic server serves 4 calls at once (pulumi/dynamic/__main__.py: ThreadPoolExecutor
    (max_workers=4)). Four creates in flight, so b5's Check waits for a worker, and Other b6's
    Check is not even sent while b5's is waiting."""
    blocked = ["a1", "a2", "a3", "a4"]
    for key in blocked:
        world.switch("block", "create", key)

    async def program() -> None:
        # The SDK sends each registration from its loop's default executor (min(32, cpus + 4)
        # threads): make sure six can be in flight on any machine.
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=8))
        for key in blocked:
            Thing(key)
        await until(lambda: sum(e.startswith("begin create") for e in world.events()) == 4)
        Thing("b5")
        await until(lambda: wire.has("sent", "Check", "b5"))
        Other("b6")

    wire = Wire()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            run_program(program, stack, recording(kit_server, stack, wire))
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: wire.has("sent", "Check", "b5"))
        assert wait_for(lambda: wire.has("engine", sample_providers.OTHER_TYPE, ""))
        # Bounded negative wait: neither b5's Check reaches the provider nor b6's is sent.
        assert not wait_for(
            lambda: "begin check b5" in world.events() or wire.has("sent", "Check", "b6"), 0.5
        )
        assert not any(e.startswith("end create") for e in world.events())
    finally:
        world.release()
        thread.join(30)
    assert not thread.is_alive() and errors == []
    events = world.events()
    first_end = next(i for i, e in enumerate(events) if e.startswith("end create"))
    assert events.index("begin check b5") > first_end
    assert wire.index("sent", "Check", "b6") > wire.index("returned", "Check", "b5")
    assert set(stack.resources) == {*blocked, "b5", "b6"}


def test_miget_check_and_diff_make_no_http_call(
    kit_server: ProviderServer, stack: Stack, emulator: EmulatorServer
) -> None:
    """The corollary for Miget: its providers never hold one of the server's workers (nor the
    step generator) on the network during Check or Diff: they make no request at all."""

    def program(token: str, tag: str, resource_id: str) -> Callable[[], Any]:
        def body() -> None:
            ghcr = credential(token)
            app(credential_id=ghcr.uuid, tag=tag, resource_id=resource_id)

        return body

    up(program(TOKEN, "1.0.0", APP["resource_id"]), stack, kit_server)
    emulator.clear_log()
    changed = program(ROTATED, "2.0.0", OTHER_RESOURCE_ID)
    result, wire = up(changed, stack, kit_server, preview=True)
    assert result.ops == {"ghcr": "update", "api": "replace"}
    assert set(wire.sent()) == {"Check", "Diff"} and calls(emulator) == []

    engine = Engine(kit_server, CREDENTIAL_TYPE)
    engine.configure(stack.config)
    state = stack.resources["ghcr"]
    news = {**state.inputs, "token": Secret(ROTATED), "workspace_id": OTHER_WORKSPACE_ID}
    inputs, failures = engine.check("ghcr", state.inputs, news)
    diff = engine.diff("ghcr", state, inputs)
    assert failures == [] and list(diff.replaces) == ["workspace_id"]
    app_engine = Engine(kit_server, APP_TYPE)
    app_engine.configure(stack.config)
    app_state = stack.resources["api"]
    assert app_engine.check("api", app_state.inputs, {**app_state.inputs, "tag": ""})[1]
    assert calls(emulator) == []


# --------------------------------------------------------------------------------------------------
# 6. refresh and .get()
# --------------------------------------------------------------------------------------------------


def test_refresh_reads_with_old_outputs_and_inputs_then_the_inverted_diff_decides(
    kit_server: ProviderServer, stack: Stack, api: Api
) -> None:
    """step.go:1580-1592 (Read: State = old outputs, Inputs = old inputs) and 1690-1712
    (diffResource with the refreshed inputs/outputs as olds and the old inputs as news):
    no drift → same, drift → update; step.go:1615-1619 with 1718-1719 (a blank id: deleted)."""
    up(lambda: credential(), stack, kit_server)
    state = stack.resources["ghcr"]
    wire = Wire()
    engine = recording(kit_server, stack, wire)(CREDENTIAL_TYPE)

    op, fresh = refresh_step(engine, state)
    assert op == "same" and fresh is not None
    read = wire.requests("Read", "ghcr")[0]
    assert struct(read, "properties") == plain(state.outputs)
    assert struct(read, "inputs") == plain(state.inputs)
    diff = wire.requests("Diff", "ghcr")[0]
    assert struct(diff, "olds") == plain(fresh.outputs)
    assert struct(diff, "news") == plain(state.inputs)

    assert api.put(state.id, {"username": "someone-else"}).status_code == 200
    op, drifted = refresh_step(engine, state)
    assert op == "update" and drifted is not None
    assert drifted.outputs["username"] == "someone-else"
    assert drifted.outputs["token"] == Secret(TOKEN)  # secretness carried from the old state
    inverted = wire.requests("Diff", "ghcr")[-1]
    assert struct(inverted, "olds")["username"] == "someone-else"  # the refreshed outputs
    assert struct(inverted, "old_inputs")["username"] == "someone-else"  # the refreshed inputs
    assert struct(inverted, "news")["username"] == "acme-bot"  # the old inputs

    assert api.delete(state.id).status_code == 204
    assert refresh_step(engine, state) == ("delete", None)


def test_refresh_compares_inputs_when_the_provider_answers_diff_unknown(
    kit_server: ProviderServer, stack: Stack, world: World
) -> None:
    """step.go:1699-1708 uses diffResource, whose DIFF_UNKNOWN fallback compares the inputs
    (step_generator.go:2996-3006): refresh shows drift for a provider with the default diff."""
    up(lambda: Thing("t", value="a"), stack, kit_server)
    state = stack.resources["t"]
    world.switch("unknown", "diff", "t")
    engine = recording(kit_server, stack, Wire())(sample_providers.THING_TYPE)
    assert refresh_step(engine, state)[0] == "same"
    record = world.things()[state.id]
    record["inputs"]["value"] = "drifted"
    (world.root / "things" / f"{state.id}.json").write_text(json.dumps(record))
    assert refresh_step(engine, state)[0] == "update"


def test_get_reads_with_the_inputs_as_properties_and_inputs(
    kit_server: ProviderServer, stack: Stack, api: Api
) -> None:
    """step.go:1335-1348 (ReadStep: the engine sends the registered inputs as both ``State``
    and ``Inputs``); the secret outputs come from additional_secret_outputs only."""
    existing = api.create(name="made-by-hand")

    def program() -> None:
        found = ContainerRegistryCredential.get("lookup", existing["uuid"])
        pulumi.export("name", found.name)

    result, wire = up(program, stack, kit_server)
    assert result.output("name") == "made-by-hand" and result.ops == {"lookup": "read"}
    (read,) = wire.requests("Read", "lookup")
    sent = struct(read, "properties")
    assert read.id == existing["uuid"] and sent == struct(read, "inputs")
    assert set(sent) == {"__provider"}  # every property unset (None values are not sent)


# --------------------------------------------------------------------------------------------------
# 7. Preview
# --------------------------------------------------------------------------------------------------


def test_preview_sends_no_create_or_update_and_returns_the_checked_inputs(
    kit_server: ProviderServer, stack: Stack, emulator: EmulatorServer
) -> None:
    """provider_plugin.go:1425-1439 and 1701-1716 (sdk/go/common/resource/plugin): with
    ``supportsPreview=False`` a preview Create/Update is answered by the engine with the checked
    inputs as outputs (computed ones unknown); step.go:963 keeps the id of an update."""

    def program(tag: str) -> Callable[[], Any]:
        def body() -> None:
            api = app(tag=tag)
            pulumi.export("label", api.label)  # filled in by check (default: the name)
            pulumi.export("uuid", api.uuid)
            pulumi.export("app_name", api.app_name)
            pulumi.export("tag", api.tag)

        return body

    result, wire = up(program("1.0.0"), stack, kit_server, preview=True)
    assert result.ops == {"api": "create"} and wire.sent() == ["Check"]
    assert result.output("label") == APP["name"] and result.output("tag") == "1.0.0"
    assert result.output("uuid") is UNKNOWN and result.output("app_name") is UNKNOWN
    assert calls(emulator) == [] and stack.resources == {}

    up(program("1.0.0"), stack, kit_server)
    state = stack.resources["api"]
    emulator.clear_log()
    result, wire = up(program("2.0.0"), stack, kit_server, preview=True)
    assert result.ops == {"api": "update"} and wire.sent() == ["Check", "Diff"]
    assert result.output("uuid") == state.id and result.output("tag") == "2.0.0"
    assert result.output("app_name") is UNKNOWN  # not an input: unknown until the update
    assert calls(emulator) == [] and stack.resources["api"] == state


# --------------------------------------------------------------------------------------------------
# 9. Secrets (the same-key rule after Check/Create/Read: tests/contract/test_harness.py
#    test_secrets_are_stripped_for_the_provider_and_reannotated and
#    test_refresh_reads_drift_keeps_secrets_and_drops_deleted; the pure rules: its
#    test_annotate_secrets and test_step_executor_secret_rules)
# --------------------------------------------------------------------------------------------------


def test_an_update_result_keeps_the_same_key_secret(
    kit_server: ProviderServer, stack: Stack, emulator: EmulatorServer
) -> None:
    """provider_plugin.go:1814 (annotateSecrets(outs, req.NewInputs) after Update): the rotated
    token comes back secret, though the provider saw it in plain text."""
    up(lambda: credential(), stack, kit_server)
    result, wire = up(lambda: credential(ROTATED), stack, kit_server)
    assert result.ops == {"ghcr": "update"}
    (update,) = wire.requests("Update", "ghcr")
    assert struct(update, "news")["token"] == ROTATED  # stripped: acceptSecrets=False
    assert stack.resources["ghcr"].outputs["token"] == Secret(ROTATED)
    assert ("PUT", f"{CREDENTIALS_PATH}/{stack.resources['ghcr'].id}") in calls(emulator)


def test_a_secret_input_marks_its_output_secret_even_on_a_same_step(
    kit_server: ProviderServer, stack: Stack
) -> None:
    """step_executor.go:556-567 ("if an input secret is potentially leaked as an output"): it
    applies to every new state, a same step's too, which calls no provider at all."""
    up(lambda: Thing("t", value="a"), stack, kit_server)
    assert stack.resources["t"].outputs["value"] == "a"
    result, wire = up(lambda: Thing("t", value=pulumi.Output.secret("a")), stack, kit_server)
    assert result.ops == {"t": "same"} and wire.sent() == ["Check", "Diff"]
    assert stack.resources["t"].inputs["value"] == Secret("a")
    assert stack.resources["t"].outputs["value"] == Secret("a")


def test_additional_secret_outputs_apply_on_every_step_but_never_to_the_id(
    kit_server: ProviderServer, stack: Stack
) -> None:
    """step_executor.go:521-540: every key in AdditionalSecretOutputs is made secret in each new
    state (create, same, update, refresh with the stored list); ``id`` only warns."""
    opts = pulumi.ResourceOptions(additional_secret_outputs=["username", "id"])
    seen: dict[str, bool] = {}

    def program(token: str) -> Callable[[], Any]:
        async def body() -> None:
            ghcr = credential(token, opts=opts)
            seen["username"] = await ghcr.username.is_secret()
            seen["id"] = await ghcr.id.is_secret()

        return body

    up(program(TOKEN), stack, kit_server)
    assert stack.resources["ghcr"].outputs["username"] == Secret("acme-bot")
    assert seen == {"username": True, "id": False}
    assert set(stack.resources["ghcr"].additional_secret_outputs) >= {"username", "token"}
    for token in (TOKEN, ROTATED):  # same, then update
        up(program(token), stack, kit_server)
        assert stack.resources["ghcr"].outputs["username"] == Secret("acme-bot")
    # A refresh re-applies the stored list: shown on a state whose username is not secret yet
    # (annotateSecrets alone, from the old outputs, would leave it plain).
    state = stack.resources["ghcr"]
    plain_username = dataclasses.replace(state, outputs={**state.outputs, "username": "acme-bot"})
    engine = recording(kit_server, stack, Wire())(CREDENTIAL_TYPE)
    _, fresh = refresh_step(engine, plain_username)
    assert fresh is not None and fresh.outputs["username"] == Secret("acme-bot")


def test_check_failures_name_the_property(kit_server: ProviderServer, stack: Stack) -> None:
    """step_generator.go:1344-1349 and issueCheckErrors: Check failures stop the resource before
    any step (kept here for the CheckFailed the OfflineStack tests rely on)."""
    failed, wire = failing_up(lambda: Thing("t", value=""), stack, kit_server)
    assert isinstance(failed, CheckFailed) and failed.failures[0][0] == "value"
    assert wire.sent() == ["Check"] and stack.resources == {}
