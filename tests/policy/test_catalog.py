"""The library's surface: the catalog of policy declarations and everything derived from it
(names, levels, schemas and defaults, ``all_policies``, ``initial_config``), how one policy is
declared, and what importing the library loads."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import partial
from typing import Any

import pytest
from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationPolicy,
    Severity,
    StackValidationPolicy,
)

from pulumi_miget import policies as p
from pulumi_miget.policies.catalog import SETTINGS, settings_by_keyword
from pulumi_miget.policies.config import PolicyConfigError, StringSetting
from pulumi_miget.policies.spec import PolicyGroup, PolicySpec
from pulumi_miget.rules import REGISTRIES
from tests.policy.common import CREDENTIAL_PROPS, resource_args, run

BASE: dict[str, Any] = {**CREDENTIAL_PROPS, "token": "ghp_do-not-print-me-0123456789"}
rargs = partial(resource_args, type_=p.CREDENTIAL_TYPE, name="ghcr", secret_outputs=("token",))

BY_NAME = {spec.name: spec for spec in p.CATALOG}


def test_policies_have_names_levels_descriptions_and_remediation() -> None:
    assert [policy.name for policy in p.POLICIES] == list(p.POLICY_NAMES)
    assert list(p.POLICY_NAMES) == [spec.name for spec in p.CATALOG]
    for policy in p.POLICIES:
        assert policy.description and policy.remediation_steps
        assert policy.enforcement_level == BY_NAME[policy.name].enforcement_level
    levels = {policy.name: policy.enforcement_level for policy in p.POLICIES}
    assert levels == {
        "miget-credential-token-secret": EnforcementLevel.MANDATORY,
        "miget-credential-no-skip-validation-in-production": EnforcementLevel.MANDATORY,
        "miget-credential-registry-hostname": EnforcementLevel.MANDATORY,
        "miget-credential-naming": EnforcementLevel.ADVISORY,
        "miget-credential-allowed-registries": EnforcementLevel.ADVISORY,
        "miget-app-credential-by-reference": EnforcementLevel.MANDATORY,
        "miget-app-env-secret": EnforcementLevel.MANDATORY,
        "miget-app-image-tag-pinned": EnforcementLevel.ADVISORY,
    }
    kinds = {policy.name: type(policy) for policy in p.POLICIES}
    assert kinds.pop(p.APP_CREDENTIAL_BY_REFERENCE) is StackValidationPolicy
    assert set(kinds.values()) == {ResourceValidationPolicy}


def test_the_name_constants_and_validate_functions_are_the_catalogs() -> None:
    constants = [
        p.TOKEN_SECRET,
        p.NO_SKIP_VALIDATION_IN_PRODUCTION,
        p.REGISTRY_HOSTNAME,
        p.CREDENTIAL_NAMING,
        p.ALLOWED_REGISTRIES,
        p.APP_CREDENTIAL_BY_REFERENCE,
        p.APP_ENV_SECRET,
        p.APP_IMAGE_TAG_PINNED,
    ]
    assert constants == list(p.POLICY_NAMES)
    validates = [
        p.validate_token_secret,
        p.validate_no_skip_validation_in_production,
        p.validate_registry_hostname,
        p.validate_credential_naming,
        p.validate_allowed_registries,
        p.validate_app_credential_by_reference,
        p.validate_app_env_secret,
        p.validate_app_image_tag_pinned,
    ]
    assert validates == [spec.validate for spec in p.CATALOG]
    assert validates[0].__name__ == "validate_token_secret"  # wrapped, name and doc kept


def test_each_policy_object_carries_its_specs_severity_and_tags() -> None:
    severities = {policy.name: policy.severity for policy in p.POLICIES}
    assert severities == {
        p.TOKEN_SECRET: Severity.HIGH,
        p.NO_SKIP_VALIDATION_IN_PRODUCTION: Severity.HIGH,
        p.REGISTRY_HOSTNAME: Severity.MEDIUM,
        p.CREDENTIAL_NAMING: Severity.LOW,
        p.ALLOWED_REGISTRIES: Severity.MEDIUM,
        p.APP_CREDENTIAL_BY_REFERENCE: Severity.MEDIUM,
        p.APP_ENV_SECRET: Severity.HIGH,
        p.APP_IMAGE_TAG_PINNED: Severity.MEDIUM,
    }
    tags = {policy.name: policy.tags for policy in p.POLICIES}
    assert tags == {
        p.TOKEN_SECRET: ["miget", "secrets"],
        p.NO_SKIP_VALIDATION_IN_PRODUCTION: ["miget", "production"],
        p.REGISTRY_HOSTNAME: ["miget"],
        p.CREDENTIAL_NAMING: ["miget", "naming"],
        p.ALLOWED_REGISTRIES: ["miget"],
        p.APP_CREDENTIAL_BY_REFERENCE: ["miget"],
        p.APP_ENV_SECRET: ["miget", "secrets"],
        p.APP_IMAGE_TAG_PINNED: ["miget", "production"],
    }
    for policy in p.POLICIES:
        spec = BY_NAME[policy.name]
        assert (policy.description, policy.remediation_steps) == (
            spec.description,
            spec.remediation_steps,
        )


def test_schema_defaults_match_the_defaults_in_code() -> None:
    for policy in p.POLICIES:
        schema = policy.config_schema.properties if policy.config_schema else {}
        defaults = {key: spec["default"] for key, spec in schema.items()}
        assert defaults == BY_NAME[policy.name].defaults, policy.name
        assert all(spec.get("description") for spec in schema.values())


def test_the_defaults_are_the_documented_ones() -> None:
    production = {
        "productionStackPattern": r"^(prod|production)([-_].*)?$",
        "productionTagKey": "environment",
        "productionTagValues": ["production", "prod"],
    }
    assert {spec.name: spec.defaults for spec in p.CATALOG} == {
        p.TOKEN_SECRET: {},
        p.NO_SKIP_VALIDATION_IN_PRODUCTION: production,
        p.REGISTRY_HOSTNAME: {},
        p.CREDENTIAL_NAMING: {"pattern": r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"},
        p.ALLOWED_REGISTRIES: {"allowedRegistries": list(REGISTRIES)},
        p.APP_CREDENTIAL_BY_REFERENCE: {
            "appType": p.APP_TYPE,
            "credentialProperty": "credential_id",
            "credentialTypes": [p.CREDENTIAL_TYPE],
        },
        p.APP_ENV_SECRET: {},
        p.APP_IMAGE_TAG_PINNED: {**production, "disallowedTags": ["latest"]},
    }
    first, second = BY_NAME[p.ALLOWED_REGISTRIES].defaults, BY_NAME[p.ALLOWED_REGISTRIES].defaults
    assert first["allowedRegistries"] is not second["allowedRegistries"]  # never shared


def test_the_config_schemas_are_unchanged() -> None:
    """The schemas the CLI validates --policy-pack-config against, pinned."""

    def string(default: str, **extra: Any) -> dict[str, Any]:
        return {"type": "string", **extra, "default": default}

    def strings(default: list[str], **items: Any) -> dict[str, Any]:
        return {"type": "array", "items": {"type": "string", **items}, "default": default}

    production = {
        "productionStackPattern": string(r"^(prod|production)([-_].*)?$", format="regex"),
        "productionTagKey": string("environment", minLength=1),
        "productionTagValues": strings(["production", "prod"]),
    }
    schemas = {
        policy.name: {
            key: {k: v for k, v in entry.items() if k != "description"}
            for key, entry in policy.config_schema.properties.items()
        }
        for policy in p.POLICIES
        if policy.config_schema is not None
    }
    assert schemas == {
        p.NO_SKIP_VALIDATION_IN_PRODUCTION: production,
        p.CREDENTIAL_NAMING: {
            "pattern": string(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", format="regex")
        },
        p.ALLOWED_REGISTRIES: {
            "allowedRegistries": {
                **strings(list(REGISTRIES), enum=list(REGISTRIES)),
                "uniqueItems": True,
            }
        },
        p.APP_CREDENTIAL_BY_REFERENCE: {
            "appType": string(p.APP_TYPE, minLength=1),
            "credentialProperty": string("credential_id", minLength=1),
            "credentialTypes": strings([p.CREDENTIAL_TYPE]),
        },
        p.APP_IMAGE_TAG_PINNED: {**production, "disallowedTags": strings(["latest"])},
    }
    assert all(
        policy.config_schema.required is None for policy in p.POLICIES if policy.config_schema
    )


def test_initial_config_takes_one_keyword_per_setting() -> None:
    assert list(SETTINGS) == [
        "production_stack_pattern",
        "production_tag_key",
        "production_tag_values",
        "name_pattern",
        "allowed_registries",
        "app_type",
        "credential_property",
        "credential_types",
        "disallowed_tags",
    ]
    with pytest.raises(TypeError, match="unexpected keyword argument 'name_patern'"):
        p.initial_config(name_patern="^x$")
    config = p.initial_config(
        app_type="pulumi-python:dynamic/acme:Service",
        credential_property="pull_secret",
        credential_types=("a", "b"),
        disallowed_tags=["latest", "main"],
        production_tag_key="tier",
    )
    assert config == {
        p.NO_SKIP_VALIDATION_IN_PRODUCTION: {
            "enforcementLevel": EnforcementLevel.MANDATORY,
            "productionTagKey": "tier",
        },
        p.APP_CREDENTIAL_BY_REFERENCE: {
            "enforcementLevel": EnforcementLevel.MANDATORY,
            "appType": "pulumi-python:dynamic/acme:Service",
            "credentialProperty": "pull_secret",
            "credentialTypes": ["a", "b"],
        },
        p.APP_IMAGE_TAG_PINNED: {
            "enforcementLevel": EnforcementLevel.ADVISORY,
            "productionTagKey": "tier",
            "disallowedTags": ["latest", "main"],
        },
    }
    shared = p.initial_config(production_tag_values=["live"])
    assert (
        shared[p.NO_SKIP_VALIDATION_IN_PRODUCTION]["productionTagValues"]
        is not shared[p.APP_IMAGE_TAG_PINNED]["productionTagValues"]
    )
    with pytest.raises(ValueError, match="unknown policy name"):
        p.initial_config(enforcement_levels={"miget-nope": EnforcementLevel.ADVISORY})


def test_a_policy_is_declared_once_and_everything_follows_from_the_declaration() -> None:
    """What a new policy is: one decorator above its validate function."""
    group = PolicyGroup()
    limit = StringSetting(key="limit", keyword="limit", description="A limit.", default="10")

    @group.policy(
        name="acme-limit",
        enforcement_level=EnforcementLevel.ADVISORY,
        severity=Severity.LOW,
        description="Limits hold.",
        remediation_steps="Lower it.",
        settings=(limit,),
        tags=("acme",),
    )
    def validate_limit(args: Any, report_violation: Any) -> None:
        """The limit holds."""
        if limit.read(args.get_config()) != "10":
            report_violation("over the limit", None)

    [spec] = list(group)
    assert isinstance(spec, PolicySpec) and spec.validate is validate_limit
    assert (
        validate_limit.__name__ == "validate_limit" and validate_limit.__doc__ == "The limit holds."
    )
    policy = spec.build()
    assert isinstance(policy, ResourceValidationPolicy) and policy is not spec.build()
    assert (policy.name, policy.enforcement_level, policy.tags) == (
        "acme-limit",
        EnforcementLevel.ADVISORY,
        ["miget", "acme"],
    )
    assert spec.build(EnforcementLevel.MANDATORY).enforcement_level == EnforcementLevel.MANDATORY
    assert policy.config_schema is not None
    assert policy.config_schema.properties == {
        "limit": {"type": "string", "minLength": 1, "description": "A limit.", "default": "10"}
    }
    args = rargs(BASE, config={"limit": ""})
    assert run(validate_limit, args) == [
        "The configuration of policy 'acme-limit' is invalid: 'limit' must be a non-empty "
        "string, got an empty one. Fix it in --policy-pack-config (or the pack's initial_config)."
    ]
    assert run(validate_limit, rargs(BASE, config={"limit": "11"})) == ["over the limit"]
    assert settings_by_keyword([spec]) == {"limit": limit}
    with pytest.raises(PolicyConfigError, match=r"initial_config: limit \('limit'\): 'limit'"):
        limit.initial_value("")


def test_conflicting_declarations_are_refused() -> None:
    group = PolicyGroup()
    one = StringSetting(key="a", keyword="same", description="A.", default="x")
    other = StringSetting(key="b", keyword="same", description="B.", default="y")
    declare = partial(
        group.policy,
        enforcement_level=EnforcementLevel.ADVISORY,
        severity=Severity.LOW,
        description="d",
        remediation_steps="r",
    )
    declare(name="first", settings=(one,))(lambda args, report: None)
    declare(name="second", settings=(other,))(lambda args, report: None)
    with pytest.raises(ValueError, match="two settings use the initial_config keyword same"):
        settings_by_keyword(group)
    with pytest.raises(ValueError, match="setting keys must be unique"):
        declare(name="third", settings=(one, one))(lambda args, report: None)


def test_all_policies_returns_fresh_objects_with_overrides() -> None:
    first, second = p.all_policies(), p.all_policies()
    assert all(a is not b for a, b in zip(first, second, strict=True))
    custom = p.all_policies(
        enforcement_levels={p.CREDENTIAL_NAMING: EnforcementLevel.MANDATORY},
        exclude=[p.ALLOWED_REGISTRIES],
    )
    names = [policy.name for policy in custom]
    assert p.ALLOWED_REGISTRIES not in names and len(names) == len(p.POLICY_NAMES) - 1
    naming = next(policy for policy in custom if policy.name == p.CREDENTIAL_NAMING)
    assert naming.enforcement_level == EnforcementLevel.MANDATORY
    with pytest.raises(ValueError, match="unknown policy name"):
        p.all_policies(exclude=["miget-nope"])


def test_initial_config_always_carries_an_enforcement_level() -> None:
    assert p.initial_config() == {}
    config = p.initial_config(
        production_stack_pattern=r"^live$",
        allowed_registries=["github"],
        enforcement_levels={p.CREDENTIAL_NAMING: EnforcementLevel.DISABLED},
    )
    assert config == {
        p.NO_SKIP_VALIDATION_IN_PRODUCTION: {
            "enforcementLevel": EnforcementLevel.MANDATORY,
            "productionStackPattern": r"^live$",
        },
        p.CREDENTIAL_NAMING: {"enforcementLevel": EnforcementLevel.DISABLED},
        p.ALLOWED_REGISTRIES: {
            "enforcementLevel": EnforcementLevel.ADVISORY,
            "allowedRegistries": ["github"],
        },
        # Production settings apply to every production-aware policy.
        p.APP_IMAGE_TAG_PINNED: {
            "enforcementLevel": EnforcementLevel.ADVISORY,
            "productionStackPattern": r"^live$",
        },
    }


def test_importing_pulumi_miget_does_not_import_pulumi_policy() -> None:
    code = "import sys, pulumi_miget; print('pulumi_policy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_importing_the_policies_loads_no_resource_or_provider_module() -> None:
    """The policies take the type tokens from ``pulumi_miget.tokens``: a policy pack never loads
    the resource classes, their providers or the HTTP client."""
    code = (
        "import json, sys, pulumi_miget.policies\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('pulumi_miget'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout)
    assert "pulumi_miget.policies" in loaded and "pulumi_miget.tokens" in loaded
    forbidden = [
        m
        for m in loaded
        if m in ("pulumi_miget.credential", "pulumi_miget.app", "pulumi_miget.provider")
        or m.startswith(("pulumi_miget.resources", "pulumi_miget.api", "pulumi_miget.client"))
    ]
    assert forbidden == []
