"""Deployment: deploys one or more Apps (``POST /apps/{uuid}/deploy``) and waits for them.

    release = Deployment("release", apps=[api, worker], wait=True, timeout_seconds=900)
    Deployment("api-deploy", app=api)

The resource takes from each App its ``id`` and what decides what runs (``image_url``, ``tag``,
``credential_id``, ``command``, ``args``): a *revision*. Environment variables are not part of
a revision in this version (a changed ``env`` deploys nothing; use ``triggers``).

**What changes how.** A changed revision deploys that app (only the apps whose revision changed);
a changed ``triggers`` list deploys every app; ``wait``, ``timeout_seconds`` and
``rollback_on_failure`` alone deploy nothing (change "none"); ``workspace_id`` replaces. The work
itself (config PUT, deploy or attach, polling, logs, rollback) is in :mod:`.rollout`.

**Outputs.** ``status`` (``completed``; ``started`` with ``wait=False``) and ``apps``: app uuid →
``{deployment_id, status, app_state, image, started_at, finished_at}``; ``revisions`` records the
revisions deployed (the input ``apps`` under another name, since ``apps`` is the output map).

**Failure.** The create or update fails naming each failed app, its deployment, final state and
the last log lines; a failed update keeps the old state, so the next ``up`` deploys again.

**Refresh** reports what each app runs now (its newest completed deployment) and never drops
the resource. **Delete** makes no API call: deployments are history, the apps keep running.
"""

from __future__ import annotations

import uuid as uuid_module
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, UpdateResult

from ..errors import MigetError, NotFoundError
from ..options import resource_inputs, resource_options
from ..provider import NO_WORKSPACE, MigetProvider, is_unknown, same_workspace
from ..rules.deployment import check_deployment
from ..spec import Field, ResourceSpec
from ..tokens import MODULE
from .app import App
from .rollout import AppResult, Rollout, normalize_revision, poll_base

if TYPE_CHECKING:
    from ..api.deployments import DeploymentsApi
    from ..api.http import MigetClient

__all__ = ["DEPLOYMENT", "Deployment", "DeploymentArgs", "DeploymentProvider"]

DEFAULT_TIMEOUT_SECONDS = 900
DEPLOYMENT = ResourceSpec(
    kind="deployment",
    rules=check_deployment,
    fields=(
        Field("apps", source="input", doc="input: revisions; output: app uuid -> result"),
        Field("app", source="input", doc="one revision instead of apps"),
        Field("triggers", source="input", empty_is_unset=True),
        Field("wait", change="none", default=True, source="input"),
        Field("timeout_seconds", change="none", default=DEFAULT_TIMEOUT_SECONDS, source="input"),
        Field("rollback_on_failure", change="none", default=False, source="input"),
        Field("workspace_id", uuid=True, change="replace", source="input"),
        Field(
            "redact",
            secret=True,
            change="none",
            source="input",
            doc="the apps' env values, set by the class: redacted from relayed logs, never diffed",
        ),
        Field("status", computed=True),
        Field("revisions", computed=True),
    ),
)
_INPUTS = (
    "app",
    "triggers",
    "wait",
    "timeout_seconds",
    "rollback_on_failure",
    "workspace_id",
    "redact",
)


def _has_unknown(value: object) -> bool:
    if is_unknown(value):
        return True
    if isinstance(value, Mapping):
        return any(_has_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_unknown(v) for v in value)
    return False


