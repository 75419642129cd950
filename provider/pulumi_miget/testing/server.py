"""The provider process: the SDK's real dynamic-provider server, started as the engine's
``pulumi-resource-pulumi-python`` shim starts it (``python -u -m pulumi.dynamic``), and the
``__provider`` blob the SDK pickles into a resource's inputs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType, TracebackType
from typing import IO

import grpc
from pulumi.dynamic.dynamic import ResourceProvider, serialize_provider
from pulumi.runtime.proto import provider_pb2_grpc

# --------------------------------------------------------------------------------------------------
# The provider process
# --------------------------------------------------------------------------------------------------


class ProviderServer:
    """Runs ``python -u -m pulumi.dynamic`` the way the engine launches a dynamic provider.

    Mirrors ``sdk/python/dist/pulumi-resource-pulumi-python`` (the launch shim) and
    ``sdk/go/common/resource/plugin/plugin.go: newPlugin``: the working directory is the program
    directory (``python -m`` puts it on ``sys.path``, which matters for by-reference pickles),
    ``PULUMI_PROJECT`` is set (``provider_plugin.go: NewProvider``), the server prints its port as
    the first stdout line, and later stdout/stderr is relayed as plain text.

    ``cwd`` defaults to an empty temporary directory: the provider package is installed in the
    venv, so by-reference pickles import from site-packages. Pass ``cwd`` (e.g.
    :func:`import_root` of a test module) when the pickled class lives outside site-packages.
    """

    def __init__(
        self,
        cwd: str | os.PathLike[str] | None = None,
        *,
        project: str = "proj",
        env: Mapping[str, str] | None = None,
        python: str = sys.executable,
        start_timeout: float = 30.0,
    ) -> None:
        started = time.monotonic()
        self._tempdir: str | None = None
        if cwd is None:
            self._tempdir = tempfile.mkdtemp(prefix="pulumi-dynamic-")
            cwd = self._tempdir
        self.cwd = Path(cwd)
        self.project = project
        full_env = dict(os.environ)
        full_env["PULUMI_PROJECT"] = project
        full_env.update(env or {})
        self.stdout_lines: list[str] = []
        self.stderr_lines: list[str] = []
        self._closed = False
        self._proc = subprocess.Popen(
            [python, "-u", "-m", "pulumi.dynamic"],
            cwd=self.cwd,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self._proc.stdout is not None and self._proc.stderr is not None
        # Keep draining both pipes: provider print()s go there, and a full pipe would block the
        # provider. The first stdout line is the port handshake.
        first_line = threading.Event()
        self._port_line: str | None = None
        self._threads = [
            threading.Thread(
                target=self._drain,
                args=(self._proc.stdout, self.stdout_lines, first_line),
                daemon=True,
            ),
            threading.Thread(
                target=self._drain, args=(self._proc.stderr, self.stderr_lines, None), daemon=True
            ),
        ]
        for thread in self._threads:
            thread.start()
        deadline = started + start_timeout
        while not first_line.wait(0.05):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                break
        port_text = (self._port_line or "").strip()
        if not port_text.isdigit():
            self._fail_start(f"expected a port on stdout, got {port_text!r}")
        self.port = int(port_text)
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        try:
            grpc.channel_ready_future(self.channel).result(
                timeout=max(deadline - time.monotonic(), 1.0)
            )
        except grpc.FutureTimeoutError:
            self._fail_start("the gRPC channel never became ready")
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)
        self.startup_seconds = time.monotonic() - started

    def _drain(self, stream: IO[bytes], sink: list[str], first: threading.Event | None) -> None:
        for raw in iter(stream.readline, b""):
            text = raw.decode(errors="replace")
            if first is not None and not first.is_set():
                self._port_line = text
                first.set()
                continue
            sink.append(text)
        if first is not None:
            first.set()

    def _fail_start(self, why: str) -> None:
        self.close()
        raise RuntimeError(
            f"the dynamic provider server did not start ({why}); "
            f"exit code {self._proc.returncode}; stderr:\n{''.join(self.stderr_lines)}"
        )

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        return self._proc.poll()

    def output(self) -> str:
        """Everything the provider process printed so far (stdout after the port, then stderr)."""
        return "".join(self.stdout_lines) + "".join(self.stderr_lines)

    def close(self) -> None:
        """Stop the process (terminate, then kill), join the drain threads, remove the temp cwd."""
        if self._closed:
            return
        self._closed = True
        channel = getattr(self, "channel", None)
        if channel is not None:
            channel.close()
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        for thread in self._threads:
            thread.join(timeout=5)
        for stream in (self._proc.stdout, self._proc.stderr):
            if stream is not None:
                stream.close()
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)

    def __enter__(self) -> ProviderServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def import_root(module: ModuleType | str) -> Path:
    """The directory that must be on ``sys.path`` for ``module`` to import under its name.

    dill pickles an importable class *by reference* (module name + qualified name), so the
    provider server must be able to import that module name: start it with this as ``cwd``.
    """
    if isinstance(module, str):
        module = sys.modules[module]
    if module.__file__ is None:
        raise ValueError(f"{module.__name__} has no file")
    root = Path(module.__file__).resolve().parent
    if Path(module.__file__).name == "__init__.py":
        root = root.parent
    for _ in range(module.__name__.count(".")):
        root = root.parent
    return root


def provider_blob(provider: ResourceProvider) -> str:
    """The exact string the SDK stores in ``__provider`` (before any ``Output.secret`` wrap)."""
    blob: str = serialize_provider(provider)
    return blob
