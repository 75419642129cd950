"""The bare-minimum dynamic provider P1 compares against.

Same six operations and the same HTTP calls as ``ContainerRegistryCredentialProvider``, written as
plainly as possible: raw ``requests`` on one keep-alive session, no retries, no validation, no
error mapping, no redaction. ``check`` and ``diff`` make no HTTP call. Importable (pickled by
reference as ``benchmarks.baseline_provider.BaselineProvider``), so both providers pay the same
engine-protocol costs and the P1 ratio is the cost of our own code.
"""

from __future__ import annotations

from typing import Any

import requests
from pulumi.dynamic import (
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

PATH = "/container_registry_credentials"
FIELDS = ("name", "registry", "username", "token", "registry_hostname")


class BaselineProvider(ResourceProvider):
    serialize_as_secret_always = False

    def __init__(self) -> None:
        super().__init__()
        self.url = ""
        self.session = requests.Session()

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]

    def configure(self, req: ConfigureRequest) -> None:
        self.url = str(req.config.get("miget:apiUrl")) + PATH
        self.session.headers["Authorization"] = f"Bearer {req.config.get('miget:apiKey')}"

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        return CheckResult({k: news[k] for k in FIELDS if k in news}, [])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=any(olds.get(k) != news.get(k) for k in FIELDS))

    def create(self, props: dict[str, Any]) -> CreateResult:
        body = {k: props[k] for k in FIELDS if k in props}
        item = self.session.post(self.url, json=body, timeout=30).json()
        return CreateResult(item["uuid"], {**body, **item})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        item = self.session.get(f"{self.url}/{id_}", timeout=30).json()
        return ReadResult(id_, {**props, **item})

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        body = {k: news.get(k) for k in FIELDS if news.get(k) != olds.get(k)}
        item = self.session.put(f"{self.url}/{id_}", json=body, timeout=30).json()
        return UpdateResult({**olds, **body, **item})

    def delete(self, id_: str, _props: dict[str, Any]) -> None:
        self.session.delete(f"{self.url}/{id_}", timeout=30)
