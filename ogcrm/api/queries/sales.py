"""Queries of tasks, opportunities, the pipeline, products and orders: thin resolvers over
:mod:`ogcrm.sales`, whose services apply the caller's scope in SQL."""

from __future__ import annotations

import datetime as dt
import enum
from functools import partial
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from ogcrm.accounts import routing
from ogcrm.api.context import Context
from ogcrm.api.ids import gid, optional_id, page_info, user_pk
from ogcrm.api.pagination import check_first, decode_cursor, encode_cursor
from ogcrm.api.permissions import IsAuthenticated
from ogcrm.api.types.rules import InvalidRuleSet
from ogcrm.api.types.sales import (
    Opportunity,
    OpportunityConnection,
    Order,
    OrderConnection,
    PipelineStageFigures,
    Product,
    RoutingPreviewRow,
    RoutingRule,
    RoutingRuleInput,
    ServiceRequest,
    ServiceRequestConnection,
    StageProbability,
)
from ogcrm.api.types.task import Task, TaskConnection
from ogcrm.db import models
from ogcrm.errors import InvalidInput
from ogcrm.rules.ruleset import RuleSetInvalid
from ogcrm.sales import opportunities, orders, service_requests, tasks


@strawberry.enum(description="Which tasks by their due time.")
class TaskDue(enum.Enum):
    OVERDUE = "overdue"
    TODAY = "today"
    WEEK = "week"


@strawberry.input(description="Every given part must hold. A `due` filter means open tasks.")
class TaskFilter:
    due: TaskDue | None = None
    status: models.TaskStatus | None = None
    organization_id: relay.GlobalID | None = None
    opportunity_id: relay.GlobalID | None = None
    assignee: relay.GlobalID | None = None
    time_zone: str | None = strawberry.field(
        default=None, description='Whose "today": an IANA zone (America/Chicago); UTC if not given.'
    )

    def read(self, assignee_id: int | None = None) -> tasks.TaskFilter:
        if assignee_id is None and self.assignee is not None:
            assignee_id = user_pk(self.assignee, "filter.assignee")
        return tasks.TaskFilter(
            assignee_id=assignee_id,
            organization_id=optional_id(
                self.organization_id, "Organization", "filter.organizationId"
            ),
            opportunity_id=optional_id(self.opportunity_id, "Opportunity", "filter.opportunityId"),
            status=self.status,
            due=tasks.Due(self.due.value) if self.due else None,
            time_zone=self.time_zone,
        )


@strawberry.input(description="Every given part must hold.")
class OpportunityFilter:
    owner: relay.GlobalID | None = None
    organization_id: relay.GlobalID | None = None
    stages: list[models.OpportunityStage] | None = None
    closing_from: dt.date | None = strawberry.field(
        default=None, description="Expected close on or after."
    )
    closing_to: dt.date | None = strawberry.field(
        default=None, description="Expected close on or before."
    )

    def read(self) -> opportunities.OpportunityFilter:
        return opportunities.OpportunityFilter(
            owner_id=optional_id(self.owner, "User", "filter.owner"),
            organization_id=optional_id(
                self.organization_id, "Organization", "filter.organizationId"
            ),
            stages=tuple(self.stages or ()),
            closing_from=self.closing_from,
            closing_to=self.closing_to,
        )


@strawberry.input(description="Every given part must hold.")
class OrderFilter:
    owner: relay.GlobalID | None = None
    organization_id: relay.GlobalID | None = None
    statuses: list[models.OrderStatus] | None = None
    delivery_from: dt.date | None = None
    delivery_to: dt.date | None = None

    def read(self) -> orders.OrderFilter:
        return orders.OrderFilter(
            owner_id=optional_id(self.owner, "User", "filter.owner"),
            organization_id=optional_id(
                self.organization_id, "Organization", "filter.organizationId"
            ),
            statuses=tuple(self.statuses or ()),
            delivery_from=self.delivery_from,
            delivery_to=self.delivery_to,
        )


