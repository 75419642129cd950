"""The ``__provider`` blobs: what the SDK pickles for ContainerRegistryCredentialProvider and
AppProvider.

Every program run pickles the provider into the resource's ``__provider`` input and the engine
stores it (in the inputs *and* the outputs) in the checkpoint. These tests pin the design, the
same for both providers (each test runs once per provider):

* it is a class **reference** plus an empty state, so it is tiny, carries no code and runs the
  code on disk;
* nothing secret or live (API key, registry token, env values, HTTP client) is ever in it, even
  after the provider has been configured and used, so it need not be stored as a secret;
* it is deterministic and loads in another process from another directory;
* a blob written by an earlier release (the committed golden file) still loads: the module paths
  ``pulumi_miget.credential`` and ``pulumi_miget.app`` and the class names are API.

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dill
import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.dynamic.dynamic import serialize_provider

from pulumi_miget.app import AppProvider
from pulumi_miget.credential import ContainerRegistryCredentialProvider
from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.provider import MigetProvider
from tests.samples import API_KEY, DEFAULT_WORKSPACE_ID

GOLDEN = Path(__file__).parent / "golden"


@dataclass(frozen=True)
class Blobbed:
    """One provider under test: its class, the reference its blob must hold, and a secret the
    ``create`` inputs carry (which must never reach the blob)."""

    provider_class: type[MigetProvider]
    class_ref: tuple[str, str]
    golden_v0_1_0: Path
    secret: str
    create_inputs: dict[str, Any]


TOKEN = "ghp_serialization_token_that_must_not_be_pickled"
DATABASE_URL = "postgres://app:serialization-secret-value@db/app"

CREDENTIAL = Blobbed(
    provider_class=ContainerRegistryCredentialProvider,
    class_ref=("pulumi_miget.credential", "ContainerRegistryCredentialProvider"),
    golden_v0_1_0=GOLDEN / "credential_provider_v0_1_0.b64",
    secret=TOKEN,
    create_inputs={"name": "ser", "registry": "github", "username": "bot", "token": TOKEN},
)
APP = Blobbed(
    provider_class=AppProvider,
    class_ref=("pulumi_miget.app", "AppProvider"),
    golden_v0_1_0=GOLDEN / "app_provider_v0_1_0.b64",
    secret=DATABASE_URL,
    create_inputs={
        "name": "ser",
        "label": "ser",
        "project_id": "3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b",
        "resource_id": "7d8e9f0a-1b2c-4d3e-9f5a-6b7c8d9e0f1a",
        "builder": "auto",
        "image_url": "ghcr.io/acme/api",
        "tag": "1",
        "env": {"DATABASE_URL": DATABASE_URL},
    },
)

# A fresh interpreter: import the provider class named on the command line, load each blob given
# after it the way the provider server does, and pickle a new provider with the SDK, so the
# parent can compare across processes.
LOADER = """
import base64, importlib, json, sys
import dill
from pulumi.dynamic.dynamic import serialize_provider
module, name, *blobs = sys.argv[1:]
provider_class = getattr(importlib.import_module(module), name)
loaded = [dill.loads(base64.b64decode(blob)) for blob in blobs]
print(json.dumps({
    "types": [f"{type(p).__module__}.{type(p).__qualname__}" for p in loaded],
    "blob": serialize_provider(provider_class()),
}))
"""


def blob_of(provider: MigetProvider) -> str:
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


@pytest.fixture(scope="module", params=[CREDENTIAL, APP], ids=["credential", "app"])
def case(request: pytest.FixtureRequest) -> Blobbed:
    blobbed: Blobbed = request.param
    return blobbed


@pytest.fixture(scope="module")
def blob(case: Blobbed) -> str:
    return blob_of(case.provider_class())


@pytest.fixture(scope="module")
def golden(case: Blobbed) -> str:
    return case.golden_v0_1_0.read_text().strip()


@pytest.fixture(scope="module")
def fresh_processes(
    case: Blobbed, blob: str, golden: str, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    """Two interpreters with different hash seeds, started in an unrelated empty directory (as
    the engine starts the provider in the program directory), each loading both blobs."""
    procs = []
    for seed in ("1", "2"):
        cwd = tmp_path_factory.mktemp(f"{case.class_ref[1]}-elsewhere-{seed}")
        env = dict(os.environ, PYTHONHASHSEED=seed)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", LOADER, *case.class_ref, blob, golden],
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
    """Measured with pulumi 3.272.0 and dill 0.4.1: 112 base64 characters (84 pickle bytes) for
    the credential provider, 72 (53 pickle bytes) for the App provider.

    The engine stores the blob twice per resource (inputs and outputs) and the program sends it
    on every registration; a by-value pickle of the credential module would be about 15 KB.
    """
    assert len(blob) <= 200, f"__provider grew to {len(blob)} base64 characters"


def test_blob_is_a_class_reference_with_no_code(case: Blobbed, blob: str) -> None:
    raw = base64.b64decode(blob)
    # The only import in the pickle is the provider class, by module and name ...
    assert globals_referenced(raw) == {case.class_ref}
    # ... so it holds no code objects, functions or dill's by-value machinery.
    for marker in (b"_create_code", b"_create_function", b"CodeType", b"dill._dill", b"__main__"):
        assert marker not in raw
    assert isinstance(dill.loads(raw), case.provider_class)


def test_blob_holds_no_secret_or_client_after_configure_and_use(
    case: Blobbed, emulator: EmulatorServer
) -> None:
    """The credential's registry token, or the App's env value, is the secret in the inputs."""
    provider = case.provider_class()
    config = {
        "miget:apiKey": API_KEY,
        "miget:apiUrl": emulator.api_url,
        "miget:workspaceId": DEFAULT_WORKSPACE_ID,
    }
    provider.configure(ConfigureRequest(Config(config, "proj")))
    created = provider.create(provider.check({}, case.create_inputs).inputs)  # as the engine does
    provider.read(created.id, created.outs)  # a live client with an open session now exists
    assert [e["method"] for e in emulator.requests_log()] == ["POST", "GET"]

    blob = blob_of(provider)
    raw = base64.b64decode(blob)
    for needle in (API_KEY, case.secret, emulator.api_url, "requests", "Session", "MigetClient"):
        assert needle.encode() not in raw, needle
    # A used provider pickles exactly like a fresh one: the state is empty.
    assert blob == blob_of(case.provider_class())


def test_blob_is_not_stored_as_a_secret_because_it_holds_none(case: Blobbed) -> None:
    """``serialize_as_secret_always = False``: the SDK wraps ``__provider`` in a secret only if a
    secret Output was captured, so state stays readable (pulumi#15539) — safe because of the
    test above. The program tests check the registration carries it as a plain string."""
    assert case.provider_class.serialize_as_secret_always is False


def test_blob_is_deterministic_within_and_across_processes(
    case: Blobbed, blob: str, fresh_processes: Any
) -> None:
    assert blob_of(case.provider_class()) == blob
    assert [result["blob"] for result in fresh_processes] == [blob, blob]


def test_blob_loads_in_a_fresh_process_in_another_directory(
    case: Blobbed, fresh_processes: Any
) -> None:
    expected = ".".join(case.class_ref)
    for result in fresh_processes:
        assert result["types"][0] == expected


def test_golden_blob_from_v0_1_0_still_loads(
    case: Blobbed, golden: str, fresh_processes: Any
) -> None:
    """State written by 0.1.0 must un-pickle forever: the module path and class name are API."""
    loaded = dill.loads(base64.b64decode(golden))
    assert type(loaded) is case.provider_class
    assert loaded._client is None  # __setstate__ rebuilt a clean, unconfigured provider
    for result in fresh_processes:
        assert result["types"][1] == ".".join(case.class_ref)


def test_the_blob_is_byte_identical_to_the_released_one(blob: str, golden: str) -> None:
    """Users' states hold this exact text: the same bytes mean a moved or renamed module never
    shows as a diff of ``__provider`` nor breaks un-pickling (the pickled names are pinned)."""
    assert blob == golden
