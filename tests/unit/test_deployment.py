"""Deployment's rules, diff and poll interval (the deploys themselves: tests/scenarios)."""

from __future__ import annotations

import pytest

from pulumi_miget.resources.deployment import DeploymentProvider
from pulumi_miget.resources.rollout import EMULATOR_POLL_SECONDS, POLL_SECONDS, poll_base
from pulumi_miget.rules.deployment import check_deployment

APP_ID = "0b7f3c1e-1111-4222-8333-444455556666"
REV = {"app_id": APP_ID, "image_url": "ghcr.io/acme/api", "tag": "1.2.3"}


def props(reasons: list[tuple[str, str]]) -> list[str]:
    return [p for p, _ in reasons]


@pytest.mark.parametrize(
    ("given", "prop"),
    [
        ({}, "apps"),
        ({"apps": [], "app": None}, "apps"),
        ({"apps": [REV], "app": REV}, "apps"),
        ({"apps": [REV, REV]}, "apps[1]"),
        ({"apps": [{**REV, "app_id": "nope"}]}, "apps[0].app_id"),
        ({"app": {"app_id": APP_ID}}, "app.image_url"),
        ({"app": REV, "timeout_seconds": 0}, "timeout_seconds"),
        ({"app": REV, "timeout_seconds": 86401}, "timeout_seconds"),
        ({"app": REV, "wait": "yes"}, "wait"),
        ({"app": REV, "triggers": "x"}, "triggers"),
    ],
)
def test_each_rule_names_its_property(given: dict[str, object], prop: str) -> None:
    found = [(v.property, v.reason) for v in check_deployment(given)]
    assert prop in props(found), found


def test_a_valid_deployment_passes() -> None:
    assert check_deployment({"apps": [REV], "timeout_seconds": 900, "wait": True}) == []


def test_wait_timeout_and_rollback_alone_change_nothing() -> None:
    provider = DeploymentProvider()
    olds = {"revisions": [REV], "workspace_id": "w", "wait": True}
    news = {"apps": [REV], "workspace_id": "w", "wait": False, "timeout_seconds": 5}
    assert provider.diff("id", olds, {**news, "rollback_on_failure": True}).changes is False
    assert provider.diff("id", olds, {**news, "apps": [{**REV, "tag": "2"}]}).changes is True
    assert provider.diff("id", olds, {**news, "triggers": ["a"]}).changes is True


def test_the_poll_interval_is_short_against_a_local_emulator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MIGET_DEPLOY_POLL_SECONDS", raising=False)
    assert poll_base("http://127.0.0.1:8080/api/v1") == EMULATOR_POLL_SECONDS
    assert poll_base("https://app.miget.com/api/v1") == POLL_SECONDS
    monkeypatch.setenv("MIGET_DEPLOY_POLL_SECONDS", "0.2")
    assert poll_base("https://app.miget.com/api/v1") == 0.2
