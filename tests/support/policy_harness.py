"""A stand-in for the Pulumi engine's side of the policy-pack (analyzer) gRPC protocol.

The Pulumi CLI is not available to the tests, so this module does what the engine does with a
policy pack, against the pack's **real** process:

1. :class:`PolicyPack` starts ``python -u -m pulumi.policy <engine address> .`` in the pack folder,
   with the ``PULUMI_*`` environment the language host sets, and reads the port the pack prints.
2. It drives the ``Analyzer`` service in the engine's order: ``ConfigureStack`` →
   ``GetAnalyzerInfo`` → ``Configure`` (config reconciled like the CLI does) → ``Remediate`` then
   ``Analyze`` per resource → ``AnalyzeStack`` once at the end.
3. :func:`capture` runs a real Pulumi program (the examples included) under
   ``pulumi.runtime.set_mocks`` with a recording monitor, so every request comes from the SDK's
   real serialisation of the project's resource classes: type tokens, secret wrapping, dropped
   ``None`` inputs, property dependencies keyed by top-level input name.
4. Each registration's inputs go through the resource's real dynamic-provider ``configure`` (with
   the program's stack config, so ``miget:workspaceId`` is resolved as it is in a real stack) and
   ``check`` (the engine analyses *checked* inputs) before they are sent.

The programs use the project's real resource classes (``pulumi_miget.App``,
``pulumi_miget.ContainerRegistryCredential``); the only stand-ins here are classes that must
never exist in the project (:class:`UnsafeCredential`, :class:`PlainEnvApp`: home-made classes
under the real type tokens, what the secret-marker policies exist to catch) and a resource with
an output unknown during preview (:class:`ImageRepository`).

Every engine rule is commented with the ``pulumi/pulumi`` source it mirrors. Files cited:

* ``sdk/go/common/resource/plugin/analyzer_plugin.go`` (``NewPolicyAnalyzer``, ``Analyze``,
  ``AnalyzeStack``, ``Remediate``, ``GetAnalyzerInfo``, ``Configure``, ``constructEnv``);
* ``sdk/go/common/resource/plugin/rpc.go`` (``MarshalProperties``: ``SkipInternalKeys`` drops
  top-level ``__`` keys only);
* ``pkg/resource/deploy/step_generator.go`` (``Check`` → ``Remediate`` → ``Analyze``; analyzers run
  even when ``Check`` reported failures);
* ``pkg/engine/plugins.go`` + ``pkg/resource/analyzer/config.go`` (``ReconcilePolicyPackConfig``).
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import json
import os
import re
import runpy
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import dill
import grpc
import pulumi
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.dynamic import CheckFailure, ConfigureRequest, CreateResult, Resource, ResourceProvider
from pulumi.dynamic.config import Config as ProviderConfig
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import proto
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.proto import analyzer_pb2_grpc

from pulumi_miget.testing import SECRET_SIG, SIG_KEY, UNKNOWN_WIRE, Secret, plain

__all__ = [
    "PACK_DIR",
    "REPO",
    "SECRET_SIG",
    "SIG_KEY",
    "UNKNOWN_BOOL",
    "UNKNOWN_STRING",
    "Capture",
    "Diagnostic",
    "EngineRun",
    "ImageRepository",
    "PlainEnvApp",
    "PolicyPack",
    "Registration",
    "Secret",
    "UnsafeCredential",
    "analyze_request",
    "capture",
    "configure_request",
    "decode",
    "encode",
    "engine_urn",
    "reconcile_config",
    "stack_resource",
    "strip_internal_keys",
    "urn",
]

REPO: Final = Path(__file__).resolve().parents[2]
PACK_DIR: Final = REPO / "examples" / "policy-pack"

# Wire form of unknowns (sdk/go/common/resource/plugin/rpc.go; KeepSecrets and KeepUnknowns are
# both true for every analyzer call). Secrets use the engine harness's Secret and signatures.
UNKNOWN_STRING: Final = UNKNOWN_WIRE
UNKNOWN_BOOL: Final = "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7"

PYTHON_PROVIDER_TYPE: Final = "pulumi:providers:pulumi-python"
STACK_TYPE: Final = "pulumi:pulumi:Stack"

_LEVEL_NAMES: Final = {
    proto.ADVISORY: "advisory",
    proto.MANDATORY: "mandatory",
    proto.REMEDIATE: "remediate",
    proto.DISABLED: "disabled",
}
_LEVELS: Final = {name: value for value, name in _LEVEL_NAMES.items()}


# ---------------------------------------------------------------------------------------------
# Values on the wire


def _wire(value: Any) -> Any:
    if isinstance(value, Secret):
        return {SIG_KEY: SECRET_SIG, "value": _wire(value.value)}
    if isinstance(value, Mapping):
        return {str(k): _wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_wire(v) for v in value]
    if isinstance(value, str):
        return str(value)  # str enums (Registry) become their value
    return value


def encode(props: Mapping[str, Any]) -> struct_pb2.Struct:
    """Python values (with :class:`Secret`) → the ``Struct`` the engine sends."""
    struct = struct_pb2.Struct()
    struct.update(_wire(props))
    return struct


def _unwire(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return Secret(_unwire(value.get("value")))
        return {k: _unwire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwire(v) for v in value]
    return value


def decode(struct: struct_pb2.Struct) -> dict[str, Any]:
    """A ``Struct`` → Python values, secret envelopes as :class:`Secret`."""
    result: dict[str, Any] = _unwire(json_format.MessageToDict(struct))
    return result


def strip_internal_keys(struct: struct_pb2.Struct) -> struct_pb2.Struct:
    """``MarshalOptions{SkipInternalKeys: true}``, used for ``Analyze``/``AnalyzeStack`` (not
    ``Remediate``): top-level keys starting with ``__`` (``__provider``) are dropped; nested
    ones are kept (rpc.go ``MarshalProperties``: "Only skip top level internal keys")."""
    out = struct_pb2.Struct()
    for key in struct.fields:
        if not key.startswith("__"):
            out.fields[key].CopyFrom(struct.fields[key])
    return out


def urn(type_: str, name: str, *, stack: str = "dev", project: str = "miget") -> str:
    return f"urn:pulumi:{stack}::{project}::{type_}::{name}"


def engine_urn(mock_urn: str) -> str:
    """The URN the engine would use. The mock monitor puts the root stack's type into the type
    chain of its children (``...::pulumi:pulumi:Stack$<type>::name``); the engine leaves the
    root stack out of it."""
    return mock_urn.replace(f"::{STACK_TYPE}$", "::")


def _default_provider(stack: str, project: str) -> proto.AnalyzerProviderResource:
    # Dynamic resources use the default `pulumi-python` provider; the engine sends its inputs
    # (step_generator.go: `Properties: providerResource.Inputs`), i.e. the stack config it was
    # created from. Nothing here reads them, so an empty bag stands in.
    return proto.AnalyzerProviderResource(
        type=PYTHON_PROVIDER_TYPE,
        name="default",
        urn=urn(PYTHON_PROVIDER_TYPE, "default", stack=stack, project=project),
        properties=struct_pb2.Struct(),
    )


def analyze_request(
    type_: str,
    name: str,
    props: Mapping[str, Any],
    *,
    secret_outputs: Sequence[str] = (),
    stack: str = "dev",
    project: str = "miget",
) -> proto.AnalyzeRequest:
    """A hand-made ``Analyze`` request (for fixtures that no program produces)."""
    return proto.AnalyzeRequest(
        type=type_,
        name=name,
        urn=urn(type_, name, stack=stack, project=project),
        properties=strip_internal_keys(encode(props)),
        options=proto.AnalyzerResourceOptions(additionalSecretOutputs=list(secret_outputs)),
        provider=_default_provider(stack, project),
    )


def stack_resource(
    type_: str,
    name: str,
    props: Mapping[str, Any],
    *,
    property_dependencies: Mapping[str, Sequence[str]] | None = None,
    stack: str = "dev",
    project: str = "miget",
) -> proto.AnalyzerResource:
    """A hand-made ``AnalyzeStack`` resource; ``props`` are its outputs."""
    deps = {k: list(v) for k, v in (property_dependencies or {}).items() if v}
    return proto.AnalyzerResource(
        type=type_,
        name=name,
        urn=urn(type_, name, stack=stack, project=project),
        properties=strip_internal_keys(encode(props)),
        dependencies=sorted({u for urns in deps.values() for u in urns}),
        propertyDependencies={
            k: proto.AnalyzerPropertyDependencies(urns=v) for k, v in deps.items()
        },
    )


# ---------------------------------------------------------------------------------------------
# Policy configuration, as the CLI reconciles it


def reconcile_config(
    info: proto.AnalyzerInfo, overrides: Mapping[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """The config the CLI sends to ``Configure``.

    Port of ``ReconcilePolicyPackConfig`` (pkg/resource/analyzer/config.go), called from
    pkg/engine/plugins.go right after ``GetAnalyzerInfo``:

    1. ``createConfigWithDefaults``: every policy at its reported level, plus each schema
       property's ``default``;
    2. ``applyConfig(initialConfig)``: the pack's ``initial_config``. An entry's level is read
       with ``convertEnforcementLevel(v.GetEnforcementLevel())`` (analyzer_plugin.go,
       ``GetAnalyzerInfo``), so an entry **without** a level arrives as protobuf's zero value,
       ``advisory``, and overrides the policy's own level;
    3. ``applyConfig(overrides)``: the ``--policy-pack-config`` file, same shape as
       ``overrides`` (``"all"`` sets every level; a string is a level; an object may hold
       ``enforcementLevel`` plus properties);
    4. JSON-schema validation of each policy's properties (a subset of JSON Schema, enough for
       the schemas used here); errors raise ``ValueError`` as the CLI refuses to run.
    """
    result: dict[str, dict[str, Any]] = {}
    schemas: dict[str, dict[str, Any]] = {}
    for policy in info.policies:
        props = json_format.MessageToDict(policy.configSchema.properties)
        schemas[policy.name] = props
        config: dict[str, Any] = {"enforcementLevel": _LEVEL_NAMES[policy.enforcementLevel]}
        config.update(
            {k: v["default"] for k, v in props.items() if isinstance(v, dict) and "default" in v}
        )
        result[policy.name] = config

    initial = {
        name: {
            "enforcementLevel": _LEVEL_NAMES[value.enforcementLevel],
            **json_format.MessageToDict(value.properties),
        }
        for name, value in info.initialConfig.items()
    }
    _apply_config(result, initial)
    _apply_config(result, _parse_config_file(overrides or {}))

    errors = [
        f"{name}: {problem}"
        for name, config in result.items()
        for problem in _schema_problems(
            schemas.get(name, {}), {k: v for k, v in config.items() if k != "enforcementLevel"}
        )
    ]
    if errors:
        raise ValueError("policy pack configuration is invalid: " + "; ".join(errors))
    return result


def _parse_config_file(config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    # parsePolicyPackConfig: a string is an enforcement level, an object may carry one.
    parsed: dict[str, dict[str, Any]] = {}
    for name, value in config.items():
        entry = {"enforcementLevel": value} if isinstance(value, str) else dict(value)
        level = entry.get("enforcementLevel")
        if level is not None and level not in _LEVELS:
            raise ValueError(f"{name}: {level!r} is not a valid enforcement level")
        parsed[name] = entry
    return parsed


def _apply_config(
    result: dict[str, dict[str, Any]], given: Mapping[str, Mapping[str, Any]]
) -> None:
    # applyConfig: "all" sets every policy's level first, then each entry (including "all"
    # itself, which the engine also forwards) merges over what is there.
    everything = given.get("all", {}).get("enforcementLevel")
    if everything:
        for config in result.values():
            config["enforcementLevel"] = everything
    for name, entry in given.items():
        target = result.setdefault(name, {})
        target.update({k: v for k, v in entry.items() if v is not None})


def _schema_problems(schema: Mapping[str, Any], config: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    for key, value in config.items():
        if key in schema:
            problems += [f"{key}: {p}" for p in _value_problems(schema[key], value)]
    return problems


def _value_problems(schema: Mapping[str, Any], value: Any) -> list[str]:
    kinds: dict[str, type | tuple[type, ...]] = {
        "string": str,
        "array": list,
        "boolean": bool,
        "object": dict,
        "number": (int, float),
        "integer": int,
    }
    allowed = {
        "type", "items", "enum", "minLength", "uniqueItems", "format", "default", "description",
    }  # fmt: skip
    unsupported = set(schema) - allowed
    if unsupported:
        raise AssertionError(f"harness schema subset lacks {sorted(unsupported)}")
    expected = schema.get("type")
    if expected is not None and not isinstance(value, kinds[expected]):
        return [f"expected {expected}, got {type(value).__name__}"]
    problems: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{value!r} is not one of {schema['enum']}")
    if "minLength" in schema and len(value) < schema["minLength"]:
        problems.append(f"shorter than {schema['minLength']}")
    if schema.get("format") == "regex":
        try:
            re.compile(value)
        except re.error as exc:
            problems.append(f"not a regular expression ({exc})")
    if isinstance(value, list):
        if schema.get("uniqueItems") and len(set(map(json.dumps, value))) != len(value):
            problems.append("items are not unique")
        for index, item in enumerate(value):
            problems += [f"[{index}] {p}" for p in _value_problems(schema.get("items", {}), item)]
    return problems


def configure_request(config: Mapping[str, Mapping[str, Any]]) -> proto.ConfigureAnalyzerRequest:
    """analyzer_plugin.go ``Configure``: one ``PolicyConfig`` per policy, level + properties."""
    request = proto.ConfigureAnalyzerRequest()
    for name, entry in config.items():
        policy_config = proto.PolicyConfig(
            enforcementLevel=_LEVELS[entry.get("enforcementLevel", "advisory")]
        )
        policy_config.properties.update({k: v for k, v in entry.items() if k != "enforcementLevel"})
        request.policyConfig[name].CopyFrom(policy_config)
    return request


# ---------------------------------------------------------------------------------------------
# The pack process


@dataclass(frozen=True)
class Diagnostic:
    """One policy violation as the engine receives it."""

    policy: str
    level: str  # "advisory" | "mandatory" | ...
    message: str
    urn: str
    resource: str  # the resource the engine attributes it to (its name)


def _diagnostics(response: proto.AnalyzeResponse, resource_urn: str) -> list[Diagnostic]:
    found = []
    for d in response.diagnostics:
        # Analyze: "we always use the URN we have here" (step_generator.go); AnalyzeStack:
        # the diagnostic's own URN, or the stack as a whole when empty.
        target = resource_urn or d.urn
        found.append(
            Diagnostic(
                policy=d.policyName,
                level=_LEVEL_NAMES[d.enforcementLevel],
                message=d.message,
                urn=target,
                resource=target.rsplit("::", 1)[-1] if target else "",
            )
        )
    return found


class PolicyPack:
    """The pack's process, started as the Python language host starts it, plus a gRPC stub."""

    def __init__(
        self,
        pack_dir: Path = PACK_DIR,
        *,
        stack: str = "dev",
        project: str = "miget",
        organization: str = "organization",
        dry_run: bool = True,
        stack_config: Mapping[str, str] | None = None,
        python: str = sys.executable,
        startup_timeout: float = 30.0,
    ) -> None:
        self.pack_dir = pack_dir
        self.stack = stack
        self.project = project
        self.organization = organization
        self.dry_run = dry_run
        self.python = python
        self.startup_timeout = startup_timeout
        # constructEnv (analyzer_plugin.go) and the language host's RunPlugin: the stack's
        # identity and its config (JSON, secrets in plain text) go in through the environment.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
        self.env.update(
            PULUMI_ORGANIZATION=organization,
            PULUMI_PROJECT=project,
            PULUMI_STACK=stack,
            PULUMI_DRY_RUN="true" if dry_run else "false",  # strconv.FormatBool
        )
        if stack_config:  # maybeAppendEnv: only set when there is config
            self.env["PULUMI_CONFIG"] = json.dumps(dict(stack_config))
        self._proc: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self.startup_seconds = 0.0

    # ---- process lifecycle ----------------------------------------------------------------
    def start(self, *, tags: Mapping[str, str] | None = None) -> PolicyPack:
        started = time.monotonic()
        # The language host runs `python -u -m pulumi.policy <engineAddr> <packDir>` with the
        # pack folder as working directory; the engine address is only used if the pack crashes
        # and logs. The interpreter is the virtualenv from PulumiPolicy.yaml; here the venv the
        # tests run in, which has pulumi-miget installed.
        self._proc = subprocess.Popen(
            [self.python, "-u", "-m", "pulumi.policy", "127.0.0.1:1", "."],
            cwd=self.pack_dir,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().decode().strip()  # PolicyPack prints "<port>\n"
        if not line.isdigit():
            self._proc.kill()
            _, err = self._proc.communicate(timeout=10)
            stderr = err.decode(errors="replace")
            raise RuntimeError(f"policy pack did not start: stdout={line!r}\nstderr:\n{stderr}")
        self._channel = grpc.insecure_channel(f"127.0.0.1:{int(line)}")
        grpc.channel_ready_future(self._channel).result(timeout=self.startup_timeout)
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        self.startup_seconds = time.monotonic() - started
        self.handshake()
        self.configure_stack(tags=tags)
        return self

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._proc is not None:
            self._proc.terminate()  # the engine closes plugins the same way
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=5)
            for pipe in (self._proc.stdout, self._proc.stderr):
                if pipe is not None:
                    pipe.close()
            self._proc = None

    def __enter__(self) -> PolicyPack:
        return self.start() if self._proc is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ---- the engine's calls, in its order ------------------------------------------------------
    def handshake(self) -> None:
        # NewPolicyAnalyzer's `handshake`: the Python policy SDK does not implement it, and the
        # engine carries on ("If the provider doesn't implement Handshake, that's fine").
        directory = str(self.pack_dir)
        try:
            self.stub.Handshake(
                proto.AnalyzerHandshakeRequest(
                    engine_address="127.0.0.1:1",
                    root_directory=directory,
                    program_directory=directory,
                )
            )
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.UNIMPLEMENTED:
                raise

    def configure_stack(self, *, tags: Mapping[str, str] | None = None) -> None:
        # NewPolicyAnalyzer: ConfigureStack right after the plugin starts (the language host's
        # policy proxy forwards it). Recent CLIs send the stack tags too.
        self.stub.ConfigureStack(
            proto.AnalyzerStackConfigureRequest(
                stack=self.stack,
                project=self.project,
                organization=self.organization,
                dry_run=self.dry_run,
                tags=dict(tags or {}),
            )
        )

    def info(self) -> proto.AnalyzerInfo:
        info: proto.AnalyzerInfo = self.stub.GetAnalyzerInfo(empty_pb2.Empty())
        return info

    def configure(self, overrides: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
        """GetAnalyzerInfo → ReconcilePolicyPackConfig → Configure (pkg/engine/plugins.go).
        ``overrides`` has the shape of a ``--policy-pack-config`` JSON file."""
        config = reconcile_config(self.info(), overrides)
        if config:  # analyzer.Configure returns early when there is nothing to send
            self.stub.Configure(configure_request(config))
        return config

    def analyze(self, request: proto.AnalyzeRequest) -> list[Diagnostic]:
        return _diagnostics(self.stub.Analyze(request), request.urn)

    def analyze_stack(self, resources: Iterable[proto.AnalyzerResource]) -> list[Diagnostic]:
        response = self.stub.AnalyzeStack(proto.AnalyzeStackRequest(resources=list(resources)))
        return _diagnostics(response, "")

    def run(self, program: Capture) -> EngineRun:
        """What one ``pulumi preview``/``up`` does with the pack for a captured program:
        Remediate then Analyze each registration (step_generator.go), AnalyzeStack at the end."""
        run = EngineRun()
        for registration in program.registrations:
            checked = registration.checked_inputs()
            remediate = registration.analyze_request(checked, keep_internal=True)
            run.remediations += list(self.stub.Remediate(remediate).remediations)
            run.resource += self.analyze(registration.analyze_request(checked))
        run.stack += self.analyze_stack(program.stack_resources())
        return run


@dataclass
class EngineRun:
    resource: list[Diagnostic] = field(default_factory=list)
    stack: list[Diagnostic] = field(default_factory=list)
    remediations: list[Any] = field(default_factory=list)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.resource + self.stack

    def found(self, level: str | None = None) -> list[tuple[str, str]]:
        """(policy, resource name) pairs, sorted, optionally of one level only."""
        return sorted(
            (d.policy, d.resource) for d in self.diagnostics if level is None or d.level == level
        )

    @property
    def mandatory(self) -> list[tuple[str, str]]:
        return self.found("mandatory")

    @property
    def advisory(self) -> list[tuple[str, str]]:
        return self.found("advisory")


# ---------------------------------------------------------------------------------------------
# Programs under mocks


@dataclass
class Registration:
    """One ``RegisterResource`` call as the SDK made it, with what the engine would answer."""

    urn: str
    request: Any  # pulumi.runtime.proto.resource_pb2.RegisterResourceRequest
    outputs: struct_pb2.Struct  # the provider's outputs (up) or the checked inputs (preview)
    stack: str
    project: str
    preview: bool
    config: Mapping[str, str] = field(default_factory=dict)  # the stack config, secrets revealed

    @property
    def type(self) -> str:
        return str(self.request.type)

    @property
    def name(self) -> str:
        return str(self.request.name)

    def inputs(self) -> dict[str, Any]:
        return decode(self.request.object)

    def checked_inputs(self) -> struct_pb2.Struct:
        """The inputs after the provider's ``Check``, as the engine holds them
        (step_generator.go: ``inputs = resp.Properties``; analyzers see these, even when Check
        reported failures)."""
        return self._check()[0]

    def check_failures(self) -> list[tuple[str, str]]:
        """What the provider's ``Check`` reported, as (property, reason) pairs: none for a
        program that a real ``pulumi up`` would accept."""
        return [(f.property, f.reason) for f in self._check()[1]]

    def _check(self) -> tuple[struct_pb2.Struct, list[CheckFailure]]:
        if not self._is_dynamic():
            return self.request.object, []
        return _dynamic_check(self.request.object, self.config, self.project)

    def _is_dynamic(self) -> bool:
        return self.type.startswith("pulumi-python:dynamic")

    def options(self) -> proto.AnalyzerResourceOptions:
        # marshalResourceOptions (analyzer_plugin.go) from the goal state's options.
        request = self.request
        return proto.AnalyzerResourceOptions(
            protect=request.protect,
            ignoreChanges=list(request.ignoreChanges),
            deleteBeforeReplace=request.deleteBeforeReplace,
            deleteBeforeReplaceDefined=request.deleteBeforeReplaceDefined,
            additionalSecretOutputs=list(request.additionalSecretOutputs),
            aliases=list(request.aliasURNs),
            parent=engine_urn(request.parent),
        )

    def analyze_request(
        self, checked: struct_pb2.Struct | None = None, *, keep_internal: bool = False
    ) -> proto.AnalyzeRequest:
        # Analyze marshals with SkipInternalKeys=true, Remediate with false (analyzer_plugin.go).
        props = self.checked_inputs() if checked is None else checked
        return proto.AnalyzeRequest(
            type=self.type,
            name=self.name,
            urn=self.urn,
            properties=props if keep_internal else strip_internal_keys(props),
            options=self.options(),
            provider=_default_provider(self.stack, self.project) if self._is_dynamic() else None,
        )

    def stack_resource(self) -> proto.AnalyzerResource:
        # AnalyzeStack (analyzer_plugin.go): outputs, SkipInternalKeys, parent, dependencies and
        # property dependencies, skipping properties without any.
        request = self.request
        return proto.AnalyzerResource(
            type=self.type,
            name=self.name,
            urn=self.urn,
            properties=strip_internal_keys(self.outputs),
            options=self.options(),
            provider=_default_provider(self.stack, self.project) if self._is_dynamic() else None,
            parent=engine_urn(request.parent),
            dependencies=[engine_urn(u) for u in request.dependencies],
            propertyDependencies={
                key: proto.AnalyzerPropertyDependencies(urns=[engine_urn(u) for u in deps.urns])
                for key, deps in request.propertyDependencies.items()
                if len(deps.urns)
            },
        )


@dataclass
class Capture:
    """Everything a program registered, in registration order."""

    stack: str
    project: str
    preview: bool
    registrations: list[Registration]

    def __getitem__(self, name: str) -> Registration:
        matches = [r for r in self.registrations if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} registrations named {name!r}")
        return matches[0]

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_]

    def stack_resources(self) -> list[proto.AnalyzerResource]:
        return [r.stack_resource() for r in self.registrations]


