"""MigetClient: exact requests on the wire, response and error shapes, retries, redaction.

Requests go over real HTTP to a small canned server on loopback that records what it receives
and answers from a script — for the shapes the emulator never produces (``{"data": ...}``
envelopes, ``{"errors": ...}``, HTML error pages). Retry behaviour runs against the emulator's
fault injection.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from pulumi_miget import __version__
from pulumi_miget.api.http import MigetClient
from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.errors import (
    AuthenticationError,
    BadRequestError,
    ForbiddenError,
    MigetError,
    NameTakenError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from pulumi_miget.settings import Settings
from tests.samples import API_KEY, CREDENTIALS_PATH, OTHER_WORKSPACE_ID

KEY = "miget_live_client_test_key_0b9e"
TOKEN = "ghp_client_test_token_77aa"
PATH = "/container_registry_credentials"


@dataclass
class Canned:
    """A loopback HTTP server answering from a script of (status, headers, body) replies."""

    replies: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def reply(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        if not isinstance(body, bytes):
            body = b"" if body is None else json.dumps(body).encode()
        self.replies.append((status, {"Content-Type": "application/json", **(headers or {})}, body))


@pytest.fixture
def canned() -> Iterator[Canned]:
    script = Canned()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the real API (the emulator closes)

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            script.received.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "client_port": self.client_address[1],
                    "headers": dict(self.headers),
                    "body": json.loads(raw) if raw else None,
                }
            )
            status, headers, body = script.replies.pop(0)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = _answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    script.url = f"http://127.0.0.1:{server.server_address[1]}/api/v1"
    yield script
    server.shutdown()
    server.server_close()


def client_for(url: str, **settings: Any) -> MigetClient:
    return MigetClient(Settings(api_key=settings.pop("api_key", KEY), api_url=url, **settings))


# ---- what goes on the wire ----------------------------------------------------------------------
def test_a_request_sends_method_url_body_and_headers_exactly(canned: Canned) -> None:
    canned.reply(201, {"uuid": "u1"})
    client = client_for(canned.url, workspace_id=OTHER_WORKSPACE_ID)

    client.request("POST", PATH, "create credential 'x'", body={"name": "x", "token": TOKEN})

    [sent] = canned.received
    assert (sent["method"], sent["path"]) == ("POST", "/api/v1/container_registry_credentials")
    assert sent["body"] == {"name": "x", "token": TOKEN}
    headers = sent["headers"]
    assert headers["Authorization"] == f"Bearer {KEY}"
    assert headers["X-Workspace-Id"] == OTHER_WORKSPACE_ID
    assert headers["User-Agent"] == f"pulumi-miget/{__version__}"
    assert headers["Content-Type"] == "application/json"


def test_a_per_request_workspace_wins_and_none_means_no_header(canned: Canned) -> None:
    canned.reply(200, [])
    canned.reply(200, [])
    client_for(canned.url, workspace_id=OTHER_WORKSPACE_ID).request(
        "GET", PATH, "list", workspace_id="00000000-0000-4000-8000-0000000000a3"
    )
    client_for(canned.url).request("GET", PATH, "list")
    first, second = canned.received
    assert first["headers"]["X-Workspace-Id"] == "00000000-0000-4000-8000-0000000000a3"
    assert "X-Workspace-Id" not in second["headers"]


def test_requests_from_one_thread_reuse_one_connection(canned: Canned) -> None:
    for _ in range(3):
        canned.reply(200, [])
    client = client_for(canned.url)
    client.request("GET", PATH, "list")
    client.request("GET", PATH, "list")
    worker = threading.Thread(target=client.request, args=("GET", PATH, "list"))
    worker.start()
    worker.join()
    first, second, other_thread = (sent["client_port"] for sent in canned.received)
    assert first == second  # keep-alive: the same TCP connection
    assert other_thread != first  # each thread has its own session and connection


def test_one_keep_alive_session_per_thread(canned: Canned) -> None:
    client = client_for(canned.url)
    sessions = []

    def grab() -> None:
        sessions.append(client._session())
        sessions.append(client._session())

    workers = [threading.Thread(target=grab) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len({id(s) for s in sessions}) == 3  # same session within a thread, one per thread


# ---- response shapes ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body", [{"uuid": "u1", "name": "x"}, {"data": {"uuid": "u1", "name": "x"}}]
)
def test_bare_and_data_enveloped_entities_are_both_accepted(canned: Canned, body: Any) -> None:
    canned.reply(200, body)
    assert client_for(canned.url).request("GET", f"{PATH}/u1", "read") == {
        "uuid": "u1",
        "name": "x",
    }


@pytest.mark.parametrize(
    "body", [[{"uuid": "u1"}], {"data": [{"uuid": "u1"}]}, {"items": [{"uuid": "u1"}]}]
)
def test_a_list_accepts_the_bare_and_both_enveloped_shapes(canned: Canned, body: Any) -> None:
    canned.reply(200, body)
    assert client_for(canned.url).list(PATH, "list") == [{"uuid": "u1"}]


def test_a_list_that_is_not_an_array_is_a_clear_error(canned: Canned) -> None:
    canned.reply(200, "surprise")
    with pytest.raises(MigetError, match="list credentials: expected a JSON array, got str"):
        client_for(canned.url).list(PATH, "list credentials")


def test_a_204_returns_none(canned: Canned) -> None:
    canned.reply(204)
    assert client_for(canned.url).request("DELETE", f"{PATH}/u1", "delete") is None


@pytest.mark.parametrize(
    ("status", "body", "kind", "message"),
    [
        (400, {"error": "name is missing"}, BadRequestError, "name is missing"),
        (422, {"errors": "Label is too long, Name is invalid"}, BadRequestError, "Label is too"),
        (422, {"error": "Name has already been taken"}, NameTakenError, "already been taken"),
        (404, {"error": "not found"}, NotFoundError, "not found"),
        (403, {"error": "suspended"}, ForbiddenError, "suspended"),
        (401, {"error": "Unauthorized"}, AuthenticationError, "Unauthorized"),
        (418, b"<html>teapot</html>", Exception, "<html>teapot</html>"),
    ],
)
def test_error_shapes_become_typed_errors_with_status_and_message(
    canned: Canned, status: int, body: Any, kind: type[Exception], message: str
) -> None:
    canned.reply(status, body)
    with pytest.raises(kind) as err:
        client_for(canned.url).request("GET", f"{PATH}/u1", "read credential 'x'")
    text = str(err.value)
    assert text.startswith(f"read credential 'x': HTTP {status}: ")
    assert message in text


def test_401_and_403_say_what_to_check(canned: Canned) -> None:
    canned.reply(401, {"error": "Unauthorized"})
    canned.reply(403, {"error": "Forbidden"})
    client = client_for(canned.url, workspace_id=OTHER_WORKSPACE_ID)
    with pytest.raises(AuthenticationError, match=r"miget:apiKey' / MIGET_API_KEY"):
        client.request("GET", PATH, "list")
    with pytest.raises(ForbiddenError, match=f"workspace {OTHER_WORKSPACE_ID}"):
        client.request("GET", PATH, "list")


def test_the_key_and_named_secrets_are_redacted_from_error_text(canned: Canned) -> None:
    canned.reply(422, {"error": f"bad login {TOKEN} with key {KEY}"})
    with pytest.raises(BadRequestError) as err:
        client_for(canned.url).request("POST", PATH, "create", body={}, secrets=[TOKEN])
    assert TOKEN not in str(err.value) and KEY not in str(err.value)
    assert str(err.value).count("[redacted]") == 2
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_the_client_repr_holds_no_key() -> None:
    assert KEY not in repr(client_for("https://app.miget.com/api/v1"))


# ---- retries (against the emulator's fault injection) --------------------------------------------
@pytest.fixture
def emulator_client(emulator: EmulatorServer) -> MigetClient:
    return client_for(emulator.api_url, api_key=API_KEY, max_retries=2)


def methods(emulator: EmulatorServer, at_least: int = 1) -> list[tuple[str, int]]:
    """The (method, status) log; a dropped request is logged just after the client sees the
    drop, so wait (bounded) until the expected number of entries is there."""
    for _ in range(500):
        log = emulator.requests_log()
        if len(log) >= at_least:
            break
        threading.Event().wait(0.01)
    return [(entry["method"], entry["status"]) for entry in log]


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_a_get_is_retried_on_transient_statuses(
    emulator: EmulatorServer, emulator_client: MigetClient, status: int
) -> None:
    emulator.add_fault("GET", CREDENTIALS_PATH, "status", status=status)
    assert emulator_client.request("GET", PATH, "list") == []
    assert methods(emulator) == [("GET", status), ("GET", 200)]


@pytest.mark.parametrize("status", [429, 503])
def test_a_post_is_retried_only_on_statuses_that_promise_nothing_happened(
    emulator: EmulatorServer, emulator_client: MigetClient, status: int
) -> None:
    emulator.add_fault("POST", CREDENTIALS_PATH, "status", status=status)
    body = {"name": "x", "registry": "github", "username": "u", "token": TOKEN}
    assert emulator_client.request("POST", PATH, "create", body=body)["name"] == "x"
    assert methods(emulator) == [("POST", status), ("POST", 201)]


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_post_is_not_retried_when_it_may_have_happened(
    emulator: EmulatorServer, emulator_client: MigetClient, status: int
) -> None:
    emulator.add_fault("POST", CREDENTIALS_PATH, "status", status=status)
    with pytest.raises(ServerError, match=f"HTTP {status}"):
        emulator_client.request("POST", PATH, "create", body={"name": "x"})
    assert methods(emulator) == [("POST", status)]  # the caller reconciles by name instead


def test_a_dropped_post_is_not_resent_by_the_client(
    emulator: EmulatorServer, emulator_client: MigetClient
) -> None:
    emulator.add_fault("POST", CREDENTIALS_PATH, "drop")
    with pytest.raises(TransportError, match="failed or was dropped"):
        emulator_client.request("POST", PATH, "create", body={"name": "x"})
    assert methods(emulator) == [("POST", 0)]


def test_a_dropped_get_is_retried(emulator: EmulatorServer, emulator_client: MigetClient) -> None:
    emulator.add_fault("GET", CREDENTIALS_PATH, "drop")
    assert emulator_client.request("GET", PATH, "list") == []
    assert methods(emulator) == [("GET", 0), ("GET", 200)]


def test_retries_are_bounded_and_the_last_status_is_reported(
    emulator: EmulatorServer, emulator_client: MigetClient
) -> None:
    emulator.add_fault("GET", CREDENTIALS_PATH, "status", status=429, times=10)
    with pytest.raises(RateLimitedError, match="HTTP 429"):
        emulator_client.request("GET", PATH, "list")
    assert methods(emulator) == [("GET", 429)] * 3  # the first attempt and max_retries=2


def test_a_timeout_names_the_host_and_the_limit(emulator: EmulatorServer) -> None:
    client = client_for(emulator.api_url, api_key=API_KEY, max_retries=0, timeout=0.5)
    emulator.add_fault("GET", CREDENTIALS_PATH, "delay", delay=2.0)
    with pytest.raises(TransportError, match=r"no answer from 127\.0\.0\.1:\d+ within 0\.5s"):
        client.request("GET", PATH, "list")


def test_client_errors_are_not_retried(
    emulator: EmulatorServer, emulator_client: MigetClient
) -> None:
    with pytest.raises(NotFoundError):
        emulator_client.request("GET", f"{PATH}/00000000-0000-4000-8000-00000000dead", "read")
    assert methods(emulator) == [("GET", 404)]
