"""Policy factories: ``factory(level)`` builds a policy object from its name and validate function.

Each call returns a new object, so packs never share mutable state. Everything else comes from
the tables keyed by the policy's name: the description, severity, remediation steps and tags
(``catalog``), the level when the call passes None (``catalog``), and the config schema when the
policy has one (``config``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

from .catalog import DEFAULT_ENFORCEMENT_LEVELS, DESCRIPTIONS, REMEDIATION_STEPS, SEVERITIES, TAGS
from .config import CONFIG_SCHEMAS
from .read_config import Validate


@dataclass(frozen=True)
class _PolicyFactory:
    name: str
    validate: Validate

    def _arguments(self, enforcement_level: EnforcementLevel | None) -> dict[str, Any]:
        name = self.name
        if enforcement_level is None:
            enforcement_level = DEFAULT_ENFORCEMENT_LEVELS[name]
        return {
            "name": name,
            "description": DESCRIPTIONS[name],
            "validate": self.validate,
            "enforcement_level": enforcement_level,
            "config_schema": CONFIG_SCHEMAS.get(name),
            "severity": SEVERITIES[name],
            "remediation_steps": REMEDIATION_STEPS[name],
            "tags": list(TAGS[name]),
        }


class ResourcePolicyFactory(_PolicyFactory):
    """Builds a policy that checks one resource at a time (it runs in preview and in up)."""

    def __call__(
        self, enforcement_level: EnforcementLevel | None = None
    ) -> ResourceValidationPolicy:
        return ResourceValidationPolicy(**self._arguments(enforcement_level))


class StackPolicyFactory(_PolicyFactory):
    """Builds a policy that checks the whole stack at once, with every resource's outputs."""

    def __call__(self, enforcement_level: EnforcementLevel | None = None) -> StackValidationPolicy:
        return StackValidationPolicy(**self._arguments(enforcement_level))


PolicyFactory: TypeAlias = ResourcePolicyFactory | StackPolicyFactory
"""Either kind of factory: ``factory(level)`` builds a new policy object."""
