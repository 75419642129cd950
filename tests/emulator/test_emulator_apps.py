"""The emulator's App endpoints: create/show/list/update/deployment/vars/delete, their validation,
workspace scoping, the in-use rule for credentials, and what the request log keeps.

Every test talks HTTP to the session emulator (reset before each test).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.emulator.records import sha256_hex
from tests.emulator.helpers import Api
from tests.samples import (
    CREDENTIALS_PATH,
    DEFAULT_WORKSPACE_ID,
    OTHER_WORKSPACE_ID,
    PROJECT_ID,
    RESOURCE_ID,
)

APPS = "/api/v1/apps"
SECRET_VALUE = "postgres://app:s3cr3t-value@db.internal/app"
ENTITY_KEYS = {
    "uuid",
    "name",
    "label",
    "service_name",
    "project_id",
    "resource_id",
    "builder",
    "deployment_method",
    "deployment_config",
    "quota",
    "state",
    "region",
    "miget",
    "private_access",
    "public_url",
    "internal_url",
    "created_at",
    "updated_at",
}


def app_body(credential_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid create body for a container-registry app (top-level keys overridable; use
    ``config=`` to replace deployment_config)."""
    config = overrides.pop("config", None)
    if config is None:
        config = {"image_url": "ghcr.io/acme/api", "tag": "1.2.3"}
        if credential_id is not None:
            config["credential_id"] = credential_id
    body: dict[str, Any] = {
        "name": "acme-api",
        "label": "Acme API",
        "project_id": PROJECT_ID,
        "resource_id": RESOURCE_ID,
        "builder": "auto",
        "ram_size": 256,
        "cpu_size": 0.5,
        "deployment_method": "container_registry",
        "deployment_config": config,
    }
    body.update(overrides)
    return body


def post_app(api: Api, body: Any) -> requests.Response:
    return api.request("POST", APPS, json=body)


