"""`make demo` (scripts/demo.sh): the real Pulumi CLI against the emulator.

The CLI cannot be installed on CI machines, so the end-to-end run skips without it; the path a
user without the CLI and without network takes is tested everywhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "scripts" / "demo.sh"


def test_demo_offline_without_the_cli_stops_at_once_saying_how_to_install_it(
    tmp_path: Path,
) -> None:
    # A PATH with the basic tools but no pulumi, an installer URL nothing listens on, and an
    # empty CLI folder: exactly a fresh offline machine.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("curl", "sh", "bash", "mktemp", "rm", "dirname", "cat"):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    env = {
        "PATH": str(bin_dir),
        "HOME": str(tmp_path),
        "PULUMI_INSTALL_URL": "http://127.0.0.1:9/install.sh",
        "PULUMI_CLI_DIR": str(tmp_path / "cli"),
    }
    result = subprocess.run(
        ["bash", str(DEMO)], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert "could not download the Pulumi CLI" in result.stderr
    assert "curl -fsSL https://get.pulumi.com | sh -s -- --version 3.272.0" in result.stderr
    assert not (tmp_path / "cli" / "bin" / "pulumi").exists()


FAKE_PULUMI = """#!/usr/bin/env bash
# Stands in for the Pulumi CLI: records each call; on `config set miget:apiUrl URL` it proves
# the emulator is already serving there, with the key the demo uses.
echo "$*" >> "$FAKE_PULUMI_LOG"
if [ "$1 $2 $3" = "config set miget:apiUrl" ]; then
  curl -fsS -H "Authorization: Bearer miget_live_emulator_local_key" \\
    "$4/container_registry_credentials" >> "$FAKE_PULUMI_LOG" || exit 3
fi
"""


def test_demo_starts_the_emulator_drives_the_cli_in_order_and_stops_it(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "pulumi"
    fake.write_text(FAKE_PULUMI)
    fake.chmod(0o755)
    log = tmp_path / "pulumi.log"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "FAKE_PULUMI_LOG": str(log),
        "DEMO_DIR": str(tmp_path / "demo"),
        "DEMO_PYTHON": sys.executable,
    }
    result = subprocess.run(
        ["bash", str(DEMO)], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    calls = log.read_text().splitlines()
    url = calls[1].split()[-1]
    assert url.startswith("http://127.0.0.1:") and url.endswith("/api/v1")
    assert calls == [
        "stack select --create demo",
        f"config set miget:apiUrl {url}",
        "[]",  # the emulator answered the list call: it was up before any Pulumi command ran
        "config set miget:workspaceId 00000000-0000-4000-8000-000000000001",
        "config set --secret miget:apiKey miget_live_emulator_local_key",
        "config set --secret ghcrToken ghp_demo_token_not_real",
        "up --yes --skip-preview",
        "stack output",
        "destroy --yes",
        "stack rm --yes demo",
    ]
    assert (tmp_path / "demo" / "state").is_dir()  # the local file backend lives there
    assert "Done: emulator stopped, stack removed." in result.stdout
    with pytest.raises(requests.ConnectionError):  # the emulator is stopped afterwards
        requests.get(url, timeout=5)


@pytest.mark.cli
@pytest.mark.skipif(
    shutil.which("pulumi") is None,
    reason="needs the Pulumi CLI on PATH (not installable on CI machines here)",
)
def test_demo_deploys_the_quickstart_shows_outputs_and_destroys_it() -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", str(DEMO)], env=env, capture_output=True, text=True, timeout=900, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "credential_id" in result.stdout
    assert "ghp_demo_token_not_real" not in result.stdout + result.stderr
    assert "Done: emulator stopped, stack removed." in result.stdout
