"""What the policy tests of ContainerRegistryCredential and App share: validation args built the
way the policy runtime builds them, a validate function's messages, and programs run through the
pack process (tests/support/policy_harness.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pulumi
from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs
from pulumi_policy.proxy import unknown_checking_proxy

from tests.support import policy_harness as h

PROJECT = "acme-platform"
"""The project of every program run through the pack (its config keys are namespaced by it)."""


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


def run_in_pack(
    pack: h.PolicyPack,
    program: Callable[[], object],
    config: Mapping[str, str],
    *,
    preview: bool = False,
) -> h.EngineRun:
    """Run ``program`` on the pack's stack and project with ``config`` (every key a secret), then
    the pack on what it registered. Every run must be free of remediations (there are no
    remediation policies: nothing may rewrite inputs) and of config values in any message."""
    captured = h.capture(
        program,
        stack=pack.stack,
        project=pack.project,
        preview=preview,
        config=config,
        secret_config=list(config),
    )
    result = pack.run(captured)
    assert result.remediations == []
    for secret in config.values():
        assert not any(secret in d.message for d in result.diagnostics)
    return result
