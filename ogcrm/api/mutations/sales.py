"""Tasks, opportunities, products and orders: create, change, move. Each result is the
record or one of the typed user errors; an illegal move is a ``Conflict`` with the
record's ``currentState``."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from ogcrm.api.context import Context
from ogcrm.api.errors import UserErrors, guarded
from ogcrm.api.ids import local_id, optional_id, user_pk
from ogcrm.api.types.sales import Opportunity, Order, Product, StageProbability
from ogcrm.api.types.task import Task
from ogcrm.db import models
from ogcrm.sales import opportunities, orders, tasks

TaskResult = Annotated[Task | UserErrors, strawberry.union("TaskResult")]
OpportunityResult = Annotated[Opportunity | UserErrors, strawberry.union("OpportunityResult")]
ProductResult = Annotated[Product | UserErrors, strawberry.union("ProductResult")]
OrderResult = Annotated[Order | UserErrors, strawberry.union("OrderResult")]


@strawberry.type(description="Every stage's win probability after the change.")
class StageProbabilities:
    stages: list[StageProbability]


StageProbabilitiesResult = Annotated[
    StageProbabilities | UserErrors, strawberry.union("StageProbabilitiesResult")
]


def _given(value: object) -> bool:
    return value is not strawberry.UNSET


def _changes(input: Any, names: dict[str, Any]) -> dict[str, Any]:
    """The service's keyword arguments for the input fields that were given."""
    out = {}
    for attr, convert in names.items():
        value = getattr(input, attr)
        if _given(value):
            out[attr] = convert(value) if (convert and value is not None) else value
    return out


@strawberry.input
class CreateTaskInput:
    organization_id: relay.GlobalID
    title: str
    due_at: dt.datetime | None = None
    description: str = ""
    assignee_id: relay.GlobalID | None = strawberry.field(
        default=None, description="You, if not given."
    )
    contact_id: relay.GlobalID | None = None
    opportunity_id: relay.GlobalID | None = None


@strawberry.input(description="Only the fields given change; a new due time re-arms the reminder.")
class UpdateTaskInput:
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    due_at: dt.datetime | None = strawberry.UNSET
    assignee_id: relay.GlobalID | None = strawberry.UNSET


@strawberry.input
class CreateOpportunityInput:
    organization_id: relay.GlobalID
    name: str
    amount: Decimal | None = None
    currency: str = "USD"
    expected_close: dt.date | None = None
    stage: models.OpportunityStage = models.OpportunityStage.PROSPECTING
    owner_id: relay.GlobalID | None = strawberry.field(
        default=None, description="You, if not given."
    )
    next_step: str | None = None
    source: models.OpportunitySource | None = None
    source_dataset_id: relay.GlobalID | None = None
    source_campaign_id: relay.GlobalID | None = None
    source_user_id: relay.GlobalID | None = strawberry.field(
        default=None, description="For a person source: who (you, if not given)."
    )


@strawberry.input(description="Only the fields given change; the stage moves by moveOpportunity.")
class UpdateOpportunityInput:
    name: str | None = strawberry.UNSET
    amount: Decimal | None = strawberry.UNSET
    currency: str | None = strawberry.UNSET
    expected_close: dt.date | None = strawberry.UNSET
    next_step: str | None = strawberry.UNSET
    owner_id: relay.GlobalID | None = strawberry.UNSET


@strawberry.input
class CreateProductInput:
    sku: str
    name: str
    unit_price: Decimal
    unit: str = "each"
    description: str = ""


@strawberry.input(description="Only the fields given change; orders keep their prices.")
class UpdateProductInput:
    name: str | None = strawberry.UNSET
    unit_price: Decimal | None = strawberry.UNSET
    unit: str | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET


@strawberry.input
class OrderLineInput:
    product_id: relay.GlobalID
    quantity: Decimal

    def read(self) -> orders.LineInput:
        return orders.LineInput(
            local_id(self.product_id, "Product", field="lines.productId"), self.quantity
        )


@strawberry.input(
    description="An address, or a lease and/or a well by API number (its county and state "
    "are used when not given)."
)
class DeliveryInput:
    date: dt.date | None = None
    address: str | None = None
    lease: str | None = None
    api_number: str | None = None
    county: str | None = None
    state: str | None = None

    def read(self) -> orders.Delivery:
        return orders.Delivery(
            self.date, self.address, self.lease, self.api_number, self.county, self.state
        )


@strawberry.input
class CreateOrderInput:
    organization_id: relay.GlobalID
    lines: list[OrderLineInput] = strawberry.field(default_factory=list)
    delivery: DeliveryInput | None = None
    currency: str = "USD"
    owner_id: relay.GlobalID | None = strawberry.field(
        default=None, description="You, if not given."
    )


