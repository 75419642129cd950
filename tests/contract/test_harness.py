"""Specification tests of the engine harness itself (pulumi_miget.testing).

They run the SDK's real provider server with the tiny sample provider, so every other contract,
program and scenario test can trust the harness's engine rules.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pulumi
import pytest
from pulumi.runtime.proto import provider_pb2

from pulumi_miget.testing import (
    DIFF_SOME,
    SECRET_SIG,
    SIG_KEY,
    UNKNOWN,
    UNKNOWN_WIRE,
    CheckFailed,
    Engine,
    ProgramResult,
    ProviderServer,
    ResourceState,
    Secret,
    Stack,
    UnknownOutsidePreview,
    annotate_secrets,
    apply_step_secrets,
    decode,
    destroy,
    destroy_stack,
    encode,
    from_struct,
    import_root,
    plain,
    provider_blob,
    refresh,
    run_program,
    to_struct,
    up,
)
from tests.support import sample_provider
from tests.support.sample_provider import (
    TYPE_TOKEN,
    DefaultDiffThingProvider,
    Thing,
    ThingProvider,
)

ASO = sample_provider.ADDITIONAL_SECRET_OUTPUTS
BLOB = provider_blob(ThingProvider())


# --------------------------------------------------------------------------------------------------
# Fixtures: one provider server for the module
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sample") / "things.json"


@pytest.fixture(scope="module")
def config(store: Path) -> dict[str, Any]:
    return {"sample:path": str(store), "proj:apiKey": Secret("k3y-s3cr3t"), "aws:region": "eu"}


@pytest.fixture(scope="module")
def server() -> Iterator[ProviderServer]:
    # The sample provider is pickled by reference as tests.support.sample_provider.
    with ProviderServer(cwd=import_root(sample_provider)) as srv:
        yield srv


@pytest.fixture(scope="module")
def configured(server: ProviderServer, config: dict[str, Any]) -> tuple[Engine, Any]:
    engine = Engine(server, TYPE_TOKEN)
    return engine, engine.configure(config)


@pytest.fixture
def engine(configured: tuple[Engine, Any]) -> Engine:
    engine = configured[0]
    engine.calls.clear()
    return engine


def things(store: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(store.read_text()) if store.exists() else {"things": {}}
    return data["things"]  # type: ignore[no-any-return]


def news(blob: str = BLOB, **fields: Any) -> dict[str, Any]:
    # What the SDK registers: the secret input and (serialize_as_secret_always) __provider wrapped.
    props: dict[str, Any] = {"value": "a", "secret": Secret("s1"), "__provider": Secret(blob)}
    props.update(fields)
    return props


# --------------------------------------------------------------------------------------------------
# Wire encoding and the secret rules (pure functions)
# --------------------------------------------------------------------------------------------------


def test_wire_constants_are_the_sdk_signatures() -> None:
    assert SIG_KEY == "4dabf18193072939515e22adb298388d"
    assert SECRET_SIG == "1b47061264138c4ac30d75fd1eb44270"
    assert UNKNOWN_WIRE == "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def test_wire_round_trip() -> None:
    props = {
        "s": "x",
        "n": 1.5,
        "b": True,
        "none": None,
        "secret": Secret("p"),
        "nested": {"list": [1.0, Secret({"k": "v"})], "u": UNKNOWN},
        "secret_unknown": Secret(UNKNOWN),
    }
    struct = to_struct(props, keep_secrets=True, keep_unknowns=True)
    assert from_struct(struct) == props
    wire = encode(props, keep_secrets=True, keep_unknowns=True)
    assert wire["secret"] == {SIG_KEY: SECRET_SIG, "value": "p"}
    assert wire["nested"]["u"] == UNKNOWN_WIRE
    assert decode(wire) == props
    # KeepSecrets=false: secrets are stripped to their plain element, recursively
    stripped = from_struct(to_struct(props, keep_secrets=False, keep_unknowns=True))
    assert stripped["secret"] == "p" and stripped["nested"]["list"][1] == {"k": "v"}
    assert plain(props) == stripped


def test_unknowns_are_refused_outside_preview() -> None:
    with pytest.raises(UnknownOutsidePreview):
        to_struct({"a": {"b": [UNKNOWN]}})
    with pytest.raises(UnknownOutsidePreview):
        to_struct({"a": Secret(UNKNOWN)}, keep_secrets=True)


@pytest.mark.parametrize(
    ("outs", "ins", "expected"),
    [
        pytest.param({"a": 1}, {"a": Secret(1)}, {"a": Secret(1)}, id="same-key-secret"),
        pytest.param({"a": 1}, {"a": 1}, {"a": 1}, id="plain-input"),
        pytest.param({"a": 1}, {"b": Secret(1)}, {"a": 1}, id="other-key"),
        pytest.param({}, {"a": Secret(1)}, {}, id="absent-output-not-added"),
        pytest.param({"a": Secret(1)}, {"a": Secret(1)}, {"a": Secret(1)}, id="no-double-wrap"),
        pytest.param(
            {"o": {"x": 1, "y": 2}},
            {"o": {"x": Secret(1), "y": 2}},
            {"o": {"x": Secret(1), "y": 2}},
            id="objects-recurse",
        ),
        pytest.param(
            {"o": {"x": 1}}, {"o": Secret({"x": 1})}, {"o": Secret({"x": 1})}, id="secret-object"
        ),
        pytest.param(
            {"l": [1, 2, 3]}, {"l": [1, Secret(2)]}, {"l": Secret([1, 2, 3])}, id="array-tainted"
        ),
        pytest.param(
            {"o": "flat"}, {"o": {"deep": Secret(1)}}, {"o": Secret("flat")}, id="contains"
        ),
        pytest.param({"a": 1}, None, {"a": 1}, id="no-inputs"),
    ],
)
def test_annotate_secrets(outs: dict[str, Any], ins: Any, expected: dict[str, Any]) -> None:
    before = json.dumps(plain(outs))
    assert annotate_secrets(outs, ins) == expected
    assert json.dumps(plain(outs)) == before  # the input map is not mutated


def test_step_executor_secret_rules() -> None:
    outs = {"id": "x", "token": "t", "pw": "p", "nested": {"k": "v"}, "n": 1}
    ins = {"pw": Secret("p"), "nested": {"k": Secret("v")}}
    result = apply_step_secrets(outs, ins, ["token", "id", "missing"])
    assert result["token"] == Secret("t")  # additional_secret_outputs
    assert result["id"] == "x"  # the id cannot be made secret (pulumi#2717)
    assert "missing" not in result
    assert result["pw"] == Secret("p")  # the input itself is a secret → leak guard
    assert result["nested"] == {"k": "v"}  # shallow: only an input that IS a secret counts
    assert result["n"] == 1


# --------------------------------------------------------------------------------------------------
# Against the real provider server
# --------------------------------------------------------------------------------------------------


def test_configure_reply_is_no_secrets_no_preview(configured: tuple[Engine, Any]) -> None:
    engine, reply = configured
    assert reply.acceptSecrets is False and reply.supportsPreview is False
    assert engine.accept_secrets is False and engine.supports_preview is False


def test_calls_before_configure_are_refused(server: ProviderServer) -> None:
    with pytest.raises(RuntimeError, match="configure"):
        Engine(server, TYPE_TOKEN).check("x", {}, news())


def test_secrets_are_stripped_for_the_provider_and_reannotated(engine: Engine, store: Path) -> None:
    inputs, failures = engine.check("sec", {}, news())
    assert failures == []
    assert inputs["secret"] == Secret("s1") and inputs["__provider"] == Secret(BLOB)
    state = engine.create("sec", inputs, ASO)
    # The provider saw plaintext (not a wrapper dict) and wrote it to its store.
    assert things(store)[state.id]["inputs"]["secret"] == "s1"
    assert state.outputs["secret"] == Secret("s1")  # annotateSecrets: same key as secret input
    assert state.outputs["__provider"] == Secret(BLOB)  # the server echoes __provider
    assert isinstance(state.outputs["token"], Secret)  # only via additional_secret_outputs
    assert state.outputs["revision"] == 1 and state.outputs["value"] == "a"
    assert state.additional_secret_outputs == tuple(ASO)
    destroy(engine, state)
    assert state.id not in things(store)


def test_a_wrapped_provider_blob_would_crash_the_server(engine: Engine) -> None:
    """Why stripping matters: the server hashes news["__provider"] to find the provider."""
    request = provider_pb2.CheckRequest(
        urn=engine.urn("w"),
        olds=to_struct({}),
        news=to_struct(news(), keep_secrets=True),
    )
    with pytest.raises(grpc.RpcError) as caught:
        engine.stub.Check(request)
    assert caught.value.code() == grpc.StatusCode.UNKNOWN
    assert "unhashable type: 'dict'" in caught.value.details()


def test_preview_unknowns_round_trip_through_check_and_diff(engine: Engine, store: Path) -> None:
    inputs, failures = engine.check("pv", {}, news(value=UNKNOWN), preview=True)
    assert failures == [] and inputs["value"] is UNKNOWN
    state = engine.create("pv", engine.check("pv", {}, news())[0], ASO)
    diff = engine.diff("pv", state, news(group=UNKNOWN), preview=True)
    assert diff.changes == DIFF_SOME and list(diff.replaces) == ["group"]
    # outside preview the harness refuses to send an unknown at all
    sent = len(engine.calls)
    with pytest.raises(UnknownOutsidePreview):
        engine.check("pv", {}, news(value=UNKNOWN))
    with pytest.raises(UnknownOutsidePreview):
        engine.diff("pv", state, news(value=UNKNOWN))
    assert len(engine.calls) == sent
    destroy(engine, state)


def test_up_create_same_update_replace(engine: Engine, store: Path) -> None:
    op, state = up(engine, "life", news(), None, ASO)
    assert op == "create" and state is not None and state.outputs["revision"] == 1

    # A new provider blob (e.g. a new provider version) with equal fields: Same step, which
    # keeps the OLD outputs (old __provider included) and takes the new inputs.
    blob2 = provider_blob(ThingProvider(label="v2"))
    assert blob2 != BLOB
    op, same = up(engine, "life", news(blob2), state, ASO)
    assert op == "same" and same is not None
    assert same.outputs == state.outputs and same.outputs["__provider"] == Secret(BLOB)
    assert same.inputs["__provider"] == Secret(blob2)

    engine.calls.clear()
    op, updated = up(engine, "life", news(blob2, value="b"), same, ASO)
    assert op == "update" and updated is not None and updated.id == state.id
    assert [c for c, _ in engine.calls] == ["Check", "Diff", "Update"]
    assert updated.outputs["revision"] == 2 and updated.outputs["__provider"] == Secret(blob2)
    assert updated.outputs["token"] == state.outputs["token"]

    engine.calls.clear()  # group forces a replacement; dbr → delete before create
    op, replaced = up(engine, "life", news(blob2, value="b", group="g", dbr=True), updated, ASO)
    assert op == "replace" and replaced is not None and replaced.id != state.id
    # step_generator.go:2005-2020: a replace checks the goal a second time (olds = {})
    assert [c for c, _ in engine.calls] == ["Check", "Diff", "Check", "Delete", "Create"]

    engine.calls.clear()  # without dbr: create the replacement, then delete the old one
    op, again = up(engine, "life", news(blob2, value="b", group="h"), replaced, ASO)
    assert op == "replace" and again is not None
    assert [c for c, _ in engine.calls] == ["Check", "Diff", "Check", "Create", "Delete"]
    assert again.id in things(store)
    assert replaced.id not in things(store)
    destroy(engine, again)


def test_up_preview_sends_only_check_and_diff(engine: Engine) -> None:
    op, state = up(engine, "prev", news(), None, ASO, preview=True)
    assert (op, state) == ("create", None)
    op, real = up(engine, "prev", news(), None, ASO)
    assert real is not None
    engine.calls.clear()
    assert up(engine, "prev", news(value="z"), real, ASO, preview=True) == ("update", None)
    assert up(engine, "prev", news(group="q"), real, ASO, preview=True) == ("replace", None)
    assert up(engine, "prev", news(), real, ASO, preview=True) == ("same", None)
    assert {c for c, _ in engine.calls} == {"Check", "Diff"}
    destroy(engine, real)


def test_default_diff_falls_back_to_comparing_inputs(engine: Engine) -> None:
    blob = provider_blob(DefaultDiffThingProvider())
    op, state = up(engine, "dd", news(blob), None, ASO)
    assert op == "create" and state is not None
    diff = engine.diff("dd", state, engine.check("dd", state.inputs, news(blob))[0])
    assert diff.changes == provider_pb2.DiffResponse.DIFF_UNKNOWN
    assert up(engine, "dd", news(blob), state, ASO)[0] == "same"
    # a changed __provider alone is an input change → update (pulumi#12401)
    blob2 = provider_blob(DefaultDiffThingProvider(label="v2"))
    op, updated = up(engine, "dd", news(blob2), state, ASO)
    assert op == "update" and updated is not None
    destroy(engine, updated)


def test_check_failures_stop_the_step(engine: Engine) -> None:
    with pytest.raises(CheckFailed) as caught:
        up(engine, "bad", news(value=""), None, ASO)
    assert caught.value.failures == [("value", "value must be a non-empty string")]
    assert [c for c, _ in engine.calls] == ["Check"]


def test_refresh_reads_drift_keeps_secrets_and_drops_deleted(engine: Engine, store: Path) -> None:
    _, state = up(engine, "ref", news(), None, ASO)
    assert state is not None
    fresh = refresh(engine, state)
    assert fresh == state  # nothing changed (inputs come back from ReadResult.inputs)

    data = json.loads(store.read_text())  # change the world behind the engine's back
    data["things"][state.id]["inputs"]["value"] = "drifted"
    store.write_text(json.dumps(data))
    drifted = refresh(engine, state)
    assert drifted is not None
    assert drifted.outputs["value"] == "drifted" and drifted.inputs["value"] == "drifted"
    assert drifted.outputs["secret"] == Secret("s1")  # carried from the old state's secretness
    assert drifted.inputs["secret"] == Secret("s1")
    assert isinstance(drifted.outputs["token"], Secret)  # stored additional_secret_outputs

    engine.calls.clear()
    assert up(engine, "ref", news(), drifted, ASO)[0] == "update"  # program wins again

    data = json.loads(store.read_text())
    del data["things"][state.id]
    store.write_text(json.dumps(data))
    assert refresh(engine, state) is None  # blank id: the resource is dropped from the state


def test_read_request_fields_and_user_driven_get(engine: Engine) -> None:
    _, state = up(engine, "get", news(), None, ASO)
    assert state is not None
    new_id, outputs, inputs = engine.get_read("got", state.id, {"__provider": BLOB})
    assert new_id == state.id and outputs["value"] == "a" and inputs is not None
    assert outputs["secret"] == "s1"  # no state to carry secretness from
    with pytest.raises(ValueError, match="Read ID was empty"):
        engine.read(ResourceState(state.urn, "", state.inputs, state.outputs))
    destroy(engine, state)


def test_import_read_fails_without_provider_blob(engine: Engine) -> None:
    """pulumi#16175: import sends Read without state, so the server cannot find __provider."""
    with pytest.raises(grpc.RpcError) as caught:
        engine.import_read("imported", "thing-1")
    assert caught.value.code() == grpc.StatusCode.UNKNOWN
    assert "KeyError: '__provider'" in caught.value.details()


