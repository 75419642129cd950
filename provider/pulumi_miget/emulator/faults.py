"""Fault injection and the redacted request log, both driven by the control API.

A fault matches the next ``times`` requests whose method and path match (exact, or an
``fnmatch`` glob such as ``/api/v1/container_registry_credentials/*``) and does one of:

- ``status``: answer with ``status`` (and ``Retry-After`` when given) without doing anything;
- ``delay``: sleep ``delay`` seconds, then serve the request normally;
- ``drop``: close the connection before answering; nothing is done;
- ``lost_response``: do the operation, then close the connection without answering
  (the "commit, then lose the response" case a client must reconcile).

``delay`` may also be given with the other actions: the emulator sleeps first, then acts.

Bounds [INF]: ``times`` at most 1,000,000; ``delay`` (and the control API's latency) at most
3600 seconds, since ``time.sleep`` overflows on absurd durations and the request would answer
500; a numeric ``retry_after`` at most 86400 seconds (a day).
"""

from __future__ import annotations

import collections
import contextlib
import fnmatch
import math
import socket
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, TypeGuard

__all__ = [
    "ACTIONS",
    "MAX_DELAY_SECONDS",
    "MAX_RETRY_AFTER",
    "MAX_TIMES",
    "Fault",
    "FaultPlan",
    "FaultSpecError",
    "LogEntry",
    "RequestLog",
    "drop_connection",
    "is_seconds",
    "parse_fault",
]

ACTIONS = ("status", "delay", "drop", "lost_response")
LOG_LIMIT = 10_000  # oldest entries go first, so a long-running emulator cannot grow unbounded
MAX_TIMES = 1_000_000  # [INF] plenty for "every request of a test"
MAX_DELAY_SECONDS = 3600  # [INF] an hour; time.sleep() overflows long before 1e10 s
MAX_RETRY_AFTER = 86_400  # [INF] a day, as whole seconds in the header


class FaultSpecError(ValueError):
    """A fault specification sent to the control API is invalid."""


@dataclass(frozen=True)
class Fault:
    method: str
    path: str
    action: str
    times: int = 1
    status: int | None = None
    retry_after: str | None = None
    delay: float | None = None

    def matches(self, method: str, path: str) -> bool:
        return fnmatch.fnmatchcase(method, self.method) and fnmatch.fnmatchcase(path, self.path)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def is_seconds(value: object) -> TypeGuard[float]:
    """A finite, non-negative number of seconds. bool is an int subclass but not a duration;
    Python's JSON parser accepts NaN and Infinity, which time.sleep() would choke on."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, int):  # math.isfinite() overflows on a 400-digit int
        return value >= 0
    return math.isfinite(value) and value >= 0


def _require_string(spec: Mapping[str, Any], key: str) -> str:
    value = spec.get(key)
    if not isinstance(value, str) or not value:
        raise FaultSpecError(f"{key} is required and must be a non-empty string")
    return value


def _parse_times(spec: Mapping[str, Any]) -> int:
    times = spec.get("times", 1)
    if not isinstance(times, int) or isinstance(times, bool) or times < 1:
        raise FaultSpecError("times must be a positive integer")
    if times > MAX_TIMES:
        raise FaultSpecError(f"times must be at most {MAX_TIMES}")
    return times


def _parse_status(spec: Mapping[str, Any], action: str) -> int | None:
    status = spec.get("status")
    if action != "status":
        if status is not None:
            raise FaultSpecError("status is only used with action 'status'")
        return None
    if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
        raise FaultSpecError("status must be an HTTP error status (400-599)")
    return status


def _parse_retry_after(spec: Mapping[str, Any], action: str) -> str | None:
    retry_after = spec.get("retry_after")
    if retry_after is None:
        return None
    if action != "status":
        raise FaultSpecError("retry_after is only used with action 'status'")
    if is_seconds(retry_after):
        if retry_after > MAX_RETRY_AFTER:
            raise FaultSpecError(f"retry_after must be at most {MAX_RETRY_AFTER} seconds")
        # Retry-After is whole seconds (RFC 9110 §10.2.3).
        return str(int(retry_after))
    if isinstance(retry_after, str) and retry_after.strip():
        return retry_after.strip()  # an HTTP-date, passed through as given
    raise FaultSpecError("retry_after must be a number of seconds or an HTTP date")


def _parse_delay(spec: Mapping[str, Any], action: str) -> float | None:
    delay = spec.get("delay")
    if delay is None:
        if action == "delay":
            raise FaultSpecError("delay (seconds) is required with action 'delay'")
        return None
    if not is_seconds(delay):
        raise FaultSpecError("delay must be a non-negative number of seconds")
    if delay > MAX_DELAY_SECONDS:
        raise FaultSpecError(f"delay must be at most {MAX_DELAY_SECONDS} seconds")
    return float(delay)


def parse_fault(spec: Mapping[str, Any]) -> Fault:
    """A Fault from the control API's JSON; FaultSpecError says what is wrong."""
    method = _require_string(spec, "method").upper()
    path = _require_string(spec, "path")
    if not path.startswith("/"):
        raise FaultSpecError("path must start with '/'")
    action = spec.get("action")
    if action not in ACTIONS:
        raise FaultSpecError(f"action must be one of {', '.join(ACTIONS)}")
    return Fault(
        method=method,
        path=path,
        action=action,
        times=_parse_times(spec),
        status=_parse_status(spec, action),
        retry_after=_parse_retry_after(spec, action),
        delay=_parse_delay(spec, action),
    )


class FaultPlan:
    """Pending faults, consumed first-in first-out by matching requests."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault matching this request, with one use consumed."""
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.matches(method, path):
                    if fault.times > 1:
                        self._faults[index] = replace(fault, times=fault.times - 1)
                    else:
                        del self._faults[index]
                    return fault
        return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


@dataclass(frozen=True)
class LogEntry:
    """One served request. By construction it has no room for headers, body values or query
    strings, so the API key and the registry token can never end up in the log.

    ``fields`` are the names (never the values) of the JSON body's keys, sorted, with the keys of
    a nested object as ``key.child``, so a test can check that an update sends only the changed
    fields; empty when the request was
    answered before its body was read (401, 403, a fault, a GET).
    """

    method: str
    path: str
    status: int  # 0 when the connection was dropped without an answer
    workspace: str | None
    fields: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        entry = asdict(self)
        entry["fields"] = list(self.fields)
        return entry


class RequestLog:
    def __init__(self, limit: int = LOG_LIMIT) -> None:
        self._entries: collections.deque[LogEntry] = collections.deque(maxlen=limit)
        self._lock = threading.Lock()

    def record(self, entry: LogEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[LogEntry]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def drop_connection(environ: Mapping[str, Any]) -> None:
    """Close the client's connection now, so it never gets an HTTP response.

    Only shutdown() matters for the client: it sends FIN (or RST when request bytes are still
    unread), which ``requests`` reports as a ConnectionError. werkzeug's later attempt to write
    the response then fails with BrokenPipeError, which it treats as a dropped connection and
    does not log.
    """
    sock = environ.get("werkzeug.socket")
    if not isinstance(sock, socket.socket):
        raise RuntimeError("dropping a connection needs werkzeug's development server")
    with contextlib.suppress(OSError):  # the client may have gone already
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
