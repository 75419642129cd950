"""Whether the stack being checked is production, and why (the policies that only apply there
quote the reason in their message): the production settings, shared by every such policy, and
:func:`production_reason`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import pulumi

from .config import RegexSetting, Setting, StringListSetting, StringSetting

ENVIRONMENT_CONFIG_KEY: Final = "miget:environment"
PRODUCTION_ENVIRONMENT: Final = "production"

PRODUCTION_STACK_PATTERN: Final = RegexSetting(
    key="productionStackPattern",
    keyword="production_stack_pattern",
    description="A stack whose name matches this regular expression (ignoring case) is production.",
    default=r"^(prod|production)([-_].*)?$",
    ignore_case=True,
)
PRODUCTION_TAG_KEY: Final = StringSetting(
    key="productionTagKey",
    keyword="production_tag_key",
    description="Stack tag that marks the environment.",
    default="environment",
)
PRODUCTION_TAG_VALUES: Final = StringListSetting(
    key="productionTagValues",
    keyword="production_tag_values",
    description="Values of productionTagKey that mean production (ignoring case).",
    default=("production", "prod"),
)
PRODUCTION_SETTINGS: Final[tuple[Setting[Any], ...]] = (
    PRODUCTION_STACK_PATTERN,
    PRODUCTION_TAG_KEY,
    PRODUCTION_TAG_VALUES,
)
"""The settings of every policy that calls :func:`production_reason` (in its ``settings``)."""


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
    stack_name = pulumi.get_stack() if stack is None else stack
    pattern = PRODUCTION_STACK_PATTERN.read(config)
    if pattern.search(stack_name):
        return f"stack name '{stack_name}' matches {pattern.pattern!r}"

    tag_key = PRODUCTION_TAG_KEY.read(config)
    tag_values = PRODUCTION_TAG_VALUES.read(config)
    tag = stack_tags.get(tag_key)
    if isinstance(tag, str) and tag.strip().casefold() in {v.casefold() for v in tag_values}:
        return f"stack tag {tag_key}={tag}"

    if environment is None and read_environment:
        value = pulumi.runtime.get_config(ENVIRONMENT_CONFIG_KEY)
        environment = value if isinstance(value, str) else None
    if environment is not None and environment.strip().casefold() == PRODUCTION_ENVIRONMENT:
        return f"config {ENVIRONMENT_CONFIG_KEY}={environment}"
    return None
