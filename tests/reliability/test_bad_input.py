"""Bad input never reaches the API: ``check`` rejects it, on the right property, with no request.

Every entry of the corpus below is sent as the engine sends it — ``Check`` over gRPC to the real
provider server, the token as a secret, numbers as floats — once as a new resource and once as a
change to an existing one. Each must fail on exactly the property named, with a reason that does
not echo the token, and the emulator's request log must stay empty. A second, smaller corpus of
valid edge cases guards against rejecting too much.

Limits (``pulumi_miget/rules.py``; Miget documents none of them, so they are the project's):

| property | rule |
|---|---|
| ``name``, ``username`` | required string, 1-255 characters, no leading/trailing whitespace, no control characters (C0, DEL, C1) |
| ``token`` | required string, 1-16384 characters, no leading/trailing whitespace; tabs and newlines allowed inside (JSON keys), other control characters not |
| ``registry`` | one of the eight kinds, exactly (``github``, not ``GitHub``) |
| ``registry_hostname`` | required for ``generic``, ``aws_ecr``, ``azure``; ``host[:port]`` with an optional ``https://``: DNS labels of 1-63 letters/digits/hyphens (no leading/trailing hyphen), IPv4 or ``[IPv6]``, port 1-65535, at most 253 characters, no path, query, credentials or whitespace |
| ``workspace_id`` | a UUID in its 36-character form |
| ``skip_validation``, ``adopt`` | booleans |
"""  # noqa: E501

from __future__ import annotations

from typing import Any

import pytest

from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.testing import Engine, Props, Secret
from tests.reliability.common import TOKEN, Provider, leaked, news, remember_secret
from tests.reliability.figures import Figures

MISSING = object()
"""Remove the key from the inputs."""
NULL = object()
"""Send the key with an explicit null."""

GENERIC = {"registry": "generic"}


def hostname(value: Any) -> dict[str, Any]:
    return {**GENERIC, "registry_hostname": value}


def bad_token(value: str) -> dict[str, Any]:
    return {"token": Secret(remember_secret(value))}


