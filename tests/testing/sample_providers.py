"""A small, controllable dynamic provider for the engine-rule tests of ``tests/testing``.

Importable and side-effect free, so dill pickles :class:`KitProvider` *by reference*: the
provider server must import this module under the same name (start it with
``cwd=import_root(sample_providers)``, as tests/contract/test_harness.py does with
tests/support/sample_provider.py).

The provider's world is a directory, the stack config key ``kit:dir`` (read in ``configure``,
once per server process):

- ``things/<id>.json``: each thing's inputs and revision;
- ``events.log``: one line per provider call, ``begin <op> <key>`` and ``end <op> <key>``, in the
  order they happened in the provider process (``<op> <key> failed`` when the call raised);
- switches, created by a test: ``fail.<op>.<key>`` makes that call raise;
  ``orphan.create.<key>`` makes a create store its thing and *then* raise (the API made it, the
  engine never hears of it); ``unknown.diff.<key>`` makes diff answer ``DIFF_UNKNOWN`` (the
  SDK's default); ``block.<op>.<key>`` makes the call wait for the file ``release`` or
  ``release.<op>.<key>`` (at most :data:`BLOCK_TIMEOUT` seconds, then it raises: no test can
  hang).

Inputs: ``key`` (names the thing in the log and the switches), ``value`` (required, non-empty:
a Check failure otherwise), ``group`` (a change replaces the thing), ``dbr`` (the provider's
delete-before-replace answer on a replace), ``secret`` (a secret input echoed to the outputs).
Outputs: the inputs plus ``revision`` (1 on create, +1 per update) and ``checked_with_olds``
(whether the Check that produced the inputs had old inputs: tells the two Checks of a replace
apart).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown

DIR_KEY = "kit:dir"
FIELDS = ("key", "value", "group", "dbr", "secret", "checked_with_olds")
BLOCK_TIMEOUT = 20.0
THING_TYPE = "pulumi-python:dynamic/kit:Thing"
OTHER_TYPE = "pulumi-python:dynamic/kit:Other"

_LOCK = threading.Lock()  # the server runs up to 4 calls at once on one provider instance


class KitProvider(ResourceProvider):
    """Things in a directory, every call logged, failures and blocking switched by files."""

    _dir: Path | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._dir = None

    def configure(self, req: ConfigureRequest) -> None:
        path = req.config.get(DIR_KEY)
        self._dir = Path(path) if path else None

    # -- the world ---------------------------------------------------------------------------

    def _root(self) -> Path:
        if self._dir is None:
            raise ValueError(f"missing required configuration key: {DIR_KEY}")
        return self._dir

    def _log(self, line: str) -> None:
        with _LOCK, (self._root() / "events.log").open("a") as log:
            log.write(line + "\n")

    def _call(self, op: str, props: dict[str, Any]) -> str:
        """Log the call's start, then apply the switches for it."""
        key = str(props.get("key"))
        root = self._root()
        self._log(f"begin {op} {key}")
        if (root / f"block.{op}.{key}").exists():
            deadline = time.monotonic() + BLOCK_TIMEOUT
            while not ((root / "release").exists() or (root / f"release.{op}.{key}").exists()):
                if time.monotonic() > deadline:
                    self._log(f"{op} {key} failed")
                    raise TimeoutError(f"{op} {key}: never released")
                time.sleep(0.01)
        if (root / f"fail.{op}.{key}").exists():
            self._log(f"{op} {key} failed")
            raise RuntimeError(f"{op} {key} failed on purpose")
        return key

    def _store(self, thing_id: str, record: dict[str, Any]) -> None:
        things = self._root() / "things"
        things.mkdir(exist_ok=True)
        (things / f"{thing_id}.json").write_text(json.dumps(record))

    def _load(self, thing_id: str) -> dict[str, Any] | None:
        file = self._root() / "things" / f"{thing_id}.json"
        if not file.exists():
            return None
        data: dict[str, Any] = json.loads(file.read_text())
        return data

    @staticmethod
    def _inputs(props: dict[str, Any]) -> dict[str, Any]:
        return {k: props[k] for k in FIELDS if props.get(k) is not None}

    @staticmethod
    def _outs(record: dict[str, Any]) -> dict[str, Any]:
        return {**record["inputs"], "revision": record["revision"]}

    # -- ResourceProvider --------------------------------------------------------------------

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        key = self._call("check", news)
        failures = []
        value = news.get("value")
        if not isinstance(value, Unknown) and (not isinstance(value, str) or not value):
            failures.append(CheckFailure("value", "value must be a non-empty string"))
        self._log(f"end check {key}")
        return CheckResult({**news, "checked_with_olds": bool(olds)}, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        key = self._call("diff", news)
        compared = ("value", "group", "dbr", "secret")
        changed = [
            k for k in compared if isinstance(news.get(k), Unknown) or olds.get(k) != news.get(k)
        ]
        replaces = [k for k in changed if k == "group"]
        self._log(f"end diff {key}")
        if (self._root() / f"unknown.diff.{key}").exists():
            return DiffResult()  # the SDK's default: DIFF_UNKNOWN, the engine compares inputs
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            delete_before_replace=bool(news.get("dbr")) if replaces else None,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        key = self._call("create", props)
        thing_id = f"{key}-{uuid.uuid4().hex[:8]}"
        record = {"inputs": self._inputs(props), "revision": 1}
        self._store(thing_id, record)
        if (self._root() / f"orphan.create.{key}").exists():
            self._log(f"create {key} failed")
            raise RuntimeError(f"create {key} failed after making {thing_id}")
        self._log(f"end create {key}")
        return CreateResult(thing_id, self._outs(record))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        key = self._call("read", props)
        record = self._load(id_)
        self._log(f"end read {key}")
        if record is None:
            return ReadResult("", {})
        return ReadResult(id_, self._outs(record), dict(record["inputs"]))

    def update(self, id_: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        key = self._call("update", news)
        record = self._load(id_)
        if record is None:
            raise RuntimeError(f"update {key}: {id_} does not exist")
        record = {"inputs": self._inputs(news), "revision": record["revision"] + 1}
        self._store(id_, record)
        self._log(f"end update {key}")
        return UpdateResult(self._outs(record))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        key = self._call("delete", props)
        (self._root() / "things" / f"{id_}.json").unlink(missing_ok=True)
        self._log(f"end delete {key}")


def _props(key: str, value: Any, group: Any, dbr: Any, secret: Any) -> dict[str, Any]:
    return {
        "key": key,
        "value": value,
        "group": group,
        "dbr": dbr,
        "secret": pulumi.Output.secret(secret) if secret is not None else None,
        "revision": None,
        "checked_with_olds": None,
    }


class Thing(Resource, module="kit", name="Thing"):
    """The program-side resource of :class:`KitProvider`; ``key`` defaults to the name."""

    key: pulumi.Output[str]
    value: pulumi.Output[str]
    group: pulumi.Output[str | None]
    secret: pulumi.Output[str | None]
    revision: pulumi.Output[float]
    checked_with_olds: pulumi.Output[bool]

    def __init__(
        self,
        resource_name: str,
        value: pulumi.Input[str] = "v",
        group: pulumi.Input[str] | None = None,
        dbr: bool | None = None,
        secret: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = _props(resource_name, value, group, dbr, secret)
        super().__init__(KitProvider(), resource_name, props, opts)


class Other(Resource, module="kit", name="Other"):
    """Same provider, another type token: a test can tell its registrations apart."""

    key: pulumi.Output[str]
    value: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        value: pulumi.Input[str] = "v",
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props = _props(resource_name, value, None, None, None)
        super().__init__(KitProvider(), resource_name, props, opts)


# --------------------------------------------------------------------------------------------------
# The test side: the world directory and bounded waits
# --------------------------------------------------------------------------------------------------


def wait_for(condition: Any, timeout: float = BLOCK_TIMEOUT, interval: float = 0.01) -> bool:
    """Poll ``condition()`` until it is true (→ True) or ``timeout`` seconds passed (→ False)."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


async def until(condition: Any, timeout: float = BLOCK_TIMEOUT) -> None:
    """In a program: yield to the event loop (so registrations go on) until ``condition()``;
    raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.01)


class World:
    """The provider's directory, as a test sees it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def reset(self) -> None:
        """Empty it: no things, no events, no switches."""
        for path in sorted(self.root.rglob("*"), reverse=True):
            if path.is_dir():
                path.rmdir()
            else:
                path.unlink()

    def clear_events(self) -> None:
        (self.root / "events.log").unlink(missing_ok=True)

    def events(self) -> list[str]:
        log = self.root / "events.log"
        return log.read_text().splitlines() if log.exists() else []

    def things(self) -> dict[str, dict[str, Any]]:
        folder = self.root / "things"
        if not folder.exists():
            return {}
        return {p.stem: json.loads(p.read_text()) for p in folder.glob("*.json")}

    def switch(self, kind: str, op: str, key: str, on: bool = True) -> None:
        """Turn a ``fail``/``orphan``/``block`` switch for ``op`` on ``key`` on (or off)."""
        path = self.root / f"{kind}.{op}.{key}"
        if on:
            path.touch()
        else:
            path.unlink(missing_ok=True)

    def release(self, op: str | None = None, key: str | None = None) -> None:
        """Let the blocked ``op`` on ``key`` go on (no arguments: every blocked call)."""
        (self.root / ("release" if op is None else f"release.{op}.{key}")).touch()
