"""Provider settings: stack config first, then environment variables, then defaults."""

from __future__ import annotations

import pytest

from pulumi_miget.errors import ConfigurationError
from pulumi_miget.settings import DEFAULT_API_URL, load_settings, load_workspace

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


# ---- numbers: finite and bounded, one ConfigurationError naming the setting -------------------

TIMEOUT_WORDS = "must be a number of seconds greater than 0 and at most 600"
RETRIES_WORDS = "must be a whole number from 0 to 10"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("nan", "not a finite number"),
        ("NaN", "not a finite number"),
        ("inf", "not a finite number"),
        ("-inf", "not a finite number"),
        ("1e400", "not a finite number"),  # float() overflows to inf
        ("601", "out of range"),
        ("0", "out of range"),
        ("-5", "out of range"),
        ("soon", "not a number"),
    ],
)
def test_a_bad_timeout_is_one_configuration_error(value: str, problem: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        load_settings(config({"miget:apiKey": KEY, "miget:timeout": value}), environ={})
    assert str(err.value) == (
        f"'miget:timeout' / MIGET_TIMEOUT {TIMEOUT_WORDS}: the value set is {problem} "
        "(it is not shown, in case it is a secret)"
    )


def test_the_timeout_bounds_are_inclusive_of_the_maximum() -> None:
    assert load_settings(config({"miget:apiKey": KEY, "miget:timeout": "600"}), {}).timeout == 600
    assert load_settings(config({"miget:apiKey": KEY, "miget:timeout": "0.1"}), {}).timeout == 0.1


@pytest.mark.parametrize(
    ("value", "problem"),
    [("11", "out of range"), ("-1", "out of range"), ("2.5", "not a whole number")],
)
def test_a_bad_retry_count_is_one_configuration_error(value: str, problem: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        load_settings(config({"miget:apiKey": KEY}), environ={"MIGET_MAX_RETRIES": value})
    assert str(err.value) == (
        f"'miget:maxRetries' / MIGET_MAX_RETRIES {RETRIES_WORDS}: the value set is {problem} "
        "(it is not shown, in case it is a secret)"
    )


def test_the_retry_bounds_are_inclusive() -> None:
    for value in (0, 10):
        settings = load_settings(config({"miget:apiKey": KEY, "miget:maxRetries": str(value)}), {})
        assert settings.max_retries == value


# ---- the API key: printable ASCII only, never echoed ------------------------------------------

NON_ASCII_KEYS = [
    "miget_live_clé",  # an accent
    "miget_live_\u200bkey",  # a zero-width space from a copy and paste
    "\u201cmiget_live_key\u201d",  # typographic quotes
    "miget_live_\x00key",  # a NUL (not whitespace)
]


@pytest.mark.parametrize("api_key", NON_ASCII_KEYS)
def test_a_non_ascii_key_is_one_clear_error_that_never_echoes_it(api_key: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        load_settings(config({}), environ={"MIGET_API_KEY": api_key})
    assert str(err.value) == (
        "'miget:apiKey' / MIGET_API_KEY must contain only printable ASCII characters (letters, "
        "digits and punctuation): copy the key again from the Miget dashboard, without quotes or "
        "invisible characters"
    )
    assert "miget_live" not in str(err.value)


# ---- a key pasted into the wrong setting is never echoed --------------------------------------


@pytest.mark.parametrize(
    ("setting", "words"),
    [
        ("miget:apiUrl", "'miget:apiUrl' / MIGET_API_URL must be an http(s) URL such as"),
        ("miget:workspaceId", "'miget:workspaceId' / MIGET_WORKSPACE_ID must be a workspace UUID"),
        ("miget:timeout", "'miget:timeout' / MIGET_TIMEOUT must be a number of seconds"),
        ("miget:maxRetries", "'miget:maxRetries' / MIGET_MAX_RETRIES must be a whole number"),
    ],
)
def test_a_key_pasted_into_another_setting_is_not_echoed(setting: str, words: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        load_settings(config({"miget:apiKey": KEY, setting: KEY}), environ={})
    message = str(err.value)
    assert message.startswith(words) and "not shown" in message
    assert KEY not in message and "miget_live" not in message


def test_the_workspace_loaded_alone_does_not_echo_its_value() -> None:
    with pytest.raises(ConfigurationError) as err:
        load_workspace(config({"miget:workspaceId": KEY}), environ={})
    assert str(err.value) == (
        "'miget:workspaceId' / MIGET_WORKSPACE_ID must be a workspace UUID such as "
        "00000000-0000-4000-8000-000000000000 (the value is not shown, in case it is a secret)"
    )
    assert load_workspace(config({"miget:workspaceId": WORKSPACE.upper()}), {}) == WORKSPACE


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "https://app.miget.com:99999/api/v1",
            "'miget:apiUrl' / MIGET_API_URL must be an http(s) URL such as "
            "https://app.miget.com/api/v1 (the value is not shown, in case it is a secret)",
        ),
        (
            "https://[::1/api/v1",
            "'miget:apiUrl' / MIGET_API_URL must be an http(s) URL such as "
            "https://app.miget.com/api/v1 (the value is not shown, in case it is a secret)",
        ),
        (
            "https://app.miget.com/api/v1\n",
            "'miget:apiUrl' / MIGET_API_URL must not contain whitespace or control characters "
            "(the value is not shown, in case it is a secret)",
        ),
        (
            "http://miget-live-secret.example.com/api/v1",
            "'miget:apiUrl' / MIGET_API_URL uses plain http:// for a host that is not this "
            "machine; use https:// (http is allowed only for localhost/127.0.0.1/[::1], e.g. the "
            "emulator)",
        ),
    ],
)
def test_malformed_urls_are_one_configuration_error_without_the_value(
    url: str, message: str
) -> None:
    with pytest.raises(ConfigurationError) as err:
        load_settings(config({"miget:apiKey": KEY, "miget:apiUrl": url}), environ={})
    assert str(err.value) == message
