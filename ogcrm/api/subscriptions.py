"""Live events over graphql-transport-ws: dataset progress, priority changes, news on
the subscriber's own accounts.

Each subscription listens on the event bus (:mod:`ogcrm.events`: in-process, or Redis
pub/sub so a worker's merge reaches every API process) without holding a thread. What
a subscriber may see is checked for every event as it is delivered, against the
database, not only at subscribe time; the token of ``connection_init`` is re-checked
every ``OGCRM_SUBSCRIPTION_RECHECK`` seconds, so an expired or revoked one ends the
stream within that interval. Open subscriptions are capped per connection (Strawberry)
and per user in this process.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import replace
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from ogcrm.accounts import organizations, worklist
from ogcrm.api.authentication import authenticate
from ogcrm.api.context import Context
from ogcrm.api.ids import gid, local_id
from ogcrm.api.types.access import Actor, actor
from ogcrm.api.types.filters import OrganizationFilter, read_filter
from ogcrm.api.types.organization import Organization
from ogcrm.auth.principal import Principal
from ogcrm.datasets import queries as dataset_queries
from ogcrm.db.models import Action, DatasetState, Scope
from ogcrm.errors import AuthenticationFailed, NotFound, RateLimited
from ogcrm.events import ACCOUNTS_CHANNEL, PRIORITY_CHANNEL, AsyncSubscription
from ogcrm.sales import tasks

#: A dataset in one of these waits for a person, or is done: its progress stream ends.
RESTING = frozenset(
    {
        DatasetState.AWAITING_REVIEW,
        DatasetState.MERGED,
        DatasetState.REJECTED,
        DatasetState.FAILED,
        DatasetState.REVERTED,
    }
)

_open_per_user: Counter[int] = Counter()


@contextlib.asynccontextmanager
async def _slot(ctx: Context) -> AsyncIterator[Principal]:
    """One of the user's subscriptions in this process, refused past the cap."""
    principal = ctx.require_principal()
    user = principal.user_id or 0
    if _open_per_user[user] >= ctx.settings.max_subscriptions_per_user:
        raise RateLimited(
            f"{ctx.settings.max_subscriptions_per_user} subscriptions are open for you "
            "already: close one first",
            retry_after=ctx.settings.subscription_recheck,
        )
    _open_per_user[user] += 1
    try:
        yield principal
    finally:
        _open_per_user[user] -= 1
        if _open_per_user[user] <= 0:
            del _open_per_user[user]


