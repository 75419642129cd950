"""What every route shares: the error answer it raises, the emulator state of the current request,
and the reading of JSON bodies. Imported by the routes and by the app factory (``wsgi.py``);
it imports neither.

The routes read their bodies with ``json_object``: 415 for a POST/PUT body that is not
``application/json``; 413 over 64 KiB, with a ``Content-Length`` or sent chunked [INF for
chunked]; 400 for malformed JSON or a body that is not a JSON object. An empty body counts as
``{}`` [INF, as Grape]. Values JSON cannot carry faithfully answer 400 ``<field> is invalid``
naming each one (Grape-style paths: ``ram_size``, ``deployment_config[tag]``,
``app_vars_attributes[0][value]``; comma-joined), before any field check and with nothing stored
[INF]: a number that is not finite (``NaN``, ``Infinity``, ``-Infinity``, which RFC 8259 §6 does
not allow, or one that overflows a double such as ``1e999``), an integer too long for Python to
parse, and a string or key with a lone UTF-16 surrogate (JSON ``"\\ud800"``, which no UTF-8 text
can hold).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from typing import Any

from flask import Flask, current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from pulumi_miget.emulator.state import Emulator

__all__ = [
    "EXTENSION",
    "MAX_BODY_BYTES",
    "ErrorAnswer",
    "current_emulator",
    "emulator_of",
    "json_object",
]

MAX_BODY_BYTES = 64 * 1024

EXTENSION = "miget_emulator"
"""The key of the app's ``Emulator`` in ``app.extensions``."""


class ErrorAnswer(Exception):
    """An error answer to send: ``{key: message}`` with ``status``. ``key`` is ``error``, or
    ``errors`` for the app endpoints' 422 validation answers (Miget documents both shapes).

    Raised by the routes, turned into the response by the app's error handler (``wsgi.py``).
    """

    def __init__(self, status: int, message: str, *, key: str = "error") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.key = key


def emulator_of(app: Flask) -> Emulator:
    emulator: Emulator = app.extensions[EXTENSION]
    return emulator


def current_emulator() -> Emulator:
    """The state of the app handling the current request."""
    return emulator_of(current_app)


# --- request bodies -------------------------------------------------------------------------


def json_object(
    *, require_json_type: bool, check_values: bool = True, body_optional: bool = False
) -> dict[str, Any]:
    """The request body as a JSON object; ErrorAnswer 415/400, RequestEntityTooLarge 413.

    ``check_values`` (the Miget API): 400 ``<field> is invalid`` for each value JSON cannot carry
    faithfully (see the module docstring). The control API turns it off and checks its own
    fields with its own messages (Python's lenient parse: ``NaN`` is a float there).
    ``body_optional``: an empty body needs no ``Content-Type`` (a bare ``POST .../deploy``) [INF];
    a non-empty one still does when ``require_json_type``.
    """
    if require_json_type and not body_optional and not request.is_json:
        raise ErrorAnswer(415, "Content-Type must be application/json")
    # werkzeug raises 413 for a Content-Length past MAX_CONTENT_LENGTH (the limit + 1); a chunked
    # body is cut at MAX_CONTENT_LENGTH instead, so a body longer than the limit is refused here.
    data = request.get_data(cache=False)
    if len(data) > MAX_BODY_BYTES:
        raise RequestEntityTooLarge()
    if not data.strip():
        return {}
    if require_json_type and not request.is_json:
        raise ErrorAnswer(415, "Content-Type must be application/json")
    try:
        body = _parse(data) if check_values else json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise ErrorAnswer(400, "Request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ErrorAnswer(400, "Request body must be a JSON object")
    if check_values:
        problems = [f"{path} is invalid" for path in _unfaithful_values(body)]
        if problems:
            raise ErrorAnswer(400, ", ".join(dict.fromkeys(problems)))
    g.body_fields = _field_names(body)  # names only, for the request log
    return body


class _Unfaithful:
    """What ``_parse`` puts where the body holds a number Python cannot use as one."""

    def __repr__(self) -> str:
        return "<not a usable number>"


_UNFAITHFUL = _Unfaithful()


def _finite_float(text: str) -> float | _Unfaithful:
    number = float(text)  # "1e999" parses as inf
    return number if math.isfinite(number) else _UNFAITHFUL


def _any_int(text: str) -> int | _Unfaithful:
    try:
        return int(text)
    except ValueError:  # longer than sys.get_int_max_str_digits() (4300 digits by default)
        return _UNFAITHFUL


def _parse(data: bytes) -> Any:
    """``json.loads`` with ``NaN``/``Infinity``/``-Infinity``, overflowing floats and unparseable
    integers turned into ``_UNFAITHFUL``, so the check can name their field."""
    return json.loads(
        data,
        parse_constant=lambda _: _UNFAITHFUL,
        parse_float=_finite_float,
        parse_int=_any_int,
    )


def _unfaithful_values(body: Mapping[str, Any]) -> Iterator[str]:
    """The Grape-style path of each non-finite number, and of each string (value or key) with a
    lone surrogate, in document order. Iterative: the body may nest as deep as json.loads
    allows, deeper than this request's remaining stack."""
    stack = list(reversed(_children("", body)))
    while stack:
        path, value = stack.pop()
        if value is _UNFAITHFUL or (isinstance(value, str) and not _is_utf8(value)):
            yield path
        elif isinstance(value, Mapping | list):
            stack.extend(reversed(_children(path, value)))


def _children(path: str, value: Mapping[str, Any] | list[Any]) -> list[tuple[str, Any]]:
    """(path, value) of each member. A key with a lone surrogate is itself the problem: its
    path (the key with ``\\udXXX`` escapes) stands for it, with ``_UNFAITHFUL`` as the value."""
    if isinstance(value, list):
        return [(f"{path}[{index}]", item) for index, item in enumerate(value)]
    members = []
    for key, child in value.items():
        broken = not _is_utf8(key)
        name = key.encode("utf-8", "backslashreplace").decode("utf-8") if broken else key
        members.append((f"{path}[{name}]" if path else name, _UNFAITHFUL if broken else child))
    return members


def _is_utf8(text: str) -> bool:
    """False for a string with a lone surrogate (JSON's ``"\\ud800"``): SQLite, hashing and
    logging all need UTF-8, which cannot encode one."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _field_names(body: Mapping[str, Any]) -> tuple[str, ...]:
    """The body's top-level keys, plus ``key.child`` for each key of a top-level object."""
    names = set(body)
    for key, value in body.items():
        if isinstance(value, Mapping):
            names.update(f"{key}.{child}" for child in value)
    return tuple(sorted(names))
