"""CrossGuard policies for Miget resources, as a library.

Install the extra (``pip install 'pulumi-miget[policy]'``) and compose these policies into a pack::

    from pulumi_policy import EnforcementLevel, PolicyPack
    from pulumi_miget import policies

    PolicyPack(
        name="acme-miget",
        policies=policies.all_policies(),
        enforcement_level=EnforcementLevel.ADVISORY,
        initial_config=policies.initial_config(production_stack_pattern=r"^live$"),
    )

This module never builds a ``PolicyPack``: its constructor starts a gRPC server and blocks
forever, so only the pack's own ``__main__.py`` may call it (``examples/policy-pack/``).
Importing ``pulumi_miget`` alone never imports this module, so ``pulumi_policy`` stays optional.

What a policy can see, and how these policies cope (details: the project's policy design notes):

- Policies match resources by **type token**: ``ContainerRegistryCredential`` registers as
  ``pulumi-python:dynamic/miget:ContainerRegistryCredential``, the App resource as
  ``pulumi-python:dynamic/miget:App``.
- ``args.props`` holds the inputs after the provider's ``check`` (for resource policies) or the
  outputs (for stack policies), **with secrets already unwrapped**: a validate function cannot tell
  whether ``token`` was a secret. The resource class guarantees that (``Output.secret`` plus
  ``additional_secret_outputs=["token"]``); the token policy checks the option, the only marker a
  validate function can see. No message ever quotes the token. The same holds for an App's
  ``env`` (``Output.secret`` plus ``additional_secret_outputs=["env"]``): no message quotes it.
- During ``pulumi preview`` some values are **unknown**. Reading one from ``args.props`` raises
  ``UnknownValueError``, and so do ``"k" in props`` and ``props.get("k")``. Every read here goes
  through :func:`read_prop`, which never raises; each policy skips what it cannot know yet. Resource
  policies run again during ``pulumi up`` with the values resolved, so nothing escapes.
- The SDK never applies config-schema defaults (the CLI does): every default lives in
  :data:`DEFAULT_CONFIG` as well as in the schema, so the policies behave the same with or without
  the CLI's reconciliation.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

import pulumi
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
)

from .app import APP_TYPE
from .app_rules import DEFAULT_TAG
from .credential import CREDENTIAL_TYPE
from .rules import REGISTRIES, check_credential

__all__ = [
    "ALLOWED_REGISTRIES",
    "APP_CREDENTIAL_BY_REFERENCE",
    "APP_ENV_SECRET",
    "APP_IMAGE_TAG_PINNED",
    "APP_TYPE",
    "CONFIG_SCHEMAS",
    "CREDENTIAL_NAMING",
    "CREDENTIAL_TYPE",
    "DEFAULT_CONFIG",
    "DEFAULT_CREDENTIAL_PROPERTY",
    "DEFAULT_DISALLOWED_TAGS",
    "DEFAULT_ENFORCEMENT_LEVELS",
    "DEFAULT_NAME_PATTERN",
    "DEFAULT_PRODUCTION_STACK_PATTERN",
    "DEFAULT_PRODUCTION_TAG_KEY",
    "DEFAULT_PRODUCTION_TAG_VALUES",
    "ENVIRONMENT_CONFIG_KEY",
    "NO_SKIP_VALIDATION_IN_PRODUCTION",
    "POLICIES",
    "POLICY_NAMES",
    "REGISTRY_HOSTNAME",
    "TOKEN_SECRET",
    "UNKNOWN",
    "PolicyConfigError",
    "all_policies",
    "allowed_registries_policy",
    "app_credential_by_reference_policy",
    "app_env_secret_policy",
    "app_image_tag_pinned_policy",
    "credential_naming_policy",
    "initial_config",
    "no_skip_validation_in_production_policy",
    "production_reason",
    "read_prop",
    "registry_hostname_policy",
    "token_secret_policy",
    "validate_allowed_registries",
    "validate_app_credential_by_reference",
    "validate_app_env_secret",
    "validate_app_image_tag_pinned",
    "validate_credential_naming",
    "validate_no_skip_validation_in_production",
    "validate_registry_hostname",
    "validate_token_secret",
]

# ---------------------------------------------------------------------------------------------
# Type tokens

# CREDENTIAL_TYPE (imported above from .credential, the one place that defines it) is
# "pulumi-python:dynamic/miget:ContainerRegistryCredential"; APP_TYPE (from .app) is
# "pulumi-python:dynamic/miget:App" (its ``credential_id`` input takes a credential's uuid).

# ---------------------------------------------------------------------------------------------
# Policy names

TOKEN_SECRET: Final = "miget-credential-token-secret"
NO_SKIP_VALIDATION_IN_PRODUCTION: Final = "miget-credential-no-skip-validation-in-production"
REGISTRY_HOSTNAME: Final = "miget-credential-registry-hostname"
CREDENTIAL_NAMING: Final = "miget-credential-naming"
ALLOWED_REGISTRIES: Final = "miget-credential-allowed-registries"
APP_CREDENTIAL_BY_REFERENCE: Final = "miget-app-credential-by-reference"
APP_ENV_SECRET: Final = "miget-app-env-secret"
APP_IMAGE_TAG_PINNED: Final = "miget-app-image-tag-pinned"

POLICY_NAMES: Final[tuple[str, ...]] = (
    TOKEN_SECRET,
    NO_SKIP_VALIDATION_IN_PRODUCTION,
    REGISTRY_HOSTNAME,
    CREDENTIAL_NAMING,
    ALLOWED_REGISTRIES,
    APP_CREDENTIAL_BY_REFERENCE,
    APP_ENV_SECRET,
    APP_IMAGE_TAG_PINNED,
)

DEFAULT_ENFORCEMENT_LEVELS: Final[Mapping[str, EnforcementLevel]] = {
    TOKEN_SECRET: EnforcementLevel.MANDATORY,
    NO_SKIP_VALIDATION_IN_PRODUCTION: EnforcementLevel.MANDATORY,
    REGISTRY_HOSTNAME: EnforcementLevel.MANDATORY,
    CREDENTIAL_NAMING: EnforcementLevel.ADVISORY,
    ALLOWED_REGISTRIES: EnforcementLevel.ADVISORY,
    APP_CREDENTIAL_BY_REFERENCE: EnforcementLevel.MANDATORY,
    APP_ENV_SECRET: EnforcementLevel.MANDATORY,
    APP_IMAGE_TAG_PINNED: EnforcementLevel.ADVISORY,
}
"""Each policy's level unless configured otherwise."""

