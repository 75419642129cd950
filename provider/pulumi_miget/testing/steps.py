"""A slice of the engine's step generator: what ``pulumi up``, ``preview``, ``refresh`` and
``destroy`` decide for one resource and which provider calls they make
(``pkg/resource/deploy/step_generator.go``, ``step.go``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi.runtime.proto import provider_pb2

from .engine import CheckFailed, Engine, ResourceState
from .values import (
    DIFF_NONE,
    DIFF_SOME,
    DIFF_UNKNOWN,
    Props,
    apply_step_secrets,
    contains_unknowns,
    plain,
)

# --------------------------------------------------------------------------------------------------
# A slice of the step generator
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What the step generator decided for one resource (before any step is applied)."""

    op: str
    """``create``, ``same``, ``update`` or ``replace``."""
    inputs: Props
    """The checked inputs (engine-annotated): the new state's inputs."""
    diff: provider_pb2.DiffResponse | None = None
    delete_before_replace: bool = False
    replaces: tuple[str, ...] = ()


def plan(
    engine: Engine,
    name: str,
    news: Mapping[str, Any],
    old_state: ResourceState | None,
    *,
    preview: bool = False,
    delete_before_replace: bool | None = None,
    replacement_trigger: Any = None,
) -> Plan:
    """Check, then Diff against the old state, and pick the step.

    Mirrors ``pkg/resource/deploy/step_generator.go``: ``Check(olds=old inputs, news)``
    (``AllowUnknowns`` only in preview); failures stop the resource. With an old state,
    ``diffResource`` calls ``Diff``; ``DIFF_UNKNOWN`` (the SDK default ``diff``) falls back to
    comparing old and new inputs; ``DIFF_SOME`` with replace keys → replace (delete first if the
    provider says so, unless the program's ``delete_before_replace`` option overrides it:
    step_generator.go:2043-2046, the option is set when ``deleteBeforeReplaceDefined`` or true,
    source_eval.go:2354), ``DIFF_SOME`` otherwise → update,
    anything else → same.
    """
    inputs, failures = engine.check(
        name, old_state.inputs if old_state else {}, news, preview=preview
    )
    if failures:
        raise CheckFailed(name, failures)
    if old_state is None:
        return Plan("create", inputs)
    # step_generator.go:1804-1813 (generateStepsFromDiff): a changed replacement trigger is a
    # replace decided without asking the provider's Diff (shouldTriggerReplace: unknowns count
    # as changed, a null on either side as "no trigger").
    if not preview and contains_unknowns(replacement_trigger):
        # step_generator.go:1797-1802
        raise RuntimeError(f"replacement trigger contains unknowns for {engine.urn(name)}")
    if _trigger_replaces(replacement_trigger, old_state.replacement_trigger):
        # step_generator.go:2005-2020: on replace the engine checks the goal again with no olds.
        inputs, failures = engine.check(name, {}, news, preview=preview)
        if failures:
            raise CheckFailed(name, failures)
        return Plan("replace", inputs, None, bool(delete_before_replace), ("<trigger>",))
    diff = engine.diff(name, old_state, inputs, preview=preview)
    changes: int = diff.changes
    if changes == DIFF_UNKNOWN:
        changes = DIFF_SOME if plain(old_state.inputs) != plain(inputs) else DIFF_NONE
    if changes != DIFF_SOME:
        return Plan("same", inputs, diff)
    replaces = tuple(diff.replaces)
    if replaces:
        dbr = (
            bool(diff.deleteBeforeReplace)
            if delete_before_replace is None
            else delete_before_replace
        )
        # step_generator.go:2005-2020: on replace the engine checks the goal again with no olds,
        # and the create uses that result.
        inputs, failures = engine.check(name, {}, news, preview=preview)
        if failures:
            raise CheckFailed(name, failures)
        return Plan("replace", inputs, diff, dbr, replaces)
    return Plan("update", inputs, diff)


def up(
    engine: Engine,
    name: str,
    news: Mapping[str, Any],
    old_state: ResourceState | None,
    additional_secret_outputs: Iterable[str] = (),
    preview: bool = False,
    *,
    delete_before_replace: bool | None = None,
    replacement_trigger: Any = None,
    options: Mapping[str, Any] | None = None,
    deferred_deletes: list[ResourceState] | None = None,
    decided: Plan | None = None,
) -> tuple[str, ResourceState | None]:
    """One resource's slice of ``pulumi up`` (or ``preview``): returns (op, new state).

    * ``create``: Create with the checked inputs.
    * ``same``: no provider call; ``step.go: SameStep`` keeps the OLD outputs (including the old
      ``__provider`` blob) and takes the new inputs.
    * ``update``: Update; its outputs replace the old ones.
    * ``replace``: delete-before-replace (Delete, then Create) or create-before-delete (Create,
      then Delete of the old resource; the engine defers that delete to the end of the run).

    In preview only Check and Diff are sent and the state is ``None``: with
    ``supportsPreview=False`` ``provider_plugin.go`` answers preview Create/Update itself with the
    inputs as outputs (see :func:`preview_outputs`).
    """
    aso = tuple(additional_secret_outputs)
    if decided is None:
        decided = plan(
            engine,
            name,
            news,
            old_state,
            preview=preview,
            delete_before_replace=delete_before_replace,
            replacement_trigger=replacement_trigger,
        )
    if preview:
        if engine.supports_preview:
            raise NotImplementedError("the harness only models supportsPreview=False providers")
        return decided.op, None

    def with_goal(state: ResourceState) -> ResourceState:
        return dataclasses.replace(
            state, replacement_trigger=replacement_trigger, **(options or {})
        )

    if decided.op == "create":
        return "create", with_goal(engine.create(name, decided.inputs, aso))
    assert old_state is not None
    if decided.op == "same":
        outputs = apply_step_secrets(old_state.outputs, decided.inputs, aso)
        same = ResourceState(old_state.urn, old_state.id, decided.inputs, outputs, aso)
        return "same", with_goal(same)
    if decided.op == "update":
        return "update", with_goal(engine.update(name, old_state, decided.inputs, aso))
    # step_generator.go:1957: a resource protected before and after cannot be replaced.
    if old_state.protect and (options or {}).get("protect", old_state.protect):
        raise ProtectedError(
            f"unable to replace resource {old_state.urn!r} as it is currently marked for "
            "protection. To unprotect the resource, remove the `protect` flag from the resource "
            "in your Pulumi program and run `pulumi up`"
        )
    if decided.delete_before_replace:
        delete_step(engine, old_state, replacing=True)
        return "replace", with_goal(engine.create(name, decided.inputs, aso))
    new_state = engine.create(name, decided.inputs, aso)
    if deferred_deletes is None:
        delete_step(engine, old_state, replacing=True)
    else:  # step_generator.go:2164: the old resource is deleted after every create and update
        deferred_deletes.append(old_state)
    return "replace", with_goal(new_state)


