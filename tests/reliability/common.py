"""Shared values and helpers of the reliability tests.

Every test drives the SDK's real dynamic-provider server over gRPC (``pulumi_miget.testing``)
against the session emulator, reading the emulator's store directly (never over HTTP, so the
request log holds only what the provider sent).
"""

from __future__ import annotations

import base64
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_miget.credential import ContainerRegistryCredentialProvider
from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.emulator.records import CredentialRecord, sha256_hex
from pulumi_miget.testing import Engine, Props, ProviderServer, Secret, plain, provider_blob
from pulumi_miget.tokens import CREDENTIAL_TYPE
from tests.reliability.figures import Figures
from tests.samples import API_KEY, CREDENTIALS_PATH, DEFAULT_WORKSPACE_ID

ASO = ("token",)
"""What ContainerRegistryCredential registers as ``additional_secret_outputs``."""

BLOB = provider_blob(ContainerRegistryCredentialProvider())
NAME = "rel-ghcr"
USERNAME = "rel-bot"
NEW_USERNAME = "rel-bot-2"
TOKEN = "ghp_reliability_token_4f1c9a7e0d"
"""A known registry token: it must never appear outside a Secret."""
NEW_TOKEN = "ghp_reliability_token_rotated_82d0b3"
WRONG_KEY = "miget_live_reliability_wrong_key_5e1f"

TIMEOUT = 0.5
"""``miget:timeout`` of the fault-injection provider (seconds per request)."""
MAX_RETRIES = 1
"""``miget:maxRetries`` of the fault-injection provider: one failure is transient."""
HANG = 2.0
"""How long an injected "read timeout" holds a request: four client timeouts, and about twice
as long as a whole create call (two POSTs and two lookups), so a late POST lands after the call
gave up."""

_secrets_lock = threading.Lock()
_secrets: set[str] = {API_KEY, TOKEN, NEW_TOKEN, WRONG_KEY}


def remember_secret(value: str) -> str:
    """Register a secret the leak probes must look for; returns it."""
    with _secrets_lock:
        _secrets.add(value)
    return value


def known_secrets() -> frozenset[str]:
    with _secrets_lock:
        return frozenset(_secrets)


def leaked(text: str) -> list[str]:
    """The known secrets found in ``text`` (reported by length only, never by value)."""
    return [f"<secret of {len(s)} chars>" for s in known_secrets() if s in text]


def blob_text(blob: str) -> str:
    """The ``__provider`` blob and its base64-decoded pickle, for leak probes."""
    return blob + base64.b64decode(blob).decode("latin-1")


def stack_config(
    emulator: EmulatorServer, api_key: str | None = API_KEY, **settings: str
) -> dict[str, Any]:
    """The stack config the engine hands the default pulumi-python provider."""
    config: dict[str, Any] = {
        "miget:apiUrl": emulator.api_url,
        "miget:workspaceId": DEFAULT_WORKSPACE_ID,
    }
    if api_key is not None:
        config["miget:apiKey"] = Secret(api_key)
    config.update({f"miget:{key}": value for key, value in settings.items()})
    return config


def news(**changes: Any) -> Props:
    """What the program registers (token secret, ``__provider`` plain); ``None`` drops a key."""
    props: Props = {
        "name": NAME,
        "registry": "github",
        "username": USERNAME,
        "token": Secret(TOKEN),
        "__provider": BLOB,
    }
    props.update(changes)
    return {key: value for key, value in props.items() if value is not None}


@dataclass
class Provider:
    """A provider server with its configured engine (one per stack config)."""

    server: ProviderServer
    engine: Engine


def start_provider(config: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Provider:
    server = ProviderServer(env=env)
    engine = Engine(server, CREDENTIAL_TYPE)
    engine.configure(config)
    return Provider(server, engine)


def serve(
    config: Mapping[str, Any], figures: Figures, env: Mapping[str, str] | None = None
) -> Iterator[Provider]:
    """A provider for a fixture: on teardown the process is stopped and everything it printed
    is probed for every known secret (one leak probe)."""
    provider = start_provider(config, env)
    try:
        yield provider
    finally:
        provider.server.close()  # joins the output threads: the output is complete
    found = leaked(provider.server.output())
    assert found == [], f"the provider process printed a secret: {found}"
    figures.add("leaks", probes=1, leaks=len(found))


def item(uuid: str) -> str:
    return f"{CREDENTIALS_PATH}/{uuid}"


def calls(emulator: EmulatorServer) -> list[tuple[str, str, int]]:
    """Every API request since the log was cleared: (method, "list" | "item", status)."""
    return [
        (entry["method"], "list" if entry["path"] == CREDENTIALS_PATH else "item", entry["status"])
        for entry in emulator.requests_log()
    ]


def wait_for_requests(emulator: EmulatorServer, count: int, within: float = 3.0) -> None:
    """Wait until the log holds ``count`` requests: a held ("read timeout") request is logged
    only when the emulator finally answers, after the client gave up on it."""
    deadline = time.monotonic() + within
    while len(emulator.requests_log()) < count and time.monotonic() < deadline:
        time.sleep(0.02)


def closed_port() -> int:
    """A loopback port nothing listens on (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def stored(
    emulator: EmulatorServer, workspace: str = DEFAULT_WORKSPACE_ID
) -> list[CredentialRecord]:
    return emulator.emulator.store.credentials.in_workspace(workspace)


def matches(record: CredentialRecord, props: Mapping[str, Any]) -> bool:
    """Does the stored credential hold exactly what ``props`` (program inputs) ask for?"""
    wanted = plain(props)
    return (
        record.name == wanted["name"]
        and record.registry == wanted["registry"]
        and record.username == wanted["username"]
        and record.registry_hostname == wanted.get("registry_hostname")
        and record.token_sha256 == sha256_hex(wanted["token"])
    )


def non_secret_text(props: Mapping[str, Any]) -> str:
    """Every value not wrapped in a Secret, as text (``__provider`` decoded), for leak probes."""
    parts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, Secret):
            return
        if isinstance(value, Mapping):
            for inner in value.values():
                walk(inner)
        elif isinstance(value, list | tuple):
            for inner in value:
                walk(inner)
        else:
            parts.append(str(value))

    walk({key: value for key, value in props.items() if key != "__provider"})
    if isinstance(props.get("__provider"), str):
        parts.append(blob_text(props["__provider"]))
    return "\n".join(parts)
