"""ContainerRegistryCredential: the login Miget uses to pull private images.

Read top to bottom: the field spec, the provider (create and update; check, diff, read and
delete come from the spec, in :mod:`pulumi_miget.provider`), and the resource class programs
instantiate, with its typed ``*Args``. The wire shape lives in the API client,
:mod:`pulumi_miget.api.credentials`.

Engine facts this module is built around (see pulumi-dynamic.md):

- The provider is pickled **by reference** into ``__provider``; ``__getstate__`` keeps it empty,
  so the blob holds no settings, no client and no secret. Its pickled name is
  ``pulumi_miget.credential.ContainerRegistryCredentialProvider`` (pinned below; that module
  re-exports it): state written by any release must un-pickle.
- ``olds`` in diff/update/read/delete are the **old outputs**, so every input is echoed into the
  outputs — the token included, under the same key, which keeps it secret in state.
- The engine strips secrets before calling us; nothing here ever prints or raises a token.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

import pulumi
from pulumi.dynamic import CreateResult, Resource, UpdateResult

from ..errors import MigetError
from ..options import read_existing, resource_inputs, resource_options, uuid_from_id
from ..provider import MigetProvider
from ..reconcile import create_reconciled
from ..rules.credential import Registry, check_credential
from ..spec import Field, ResourceSpec
from ..tokens import MODULE

if TYPE_CHECKING:
    from ..api.credentials import CredentialsApi
    from ..api.http import MigetClient

__all__ = [
    "CREDENTIAL",
    "ContainerRegistryCredential",
    "ContainerRegistryCredentialArgs",
    "ContainerRegistryCredentialProvider",
]

CREDENTIAL = ResourceSpec(
    kind="credential",
    rules=check_credential,
    fields=(
        Field("uuid", computed=True, stable=True, doc="also the resource id"),
        Field("name", required=True, doc="unique per workspace"),
        Field("registry", required=True),
        Field("username", required=True),
        Field("token", required=True, secret=True, source="input", doc="Miget never returns it"),
        Field("registry_hostname"),
        Field("skip_validation", change="none", source="input"),
        Field("workspace_id", change="replace", source="input", doc="recorded in state"),
        Field("adopt", change="none", source="input"),
        Field("created_at", computed=True, stable=True),
        Field("updated_at", computed=True),
    ),
)


class ContainerRegistryCredentialProvider(MigetProvider["CredentialsApi"]):
    """CRUD for ``/container_registry_credentials`` (one HTTP round trip per operation)."""

    spec = CREDENTIAL

    def make_api(self, client: MigetClient) -> CredentialsApi:
        from ..api.credentials import CredentialsApi  # the HTTP stack: provider process only

        return CredentialsApi(client)

    # ---- create: one POST (adopt: one lookup, then one PUT or POST) ---------------------------
    def create(self, props: dict[str, Any]) -> CreateResult:
        api = self._api()
        workspace = self._new_workspace(props)
        secrets = self._secrets(props)
        if props.get("adopt"):
            lookup = f"look up {self._describe(props)} by name"
            existing = api.find_by_name(props.get("name"), workspace, lookup)
            if existing is not None:
                uuid = existing["uuid"]
                operation = f"update {self._describe(props, uuid)}"
                body = api.create_body(props)
                entity = self._put(api.put, uuid, body, workspace, operation, secrets)
                self._remember_adopted(entity["uuid"])
                return CreateResult(entity["uuid"], self.spec.outputs(entity, props, workspace))
        entity = create_reconciled(
            api,
            props,
            workspace,
            describe=self._describe(props),
            secrets=secrets,
            is_ours=lambda item: self._is_ours(item, props),
            name_taken=lambda exc, existing: self._name_taken(exc, props, existing),
        )
        return CreateResult(entity["uuid"], self.spec.outputs(entity, props, workspace))

    @staticmethod
    def _is_ours(item: Mapping[str, Any], props: Mapping[str, Any]) -> bool:
        """Whether a credential found after a lost create has the fields this create sent."""
        return all(
            (item.get(key) or None) == (props.get(key) or None)
            for key in ("registry", "username", "registry_hostname")
        )

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

    # ---- update: one PUT with only the changed fields -----------------------------------------
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        api = self._api()
        workspace = self._prove_location(olds, id_, news)
        body = api.update_body(olds, news)
        if not body:  # only skip_validation/adopt changed: nothing to send
            return UpdateResult({**olds, **self.spec.echoed(news, workspace)})
        operation = f"update {self._describe(news, id_)}"
        entity = self._put(api.put, id_, body, workspace, operation, self._secrets(news))
        return UpdateResult(self.spec.outputs(entity, news, workspace))


# The pickled name is API (users' states hold it): pin it to the module that re-exports it.
ContainerRegistryCredentialProvider.__module__ = "pulumi_miget.credential"


@dataclass
class ContainerRegistryCredentialArgs:
    """The inputs of a :class:`ContainerRegistryCredential` (every one accepts an Input)."""

    name: pulumi.Input[str]
    """The credential's name in Miget, unique per workspace."""
    registry: pulumi.Input[Registry | str]
    """One of :class:`Registry` (or its string value, e.g. ``"github"``)."""
    username: pulumi.Input[str]
    """The registry user name (``AWS`` for ECR)."""
    token: pulumi.Input[str]
    """The registry password or access token; stored as a secret."""
    registry_hostname: pulumi.Input[str] | None = None
    """Required for ``generic``, ``aws_ecr`` and ``azure``."""
    skip_validation: pulumi.Input[bool] | None = None
    """Skip Miget's live login check (non-production only)."""
    workspace_id: pulumi.Input[str] | None = None
    """The workspace UUID; defaults to ``miget:workspaceId`` (one of the two is required).
    Recorded in state; changing it replaces the credential."""
    adopt: pulumi.Input[bool] | None = None
    """Take over an existing credential with the same name, made outside this stack."""


