"""P2 — HTTP calls per operation, counted by the emulator's request log.

Each RPC goes through the real provider server; the log is cleared before it and read after.
Adopt: a credential of the same name is created out of band first, then Create with
``adopt=True`` takes it over (one lookup by name, one PUT).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import requests

from benchmarks._support import Result, blob_of, credential_inputs, emulator, provider_engine
from pulumi_miget.credential import ContainerRegistryCredentialProvider
from pulumi_miget.emulator import DEFAULT_API_KEY, EmulatorServer
from pulumi_miget.testing import DIFF_SOME, Engine, Secret

ID = "P2"
ASO = ("token",)
# operation → the most HTTP calls it may make
TARGETS = {"check": 0, "diff": 0, "create": 1, "read": 1, "update": 1, "delete": 1, "adopt": 2}

T = TypeVar("T")


class Counter:
    """Runs one action and records the HTTP calls the emulator saw meanwhile."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.calls: dict[str, list[str]] = {}

    def __call__(self, operation: str, action: Callable[[], T]) -> T:
        self.server.clear_log()
        result = action()
        self.calls[operation] = [
            f"{entry['method']} {entry['status']}" for entry in self.server.requests_log()
        ]
        return result


def measure(server: EmulatorServer, engine: Engine) -> dict[str, list[str]]:
    """Every operation once, through the provider server; returns operation → HTTP calls."""
    blob = blob_of(ContainerRegistryCredentialProvider())
    count = Counter(server)
    name = "calls-per-op"
    inputs, failures = count("check", lambda: engine.check(name, {}, credential_inputs(blob, name)))
    assert not failures, failures
    state = count("create", lambda: engine.create(name, inputs, ASO))
    news = {**inputs, "token": Secret("ghp_bench_token_0002")}
    diff = count("diff", lambda: engine.diff(name, state, news))
    assert diff.changes == DIFF_SOME
    count("read", lambda: engine.read(state))
    state = count("update", lambda: engine.update(name, state, news, ASO))
    count("delete", lambda: engine.delete(state))

    # adopt: the credential exists already (made out of band), the program sets adopt=True
    adopted = "calls-per-op-adopt"
    requests.post(
        f"{server.api_url}/container_registry_credentials",
        json={"name": adopted, "registry": "github", "username": "old", "token": "ghp_old_0001"},
        headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"},
        timeout=30,
    ).raise_for_status()
    adopt_inputs, failures = engine.check(
        adopted, {}, {**credential_inputs(blob, adopted), "adopt": True}
    )
    assert not failures, failures
    state = count("adopt", lambda: engine.create(adopted, adopt_inputs, ASO))
    engine.delete(state)
    return count.calls


def run(quick: bool) -> list[Result]:
    with emulator() as server, provider_engine(server) as engine:
        calls = measure(server, engine)
    counts = {op: len(calls[op]) for op in TARGETS}
    misses = [op for op, most in TARGETS.items() if counts[op] > most]
    figures = ", ".join(str(counts[op]) for op in TARGETS)
    return [
        Result(
            ID,
            "HTTP calls: " + ", ".join(TARGETS),
            float(sum(counts.values())),
            " calls",
            "",
            "≤ " + ", ".join(str(most) for most in TARGETS.values()),
            not misses,
            [f"{op}: {counts[op]} ({', '.join(calls[op]) or 'no HTTP'})" for op in TARGETS]
            + ([f"over target: {', '.join(misses)}"] if misses else []),
            figures,
        )
    ]
