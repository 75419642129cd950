"""The field specs are the one declaration of each resource: the resource classes, their
``*Args`` and the providers agree with them."""

from __future__ import annotations

import dataclasses
import inspect
import sys
from typing import Any

import pulumi
import pytest

from pulumi_miget import App, ContainerRegistryCredential
from pulumi_miget.app import AppArgs, AppProvider
from pulumi_miget.credential import (
    ContainerRegistryCredentialArgs,
    ContainerRegistryCredentialProvider,
)
from pulumi_miget.resources.app import APP as APP_SPEC
from pulumi_miget.resources.credential import CREDENTIAL
from pulumi_miget.spec import ResourceSpec
from pulumi_miget.testing import ProviderServer, Stack, run_program
from pulumi_miget.tokens import APP_TYPE, CREDENTIAL_TYPE
from tests.emulator.helpers import Api
from tests.samples import APP

CASES = [
    pytest.param(
        CREDENTIAL, ContainerRegistryCredential, ContainerRegistryCredentialArgs, id="cred"
    ),
    pytest.param(APP_SPEC, App, AppArgs, id="app"),
]


@pytest.mark.parametrize(("spec", "resource", "args_class"), CASES)
def test_the_args_class_declares_exactly_the_spec_inputs(
    spec: ResourceSpec, resource: type, args_class: type
) -> None:
    fields = dataclasses.fields(args_class)
    assert {f.name for f in fields} == set(spec.inputs)
    required = {f.name for f in fields if f.default is dataclasses.MISSING}
    assert required == {f.name for f in spec if f.required}


@pytest.mark.skipif(sys.version_info < (3, 11), reason="typing.get_overloads is Python 3.11+")
@pytest.mark.parametrize(("spec", "resource", "args_class"), CASES)
def test_the_keyword_signature_matches_the_args_class(
    spec: ResourceSpec, resource: type, args_class: type
) -> None:
    """The typed keyword overload (what editors show) has the Args fields and nothing else."""
    overloads = [o for o in _overloads(resource.__init__) if "opts" in o.parameters]
    keyword = next(o for o in overloads if "name" in o.parameters)
    params = {n: p for n, p in keyword.parameters.items() if n not in ("self", "resource_name")}
    assert set(params) - {"opts"} == {f.name for f in dataclasses.fields(args_class)}
    required = {n for n, p in params.items() if p.default is inspect.Parameter.empty}
    assert required == {f.name for f in spec if f.required}


@pytest.mark.parametrize(("spec", "resource", "args_class"), CASES)
def test_the_resource_annotates_every_spec_field_as_an_output(
    spec: ResourceSpec, resource: type, args_class: type
) -> None:
    assert set(resource.__annotations__) == {f.name for f in spec}


def test_type_tokens_come_from_the_class_keywords() -> None:
    assert CREDENTIAL_TYPE == "pulumi-python:dynamic/miget:ContainerRegistryCredential"
    assert APP_TYPE == "pulumi-python:dynamic/miget:App"


def test_the_providers_keep_their_pickled_names() -> None:
    assert (
        ContainerRegistryCredentialProvider.__module__,
        ContainerRegistryCredentialProvider.__qualname__,
    ) == ("pulumi_miget.credential", "ContainerRegistryCredentialProvider")
    assert (AppProvider.__module__, AppProvider.__qualname__) == ("pulumi_miget.app", "AppProvider")


def test_secret_outputs_and_computed_fields_are_derived() -> None:
    assert CREDENTIAL.secret_outputs == ["token"] and APP_SPEC.secret_outputs == ["env"]
    assert CREDENTIAL.computed == ("uuid", "created_at", "updated_at")
    assert "app_name" in APP_SPEC.computed and "name" not in APP_SPEC.computed


def test_an_args_object_registers_the_same_inputs_as_keywords(
    server: ProviderServer, stack: Stack
) -> None:
    values: dict[str, Any] = {
        "name": "ghcr-args",
        "registry": "github",
        "username": "acme-bot",
        "token": "ghp_args_token",
    }

    def program() -> None:
        ContainerRegistryCredential("by-args", ContainerRegistryCredentialArgs(**values))
        ContainerRegistryCredential(
            "by-keywords", **{**values, "name": "ghcr-keywords"}, opts=pulumi.ResourceOptions()
        )

    result = run_program(program, stack, server)
    assert result.ops == {"by-args": "create", "by-keywords": "create"}
    by_args = stack.resources["by-args"].inputs
    by_keywords = stack.resources["by-keywords"].inputs
    assert {k: v for k, v in by_args.items() if k != "name"} == {
        k: v for k, v in by_keywords.items() if k != "name"
    }


def test_args_and_keywords_together_or_a_missing_input_are_type_errors() -> None:
    args = ContainerRegistryCredentialArgs(name="n", registry="github", username="u", token="t")
    with pytest.raises(TypeError, match="not both"):
        ContainerRegistryCredential("x", args, name="other")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="missing required argument 'token'"):
        ContainerRegistryCredential(  # type: ignore[call-overload]
            "x", name="n", registry="github", username="u"
        )
    with pytest.raises(TypeError, match="unexpected keyword argument 'tokn'"):
        ContainerRegistryCredential(  # type: ignore[call-overload]
            "x", name="n", registry="github", username="u", token="t", tokn="t"
        )


def _overloads(func: Any) -> list[inspect.Signature]:
    from typing import get_overloads

    return [inspect.signature(o) for o in get_overloads(func)]


def test_every_field_miget_answers_is_mapped_by_the_api_client(api: Api) -> None:
    """spec ↔ API client ↔ emulator: the fields the spec takes from Miget's answer are exactly
    those the client's ``from_wire`` maps, and the emulator's entity carries what it reads."""
    from pulumi_miget.api.apps import AppsApi
    from pulumi_miget.api.credentials import CredentialsApi

    credential = api.create()
    app = api.request(
        "POST",
        "/api/v1/apps",
        json={
            **APP,
            "label": "acme-api",
            "builder": "auto",
            "deployment_method": "container_registry",
            "deployment_config": {"image_url": APP["image_url"], "tag": APP["tag"]},
        },
    ).json()
    for spec, client, entity in (
        (CREDENTIAL, CredentialsApi, credential),
        (APP_SPEC, AppsApi, app),
    ):
        mapped = client.from_wire(client.__new__(client), entity)
        from_miget = {f.name for f in spec if f.source != "input"} - {"workspace_id"}
        assert set(mapped) == from_miget, spec.kind
        assert mapped["uuid"] == entity["uuid"]
