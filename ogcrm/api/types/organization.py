"""Organization: the account a sales rep works, as GraphQL sees it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry
from strawberry import relay
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from ogcrm.accounts import account_page as page
from ogcrm.accounts import holdings, worklist
from ogcrm.api.context import Context
from ogcrm.api.ids import gid, page_info
from ogcrm.api.loaders import NOT_READ, Ahead
from ogcrm.api.pagination import check_first, decode_cursor, encode_cursor
from ogcrm.api.selection import asked
from ogcrm.api.types.access import Actor, User, actor
from ogcrm.api.types.filters import PermitFilter
from ogcrm.api.types.interaction import Interaction
from ogcrm.api.types.regulatory import (
    AgencyIdentifier,
    FieldChange,
    MonthlyProduction,
    Permit,
    PermitConnection,
    PermitOrder,
    ScoreRecord,
    TimelineEvent,
    Well,
    WellConnection,
    WellFilter,
    WellOrder,
)
from ogcrm.api.types.task import Task
from ogcrm.db import models
from ogcrm.db.types import utcnow
from ogcrm.errors import InvalidInput

if TYPE_CHECKING:
    from ogcrm.api.types.contact import Contact

T = TypeVar("T")


@strawberry.type(description="A manual priority in force, instead of the rule score.")
class PriorityOverride:
    value: float
    reason: str | None
    until: dt.datetime | None = strawberry.field(description="Null: until cleared.")
    by_pk: strawberry.Private[int | None]

    @strawberry.field(description="Who set it.")
    async def by(self, info: Info[Context, None]) -> Actor | None:
        return await actor(info, self.by_pk)


@strawberry.type(description="What one rule added to the score.")
class ScoreContribution:
    rule: str
    weight: float
    value: float = strawberry.field(
        description="What the rule's logic gave (true counts 1); contribution = value x weight."
    )
    contribution: float


@strawberry.type(description="The score as the last rescore stored it, and why.")
class ScoreExplanation:
    rule_set_id: relay.GlobalID | None
    computed_at: dt.datetime | None
    contributions: list[ScoreContribution] = strawberry.field(
        description="The rules that added something, in the rule set's order."
    )


@strawberry.type(description="Figures for a list row, as the scoring rules see them.")
class HeadlineFigures:
    permits_90d: int
    active_wells: int
    oil_bbl_12m: float
    gas_mcf_12m: float
    production_trend: float | None = strawberry.field(
        description="Last 6 months of production (BOE) against the 6 before, as a fraction: 0.25 is up a quarter; null without earlier production."
    )


# strawberry.enum marks the model's own class: fields are annotated with it directly
strawberry.enum(models.OrganizationStatus, name="OrganizationStatus")


@strawberry.type
class Organization(relay.Node):
    """An operator or company, with its effective priority."""

    id: relay.NodeID[int]
    name: str
    normalized_name: str = strawberry.field(description="Matching key used for deduplication.")
    status: models.OrganizationStatus
    priority: float = strawberry.field(
        description="Effective priority: a manual override in force, else the rule score."
    )
    street: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    phone: str | None
    website: str | None
    aliases: list[str] = strawberry.field(description="Other names it goes by.")
    owner_id: relay.GlobalID | None = strawberry.field(
        description="The owning user; null for a prospect."
    )
    created_at: dt.datetime
    score: float = strawberry.field(description="The rule score, before any override.")
    scored_at: dt.datetime | None
    owner_pk: strawberry.Private[int | None]
    snapshot_pk: strawberry.Private[int | None]
    override_row: strawberry.Private[
        tuple[float | None, str | None, dt.datetime | None, int | None]
    ]

    #: What the page read ahead for its rows (:class:`ogcrm.api.loaders.Ahead`), if any.
    ahead: strawberry.Private[Ahead | None] = None

    def _ahead_or(
        self,
        info: Info[Context, None],
        loader: str,
        key: int,
        build: Callable[[Any], T],
    ) -> T | Awaitable[T]:
        """``build`` of this row's value of the relation of ``loader`` (a
        :class:`~ogcrm.api.loaders.Loaders` attribute): a plain value when the page read
        it ahead, else awaitable from the loader (fields that use this are not
        ``async``, so a page of fifty makes no coroutines for them)."""
        relation: DataLoader[int, Any] = getattr(info.context.loaders, loader)
        if self.ahead is not None:
            found = self.ahead.value(relation, key)
            if found is not NOT_READ:
                return build(found)

        async def load() -> T:
            return build(await relation.load(key))

        return load()

    @strawberry.field(description="The owning user (null for a prospect, or one you may not see).")
    def owner(self, info: Info[Context, None]) -> User | None:
        if self.owner_pk is None:
            return None
        return self._ahead_or(info, "user", self.owner_pk, _user)  # type: ignore[return-value]

    @strawberry.field(description="The manual priority, if one is in force.")
    def override(self) -> PriorityOverride | None:
        value, reason, until, by = self.override_row
        if value is None or (until is not None and until <= utcnow()):
            return None
        return PriorityOverride(value=value, reason=reason, until=until, by_pk=by)

    @strawberry.field(description="Why the score is what it is: each rule that added something.")
    def explanation(self, info: Info[Context, None]) -> ScoreExplanation | None:
        if self.snapshot_pk is None:
            return None
        return self._ahead_or(info, "explanation", self.snapshot_pk, _explained)  # type: ignore[return-value]

    @strawberry.field(description="The latest interaction you may see.")
    def last_interaction(self, info: Info[Context, None]) -> Interaction | None:
        return self._ahead_or(info, "last_interaction", self.id, _interaction)  # type: ignore[return-value]

    @strawberry.field(description="Open tasks you may see, soonest due first.")
    def open_tasks(self, info: Info[Context, None]) -> list[Task]:
        return self._ahead_or(info, "open_tasks", self.id, _tasks)  # type: ignore[return-value]

    @strawberry.field(description="When the soonest open task falls due.")
    def next_task_due(self, info: Info[Context, None]) -> dt.datetime | None:
        return self._ahead_or(info, "open_tasks", self.id, _next_due)  # type: ignore[return-value]

    @strawberry.field(description="Permits, wells and production at a glance.")
    def headline(self, info: Info[Context, None]) -> HeadlineFigures:
        return self._ahead_or(info, "headline", self.id, _figures)  # type: ignore[return-value]

    # ----------------------------------------------------------- the account page

    @strawberry.field(description="Government ids, per agency (RRC P-5, OCD OGRID...).")
    async def identifiers(self, info: Info[Context, None]) -> list[AgencyIdentifier]:
        rows = await info.context.loaders.per_org(page.identifiers_of).load(self.id)
        return [
            AgencyIdentifier(
                agency=r.agency, identifier=r.identifier, dataset_id=gid("Dataset", r.dataset_id)
            )
            for r in rows
        ]

    @strawberry.field(description="Tags, alphabetically.")
    async def tags(self, info: Info[Context, None]) -> list[str]:
        return list(await info.context.loaders.per_org(page.tags_of).load(self.id))

    @strawberry.field(description="Interactions you may see, newest first.")
    async def interactions(self, info: Info[Context, None], first: int = 20) -> list[Interaction]:
        check_first(first, info.context.settings.max_page_size)
        loader = info.context.loaders.per_org(page.interactions_of, first, scoped=True)
        return [Interaction.from_row(r) for r in await loader.load(self.id)]

    @strawberry.field(description="Tasks you may see (of one status, if given), soonest due first.")
    async def tasks(
        self, info: Info[Context, None], status: models.TaskStatus | None = None, first: int = 20
    ) -> list[Task]:
        check_first(first, info.context.settings.max_page_size)
        loader = info.context.loaders.per_org(page.tasks_of, first, status, scoped=True)
        return [Task.from_row(r) for r in await loader.load(self.id)]

    @strawberry.field(description="Wells it operates, newest spud first unless `orderBy`.")
    async def wells(
        self,
        info: Info[Context, None],
        filter: WellFilter | None = None,
        order_by: WellOrder = WellOrder.NEWEST_SPUD,
        first: int = 20,
        after: str | None = None,
    ) -> WellConnection:
        where = filter.read() if filter is not None else None
        return await _holdings(
            info, WellConnection, Well, self.id, where, order_by, first, after,
            holdings.wells_page, holdings.wells_counted,
        )  # fmt: skip

    @strawberry.field(description="Its permits, newest first unless `orderBy`.")
    async def permits(
        self,
        info: Info[Context, None],
        filter: PermitFilter | None = None,
        order_by: PermitOrder = PermitOrder.NEWEST,
        first: int = 20,
        after: str | None = None,
    ) -> PermitConnection:
        where = None
        if filter is not None:
            where = worklist.PermitFilter(filter.county, filter.state, filter.within_days)
        return await _holdings(
            info, PermitConnection, Permit, self.id, where, order_by, first, after,
            holdings.permits_page, holdings.permits_counted,
        )  # fmt: skip

    @strawberry.field(
        description="Monthly oil, gas and water over its wells, oldest first (a chart)."
    )
    async def production(
        self, info: Info[Context, None], months: int = 24
    ) -> list[MonthlyProduction]:
        if not 1 <= months <= 240:
            raise InvalidInput("months must be between 1 and 240", field="months")
        rows = await info.context.loaders.per_org(page.production_of, months).load(self.id)
        return [
            MonthlyProduction(month=m, oil_bbl=o, gas_mcf=g, water_bbl=w) for m, o, g, w in rows
        ]

    @strawberry.field(description="Its scores over time, newest first.")
    async def score_history(self, info: Info[Context, None], first: int = 20) -> list[ScoreRecord]:
        check_first(first, info.context.settings.max_page_size)
        rows = await info.context.loaders.per_org(page.score_history_of, first).load(self.id)
        return [
            ScoreRecord(
                computed_at=r.computed_at,
                rule_set_id=gid("RuleSet", r.rule_set_id),
                score=r.score,
                priority=r.priority,
                contributions=[float(c) for c in (r.contributions or [])],
            )
            for r in rows
        ]

    @strawberry.field(description="Field-level history: who or which dataset changed what.")
    async def changes(self, info: Info[Context, None], first: int = 20) -> list[FieldChange]:
        check_first(first, info.context.settings.max_page_size)
        rows = await info.context.loaders.per_org(page.changes_of, first).load(self.id)
        return [FieldChange.from_row(r) for r in rows]

    @strawberry.field(description="Its timeline: what merges meant for it, newest first.")
    async def events(self, info: Info[Context, None], first: int = 20) -> list[TimelineEvent]:
        check_first(first, info.context.settings.max_page_size)
        rows = await info.context.loaders.per_org(page.events_of, first).load(self.id)
        return [TimelineEvent.from_row(r) for r in rows]

    @classmethod
    def from_row(cls, row: models.Organization) -> Organization:
        return cls(
            id=row.id,
            name=row.name,
            normalized_name=row.normalized_name,
            status=row.status,
            priority=row.priority,
            street=row.street,
            city=row.city,
            state=row.state,
            postal_code=row.postal_code,
            phone=row.phone,
            website=row.website,
            aliases=list(row.aliases or []),
            owner_id=relay.GlobalID("User", str(row.owner_id))
            if row.owner_id is not None
            else None,
            created_at=row.created_at,
            score=row.ranking.score,
            scored_at=row.ranking.scored_at,
            owner_pk=row.owner_id,
            snapshot_pk=row.ranking.snapshot_id,
            override_row=(
                row.override_priority,
                row.override_reason,
                row.override_expires_at,
                row.override_by_id,
            ),
        )

    @classmethod
    def from_listed(cls, row: Any) -> Organization:
        """From a list row (:data:`ogcrm.accounts.worklist.LISTED`), by position: a page
        builds fifty of these, and a row's attribute lookup costs ten times its index."""
        (
            id_, name, normalized_name, status, priority, street, city, state, postal_code,
            phone, website, aliases, owner_id, created_at, score, scored_at, snapshot_id,
            *override,
        ) = row  # fmt: skip
        return cls(
            id=id_,
            name=name,
            normalized_name=normalized_name,
            status=status,
            priority=priority,
            street=street,
            city=city,
            state=state,
            postal_code=postal_code,
            phone=phone,
            website=website,
            aliases=list(aliases or []),
            owner_id=relay.GlobalID("User", str(owner_id)) if owner_id is not None else None,
            created_at=created_at,
            score=score,
            scored_at=scored_at,
            owner_pk=owner_id,
            snapshot_pk=snapshot_id,
            override_row=tuple(override),  # type: ignore[arg-type]
        )

    # Not ``async``: when the page read the contacts ahead this is a plain list, with no
    # coroutine for graphql-core to schedule and await fifty times.
    @strawberry.field(description="The contacts of this organization you may see.")
    def contacts(
        self, info: Info[Context, None]
    ) -> list[Annotated[Contact, strawberry.lazy("ogcrm.api.types.contact")]]:
        read = self.ahead.contacts_of(self.id) if self.ahead is not None else None
        if read is not None:
            # what every selection of contacts on the page asked for, so enough for this one
            return _contacts(*read)
        return self._load_contacts(info, asked(info, ("emails", "phones")))  # type: ignore[return-value]

    async def _load_contacts(self, info: Info[Context, None], kinds: tuple[str, ...]) -> list[Any]:
        return _contacts(kinds, await info.context.loaders.contacts_with(kinds).load(self.id))

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        ids = [int(i) for i in node_ids]
        rows = await info.context.loaders.organization.load_many(ids)
        return [cls.from_row(row) if row is not None else None for row in rows]


