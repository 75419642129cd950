"""Reading a resource's props without tripping over values that are unknown during preview.

During ``pulumi preview`` reading an unknown value from ``args.props`` raises
``UnknownValueError``, and so do ``"k" in props`` and ``props.get("k")``. Every read in these
policies goes through :func:`read_prop`, which never raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from pulumi_policy import proxy


class _Unknown:
    """Marker for a value that is not known yet (``pulumi preview``)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<unknown>"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Final = _Unknown()
"""What :func:`read_prop` returns for a value that is unknown during preview."""

_SENTINELS: Final = frozenset(
    {
        proxy.UNKNOWN_ARCHIVE_VALUE,
        proxy.UNKNOWN_ARRAY_VALUE,
        proxy.UNKNOWN_ASSET_VALUE,
        proxy.UNKNOWN_BOOLEAN_VALUE,
        proxy.UNKNOWN_NUMBER_VALUE,
        proxy.UNKNOWN_OBJECT_VALUE,
        proxy.UNKNOWN_STRING_VALUE,
    }
)


def read_prop(props: Mapping[str, Any], key: str) -> Any:
    """``props[key]``; None when absent, :data:`UNKNOWN` when unknown. Never raises.

    ``key in props`` and ``props.get(key)`` both call ``__getitem__`` on the SDK's proxy and raise
    ``UnknownValueError`` for an unknown value; iterating the keys never reads a value.
    """
    if not any(k == key for k in props):
        return None
    try:
        value = props[key]
    except proxy.UnknownValueError:
        return UNKNOWN
    if isinstance(value, str) and value in _SENTINELS:  # a plain dict that was never proxied
        return UNKNOWN
    return value


def is_unknown(value: object) -> bool:
    return value is UNKNOWN
