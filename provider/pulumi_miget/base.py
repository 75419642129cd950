"""What every Miget resource provider shares: the pickled state, the settings, the client.

- **Pickling.** dill pickles a provider by reference (module + class name) plus its
  ``__getstate__``, which is empty: ``__provider`` carries no settings, client or secret, so it
  needs no encryption (``serialize_as_secret_always = False``; tests guard both).
- **Settings** come from ``configure()`` — the stack config the engine sends — never from the
  pickle. A configuration error is kept and raised by the first call that needs the API, so
  ``check`` and ``diff`` still work without a key (``pulumi preview`` of a new stack).
- **404 has one meaning per verb**: a GET answers "gone" (refresh drops the object), a PUT
  says "deleted outside Pulumi, refresh first", a DELETE counts as done.
- **Where an object lives.** ``check`` resolves the workspace (the resource's ``workspace_id``,
  else ``miget:workspaceId``) into the inputs, so it is recorded in state; read, update and
  delete address the recorded workspace, never today's config. The key's "default workspace" is
  never used: it is whichever workspace the user last clicked in the dashboard. States written by
  0.1.0 without a workspace are migrated by proving the object is in the configured workspace.
- **Adopted objects are never deleted for another resource.** The provider process lives for one
  ``pulumi up``; it remembers what ``adopt`` took over, so when a renamed resource adopts the
  object and the engine then deletes the old resource, the object stays (a warning says so).
- **Lost creates.** ``_post_reconciled`` is the one place that decides what to do when the
  answer to a POST is lost; each provider says how to find its object and recognise it.
- **The HTTP stack** (``requests``) is imported only when the provider is configured, inside the
  provider process: a Pulumi program that merely declares resources never loads it.
"""

from __future__ import annotations

import datetime
import sys
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import pulumi
from pulumi.dynamic import CheckFailure, ConfigureRequest, ResourceProvider
from pulumi.output import Unknown

from .errors import (
    ConfigurationError,
    MigetError,
    NameTakenError,
    NotFoundError,
    ResourceOptionsError,
    ServerError,
    TransportError,
)
from .rules import is_uuid
from .settings import WORKSPACE_ID, Settings, load_settings, load_workspace

if TYPE_CHECKING:
    from .client import MigetClient

# How far a lost POST's object may pre-date the create call and still be taken as ours.
CLOCK_SKEW = datetime.timedelta(minutes=5)


NO_WORKSPACE = (
    "no workspace: set workspace_id on the resource, or run "
    f"`pulumi config set {WORKSPACE_ID[0]} <workspace-uuid>` (or set {WORKSPACE_ID[1]}). The UUID "
    "is in the Miget dashboard's URL when the workspace is open (the emulator prints its default "
    "workspace at start). Without one, Miget would use whichever workspace the API key's user "
    "last opened, which can change at any time."
)

# (kind, uuid) of every object `adopt` took over in this provider process (one `pulumi up`).
_ADOPTED: set[tuple[str, str]] = set()
_ADOPTED_LOCK = threading.Lock()


def canonical_uuid(value: Any) -> Any:
    """A UUID in the lower-case form Miget answers with (anything else unchanged)."""
    return value.lower() if is_uuid(value) else value


def same_workspace(old: object, new: object) -> bool:
    """Whether two workspace values name the same workspace (UUIDs compare case-insensitively)."""
    if is_unknown(new):
        return False
    return bool(canonical_uuid(old) == canonical_uuid(new))


def is_unknown(value: object) -> bool:
    """A value not known yet (preview). The SDK gives Unknown objects; be lenient with the
    wire sentinel too."""
    return isinstance(value, Unknown) or value == pulumi.runtime.rpc.UNKNOWN


def changed(old: object, new: object) -> bool:
    """Whether a field differs; an unknown new value always counts as a change."""
    return is_unknown(new) or old != new


def parse_time(value: object) -> datetime.datetime | None:
    """An API timestamp (``…Z``, with or without milliseconds), or None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def created_during(item: Mapping[str, Any], started: datetime.datetime) -> bool:
    """Whether an object found after a lost create was made by that create (give or take skew)."""
    created = parse_time(item.get("created_at"))
    return created is None or created >= started - CLOCK_SKEW


def with_secret_outputs(
    opts: pulumi.ResourceOptions | None, keys: list[str]
) -> pulumi.ResourceOptions:
    """The program's options plus ``additional_secret_outputs`` for ``keys``."""
    return pulumi.ResourceOptions.merge(
        opts, pulumi.ResourceOptions(additional_secret_outputs=keys)
    )


