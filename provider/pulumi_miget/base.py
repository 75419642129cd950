"""What every Miget resource provider shares: the pickled state, the settings, the client.

- **Pickling.** dill pickles a provider by reference (module + class name) plus its
  ``__getstate__``, which is empty: ``__provider`` carries no settings, client or secret, so it
  needs no encryption (``serialize_as_secret_always = False``; tests guard both).
- **Settings** come from ``configure()`` — the stack config the engine sends — never from the
  pickle. A configuration error is kept and raised by the first call that needs the API, so
  ``check`` and ``diff`` still work without a key (``pulumi preview`` of a new stack).
- **404 has one meaning per verb**: a GET answers "gone" (refresh drops the object), a PUT
  says "deleted outside Pulumi, refresh first", a DELETE counts as done.
- **Lost creates.** ``_post_reconciled`` is the one place that decides what to do when the
  answer to a POST is lost; each provider says how to find its object and recognise it.
- **The HTTP stack** (``requests``) is imported only when the provider is configured, inside the
  provider process: a Pulumi program that merely declares resources never loads it.
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import pulumi
from pulumi.dynamic import ConfigureRequest, ResourceProvider
from pulumi.output import Unknown

from .errors import (
    ConfigurationError,
    MigetError,
    NameTakenError,
    NotFoundError,
    ServerError,
    TransportError,
)
from .settings import Settings, load_settings

if TYPE_CHECKING:
    from .client import MigetClient

# How far a lost POST's object may pre-date the create call and still be taken as ours.
CLOCK_SKEW = datetime.timedelta(minutes=5)


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


class MigetProvider(ResourceProvider):
    """Base of the Miget resource providers: empty pickled state, settings from configure()."""

    serialize_as_secret_always = False
    kind: ClassVar[str]  # "credential", "app": how messages name the object

    def __init__(self) -> None:
        super().__init__()
        self._client: MigetClient | None = None
        self._config_error: ConfigurationError | None = None
        self._settings: Settings | None = None

    # ---- pickling: the blob is a class reference and an empty state --------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        # Tolerates any older state shape: nothing in it is needed.
        self.__init__()  # type: ignore[misc]

    # ---- configure: settings from stack config, never from the pickle -------------------------
    def configure(self, req: ConfigureRequest) -> None:
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

    def _workspace(self, props: Mapping[str, Any]) -> Any:
        """The workspace an object lives in: its own input, else the provider's setting."""
        own = props.get("workspace_id")
        if own is not None:
            return own
        return self._settings.workspace_id if self._settings else None

    # ---- read and update: one GET, one PUT -----------------------------------------------------
    def _get_or_none(self, path: str, props: Mapping[str, Any], uuid: str) -> Any:
        """The object, or None when the API says it is gone (404)."""
        try:
            return self._api().request(
                "GET",
                path,
                f"read {self._describe(props, uuid)}",
                workspace_id=self._workspace(props),
            )
        except NotFoundError:
            return None

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
            raise MigetError(
                f"{exc}. The {self.kind} was deleted outside Pulumi: run `pulumi refresh` and "
                "then `pulumi up` to create it again."
            ) from None

    # ---- delete: one DELETE, 404 counts as done ----------------------------------------------
    def _delete(self, path: str, props: Mapping[str, Any], uuid: str) -> None:
        # Already gone (deleted by hand, or a retried DELETE whose first answer was lost): the
        # goal of a delete is met.
        with contextlib.suppress(NotFoundError):
            self._api().request(
                "DELETE",
                path,
                f"delete {self._describe(props, uuid)}",
                workspace_id=self._workspace(props),
            )

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