def create_app(api: Api, credential_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    response = post_app(api, app_body(credential_id, **overrides))
    assert response.status_code == 201, response.text
    entity: dict[str, Any] = response.json()
    return entity


def deployment(
    api: Api, app_id: str, attributes: Any, method: str | None = "container_registry"
) -> requests.Response:
    body: dict[str, Any] = {"deployment_config_attributes": attributes}
    if method is not None:
        body["deployment_method"] = method
    return api.request("PUT", f"{APPS}/{app_id}/deployment", json=body)


@pytest.fixture
def credential(api: Api) -> dict[str, Any]:
    return api.create()


# ---- create -------------------------------------------------------------------------------------


def test_create_answers_201_with_the_suffixed_name_urls_and_the_credential(
    api: Api, credential: dict[str, Any]
) -> None:
    response = post_app(api, app_body(credential["uuid"]))
    assert response.status_code == 201
    app = response.json()
    assert set(app) == ENTITY_KEYS
    assert re.fullmatch(r"acme-api-[a-z0-9]{6}", app["name"])
    assert app["service_name"] == "acme-api"
    assert (app["label"], app["builder"]) == ("Acme API", "auto")
    assert (app["project_id"], app["resource_id"]) == (PROJECT_ID, RESOURCE_ID)
    assert app["public_url"] == f"https://{app['name']}.eu-east-1.migetapp.com"
    assert app["internal_url"] == "acme-api.miget7d8.eu-east-1.migetapp.internal:5000"
    assert app["region"] == {"id": 1, "name": "EU East 1", "code": "eu-east-1"}
    assert app["miget"] == {"uuid": RESOURCE_ID, "name": "miget7d8"}
    assert app["state"] == "created" and app["private_access"] is False
    assert app["deployment_method"] == "container_registry"
    assert app["deployment_config"] == {
        "image_url": "ghcr.io/acme/api",
        "tag": "1.2.3",
        "credential_id": credential["uuid"],
        "command": None,
        "args": None,
    }
    assert app["quota"] == {"ram_size": 256 * 1024 * 1024, "cpu_size": 0.5}  # RAM in bytes
    assert app["created_at"] == app["updated_at"]
    assert api.request("GET", f"{APPS}/{app['uuid']}").json() == app


def test_create_of_a_public_image_needs_no_credential_and_fills_defaults(api: Api) -> None:
    body = app_body(config={"image_url": "docker.io/library/nginx"})
    del body["ram_size"], body["cpu_size"]
    app = post_app(api, body).json()
    assert app["deployment_config"]["credential_id"] is None
    assert app["deployment_config"]["tag"] == "latest"
    assert app["quota"] == {"ram_size": 128 * 1024 * 1024, "cpu_size": 0.25}


def test_create_keeps_command_and_args(api: Api) -> None:
    config = {"image_url": "quay.io/keycloak/keycloak", "command": ["kc.sh"], "args": ["start"]}
    app = create_app(api, config=config)
    assert app["deployment_config"]["command"] == ["kc.sh"]
    assert app["deployment_config"]["args"] == ["start"]


def test_suffixes_are_random_and_a_33_character_seed_fits_40(api: Api) -> None:
    seed = "a" * 33
    long_app = create_app(api, name=seed)
    assert len(long_app["name"]) == 40 and long_app["service_name"] == seed
    other = create_app(api, name="b" * 33)
    assert long_app["name"][-6:] != other["name"][-6:]


def test_create_stores_variable_values_only_as_hashes(
    api: Api, emulator: EmulatorServer, credential: dict[str, Any]
) -> None:
    variables = [{"key": "DATABASE_URL", "value": SECRET_VALUE}, {"key": "LOG_LEVEL", "value": "x"}]
    app = create_app(api, credential["uuid"], app_vars_attributes=variables)
    record = emulator.emulator.store.apps.get(DEFAULT_WORKSPACE_ID, app["uuid"])
    assert record is not None
    assert record.vars_sha256 == {
        "DATABASE_URL": sha256_hex(SECRET_VALUE),
        "LOG_LEVEL": sha256_hex("x"),
    }
    everything = json.dumps([app, api.request("GET", APPS).json(), emulator.requests_log()])
    assert SECRET_VALUE not in everything and "DATABASE_URL" not in json.dumps(app)


# ---- create: validation -------------------------------------------------------------------------


def test_missing_and_ill_typed_parameters_are_one_grape_style_400(api: Api) -> None:
    response = post_app(
        api,
        {"name": "", "ram_size": "lots", "deployment_method": "docker_registry", "x": 1},
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "label is missing, project_id is missing, resource_id is missing, "
        "builder is missing, deployment_method does not have a valid value, name is empty, "
        "ram_size is invalid"
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"builder": "buildpacks"}, "builder is invalid", id="builder-enum"),
        pytest.param({"project_id": "proj-1"}, "project_id is invalid", id="project-not-uuid"),
        pytest.param({"cpu_size": True}, "cpu_size is invalid", id="cpu-bool"),
        pytest.param(
            {"config": {"image_url": "ghcr.io/a/b", "command": "kc.sh start"}},
            "deployment_config[command] is invalid",
            id="command-not-list",
        ),
        pytest.param(
            {"config": {"image_url": "ghcr.io/a/b", "tag": 3}},
            "deployment_config[tag] is invalid",
            id="tag-not-string",
        ),
        pytest.param(
            {"app_vars_attributes": [{"key": "A", "value": 1}]},
            "app_vars_attributes is invalid",
            id="var-value-not-string",
        ),
        pytest.param(
            {"app_vars_attributes": {"A": "b"}}, "app_vars_attributes is invalid", id="vars-map"
        ),
        pytest.param(
            {"deployment_config": "ghcr.io/a/b"}, "deployment_config is invalid", id="cfg"
        ),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(
    api: Api, changes: dict[str, Any], message: str
) -> None:
    response = post_app(api, app_body(**changes))
    assert response.status_code == 400
    assert response.json() == {"error": message}


