"""Provider settings, read from the stack config that ``configure()`` receives, with environment
fallbacks. Nothing here is ever pickled into ``__provider``.

| stack config        | environment          | default                        |
|---------------------|----------------------|--------------------------------|
| ``miget:apiKey``    | ``MIGET_API_KEY``    | — (required, set it as secret) |
| ``miget:apiUrl``    | ``MIGET_API_URL``    | ``https://app.miget.com/api/v1`` |
| ``miget:workspaceId`` | ``MIGET_WORKSPACE_ID`` | the key's default workspace  |
| ``miget:timeout``   | ``MIGET_TIMEOUT``    | 30 (seconds, per request)      |
| ``miget:maxRetries`` | ``MIGET_MAX_RETRIES`` | 4                             |
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .errors import ConfigurationError
from .rules import is_uuid

DEFAULT_API_URL = "https://app.miget.com/api/v1"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 4

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


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _api_url(raw: str) -> str:
    parts = urlsplit(raw)
    where = f"'{API_URL[0]}' / {API_URL[1]}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"{where} must be an http(s) URL such as {DEFAULT_API_URL} (got {raw!r})"
        )
    if parts.username or parts.password:
        raise ConfigurationError(f"{where} must not contain credentials; use '{API_KEY[0]}'")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        # The API key travels in a header: plain HTTP is only acceptable on this machine.
        raise ConfigurationError(
            f"{where} uses plain http:// for the non-loopback host {parts.hostname!r}; "
            "use https:// (http is allowed only for localhost/127.0.0.1, e.g. the emulator)"
        )
    return raw.rstrip("/")


def _number(raw: str | None, keys: tuple[str, str], default: float, *, integer: bool) -> float:
    if raw is None:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "a whole number" if integer else "a number of seconds"
        raise ConfigurationError(f"'{keys[0]}' / {keys[1]} must be {kind} (got {raw!r})") from None
    if value < 0 or (not integer and value == 0):
        raise ConfigurationError(f"'{keys[0]}' / {keys[1]} must be positive (got {raw!r})")
    return value


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
        raise ConfigurationError(f"'{API_KEY[0]}' / {API_KEY[1]} must not contain whitespace")
    workspace = _lookup(config, env, WORKSPACE_ID)
    if workspace is not None and not is_uuid(workspace):
        raise ConfigurationError(
            f"'{WORKSPACE_ID[0]}' / {WORKSPACE_ID[1]} must be a workspace UUID (got {workspace!r})"
        )
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
