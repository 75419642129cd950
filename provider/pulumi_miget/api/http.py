"""MigetClient: the one place that talks HTTP to the Miget API.

HTTP policy (all of it lives here):

- **Sessions.** One keep-alive ``requests.Session`` per thread: the provider server runs up to four
  calls at once on one provider instance, and a Session is not thread-safe.
- **Timeouts.** Every request has one: ``(min(timeout, 10), timeout)`` seconds for connect/read,
  ``timeout`` from ``miget:timeout`` (default 30).
- **Retries** (urllib3 ``Retry``, ``miget:maxRetries`` attempts after the first, default 4):
  429 (honouring ``Retry-After``, capped at 60 s), 500/502/503/504, connection failures and
  timeouts, with exponential backoff (0.5 s, 1 s, 2 s, … capped at 8 s) plus up to 0.5 s of
  jitter. GET/PUT/DELETE are idempotent and retried on every one of those. **POST is retried
  only when the request certainly did nothing** (a refused connection, 429, 503): after a
  timeout, a dropped connection or a 500/502/504 the credential may exist, so the caller must
  reconcile by name instead of posting again (see ``pulumi_miget.reconcile``).
- **Headers.** ``Authorization: Bearer <key>``, ``X-Workspace-Id`` when a workspace is set,
  ``User-Agent: pulumi-miget/<version>``.
- **Shapes.** Success bodies may be bare or wrapped in ``{"data": ...}``; error bodies carry
  ``{"error": "..."}`` or ``{"errors": "A, B"}``. Both are accepted.
- **Errors** are typed (``errors.py``) and carry the operation, the HTTP status and the API's
  message (plus what to check after a 401 — the key setting — or a 403 — the workspace); a
  transport failure says whether it was a timeout or a refused/dropped connection. The API key —
  and any secret the caller names — is redacted from every message, and exceptions are raised
  ``from None`` so tracebacks hold no request internals.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ReadTimeoutError
from urllib3.util.retry import Retry

from .._version import __version__
from ..errors import MigetError, TransportError, error_for_status
from ..settings import API_KEY, Settings

log = logging.getLogger("pulumi_miget")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Statuses that promise the server did nothing, so even a POST may be sent again.
NOT_APPLIED_STATUSES = frozenset({429, 503})
RETRY_AFTER_CAP = 60.0
BACKOFF_FACTOR = 0.25  # sleeps 0.5 s, 1 s, 2 s, 4 s, ...
BACKOFF_MAX = 8.0
BACKOFF_JITTER = 0.5
MAX_CONNECT_TIMEOUT = 10.0

REDACTED = "[redacted]"


class MigetRetry(Retry):
    """urllib3 Retry with two Miget-specific rules: POST is retried only on statuses that
    guarantee nothing happened, and ``Retry-After`` is capped so a bad header cannot hang a run."""

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if method.upper() == "POST":
            return status_code in NOT_APPLIED_STATUSES and bool(self.total)
        return super().is_retry(method, status_code, has_retry_after)

    def parse_retry_after(self, retry_after: str) -> float:
        return min(super().parse_retry_after(retry_after), RETRY_AFTER_CAP)


def retry_policy(max_retries: int) -> MigetRetry:
    return MigetRetry(
        total=max_retries,
        connect=max_retries,
        read=max_retries,
        status=max_retries,
        other=0,
        redirect=0,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=BACKOFF_FACTOR,
        backoff_max=BACKOFF_MAX,
        backoff_jitter=BACKOFF_JITTER,
        respect_retry_after_header=True,
        raise_on_status=False,  # hand the last response back, so the error names its status
        raise_on_redirect=False,
    )


class RetryBudget:
    """The retry policy's count and backoff, for the one loop urllib3 cannot run itself:
    re-posting a create whose answer was lost, after reconciling by name."""

    def __init__(self, retry: Retry) -> None:
        self._retry = retry

    def spend(self) -> bool:
        """Use one retry; False when the budget is exhausted."""
        try:
            self._retry = self._retry.increment(method="POST")
        except MaxRetryError:
            return False
        return True

    def sleep(self) -> None:
        self._retry.sleep()


def _unwrap(body: Any) -> Any:
    """Accept both the bare entity/array and the ``{"data": ...}`` envelope."""
    if isinstance(body, dict) and set(body) <= {"data", "meta", "pagination"} and "data" in body:
        return body["data"]
    return body


def _timed_out(exc: requests.RequestException) -> bool:
    """A read timeout, including one that used up the retries: requests reports that as a
    ConnectionError wrapping ``MaxRetryError(ReadTimeoutError)``, not as a Timeout."""
    if isinstance(exc, requests.Timeout):
        return True
    cause = exc.args[0] if exc.args else None
    return isinstance(cause, MaxRetryError) and isinstance(cause.reason, ReadTimeoutError)


def _hint(status: int, workspace: str | None) -> str:
    """What to check after a 401/403, which the API's own message does not say."""
    if status == 401:
        return f" (check the API key: '{API_KEY[0]}' / {API_KEY[1]})"
    if status == 403:
        return f" (workspace {workspace})" if workspace else " (the API key's default workspace)"
    return ""