@strawberry.input(description="Every given part must hold.")
class ServiceRequestFilter:
    status: models.ServiceRequestStatus | None = None
    assignee: relay.GlobalID | None = None
    team_id: relay.GlobalID | None = None
    organization_id: relay.GlobalID | None = None
    kind: str | None = None
    sla_breached: bool | None = strawberry.field(
        default=None, description="true: resolved late or open past the SLA."
    )

    def read(self) -> service_requests.ServiceRequestFilter:
        return service_requests.ServiceRequestFilter(
            status=self.status,
            assignee_id=optional_id(self.assignee, "User", "filter.assignee"),
            team_id=optional_id(self.team_id, "Team", "filter.teamId"),
            organization_id=optional_id(
                self.organization_id, "Organization", "filter.organizationId"
            ),
            kind=self.kind,
            sla_breached=self.sla_breached,
        )


@strawberry.type(description="Where each open request would go (nothing saved or moved).")
class RoutingPreview:
    rows: list[RoutingPreviewRow]


RoutingPreviewResult = Annotated[
    RoutingPreview | InvalidRuleSet, strawberry.union("RoutingPreviewResult")
]


def _id_cursor(kind: str, after: str | None) -> int | None:
    return decode_cursor(kind, after, (int,))[0] if after else None


async def _newest_first(
    info: Info[Context, None],
    kind: str,
    where: Any,
    first: int,
    after: str | None,
    *,
    page: Any,
    count: Any,
    node: Any,
    connection: Any,
) -> Any:
    """One page of a newest-first list (keyset on id): ``page(session, principal,
    where=, first=, after=)`` gives the rows, ``count`` the total when asked."""
    ctx = info.context
    check_first(first, ctx.settings.max_page_size)
    principal = ctx.require_principal()
    rows, has_next = await ctx.read(
        page, principal, where=where, first=first, after=_id_cursor(kind, after)
    )
    edges = [relay.Edge(node=node.from_row(r), cursor=encode_cursor(kind, (r.id,))) for r in rows]
    return connection(
        edges=edges,
        page_info=page_info(edges, has_next=has_next, after=after),
        count=partial(ctx.read, count, principal, where),
    )


async def _tasks(
    info: Info[Context, None], where: tasks.TaskFilter, first: int, after: str | None
) -> TaskConnection:
    ctx = info.context
    check_first(first, ctx.settings.max_page_size)
    key = None
    if after:
        when, last = decode_cursor("task", after, (str, int))
        try:
            key = (dt.datetime.fromisoformat(when), last)
        except ValueError:
            raise InvalidInput("invalid cursor", field="after") from None
    principal = ctx.require_principal()
    page = await ctx.read(tasks.list_tasks, principal, where=where, first=first, after=key)
    edges = [
        relay.Edge(node=Task.from_row(r), cursor=encode_cursor("task", page.key(r)))
        for r in page.rows
    ]
    return TaskConnection(
        edges=edges,
        page_info=page_info(edges, has_next=page.has_next, after=after),
        count=partial(ctx.read, tasks.count_tasks, principal, where),
    )


