"""The shared rules table: what check(), the emulator and the policies all enforce."""

from __future__ import annotations

import pytest

from pulumi_miget.rules import (
    HOSTNAME_REQUIRED,
    REGISTRIES,
    Registry,
    check_credential,
    hostname_problem,
    is_uuid,
)

VALID = {"name": "ghcr-acme", "registry": "github", "username": "acme-bot", "token": "ghp_x"}


def props(**changes: object) -> dict[str, object]:
    merged = {**VALID, **changes}
    return {k: v for k, v in merged.items() if v is not None}


def test_a_complete_credential_breaks_no_rule() -> None:
    assert check_credential(VALID) == []


def test_the_eight_registry_kinds_match_the_api() -> None:
    assert REGISTRIES == (
        "docker_hub",
        "github",
        "gitlab",
        "aws_ecr",
        "azure",
        "digitalocean",
        "quay",
        "generic",
    )
    assert Registry.AWS_ECR == "aws_ecr" and str(Registry.AZURE) == "azure"


@pytest.mark.parametrize("field", ["name", "registry", "username", "token"])
def test_each_required_field_missing_is_a_400_rule_on_that_property(field: str) -> None:
    [violation] = check_credential(props(**{field: None}))
    assert (violation.property, violation.api_status) == (field, 400)
    assert "required" in violation.reason


@pytest.mark.parametrize("kind", sorted(HOSTNAME_REQUIRED))
def test_hostname_is_required_for_generic_ecr_and_azure_as_a_422_rule(kind: str) -> None:
    [violation] = check_credential(props(registry=kind))
    assert (violation.property, violation.api_status) == ("registry_hostname", 422)


def test_hostname_is_optional_for_the_other_kinds() -> None:
    for kind in set(REGISTRIES) - HOSTNAME_REQUIRED:
        assert check_credential(props(registry=kind)) == []


def test_an_unknown_registry_kind_names_the_allowed_values() -> None:
    [violation] = check_credential(props(registry="dockerhub"))
    assert violation.property == "registry" and "docker_hub" in violation.reason


def test_unknown_values_are_skipped_during_preview() -> None:
    unknown = object()
    found = check_credential(
        props(name=unknown, registry=unknown, registry_hostname=unknown),
        is_unknown=lambda v: v is unknown,
    )
    assert found == []


def test_a_partial_update_body_only_checks_the_fields_it_has() -> None:
    assert check_credential({"token": "new"}, partial=True) == []
    [violation] = check_credential({"name": ""}, partial=True)
    assert violation.property == "name"


def test_api_rules_only_drops_the_limits_the_api_does_not_document() -> None:
    too_long = props(name="x" * 300)
    assert [v.property for v in check_credential(too_long)] == ["name"]
    assert check_credential(too_long, api_rules_only=True) == []


def test_tokens_may_hold_newlines_but_names_may_not() -> None:
    assert check_credential(props(token='{\n  "type": "service_account"\n}')) == []
    [violation] = check_credential(props(name="a\nb"))
    assert violation.property == "name" and "control" in violation.reason


@pytest.mark.parametrize(
    "hostname",
    [
        "ghcr.io",
        "registry.example.com:5000",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
        "acmeregistry.azurecr.io",
        "https://harbor.example.com",
        "10.0.0.5:8443",
        "[::1]:5000",
    ],
)
def test_well_formed_hostnames_are_accepted(hostname: str) -> None:
    assert hostname_problem(hostname) is None


@pytest.mark.parametrize(
    ("hostname", "words"),
    [
        ("http://registry.example.com", "http://"),
        ("registry.example.com/path", "no path"),
        ("user:pw@registry.example.com", "no path"),
        ("registry example.com", "no path"),
        ("registry.example.com:99999", "port"),
        ("-bad.example.com", "no path"),
        ("a" * 254, "253"),
    ],
)
def test_malformed_hostnames_say_what_is_wrong(hostname: str, words: str) -> None:
    problem = hostname_problem(hostname)
    assert problem is not None and words in problem


def test_workspace_ids_must_be_uuids() -> None:
    assert is_uuid("00000000-0000-4000-8000-000000000001")
    assert not is_uuid("workspace-1")
    [violation] = check_credential(props(workspace_id="workspace-1"))
    assert violation.property == "workspace_id"


@pytest.mark.parametrize("field", ["skip_validation", "adopt"])
def test_flags_must_be_booleans(field: str) -> None:
    [violation] = check_credential(props(**{field: "yes"}))
    assert violation.property == field
