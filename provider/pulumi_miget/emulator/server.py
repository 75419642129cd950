"""Serving the emulator: ``EmulatorServer`` runs the Flask app of ``wsgi.py`` on a loopback port
with werkzeug, in a daemon thread, and offers the control API (``routes/control.py``) as methods
that act on the live state directly. ``miget-emulator`` (``__main__.py``) is a command line
around it.

Errors the HTTP server answers itself, before a request reaches the app (a garbage request line,
an unsupported HTTP version, a request line or headers too long), are JSON as well [INF]:
``{"error": "<the status's reason phrase>"}`` (e.g. ``Bad Request``), with ``Connection: close``.
The detail (``Bad request syntax ('GARBAGE')``) goes to the server's log, not to the client.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from pulumi_miget.emulator.deploy_settings import DEFAULT_DEPLOY_SECONDS
from pulumi_miget.emulator.faults import parse_fault
from pulumi_miget.emulator.http import emulator_of
from pulumi_miget.emulator.wsgi import create_app

__all__ = ["EmulatorServer"]


class _JSONErrorHandler(WSGIRequestHandler):
    """http.server answers malformed requests with an HTML page (``send_error``); these answer
    ``{"error": "<reason phrase>"}`` like every other emulator error [INF]."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        phrase = self.responses.get(code, ("Error", ""))[0]
        self.log_error("code %d, message %s", code, message or phrase)
        body = json.dumps({"error": phrase}, separators=(",", ":")).encode() + b"\n"
        if self.request_version == "HTTP/0.9":
            # A request line too broken to name its version is taken as HTTP/0.9, which gets no
            # status line or headers; answer it as HTTP/1.x so a client sees the status.
            self.request_version = "HTTP/1.0"
        self.send_response(code)  # the standard phrase: the detail may echo the client's bytes
        self.send_header("Connection", "close")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class _QuietHandler(_JSONErrorHandler):
    """No access log: tests run thousands of requests."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class _AccessLogHandler(_JSONErrorHandler):
    """One plain line per request on stderr: no colour codes (werkzeug adds them even when
    stderr is not a terminal) and no query string."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = urlsplit(getattr(self, "path", "") or "").path
        self.log("info", '"%s %s" %s', getattr(self, "command", None) or "-", path, code)


class EmulatorServer:
    """The emulator on a loopback port, served by werkzeug in a daemon thread.

    ``with EmulatorServer() as server:`` serves on a free port; ``server.api_url`` is the base
    URL for clients. The control methods act on the live state directly (no HTTP needed).
    ``deploy_seconds``: how long deployments take until ``set_deployments`` says otherwise.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_keys: Sequence[str] | None = None,
        workspaces: Sequence[str] = (),
        db: str = ":memory:",
        access_log: bool = False,
        deploy_seconds: float = DEFAULT_DEPLOY_SECONDS,
    ) -> None:
        self.app = create_app(
            api_keys=api_keys, workspaces=workspaces, db=db, deploy_seconds=deploy_seconds
        )
        self.emulator = emulator_of(self.app)
        try:
            self._server = _bind(host, port, self.app, access_log=access_log)
        except BaseException:
            self.emulator.store.close()
            raise
        self.host = host
        self.port: int = self._server.port
        display_host = f"[{host}]" if ":" in host else host
        self.url = f"http://{display_host}:{self.port}"
        self.api_url = f"{self.url}/api/v1"
        self._thread = threading.Thread(target=self._serve, name="miget-emulator", daemon=True)
        self._stopped = False

    def _serve(self) -> None:
        # A short poll interval makes stop() take milliseconds instead of up to half a second.
        self._server.serve_forever(poll_interval=0.05)

    def start(self) -> EmulatorServer:
        if not self._thread.is_alive() and not self._stopped:
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the database (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        if self._thread.is_alive():
            self._server.shutdown()  # serve_forever() closes the socket on its way out
            self._thread.join()
        else:
            self._server.server_close()
        self.emulator.store.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # The control API, without HTTP.

    def reset(self) -> None:
        self.emulator.reset()

    def requests_log(self) -> list[dict[str, Any]]:
        return [entry.to_json() for entry in self.emulator.log.entries()]

    def clear_log(self) -> None:
        self.emulator.log.clear()

    def add_fault(
        self,
        method: str,
        path: str,
        action: str,
        times: int = 1,
        status: int | None = None,
        retry_after: float | str | None = None,
        delay: float | None = None,
    ) -> dict[str, Any]:
        spec = {"method": method, "path": path, "action": action, "times": times}
        optional = {"status": status, "retry_after": retry_after, "delay": delay}
        spec.update({key: value for key, value in optional.items() if value is not None})
        fault = parse_fault(spec)
        self.emulator.faults.add(fault)
        return fault.to_json()

    def pending_faults(self) -> list[dict[str, Any]]:
        return [fault.to_json() for fault in self.emulator.faults.pending()]

    def clear_faults(self) -> None:
        self.emulator.faults.clear()

    def suspend(self, workspace_id: str, suspended: bool = True) -> None:
        self.emulator.suspend(workspace_id, suspended)

    def set_latency(self, seconds: float) -> None:
        self.emulator.set_latency(seconds)

    def set_deployments(
        self,
        *,
        duration_s: float | None = None,
        outcome: str | None = None,
        message: str | None = None,
        log: str | None = None,
        app: str | None = None,
        auto_deploy: bool | None = None,
        cancel_s: float | None = None,
    ) -> dict[str, Any]:
        """``PUT /_emulator/deployments`` without HTTP: the arguments given change how the next
        deployments (of ``app`` only, when given) behave; the others stay. DeploySpecError (a
        ValueError) for a bad value. Returns what the control API answers."""
        given = {
            "duration_s": duration_s,
            "outcome": outcome,
            "message": message,
            "log": log,
            "app": app,
            "auto_deploy": auto_deploy,
            "cancel_s": cancel_s,
        }
        spec = {key: value for key, value in given.items() if value is not None}
        app_id, settings = self.emulator.deploys.update(spec)
        return {"app": app_id, **settings.to_json()}

    def deployment_settings(self) -> dict[str, Any]:
        """``GET /_emulator/deployments``: ``{"default": {...}, "apps": {uuid: {...}}}``."""
        return self.emulator.deploys.to_json()


def _bind(host: str, port: int, app: Flask, *, access_log: bool) -> BaseWSGIServer:
    """A threaded werkzeug server on a socket we bind ourselves.

    werkzeug's own bind prints to stderr and calls sys.exit(1) when the port is taken; binding
    here turns that into an ordinary OSError the caller can report.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=128)
    try:
        handler = _AccessLogHandler if access_log else _QuietHandler
        return make_server(
            host,
            sock.getsockname()[1],
            app,
            threaded=True,
            request_handler=handler,
            fd=sock.fileno(),
        )
    finally:
        sock.close()  # werkzeug works on its own duplicate of the descriptor
