"""P4 — import overhead: what a program imports from pulumi_miget ÷ ``import pulumi``, each in a
fresh interpreter.

``import pulumi_miget`` alone loads almost nothing (its names load on first use), so the figure
is ``from pulumi_miget import App, ContainerRegistryCredential, Registry``: the resource classes
a program really uses. Wall time of ``python -c CODE`` (interpreter start included, as a Pulumi
program pays it),
the two interleaved with alternating order. Then ``python -X importtime`` shows which modules
``pulumi_miget`` loads on top of ``pulumi`` (by self time, one run each, so indicative only).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile

from benchmarks._support import Result, interleave, ratios

ID = "P4"
TARGET = 1.10
PROGRAM_IMPORT = "from pulumi_miget import App, ContainerRegistryCredential, Registry"
IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


def _python(code: str, *flags: str, cwd: str) -> subprocess.CompletedProcess[str]:
    """``python -c code`` in ``cwd``, with bytecode cached under ``cwd`` like any install has.

    The environment may set PYTHONDONTWRITEBYTECODE (this one does), and the editable install
    of pulumi_miget has no ``__pycache__``: it would be compiled on every run while pulumi's
    wheel ships compiled. A private PYTHONPYCACHEPREFIX gives both sides the same cache and
    writes nothing into the repository or the venv.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = os.path.join(cwd, "pycache")
    return subprocess.run(
        [sys.executable, *flags, "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )


def import_times(code: str, cwd: str) -> dict[str, tuple[int, int]]:
    """module → (self µs, cumulative µs) from ``-X importtime`` of ``python -c code``."""
    stderr = _python(code, "-X", "importtime", cwd=cwd).stderr
    times: dict[str, tuple[int, int]] = {}
    for line in stderr.splitlines():
        match = IMPORTTIME.match(line)
        if match:
            times[match.group(4)] = (int(match.group(1)), int(match.group(2)))
    return times


def extra_modules(cwd: str) -> tuple[int, int, int, list[str]]:
    """(how many modules pulumi_miget adds, their self µs, µs of import pulumi, top extras)."""
    base = import_times("import pulumi", cwd)
    ours = import_times(PROGRAM_IMPORT, cwd)
    extra = {name: t for name, t in ours.items() if name not in base}
    top = sorted(extra.items(), key=lambda item: item[1][0], reverse=True)[:10]
    extra_us = sum(self_us for self_us, _ in extra.values())
    text = [f"{name} {self_us / 1000:.1f} ms" for name, (self_us, _) in top]
    return len(extra), extra_us, base.get("pulumi", (0, 0))[1], text


def run(quick: bool) -> list[Result]:
    reps = 10 if quick else 30
    with tempfile.TemporaryDirectory() as cwd:  # nothing from the repo root on sys.path
        for code in (PROGRAM_IMPORT, "import pulumi"):  # fill the bytecode and file caches
            _python(code, cwd=cwd)
        seconds = interleave(
            {
                "pulumi_miget": lambda rep: _python(PROGRAM_IMPORT, cwd=cwd),
                "pulumi": lambda rep: _python("import pulumi", cwd=cwd),
            },
            reps,
        )
        extra_count, extra_us, pulumi_us, top = extra_modules(cwd)
    overhead = ratios(seconds["pulumi_miget"], seconds["pulumi"])
    median_ms = {name: sorted(times)[len(times) // 2] * 1000 for name, times in seconds.items()}
    return [
        Result(
            ID,
            "from pulumi_miget import App, ... ÷ import pulumi (fresh interpreter)",
            overhead.median,
            "×",
            overhead.spread(),
            f"≤ {TARGET:.2f}×",
            overhead.median <= TARGET,
            [
                f"{reps} runs each; median wall: pulumi_miget {median_ms['pulumi_miget']:.0f} ms, "
                f"pulumi {median_ms['pulumi']:.0f} ms",
                f"-X importtime: {extra_count} modules on top of pulumi, "
                f"{extra_us / 1000:.1f} ms self time (import pulumi: {pulumi_us / 1000:.1f} ms)",
                "top extra modules (self time): " + ", ".join(top),
            ],
        )
    ]
