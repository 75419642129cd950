"""What a pack author calls: :func:`all_policies` (or :data:`POLICIES`) for the policies, and
:func:`initial_config` for the pack's configuration. Both are derived from the catalog."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Policy

from .catalog import CATALOG, SETTINGS, checked_names


def all_policies(
    *,
    enforcement_levels: Mapping[str, EnforcementLevel] | None = None,
    exclude: Iterable[str] = (),
) -> list[Policy]:
    """New instances of every policy, at their default levels unless ``enforcement_levels``
    says otherwise (keyed by policy name). ``exclude`` drops policies by name."""
    levels = checked_names(enforcement_levels or {})
    skipped = set(checked_names(dict.fromkeys(exclude)))
    return [spec.build(levels.get(spec.name)) for spec in CATALOG if spec.name not in skipped]


POLICIES: Final[list[Policy]] = all_policies()
"""Every policy at its default level (a shared list: call :func:`all_policies` to customise)."""


def initial_config(
    *,
    enforcement_levels: Mapping[str, EnforcementLevel] | None = None,
    **settings: Any,
) -> dict[str, dict[str, Any]]:
    """``PolicyPack(initial_config=...)`` for a pack that changes this library's defaults.

    Each keyword sets one setting, in every policy that has it (the production settings are
    shared by the production-aware policies): ``production_stack_pattern``,
    ``production_tag_key``, ``production_tag_values``, ``name_pattern``, ``allowed_registries``,
    ``app_type``, ``credential_property``, ``credential_types``, ``disallowed_tags`` (every
    ``Setting.keyword`` in the catalog); None means "not given".

    Only policies with a given setting (or level) are included; ``--policy-pack-config`` still
    overrides them. Every included entry carries an ``enforcementLevel`` (the policy's default,
    or the one from ``enforcement_levels``): the CLI reads an entry without one as "advisory"
    (protobuf's zero value) and would silently downgrade a mandatory policy. Pass the same
    ``enforcement_levels`` as to :func:`all_policies`.

    Every setting is checked as the policies read it at run time: a regular expression that
    does not compile, a registry kind Miget does not have (``githubb``), an empty string or a
    single string where a list belongs raises :class:`PolicyConfigError` (a ``ValueError``)
    naming the keyword and its config key, so the pack fails at start instead of reporting a
    broken configuration on every resource. An unknown keyword raises ``TypeError``.
    """
    for keyword in settings:
        if keyword not in SETTINGS:
            raise TypeError(f"initial_config() got an unexpected keyword argument '{keyword}'")
    levels = checked_names(enforcement_levels or {})
    given: dict[str, Any] = {}
    for keyword, setting in SETTINGS.items():  # catalog order: the first bad value raises
        value = settings.get(keyword)
        if value is not None:
            given[keyword] = setting.initial_value(value)
    result: dict[str, dict[str, Any]] = {}
    for spec in CATALOG:
        values = {s.key: _copy(given[s.keyword]) for s in spec.settings if s.keyword in given}
        if values or spec.name in levels:
            level = levels.get(spec.name, spec.enforcement_level)
            result[spec.name] = {"enforcementLevel": level, **values}
    return result


def _copy(value: Any) -> Any:
    """A new list for a list (no two entries share one), anything else as it is."""
    return list(value) if isinstance(value, list) else value
