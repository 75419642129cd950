"""Fixtures of the policy tests. ``stack`` here is the stack *name* the policies see (it replaces
the emulator-backed ``stack`` of tests/conftest.py in this folder)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pulumi
import pytest

from tests.policy.common import PROJECT
from tests.support import policy_harness as h


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Set the stack name the policy runtime would take from PULUMI_STACK (``dev`` to start)."""
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)

    def set_stack(name: str) -> None:
        monkeypatch.setattr(pulumi, "get_stack", lambda: name)

    set_stack("dev")
    return set_stack


@pytest.fixture(scope="module")
def prod_pack() -> Iterator[h.PolicyPack]:
    """The pack process of ``examples/policy-pack`` on the ``prod`` stack of PROJECT, configured
    with its defaults; one per test module."""
    with h.PolicyPack(stack="prod", project=PROJECT) as pack:
        pack.configure()
        yield pack
