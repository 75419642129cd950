"""A tiny dynamic provider used only to test the engine harness itself.

Importable and side-effect free, so dill pickles :class:`ThingProvider` *by reference*; the
provider server must be able to import this module under the same name (start it with
``cwd=import_root(sample_provider)``).

"Things" live in a JSON file whose path comes from the stack config key ``sample:path`` (read in
``configure``), so tests can inspect and tamper with the provider's world from outside:
``{"next": n, "things": {id: {"inputs": {...}, "token": "...", "revision": n}}}``.

Inputs: ``value`` (required, non-empty), ``group`` (changing it forces a replacement),
``secret`` (a secret input echoed to the outputs), ``dbr`` (replace delete-before-create).
Outputs: the inputs plus ``token`` (server-generated, secret only through
``additional_secret_outputs``) and ``revision`` (1 on create, +1 per update).
"""

from __future__ import annotations

import json
import secrets
import threading
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

TYPE_TOKEN = "pulumi-python:dynamic/sample:Thing"
PATH_KEY = "sample:path"
FIELDS = ("value", "group", "secret", "dbr")
ADDITIONAL_SECRET_OUTPUTS = ["token"]

_LOCK = threading.Lock()  # the server runs up to 4 calls at once on one provider instance


class ThingProvider(ResourceProvider):
    """Stores things in a JSON file; implements every ResourceProvider method."""

    _path: Path | None = None

    def __init__(self, label: str = "v1") -> None:
        super().__init__()
        self.label = label  # only to make distinct blobs (e.g. "a new provider version")

    def __getstate__(self) -> dict[str, Any]:
        return {"label": self.label}  # nothing secret, nothing environment-specific

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.label = state.get("label", "v1")
        self._path = None

    def configure(self, req: ConfigureRequest) -> None:
        path = req.config.get(PATH_KEY)
        self._path = Path(path) if path else None

    # -- storage -----------------------------------------------------------------------------

    def _file(self) -> Path:
        if self._path is None:
            raise ValueError(f"missing required configuration key: {PATH_KEY}")
        return self._path

    def _load(self) -> dict[str, Any]:
        file = self._file()
        if not file.exists():
            return {"next": 1, "things": {}}
        data: dict[str, Any] = json.loads(file.read_text())
        return data

    def _save(self, data: dict[str, Any]) -> None:
        self._file().write_text(json.dumps(data, indent=2, sort_keys=True))

    @staticmethod
    def _inputs(props: dict[str, Any]) -> dict[str, Any]:
        return {k: props[k] for k in FIELDS if props.get(k) is not None}

    @staticmethod
    def _outs(record: dict[str, Any]) -> dict[str, Any]:
        return {**record["inputs"], "token": record["token"], "revision": record["revision"]}

    # -- ResourceProvider --------------------------------------------------------------------

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        failures = []
        value = news.get("value")
        if not isinstance(value, Unknown) and (not isinstance(value, str) or not value):
            failures.append(CheckFailure("value", "value must be a non-empty string"))
        return CheckResult(news, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [
            k for k in FIELDS if isinstance(news.get(k), Unknown) or olds.get(k) != news.get(k)
        ]
        replaces = [k for k in changed if k == "group"]
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            delete_before_replace=bool(news.get("dbr")) if replaces else None,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        with _LOCK:
            data = self._load()
            thing_id = f"thing-{data['next']}"
            data["next"] += 1
            record = {"inputs": self._inputs(props), "token": secrets.token_hex(8), "revision": 1}
            data["things"][thing_id] = record
            self._save(data)
        return CreateResult(thing_id, self._outs(record))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with _LOCK:
            record = self._load()["things"].get(id_)
        if record is None:
            return ReadResult("", {})
        return ReadResult(id_, self._outs(record), dict(record["inputs"]))

    def update(self, id_: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        with _LOCK:
            data = self._load()
            record = data["things"][id_]
            record["inputs"] = self._inputs(news)
            record["revision"] += 1
            self._save(data)
        return UpdateResult(self._outs(record))

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        with _LOCK:
            data = self._load()
            if data["things"].pop(id_, None) is not None:
                self._save(data)


class DefaultDiffThingProvider(ThingProvider):
    """Like ThingProvider but with the SDK's default ``diff`` (``DiffResult()`` → DIFF_UNKNOWN),
    so the engine falls back to comparing inputs, ``__provider`` included."""

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return DiffResult()


class Thing(Resource, module="sample", name="Thing"):
    """The program-side resource for :class:`ThingProvider`."""

    value: pulumi.Output[str]
    group: pulumi.Output[str | None]
    secret: pulumi.Output[str | None]
    token: pulumi.Output[str]
    revision: pulumi.Output[float]

    def __init__(
        self,
        resource_name: str,
        value: pulumi.Input[str],
        group: pulumi.Input[str] | None = None,
        secret: pulumi.Input[str] | None = None,
        dbr: bool | None = None,
        opts: pulumi.ResourceOptions | None = None,
        provider: ThingProvider | None = None,
    ) -> None:
        props: dict[str, Any] = {
            "value": value,
            "group": group,
            "secret": pulumi.Output.secret(secret) if secret is not None else None,
            "dbr": dbr,
            "token": None,
            "revision": None,
        }
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=ADDITIONAL_SECRET_OUTPUTS)
        )
        super().__init__(provider or ThingProvider(), resource_name, props, opts)