# (id, changes to a valid GitHub credential, the property that must fail)
CORPUS: list[tuple[str, dict[str, Any], str]] = [
    # -- missing or null -------------------------------------------------------------------------
    ("missing-name", {"name": MISSING}, "name"),
    ("missing-registry", {"registry": MISSING}, "registry"),
    ("missing-username", {"username": MISSING}, "username"),
    ("missing-token", {"token": MISSING}, "token"),
    ("null-name", {"name": NULL}, "name"),
    ("null-token", {"token": NULL}, "token"),
    # -- empty and whitespace-only ---------------------------------------------------------------
    ("empty-name", {"name": ""}, "name"),
    ("empty-registry", {"registry": ""}, "registry"),
    ("empty-username", {"username": ""}, "username"),
    ("empty-token", {"token": Secret("")}, "token"),
    ("blank-name", {"name": "   "}, "name"),
    ("nbsp-name", {"name": "\u00a0"}, "name"),
    ("tab-username", {"username": "\t"}, "username"),
    ("blank-token", {"token": Secret(" ")}, "token"),
    ("newlines-token", {"token": Secret("\n\n")}, "token"),
    # -- leading/trailing whitespace -------------------------------------------------------------
    ("name-leading-space", {"name": " ghcr"}, "name"),
    ("name-trailing-space", {"name": "ghcr "}, "name"),
    ("username-trailing-newline", {"username": "bot\n"}, "username"),
    ("token-leading-space", bad_token(" " + TOKEN), "token"),
    ("token-trailing-newline", bad_token(TOKEN + "\n"), "token"),
    # -- wrong types (numbers arrive as floats, as the engine sends them) ------------------------
    ("name-number", {"name": 42}, "name"),
    ("name-bool", {"name": True}, "name"),
    ("name-list", {"name": ["ghcr"]}, "name"),
    ("name-object", {"name": {"value": "ghcr"}}, "name"),
    ("registry-number", {"registry": 1}, "registry"),
    ("registry-list", {"registry": ["github"]}, "registry"),
    ("username-bool", {"username": False}, "username"),
    ("token-number", {"token": Secret(12345)}, "token"),
    ("token-object", {"token": Secret({"value": TOKEN})}, "token"),
    ("hostname-number", hostname(443), "registry_hostname"),
    ("hostname-list", hostname(["r.example.com"]), "registry_hostname"),
    ("skip-validation-string", {"skip_validation": "true"}, "skip_validation"),
    ("skip-validation-number", {"skip_validation": 1}, "skip_validation"),
    ("adopt-string", {"adopt": "yes"}, "adopt"),
    ("adopt-number", {"adopt": 0}, "adopt"),
    ("workspace-number", {"workspace_id": 123}, "workspace_id"),
    # -- bad enum --------------------------------------------------------------------------------
    ("registry-dockerhub", {"registry": "dockerhub"}, "registry"),
    ("registry-docker-hub-dash", {"registry": "docker-hub"}, "registry"),
    ("registry-capitalised", {"registry": "GitHub"}, "registry"),
    ("registry-upper", {"registry": "GITHUB"}, "registry"),
    ("registry-trailing-space", {"registry": "github "}, "registry"),
    ("registry-ecr", {"registry": "ecr"}, "registry"),
    ("registry-ghcr", {"registry": "ghcr"}, "registry"),
    ("registry-gcr", {"registry": "gcr"}, "registry"),
    # -- hostname required for generic / aws_ecr / azure -----------------------------------------
    ("generic-without-hostname", GENERIC, "registry_hostname"),
    ("aws-ecr-without-hostname", {"registry": "aws_ecr"}, "registry_hostname"),
    ("azure-without-hostname", {"registry": "azure"}, "registry_hostname"),
    ("generic-empty-hostname", hostname(""), "registry_hostname"),
    ("azure-blank-hostname", {"registry": "azure", "registry_hostname": "  "}, "registry_hostname"),
    # -- malformed hostnames ---------------------------------------------------------------------
    ("hostname-http-scheme", hostname("http://r.example.com"), "registry_hostname"),
    ("hostname-ftp-scheme", hostname("ftp://r.example.com"), "registry_hostname"),
    ("hostname-scheme-only", hostname("https://"), "registry_hostname"),
    ("hostname-path", hostname("r.example.com/v2"), "registry_hostname"),
    ("hostname-trailing-slash", hostname("ghcr.io/"), "registry_hostname"),
    ("hostname-credentials", hostname("user:pw@r.example.com"), "registry_hostname"),
    ("hostname-port-zero", hostname("r.example.com:0"), "registry_hostname"),
    ("hostname-port-too-big", hostname("r.example.com:65536"), "registry_hostname"),
    ("hostname-empty-port", hostname("r.example.com:"), "registry_hostname"),
    ("hostname-named-port", hostname("r.example.com:https"), "registry_hostname"),
    ("hostname-leading-hyphen", hostname("-r.example.com"), "registry_hostname"),
    ("hostname-trailing-hyphen", hostname("r-.example.com"), "registry_hostname"),
    ("hostname-empty-label", hostname("r..example.com"), "registry_hostname"),
    ("hostname-trailing-dot", hostname("r.example.com."), "registry_hostname"),
    ("hostname-underscore", hostname("r_x.example.com"), "registry_hostname"),
    ("hostname-wildcard", hostname("*.example.com"), "registry_hostname"),
    ("hostname-inner-space", hostname("r example.com"), "registry_hostname"),
    ("hostname-unclosed-ipv6", hostname("[::1"), "registry_hostname"),
    ("hostname-non-ascii", hostname("régistry.example.com"), "registry_hostname"),
    ("hostname-query", hostname("r.example.com?x=1"), "registry_hostname"),
    ("hostname-fragment", hostname("r.example.com#x"), "registry_hostname"),
    ("hostname-newline", hostname("r.example.com\n"), "registry_hostname"),
    # -- over-long -------------------------------------------------------------------------------
    ("name-256", {"name": "n" * 256}, "name"),
    ("name-10000", {"name": "n" * 10_000}, "name"),
    ("username-256", {"username": "u" * 256}, "username"),
    ("token-16385", bad_token((TOKEN * 600)[:16_385]), "token"),
    ("hostname-254", hostname(("a" * 63 + ".") * 3 + "a" * 62), "registry_hostname"),
    ("hostname-label-64", hostname("a" * 64 + ".example.com"), "registry_hostname"),
    # -- workspace ids ---------------------------------------------------------------------------
    ("workspace-word", {"workspace_id": "ws-1"}, "workspace_id"),
    ("workspace-empty", {"workspace_id": ""}, "workspace_id"),
    ("workspace-blank", {"workspace_id": "   "}, "workspace_id"),
    ("workspace-no-hyphens", {"workspace_id": "00000000000040008000000000000001"}, "workspace_id"),
    ("workspace-braces", {"workspace_id": "{00000000-0000-4000-8000-00000000001}"}, "workspace_id"),
    ("workspace-35-chars", {"workspace_id": "00000000-0000-4000-8000-00000000001"}, "workspace_id"),
    ("workspace-not-hex", {"workspace_id": "g0000000-0000-4000-8000-000000000001"}, "workspace_id"),
    ("workspace-urn", {"workspace_id": "urn:uuid:000000000000400080000000001"}, "workspace_id"),
    ("workspace-misplaced-hyphens", {"workspace_id": "0" * 32 + "----"}, "workspace_id"),
    (
        "workspace-trailing-newline",
        {"workspace_id": "00000000-0000-4000-8000-00000000001\n"},
        "workspace_id",
    ),
    # -- control characters ----------------------------------------------------------------------
    ("name-nul", {"name": "gh\x00cr"}, "name"),
    ("name-bell", {"name": "gh\x07cr"}, "name"),
    ("name-ansi-escape", {"name": "gh\x1b[31mcr"}, "name"),
    ("name-delete", {"name": "gh\x7fcr"}, "name"),
    ("name-c1-next-line", {"name": "gh\x85cr"}, "name"),
    ("name-c1-csi", {"name": "gh\x9b31mcr"}, "name"),
    ("username-tab", {"username": "acme\tbot"}, "username"),
    ("username-carriage-return", {"username": "acme\rbot"}, "username"),
    ("token-nul", bad_token(TOKEN + "\x00x"), "token"),
    ("token-escape", bad_token(TOKEN + "\x1bx"), "token"),
    ("token-c1", bad_token(TOKEN + "\x9bx"), "token"),
]

