"""The reliability run's figures, printed as one table at the end of the run.

A test adds to a figure only **after** its assertions passed, so every number in the table is
backed by a test that fails when the behaviour regresses: a regression shows up as a failed test,
as a figure that falls short, and in the "unexplained failures" row (failed or erroring
reliability tests, counted by the terminal-summary hook in ``conftest.py``).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

__all__ = ["ROWS", "Figures", "render"]

ROWS: tuple[tuple[str, str, str], ...] = (
    # (area, key, label). Keys are what tests pass to Figures.add / Figures.peak.
    ("faults", "tried", "fault runs (fault × operation × transient/persistent, + extras)"),
    ("faults", "survived", "operation succeeded despite the fault"),
    ("faults", "reconciled", "  of which a lost/late POST was adopted by name"),
    ("faults", "failed_cleanly", "failed cleanly (operation, credential, status/kind named)"),
    ("faults", "converged", "state converged on the next run after a clean failure"),
    ("faults", "duplicates", "duplicates left in the API"),
    ("faults", "orphans", "orphans left in the API"),
    ("faults", "slowest_failure", "slowest clean failure (s)"),
    ("drift", "scenarios", "drift scenarios"),
    ("drift", "detected", "reported by refresh"),
    ("drift", "repaired", "repaired by the next up (one PUT or one POST)"),
    ("drift", "undetectable", "documented as undetectable (token changed out of band)"),
    ("bad input", "tried", "invalid inputs tried"),
    ("bad input", "rejected", "rejected by check on the right property"),
    ("bad input", "api_calls", "API calls made by check"),
    ("bad input", "valid_accepted", "valid edge-case inputs accepted (no false rejection)"),
    ("concurrency", "resources", "credentials created, updated and deleted concurrently"),
    ("concurrency", "operations", "gRPC operations (create + update + delete)"),
    ("concurrency", "errors", "errors"),
    ("concurrency", "cross_talk", "cross-talk (object in the wrong workspace or state)"),
    ("leaks", "probes", "leak probes (blob, process output, errors, API log, outputs)"),
    ("leaks", "leaks", "leaks found"),
    ("identity", "scenarios", "identity scenarios (workspace moves, letter case, 0.1.0 states)"),
    ("identity", "orphans", "orphans after a workspace change"),
    ("identity", "spurious_replaces", "spurious replaces"),
    ("identity", "data_lost", "data lost following our own advice (rename, then adopt)"),
    ("auth", "cases", "auth/workspace error cases"),
    ("auth", "clear_errors", "one clear error each"),
    ("auth", "extra_requests", "requests beyond the first (retry storm)"),
)


@dataclass
class Figures:
    """Counters and peaks, keyed by (area, key); thread-safe (the concurrency test adds from
    worker threads)."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    peaks: dict[tuple[str, str], float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, area: str, **counts: int) -> None:
        with self._lock:
            for key, value in counts.items():
                self._known(area, key)
                self.counts[(area, key)] += value

    def peak(self, area: str, key: str, value: float) -> None:
        with self._lock:
            self._known(area, key)
            self.peaks[(area, key)] = max(value, self.peaks.get((area, key), 0.0))

    def get(self, area: str, key: str) -> float:
        return self.peaks.get((area, key), self.counts[(area, key)])

    @staticmethod
    def _known(area: str, key: str) -> None:
        if not any(row[:2] == (area, key) for row in ROWS):
            raise KeyError(f"no figure {area}/{key} in the summary table")


def render(figures: Figures, unexplained_failures: int) -> list[str]:
    """The summary as a Markdown table (so it can be pasted into the README as is)."""
    lines = ["| area | figure | value |", "|---|---|---:|"]
    previous = ""
    for area, key, label in ROWS:
        value = figures.get(area, key)
        text = f"{value:.2f}" if isinstance(value, float) else str(value)
        lines.append(f"| {area if area != previous else ''} | {label} | {text} |")
        previous = area
    lines.append(
        f"| **all** | **unexplained failures** (failed reliability tests) | "
        f"**{unexplained_failures}** |"
    )
    return lines