def revisions(props: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The checked inputs' revisions (``apps``, or ``[app]``), normalized."""
    items = props.get("apps")
    if items is None:
        items = [props["app"]] if props.get("app") is not None else []
    return [normalize_revision(item) for item in items]


def _recorded(olds: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The revisions state recorded, normalized (nulls do not survive the engine's structs)."""
    return [normalize_revision(item) for item in olds.get("revisions") or []]


class DeploymentProvider(MigetProvider["DeploymentsApi"]):
    """Deploys apps on create and update; delete makes no call (see the module docstring)."""

    spec = DEPLOYMENT

    def make_api(self, client: MigetClient) -> DeploymentsApi:
        from ..api.deployments import DeploymentsApi  # the HTTP stack: provider process only

        return DeploymentsApi(client)

    def _rollout(self, props: Mapping[str, Any], workspace: str) -> Rollout:
        from ..api.apps import AppsApi

        deployments = self._api()
        client = deployments.client
        return Rollout(
            AppsApi(client),
            deployments,
            workspace,
            wait=props.get("wait") is not False,
            timeout=float(props.get("timeout_seconds") or DEFAULT_TIMEOUT_SECONDS),
            rollback=bool(props.get("rollback_on_failure")),
            poll=poll_base(client.settings.api_url),
            secrets=self._secrets(props),  # the apps' env values: never in a relayed log line
        )

    def _deploy(
        self, props: Mapping[str, Any], workspace: str, wanted: Sequence[dict[str, Any]]
    ) -> dict[str, dict[str, Any]]:
        results = self._rollout(props, workspace).run(wanted)
        failed = [r for r in results if r.problem]
        if failed:
            raise MigetError(_failure(failed, len(results)))
        return {r.app_id: r.output() for r in results}

    def _outputs(
        self, props: Mapping[str, Any], workspace: str, apps: dict[str, dict[str, Any]]
    ) -> dict[str, Any]:
        wait = props.get("wait") is not False
        return {
            **{key: props.get(key) for key in _INPUTS},
            "workspace_id": workspace,
            "apps": apps,
            "revisions": revisions(props),
            "status": "completed" if wait else "started",
        }

    # ---- create: deploy every app ---------------------------------------------------------------
    def create(self, props: dict[str, Any]) -> CreateResult:
        workspace = self._new_workspace(props)
        apps = self._deploy(props, workspace, revisions(props))
        return CreateResult(str(uuid_module.uuid4()), self._outputs(props, workspace, apps))

    # ---- diff: revisions and triggers; wait/timeout/rollback never deploy ---------------------
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        if not same_workspace(olds.get("workspace_id"), news.get("workspace_id")):
            return DiffResult(changes=True, replaces=["workspace_id"])
        updates = []
        unknown = _has_unknown(news.get("apps")) or _has_unknown(news.get("app"))
        if unknown or _recorded(olds) != revisions(news):
            updates.append("apps" if news.get("apps") is not None else "app")
        if (olds.get("triggers") or None) != (news.get("triggers") or None):
            updates.append("triggers")
        return DiffResult(changes=bool(updates), replaces=[])

    # ---- update: only the apps whose revision changed (all of them when triggers changed) ------
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        workspace = news.get("workspace_id") or olds.get("workspace_id")
        if not isinstance(workspace, str):
            raise MigetError(f"update deployment {id_}: {NO_WORKSPACE}")
        wanted = revisions(news)
        previous = {r["app_id"]: r for r in _recorded(olds)}
        retrigger = (olds.get("triggers") or None) != (news.get("triggers") or None)
        changed = [r for r in wanted if retrigger or previous.get(r["app_id"]) != r]
        deployed = self._deploy(news, workspace, changed) if changed else {}
        old_apps: Mapping[str, Any] = olds["apps"] if isinstance(olds.get("apps"), Mapping) else {}
        apps = {
            r["app_id"]: deployed.get(r["app_id"]) or dict(old_apps.get(r["app_id"]) or {})
            for r in wanted
        }
        return UpdateResult(self._outputs(news, workspace, apps))

    # ---- read: what each app runs now; never drops the resource --------------------------------
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        from ..api.apps import AppsApi

        workspace = props.get("workspace_id") or self._config_workspace
        if not isinstance(workspace, str):
            raise MigetError(f"read deployment {id_}: {NO_WORKSPACE}")
        api = self._api()
        apps_api = AppsApi(api.client)
        outs = {k: v for k, v in props.items() if k != "__provider"}
        old_apps: Mapping[str, Any] = (
            props["apps"] if isinstance(props.get("apps"), Mapping) else {}
        )
        apps: dict[str, dict[str, Any]] = {}
        for revision in props.get("revisions") or []:
            uuid = revision["app_id"]
            apps[uuid] = dict(old_apps.get(uuid) or {})
            operation = f"refresh deployment {id_}: app {uuid}"
            try:
                listed = api.list_for(uuid, workspace, operation)
                entity = apps_api.get(uuid, workspace, operation)
            except NotFoundError:
                continue  # the app is gone: keep what state says
            current = next((d for d in listed if d["state"] == "completed"), None)
            if current is not None:
                result = AppResult(uuid)
                result.record(current)
                result.app_state = entity.get("state") if entity else None
                apps[uuid] = result.output()
        outs["apps"] = apps
        inputs = {k: outs[k] for k in _INPUTS if outs.get(k) is not None}
        if outs.get("app") is None:
            inputs["apps"] = outs.get("revisions") or []
        return ReadResult(id_, outs, inputs)

    # ---- delete: deployments are history ---------------------------------------------------------
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """No API call: the apps keep running what was deployed."""


def _failure(failed: Sequence[AppResult], total: int) -> str:
    lines = [f"deploy: {len(failed)} of {total} apps failed:"]
    for result in failed:
        lines.append(f"- {result.problem}")
        lines.extend(f"  {note}" for note in result.notes)
    return "\n".join(lines)


AppLike = App | Mapping[str, Any]


def _revision_input(app: pulumi.Input[AppLike] | None) -> Any:
    """An App as its revision map (Outputs resolve in the engine); a map as it is."""
    if isinstance(app, App):
        return {
            "app_id": app.id,
            "image_url": app.image_url,
            "tag": app.tag,
            "credential_id": app.credential_id,
            "command": app.command,
            "args": app.args,
        }
    return app


def _env_values(envs: Sequence[Mapping[str, str] | None]) -> dict[str, str]:
    """Every env value of the apps, keyed by position and name (only the values matter)."""
    return {f"{i}.{k}": v for i, env in enumerate(envs) for k, v in (env or {}).items()}


@dataclass
class DeploymentArgs:
    """The inputs of a :class:`Deployment` (set ``apps`` or ``app``)."""

    apps: Sequence[pulumi.Input[AppLike]] | None = None
    """The apps to deploy: :class:`~pulumi_miget.App` objects or revision maps
    (``{"app_id", "image_url", "tag", "credential_id", "command", "args"}``)."""
    app: pulumi.Input[AppLike] | None = None
    """One app instead of ``apps``."""
    triggers: pulumi.Input[list[Any]] | None = None
    """Any values; a change deploys every app again."""
    wait: pulumi.Input[bool] | None = None
    """Wait until each app runs the new revision (default True)."""
    timeout_seconds: pulumi.Input[float] | None = None
    """How long to wait per app (default 900, at most 86400)."""
    rollback_on_failure: pulumi.Input[bool] | None = None
    """On failure, deploy the previous completed revision again (default False)."""
    workspace_id: pulumi.Input[str] | None = None
    """The apps' workspace; defaults to ``miget:workspaceId``."""


class Deployment(Resource, module=MODULE, name="Deployment"):
    """Deploys Miget apps and waits until they run (see the module docstring)."""

    apps: pulumi.Output[dict[str, dict[str, Any]]]
    app: pulumi.Output[dict[str, Any] | None]
    triggers: pulumi.Output[list[Any] | None]
    wait: pulumi.Output[bool]
    timeout_seconds: pulumi.Output[float]
    rollback_on_failure: pulumi.Output[bool]
    workspace_id: pulumi.Output[str]
    status: pulumi.Output[str]
    revisions: pulumi.Output[list[dict[str, Any]]]

    @overload
    def __init__(
        self, resource_name: str, inputs: DeploymentArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None: ...

    @overload
    def __init__(
        self,
        resource_name: str,
        *,
        apps: Sequence[pulumi.Input[AppLike]] | None = None,
        app: pulumi.Input[AppLike] | None = None,
        triggers: pulumi.Input[list[Any]] | None = None,
        wait: pulumi.Input[bool] | None = None,
        timeout_seconds: pulumi.Input[float] | None = None,
        rollback_on_failure: pulumi.Input[bool] | None = None,
        workspace_id: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None: ...

    def __init__(
        self,
        resource_name: str,
        inputs: DeploymentArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
        **kwargs: Any,
    ) -> None:
        props = resource_inputs("Deployment", DeploymentArgs, inputs, kwargs)
        given = [*(props["apps"] or []), props["app"]]
        envs = [item.env for item in given if isinstance(item, App)]
        if envs:  # the deployment's logs may print them: the provider redacts these values
            props["redact"] = pulumi.Output.secret(pulumi.Output.all(*envs).apply(_env_values))
        if props["apps"] is not None:
            props["apps"] = [_revision_input(item) for item in props["apps"]]
        props["app"] = _revision_input(props["app"])
        super().__init__(
            DeploymentProvider(),
            resource_name,
            {**props, **dict.fromkeys(DEPLOYMENT.computed)},
            resource_options(opts, DEPLOYMENT.secret_outputs, f"Deployment {resource_name!r}"),
        )