class ContainerRegistryCredential(Resource, module=MODULE, name="ContainerRegistryCredential"):
    """A Miget container registry credential.

    Its ``uuid`` goes into an app's ``credential_id``. The ``token`` is always stored as a
    secret. Set ``adopt=True`` to take over an existing credential of the same name made outside
    the stack (Pulumi cannot ``import`` dynamic resources).
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

    @overload
    def __init__(
        self,
        resource_name: str,
        inputs: ContainerRegistryCredentialArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None: ...

    @overload
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
    ) -> None: ...

    def __init__(
        self,
        resource_name: str,
        inputs: ContainerRegistryCredentialArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **kwargs: Any,
    ) -> None:
        """
        :param resource_name: the Pulumi resource name (not sent to Miget).
        :param inputs: the inputs as a :class:`ContainerRegistryCredentialArgs`, or pass them
            as keyword arguments (``name=``, ``registry=``, ...; see that class).
        :param opts: resource options.
        """
        props = resource_inputs(
            "ContainerRegistryCredential", ContainerRegistryCredentialArgs, inputs, kwargs
        )
        props["token"] = pulumi.Output.secret(props["token"])
        super().__init__(
            ContainerRegistryCredentialProvider(),
            resource_name,
            {**props, **dict.fromkeys(CREDENTIAL.computed)},
            resource_options(
                opts, CREDENTIAL.secret_outputs, f"ContainerRegistryCredential {resource_name!r}"
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
    ) -> ContainerRegistryCredential:
        """Read an existing credential by uuid (its token is unknown: the API never returns it).

        The workspace is ``workspace_id``, else ``miget:workspaceId``; a uuid that is not there
        fails with "not found"."""
        resource = cls.__new__(cls)
        read_existing(
            resource,
            ContainerRegistryCredentialProvider(),
            CREDENTIAL,
            resource_name,
            id,
            opts,
            workspace_id,
        )
        return resource
