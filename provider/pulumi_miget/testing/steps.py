"""A slice of the engine's step generator: what ``pulumi up``, ``preview``, ``refresh`` and
``destroy`` decide for one resource and which provider calls they make
(``pkg/resource/deploy/step_generator.go``, ``step.go``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi.runtime.proto import provider_pb2

from .engine import CheckFailed, Engine, ResourceState, tag_urn
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
    goal: Mapping[str, Any] | None = None,
    protect: bool | None = None,
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

    ``news`` are the inputs after ``ignore_changes``; ``goal`` the program's inputs as registered
    (default: ``news``), which the second Check of a replace gets. ``protect`` is the program's
    option (default: unchanged from the old state).
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
        _refuse_protected_replace(old_state, protect)
        inputs = _recheck(engine, name, news if goal is None else goal, preview)
        return Plan("replace", inputs, None, bool(delete_before_replace), ("<trigger>",))
    diff = engine.diff(name, old_state, inputs, preview=preview)
    if diff_changes(diff, old_state.inputs, inputs) != DIFF_SOME:
        return Plan("same", inputs, diff)
    replaces = tuple(diff.replaces)
    if replaces:
        _refuse_protected_replace(old_state, protect)
        dbr = (
            bool(diff.deleteBeforeReplace)
            if delete_before_replace is None
            else delete_before_replace
        )
        inputs = _recheck(engine, name, news if goal is None else goal, preview)
        return Plan("replace", inputs, diff, dbr, replaces)
    return Plan("update", inputs, diff)


def diff_changes(diff: provider_pb2.DiffResponse, old_inputs: Props, new_inputs: Props) -> int:
    """``diffResource`` (step_generator.go:2996-3006): a ``DIFF_UNKNOWN`` answer (the SDK's
    default ``diff``) becomes a comparison of the old and new inputs, secrets unwrapped."""
    changes: int = diff.changes
    if changes == DIFF_UNKNOWN:
        changes = DIFF_SOME if plain(old_inputs) != plain(new_inputs) else DIFF_NONE
    return changes


def _recheck(engine: Engine, name: str, goal: Mapping[str, Any], preview: bool) -> Props:
    """step_generator.go:2003-2013: on replace the engine checks the goal again, with no olds
    and the program's inputs as registered (``goal.Properties``: ``ignore_changes`` no longer
    applies), and the create uses that result."""
    inputs, failures = engine.check(name, {}, goal, preview=preview)
    if failures:
        raise CheckFailed(name, failures)
    return inputs


def _refuse_protected_replace(old_state: ResourceState, protect: bool | None) -> None:
    """step_generator.go:1957-1971: a resource protected before and after cannot be replaced
    (unprotecting and replacing in one update is allowed); checked before the second Check. In
    preview the engine reports it and continues; the model stops there too."""
    if old_state.protect and (old_state.protect if protect is None else protect):
        raise ProtectedError(
            f'unable to replace resource "{old_state.urn}"\nas it is currently marked for '
            "protection. To unprotect the resource, remove the `protect` flag from the resource "
            "in your Pulumi program and run `pulumi up`"
        )


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
            protect=(options or {}).get("protect"),
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
    changed = diff_changes(diff, fresh.inputs, state.inputs) == DIFF_SOME
    return ("update" if changed else "same"), fresh


def destroy(engine: Engine, state: ResourceState) -> None:
    """``pulumi destroy`` for one resource (``step.go: DeleteStep``): Delete with the outputs."""
    delete_step(engine, state)


class ProtectedError(Exception):
    """The engine refused to delete or replace a protected resource."""


def delete_step(
    engine: Engine, state: ResourceState, *, replacing: bool = False, preview: bool = False
) -> None:
    """``step.go: DeleteStep.Apply``: a protected resource is refused (unless it is being
    replaced: step_generator.go checked that already, step.go:644-649; the error text is
    step.go:618-623), in preview too; a preview stops there (step.go:651); ``retain_on_delete``
    drops it from state without calling the provider (step.go:661); otherwise Delete."""
    if state.protect and not replacing:
        raise ProtectedError(
            f'resource "{state.urn}" cannot be deleted\nbecause it is protected. To unprotect '
            "the resource, either remove the `protect` flag from the resource in your Pulumi "
            "program and run `pulumi up`, or use the command:\n"
            f"`pulumi state unprotect '{state.urn}'`"
        )
    if not preview and not state.retain_on_delete:
        engine.delete(state)


def run_deletes(
    engines: Callable[[str], Engine],
    todo: Sequence[ResourceState],
    replacing: Callable[[ResourceState], bool],
    deleted: Callable[[ResourceState], None],
    *,
    preview: bool = False,
) -> None:
    """Run the deletes of the end of an update (or a destroy) in ``todo``'s order, calling
    ``deleted`` for each one done; ``replacing`` tells the old resources of replacements (their
    delete is a DeleteReplacementStep: no protect check, step_generator.go:2410-2423,
    step.go:551-576).

    A refused protected delete does not cancel the others (step_executor.go:443-449); only what
    it depends on is skipped (deployment_executor.go:513-547), and the error is raised at the
    end. Any other failure stops the deletes there (step_executor.go:416-418, 458-460)."""
    first: ProtectedError | None = None
    kept: set[str] = set()  # URNs a refused delete still needs
    for state in todo:
        if state.urn in kept:
            kept.update(state.dependencies)
            continue
        try:
            delete_step(engines(state.type), state, replacing=replacing(state), preview=preview)
        except ProtectedError as exc:
            tag_urn(exc, state.urn)
            first = first or exc
            kept.update(state.dependencies)
            continue
        except BaseException as exc:
            tag_urn(exc, state.urn)
            raise
        deleted(state)
    if first is not None:
        raise first


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
