"""The credential provider's ``check`` on invisible format characters and type messages: the
exact failures, each on its property, and never the token.

Inputs carry a ``workspace_id`` so the workspace resolution (which needs ``miget:workspaceId``
when a resource sets none) is not what is tested here.
"""

from __future__ import annotations

from typing import Any

import pytest

from pulumi_miget.credential import ContainerRegistryCredentialProvider
from tests.samples import DEFAULT_WORKSPACE_ID

TOKEN = "ghp_check_test_token_value"


def news(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "ghcr-acme",
        "registry": "github",
        "username": "acme-bot",
        "token": TOKEN,
        "workspace_id": DEFAULT_WORKSPACE_ID,
    }
    base.update(changes)
    return base


def failures(**changes: Any) -> list[tuple[str, str]]:
    result = ContainerRegistryCredentialProvider().check({}, news(**changes))
    return [(f.property, f.reason) for f in result.failures]


def format_reason(prop: str, char: str) -> str:
    return (
        f"'{prop}' must not contain invisible format characters (U+{ord(char):04X}) such as "
        "zero-width spaces or right-to-left overrides: retype the value instead of pasting it"
    )


def test_the_valid_credential_passes_check() -> None:
    assert failures() == []


@pytest.mark.parametrize(
    "char",
    [
        pytest.param("\u202e", id="rtl-override"),
        pytest.param("\u200b", id="zero-width-space"),
        pytest.param("\u200d", id="zero-width-joiner"),
        pytest.param("\ufeff", id="byte-order-mark"),
        pytest.param("\u2066", id="left-to-right-isolate"),
    ],
)
@pytest.mark.parametrize("prop", ["name", "username"])
def test_format_characters_fail_check_on_their_property(prop: str, char: str) -> None:
    assert failures(**{prop: f"acme{char}bot"}) == [(prop, format_reason(prop, char))]


def test_a_token_with_a_zero_width_space_fails_without_echoing_the_token() -> None:
    [(prop, reason)] = failures(token=TOKEN + "\u200b")
    assert prop == "token"
    assert reason == (
        "'token' must not contain invisible format characters such as zero-width spaces or "
        "right-to-left overrides: retype the value instead of pasting it"
    )
    assert TOKEN not in reason


@pytest.mark.parametrize(
    ("value", "got"),
    [(1.0, "a number"), (0.0, "a number"), ("yes", "a string"), ([True], "a list")],
)
def test_skip_validation_names_the_type_expected_and_given(value: object, got: str) -> None:
    assert failures(skip_validation=value) == [
        ("skip_validation", f"'skip_validation' must be a boolean (true/false), got {got}")
    ]


def test_adopt_names_the_type_expected_and_given() -> None:
    assert failures(adopt=1.0) == [
        ("adopt", "'adopt' must be a boolean (true/false), got a number")
    ]


@pytest.mark.parametrize(
    ("prop", "value", "got"),
    [
        ("name", 42.0, "a number"),
        ("name", True, "a boolean"),
        ("registry", ["github"], "a list"),
        ("username", {"value": "bot"}, "an object"),
        ("token", 12345.0, "a number"),
    ],
)
def test_strings_name_the_type_given(prop: str, value: object, got: str) -> None:
    assert failures(**{prop: value}) == [(prop, f"'{prop}' must be a string, got {got}")]