async def _holdings(
    info: Info[Context, None],
    connection: Any,
    node: Any,
    org_id: int,
    where: Any,
    order: Any,
    first: int,
    after: str | None,
    page_fn: Any,
    count_fn: Any,
) -> Any:
    """One page of an organization's wells or permits: batched with the other accounts
    of the request that ask for the same page, counted only if ``totalCount`` is asked."""
    check_first(first, info.context.settings.max_page_size)
    model = models.Well if node is Well else models.Permit
    kind = f"{model.__tablename__}:{order.value}"
    key = None
    if after is not None:
        raw = decode_cursor(kind, after, holdings.key_types(model, order))
        key = holdings.read_key(order, raw)
    loaders = info.context.loaders
    found = await loaders.per_org(page_fn, where, order, first, key).load(org_id)
    edges = [
        relay.Edge(
            node=node.from_row(h.row), cursor=encode_cursor(kind, holdings.cursor_key(h.key))
        )
        for h in found[:first]
    ]

    async def count() -> int:
        counted = await loaders.per_org(count_fn, where).load(org_id)
        return int(counted or 0)

    return connection(
        edges=edges,
        page_info=page_info(edges, has_next=len(found) > first, after=after),
        count=count,
    )


def _user(found: Any) -> User | None:
    return User.from_row(*found) if found is not None else None


