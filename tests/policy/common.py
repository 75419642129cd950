"""What the policy tests of ContainerRegistryCredential and App share: validation args built the
way the policy runtime builds them, a validate function's messages, the real resource classes'
props, and programs (declaring the real ``pulumi_miget`` classes) captured and run through the
pack process (tests/support/policy_harness.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pulumi
from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs
from pulumi_policy.proxy import unknown_checking_proxy

from pulumi_miget import App, ContainerRegistryCredential, Registry
from tests.samples import APP_CHECKED, DEFAULT_WORKSPACE_ID, PROJECT_ID, RESOURCE_ID
from tests.support import policy_harness as h

PROJECT = "acme-platform"
"""The project of every program run through the pack (its config keys are namespaced by it)."""

STACK_CONFIG: Mapping[str, str] = {"miget:workspaceId": DEFAULT_WORKSPACE_ID}
"""The stack config every captured program has besides its own: a real stack names its workspace
(the resources' ``check`` resolves it into ``workspace_id``)."""


APP_PROPS: Mapping[str, Any] = APP_CHECKED
"""A ``pulumi_miget.App``'s checked inputs (``label``, ``builder`` and ``workspace_id`` filled in
by its ``check``), without ``env`` or ``credential_id``; a test checks the real class gives
these."""

CREDENTIAL_PROPS: Mapping[str, Any] = {
    "name": "ghcr-acme",
    "registry": "github",
    "username": "acme-bot",
    "workspace_id": DEFAULT_WORKSPACE_ID,
}
"""A ``pulumi_miget.ContainerRegistryCredential``'s checked inputs, without ``token``; a test checks
the real class gives these."""


def opts(secret_outputs: Sequence[str]) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        False, [], None, [], PolicyCustomTimeouts(0, 0, 0), list(secret_outputs)
    )


def resource_args(
    props: Mapping[str, Any],
    *,
    type_: str,
    name: str,
    secret_outputs: Sequence[str],
    config: Mapping[str, Any] | None = None,
    tags: Mapping[str, str] | None = None,
) -> ResourceValidationArgs:
    """A resource's validation args, its props wrapped in the SDK's own
    ``unknown_checking_proxy`` as the policy runtime wraps them (so reading an unknown value
    raises exactly as it does during ``pulumi preview``)."""
    return ResourceValidationArgs(
        type_,
        unknown_checking_proxy(dict(props)),
        f"urn:pulumi:dev::miget::{type_}::{name}",
        name,
        opts(secret_outputs),
        None,
        config,
        tags,
    )


def run(validate: Callable[[Any, Any], None], args: Any) -> list[str]:
    """The messages ``validate`` reports for ``args``."""
    found: list[str] = []
    validate(args, lambda message, urn=None: found.append(message))
    return found


def token() -> pulumi.Output[str]:
    """The registry token, from the secret stack config ``registryToken``."""
    return pulumi.Config().require_secret("registryToken")


def credential(resource_name: str = "ghcr", **overrides: Any) -> ContainerRegistryCredential:
    """A real GitHub credential ``ghcr-acme`` (CREDENTIAL_PROPS), its token from the config."""
    args: dict[str, Any] = {
        "name": "ghcr-acme",
        "registry": Registry.GITHUB,
        "username": "acme-bot",
        "token": token(),
        **overrides,
    }
    return ContainerRegistryCredential(resource_name, **args)


def app(name: str, credential_id: pulumi.Input[str] | None, **overrides: Any) -> App:
    """A real App: ``name`` is its resource name and Miget name; the rest as in APP_PROPS unless
    overridden (``tag=None``: the default tag, ``latest``)."""
    args: dict[str, Any] = {
        "name": name,
        "project_id": PROJECT_ID,
        "resource_id": RESOURCE_ID,
        "image_url": APP_PROPS["image_url"],
        "tag": APP_PROPS["tag"],
        "credential_id": credential_id,
        **overrides,
    }
    return App(name, **args)


def capture(
    program: Callable[[], object] | Path | str,
    config: Mapping[str, str],
    *,
    stack: str = "prod",
    project: str = PROJECT,
    preview: bool = False,
) -> h.Capture:
    """``program`` captured on ``stack`` of ``project`` with STACK_CONFIG plus ``config`` (every
    key of ``config`` a secret)."""
    return h.capture(
        program,
        stack=stack,
        project=project,
        preview=preview,
        config={**STACK_CONFIG, **config},
        secret_config=list(config),
    )


def run_in_pack(
    pack: h.PolicyPack,
    program: Callable[[], object],
    config: Mapping[str, str],
    *,
    preview: bool = False,
) -> h.EngineRun:
    """Run ``program`` on the pack's stack and project with ``config`` (see :func:`capture`), then
    the pack on what it registered. Every run must be free of remediations (there are no
    remediation policies: nothing may rewrite inputs) and of config values in any message."""
    captured = capture(program, config, stack=pack.stack, project=pack.project, preview=preview)
    result = pack.run(captured)
    assert result.remediations == []
    for secret in config.values():
        assert not any(secret in d.message for d in result.diagnostics)
    return result