def resource_options(
    opts: pulumi.ResourceOptions | None,
    secret_keys: list[str],
    resource: str,
    *,
    needs_delete_first: str | None = None,
) -> pulumi.ResourceOptions:
    """The options a Miget resource registers with, after refusing what the engine would
    silently mishandle (pulumi-dynamic.md, "Engine audit"):

    - ``replace_on_changes`` is ignored for Python dynamic resources (the server sends no
      detailed diff, step_generator.go applyReplaceOnChanges): point at ``replacement_trigger``;
    - a ``replacement_trigger`` replace never asks the provider's Diff, so the engine creates the
      new object before deleting the old one: with the same name in the same workspace that
      fails, unless ``delete_before_replace=True``;
    - the user's ``delete_before_replace`` overrides the provider's answer
      (step_generator.go:2043-2046): ``needs_delete_first`` says why this resource may not be
      given ``delete_before_replace=False``.
    """
    if opts is not None:
        if opts.replace_on_changes:
            raise ResourceOptionsError(
                f"{resource}: replace_on_changes is ignored by the Pulumi engine for dynamic "
                "providers such as this one. To force a replacement, use "
                "pulumi.ResourceOptions(replacement_trigger=<a value that changes>, "
                "delete_before_replace=True) (Pulumi SDK >= 3.214)."
            )
        if needs_delete_first and opts.delete_before_replace is False:
            raise ResourceOptionsError(
                f"{resource}: delete_before_replace=False cannot be used with this resource: "
                f"{needs_delete_first} Leave delete_before_replace unset."
            )
        trigger = getattr(opts, "replacement_trigger", None)
        if trigger is not None and opts.delete_before_replace is not True:
            raise ResourceOptionsError(
                f"{resource}: replacement_trigger needs delete_before_replace=True: a triggered "
                "replacement keeps the name, which Miget allows only once per workspace, so the "
                "old object must be deleted before the new one is created."
            )
    return with_secret_outputs(opts, secret_keys)


def uuid_from_id(resource: pulumi.CustomResource) -> None:
    """Make ``resource.uuid`` the resource id.

    In a preview of an update the engine answers with the checked inputs as outputs, so every
    output the provider computes (``uuid`` too) is unknown; only the id stays known
    (provider_plugin.go:1709-1714, step.go:963). The uuid *is* the id, so taking it from there
    keeps it known: an App using ``credential.uuid`` does not preview as changed on every token
    rotation. The id Output carries the dependency on the resource, as ``uuid`` did.
    """
    resource.uuid = resource.id  # type: ignore[attr-defined]


