"""Reading a policy's configuration while it validates: typed values with the defaults filled in,
and a bad value reported as a violation that names the key to fix."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import ReportViolation

from ..rules import REGISTRIES, describe_type
from .config import DEFAULT_CONFIG


class PolicyConfigError(ValueError):
    """A configured value has the wrong type or is not a valid regular expression."""


def setting(config: Mapping[str, Any], policy: str, key: str) -> Any:
    """``config[key]``, or the policy's default when it is absent or null."""
    value = config.get(key)
    return DEFAULT_CONFIG[policy][key] if value is None else value


def str_setting(config: Mapping[str, Any], policy: str, key: str) -> str:
    value = setting(config, policy, key)
    if not isinstance(value, str):
        raise PolicyConfigError(f"'{key}' must be a non-empty string, got {describe_type(value)}")
    if not value:
        raise PolicyConfigError(f"'{key}' must be a non-empty string, got an empty one")
    return value


def str_list_setting(config: Mapping[str, Any], policy: str, key: str) -> list[str]:
    value = setting(config, policy, key)
    if not isinstance(value, (list, tuple)):
        raise PolicyConfigError(f"'{key}' must be a list of strings, got {describe_type(value)}")
    wrong = [item for item in value if not isinstance(item, str)]
    if wrong:
        got = describe_type(wrong[0])
        raise PolicyConfigError(f"'{key}' must be a list of strings, got a list with {got} in it")
    return list(value)


def registry_list_setting(config: Mapping[str, Any], policy: str, key: str) -> list[str]:
    """A list of registry kinds: each one of :data:`~pulumi_miget.rules.REGISTRIES`, once."""
    value = str_list_setting(config, policy, key)
    unknown = [kind for kind in dict.fromkeys(value) if kind not in REGISTRIES]
    if unknown:
        listed = ", ".join(repr(kind) for kind in unknown)
        raise PolicyConfigError(
            f"'{key}' has unknown registry kind(s) {listed}; the kinds are {', '.join(REGISTRIES)}"
        )
    twice = [kind for kind in dict.fromkeys(value) if value.count(kind) > 1]
    if twice:
        raise PolicyConfigError(f"'{key}' lists {', '.join(map(repr, twice))} more than once")
    return value


def regex_setting(
    config: Mapping[str, Any], policy: str, key: str, *, ignore_case: bool = False
) -> re.Pattern[str]:
    pattern = str_setting(config, policy, key)
    try:
        return _compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        raise PolicyConfigError(f"'{key}' is not a valid regular expression ({exc})") from None


@functools.lru_cache(maxsize=64)
def _compile(pattern: str, flags: int) -> re.Pattern[str]:
    return re.compile(pattern, flags)


Validate = Callable[[Any, ReportViolation], None]
"""A validate function: resource or stack validation arguments, and the violation reporter."""


def reports_config_errors(policy: str) -> Callable[[Validate], Validate]:
    """Turn a bad configuration into a violation that says which key to fix, instead of an
    exception (which the SDK turns into a gRPC error that fails the whole preview obscurely)."""

    def wrap(validate: Validate) -> Validate:
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

        return guarded

    return wrap