@pytest.mark.parametrize(
    "image_url",
    ["nginx", "https://ghcr.io/acme/api", "ghcr.io/acme/api:1.0", "ghcr.io/acme/api@sha256:ab"],
)
def test_a_bad_image_reference_is_a_422(api: Api, image_url: str) -> None:
    response = post_app(api, app_body(config={"image_url": image_url}))
    assert response.status_code == 422
    message = response.json()["errors"]
    assert message.startswith("Image url must not include a scheme or a tag")


def test_a_missing_image_url_is_a_422(api: Api) -> None:
    response = post_app(api, app_body(config={"tag": "1"}))
    assert (response.status_code, response.json()) == (422, {"errors": "Image url can't be blank"})


def test_model_errors_are_joined_under_the_errors_key(api: Api) -> None:
    response = post_app(api, app_body(name="Acme_API", label="L" * 41))
    assert response.status_code == 422
    assert response.json() == {
        "errors": "Name is invalid, Label is too long (maximum is 40 characters)"
    }


def test_a_seed_over_33_characters_is_too_long_for_the_suffix(api: Api) -> None:
    response = post_app(api, app_body(name="a" * 34))
    assert response.json() == {"errors": "Name is too long (maximum is 40 characters)"}


def test_a_duplicate_service_name_is_a_422_in_the_same_workspace_only(api: Api) -> None:
    create_app(api)
    again = post_app(api, app_body(project_id=RESOURCE_ID))  # another project: still taken
    assert (again.status_code, again.json()) == (
        422,
        {"errors": "Service name has already been taken"},
    )
    elsewhere = api.in_workspace(OTHER_WORKSPACE_ID)
    assert post_app(elsewhere, app_body()).status_code == 201


def test_a_credential_that_does_not_exist_in_the_workspace_is_a_422(api: Api) -> None:
    foreign = api.in_workspace(OTHER_WORKSPACE_ID).create()
    for credential_id in (foreign["uuid"], PROJECT_ID, "not-a-uuid"):
        response = post_app(api, app_body(credential_id))
        assert response.status_code == 422
        assert response.json() == {
            "errors": "Container registry credential not found in this workspace"
        }
    assert api.request("GET", APPS).json() == []


def test_other_deployment_methods_are_not_implemented(api: Api) -> None:
    for body in (app_body(deployment_method="git_push"), {**app_body(), "deployment_method": None}):
        response = post_app(api, body)
        assert response.status_code == 422
        assert "only the container_registry deployment method" in response.json()["error"]


def test_create_requires_a_json_body(api: Api) -> None:
    response = api.request("POST", APPS, data="name=x")
    assert response.status_code == 415


# ---- show / list --------------------------------------------------------------------------------


def test_show_of_an_unknown_app_is_404_and_a_malformed_uuid_400(api: Api) -> None:
    assert api.request("GET", f"{APPS}/{PROJECT_ID}").json() == {"error": "App not found"}
    assert api.request("GET", f"{APPS}/{PROJECT_ID}").status_code == 404
    assert api.request("GET", f"{APPS}/nope").status_code == 400


def test_apps_are_scoped_to_their_workspace(api: Api) -> None:
    other = api.in_workspace(OTHER_WORKSPACE_ID)
    mine = create_app(api, name="mine")
    theirs = create_app(other, name="theirs")
    assert [a["uuid"] for a in api.request("GET", APPS).json()] == [mine["uuid"]]
    assert [a["uuid"] for a in other.request("GET", APPS).json()] == [theirs["uuid"]]
    for method, suffix in (("GET", ""), ("PUT", ""), ("DELETE", ""), ("PUT", "/deployment")):
        response = api.request(method, f"{APPS}/{theirs['uuid']}{suffix}", json={})
        assert response.status_code in (400, 404), (method, suffix)
        if response.status_code == 404:
            assert response.json() == {"error": "App not found"}


def test_list_is_ordered_by_creation(api: Api) -> None:
    names = ["first", "second", "third"]
    for name in names:
        create_app(api, name=name)
    assert [a["service_name"] for a in api.request("GET", APPS).json()] == names


# ---- PUT /apps/{uuid} ---------------------------------------------------------------------------


