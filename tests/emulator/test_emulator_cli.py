"""The ``miget-emulator`` command, run as a real subprocess."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

import pytest

from pulumi_miget.emulator.__main__ import ENV_API_KEYS, resolve_api_keys
from tests.emulator.helpers import Api, github_credential
from tests.samples import API_KEY, DEFAULT_WORKSPACE_ID, OTHER_WORKSPACE_ID

START_TIMEOUT = 20.0
URL_LINE = re.compile(r"^Miget emulator listening on (http://127\.0\.0\.1:(\d+)/api/v1)$")


class CliEmulator:
    """``python -m pulumi_miget.emulator --port 0 ...`` with its announcement parsed."""

    def __init__(
        self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pulumi_miget.emulator", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
            cwd=cwd,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        # Both pipes are drained by threads, so a chatty server can never block on a full pipe.
        self._lines: queue.Queue[str] = queue.Queue()
        self._stderr: list[str] = []
        self._pumps = [
            threading.Thread(target=self._pump, args=(self.process.stdout,), daemon=True),
            threading.Thread(target=self._collect_stderr, args=(self.process.stderr,), daemon=True),
        ]
        for pump in self._pumps:
            pump.start()
        self.announcement = self._read_announcement()
        match = URL_LINE.match(self.announcement[0])
        assert match, self.announcement
        self.api_url = match.group(1)
        self.url = self.api_url.removesuffix("/api/v1")

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line.rstrip("\n"))

    def _collect_stderr(self, stream: IO[str]) -> None:
        self._stderr.extend(stream)

    def _read_announcement(self) -> list[str]:
        lines: list[str] = []
        while not lines or not lines[-1].endswith("Ctrl-C stops."):
            try:
                lines.append(self._lines.get(timeout=START_TIMEOUT))
            except queue.Empty:
                self.process.kill()
                raise AssertionError(f"no announcement; got {lines}") from None
        return lines

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, list[str], str]:
        """Send ``sig``; the exit status, the stdout lines after the announcement, stderr."""
        self.process.send_signal(sig)
        self.process.wait(timeout=START_TIMEOUT)
        for pump in self._pumps:
            pump.join(timeout=START_TIMEOUT)  # both end at EOF, once the process has exited
        rest = []
        while not self._lines.empty():
            rest.append(self._lines.get())
        return self.process.returncode, rest, "".join(self._stderr)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def start_cli() -> Iterator[type[CliEmulator]]:
    started: list[CliEmulator] = []

    class Tracked(CliEmulator):
        def __init__(
            self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
        ) -> None:
            super().__init__(*args, env=env, cwd=cwd)
            started.append(self)

    yield Tracked
    for cli in started:
        cli.kill()


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pulumi_miget.emulator", *args],
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
    )


def test_the_cli_serves_the_five_endpoints_and_exits_0_on_sigterm(
    start_cli: type[CliEmulator],
) -> None:
    cli = start_cli()
    api = Api(cli.url)

    created = api.post(github_credential())
    listed = api.list()
    shown = api.get(created.json()["uuid"])
    updated = api.put(created.json()["uuid"], {"username": "cli-bot"})
    deleted = api.delete(created.json()["uuid"])
    code, rest, stderr = cli.stop()

    assert [r.status_code for r in (created, listed, shown, updated, deleted)] == [
        201,
        200,
        200,
        200,
        204,
    ]
    assert listed.json() == [created.json()]
    assert code == 0
    assert rest == ["Miget emulator stopped"]
    assert "Traceback" not in stderr
    assert '"DELETE /api/v1/container_registry_credentials/' in stderr  # the access log
    assert API_KEY not in stderr


def test_the_cli_announces_url_key_workspace_and_database(start_cli: type[CliEmulator]) -> None:
    cli = start_cli()

    assert cli.announcement == [
        f"Miget emulator listening on {cli.api_url}",
        f"API key: {API_KEY}  (send 'Authorization: Bearer {API_KEY}')",
        f"Default workspace: {DEFAULT_WORKSPACE_ID}",
        "Database: in memory (lost on exit; use --db PATH to keep it)",
        "Control API: /_emulator/ (reset, requests, faults, workspaces, latency). Ctrl-C stops.",
    ]
    assert cli.stop(signal.SIGINT)[:2] == (0, ["Miget emulator stopped"])


def test_the_cli_takes_keys_workspaces_and_a_db_and_keeps_data_across_runs(
    start_cli: type[CliEmulator], tmp_path: Path
) -> None:
    db = str(tmp_path / "cli.db")
    args = ["--db", db, "--api-key", "user-key", "--api-key", f"ws-key@{OTHER_WORKSPACE_ID}"]
    first = start_cli(*args, "--workspace", OTHER_WORKSPACE_ID)
    scoped = Api(first.url, key="ws-key")
    created = scoped.create()
    refused = scoped.in_workspace(DEFAULT_WORKSPACE_ID).list()
    assert first.stop()[0] == 0

    second = start_cli(*args)
    listed = Api(second.url, key="user-key", workspace=OTHER_WORKSPACE_ID).list()
    default_key = Api(second.url).list()

    assert first.announcement[1:4] == [
        f"API keys: 2 from --api-key / ${ENV_API_KEYS}",
        f"Default workspace: {DEFAULT_WORKSPACE_ID}",
        f"Database: {db}",
    ]
    assert refused.status_code == 403
    assert listed.json() == [created]
    assert default_key.status_code == 401
    assert second.stop()[0] == 0


def test_the_cli_reads_api_keys_from_the_environment(start_cli: type[CliEmulator]) -> None:
    cli = start_cli(env={ENV_API_KEYS: "env-key-1, env-key-2"})

    answers = [Api(cli.url, key=key).list().status_code for key in ("env-key-2", API_KEY)]

    assert answers == [200, 401]
    assert "env-key" not in "\n".join(cli.announcement)
    assert cli.stop()[0] == 0


@pytest.mark.parametrize(
    ("flags", "environ", "expected"),
    [
        (["a", "b@x"], {ENV_API_KEYS: "c"}, ["a", "b@x"]),
        ([], {ENV_API_KEYS: " c , ,d "}, ["c", "d"]),
        ([], {ENV_API_KEYS: " , "}, [API_KEY]),
        ([], {}, [API_KEY]),
    ],
)
def test_api_keys_come_from_flags_then_environment_then_the_default(
    flags: Sequence[str], environ: dict[str, str], expected: list[str]
) -> None:
    assert resolve_api_keys(flags, environ) == expected


def test_a_taken_port_is_a_one_line_error_with_exit_1() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run_cli("--port", str(port))

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"miget-emulator: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    )


def test_a_bad_workspace_flag_is_a_one_line_error_with_exit_2() -> None:
    result = run_cli("--port", "0", "--workspace", "not-a-uuid")

    assert result.returncode == 2
    assert result.stderr == "miget-emulator: workspace id 'not-a-uuid' is not a UUID\n"


def test_a_db_path_that_is_not_a_database_is_a_one_line_error(tmp_path: Path) -> None:
    db = tmp_path / "garbage.db"
    db.write_bytes(b"this is not sqlite" * 100)

    result = run_cli("--port", "0", "--db", str(db))

    assert result.returncode == 1
    assert result.stderr == f"miget-emulator: cannot use database {db}: file is not a database\n"


def test_the_console_script_is_installed_next_to_the_interpreter() -> None:
    script = Path(sys.executable).parent / "miget-emulator"

    result = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=START_TIMEOUT
    )

    assert result.returncode == 0
    for flag in ("--host", "--port", "--db", "--api-key", "--workspace"):
        assert flag in result.stdout


def test_importing_the_package_does_not_import_flask() -> None:
    code = "import sys, pulumi_miget, pulumi_miget.rules; print('flask' in sys.modules)"

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=START_TIMEOUT
    )

    assert (result.returncode, result.stdout) == (0, "False\n")


# --- start-up problems a fresh checkout meets -------------------------------------------------

FLASK_HINT = "miget-emulator: the emulator needs Flask: pip install 'pulumi-miget[emulator]'\n"
SCRIPT = Path(sys.executable).parent / "miget-emulator"


def test_a_db_in_a_folder_that_does_not_exist_yet_creates_the_folder(
    start_cli: type[CliEmulator], tmp_path: Path
) -> None:
    # The README's own example, from a fresh checkout: .demo/ does not exist.
    first = start_cli("--db", ".demo/emulator.db", cwd=tmp_path)
    created = Api(first.url).create()
    assert first.stop()[0] == 0
    second = start_cli("--db", ".demo/emulator.db", cwd=tmp_path)
    listed = Api(second.url).list()

    assert "Database: .demo/emulator.db" in first.announcement
    assert (tmp_path / ".demo" / "emulator.db").is_file()
    assert listed.json() == [created]
    assert second.stop()[0] == 0


def test_nested_missing_folders_of_an_absolute_db_path_are_created(
    start_cli: type[CliEmulator], tmp_path: Path
) -> None:
    db = tmp_path / "a" / "b" / "c" / "emulator.db"

    cli = start_cli("--db", str(db))

    assert f"Database: {db}" in cli.announcement
    assert cli.stop()[0] == 0
    assert db.is_file()


def test_a_db_folder_that_cannot_be_created_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("not a folder")
    db = tmp_path / "file.txt" / "sub" / "emulator.db"

    result = run_cli("--port", "0", "--db", str(db))

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == f"miget-emulator: cannot use database {db}: Not a directory\n"


def fake_missing_package(root: Path, package: str) -> dict[str, str]:
    """An environment whose PYTHONPATH shadows ``package`` with one that fails to import the way
    a missing package does (ModuleNotFoundError naming it)."""
    folder = root / package
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text(
        f"raise ModuleNotFoundError(\"No module named '{package}'\", name={package!r})\n"
    )
    pythonpath = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": pythonpath}


@pytest.mark.parametrize("package", ["flask", "werkzeug"])
def test_the_console_script_without_flask_prints_a_one_line_hint(
    tmp_path: Path, package: str
) -> None:
    env = fake_missing_package(tmp_path / "shadow", package)

    result = subprocess.run(
        [str(SCRIPT), "--port", "0"], capture_output=True, text=True, env=env, timeout=START_TIMEOUT
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == FLASK_HINT


def test_python_m_without_flask_prints_the_hint_and_help_still_works() -> None:
    # sys.modules["flask"] = None makes "import flask" fail exactly as an uninstalled Flask does.
    code = (
        "import runpy, sys; sys.modules['flask'] = None; sys.argv[1:] = {args!r}; "
        "runpy.run_module('pulumi_miget.emulator', run_name='__main__')"
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", code.format(args=list(args))],
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT,
        )

    served = run("--port", "0")
    helped = run("--help")

    assert (served.returncode, served.stdout, served.stderr) == (1, "", FLASK_HINT)
    assert helped.returncode == 0 and "--db" in helped.stdout


def test_importing_the_server_without_flask_names_the_extra_to_install() -> None:
    code = (
        "import sys; sys.modules['flask'] = None\n"
        "from pulumi_miget.emulator import DEFAULT_API_KEY, DEFAULT_WORKSPACE_ID, FaultSpecError\n"
        "print(DEFAULT_API_KEY)\n"
        "try:\n"
        "    from pulumi_miget.emulator import EmulatorServer\n"
        "except ModuleNotFoundError as error:\n"
        "    print(type(error).__name__, error.name, error, sep='|')\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=START_TIMEOUT
    )

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        API_KEY,
        "ModuleNotFoundError|flask|the emulator needs Flask: pip install 'pulumi-miget[emulator]'",
    ]
