"""P11 — offline kit overhead: ``OfflineStack.up()`` ÷ the same program under bare ``set_mocks``.

The program declares ``COUNT`` credentials. The stack is brought up once, so every timed
``up()`` is all ``same``: what a test pays for re-running an unchanged stack. The kit runs it
as ``pulumi up`` would: the SDK's real provider server started for the command (one process
per command, as the CLI does), Configure, then Check and Diff over gRPC for every resource, and
no HTTP call. The baseline is the unit-test pattern of Pulumi's docs: the same program under
``pulumi.runtime.set_mocks`` with mocks that echo the inputs (``@pulumi.runtime.test``), which
checks nothing and talks to no provider. Also timed: the kit with one provider server shared
by every command (``OfflineStack(server=...)``), which leaves out the process start.

The three sides are interleaved; each repetition's ratio is taken within it. Per resource the
ratio is the same as for the whole run; the per-resource milliseconds are in the details.
Report only (no target).
"""

from __future__ import annotations

import asyncio
import contextvars
import statistics
from collections.abc import Callable
from typing import Any

import pulumi

from benchmarks._support import Result, emulator, fmt_ratio, interleave, ratios
from pulumi_miget import ContainerRegistryCredential
from pulumi_miget.testing import OfflineStack, ProviderServer

ID = "P11"
COUNT = 20
PROJECT, STACK = "bench", "dev"


def program_of(prefix: str) -> Callable[[], None]:
    """The program: ``COUNT`` GitHub credentials named ``<prefix>-<i>``."""

    def program() -> None:
        for i in range(COUNT):
            ContainerRegistryCredential(
                f"{prefix}-{i}",
                name=f"{prefix}-{i}",
                registry="github",
                username="bench-bot",
                token="ghp_bench_token_0001",
            )

    return program


class _EchoMocks(pulumi.runtime.Mocks):
    """Trivial mocks: a fake id, the inputs as outputs."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}_id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


def bare_up(program: Callable[[], None]) -> None:
    """``program`` under bare ``set_mocks``, in its own context and event loop (so repeated
    runs do not share the SDK's settings or root resource)."""

    def run() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            pulumi.runtime.set_mocks(_EchoMocks(), project=PROJECT, stack=STACK, preview=False)
            pulumi.runtime.test(program)()
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    contextvars.copy_context().run(run)


def kit_up(stack: OfflineStack) -> None:
    summary = stack.up().summary
    assert summary == {"same": COUNT}, summary


def run(quick: bool) -> list[Result]:
    reps = 5 if quick else 15
    with emulator() as server, ProviderServer() as shared:
        kit = OfflineStack(program_of("kit"), emulator=server, project=PROJECT, stack=STACK)
        warm = OfflineStack(
            program_of("shared"), emulator=server, project=PROJECT, stack=STACK, server=shared
        )
        for stack in (kit, warm):
            assert stack.up().summary == {"create": COUNT}
        bare_up(program_of("bare"))
        server.clear_log()
        seconds = interleave(
            {
                "kit": lambda rep: kit_up(kit),
                "shared": lambda rep: kit_up(warm),
                "bare": lambda rep: bare_up(program_of("bare")),
            },
            reps,
        )
        http_calls = len(server.requests_log())
    overhead = ratios(seconds["kit"], seconds["bare"])
    shared_overhead = ratios(seconds["shared"], seconds["bare"])
    per_resource_ms = {
        side: statistics.median(times) * 1000 / COUNT for side, times in seconds.items()
    }
    process_ms = (per_resource_ms["kit"] - per_resource_ms["shared"]) * COUNT
    return [
        Result(
            ID,
            f"OfflineStack.up of {COUNT} credentials, all same ÷ bare set_mocks (per resource)",
            overhead.median,
            "×",
            overhead.spread(".1f"),
            shown=f"{overhead.median:.1f}×",
            details=[
                f"{reps} runs each; per resource (median): kit {per_resource_ms['kit']:.1f} ms, "
                f"kit with a shared provider server {per_resource_ms['shared']:.1f} ms, "
                f"bare set_mocks {per_resource_ms['bare']:.1f} ms",
                f"shared provider server ÷ bare: {fmt_ratio(shared_overhead.median)} "
                f"({shared_overhead.spread('.1f')})",
                f"provider process per command: ≈ {process_ms:.0f} ms; "
                f"HTTP calls during the timed runs: {http_calls}",
            ],
        )
    ]