def test_provider_exceptions_arrive_as_grpc_unknown_with_traceback(engine: Engine) -> None:
    ghost = ResourceState(engine.urn("ghost"), "thing-missing", news(), news())
    with pytest.raises(grpc.RpcError) as caught:
        engine.update("ghost", ghost, news(value="b"))
    assert caught.value.code() == grpc.StatusCode.UNKNOWN
    assert "Traceback" in caught.value.details() and "thing-missing" in caught.value.details()


def test_server_start_failure_reports_stderr(tmp_path: Path) -> None:
    shadow = tmp_path / "pulumi"  # cwd is on sys.path: shadow the SDK so startup fails
    shadow.mkdir()
    (shadow / "__init__.py").write_text("")
    with pytest.raises(RuntimeError, match=r"did not start[\s\S]*pulumi\.dynamic"):
        ProviderServer(cwd=tmp_path, start_timeout=10)


def test_server_basics(server: ProviderServer) -> None:
    assert server.pid > 0 and server.returncode is None and server.port > 0
    assert server.cwd == import_root(sample_provider)
    assert import_root(sample_provider) == Path(__file__).resolve().parents[2]
    assert isinstance(server.output(), str)
    assert sys.modules[ThingProvider.__module__] is sample_provider


# --------------------------------------------------------------------------------------------------
# Programs under set_mocks, forwarded to the real server
# --------------------------------------------------------------------------------------------------