# ---------------------------------------------------------------------------------------------
# Configuration: defaults live here AND in the schemas (the SDK never applies schema defaults)

DEFAULT_PRODUCTION_STACK_PATTERN: Final = r"^(prod|production)([-_].*)?$"
DEFAULT_PRODUCTION_TAG_KEY: Final = "environment"
DEFAULT_PRODUCTION_TAG_VALUES: Final[tuple[str, ...]] = ("production", "prod")
ENVIRONMENT_CONFIG_KEY: Final = "miget:environment"
PRODUCTION_ENVIRONMENT: Final = "production"
DEFAULT_NAME_PATTERN: Final = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
DEFAULT_CREDENTIAL_PROPERTY: Final = "credential_id"
DEFAULT_DISALLOWED_TAGS: Final[tuple[str, ...]] = (DEFAULT_TAG,)

DEFAULT_CONFIG: Final[Mapping[str, Mapping[str, Any]]] = {
    TOKEN_SECRET: {},
    NO_SKIP_VALIDATION_IN_PRODUCTION: {
        "productionStackPattern": DEFAULT_PRODUCTION_STACK_PATTERN,
        "productionTagKey": DEFAULT_PRODUCTION_TAG_KEY,
        "productionTagValues": list(DEFAULT_PRODUCTION_TAG_VALUES),
    },
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
        "productionStackPattern": DEFAULT_PRODUCTION_STACK_PATTERN,
        "productionTagKey": DEFAULT_PRODUCTION_TAG_KEY,
        "productionTagValues": list(DEFAULT_PRODUCTION_TAG_VALUES),
        "disallowedTags": list(DEFAULT_DISALLOWED_TAGS),
    },
}
"""Each policy's configuration when nothing is configured (what the schemas' defaults say too)."""


def _string_list_schema(description: str, default: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"type": "string", **extra},
        "description": description,
        "default": default,
    }