def test_update_changes_only_the_fields_sent_and_moves_updated_at(api: Api) -> None:
    app = create_app(api)
    response = api.request("PUT", f"{APPS}/{app['uuid']}", json={"label": "New", "ram_size": 512})
    assert response.status_code == 200
    updated = response.json()
    assert updated["label"] == "New"
    assert updated["quota"] == {"ram_size": 512 * 1024 * 1024, "cpu_size": 0.5}
    assert updated["deployment_config"] == app["deployment_config"]
    assert updated["updated_at"] > app["updated_at"]
    assert updated["created_at"] == app["created_at"]


def test_update_ignores_fields_that_cannot_change(api: Api) -> None:
    app = create_app(api)
    body = {"name": "renamed", "project_id": RESOURCE_ID, "cpu_size": 1}
    updated = api.request("PUT", f"{APPS}/{app['uuid']}", json=body).json()
    assert (updated["name"], updated["service_name"]) == (app["name"], "acme-api")
    assert updated["project_id"] == PROJECT_ID and updated["quota"]["cpu_size"] == 1


def test_update_validates_what_it_is_sent(api: Api) -> None:
    app = create_app(api)
    path = f"{APPS}/{app['uuid']}"
    too_long = api.request("PUT", path, json={"label": "L" * 41})
    assert (too_long.status_code, too_long.json()) == (
        422,
        {"errors": "Label is too long (maximum is 40 characters)"},
    )
    empty = api.request("PUT", path, json={"label": "", "ram_size": "big"})
    assert (empty.status_code, empty.json()) == (
        400,
        {"error": "label is empty, ram_size is invalid"},
    )
    assert api.request("PUT", f"{APPS}/{PROJECT_ID}", json={"label": "x"}).status_code == 404


# ---- PUT /apps/{uuid}/deployment ----------------------------------------------------------------


def test_deployment_is_a_patch_omitted_fields_stay(api: Api, credential: dict[str, Any]) -> None:
    app = create_app(api, credential["uuid"])
    response = deployment(api, app["uuid"], {"tag": "1.2.4"})
    assert response.status_code == 200
    assert response.json()["deployment_config"] == {
        **app["deployment_config"],
        "tag": "1.2.4",
    }


@pytest.mark.parametrize("key", ["container_registry_credential_id", "credential_id"])
def test_deployment_swaps_the_credential_under_either_key(api: Api, key: str) -> None:
    first, second = api.create(name="first"), api.create(name="second")
    app = create_app(api, first["uuid"])
    updated = deployment(api, app["uuid"], {key: second["uuid"]}).json()
    assert updated["deployment_config"]["credential_id"] == second["uuid"]
    assert updated["deployment_config"]["image_url"] == "ghcr.io/acme/api"


def test_the_documented_key_wins_when_both_are_sent(api: Api) -> None:
    first, second = api.create(name="first"), api.create(name="second")
    app = create_app(api)
    body = {"credential_id": first["uuid"], "container_registry_credential_id": second["uuid"]}
    assert (
        deployment(api, app["uuid"], body).json()["deployment_config"]["credential_id"]
        == (second["uuid"])
    )


def test_an_empty_string_clears_a_field(api: Api, credential: dict[str, Any]) -> None:
    config = {
        "image_url": "ghcr.io/acme/api",
        "tag": "1.2.3",
        "credential_id": credential["uuid"],
        "command": ["run"],
    }
    app = create_app(api, config=config)
    body = {"container_registry_credential_id": "", "command": "", "tag": ""}
    updated = deployment(api, app["uuid"], body).json()
    assert updated["deployment_config"] == {
        "image_url": "ghcr.io/acme/api",
        "tag": "latest",  # a cleared tag falls back to the default
        "credential_id": None,
        "command": None,
        "args": None,
    }


