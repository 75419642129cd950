"""A policy, declared once: :class:`PolicySpec` holds everything about it (name, default level,
severity, description, remediation, settings, validate function, resource or stack kind), and
:meth:`PolicySpec.build` makes the ``pulumi_policy`` object from it.

A module of policies declares each one with a decorator of its :class:`PolicyGroup`, right above
the validate function::

    CREDENTIAL_POLICIES: Final = PolicyGroup()

    @CREDENTIAL_POLICIES.policy(
        name="miget-credential-naming",
        enforcement_level=EnforcementLevel.ADVISORY,
        severity=Severity.LOW,
        description="Registry credential names follow the naming convention.",
        remediation_steps="Rename the credential to match the configured pattern.",
        settings=(NAME_PATTERN,),
        tags=("naming",),
    )
    def validate_credential_naming(args, report_violation): ...

``kind="stack"`` declares a stack policy (the default is a resource policy).

The decorator returns the validate function wrapped by
:func:`~pulumi_miget.policies.config.reports_config_errors` (a bad configuration becomes a
violation naming the key, whoever calls the function), and appends the spec to the group. The
catalog (``catalog.py``) is the groups' specs, in declaration order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)

from .config import Setting, V, Validate, reports_config_errors

PolicyKind = Literal["resource", "stack"]
"""``resource``: checks one resource at a time (it runs in preview and in up); ``stack``: checks
the whole stack at once, with every resource's outputs."""

COMMON_TAGS: tuple[str, ...] = ("miget",)
"""Tags every Miget policy carries, before its own."""


@dataclass(frozen=True, kw_only=True)
class PolicySpec:
    """Everything about one policy. :meth:`build` makes a new policy object each time, so packs
    never share mutable state."""

    name: str
    kind: PolicyKind
    enforcement_level: EnforcementLevel
    """The level unless the pack or its configuration says otherwise."""
    severity: Severity
    description: str
    remediation_steps: str
    validate: Validate
    """The validate function, reporting a bad configuration as a violation."""
    settings: tuple[Setting[Any], ...] = ()
    """What it can be configured with (each with its default)."""
    tags: tuple[str, ...] = ()
    """Its own tags; the policy object also carries :data:`COMMON_TAGS`."""

    def __post_init__(self) -> None:
        keys = [setting.key for setting in self.settings]
        if len(set(keys)) != len(keys) or "enforcementLevel" in keys:
            raise ValueError(f"policy {self.name}: setting keys must be unique, got {keys}")

    @property
    def defaults(self) -> dict[str, Any]:
        """The configuration when nothing is configured (what the schema's defaults say too)."""
        return {setting.key: setting.default_value() for setting in self.settings}

    @property
    def config_schema(self) -> PolicyConfigSchema | None:
        """The config schema, None for a policy without settings."""
        if not self.settings:
            return None
        return PolicyConfigSchema(properties={s.key: s.schema() for s in self.settings})

    def build(self, enforcement_level: EnforcementLevel | None = None) -> Policy:
        """A new policy object, at ``enforcement_level`` (None: :attr:`enforcement_level`)."""
        arguments: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "validate": self.validate,
            "enforcement_level": (
                self.enforcement_level if enforcement_level is None else enforcement_level
            ),
            "config_schema": self.config_schema,
            "severity": self.severity,
            "remediation_steps": self.remediation_steps,
            "tags": [*COMMON_TAGS, *self.tags],
        }
        if self.kind == "stack":
            return StackValidationPolicy(**arguments)
        return ResourceValidationPolicy(**arguments)


class PolicyGroup:
    """The policies one module declares, in declaration order (see the module docstring)."""

    def __init__(self) -> None:
        self._specs: list[PolicySpec] = []

    def __iter__(self) -> Iterator[PolicySpec]:
        return iter(tuple(self._specs))

    def policy(
        self,
        *,
        name: str,
        enforcement_level: EnforcementLevel,
        severity: Severity,
        description: str,
        remediation_steps: str,
        kind: PolicyKind = "resource",
        settings: tuple[Setting[Any], ...] = (),
        tags: tuple[str, ...] = (),
    ) -> Callable[[V], V]:
        """Declare the decorated function as the validate function of a policy (the keywords
        are :class:`PolicySpec`'s fields); it is returned guarded by ``reports_config_errors``."""

        def declare(validate: V) -> V:
            guarded = reports_config_errors(name)(validate)
            spec = PolicySpec(
                name=name,
                kind=kind,
                enforcement_level=enforcement_level,
                severity=severity,
                description=description,
                remediation_steps=remediation_steps,
                validate=guarded,
                settings=settings,
                tags=tags,
            )
            self._specs.append(spec)
            return guarded

        return declare
