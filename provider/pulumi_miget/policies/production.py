"""Whether the stack being checked is production, and why (the policies that only apply there
quote the reason in their message)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import pulumi

from .catalog import NO_SKIP_VALIDATION_IN_PRODUCTION
from .read_config import regex_setting, str_list_setting, str_setting

ENVIRONMENT_CONFIG_KEY: Final = "miget:environment"
PRODUCTION_ENVIRONMENT: Final = "production"


def production_reason(
    config: Mapping[str, Any],
    stack_tags: Mapping[str, str],
    *,
    stack: str | None = None,
    environment: str | None = None,
    read_environment: bool = True,
) -> str | None:
    """Why this stack counts as production, or None when it does not.

    Production is any of: the stack name matches ``productionStackPattern``; the stack tag
    ``productionTagKey`` has one of ``productionTagValues``; the stack config
    ``miget:environment`` is ``production``. The stack name, the tag value and the environment
    are compared ignoring case (``Production``, ``PROD`` and ``prod`` name one environment;
    a stack name is matched with ``re.IGNORECASE``), the tag value and the environment ignoring
    surrounding whitespace too. ``stack`` and ``environment`` default to what the policy
    runtime was started with (``PULUMI_STACK`` and ``PULUMI_CONFIG``).
    """
    policy = NO_SKIP_VALIDATION_IN_PRODUCTION  # whose defaults to use: the same in every policy
    stack_name = pulumi.get_stack() if stack is None else stack
    pattern = regex_setting(config, policy, "productionStackPattern", ignore_case=True)
    if pattern.search(stack_name):
        return f"stack name '{stack_name}' matches {pattern.pattern!r}"

    tag_key = str_setting(config, policy, "productionTagKey")
    tag_values = str_list_setting(config, policy, "productionTagValues")
    tag = stack_tags.get(tag_key)
    if isinstance(tag, str) and tag.strip().casefold() in {v.casefold() for v in tag_values}:
        return f"stack tag {tag_key}={tag}"

    if environment is None and read_environment:
        value = pulumi.runtime.get_config(ENVIRONMENT_CONFIG_KEY)
        environment = value if isinstance(value, str) else None
    if environment is not None and environment.strip().casefold() == PRODUCTION_ENVIRONMENT:
        return f"config {ENVIRONMENT_CONFIG_KEY}={environment}"
    return None
