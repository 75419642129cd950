"""``miget-emulator`` / ``python -m pulumi_miget.emulator``: serve the emulator until stopped.

API keys come from ``--api-key`` (repeatable), else ``MIGET_EMULATOR_API_KEYS`` (comma
separated), else ``DEFAULT_API_KEY``. Ctrl-C and SIGTERM stop it cleanly (exit status 0).

Start-up failures are one line on stderr, never a traceback [INF]: exit status 1 when Flask (the
``emulator`` extra) is missing, the port is taken or the database cannot be used, 2 for a bad
flag value. ``--db PATH`` creates the file's missing parent folders (``--db .demo/emulator.db``
on a fresh checkout) [INF]. ``--deploy-seconds S`` sets how long a deployment takes (0.2 s by
default; ``PUT /_emulator/deployments`` changes it at run time, ``POST /_emulator/reset`` brings
back S).
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import sys
import threading
from collections.abc import Mapping, Sequence
from types import FrameType
from typing import TYPE_CHECKING

from pulumi_miget.emulator import FLASK_MISSING, is_flask_missing
from pulumi_miget.emulator.deploy_settings import (
    DEFAULT_DEPLOY_SECONDS,
    MAX_DEPLOY_SECONDS,
    DeploySpecError,
    check_deploy_seconds,
)
from pulumi_miget.emulator.tenancy import DEFAULT_API_KEY, DEFAULT_WORKSPACE_ID

if TYPE_CHECKING:
    from pulumi_miget.emulator.server import EmulatorServer

ENV_API_KEYS = "MIGET_EMULATOR_API_KEYS"
DEFAULT_PORT = 8910
PROG = "miget-emulator"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Serve a local emulator of Miget's container registry credential and app API.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port (default %(default)s; 0 = any free)"
    )
    parser.add_argument(
        "--db",
        default=":memory:",
        help="SQLite file that keeps credentials and apps across restarts",
    )
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY[@WORKSPACE_UUID]",
        help=f"accepted API key, repeatable; KEY@UUID is limited to one workspace "
        f"(default: ${ENV_API_KEYS}, else {DEFAULT_API_KEY})",
    )
    parser.add_argument(
        "--workspace",
        action="append",
        default=[],
        metavar="UUID",
        help=f"extra workspace, repeatable (the default one is {DEFAULT_WORKSPACE_ID})",
    )
    parser.add_argument(
        "--deploy-seconds",
        type=float,
        default=DEFAULT_DEPLOY_SECONDS,
        metavar="S",
        help=f"how long a deployment takes, 0 to {MAX_DEPLOY_SECONDS} "
        "(default %(default)s; PUT /_emulator/deployments changes it)",
    )
    return parser


def resolve_api_keys(cli_keys: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    """Flags win over the environment, which wins over the built-in local key."""
    if cli_keys:
        return list(cli_keys)
    from_env = [key.strip() for key in environ.get(ENV_API_KEYS, "").split(",") if key.strip()]
    return from_env or [DEFAULT_API_KEY]


def _announce(server: EmulatorServer, api_keys: Sequence[str], db: str) -> None:
    print(f"Miget emulator listening on {server.api_url}")
    if api_keys == [DEFAULT_API_KEY]:
        print(f"API key: {DEFAULT_API_KEY}  (send 'Authorization: Bearer {DEFAULT_API_KEY}')")
    else:
        # Keys the user chose are not echoed: they may be pasted from somewhere real.
        print(f"API keys: {len(api_keys)} from --api-key / ${ENV_API_KEYS}")
    print(f"Default workspace: {DEFAULT_WORKSPACE_ID}")
    if db == ":memory:":
        print("Database: in memory (lost on exit; use --db PATH to keep it)")
    else:
        print(f"Database: {db}")
    print("Control API: /_emulator/ (reset, requests, faults, workspaces, latency). Ctrl-C stops.")
    sys.stdout.flush()


def _stop_on_signals() -> threading.Event:
    """An event set by Ctrl-C or SIGTERM. Installed before the URL is announced, so a client
    that reads the announcement and signals at once is always handled cleanly."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    return stop


def _create_parent_folder(db: str) -> None:
    """Make the folder an SQLite file will live in; OSError when that is impossible."""
    if db in ("", ":memory:"):  # "" is SQLite's private temporary database
        return
    parent = os.path.dirname(os.path.abspath(db))
    os.makedirs(parent, exist_ok=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    api_keys = resolve_api_keys(args.api_key, os.environ)
    try:
        check_deploy_seconds(args.deploy_seconds, "--deploy-seconds")
    except DeploySpecError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 2
    try:
        # Flask is imported here, not at the top, so a missing extra is a hint, not a traceback.
        from pulumi_miget.emulator.server import EmulatorServer
    except ImportError as error:
        if not is_flask_missing(error):
            raise
        print(f"{PROG}: {FLASK_MISSING}", file=sys.stderr)
        return 1
    try:
        _create_parent_folder(args.db)
    except OSError as error:
        reason = error.strerror or str(error)
        print(f"{PROG}: cannot use database {args.db}: {reason}", file=sys.stderr)
        return 1
    try:
        server = EmulatorServer(
            host=args.host,
            port=args.port,
            api_keys=api_keys,
            workspaces=args.workspace,
            db=args.db,
            access_log=True,
            deploy_seconds=args.deploy_seconds,
        )
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        print(f"{PROG}: cannot listen on {args.host}:{args.port}: {reason}", file=sys.stderr)
        return 1
    except sqlite3.Error as error:
        print(f"{PROG}: cannot use database {args.db}: {error}", file=sys.stderr)
        return 1
    except ValueError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 2
    stop = _stop_on_signals()
    with server:
        _announce(server, api_keys, args.db)
        # A timed wait keeps the main thread responsive to signals on every platform.
        while not stop.wait(0.2):
            pass
    print("Miget emulator stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
