"""Field specs: each resource declares its fields once, and the rest is derived from them.

A :class:`ResourceSpec` is a table of :class:`Field` rows. From it the provider base derives the
input list ``check`` keeps, the defaults and normalisations it fills in, which changes ``diff``
reports as updates or replacements (and whether the old object must go first), the full output
set (API fields plus the inputs Miget never returns), the outputs a ``.get()`` starts from, the
secret outputs, and the values to redact from error messages. The API client of the resource
(``pulumi_miget.api``) maps Miget's wire shapes to these field names and back, so the one place
where a field's wire name lives is that client.

The resource classes keep their explicit, typed ``__init__`` and ``*Args`` dataclass (editors
and mypy need them); tests hold both to the spec (same names, same required fields).
"""

from __future__ import annotations

import enum
import uuid as uuid_module
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .rules.common import Violation, is_uuid

__all__ = ["Change", "Field", "ResourceSpec", "Source"]

Change = Literal["update", "replace", "replace_delete_first", "none"]
"""What a change of an input does: an in-place update; a create-before-delete replacement; a
replacement that must delete the old object first (the new one would collide with it); or
nothing at all (provider-side switches such as ``adopt``)."""

Source = Literal["api", "api_or_input", "input_or_api", "input"]
"""Where an output comes from: Miget's answer; Miget's answer, else the input; the input, else
Miget's answer; or the input alone (what Miget never returns: tokens, variables, switches)."""


@dataclass(frozen=True)
class Field:
    """One property of a resource, declared once."""

    name: str
    """The Pulumi property name (Python and state)."""
    required: bool = False
    """The program must set it (the rules table reports a missing one)."""
    computed: bool = False
    """Set by Miget: an output only (``uuid``, ``created_at``...)."""
    secret: bool = False
    """Always a secret: wrapped in ``Output.secret``, listed in ``additional_secret_outputs``
    and redacted from error messages."""
    change: Change = "update"
    source: Source = "api"
    default: Any = None
    """Filled in by ``check`` when the program leaves the input unset."""
    default_from: str | None = None
    """Filled in by ``check`` from another input (an App's ``label`` from its ``name``)."""
    server_default: bool = False
    """Unset means "whatever Miget chooses": ``diff`` ignores it until the program sets it."""
    empty_is_unset: bool = False
    """An empty list or map means "not set" (Miget stores no empty override)."""
    uuid: bool = False
    """A UUID: ``check`` puts it in the canonical lower-case form Miget answers with."""
    stable: bool = False
    """A computed output an in-place update never changes (``DiffResponse.stables``)."""
    doc: str = ""

    @property
    def is_input(self) -> bool:
        return not self.computed


@dataclass(frozen=True)
class ResourceSpec:
    """A resource's fields, in declaration order, and the rules table that checks them."""

    kind: str
    """How messages name an object: ``credential``, ``app``."""
    fields: tuple[Field, ...]
    rules: Callable[..., list[Violation]]
    """``rules(props, is_unknown=...)``: the resource's rules table (``pulumi_miget.rules``)."""
    stables_on_replace: bool = True
    """Whether ``stables`` are reported for a replacement too (as the credential always did)."""
    _by_name: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {f.name: f for f in self.fields})

    def __getitem__(self, name: str) -> Field:
        return self._by_name[name]

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.is_input)

    @property
    def computed(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.computed)

    @property
    def secret_outputs(self) -> list[str]:
        return [f.name for f in self.fields if f.secret]

    @property
    def stables(self) -> list[str]:
        return [f.name for f in self.fields if f.stable]

    def changes(self, change: Change) -> tuple[str, ...]:
        """The inputs whose change does ``change``."""
        return tuple(f.name for f in self.fields if f.is_input and f.change == change)

    # ---- derived behaviour ----------------------------------------------------------------------
    def checked_inputs(
        self, news: Mapping[str, Any], is_unknown: Callable[[object], bool]
    ) -> dict[str, Any]:
        """The inputs ``check`` returns: only declared inputs, set ones, normalised, defaults
        filled in (an unknown value is kept as it is)."""
        inputs = {key: news[key] for key in self.inputs if news.get(key) is not None}
        for f in self.fields:
            value = inputs.get(f.name)
            if value is None or is_unknown(value):
                continue
            if isinstance(value, enum.Enum):
                inputs[f.name] = value.value  # Registry.GITHUB crosses as "github"
            elif f.empty_is_unset and isinstance(value, (list, tuple, Mapping)) and not value:
                del inputs[f.name]
            elif f.uuid and is_uuid(value):
                inputs[f.name] = str(uuid_module.UUID(value))
        for f in self.fields:
            if f.name in inputs:
                continue
            if f.default is not None:
                inputs[f.name] = f.default
            elif f.default_from is not None and f.default_from in inputs:
                inputs[f.name] = inputs[f.default_from]
        return inputs

    def outputs(
        self, domain: Mapping[str, Any], props: Mapping[str, Any], workspace: str
    ) -> dict[str, Any]:
        """The full output set: Miget's fields (``domain``, already in field names) plus the
        inputs it never returns, and the workspace the object lives in."""
        outs: dict[str, Any] = {}
        for f in self.fields:
            api, given = domain.get(f.name), props.get(f.name)
            if f.source == "api":
                outs[f.name] = api
            elif f.source == "api_or_input":
                outs[f.name] = api or given
            elif f.source == "input_or_api":
                outs[f.name] = given or api
            else:
                outs[f.name] = given
        outs["workspace_id"] = workspace
        return outs

    def echoed(self, props: Mapping[str, Any], workspace: str) -> dict[str, Any]:
        """The outputs that come from the inputs alone (for an update that sent nothing)."""
        echo = {f.name: props.get(f.name) for f in self.fields if f.source == "input"}
        return {**echo, "workspace_id": workspace}

    def read_inputs(self, outputs: Mapping[str, Any]) -> dict[str, Any]:
        """The inputs a refresh or ``.get()`` records: every set input, as read."""
        return {key: outputs[key] for key in self.inputs if outputs.get(key) is not None}

    def get_props(self, workspace_id: Any) -> dict[str, Any]:
        """What ``Resource.get`` registers: every property unset but the workspace."""
        return {**dict.fromkeys(f.name for f in self.fields), "workspace_id": workspace_id}

    def secret_values(self, props: Mapping[str, Any]) -> list[str]:
        """The secret values in ``props``, to redact from any error text."""
        found: list[str] = []
        for f in self.fields:
            value = props.get(f.name) if f.secret else None
            if isinstance(value, str):
                found.append(value)
            elif isinstance(value, Mapping):
                found.extend(v for v in value.values() if isinstance(v, str))
        return found