def _dynamic_check(
    news: struct_pb2.Struct, config: Mapping[str, str], project: str
) -> tuple[struct_pb2.Struct, list[CheckFailure]]:
    """Run the resource's real dynamic-provider ``check`` as the engine would have it run.

    The engine sends ``Check`` with secrets stripped (the Python dynamic provider answers
    ``acceptSecrets=False``) and unknowns as sentinels (``AllowUnknowns`` in preview). The
    provider server (pulumi/dynamic/__main__.py ``get_provider`` and ``Check``) un-pickles
    ``__provider``, calls its ``configure`` with the stack config the engine sent to
    ``Configure`` (secrets revealed), then ``check(olds, news)``, and puts ``__provider`` back.
    The engine then re-marks as secret every checked input whose same-named input was secret
    (``annotateSecrets``, provider_plugin.go). Neither ``configure`` nor ``check`` makes an API
    call (the stack config here has no ``miget:apiKey``, so no HTTP client is even built).
    """
    values = decode(news)
    secret_keys = {k for k, v in values.items() if isinstance(v, Secret)}
    revealed = plain(values)
    provider: ResourceProvider = dill.loads(base64.b64decode(revealed["__provider"]))
    provider.configure(ConfigureRequest(ProviderConfig(dict(config), project)))
    result = provider.check({}, revealed)
    inputs = dict(result.inputs)
    inputs["__provider"] = values["__provider"]
    checked = encode({k: Secret(v) if k in secret_keys else v for k, v in inputs.items()})
    return checked, list(result.failures or [])


