"""ContainerRegistryCredential: the login Miget uses to pull private images.

Read top to bottom: the property names, the provider (check → diff → create → read → update →
delete), and the resource class programs instantiate. What every Miget provider shares —
pickling, ``configure()``, the client, the one-request GET/PUT/DELETE helpers and
lost-create reconciliation — lives in ``base.py``.

Engine facts this module is built around (see pulumi-dynamic.md):

- The provider is pickled **by reference** into ``__provider``; ``__getstate__`` keeps it empty,
  so the blob holds no settings, no client and no secret. The module path and class name are a
  stable API: state written today must un-pickle next year.
- The API key and URL come from ``configure()`` (stack config), never from the pickle.
- ``olds`` in diff/update/read/delete are the **old outputs**, so every input is echoed into the
  outputs — the token included, under the same key, which keeps it secret in state.
- The engine strips secrets before calling us; nothing here ever prints or raises a token.
"""

from __future__ import annotations

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

from . import rules
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
)
from .rules import Registry

if TYPE_CHECKING:  # the HTTP stack is imported only inside the provider process
    from .client import MigetClient

API_PATH = "/container_registry_credentials"

# What the API stores and returns (token: stores only).
API_FIELDS = ("name", "registry", "username", "token", "registry_hostname")
# Everything a program may pass.
INPUTS = (*API_FIELDS, "skip_validation", "workspace_id", "adopt")
# Set by the API.
COMPUTED = ("uuid", "created_at", "updated_at")


class ContainerRegistryCredentialProvider(MigetProvider):
    """CRUD for ``/container_registry_credentials`` (one HTTP round trip per operation)."""

    kind = "credential"

    # ---- check: every rule, before any HTTP call ---------------------------------------------
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = {key: news[key] for key in INPUTS if news.get(key) is not None}
        if isinstance(inputs.get("registry"), Registry):
            inputs["registry"] = inputs["registry"].value
        failures = self._check_workspace(inputs)
        failures += [
            CheckFailure(v.property, v.reason)
            for v in rules.check_credential(inputs, is_unknown=is_unknown)
        ]
        return CheckResult(inputs, failures)

    # ---- diff: field by field, never __provider -----------------------------------------------
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        updates = [key for key in API_FIELDS if changed(olds.get(key), news.get(key))]
        # Credentials cannot move between workspaces: a new one is created in the new
        # workspace, then the old one deleted (names are unique per workspace only).
        workspace = self._workspace_diff(olds, news)
        replaces = ["workspace_id"] if workspace == "replace" else []
        if workspace == "update":
            updates.append("workspace_id")
        return DiffResult(
            changes=bool(updates or replaces),
            replaces=replaces,
            stables=["uuid", "created_at"],
            delete_before_replace=False,
        )

    # ---- create: one POST (adopt: one lookup, then one PUT or POST) ---------------------------
    def create(self, props: dict[str, Any]) -> CreateResult:
        api = self._api()
        workspace = self._new_workspace(props)
        if props.get("adopt"):
            existing = self._find_existing(api, props, workspace)
            if existing is not None:
                uuid = existing["uuid"]
                body = self._create_body(props)
                item = self._put(f"{API_PATH}/{uuid}", body, props, uuid, workspace)
                self._remember_adopted(item["uuid"])
                return CreateResult(item["uuid"], self._outputs(item, props, workspace))
        item = self._post_reconciled(api, API_PATH, props, workspace)
        return CreateResult(item["uuid"], self._outputs(item, props, workspace))

    def _name_taken(
        self, exc: MigetError, props: Mapping[str, Any], existing: Mapping[str, Any] | None
    ) -> MigetError:
        uuid = existing["uuid"] if existing else "unknown"
        return MigetError(
            f"create {self._describe(props)}: the name is already taken in this workspace by "
            f"credential {uuid}. If you renamed this resource in your program, keep its state "
            "with an alias instead of creating it again: "
            'opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name="<old resource name>")]). '
            "If the credential was made outside this stack (the dashboard, another tool), set "
            "adopt=True to take it over (the next `pulumi up` sets its fields and token). "
            f"Otherwise pick another name. ({exc})"
        )

    def _is_ours(self, item: Mapping[str, Any], props: Mapping[str, Any]) -> bool:
        return all(
            (item.get(key) or None) == (props.get(key) or None)
            for key in ("registry", "username", "registry_hostname")
        )

    # ---- read (refresh and get): one GET ------------------------------------------------------
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        item, workspace = self._read_item(f"{API_PATH}/{id_}", id_, props)
        if item is None:
            return ReadResult("", {})  # gone: refresh drops it, the next up re-creates it
        outs = self._outputs(item, props, workspace)
        inputs = {
            key: outs[key]
            for key in (*API_FIELDS, "skip_validation", "adopt", "workspace_id")
            if outs.get(key) is not None
        }
        return ReadResult(item["uuid"], outs, inputs)

    # ---- update: one PUT with only the changed fields -----------------------------------------
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        workspace = self._prove_location(f"{API_PATH}/{id_}", olds, id_, news)
        body = {key: news.get(key) for key in API_FIELDS if news.get(key) != olds.get(key)}
        if not body:  # only skip_validation/adopt changed: nothing to send
            return UpdateResult({**olds, **self._echo(news, workspace)})
        if news.get("skip_validation"):
            body["skip_validation"] = True
        item = self._put(f"{API_PATH}/{id_}", body, news, id_, workspace)
        return UpdateResult(self._outputs(item, news, workspace))

    # ---- delete: one DELETE, 404 counts as done -----------------------------------------------
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        self._delete(f"{API_PATH}/{id_}", props, id_)

    # ---- helpers ------------------------------------------------------------------------------
    def _secrets(self, props: Mapping[str, Any]) -> list[str | None]:
        return [props.get("token")]

    def _create_body(self, props: Mapping[str, Any]) -> dict[str, Any]:
        body = {key: props[key] for key in API_FIELDS if props.get(key) is not None}
        if props.get("skip_validation"):
            body["skip_validation"] = True
        return body

    @staticmethod
    def _echo(props: Mapping[str, Any], workspace: str | None) -> dict[str, Any]:
        return {
            "token": props.get("token"),
            "skip_validation": props.get("skip_validation"),
            "adopt": props.get("adopt"),
            "workspace_id": workspace,
        }

    def _outputs(
        self, item: Mapping[str, Any], props: Mapping[str, Any], workspace: str | None
    ) -> dict[str, Any]:
        """The full output set: the API's fields plus the inputs it never returns."""
        return {
            "uuid": item["uuid"],
            "name": item.get("name"),
            "registry": item.get("registry"),
            "username": item.get("username"),
            "registry_hostname": item.get("registry_hostname") or None,
            "created_at": item.get("created_at"),
            "updated_at": item.get("updated_at"),
            # The API never returns the token: keep the one from the program (or state).
            **self._echo(props, workspace),
        }

    def _find_existing(
        self, api: MigetClient, props: Mapping[str, Any], workspace: str | None
    ) -> Any:
        items = api.list(
            API_PATH, f"look up {self._describe(props)} by name", workspace_id=workspace
        )
        return next((i for i in items if i.get("name") == props.get("name")), None)


