"""``initial_config`` validates what a pack author passes (each bad value raises one error naming
the keyword and its config key), and production detection ignores case in the stack name and the
stack tag, as it already did for ``miget:environment``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest
from pulumi_policy import EnforcementLevel

from pulumi_miget import policies as p
from tests.policy.common import CREDENTIAL_PROPS, resource_args, run

SKIPPING: dict[str, Any] = {
    **CREDENTIAL_PROPS,
    "token": "ghp_policy_config_test_token",
    "skip_validation": True,
}
rargs = partial(resource_args, type_=p.CREDENTIAL_TYPE, name="ghcr", secret_outputs=("token",))


# ---- initial_config: every setting is checked as the policies read it -------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param(
            {"allowed_registries": ["github", "githubb"]},
            "initial_config: allowed_registries ('allowedRegistries'): 'allowedRegistries' has "
            "unknown registry kind(s) 'githubb'; the kinds are docker_hub, github, gitlab, "
            "aws_ecr, azure, digitalocean, quay, generic",
            id="unknown-registry",
        ),
        pytest.param(
            {"allowed_registries": ["github", "github"]},
            "initial_config: allowed_registries ('allowedRegistries'): 'allowedRegistries' lists "
            "'github' more than once",
            id="duplicate-registry",
        ),
        pytest.param(
            {"allowed_registries": "github"},
            "initial_config: allowed_registries ('allowedRegistries') must be a list of strings, "
            "not a single value",
            id="registry-string",
        ),
        pytest.param(
            {"production_stack_pattern": "("},
            "initial_config: production_stack_pattern ('productionStackPattern'): "
            "'productionStackPattern' is not a valid regular expression (missing ), unterminated "
            "subpattern at position 0)",
            id="bad-stack-pattern",
        ),
        pytest.param(
            {"name_pattern": "[a-z"},
            "initial_config: name_pattern ('pattern'): 'pattern' is not a valid regular "
            "expression (unterminated character set at position 0)",
            id="bad-name-pattern",
        ),
        pytest.param(
            {"production_tag_key": ""},
            "initial_config: production_tag_key ('productionTagKey'): 'productionTagKey' must be "
            "a non-empty string, got an empty one",
            id="empty-tag-key",
        ),
        pytest.param(
            {"production_tag_values": ["production", 1]},
            "initial_config: production_tag_values ('productionTagValues'): "
            "'productionTagValues' must be a list of strings, got a list with a number in it",
            id="tag-value-number",
        ),
        pytest.param(
            {"credential_property": 3},
            "initial_config: credential_property ('credentialProperty'): 'credentialProperty' "
            "must be a non-empty string, got a number",
            id="property-number",
        ),
        pytest.param(
            {"disallowed_tags": "latest"},
            "initial_config: disallowed_tags ('disallowedTags') must be a list of strings, not a "
            "single value",
            id="tags-string",
        ),
        pytest.param(
            {"credential_types": 5},
            "initial_config: credential_types ('credentialTypes') must be a list of strings, not "
            "a single value",
            id="types-number",
        ),
    ],
)
def test_initial_config_refuses_a_bad_setting_naming_the_key(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(p.PolicyConfigError) as err:
        p.initial_config(**kwargs)
    assert str(err.value) == message
    assert isinstance(err.value, ValueError)


def test_initial_config_keeps_valid_settings_and_reads_iterators_once() -> None:
    def kinds() -> Iterator[str]:
        yield from ("github", "quay")

    config = p.initial_config(
        allowed_registries=kinds(),
        production_tag_values=iter(["live"]),
        production_stack_pattern=r"^live(-.*)?$",
        name_pattern=r"^[a-z-]+$",
    )
    assert config[p.ALLOWED_REGISTRIES] == {
        "enforcementLevel": EnforcementLevel.ADVISORY,
        "allowedRegistries": ["github", "quay"],
    }
    assert config[p.NO_SKIP_VALIDATION_IN_PRODUCTION] == {
        "enforcementLevel": EnforcementLevel.MANDATORY,
        "productionStackPattern": r"^live(-.*)?$",
        "productionTagValues": ["live"],
    }
    assert config[p.CREDENTIAL_NAMING]["pattern"] == r"^[a-z-]+$"
    assert p.initial_config(allowed_registries=[]) == {
        p.ALLOWED_REGISTRIES: {
            "enforcementLevel": EnforcementLevel.ADVISORY,
            "allowedRegistries": [],
        }
    }


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        (
            {"productionTagValues": "production"},
            "'productionTagValues' must be a list of strings, got a string",
        ),
        ({"productionTagKey": 7}, "'productionTagKey' must be a non-empty string, got a number"),
        (
            {"productionStackPattern": ""},
            "'productionStackPattern' must be a non-empty string, got an empty one",
        ),
    ],
)
def test_a_bad_pack_config_type_names_the_type_given(
    stack: Callable[[str], None], config: dict[str, Any], problem: str
) -> None:
    stack("eu-1")  # not production by name, so the tag settings are read
    found = run(p.validate_no_skip_validation_in_production, rargs(SKIPPING, config=config))
    assert found == [
        f"The configuration of policy '{p.NO_SKIP_VALIDATION_IN_PRODUCTION}' is invalid: "
        f"{problem}. Fix it in --policy-pack-config (or the pack's initial_config)."
    ]


def test_an_unknown_registry_from_the_pack_config_is_a_violation_naming_the_key() -> None:
    config = {"allowedRegistries": ["githubb"]}
    found = run(p.validate_allowed_registries, rargs(SKIPPING, config=config))
    assert found == [
        f"The configuration of policy '{p.ALLOWED_REGISTRIES}' is invalid: 'allowedRegistries' "
        "has unknown registry kind(s) 'githubb'; the kinds are docker_hub, github, gitlab, "
        "aws_ecr, azure, digitalocean, quay, generic. Fix it in --policy-pack-config (or the "
        "pack's initial_config)."
    ]


# ---- production detection ignores case ------------------------------------------------------


@pytest.mark.parametrize(
    "stack_name", ["Production", "PROD", "Prod-EU", "pRoDuCtIoN_2", "PRODUCTION"]
)
def test_a_production_stack_name_in_any_case_is_production(
    stack: Callable[[str], None], stack_name: str
) -> None:
    assert p.production_reason({}, {}, stack=stack_name, read_environment=False) == (
        f"stack name '{stack_name}' matches '^(prod|production)([-_].*)?$'"
    )
    stack(stack_name)
    [message] = run(p.validate_no_skip_validation_in_production, rargs(SKIPPING))
    assert f"stack name '{stack_name}'" in message


@pytest.mark.parametrize("stack_name", ["PreProd", "PRODUCT", "Prodx", "dev"])
def test_other_stack_names_in_any_case_are_not(stack_name: str) -> None:
    assert p.production_reason({}, {}, stack=stack_name, read_environment=False) is None


def test_a_configured_stack_pattern_ignores_case_too() -> None:
    config = {"productionStackPattern": r"^live$"}
    assert p.production_reason(config, {}, stack="LIVE", read_environment=False) == (
        "stack name 'LIVE' matches '^live$'"
    )


@pytest.mark.parametrize("value", ["Production", "PROD", " production ", "prod"])
def test_a_production_stack_tag_in_any_case_is_production(value: str) -> None:
    tags = {"environment": value}
    assert p.production_reason({}, tags, stack="eu-1", read_environment=False) == (
        f"stack tag environment={value}"
    )


def test_a_stack_tag_that_is_not_production_in_any_case_is_not() -> None:
    tags = {"environment": "Staging"}
    assert p.production_reason({}, tags, stack="eu-1", read_environment=False) is None


@pytest.mark.parametrize("environment", ["PRODUCTION", "Production", " production"])
def test_miget_environment_still_ignores_case(environment: str) -> None:
    assert p.production_reason({}, {}, stack="eu-1", environment=environment) == (
        f"config miget:environment={environment}"
    )


def test_the_credential_naming_pattern_keeps_its_case() -> None:
    """Only production detection ignores case: the naming convention is case-sensitive."""
    args = rargs({**SKIPPING, "name": "GHCR-Acme"})
    [message] = run(p.validate_credential_naming, args)
    assert "Credential name 'GHCR-Acme'" in message