def _explained(found: worklist.StoredExplanation | None) -> ScoreExplanation | None:
    if found is None:
        return None
    return ScoreExplanation(
        rule_set_id=relay.GlobalID("RuleSet", str(found.rule_set_id))
        if found.rule_set_id is not None
        else None,
        computed_at=found.computed_at,
        contributions=[
            ScoreContribution(
                rule=p.rule, weight=p.weight, value=p.value, contribution=p.contribution
            )
            for p in found.parts
        ],
    )


def _interaction(row: Any) -> Interaction | None:
    return Interaction.from_row(row) if row is not None else None


def _tasks(rows: list[Any]) -> list[Task]:
    return [Task.from_row(t) for t in rows]


def _next_due(rows: list[Any]) -> dt.datetime | None:
    return min((t.due_at for t in rows if t.due_at is not None), default=None)


def _figures(f: dict[str, Any]) -> HeadlineFigures:
    return HeadlineFigures(
        permits_90d=int(f.get("permits_90d") or 0),
        active_wells=int(f.get("active_wells") or 0),
        oil_bbl_12m=float(f.get("oil_bbl_12m") or 0),
        gas_mcf_12m=float(f.get("gas_mcf_12m") or 0),
        production_trend=f.get("production_trend"),
    )


def _contacts(kinds: tuple[str, ...], rows: list[Any]) -> list[Contact]:
    from ogcrm.api.types.contact import Contact

    if not kinds:
        return [Contact.from_row(row) for row in rows]
    return [Contact.from_row(row, points) for row, points in rows]


@strawberry.type(description="Organizations in the order asked for (priority by default).")
class OrganizationConnection(relay.Connection[Organization]):
    count_query: strawberry.Private[Any] = None

    @strawberry.field(description="How many match, all pages together (one COUNT when asked).")
    async def total_count(self, info: Info[Context, None]) -> int:
        return int(await info.context.read(self.count_query))