def _trigger_replaces(new: Any, old: Any) -> bool:
    """``shouldTriggerReplace`` (step_generator.go:3683-3698), secrets unwrapped."""
    new, old = plain(new), plain(old)
    if contains_unknowns(new) or contains_unknowns(old):
        return True
    if new is None or old is None:
        return False
    return bool(new != old)


def preview_outputs(
    decided: Plan, old_state: ResourceState | None, additional_secret_outputs: Iterable[str] = ()
) -> tuple[str, Props]:
    """The (id, outputs) a preview step hands back to the program.

    ``provider_plugin.go: Create/Update`` with ``Preview`` and ``!supportsPreview`` return the
    inputs as the outputs (output-only properties are therefore unknown in the program); a
    create/replace has no ID yet. A same step keeps the old outputs.
    """
    aso = tuple(additional_secret_outputs)
    if decided.op == "same" and old_state is not None:
        return old_state.id, apply_step_secrets(old_state.outputs, decided.inputs, aso)
    resource_id = old_state.id if decided.op == "update" and old_state is not None else ""
    return resource_id, apply_step_secrets(decided.inputs, decided.inputs, aso)


def refresh(engine: Engine, state: ResourceState) -> ResourceState | None:
    """``pulumi refresh`` for one resource (``step.go: RefreshStep``).

    Read with the old outputs and inputs; a blank id means the resource is gone and is dropped
    from the state (``None``). The new inputs come from ``ReadResponse.inputs`` when the provider
    returns them (SDK ≥ 3.216), else the old inputs are kept; the step executor re-applies the
    stored ``additional_secret_outputs``.
    """
    new_id, outputs, new_inputs = engine.read(state)
    if not new_id:
        return None
    inputs = new_inputs if new_inputs is not None else state.inputs
    outputs = apply_step_secrets(outputs, inputs, state.additional_secret_outputs)
    return dataclasses.replace(state, id=new_id, inputs=inputs, outputs=outputs)


def refresh_step(engine: Engine, state: ResourceState) -> tuple[str, ResourceState | None]:
    """:func:`refresh` and what the CLI shows for it: ``delete`` (gone), else the engine's
    inverted Diff decides (step.go:1690-1712: olds = the refreshed outputs, old inputs = the
    refreshed inputs, news = the old inputs): ``update`` when it reports a change (drift),
    ``same`` otherwise."""
    fresh = refresh(engine, state)
    if fresh is None:
        return "delete", None
    diff = engine.diff(state.name, fresh, state.inputs)
    return ("update" if diff.changes == DIFF_SOME else "same"), fresh


def destroy(engine: Engine, state: ResourceState) -> None:
    """``pulumi destroy`` for one resource (``step.go: DeleteStep``): Delete with the outputs."""
    delete_step(engine, state)


class ProtectedError(Exception):
    """The engine refused to delete or replace a protected resource."""


def delete_step(engine: Engine, state: ResourceState, *, replacing: bool = False) -> None:
    """``step.go: DeleteStep.Apply``: a protected resource is refused (unless it is being
    replaced: step_generator.go checked that already, step.go:647); ``retain_on_delete`` drops
    it from state without calling the provider (step.go:661); otherwise Delete."""
    if state.protect and not replacing:
        raise ProtectedError(
            f"unable to delete resource {state.urn!r} as it is currently marked for protection. "
            "To unprotect the resource, either remove the `protect` flag from the resource in "
            "your Pulumi program and run `pulumi up` or use the command: "
            f"`pulumi state unprotect {state.urn!r}`"
        )
    if not state.retain_on_delete:
        engine.delete(state)


def delete_order(states: Sequence[ResourceState]) -> list[ResourceState]:
    """The order deletes run in: dependents before what they depend on (GenerateDeletes and
    ScheduleDeletes in step_generator.go walk the dependency graph in reverse), ties in reverse
    checkpoint order."""
    remaining = list(states)
    ordered: list[ResourceState] = []
    while remaining:
        free = [
            s
            for s in remaining
            if not any(s.urn in o.dependencies for o in remaining if o is not s)
        ]
        nxt = free[-1] if free else remaining[-1]  # a cycle cannot occur in a checkpoint
        ordered.append(nxt)
        remaining.remove(nxt)
    return ordered
