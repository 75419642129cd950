"""Errors below the routes: chunked bodies past 64 KiB, and malformed HTTP that the HTTP server
answers itself. Both are JSON ``{"error": ...}`` like every other emulator error, never HTML.

The malformed requests go over a raw socket: no HTTP client will send them.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import pytest

from pulumi_miget.emulator import EmulatorServer
from tests.emulator.helpers import TIMEOUT, Api, github_credential
from tests.samples import API_KEY, CREDENTIALS_PATH

LIMIT = 64 * 1024
JSON = {"Content-Type": "application/json"}


def chunks(data: bytes, size: int = 4096) -> Iterator[bytes]:
    """A generator body: requests sends it with Transfer-Encoding: chunked, no Content-Length."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def padded(length: int) -> bytes:
    """A valid credential body of exactly ``length`` bytes."""
    body = github_credential(padding="")
    body["padding"] = "x" * (length - len(json.dumps(body)))
    data = json.dumps(body).encode()
    assert len(data) == length
    return data


# ---- chunked bodies -----------------------------------------------------------------------------


@pytest.mark.parametrize("length", [LIMIT + 1, LIMIT + 4096, 10 * LIMIT])
def test_a_chunked_body_over_64_kib_is_413_as_json(api: Api, length: int) -> None:
    response = api.request("POST", CREDENTIALS_PATH, data=chunks(padded(length)), headers=JSON)

    assert "Content-Length" not in response.request.headers
    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert response.status_code == 413
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"error": "Request body is larger than 65536 bytes"}
    assert api.list().json() == []


@pytest.mark.parametrize("length", [LIMIT, LIMIT - 1, 200])
def test_a_chunked_body_of_at_most_64_kib_is_accepted(api: Api, length: int) -> None:
    response = api.request("POST", CREDENTIALS_PATH, data=chunks(padded(length)), headers=JSON)

    assert response.status_code == 201, response.text
    assert [entity["name"] for entity in api.list().json()] == ["ghcr-acme"]


def test_a_content_length_body_one_byte_over_64_kib_is_still_413(api: Api) -> None:
    response = api.request("POST", CREDENTIALS_PATH, data=padded(LIMIT + 1), headers=JSON)

    assert response.request.headers["Content-Length"] == str(LIMIT + 1)
    assert (response.status_code, response.json()) == (
        413,
        {"error": "Request body is larger than 65536 bytes"},
    )
    assert api.list().json() == []


def test_a_chunked_app_update_over_64_kib_is_413_and_changes_nothing(api: Api) -> None:
    created = api.create()
    path = f"{CREDENTIALS_PATH}/{created['uuid']}"
    data = json.dumps({"username": "changed", "padding": "x" * LIMIT}).encode()

    response = api.request("PUT", path, data=chunks(data), headers=JSON)

    assert (response.status_code, response.json()) == (
        413,
        {"error": "Request body is larger than 65536 bytes"},
    )
    assert api.get(created["uuid"]).json() == created


# ---- malformed HTTP over a raw socket -----------------------------------------------------------


@dataclass(frozen=True)
class RawAnswer:
    status_line: str
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def status(self) -> int:
        return int(self.status_line.split()[1])

    def json(self) -> Any:
        return json.loads(self.body)


def raw_request(emulator: EmulatorServer, request: bytes) -> RawAnswer:
    """Send ``request`` verbatim and read the answer until the server closes the connection."""
    with socket.create_connection((emulator.host, emulator.port), timeout=TIMEOUT) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawAnswer(status_line, headers, body)


def assert_json_error(answer: RawAnswer, status: int, error: str) -> None:
    assert answer.status_line.startswith(f"HTTP/1.1 {status} "), answer
    assert answer.headers["content-type"] == "application/json", answer
    assert int(answer.headers["content-length"]) == len(answer.body)
    assert answer.json() == {"error": error}
    assert b"<" not in answer.body  # no HTML anywhere


@pytest.mark.parametrize(
    "request_line",
    [
        pytest.param(b"GARBAGE", id="one-word"),
        pytest.param(b"\x00\x01\x02 \xff\xfe", id="binary"),
        pytest.param(b"GET / HTTP/1.1 extra", id="four-words"),
        pytest.param(b"GET / HTTX/1.1", id="bad-protocol"),
        pytest.param(b"GET / HTTP/1.x", id="bad-version"),
        pytest.param(b"POST /api/v1/apps", id="http-0.9-post"),
    ],
)
def test_a_garbage_request_line_is_a_json_400(
    emulator: EmulatorServer, request_line: bytes
) -> None:
    answer = raw_request(emulator, request_line + b"\r\n\r\n")

    assert_json_error(answer, 400, "Bad Request")
    assert answer.headers["connection"] == "close"
    assert emulator.requests_log() == []  # never reached the app


def test_an_unsupported_http_version_is_a_json_505(emulator: EmulatorServer) -> None:
    answer = raw_request(emulator, b"GET /api/v1/apps HTTP/2.0\r\nHost: x\r\n\r\n")

    assert_json_error(answer, 505, HTTPStatus.HTTP_VERSION_NOT_SUPPORTED.phrase)


def test_a_request_line_over_64_kib_is_a_json_414(emulator: EmulatorServer) -> None:
    answer = raw_request(emulator, b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")

    assert_json_error(answer, 414, HTTPStatus.REQUEST_URI_TOO_LONG.phrase)


def test_too_many_headers_is_a_json_431(emulator: EmulatorServer) -> None:
    headers = b"".join(b"X-H%d: v\r\n" % index for index in range(150))

    answer = raw_request(emulator, b"GET /api/v1/apps HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")

    assert_json_error(answer, 431, HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE.phrase)


def test_a_refused_head_request_gets_the_json_headers_without_a_body(
    emulator: EmulatorServer,
) -> None:
    headers = b"".join(b"X-H%d: v\r\n" % index for index in range(150))

    answer = raw_request(emulator, b"HEAD / HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")

    assert answer.status_line.startswith("HTTP/1.1 431 ")
    assert answer.headers["content-type"] == "application/json"
    assert answer.body == b""


@pytest.mark.parametrize(
    ("request_head", "status", "error"),
    [
        pytest.param(b"GET /nowhere HTTP/1.1", 404, "Not Found", id="unknown-route"),
        pytest.param(b"BREW / HTTP/1.1", 404, "Not Found", id="unknown-method-and-route"),
        pytest.param(b"BREW /api/v1/apps HTTP/1.1", 405, "Method Not Allowed", id="wrong-method"),
        pytest.param(
            b"DELETE /api/v1/container_registry_credentials HTTP/1.1",
            405,
            "Method Not Allowed",
            id="delete-collection",
        ),
    ],
)
def test_well_formed_requests_the_app_refuses_are_json_too(
    emulator: EmulatorServer, request_head: bytes, status: int, error: str
) -> None:
    auth = f"Authorization: Bearer {API_KEY}\r\n".encode()

    answer = raw_request(emulator, request_head + b"\r\nHost: x\r\n" + auth + b"\r\n")

    assert_json_error(answer, status, error)


def test_a_bad_chunk_header_is_a_json_400(emulator: EmulatorServer, api: Api) -> None:
    head = (
        f"POST {CREDENTIALS_PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {API_KEY}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()

    answer = raw_request(emulator, head + b"not-hex\r\n{}\r\n0\r\n\r\n")

    assert_json_error(answer, 400, "Bad Request")
    assert api.list().json() == []
