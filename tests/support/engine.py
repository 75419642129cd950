"""A stand-in for the Pulumi engine's side of the resource-provider gRPC protocol.

The Pulumi CLI is not available to the tests, so this module plays the engine against the SDK's
**real** dynamic-provider server: ``python -u -m pulumi.dynamic``, the process the engine's
``pulumi-resource-pulumi-python`` shim starts. Requests are encoded into
``google.protobuf.Struct`` exactly as the engine marshals them, and the engine's rules are applied
to what comes back.

Every engine rule below is commented with the engine source it mirrors (paths in
``pulumi/pulumi``; see ``pulumi-dynamic.md`` in the design notes for the evidence). In short:

* ``Configure`` carries the whole stack config (namespaced keys, string values, secrets wrapped);
  the Python server answers ``acceptSecrets=False, supportsPreview=False``.
* Every later request is therefore marshalled with secrets **stripped**; secretness is re-applied
  to results with ``annotateSecrets`` (same-named input was secret) and, in the step executor,
  ``additional_secret_outputs`` and the "secret input leaks into an output" rule.
* Unknowns are only sent in preview ``Check``/``Diff``; ``Create``/``Update`` are not sent during
  preview at all.
* ``Diff``/``Update`` get the **old outputs** as ``olds`` (old inputs alongside); ``Read`` gets the
  outputs as ``properties`` and the inputs as ``inputs``; ``Delete`` gets the outputs.

Values use a small in-memory model: plain JSON-like Python values, :class:`Secret` wrappers and
the :data:`UNKNOWN` marker. Numbers come back from a ``Struct`` as floats, as in the engine.

Nothing here is specific to the Miget provider; the same harness drives any dynamic provider.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType
from typing import IO, Any, Final

import grpc
from google.protobuf import json_format, struct_pb2
from pulumi.dynamic.dynamic import ResourceProvider, serialize_provider
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

__all__ = [
    "DIFF_NONE",
    "DIFF_SOME",
    "DIFF_UNKNOWN",
    "SECRET_SIG",
    "SIG_KEY",
    "UNKNOWN",
    "UNKNOWN_WIRE",
    "CheckFailed",
    "Engine",
    "Plan",
    "Props",
    "ProviderServer",
    "ResourceState",
    "Secret",
    "UnknownOutsidePreview",
    "annotate_secrets",
    "apply_step_secrets",
    "contains_secrets",
    "contains_unknowns",
    "decode",
    "destroy",
    "encode",
    "from_struct",
    "import_root",
    "is_secret",
    "plain",
    "plan",
    "preview_outputs",
    "provider_blob",
    "refresh",
    "to_struct",
    "up",
]

Props = dict[str, Any]
"""A property map in the harness's value model (plain values, Secret, UNKNOWN)."""

# Wire-format constants from the SDK, so they never drift (sdk/python/lib/pulumi/runtime/rpc.py)
SIG_KEY: Final[str] = rpc._special_sig_key
SECRET_SIG: Final[str] = rpc._special_secret_sig
UNKNOWN_WIRE: Final[str] = rpc.UNKNOWN

DIFF_UNKNOWN: Final[int] = provider_pb2.DiffResponse.DIFF_UNKNOWN
DIFF_NONE: Final[int] = provider_pb2.DiffResponse.DIFF_NONE
DIFF_SOME: Final[int] = provider_pb2.DiffResponse.DIFF_SOME

PYTHON_PROVIDER_TYPE: Final[str] = "pulumi:providers:pulumi-python"


# --------------------------------------------------------------------------------------------------
# Value model
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Secret:
    """A secret value, as the engine's ``resource.MakeSecret`` marks it."""

    value: Any


class _Unknown(enum.Enum):
    UNKNOWN = "unknown"

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown.UNKNOWN
"""A value not known during preview (the engine's ``Computed``)."""


class UnknownOutsidePreview(ValueError):
    """An unknown value would cross the wire outside preview; the engine never does that."""


