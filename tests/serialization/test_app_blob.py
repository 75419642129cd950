"""The ``__provider`` blob of ``AppProvider``: same design as the credential's.

* a class **reference** plus an empty state: tiny, no code, the code on disk runs;
* nothing secret or live (API key, env values, HTTP client) in it, even after the provider has
  been configured and used, so it need not be stored as a secret;
* deterministic, and loads in another process from another directory;
* the committed golden blob (written when App was introduced) still loads: the module path
  ``pulumi_miget.app`` and the class name ``AppProvider`` are API from now on.
"""

from __future__ import annotations

import base64
import json
import os
import pickletools
import subprocess
import sys
from pathlib import Path
from typing import Any

import dill
import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.dynamic.dynamic import serialize_provider

from pulumi_miget.app import AppProvider
from pulumi_miget.emulator import EmulatorServer
from tests.support.constants import API_KEY

GOLDEN_V0_1_0 = Path(__file__).parent / "golden" / "app_provider_v0_1_0.b64"
CLASS_REF = ("pulumi_miget.app", "AppProvider")
SECRET = "postgres://app:serialization-secret-value@db/app"

LOADER = """
import base64, json, sys
import dill
from pulumi.dynamic.dynamic import serialize_provider
from pulumi_miget.app import AppProvider
loaded = [dill.loads(base64.b64decode(blob)) for blob in sys.argv[1:]]
print(json.dumps({
    "types": [f"{type(p).__module__}.{type(p).__qualname__}" for p in loaded],
    "blob": serialize_provider(AppProvider()),
}))
"""


def blob_of(provider: AppProvider) -> str:
    blob: str = serialize_provider(provider)
    return blob


def globals_referenced(raw: bytes) -> set[tuple[str, str]]:
    """Every (module, name) the pickle imports (GLOBAL/STACK_GLOBAL opcodes)."""
    strings: list[str] = []
    found: set[tuple[str, str]] = set()
    for opcode, arg, _ in pickletools.genops(raw):
        if opcode.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
            strings.append(arg)
        elif opcode.name == "STACK_GLOBAL":
            found.add((strings[-2], strings[-1]))
        elif opcode.name in ("GLOBAL", "INST"):
            module, name = arg.split(" ", 1)
            found.add((module, name))
    return found


@pytest.fixture(scope="module")
def blob() -> str:
    return blob_of(AppProvider())


@pytest.fixture(scope="module")
def golden() -> str:
    return GOLDEN_V0_1_0.read_text().strip()


@pytest.fixture(scope="module")
def fresh_processes(blob: str, golden: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    procs = []
    for seed in ("1", "2"):
        cwd = tmp_path_factory.mktemp(f"app-elsewhere-{seed}")
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", LOADER, blob, golden],
                cwd=cwd,
                env=dict(os.environ, PYTHONHASHSEED=seed),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    return results


def test_blob_is_at_most_200_base64_characters(blob: str) -> None:
    """Measured: 72 base64 characters with pulumi 3.272.0 and dill 0.4.1."""
    assert len(blob) <= 200, f"__provider grew to {len(blob)} base64 characters"


def test_blob_is_a_class_reference_with_no_code(blob: str) -> None:
    raw = base64.b64decode(blob)
    assert globals_referenced(raw) == {CLASS_REF}
    for marker in (b"_create_code", b"_create_function", b"CodeType", b"dill._dill", b"__main__"):
        assert marker not in raw
    assert isinstance(dill.loads(raw), AppProvider)


def test_blob_holds_no_secret_or_client_after_configure_and_use(emulator: EmulatorServer) -> None:
    provider = AppProvider()
    config = {"miget:apiKey": API_KEY, "miget:apiUrl": emulator.api_url}
    provider.configure(ConfigureRequest(Config(config, "proj")))
    created = provider.create(
        {
            "name": "ser",
            "label": "ser",
            "project_id": "3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b",
            "resource_id": "7d8e9f0a-1b2c-4d3e-9f5a-6b7c8d9e0f1a",
            "builder": "auto",
            "image_url": "ghcr.io/acme/api",
            "tag": "1",
            "env": {"DATABASE_URL": SECRET},
        }
    )
    provider.read(created.id, created.outs)  # a live client with an open session now exists
    assert [e["method"] for e in emulator.requests_log()] == ["POST", "GET"]

    blob = blob_of(provider)
    raw = base64.b64decode(blob)
    for needle in (API_KEY, SECRET, emulator.api_url, "requests", "Session", "MigetClient"):
        assert needle.encode() not in raw, needle
    assert blob == blob_of(AppProvider())  # a used provider pickles exactly like a fresh one


def test_blob_is_not_stored_as_a_secret_because_it_holds_none() -> None:
    assert AppProvider.serialize_as_secret_always is False


def test_blob_is_deterministic_within_and_across_processes(blob: str, fresh_processes: Any) -> None:
    assert blob_of(AppProvider()) == blob
    assert [result["blob"] for result in fresh_processes] == [blob, blob]


def test_blob_loads_in_a_fresh_process_in_another_directory(fresh_processes: Any) -> None:
    for result in fresh_processes:
        assert result["types"][0] == ".".join(CLASS_REF)


def test_golden_blob_still_loads(golden: str, fresh_processes: Any) -> None:
    loaded = dill.loads(base64.b64decode(golden))
    assert type(loaded) is AppProvider
    assert loaded._client is None  # __setstate__ rebuilt a clean, unconfigured provider
    for result in fresh_processes:
        assert result["types"][1] == ".".join(CLASS_REF)
