"""``OfflineStack``: run a Pulumi program's ``preview``, ``up``, ``refresh`` and ``destroy``
offline, against the emulator, through the engine model — **experimental**.

    def program():
        ContainerRegistryCredential("ghcr", name="ghcr-acme", registry="github",
                                    username="acme-bot", token="ghp_test")

    with EmulatorServer() as emulator:
        stack = OfflineStack(program, emulator=emulator)
        assert stack.up().summary == {"create": 1}
        assert stack.up().summary == {"same": 1}

Miget resources go through the SDK's real dynamic-provider server against the emulator; every
other resource type is echoed like ``set_mocks`` (inputs as outputs, a fake id), so a mixed
stack runs. Like the CLI, each command starts its own provider process, configured with the
stack config (``destroy`` and ``refresh`` without ``run_program=True``: the config of the last
``up``).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc

from .engine import CheckFailed, ResourceState, failed_urn, tag_urn
from .program import Stack, destroy_stack, engine_factory, run_program
from .server import ProviderServer
from .steps import ProtectedError, refresh_step
from .values import UNKNOWN, Secret, contains_secrets, plain

if TYPE_CHECKING:
    from pulumi_miget.emulator import EmulatorServer

__all__ = ["OfflineStack", "RunResult", "Step", "StepFailed"]

DEFAULT_API_KEY = "miget_live_emulator_local_key"  # the emulator's documented local default
DEFAULT_WORKSPACE_ID = "00000000-0000-4000-8000-000000000001"
OPS = ("create", "same", "update", "replace", "delete", "read")


@dataclass(frozen=True)
class Step:
    """One resource's step in a run: what the CLI shows on its line."""

    urn: str
    type: str
    op: str
    """``create``, ``same``, ``update``, ``replace``, ``delete`` or ``read`` (a ``.get()``)."""
    changed: tuple[str, ...] = ()
    """The inputs an update or replace changes (a refresh: none, the outputs moved)."""

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]


@dataclass(frozen=True)
class RunResult:
    """What a command did: the stack outputs, one step per resource, and the CLI's summary."""

    outputs: dict[str, Any]
    """Stack exports: plain values, secrets still wrapped in :class:`Secret`, :data:`UNKNOWN`
    for values a preview cannot know."""
    steps: tuple[Step, ...]

    @property
    def summary(self) -> dict[str, int]:
        """Steps per op, like the CLI's "Resources:" block (ops with no step left out)."""
        return dict(Counter(step.op for step in self.steps))

    def step(self, name: str) -> Step:
        matches = [s for s in self.steps if s.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} steps for a resource named {name!r}")
        return matches[0]

    def output(self, name: str) -> Any:
        """An export's value, secret or not."""
        return plain(self.outputs[name])


class StepFailed(Exception):
    """A step failed; the message is what ``pulumi up`` prints for it, ``urn`` the resource
    whose step failed (the line the CLI prints the error under)."""

    def __init__(self, message: str, *, urn: str | None = None) -> None:
        super().__init__(message)
        self.urn = urn


