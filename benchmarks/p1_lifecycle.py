"""P1 — lifecycle overhead: our provider ÷ a bare-minimum provider, both through the gRPC server.

Each credential goes through Check, Create, Diff, Read, Update and Delete (6 RPCs, 4 HTTP
calls) on the SDK's real provider server (``python -u -m pulumi.dynamic``), driven by the engine
harness, against the in-process emulator. The baseline (``baseline_provider.py``) makes the same
HTTP calls with raw ``requests``, so the protocol's fixed cost is on both sides and the ratio is
our code's overhead. A third side does the same 4 HTTP calls with ``requests`` in-process, no
server at all: ours ÷ that shows what the engine protocol itself costs.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

import requests

from benchmarks._support import (
    Result,
    blob_of,
    closes_connections,
    credential_inputs,
    emulator,
    fmt_ratio,
    interleave,
    provider_engine,
    ratios,
)
from benchmarks.baseline_provider import BaselineProvider
from pulumi_miget.credential import ContainerRegistryCredentialProvider
from pulumi_miget.emulator import DEFAULT_API_KEY
from pulumi_miget.testing import DIFF_SOME, Engine, Secret

ID = "P1"
TARGET = 1.15
ASO = ("token",)
NEW_TOKEN = "ghp_bench_token_0002"


def lifecycle(engine: Engine, blob: str, prefix: str, count: int) -> None:
    """``count`` credentials: Check, Create, Diff (token changed), Read, Update, Delete."""
    for i in range(count):
        name = f"{prefix}-{i}"
        inputs, failures = engine.check(name, {}, credential_inputs(blob, name))
        assert not failures, failures
        state = engine.create(name, inputs, ASO)
        news = {**inputs, "token": Secret(NEW_TOKEN)}
        assert engine.diff(name, state, news).changes == DIFF_SOME
        assert engine.read(state)[0] == state.id
        engine.delete(engine.update(name, state, news, ASO))


def raw_lifecycle(session: requests.Session, url: str, prefix: str, count: int) -> None:
    """The same 4 HTTP calls per credential, straight from this process."""
    for i in range(count):
        body: dict[str, Any] = {
            "name": f"{prefix}-{i}",
            "registry": "github",
            "username": "bench-bot",
            "token": "ghp_bench_token_0001",
        }
        uuid = session.post(url, json=body, timeout=30).json()["uuid"]
        assert session.get(f"{url}/{uuid}", timeout=30).status_code == 200
        session.put(f"{url}/{uuid}", json={"token": NEW_TOKEN}, timeout=30).raise_for_status()
        session.delete(f"{url}/{uuid}", timeout=30).raise_for_status()


def run(quick: bool) -> list[Result]:
    reps, per_rep = (6, 10) if quick else (20, 10)
    ours_blob = blob_of(ContainerRegistryCredentialProvider())
    base_blob = blob_of(BaselineProvider())
    with emulator() as server, provider_engine(server) as ours, provider_engine(server) as base:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {DEFAULT_API_KEY}"
        url = f"{server.api_url}/container_registry_credentials"
        sides: dict[str, Callable[[int], None]] = {
            "ours": lambda rep: lifecycle(ours, ours_blob, f"ours-{rep}", per_rep),
            "baseline": lambda rep: lifecycle(base, base_blob, f"base-{rep}", per_rep),
            "raw": lambda rep: raw_lifecycle(session, url, f"raw-{rep}", per_rep),
        }
        for side in sides.values():  # warm-up: imports, configure, keep-alive connections
            side(-1)
        server.clear_log()
        seconds = interleave(sides, reps)
        http_calls = len(server.requests_log())
        closes = closes_connections(server.api_url)
        session.close()
    vs_baseline = ratios(seconds["ours"], seconds["baseline"])
    vs_raw = ratios(seconds["ours"], seconds["raw"])
    total = reps * per_rep
    per_cred = {
        side: f"{statistics.median(times) / per_rep * 1000:.2f} ms"
        for side, times in seconds.items()
    }
    details = [
        f"{total} credentials per side in {reps} interleaved repetitions of {per_rep}; "
        f"{http_calls} HTTP calls in all (expected {3 * total * 4})",
        "median per credential lifecycle: "
        + ", ".join(f"{side} {value}" for side, value in per_cred.items()),
    ]
    if closes:
        details.append(
            "the emulator answers 'Connection: close', so every HTTP call on every side opens a "
            "new connection (keep-alive is not exercised here)"
        )
    return [
        Result(
            ID,
            "lifecycle: ours ÷ baseline provider (both via gRPC)",
            vs_baseline.median,
            "×",
            vs_baseline.spread(),
            f"≤ {TARGET:.2f}×",
            vs_baseline.median <= TARGET,
            details,
        ),
        Result(
            ID,
            "lifecycle: ours via gRPC ÷ raw requests in-process",
            vs_raw.median,
            "×",
            vs_raw.spread(),
            "— (protocol cost)",
            None,
            [f"ours via gRPC costs {fmt_ratio(vs_raw.median)} the bare HTTP calls"],
        ),
    ]
