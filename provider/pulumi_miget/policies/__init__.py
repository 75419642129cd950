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
- The SDK never applies config-schema defaults (the CLI does): every setting carries its default
  in code as well as in the schema, so the policies behave the same with or without the CLI's
  reconciliation.

Each policy is declared once, as a :class:`PolicySpec` (name, level, severity, description,
remediation, settings with their defaults, validate function, resource or stack kind) by the
decorator above its validate function; :data:`CATALOG` lists them, and everything else is
derived from it: :data:`POLICY_NAMES`, :func:`all_policies`, :data:`POLICIES`,
:func:`initial_config` and its keywords, each policy's config schema and defaults
(``spec.config_schema``, ``spec.defaults``) and its policy object (``spec.build(level)``).

This module only re-exports the public names. The modules, each read top to bottom:

- ``props``: reading props that may be unknown (:func:`read_prop`);
- ``config``: settings (config key, ``initial_config`` keyword, default, schema, typed read) and
  the reporting of a bad configuration;
- ``spec``: :class:`PolicySpec` and the decorator that declares one;
- ``production``: the shared production settings and :func:`production_reason`;
- ``credential``, ``app``: the policies themselves, each declared above its validate function;
- ``catalog``: :data:`CATALOG` and the names and settings derived from it;
- ``pack``: :func:`all_policies`, :data:`POLICIES` and :func:`initial_config`.
"""

from __future__ import annotations

from ..tokens import APP_TYPE, CREDENTIAL_TYPE
from .app import (
    APP_CREDENTIAL_BY_REFERENCE,
    APP_ENV_SECRET,
    APP_IMAGE_TAG_PINNED,
    validate_app_credential_by_reference,
    validate_app_env_secret,
    validate_app_image_tag_pinned,
)
from .catalog import CATALOG, POLICY_NAMES
from .config import PolicyConfigError
from .credential import (
    ALLOWED_REGISTRIES,
    CREDENTIAL_NAMING,
    NO_SKIP_VALIDATION_IN_PRODUCTION,
    REGISTRY_HOSTNAME,
    TOKEN_SECRET,
    validate_allowed_registries,
    validate_credential_naming,
    validate_no_skip_validation_in_production,
    validate_registry_hostname,
    validate_token_secret,
)
from .pack import POLICIES, all_policies, initial_config
from .production import production_reason
from .props import UNKNOWN, read_prop
from .spec import PolicySpec

__all__ = [
    "ALLOWED_REGISTRIES",
    "APP_CREDENTIAL_BY_REFERENCE",
    "APP_ENV_SECRET",
    "APP_IMAGE_TAG_PINNED",
    "APP_TYPE",
    "CATALOG",
    "CREDENTIAL_NAMING",
    "CREDENTIAL_TYPE",
    "NO_SKIP_VALIDATION_IN_PRODUCTION",
    "POLICIES",
    "POLICY_NAMES",
    "REGISTRY_HOSTNAME",
    "TOKEN_SECRET",
    "UNKNOWN",
    "PolicyConfigError",
    "PolicySpec",
    "all_policies",
    "initial_config",
    "production_reason",
    "read_prop",
    "validate_allowed_registries",
    "validate_app_credential_by_reference",
    "validate_app_env_secret",
    "validate_app_image_tag_pinned",
    "validate_credential_naming",
    "validate_no_skip_validation_in_production",
    "validate_registry_hostname",
    "validate_token_secret",
]
