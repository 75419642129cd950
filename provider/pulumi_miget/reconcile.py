"""Lost-create reconciliation: the one place that decides what to do when a POST's answer is lost.

After a timeout, a dropped connection or a 500/502/504 the object may have been created;
posting again would fail with "name taken" (or make a duplicate). So :func:`post_reconciled`
looks it up by name: if it is there, is the object this create asked for (``is_ours``) and was
created during this call, it is adopted; if not there, it posts again (the client's retry
budget and backoff decide how often and how fast). A slow earlier attempt can still land between
the lookup and the next POST, which then answers "name taken": after an ambiguous attempt that
answer is reconciled the same way instead of being reported.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .errors import MigetError, NameTakenError, ServerError, TransportError

if TYPE_CHECKING:
    from .api.collection import Collection
    from .api.http import RetryBudget

__all__ = ["CLOCK_SKEW", "create_reconciled", "created_during", "parse_time", "post_reconciled"]

# How far a lost POST's object may pre-date the create call and still be taken as ours.
CLOCK_SKEW = datetime.timedelta(minutes=5)
# Server errors after which the POST may have been applied (503 promises it was not).
_AMBIGUOUS_STATUSES = (500, 502, 504)

Entity = dict[str, Any]


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


def post_reconciled(
    *,
    post: Callable[[], Entity],
    find: Callable[[], Entity | None],
    is_ours: Callable[[Mapping[str, Any]], bool],
    name_taken: Callable[[MigetError, Mapping[str, Any] | None], MigetError],
    budget: RetryBudget,
) -> Entity:
    """POST (``post``) and return the created object, reconciling a lost answer by name.

    ``find`` looks the object up by name, ``is_ours`` says whether a found object has the
    fields this create asked for, ``name_taken`` builds the error for a name held by another.
    """
    started = datetime.datetime.now(datetime.timezone.utc)
    ambiguous = False  # an earlier attempt of this call may have created the object

    def ours(item: Mapping[str, Any] | None) -> bool:
        return item is not None and is_ours(item) and created_during(item, started)

    while True:
        try:
            return post()
        except NameTakenError as exc:
            existing = find()
            if ambiguous and existing is not None and ours(existing):
                return existing
            raise name_taken(exc, existing) from None
        except (TransportError, ServerError) as exc:
            if isinstance(exc, ServerError) and exc.status not in _AMBIGUOUS_STATUSES:
                raise
            ambiguous = True
            try:
                existing = find()
            except MigetError:
                raise exc from None  # the lookup failed too: report the create's failure
            if existing is not None and ours(existing):
                return existing
            if existing is not None:
                raise name_taken(exc, existing) from None
            if not budget.spend():
                raise
            budget.sleep()


def create_reconciled(
    api: Collection,
    props: Mapping[str, Any],
    workspace: str,
    *,
    describe: str,
    secrets: list[str],
    is_ours: Callable[[Mapping[str, Any]], bool],
    name_taken: Callable[[MigetError, Mapping[str, Any] | None], MigetError],
) -> Entity:
    """Create ``props`` in ``workspace`` through the collection ``api`` (its ``create`` and
    ``find_by_name``), reconciled by :func:`post_reconciled`; ``describe`` names the object in
    error messages (``credential 'ghcr-acme'``)."""
    lookup = f"look up {describe} by {api.name_label}"
    return post_reconciled(
        post=lambda: api.create(props, workspace, f"create {describe}", secrets),
        find=lambda: api.find_by_name(props.get("name"), workspace, lookup),
        is_ours=is_ours,
        name_taken=name_taken,
        budget=api.client.retry_budget(),
    )
