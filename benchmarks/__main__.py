"""``python -m benchmarks [--quick] [--json PATH] [P1 P3 ...]``: run, then print one table."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks import (
    p1_lifecycle,
    p2_calls,
    p3_blob,
    p4_imports,
    p5_parallel,
    p6_emulator,
    p11_offline_kit,
)
from benchmarks._support import Result

BENCHMARKS: dict[str, Callable[[bool], list[Result]]] = {
    p1_lifecycle.ID: p1_lifecycle.run,
    p2_calls.ID: p2_calls.run,
    p3_blob.ID: p3_blob.run,
    p4_imports.ID: p4_imports.run,
    p5_parallel.ID: p5_parallel.run,
    p6_emulator.ID: p6_emulator.run,
    p11_offline_kit.ID: p11_offline_kit.run,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="pulumi-miget ratio benchmarks (see __init__)."
    )
    parser.add_argument("only", nargs="*", metavar="ID", help="run only these (e.g. P1 P3)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return parser


def table(results: Sequence[Result]) -> str:
    header = ("ID", "benchmark", "result", "spread", "target", "status")
    rows = [(r.id, r.name, r.display, r.spread, r.target, r.status) for r in results]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = (cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        return " | ".join(padded).rstrip()

    rule = "-+-".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    asked = {name.upper() for name in args.only}
    unknown = sorted(asked - set(BENCHMARKS))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
        return 2
    wanted = [name for name in BENCHMARKS if name in asked or not asked]
    started = time.perf_counter()
    results: list[Result] = []
    for name in wanted:
        began = time.perf_counter()
        print(f"== {name} ...", flush=True)
        for result in BENCHMARKS[name](args.quick):
            results.append(result)
            print(f"   {result.name}: {result.display}  [{result.status}]")
            for detail in result.details:
                print(f"     {detail}")
        print(f"   ({time.perf_counter() - began:.1f} s)", flush=True)
    elapsed = time.perf_counter() - started
    print()
    print(table(results))
    machine = f"{platform.python_implementation()} {platform.python_version()}, {_cpus()} CPUs"
    mode = "quick" if args.quick else "full"
    print(f"\n{mode} run, {elapsed:.0f} s, {machine}")
    if args.json:
        payload = {
            "mode": mode,
            "seconds": round(elapsed, 1),
            "machine": machine,
            "results": [r.to_json() for r in results],
        }
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    missed = any(r.passed is False for r in results)
    return 1 if missed and args.strict else 0


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