def encode(value: Any, *, keep_secrets: bool, keep_unknowns: bool) -> Any:
    """Harness value → JSON-like wire value.

    Mirrors ``sdk/go/common/resource/plugin/rpc.go: MarshalPropertyValue``: a secret becomes the
    signature wrapper only with ``KeepSecrets``, otherwise its plain element; an unknown becomes
    the unknown sentinel only with ``KeepUnknowns``. (The engine would silently drop an unknown
    outside preview; it never has one there, so the harness refuses instead.)
    """
    if isinstance(value, Secret):
        inner = encode(value.value, keep_secrets=keep_secrets, keep_unknowns=keep_unknowns)
        return {SIG_KEY: SECRET_SIG, "value": inner} if keep_secrets else inner
    if value is UNKNOWN:
        if not keep_unknowns:
            raise UnknownOutsidePreview("an unknown value may only be sent in a preview Check/Diff")
        return UNKNOWN_WIRE
    if isinstance(value, Mapping):
        return {
            str(k): encode(v, keep_secrets=keep_secrets, keep_unknowns=keep_unknowns)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [encode(v, keep_secrets=keep_secrets, keep_unknowns=keep_unknowns) for v in value]
    return value


def to_struct(
    props: Mapping[str, Any], *, keep_secrets: bool = False, keep_unknowns: bool = False
) -> struct_pb2.Struct:
    """Encode a property map into the ``Struct`` a request carries."""
    struct = struct_pb2.Struct()
    struct.update(encode(props, keep_secrets=keep_secrets, keep_unknowns=keep_unknowns))
    return struct


def decode(value: Any) -> Any:
    """JSON-like wire value → harness value (secret wrappers → Secret, sentinel → UNKNOWN).

    Mirrors ``UnmarshalPropertyValue`` with ``KeepSecrets``/``KeepUnknowns``; other signatures
    (assets, resource references) are left as dicts.
    """
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return Secret(decode(value.get("value")))
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    if value == UNKNOWN_WIRE:
        return UNKNOWN
    return value


def from_struct(struct: struct_pb2.Struct) -> Props:
    """Decode a response ``Struct`` into a property map."""
    result: Props = decode(json_format.MessageToDict(struct))
    return result


def is_secret(value: Any) -> bool:
    return isinstance(value, Secret)


def contains_secrets(value: Any) -> bool:
    """``resource.PropertyValue.ContainsSecrets`` (sdk/go/common/resource/properties.go)."""
    if isinstance(value, Secret):
        return True
    if isinstance(value, Mapping):
        return any(contains_secrets(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(contains_secrets(v) for v in value)
    return False


def contains_unknowns(value: Any) -> bool:
    """``resource.PropertyValue.ContainsUnknowns``."""
    if value is UNKNOWN:
        return True
    if isinstance(value, Secret):
        return contains_unknowns(value.value)
    if isinstance(value, Mapping):
        return any(contains_unknowns(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(contains_unknowns(v) for v in value)
    return False


def plain(value: Any) -> Any:
    """Strip every Secret wrapper (what a provider with ``acceptSecrets=False`` sees)."""
    if isinstance(value, Secret):
        return plain(value.value)
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def annotate_secrets(outs: Mapping[str, Any] | None, ins: Mapping[str, Any] | None) -> Props:
    """Port of ``sdk/go/common/resource/plugin/provider_plugin.go: annotateSecrets``.

    An output becomes secret when the same-named input contains a secret. Objects on both sides
    are recursed into (so one secret field does not taint a whole object); anything else,
    arrays included, is marked secret as a whole. Returns a new map; ``outs`` is not mutated.
    """
    result: Props = dict(outs or {})
    if not ins:
        return result
    for key, in_value in ins.items():
        if key not in result:
            continue
        out_value = result[key]
        # `IsObject()` is false for a secret, so a Secret(dict) on either side is not recursed.
        if isinstance(out_value, dict) and isinstance(in_value, dict):
            result[key] = annotate_secrets(out_value, in_value)
        elif not isinstance(out_value, Secret) and contains_secrets(in_value):
            result[key] = Secret(out_value)
    return result


def apply_step_secrets(
    outputs: Mapping[str, Any],
    inputs: Mapping[str, Any],
    additional_secret_outputs: Iterable[str] = (),
) -> Props:
    """The secret rules the step executor applies to every new state.

    Mirrors ``pkg/resource/deploy/step_executor.go: continueExecuteStep`` (``executeStep`` in
    older engines): (1) every key in ``AdditionalSecretOutputs`` present in the outputs is made
    secret (``id`` cannot be, the engine only warns); (2) "if an input secret is potentially
    leaked as an output": an output whose same-named input *is* a secret becomes secret.
    """
    result: Props = dict(outputs)
    for key in additional_secret_outputs:
        if key != "id" and key in result and not isinstance(result[key], Secret):
            result[key] = Secret(result[key])
    for key, value in result.items():
        if not isinstance(value, Secret) and isinstance(inputs.get(key), Secret):
            result[key] = Secret(value)
    return result


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


# --------------------------------------------------------------------------------------------------
# State and the engine
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResourceState:
    """One resource in the checkpoint (``resource.State``: URN, ID, Inputs, Outputs)."""

    urn: str
    id: str
    inputs: Props
    outputs: Props
    additional_secret_outputs: tuple[str, ...] = ()
    replacement_trigger: Any = None
    """The ``replacement_trigger`` option's value at the last step (``resource.State``
    ``ReplacementTrigger``); None when the resource has none."""

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    @property
    def type(self) -> str:
        """The resource type (the last ``$``-separated part of the URN's qualified type)."""
        return self.urn.split("::")[2].split("$")[-1]


class CheckFailed(Exception):
    """``Check`` returned failures; the engine stops the step and shows them."""

    def __init__(self, name: str, failures: Sequence[tuple[str, str]]) -> None:
        self.name = name
        self.failures = list(failures)
        detail = "; ".join(f"{prop}: {reason}" for prop, reason in self.failures)
        super().__init__(f"{name}: check failed: {detail}")


class Engine:
    """Drives a :class:`ProviderServer` for one resource type, the way the engine does.

    Mirrors ``sdk/go/common/resource/plugin/provider_plugin.go`` (the ``provider`` methods) plus
    the step executor's secret rules on Create/Update results. gRPC errors propagate as
    ``grpc.RpcError`` (the provider's traceback is in ``.details()``).
    """

    def __init__(
        self, server: ProviderServer, type_token: str, project: str = "proj", stack: str = "dev"
    ) -> None:
        self.server = server
        self.type = type_token
        self.project = project
        self.stack = stack
        self.accept_secrets: bool | None = None
        self.supports_preview: bool | None = None
        self.calls: list[tuple[str, str]] = []
        """Every RPC sent, as (method, resource name): lets tests assert what was (not) called."""

    @property
    def stub(self) -> provider_pb2_grpc.ResourceProviderStub:
        return self.server.stub

    def urn(self, name: str) -> str:
        return f"urn:pulumi:{self.stack}::{self.project}::{self.type}::{name}"

    def _keep_secrets(self) -> bool:
        # provider_plugin.go: every Marshal uses KeepSecrets: protocol.acceptSecrets, which comes
        # from the Configure reply. The engine always configures before any other call.
        if self.accept_secrets is None:
            raise RuntimeError("Engine.configure() must be called first (the engine always does)")
        return self.accept_secrets

    def _send(self, method: str, name: str, request: Any) -> Any:
        self.calls.append((method, name))
        return getattr(self.stub, method)(request)

    def _struct(self, props: Mapping[str, Any], *, unknowns: bool = False) -> struct_pb2.Struct:
        return to_struct(props, keep_secrets=self._keep_secrets(), keep_unknowns=unknowns)

    def _annotate(self, outs: Props, ins: Mapping[str, Any] | None) -> Props:
        # provider_plugin.go (Check/Create/Read/Update): "If we could not pass secrets to the
        # provider, retain the secret bit on any property with the same name."
        return outs if self.accept_secrets else annotate_secrets(outs, ins)

    @staticmethod
    def _reject_unknowns(props: Props, what: str) -> None:
        # provider_plugin.go: results are unmarshalled with RejectUnknowns outside preview.
        if contains_unknowns(props):
            raise UnknownOutsidePreview(f"{what} returned an unknown value outside preview")

    # -- Configure ------------------------------------------------------------------------------

    def configure(self, config: Mapping[str, Any]) -> provider_pb2.ConfigureResponse:
        """Send the stack config as the default ``pulumi-python`` provider's inputs.

        ``pkg/resource/deploy/target.go`` keeps namespaced keys (``miget:apiKey``) for the
        ``pulumi-python`` package, values are strings (structured config JSON-encoded) and secure
        values stay secret. ``provider_plugin.go: Configure`` sends ``args`` with KeepSecrets=true,
        ``variables`` (``<pkg>:config:<key>``, secrets removed) and ``acceptSecrets=true``; it
        keeps ``acceptSecrets``/``supportsPreview`` from the reply.
        """
        args: Props = {}
        variables: dict[str, str] = {}
        for key, value in config.items():
            secret = isinstance(value, Secret)
            raw = value.value if isinstance(value, Secret) else value
            text = raw if isinstance(raw, str) else json.dumps(raw)
            args[key] = Secret(text) if secret else text
            variables[f"pulumi-python:config:{key}"] = text
        response: provider_pb2.ConfigureResponse = self._send(
            "Configure",
            "default",
            provider_pb2.ConfigureRequest(
                args=to_struct(args, keep_secrets=True),
                variables=variables,
                acceptSecrets=True,
                acceptResources=True,
                sends_old_inputs=True,
                sends_old_inputs_to_delete=True,
                urn=f"urn:pulumi:{self.stack}::{self.project}::{PYTHON_PROVIDER_TYPE}::default",
                name="default",
                type=PYTHON_PROVIDER_TYPE,
            ),
        )
        self.accept_secrets = response.acceptSecrets
        self.supports_preview = response.supportsPreview
        return response

    # -- Check / Diff (also during preview) -----------------------------------------------------

    def check(
        self, name: str, olds: Mapping[str, Any], news: Mapping[str, Any], preview: bool = False
    ) -> tuple[Props, list[tuple[str, str]]]:
        """``provider_plugin.go: Check``: olds are the old *inputs* ({} on create).

        Unknowns cross only with ``AllowUnknowns`` (preview); the returned inputs get
        ``annotateSecrets(inputs, news)``.
        """
        response = self._send(
            "Check",
            name,
            provider_pb2.CheckRequest(
                urn=self.urn(name),
                name=name,
                type=self.type,
                olds=self._struct(olds, unknowns=preview),
                news=self._struct(news, unknowns=preview),
            ),
        )
        inputs = from_struct(response.inputs)
        if not preview:
            self._reject_unknowns(inputs, "Check")
        inputs = self._annotate(inputs, news)
        failures = [(f.property, f.reason) for f in response.failures]
        return inputs, failures

    def diff(
        self, name: str, state: ResourceState, news: Mapping[str, Any], preview: bool = False
    ) -> provider_pb2.DiffResponse:
        """``provider_plugin.go: Diff``: ``olds`` = old OUTPUTS, ``old_inputs`` alongside."""
        response: provider_pb2.DiffResponse = self._send(
            "Diff",
            name,
            provider_pb2.DiffRequest(
                id=state.id,
                urn=state.urn,
                name=name,
                type=self.type,
                olds=self._struct(state.outputs, unknowns=preview),
                old_inputs=self._struct(state.inputs, unknowns=preview),
                news=self._struct(news, unknowns=preview),
            ),
        )
        return response

    # -- Create / Update (never during preview: supportsPreview=False) --------------------------

    def create(
        self, name: str, inputs: Mapping[str, Any], additional_secret_outputs: Iterable[str] = ()
    ) -> ResourceState:
        """``provider_plugin.go: Create`` then the step executor's secret rules."""
        aso = tuple(additional_secret_outputs)
        urn = self.urn(name)
        response = self._send(
            "Create",
            name,
            provider_pb2.CreateRequest(
                urn=urn, name=name, type=self.type, properties=self._struct(inputs), preview=False
            ),
        )
        # provider_plugin.go: Create: an empty ID outside preview is an engine error.
        if not response.id:
            raise RuntimeError(f"plugin returned empty resource.ID from create '{urn}'")
        outputs = from_struct(response.properties)
        self._reject_unknowns(outputs, "Create")
        outputs = self._annotate(outputs, inputs)
        outputs = apply_step_secrets(outputs, inputs, aso)
        return ResourceState(urn, response.id, dict(inputs), outputs, aso)

    def update(
        self,
        name: str,
        state: ResourceState,
        news: Mapping[str, Any],
        additional_secret_outputs: Iterable[str] = (),
    ) -> ResourceState:
        """``provider_plugin.go: Update``: olds = old OUTPUTS, old_inputs alongside; the
        returned outputs *replace* the stored ones (``pkg/resource/deploy/step.go: UpdateStep``)."""
        aso = tuple(additional_secret_outputs)
        response = self._send(
            "Update",
            name,
            provider_pb2.UpdateRequest(
                id=state.id,
                urn=state.urn,
                name=name,
                type=self.type,
                olds=self._struct(state.outputs),
                old_inputs=self._struct(state.inputs),
                news=self._struct(news),
                preview=False,
            ),
        )
        outputs = from_struct(response.properties)
        self._reject_unknowns(outputs, "Update")
        outputs = self._annotate(outputs, news)
        outputs = apply_step_secrets(outputs, news, aso)
        return ResourceState(state.urn, state.id, dict(news), outputs, aso)

    # -- Read -----------------------------------------------------------------------------------

    def _read(
        self,
        name: str,
        resource_id: str,
        urn: str,
        properties: Mapping[str, Any] | None,
        inputs: Mapping[str, Any] | None,
    ) -> tuple[str, Props, Props | None]:
        # provider_plugin.go: Read: properties = state, inputs = inputs (omitted when nil);
        # then annotateSecrets(newInputs, req.Inputs) and annotateSecrets(newState, req.State).
        request = provider_pb2.ReadRequest(id=resource_id, urn=urn, name=name, type=self.type)
        if properties is not None:
            request.properties.CopyFrom(self._struct(properties))
        if inputs is not None:
            request.inputs.CopyFrom(self._struct(inputs))
        response = self._send("Read", name, request)
        outputs = self._annotate(from_struct(response.properties), properties)
        new_inputs: Props | None = None
        if response.HasField("inputs"):
            new_inputs = self._annotate(from_struct(response.inputs), inputs)
        self._reject_unknowns(outputs, "Read")
        return response.id, outputs, new_inputs

    def read(self, state: ResourceState) -> tuple[str, Props, Props | None]:
        """Refresh read (``pkg/resource/deploy/step.go: RefreshStep``): properties = old outputs,
        inputs = old inputs. Returns (id, outputs, inputs or None); id ``""`` means gone."""
        if not state.id:
            raise ValueError("Read ID was empty")  # provider_plugin.go: Read asserts this
        return self._read(state.name, state.id, state.urn, state.outputs, state.inputs)

    def get_read(
        self, name: str, resource_id: str, inputs: Mapping[str, Any]
    ) -> tuple[str, Props, Props | None]:
        """A user-driven ``Resource.get`` (``step.go: ReadStep``): no state, only inputs.

        The SDK server falls back to ``inputs`` to find ``__provider`` when ``properties`` is
        empty (``pulumi/dynamic/__main__.py: Read``)."""
        return self._read(name, resource_id, self.urn(name), None, inputs)

    def import_read(self, name: str, resource_id: str) -> tuple[str, Props, Props | None]:
        """What ``pulumi import`` / ``import_=`` sends (``step.go: ImportStep``): a Read with
        only id and URN. The SDK server fails with ``KeyError: '__provider'`` (pulumi#16175)."""
        return self._read(name, resource_id, self.urn(name), None, None)

    # -- Delete ---------------------------------------------------------------------------------

    def delete(self, state: ResourceState) -> None:
        """``provider_plugin.go: Delete``: properties = OUTPUTS, old_inputs alongside."""
        self._send(
            "Delete",
            state.name,
            provider_pb2.DeleteRequest(
                id=state.id,
                urn=state.urn,
                name=state.name,
                type=self.type,
                properties=self._struct(state.outputs),
                old_inputs=self._struct(state.inputs),
            ),
        )


# --------------------------------------------------------------------------------------------------
# A slice of the step generator
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What the step generator decided for one resource (before any step is applied)."""

    op: str
    """``create``, ``same``, ``update`` or ``replace``."""
    inputs: Props
    """The checked inputs (engine-annotated): the new state's inputs."""
    diff: provider_pb2.DiffResponse | None = None
    delete_before_replace: bool = False
    replaces: tuple[str, ...] = ()


def plan(
    engine: Engine,
    name: str,
    news: Mapping[str, Any],
    old_state: ResourceState | None,
    *,
    preview: bool = False,
    delete_before_replace: bool | None = None,
    replacement_trigger: Any = None,
) -> Plan:
    """Check, then Diff against the old state, and pick the step.

    Mirrors ``pkg/resource/deploy/step_generator.go``: ``Check(olds=old inputs, news)``
    (``AllowUnknowns`` only in preview); failures stop the resource. With an old state,
    ``diffResource`` calls ``Diff``; ``DIFF_UNKNOWN`` (the SDK default ``diff``) falls back to
    comparing old and new inputs; ``DIFF_SOME`` with replace keys → replace (delete first if the
    provider says so, unless the program's ``delete_before_replace`` option overrides it:
    step_generator.go:2043-2046, the option is set when ``deleteBeforeReplaceDefined`` or true,
    source_eval.go:2354), ``DIFF_SOME`` otherwise → update,
    anything else → same.
    """
    inputs, failures = engine.check(
        name, old_state.inputs if old_state else {}, news, preview=preview
    )
    if failures:
        raise CheckFailed(name, failures)
    if old_state is None:
        return Plan("create", inputs)
    # step_generator.go:1804-1813 (generateStepsFromDiff): a changed replacement trigger is a
    # replace decided without asking the provider's Diff (shouldTriggerReplace: unknowns count
    # as changed, a null on either side as "no trigger").
    if not preview and contains_unknowns(replacement_trigger):
        # step_generator.go:1797-1802
        raise RuntimeError(f"replacement trigger contains unknowns for {engine.urn(name)}")
    if _trigger_replaces(replacement_trigger, old_state.replacement_trigger):
        # step_generator.go:2005-2020: on replace the engine checks the goal again with no olds.
        inputs, failures = engine.check(name, {}, news, preview=preview)
        if failures:
            raise CheckFailed(name, failures)
        return Plan("replace", inputs, None, bool(delete_before_replace), ("<trigger>",))
    diff = engine.diff(name, old_state, inputs, preview=preview)
    changes: int = diff.changes
    if changes == DIFF_UNKNOWN:
        changes = DIFF_SOME if plain(old_state.inputs) != plain(inputs) else DIFF_NONE
    if changes != DIFF_SOME:
        return Plan("same", inputs, diff)
    replaces = tuple(diff.replaces)
    if replaces:
        dbr = (
            bool(diff.deleteBeforeReplace)
            if delete_before_replace is None
            else delete_before_replace
        )
        # step_generator.go:2005-2020: on replace the engine checks the goal again with no olds,
        # and the create uses that result.
        inputs, failures = engine.check(name, {}, news, preview=preview)
        if failures:
            raise CheckFailed(name, failures)
        return Plan("replace", inputs, diff, dbr, replaces)
    return Plan("update", inputs, diff)


def up(
    engine: Engine,
    name: str,
    news: Mapping[str, Any],
    old_state: ResourceState | None,
    additional_secret_outputs: Iterable[str] = (),
    preview: bool = False,
    *,
    delete_before_replace: bool | None = None,
    replacement_trigger: Any = None,
) -> tuple[str, ResourceState | None]:
    """One resource's slice of ``pulumi up`` (or ``preview``): returns (op, new state).

    * ``create``: Create with the checked inputs.
    * ``same``: no provider call; ``step.go: SameStep`` keeps the OLD outputs (including the old
      ``__provider`` blob) and takes the new inputs.
    * ``update``: Update; its outputs replace the old ones.
    * ``replace``: delete-before-replace (Delete, then Create) or create-before-delete (Create,
      then Delete of the old resource; the engine defers that delete to the end of the run).

    In preview only Check and Diff are sent and the state is ``None``: with
    ``supportsPreview=False`` ``provider_plugin.go`` answers preview Create/Update itself with the
    inputs as outputs (see :func:`preview_outputs`).
    """
    aso = tuple(additional_secret_outputs)
    decided = plan(
        engine,
        name,
        news,
        old_state,
        preview=preview,
        delete_before_replace=delete_before_replace,
        replacement_trigger=replacement_trigger,
    )
    if preview:
        if engine.supports_preview:
            raise NotImplementedError("the harness only models supportsPreview=False providers")
        return decided.op, None

    def keep_trigger(state: ResourceState) -> ResourceState:
        return dataclasses.replace(state, replacement_trigger=replacement_trigger)

    if decided.op == "create":
        return "create", keep_trigger(engine.create(name, decided.inputs, aso))
    assert old_state is not None
    if decided.op == "same":
        outputs = apply_step_secrets(old_state.outputs, decided.inputs, aso)
        same = ResourceState(old_state.urn, old_state.id, decided.inputs, outputs, aso)
        return "same", keep_trigger(same)
    if decided.op == "update":
        return "update", keep_trigger(engine.update(name, old_state, decided.inputs, aso))
    if decided.delete_before_replace:
        engine.delete(old_state)
        return "replace", keep_trigger(engine.create(name, decided.inputs, aso))
    new_state = engine.create(name, decided.inputs, aso)
    engine.delete(old_state)
    return "replace", keep_trigger(new_state)


def _trigger_replaces(new: Any, old: Any) -> bool:
    """``shouldTriggerReplace`` (step_generator.go:3683-3698), secrets unwrapped."""
    new, old = plain(new), plain(old)
    if contains_unknowns(new) or contains_unknowns(old):
        return True
    if new is None or old is None:
        return False
    return bool(new != old)


def preview_outputs(
    decided: Plan, old_state: ResourceState | None, additional_secret_outputs: Iterable[str] = ()
) -> tuple[str, Props]:
    """The (id, outputs) a preview step hands back to the program.

    ``provider_plugin.go: Create/Update`` with ``Preview`` and ``!supportsPreview`` return the
    inputs as the outputs (output-only properties are therefore unknown in the program); a
    create/replace has no ID yet. A same step keeps the old outputs.
    """
    aso = tuple(additional_secret_outputs)
    if decided.op == "same" and old_state is not None:
        return old_state.id, apply_step_secrets(old_state.outputs, decided.inputs, aso)
    resource_id = old_state.id if decided.op == "update" and old_state is not None else ""
    return resource_id, apply_step_secrets(decided.inputs, decided.inputs, aso)


def refresh(engine: Engine, state: ResourceState) -> ResourceState | None:
    """``pulumi refresh`` for one resource (``step.go: RefreshStep``).

    Read with the old outputs and inputs; a blank id means the resource is gone and is dropped
    from the state (``None``). The new inputs come from ``ReadResponse.inputs`` when the provider
    returns them (SDK ≥ 3.216), else the old inputs are kept; the step executor re-applies the
    stored ``additional_secret_outputs``.
    """
    new_id, outputs, new_inputs = engine.read(state)
    if not new_id:
        return None
    inputs = new_inputs if new_inputs is not None else state.inputs
    outputs = apply_step_secrets(outputs, inputs, state.additional_secret_outputs)
    return ResourceState(state.urn, new_id, inputs, outputs, state.additional_secret_outputs)


def destroy(engine: Engine, state: ResourceState) -> None:
    """``pulumi destroy`` for one resource (``step.go: DeleteStep``): Delete with the outputs."""
    engine.delete(state)
