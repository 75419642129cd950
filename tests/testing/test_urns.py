"""URNs as the engine makes them (deployment.go:796-805, resource.NewURN): the root stack's type
is left out of its children's URNs, a component parent's qualified type is kept."""

from __future__ import annotations

import pulumi

from pulumi_miget import ContainerRegistryCredential
from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.testing import OfflineStack

CREDENTIAL = "pulumi-python:dynamic/miget:ContainerRegistryCredential"


def program() -> None:
    ContainerRegistryCredential(
        "top", name="top-login", registry="github", username="bot", token="ghp_top"
    )
    group = pulumi.ComponentResource("acme:index:Logins", "logins")
    ContainerRegistryCredential(
        "inner",
        name="inner-login",
        registry="github",
        username="bot",
        token="ghp_inner",
        opts=pulumi.ResourceOptions(parent=group),
    )


def test_step_and_state_urns_have_the_engines_form(emulator: EmulatorServer) -> None:
    stack = OfflineStack(program, emulator=emulator, project="urns", stack="ci")
    steps = {step.name: step.urn for step in stack.up().steps}
    assert steps["top"] == f"urn:pulumi:ci::urns::{CREDENTIAL}::top"
    assert steps["inner"] == f"urn:pulumi:ci::urns::acme:index:Logins${CREDENTIAL}::inner"
    recorded = {r["urn"] for r in stack.state["resources"]}
    assert recorded == set(steps.values())
