"""Rule sets, rules, features and previews: the admin's prioritization workflow."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from ogcrm.api.context import Context
from ogcrm.api.errors import UserError
from ogcrm.api.types.access import Actor, actor
from ogcrm.db import models
from ogcrm.rules.ruleset import Fault, RuleSetSpec, RuleSpec
from ogcrm.scoring.rescore import Preview, Ranked

strawberry.enum(models.RuleSetStatus, name="RuleSetStatus")


@strawberry.type(description="A number or fact rules can read, computed by a scorer plugin.")
class Feature:
    name: str
    type: str
    description: str
    scorer: str


@strawberry.type(description="One rule: JSON-logic and the weight it adds.")
class Rule:
    position: int
    name: str
    description: str
    logic: JSON
    weight: float
    enabled: bool

    @classmethod
    def from_row(cls, row: models.Rule) -> Rule:
        return cls(
            position=row.position,
            name=row.name,
            description=row.description,
            logic=row.logic,
            weight=row.weight,
            enabled=row.enabled,
        )


@strawberry.type
class RuleSet(relay.Node):
    """One version of a named rule set; exactly one version of all is active."""

    id: relay.NodeID[int]
    name: str
    version: int
    description: str
    status: models.RuleSetStatus
    created_at: dt.datetime
    activated_at: dt.datetime | None
    row: strawberry.Private[models.RuleSet]

    @classmethod
    def from_row(cls, row: models.RuleSet) -> RuleSet:
        return cls(
            id=row.id,
            name=row.name,
            version=row.version,
            description=row.description,
            status=row.status,
            created_at=row.created_at,
            activated_at=row.activated_at,
            row=row,
        )

    @strawberry.field
    def is_active(self) -> bool:
        return self.status == models.RuleSetStatus.ACTIVE

    @strawberry.field(description="Its rules, in order.")
    async def rules(self, info: Info[Context, None]) -> list[Rule]:
        return [Rule.from_row(r) for r in await info.context.loaders.rules_of.load(self.id)]

    @strawberry.field(description="Who saved this version.")
    async def created_by(self, info: Info[Context, None]) -> Actor | None:
        return await actor(info, self.row.created_by_id)

    @strawberry.field(description="Who activated it.")
    async def activated_by(self, info: Info[Context, None]) -> Actor | None:
        return await actor(info, self.row.activated_by_id)

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        from ogcrm.scoring.rule_sets import get_rule_set

        principal = info.context.require_principal()

        def load(session: Any) -> list[Any]:
            from ogcrm.errors import NotFound

            out = []
            for i in node_ids:
                try:
                    out.append(cls.from_row(get_rule_set(session, principal, int(i))))
                except NotFound:
                    out.append(None)
            return out

        return await info.context.read(load)


@strawberry.input(description="A rule as written: JSON-logic, and the weight it adds.")
class RuleInput:
    name: str
    logic: JSON
    weight: float
    description: str = ""
    enabled: bool = True


@strawberry.input(description="A rule set as written, to validate, preview or save.")
class RuleSetInput:
    name: str
    rules: list[RuleInput]
    description: str = ""

    def spec(self) -> RuleSetSpec:
        return RuleSetSpec(
            name=self.name.strip(),
            description=self.description,
            rules=tuple(
                RuleSpec(
                    name=r.name.strip(),
                    logic=r.logic,
                    weight=r.weight,
                    description=r.description,
                    enabled=r.enabled,
                )
                for r in self.rules
            ),
        )


@strawberry.type(description="What is wrong with a rule set: the rule, where, and why.")
class RuleFault:
    rule: str | None
    path: str = strawberry.field(description="JSON Pointer into the rule set document.")
    message: str

    @classmethod
    def from_fault(cls, fault: Fault) -> RuleFault:
        return cls(rule=fault.rule, path=fault.path, message=fault.message)


@strawberry.type(description="A rule set refused: every fault with its rule and JSON Pointer.")
class InvalidRuleSet(UserError):
    faults: list[RuleFault]

    @classmethod
    def from_faults(cls, faults: Iterable[Fault]) -> InvalidRuleSet:
        found = [RuleFault.from_fault(f) for f in faults]
        return cls(message=f"the rule set has {len(found)} fault(s)", faults=found)


@strawberry.type(description="The result of validating a rule set (nothing saved).")
class RuleSetValidation:
    valid: bool
    faults: list[RuleFault]


@strawberry.type(description="One rule's part in a score.")
class Contribution:
    rule: str
    contribution: float


@strawberry.type(description="An organization as a draft rule set would score it.")
class RankedOrganization:
    organization_id: relay.GlobalID
    name: str
    score: float
    current: float = strawberry.field(description="Its score under the active rule set.")
    change: float
    explanation: list[Contribution]

    @classmethod
    def from_ranked(cls, r: Ranked) -> RankedOrganization:
        return cls(
            organization_id=relay.GlobalID("Organization", str(r.organization_id)),
            name=r.name,
            score=r.score,
            current=r.current,
            change=r.change,
            explanation=[
                Contribution(rule=e["rule"], contribution=e["contribution"]) for e in r.explanation
            ],
        )


@strawberry.type(description="What a draft would do against the active set (nothing saved).")
class RuleSetPreview:
    organizations: int
    top: list[RankedOrganization]
    up: list[RankedOrganization]
    down: list[RankedOrganization]

    @classmethod
    def from_preview(cls, p: Preview) -> RuleSetPreview:
        return cls(
            organizations=p.organizations,
            top=[RankedOrganization.from_ranked(r) for r in p.top],
            up=[RankedOrganization.from_ranked(r) for r in p.up],
            down=[RankedOrganization.from_ranked(r) for r in p.down],
        )


@strawberry.type(description="A rule set made active; everyone is rescored.")
class RuleSetActivation:
    rule_set: RuleSet
    rescore_queued: bool = strawberry.field(
        description="True: a job rescores everyone now; false: done in this request."
    )
