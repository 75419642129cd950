"""The catalog: every policy's :class:`~pulumi_miget.policies.spec.PolicySpec`, in the order the
pack lists them, and what is derived from it (the names, the settings by ``initial_config``
keyword).

A policy is declared in its module's group (``credential``, ``app``); a new module of policies
adds its group to :data:`CATALOG`. Declarations that disagree (a name used twice, one
``initial_config`` keyword for two different settings) fail at import.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, TypeVar

from .app import APP_POLICIES
from .config import Setting
from .credential import CREDENTIAL_POLICIES
from .spec import PolicySpec

T = TypeVar("T")

CATALOG: Final[tuple[PolicySpec, ...]] = (*CREDENTIAL_POLICIES, *APP_POLICIES)
"""Every Miget policy, in the order of :func:`~pulumi_miget.policies.all_policies`."""

POLICY_NAMES: Final[tuple[str, ...]] = tuple(spec.name for spec in CATALOG)

BY_NAME: Final[Mapping[str, PolicySpec]] = {spec.name: spec for spec in CATALOG}


def settings_by_keyword(catalog: Iterable[PolicySpec]) -> dict[str, Setting[Any]]:
    """``initial_config`` keyword → setting, in catalog order; ValueError when one keyword names
    two different settings (policies share a setting by sharing the object)."""
    found: dict[str, Setting[Any]] = {}
    for spec in catalog:
        for setting in spec.settings:
            if found.setdefault(setting.keyword, setting) is not setting:
                raise ValueError(f"two settings use the initial_config keyword {setting.keyword}")
    return found


SETTINGS: Final[Mapping[str, Setting[Any]]] = settings_by_keyword(CATALOG)
"""``initial_config`` keyword → the setting it sets (in every policy that has it), in catalog
order."""

if len(BY_NAME) != len(CATALOG):
    raise ValueError(f"policy names must be unique: {POLICY_NAMES}")


def checked_names(by_name: Mapping[str, T]) -> Mapping[str, T]:
    """``by_name`` itself, once every key is known to be a policy name (ValueError otherwise)."""
    unknown = set(by_name) - set(BY_NAME)
    if unknown:
        raise ValueError(f"unknown policy name(s): {', '.join(sorted(unknown))}")
    return by_name
