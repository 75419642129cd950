"""Run a real Pulumi program against the real dynamic-provider server, without the CLI.

The program runs under ``pulumi.runtime.set_mocks`` with :class:`EngineMonitor`, a ``MockMonitor``
whose dynamic registrations (type ``pulumi-python:dynamic...``) go through the engine harness
(:mod:`.engine`): Check → Create / Diff → Same / Update / Replace against a persisted
:class:`Stack`, with the engine's secret rules, and the resulting outputs handed back to the
program as wire values (so ``Output.is_secret()`` works). Other resources echo their inputs.

After a successful run, resources that were in the stack but were not registered are deleted,
like ``pulumi up`` deleting resources removed from the program. :func:`destroy_stack` deletes
everything. Exports are captured from the root stack's ``RegisterResourceOutputs``, as the engine
receives them.

Each run gets a copied ``contextvars`` context, a fresh event loop, fresh SDK settings and a fresh
root ``Stack`` resource, so runs can be repeated in one pytest process.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime import stack as pulumi_stack
from pulumi.runtime.proto import resource_pb2

from .engine import Engine, ResourceState
from .server import ProviderServer
from .steps import plan, preview_outputs, up
from .values import Props, Secret, decode, encode, from_struct, plain, to_struct

__all__ = [
    "DYNAMIC_PREFIX",
    "EngineFactory",
    "EngineMonitor",
    "ProgramResult",
    "Stack",
    "destroy_stack",
    "engine_factory",
    "harness_to_sdk",
    "run_program",
    "sdk_to_harness",
]

DYNAMIC_PREFIX = "pulumi-python:dynamic"
STACK_TYPE = "pulumi:pulumi:Stack"

EngineFactory = Callable[[str], Engine]
"""type token → a *configured* Engine for that type."""


@dataclass
class Stack:
    """A stack's config and checkpoint, kept across runs (resource name → state)."""

    config: dict[str, Any] = field(default_factory=dict)
    """Stack config as the engine hands it to the default provider: namespaced keys
    (``miget:apiKey``), string values, ``Secret(...)`` for ``--secret`` values."""
    resources: dict[str, ResourceState] = field(default_factory=dict)
    outputs: dict[str, tuple[Any, bool]] = field(default_factory=dict)
    """The stack outputs of the last successful (non-preview) run."""


@dataclass
class ProgramResult:
    outputs: dict[str, tuple[Any, bool]]
    """Exports: name → (value, is_secret); values with secrets stripped, ``UNKNOWN`` in preview."""
    ops: dict[str, str]
    """Resource name → ``create``/``same``/``update``/``replace``/``delete``/``read`` (dynamic
    resources only)."""
    registrations: list[resource_pb2.RegisterResourceRequest]
    """Raw RegisterResourceRequests (all resources, the root stack included), in arrival order."""

    def registration(self, name: str) -> resource_pb2.RegisterResourceRequest:
        matches = [r for r in self.registrations if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} registrations named {name!r}")
        return matches[0]

    def output(self, name: str) -> Any:
        """An export's value (secretness dropped)."""
        return self.outputs[name][0]


def sdk_to_harness(value: Any) -> Any:
    """SDK wire form (``{sig: secret, value: x}``, the unknown sentinel) → Secret / UNKNOWN."""
    return decode(value)


def harness_to_sdk(value: Any) -> Any:
    """Secret / UNKNOWN → the SDK wire form (what ``MockMonitor`` hands back to a program)."""
    return encode(value, keep_secrets=True, keep_unknowns=True)


