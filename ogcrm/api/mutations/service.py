"""Service requests and their routing rules: create (routed), move, assign, rate; save
the rules. Results are the record or a typed user error; rules with faults are an
``InvalidRuleSet`` listing each with its JSON Pointer."""

from __future__ import annotations

import enum
from typing import Annotated

import strawberry
from sqlalchemy.orm import Session
from strawberry import relay
from strawberry.types import Info

from ogcrm.accounts import routing
from ogcrm.api.context import Context
from ogcrm.api.errors import UserErrors, guarded
from ogcrm.api.ids import local_id, optional_id
from ogcrm.api.types.rules import InvalidRuleSet
from ogcrm.api.types.sales import RoutingRule, RoutingRuleInput, ServiceRequest
from ogcrm.db import models
from ogcrm.rules.ruleset import RuleSetInvalid
from ogcrm.sales import service_requests

ServiceRequestResult = Annotated[
    ServiceRequest | UserErrors, strawberry.union("ServiceRequestResult")
]


@strawberry.type(description="The routing rules, in the order they are tried.")
class RoutingRules:
    rules: list[RoutingRule]


RoutingRulesResult = Annotated[
    RoutingRules | InvalidRuleSet | UserErrors, strawberry.union("RoutingRulesResult")
]


@strawberry.input
class CreateServiceRequestInput:
    organization_id: relay.GlobalID
    kind: str = strawberry.field(description="A word like well_service or well_down.")
    subject: str
    description: str = ""
    priority: models.ServiceRequestPriority = models.ServiceRequestPriority.NORMAL
    contact_id: relay.GlobalID | None = None
    api_number: str | None = strawberry.field(
        default=None, description="The well, if the work is at one (its county and state are used)."
    )
    county: str | None = None
    state: str | None = None
    address: str | None = None


@strawberry.enum(description="A service request's next step.")
class ServiceRequestAction(enum.Enum):
    START = "start"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    CLOSE = "close"


@strawberry.type
class ServiceMutations:
    @strawberry.mutation(description="Open a service request; the routing rules assign it.")
    async def create_service_request(
        self, info: Info[Context, None], input: CreateServiceRequestInput
    ) -> ServiceRequestResult:
        ctx = info.context

        async def _call() -> ServiceRequest:
            row = await ctx.write(
                service_requests.create_service_request,
                ctx.require_principal(),
                organization_id=local_id(
                    input.organization_id, "Organization", field="organizationId"
                ),
                kind=input.kind,
                subject=input.subject,
                description=input.description,
                priority=input.priority,
                contact_id=optional_id(input.contact_id, "Contact", "contactId"),
                api_number=input.api_number,
                county=input.county,
                state=input.state,
                address=input.address,
            )
            return ServiceRequest.from_row(row)

        return await guarded(ctx, _call)

    @strawberry.mutation(
        description="Start, resolve (with a resolution), reopen or close a request."
    )
    async def move_service_request(
        self,
        info: Info[Context, None],
        id: relay.GlobalID,
        action: ServiceRequestAction,
        resolution: str | None = None,
    ) -> ServiceRequestResult:
        ctx = info.context

        async def _call() -> ServiceRequest:
            row = await ctx.write(
                service_requests.move_service_request,
                ctx.require_principal(),
                local_id(id, "ServiceRequest"),
                action.value,
                resolution=resolution,
            )
            return ServiceRequest.from_row(row)

        return await guarded(ctx, _call)

    @strawberry.mutation(description="Hand a request to a person or a team by hand.")
    async def assign_service_request(
        self,
        info: Info[Context, None],
        id: relay.GlobalID,
        assignee_id: relay.GlobalID | None = None,
        team_id: relay.GlobalID | None = None,
    ) -> ServiceRequestResult:
        ctx = info.context

        async def _call() -> ServiceRequest:
            row = await ctx.write(
                service_requests.assign_service_request,
                ctx.require_principal(),
                local_id(id, "ServiceRequest"),
                assignee_id=optional_id(assignee_id, "User", "assigneeId"),
                team_id=optional_id(team_id, "Team", "teamId"),
            )
            return ServiceRequest.from_row(row)

        return await guarded(ctx, _call)

    @strawberry.mutation(
        description="The customer's rating (1-5) and comment, once it is resolved."
    )
    async def record_service_feedback(
        self, info: Info[Context, None], id: relay.GlobalID, rating: int, comment: str = ""
    ) -> ServiceRequestResult:
        ctx = info.context

        async def _call() -> ServiceRequest:
            row = await ctx.write(
                service_requests.record_feedback,
                ctx.require_principal(),
                local_id(id, "ServiceRequest"),
                rating=rating,
                comment=comment,
            )
            return ServiceRequest.from_row(row)

        return await guarded(ctx, _call)

    @strawberry.mutation(description="Replace the routing rules (all valid, or nothing saved).")
    async def save_routing_rules(
        self, info: Info[Context, None], rules: list[RoutingRuleInput]
    ) -> RoutingRulesResult:
        ctx = info.context

        async def _call() -> RoutingRules | InvalidRuleSet:
            wanted = [r.read() for r in rules]
            principal = ctx.require_principal()

            def _save(session: Session) -> RoutingRules | InvalidRuleSet:
                try:
                    saved = routing.save_rules(session, principal, wanted)
                except RuleSetInvalid as exc:
                    return InvalidRuleSet.from_faults(exc.faults)
                return RoutingRules(rules=[RoutingRule.from_input(r) for r in saved])

            return await ctx.write(_save)

        return await guarded(ctx, _call)
