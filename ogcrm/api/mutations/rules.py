"""What the admin and the manager do to priorities: save and activate rule sets, pin an
account's priority by hand or clear the pin."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from sqlalchemy.orm import Session
from strawberry import relay
from strawberry.types import Info

from ogcrm.api.context import Context
from ogcrm.api.errors import UserErrors, guarded
from ogcrm.api.ids import local_id
from ogcrm.api.types.organization import Organization
from ogcrm.api.types.rules import InvalidRuleSet, RuleSet, RuleSetActivation, RuleSetInput
from ogcrm.errors import InvalidInput
from ogcrm.rules.ruleset import RuleSetInvalid
from ogcrm.scoring import overrides, rule_sets

SaveResult = Annotated[RuleSet | InvalidRuleSet | UserErrors, strawberry.union("SaveRuleSetResult")]
ActivateResult = Annotated[
    RuleSetActivation | InvalidRuleSet | UserErrors, strawberry.union("ActivateRuleSetResult")
]
OverrideResult = Annotated[Organization | UserErrors, strawberry.union("PriorityOverrideResult")]


@strawberry.type
class RuleMutations:
    @strawberry.mutation(description="Save a rule set as the next version of its name (a draft).")
    async def save_rule_set(self, info: Info[Context, None], input: RuleSetInput) -> SaveResult:
        ctx = info.context

        def _save(session: Session) -> RuleSet | InvalidRuleSet:
            try:
                row = rule_sets.save_rule_set(session, ctx.require_principal(), input.spec())
            except RuleSetInvalid as exc:
                return InvalidRuleSet.from_faults(exc.faults)
            return RuleSet.from_row(row)

        return await guarded(ctx, lambda: ctx.write(_save))

    @strawberry.mutation(
        description="Make a rule set version the active one; everyone is rescored by a job."
    )
    async def activate_rule_set(
        self, info: Info[Context, None], id: relay.GlobalID
    ) -> ActivateResult:
        ctx = info.context

        def _activate(session: Session) -> RuleSetActivation | InvalidRuleSet:
            rule_set_id = local_id(id, "RuleSet")
            try:
                queued = rule_sets.activate_later(session, ctx.require_principal(), rule_set_id)
            except RuleSetInvalid as exc:
                return InvalidRuleSet.from_faults(exc.faults)
            row = rule_sets.get_rule_set(session, ctx.require_principal(), rule_set_id)
            return RuleSetActivation(rule_set=RuleSet.from_row(row), rescore_queued=queued)

        return await guarded(ctx, lambda: ctx.write(_activate))

    @strawberry.mutation(
        description="Pin an account's priority by hand, with a reason and an optional expiry."
    )
    async def set_priority_override(
        self,
        info: Info[Context, None],
        organization_id: relay.GlobalID,
        priority: float,
        reason: str,
        expires_at: dt.datetime | None = None,
    ) -> OverrideResult:
        ctx = info.context

        def _set(session: Session) -> Organization:
            if expires_at is not None and expires_at.tzinfo is None:
                raise InvalidInput("expiresAt needs a time zone", field="expiresAt")
            if expires_at is not None and expires_at <= dt.datetime.now(dt.UTC):
                raise InvalidInput("expiresAt is in the past", field="expiresAt")
            org = overrides.set_override(
                session,
                ctx.require_principal(),
                local_id(organization_id, "Organization", field="organizationId"),
                priority=priority,
                reason=reason,
                expires_at=expires_at,
            )
            return Organization.from_row(org)

        return await guarded(ctx, lambda: ctx.write(_set))

    @strawberry.mutation(description="Remove an account's pin: its rule score applies again.")
    async def clear_priority_override(
        self, info: Info[Context, None], organization_id: relay.GlobalID
    ) -> OverrideResult:
        ctx = info.context

        def _clear(session: Session) -> Organization:
            org = overrides.clear_override(
                session,
                ctx.require_principal(),
                local_id(organization_id, "Organization", field="organizationId"),
            )
            return Organization.from_row(org)

        return await guarded(ctx, lambda: ctx.write(_clear))