@pytest.mark.parametrize(
    ("attributes", "status", "body"),
    [
        pytest.param({"image_url": ""}, 422, {"errors": "Image url can't be blank"}, id="blank"),
        pytest.param(
            {"image_url": "nginx"},
            422,
            {
                "errors": "Image url must not include a scheme or a tag and must contain at "
                "least one '/' (e.g. ghcr.io/org/app)"
            },
            id="bad-image",
        ),
        pytest.param(
            {"container_registry_credential_id": PROJECT_ID},
            422,
            {"errors": "Container registry credential not found in this workspace"},
            id="unknown-credential",
        ),
        pytest.param(
            {"args": "start"},
            400,
            {"error": "deployment_config_attributes[args] is invalid"},
            id="args-not-list",
        ),
        pytest.param(
            "tag=2", 400, {"error": "deployment_config_attributes is invalid"}, id="not-object"
        ),
    ],
)
def test_deployment_validates_the_merged_config(
    api: Api, attributes: Any, status: int, body: dict[str, str]
) -> None:
    app = create_app(api)
    response = deployment(api, app["uuid"], attributes)
    assert (response.status_code, response.json()) == (status, body)
    assert api.request("GET", f"{APPS}/{app['uuid']}").json() == app  # nothing changed


def test_deployment_needs_the_method(api: Api) -> None:
    app = create_app(api)
    missing = deployment(api, app["uuid"], {"tag": "2"}, method=None)
    assert (missing.status_code, missing.json()) == (400, {"error": "deployment_method is missing"})
    other = deployment(api, app["uuid"], {"tag": "2"}, method="github")
    assert other.status_code == 422
    bad = deployment(api, app["uuid"], {}, method="docker_registry")
    assert bad.json() == {"error": "deployment_method does not have a valid value"}
    assert deployment(api, PROJECT_ID, {}).status_code == 404


# ---- variables ----------------------------------------------------------------------------------


def test_variables_are_created_updated_and_deleted_by_key(
    api: Api, emulator: EmulatorServer
) -> None:
    app = create_app(api)
    path = f"{APPS}/{app['uuid']}/vars"
    created = api.request("POST", path, json={"key": "DATABASE_URL", "value": SECRET_VALUE})
    assert (created.status_code, created.json()) == (201, {"key": "DATABASE_URL"})
    again = api.request("POST", path, json={"key": "DATABASE_URL", "value": "x"})
    assert (again.status_code, again.json()) == (422, {"errors": "Key has already been taken"})

    updated = api.request("PUT", path, json={"key": "DATABASE_URL", "value": "rotated-value"})
    assert (updated.status_code, updated.json()) == (200, {"key": "DATABASE_URL"})
    record = emulator.emulator.store.apps.get(DEFAULT_WORKSPACE_ID, app["uuid"])
    assert record is not None and record.vars_sha256 == {
        "DATABASE_URL": sha256_hex("rotated-value")
    }

    assert api.request("DELETE", path, json={"key": "DATABASE_URL"}).status_code == 204
    gone = api.request("PUT", path, json={"key": "DATABASE_URL", "value": "x"})
    assert (gone.status_code, gone.json()) == (404, {"error": "Variable not found"})
    assert api.request("DELETE", path, json={"key": "DATABASE_URL"}).status_code == 404
    log = json.dumps(emulator.requests_log())
    assert SECRET_VALUE not in log and "rotated-value" not in log


def test_variable_bodies_are_validated(api: Api) -> None:
    app = create_app(api)
    path = f"{APPS}/{app['uuid']}/vars"
    assert api.request("POST", path, json={"value": "v"}).json() == {"error": "key is missing"}
    assert api.request("POST", path, json={"key": "A"}).json() == {"error": "value is missing"}
    assert api.request("PUT", path, json={"key": 1, "value": 2}).json() == {
        "error": "key is invalid, value is invalid"
    }
    assert api.request(
        "POST", f"{APPS}/{PROJECT_ID}/vars", json={"key": "A", "value": "v"}
    ).json() == {"error": "App not found"}


# ---- delete and the credential in-use rule ------------------------------------------------------


