"""The App rules table (``rules.app.check_app``) and the provider's ``check`` that applies it:
trailing newlines, the label filled in from the name, number bounds, invisible format
characters and the type messages. Every case asserts the exact failures, property and reason.

Through the provider, inputs carry a ``workspace_id`` so the workspace resolution (which needs
``miget:workspaceId`` when a resource sets none) is not what is tested here.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from pulumi_miget.app import AppProvider
from pulumi_miget.rules.app import (
    MAX_CPU,
    MAX_RAM_MIB,
    MIN_CPU,
    MIN_RAM_MIB,
    check_app,
    env_key_problem,
    name_problems,
    size_problem,
    tag_problem,
)
from pulumi_miget.rules.common import Violation
from tests.samples import APP, DEFAULT_WORKSPACE_ID

NAME_CHARSET = "'name' may contain only lowercase letters, digits and hyphens (e.g. 'acme-api')"


def news(**changes: Any) -> dict[str, Any]:
    """A program's inputs for a valid app (no label: check fills it in from the name)."""
    base: dict[str, Any] = {**APP, "workspace_id": DEFAULT_WORKSPACE_ID}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def checked(**changes: Any) -> dict[str, Any]:
    """The inputs as check returns them (defaults filled in), for rule-level calls."""
    return {**news(**changes), "builder": "auto", "label": changes.get("label", "acme-api")}


def failures(**changes: Any) -> list[tuple[str, str]]:
    """(property, reason) of each failure the real provider's check reports."""
    result = AppProvider().check({}, news(**changes))
    return [(f.property, f.reason) for f in result.failures]


def test_the_valid_app_passes_check() -> None:
    assert failures() == []
    assert check_app(checked()) == []


# ---- item 11: "$" let a trailing newline through ---------------------------------------------


def test_a_name_with_a_trailing_newline_fails_on_name_only() -> None:
    assert failures(name="acme-api\n") == [("name", NAME_CHARSET)]
    assert name_problems("acme-api\n")[0][1:] == (422, "Name is invalid")


def test_a_tag_with_a_trailing_newline_fails_on_tag() -> None:
    reason = (
        "'tag' must be a Docker tag: up to 128 letters, digits, '_', '.' or '-', not starting "
        "with '.' or '-' (e.g. '1.2.3')"
    )
    assert failures(tag="1.2.3\n") == [("tag", reason)]
    assert tag_problem("latest\n") is not None and tag_problem("latest") is None


def test_an_env_key_with_a_trailing_newline_fails_on_env() -> None:
    reason = "'env' name 'PORT\\n' is not an environment variable name (letters, digits, '_')"
    assert failures(env={"PORT\n": "5000"}) == [("env", reason)]
    assert env_key_problem("PORT\n") is not None and env_key_problem("PORT") is None


def test_an_image_url_with_a_trailing_newline_fails_on_image_url() -> None:
    assert failures(image_url="ghcr.io/acme/api\n") == [
        ("image_url", "'image_url' must not contain whitespace")
    ]


# ---- item 11: the label check fills in from the name ---------------------------------------------


@pytest.mark.parametrize(
    ("name", "reasons"),
    [
        pytest.param("acme-api\n", [NAME_CHARSET], id="trailing-newline"),
        pytest.param("acme ", [NAME_CHARSET], id="trailing-space"),
        pytest.param("", [NAME_CHARSET], id="empty"),
        pytest.param("acme\x00api", [NAME_CHARSET], id="nul"),
        pytest.param("acme\u202eipa", [NAME_CHARSET], id="rtl-override"),
        pytest.param(
            "a" * 41,
            [
                "'name' must be at most 33 characters (got 41): Miget appends a random suffix and "
                "the result must fit 40"
            ],
            id="too-long-for-the-label-too",
        ),
        pytest.param(5.0, ["'name' must be a string, got a number"], id="number"),
    ],
)
def test_a_broken_name_is_reported_on_name_not_on_the_defaulted_label(
    name: object, reasons: list[str]
) -> None:
    result = AppProvider().check({}, news(name=name))
    assert result.inputs["label"] == name  # the default is still filled in
    assert [(f.property, f.reason) for f in result.failures] == [("name", r) for r in reasons]


def test_a_label_the_program_sets_is_still_checked_next_to_a_broken_name() -> None:
    assert failures(name="acme ", label="L" * 41) == [
        ("name", NAME_CHARSET),
        ("label", "'label' must be at most 40 characters (got 41)"),
    ]


def test_the_emulator_still_checks_both_columns_as_the_api_does() -> None:
    found = check_app(checked(name="a" * 41, label="a" * 41), api_rules_only=True)
    assert [(v.property, v.api_message) for v in found] == [
        ("name", "Name is too long (maximum is 40 characters)"),
        ("label", "Label is too long (maximum is 40 characters)"),
    ]


# ---- item 12: numbers are finite, in range, and not booleans ------------------------------------


def ram_reason(shown: str) -> str:
    return f"'ram_size' must be a finite, positive number of MiB from 1 to 1048576 (got {shown})"


def cpu_reason(shown: str) -> str:
    return f"'cpu_size' must be a finite, positive number of cores from 0.001 to 256 (got {shown})"


