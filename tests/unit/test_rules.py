"""The shared rules table: what check(), the emulator and the policies all enforce."""

from __future__ import annotations

import pytest

from pulumi_miget.rules import (
    HOSTNAME_REQUIRED,
    REGISTRIES,
    Registry,
    Violation,
    check_credential,
    describe_type,
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


# ---- invisible format characters, line separators and type messages ---------------------------

# U+202E right-to-left override, U+200B zero-width space, U+FEFF byte-order mark,
# U+2060 word joiner, U+00AD soft hyphen: all Unicode category Cf, all invisible.
FORMAT_CHARACTERS = ["\u202e", "\u200b", "\ufeff", "\u2060", "\u00ad"]


@pytest.mark.parametrize("char", FORMAT_CHARACTERS)
@pytest.mark.parametrize("field", ["name", "username"])
def test_names_and_usernames_refuse_invisible_format_characters(field: str, char: str) -> None:
    assert check_credential(props(**{field: f"acme{char}bot"})) == [
        Violation(
            field,
            f"'{field}' must not contain invisible format characters (U+{ord(char):04X}) such "
            "as zero-width spaces or right-to-left overrides: retype the value instead of "
            "pasting it",
            None,
        )
    ]


def test_a_token_with_a_format_character_is_refused_without_describing_it() -> None:
    assert check_credential(props(token="\ufeffghp_x")) == [
        Violation(
            "token",
            "'token' must not contain invisible format characters such as zero-width spaces or "
            "right-to-left overrides: retype the value instead of pasting it",
            None,
        )
    ]


@pytest.mark.parametrize("separator", ["\u2028", "\u2029"])
def test_unicode_line_separators_count_as_control_characters(separator: str) -> None:
    [violation] = check_credential(props(name=f"ghcr{separator}acme"))
    assert violation == Violation("name", "'name' must not contain control characters", None)
    [violation] = check_credential(props(token=f"ghp{separator}x"))
    assert violation == Violation("token", "'token' must not contain control characters", None)


def test_ordinary_unicode_names_are_still_accepted() -> None:
    assert check_credential(props(name="Zugang für GHCR ✓", username="zoë")) == []


@pytest.mark.parametrize(
    ("value", "got"),
    [
        (1.0, "a number"),  # how the engine sends a number
        (0, "a number"),
        ("true", "a string"),
        ([True], "a list"),
        ({"value": True}, "an object"),
    ],
)
@pytest.mark.parametrize("field", ["skip_validation", "adopt"])
def test_flags_name_the_type_expected_and_the_type_given(
    field: str, value: object, got: str
) -> None:
    assert check_credential(props(**{field: value})) == [
        Violation(field, f"'{field}' must be a boolean (true/false), got {got}", 400)
    ]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("name", 42.0, "'name' must be a string, got a number"),
        ("name", True, "'name' must be a string, got a boolean"),
        ("username", ["bot"], "'username' must be a string, got a list"),
        ("token", {"value": "x"}, "'token' must be a string, got an object"),
        ("registry", 1.0, "'registry' must be a string, got a number"),
    ],
)
def test_string_fields_name_the_type_given(field: str, value: object, reason: str) -> None:
    assert check_credential(props(**{field: value})) == [Violation(field, reason, 400)]


def test_hostname_and_workspace_name_the_type_given() -> None:
    assert check_credential(props(registry_hostname=443.0)) == [
        Violation("registry_hostname", "'registry_hostname' must be a string, got a number", 400)
    ]
    assert check_credential(props(workspace_id=123.0)) == [
        Violation(
            "workspace_id", "'workspace_id' must be a workspace UUID string, got a number", None
        )
    ]


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (None, "null"),
        (True, "a boolean"),
        (1, "a number"),
        (1.5, "a number"),
        ("x", "a string"),
        ((), "a list"),
        ([], "a list"),
        ({}, "an object"),
        (b"x", "a value of type bytes"),
    ],
)
def test_describe_type_uses_the_program_languages_words(value: object, words: str) -> None:
    assert describe_type(value) == words