def test_delete_answers_204_then_404(api: Api) -> None:
    app = create_app(api)
    first = api.request("DELETE", f"{APPS}/{app['uuid']}")
    assert (first.status_code, first.content) == (204, b"")
    assert api.request("DELETE", f"{APPS}/{app['uuid']}").status_code == 404
    assert api.request("GET", APPS).json() == []


def test_a_credential_in_use_cannot_be_deleted_until_no_app_uses_it(api: Api) -> None:
    used, spare = api.create(name="used"), api.create(name="spare")
    first = create_app(api, used["uuid"], name="first")
    second = create_app(api, used["uuid"], name="second")

    refused = api.delete(used["uuid"])
    assert (refused.status_code, refused.json()) == (
        422,
        {"error": "Credential is in use by 2 application(s)"},
    )
    assert api.get(used["uuid"]).status_code == 200

    deployment(api, first["uuid"], {"container_registry_credential_id": spare["uuid"]})
    assert api.delete(used["uuid"]).json() == {"error": "Credential is in use by 1 application(s)"}
    assert api.request("DELETE", f"{APPS}/{second['uuid']}").status_code == 204
    assert api.delete(used["uuid"]).status_code == 204
    assert api.delete(spare["uuid"]).status_code == 422  # first still pulls with it


def test_an_unused_credential_and_an_unknown_one_delete_as_before(api: Api) -> None:
    credential = api.create()
    create_app(api)  # an app without a credential does not hold any
    assert api.delete(credential["uuid"]).status_code == 204
    assert api.delete(credential["uuid"]).status_code == 404


# ---- the request log and reset ------------------------------------------------------------------


def test_the_log_names_nested_fields_and_never_holds_values(
    api: Api, emulator: EmulatorServer, credential: dict[str, Any]
) -> None:
    variables = [{"key": "DATABASE_URL", "value": SECRET_VALUE}]
    app = create_app(api, credential["uuid"], app_vars_attributes=variables)
    deployment(api, app["uuid"], {"container_registry_credential_id": credential["uuid"]})
    create_entry, deploy_entry = emulator.requests_log()[-2:]
    assert create_entry["fields"] == [
        "app_vars_attributes",
        "builder",
        "cpu_size",
        "deployment_config",
        "deployment_config.credential_id",
        "deployment_config.image_url",
        "deployment_config.tag",
        "deployment_method",
        "label",
        "name",
        "project_id",
        "ram_size",
        "resource_id",
    ]
    assert (deploy_entry["method"], deploy_entry["path"]) == (
        "PUT",
        f"{APPS}/{app['uuid']}/deployment",
    )
    assert deploy_entry["fields"] == [
        "deployment_config_attributes",
        "deployment_config_attributes.container_registry_credential_id",
        "deployment_method",
    ]
    assert SECRET_VALUE not in json.dumps(emulator.requests_log())


def test_reset_drops_apps_too(api: Api, emulator: EmulatorServer) -> None:
    create_app(api)
    emulator.reset()
    assert api.request("GET", APPS).json() == []


def test_apps_survive_a_restart_on_the_same_db_file(tmp_path: Path) -> None:
    db = str(tmp_path / "emulator.db")
    with EmulatorServer(db=db) as first:
        api = Api(first.url)
        credential = api.create()
        app = create_app(api, credential["uuid"])
    with EmulatorServer(db=db) as second:
        api = Api(second.url)
        assert api.request("GET", f"{APPS}/{app['uuid']}").json() == app
        assert post_app(api, app_body()).json() == {"errors": "Service name has already been taken"}
        assert api.delete(credential["uuid"]).status_code == 422  # still in use after restart
        updated = api.request("PUT", f"{APPS}/{app['uuid']}", json={"label": "Later"}).json()
    assert datetime.fromisoformat(updated["updated_at"].replace("Z", "+00:00")) > (
        datetime.fromisoformat(app["updated_at"].replace("Z", "+00:00"))
    )


def test_the_credential_routes_are_unchanged_for_a_credential_without_apps(api: Api) -> None:
    created = api.create()
    assert api.request("GET", CREDENTIALS_PATH).json() == [created]
