"""The policy pack as the engine runs it: ``examples/policy-pack`` started as its own process
(``python -u -m pulumi.policy``), driven over gRPC with requests captured from real programs.

See ``tests/support/policy_harness.py`` for the engine rules reproduced and their sources.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pulumi.runtime import proto

from pulumi_miget import ContainerRegistryCredential, Registry
from pulumi_miget import policies as p
from pulumi_miget.rules import REGISTRIES
from tests.policy.common import PROJECT, app, capture, credential, run_in_pack, token
from tests.support import policy_harness as h

TOKEN = "ghp_never-in-a-message-0123456789"
CONFIG = {f"{PROJECT}:registryToken": TOKEN}
LITERAL_UUID = "4f7a4a0e-3c5c-4a51-a0f1-9d3c1f0e8b21"

HOSTNAME, SKIP, NAMING, BY_REF, TOKEN_SECRET, ALLOWED = (
    p.REGISTRY_HOSTNAME,
    p.NO_SKIP_VALIDATION_IN_PRODUCTION,
    p.CREDENTIAL_NAMING,
    p.APP_CREDENTIAL_BY_REFERENCE,
    p.TOKEN_SECRET,
    p.ALLOWED_REGISTRIES,
)


# ---------------------------------------------------------------------------------------------
# Programs


def compliant_program() -> None:
    ghcr = credential()
    ContainerRegistryCredential(
        "ecr",
        name="ecr-acme",
        registry=Registry.AWS_ECR,
        username="AWS",
        token=token(),
        registry_hostname="123456789012.dkr.ecr.eu-west-1.amazonaws.com",
    )
    app("web", ghcr.uuid, image_url="ghcr.io/acme/web", tag="1")


def violating_program() -> None:
    ContainerRegistryCredential(
        "harbor",
        name="Harbor_Pull",  # advisory: naming convention
        registry=Registry.GENERIC,  # mandatory: generic needs registry_hostname
        username="robot$pull",
        token=token(),
        skip_validation=True,  # mandatory in production stacks
    )
    app("worker", LITERAL_UUID, image_url="harbor.example.com/w", tag="1")


def preview_unknowns_program() -> None:
    """Everything a policy could trip over is unknown during preview."""
    images = h.ImageRepository("images")
    harbor = ContainerRegistryCredential(
        "harbor",
        name="harbor-pull",
        registry=Registry.GENERIC,
        username="robot$pull",
        token=token(),
        registry_hostname=images.registry_host,  # unknown until `images` exists
    )
    app("web", harbor.uuid, image_url="harbor/web", tag="1")


def unsafe_program() -> None:
    h.UnsafeCredential(
        "copy-pasted", name="copy-pasted", registry="github", username="bot", token=TOKEN
    )


def run_program(
    pack: h.PolicyPack, program: Callable[[], object], *, preview: bool = False
) -> h.EngineRun:
    return run_in_pack(pack, program, CONFIG, preview=preview)


@pytest.fixture(scope="module")
def dev_pack() -> Iterator[h.PolicyPack]:
    with h.PolicyPack(stack="dev", project=PROJECT) as pack:
        pack.configure()
        yield pack


# ---------------------------------------------------------------------------------------------
# The pack itself


def test_the_pack_reports_every_policy_with_its_level_and_schema(dev_pack: h.PolicyPack) -> None:
    info = dev_pack.info()
    assert info.name == "miget" and info.supportsConfig
    levels = {policy.name: policy.enforcementLevel for policy in info.policies}
    assert levels == {
        TOKEN_SECRET: proto.MANDATORY,
        SKIP: proto.MANDATORY,
        HOSTNAME: proto.MANDATORY,
        NAMING: proto.ADVISORY,
        ALLOWED: proto.ADVISORY,
        BY_REF: proto.MANDATORY,
        p.APP_ENV_SECRET: proto.MANDATORY,
        p.APP_IMAGE_TAG_PINNED: proto.ADVISORY,
    }
    assert all(policy.description for policy in info.policies)
    assert dict(info.initialConfig) == {}


def test_reconciled_defaults_are_the_library_defaults(dev_pack: h.PolicyPack) -> None:
    # What the CLI sends to Configure when no --policy-pack-config is given.
    config = h.reconcile_config(dev_pack.info())
    expected = {
        spec.name: {"enforcementLevel": spec.enforcement_level.value, **spec.defaults}
        for spec in p.CATALOG
    }
    assert list(expected) == list(p.POLICY_NAMES)
    assert config == expected


# ---------------------------------------------------------------------------------------------
# What the SDK really sends for the project's classes


def test_what_the_sdk_sends_for_a_credential_and_an_app() -> None:
    captured = capture(compliant_program, CONFIG)
    ghcr, web = captured["ghcr"], captured["web"]
    assert all(r.check_failures() == [] for r in captured.registrations)  # a valid program
    assert (
        ghcr.type == "pulumi-python:dynamic/miget:ContainerRegistryCredential" == p.CREDENTIAL_TYPE
    )
    assert web.type == p.APP_TYPE
    assert list(ghcr.request.additionalSecretOutputs) == ["token"]
    inputs = ghcr.inputs()
    assert inputs["token"] == h.Secret(TOKEN)  # Output.secret on the wire
    assert "__provider" in inputs  # sent to Remediate, stripped for Analyze
    assert "registry_hostname" not in inputs and "skip_validation" not in inputs  # None dropped
    analyzed = h.decode(ghcr.analyze_request().properties)
    assert "__provider" not in analyzed and analyzed["registry"] == "github"
    # Property dependencies are keyed by the top-level input name, listing the credential.
    sent = [k for k, v in web.request.propertyDependencies.items() if v.urns]
    assert sent == ["credential_id"]
    assert web.stack_resource().propertyDependencies["credential_id"].urns == [ghcr.urn]


# ---------------------------------------------------------------------------------------------
# Example programs


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_quickstart_example_is_compliant(prod_pack: h.PolicyPack, preview: bool) -> None:
    captured = capture(
        h.REPO / "examples" / "quickstart" / "__main__.py",
        {"miget-quickstart:ghcrToken": TOKEN},
        project="miget-quickstart",
        preview=preview,
    )
    assert [r.name for r in captured.of_type(p.CREDENTIAL_TYPE)] == ["ghcr"]
    assert prod_pack.run(captured).diagnostics == []


ALL_REGISTRIES_TOKENS = [
    "dockerHubToken",
    "ghcrToken",
    "gitlabToken",
    "ecrToken",
    "acrToken",
    "digitaloceanToken",
    "quayToken",
    "harborToken",
]


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_all_registries_example_is_compliant(prod_pack: h.PolicyPack, preview: bool) -> None:
    keys = [f"miget-all-registries:{key}" for key in ALL_REGISTRIES_TOKENS]
    captured = capture(
        h.REPO / "examples" / "all-registries" / "__main__.py",
        dict.fromkeys(keys, TOKEN),
        project="miget-all-registries",
        preview=preview,
    )
    credentials = captured.of_type(p.CREDENTIAL_TYPE)
    assert sorted(h.decode(r.checked_inputs())["registry"] for r in credentials) == sorted(
        REGISTRIES
    )
    assert prod_pack.run(captured).diagnostics == []


# ---------------------------------------------------------------------------------------------
# Violations


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
def test_a_violating_program_yields_exactly_the_expected_violations(
    prod_pack: h.PolicyPack, preview: bool
) -> None:
    result = run_program(prod_pack, violating_program, preview=preview)
    assert result.mandatory == [(BY_REF, "worker"), (SKIP, "harbor"), (HOSTNAME, "harbor")]
    assert result.advisory == [(NAMING, "harbor")]
    (by_ref,) = result.stack
    assert by_ref.urn.endswith("::pulumi-python:dynamic/miget:App::worker")
    assert "credential_id=credential.uuid" in by_ref.message


def test_skip_validation_is_allowed_outside_production(dev_pack: h.PolicyPack) -> None:
    result = run_program(dev_pack, violating_program)
    assert result.mandatory == [(BY_REF, "worker"), (HOSTNAME, "harbor")]


def test_production_by_stack_tag() -> None:
    with h.PolicyPack(stack="eu-1", project=PROJECT) as pack:
        pack.configure_stack(tags={"environment": "production"})  # as ConfigureStack sends them
        pack.configure()
        result = run_program(pack, violating_program)
    assert (SKIP, "harbor") in result.mandatory


def test_production_by_miget_environment_config() -> None:
    config = {"miget:environment": "production"}  # reaches the pack through PULUMI_CONFIG
    with h.PolicyPack(stack="eu-1", project=PROJECT, stack_config=config) as pack:
        pack.configure()
        result = run_program(pack, violating_program)
    (skip,) = [d for d in result.diagnostics if d.policy == SKIP]
    assert skip.level == "mandatory" and "config miget:environment=production" in skip.message


def test_a_credential_class_that_forgets_the_secret_marker_is_flagged(
    prod_pack: h.PolicyPack,
) -> None:
    result = run_program(prod_pack, unsafe_program)
    assert result.mandatory == [(TOKEN_SECRET, "copy-pasted")]


# ---------------------------------------------------------------------------------------------
# Preview: unknown values never cause a false mandatory violation


def test_preview_with_unknown_values_reports_nothing(prod_pack: h.PolicyPack) -> None:
    captured = capture(preview_unknowns_program, CONFIG, preview=True)
    harbor, web = captured["harbor"], captured["web"]
    assert h.decode(harbor.checked_inputs())["registry_hostname"] == h.UNKNOWN_STRING
    assert h.decode(web.outputs)["credential_id"] == h.UNKNOWN_STRING
    result = prod_pack.run(captured)
    # Not even the advisory "can't run policy ... during preview" the SDK emits when a policy
    # reads an unknown value: the policies never read one.
    assert result.diagnostics == []


def test_the_same_program_during_up_is_compliant(prod_pack: h.PolicyPack) -> None:
    assert run_program(prod_pack, preview_unknowns_program).diagnostics == []


def test_app_wired_from_the_credential_passes_and_a_literal_fails(
    prod_pack: h.PolicyPack,
) -> None:
    def program() -> None:
        cred = credential(registry="github", username="bot")
        app("wired", cred.uuid, image_url="ghcr.io/acme/a", tag="1")
        app("literal", LITERAL_UUID, image_url="ghcr.io/acme/b", tag="1")

    for preview in (False, True):
        result = run_program(prod_pack, program, preview=preview)
        assert result.found() == [(BY_REF, "literal")], preview


# ---------------------------------------------------------------------------------------------
# Configuration, as --policy-pack-config gives it


def test_policy_pack_config_overrides_levels_and_settings(prod_pack: h.PolicyPack) -> None:
    try:
        prod_pack.configure({ALLOWED: {"allowedRegistries": ["github"]}, NAMING: "mandatory"})
        result = run_program(prod_pack, violating_program)
        assert result.found("mandatory") == [
            (BY_REF, "worker"),
            (NAMING, "harbor"),
            (SKIP, "harbor"),
            (HOSTNAME, "harbor"),
        ]
        assert result.advisory == [(ALLOWED, "harbor")]

        prod_pack.configure({"all": "advisory"})
        result = run_program(prod_pack, violating_program)
        assert result.mandatory == [] and len(result.advisory) == 4

        prod_pack.configure({SKIP: "disabled", BY_REF: "disabled", HOSTNAME: "disabled"})
        assert run_program(prod_pack, violating_program).found() == [(NAMING, "harbor")]
    finally:
        prod_pack.configure()


def test_policy_pack_config_reaches_the_policies(dev_pack: h.PolicyPack) -> None:
    try:
        dev_pack.configure({SKIP: {"productionStackPattern": "^dev$"}})
        assert (SKIP, "harbor") in run_program(dev_pack, violating_program).mandatory
    finally:
        dev_pack.configure()


@pytest.mark.parametrize(
    "bad",
    [
        {ALLOWED: {"allowedRegistries": ["dockerhub"]}},
        {ALLOWED: {"allowedRegistries": "github"}},
        {NAMING: {"pattern": "(unclosed"}},
        {SKIP: {"productionTagKey": ""}},
        {NAMING: "strict"},
    ],
)
def test_invalid_pack_config_is_rejected_before_any_policy_runs(
    dev_pack: h.PolicyPack, bad: dict[str, object]
) -> None:
    with pytest.raises(ValueError):
        h.reconcile_config(dev_pack.info(), bad)


def test_initial_config_needs_an_explicit_level(tmp_path: Path) -> None:
    """A pack's ``initial_config`` entry without ``enforcementLevel`` reaches the CLI as
    "advisory" (protobuf's zero value) and downgrades the policy; ``policies.initial_config``
    always sets the level."""
    pack_dir = tmp_path / "pack"
    pack_dir.mkdir()
    shutil.copy(h.PACK_DIR / "PulumiPolicy.yaml", pack_dir)
    (pack_dir / "__main__.py").write_text(
        "from pulumi_policy import PolicyPack\n"
        "from pulumi_miget import policies\n"
        "PolicyPack(\n"
        '    name="acme",\n'
        "    policies=policies.all_policies(),\n"
        "    initial_config={\n"
        f'        "{SKIP}": {{"productionStackPattern": "^live$"}},\n'
        '        **policies.initial_config(credential_property="credential_id"),\n'
        "    },\n"
        ")\n"
    )
    with h.PolicyPack(pack_dir, stack="live", project=PROJECT) as pack:
        config = pack.configure()
        assert config[SKIP] == {**config[SKIP], "enforcementLevel": "advisory"}  # downgraded
        assert config[BY_REF]["enforcementLevel"] == "mandatory"  # kept
        result = run_program(pack, violating_program)
    assert (SKIP, "harbor") in result.advisory
