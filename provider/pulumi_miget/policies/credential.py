"""The policies on ``ContainerRegistryCredential`` resources. Each is declared once, by the
decorator above its validate function (public so it can be unit-tested and reused in other
policies); its settings are declared first.

Validate functions see ``token`` unwrapped, secret or not; no message ever quotes it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, Severity

from ..rules import check_credential
from ..tokens import CREDENTIAL_TYPE
from .config import RegexSetting, RegistryListSetting
from .production import PRODUCTION_SETTINGS, production_reason
from .props import is_unknown, read_prop
from .spec import PolicyGroup

CREDENTIAL_POLICIES: Final = PolicyGroup()

NAME_PATTERN: Final = RegexSetting(
    key="pattern",
    keyword="name_pattern",
    description="Regular expression the credential's Miget name must match.",
    default=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
)
ALLOWED_REGISTRY_KINDS: Final = RegistryListSetting(
    key="allowedRegistries",
    keyword="allowed_registries",
    description="Registry kinds credentials may use.",
)


def _is_credential(args: ResourceValidationArgs) -> bool:
    return args.resource_type == CREDENTIAL_TYPE


TOKEN_SECRET: Final = "miget-credential-token-secret"


@CREDENTIAL_POLICIES.policy(
    name=TOKEN_SECRET,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    description="Registry credential tokens must be Pulumi secrets.",
    remediation_steps=(
        "Create credentials with pulumi_miget.ContainerRegistryCredential and read the "
        "token with config.require_secret()."
    ),
    tags=("secrets",),
)
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


NO_SKIP_VALIDATION_IN_PRODUCTION: Final = "miget-credential-no-skip-validation-in-production"


@CREDENTIAL_POLICIES.policy(
    name=NO_SKIP_VALIDATION_IN_PRODUCTION,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    description="Registry credentials must not skip Miget's login check in production stacks.",
    remediation_steps="Remove skip_validation=True from credentials in production stacks.",
    settings=PRODUCTION_SETTINGS,
    tags=("production",),
)
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


def _credential_view(props: Mapping[str, Any]) -> dict[str, Any]:
    """The credential's fields with unknowns replaced by ``UNKNOWN``, absent ones dropped."""
    keys = [k for k in props if not k.startswith("__")]
    view = {key: read_prop(props, key) for key in keys}
    return {key: value for key, value in view.items() if value is not None}


REGISTRY_HOSTNAME: Final = "miget-credential-registry-hostname"


@CREDENTIAL_POLICIES.policy(
    name=REGISTRY_HOSTNAME,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    description=(
        "Registry credentials set a well-formed registry_hostname where the registry "
        "kind needs one (generic, aws_ecr, azure)."
    ),
    remediation_steps="Set registry_hostname to the registry's host[:port], without a path.",
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
    found = check_credential(_credential_view(args.props), is_unknown=is_unknown)
    for violation in found:
        if violation.property != "registry_hostname":
            continue
        report_violation(
            f"Credential '{args.name}': {violation.reason}. Set registry_hostname to the "
            "registry's host[:port] alone, without a path.",
            None,
        )


CREDENTIAL_NAMING: Final = "miget-credential-naming"


@CREDENTIAL_POLICIES.policy(
    name=CREDENTIAL_NAMING,
    enforcement_level=EnforcementLevel.ADVISORY,
    severity=Severity.LOW,
    description="Registry credential names follow the naming convention.",
    remediation_steps="Rename the credential to match the configured pattern.",
    settings=(NAME_PATTERN,),
    tags=("naming",),
)
def validate_credential_naming(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    """The credential's Miget ``name`` follows the naming convention (``pattern``)."""
    if not _is_credential(args):
        return
    pattern = NAME_PATTERN.read(args.get_config())
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


ALLOWED_REGISTRIES: Final = "miget-credential-allowed-registries"


@CREDENTIAL_POLICIES.policy(
    name=ALLOWED_REGISTRIES,
    enforcement_level=EnforcementLevel.ADVISORY,
    severity=Severity.MEDIUM,
    description="Registry credentials use an allowed registry kind.",
    remediation_steps="Use an allowed registry, or extend allowedRegistries.",
    settings=(ALLOWED_REGISTRY_KINDS,),
)
def validate_allowed_registries(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    """The credential's ``registry`` kind is in ``allowedRegistries``."""
    if not _is_credential(args):
        return
    allowed = ALLOWED_REGISTRY_KINDS.read(args.get_config())
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
