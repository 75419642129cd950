"""Helpers of the deployment tests: real HTTP calls (through ``Api``) and bounded polling.

Deployments progress on the emulator's clock, computed on each read, so a test waits by polling
with a deadline (``wait_for``) and never asserts how long something took.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from pulumi_miget.emulator import EmulatorServer
from tests.emulator.helpers import TIMEOUT, Api
from tests.samples import PROJECT_ID, RESOURCE_ID

APPS = "/api/v1/apps"
ACTIVE = {"pending", "running", "cancelling"}
SETTLED = {"completed", "failed", "cancelled"}
POLL_SECONDS = 0.01
DEADLINE_SECONDS = 15.0
LONG = 600.0  # a deployment that outlives any test
DEPLOYMENT_KEYS = {
    "id",
    "app_id",
    "state",
    "status",
    "deployment_method",
    "image_url",
    "tag",
    "credential_id",
    "command",
    "args",
    "rollback_of",
    "commit_sha",
    "commit_message",
    "branch",
    "logs_stored_at",
    "created_at",
    "updated_at",
}


def app_body(**config: Any) -> dict[str, Any]:
    """A valid create body for a container-registry app; ``config`` overrides its
    deployment_config fields."""
    return {
        "name": "acme-api",
        "label": "Acme API",
        "project_id": PROJECT_ID,
        "resource_id": RESOURCE_ID,
        "builder": "auto",
        "deployment_method": "container_registry",
        "deployment_config": {"image_url": "ghcr.io/acme/api", "tag": "1.2.3", **config},
    }


def create_app(api: Api, name: str = "acme-api", **config: Any) -> dict[str, Any]:
    response = api.request("POST", APPS, json={**app_body(**config), "name": name})
    assert response.status_code == 201, response.text
    entity: dict[str, Any] = response.json()
    return entity


def show_app(api: Api, app_id: str) -> dict[str, Any]:
    response = api.request("GET", f"{APPS}/{app_id}")
    assert response.status_code == 200, response.text
    entity: dict[str, Any] = response.json()
    return entity


def change_config(api: Api, app_id: str, **attributes: Any) -> requests.Response:
    body = {"deployment_method": "container_registry", "deployment_config_attributes": attributes}
    return api.request("PUT", f"{APPS}/{app_id}/deployment", json=body)


def deploy(api: Api, app_id: str, body: Any = None) -> requests.Response:
    """``POST /apps/{uuid}/deploy``, with no body at all unless one is given."""
    if body is None:
        return api.request("POST", f"{APPS}/{app_id}/deploy")
    return api.request("POST", f"{APPS}/{app_id}/deploy", json=body)


def start(api: Api, app_id: str, body: Any = None) -> dict[str, Any]:
    """Deploy and return the new deployment (asserting the 201)."""
    response = deploy(api, app_id, body)
    assert response.status_code == 201, response.text
    entity: dict[str, Any] = response.json()
    return entity


def path(app_id: str, deployment_id: str, action: str = "") -> str:
    suffix = f"/{action}" if action else ""
    return f"{APPS}/{app_id}/deployments/{deployment_id}{suffix}"


def show(api: Api, app_id: str, deployment_id: str) -> dict[str, Any]:
    response = api.request("GET", path(app_id, deployment_id))
    assert response.status_code == 200, response.text
    entity: dict[str, Any] = response.json()
    return entity


def listing(api: Api, app_id: str, **params: str) -> requests.Response:
    return api.request("GET", f"{APPS}/{app_id}/deployments", params=params)


def logs(api: Api, app_id: str, deployment_id: str) -> requests.Response:
    return api.request("GET", path(app_id, deployment_id, "logs"))


def cancel(api: Api, app_id: str, deployment_id: str) -> requests.Response:
    return api.request("POST", path(app_id, deployment_id, "cancel"))


def rollback(api: Api, app_id: str, deployment_id: str) -> requests.Response:
    return api.request("POST", path(app_id, deployment_id, "rollback"))


def wait_for(
    api: Api, app_id: str, deployment_id: str, done: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """Poll the deployment until ``done(entity)``; fail after DEADLINE_SECONDS."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        entity = show(api, app_id, deployment_id)
        if done(entity):
            return entity
        assert time.monotonic() < deadline, f"deployment never got there: {entity}"
        time.sleep(POLL_SECONDS)


def settle(api: Api, app_id: str, deployment_id: str) -> dict[str, Any]:
    """Poll until the deployment is completed, failed or cancelled."""
    return wait_for(api, app_id, deployment_id, lambda d: d["state"] in SETTLED)


def wait_until_running(api: Api, app_id: str, deployment_id: str) -> dict[str, Any]:
    """Poll a (long) deployment past ``pending``; it must then be ``running``."""
    entity = wait_for(api, app_id, deployment_id, lambda d: d["state"] != "pending")
    assert entity["state"] == "running", entity
    return entity


def control(
    emulator: EmulatorServer, method: str, route: str, body: Any = None
) -> requests.Response:
    """A control-API call (no key), as a test harness sends it."""
    return requests.request(method, f"{emulator.url}/_emulator{route}", json=body, timeout=TIMEOUT)
