"""What every field rule shares: the violation type, the UUID check, one control-character
policy for every text field, and the type words of every "must be X, got Y" message."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "CONTROL",
    "CONTROL_EXCEPT_WHITESPACE",
    "Violation",
    "describe_type",
    "format_character",
    "is_uuid",
    "never_unknown",
    "text_problem",
]

# C0 controls, DEL, the C1 controls (U+0080-U+009F: U+009B is an 8-bit terminal escape) and the
# Unicode line/paragraph separators (U+2028/U+2029: line breaks to a log or a terminal).
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# The same, but newlines and tabs are allowed (tokens that are JSON key files).
CONTROL_EXCEPT_WHITESPACE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_UUID = re.compile(r"^[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\Z")


@dataclass(frozen=True)
class Violation:
    """One broken rule: the property, a message for humans, and how the API answers it.

    ``api_status`` is 400/422 as the Miget API answers, None for this project's own limits (the
    emulator skips those); ``api_message`` is the API's own text for a 422 model rule."""

    property: str
    reason: str
    api_status: int | None
    api_message: str | None = None


def never_unknown(_: object) -> bool:
    """The default ``is_unknown``: outside a Pulumi preview every value is known."""
    return False


def is_uuid(value: object) -> bool:
    """A UUID in its canonical 8-4-4-4-12 form (either case). ``uuid.UUID`` alone would also
    take hyphens anywhere, braces or a ``urn:uuid:`` prefix, which an API header may not."""
    return isinstance(value, str) and _UUID.match(value) is not None


def describe_type(value: object) -> str:
    """What a value is, in the words of the Pulumi program's languages: ``a number`` (int or
    float: numbers cross the engine as floats), ``a boolean``, ``a string``, ``a list``,
    ``an object`` (a map), ``null``. Used by every "must be X, got Y" message."""
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return f"a value of type {type(value).__name__}"


def format_character(value: str) -> str | None:
    """The first invisible format character (Unicode category Cf: zero-width spaces and joiners,
    bidirectional overrides, the byte-order mark, ...) in ``value`` as ``U+XXXX``, or None."""
    for char in value:
        if unicodedata.category(char) == "Cf":
            return f"U+{ord(char):04X}"
    return None


def text_problem(
    value: str, max_len: int, *, allow_newlines: bool = False, secret: bool = False
) -> str | None:
    """Why a free-text value is not acceptable (the one policy for every text field), or None:
    not blank, no surrounding whitespace, at most ``max_len``, no control characters (newlines
    and tabs allowed with ``allow_newlines``), no invisible format characters (not described
    for a ``secret``)."""
    if not value.strip():
        return "must not be empty or only whitespace"
    if value != value.strip():
        return "must not start or end with whitespace"
    if len(value) > max_len:
        return f"must be at most {max_len} characters (got {len(value)})"
    pattern = CONTROL_EXCEPT_WHITESPACE if allow_newlines else CONTROL
    if pattern.search(value):
        return "must not contain control characters"
    char = format_character(value)
    if char is not None:
        which = "" if secret else f" ({char})"  # a secret's characters are not described
        return (
            f"must not contain invisible format characters{which} such as zero-width spaces "
            "or right-to-left overrides: retype the value instead of pasting it"
        )
    return None