class ContainerRegistryCredential(Resource, module="miget", name="ContainerRegistryCredential"):
    """A Miget container registry credential.

    Its ``uuid`` goes into an app's ``deployment_config.credential_id``. The ``token`` is always
    stored as a secret. Set ``adopt=True`` to take over an existing credential of the same name
    (Pulumi cannot ``import`` dynamic resources).
    """

    uuid: pulumi.Output[str]
    name: pulumi.Output[str]
    registry: pulumi.Output[str]
    username: pulumi.Output[str]
    token: pulumi.Output[str]
    registry_hostname: pulumi.Output[str | None]
    skip_validation: pulumi.Output[bool | None]
    workspace_id: pulumi.Output[str | None]
    adopt: pulumi.Output[bool | None]
    created_at: pulumi.Output[str]
    updated_at: pulumi.Output[str]

    def __init__(
        self,
        resource_name: str,
        *,
        name: pulumi.Input[str],
        registry: pulumi.Input[Registry | str],
        username: pulumi.Input[str],
        token: pulumi.Input[str],
        registry_hostname: pulumi.Input[str] | None = None,
        skip_validation: pulumi.Input[bool] | None = None,
        workspace_id: pulumi.Input[str] | None = None,
        adopt: pulumi.Input[bool] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """
        :param resource_name: the Pulumi resource name (not sent to Miget).
        :param name: the credential's name in Miget, unique per workspace.
        :param registry: one of :class:`Registry` (or its string value, e.g. ``"github"``).
        :param username: the registry user name (``AWS`` for ECR).
        :param token: the registry password or access token; stored as a secret.
        :param registry_hostname: required for ``generic``, ``aws_ecr`` and ``azure``.
        :param skip_validation: skip Miget's live login check (non-production only).
        :param workspace_id: the workspace UUID; defaults to ``miget:workspaceId`` (one of the
            two is required). Recorded in state; changing it replaces the credential.
        :param adopt: take over an existing credential with the same name instead of failing.
        """
        super().__init__(
            ContainerRegistryCredentialProvider(),
            resource_name,
            {
                "name": name,
                "registry": registry,
                "username": username,
                "token": pulumi.Output.secret(token),
                "registry_hostname": registry_hostname,
                "skip_validation": skip_validation,
                "workspace_id": workspace_id,
                "adopt": adopt,
                **dict.fromkeys(COMPUTED),
            },
            resource_options(opts, ["token"], f"ContainerRegistryCredential {resource_name!r}"),
        )
        uuid_from_id(self)

    @classmethod
    def get(
        cls,
        resource_name: str,
        id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
        workspace_id: pulumi.Input[str] | None = None,
    ) -> ContainerRegistryCredential:
        """Read an existing credential by uuid (its token is unknown: the API never returns it)."""
        resource = cls.__new__(cls)
        Resource.__init__(
            resource,
            ContainerRegistryCredentialProvider(),
            resource_name,
            {**dict.fromkeys((*INPUTS, *COMPUTED)), "workspace_id": workspace_id},
            pulumi.ResourceOptions.merge(
                with_secret_outputs(opts, ["token"]), pulumi.ResourceOptions(id=id)
            ),
        )
        uuid_from_id(resource)
        return resource
