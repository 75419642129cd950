"""App: a Miget application that runs a pre-built container image (``container_registry``).

Read top to bottom: the field spec, the provider (create and update; check, diff, read and
delete come from the spec, in :mod:`pulumi_miget.provider`), and the resource class programs
instantiate, with its typed ``*Args``. The wire shapes (the suffixed name, RAM in bytes, the
credential's wire names, the deployment and variable endpoints) live in the API client,
:mod:`pulumi_miget.api.apps`.

**Names.** Miget treats ``name`` as a *seed*: it appends a random suffix (``acme-api`` →
``acme-api-x7k2p9``) and keeps the seed as ``service_name``. The ``name`` input and output are the
seed as given, so ``diff`` compares seed with seed and never sees a perpetual difference; the
suffixed name is the ``app_name`` output (``public_url`` is built from it).

**What changes how** (the spec's ``change`` column; the API contract is miget-api.md §3):

- ``label``, ``ram_size``, ``cpu_size``, ``builder``: update in place, one ``PUT /apps/{uuid}``;
- ``image_url``, ``tag``, ``credential_id``, ``command``, ``args``: update in place, one
  ``PUT /apps/{uuid}/deployment``;
- ``env``: update in place, one ``/apps/{uuid}/vars`` call per changed variable;
- ``name`` (the seed) and ``workspace_id``: **replace**, create-before-delete (a new seed or
  another workspace cannot collide, so both apps can exist for a moment);
- ``project_id``, ``resource_id``: **replace, delete-before-replace** (the same seed in the same
  workspace: ``service_name`` is unique per workspace, so the old app must go first; expect a
  gap in service). Moving an app between projects or resources is not in Miget's API.

``ram_size``/``cpu_size`` left unset mean "Miget's default": their outputs show what Miget
reports, and diff ignores them until the program sets them. ``tag`` defaults to ``latest`` and
``builder`` to ``auto`` (required by the API, irrelevant for a pre-built image); ``label``
defaults to the name seed. ``check`` fills in all three, so they are part of the inputs.

**Secrets.** ``env`` values are wrapped in ``Output.secret`` as a whole and listed in
``additional_secret_outputs``; the provider echoes them under the same key and passes them to the
HTTP client as values to redact from error messages. Miget's app response carries no variables,
so ``read`` keeps ``env`` from state: a variable changed outside Pulumi is invisible to
``pulumi refresh`` (as a registry token is).

**Deployment.** The provider configures the app; it does not trigger a deployment
(``POST /apps/{uuid}/deploy``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

import pulumi
from pulumi.dynamic import CreateResult, Resource, UpdateResult

from ..errors import MigetError, NameTakenError, NotFoundError
from ..options import read_existing, resource_inputs, resource_options, uuid_from_id
from ..provider import MigetProvider
from ..reconcile import create_reconciled
from ..rules.app import DEFAULT_BUILDER, DEFAULT_TAG, check_app
from ..spec import Field, ResourceSpec
from ..tokens import MODULE

if TYPE_CHECKING:
    from ..api.apps import AppsApi
    from ..api.http import MigetClient

__all__ = ["APP", "App", "AppArgs", "AppProvider"]

APP = ResourceSpec(
    kind="app",
    rules=check_app,
    stables_on_replace=False,
    fields=(
        Field("uuid", computed=True, stable=True, doc="also the resource id"),
        Field("name", required=True, change="replace", source="input_or_api", doc="the seed"),
        Field("app_name", computed=True, stable=True, doc="the suffixed name"),
        Field("service_name", computed=True, stable=True),
        Field("label", default_from="name"),
        Field(
            "project_id",
            required=True,
            uuid=True,
            change="replace_delete_first",
            source="api_or_input",
        ),
        Field(
            "resource_id",
            required=True,
            uuid=True,
            change="replace_delete_first",
            source="api_or_input",
        ),
        Field("builder", default=DEFAULT_BUILDER, source="api_or_input"),
        Field("ram_size", server_default=True, doc="MiB"),
        Field("cpu_size", server_default=True, doc="cores"),
        Field("image_url", required=True),
        Field("tag", default=DEFAULT_TAG),
        Field("credential_id", uuid=True),
        Field("command", empty_is_unset=True),
        Field("args", empty_is_unset=True),
        Field("env", secret=True, empty_is_unset=True, source="input"),
        Field("workspace_id", uuid=True, change="replace", source="input"),
        Field("public_url", computed=True),
        Field("internal_url", computed=True),
        Field("state", computed=True),
        Field("region", computed=True),
        Field("created_at", computed=True, stable=True),
        Field("updated_at", computed=True),
    ),
)
NEEDS_DELETE_FIRST = (
    "a change of project_id or resource_id replaces the app by one with the same service name, "
    "which Miget allows only once per workspace, so the old app must be deleted first."
)


class AppProvider(MigetProvider["AppsApi"]):
    """CRUD for ``/apps`` with the ``container_registry`` deployment method."""

    spec = APP

    def make_api(self, client: MigetClient) -> AppsApi:
        from ..api.apps import AppsApi  # the HTTP stack: provider process only

        return AppsApi(client)

    # ---- create: one POST ---------------------------------------------------------------------
    def create(self, props: dict[str, Any]) -> CreateResult:
        api = self._api()
        workspace = self._new_workspace(props)
        entity = create_reconciled(
            api,
            props,
            workspace,
            describe=self._describe(props),
            secrets=self._secrets(props),
            # the name is the service name; the image tells our create from another app's
            is_ours=lambda item: item.get("image_url") == props.get("image_url"),
            name_taken=lambda exc, existing: self._name_taken(exc, props, existing),
        )
        return CreateResult(entity["uuid"], self.spec.outputs(entity, props, workspace))

    def _name_taken(
        self, exc: MigetError, props: Mapping[str, Any], existing: Mapping[str, Any] | None
    ) -> MigetError:
        uuid = existing["uuid"] if existing else "unknown"
        return MigetError(
            f"create {self._describe(props)}: the service name {props.get('name')!r} is already "
            f"used in this workspace by app {uuid} (service names are unique per workspace, "
            f"whatever the project or resource). Pick another name, or delete that app. ({exc})"
        )

    # ---- update: only what changed, each on its endpoint --------------------------------------
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        api = self._api()
        workspace = self._prove_location(olds, id_, news)
        operation = f"update {self._describe(news, id_)}"
        secrets = self._secrets(news)
        entity: dict[str, Any] | None = None
        app_body = api.app_body(olds, news)
        if app_body:
            entity = self._put(api.put_part, id_, "", app_body, workspace, operation, secrets)
        deployment = api.deployment_body(olds, news)
        if deployment:
            entity = self._put(
                api.put_part, id_, "deployment", deployment, workspace, operation, secrets
            )
        self._sync_variables(id_, olds.get("env") or {}, news.get("env") or {}, news, workspace)
        if entity is None:  # only variables changed: the app entity itself is as it was
            kept = {key: value for key, value in olds.items() if key != "__provider"}
            return UpdateResult({**kept, **self.spec.echoed(news, workspace)})
        return UpdateResult(self.spec.outputs(entity, news, workspace))

    def _sync_variables(
        self,
        uuid: str,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        props: Mapping[str, Any],
        workspace: str,
    ) -> None:
        """One call per changed variable. Each is idempotent, so a re-run after a partial
        failure converges: a POST that finds the key taken becomes a PUT, a PUT that finds it
        gone becomes a POST, a DELETE of a missing key is done."""
        api = self._api()
        secrets = [*self._secrets(props), *(v for v in old.values() if isinstance(v, str))]

        def call(method: str, key: str, value: str | None = None) -> None:
            verb = "remove" if method == "DELETE" else "set"
            operation = f"{verb} variable {key!r} of {self._describe(props, uuid)}"
            api.variable(method, uuid, key, value, workspace, operation, secrets)

        def app_gone(exc: NotFoundError) -> MigetError | None:
            # A 404 from /vars means "no such variable" or "no such app": only a GET of the app
            # tells them apart (the second must not count as "variable gone").
            if api.get(uuid, workspace, f"read {self._describe(props, uuid)}") is None:
                return self._deleted_outside(exc)
            return None

        try:
            for key in sorted(new):
                if key not in old:
                    try:
                        call("POST", key, new[key])
                    except NameTakenError:
                        call("PUT", key, new[key])
                elif new[key] != old[key]:
                    try:
                        call("PUT", key, new[key])
                    except NotFoundError as exc:
                        if (gone := app_gone(exc)) is not None:
                            raise gone from None
                        call("POST", key, new[key])
            for key in sorted(set(old) - set(new)):
                try:
                    call("DELETE", key)
                except NotFoundError as exc:
                    if (gone := app_gone(exc)) is not None:
                        raise gone from None
        except NotFoundError as exc:  # a POST into an app that is gone
            raise (app_gone(exc) or exc) from None


# The pickled name is API (users' states hold it): pin it to the module that re-exports it.
AppProvider.__module__ = "pulumi_miget.app"


@dataclass
class AppArgs:
    """The inputs of an :class:`App` (every one accepts an Input)."""

    name: pulumi.Input[str]
    """The app's name seed: lowercase letters, digits and hyphens, at most 33 characters. Miget
    appends a random suffix (see ``app_name``) and keeps the seed as ``service_name``, unique per
    workspace. Changing it replaces the app."""
    project_id: pulumi.Input[str]
    """The project's UUID. Changing it replaces the app."""
    resource_id: pulumi.Input[str]
    """The compute resource's UUID (the region comes from it). Changing it replaces the app,
    deleting the old one first."""
    image_url: pulumi.Input[str]
    """The image without scheme and tag, with at least one ``/`` (``ghcr.io/acme/api``)."""
    tag: pulumi.Input[str] | None = None
    """The image tag; default ``latest``."""
    credential_id: pulumi.Input[str] | None = None
    """A container registry credential's uuid, for a private image: pass ``credential.uuid`` so
    Pulumi tracks the dependency."""
    label: pulumi.Input[str] | None = None
    """The display name (at most 40 characters); default: the name seed."""
    ram_size: pulumi.Input[float] | None = None
    """RAM in MiB; unset keeps Miget's default."""
    cpu_size: pulumi.Input[float] | None = None
    """CPU in cores; unset keeps Miget's default."""
    command: pulumi.Input[list[pulumi.Input[str]]] | None = None
    """Overrides the image's ENTRYPOINT."""
    args: pulumi.Input[list[pulumi.Input[str]]] | None = None
    """Overrides the image's CMD."""
    env: pulumi.Input[Mapping[str, pulumi.Input[str]]] | None = None
    """Environment variables (name → value); stored as a secret."""
    builder: pulumi.Input[str] | None = None
    """``auto`` (default), ``dockerfile`` or ``custom``: required by Miget's API, without effect
    for a pre-built image."""
    workspace_id: pulumi.Input[str] | None = None
    """The workspace UUID; defaults to ``miget:workspaceId`` (one of the two is required). It
    must be the credential's workspace. Recorded in state; changing it replaces the app."""


