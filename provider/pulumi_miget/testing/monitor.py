"""The engine's resource monitor, as the program sees it: a ``MockMonitor`` whose dynamic
registrations go through the engine model (Check and Diff on one step-generator loop, then the
step against the real provider server), every other resource echoed like ``set_mocks``.

Engine rules applied per registration (each cites the Go source it mirrors):

- ``ignore_changes`` resets the named (top-level) inputs to the old inputs before Check and
  Diff (step_generator.go:1264-1268, processIgnoreChanges); the second Check of a replace gets
  the program's inputs as registered, so a replacement takes the new values
  (step_generator.go:2003-2013);
- Check and Diff run **synchronously on one step-generator loop** (step_generator.go:1311-1334,
  2943-2950): here one lock, so a provider process whose 4 workers are all busy stalls every
  registration's Check, as it stalls ``pulumi up``; creates and updates run in parallel (the
  SDK's threads), the deletes of the end of the update one after the other, dependents first
  (one valid schedule of ScheduleDeletes' antichains, step_generator.go:2747-2790);
- ``delete_before_replace`` set by the program overrides the provider (source_eval.go:2354,
  step_generator.go:2043-2046); ``replacement_trigger`` replaces without asking Diff
  (step_generator.go:1804-1813); ``protect`` refuses a replace (step_generator.go:1957-1971);
- a create-before-delete replacement's delete is deferred to the end of the update
  (step_generator.go:2164), see :func:`~.program.run_program`;
- after the first failed step no new step starts, not even one whose Check was running (the
  step executor cancels on error, and a chain checks before each step: step_executor.go:404-413,
  435-461); steps in flight finish.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.proto import resource_pb2

from .engine import Engine, ResourceState, tag_urn
from .steps import plan, preview_outputs, up
from .values import Props, Secret, decode, encode, from_struct, plain, to_struct

__all__ = [
    "DYNAMIC_PREFIX",
    "EngineFactory",
    "EngineMonitor",
    "StepSkipped",
    "harness_to_sdk",
    "sdk_to_harness",
]

DYNAMIC_PREFIX = "pulumi-python:dynamic"
STACK_TYPE = "pulumi:pulumi:Stack"

EngineFactory = Callable[[str], Engine]
"""type token → a *configured* Engine for that type."""


def changed_keys(old: ResourceState | None, inputs: Props) -> tuple[str, ...]:
    """The inputs that differ from the old ones, as the CLI lists them for an update (the
    Python dynamic server sends no detailed diff: the engine diffs the inputs itself)."""
    if old is None:
        return ()
    keys = (set(old.inputs) | set(inputs)) - {"__provider"}
    return tuple(sorted(k for k in keys if plain(old.inputs.get(k)) != plain(inputs.get(k))))


class StepSkipped(Exception):
    """A registration that arrived after a step failed: the engine starts no new step."""


def sdk_to_harness(value: Any) -> Any:
    """SDK wire form (``{sig: secret, value: x}``, the unknown sentinel) → Secret / UNKNOWN."""
    return decode(value)


def harness_to_sdk(value: Any) -> Any:
    """Secret / UNKNOWN → the SDK wire form (what ``MockMonitor`` hands back to a program)."""
    return encode(value, keep_secrets=True, keep_unknowns=True)


class _EchoMocks(pulumi.runtime.Mocks):
    """Non-dynamic resources: id ``<name>_id``, outputs = inputs. Invokes return {}."""

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        return f"{args.name}_id", dict(args.inputs)

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class EngineMonitor(pulumi_mocks.MockMonitor):
    """A ``MockMonitor`` that sends dynamic resources through the engine harness.

    RegisterResource is called from the SDK's executor threads, so state updates are locked.
    Errors raised while handling a registration are remembered and re-raised by
    :func:`run_program` (the SDK would otherwise wrap them).
    """

    def __init__(
        self,
        engines: EngineFactory,
        resources: dict[str, ResourceState],
        *,
        preview: bool,
        mocks: pulumi.runtime.Mocks,
    ) -> None:
        super().__init__(mocks)
        self.engines = engines
        self.resources_in_state = resources
        self.preview = preview
        self.deferred_deletes: list[ResourceState] = []
        """Old resources of create-before-delete replacements, deleted after every step."""
        self.urns: dict[str, tuple[str, str]] = {}
        """Resource name → (URN, type) of every dynamic registration and read."""
        self.changed: dict[str, tuple[str, ...]] = {}
        """Resource name → the keys its Diff reported (update and replace steps)."""
        self._step_generator = threading.Lock()
        self.ops: dict[str, str] = {}
        self.registrations: list[resource_pb2.RegisterResourceRequest] = []
        self.registered: set[str] = set()
        self.stack_outputs: Props | None = None
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The URN the engine gives a resource (deployment.go:796-805, resource.NewURN): the
        parent's whole qualified type, ``$``-joined, except the root stack's, which is left out
        (``MockMonitor.make_urn`` keeps the root stack and only the parent's last type)."""
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != STACK_TYPE:
                type_ = f"{parent_type}${type_}"
        stack, project = pulumi.get_stack(), pulumi.get_project()
        return f"urn:pulumi:{stack}::{project}::{type_}::{name}"

    # -- registrations -------------------------------------------------------------------------

    def RegisterResource(self, request: Any) -> Any:
        with self._lock:
            self.registrations.append(request)
        if not request.type.startswith(DYNAMIC_PREFIX):
            return super().RegisterResource(request)  # type: ignore[no-untyped-call]
        try:
            return self._register_dynamic(request)
        except BaseException as exc:
            tag_urn(exc, self.make_urn(request.parent, request.type, request.name))
            with self._lock:
                self.errors.append(exc)
            raise

    def _register_dynamic(self, request: Any) -> resource_pb2.RegisterResourceResponse:
        name: str = request.name
        urn = self.make_urn(request.parent, request.type, name)
        engine = self.engines(request.type)
        goal = from_struct(request.object)
        news = dict(goal)
        aso = tuple(request.additionalSecretOutputs)
        # source_eval.go:2354: the option counts when Defined is set or the value is true; it
        # then overrides the provider's answer (step_generator.go:2043-2046).
        dbr: bool | None = None
        if request.deleteBeforeReplaceDefined or request.deleteBeforeReplace:
            dbr = bool(request.deleteBeforeReplace)
        trigger: Any = None
        if request.HasField("replacement_trigger"):
            trigger = decode(json_format.MessageToDict(request.replacement_trigger))
        options = {
            "protect": bool(request.protect),
            "retain_on_delete": bool(request.retainOnDelete),
            # The state is recorded under the URN the program sees, the one its dependents name
            # in ``dependencies``, so delete_order can match them.
            "urn": urn,
            "dependencies": tuple(request.dependencies),
        }
        with self._lock:
            if self.errors:
                raise StepSkipped(f"{urn}: not started, an earlier step failed")
            if name in self.registered:
                raise RuntimeError(f"resource '{name}' registered twice")
            self.registered.add(name)
            self.urns[name] = (urn, request.type)
            old = self.resources_in_state.get(name)
        if old is not None:  # step_generator.go:1264-1268 (processIgnoreChanges)
            for key in request.ignoreChanges:
                if key in old.inputs:
                    news[key] = old.inputs[key]
                else:
                    news.pop(key, None)
        with self._step_generator:  # Check and Diff: one loop for the whole update
            decided = plan(
                engine,
                name,
                news,
                old,
                preview=self.preview,
                delete_before_replace=dbr,
                replacement_trigger=trigger,
                goal=goal,
                protect=bool(request.protect),
            )
        with self._lock:
            # step_executor.go:404-413, 435-461: the first failed step cancels the executor, and
            # a chain checks for that before each step: a step decided meanwhile never starts.
            if self.errors:
                raise StepSkipped(f"{urn}: not started, an earlier step failed")
        changed = changed_keys(old, decided.inputs) if decided.op in ("update", "replace") else ()
        if self.preview:
            resource_id, outputs = preview_outputs(decided, old, aso)
            with self._lock:
                self.ops[name] = decided.op
                self.changed[name] = changed
        else:
            op, state = up(
                engine,
                name,
                news,
                old,
                aso,
                delete_before_replace=dbr,
                replacement_trigger=trigger,
                options=options,
                deferred_deletes=self.deferred_deletes,
                decided=decided,
            )
            assert state is not None
            resource_id, outputs = state.id, state.outputs
            with self._lock:
                self.ops[name] = op
                self.changed[name] = changed
                self.resources_in_state[name] = state
        self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(
            urn, resource_id, plain(outputs)
        )
        return resource_pb2.RegisterResourceResponse(
            urn=urn,
            id=resource_id,
            object=to_struct(outputs, keep_secrets=True, keep_unknowns=self.preview),
        )

    def ReadResource(self, request: Any) -> Any:
        """``Resource.get`` of a dynamic resource → the provider's Read (``step.go: ReadStep``)."""
        if not request.type.startswith(DYNAMIC_PREFIX):
            return super().ReadResource(request)  # type: ignore[no-untyped-call]
        try:
            engine = self.engines(request.type)
            urn = self.make_urn(request.parent, request.type, request.name)
            # step.go:1335-1344 (ReadStep): State = Inputs, and the inputs.
            inputs = from_struct(request.properties)
            new_id, outputs, _ = engine.get_read(request.name, request.id, inputs)
            if not new_id:
                raise RuntimeError(f"resource '{request.id}' does not exist")
            for key in request.additionalSecretOutputs:
                if key in outputs and not isinstance(outputs[key], Secret):
                    outputs[key] = Secret(outputs[key])
            with self._lock:
                self.ops[request.name] = "read"
                self.urns[request.name] = (urn, request.type)
            self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(
                urn, new_id, plain(outputs)
            )
            return resource_pb2.ReadResourceResponse(
                urn=urn, properties=to_struct(outputs, keep_secrets=True)
            )
        except BaseException as exc:
            tag_urn(exc, self.make_urn(request.parent, request.type, request.name))
            with self._lock:
                self.errors.append(exc)
            raise

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn.split("::")[2] == STACK_TYPE:
            self.stack_outputs = from_struct(request.outputs)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]
