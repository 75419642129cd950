"""App: a Miget application that runs a pre-built container image (``container_registry``).

Read top to bottom: the property names, the provider (check → diff → create → read → update →
delete), and the resource class programs instantiate. The module follows
``credential.py`` (pickling, ``configure()`` and the client are shared, in ``base.py``):
every input echoed into the outputs (``olds`` in diff/update/read/delete are old outputs), errors
that name the operation, the app and the HTTP status but never a secret.

**Names.** Miget treats ``name`` as a *seed*: it appends a random suffix (``acme-api`` →
``acme-api-x7k2p9``) and keeps the seed as ``service_name``. The ``name`` input and output are the
seed as given, so ``diff`` compares seed with seed and never sees a perpetual difference; the
suffixed name is the ``app_name`` output (``public_url`` is built from it).

**What changes how** (``diff``; the API contract is miget-api.md §3 and Miget's ``apps.md``):

- ``label``, ``ram_size``, ``cpu_size``, ``builder``: update in place, one ``PUT /apps/{uuid}``
  with the changed fields;
- ``image_url``, ``tag``, ``credential_id``, ``command``, ``args``: update in place, one
  ``PUT /apps/{uuid}/deployment`` with ``deployment_method`` and ``deployment_config_attributes``
  holding ``image_url`` and the changed fields (the credential under the key
  ``container_registry_credential_id``; a removed field is sent as ``""``, which clears it);
- ``env``: update in place, one ``/apps/{uuid}/vars`` call per changed variable: ``POST`` (new),
  ``PUT`` (changed), ``DELETE`` (removed);
- ``name`` (the seed): **replace**, create-before-delete (a new seed is a new ``service_name``,
  so both apps can exist for a moment);
- ``project_id``, ``resource_id``: **replace, delete-before-replace** (the same seed in the same
  workspace: ``service_name`` is unique per workspace, so the old app must go first; expect a
  gap in service). Moving an app between projects or resources is not in Miget's API;
- ``workspace_id``: **replace**, create-before-delete (another workspace, no collision).

``image_url`` is always sent with a deployment change, even unchanged: Miget requires the
method's identifying fields on every deployment PUT for git methods, and under patch semantics
resending it is harmless. ``ram_size``/``cpu_size`` left unset mean "Miget's default": their
outputs show what Miget reports, and diff ignores them until the program sets them. ``tag``
defaults to ``latest`` and ``builder`` to ``auto`` (required by the API, irrelevant for a
pre-built image); ``label`` defaults to the name seed. All three defaults are filled in by
``check`` so they are part of the inputs.

**Secrets.** ``env`` values are wrapped in ``Output.secret`` as a whole and listed in
``additional_secret_outputs``; the provider echoes them under the same key and passes them to the
HTTP client as values to redact from error messages. Miget's app response carries no variables,
so ``read`` keeps ``env`` from state: a variable changed outside Pulumi is invisible to
``pulumi refresh`` (as a registry token is).

**Deployment.** The provider configures the app; it does not trigger a deployment
(``POST /apps/{uuid}/deploy``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)

from .base import (
    MigetProvider,
    changed,
    is_unknown,
    resource_options,
    uuid_from_id,
    with_secret_outputs,
)
from .errors import (
    MigetError,
    NameTakenError,
    NotFoundError,
)
from .rules import is_uuid
from .rules.app import DEFAULT_BUILDER, DEFAULT_TAG, check_app

if TYPE_CHECKING:  # the HTTP stack is imported only inside the provider process
    from .client import MigetClient

API_PATH = "/apps"
DEPLOYMENT_METHOD = "container_registry"

# Sent with PUT /apps/{uuid}.
APP_FIELDS = ("label", "ram_size", "cpu_size", "builder")
# Sent with PUT /apps/{uuid}/deployment (deployment_config_attributes).
DEPLOYMENT_FIELDS = ("image_url", "tag", "credential_id", "command", "args")
# A change replaces the app.
REPLACE_FIELDS = ("name", "project_id", "resource_id")
# Unset in the program = whatever Miget chose; diff compares them only when set.
SERVER_DEFAULTED = ("ram_size", "cpu_size")
# Everything a program may pass.
INPUTS = (
    "name",
    "project_id",
    "resource_id",
    *APP_FIELDS,
    *DEPLOYMENT_FIELDS,
    "env",
    "workspace_id",
)
# Set by the API.
COMPUTED = (
    "uuid",
    "app_name",
    "service_name",
    "public_url",
    "internal_url",
    "state",
    "region",
    "created_at",
    "updated_at",
)
SECRET_OUTPUTS = ("env",)
UUID_FIELDS = ("project_id", "resource_id", "credential_id", "workspace_id")
MIB = 1024 * 1024


def _number(value: Any) -> Any:
    """Numbers cross the engine as floats: send 256, not 256.0, when the value is whole."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class AppProvider(MigetProvider):
    """CRUD for ``/apps`` with the ``container_registry`` deployment method."""

    kind = "app"

    # ---- check: defaults, normalisation and every rule, before any HTTP call ------------------
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {key: news[key] for key in INPUTS if news.get(key) is not None}
        # Empty collections mean "not set" (Miget stores no empty override or variable list).
        for key in ("command", "args", "env"):
            value = inputs.get(key)
            if not is_unknown(value) and isinstance(value, (list, tuple, Mapping)) and not value:
                del inputs[key]
        inputs.setdefault("tag", DEFAULT_TAG)
        inputs.setdefault("builder", DEFAULT_BUILDER)
        if "label" not in inputs and "name" in inputs:
            inputs["label"] = inputs["name"]
        for key in UUID_FIELDS:  # Miget answers with the canonical lower-case form
            if is_uuid(inputs.get(key)):
                inputs[key] = str(uuid.UUID(inputs[key]))
        failures = self._check_workspace(inputs)
        failures += [
            CheckFailure(v.property, v.reason) for v in check_app(inputs, is_unknown=is_unknown)
        ]
        return CheckResult(inputs, failures)

    # ---- diff: field by field, never __provider -----------------------------------------------
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        updates = [
            key
            for key in (*APP_FIELDS, *DEPLOYMENT_FIELDS, "env")
            if not (key in SERVER_DEFAULTED and news.get(key) is None)
            and changed(olds.get(key), news.get(key))
        ]
        replaces = [key for key in REPLACE_FIELDS if changed(olds.get(key), news.get(key))]
        workspace = self._workspace_diff(olds, news)
        if workspace == "replace":
            replaces.append("workspace_id")
        elif workspace == "update":
            updates.append("workspace_id")
        # Same seed in the same workspace: the new app's service_name would collide with the
        # old one's, so the old app has to be deleted first.
        same_service_name = "name" not in replaces and "workspace_id" not in replaces
        return DiffResult(
            changes=bool(updates or replaces),
            replaces=replaces,
            stables=["uuid", "app_name", "service_name", "created_at"] if not replaces else [],
            delete_before_replace=bool(replaces) and same_service_name,
        )

    # ---- create: one POST ---------------------------------------------------------------------
    def create(self, props: dict[str, Any]) -> CreateResult:
        api = self._api()
        workspace = self._new_workspace(props)
        item = self._post_reconciled(api, API_PATH, props, workspace)
        return CreateResult(item["uuid"], self._outputs(item, props, workspace))

    def _name_taken(
        self, exc: MigetError, props: Mapping[str, Any], existing: Mapping[str, Any] | None
    ) -> MigetError:
        uuid = existing["uuid"] if existing else "unknown"
        return MigetError(
            f"create {self._describe(props)}: the service name {props.get('name')!r} is already "
            f"used in this workspace by app {uuid} (service names are unique per workspace, "
            f"whatever the project or resource). Pick another name, or delete that app. ({exc})"
        )

    def _is_ours(self, item: Mapping[str, Any], props: Mapping[str, Any]) -> bool:
        config = item.get("deployment_config") or {}
        return bool(config.get("image_url") == props.get("image_url"))

    def _find_existing(
        self, api: MigetClient, props: Mapping[str, Any], workspace: str | None
    ) -> Any:
        items = api.list(
            API_PATH, f"look up {self._describe(props)} by service name", workspace_id=workspace
        )
        return next((i for i in items if i.get("service_name") == props.get("name")), None)

    # ---- read (refresh and get): one GET ------------------------------------------------------
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        item, workspace = self._read_item(f"{API_PATH}/{id_}", id_, props)
        if item is None:
            return ReadResult("", {})  # gone: refresh drops it, the next up re-creates it
        outs = self._outputs(item, props, workspace)
        inputs = {key: outs[key] for key in INPUTS if outs.get(key) is not None}
        return ReadResult(item["uuid"], outs, inputs)

    # ---- update: only what changed, each on its endpoint --------------------------------------
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        api = self._api()
        workspace = self._prove_location(f"{API_PATH}/{id_}", olds, id_, news)
        item: Any = None
        app_body = {
            key: _number(news[key])
            for key in APP_FIELDS
            if news.get(key) is not None and news.get(key) != olds.get(key)
        }
        if app_body:
            item = self._put(f"{API_PATH}/{id_}", app_body, news, id_, workspace)
        changed = [key for key in DEPLOYMENT_FIELDS if news.get(key) != olds.get(key)]
        if changed:
            attributes: dict[str, Any] = {"image_url": news.get("image_url")}
            for key in changed:
                wire = "container_registry_credential_id" if key == "credential_id" else key
                value = news.get(key)
                attributes[wire] = "" if value is None else value
            body = {
                "deployment_method": DEPLOYMENT_METHOD,
                "deployment_config_attributes": attributes,
            }
            item = self._put(f"{API_PATH}/{id_}/deployment", body, news, id_, workspace)
        self._sync_variables(
            api, id_, olds.get("env") or {}, news.get("env") or {}, news, workspace
        )
        if item is None:  # only variables changed: the app entity itself is as it was
            return UpdateResult({**self._strip(olds), **self._echo(news, workspace)})
        return UpdateResult(self._outputs(item, news, workspace))

    def _sync_variables(
        self,
        api: MigetClient,
        uuid: str,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        props: Mapping[str, Any],
        workspace: str,
    ) -> None:
        """One call per changed variable. Each is idempotent, so a re-run after a partial
        failure converges: a POST that finds the key taken becomes a PUT, a PUT that finds it
        gone becomes a POST, a DELETE of a missing key is done."""
        path = f"{API_PATH}/{uuid}/vars"
        secrets = [*self._secrets(props), *(v for v in old.values() if isinstance(v, str))]

        def call(method: str, key: str, body: dict[str, Any]) -> None:
            api.request(
                method,
                path,
                f"{'set' if method != 'DELETE' else 'remove'} variable {key!r} of "
                f"{self._describe(props, uuid)}",
                body=body,
                workspace_id=workspace,
                secrets=secrets,
            )

        def app_gone(exc: NotFoundError) -> MigetError | None:
            # A 404 from /vars means "no such variable" or "no such app": only a GET of the app
            # tells them apart (the second must not count as "variable gone").
            if self._get_or_none(f"{API_PATH}/{uuid}", props, uuid, workspace) is None:
                return self._deleted_outside(exc)
            return None

        try:
            for key in sorted(new):
                body = {"key": key, "value": new[key]}
                if key not in old:
                    try:
                        call("POST", key, body)
                    except NameTakenError:
                        call("PUT", key, body)
                elif new[key] != old[key]:
                    try:
                        call("PUT", key, body)
                    except NotFoundError as exc:
                        if (gone := app_gone(exc)) is not None:
                            raise gone from None
                        call("POST", key, body)
            for key in sorted(set(old) - set(new)):
                try:
                    call("DELETE", key, {"key": key})
                except NotFoundError as exc:
                    if (gone := app_gone(exc)) is not None:
                        raise gone from None
        except NotFoundError as exc:  # a POST into an app that is gone
            raise (app_gone(exc) or exc) from None

    # ---- delete: one DELETE, 404 counts as done -----------------------------------------------
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self._delete(f"{API_PATH}/{id_}", props, id_)

    # ---- helpers ------------------------------------------------------------------------------
    def _secrets(self, props: Mapping[str, Any]) -> list[str | None]:
        env = props.get("env")
        if not isinstance(env, Mapping):
            return []
        return [value for value in env.values() if isinstance(value, str)]

    def _create_body(self, props: Mapping[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {
            key: _number(props[key])
            for key in (
                "name",
                "label",
                "project_id",
                "resource_id",
                "builder",
                "ram_size",
                "cpu_size",
            )
            if props.get(key) is not None
        }
        body["deployment_method"] = DEPLOYMENT_METHOD
        body["deployment_config"] = {
            key: props[key] for key in DEPLOYMENT_FIELDS if props.get(key) is not None
        }
        env = props.get("env")
        if env:
            body["app_vars_attributes"] = [{"key": k, "value": env[k]} for k in sorted(env)]
        return body

    @staticmethod
    def _strip(props: Mapping[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in props.items() if key != "__provider"}

    @staticmethod
    def _echo(props: Mapping[str, Any], workspace: str | None) -> dict[str, Any]:
        """Inputs the API never returns, kept from the program (or state)."""
        return {"env": props.get("env"), "workspace_id": workspace}

    def _outputs(
        self, item: Mapping[str, Any], props: Mapping[str, Any], workspace: str | None
    ) -> dict[str, Any]:
        """The full output set: the API's fields plus the inputs it never returns."""
        config = item.get("deployment_config") or {}
        quota = item.get("quota") or {}
        region = item.get("region")
        ram_bytes = quota.get("ram_size")
        ram_mib = ram_bytes / MIB if isinstance(ram_bytes, (int, float)) else item.get("ram_size")
        return {
            "uuid": item["uuid"],
            # The seed, as the program gave it (service_name for an app read with get()).
            "name": props.get("name") or item.get("service_name"),
            "app_name": item.get("name"),
            "service_name": item.get("service_name"),
            "label": item.get("label"),
            "project_id": item.get("project_id") or props.get("project_id"),
            "resource_id": item.get("resource_id") or props.get("resource_id"),
            "builder": item.get("builder") or props.get("builder"),
            "ram_size": _number(ram_mib),
            "cpu_size": _number(quota.get("cpu_size", item.get("cpu_size"))),
            "image_url": config.get("image_url"),
            "tag": config.get("tag") or DEFAULT_TAG,
            "credential_id": config.get("credential_id") or None,
            "command": config.get("command") or None,
            "args": config.get("args") or None,
            "public_url": item.get("public_url"),
            "internal_url": item.get("internal_url"),
            "state": item.get("state"),
            "region": region.get("code") if isinstance(region, Mapping) else region,
            "created_at": item.get("created_at"),
            "updated_at": item.get("updated_at"),
            **self._echo(props, workspace),
        }


class App(Resource, module="miget", name="App"):
    """A Miget app that runs a container image pulled from a registry.

    Pass a :class:`~pulumi_miget.ContainerRegistryCredential`'s ``uuid`` as ``credential_id`` for
    a private image; Pulumi then creates the credential first and deletes it last. ``env`` is
    always stored as a secret. The provider configures the app; deploying it is a separate step.
    """

    uuid: pulumi.Output[str]
    name: pulumi.Output[str]
    app_name: pulumi.Output[str]
    service_name: pulumi.Output[str]
    label: pulumi.Output[str]
    project_id: pulumi.Output[str]
    resource_id: pulumi.Output[str]
    builder: pulumi.Output[str]
    ram_size: pulumi.Output[float]
    cpu_size: pulumi.Output[float]
    image_url: pulumi.Output[str]
    tag: pulumi.Output[str]
    credential_id: pulumi.Output[str | None]
    command: pulumi.Output[list[str] | None]
    args: pulumi.Output[list[str] | None]
    env: pulumi.Output[dict[str, str] | None]
    workspace_id: pulumi.Output[str | None]
    public_url: pulumi.Output[str]
    internal_url: pulumi.Output[str]
    state: pulumi.Output[str]
    region: pulumi.Output[str]
    created_at: pulumi.Output[str]
    updated_at: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        project_id: pulumi.Input[str],
        resource_id: pulumi.Input[str],
        image_url: pulumi.Input[str],
        tag: pulumi.Input[str] | None = None,
        credential_id: pulumi.Input[str] | None = None,
        label: pulumi.Input[str] | None = None,
        ram_size: pulumi.Input[float] | None = None,
        cpu_size: pulumi.Input[float] | None = None,
        command: pulumi.Input[list[pulumi.Input[str]]] | None = None,
        args: pulumi.Input[list[pulumi.Input[str]]] | None = None,
        env: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None,
        builder: pulumi.Input[str] | None = None,
        workspace_id: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param resource_name: the Pulumi resource name (not sent to Miget).
        :param name: the app's name seed: lowercase letters, digits and hyphens, at most 33
            characters. Miget appends a random suffix (see ``app_name``) and keeps the seed as
            ``service_name``, unique per workspace. Changing it replaces the app.
        :param project_id: the project's UUID. Changing it replaces the app.
        :param resource_id: the compute resource's UUID (the region comes from it). Changing it
            replaces the app, deleting the old one first.
        :param image_url: the image without scheme and tag, with at least one ``/``
            (``ghcr.io/acme/api``, ``docker.io/library/nginx``).
        :param tag: the image tag; default ``latest``.
        :param credential_id: a container registry credential's uuid, for a private image:
            pass ``credential.uuid`` so Pulumi tracks the dependency.
        :param label: the display name (at most 40 characters); default: the name seed.
        :param ram_size: RAM in MiB; unset keeps Miget's default.
        :param cpu_size: CPU in cores; unset keeps Miget's default.
        :param command: overrides the image's ENTRYPOINT.
        :param args: overrides the image's CMD.
        :param env: environment variables (name → value); stored as a secret.
        :param builder: ``auto`` (default), ``dockerfile`` or ``custom``: required by Miget's
            API, without effect for a pre-built image.
        :param workspace_id: the workspace UUID; defaults to ``miget:workspaceId`` (one of the
            two is required). It must be the credential's workspace. Recorded in state; changing
            it replaces the app.
        """
        super().__init__(
            AppProvider(),
            resource_name,
            {
                "name": name,
                "project_id": project_id,
                "resource_id": resource_id,
                "image_url": image_url,
                "tag": tag,
                "credential_id": credential_id,
                "label": label,
                "ram_size": ram_size,
                "cpu_size": cpu_size,
                "command": command,
                "args": args,
                "env": None if env is None else pulumi.Output.secret(env),
                "builder": builder,
                "workspace_id": workspace_id,
                **dict.fromkeys(COMPUTED),
            },
            resource_options(
                opts,
                list(SECRET_OUTPUTS),
                f"App {resource_name!r}",
                needs_delete_first=(
                    "a change of project_id or resource_id replaces the app by one with the same "
                    "service name, which Miget allows only once per workspace, so the old app "
                    "must be deleted first."
                ),
            ),
        )
        uuid_from_id(self)

    @classmethod
    def get(
        cls,
        resource_name: str,
        id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
        workspace_id: pulumi.Input[str] | None = None,
    ) -> App:
        """Read an existing app by uuid (its ``env`` is unknown: the API never returns it)."""
        resource = cls.__new__(cls)
        Resource.__init__(
            resource,
            AppProvider(),
            resource_name,
            {**dict.fromkeys((*INPUTS, *COMPUTED)), "workspace_id": workspace_id},
            pulumi.ResourceOptions.merge(
                with_secret_outputs(opts, list(SECRET_OUTPUTS)), pulumi.ResourceOptions(id=id)
            ),
        )
        uuid_from_id(resource)
        return resource