_PRODUCTION_SCHEMA: Final[dict[str, dict[str, Any]]] = {
    "productionStackPattern": {
        "type": "string",
        "format": "regex",
        "description": "A stack whose name matches this regular expression is production.",
        "default": DEFAULT_PRODUCTION_STACK_PATTERN,
    },
    "productionTagKey": {
        "type": "string",
        "minLength": 1,
        "description": "Stack tag that marks the environment.",
        "default": DEFAULT_PRODUCTION_TAG_KEY,
    },
    "productionTagValues": _string_list_schema(
        "Values of productionTagKey that mean production.", list(DEFAULT_PRODUCTION_TAG_VALUES)
    ),
}

_SCHEMA_PROPERTIES: Final[Mapping[str, dict[str, dict[str, Any]]]] = {
    NO_SKIP_VALIDATION_IN_PRODUCTION: dict(_PRODUCTION_SCHEMA),
    CREDENTIAL_NAMING: {
        "pattern": {
            "type": "string",
            "format": "regex",
            "description": "Regular expression the credential's Miget name must match.",
            "default": DEFAULT_NAME_PATTERN,
        },
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
        "appType": {
            "type": "string",
            "minLength": 1,
            "description": "Type token of the App resource.",
            "default": APP_TYPE,
        },
        "credentialProperty": {
            "type": "string",
            "minLength": 1,
            "description": "Top-level App input that holds the credential's uuid.",
            "default": DEFAULT_CREDENTIAL_PROPERTY,
        },
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
    levels.update(_checked_names(enforcement_levels or {}))
    wanted: dict[str, dict[str, Any]] = {
        NO_SKIP_VALIDATION_IN_PRODUCTION: {
            "productionStackPattern": production_stack_pattern,
            "productionTagKey": production_tag_key,
            "productionTagValues": _opt_list(production_tag_values),
        },
        CREDENTIAL_NAMING: {"pattern": name_pattern},
        ALLOWED_REGISTRIES: {"allowedRegistries": _opt_list(allowed_registries)},
        APP_CREDENTIAL_BY_REFERENCE: {
            "appType": app_type,
            "credentialProperty": credential_property,
            "credentialTypes": _opt_list(credential_types),
        },
        APP_IMAGE_TAG_PINNED: {
            "productionStackPattern": production_stack_pattern,
            "productionTagKey": production_tag_key,
            "productionTagValues": _opt_list(production_tag_values),
            "disallowedTags": _opt_list(disallowed_tags),
        },
    }
    result: dict[str, dict[str, Any]] = {}
    for policy in POLICY_NAMES:
        given = {k: v for k, v in wanted.get(policy, {}).items() if v is not None}
        if given or policy in (enforcement_levels or {}):
            result[policy] = {"enforcementLevel": levels[policy], **given}
    return result


def _checked_names(by_name: Mapping[str, Any]) -> Mapping[str, Any]:
    unknown = set(by_name) - set(POLICY_NAMES)
    if unknown:
        raise ValueError(f"unknown policy name(s): {', '.join(sorted(unknown))}")
    return by_name


def _opt_list(values: Iterable[str] | None) -> list[str] | None:
    return None if values is None else list(values)


class PolicyConfigError(ValueError):
    """A configured value has the wrong type or is not a valid regular expression."""


def _setting(config: Mapping[str, Any], policy: str, key: str) -> Any:
    value = config.get(key)
    return DEFAULT_CONFIG[policy][key] if value is None else value


def _str_setting(config: Mapping[str, Any], policy: str, key: str) -> str:
    value = _setting(config, policy, key)
    if not isinstance(value, str) or not value:
        raise PolicyConfigError(f"'{key}' must be a non-empty string")
    return value


def _str_list_setting(config: Mapping[str, Any], policy: str, key: str) -> list[str]:
    value = _setting(config, policy, key)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise PolicyConfigError(f"'{key}' must be a list of strings")
    return list(value)


def _regex_setting(config: Mapping[str, Any], policy: str, key: str) -> re.Pattern[str]:
    pattern = _str_setting(config, policy, key)
    try:
        return _compile(pattern)
    except re.error as exc:
        raise PolicyConfigError(f"'{key}' is not a valid regular expression ({exc})") from None


@functools.lru_cache(maxsize=64)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


_Validate = Callable[[Any, ReportViolation], None]


def _reports_config_errors(policy: str) -> Callable[[_Validate], _Validate]:
    """Turn a bad configuration into a violation that says which key to fix, instead of an
    exception (which the SDK turns into a gRPC error that fails the whole preview obscurely)."""

    def wrap(validate: _Validate) -> _Validate:
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


# ---------------------------------------------------------------------------------------------
# Reading props without tripping over unknowns


class _Unknown:
    """Marker for a value that is not known yet (``pulumi preview``)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Final = _Unknown()
"""What :func:`read_prop` returns for a value that is unknown during preview."""

_SENTINELS: Final = frozenset(
    {
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_OBJECT_VALUE,
        UNKNOWN_STRING_VALUE,
    }
)


def read_prop(props: Mapping[str, Any], key: str) -> Any:
    """``props[key]``; None when absent, :data:`UNKNOWN` when unknown. Never raises.

    ``key in props`` and ``props.get(key)`` both call ``__getitem__`` on the SDK's proxy and raise
    ``UnknownValueError`` for an unknown value; iterating the keys never reads a value.
    """
    if not any(k == key for k in props):
        return None
    try:
        value = props[key]
    except UnknownValueError:
        return UNKNOWN
    if isinstance(value, str) and value in _SENTINELS:  # a plain dict that was never proxied
        return UNKNOWN
    return value


def _is_unknown(value: object) -> bool:
    return value is UNKNOWN


def _credential_view(props: Mapping[str, Any]) -> dict[str, Any]:
    """The credential's fields with unknowns replaced by :data:`UNKNOWN`, absent ones dropped."""
    keys = [k for k in props if not k.startswith("__")]
    view = {key: read_prop(props, key) for key in keys}
    return {key: value for key, value in view.items() if value is not None}


def _is_credential(args: ResourceValidationArgs) -> bool:
    return args.resource_type == CREDENTIAL_TYPE


def _is_app(args: ResourceValidationArgs) -> bool:
    return args.resource_type == APP_TYPE


# ---------------------------------------------------------------------------------------------
# Production detection


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
    ``miget:environment`` is ``production``. ``stack`` and ``environment`` default to what the
    policy runtime was started with (``PULUMI_STACK`` and ``PULUMI_CONFIG``).
    """
    policy = NO_SKIP_VALIDATION_IN_PRODUCTION
    stack_name = pulumi.get_stack() if stack is None else stack
    pattern = _regex_setting(config, policy, "productionStackPattern")
    if pattern.search(stack_name):
        return f"stack name '{stack_name}' matches {pattern.pattern!r}"

    tag_key = _str_setting(config, policy, "productionTagKey")
    tag_values = _str_list_setting(config, policy, "productionTagValues")
    tag = stack_tags.get(tag_key)
    if tag is not None and tag in tag_values:
        return f"stack tag {tag_key}={tag}"

    if environment is None and read_environment:
        value = pulumi.runtime.get_config(ENVIRONMENT_CONFIG_KEY)
        environment = value if isinstance(value, str) else None
    if environment is not None and environment.strip().lower() == PRODUCTION_ENVIRONMENT:
        return f"config {ENVIRONMENT_CONFIG_KEY}={environment}"
    return None


# ---------------------------------------------------------------------------------------------
# Validate functions (public so they can be unit-tested and reused in other policies)


def validate_token_secret(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """The credential must mark ``token`` as a secret output.

    Validate functions receive secrets unwrapped, so they cannot see whether ``token`` itself
    was secret; ``additional_secret_outputs`` is the marker they can see. The
    ``ContainerRegistryCredential`` class always sets it (and wraps ``token`` in
    ``Output.secret``), so this flags resources registered under the credential's type by
    anything else.
    """
    if not _is_credential(args):
        return
    if "token" not in list(args.opts.additional_secret_outputs):
        report_violation(
            f"Credential '{args.name}' does not mark 'token' as a secret output. "
            "Create it with pulumi_miget.ContainerRegistryCredential (it wraps the token in "
            "Output.secret and sets additional_secret_outputs=['token']), or add "
            "ResourceOptions(additional_secret_outputs=['token']), and pass the token from "
            "config.require_secret(...).",
            None,
        )


@_reports_config_errors(NO_SKIP_VALIDATION_IN_PRODUCTION)
def validate_no_skip_validation_in_production(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    """``skip_validation`` must not be true in a production stack.

    An unknown ``skip_validation`` (preview) is skipped: the policy runs again during
    ``pulumi up`` with the value known.
    """
    if not _is_credential(args):
        return
    if read_prop(args.props, "skip_validation") is not True:
        return
    reason = production_reason(args.get_config(), args.stack_tags)
    if reason is not None:
        report_violation(
            f"Credential '{args.name}' sets skip_validation=true in a production stack "
            f"({reason}). Remove skip_validation (or set it to false) so Miget verifies the "
            "registry login before saving the credential; fix the username/token if that "
            "check fails.",
            None,
        )


def validate_registry_hostname(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    """``registry_hostname`` is present where the registry kind needs it, and well formed.

    The rules are the shared table in :mod:`pulumi_miget.rules` (the provider's ``check`` uses
    the same). Unknown ``registry`` or ``registry_hostname`` values are skipped.
    """
    if not _is_credential(args):
        return
    found = check_credential(_credential_view(args.props), is_unknown=_is_unknown)
    for violation in found:
        if violation.property != "registry_hostname":
            continue
        report_violation(
            f"Credential '{args.name}': {violation.reason}. Set registry_hostname to the "
            "registry's host[:port] alone, without a path.",
            None,
        )


@_reports_config_errors(CREDENTIAL_NAMING)
def validate_credential_naming(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    """The credential's Miget ``name`` follows the naming convention (``pattern``)."""
    if not _is_credential(args):
        return
    pattern = _regex_setting(args.get_config(), CREDENTIAL_NAMING, "pattern")
    name = read_prop(args.props, "name")
    if not isinstance(name, str):  # absent or unknown: nothing to judge
        return
    if not pattern.search(name):
        report_violation(
            f"Credential name {name!r} (resource '{args.name}') does not follow the naming "
            f"convention {pattern.pattern!r}. Rename it, e.g. to {_suggest_name(name)!r}; "
            "renaming replaces the credential in Miget.",
            None,
        )


def _suggest_name(name: str) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return slug[:63].strip("-") or "registry-credential"


@_reports_config_errors(ALLOWED_REGISTRIES)
def validate_allowed_registries(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    """The credential's ``registry`` kind is in ``allowedRegistries``."""
    if not _is_credential(args):
        return
    allowed = _str_list_setting(args.get_config(), ALLOWED_REGISTRIES, "allowedRegistries")
    registry = read_prop(args.props, "registry")
    if not isinstance(registry, str):
        return
    if registry not in allowed:
        listed = ", ".join(allowed) if allowed else "none"
        report_violation(
            f"Credential '{args.name}' uses registry '{registry}', which this organisation does "
            f"not allow (allowed: {listed}). Move the image to an allowed registry, or add "
            f"'{registry}' to allowedRegistries in the policy configuration.",
            None,
        )


@_reports_config_errors(APP_CREDENTIAL_BY_REFERENCE)
def validate_app_credential_by_reference(
    args: StackValidationArgs, report_violation: ReportViolation
) -> None:
    """Every App whose ``credential_id`` is set takes it from a credential resource's output.

    Property dependencies are keyed by the *top-level* input name. They are checked first; the
    value is read only when there are none (an Output-wired value is unknown during preview).
    """
    config = args.get_config()
    policy = APP_CREDENTIAL_BY_REFERENCE
    app_type = _str_setting(config, policy, "appType")
    prop = _str_setting(config, policy, "credentialProperty")
    credential_types = set(_str_list_setting(config, policy, "credentialTypes"))
    for resource in args.resources:
        if resource.resource_type != app_type:
            continue
        if not any(k == prop for k in resource.props):  # iterate keys: never reads a value
            continue
        deps = resource.property_dependencies.get(prop) or []
        if any(dep.resource_type in credential_types for dep in deps):
            continue
        if deps:
            source = ", ".join(sorted({dep.resource_type for dep in deps}))
            problem = f"comes from {source}, not from a ContainerRegistryCredential"
        else:
            value = read_prop(resource.props, prop)
            if value is None or value is UNKNOWN or value == "":
                continue  # not set, or wired from an Output we cannot see yet
            problem = "is a literal value"
        report_violation(
            f"App '{resource.name}': {prop} {problem}. Pass the credential resource's output "
            f"instead, e.g. {prop}=credential.uuid, so Pulumi tracks the dependency (the "
            "credential is created first and the app is updated when it is replaced).",
            resource.urn,
        )


def validate_app_env_secret(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    """An App with ``env`` must mark it as a secret output.

    Same reasoning as :func:`validate_token_secret`: validate functions see ``env`` unwrapped, so
    ``additional_secret_outputs`` is the marker they can check. ``pulumi_miget.App`` always sets
    it (and wraps ``env`` in ``Output.secret``); this flags anything else registered under the
    App's type with variables in plain text. The values are never read.
    """
    if not _is_app(args):
        return
    if not any(k == "env" for k in args.props):  # iterate keys: never reads a value
        return
    if "env" not in list(args.opts.additional_secret_outputs):
        report_violation(
            f"App '{args.name}' does not mark 'env' as a secret output, so its environment "
            "variables would be stored in plain text. Create it with pulumi_miget.App (it wraps "
            "env in Output.secret and sets additional_secret_outputs=['env']), or add "
            "ResourceOptions(additional_secret_outputs=['env']).",
            None,
        )


@_reports_config_errors(APP_IMAGE_TAG_PINNED)
def validate_app_image_tag_pinned(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    """In a production stack, an App's image ``tag`` is a pinned version, not ``latest``.

    A moving tag makes what runs depend on when Miget last pulled, and a rollback cannot name
    the previous image. Production detection is the same as for
    ``miget-credential-no-skip-validation-in-production`` (stack name, stack tag,
    ``miget:environment``). An unknown or absent ``tag`` is skipped (``pulumi_miget.App``'s
    ``check`` always fills in ``latest`` when the program sets none).
    """
    if not _is_app(args):
        return
    tag = read_prop(args.props, "tag")
    if not isinstance(tag, str):
        return
    config = args.get_config()
    disallowed = _str_list_setting(config, APP_IMAGE_TAG_PINNED, "disallowedTags")
    if tag not in disallowed:
        return
    reason = production_reason(config, args.stack_tags)
    if reason is not None:
        image = read_prop(args.props, "image_url")
        image_text = f"{image}:{tag}" if isinstance(image, str) else f"tag '{tag}'"
        report_violation(
            f"App '{args.name}' runs {image_text} in a production stack ({reason}). Pin a "
            "version (tag='1.4.2', or an immutable tag such as a git SHA) so a deploy always runs "
            "the image you tested and a rollback can name the previous one.",
            None,
        )


# ---------------------------------------------------------------------------------------------
# Policy factories: each call returns a new object, so packs never share mutable state


def _level(policy: str, given: EnforcementLevel | None) -> EnforcementLevel:
    return DEFAULT_ENFORCEMENT_LEVELS[policy] if given is None else given


def token_secret_policy(
    enforcement_level: EnforcementLevel | None = None,
) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=TOKEN_SECRET,
        description="Registry credential tokens must be Pulumi secrets.",
        validate=validate_token_secret,
        enforcement_level=_level(TOKEN_SECRET, enforcement_level),
        severity=Severity.HIGH,
        remediation_steps=(
            "Create credentials with pulumi_miget.ContainerRegistryCredential and read the "
            "token with config.require_secret()."
        ),
        tags=["miget", "secrets"],
    )


def no_skip_validation_in_production_policy(
    enforcement_level: EnforcementLevel | None = None,
) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=NO_SKIP_VALIDATION_IN_PRODUCTION,
        description="Registry credentials must not skip Miget's login check in production stacks.",
        validate=validate_no_skip_validation_in_production,
        enforcement_level=_level(NO_SKIP_VALIDATION_IN_PRODUCTION, enforcement_level),
        config_schema=CONFIG_SCHEMAS[NO_SKIP_VALIDATION_IN_PRODUCTION],
        severity=Severity.HIGH,
        remediation_steps="Remove skip_validation=True from credentials in production stacks.",
        tags=["miget", "production"],
    )


def registry_hostname_policy(
    enforcement_level: EnforcementLevel | None = None,
) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=REGISTRY_HOSTNAME,
        description=(
            "Registry credentials set a well-formed registry_hostname where the registry "
            "kind needs one (generic, aws_ecr, azure)."
        ),
        validate=validate_registry_hostname,
        enforcement_level=_level(REGISTRY_HOSTNAME, enforcement_level),
        severity=Severity.MEDIUM,
        remediation_steps="Set registry_hostname to the registry's host[:port], without a path.",
        tags=["miget"],
    )


def credential_naming_policy(
    enforcement_level: EnforcementLevel | None = None,
) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=CREDENTIAL_NAMING,
        description="Registry credential names follow the naming convention.",
        validate=validate_credential_naming,
        enforcement_level=_level(CREDENTIAL_NAMING, enforcement_level),
        config_schema=CONFIG_SCHEMAS[CREDENTIAL_NAMING],
        severity=Severity.LOW,
        remediation_steps="Rename the credential to match the configured pattern.",
        tags=["miget", "naming"],
    )


def allowed_registries_policy(
    enforcement_level: EnforcementLevel | None = None,
) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=ALLOWED_REGISTRIES,
        description="Registry credentials use an allowed registry kind.",
        validate=validate_allowed_registries,
        enforcement_level=_level(ALLOWED_REGISTRIES, enforcement_level),
        config_schema=CONFIG_SCHEMAS[ALLOWED_REGISTRIES],
        severity=Severity.MEDIUM,
        remediation_steps="Use an allowed registry, or extend allowedRegistries.",
        tags=["miget"],
    )


