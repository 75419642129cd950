"""Reliability fixtures: providers per stack config, the figures collector, the summary table.

Providers are session-scoped, one per stack config (the SDK server configures a provider once
per blob per process, so a different config needs its own process):

- ``fault_provider``: ``miget:timeout`` 0.5 s and ``miget:maxRetries`` 1, so one injected fault
  is transient, two are persistent, and a hung request times out fast. With one retry urllib3's
  exponential backoff never sleeps (its first retry is immediate), so no backoff knob is needed.
- ``standard_provider``: a 5 s timeout and 2 retries, for tests where no fault is injected.

When a provider stops, its process output is probed for every known secret (a leak probe).

The summary table is printed by ``pytest_terminal_summary`` below. pytest registers this
conftest as a plugin as soon as it collects ``tests/reliability``, and calls the hook on every
registered plugin, so the table appears both for ``pytest tests/reliability`` and ``pytest tests``
(and not when no reliability test ran).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pulumi_miget.emulator import EmulatorServer
from tests.reliability.common import (
    MAX_RETRIES,
    TIMEOUT,
    Provider,
    serve,
    stack_config,
)
from tests.reliability.figures import Figures, render

FIGURES = pytest.StashKey[Figures]()
HERE = Path(__file__).parent


def _figures(config: pytest.Config) -> Figures:
    if FIGURES not in config.stash:
        config.stash[FIGURES] = Figures()
    return config.stash[FIGURES]


@pytest.fixture(scope="session")
def figures(pytestconfig: pytest.Config) -> Figures:
    """The session's figures; tests add to them after their assertions passed."""
    return _figures(pytestconfig)


@pytest.fixture(scope="session")
def fault_provider(emulator_server: EmulatorServer, figures: Figures) -> Iterator[Provider]:
    config = stack_config(emulator_server, timeout=str(TIMEOUT), maxRetries=str(MAX_RETRIES))
    yield from serve(config, figures)


@pytest.fixture(scope="session")
def standard_provider(emulator_server: EmulatorServer, figures: Figures) -> Iterator[Provider]:
    config = stack_config(emulator_server, timeout="5", maxRetries="2")
    yield from serve(config, figures)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    if FIGURES not in config.stash:
        return  # no reliability test ran
    try:
        prefix = HERE.relative_to(config.rootpath).as_posix() + "/"
    except ValueError:  # run from outside the project: node ids are absolute-ish, match the dir
        prefix = HERE.name + "/"
    unexplained = sum(
        1
        for outcome in ("failed", "error")
        for report in terminalreporter.stats.get(outcome, [])
        if getattr(report, "nodeid", "").startswith(prefix)
    )
    terminalreporter.write_sep("=", "reliability summary")
    for line in render(config.stash[FIGURES], unexplained):
        terminalreporter.write_line(line)