def _error_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:300] if text else (response.reason or "no message")
    if isinstance(body, dict):
        for key in ("error", "errors", "message"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, list) and value:
                return ", ".join(str(v) for v in value)
            if isinstance(value, dict) and value:
                return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(body)[:300]


class MigetClient:
    """A thread-safe client for the Miget REST API (see the module docstring for its policy)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._local = threading.local()
        self._retry = retry_policy(settings.max_retries)
        read_timeout = settings.timeout
        self._timeout = (min(read_timeout, MAX_CONNECT_TIMEOUT), read_timeout)
        self._host = urlsplit(settings.api_url).netloc

    def __repr__(self) -> str:
        return f"MigetClient(api_url={self._settings.api_url!r})"

    @property
    def settings(self) -> Settings:
        return self._settings

    def retry_budget(self) -> RetryBudget:
        return RetryBudget(self._retry)

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(max_retries=self._retry, pool_connections=1, pool_maxsize=1)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers.update(
                {
                    "Authorization": f"Bearer {self._settings.api_key}",
                    "User-Agent": f"pulumi-miget/{__version__}",
                    "Accept": "application/json",
                }
            )
            self._local.session = session
        return session

    def _redact(self, text: str, secrets: Iterable[str | None]) -> str:
        for secret in (self._settings.api_key, *secrets):
            if secret and len(secret) >= 4:
                text = text.replace(secret, REDACTED)
        return text

    def request(
        self,
        method: str,
        path: str,
        operation: str,
        *,
        body: dict[str, Any] | None = None,
        workspace_id: str | None = None,
        secrets: Iterable[str | None] = (),
        text: bool = False,
    ) -> Any:
        """Send one request (with the retry policy) and return the unwrapped JSON body (with
        ``text``: the body as text, e.g. a deployment's ``text/plain`` logs).

        ``operation`` names what is being done ("create credential 'x'") for error messages;
        ``secrets`` are values (e.g. the registry token) to redact from any error text.
        """
        secrets = tuple(secrets)
        workspace = workspace_id or self._settings.workspace_id
        headers = {"X-Workspace-Id": workspace} if workspace else {}
        url = self._settings.api_url + path
        started = time.monotonic()
        try:
            response = self._session().request(
                method, url, json=body, headers=headers, timeout=self._timeout
            )
        except requests.RequestException as exc:
            if _timed_out(exc):
                raise TransportError(
                    operation,
                    f"no answer from {self._host} within {self._timeout[1]:g}s "
                    f"(after {self._settings.max_retries} retries)",
                ) from None
            reason = self._redact(type(exc).__name__, secrets)
            raise TransportError(
                operation,
                f"connection to {self._host} failed or was dropped ({reason}, "
                f"after {self._settings.max_retries} retries)",
            ) from None
        elapsed_ms = (time.monotonic() - started) * 1000
        log.debug("%s %s -> %s (%.0f ms)", method, path, response.status_code, elapsed_ms)
        if response.status_code >= 400:
            message = self._redact(_error_message(response), secrets)
            message += _hint(response.status_code, workspace)
            raise error_for_status(operation, response.status_code, message) from None
        if text:
            return self._redact(response.text, secrets)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return _unwrap(response.json())
        except ValueError:
            raise MigetError(
                f"{operation}: HTTP {response.status_code} with a body that is not JSON"
            ) from None

    def list(self, path: str, operation: str, *, workspace_id: str | None = None) -> list[Any]:
        """GET a collection: a bare array, or one wrapped in ``{"data": [...]}`` or
        ``{"items": [...]}`` (the docs disagree on the envelope; no pagination is documented)."""
        body = self.request("GET", path, operation, workspace_id=workspace_id)
        if isinstance(body, dict):
            body = body.get("items") or body.get("data") or []
        if not isinstance(body, list):
            raise MigetError(f"{operation}: expected a JSON array, got {type(body).__name__}")
        return body

    def close(self) -> None:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is not None:
            session.close()
            self._local.session = None