def app_credential_by_reference_policy(
    enforcement_level: EnforcementLevel | None = None,
) -> StackValidationPolicy:
    return StackValidationPolicy(
        name=APP_CREDENTIAL_BY_REFERENCE,
        description="Apps take credential_id from a registry credential's output, not a literal.",
        validate=validate_app_credential_by_reference,
        enforcement_level=_level(APP_CREDENTIAL_BY_REFERENCE, enforcement_level),
        config_schema=CONFIG_SCHEMAS[APP_CREDENTIAL_BY_REFERENCE],
        severity=Severity.MEDIUM,
        remediation_steps="Pass credential_id=credential.uuid instead of a uuid string.",
        tags=["miget"],
    )


def app_env_secret_policy(
    enforcement_level: EnforcementLevel | None = None,
) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=APP_ENV_SECRET,
        description="App environment variables must be Pulumi secrets.",
        validate=validate_app_env_secret,
        enforcement_level=_level(APP_ENV_SECRET, enforcement_level),
        severity=Severity.HIGH,
        remediation_steps=(
            "Create apps with pulumi_miget.App, or add "
            "ResourceOptions(additional_secret_outputs=['env'])."
        ),
        tags=["miget", "secrets"],
    )


def app_image_tag_pinned_policy(
    enforcement_level: EnforcementLevel | None = None,
) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=APP_IMAGE_TAG_PINNED,
        description="Apps in production stacks run a pinned image tag, not 'latest'.",
        validate=validate_app_image_tag_pinned,
        enforcement_level=_level(APP_IMAGE_TAG_PINNED, enforcement_level),
        config_schema=CONFIG_SCHEMAS[APP_IMAGE_TAG_PINNED],
        severity=Severity.MEDIUM,
        remediation_steps="Set tag to a released version (e.g. tag='1.4.2') in production stacks.",
        tags=["miget", "production"],
    )


