"""Leaks: the API key and the registry token appear nowhere but in secrets.

With a known API key and token, each test probes one place a secret could escape to:

- the ``__provider`` blob in the state (it pickles the provider class by reference, nothing else);
- every output that is not a secret, and the refreshed inputs;
- the token output, which must be a secret on every path that sets it — create, update,
  refresh, adopt — and absent after a ``get`` (the API never returns a token);
- the error text and traceback the CLI would print (gRPC details) for failures of every
  operation: server errors, dropped connections, timeouts, lost responses, a wrong API key, a
  token the registry rejects;
- the emulator's request log, and everything the provider process printed.

Every probe that passes is counted in the summary's "leak probes".
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import grpc
import pytest

from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.testing import Engine, ResourceState, Secret, destroy, refresh, up
from tests.emulator.helpers import Api
from tests.reliability.common import (
    ASO,
    BLOB,
    HANG,
    NEW_TOKEN,
    TOKEN,
    WRONG_KEY,
    Provider,
    blob_text,
    leaked,
    news,
    non_secret_text,
    remember_secret,
    stack_config,
    start_provider,
)
from tests.reliability.figures import Figures
from tests.samples import CREDENTIALS_PATH, OTHER_WORKSPACE_ID

REJECTED_TOKEN = remember_secret("invalid_reliability_token_the_registry_refuses_9c2e")


class Probes:
    """Counts leak probes; each one asserts that no known secret is in a piece of text."""

    def __init__(self) -> None:
        self.count = 0

    def clean(self, where: str, text: str) -> None:
        assert leaked(text) == [], f"a secret leaked into {where}"
        self.count += 1

    def state(self, where: str, state: ResourceState) -> None:
        self.clean(f"{where}: outputs", non_secret_text(state.outputs))
        self.clean(f"{where}: inputs", non_secret_text(state.inputs))

    def record(self, figures: Figures) -> None:
        figures.add("leaks", probes=self.count, leaks=0)


@pytest.fixture
def engine(standard_provider: Provider, emulator: EmulatorServer) -> Engine:
    standard_provider.engine.calls.clear()
    return standard_provider.engine


def test_the_provider_blob_is_a_class_reference_without_any_secret(
    engine: Engine, emulator: EmulatorServer, figures: Figures
) -> None:
    probes = Probes()
    probes.clean("the blob the SDK pickles", blob_text(BLOB))
    _, state = up(engine, "cred", news(), None, ASO)
    assert state is not None
    stored_blob = state.outputs["__provider"]
    assert isinstance(stored_blob, str) and len(stored_blob) < 300  # a reference, not a body
    probes.clean("__provider in the state", blob_text(stored_blob))
    probes.record(figures)


def test_the_token_is_secret_on_every_path_and_absent_after_get(
    engine: Engine, emulator: EmulatorServer, figures: Figures
) -> None:
    probes = Probes()

    _, created = up(engine, "cred", news(), None, ASO)
    assert created is not None and created.outputs["token"] == Secret(TOKEN)
    probes.state("create", created)

    _, rotated = up(engine, "cred", news(token=Secret(NEW_TOKEN)), created, ASO)
    assert rotated is not None and rotated.outputs["token"] == Secret(NEW_TOKEN)
    probes.state("update", rotated)

    refreshed = refresh(engine, rotated)
    assert refreshed is not None
    assert refreshed.outputs["token"] == Secret(NEW_TOKEN)
    assert refreshed.inputs["token"] == Secret(NEW_TOKEN)
    probes.state("refresh", refreshed)

    Api(emulator.url).in_workspace(OTHER_WORKSPACE_ID).create(name="rel-adopted")
    adopt = news(name="rel-adopted", workspace_id=OTHER_WORKSPACE_ID, adopt=True)
    _, adopted = up(engine, "adopted", adopt, None, ASO)
    assert adopted is not None and adopted.outputs["token"] == Secret(TOKEN)
    probes.state("adopt", adopted)

    got_id, got, _ = engine.get_read("got", created.id, {"__provider": BLOB})
    assert got_id == created.id
    assert "token" not in got  # the API never returns a token, so there is none to expose
    probes.clean("get: outputs", non_secret_text(got))

    probes.clean("the API request log", json.dumps(emulator.requests_log()))
    probes.record(figures)


# ---- failures: what the CLI would print --------------------------------------------------------

FAULTS: list[dict[str, Any]] = [
    {"action": "status", "status": 500},
    {"action": "drop"},
    {"action": "delay", "delay": HANG},  # longer than a whole create call: it times out
    {"action": "lost_response"},
]


def create(engine: Engine, _: ResourceState | None, **changes: Any) -> None:
    up(engine, changes.get("name", "cred"), news(**changes), None, ASO)


def read(engine: Engine, state: ResourceState | None) -> None:
    assert state is not None
    refresh(engine, state)


def update(engine: Engine, state: ResourceState | None, **changes: Any) -> None:
    assert state is not None
    up(engine, "cred", news(**changes), state, ASO)


def delete(engine: Engine, state: ResourceState | None) -> None:
    assert state is not None
    destroy(engine, state)


def test_no_failure_reveals_a_secret_in_its_error_or_the_process_output(
    emulator: EmulatorServer, figures: Figures
) -> None:
    probes = Probes()
    failures = 0

    def fails(
        engine: Engine, action: Callable[..., None], state: ResourceState | None, **changes: Any
    ) -> None:
        nonlocal failures
        with pytest.raises(grpc.RpcError) as caught:
            action(engine, state, **changes)
        assert "Traceback" in caught.value.details()
        probes.clean("an error's gRPC details", caught.value.details())
        failures += 1

    fast = stack_config(emulator, timeout="0.5", maxRetries="1")
    good = start_provider(fast)
    wrong = start_provider({**fast, "miget:apiKey": Secret(WRONG_KEY)})
    try:
        for spec in FAULTS:
            # A create fails, except after a lost response: the credential is found and adopted.
            emulator.reset()
            emulator.add_fault("POST", CREDENTIALS_PATH, times=10, **spec)
            if spec["action"] == "lost_response":
                _, adopted = up(good.engine, "cred", news(), None, ASO)
                assert adopted is not None and adopted.outputs["token"] == Secret(TOKEN)
                probes.state("an adopted lost create", adopted)
            else:
                fails(good.engine, create, None)
            time.sleep(spec.get("delay", 0))  # held requests finish before the next reset
            # Read, update (a token rotation) and delete of an existing credential all fail.
            emulator.reset()
            _, state = up(good.engine, "cred", news(), None, ASO)
            for method in ("GET", "PUT", "DELETE"):
                emulator.add_fault(method, CREDENTIALS_PATH + "/*", times=10, **spec)
            fails(good.engine, read, state)
            fails(good.engine, update, state, token=Secret(NEW_TOKEN))
            fails(good.engine, delete, state)
            time.sleep(spec.get("delay", 0))

        emulator.reset()
        _, state = up(good.engine, "cred", news(), None, ASO)
        # 401: the wrong key
        fails(wrong.engine, create, None)
        fails(wrong.engine, read, state)
        fails(wrong.engine, update, state, token=Secret(NEW_TOKEN))
        fails(wrong.engine, delete, state)
        # 422: the registry refuses the token (the API's message, not the token, is shown)
        fails(good.engine, update, state, token=Secret(REJECTED_TOKEN))
        fails(good.engine, create, None, name="other", token=Secret(REJECTED_TOKEN))
        probes.clean("the API request log", json.dumps(emulator.requests_log()))
    finally:
        good.server.close()  # joins the output threads: the output is complete
        wrong.server.close()
    probes.clean("the provider process output", good.server.output())
    probes.clean("the wrong-key provider process output", wrong.server.output())

    assert failures == 4 * len(FAULTS) - 1 + 4 + 2
    probes.record(figures)
