"""Run a real Pulumi program against the real dynamic-provider server, without the CLI.

The program runs under ``pulumi.runtime.set_mocks`` with :class:`EngineMonitor`, a ``MockMonitor``
whose dynamic registrations (type ``pulumi-python:dynamic...``) go through the engine harness
(:mod:`.engine`): Check → Create / Diff → Same / Update / Replace against a persisted
:class:`Stack`, with the engine's secret rules, and the resulting outputs handed back to the
program as wire values (so ``Output.is_secret()`` works). Other resources echo their inputs.

After every create and update, the deletes run (step_generator.go:2164, GenerateDeletes and
ScheduleDeletes): the old resources of create-before-delete replacements, the resources the
program no longer registers, and any left pending by an earlier run, dependents first. A failed
step stops the run: nothing new starts; a failed create leaves nothing in state, a failed update
keeps the old state, and old resources not yet deleted stay pending for the next run. A refused
protected delete is the exception: the other deletes still run (see :func:`~.steps.run_deletes`).
:func:`destroy_stack` deletes everything, configured like ``pulumi destroy`` without
``--run-program``: with the config stored at the last ``up``. Exports are captured from the
root stack's ``RegisterResourceOutputs``, as the engine
receives them.

Each run gets a copied ``contextvars`` context, a fresh event loop, fresh SDK settings and a fresh
root ``Stack`` resource, so runs can be repeated in one pytest process.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime import stack as pulumi_stack
from pulumi.runtime.proto import resource_pb2

from .engine import Engine, ResourceState
from .monitor import DYNAMIC_PREFIX, EngineFactory, EngineMonitor, _EchoMocks
from .server import ProviderServer
from .steps import delete_order, run_deletes
from .values import Props, Secret, plain

__all__ = [
    "DYNAMIC_PREFIX",
    "EngineFactory",
    "EngineMonitor",
    "ProgramResult",
    "Stack",
    "destroy_stack",
    "engine_factory",
    "run_program",
]


@dataclass
class Stack:
    """A stack's config and checkpoint, kept across runs (resource name → state)."""

    config: dict[str, Any] = field(default_factory=dict)
    """Stack config as the engine hands it to the default provider: namespaced keys
    (``miget:apiKey``), string values, ``Secret(...)`` for ``--secret`` values."""
    resources: dict[str, ResourceState] = field(default_factory=dict)
    outputs: dict[str, tuple[Any, bool]] = field(default_factory=dict)
    """The stack outputs of the last successful (non-preview) run."""
    pending_deletes: list[ResourceState] = field(default_factory=list)
    """Old resources of replacements whose delete has not run yet (the checkpoint's
    ``delete: true`` entries): the next run deletes them with the other deletes at its end
    (GenerateDeletes, step_generator.go:2389-2423)."""
    provider_config: dict[str, Any] | None = None
    """The config the default provider was configured with at the last ``up`` (its inputs in
    the checkpoint): what ``destroy`` and ``refresh`` without ``--run-program`` use
    (providers/registry.go)."""


@dataclass
class ProgramResult:
    outputs: dict[str, tuple[Any, bool]]
    """Exports: name → (value, is_secret); values with secrets stripped, ``UNKNOWN`` in preview."""
    ops: dict[str, str]
    """Resource name → ``create``/``same``/``update``/``replace``/``delete``/``read`` (dynamic
    resources only)."""
    registrations: list[resource_pb2.RegisterResourceRequest]
    """Raw RegisterResourceRequests (all resources, the root stack included), in arrival order."""
    changed: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Resource name → the inputs an update or replace changes (what the CLI lists)."""
    urns: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Resource name → (URN, type) of every dynamic resource the program registered or read."""

    def registration(self, name: str) -> resource_pb2.RegisterResourceRequest:
        matches = [r for r in self.registrations if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} registrations named {name!r}")
        return matches[0]

    def output(self, name: str) -> Any:
        """An export's value (secretness dropped)."""
        return self.outputs[name][0]


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


