"""The repository root is a real Pulumi project: the reference stack CI runs `pulumi up` on."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pulumi
import yaml

from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.testing import ProviderServer, Secret, Stack, plain, run_program
from tests.samples import API_KEY, DEFAULT_WORKSPACE_ID

ROOT = Path(__file__).resolve().parents[2]
PROJECT: dict[str, Any] = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())


def test_the_root_project_is_a_python_project_whose_program_exists() -> None:
    assert PROJECT["name"] == "pulumi-miget"
    assert PROJECT["runtime"]["name"] == "python"
    assert PROJECT["runtime"]["options"]["virtualenv"] == ".venv"  # what `make test` creates
    assert (ROOT / PROJECT["main"] / "__main__.py").is_file()


def test_the_root_stack_deploys_against_the_emulator(
    server: ProviderServer, emulator: EmulatorServer
) -> None:
    project = PROJECT["name"]
    stack = Stack(
        config={
            "miget:apiKey": Secret(API_KEY),
            "miget:apiUrl": emulator.api_url,
            "miget:workspaceId": DEFAULT_WORKSPACE_ID,
            f"{project}:ghcrToken": Secret("ghp_root_stack_token"),
        }
    )

    def program() -> None:
        secret_keys = [key for key, value in stack.config.items() if isinstance(value, Secret)]
        pulumi.runtime.set_all_config(plain(stack.config), secret_keys)
        runpy.run_path(str(ROOT / PROJECT["main"] / "__main__.py"), run_name="__main__")

    result = run_program(program, stack, server, project=project)
    assert result.ops == {"ghcr": "create"}
    [entry] = emulator.requests_log()
    assert (entry["method"], entry["status"]) == ("POST", 201)
    assert result.output("credential_id")
