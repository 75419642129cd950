"""The policies on ``ContainerRegistryCredential`` resources: each validate function (public so
it can be unit-tested and reused in other policies), followed by the factory of its policy.

Validate functions see ``token`` unwrapped, secret or not; no message ever quotes it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from pulumi_policy import ReportViolation, ResourceValidationArgs

from ..rules import check_credential
from ..tokens import CREDENTIAL_TYPE
from .catalog import (
    ALLOWED_REGISTRIES,
    CREDENTIAL_NAMING,
    NO_SKIP_VALIDATION_IN_PRODUCTION,
    REGISTRY_HOSTNAME,
    TOKEN_SECRET,
)
from .factory import ResourcePolicyFactory
from .production import production_reason
from .props import is_unknown, read_prop
from .read_config import regex_setting, registry_list_setting, reports_config_errors


def _is_credential(args: ResourceValidationArgs) -> bool:
    return args.resource_type == CREDENTIAL_TYPE


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


token_secret_policy: Final = ResourcePolicyFactory(TOKEN_SECRET, validate_token_secret)


@reports_config_errors(NO_SKIP_VALIDATION_IN_PRODUCTION)
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


no_skip_validation_in_production_policy: Final = ResourcePolicyFactory(
    NO_SKIP_VALIDATION_IN_PRODUCTION, validate_no_skip_validation_in_production
)


def _credential_view(props: Mapping[str, Any]) -> dict[str, Any]:
    """The credential's fields with unknowns replaced by ``UNKNOWN``, absent ones dropped."""
    keys = [k for k in props if not k.startswith("__")]
    view = {key: read_prop(props, key) for key in keys}
    return {key: value for key, value in view.items() if value is not None}


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


registry_hostname_policy: Final = ResourcePolicyFactory(
    REGISTRY_HOSTNAME, validate_registry_hostname
)


@reports_config_errors(CREDENTIAL_NAMING)
def validate_credential_naming(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    """The credential's Miget ``name`` follows the naming convention (``pattern``)."""
    if not _is_credential(args):
        return
    pattern = regex_setting(args.get_config(), CREDENTIAL_NAMING, "pattern")
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


credential_naming_policy: Final = ResourcePolicyFactory(
    CREDENTIAL_NAMING, validate_credential_naming
)


@reports_config_errors(ALLOWED_REGISTRIES)
def validate_allowed_registries(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    """The credential's ``registry`` kind is in ``allowedRegistries``."""
    if not _is_credential(args):
        return
    allowed = registry_list_setting(args.get_config(), ALLOWED_REGISTRIES, "allowedRegistries")
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


allowed_registries_policy: Final = ResourcePolicyFactory(
    ALLOWED_REGISTRIES, validate_allowed_registries
)