VALID_EDGES: list[tuple[str, dict[str, Any]]] = [
    ("name-255", {"name": "n" * 255}),
    ("username-255", {"username": "u" * 255}),
    ("token-16384", {"token": Secret("t" * 16_384)}),
    ("token-json-key", {"token": Secret('{\n\t"type": "service_account"\n}')}),
    ("unicode-name", {"name": "Zugang für GHCR ✓"}),
    ("hostname-253", hostname(("a" * 63 + ".") * 3 + "a" * 61)),
    ("hostname-https-port", hostname("https://registry.example.com:5000")),
    ("hostname-ipv4-port", hostname("10.0.0.5:8443")),
    ("hostname-ipv6-port", hostname("[2001:db8::1]:5000")),
    (
        "aws-ecr",
        {"registry": "aws_ecr", "registry_hostname": "1234.dkr.ecr.eu-west-1.amazonaws.com"},
    ),
    ("azure", {"registry": "azure", "registry_hostname": "acme.azurecr.io"}),
    ("quay-optional-hostname", {"registry": "quay"}),
    ("docker-hub", {"registry": "docker_hub"}),
    ("gitlab-with-hostname", {"registry": "gitlab", "registry_hostname": "registry.gitlab.com"}),
    ("digitalocean", {"registry": "digitalocean"}),
    ("workspace-upper-case", {"workspace_id": "00000000-0000-4000-8000-0000000000A2"}),
    ("flags", {"skip_validation": False, "adopt": True}),
]


def corpus_props(changes: dict[str, Any]) -> Props:
    props = news()
    for key, value in changes.items():
        if value is MISSING:
            props.pop(key, None)
        else:
            props[key] = None if value is NULL else value
    return props


@pytest.fixture
def engine(standard_provider: Provider, emulator: EmulatorServer) -> Engine:
    standard_provider.engine.calls.clear()
    return standard_provider.engine


def test_the_corpus_is_large_and_names_each_case_once() -> None:
    ids = [case_id for case_id, _, _ in CORPUS]
    assert len(ids) >= 60 and len(set(ids)) == len(ids)


@pytest.mark.parametrize(("changes", "prop"), [pytest.param(c, p, id=i) for i, c, p in CORPUS])
def test_check_rejects_bad_input_on_the_right_property_without_any_request(
    engine: Engine, emulator: EmulatorServer, figures: Figures, changes: dict[str, Any], prop: str
) -> None:
    props = corpus_props(changes)
    good_inputs, good_failures = engine.check("cred", {}, news())
    assert good_failures == []

    for olds in ({}, good_inputs):  # a new credential, then a change to an existing one
        _, failures = engine.check("cred", olds, props)
        assert {failed for failed, _ in failures} == {prop}, failures
        assert leaked(" ".join(reason for _, reason in failures)) == []

    assert [method for method, _ in engine.calls] == ["Check"] * 3
    assert emulator.requests_log() == []
    figures.add("bad input", tried=1, rejected=1, api_calls=len(emulator.requests_log()))
    figures.add("leaks", probes=1)


@pytest.mark.parametrize("changes", [pytest.param(c, id=i) for i, c in VALID_EDGES])
def test_check_accepts_valid_edge_cases(
    engine: Engine, emulator: EmulatorServer, figures: Figures, changes: dict[str, Any]
) -> None:
    _, failures = engine.check("cred", {}, corpus_props(changes))
    assert failures == []
    assert emulator.requests_log() == []
    figures.add("bad input", valid_accepted=1)
