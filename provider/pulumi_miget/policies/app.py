"""The policies on App resources: each validate function (public so it can be unit-tested and
reused in other policies), followed by the factory of its policy.

``miget-app-credential-by-reference`` is a stack policy: only the whole stack shows where an
App's ``credential_id`` comes from. Validate functions see ``env`` unwrapped, secret or not; no
message ever quotes it.
"""

from __future__ import annotations

from typing import Final

from pulumi_policy import (
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)

from ..tokens import APP_TYPE
from .catalog import APP_CREDENTIAL_BY_REFERENCE, APP_ENV_SECRET, APP_IMAGE_TAG_PINNED
from .factory import ResourcePolicyFactory, StackPolicyFactory
from .production import production_reason
from .props import UNKNOWN, read_prop
from .read_config import reports_config_errors, str_list_setting, str_setting


def _is_app(args: ResourceValidationArgs) -> bool:
    return args.resource_type == APP_TYPE


@reports_config_errors(APP_CREDENTIAL_BY_REFERENCE)
def validate_app_credential_by_reference(
    args: StackValidationArgs, report_violation: ReportViolation
) -> None:
    """Every App whose ``credential_id`` is set takes it from a credential resource's output.

    Property dependencies are keyed by the *top-level* input name. They are checked first; the
    value is read only when there are none (an Output-wired value is unknown during preview).
    """
    config = args.get_config()
    policy = APP_CREDENTIAL_BY_REFERENCE
    app_type = str_setting(config, policy, "appType")
    prop = str_setting(config, policy, "credentialProperty")
    credential_types = set(str_list_setting(config, policy, "credentialTypes"))
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


app_credential_by_reference_policy: Final = StackPolicyFactory(
    APP_CREDENTIAL_BY_REFERENCE, validate_app_credential_by_reference
)


def validate_app_env_secret(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    """An App with ``env`` must mark it as a secret output.

    Same reasoning as :func:`~pulumi_miget.policies.validate_token_secret`: validate functions
    see ``env`` unwrapped, so ``additional_secret_outputs`` is the marker they can check.
    ``pulumi_miget.App`` always sets it (and wraps ``env`` in ``Output.secret``); this flags
    anything else registered under the App's type with variables in plain text. The values are
    never read.
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


app_env_secret_policy: Final = ResourcePolicyFactory(APP_ENV_SECRET, validate_app_env_secret)


@reports_config_errors(APP_IMAGE_TAG_PINNED)
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
    disallowed = str_list_setting(config, APP_IMAGE_TAG_PINNED, "disallowedTags")
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


app_image_tag_pinned_policy: Final = ResourcePolicyFactory(
    APP_IMAGE_TAG_PINNED, validate_app_image_tag_pinned
)
