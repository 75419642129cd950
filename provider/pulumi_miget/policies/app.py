"""The policies on App resources. Each is declared once, by the decorator above its validate
function (public so it can be unit-tested and reused in other policies); its settings are
declared first.

``miget-app-credential-by-reference`` is a stack policy: only the whole stack shows where an
App's ``credential_id`` comes from. Validate functions see ``env`` unwrapped, secret or not; no
message ever quotes it.
"""

from __future__ import annotations

from typing import Final

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    Severity,
    StackValidationArgs,
)

from ..rules.app import DEFAULT_TAG
from ..tokens import APP_TYPE, CREDENTIAL_TYPE
from .config import StringListSetting, StringSetting
from .production import PRODUCTION_SETTINGS, production_reason
from .props import UNKNOWN, read_prop
from .spec import PolicyGroup

APP_POLICIES: Final = PolicyGroup()

APP_TYPE_SETTING: Final = StringSetting(
    key="appType",
    keyword="app_type",
    description="Type token of the App resource.",
    default=APP_TYPE,
)
CREDENTIAL_PROPERTY: Final = StringSetting(
    key="credentialProperty",
    keyword="credential_property",
    description="Top-level App input that holds the credential's uuid.",
    default="credential_id",
)
CREDENTIAL_TYPES: Final = StringListSetting(
    key="credentialTypes",
    keyword="credential_types",
    description="Resource types whose outputs count as a credential reference.",
    default=(CREDENTIAL_TYPE,),
)
DISALLOWED_TAGS: Final = StringListSetting(
    key="disallowedTags",
    keyword="disallowed_tags",
    description="Image tags that are not a pinned version (moving tags) in production stacks.",
    default=(DEFAULT_TAG,),
)


def _is_app(args: ResourceValidationArgs) -> bool:
    return args.resource_type == APP_TYPE


APP_CREDENTIAL_BY_REFERENCE: Final = "miget-app-credential-by-reference"


@APP_POLICIES.policy(
    name=APP_CREDENTIAL_BY_REFERENCE,
    kind="stack",  # only the whole stack shows where credential_id comes from
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    description="Apps take credential_id from a registry credential's output, not a literal.",
    remediation_steps="Pass credential_id=credential.uuid instead of a uuid string.",
    settings=(APP_TYPE_SETTING, CREDENTIAL_PROPERTY, CREDENTIAL_TYPES),
)
def validate_app_credential_by_reference(
    args: StackValidationArgs, report_violation: ReportViolation
) -> None:
    """Every App whose ``credential_id`` is set takes it from a credential resource's output.

    Property dependencies are keyed by the *top-level* input name. They are checked first; the
    value is read only when there are none (an Output-wired value is unknown during preview).
    """
    config = args.get_config()
    app_type = APP_TYPE_SETTING.read(config)
    prop = CREDENTIAL_PROPERTY.read(config)
    credential_types = set(CREDENTIAL_TYPES.read(config))
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


APP_ENV_SECRET: Final = "miget-app-env-secret"


@APP_POLICIES.policy(
    name=APP_ENV_SECRET,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    description="App environment variables must be Pulumi secrets.",
    remediation_steps=(
        "Create apps with pulumi_miget.App, or add "
        "ResourceOptions(additional_secret_outputs=['env'])."
    ),
    tags=("secrets",),
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


APP_IMAGE_TAG_PINNED: Final = "miget-app-image-tag-pinned"


@APP_POLICIES.policy(
    name=APP_IMAGE_TAG_PINNED,
    enforcement_level=EnforcementLevel.ADVISORY,
    severity=Severity.MEDIUM,
    description="Apps in production stacks run a pinned image tag, not 'latest'.",
    remediation_steps="Set tag to a released version (e.g. tag='1.4.2') in production stacks.",
    settings=(*PRODUCTION_SETTINGS, DISALLOWED_TAGS),
    tags=("production",),
)
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
    disallowed = DISALLOWED_TAGS.read(config)
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
