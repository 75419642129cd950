"""examples/testing passes as a user runs it: ``python -m pytest`` in a fresh process.

The example is a user's test folder (conftest.py enabling the opt-in plugin, test_stack.py,
the program in stack.py), so it runs outside this suite's fixtures and conftest, with the command
its docstring gives, from the repository root. This is how ``make test`` runs the example.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "testing"
SUMMARY = re.compile(r"^=*\s*(?P<counts>\d+ \w+.*?) in [\d.]+s", re.MULTILINE)


def written_tests() -> list[str]:
    tree = ast.parse((EXAMPLE / "test_stack.py").read_text())
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    return [node.name for node in functions if node.name.startswith("test_")]


def clean_env() -> dict[str, str]:
    """The environment without pytest settings of the outer run (a user has none of them)."""
    drop = {"PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_CURRENT_TEST"}
    return {key: value for key, value in os.environ.items() if key not in drop}


def counts(output: str) -> dict[str, int]:
    """``8 passed, 1 failed in 6.0s`` → {"passed": 8, "failed": 1}."""
    matches = SUMMARY.findall(output)
    assert matches, f"no pytest summary line in:\n{output}"
    found: dict[str, int] = {}
    for part in matches[-1].split(","):
        number, word = part.split()[:2]
        found[word] = int(number)
    return found


def test_the_example_is_the_folder_a_user_copies() -> None:
    assert (EXAMPLE / "conftest.py").read_text().count('"pulumi_miget.testing.plugin"') == 1
    assert "def program()" in (EXAMPLE / "stack.py").read_text()
    assert not (EXAMPLE / "Pulumi.yaml").exists()  # not a program of its own: tests only
    assert len(written_tests()) >= 8


def test_the_example_imports_nothing_from_this_repository() -> None:
    """A copy of the folder works in a user's project: no ``tests`` or ``benchmarks`` import."""
    for path in EXAMPLE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [alias.name for alias in getattr(node, "names", [])]
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                roots = {name.split(".")[0] for name in names}
                assert roots.isdisjoint({"tests", "benchmarks"}), (path.name, names)


def test_the_example_tests_all_pass_as_a_user_runs_them() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "examples/testing"],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = result.stdout + result.stderr
    found = counts(output)
    assert result.returncode == 0, output
    assert found.get("passed", 0) >= len(written_tests()), output
    failed = sum(found.get(word, 0) for word in ("failed", "error", "errors"))
    assert failed == 0, output
