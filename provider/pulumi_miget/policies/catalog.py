"""What each policy is called and says about itself: its name, default enforcement level,
description, severity, remediation steps and tags, in one table per property keyed by name.

Every other module refers to a policy by the name defined here; :data:`POLICY_NAMES` is also the
order in which :func:`~pulumi_miget.policies.all_policies` lists them. What a policy checks lives
with its validate function (``credential``, ``app``); what it can be configured with, in
``config``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

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

DESCRIPTIONS: Final[Mapping[str, str]] = {
    TOKEN_SECRET: "Registry credential tokens must be Pulumi secrets.",
    NO_SKIP_VALIDATION_IN_PRODUCTION: (
        "Registry credentials must not skip Miget's login check in production stacks."
    ),
    REGISTRY_HOSTNAME: (
        "Registry credentials set a well-formed registry_hostname where the registry "
        "kind needs one (generic, aws_ecr, azure)."
    ),
    CREDENTIAL_NAMING: "Registry credential names follow the naming convention.",
    ALLOWED_REGISTRIES: "Registry credentials use an allowed registry kind.",
    APP_CREDENTIAL_BY_REFERENCE: (
        "Apps take credential_id from a registry credential's output, not a literal."
    ),
    APP_ENV_SECRET: "App environment variables must be Pulumi secrets.",
    APP_IMAGE_TAG_PINNED: "Apps in production stacks run a pinned image tag, not 'latest'.",
}

SEVERITIES: Final[Mapping[str, Severity]] = {
    TOKEN_SECRET: Severity.HIGH,
    NO_SKIP_VALIDATION_IN_PRODUCTION: Severity.HIGH,
    REGISTRY_HOSTNAME: Severity.MEDIUM,
    CREDENTIAL_NAMING: Severity.LOW,
    ALLOWED_REGISTRIES: Severity.MEDIUM,
    APP_CREDENTIAL_BY_REFERENCE: Severity.MEDIUM,
    APP_ENV_SECRET: Severity.HIGH,
    APP_IMAGE_TAG_PINNED: Severity.MEDIUM,
}

REMEDIATION_STEPS: Final[Mapping[str, str]] = {
    TOKEN_SECRET: (
        "Create credentials with pulumi_miget.ContainerRegistryCredential and read the "
        "token with config.require_secret()."
    ),
    NO_SKIP_VALIDATION_IN_PRODUCTION: (
        "Remove skip_validation=True from credentials in production stacks."
    ),
    REGISTRY_HOSTNAME: "Set registry_hostname to the registry's host[:port], without a path.",
    CREDENTIAL_NAMING: "Rename the credential to match the configured pattern.",
    ALLOWED_REGISTRIES: "Use an allowed registry, or extend allowedRegistries.",
    APP_CREDENTIAL_BY_REFERENCE: "Pass credential_id=credential.uuid instead of a uuid string.",
    APP_ENV_SECRET: (
        "Create apps with pulumi_miget.App, or add "
        "ResourceOptions(additional_secret_outputs=['env'])."
    ),
    APP_IMAGE_TAG_PINNED: (
        "Set tag to a released version (e.g. tag='1.4.2') in production stacks."
    ),
}

TAGS: Final[Mapping[str, tuple[str, ...]]] = {
    TOKEN_SECRET: ("miget", "secrets"),
    NO_SKIP_VALIDATION_IN_PRODUCTION: ("miget", "production"),
    REGISTRY_HOSTNAME: ("miget",),
    CREDENTIAL_NAMING: ("miget", "naming"),
    ALLOWED_REGISTRIES: ("miget",),
    APP_CREDENTIAL_BY_REFERENCE: ("miget",),
    APP_ENV_SECRET: ("miget", "secrets"),
    APP_IMAGE_TAG_PINNED: ("miget", "production"),
}


def checked_names(by_name: Mapping[str, Any]) -> Mapping[str, Any]:
    """``by_name`` itself, once every key is known to be a policy name (ValueError otherwise)."""
    unknown = set(by_name) - set(POLICY_NAMES)
    if unknown:
        raise ValueError(f"unknown policy name(s): {', '.join(sorted(unknown))}")
    return by_name
