"""Policy settings: each configurable value is declared once, as a :class:`Setting` that holds its
config key, its ``initial_config`` keyword, its default and its description. From that one object
come the config-schema entry, the default the policy uses when nothing is configured, the typed
read while a policy validates, and the check of a value a pack author passes to
:func:`~pulumi_miget.policies.initial_config`.

The SDK never applies config-schema defaults (the CLI does), so :meth:`Setting.read` fills in the
default itself: the policies behave the same with or without the CLI's reconciliation. A bad
value raises :class:`PolicyConfigError`; :func:`reports_config_errors` turns that into a violation
that names the key to fix.
"""

from __future__ import annotations

import functools
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pulumi_policy import ReportViolation

from ..rules import REGISTRIES, describe_type

T = TypeVar("T")

Validate = Callable[[Any, ReportViolation], None]
"""A validate function: resource or stack validation arguments, and the violation reporter."""

V = TypeVar("V", bound=Validate)


class PolicyConfigError(ValueError):
    """A configured value has the wrong type or is not a valid regular expression."""


@dataclass(frozen=True, kw_only=True)
class Setting(ABC, Generic[T]):
    """One configurable value of one or more policies (the production settings are shared)."""

    key: str
    """The key in the policy's configuration (``--policy-pack-config``), e.g. ``pattern``."""
    keyword: str
    """The keyword of :func:`~pulumi_miget.policies.initial_config` that sets it."""
    description: str
    """What the config schema says about it."""

    def read(self, config: Mapping[str, Any]) -> T:
        """``config[key]`` checked and typed, or the default when it is absent or null."""
        value = config.get(self.key)
        return self.parse(self.default_value() if value is None else value)

    def initial_value(self, value: object) -> object:
        """A value given to ``initial_config``, checked as :meth:`read` checks it (a list is
        read once into a new list: it may be an iterator); PolicyConfigError names the keyword
        and the key."""
        where = f"initial_config: {self.keyword} ('{self.key}')"
        value = self._given(value, where)
        try:
            self.parse(value)
        except PolicyConfigError as exc:
            raise PolicyConfigError(f"{where}: {exc}") from None
        return value

    def schema(self) -> dict[str, Any]:
        """The config-schema entry (JSON Schema), with the default."""
        return {**self._schema(), "description": self.description, "default": self.default_value()}

    @abstractmethod
    def default_value(self) -> object:
        """The default, as the config schema and the policies hold it (a new list for lists)."""

    @abstractmethod
    def parse(self, value: object) -> T:
        """``value`` checked and typed; PolicyConfigError when it is not acceptable."""

    @abstractmethod
    def _schema(self) -> dict[str, Any]: ...

    def _given(self, value: object, where: str) -> object:
        return value


@dataclass(frozen=True, kw_only=True)
class StringSetting(Setting[str]):
    """A non-empty string."""

    default: str

    def default_value(self) -> str:
        return self.default

    def parse(self, value: object) -> str:
        return _non_empty_string(self.key, value)

    def _schema(self) -> dict[str, Any]:
        return {"type": "string", "minLength": 1}


@dataclass(frozen=True, kw_only=True)
class RegexSetting(Setting[re.Pattern[str]]):
    """A regular expression, read compiled (``ignore_case``: matched ignoring letter case)."""

    default: str
    ignore_case: bool = False

    def default_value(self) -> str:
        return self.default

    def parse(self, value: object) -> re.Pattern[str]:
        pattern = _non_empty_string(self.key, value)
        try:
            return _compile(pattern, re.IGNORECASE if self.ignore_case else 0)
        except re.error as exc:
            raise PolicyConfigError(
                f"'{self.key}' is not a valid regular expression ({exc})"
            ) from None

    def _schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "regex"}


@dataclass(frozen=True, kw_only=True)
class StringListSetting(Setting[list[str]]):
    """A list of strings."""

    default: tuple[str, ...]

    def default_value(self) -> list[str]:
        return list(self.default)

    def parse(self, value: object) -> list[str]:
        if not isinstance(value, (list, tuple)):
            raise PolicyConfigError(
                f"'{self.key}' must be a list of strings, got {describe_type(value)}"
            )
        wrong = [item for item in value if not isinstance(item, str)]
        if wrong:
            got = describe_type(wrong[0])
            raise PolicyConfigError(
                f"'{self.key}' must be a list of strings, got a list with {got} in it"
            )
        return list(value)

    def _schema(self) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "string"}}

    def _given(self, value: object, where: str) -> object:
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise PolicyConfigError(f"{where} must be a list of strings, not a single value")
        return list(value)


@dataclass(frozen=True, kw_only=True)
class RegistryListSetting(StringListSetting):
    """A list of registry kinds: each one of :data:`~pulumi_miget.rules.REGISTRIES`, once."""

    default: tuple[str, ...] = REGISTRIES

    def parse(self, value: object) -> list[str]:
        kinds = super().parse(value)
        unknown = [kind for kind in dict.fromkeys(kinds) if kind not in REGISTRIES]
        if unknown:
            listed = ", ".join(repr(kind) for kind in unknown)
            raise PolicyConfigError(
                f"'{self.key}' has unknown registry kind(s) {listed}; "
                f"the kinds are {', '.join(REGISTRIES)}"
            )
        twice = [kind for kind in dict.fromkeys(kinds) if kinds.count(kind) > 1]
        if twice:
            raise PolicyConfigError(
                f"'{self.key}' lists {', '.join(map(repr, twice))} more than once"
            )
        return kinds

    def _schema(self) -> dict[str, Any]:
        return {
            "type": "array",
            "items": {"type": "string", "enum": list(REGISTRIES)},
            "uniqueItems": True,
        }


def _non_empty_string(key: str, value: object) -> str:
    if not isinstance(value, str):
        raise PolicyConfigError(f"'{key}' must be a non-empty string, got {describe_type(value)}")
    if not value:
        raise PolicyConfigError(f"'{key}' must be a non-empty string, got an empty one")
    return value


@functools.lru_cache(maxsize=64)
def _compile(pattern: str, flags: int) -> re.Pattern[str]:
    return re.compile(pattern, flags)


def reports_config_errors(policy: str) -> Callable[[V], V]:
    """Turn a bad configuration into a violation that says which key to fix, instead of an
    exception (which the SDK turns into a gRPC error that fails the whole preview obscurely)."""

    def wrap(validate: V) -> V:
        @functools.wraps(validate)
        def guarded(args: Any, report_violation: ReportViolation) -> None:
            try:
                validate(args, report_violation)
            except PolicyConfigError as exc:
                report_violation(
                    f"The configuration of policy '{policy}' is invalid: {exc}. "
                    "Fix it in --policy-pack-config (or the pack's initial_config).",
                    None,
                )

        return guarded  # type: ignore[return-value]  # same signature as validate

    return wrap
