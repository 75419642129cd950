"""The abstract base of the Miget resource providers: what every resource shares.

A resource's provider subclasses :class:`MigetProvider`, declares its :class:`ResourceSpec`
and its API client, and writes ``create`` and ``update``; ``check``, ``diff``, ``read`` and
``delete`` are written once here, from the spec.

- **Pickling.** dill pickles a provider by reference (module + class name) plus its
  ``__getstate__``, which is empty: ``__provider`` carries no settings, client or secret, so it
  needs no encryption (``serialize_as_secret_always = False``; tests guard both).
- **Settings** come from ``configure()`` — the stack config the engine sends — never from the
  pickle. A configuration error is kept and raised by the first call that needs the API, so
  ``check`` and ``diff`` still work without a key (``pulumi preview`` of a new stack).
- **Where an object lives.** ``check`` resolves the workspace (the resource's ``workspace_id``,
  else ``miget:workspaceId``) into the inputs, so it is recorded in state; read, update and
  delete address the recorded workspace, never today's config. The key's "default workspace" is
  never used: it is whichever workspace the user last clicked in the dashboard. States written by
  0.1.0 without a workspace are migrated by proving the object is in the configured workspace.
- **Adopted objects are never deleted for another resource.** The provider process lives for one
  ``pulumi up``; it remembers what ``adopt`` took over, so when a renamed resource adopts the
  object and the engine then deletes the old resource, the object stays (a warning says so).
- **404 has one meaning per verb**: a GET answers "gone" (refresh drops the object), a PUT
  says "deleted outside Pulumi, refresh first", a DELETE counts as done.
- **The HTTP stack** (``requests``) is imported only when the provider is configured, inside the
  provider process: a Pulumi program that merely declares resources never loads it.
"""

from __future__ import annotations

import abc
import sys
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown

from .errors import ConfigurationError, MigetError, NotFoundError
from .rules.common import is_uuid
from .settings import WORKSPACE_ID, Settings, load_settings, load_workspace
from .spec import ResourceSpec

if TYPE_CHECKING:
    from .api.collection import Collection
    from .api.http import MigetClient

__all__ = [
    "NO_WORKSPACE",
    "MigetProvider",
    "canonical_uuid",
    "changed",
    "is_unknown",
    "same_workspace",
]

NO_WORKSPACE = (
    "no workspace: set workspace_id on the resource, or run "
    f"`pulumi config set {WORKSPACE_ID[0]} <workspace-uuid>` (or set {WORKSPACE_ID[1]}). The UUID "
    "is in the Miget dashboard's URL when the workspace is open (the emulator prints its default "
    "workspace at start). Without one, Miget would use whichever workspace the API key's user "
    "last opened, which can change at any time."
)

ApiT = TypeVar("ApiT", bound="Collection")

# (kind, uuid) of every object `adopt` took over in this provider process (one `pulumi up`).
_ADOPTED: set[tuple[str, str]] = set()
_ADOPTED_LOCK = threading.Lock()


def is_unknown(value: object) -> bool:
    """A value not known yet (preview). The SDK gives Unknown objects; be lenient with the
    wire sentinel too."""
    return isinstance(value, Unknown) or value == pulumi.runtime.rpc.UNKNOWN


def changed(old: object, new: object) -> bool:
    """Whether a field differs; an unknown new value always counts as a change."""
    return is_unknown(new) or old != new


def canonical_uuid(value: Any) -> Any:
    """A UUID in the lower-case form Miget answers with (anything else unchanged)."""
    return value.lower() if is_uuid(value) else value


def same_workspace(old: object, new: object) -> bool:
    """Whether two workspace values name the same workspace (UUIDs compare case-insensitively)."""
    if is_unknown(new):
        return False
    return bool(canonical_uuid(old) == canonical_uuid(new))


