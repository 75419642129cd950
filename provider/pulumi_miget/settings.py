"""Provider settings, read from the stack config that ``configure()`` receives, with environment
fallbacks. Nothing here is ever pickled into ``__provider``.

| stack config        | environment          | default                        |
|---------------------|----------------------|--------------------------------|
| ``miget:apiKey``    | ``MIGET_API_KEY``    | — (required, set it as secret) |
| ``miget:apiUrl``    | ``MIGET_API_URL``    | ``https://app.miget.com/api/v1`` |
| ``miget:workspaceId`` | ``MIGET_WORKSPACE_ID`` | — (required unless each resource sets ``workspace_id``) |
| ``miget:timeout``   | ``MIGET_TIMEOUT``    | 30 (seconds per request; more than 0, at most 600) |
| ``miget:maxRetries`` | ``MIGET_MAX_RETRIES`` | 4 (a whole number from 0 to 10) |

The API key must be printable ASCII (it travels in an HTTP header). No error message ever shows
a setting's value: a key pasted into the wrong setting must not end up in a log.
"""  # noqa: E501

from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .errors import ConfigurationError
from .rules import is_uuid

DEFAULT_API_URL = "https://app.miget.com/api/v1"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 4
MAX_TIMEOUT = 600.0  # seconds per request: ten minutes is already far beyond any API call
MAX_MAX_RETRIES = 10  # with backoff capped at 8 s, about a minute of retrying

# (config key, environment variable) for each setting.
API_KEY = ("miget:apiKey", "MIGET_API_KEY")
API_URL = ("miget:apiUrl", "MIGET_API_URL")
WORKSPACE_ID = ("miget:workspaceId", "MIGET_WORKSPACE_ID")
TIMEOUT = ("miget:timeout", "MIGET_TIMEOUT")
MAX_RETRIES = ("miget:maxRetries", "MIGET_MAX_RETRIES")


@dataclass(frozen=True)
class Settings:
    """Validated provider settings; ``api_key`` is kept out of ``repr`` so no log shows it."""

    api_key: str = field(repr=False)
    api_url: str = DEFAULT_API_URL
    workspace_id: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES


Lookup = Callable[[str], object]


def _lookup(config: Lookup, environ: Mapping[str, str], keys: tuple[str, str]) -> str | None:
    value = config(keys[0])
    if value is None or value == "":
        value = environ.get(keys[1]) or None
    return None if value is None else str(value)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _where(keys: tuple[str, str]) -> str:
    return f"'{keys[0]}' / {keys[1]}"


# Shown in place of a value: whatever was set there may be a secret pasted into the wrong setting.
_NOT_SHOWN = "the value is not shown, in case it is a secret"


def _api_url(raw: str) -> str:
    where = _where(API_URL)
    malformed = ConfigurationError(
        f"{where} must be an http(s) URL such as {DEFAULT_API_URL} ({_NOT_SHOWN})"
    )
    if any(c.isspace() or not c.isprintable() for c in raw):
        raise ConfigurationError(
            f"{where} must not contain whitespace or control characters ({_NOT_SHOWN})"
        )
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 (raises ValueError for a port that is not 0-65535)
    except ValueError:
        raise malformed from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise malformed
    if parts.username or parts.password:
        raise ConfigurationError(f"{where} must not contain credentials; use '{API_KEY[0]}'")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        # The API key travels in a header: plain HTTP is only acceptable on this machine.
        raise ConfigurationError(
            f"{where} uses plain http:// for a host that is not this machine; use https:// "
            "(http is allowed only for localhost/127.0.0.1/[::1], e.g. the emulator)"
        )
    return raw.rstrip("/")


def _number(raw: str | None, keys: tuple[str, str], default: float, *, integer: bool) -> float:
    """The setting as a number within its bounds; the message never repeats ``raw``."""
    if raw is None:
        return default
    if integer:
        expected = f"a whole number from 0 to {MAX_MAX_RETRIES}"
    else:
        expected = f"a number of seconds greater than 0 and at most {MAX_TIMEOUT:g}"
    value: float
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        problem = "not a whole number" if integer else "not a number"
    else:
        if integer:
            problem = "" if 0 <= value <= MAX_MAX_RETRIES else "out of range"
        elif not math.isfinite(value):  # float() takes "nan", "inf" and "1e400"
            problem = "not a finite number"
        else:
            problem = "" if 0 < value <= MAX_TIMEOUT else "out of range"
    if problem:
        raise ConfigurationError(
            f"{_where(keys)} must be {expected}: the value set is {problem} "
            "(it is not shown, in case it is a secret)"
        )
    return value


def load_workspace(config: Lookup, environ: Mapping[str, str] | None = None) -> str | None:
    """The configured workspace UUID in canonical (lower-case) form, or None when unset.

    Read on its own, apart from the key, so ``check`` can record the workspace in the inputs
    even when the API key is missing (``pulumi preview`` of a new stack).
    """
    env = os.environ if environ is None else environ
    workspace = _lookup(config, env, WORKSPACE_ID)
    if workspace is None:
        return None
    if not is_uuid(workspace):
        raise ConfigurationError(
            f"{_where(WORKSPACE_ID)} must be a workspace UUID such as "
            f"00000000-0000-4000-8000-000000000000 ({_NOT_SHOWN})"
        )
    return workspace.lower()


def load_settings(config: Lookup, environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from a config lookup (``pulumi.dynamic.Config.get``) and the environment.

    Raises ConfigurationError naming the config key and the environment variable — never a value
    of the key itself.
    """
    env = os.environ if environ is None else environ
    api_key = _lookup(config, env, API_KEY)
    if not api_key:
        raise ConfigurationError(
            f"the Miget API key is not set: run `pulumi config set --secret {API_KEY[0]} <key>` "
            f"or set the {API_KEY[1]} environment variable"
        )
    if any(c.isspace() for c in api_key):
        raise ConfigurationError(f"{_where(API_KEY)} must not contain whitespace")
    if not all("!" <= c <= "~" for c in api_key):
        # An HTTP header holds ASCII only: anything else (an accent, a typographic quote, a
        # zero-width space from a copy and paste) would fail later in the HTTP layer.
        raise ConfigurationError(
            f"{_where(API_KEY)} must contain only printable ASCII characters (letters, digits "
            "and punctuation): copy the key again from the Miget dashboard, without quotes "
            "or invisible characters"
        )
    workspace = load_workspace(config, env)
    return Settings(
        api_key=api_key,
        api_url=_api_url(_lookup(config, env, API_URL) or DEFAULT_API_URL),
        workspace_id=workspace,
        timeout=_number(_lookup(config, env, TIMEOUT), TIMEOUT, DEFAULT_TIMEOUT, integer=False),
        max_retries=int(
            _number(
                _lookup(config, env, MAX_RETRIES), MAX_RETRIES, DEFAULT_MAX_RETRIES, integer=True
            )
        ),
    )