def engine_factory(
    server: ProviderServer, config: Mapping[str, Any], project: str, stack_name: str
) -> EngineFactory:
    """One Engine per type token on a shared server, each configured with the stack config.

    The engine uses a single default ``pulumi-python`` provider (one process) for every dynamic
    type, configured once per run (``pkg/resource/deploy/providers/registry.go``); here each
    type's Engine sends the same Configure, which the server simply stores again.
    """
    engines: dict[str, Engine] = {}
    lock = threading.Lock()

    def get(type_token: str) -> Engine:
        with lock:
            engine = engines.get(type_token)
            if engine is None:
                engine = Engine(server, type_token, project=project, stack=stack_name)
                engine.configure(config)
                engines[type_token] = engine
            return engine

    return get


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
        self, engines: EngineFactory, stack: Stack, *, preview: bool, mocks: pulumi.runtime.Mocks
    ) -> None:
        super().__init__(mocks)
        self.engines = engines
        self.stack = stack
        self.preview = preview
        self.ops: dict[str, str] = {}
        self.registrations: list[resource_pb2.RegisterResourceRequest] = []
        self.registered: set[str] = set()
        self.stack_outputs: Props | None = None
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()

    # -- registrations -------------------------------------------------------------------------

    def RegisterResource(self, request: Any) -> Any:
        with self._lock:
            self.registrations.append(request)
        if not request.type.startswith(DYNAMIC_PREFIX):
            return super().RegisterResource(request)  # type: ignore[no-untyped-call]
        try:
            return self._register_dynamic(request)
        except BaseException as exc:
            with self._lock:
                self.errors.append(exc)
            raise

    def _register_dynamic(self, request: Any) -> resource_pb2.RegisterResourceResponse:
        name: str = request.name
        urn = self.make_urn(request.parent, request.type, name)
        engine = self.engines(request.type)
        news = from_struct(request.object)
        aso = tuple(request.additionalSecretOutputs)
        # source_eval.go:2354: the option counts when Defined is set or the value is true; it
        # then overrides the provider's answer (step_generator.go:2043-2046).
        dbr: bool | None = None
        if request.deleteBeforeReplaceDefined or request.deleteBeforeReplace:
            dbr = bool(request.deleteBeforeReplace)
        trigger: Any = None
        if request.HasField("replacement_trigger"):
            trigger = decode(json_format.MessageToDict(request.replacement_trigger))
        with self._lock:
            if name in self.registered:
                raise RuntimeError(f"resource '{name}' registered twice")
            self.registered.add(name)
            old = self.stack.resources.get(name)
        if self.preview:
            decided = plan(
                engine,
                name,
                news,
                old,
                preview=True,
                delete_before_replace=dbr,
                replacement_trigger=trigger,
            )
            resource_id, outputs = preview_outputs(decided, old, aso)
            with self._lock:
                self.ops[name] = decided.op
        else:
            op, state = up(
                engine,
                name,
                news,
                old,
                aso,
                delete_before_replace=dbr,
                replacement_trigger=trigger,
            )
            assert state is not None
            resource_id, outputs = state.id, state.outputs
            with self._lock:
                self.ops[name] = op
                self.stack.resources[name] = state
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
            new_id, outputs, _ = engine.get_read(
                request.name, request.id, from_struct(request.properties)
            )
            if not new_id:
                raise RuntimeError(f"resource '{request.id}' does not exist")
            for key in request.additionalSecretOutputs:
                if key in outputs and not isinstance(outputs[key], Secret):
                    outputs[key] = Secret(outputs[key])
            with self._lock:
                self.ops[request.name] = "read"
            self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(
                urn, new_id, plain(outputs)
            )
            return resource_pb2.ReadResourceResponse(
                urn=urn, properties=to_struct(outputs, keep_secrets=True)
            )
        except BaseException as exc:
            with self._lock:
                self.errors.append(exc)
            raise

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn.split("::")[2] == STACK_TYPE:
            self.stack_outputs = from_struct(request.outputs)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


class _Placeholder:
    """Stands in as the root resource while ``set_mocks`` runs, so it creates no stack of its
    own; the real root ``Stack`` is created by ``run_in_stack``, as in ``pulumi up``."""


