"""Provider settings: stack config first, then environment variables, then defaults."""

from __future__ import annotations

import pytest

from pulumi_miget.errors import ConfigurationError
from pulumi_miget.settings import DEFAULT_API_URL, load_settings

KEY = "miget_live_settings_test_key"
WORKSPACE = "00000000-0000-4000-8000-000000000002"


def config(values: dict[str, str]):  # type: ignore[no-untyped-def]
    return values.get


def test_config_keys_are_read_with_their_defaults() -> None:
    settings = load_settings(config({"miget:apiKey": KEY}), environ={})
    assert settings.api_key == KEY
    assert settings.api_url == DEFAULT_API_URL == "https://app.miget.com/api/v1"
    assert settings.workspace_id is None
    assert (settings.timeout, settings.max_retries) == (30.0, 4)


def test_environment_variables_are_the_fallback() -> None:
    env = {
        "MIGET_API_KEY": KEY,
        "MIGET_API_URL": "http://127.0.0.1:8910/api/v1/",
        "MIGET_WORKSPACE_ID": WORKSPACE,
        "MIGET_TIMEOUT": "2.5",
        "MIGET_MAX_RETRIES": "1",
    }
    settings = load_settings(config({}), environ=env)
    assert settings.api_url == "http://127.0.0.1:8910/api/v1"
    assert (settings.workspace_id, settings.timeout, settings.max_retries) == (WORKSPACE, 2.5, 1)


def test_stack_config_wins_over_the_environment() -> None:
    settings = load_settings(config({"miget:apiKey": KEY}), environ={"MIGET_API_KEY": "other"})
    assert settings.api_key == KEY


def test_a_missing_key_names_the_config_key_and_the_variable() -> None:
    with pytest.raises(ConfigurationError) as err:
        load_settings(config({}), environ={})
    assert "miget:apiKey" in str(err.value) and "MIGET_API_KEY" in str(err.value)


def test_the_key_never_appears_in_repr_or_errors() -> None:
    settings = load_settings(config({"miget:apiKey": KEY}), environ={})
    assert KEY not in repr(settings)
    with pytest.raises(ConfigurationError) as err:
        load_settings(config({"miget:apiKey": KEY, "miget:workspaceId": "nope"}), environ={})
    assert KEY not in str(err.value) and "miget:workspaceId" in str(err.value)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8910/api/v1", "http://localhost/api/v1", "http://[::1]:1/x"]
)
def test_plain_http_is_allowed_for_loopback_hosts(url: str) -> None:
    assert load_settings(config({"miget:apiKey": KEY, "miget:apiUrl": url}), environ={})


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://app.miget.com/api/v1", "plain http://"),
        ("ftp://app.miget.com", "http(s) URL"),
        ("https://user:pw@app.miget.com", "credentials"),
    ],
)
def test_unsafe_or_malformed_urls_are_refused(url: str, words: str) -> None:
    with pytest.raises(ConfigurationError, match=words.replace("(", r"\(").replace(")", r"\)")):
        load_settings(config({"miget:apiKey": KEY, "miget:apiUrl": url}), environ={})


@pytest.mark.parametrize(
    ("key", "value"),
    [("miget:timeout", "soon"), ("miget:timeout", "0"), ("miget:maxRetries", "-1")],
)
def test_bad_numbers_name_their_key(key: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=key):
        load_settings(config({"miget:apiKey": KEY, key: value}), environ={})