def test_the_bounds_are_the_documented_ones() -> None:
    assert (MIN_RAM_MIB, MAX_RAM_MIB, MIN_CPU, MAX_CPU) == (1, 1_048_576, 0.001, 256)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (math.inf, "inf"),
        (-math.inf, "-inf"),
        (math.nan, "nan"),
        (1e30, "1e+30"),
        (536_870_912.0, "536870912"),  # bytes mistaken for MiB
        (1_048_577.0, "1048577"),
        (0.5, "0.5"),  # GiB mistaken for MiB
        (0.0, "0"),
        (-1.0, "-1"),
        (10**400, "a number too large to show"),
    ],
)
def test_ram_size_out_of_range_fails_check(value: float, shown: str) -> None:
    assert failures(ram_size=value) == [("ram_size", ram_reason(shown))]


@pytest.mark.parametrize(
    ("value", "shown"),
    [(math.inf, "inf"), (math.nan, "nan"), (1e30, "1e+30"), (257.0, "257"), (0.0009, "0.0009")],
)
def test_cpu_size_out_of_range_fails_check(value: float, shown: str) -> None:
    assert failures(cpu_size=value) == [("cpu_size", cpu_reason(shown))]


@pytest.mark.parametrize(
    ("ram", "cpu"), [(1.0, 0.001), (1_048_576.0, 256.0), (128, 0.25), (256.0, 1)]
)
def test_sizes_at_the_bounds_are_accepted(ram: float, cpu: float) -> None:
    assert failures(ram_size=ram, cpu_size=cpu) == []


@pytest.mark.parametrize("flag", [True, False])
def test_booleans_are_not_numbers(flag: bool) -> None:
    assert failures(ram_size=flag, cpu_size=flag) == [
        ("ram_size", "'ram_size' must be a number of MiB, got a boolean"),
        ("cpu_size", "'cpu_size' must be a number of cores, got a boolean"),
    ]
    [ram, cpu] = check_app(checked(ram_size=flag, cpu_size=flag), api_rules_only=True)
    assert (ram.api_status, cpu.api_status) == (400, 400)  # the API's "is invalid"


def test_range_limits_are_ours_so_the_emulator_skips_them() -> None:
    assert check_app(checked(ram_size=math.inf, cpu_size=0.0), api_rules_only=True) == []
    assert size_problem("ram_size", 256.0) is None
    assert size_problem("cpu_size", "1") == "must be a number of cores, got a string"


# ---- item 14: invisible format characters and type messages -------------------------------------


@pytest.mark.parametrize("char", ["\u202e", "\u200b", "\ufeff", "\u2060"])
def test_a_label_with_an_invisible_format_character_fails_on_label(char: str) -> None:
    assert failures(label=f"Acme{char} API") == [
        (
            "label",
            f"'label' must not contain invisible format characters (U+{ord(char):04X}) such as "
            "zero-width spaces or right-to-left overrides: retype the label instead of pasting it",
        )
    ]


def test_a_label_with_a_c1_control_or_line_separator_fails_on_label() -> None:
    reason = "'label' must not contain control characters"
    assert failures(label="Acme\x9b31m API") == [("label", reason)]
    assert failures(label="Acme\u2028API") == [("label", reason)]


@pytest.mark.parametrize("key", ["command", "args"])
def test_command_and_args_refuse_format_characters_and_nul(key: str) -> None:
    assert failures(**{key: ["serve", "--port\u200b=80"]}) == [
        (
            key,
            f"'{key}' items must not contain invisible format characters (U+200B) such as "
            "zero-width spaces or right-to-left overrides",
        )
    ]
    assert failures(**{key: ["serve\x00"]}) == [
        (key, f"'{key}' items must not contain NUL characters")
    ]


def test_unicode_labels_and_args_are_still_accepted() -> None:
    assert failures(label="Zugang für GHCR ✓", args=["--greeting=grüß dich"]) == []


@pytest.mark.parametrize(
    ("changes", "prop", "reason"),
    [
        ({"resource_id": 7.0}, "resource_id", "'resource_id' must be a string, got a number"),
        ({"tag": True}, "tag", "'tag' must be a string, got a boolean"),
        ({"label": ["x"]}, "label", "'label' must be a string, got a list"),
        ({"cpu_size": "1"}, "cpu_size", "'cpu_size' must be a number of cores, got a string"),
        ({"command": "kc.sh"}, "command", "'command' must be a list of strings, got a string"),
        (
            {"args": ["start", 1.0]},
            "args",
            "'args' must be a list of strings, got a list with a number in it",
        ),
        (
            {"env": ["A=b"]},
            "env",
            "'env' must be a map of names to strings, got a list",
        ),
        (
            {"env": {"PORT": 5000.0}},
            "env",
            "'env' value of 'PORT' must be a string, got a number",
        ),
    ],
)
def test_type_messages_name_the_type_expected_and_the_type_given(
    changes: dict[str, Any], prop: str, reason: str
) -> None:
    assert failures(**changes) == [(prop, reason)]


def test_check_app_returns_app_violations_with_their_status() -> None:
    assert check_app(checked(ram_size=math.nan)) == [
        Violation("ram_size", ram_reason("nan"), None, None)
    ]
