"""Policies for the App resource, tested with the REAL ``pulumi_miget.App`` class.

* unit tests of the two App policies (``miget-app-env-secret``, ``miget-app-image-tag-pinned``)
  with props wrapped in the SDK's ``unknown_checking_proxy``;
* the pack process (``examples/policy-pack``) driven over gRPC with requests captured from real
  programs (tests/support/policy_harness.py): the stack policy
  ``miget-app-credential-by-reference`` passes a compliant program (``credential_id=cred.uuid``,
  up and preview) and flags a literal uuid; the ``private-image-app`` example is compliant.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pulumi
import pytest
from pulumi_policy.proxy import UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE

from pulumi_miget import App
from pulumi_miget import policies as p
from pulumi_miget.testing import plain
from tests.policy import common
from tests.policy.common import PROJECT, capture, credential, resource_args, run, run_in_pack
from tests.support import policy_harness as h

TOKEN = "ghp_never-in-a-policy-message-0123"
DB_URL = "postgres://app:policy-secret-value@db/app"
CONFIG = {f"{PROJECT}:registryToken": TOKEN, f"{PROJECT}:databaseUrl": DB_URL}
LITERAL_UUID = "4f7a4a0e-3c5c-4a51-a0f1-9d3c1f0e8b21"
BY_REF, ENV_SECRET, TAG_PINNED = (
    p.APP_CREDENTIAL_BY_REFERENCE,
    p.APP_ENV_SECRET,
    p.APP_IMAGE_TAG_PINNED,
)
APP_PROPS: dict[str, Any] = {**common.APP_PROPS, "env": {"DATABASE_URL": DB_URL}}
"""What ``pulumi_miget.App`` registers (checked) for ``app("acme-api", None)`` below."""


# ---------------------------------------------------------------------------------------------
# Unit tests of the validate functions


rargs = partial(resource_args, type_=p.APP_TYPE, name="api", secret_outputs=("env",))
"""Validation args of an App ``api`` whose class marks env secret."""


def test_env_secret_passes_when_the_class_marks_env_secret() -> None:
    assert run(p.validate_app_env_secret, rargs(APP_PROPS)) == []


def test_env_secret_flags_an_app_without_the_marker_without_quoting_values() -> None:
    (found,) = run(p.validate_app_env_secret, rargs(APP_PROPS, secret_outputs=[]))
    assert "additional_secret_outputs=['env']" in found and "pulumi_miget.App" in found
    assert DB_URL not in found


def test_env_secret_needs_no_marker_without_env_and_never_reads_an_unknown_env() -> None:
    without_env = {k: v for k, v in APP_PROPS.items() if k != "env"}
    assert run(p.validate_app_env_secret, rargs(without_env, secret_outputs=[])) == []
    unknown = {**APP_PROPS, "env": UNKNOWN_OBJECT_VALUE}
    assert run(p.validate_app_env_secret, rargs(unknown)) == []
    assert len(run(p.validate_app_env_secret, rargs(unknown, secret_outputs=[]))) == 1


def test_env_secret_ignores_other_types() -> None:
    args = rargs(APP_PROPS, type_=p.CREDENTIAL_TYPE, secret_outputs=[])
    assert run(p.validate_app_env_secret, args) == []


@pytest.mark.parametrize(
    ("stack_name", "tag", "violations"),
    [
        ("prod", "latest", 1),
        ("production-eu", "latest", 1),
        ("prod", "1.2.3", 0),
        ("dev", "latest", 0),
        ("prod", UNKNOWN_STRING_VALUE, 0),  # wired from an Output: judged during `up`
    ],
)
def test_tag_pinned_in_production(
    stack: Callable[[str], None], stack_name: str, tag: str, violations: int
) -> None:
    stack(stack_name)
    found = run(p.validate_app_image_tag_pinned, rargs({**APP_PROPS, "tag": tag}))
    assert len(found) == violations
    if found:
        assert "ghcr.io/acme/api:latest" in found[0] and "Pin a version" in found[0]
        assert f"stack name '{stack_name}'" in found[0]
        assert DB_URL not in found[0]


def test_tag_pinned_uses_stack_tags_and_is_configurable(stack: Callable[[str], None]) -> None:
    stack("eu-1")
    validate = p.validate_app_image_tag_pinned
    latest = {**APP_PROPS, "tag": "latest"}
    assert run(validate, rargs(latest, tags={"environment": "production"}))
    assert not run(validate, rargs(latest, tags={"environment": "staging"}))
    config = {"disallowedTags": ["latest", "main"], "productionStackPattern": "^eu-"}
    assert run(validate, rargs({**APP_PROPS, "tag": "main"}, config=config))
    assert not run(validate, rargs(APP_PROPS, config=config))


def test_tag_pinned_skips_an_absent_tag_and_other_types(stack: Callable[[str], None]) -> None:
    stack("prod")
    without_tag = {k: v for k, v in APP_PROPS.items() if k != "tag"}
    assert run(p.validate_app_image_tag_pinned, rargs(without_tag)) == []
    cred = rargs({"tag": "latest"}, type_=p.CREDENTIAL_TYPE)
    assert run(p.validate_app_image_tag_pinned, cred) == []


def test_tag_pinned_reports_a_broken_config(stack: Callable[[str], None]) -> None:
    stack("prod")
    args = rargs({**APP_PROPS, "tag": "latest"}, config={"disallowedTags": "latest"})
    (found,) = run(p.validate_app_image_tag_pinned, args)
    assert "'disallowedTags' must be a list of strings" in found


# ---------------------------------------------------------------------------------------------
# Real programs through the pack process


def app(name: str, credential_id: pulumi.Input[str] | None, **overrides: Any) -> App:
    """A real App (tests/policy/common.py) with ``env`` from the secret config ``databaseUrl``."""
    env = {"DATABASE_URL": pulumi.Config().require_secret("databaseUrl")}
    return common.app(name, credential_id, **{"env": env, **overrides})


def compliant_program() -> None:
    app("web", credential().uuid)


def literal_program() -> None:
    credential()
    app("worker", LITERAL_UUID)


def mixed_program() -> None:
    cred = credential()
    app("wired", cred.uuid)
    app("literal", LITERAL_UUID)
    app("public", None, image_url="docker.io/library/nginx")  # no credential: nothing to judge
    app("floating", cred.uuid, tag=None)  # tag defaults to latest: advisory in production


def plain_env_program() -> None:
    h.PlainEnvApp(
        "copy-pasted",
        name="copy-pasted",
        image_url="ghcr.io/acme/api",
        tag="1.0",
        env={"DATABASE_URL": DB_URL},
    )


def run_program(
    pack: h.PolicyPack, program: Callable[[], object], *, preview: bool = False
) -> h.EngineRun:
    return run_in_pack(pack, program, CONFIG, preview=preview)


def test_what_the_sdk_sends_for_the_real_app() -> None:
    captured = capture(compliant_program, CONFIG)
    ghcr, web = captured["ghcr"], captured["web"]
    assert web.type == p.APP_TYPE
    assert list(web.request.additionalSecretOutputs) == ["env"]
    assert web.inputs()["env"] == h.Secret({"DATABASE_URL": DB_URL})
    checked = h.decode(web.checked_inputs())
    assert (checked["label"], checked["builder"]) == ("web", "auto")  # filled in by App's check
    assert web.stack_resource().propertyDependencies["credential_id"].urns == [ghcr.urn]
    assert ghcr.check_failures() == [] and web.check_failures() == []


def test_the_unit_test_props_are_what_the_real_classes_register() -> None:
    """APP_PROPS and CREDENTIAL_PROPS (the unit tests' props) are the real classes' checked
    inputs, secrets unwrapped as validate functions see them."""

    def program() -> None:
        app("acme-api", None)
        credential()

    captured = capture(program, CONFIG)
    api, ghcr = captured["acme-api"], captured["ghcr"]
    assert api.check_failures() == [] and ghcr.check_failures() == []
    checked_app = plain(h.decode(api.analyze_request().properties))
    assert checked_app == APP_PROPS
    checked_credential = plain(h.decode(ghcr.analyze_request().properties))
    assert checked_credential == {**common.CREDENTIAL_PROPS, "token": TOKEN}


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_an_app_wired_to_the_credential_output_is_compliant(
    prod_pack: h.PolicyPack, preview: bool
) -> None:
    result = run_program(prod_pack, compliant_program, preview=preview)
    assert result.diagnostics == []


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_an_app_with_a_literal_uuid_is_flagged(prod_pack: h.PolicyPack, preview: bool) -> None:
    result = run_program(prod_pack, literal_program, preview=preview)
    assert result.mandatory == [(BY_REF, "worker")]
    (violation,) = result.stack
    assert violation.urn.endswith("::pulumi-python:dynamic/miget:App::worker")
    assert "credential_id is a literal value" in violation.message


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_a_mixed_program_flags_exactly_the_literal_and_the_floating_tag(
    prod_pack: h.PolicyPack, preview: bool
) -> None:
    result = run_program(prod_pack, mixed_program, preview=preview)
    assert result.mandatory == [(BY_REF, "literal")]
    assert result.advisory == [(TAG_PINNED, "floating")]


def test_an_app_class_that_forgets_the_env_marker_is_flagged(prod_pack: h.PolicyPack) -> None:
    result = run_program(prod_pack, plain_env_program)
    assert result.mandatory == [(ENV_SECRET, "copy-pasted")]


def test_floating_tags_are_fine_outside_production() -> None:
    with h.PolicyPack(stack="dev", project=PROJECT) as pack:
        pack.configure()
        result = run_program(pack, mixed_program)
    assert result.found() == [(BY_REF, "literal")]


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_the_private_image_app_example_is_compliant(prod_pack: h.PolicyPack, preview: bool) -> None:
    project = "miget-private-image-app"
    config = {f"{project}:ghcrToken": TOKEN, f"{project}:databaseUrl": DB_URL}
    captured = capture(
        h.REPO / "examples" / "private-image-app" / "__main__.py",
        config,
        project=project,
        preview=preview,
    )
    [api] = captured.of_type(p.APP_TYPE)
    [ghcr] = captured.of_type(p.CREDENTIAL_TYPE)
    assert api.stack_resource().propertyDependencies["credential_id"].urns == [ghcr.urn]
    assert prod_pack.run(captured).diagnostics == []