class _Placeholder:
    """Stands in as the root resource while ``set_mocks`` runs, so it creates no stack of its
    own; the real root ``Stack`` is created by ``run_in_stack``, as in ``pulumi up``."""


def _run_in_context(
    fn: Callable[[], Any],
    monitor: EngineMonitor,
    *,
    config: Mapping[str, Any],
    project: str,
    stack_name: str,
    preview: bool,
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
        # The program reads the stack config (pulumi.Config) as the language host hands it over.
        secret_keys = [key for key, value in config.items() if isinstance(value, Secret)]
        config_values = {
            k: v if isinstance(v, str) else json.dumps(v) for k, v in plain(config).items()
        }
        pulumi.runtime.set_all_config(config_values, secret_keys)
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
    monitor = EngineMonitor(engines, stack.resources, preview=preview, mocks=_EchoMocks())
    context = contextvars.copy_context()
    try:
        context.run(
            _run_in_context,
            fn,
            monitor,
            config=stack.config,
            project=project,
            stack_name=stack_name,
            preview=preview,
        )
        if monitor.errors:
            raise monitor.errors[0]
    except BaseException as exc:
        # Old resources already replaced stay in the checkpoint, pending deletion.
        stack.pending_deletes.extend(monitor.deferred_deletes)
        if monitor.errors and monitor.errors[0] is not exc:
            raise monitor.errors[0] from exc
        raise

    ops = dict(monitor.ops)
    removed = [s for name, s in stack.resources.items() if name not in monitor.registered]
    for state in removed:
        ops[state.name] = "delete"
    old_pending = stack.pending_deletes
    replaced = {id(s) for s in (*old_pending, *monitor.deferred_deletes)}
    todo = delete_order([*old_pending, *monitor.deferred_deletes, *removed])
    done: set[int] = set()

    def deleted(state: ResourceState) -> None:
        if preview:  # the protect check only (step.go:644-651)
            return
        done.add(id(state))
        if id(state) not in replaced:
            stack.resources.pop(state.name, None)

    try:
        run_deletes(engines, todo, lambda s: id(s) in replaced, deleted, preview=preview)
    finally:
        if not preview:  # step.go: a failed delete keeps the resource, pending for the next up
            stack.pending_deletes = [s for s in todo if id(s) in replaced and id(s) not in done]
    if not preview:
        stack.provider_config = dict(stack.config)
    outputs = _export_values(monitor.stack_outputs)
    if not preview:
        stack.outputs = outputs
    return ProgramResult(
        outputs=outputs,
        ops=ops,
        registrations=list(monitor.registrations),
        changed=dict(monitor.changed),
        urns=dict(monitor.urns),
    )


def destroy_stack(
    stack: Stack,
    server: ProviderServer | EngineFactory,
    *,
    project: str = "proj",
    stack_name: str = "dev",
    run_program: bool = False,
) -> dict[str, str]:
    """``pulumi destroy``: delete every resource, dependents first. Returns {name: "delete"}.

    Without ``run_program`` the provider is configured from the config stored at the last
    ``up`` (providers/registry.go: ``Registry.Same`` reuses the provider's recorded inputs);
    with it (``--run-program``, CLI >= 3.160) from the current config."""
    config = stack.config if run_program or stack.provider_config is None else stack.provider_config
    engines = _engines(server, Stack(config=config), project, stack_name)
    ops: dict[str, str] = {}
    pending = {id(s) for s in stack.pending_deletes}

    def deleted(state: ResourceState) -> None:
        if id(state) in pending:
            stack.pending_deletes = [s for s in stack.pending_deletes if s is not state]
        else:
            stack.resources.pop(state.name, None)
            ops[state.name] = "delete"

    todo = delete_order([*stack.pending_deletes, *stack.resources.values()])
    run_deletes(engines, todo, lambda s: id(s) in pending, deleted)
    stack.outputs = {}
    return ops