@strawberry.enum(
    description="An order's next step (draft → confirmed → scheduled → delivered → invoiced, or cancelled)."
)
class OrderAction(enum.Enum):
    CONFIRM = "confirm"
    SCHEDULE = "schedule"
    DELIVER = "deliver"
    INVOICE = "invoice"
    CANCEL = "cancel"


async def _move_task(info: Info[Context, None], id: relay.GlobalID, action: str) -> Any:
    ctx = info.context

    async def _call() -> Task:
        row = await ctx.write(
            tasks.move_task, ctx.require_principal(), local_id(id, "Task"), action
        )
        return Task.from_row(row)

    return await guarded(ctx, _call)


@strawberry.type
class SalesMutations:
    @strawberry.mutation(description="Open a task on an account you may see.")
    async def create_task(self, info: Info[Context, None], input: CreateTaskInput) -> TaskResult:
        ctx = info.context

        async def _call() -> Task:
            row = await ctx.write(
                tasks.create_task,
                ctx.require_principal(),
                organization_id=local_id(
                    input.organization_id, "Organization", field="organizationId"
                ),
                title=input.title,
                due_at=input.due_at,
                description=input.description,
                assignee_id=optional_id(input.assignee_id, "User", "assigneeId"),
                contact_id=optional_id(input.contact_id, "Contact", "contactId"),
                opportunity_id=optional_id(input.opportunity_id, "Opportunity", "opportunityId"),
            )
            return Task.from_row(row)

        return await guarded(ctx, _call)

    @strawberry.mutation(description="Rename, describe, reschedule or assign a task.")
    async def update_task(
        self, info: Info[Context, None], id: relay.GlobalID, input: UpdateTaskInput
    ) -> TaskResult:
        ctx = info.context

        async def _call() -> Task:
            changes = _changes(
                input,
                {
                    "title": None,
                    "description": None,
                    "due_at": None,
                    "assignee_id": lambda g: user_pk(g, "assigneeId"),
                },
            )
            row = await ctx.write(
                tasks.update_task, ctx.require_principal(), local_id(id, "Task"), **changes
            )
            return Task.from_row(row)

        return await guarded(ctx, _call)

    @strawberry.mutation(description="Mark an open task done.")
    async def complete_task(self, info: Info[Context, None], id: relay.GlobalID) -> TaskResult:
        return await _move_task(info, id, "complete")

    @strawberry.mutation(description="Cancel an open task.")
    async def cancel_task(self, info: Info[Context, None], id: relay.GlobalID) -> TaskResult:
        return await _move_task(info, id, "cancel")

    @strawberry.mutation(description="Reopen a done or cancelled task.")
    async def reopen_task(self, info: Info[Context, None], id: relay.GlobalID) -> TaskResult:
        return await _move_task(info, id, "reopen")

    @strawberry.mutation(
        description="Put an opportunity in the pipeline, on an account you may see."
    )
    async def create_opportunity(
        self, info: Info[Context, None], input: CreateOpportunityInput
    ) -> OpportunityResult:
        ctx = info.context

        async def _call() -> Opportunity:
            row = await ctx.write(
                opportunities.create_opportunity,
                ctx.require_principal(),
                organization_id=local_id(
                    input.organization_id, "Organization", field="organizationId"
                ),
                name=input.name,
                amount=input.amount,
                currency=input.currency,
                expected_close=input.expected_close,
                stage=input.stage,
                owner_id=optional_id(input.owner_id, "User", "ownerId"),
                next_step=input.next_step,
                source=input.source,
                source_dataset_id=optional_id(
                    input.source_dataset_id, "Dataset", "sourceDatasetId"
                ),
                source_campaign_id=optional_id(
                    input.source_campaign_id, "Campaign", "sourceCampaignId"
                ),
                source_user_id=optional_id(input.source_user_id, "User", "sourceUserId"),
            )
            return Opportunity.from_row(row)

        return await guarded(ctx, _call)

    @strawberry.mutation(
        description="Change an opportunity's amount, close date, next step or owner."
    )
    async def update_opportunity(
        self, info: Info[Context, None], id: relay.GlobalID, input: UpdateOpportunityInput
    ) -> OpportunityResult:
        ctx = info.context

        async def _call() -> Opportunity:
            changes = _changes(
                input,
                {
                    "name": None,
                    "amount": None,
                    "currency": None,
                    "expected_close": None,
                    "next_step": None,
                    "owner_id": lambda g: user_pk(g, "ownerId"),
                },
            )
            row = await ctx.write(
                opportunities.update_opportunity,
                ctx.require_principal(),
                local_id(id, "Opportunity"),
                **changes,
            )
            return Opportunity.from_row(row)

        return await guarded(ctx, _call)

    @strawberry.mutation(
        description="Move an opportunity to a stage (recorded); won and lost are final, lost needs a reason."
    )
    async def move_opportunity(
        self,
        info: Info[Context, None],
        id: relay.GlobalID,
        stage: models.OpportunityStage,
        lost_reason: str | None = None,
    ) -> OpportunityResult:
        ctx = info.context

        async def _call() -> Opportunity:
            row = await ctx.write(
                opportunities.move_opportunity,
                ctx.require_principal(),
                local_id(id, "Opportunity"),
                stage,
                lost_reason=lost_reason,
            )
            return Opportunity.from_row(row)

        return await guarded(ctx, _call)

    @strawberry.mutation(
        description="Set an open stage's default win probability (0 to 1; admins)."
    )
    async def set_stage_probability(
        self, info: Info[Context, None], stage: models.OpportunityStage, probability: float
    ) -> StageProbabilitiesResult:
        ctx = info.context

        async def _call() -> StageProbabilities:
            found = await ctx.write(
                opportunities.set_stage_probability, ctx.require_principal(), stage, probability
            )
            return StageProbabilities(
                stages=[StageProbability(stage=s, probability=p) for s, p in found.items()]
            )

        return await guarded(ctx, _call)

    @strawberry.mutation(description="Add a product to the catalog.")
    async def create_product(
        self, info: Info[Context, None], input: CreateProductInput
    ) -> ProductResult:
        ctx = info.context

        async def _call() -> Product:
            row = await ctx.write(
                orders.create_product,
                ctx.require_principal(),
                sku=input.sku,
                name=input.name,
                unit_price=input.unit_price,
                unit=input.unit,
                description=input.description,
            )
            return Product.from_row(row)

        return await guarded(ctx, _call)

    @strawberry.mutation(description="Rename, reprice or retire a product.")
    async def update_product(
        self, info: Info[Context, None], id: relay.GlobalID, input: UpdateProductInput
    ) -> ProductResult:
        ctx = info.context

        async def _call() -> Product:
            changes = _changes(
                input, {"name": None, "unit_price": None, "unit": None, "active": None}
            )
            row = await ctx.write(
                orders.update_product, ctx.require_principal(), local_id(id, "Product"), **changes
            )
            return Product.from_row(row)

        return await guarded(ctx, _call)

    @strawberry.mutation(description="Start a draft order for an account you may see.")
    async def create_order(self, info: Info[Context, None], input: CreateOrderInput) -> OrderResult:
        ctx = info.context

        async def _call() -> Order:
            row = await ctx.write(
                orders.create_order,
                ctx.require_principal(),
                organization_id=local_id(
                    input.organization_id, "Organization", field="organizationId"
                ),
                lines=[line.read() for line in input.lines],
                delivery=input.delivery.read() if input.delivery else orders.Delivery(),
                currency=input.currency,
                owner_id=optional_id(input.owner_id, "User", "ownerId"),
            )
            return Order.from_row(row)

        return await guarded(ctx, _call)

    @strawberry.mutation(description="Replace a draft order's lines (at today's prices).")
    async def set_order_lines(
        self, info: Info[Context, None], id: relay.GlobalID, lines: list[OrderLineInput]
    ) -> OrderResult:
        ctx = info.context

        async def _call() -> Order:
            row = await ctx.write(
                orders.set_order_lines,
                ctx.require_principal(),
                local_id(id, "Order"),
                [line.read() for line in lines],
            )
            return Order.from_row(row)

        return await guarded(ctx, _call)

    @strawberry.mutation(description="Set when and where an order is delivered.")
    async def update_order_delivery(
        self, info: Info[Context, None], id: relay.GlobalID, delivery: DeliveryInput
    ) -> OrderResult:
        ctx = info.context

        async def _call() -> Order:
            row = await ctx.write(
                orders.update_delivery,
                ctx.require_principal(),
                local_id(id, "Order"),
                delivery.read(),
            )
            return Order.from_row(row)

        return await guarded(ctx, _call)

    @strawberry.mutation(
        description="Move an order on; an illegal move is a Conflict naming its status."
    )
    async def move_order(
        self, info: Info[Context, None], id: relay.GlobalID, action: OrderAction
    ) -> OrderResult:
        ctx = info.context

        async def _call() -> Order:
            row = await ctx.write(
                orders.move_order, ctx.require_principal(), local_id(id, "Order"), action.value
            )
            return Order.from_row(row)

        return await guarded(ctx, _call)