class _Listener:
    """Events of one channel while the connection's token holds. Subscribed on entry,
    so what a subscription reads next (a dataset's current state) misses nothing."""

    def __init__(self, ctx: Context, channel: str) -> None:
        self._ctx, self._channel = ctx, channel
        self._sub: AsyncSubscription | None = None

    async def __aenter__(self) -> _Listener:
        if self._ctx.bus is None:
            raise NotFound("this server has no event bus")
        self._sub = await self._ctx.bus.subscribe_async(self._channel)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._sub is not None:
            await self._sub.close()

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Re-checks the token every ``subscription_recheck`` seconds, refreshing the
        principal too (a changed role applies to the next event); a refused token ends
        the stream with its error."""
        assert self._sub is not None
        ctx = self._ctx
        every = float(ctx.settings.subscription_recheck)
        checked = time.monotonic()
        while True:
            wait = max(0.05, every - (time.monotonic() - checked))
            event = await self._sub.get(timeout=min(wait, 1.0))
            if time.monotonic() - checked >= every:
                principal = await authenticate(ctx, ctx.authorization)
                if principal is None:
                    raise AuthenticationFailed("signed out", reason="anonymous")
                ctx.principal = principal
                checked = time.monotonic()
            if event is not None:
                yield event


@strawberry.type(description="A dataset's state and how far its job has got.")
class DatasetProgress:
    dataset_id: relay.GlobalID
    state: str
    rows_done: int | None = None
    rows_total: int | None = None
    counts: JSON | None = strawberry.field(default=None, description="What a merge did.")
    error: str | None = None
    final: bool = strawberry.field(
        default=False, description="A resting state: the stream ends after this event."
    )


@strawberry.type(description="What made a priority move.")
class PriorityCause:
    kind: str = strawberry.field(
        description="rule_set_activated, dataset_merged, dataset_reverted, "
        "interaction_logged, override_set or override_cleared."
    )
    dataset_id: relay.GlobalID | None
    rule_set_id: relay.GlobalID | None
    interaction_id: relay.GlobalID | None
    user_pk: strawberry.Private[int | None]

    @strawberry.field(description="The person behind it, if any.")
    async def by(self, info: Info[Context, None]) -> Actor | None:
        return await actor(info, self.user_pk)


def _cause(raw: dict[str, Any]) -> PriorityCause:
    return PriorityCause(
        kind=str(raw.get("kind", "rescore")),
        dataset_id=gid("Dataset", raw.get("dataset_id")),
        rule_set_id=gid("RuleSet", raw.get("rule_set_id")),
        interaction_id=gid("Interaction", raw.get("interaction_id")),
        user_pk=raw.get("user_id"),
    )


@strawberry.type(description="An account's priority moved.")
class PriorityChange:
    organization: Organization
    old_priority: float
    new_priority: float
    cause: PriorityCause
    at: dt.datetime


@strawberry.type(description="Something happened on one of your accounts.")
class AccountEvent:
    organization: Organization
    kind: str = strawberry.field(
        description="new_permit, new_well, operator_transfer, production_reported, "
        "contact_details_changed, reassigned, interaction_logged, ..."
    )
    summary: str
    dataset_id: relay.GlobalID | None = strawberry.field(description="The dataset behind it.")
    data: JSON
    at: dt.datetime
    user_pk: strawberry.Private[int | None]

    @strawberry.field(description="The person behind it (null: a dataset).")
    async def by(self, info: Info[Context, None]) -> Actor | None:
        return await actor(info, self.user_pk)


def _progress(dataset_id: int, raw: dict[str, Any]) -> DatasetProgress:
    state = str(raw.get("stage") or raw.get("state"))
    return DatasetProgress(
        dataset_id=relay.GlobalID("Dataset", str(dataset_id)),
        state=state,
        rows_done=raw.get("rows_done"),
        rows_total=raw.get("rows_total"),
        counts=raw.get("counts"),
        error=raw.get("error"),
        final=state in RESTING,
    )


async def _dataset(ctx: Context, dataset_id: int) -> Any:
    found = await ctx.read(dataset_queries.datasets_by_ids, ctx.require_principal(), [dataset_id])
    return found.get(dataset_id)


def _stored(progress: DatasetProgress, row: Any) -> DatasetProgress:
    """``progress`` with what the database holds of the dataset: rows, counts, error."""
    progress.rows_done = row.rows_read
    progress.rows_total = row.rows_read if row.state in RESTING else None
    progress.counts, progress.error = row.counts or None, row.error
    return progress


async def _readable(ctx: Context, organization_id: int) -> Organization | None:
    """The account as the subscriber may see it now, or ``None``."""
    found = await ctx.read(
        organizations.organizations_by_ids, ctx.require_principal(), [organization_id]
    )
    row = found.get(organization_id)
    return Organization.from_row(row) if row is not None else None


def _may_concern(principal: Principal, owner_id: int | None) -> bool:
    """A cheap first sieve before the database says: an own-scope rep is never sent
    another rep's account."""
    scope = principal.scope("organization", Action.READ)
    if scope is Scope.OWN:
        return owner_id is None or owner_id == principal.user_id
    return scope is not Scope.NONE or owner_id is None


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="A dataset's state changes and rows processed or merged, from its "
        "current state until it rests (awaiting review, merged, failed, rejected, reverted)."
    )
    async def dataset_progress(
        self, info: Info[Context, None], id: relay.GlobalID
    ) -> AsyncGenerator[DatasetProgress, None]:
        ctx = info.context
        dataset_id = local_id(id, "Dataset")
        async with _slot(ctx), _Listener(ctx, f"dataset:{dataset_id}") as listener:
            # listening before reading the state: nothing falls between the two
            row = await _dataset(ctx, dataset_id)
            if row is None:
                raise NotFound(f"dataset {dataset_id} not found")
            # approved and waiting for its merge job: not at rest
            resting = row.state in RESTING and not (
                row.state is DatasetState.AWAITING_REVIEW and row.reviewed_at is not None
            )
            current = _stored(_progress(dataset_id, {"stage": str(row.state)}), row)
            current.final = resting
            yield current
            if current.final:
                return
            async for raw in listener.events():
                progress = _progress(dataset_id, raw)
                if progress.final and (row := await _dataset(ctx, dataset_id)) is not None:
                    progress = _stored(progress, row)  # the last word is the database's
                yield progress
                if progress.final:
                    return

    @strawberry.subscription(
        description="Accounts you may see whose priority moved, with old and new value "
        "and what caused it; `filter` narrows them as on the working list."
    )
    async def priority_changed(
        self, info: Info[Context, None], filter: OrganizationFilter | None = None
    ) -> AsyncGenerator[PriorityChange, None]:
        ctx = info.context
        where = read_filter(filter) if filter is not None else None
        async with _slot(ctx), _Listener(ctx, PRIORITY_CHANNEL) as listener:
            async for raw in listener.events():
                org_id = raw.get("organization_id")
                if org_id is None or not _may_concern(ctx.require_principal(), raw.get("owner_id")):
                    continue
                org = await _matching(ctx, int(org_id), where)
                if org is None:
                    continue
                yield PriorityChange(
                    organization=org,
                    old_priority=float(raw["old"]),
                    new_priority=float(raw["new"]),
                    cause=_cause(raw.get("cause") or {}),
                    at=dt.datetime.fromisoformat(raw["at"]),
                )

    @strawberry.subscription(
        description="Anything that happens on the accounts you own: new permits, wells, "
        "operator transfers, changed contact details, reassignment, interactions; with "
        "the dataset or person behind it."
    )
    async def my_accounts_changed(
        self, info: Info[Context, None]
    ) -> AsyncGenerator[AccountEvent, None]:
        ctx = info.context
        async with _slot(ctx), _Listener(ctx, ACCOUNTS_CHANNEL) as listener:
            async for raw in listener.events():
                me = ctx.require_principal().user_id
                if me is None or raw.get("owner_id") != me:
                    continue
                org = await _readable(ctx, int(raw["organization_id"]))
                if org is None or not await _still_mine(ctx, raw, org, me):
                    continue
                yield AccountEvent(
                    organization=org,
                    kind=str(raw["kind"]),
                    summary=str(raw.get("summary", "")),
                    dataset_id=gid("Dataset", raw.get("dataset_id")),
                    data=raw.get("data") or {},
                    at=dt.datetime.fromisoformat(raw["at"]),
                    user_pk=raw.get("user_id"),
                )


async def _still_mine(ctx: Context, raw: dict[str, Any], org: Organization, me: int) -> bool:
    """Whether an event addressed to ``me`` is still theirs when it is delivered: the
    account's owner for account events; for a task reminder, the task's assignee,
    whoever owns the account (a manager's task on a rep's account reminds the manager)."""
    task_id = (raw.get("data") or {}).get("task_id") if raw.get("kind") == "task_due" else None
    if task_id is None:
        return org.owner_pk == me
    return await ctx.read(tasks.assignee_of, ctx.require_principal(), int(task_id)) == me


async def _matching(ctx: Context, organization_id: int, where: Any | None) -> Organization | None:
    if where is None:
        return await _readable(ctx, organization_id)
    one = replace(where, ids=(organization_id,))

    def _one(session: Any) -> Any:
        page = worklist.list_organizations(session, ctx.require_principal(), first=1, where=one)
        return page.rows[0] if page.rows else None

    row = await ctx.read(_one)
    return Organization.from_listed(row) if row is not None else None