def _run_in_context(
    fn: Callable[[], Any], monitor: EngineMonitor, *, project: str, stack_name: str, preview: bool
) -> None:
    loop = asyncio.new_event_loop()
    failed = False

    def exception_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        # After a failed run, every output of the failed resource holds the exception; their
        # "Future exception was never retrieved" reports (at GC) are noise: it is re-raised.
        if failed and str(context.get("message", "")).startswith("Future exception was never"):
            return
        loop.default_exception_handler(context)

    loop.set_exception_handler(exception_handler)
    asyncio.set_event_loop(loop)
    try:
        pulumi_settings.ROOT.set(_Placeholder())  # type: ignore[arg-type]
        pulumi.runtime.set_mocks(
            monitor.mocks, project=project, stack=stack_name, preview=preview, monitor=monitor
        )
        # A copied context shares the caller's mutable settings objects: give this run its own
        # output-task set and lock (set_mocks already made a fresh RPC manager).
        pulumi_settings.SETTINGS.outputs = set()
        pulumi_settings.SETTINGS.lock = threading.Lock()
        pulumi_settings.ROOT.set(None)
        loop.run_until_complete(pulumi_stack.run_in_stack(fn))
    except BaseException:
        failed = True
        raise
    finally:
        try:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


def _export_values(outputs: Props | None) -> dict[str, tuple[Any, bool]]:
    result: dict[str, tuple[Any, bool]] = {}
    for key, value in (outputs or {}).items():
        secret = isinstance(value, Secret)
        result[key] = (plain(value), secret)
    return result


def _engines(
    server: ProviderServer | EngineFactory, stack: Stack, project: str, stack_name: str
) -> EngineFactory:
    if isinstance(server, ProviderServer):
        return engine_factory(server, stack.config, project, stack_name)
    return server


def run_program(
    fn: Callable[[], Any],
    stack: Stack,
    server: ProviderServer | EngineFactory,
    *,
    preview: bool = False,
    project: str = "proj",
    stack_name: str = "dev",
) -> ProgramResult:
    """Run ``fn`` (the program's body; may return an awaitable) as ``pulumi up`` / ``preview``.

    ``server`` is the shared :class:`ProviderServer` (an Engine per type is created and
    configured with ``stack.config``) or an :data:`EngineFactory`. ``stack`` is updated in place
    (not in preview). The first error raised while handling a registration (e.g.
    :class:`~.engine.CheckFailed`, ``grpc.RpcError``) is re-raised; otherwise the SDK's own
    error is.
    """
    engines = _engines(server, stack, project, stack_name)
    monitor = EngineMonitor(engines, stack, preview=preview, mocks=_EchoMocks())
    context = contextvars.copy_context()
    try:
        context.run(
            _run_in_context,
            fn,
            monitor,
            project=project,
            stack_name=stack_name,
            preview=preview,
        )
    except BaseException as exc:
        if monitor.errors and monitor.errors[0] is not exc:
            raise monitor.errors[0] from exc
        raise
    if monitor.errors:
        raise monitor.errors[0]

    ops = dict(monitor.ops)
    # Resources in the checkpoint that the program no longer registers are deleted, in reverse
    # order of creation (pkg/resource/deploy/step_generator.go: GenerateDeletes).
    for name in reversed(list(stack.resources)):
        if name in monitor.registered:
            continue
        ops[name] = "delete"
        if not preview:
            state = stack.resources.pop(name)
            engines(state.type).delete(state)
    outputs = _export_values(monitor.stack_outputs)
    if not preview:
        stack.outputs = outputs
    return ProgramResult(outputs=outputs, ops=ops, registrations=list(monitor.registrations))


def destroy_stack(
    stack: Stack,
    server: ProviderServer | EngineFactory,
    *,
    project: str = "proj",
    stack_name: str = "dev",
) -> dict[str, str]:
    """``pulumi destroy``: delete every resource, newest first. Returns {name: "delete"}."""
    engines = _engines(server, stack, project, stack_name)
    ops: dict[str, str] = {}
    for name in reversed(list(stack.resources)):
        state = stack.resources.pop(name)
        engines(state.type).delete(state)
        ops[name] = "delete"
    stack.outputs = {}
    return ops
