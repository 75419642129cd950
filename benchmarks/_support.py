"""Shared pieces: the result record, ratio statistics, and the emulator + provider-server setup."""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from pulumi.dynamic import ResourceProvider

from pulumi_miget.emulator import DEFAULT_API_KEY, DEFAULT_WORKSPACE_ID, EmulatorServer
from pulumi_miget.testing import Engine, ProviderServer, Secret, provider_blob
from pulumi_miget.tokens import CREDENTIAL_TYPE

REPO_ROOT = Path(__file__).resolve().parents[1]
"""The repository root: the provider servers start there, so ``benchmarks.*`` classes unpickle."""


@dataclass
class Result:
    """One benchmark's outcome: a headline figure, its spread, the target and the verdict."""

    id: str
    name: str
    value: float
    unit: str
    spread: str = ""
    target: str = "—"
    passed: bool | None = None  # None: no target
    details: list[str] = field(default_factory=list)
    shown: str = ""  # the result as the table shows it; default: value and unit

    @property
    def display(self) -> str:
        return self.shown or f"{self.value:.3f}{self.unit}"

    @property
    def status(self) -> str:
        return "info" if self.passed is None else ("PASS" if self.passed else "MISS")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "shown": self.display,
            "spread": self.spread,
            "target": self.target,
            "status": self.status,
            "details": self.details,
        }


@dataclass(frozen=True)
class Ratios:
    """Per-repetition ratios: median plus min–max and interquartile range."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def iqr(self) -> tuple[float, float]:
        if len(self.values) < 4:
            return min(self.values), max(self.values)
        quartiles = statistics.quantiles(self.values, n=4, method="inclusive")
        return quartiles[0], quartiles[2]

    def spread(self, fmt: str = ".3f") -> str:
        low, high = self.iqr
        return (
            f"IQR {low:{fmt}}–{high:{fmt}}, min–max {min(self.values):{fmt}}–"
            f"{max(self.values):{fmt}} (n={len(self.values)})"
        )


def timed(action: Callable[[], object]) -> float:
    """Wall seconds for one call of ``action``."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def interleave(
    sides: Mapping[str, Callable[[int], object]], repetitions: int
) -> dict[str, list[float]]:
    """Time every side once per repetition; the order rotates and flips between repetitions.

    Each side gets the repetition number (so it can use fresh names). Returns the wall seconds
    of each side, one per repetition, so per-repetition ratios cancel slow machine drift.
    """
    names = list(sides)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(repetitions):
        shift = rep // 2 % len(names)
        order = names[shift:] + names[:shift]
        if rep % 2:
            order.reverse()
        for name in order:
            seconds[name].append(timed(functools.partial(sides[name], rep)))
    return seconds


def ratios(numerator: Sequence[float], denominator: Sequence[float]) -> Ratios:
    return Ratios(tuple(n / d for n, d in zip(numerator, denominator, strict=True)))


@contextmanager
def emulator() -> Iterator[EmulatorServer]:
    """A fresh in-process emulator on a free loopback port (the same setup the tests use)."""
    with EmulatorServer() as server:
        yield server


def closes_connections(api_url: str) -> bool:
    """True when the server answers ``Connection: close`` (werkzeug's dev server always does)."""
    response = requests.get(
        f"{api_url}/container_registry_credentials",
        headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"},
        timeout=30,
    )
    return response.headers.get("Connection", "").lower() == "close"


def stack_config(server: EmulatorServer) -> dict[str, Any]:
    """The stack config the engine sends to the default pulumi-python provider."""
    return {
        "miget:apiUrl": server.api_url,
        "miget:apiKey": Secret(DEFAULT_API_KEY),
        "miget:workspaceId": DEFAULT_WORKSPACE_ID,
    }


@contextmanager
def provider_engine(server: EmulatorServer) -> Iterator[Engine]:
    """``python -u -m pulumi.dynamic`` started like the engine does, configured for ``server``."""
    with ProviderServer(cwd=REPO_ROOT) as provider_server:
        engine = Engine(provider_server, CREDENTIAL_TYPE)
        engine.configure(stack_config(server))
        yield engine


def blob_of(provider: ResourceProvider) -> str:
    return provider_blob(provider)


def credential_inputs(blob: str, name: str, token: str = "ghp_bench_token_0001") -> dict[str, Any]:
    """What a program registers for one credential (the token secret, as the SDK wraps it)."""
    return {
        "name": name,
        "registry": "github",
        "username": "bench-bot",
        "token": Secret(token),
        "__provider": blob,
    }


def fmt_ratio(value: float) -> str:
    return f"{value:.3f}×"


def lines(rows: Sequence[tuple[str, str]]) -> list[str]:
    width = max(len(label) for label, _ in rows)
    return [f"{label:<{width}}  {text}" for label, text in rows]