def thing_program(seen: dict[str, Any], *, value: str = "a", present: bool = True) -> Any:
    async def program() -> None:
        pulumi.export("greeting", "hello")
        if not present:
            return
        thing = Thing("prog", value=value, secret="p4ss")
        pulumi.export("id", thing.id)
        pulumi.export("token", thing.token)
        pulumi.export("secret", thing.secret)
        pulumi.export("revision", thing.revision)
        seen["token_is_secret"] = await thing.token.is_secret()
        seen["value_is_secret"] = await thing.value.is_secret()

    return program


def test_run_program_create_same_delete(
    server: ProviderServer, config: dict[str, Any], store: Path
) -> None:
    stack = Stack(config=config)
    seen: dict[str, Any] = {}

    first: ProgramResult = run_program(thing_program(seen), stack, server)
    assert first.ops == {"prog": "create"}
    thing_id = first.output("id")
    assert thing_id in things(store)
    assert first.outputs["token"] == (things(store)[thing_id]["token"], True)
    assert first.outputs["secret"] == ("p4ss", True)
    assert first.outputs["greeting"] == ("hello", False)
    assert first.outputs["revision"] == (1, False)
    assert seen == {"token_is_secret": True, "value_is_secret": False}
    request = first.registration("prog")
    assert request.type == TYPE_TOKEN and list(request.additionalSecretOutputs) == ASO
    assert set(request.propertyDependencies) >= {"value", "secret", "__provider"}
    assert stack.resources["prog"].id == thing_id

    second = run_program(thing_program(seen), stack, server)
    assert second.ops == {"prog": "same"} and second.outputs == first.outputs

    third = run_program(thing_program(seen, present=False), stack, server)
    assert third.ops == {"prog": "delete"}
    assert third.outputs == {"greeting": ("hello", False)}
    assert stack.resources == {} and thing_id not in things(store)