class OfflineStack:
    """A stack whose checkpoint lives in memory, run offline against ``emulator``.

    ``config`` holds the stack config: keys without a namespace belong to the project
    (``"ghcrToken"`` is ``<project>:ghcrToken``), a :class:`Secret` value is a
    ``pulumi config set --secret``. ``miget:apiKey``, ``miget:apiUrl`` and ``miget:workspaceId``
    are set for the emulator unless given. ``state`` starts from a saved :attr:`state`.
    """

    def __init__(
        self,
        program: Callable[[], Any],
        *,
        emulator: EmulatorServer,
        config: Mapping[str, Any] | None = None,
        project: str = "test",
        stack: str = "dev",
        state: Mapping[str, Any] | None = None,
        api_key: str = DEFAULT_API_KEY,
        workspace_id: str = DEFAULT_WORKSPACE_ID,
        server: ProviderServer | None = None,
    ) -> None:
        self.program = program
        self.project = project
        self.stack_name = stack
        self._server = server  # shared: faster; None: one process per command, as the CLI
        settings: dict[str, Any] = {
            "miget:apiKey": Secret(api_key),
            "miget:apiUrl": emulator.api_url,
            "miget:workspaceId": workspace_id,
        }
        for key, value in (config or {}).items():
            settings[key if ":" in key else f"{project}:{key}"] = value
        self._stack = Stack(config=settings)
        if state is not None:
            self._load(state)

    @property
    def config(self) -> dict[str, Any]:
        """The stack config (change it between commands like ``pulumi config set``)."""
        return self._stack.config

    # ---- commands ---------------------------------------------------------------------------
    def preview(self) -> RunResult:
        return self._run(preview=True)

    def up(self) -> RunResult:
        return self._run(preview=False)

    def refresh(self, *, run_program: bool = False) -> RunResult:
        """``pulumi refresh``: every resource read back; a gone one is dropped from state."""
        config = self._command_config(run_program)
        steps: list[Step] = []
        with self._provider() as server, _as_step_failure():
            engines = engine_factory(server, config, self.project, self.stack_name)
            for name, state in list(self._stack.resources.items()):
                try:
                    op, fresh = refresh_step(engines(state.type), state)
                except BaseException as exc:
                    tag_urn(exc, state.urn)
                    raise
                steps.append(Step(state.urn, state.type, op))
                if fresh is None:
                    del self._stack.resources[name]
                else:
                    self._stack.resources[name] = fresh
        return RunResult(dict(self._stack_outputs()), tuple(steps))

    def destroy(self, *, run_program: bool = False) -> RunResult:
        """``pulumi destroy``: every resource deleted, dependents first."""
        states = {s.name: s for s in self._stack.resources.values()}
        with self._provider() as server, _as_step_failure():
            ops = destroy_stack(
                self._stack,
                server,
                project=self.project,
                stack_name=self.stack_name,
                run_program=run_program,
            )
        steps = tuple(Step(states[n].urn, states[n].type, op) for n, op in ops.items())
        return RunResult({}, steps)

    # ---- the checkpoint -----------------------------------------------------------------------
    @property
    def state(self) -> dict[str, Any]:
        """The checkpoint as JSON-able data: each resource's URN, id, inputs and outputs (secret
        values as ``{"secret": value}``, so a test can assert nothing secret is stored in plain
        text), dependencies and options; the provider config of the last ``up``."""
        return {
            "resources": [_dump_state(s) for s in self._stack.resources.values()],
            "pending_deletes": [_dump_state(s) for s in self._stack.pending_deletes],
            "provider_config": _dump(self._stack.provider_config),
            "outputs": {key: _dump(value) for key, value in self._stack_outputs()},
        }

    def _load(self, state: Mapping[str, Any]) -> None:
        for item in state.get("resources", []):
            loaded = _load_state(item)
            self._stack.resources[loaded.name] = loaded
        self._stack.pending_deletes = [_load_state(i) for i in state.get("pending_deletes", [])]
        self._stack.provider_config = _load(state.get("provider_config"))
        self._stack.outputs = {
            k: (plain(_load(v)), isinstance(_load(v), Secret))
            for k, v in state.get("outputs", {}).items()
        }

    # ---- internals ------------------------------------------------------------------------------
    def _run(self, *, preview: bool) -> RunResult:
        before = dict(self._stack.resources)
        with self._provider() as server, _as_step_failure():
            result = run_program(
                self.program,
                self._stack,
                server,
                preview=preview,
                project=self.project,
                stack_name=self.stack_name,
            )
        steps = []
        for name, op in result.ops.items():
            known = result.urns.get(name)
            if known is None:  # deleted: it is only in the old checkpoint
                known = (before[name].urn, before[name].type)
            urn, type_ = known
            steps.append(Step(urn, type_, op, result.changed.get(name, ())))
        outputs = {
            key: Secret(value) if secret else value
            for key, (value, secret) in result.outputs.items()
        }
        return RunResult(outputs, tuple(steps))

    def _command_config(self, run_program: bool) -> dict[str, Any]:
        stored = self._stack.provider_config
        return dict(self._stack.config if run_program or stored is None else stored)

    def _stack_outputs(self) -> Iterator[tuple[str, Any]]:
        for key, (value, secret) in self._stack.outputs.items():
            yield key, Secret(value) if secret else value

    @contextmanager
    def _provider(self) -> Iterator[ProviderServer]:
        if self._server is not None:
            yield self._server
            return
        with ProviderServer() as server:
            yield server


@contextmanager
def _as_step_failure() -> Iterator[None]:
    """Provider errors as ``pulumi up`` prints them."""
    try:
        yield
    except CheckFailed as exc:
        lines = [
            f"resource '{exc.name}': property {prop} has a problem: {reason}"
            for prop, reason in exc.failures
        ]
        raise StepFailed("\n".join(lines), urn=failed_urn(exc)) from None
    except grpc.RpcError as exc:
        details = exc.details() if hasattr(exc, "details") else str(exc)
        raise StepFailed(str(details), urn=failed_urn(exc)) from None
    except ProtectedError as exc:
        raise StepFailed(str(exc), urn=failed_urn(exc)) from None


def _dump(value: Any) -> Any:
    if isinstance(value, Secret):
        return {"secret": _dump(value.value)}
    if value is UNKNOWN:
        return {"unknown": True}
    if isinstance(value, Mapping):
        return {k: _dump(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_dump(v) for v in value]
    return value


def _load(value: Any) -> Any:
    if isinstance(value, Mapping):
        if set(value) == {"secret"}:
            return Secret(_load(value["secret"]))
        if set(value) == {"unknown"}:
            return UNKNOWN
        return {k: _load(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_load(v) for v in value]
    return value


def _dump_state(state: ResourceState) -> dict[str, Any]:
    data = dataclasses.asdict(state)
    data["inputs"], data["outputs"] = _dump(state.inputs), _dump(state.outputs)
    data["replacement_trigger"] = _dump(state.replacement_trigger)
    data["additional_secret_outputs"] = list(state.additional_secret_outputs)
    data["dependencies"] = list(state.dependencies)  # JSON has no tuples: round-trips equal
    data["has_secrets"] = contains_secrets(state.outputs)
    return data


def _load_state(data: Mapping[str, Any]) -> ResourceState:
    fields = {f.name for f in dataclasses.fields(ResourceState)}
    values = {k: v for k, v in data.items() if k in fields}
    values["inputs"], values["outputs"] = _load(data["inputs"]), _load(data["outputs"])
    values["replacement_trigger"] = _load(data.get("replacement_trigger"))
    values["additional_secret_outputs"] = tuple(data.get("additional_secret_outputs", ()))
    values["dependencies"] = tuple(data.get("dependencies", ()))
    return ResourceState(**values)
