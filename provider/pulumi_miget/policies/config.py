"""What each policy can be configured with: the defaults and the config schemas (a pack changes
the defaults with :func:`~pulumi_miget.policies.initial_config`).

The SDK never applies config-schema defaults (the CLI does), so every default lives in
:data:`DEFAULT_CONFIG` as well as in the schema: the policies behave the same with or without the
CLI's reconciliation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from pulumi_policy import PolicyConfigSchema

from ..rules import REGISTRIES
from ..rules.app import DEFAULT_TAG
from ..tokens import APP_TYPE, CREDENTIAL_TYPE
from .catalog import (
    ALLOWED_REGISTRIES,
    APP_CREDENTIAL_BY_REFERENCE,
    APP_ENV_SECRET,
    APP_IMAGE_TAG_PINNED,
    CREDENTIAL_NAMING,
    NO_SKIP_VALIDATION_IN_PRODUCTION,
    REGISTRY_HOSTNAME,
    TOKEN_SECRET,
)

DEFAULT_PRODUCTION_STACK_PATTERN: Final = r"^(prod|production)([-_].*)?$"
DEFAULT_PRODUCTION_TAG_KEY: Final = "environment"
DEFAULT_PRODUCTION_TAG_VALUES: Final[tuple[str, ...]] = ("production", "prod")
DEFAULT_NAME_PATTERN: Final = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
DEFAULT_CREDENTIAL_PROPERTY: Final = "credential_id"
DEFAULT_DISALLOWED_TAGS: Final[tuple[str, ...]] = (DEFAULT_TAG,)


def optional_list(values: Iterable[str] | None) -> list[str] | None:
    """A new list of ``values``; None stays None (a setting left out)."""
    return None if values is None else list(values)


def production_settings(
    stack_pattern: str | None, tag_key: str | None, tag_values: Iterable[str] | None
) -> dict[str, Any]:
    """The production-detection settings, shared by the policies that only apply in production
    (and by ``initial_config``, where None means "not given")."""
    return {
        "productionStackPattern": stack_pattern,
        "productionTagKey": tag_key,
        "productionTagValues": optional_list(tag_values),
    }


DEFAULT_CONFIG: Final[Mapping[str, Mapping[str, Any]]] = {
    TOKEN_SECRET: {},
    NO_SKIP_VALIDATION_IN_PRODUCTION: production_settings(
        DEFAULT_PRODUCTION_STACK_PATTERN, DEFAULT_PRODUCTION_TAG_KEY, DEFAULT_PRODUCTION_TAG_VALUES
    ),
    REGISTRY_HOSTNAME: {},
    CREDENTIAL_NAMING: {"pattern": DEFAULT_NAME_PATTERN},
    ALLOWED_REGISTRIES: {"allowedRegistries": list(REGISTRIES)},
    APP_CREDENTIAL_BY_REFERENCE: {
        "appType": APP_TYPE,
        "credentialProperty": DEFAULT_CREDENTIAL_PROPERTY,
        "credentialTypes": [CREDENTIAL_TYPE],
    },
    APP_ENV_SECRET: {},
    APP_IMAGE_TAG_PINNED: {
        **production_settings(
            DEFAULT_PRODUCTION_STACK_PATTERN,
            DEFAULT_PRODUCTION_TAG_KEY,
            DEFAULT_PRODUCTION_TAG_VALUES,
        ),
        "disallowedTags": list(DEFAULT_DISALLOWED_TAGS),
    },
}
"""Each policy's configuration when nothing is configured (what the schemas' defaults say too)."""


def _string_schema(description: str, default: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", **extra, "description": description, "default": default}


def _string_list_schema(description: str, default: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"type": "string", **extra},
        "description": description,
        "default": default,
    }


_PRODUCTION_SCHEMA: Final[dict[str, dict[str, Any]]] = {
    "productionStackPattern": _string_schema(
        "A stack whose name matches this regular expression (ignoring case) is production.",
        DEFAULT_PRODUCTION_STACK_PATTERN,
        format="regex",
    ),
    "productionTagKey": _string_schema(
        "Stack tag that marks the environment.", DEFAULT_PRODUCTION_TAG_KEY, minLength=1
    ),
    "productionTagValues": _string_list_schema(
        "Values of productionTagKey that mean production (ignoring case).",
        list(DEFAULT_PRODUCTION_TAG_VALUES),
    ),
}

_SCHEMA_PROPERTIES: Final[Mapping[str, dict[str, dict[str, Any]]]] = {
    NO_SKIP_VALIDATION_IN_PRODUCTION: dict(_PRODUCTION_SCHEMA),
    CREDENTIAL_NAMING: {
        "pattern": _string_schema(
            "Regular expression the credential's Miget name must match.",
            DEFAULT_NAME_PATTERN,
            format="regex",
        ),
    },
    ALLOWED_REGISTRIES: {
        "allowedRegistries": {
            **_string_list_schema(
                "Registry kinds credentials may use.", list(REGISTRIES), enum=list(REGISTRIES)
            ),
            "uniqueItems": True,
        },
    },
    APP_CREDENTIAL_BY_REFERENCE: {
        "appType": _string_schema("Type token of the App resource.", APP_TYPE, minLength=1),
        "credentialProperty": _string_schema(
            "Top-level App input that holds the credential's uuid.",
            DEFAULT_CREDENTIAL_PROPERTY,
            minLength=1,
        ),
        "credentialTypes": _string_list_schema(
            "Resource types whose outputs count as a credential reference.", [CREDENTIAL_TYPE]
        ),
    },
    APP_IMAGE_TAG_PINNED: {
        **_PRODUCTION_SCHEMA,
        "disallowedTags": _string_list_schema(
            "Image tags that are not a pinned version (moving tags) in production stacks.",
            list(DEFAULT_DISALLOWED_TAGS),
        ),
    },
}

CONFIG_SCHEMAS: Final[Mapping[str, PolicyConfigSchema]] = {
    name: PolicyConfigSchema(properties=props) for name, props in _SCHEMA_PROPERTIES.items()
}
"""The configurable policies' schemas (also attached to the policy objects)."""