def test_run_program_preview_calls_no_create_or_update(
    server: ProviderServer, config: dict[str, Any], store: Path
) -> None:
    stack = Stack(config=config)
    before = things(store)
    result = run_program(thing_program({}), stack, server, preview=True)
    assert result.ops == {"prog": "create"} and stack.resources == {}
    assert things(store) == before
    # provider_plugin.go returns the inputs as outputs: output-only properties are unknown
    assert result.outputs["id"] == (UNKNOWN, False)
    assert result.outputs["token"][0] is UNKNOWN and result.outputs["revision"][0] is UNKNOWN
    assert result.outputs["secret"] == ("p4ss", True)

    run_program(thing_program({}), stack, server)
    state = stack.resources["prog"]
    changed = run_program(thing_program({}, value="b"), stack, server, preview=True)
    assert changed.ops == {"prog": "update"} and stack.resources["prog"] == state
    assert changed.outputs["id"] == (state.id, False)
    assert things(store)[state.id]["inputs"]["value"] == "a"
    assert destroy_stack(stack, server) == {"prog": "delete"}
    assert state.id not in things(store)


def test_run_program_preview_passes_unknowns_between_resources(
    server: ProviderServer, config: dict[str, Any]
) -> None:
    def program() -> None:
        first = Thing("first", value="a")
        second = Thing("second", value=first.token)  # unknown until first is created
        pulumi.export("second_value", second.value)

    result = run_program(program, Stack(config=config), server, preview=True)
    assert result.ops == {"first": "create", "second": "create"}
    assert result.outputs["second_value"][0] is UNKNOWN


def test_run_program_reraises_check_failures(
    server: ProviderServer, config: dict[str, Any]
) -> None:
    stack = Stack(config=config)
    with pytest.raises(CheckFailed) as caught:
        run_program(thing_program({}, value=""), stack, server)
    assert caught.value.failures[0][0] == "value"
    assert stack.resources == {}