class App(Resource, module=MODULE, name="App"):
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

    @overload
    def __init__(
        self, resource_name: str, inputs: AppArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None: ...

    @overload
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
    ) -> None: ...

    def __init__(
        self,
        resource_name: str,
        inputs: AppArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **kwargs: Any,
    ) -> None:
        """
        :param resource_name: the Pulumi resource name (not sent to Miget).
        :param inputs: the inputs as an :class:`AppArgs`, or pass them as keyword arguments
            (``name=``, ``project_id=``, ...; see that class).
        :param opts: resource options. ``delete_before_replace=False`` is refused: a change of
            ``project_id``/``resource_id`` must delete the old app first.
        """
        props = resource_inputs("App", AppArgs, inputs, kwargs)
        if props["env"] is not None:
            props["env"] = pulumi.Output.secret(props["env"])
        super().__init__(
            AppProvider(),
            resource_name,
            {**props, **dict.fromkeys(APP.computed)},
            resource_options(
                opts,
                APP.secret_outputs,
                f"App {resource_name!r}",
                needs_delete_first=NEEDS_DELETE_FIRST,
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
        """Read an existing app by uuid (its ``env`` is unknown: the API never returns it).

        The workspace is ``workspace_id``, else ``miget:workspaceId``; a uuid that is not there
        fails with "not found"."""
        resource = cls.__new__(cls)
        read_existing(resource, AppProvider(), APP, resource_name, id, opts, workspace_id)
        return resource
