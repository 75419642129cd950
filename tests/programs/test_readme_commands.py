"""Every ``make`` command the README tells a user to type is a valid make call.

``make -n`` parses the call and plans the recipes without running them, so an option make does
not know (``make bench --quick``) or a target that does not exist fails here, not for a user.
The README may quote a wrong form only to warn against it ("... fails").
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
WARNED = {"make bench --quick"}  # quoted as the mistake, next to the working form
COMMANDS = sorted(set(re.findall(r"`(make [^`]*)`", README)) - WARNED)


def test_the_readme_quotes_make_commands() -> None:
    assert {"make test", "make demo", 'make bench ARGS="--quick"'} <= set(COMMANDS)
    for wrong in WARNED:  # a warned-against form is quoted only next to its warning
        assert f"`{wrong}` fails" in README


@pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")
@pytest.mark.parametrize("command", COMMANDS)
def test_each_make_command_is_a_valid_call(command: str) -> None:
    args = shlex.split(command)[1:]
    result = subprocess.run(
        ["make", "-n", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_the_wrong_bench_form_really_fails() -> None:
    if shutil.which("make") is None:
        pytest.skip("needs GNU make")
    result = subprocess.run(
        ["make", "-n", "bench", "--quick"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0


def test_destroy_and_refresh_say_which_config_they_use() -> None:
    text = " ".join(README.split())
    assert "without `--run-program`** do not run the program" in text
    assert "inputs stored in the state at the last `pulumi up`" in text
    assert "`pulumi refresh --run-program` run the program first" in text


def test_the_install_section_says_the_package_is_not_on_pypi_yet() -> None:
    section = README.split("## Install", 1)[1].split("\n## ", 1)[0]
    assert "not on PyPI" in section or "not published" in section
    assert "pip install -e '.[dev]'" in section