class _Mocks(pulumi.runtime.Mocks):
    """Answers like the engine + the dynamic provider would.

    ``up``: the provider's outputs echo every input (pulumi_miget's providers do) plus the
    computed fields. ``preview``: a create is not sent to the provider; the engine answers with
    the inputs, so computed outputs (``uuid``) are unknown to the program.
    """

    def __init__(self, preview: bool) -> None:
        self.preview = preview
        self.count = 0

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        self.count += 1
        known = {k: v for k, v in args.inputs.items() if v is not None and v != UNKNOWN_STRING}
        if self.preview:
            return None, known
        uuid = f"00000000-0000-4000-8000-{self.count:012d}"
        stamp = "2025-01-01T00:00:00Z"
        computed = {"uuid": uuid, "created_at": stamp, "updated_at": stamp}
        if args.typ == ImageRepository.TYPE:
            computed["registry_host"] = f"{args.name}.registry.example.com"
        return uuid, {**known, **computed}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        return {}, []


def capture(
    program: Callable[[], object] | Path | str,
    *,
    stack: str = "dev",
    project: str = "miget",
    preview: bool = False,
    config: Mapping[str, str] | None = None,
    secret_config: Iterable[str] = (),
) -> Capture:
    """Run ``program`` (a callable that declares resources, or the path of a program's
    ``__main__.py``) under mocks and return what it registered.

    ``config`` holds namespaced stack config (``"project:key"``) as ``pulumi.Config`` reads it;
    ``secret_config`` names the secret keys.
    """
    records: list[tuple[str, Any, struct_pb2.Struct]] = []

    class RecordingMonitor(pulumi_mocks.MockMonitor):
        def RegisterResource(self, request: Any) -> Any:
            response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
            records.append((response.urn, request, response.object))
            return response

    mocks = _Mocks(preview)

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def run() -> None:
        if callable(program):
            program()
        else:
            runpy.run_path(str(program), run_name="__main__")

    def run_isolated() -> None:
        # Own event loop and a copied context: nothing leaks into (or in from) other tests
        # that run Pulumi programs in this process (ROOT, config and settings are ContextVars).
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            # A root Stack left by an earlier run would parent our resources under another
            # monitor: set_mocks creates a fresh one when there is none.
            pulumi_settings.ROOT.set(None)
            pulumi.runtime.set_mocks(
                mocks,
                project=project,
                stack=stack,
                preview=preview,
                monitor=RecordingMonitor(mocks),
            )
            pulumi.runtime.set_all_config(dict(config or {}), list(secret_config))
            run()
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    contextvars.copy_context().run(run_isolated)

    registrations = []
    for resource_urn, request, outputs in records:
        if not preview:
            # additional_secret_outputs: the engine keeps these outputs secret.
            values = decode(outputs)
            for key in request.additionalSecretOutputs:
                if key in values and not isinstance(values[key], Secret):
                    values[key] = Secret(values[key])
            outputs = encode(values)
        registration = Registration(
            engine_urn(resource_urn), request, outputs, stack, project, preview, dict(config or {})
        )
        if preview:
            # A create during preview: the new state's outputs are its checked inputs
            # (step_generator.go), with unknowns where the program passed unknown Outputs.
            registration.outputs = registration.checked_inputs()
        registrations.append(registration)
    return Capture(stack, project, preview, registrations)


