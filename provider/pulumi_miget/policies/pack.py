"""What a pack author calls: :func:`all_policies` (or :data:`POLICIES`) for the policies, and
:func:`initial_config` for the pack's configuration."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
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
from .read_config import (
    PolicyConfigError,
    regex_setting,
    registry_list_setting,
    str_list_setting,
    str_setting,
)

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


_Reader = Callable[[Mapping[str, Any], str, str], object]

# initial_config's keyword → (the policy whose defaults apply, its config key, how it is read):
# the readers the policies use at run time, so a value refused here would be refused there.
_SETTINGS: Final[Mapping[str, tuple[str, str, _Reader]]] = {
    "production_stack_pattern": (
        NO_SKIP_VALIDATION_IN_PRODUCTION,
        "productionStackPattern",
        regex_setting,
    ),
    "production_tag_key": (NO_SKIP_VALIDATION_IN_PRODUCTION, "productionTagKey", str_setting),
    "production_tag_values": (
        NO_SKIP_VALIDATION_IN_PRODUCTION,
        "productionTagValues",
        str_list_setting,
    ),
    "name_pattern": (CREDENTIAL_NAMING, "pattern", regex_setting),
    "allowed_registries": (ALLOWED_REGISTRIES, "allowedRegistries", registry_list_setting),
    "app_type": (APP_CREDENTIAL_BY_REFERENCE, "appType", str_setting),
    "credential_property": (APP_CREDENTIAL_BY_REFERENCE, "credentialProperty", str_setting),
    "credential_types": (APP_CREDENTIAL_BY_REFERENCE, "credentialTypes", str_list_setting),
    "disallowed_tags": (APP_IMAGE_TAG_PINNED, "disallowedTags", str_list_setting),
}


def _checked_settings(given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` (keyword → value, None for "not given") with each list read once into a new
    list; PolicyConfigError naming the keyword and its config key for the first bad value."""
    checked: dict[str, Any] = {}
    for keyword, value in given.items():
        policy, key, reader = _SETTINGS[keyword]
        where = f"initial_config: {keyword} ('{key}')"
        if value is not None and reader in (str_list_setting, registry_list_setting):
            if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
                raise PolicyConfigError(f"{where} must be a list of strings, not a single value")
            value = list(value)  # read once: it may be an iterator
        if value is not None:
            try:
                reader({key: value}, policy, key)
            except PolicyConfigError as exc:
                raise PolicyConfigError(f"{where}: {exc}") from None
        checked[keyword] = value
    return checked


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

    Every setting is checked as the policies read it at run time: a regular expression that
    does not compile, a registry kind Miget does not have (``githubb``), an empty string or a
    single string where a list belongs raises :class:`PolicyConfigError` (a ``ValueError``)
    naming the keyword and its config key, so the pack fails at start instead of reporting a
    broken configuration on every resource.
    """
    levels = dict(DEFAULT_ENFORCEMENT_LEVELS)
    levels.update(checked_names(enforcement_levels or {}))
    given = _checked_settings(
        {
            "production_stack_pattern": production_stack_pattern,
            "production_tag_key": production_tag_key,
            "production_tag_values": production_tag_values,
            "name_pattern": name_pattern,
            "allowed_registries": allowed_registries,
            "app_type": app_type,
            "credential_property": credential_property,
            "credential_types": credential_types,
            "disallowed_tags": disallowed_tags,
        }
    )
    production = (
        given["production_stack_pattern"],
        given["production_tag_key"],
        given["production_tag_values"],
    )
    wanted: dict[str, dict[str, Any]] = {
        NO_SKIP_VALIDATION_IN_PRODUCTION: production_settings(*production),
        CREDENTIAL_NAMING: {"pattern": given["name_pattern"]},
        ALLOWED_REGISTRIES: {"allowedRegistries": optional_list(given["allowed_registries"])},
        APP_CREDENTIAL_BY_REFERENCE: {
            "appType": given["app_type"],
            "credentialProperty": given["credential_property"],
            "credentialTypes": optional_list(given["credential_types"]),
        },
        APP_IMAGE_TAG_PINNED: {
            **production_settings(*production),
            "disallowedTags": optional_list(given["disallowed_tags"]),
        },
    }
    result: dict[str, dict[str, Any]] = {}
    for policy in POLICY_NAMES:
        given = {k: v for k, v in wanted.get(policy, {}).items() if v is not None}
        if given or policy in (enforcement_levels or {}):
            result[policy] = {"enforcementLevel": levels[policy], **given}
    return result
