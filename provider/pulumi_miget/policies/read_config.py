"""Reading a policy's configuration while it validates: typed values with the defaults filled in,
and a bad value reported as a violation that names the key to fix."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import ReportViolation

from .config import DEFAULT_CONFIG


class PolicyConfigError(ValueError):
    """A configured value has the wrong type or is not a valid regular expression."""


def setting(config: Mapping[str, Any], policy: str, key: str) -> Any:
    """``config[key]``, or the policy's default when it is absent or null."""
    value = config.get(key)
    return DEFAULT_CONFIG[policy][key] if value is None else value


def str_setting(config: Mapping[str, Any], policy: str, key: str) -> str:
    value = setting(config, policy, key)
    if not isinstance(value, str) or not value:
        raise PolicyConfigError(f"'{key}' must be a non-empty string")
    return value


def str_list_setting(config: Mapping[str, Any], policy: str, key: str) -> list[str]:
    value = setting(config, policy, key)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise PolicyConfigError(f"'{key}' must be a list of strings")
    return list(value)


def regex_setting(config: Mapping[str, Any], policy: str, key: str) -> re.Pattern[str]:
    pattern = str_setting(config, policy, key)
    try:
        return _compile(pattern)
    except re.error as exc:
        raise PolicyConfigError(f"'{key}' is not a valid regular expression ({exc})") from None


@functools.lru_cache(maxsize=64)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


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
