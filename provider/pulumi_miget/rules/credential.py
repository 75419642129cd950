"""The ContainerRegistryCredential field rules: one table shared by the provider's ``check``,
the emulator and the CrossGuard policies, so the three can never disagree.

Each rule says which HTTP status the Miget API answers when it is broken (``api_status``), or
``None`` when the API documents nothing and the limit is this project's own choice (the emulator
skips those, since the real API is silent on them; ``check`` enforces them all so a typo fails at
``pulumi preview`` instead of at Miget).

Documented by Miget (miget-api.md §1.1): ``name``, ``registry``, ``username`` and ``token`` are
required; ``registry`` is one of eight kinds; ``registry_hostname`` is required for
``generic``, ``aws_ecr`` and ``azure``; ``skip_validation`` is a boolean.

Our choices where the API is silent (documented in the README's "Input limits"):

- strings are trimmed by nobody: leading/trailing whitespace is rejected rather than silently
  changed, since it is almost always a copy-and-paste slip;
- ``name``/``username`` at most 255 characters (a Rails string column), no control characters
  (C0, DEL, C1, U+2028/U+2029) and no invisible format characters (Unicode category Cf: U+200B
  zero-width space, U+202E right-to-left override, U+FEFF byte-order mark, ...), which make a
  value look like another one;
- ``token`` at most 16384 characters (ECR login passwords are ~2-3 KB, JSON keys a little more);
  newlines and tabs are allowed (JSON key files), other control characters and format
  characters (a pasted byte-order mark or zero-width space) are not;
- ``registry_hostname`` is ``host[:port]`` (DNS name, IPv4 or ``[IPv6]``) with an optional
  ``https://`` prefix, no path, query, credentials or whitespace, at most 253 characters;
- ``workspace_id`` is a UUID.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping
from typing import Any

from .common import Violation, describe_type, is_uuid, never_unknown, text_problem

__all__ = [
    "HOSTNAME_REQUIRED",
    "MAX_HOSTNAME",
    "MAX_NAME",
    "MAX_TOKEN",
    "MAX_USERNAME",
    "REGISTRIES",
    "Registry",
    "check_credential",
    "hostname_problem",
]


class Registry(str, enum.Enum):
    """The registry kinds Miget accepts. Plain strings (``"github"``) work as well."""

    DOCKER_HUB = "docker_hub"
    GITHUB = "github"
    GITLAB = "gitlab"
    AWS_ECR = "aws_ecr"
    AZURE = "azure"
    DIGITALOCEAN = "digitalocean"
    QUAY = "quay"
    GENERIC = "generic"

    def __str__(self) -> str:
        return self.value


REGISTRIES: tuple[str, ...] = tuple(r.value for r in Registry)
HOSTNAME_REQUIRED: frozenset[str] = frozenset({"generic", "aws_ecr", "azure"})

MAX_NAME = 255
MAX_USERNAME = 255
MAX_TOKEN = 16384
MAX_HOSTNAME = 253

_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_HOST = re.compile(
    r"^(?:https://)?"
    r"(?:" + _LABEL + r"(?:\." + _LABEL + r")*"  # DNS name (also matches IPv4 literals)
    r"|\[[0-9A-Fa-f:.]+\])"  # [IPv6]
    r"(?::(?P<port>[0-9]{1,5}))?\Z"  # \Z, not $: "$" lets a trailing newline through
)


def hostname_problem(value: str) -> str | None:
    """Why ``value`` is not an acceptable registry hostname, or None when it is."""
    if len(value) > MAX_HOSTNAME:
        return f"must be at most {MAX_HOSTNAME} characters"
    if value.startswith("http://"):
        return "must not use http:// (registry logins are sent over https); drop the scheme"
    match = _HOST.match(value)
    if match is None:
        return (
            "must be a host name with an optional port, such as 'registry.example.com:5000' "
            "or '123456789012.dkr.ecr.eu-west-1.amazonaws.com' (no path, no credentials)"
        )
    port = match.group("port")
    if port is not None and not 0 < int(port) < 65536:
        return "has a port outside 1-65535"
    return None


def check_credential(
    props: Mapping[str, Any],
    *,
    is_unknown: Callable[[object], bool] = never_unknown,
    partial: bool = False,
    api_rules_only: bool = False,
) -> list[Violation]:
    """Every rule a credential's properties must meet, in the order the API checks them.

    ``is_unknown`` marks values not known yet (Pulumi preview): they are skipped.
    ``partial`` is for a PUT body: absent fields are fine, present ones must be valid.
    ``api_rules_only`` keeps the rules the Miget API documents (the emulator uses this).
    """
    found: list[Violation] = []

    def add(prop: str, reason: str, status: int | None) -> None:
        if status is not None or not api_rules_only:
            found.append(Violation(prop, reason, status))

    def present(key: str) -> bool:
        return props.get(key) is not None

    # 1. Required strings (400 "<param> is missing" from the API).
    limits = {"name": MAX_NAME, "username": MAX_USERNAME, "token": MAX_TOKEN}
    for key in ("name", "registry", "username", "token"):
        value = props.get(key)
        if is_unknown(value):
            continue
        if value is None:
            if not partial:
                add(key, f"'{key}' is required", 400)
            continue
        if not isinstance(value, str):
            add(key, f"'{key}' must be a string, got {describe_type(value)}", 400)
            continue
        if key == "registry":
            if value not in REGISTRIES:
                add(key, f"'registry' must be one of {', '.join(REGISTRIES)} (got {value!r})", 400)
            continue
        if not value:
            add(key, f"'{key}' must not be empty", 400)
            continue
        secret = key == "token"
        problem = text_problem(value, limits[key], allow_newlines=secret, secret=secret)
        if problem:
            add(key, f"'{key}' {problem}", None)

    # 2. Optional typed fields.
    hostname = props.get("registry_hostname")
    if present("registry_hostname") and not is_unknown(hostname):
        if not isinstance(hostname, str):
            add(
                "registry_hostname",
                f"'registry_hostname' must be a string, got {describe_type(hostname)}",
                400,
            )
        elif hostname:
            problem = hostname_problem(hostname)
            if problem:
                add("registry_hostname", f"'registry_hostname' {problem}", None)
    for key in ("skip_validation", "adopt"):
        value = props.get(key)
        if present(key) and not is_unknown(value) and not isinstance(value, bool):
            add(key, f"'{key}' must be a boolean (true/false), got {describe_type(value)}", 400)
    workspace = props.get("workspace_id")
    if present("workspace_id") and not is_unknown(workspace) and not is_uuid(workspace):
        if isinstance(workspace, str):
            add("workspace_id", "'workspace_id' must be a workspace UUID", None)
        else:
            got = describe_type(workspace)
            add("workspace_id", f"'workspace_id' must be a workspace UUID string, got {got}", None)

    # 3. Model rule: the hostname is required for some kinds (422 from the API).
    registry = props.get("registry")
    if (
        not partial
        and isinstance(registry, str)
        and registry in HOSTNAME_REQUIRED
        and not is_unknown(hostname)
        and not (isinstance(hostname, str) and hostname)
    ):
        add(
            "registry_hostname",
            f"'registry_hostname' is required when registry is '{registry}' "
            "(for example 123456789012.dkr.ecr.eu-west-1.amazonaws.com or myregistry.azurecr.io)",
            422,
        )
    return found