# ---------------------------------------------------------------------------------------------
# Stand-ins for what must never exist in the project (home-made classes under the real type
# tokens) and for a resource with an output unknown during preview


class _EchoProvider(ResourceProvider):
    """Never called under mocks; ``check`` is the SDK's default (inputs pass through)."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult("stand-in", props)


class ImageRepository(Resource, module="test", name="ImageRepository"):
    """A resource whose ``registry_host`` output is unknown during preview, like a cloud
    registry's URL: wiring it into ``registry_hostname`` gives an unknown input."""

    TYPE: Final = "pulumi-python:dynamic/test:ImageRepository"

    registry_host: pulumi.Output[str]

    def __init__(self, resource_name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(_EchoProvider(), resource_name, {"registry_host": None}, opts)


class UnsafeCredential(Resource, module="miget", name="ContainerRegistryCredential"):
    """A home-made class registering under the credential's type token without marking the
    token secret: what ``miget-credential-token-secret`` exists to catch."""

    def __init__(self, resource_name: str, **props: Any) -> None:
        super().__init__(_EchoProvider(), resource_name, {**props, "uuid": None})


class PlainEnvApp(Resource, module="miget", name="App"):
    """A home-made class under the App type that forgets to mark env secret: what
    ``miget-app-env-secret`` exists to catch."""

    def __init__(self, resource_name: str, **props: Any) -> None:
        super().__init__(_EchoProvider(), resource_name, {**props, "uuid": None})
