"""Unit tests of ``pulumi_miget.policies``: each validate function called directly (the
library's surface, the catalog and what is derived from it, is in test_catalog.py).

Props are what the real resource classes register (``APP_PROPS``, ``CREDENTIAL_PROPS``; a test in
test_app_policies.py checks that), wrapped in the SDK's own ``unknown_checking_proxy`` as the
policy runtime wraps them, so reading an unknown value raises exactly as during ``pulumi preview``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import pytest
from pulumi_policy import (
    PolicyResource,
    StackValidationArgs,
)
from pulumi_policy.proxy import (
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_STRING_VALUE,
    UnknownValueError,
    unknown_checking_proxy,
)

from pulumi_miget import policies as p
from pulumi_miget.rules import REGISTRIES, check_credential
from tests.policy.common import APP_PROPS, CREDENTIAL_PROPS, opts, resource_args, run

CRED = p.CREDENTIAL_TYPE
TOKEN = "ghp_do-not-print-me-0123456789"
BASE: dict[str, Any] = {**CREDENTIAL_PROPS, "token": TOKEN}


rargs = partial(resource_args, type_=CRED, name="ghcr", secret_outputs=("token",))
"""Validation args of a credential ``ghcr`` whose class marks the token secret."""


def run_stack(
    resources: list[PolicyResource], config: Mapping[str, Any] | None = None
) -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    p.validate_app_credential_by_reference(
        StackValidationArgs(resources, config),
        lambda message, urn=None: found.append((message, urn)),
    )
    return found


# ---------------------------------------------------------------------------------------------
# Reading props safely


def test_the_sdk_proxy_raises_on_membership_tests_of_unknown_values() -> None:
    props = unknown_checking_proxy({"registry_hostname": UNKNOWN_STRING_VALUE})
    with pytest.raises(UnknownValueError):
        "registry_hostname" in props  # noqa: B015 - the point is that this raises
    with pytest.raises(UnknownValueError):
        props.get("registry_hostname")


def test_read_prop_never_raises() -> None:
    props = unknown_checking_proxy({"a": "x", "b": UNKNOWN_STRING_VALUE, "c": None})
    assert p.read_prop(props, "a") == "x"
    assert p.read_prop(props, "b") is p.UNKNOWN
    assert p.read_prop(props, "c") is None
    assert p.read_prop(props, "missing") is None
    assert p.read_prop({"b": UNKNOWN_BOOLEAN_VALUE}, "b") is p.UNKNOWN  # a plain dict too
    assert not p.UNKNOWN and repr(p.UNKNOWN) == "<unknown>"


# ---------------------------------------------------------------------------------------------
# miget-credential-token-secret


def test_token_secret_passes_when_the_class_marks_token_secret() -> None:
    assert run(p.validate_token_secret, rargs(BASE)) == []


def test_token_secret_flags_a_credential_without_the_secret_marker() -> None:
    found = run(p.validate_token_secret, rargs(BASE, secret_outputs=[]))
    assert len(found) == 1
    assert "additional_secret_outputs" in found[0] and "require_secret" in found[0]
    assert TOKEN not in found[0]


def test_token_secret_ignores_other_resource_types() -> None:
    args = rargs(BASE, type_="pulumi-python:dynamic:Resource", secret_outputs=[])
    assert run(p.validate_token_secret, args) == []


# ---------------------------------------------------------------------------------------------
# miget-credential-no-skip-validation-in-production

SKIPPING = {**BASE, "skip_validation": True}


@pytest.mark.parametrize(
    ("stack_name", "production"),
    [
        ("prod", True),
        ("production", True),
        ("prod-eu", True),
        ("production_2", True),
        ("dev", False),
        ("staging", False),
        ("preprod", False),
        ("product", False),
        ("prodx", False),
        ("Prod", True),  # the pattern ignores case, as miget:environment does
        ("PRODUCTION-eu", True),
        ("PreProd", False),
    ],
)
def test_production_by_stack_name(
    stack: Callable[[str], None], stack_name: str, production: bool
) -> None:
    stack(stack_name)
    found = run(p.validate_no_skip_validation_in_production, rargs(SKIPPING))
    assert bool(found) is production
    if production:
        assert f"stack name '{stack_name}'" in found[0]
        assert "Remove skip_validation" in found[0]


def test_skip_validation_off_or_absent_is_fine_in_production(stack: Callable[[str], None]) -> None:
    stack("prod")
    for props in (BASE, {**BASE, "skip_validation": False}):
        assert run(p.validate_no_skip_validation_in_production, rargs(props)) == []


def test_production_by_stack_tag(stack: Callable[[str], None]) -> None:
    stack("eu-1")
    validate = p.validate_no_skip_validation_in_production
    assert run(validate, rargs(SKIPPING, tags={"environment": "production"}))
    assert run(validate, rargs(SKIPPING, tags={"environment": "prod"}))
    assert not run(validate, rargs(SKIPPING, tags={"environment": "staging"}))
    assert not run(validate, rargs(SKIPPING, tags={"team": "production"}))


@pytest.mark.parametrize(
    ("environment", "production"),
    [("production", True), ("Production ", True), ("staging", False), ("prod", False)],
)
def test_production_by_miget_environment_config(
    stack: Callable[[str], None],
    monkeypatch: pytest.MonkeyPatch,
    environment: str,
    production: bool,
) -> None:
    # The policy runtime fills stack config from PULUMI_CONFIG, as the language host sets it.
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"miget:environment": environment}))
    stack("eu-1")
    found = run(p.validate_no_skip_validation_in_production, rargs(SKIPPING))
    assert bool(found) is production
    if production:
        assert "config miget:environment" in found[0]


def test_production_detection_is_configurable(stack: Callable[[str], None]) -> None:
    validate = p.validate_no_skip_validation_in_production
    config = {
        "productionStackPattern": r"^live$",
        "productionTagKey": "tier",
        "productionTagValues": ["gold"],
    }
    stack("live")
    assert run(validate, rargs(SKIPPING, config=config))
    stack("prod")  # no longer matches the configured pattern
    assert not run(validate, rargs(SKIPPING, config=config))
    assert not run(validate, rargs(SKIPPING, config=config, tags={"environment": "production"}))
    assert run(validate, rargs(SKIPPING, config=config, tags={"tier": "gold"}))


def test_unknown_skip_validation_is_skipped_in_preview(stack: Callable[[str], None]) -> None:
    stack("prod")
    args = rargs({**BASE, "skip_validation": UNKNOWN_BOOLEAN_VALUE})
    assert run(p.validate_no_skip_validation_in_production, args) == []


def test_a_broken_config_becomes_a_violation_that_names_the_key(
    stack: Callable[[str], None],
) -> None:
    stack("prod")
    validate = p.validate_no_skip_validation_in_production
    found = run(validate, rargs(SKIPPING, config={"productionStackPattern": "(unclosed"}))
    assert len(found) == 1 and "'productionStackPattern'" in found[0]
    assert "--policy-pack-config" in found[0]
    stack("eu-1")  # not production by name, so the tag settings are read
    found = run(validate, rargs(SKIPPING, config={"productionTagValues": "production"}))
    assert "'productionTagValues' must be a list of strings" in found[0]


def test_production_reason_reports_the_first_match() -> None:
    assert p.production_reason({}, {}, stack="dev", environment="staging") is None
    assert p.production_reason({}, {}, stack="prod") == (
        "stack name 'prod' matches '^(prod|production)([-_].*)?$'"
    )
    assert p.production_reason({}, {"environment": "prod"}, stack="x", read_environment=False) == (
        "stack tag environment=prod"
    )


# ---------------------------------------------------------------------------------------------
# miget-credential-registry-hostname (rules from pulumi_miget.rules)


@pytest.mark.parametrize(
    ("registry", "hostname", "problem"),
    [
        ("generic", None, "is required when registry is 'generic'"),
        ("aws_ecr", "", "is required when registry is 'aws_ecr'"),
        ("azure", None, "is required when registry is 'azure'"),
        ("azure", "acme.azurecr.io", None),
        ("aws_ecr", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", None),
        ("generic", "harbor.example.com:8443", None),
        ("generic", "https://harbor.example.com", None),  # the rules allow an https:// prefix
        ("generic", "harbor.example.com/v2", "must be a host name"),
        ("generic", "http://harbor.example.com", "must not use http://"),
        ("generic", "harbor.example.com:70000", "port outside 1-65535"),
        ("github", None, None),
        ("github", "ghcr.io", None),
        ("github", "user:pass@ghcr.io", "must be a host name"),  # well formed wherever present
    ],
)
def test_registry_hostname(registry: str, hostname: str | None, problem: str | None) -> None:
    props = {**BASE, "registry": registry, "registry_hostname": hostname}
    found = run(p.validate_registry_hostname, rargs(props))
    if problem is None:
        assert found == []
    else:
        assert len(found) == 1 and problem in found[0]
        assert "Set registry_hostname" in found[0]


def test_registry_hostname_reuses_the_shared_rules_table() -> None:
    props = {**BASE, "registry": "generic", "registry_hostname": "bad host"}
    (expected,) = [v.reason for v in check_credential(props) if v.property == "registry_hostname"]
    (found,) = run(p.validate_registry_hostname, rargs(props))
    assert expected in found


def test_registry_hostname_ignores_other_broken_fields() -> None:
    # Missing username, bad workspace: the provider's check reports those, not this policy.
    props = {"name": "x", "registry": "github", "token": TOKEN, "workspace_id": "nope"}
    assert run(p.validate_registry_hostname, rargs(props)) == []


@pytest.mark.parametrize(
    ("registry", "hostname", "violations"),
    [
        ("generic", UNKNOWN_STRING_VALUE, 0),  # wired from an Output: judged during `up`
        (UNKNOWN_STRING_VALUE, None, 0),  # the kind decides whether a hostname is needed
        (UNKNOWN_STRING_VALUE, "bad host", 1),  # a known hostname is still judged on its form
    ],
)
def test_registry_hostname_tolerates_unknowns(
    registry: str, hostname: str | None, violations: int
) -> None:
    props = {**BASE, "registry": registry, "registry_hostname": hostname}
    assert len(run(p.validate_registry_hostname, rargs(props))) == violations


# ---------------------------------------------------------------------------------------------
# miget-credential-naming


@pytest.mark.parametrize("name", ["ghcr-acme", "a", "0", "x" * 63, "ecr-123-eu"])
def test_names_that_follow_the_default_convention(name: str) -> None:
    assert run(p.validate_credential_naming, rargs({**BASE, "name": name})) == []


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        ("Harbor_Pull", "harbor-pull"),
        ("-lead", "lead"),
        ("trail-", "trail"),
        ("x" * 64, "x" * 63),
        ("has space", "has-space"),
        ("ÜBER", "ber"),
    ],
)
def test_names_that_break_the_default_convention(name: str, suggestion: str) -> None:
    found = run(p.validate_credential_naming, rargs({**BASE, "name": name}))
    assert len(found) == 1
    assert repr(name) in found[0] and repr(suggestion) in found[0]


def test_naming_pattern_is_configurable() -> None:
    config = {"pattern": r"^acme-[a-z]+$"}
    ok = rargs({**BASE, "name": "acme-ghcr"}, config=config)
    assert run(p.validate_credential_naming, ok) == []
    found = run(p.validate_credential_naming, rargs(BASE, config=config))  # "ghcr-acme"
    assert len(found) == 1 and "'^acme-[a-z]+$'" in found[0]


def test_naming_skips_unknown_or_absent_names() -> None:
    assert run(p.validate_credential_naming, rargs({**BASE, "name": UNKNOWN_STRING_VALUE})) == []
    assert run(p.validate_credential_naming, rargs({"registry": "github"})) == []


# ---------------------------------------------------------------------------------------------
# miget-credential-allowed-registries


@pytest.mark.parametrize("registry", REGISTRIES)
def test_every_registry_kind_is_allowed_by_default(registry: str) -> None:
    assert run(p.validate_allowed_registries, rargs({**BASE, "registry": registry})) == []


def test_allowed_registries_is_configurable() -> None:
    config = {"allowedRegistries": ["github", "aws_ecr"]}
    found = run(p.validate_allowed_registries, rargs({**BASE, "registry": "quay"}, config=config))
    assert len(found) == 1
    assert "'quay'" in found[0] and "github, aws_ecr" in found[0]
    assert "allowedRegistries" in found[0]
    assert run(p.validate_allowed_registries, rargs(BASE, config=config)) == []


def test_allowed_registries_skips_an_unknown_kind() -> None:
    config = {"allowedRegistries": ["github"]}
    args = rargs({**BASE, "registry": UNKNOWN_STRING_VALUE}, config=config)
    assert run(p.validate_allowed_registries, args) == []


# ---------------------------------------------------------------------------------------------
# miget-app-credential-by-reference (stack policy)


def resource(
    type_: str,
    name: str,
    props: Mapping[str, Any],
    deps: Mapping[str, list[PolicyResource]] | None = None,
) -> PolicyResource:
    all_deps = [d for ds in (deps or {}).values() for d in ds]
    return PolicyResource(
        type_,
        unknown_checking_proxy(dict(props)),
        f"urn:pulumi:dev::miget::{type_}::{name}",
        name,
        opts(()),
        None,
        None,
        all_deps,
        dict(deps or {}),
    )


CREDENTIAL = resource(CRED, "ghcr", {**BASE, "uuid": "4f7a4a0e-3c5c-4a51-a0f1-000000000001"})
LITERAL = "4f7a4a0e-3c5c-4a51-a0f1-000000000001"


def app(name: str, credential_id: Any, deps: list[PolicyResource] | None = None) -> PolicyResource:
    props: dict[str, Any] = {**APP_PROPS, "name": name, "label": name}
    if credential_id is not None:
        props["credential_id"] = credential_id
    return resource(p.APP_TYPE, name, props, {"credential_id": deps} if deps is not None else None)


def test_an_app_wired_from_the_credential_output_passes() -> None:
    assert run_stack([CREDENTIAL, app("web", LITERAL, [CREDENTIAL])]) == []


def test_a_wired_value_is_not_read_so_preview_unknowns_are_fine() -> None:
    assert run_stack([CREDENTIAL, app("web", UNKNOWN_STRING_VALUE, [CREDENTIAL])]) == []


def test_an_app_with_a_literal_uuid_is_flagged_with_its_urn() -> None:
    worker = app("worker", LITERAL)
    found = run_stack([CREDENTIAL, worker])
    assert len(found) == 1
    message, urn = found[0]
    assert urn == worker.urn
    assert "credential_id is a literal value" in message
    assert "credential_id=credential.uuid" in message


def test_an_app_fed_from_another_resource_is_flagged_without_reading_the_value() -> None:
    other = resource("pulumi:pulumi:StackReference", "shared", {})
    found = run_stack([app("web", UNKNOWN_STRING_VALUE, [other])])
    assert len(found) == 1 and "comes from pulumi:pulumi:StackReference" in found[0][0]
    config = {"credentialTypes": [CRED, "pulumi:pulumi:StackReference"]}
    assert run_stack([app("web", UNKNOWN_STRING_VALUE, [other])], config) == []


@pytest.mark.parametrize("value", [None, "", UNKNOWN_STRING_VALUE])
def test_apps_without_a_literal_credential_are_not_flagged(value: Any) -> None:
    # Absent, empty, or unknown without dependencies (nothing to judge yet).
    props = {"name": "web", "credential_id": value} if value is not None else {"name": "web"}
    assert run_stack([resource(p.APP_TYPE, "web", props)]) == []


def test_other_resource_types_are_ignored() -> None:
    assert run_stack([resource(CRED, "c", {"credential_id": LITERAL})]) == []


def test_app_type_and_property_are_configurable() -> None:
    config = {"appType": "pulumi-python:dynamic/acme:Service", "credentialProperty": "pull_secret"}
    service = resource(config["appType"], "svc", {"pull_secret": LITERAL})
    wired = resource(
        config["appType"], "ok", {"pull_secret": LITERAL}, {"pull_secret": [CREDENTIAL]}
    )
    found = run_stack([CREDENTIAL, service, wired, app("web", LITERAL)], config)
    assert [urn for _, urn in found] == [service.urn]
    assert "pull_secret is a literal value" in found[0][0]


# ---------------------------------------------------------------------------------------------
# No message quotes the token


def test_no_message_ever_contains_the_token(stack: Callable[[str], None]) -> None:
    stack("prod")
    props = {
        **BASE,
        "name": "Bad Name",
        "registry": "generic",
        "registry_hostname": "bad host",
        "skip_validation": True,
    }
    config = {"allowedRegistries": ["github"]}
    messages: list[str] = []
    for validate in (
        p.validate_token_secret,
        p.validate_no_skip_validation_in_production,
        p.validate_registry_hostname,
        p.validate_credential_naming,
        p.validate_allowed_registries,
    ):
        messages += run(validate, rargs(props, config=config, secret_outputs=[]))
    assert len(messages) == 5
    assert not any(TOKEN in m for m in messages)
