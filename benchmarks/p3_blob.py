"""P3 — ``__provider`` size: the base64 text the SDK stores for every credential in state.

``serialize_provider`` (the SDK's own function) of a fresh ContainerRegistryCredentialProvider.
By-reference pickling keeps it to a module path, a class name and an empty state.
"""

from __future__ import annotations

import base64

from benchmarks._support import Result, blob_of
from benchmarks.baseline_provider import BaselineProvider
from pulumi_miget.credential import ContainerRegistryCredentialProvider

ID = "P3"
TARGET = 200


def run(quick: bool) -> list[Result]:
    blob = blob_of(ContainerRegistryCredentialProvider())
    raw = base64.b64decode(blob)
    by_reference = (
        b"pulumi_miget.credential" in raw and b"ContainerRegistryCredentialProvider" in raw
    )
    return [
        Result(
            ID,
            "__provider blob size (base64 chars)",
            float(len(blob)),
            " chars",
            f"{len(raw)} bytes pickled",
            f"≤ {TARGET} chars",
            len(blob) <= TARGET and by_reference,
            [
                f"by reference: {by_reference}; "
                f"bare-minimum provider for comparison: {len(blob_of(BaselineProvider()))} chars",
            ],
            f"{len(blob)} chars",
        )
    ]
