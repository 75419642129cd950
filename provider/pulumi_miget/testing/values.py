"""The engine model's value model: plain JSON-like values, :class:`Secret` wrappers and the
:data:`UNKNOWN` marker, and how they cross the wire (``google.protobuf.Struct`` with the SDK's
special signatures). Numbers come back from a ``Struct`` as floats, as in the engine.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from google.protobuf import json_format, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2

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
