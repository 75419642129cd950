"""What a pack author calls: :func:`all_policies` (or :data:`POLICIES`) for the policies, and
:func:`initial_config` for the pack's configuration."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Policy

from .app import (
    app_credential_by_reference_policy,
    app_env_secret_policy,
    app_image_tag_pinned_policy,
)
from .catalog import (
    ALLOWED_REGISTRIES,
    APP_CREDENTIAL_BY_REFERENCE,
    APP_IMAGE_TAG_PINNED,
    CREDENTIAL_NAMING,
    DEFAULT_ENFORCEMENT_LEVELS,
    NO_SKIP_VALIDATION_IN_PRODUCTION,
    POLICY_NAMES,
    checked_names,
)
from .config import optional_list, production_settings
from .credential import (
    allowed_registries_policy,
    credential_naming_policy,
    no_skip_validation_in_production_policy,
    registry_hostname_policy,
    token_secret_policy,
)
from .factory import PolicyFactory

_FACTORIES: Final[tuple[PolicyFactory, ...]] = (
    token_secret_policy,
    no_skip_validation_in_production_policy,
    registry_hostname_policy,
    credential_naming_policy,
    allowed_registries_policy,
    app_credential_by_reference_policy,
    app_env_secret_policy,
    app_image_tag_pinned_policy,
)
"""Every policy's factory, in the order of ``POLICY_NAMES`` (a test checks it)."""


def all_policies(
    *,
    enforcement_levels: Mapping[str, EnforcementLevel] | None = None,
    exclude: Iterable[str] = (),
) -> list[Policy]:
    """New instances of every policy, at their default levels unless ``enforcement_levels``
    says otherwise (keyed by policy name). ``exclude`` drops policies by name."""
    levels = checked_names(enforcement_levels or {})
    skipped = set(checked_names(dict.fromkeys(exclude)))
    return [
        factory(levels.get(factory.name)) for factory in _FACTORIES if factory.name not in skipped
    ]


POLICIES: Final[list[Policy]] = all_policies()
"""Every policy at its default level (a shared list: call :func:`all_policies` to customise)."""


def initial_config(
    *,
    enforcement_levels: Mapping[str, EnforcementLevel] | None = None,
    production_stack_pattern: str | None = None,
    production_tag_key: str | None = None,
    production_tag_values: Iterable[str] | None = None,
    name_pattern: str | None = None,
    allowed_registries: Iterable[str] | None = None,
    app_type: str | None = None,
    credential_property: str | None = None,
    credential_types: Iterable[str] | None = None,
    disallowed_tags: Iterable[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """``PolicyPack(initial_config=...)`` for a pack that changes this library's defaults.

    Only policies with a given setting (or level) are included; ``--policy-pack-config`` still
    overrides them. Every included entry carries an ``enforcementLevel`` (the policy's default,
    or the one from ``enforcement_levels``): the CLI reads an entry without one as "advisory"
    (protobuf's zero value) and would silently downgrade a mandatory policy. Pass the same
    ``enforcement_levels`` as to :func:`all_policies`.
    """
    levels = dict(DEFAULT_ENFORCEMENT_LEVELS)
    levels.update(checked_names(enforcement_levels or {}))
    tag_values = optional_list(production_tag_values)  # read once: it may be an iterator
    production = (production_stack_pattern, production_tag_key, tag_values)
    wanted: dict[str, dict[str, Any]] = {
        NO_SKIP_VALIDATION_IN_PRODUCTION: production_settings(*production),
        CREDENTIAL_NAMING: {"pattern": name_pattern},
        ALLOWED_REGISTRIES: {"allowedRegistries": optional_list(allowed_registries)},
        APP_CREDENTIAL_BY_REFERENCE: {
            "appType": app_type,
            "credentialProperty": credential_property,
            "credentialTypes": optional_list(credential_types),
        },
        APP_IMAGE_TAG_PINNED: {
            **production_settings(*production),
            "disallowedTags": optional_list(disallowed_tags),
        },
    }
    result: dict[str, dict[str, Any]] = {}
    for policy in POLICY_NAMES:
        given = {k: v for k, v in wanted.get(policy, {}).items() if v is not None}
        if given or policy in (enforcement_levels or {}):
            result[policy] = {"enforcementLevel": levels[policy], **given}
    return result