class MigetProvider(ResourceProvider, abc.ABC, Generic[ApiT]):
    """Base of the Miget resource providers: empty pickled state, settings from configure(),
    check/diff/read/delete from the resource's spec."""

    serialize_as_secret_always = False
    spec: ClassVar[ResourceSpec]

    def __init__(self) -> None:
        super().__init__()
        self._client: MigetClient | None = None
        self._collection: ApiT | None = None
        self._config_error: ConfigurationError | None = None
        self._settings: Settings | None = None
        self._config_workspace: str | None = None
        self._workspace_error: ConfigurationError | None = None

    @property
    def kind(self) -> str:
        return self.spec.kind

    # ---- what each resource provides ---------------------------------------------------------
    @abc.abstractmethod
    def make_api(self, client: MigetClient) -> ApiT:
        """The resource's API client over ``client`` (called once, by ``configure``)."""

    @abc.abstractmethod
    def create(self, props: dict[str, Any]) -> CreateResult: ...

    @abc.abstractmethod
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult: ...

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
        # The HTTP stack loads only here, in the provider process (not in the program's).
        from .api.http import MigetClient

        self._client = MigetClient(self._settings)
        self._collection = self.make_api(self._client)

    def _api(self) -> ApiT:
        if self._collection is None:
            raise self._config_error or ConfigurationError(
                "the provider was not configured; the Pulumi engine always calls Configure first"
            )
        return self._collection

    def _describe(self, props: Mapping[str, Any], uuid: str | None = None) -> str:
        """How errors name the object, e.g. ``credential 'ghcr-acme' (uuid)``."""
        name = props.get("name")
        label = f"{self.kind} {name!r}" if isinstance(name, str) else self.kind
        return f"{label} ({uuid})" if uuid else label

    def _secrets(self, *props: Mapping[str, Any]) -> list[str]:
        """Values to redact from any error text (the client always redacts the API key)."""
        return [value for p in props for value in self.spec.secret_values(p)]

    def _deleted_outside(self, exc: MigetError) -> MigetError:
        return MigetError(
            f"{exc}. The {self.kind} was deleted outside Pulumi: run `pulumi refresh` and "
            "then `pulumi up` to create it again."
        )

    # ---- check: every rule, before any HTTP call ---------------------------------------------
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs = self.spec.checked_inputs(news, is_unknown)
        failures = self._check_workspace(inputs)
        failures += [
            CheckFailure(v.property, v.reason)
            for v in self.spec.rules(inputs, is_unknown=is_unknown)
        ]
        return CheckResult(inputs, failures)

    # ---- diff: field by field from the spec, never __provider --------------------------------
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        updates: list[str] = []
        replaces: list[str] = []
        for f in self.spec:
            if not f.is_input or f.change == "none" or f.name == "workspace_id":
                continue
            if f.server_default and news.get(f.name) is None:
                continue  # unset: whatever Miget chose stays
            if changed(olds.get(f.name), news.get(f.name)):
                (updates if f.change == "update" else replaces).append(f.name)
        workspace = self._workspace_diff(olds, news)
        if workspace == "replace":
            replaces.append("workspace_id")
        elif workspace == "update":
            updates.append("workspace_id")
        # Delete first only when every replaced field would collide with the old object (an
        # App's new service name or workspace lets both exist for a moment).
        delete_first = bool(replaces) and all(
            self.spec[key].change == "replace_delete_first" for key in replaces
        )
        stables = self.spec.stables if not replaces or self.spec.stables_on_replace else []
        return DiffResult(
            changes=bool(updates or replaces),
            replaces=replaces,
            stables=stables,
            delete_before_replace=delete_first,
        )

    # ---- read (refresh and get): one GET ------------------------------------------------------
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        operation = f"read {self._describe(props, id_)}"
        is_get = props.get("uuid") is None and props.get("created_at") is None
        if is_get:  # Resource.get: inputs only; a missing uuid is an error, not an empty resource
            workspace = props.get("workspace_id") or self._config_workspace
            if not isinstance(workspace, str):
                raise MigetError(f"{operation}: {NO_WORKSPACE}")
            workspace = canonical_uuid(workspace)
            entity = self._api().get(id_, workspace, operation)
            if entity is None:
                raise MigetError(
                    f"read {self.kind} {id_}: not found in workspace {workspace}. Check the "
                    f"uuid passed to .get() and the workspace ('{WORKSPACE_ID[0]}' or "
                    "workspace_id=)."
                )
        else:
            workspace, unproved = self._recorded_workspace(props)
            entity = self._api().get(id_, workspace, operation)
            if entity is None and unproved:
                raise self._not_in_workspace(props, id_, workspace)
            if entity is None:
                return ReadResult("", {})  # gone: refresh drops it, the next up re-creates it
        outs = self.spec.outputs(entity, props, workspace)
        return ReadResult(entity["uuid"], outs, self.spec.read_inputs(outs))

    # ---- delete: one DELETE, 404 counts as done -----------------------------------------------
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        if self._adopted_here(id_):
            # A renamed resource adopted this object during this update; the engine is now
            # deleting the old resource. Deleting would destroy what the stack still uses.
            print(
                f"warning: not deleting {self._describe(props, id_)}: another resource of this "
                "stack adopted it during this update. The old resource leaves the stack; the "
                f"{self.kind} stays in Miget.",
                file=sys.stderr,
            )
            return
        workspace, unproved = self._recorded_workspace(props)
        deleted = self._api().delete(id_, workspace, f"delete {self._describe(props, id_)}")
        if not deleted and unproved:  # a 0.1.0 state: it may live elsewhere; do not forget it
            raise self._not_in_workspace(props, id_, workspace)
        # Not deleted otherwise means already gone (by hand, or a retried DELETE whose first
        # answer was lost): the goal of a delete is met.

    # ---- update helpers -------------------------------------------------------------------------
    def _put(self, call: Any, *args: Any) -> dict[str, Any]:
        """One PUT through the API client; a 404 says the object was deleted outside Pulumi."""
        try:
            result: dict[str, Any] = call(*args)
        except NotFoundError as exc:
            raise self._deleted_outside(exc) from None
        return result

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
        raise MigetError(f"{self._describe(props)} has no workspace recorded: {NO_WORKSPACE}")

    def _not_in_workspace(self, props: Mapping[str, Any], uuid: str, workspace: str) -> MigetError:
        return MigetError(
            f"{self._describe(props, uuid)} was recorded by pulumi-miget 0.1.0 without a "
            f"workspace, and it is not in workspace {workspace} ('{WORKSPACE_ID[0]}'). Set "
            f"'{WORKSPACE_ID[0]}' (or the resource's workspace_id) to the workspace it lives in "
            "and run the command again; nothing was changed. If it no longer exists in Miget, "
            "remove it from the stack with `pulumi state delete <its URN>`."
        )

    def _prove_location(self, olds: Mapping[str, Any], uuid: str, news: Mapping[str, Any]) -> str:
        """The workspace to update ``uuid`` in; for a 0.1.0 state, proved by one GET."""
        workspace, unproved = self._recorded_workspace(olds, news.get("workspace_id"))
        props = {**olds, **news}
        operation = f"read {self._describe(props, uuid)}"
        if unproved and self._api().get(uuid, workspace, operation) is None:
            raise self._not_in_workspace(props, uuid, workspace)
        return workspace

    # ---- adopted objects: never deleted for another resource in the same update --------------
    def _remember_adopted(self, uuid: str) -> None:
        with _ADOPTED_LOCK:
            _ADOPTED.add((self.kind, uuid))

    def _adopted_here(self, uuid: str) -> bool:
        with _ADOPTED_LOCK:
            return (self.kind, uuid) in _ADOPTED