class MigetProvider(ResourceProvider):
    """Base of the Miget resource providers: empty pickled state, settings from configure()."""

    serialize_as_secret_always = False
    kind: ClassVar[str]  # "credential", "app": how messages name the object

    def __init__(self) -> None:
        super().__init__()
        self._client: MigetClient | None = None
        self._config_error: ConfigurationError | None = None
        self._settings: Settings | None = None
        self._config_workspace: str | None = None
        self._workspace_error: ConfigurationError | None = None

    # ---- pickling: the blob is a class reference and an empty state --------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        # Tolerates any older state shape: nothing in it is needed.
        self.__init__()  # type: ignore[misc]

    # ---- configure: settings from stack config, never from the pickle -------------------------
    def configure(self, req: ConfigureRequest) -> None:
        try:
            self._config_workspace = load_workspace(req.config.get)
        except ConfigurationError as exc:
            self._workspace_error = exc  # reported by check on workspace_id
        try:
            self._settings = load_settings(req.config.get)
        except ConfigurationError as exc:
            self._config_error = exc  # raised by the first call that needs the API
            return
        from .client import MigetClient  # the HTTP stack loads only in the provider process

        self._client = MigetClient(self._settings)

    def _api(self) -> MigetClient:
        if self._client is None:
            raise self._config_error or ConfigurationError(
                "the provider was not configured; the Pulumi engine always calls Configure first"
            )
        return self._client

    # ---- where an object lives ----------------------------------------------------------------
    def _check_workspace(self, inputs: dict[str, Any]) -> list[CheckFailure]:
        """Resolve the workspace into the checked inputs (so state records it), or fail."""
        own = inputs.get("workspace_id")
        if own is not None:
            inputs["workspace_id"] = canonical_uuid(own)  # the rules report a non-UUID
            return []
        if self._workspace_error is not None:
            return [CheckFailure("workspace_id", str(self._workspace_error))]
        if self._config_workspace is None:
            return [CheckFailure("workspace_id", NO_WORKSPACE)]
        inputs["workspace_id"] = self._config_workspace
        return []

    def _workspace_diff(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> str | None:
        """``"replace"`` for a move to another workspace, ``"update"`` for a 0.1.0 state that
        recorded none (update proves where the object is and records it), else None."""
        if olds.get("workspace_id") is None:
            return "update"
        if same_workspace(olds.get("workspace_id"), news.get("workspace_id")):
            return None
        return "replace"

    def _new_workspace(self, props: Mapping[str, Any]) -> str:
        """Where a create goes: the workspace check resolved into the inputs."""
        workspace = props.get("workspace_id")
        if not isinstance(workspace, str) or not workspace:
            raise MigetError(f"create {self._describe(props)}: {NO_WORKSPACE}")
        return workspace

    def _recorded_workspace(
        self, props: Mapping[str, Any], fallback: object = None
    ) -> tuple[str, bool]:
        """The workspace an object lives in, and whether it still has to be proved there.

        The recorded one when state has it. A 0.1.0 state has none: then ``fallback`` (the
        new inputs' workspace, on update) or the configured workspace, which the caller must
        prove with a GET before trusting it."""
        recorded = props.get("workspace_id")
        if isinstance(recorded, str) and recorded:
            return recorded, False
        candidate = fallback if isinstance(fallback, str) and fallback else self._config_workspace
        if candidate is not None:
            return canonical_uuid(candidate), True
        raise MigetError(
            f"{self._describe(props)} has no workspace recorded in state: {NO_WORKSPACE}"
        )

    def _not_in_workspace(self, props: Mapping[str, Any], uuid: str, workspace: str) -> MigetError:
        return MigetError(
            f"{self._describe(props, uuid)} was recorded by pulumi-miget 0.1.0 without a "
            f"workspace, and it is not in workspace {workspace} ('{WORKSPACE_ID[0]}'). Set "
            f"'{WORKSPACE_ID[0]}' (or the resource's workspace_id) to the workspace it lives in "
            "and run the command again; nothing was changed. If it no longer exists in Miget, "
            "remove it from the stack with `pulumi state delete <its URN>`."
        )

    def _prove_location(
        self, path: str, olds: Mapping[str, Any], uuid: str, news: Mapping[str, Any]
    ) -> str:
        """The workspace to update ``uuid`` in; for a 0.1.0 state, proved by one GET."""
        workspace, unproved = self._recorded_workspace(olds, news.get("workspace_id"))
        props = {**olds, **news}
        if unproved and self._get_or_none(path, props, uuid, workspace) is None:
            raise self._not_in_workspace(props, uuid, workspace)
        return workspace

    # ---- adopted objects: never deleted for another resource in the same update --------------
    def _remember_adopted(self, uuid: str) -> None:
        with _ADOPTED_LOCK:
            _ADOPTED.add((self.kind, uuid))

    def _adopted_here(self, uuid: str) -> bool:
        with _ADOPTED_LOCK:
            return (self.kind, uuid) in _ADOPTED

    # ---- read and update: one GET, one PUT -----------------------------------------------------
    def _get_or_none(self, path: str, props: Mapping[str, Any], uuid: str, workspace: str) -> Any:
        """The object, or None when the API says it is gone (404)."""
        try:
            return self._api().request(
                "GET",
                path,
                f"read {self._describe(props, uuid)}",
                workspace_id=workspace,
            )
        except NotFoundError:
            return None

    def _read_item(self, path: str, id_: str, props: Mapping[str, Any]) -> tuple[Any, str]:
        """The object for ``read`` and the workspace it was found in; None when it is gone.

        A ``.get()`` (no ``uuid`` in props: inputs only) of a missing object is an error, not an
        empty resource; so is a 0.1.0 state whose object is not in the configured workspace."""
        is_get = props.get("uuid") is None and props.get("created_at") is None
        if is_get:
            workspace = props.get("workspace_id") or self._config_workspace
            if not isinstance(workspace, str):
                raise MigetError(f"read {self._describe(props, id_)}: {NO_WORKSPACE}")
            workspace = canonical_uuid(workspace)
            item = self._get_or_none(path, props, id_, workspace)
            if item is None:
                raise MigetError(
                    f"read {self.kind} {id_}: not found in workspace {workspace}. Check the "
                    f"uuid passed to .get() and the workspace ('{WORKSPACE_ID[0]}' or "
                    "workspace_id=)."
                )
            return item, workspace
        workspace, unproved = self._recorded_workspace(props)
        item = self._get_or_none(path, props, id_, workspace)
        if item is None and unproved:
            raise self._not_in_workspace(props, id_, workspace)
        return item, workspace

    def _put(
        self,
        path: str,
        body: dict[str, Any],
        props: Mapping[str, Any],
        uuid: str,
        workspace: str | None,
    ) -> Any:
        try:
            return self._api().request(
                "PUT",
                path,
                f"update {self._describe(props, uuid)}",
                body=body,
                workspace_id=workspace,
                secrets=self._secrets(props),
            )
        except NotFoundError as exc:
            raise self._deleted_outside(exc) from None

    def _deleted_outside(self, exc: MigetError) -> MigetError:
        return MigetError(
            f"{exc}. The {self.kind} was deleted outside Pulumi: run `pulumi refresh` and "
            "then `pulumi up` to create it again."
        )

    # ---- delete: one DELETE, 404 counts as done ----------------------------------------------
    def _delete(self, path: str, props: Mapping[str, Any], uuid: str) -> None:
        if self._adopted_here(uuid):
            # A renamed resource adopted this object during this update; the engine is now
            # deleting the old resource. Deleting would destroy what the stack still uses.
            print(
                f"warning: not deleting {self._describe(props, uuid)}: another resource of this "
                "stack adopted it during this update. The old resource leaves the stack; the "
                f"{self.kind} stays in Miget.",
                file=sys.stderr,
            )
            return
        workspace, unproved = self._recorded_workspace(props)
        try:
            self._api().request(
                "DELETE", path, f"delete {self._describe(props, uuid)}", workspace_id=workspace
            )
        except NotFoundError:
            if unproved:  # a 0.1.0 state: it may live in another workspace; do not forget it
                raise self._not_in_workspace(props, uuid, workspace) from None
            # Already gone (deleted by hand, or a retried DELETE whose first answer was lost):
            # the goal of a delete is met.

    # ---- create: one POST, reconciled when its answer is lost ---------------------------------
    def _post_reconciled(
        self, api: MigetClient, path: str, props: Mapping[str, Any], workspace: str | None
    ) -> Any:
        """POST ``_create_body(props)`` and return the created object.

        After a timeout, a dropped connection or a 500/502/504 the object may have been created;
        posting again would fail with "name taken" (or make a duplicate). So look it up
        (``_find_existing``): if it is there, ``_is_ours`` and was created during this call, it
        is adopted; if not there, post again (the client's retry budget and backoff decide how
        often and how fast). A slow earlier attempt can still land between the lookup and the
        next POST, which then answers "name taken": after an ambiguous attempt that answer is
        reconciled the same way instead of being reported.
        """
        started = datetime.datetime.now(datetime.timezone.utc)
        budget = api.retry_budget()
        operation = f"create {self._describe(props)}"
        ambiguous = False  # an earlier attempt of this call may have created the object

        def ours(item: Mapping[str, Any] | None) -> bool:
            return item is not None and self._is_ours(item, props) and created_during(item, started)

        while True:
            try:
                return api.request(
                    "POST",
                    path,
                    operation,
                    body=self._create_body(props),
                    workspace_id=workspace,
                    secrets=self._secrets(props),
                )
            except NameTakenError as exc:
                existing = self._find_existing(api, props, workspace)
                if ambiguous and ours(existing):
                    return existing
                raise self._name_taken(exc, props, existing) from None
            except (TransportError, ServerError) as exc:
                if isinstance(exc, ServerError) and exc.status not in (500, 502, 504):
                    raise
                ambiguous = True
                try:
                    existing = self._find_existing(api, props, workspace)
                except MigetError:
                    raise exc from None  # the lookup failed too: report the create's failure
                if ours(existing):
                    return existing
                if existing is not None:
                    raise self._name_taken(exc, props, existing) from None
                if not budget.spend():
                    raise
                budget.sleep()

    # ---- hooks each provider fills in ---------------------------------------------------------
    def _describe(self, props: Mapping[str, Any], uuid: str | None = None) -> str:
        """How errors name the object, e.g. ``credential 'ghcr-acme' (uuid)``."""
        name = props.get("name")
        label = f"{self.kind} {name!r}" if isinstance(name, str) else self.kind
        return f"{label} ({uuid})" if uuid else label

    def _create_body(self, props: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def _secrets(self, props: Mapping[str, Any]) -> list[str | None]:
        """Values to redact from any error text (the client always redacts the API key)."""
        raise NotImplementedError

    def _find_existing(
        self, api: MigetClient, props: Mapping[str, Any], workspace: str | None
    ) -> Mapping[str, Any] | None:
        raise NotImplementedError

    def _is_ours(self, item: Mapping[str, Any], props: Mapping[str, Any]) -> bool:
        """Whether a found object has the fields this create asked for."""
        raise NotImplementedError

    def _name_taken(
        self, exc: MigetError, props: Mapping[str, Any], existing: Mapping[str, Any] | None
    ) -> MigetError:
        raise NotImplementedError
