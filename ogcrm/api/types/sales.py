"""Opportunities, the pipeline, products, orders, service requests and their routing, as
the API shows them."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from ogcrm.accounts import routing
from ogcrm.api.context import Context
from ogcrm.api.ids import gid, optional_id
from ogcrm.api.nodes import scoped_nodes
from ogcrm.api.types.access import Actor, actor
from ogcrm.db import models
from ogcrm.db.types import utcnow
from ogcrm.sales import opportunities, orders

strawberry.enum(models.OpportunityStage, name="OpportunityStage")
strawberry.enum(
    models.OpportunitySource,
    name="OpportunitySource",
    description="What brought an opportunity: a dataset, a campaign or a person.",
)
strawberry.enum(models.OrderStatus, name="OrderStatus")


@strawberry.type(description="An opportunity moved from one stage to another.")
class StageMove:
    from_stage: models.OpportunityStage | None = strawberry.field(
        description="Null for the stage it was created in."
    )
    to_stage: models.OpportunityStage
    at: dt.datetime
    user_pk: strawberry.Private[int | None]

    @strawberry.field(description="Who moved it.")
    async def by(self, info: Info[Context, None]) -> Actor | None:
        return await actor(info, self.user_pk)


@strawberry.type(description="A sale in the pipeline, on an account.")
class Opportunity(relay.Node):
    id: relay.NodeID[int]
    organization_id: relay.GlobalID
    name: str
    stage: models.OpportunityStage
    amount: Decimal | None
    currency: str
    expected_close: dt.date | None
    closed_at: dt.datetime | None
    next_step: str | None
    lost_reason: str | None
    source: models.OpportunitySource | None
    source_dataset_id: relay.GlobalID | None
    source_campaign_id: relay.GlobalID | None
    created_at: dt.datetime
    owner_pk: strawberry.Private[int | None]
    source_user_pk: strawberry.Private[int | None]

    @strawberry.field(description="Whose it is.")
    async def owner(self, info: Info[Context, None]) -> Actor | None:
        return await actor(info, self.owner_pk)

    @strawberry.field(description="The person who brought it, for a person source.")
    async def source_user(self, info: Info[Context, None]) -> Actor | None:
        return await actor(info, self.source_user_pk)

    @strawberry.field(description="Every stage it has been in, oldest first, with who moved it.")
    async def stage_history(self, info: Info[Context, None]) -> list[StageMove]:
        rows = await info.context.loaders.per_org(opportunities.stage_history).load(self.id)
        return [
            StageMove(
                from_stage=models.OpportunityStage(r.from_stage) if r.from_stage else None,
                to_stage=models.OpportunityStage(r.to_stage),
                at=r.created_at,
                user_pk=r.user_id,
            )
            for r in rows
        ]

    @classmethod
    def from_row(cls, row: models.Opportunity) -> Opportunity:
        return cls(
            id=row.id,
            organization_id=relay.GlobalID("Organization", str(row.organization_id)),
            name=row.name,
            stage=row.stage,
            amount=row.amount,
            currency=row.currency,
            expected_close=row.expected_close,
            closed_at=row.closed_at,
            next_step=row.next_step,
            lost_reason=row.lost_reason,
            source=row.source,
            source_dataset_id=gid("Dataset", row.source_dataset_id),
            source_campaign_id=gid("Campaign", row.source_campaign_id),
            created_at=row.created_at,
            owner_pk=row.owner_id,
            source_user_pk=row.source_user_id,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        return await scoped_nodes(info, "opportunity", models.Opportunity, node_ids, cls.from_row)


@strawberry.type(description="Opportunities, newest first; `totalCount` counts all pages.")
class OpportunityConnection(relay.Connection[Opportunity]):
    count: strawberry.Private[Any] = None

    @strawberry.field(description="How many match, all pages together (one COUNT when asked).")
    async def total_count(self) -> int:
        return int(await self.count())


@strawberry.type(description="One stage of the pipeline (in one currency).")
class PipelineStageFigures:
    stage: models.OpportunityStage
    currency: str
    count: int
    amount: Decimal
    weighted_amount: Decimal = strawberry.field(description="Amount x the stage's probability.")
    probability: float

    @classmethod
    def from_figures(cls, f: opportunities.StageFigures) -> PipelineStageFigures:
        return cls(
            stage=f.stage,
            currency=f.currency,
            count=f.count,
            amount=f.amount,
            weighted_amount=f.weighted_amount,
            probability=f.probability,
        )


@strawberry.type(description="A stage's default win probability.")
class StageProbability:
    stage: models.OpportunityStage
    probability: float


@strawberry.type(description="An entry of the product catalog.")
class Product(relay.Node):
    id: relay.NodeID[int]
    sku: str
    name: str
    description: str
    unit: str
    unit_price: Decimal
    active: bool

    @classmethod
    def from_row(cls, row: models.Product) -> Product:
        return cls(
            id=row.id,
            sku=row.sku,
            name=row.name,
            description=row.description,
            unit=row.unit,
            unit_price=row.unit_price,
            active=row.active,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        return await scoped_nodes(info, "product", models.Product, node_ids, cls.from_row)


@strawberry.type(description="A line: a product, how much, at the price when it was added.")
class OrderLine:
    product_id: relay.GlobalID
    sku: str
    name: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    total: Decimal


@strawberry.type(description="Where and when an order is delivered.")
class Delivery:
    date: dt.date | None
    address: str | None
    lease: str | None
    well_id: relay.GlobalID | None
    county: str | None
    state: str | None


@strawberry.type(description="An order for an account: lines, a delivery, a status.")
class Order(relay.Node):
    id: relay.NodeID[int]
    number: str
    organization_id: relay.GlobalID
    status: models.OrderStatus
    currency: str
    delivery: Delivery
    created_at: dt.datetime
    owner_pk: strawberry.Private[int | None]

    @strawberry.field(description="Whose it is.")
    async def owner(self, info: Info[Context, None]) -> Actor | None:
        return await actor(info, self.owner_pk)

    @strawberry.field(description="Its lines, in the order added.")
    async def lines(self, info: Info[Context, None]) -> list[OrderLine]:
        rows = await info.context.loaders.per_org(orders.lines_of).load(self.id)
        return [
            OrderLine(
                product_id=relay.GlobalID("Product", str(line.product_id)),
                sku=sku,
                name=name,
                unit=unit,
                quantity=line.quantity,
                unit_price=line.unit_price,
                total=orders.line_total(line),
            )
            for line, sku, name, unit in rows
        ]

    @strawberry.field(description="The sum of its lines' totals.")
    async def total(self, info: Info[Context, None]) -> Decimal:
        rows = await info.context.loaders.per_org(orders.lines_of).load(self.id)
        return orders.order_total([line for line, *_ in rows])

    @classmethod
    def from_row(cls, row: models.Order) -> Order:
        return cls(
            id=row.id,
            number=row.number,
            organization_id=relay.GlobalID("Organization", str(row.organization_id)),
            status=row.status,
            currency=row.currency,
            delivery=Delivery(
                date=row.delivery_date,
                address=row.location,
                lease=row.lease,
                well_id=gid("Well", row.well_id),
                county=row.county,
                state=row.state,
            ),
            created_at=row.created_at,
            owner_pk=row.owner_id,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        return await scoped_nodes(info, "order", models.Order, node_ids, cls.from_row)


@strawberry.type(description="Orders, newest first; `totalCount` counts all pages.")
class OrderConnection(relay.Connection[Order]):
    count: strawberry.Private[Any] = None

    @strawberry.field(description="How many match, all pages together (one COUNT when asked).")
    async def total_count(self) -> int:
        return int(await self.count())


strawberry.enum(models.ServiceRequestStatus, name="ServiceRequestStatus")
strawberry.enum(models.ServiceRequestPriority, name="ServiceRequestPriority")


@strawberry.type(description="A customer's rating of how a request was handled.")
class ServiceFeedback:
    rating: int = strawberry.field(description="1 (poor) to 5 (excellent).")
    comment: str | None
    at: dt.datetime


@strawberry.type(description="A customer's request for service, routed to staff.")
class ServiceRequest(relay.Node):
    id: relay.NodeID[int]
    organization_id: relay.GlobalID
    contact_id: relay.GlobalID | None
    kind: str
    priority: models.ServiceRequestPriority
    status: models.ServiceRequestStatus
    subject: str
    description: str
    address: str | None
    well_id: relay.GlobalID | None
    county: str | None
    state: str | None
    sla_due_at: dt.datetime | None = strawberry.field(description="Resolve by (kind and priority).")
    resolution: str | None
    resolved_at: dt.datetime | None
    team_id: relay.GlobalID | None
    routed_by_rule: str | None = strawberry.field(
        description="The routing rule that assigned it (null: a person, or the default queue)."
    )
    feedback: ServiceFeedback | None
    created_at: dt.datetime
    assignee_pk: strawberry.Private[int | None]

    @strawberry.field(description="Who works it.")
    async def assignee(self, info: Info[Context, None]) -> Actor | None:
        return await actor(info, self.assignee_pk)

    @strawberry.field(description="Past its SLA: resolved late, or open past the due time.")
    def sla_breached(self) -> bool:
        if self.sla_due_at is None:
            return False
        return (self.resolved_at or utcnow()) > self.sla_due_at

    @classmethod
    def from_row(cls, row: models.ServiceRequest) -> ServiceRequest:
        return cls(
            id=row.id,
            organization_id=relay.GlobalID("Organization", str(row.organization_id)),
            contact_id=gid("Contact", row.contact_id),
            kind=row.kind,
            priority=row.priority,
            status=row.status,
            subject=row.subject,
            description=row.description,
            address=row.location,
            well_id=gid("Well", row.well_id),
            county=row.county,
            state=row.state,
            sla_due_at=row.sla_due_at,
            resolution=row.resolution,
            resolved_at=row.resolved_at,
            team_id=gid("Team", row.team_id),
            routed_by_rule=row.routed_by_rule,
            feedback=ServiceFeedback(rating=row.rating, comment=row.feedback, at=row.feedback_at)
            if row.rating is not None and row.feedback_at is not None
            else None,
            created_at=row.created_at,
            assignee_pk=row.assignee_id,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        return await scoped_nodes(
            info, "service_request", models.ServiceRequest, node_ids, cls.from_row
        )


@strawberry.type(description="Service requests, newest first; `totalCount` counts all pages.")
class ServiceRequestConnection(relay.Connection[ServiceRequest]):
    count: strawberry.Private[Any] = None

    @strawberry.field(description="How many match, all pages together (one COUNT when asked).")
    async def total_count(self) -> int:
        return int(await self.count())


@strawberry.enum(description="What a routing rule routes.")
class RoutingTarget(enum.Enum):
    SERVICE_REQUEST = "service_request"
    ORGANIZATION = "organization"  # a new, unowned one a merged dataset created


@strawberry.type(description="A routing rule: the first that holds assigns the request.")
class RoutingRule:
    name: str
    applies_to: RoutingTarget
    logic: JSON
    assign_user_id: relay.GlobalID | None
    assign_team_id: relay.GlobalID | None
    enabled: bool

    @classmethod
    def from_input(cls, r: routing.RuleInput) -> RoutingRule:
        return cls(
            name=r.name,
            applies_to=RoutingTarget(r.applies_to),
            logic=r.logic,
            assign_user_id=gid("User", r.assign_user_id),
            assign_team_id=gid("Team", r.assign_team_id),
            enabled=r.enabled,
        )


@strawberry.type(description="Where an open request would go under the rules previewed.")
class RoutingPreviewRow:
    request_id: relay.GlobalID
    subject: str
    rule: str | None = strawberry.field(description="null: no rule holds, the default queue.")
    assign_user_id: relay.GlobalID | None
    assign_team_id: relay.GlobalID | None


@strawberry.input(description="Assign the first request this matches to a user or a team.")
class RoutingRuleInput:
    name: str
    logic: JSON = strawberry.field(description="JSON-logic over the routing variables.")
    assign_user_id: relay.GlobalID | None = None
    assign_team_id: relay.GlobalID | None = None
    enabled: bool = True
    applies_to: RoutingTarget = RoutingTarget.SERVICE_REQUEST

    def read(self) -> routing.RuleInput:
        return routing.RuleInput(
            name=self.name,
            logic=self.logic,
            assign_user_id=optional_id(self.assign_user_id, "User", "assignUserId"),
            assign_team_id=optional_id(self.assign_team_id, "Team", "assignTeamId"),
            enabled=self.enabled,
            applies_to=self.applies_to.value,
        )
