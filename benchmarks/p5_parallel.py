"""P5 — parallelism: 100 creates through the provider server's 4 workers ÷ the same one at a time.

The emulator adds 20 ms to every API request (``set_latency(0.02)``), as a remote API would. The
parallel side issues the gRPC Create calls from 8 client threads, so the SDK server's 4 workers
(its ``ThreadPoolExecutor(max_workers=4)``) always have work queued; each worker uses its own
keep-alive session. Ideal: 1/4 = 0.25 plus the part of each call that cannot overlap.
"""

from __future__ import annotations

import statistics
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from benchmarks._support import (
    Result,
    blob_of,
    credential_inputs,
    emulator,
    interleave,
    provider_engine,
    ratios,
)
from pulumi_miget.credential import ContainerRegistryCredentialProvider
from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.testing import Engine

ID = "P5"
TARGET = 0.30
LATENCY = 0.02
CREATES = 100
CLIENT_THREADS = 8
SERVER_WORKERS = 4
ASO = ("token",)


def _inputs(engine: Engine, blob: str, prefix: str, count: int) -> list[tuple[str, Any]]:
    """Checked inputs for ``count`` fresh credentials (Check makes no HTTP call; not timed)."""
    batch = []
    for i in range(count):
        name = f"{prefix}-{i}"
        inputs, failures = engine.check(name, {}, credential_inputs(blob, name))
        assert not failures, failures
        batch.append((name, inputs))
    return batch


def _create(engine: Engine, item: tuple[str, Any]) -> str:
    return engine.create(item[0], item[1], ASO).id


def run(quick: bool) -> list[Result]:
    reps = 2 if quick else 4
    blob = blob_of(ContainerRegistryCredentialProvider())
    with (
        emulator() as server,
        provider_engine(server) as engine,
        ThreadPoolExecutor(CLIENT_THREADS) as pool,
    ):
        batches: dict[str, list[tuple[str, Any]]] = {}

        def prepare(side: str, rep: int) -> list[tuple[str, Any]]:
            server.reset()  # also drops the latency: set it again
            server.set_latency(LATENCY)
            return batches.pop(f"{side}-{rep}")

        def parallel(rep: int) -> None:
            ids = list(pool.map(lambda item: _create(engine, item), prepare("par", rep)))
            assert len(set(ids)) == CREATES

        def sequential(rep: int) -> None:
            for item in prepare("seq", rep):
                _create(engine, item)

        # warm-up: every server worker opens its keep-alive connection
        list(pool.map(lambda item: _create(engine, item), _inputs(engine, blob, "warm", 16)))
        for rep in range(reps):
            for side in ("par", "seq"):
                batches[f"{side}-{rep}"] = _inputs(engine, blob, f"{side}-{rep}", CREATES)
        seconds = interleave({"parallel": parallel, "sequential": sequential}, reps)
        served = _served(server)
    speedup = ratios(seconds["parallel"], seconds["sequential"])
    seq_call = statistics.median(seconds["sequential"]) / CREATES * 1000
    par_total = statistics.median(seconds["parallel"]) * 1000
    floor = 1 / SERVER_WORKERS
    return [
        Result(
            ID,
            f"{CREATES} creates, {LATENCY * 1000:.0f} ms latency: 4 workers ÷ sequential",
            speedup.median,
            "×",
            speedup.spread(),
            f"≤ {TARGET:.2f}×",
            speedup.median <= TARGET,
            [
                f"sequential: {seq_call:.1f} ms per create ({LATENCY * 1000:.0f} ms of it "
                f"latency); parallel: {par_total:.0f} ms for {CREATES} "
                f"({CLIENT_THREADS} client threads, {SERVER_WORKERS} server workers)",
                f"ideal ≈ {floor:.2f}× (4 workers; client-side work overlapping the server's can "
                f"put it a hair below); {served}",
            ],
        )
    ]


def _served(server: EmulatorServer) -> str:
    log = server.requests_log()
    posts = sum(1 for entry in log if entry["method"] == "POST" and entry["status"] == 201)
    return f"last run: {posts} POSTs answered 201 of {len(log)} requests"