_FACTORIES: Final[Mapping[str, Callable[..., Policy]]] = {
    TOKEN_SECRET: token_secret_policy,
    NO_SKIP_VALIDATION_IN_PRODUCTION: no_skip_validation_in_production_policy,
    REGISTRY_HOSTNAME: registry_hostname_policy,
    CREDENTIAL_NAMING: credential_naming_policy,
    ALLOWED_REGISTRIES: allowed_registries_policy,
    APP_CREDENTIAL_BY_REFERENCE: app_credential_by_reference_policy,
    APP_ENV_SECRET: app_env_secret_policy,
    APP_IMAGE_TAG_PINNED: app_image_tag_pinned_policy,
}


def all_policies(
    *,
    enforcement_levels: Mapping[str, EnforcementLevel] | None = None,
    exclude: Iterable[str] = (),
) -> list[Policy]:
    """New instances of every policy, at their default levels unless ``enforcement_levels``
    says otherwise (keyed by policy name). ``exclude`` drops policies by name."""
    levels = _checked_names(enforcement_levels or {})
    skipped = set(_checked_names(dict.fromkeys(exclude)))
    return [
        factory(levels.get(name)) for name, factory in _FACTORIES.items() if name not in skipped
    ]


POLICIES: Final[list[Policy]] = all_policies()
"""Every policy at its default level (a shared list: call :func:`all_policies` to customise)."""
