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

This module only re-exports the public names. The modules, each read top to bottom:

- ``catalog``: each policy's name, default level, description, severity, remediation and tags;
- ``config``: the configuration defaults and schemas;
- ``read_config``: reading a policy's configuration while it validates;
- ``production``: whether the stack is production (:func:`production_reason`);
- ``props``: reading props that may be unknown (:func:`read_prop`);
- ``factory``: building a policy object from a policy's name and validate function;
- ``credential``, ``app``: the policies themselves, validate functions and factories;
- ``pack``: :func:`all_policies`, :data:`POLICIES` and :func:`initial_config`.
"""

from __future__ import annotations

from ..tokens import APP_TYPE, CREDENTIAL_TYPE
from .app import (
    app_credential_by_reference_policy,
    app_env_secret_policy,
    app_image_tag_pinned_policy,
    validate_app_credential_by_reference,
    validate_app_env_secret,
    validate_app_image_tag_pinned,
)
from .catalog import (
    ALLOWED_REGISTRIES,
    APP_CREDENTIAL_BY_REFERENCE,
    APP_ENV_SECRET,
    APP_IMAGE_TAG_PINNED,
    CREDENTIAL_NAMING,
    DEFAULT_ENFORCEMENT_LEVELS,
    NO_SKIP_VALIDATION_IN_PRODUCTION,
    POLICY_NAMES,
    REGISTRY_HOSTNAME,
    TOKEN_SECRET,
)
from .config import (
    CONFIG_SCHEMAS,
    DEFAULT_CONFIG,
    DEFAULT_CREDENTIAL_PROPERTY,
    DEFAULT_DISALLOWED_TAGS,
    DEFAULT_NAME_PATTERN,
    DEFAULT_PRODUCTION_STACK_PATTERN,
    DEFAULT_PRODUCTION_TAG_KEY,
    DEFAULT_PRODUCTION_TAG_VALUES,
)
from .credential import (
    allowed_registries_policy,
    credential_naming_policy,
    no_skip_validation_in_production_policy,
    registry_hostname_policy,
    token_secret_policy,
    validate_allowed_registries,
    validate_credential_naming,
    validate_no_skip_validation_in_production,
    validate_registry_hostname,
    validate_token_secret,
)
from .pack import POLICIES, all_policies, initial_config
from .production import ENVIRONMENT_CONFIG_KEY, production_reason
from .production import PRODUCTION_ENVIRONMENT as PRODUCTION_ENVIRONMENT  # importable, as before
from .props import UNKNOWN, read_prop
from .read_config import PolicyConfigError

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
