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

import contextlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from .server import ProviderServer
from .values import (
    PYTHON_PROVIDER_TYPE,
    Props,
    Secret,
    UnknownOutsidePreview,
    annotate_secrets,
    apply_step_secrets,
    contains_unknowns,
    from_struct,
    to_struct,
)

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
    protect: bool = False
    """``protect``: the engine refuses to delete or replace the resource."""
    retain_on_delete: bool = False
    """``retain_on_delete``: a delete drops it from state without calling the provider."""
    dependencies: tuple[str, ...] = ()
    """URNs this resource depends on (``resource.State.Dependencies``): deletes run dependents
    first."""

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


def tag_urn(exc: BaseException, urn: str) -> None:
    """Remember on ``exc`` the URN of the resource whose step raised it (the engine shows an
    error under that resource's line); the first tag wins. Read back with :func:`failed_urn`."""
    with contextlib.suppress(AttributeError, TypeError):
        if failed_urn(exc) is None:
            setattr(exc, _URN_ATTR, urn)


def failed_urn(exc: BaseException) -> str | None:
    """The URN :func:`tag_urn` recorded on ``exc``, if any."""
    urn = getattr(exc, _URN_ATTR, None)
    return urn if isinstance(urn, str) else None


_URN_ATTR = "pulumi_miget_failed_urn"


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
        """A user-driven ``Resource.get`` (``step.go: ReadStep``): no state, so the engine sends
        the inputs as both ``properties`` and ``inputs`` (step.go:1335-1344)."""
        return self._read(name, resource_id, self.urn(name), inputs, inputs)

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
