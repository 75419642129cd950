"""Every Python snippet in the README works as written: a user copying it must succeed.

Program snippets run as Pulumi programs against the real provider server and the emulator;
the emulator snippet runs as plain Python; the policy-pack snippet runs with ``PolicyPack``
replaced by a recorder (the real constructor serves gRPC forever). The offline-testing snippets
(a ``conftest.py`` and a ``test_stack.py``) run as a pytest folder in a separate process, with
``examples/testing/stack.py`` beside them, as a user would run them.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pulumi
import pulumi_policy
import pytest

from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.testing import ProviderServer, Secret, Stack, plain, run_program
from tests.samples import API_KEY, DEFAULT_WORKSPACE_ID

README = Path(__file__).resolve().parents[2] / "README.md"
OFFLINE_EXAMPLE = README.parent / "examples" / "testing"
SNIPPETS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)

# "Testing your stack offline": pytest files, never run as programs or plain Python.
OFFLINE_TESTS = [s for s in SNIPPETS if "pulumi_miget.testing" in s]
OTHERS = [s for s in SNIPPETS if s not in OFFLINE_TESTS]
PROGRAMS = [s for s in OTHERS if "from pulumi_miget import" in s and "pulumi.export" in s]
EMULATOR = [s for s in OTHERS if "from pulumi_miget.emulator import" in s]
POLICY_PACKS = [s for s in OTHERS if "PolicyPack(" in s]

# What the snippets read with pulumi.Config() (project "proj"), as a user would set it.
PROGRAM_CONFIG = {
    "proj:ghcrToken": Secret("ghp_readme_token"),
    "proj:projectId": "3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b",
    "proj:resourceId": "7d8e9f0a-1b2c-4d3e-9f5a-6b7c8d9e0f1a",
    "proj:databaseUrl": Secret("postgres://app:readme-secret@db/app"),
}


def test_the_readme_has_the_snippets_these_tests_expect() -> None:
    assert len(PROGRAMS) >= 2 and len(EMULATOR) == 1 and len(POLICY_PACKS) == 1
    assert len(PROGRAMS) + len(EMULATOR) + len(POLICY_PACKS) == len(OTHERS)
    assert len(OFFLINE_TESTS) == 2
    assert len(OTHERS) + len(OFFLINE_TESTS) == len(SNIPPETS)


@pytest.mark.parametrize("snippet", PROGRAMS, ids=lambda s: s.split("(")[1].split(",")[0])
def test_program_snippet_deploys_against_the_emulator(
    snippet: str, server: ProviderServer, emulator: EmulatorServer
) -> None:
    stack = Stack(
        config={
            "miget:apiKey": Secret(API_KEY),
            "miget:apiUrl": emulator.api_url,
            "miget:workspaceId": DEFAULT_WORKSPACE_ID,
            **PROGRAM_CONFIG,
        }
    )

    def program() -> None:
        secret_keys = [k for k, v in stack.config.items() if isinstance(v, Secret)]
        pulumi.runtime.set_all_config(plain(stack.config), secret_keys)
        exec(compile(snippet, str(README), "exec"), {"__name__": "__main__"})

    result = run_program(program, stack, server)
    assert result.ops and set(result.ops.values()) == {"create"}
    assert result.outputs, "the snippet exports something"
    assert all(value not in (None, "") for value, _ in result.outputs.values())
    writes = [e["method"] for e in emulator.requests_log() if e["method"] != "GET"]
    assert writes.count("POST") == len(result.ops)


def test_emulator_snippet_runs_as_written() -> None:
    [snippet] = EMULATOR
    scope: dict[str, Any] = {"__name__": "__main__"}
    exec(compile(snippet, str(README), "exec"), scope)
    server: EmulatorServer = scope["server"]
    assert server.api_url.startswith("http://127.0.0.1:")


def test_policy_pack_snippet_builds_a_pack(monkeypatch: pytest.MonkeyPatch) -> None:
    [snippet] = POLICY_PACKS
    built: dict[str, Any] = {}

    def record(**kwargs: Any) -> None:
        built.update(kwargs)

    monkeypatch.setattr(pulumi_policy, "PolicyPack", record)
    exec(compile(snippet, str(README), "exec"), {"__name__": "__main__"})
    names = [policy.name for policy in built["policies"]]
    assert built["name"] == "acme-platform"
    assert len(names) == len(set(names)) >= 5
    assert "miget-credential-naming" not in names
    assert built["initial_config"]["miget-credential-allowed-registries"]["enforcementLevel"]


def offline_snippets() -> tuple[str, str]:
    """(conftest.py, test_stack.py) as the README shows them."""
    [conftest] = [s for s in OFFLINE_TESTS if "pytest_plugins" in s]
    [tests] = [s for s in OFFLINE_TESTS if "def test_" in s]
    return conftest, tests


def test_offline_snippets_are_the_example_files() -> None:
    """The README's conftest.py is the example's line, and every statement of its
    test_stack.py (imports, constants, fixtures, tests) is in the example's, word for word."""
    conftest, tests = offline_snippets()
    enable = 'pytest_plugins = ["pulumi_miget.testing.plugin"]'
    assert conftest.strip().endswith(enable)
    assert enable in (OFFLINE_EXAMPLE / "conftest.py").read_text()
    example = (OFFLINE_EXAMPLE / "test_stack.py").read_text()
    for node in ast.parse(tests).body:
        segment = ast.get_source_segment(tests, node)
        assert segment and segment in example, segment


def test_offline_snippets_pass_as_a_pytest_folder(tmp_path: Path) -> None:
    conftest, tests = offline_snippets()
    (tmp_path / "conftest.py").write_text(conftest)
    (tmp_path / "test_stack.py").write_text(tests)
    shutil.copy(OFFLINE_EXAMPLE / "stack.py", tmp_path / "stack.py")  # `from stack import program`
    drop = {"PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_CURRENT_TEST"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "."],
        cwd=tmp_path,
        env={key: value for key, value in os.environ.items() if key not in drop},
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"{tests.count(chr(10) + 'def test_')} passed in " in output, output
