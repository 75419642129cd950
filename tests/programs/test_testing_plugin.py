"""``pulumi_miget.testing.plugin``: its fixtures work once enabled, and it is never enabled
behind a user's back.

The fixtures are exercised in a separate pytest process over a test file written to a
temporary folder, as in a user's project: enabling the plugin in this process would register
its fixtures for the rest of this run.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODULE_LEVEL_PROGRAM = ROOT / "examples" / "private-image-app" / "__main__.py"

USER_TESTS = textwrap.dedent(
    """
    import runpy

    import pulumi
    import pytest
    import requests

    from pulumi_miget import ContainerRegistryCredential
    from pulumi_miget.emulator import DEFAULT_API_KEY, DEFAULT_WORKSPACE_ID, EmulatorServer
    from pulumi_miget.testing import OfflineStack, Secret

    SEEN = {}


    def program():
        ContainerRegistryCredential(
            "ghcr",
            name="ghcr-acme",
            registry="github",
            username="acme-bot",
            token=pulumi.Config().require_secret("ghcrToken"),
        )


    def test_miget_emulator_is_a_fresh_running_emulator(miget_emulator):
        assert isinstance(miget_emulator, EmulatorServer)
        assert miget_emulator.requests_log() == []
        answer = requests.get(
            f"{miget_emulator.api_url}/container_registry_credentials",
            headers={"Authorization": f"Bearer {DEFAULT_API_KEY}"},
            timeout=10,
        )
        assert answer.json() == []
        SEEN["url"] = miget_emulator.api_url


    def test_the_emulator_of_the_last_test_was_stopped(miget_emulator):
        assert miget_emulator.api_url != SEEN["url"]
        with pytest.raises(requests.ConnectionError):
            requests.get(SEEN["url"], timeout=10)


    def test_miget_stack_is_an_offline_stack_on_that_emulator(miget_stack, miget_emulator):
        stack = miget_stack(
            program, config={"ghcrToken": Secret("ghp_plugin")}, project="shop", stack="ci"
        )
        assert isinstance(stack, OfflineStack)
        assert stack.config["miget:apiUrl"] == miget_emulator.api_url
        assert stack.config["miget:apiKey"] == Secret(DEFAULT_API_KEY)
        assert stack.config["miget:workspaceId"] == DEFAULT_WORKSPACE_ID
        assert stack.config["shop:ghcrToken"] == Secret("ghp_plugin")
        result = stack.up()
        assert result.summary == {"create": 1}
        assert result.step("ghcr").urn.startswith("urn:pulumi:ci::shop::")
        assert [entry["method"] for entry in miget_emulator.requests_log()] == ["POST"]


    def test_miget_stack_passes_a_saved_state_on(miget_stack, miget_emulator):
        config = {"ghcrToken": Secret("ghp_plugin")}
        first = miget_stack(program, config=config)
        first.up()
        miget_emulator.clear_log()
        again = miget_stack(program, config=config, state=first.state)
        assert again.up().summary == {"same": 1}
        assert miget_emulator.requests_log() == []


    def test_a_module_level_main_runs_through_runpy(miget_stack):
        config = {"ghcrToken": Secret("ghp_plugin"), "databaseUrl": Secret("postgres://db/app")}
        stack = miget_stack(
            lambda: runpy.run_path(MAIN, run_name="__main__"), config=config
        )
        assert stack.up().summary == {"create": 2}
    """
)
USER_TEST_COUNT = USER_TESTS.count("\ndef test_")


def pytest_in(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m pytest -q ARGS`` in ``folder``, without this run's pytest settings."""
    drop = {"PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_CURRENT_TEST"}
    env = {key: value for key, value in os.environ.items() if key not in drop}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def user_project(tmp_path: Path) -> Path:
    main = repr(str(MODULE_LEVEL_PROGRAM))
    (tmp_path / "test_user_stack.py").write_text(f"MAIN = {main}\n{USER_TESTS}")
    return tmp_path


def test_the_fixtures_work_when_the_plugin_is_enabled(tmp_path: Path) -> None:
    result = pytest_in(user_project(tmp_path), "-p", "pulumi_miget.testing.plugin")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"{USER_TEST_COUNT} passed" in output, output


def test_without_the_plugin_pytest_does_not_know_the_fixtures(tmp_path: Path) -> None:
    result = pytest_in(user_project(tmp_path))
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "fixture 'miget_stack' not found" in output
    assert "fixture 'miget_emulator' not found" in output


def test_the_plugin_is_no_pytest11_entry_point() -> None:
    """An entry point would load the plugin (and Pulumi) into every pytest run of every
    environment with pulumi-miget installed."""
    assert "pytest11" not in (ROOT / "pyproject.toml").read_text()
    installed = importlib.metadata.distribution("pulumi-miget").entry_points
    assert [ep for ep in installed if ep.group == "pytest11"] == []
    loaded = importlib.metadata.entry_points(group="pytest11")
    assert [ep for ep in loaded if ep.value.startswith("pulumi_miget")] == []


def test_importing_the_kit_does_not_import_pytest() -> None:
    code = (
        "import sys\n"
        "import pulumi_miget.testing\n"
        "from pulumi_miget.testing import OfflineStack, Secret, StepFailed\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'pytest', '_pytest'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]"
