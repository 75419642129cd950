"""Opt-in pytest fixtures for testing a stack offline — **experimental**.

Enable in a ``conftest.py`` with ``pytest_plugins = ["pulumi_miget.testing.plugin"]`` (or
``pytest -p pulumi_miget.testing.plugin``). It is not registered as a ``pytest11`` entry point on
purpose: that would import Pulumi into every pytest run of every environment with the package.

- ``miget_emulator``: a fresh Miget emulator for the test (``.api_url``, ``.requests_log()``,
  ``.add_fault(...)``, ``.clear_log()``, ``.emulator.store``), stopped afterwards;
- ``miget_stack``: a factory, ``miget_stack(program, **options)`` → an
  :class:`~pulumi_miget.testing.OfflineStack` bound to that emulator (options as its keyword
  arguments: ``config``, ``project``, ``stack``, ``state``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from .stack import OfflineStack

if TYPE_CHECKING:
    from pulumi_miget.emulator import EmulatorServer

__all__ = ["miget_emulator", "miget_stack"]


@pytest.fixture
def miget_emulator() -> Iterator[EmulatorServer]:
    """A fresh emulator on a free loopback port (its default key and workspace)."""
    from pulumi_miget.emulator import EmulatorServer  # needs the [emulator] extra (Flask)

    with EmulatorServer() as server:
        yield server


@pytest.fixture
def miget_stack(miget_emulator: EmulatorServer) -> Callable[..., OfflineStack]:
    """``miget_stack(program, **options)``: an OfflineStack against ``miget_emulator``."""

    def make(program: Callable[[], Any], **options: Any) -> OfflineStack:
        return OfflineStack(program, emulator=miget_emulator, **options)

    return make
