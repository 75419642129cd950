"""The ``__provider`` blob: what the SDK pickles for ContainerRegistryCredentialProvider.

Every program run pickles the provider into the resource's ``__provider`` input and the engine
stores it (in the inputs *and* the outputs) in the checkpoint. These tests pin the design:

* it is a class **reference** plus an empty state, so it is tiny, carries no code and runs the
  code on disk;
* nothing secret or live (API key, registry token, HTTP client) is ever in it, even after the
  provider has been configured and used, so it need not be stored as a secret;
* it is deterministic and loads in another process from another directory;
* a blob written by an earlier release (the committed golden file) still loads.

Blobs are produced by the SDK's own ``serialize_provider`` and loaded with ``dill.loads``, as the
provider server does (``pulumi/dynamic/__main__.py: get_provider``).
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

from pulumi_miget.credential import ContainerRegistryCredentialProvider
from pulumi_miget.emulator import EmulatorServer
from tests.support.constants import API_KEY

GOLDEN_V0_1_0 = Path(__file__).parent / "golden" / "credential_provider_v0_1_0.b64"
CLASS_REF = ("pulumi_miget.credential", "ContainerRegistryCredentialProvider")
TOKEN = "ghp_serialization_token_that_must_not_be_pickled"

# A fresh interpreter: load each blob given on the command line the way the provider server
# does, and pickle a new provider with the SDK, so the parent can compare across processes.
LOADER = """
import base64, json, sys
import dill
from pulumi.dynamic.dynamic import serialize_provider
from pulumi_miget.credential import ContainerRegistryCredentialProvider
loaded = [dill.loads(base64.b64decode(blob)) for blob in sys.argv[1:]]
print(json.dumps({
    "types": [f"{type(p).__module__}.{type(p).__qualname__}" for p in loaded],
    "blob": serialize_provider(ContainerRegistryCredentialProvider()),
}))
"""


def blob_of(provider: ContainerRegistryCredentialProvider) -> str:
    blob: str = serialize_provider(provider)
    return blob


def globals_referenced(raw: bytes) -> set[tuple[str, str]]:
    """Every (module, name) the pickle imports: GLOBAL/STACK_GLOBAL opcodes."""
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
    return blob_of(ContainerRegistryCredentialProvider())


@pytest.fixture(scope="module")
def golden() -> str:
    return GOLDEN_V0_1_0.read_text().strip()


@pytest.fixture(scope="module")
def fresh_processes(blob: str, golden: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Two interpreters with different hash seeds, started in an unrelated empty directory (as
    the engine starts the provider in the program directory), each loading both blobs."""
    procs = []
    for seed in ("1", "2"):
        cwd = tmp_path_factory.mktemp(f"elsewhere-{seed}")
        env = dict(os.environ, PYTHONHASHSEED=seed)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", LOADER, blob, golden],
                cwd=cwd,
                env=env,
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
    """Measured: 112 base64 characters (84 pickle bytes) with pulumi 3.272.0 and dill 0.4.1.

    The engine stores the blob twice per resource (inputs and outputs) and the program sends it
    on every registration; a by-value pickle of this module would be about 15 KB.
    """
    assert len(blob) <= 200, f"__provider grew to {len(blob)} base64 characters"


def test_blob_is_a_class_reference_with_no_code(blob: str) -> None:
    raw = base64.b64decode(blob)
    # The only import in the pickle is the provider class, by module and name ...
    assert globals_referenced(raw) == {CLASS_REF}
    # ... so it holds no code objects, functions or dill's by-value machinery.
    for marker in (b"_create_code", b"_create_function", b"CodeType", b"dill._dill", b"__main__"):
        assert marker not in raw
    assert isinstance(dill.loads(raw), ContainerRegistryCredentialProvider)


def test_blob_holds_no_secret_or_client_after_configure_and_use(emulator: EmulatorServer) -> None:
    provider = ContainerRegistryCredentialProvider()
    config = {"miget:apiKey": API_KEY, "miget:apiUrl": emulator.api_url}
    provider.configure(ConfigureRequest(Config(config, "proj")))
    created = provider.create(
        {"name": "ser", "registry": "github", "username": "bot", "token": TOKEN}
    )
    provider.read(created.id, created.outs)  # a live client with an open session now exists
    assert [e["method"] for e in emulator.requests_log()] == ["POST", "GET"]

    blob = blob_of(provider)
    raw = base64.b64decode(blob)
    for needle in (API_KEY, TOKEN, emulator.api_url, "requests", "Session", "MigetClient"):
        assert needle.encode() not in raw, needle
    # A used provider pickles exactly like a fresh one: the state is empty.
    assert blob == blob_of(ContainerRegistryCredentialProvider())


def test_blob_is_not_stored_as_a_secret_because_it_holds_none() -> None:
    """``serialize_as_secret_always = False``: the SDK wraps ``__provider`` in a secret only if a
    secret Output was captured, so state stays readable (pulumi#15539) — safe because of the
    test above. The program tests check the registration carries it as a plain string."""
    assert ContainerRegistryCredentialProvider.serialize_as_secret_always is False


def test_blob_is_deterministic_within_and_across_processes(blob: str, fresh_processes: Any) -> None:
    assert blob_of(ContainerRegistryCredentialProvider()) == blob
    assert [result["blob"] for result in fresh_processes] == [blob, blob]


def test_blob_loads_in_a_fresh_process_in_another_directory(fresh_processes: Any) -> None:
    expected = ".".join(CLASS_REF)
    for result in fresh_processes:
        assert result["types"][0] == expected


def test_golden_blob_from_v0_1_0_still_loads(golden: str, fresh_processes: Any) -> None:
    """State written by 0.1.0 must un-pickle forever: the module path and class name are API."""
    loaded = dill.loads(base64.b64decode(golden))
    assert type(loaded) is ContainerRegistryCredentialProvider
    assert loaded._client is None  # __setstate__ rebuilt a clean, unconfigured provider
    for result in fresh_processes:
        assert result["types"][1] == ".".join(CLASS_REF)