@strawberry.type
class SalesQueries:
    @strawberry.field(
        description="Your tasks (assigned to you), soonest due first.",
        permission_classes=[IsAuthenticated],
    )
    async def my_tasks(
        self,
        info: Info[Context, None],
        filter: TaskFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> TaskConnection:
        me = info.context.require_principal().user_id
        where = (filter or TaskFilter()).read(assignee_id=me if me is not None else -1)
        return await _tasks(info, where, first, after)

    @strawberry.field(
        description="Tasks you may see (your accounts', or your team's or all, per your "
        "role), soonest due first.",
        permission_classes=[IsAuthenticated],
    )
    async def tasks(
        self,
        info: Info[Context, None],
        filter: TaskFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> TaskConnection:
        return await _tasks(info, (filter or TaskFilter()).read(), first, after)

    @strawberry.field(
        description="Opportunities you may see, newest first.",
        permission_classes=[IsAuthenticated],
    )
    async def opportunities(
        self,
        info: Info[Context, None],
        filter: OpportunityFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> OpportunityConnection:
        return await _newest_first(
            info, "opportunity", (filter or OpportunityFilter()).read(), first, after,
            page=opportunities.list_opportunities, count=opportunities.count_opportunities,
            node=Opportunity, connection=OpportunityConnection,
        )  # fmt: skip

    @strawberry.field(
        description="Count, amount and weighted amount per stage (and currency) of the "
        "opportunities you may see.",
        permission_classes=[IsAuthenticated],
    )
    async def pipeline(
        self, info: Info[Context, None], filter: OpportunityFilter | None = None
    ) -> list[PipelineStageFigures]:
        where = (filter or OpportunityFilter()).read()
        figures = await info.context.read(
            opportunities.pipeline, info.context.require_principal(), where
        )
        return [PipelineStageFigures.from_figures(f) for f in figures]

    @strawberry.field(
        description="Each stage's default win probability.", permission_classes=[IsAuthenticated]
    )
    async def stage_probabilities(self, info: Info[Context, None]) -> list[StageProbability]:
        found = await info.context.read(opportunities.stage_probabilities)
        return [StageProbability(stage=s, probability=p) for s, p in found.items()]

    @strawberry.field(
        description="The product catalog by SKU (active ones, unless `active` says otherwise).",
        permission_classes=[IsAuthenticated],
    )
    async def products(
        self, info: Info[Context, None], active: bool | None = True
    ) -> list[Product]:
        rows = await info.context.read(
            orders.list_products, info.context.require_principal(), active=active
        )
        return [Product.from_row(r) for r in rows]

    @strawberry.field(
        description="Orders you may see, newest first.", permission_classes=[IsAuthenticated]
    )
    async def orders(
        self,
        info: Info[Context, None],
        filter: OrderFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> OrderConnection:
        return await _newest_first(
            info, "order", (filter or OrderFilter()).read(), first, after,
            page=orders.list_orders, count=orders.count_orders,
            node=Order, connection=OrderConnection,
        )  # fmt: skip


@strawberry.type
class ServiceQueries:
    @strawberry.field(
        description="Service requests you may see, newest first.",
        permission_classes=[IsAuthenticated],
    )
    async def service_requests(
        self,
        info: Info[Context, None],
        filter: ServiceRequestFilter | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> ServiceRequestConnection:
        return await _newest_first(
            info, "service_request", (filter or ServiceRequestFilter()).read(), first, after,
            page=service_requests.list_service_requests,
            count=service_requests.count_service_requests,
            node=ServiceRequest, connection=ServiceRequestConnection,
        )  # fmt: skip

    @strawberry.field(
        description="The routing rules, in the order they are tried.",
        permission_classes=[IsAuthenticated],
    )
    async def routing_rules(self, info: Info[Context, None]) -> list[RoutingRule]:
        rules = await info.context.read(routing.stored_rules)
        return [RoutingRule.from_input(r) for r in rules]

    @strawberry.field(
        description="Where each open request you may see would go under these rules.",
        permission_classes=[IsAuthenticated],
    )
    async def preview_routing_rules(
        self, info: Info[Context, None], rules: list[RoutingRuleInput]
    ) -> RoutingPreviewResult:
        wanted = [r.read() for r in rules]
        principal = info.context.require_principal()

        def _preview(session: Any) -> RoutingPreview | InvalidRuleSet:
            try:
                rows = routing.preview(session, principal, wanted)
            except RuleSetInvalid as exc:
                return InvalidRuleSet.from_faults(exc.faults)
            return RoutingPreview(
                rows=[
                    RoutingPreviewRow(
                        request_id=relay.GlobalID("ServiceRequest", str(r.request_id)),
                        subject=r.subject,
                        rule=r.rule,
                        assign_user_id=gid("User", r.user_id),
                        assign_team_id=gid("Team", r.team_id),
                    )
                    for r in rows
                ]
            )

        return await info.context.read(_preview)
