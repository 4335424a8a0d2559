"""Queries of the admin's rules workflow: features, rule sets, validation and previews
(the last two write nothing)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.types import Info

from ogcrm.api.context import Context
from ogcrm.api.errors import UserErrors, guarded
from ogcrm.api.ids import local_id
from ogcrm.api.permissions import IsAuthenticated
from ogcrm.api.types.rules import (
    Feature,
    InvalidRuleSet,
    RuleFault,
    RuleSet,
    RuleSetInput,
    RuleSetPreview,
    RuleSetValidation,
)
from ogcrm.rules.ruleset import RuleSetInvalid
from ogcrm.scoring import rule_sets
from ogcrm.scoring.features import catalog

PreviewResult = Annotated[
    RuleSetPreview | InvalidRuleSet | UserErrors, strawberry.union("PreviewRuleSetResult")
]


@strawberry.type
class RuleQueries:
    @strawberry.field(
        description="The features rules can read, and the scorer providing each.",
        permission_classes=[IsAuthenticated],
    )
    def features(self) -> list[Feature]:
        return [
            Feature(name=n, type=f.type, description=f.description, scorer=scorer)
            for n, (f, scorer) in catalog().items()
        ]

    @strawberry.field(
        description="Every version of every rule set, newest first.",
        permission_classes=[IsAuthenticated],
    )
    async def rule_sets(self, info: Info[Context, None]) -> list[RuleSet]:
        found = await info.context.read(rule_sets.list_rule_sets, info.context.require_principal())
        return [RuleSet.from_row(r) for r in found]

    @strawberry.field(
        description="One rule set version, if you may see it.",
        permission_classes=[IsAuthenticated],
    )
    async def rule_set(self, info: Info[Context, None], id: relay.GlobalID) -> RuleSet | None:
        nodes = await RuleSet.resolve_nodes(info=info, node_ids=[str(local_id(id, "RuleSet"))])
        found: RuleSet | None = nodes[0]
        return found

    @strawberry.field(
        description="Every fault of a rule set, with its rule and JSON Pointer; nothing saved.",
        permission_classes=[IsAuthenticated],
    )
    def validate_rule_set(self, input: RuleSetInput) -> RuleSetValidation:
        faults = rule_sets.faults_of(input.spec())
        return RuleSetValidation(valid=not faults, faults=[RuleFault.from_fault(f) for f in faults])

    @strawberry.field(
        description="What a draft would rank first, and who would move most against the "
        "active set, with explanations; nothing saved. Faults are errors naming the rule.",
        permission_classes=[IsAuthenticated],
    )
    async def preview_rule_set(
        self, info: Info[Context, None], input: RuleSetInput, top: int = 10
    ) -> PreviewResult:
        ctx = info.context

        async def call() -> RuleSetPreview | InvalidRuleSet:
            try:
                found = await ctx.read(
                    rule_sets.preview_spec, ctx.require_principal(), input.spec(), top=top
                )
            except RuleSetInvalid as exc:
                return InvalidRuleSet.from_faults(exc.faults)
            return RuleSetPreview.from_preview(found)

        return await guarded(ctx, call)
