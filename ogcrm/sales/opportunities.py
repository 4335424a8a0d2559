"""The opportunity pipeline. This module owns the stage an opportunity is in:

    prospecting <-> qualification <-> proposal <-> negotiation   (any open stage to any)
    any open stage --> won | lost                                  (final; lost needs a reason)

Every move is recorded (from, to, who, when) in ``opportunity_stage_change``, in the same
transaction as the move, by a conditional UPDATE on the stage the mover saw: two people
moving one opportunity at once cannot both record a move from the same stage. Each stage
has a default win probability (``pipeline_stage``, set by admins), which the weighted
pipeline multiplies amounts by.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ogcrm.auth import audit, policy
from ogcrm.auth.principal import Principal
from ogcrm.db.models import (
    Action,
    Campaign,
    Dataset,
    Opportunity,
    OpportunitySource,
    OpportunityStage,
    OpportunityStageChange,
    PipelineStage,
)
from ogcrm.db.types import utcnow
from ogcrm.errors import InvalidInput
from ogcrm.sales._common import (
    CENT,
    active_user,
    clean_text,
    currency_code,
    long_text,
    money,
    move,
)

OPEN_STAGES = (
    OpportunityStage.PROSPECTING,
    OpportunityStage.QUALIFICATION,
    OpportunityStage.PROPOSAL,
    OpportunityStage.NEGOTIATION,
)
CLOSED_STAGES = (OpportunityStage.WON, OpportunityStage.LOST)
MAX_NAME = 300


@dataclass(frozen=True)
class OpportunityFilter:
    owner_id: int | None = None
    organization_id: int | None = None
    stages: Sequence[OpportunityStage] = ()
    closing_from: dt.date | None = None
    closing_to: dt.date | None = None


@dataclass(frozen=True)
class StageFigures:
    stage: OpportunityStage
    currency: str
    count: int
    amount: Decimal
    weighted_amount: Decimal
    probability: float


def stage_probabilities(session: Session) -> dict[OpportunityStage, float]:
    """Each stage's default win probability (configuration: readable by anyone)."""
    rows = session.execute(select(PipelineStage.stage, PipelineStage.probability))
    return {OpportunityStage(stage): float(p) for stage, p in rows}


def set_stage_probability(
    session: Session, principal: Principal, stage: OpportunityStage, probability: float
) -> dict[OpportunityStage, float]:
    """Change an open stage's win probability (admins, by the ``pipeline_stage`` grant);
    won is always 1 and lost 0."""
    policy.require(principal, "pipeline_stage", Action.WRITE)
    if stage in CLOSED_STAGES:
        raise InvalidInput(
            f"{stage.value} is always {1 if stage is OpportunityStage.WON else 0}", field="stage"
        )
    if not 0 <= probability <= 1:
        raise InvalidInput("probability must be between 0 and 1", field="probability")
    row = session.get(PipelineStage, stage.value)
    if row is None:
        row = PipelineStage(stage=stage.value, probability=probability)
        session.add(row)
    row.probability = probability
    row.updated_by_id = principal.user_id
    session.flush()
    audit.record(
        session, principal, "pipeline_stage.update", entity="pipeline_stage",
        entity_id=stage.value, probability=probability,
    )  # fmt: skip
    return stage_probabilities(session)


def _source(
    session: Session,
    principal: Principal,
    source: OpportunitySource | None,
    dataset_id: int | None,
    campaign_id: int | None,
    user_id: int | None,
) -> dict[str, Any]:
    """Which dataset, campaign or person brought it, each checked to exist."""
    if source is None:
        if dataset_id or campaign_id or user_id:
            raise InvalidInput("say which kind of source this is", field="source")
        return {}
    out: dict[str, Any] = {"source": source}
    if source is OpportunitySource.DATASET:
        if dataset_id is None or session.get(Dataset, dataset_id) is None:
            raise InvalidInput(
                "a dataset source names an existing dataset", field="sourceDatasetId"
            )
        out["source_dataset_id"] = dataset_id
    elif source is OpportunitySource.CAMPAIGN:
        if campaign_id is None or session.get(Campaign, campaign_id) is None:
            raise InvalidInput(
                "a campaign source names an existing campaign", field="sourceCampaignId"
            )
        out["source_campaign_id"] = campaign_id
    else:
        person = user_id if user_id is not None else principal.user_id
        out["source_user_id"] = (
            active_user(session, person, "sourceUserId") if person is not None else None
        )
    return out


def create_opportunity(
    session: Session,
    principal: Principal,
    *,
    organization_id: int,
    name: str,
    amount: Decimal | None = None,
    currency: str = "USD",
    expected_close: dt.date | None = None,
    stage: OpportunityStage = OpportunityStage.PROSPECTING,
    owner_id: int | None = None,
    next_step: str | None = None,
    source: OpportunitySource | None = None,
    source_dataset_id: int | None = None,
    source_campaign_id: int | None = None,
    source_user_id: int | None = None,
) -> Opportunity:
    """An opportunity on an account the principal may read, owned by ``owner_id`` (the
    principal by default), entering the pipeline at an open ``stage``."""
    policy.get_readable(session, "organization", principal, organization_id)
    if stage not in OPEN_STAGES:
        raise InvalidInput("an opportunity starts in an open stage", field="stage")
    owner = owner_id if owner_id is not None else principal.user_id
    if owner is not None:
        active_user(session, owner, "ownerId")
    row = Opportunity(
        organization_id=organization_id,
        owner_id=owner,
        name=clean_text(name, "name", MAX_NAME, required=True),
        stage=stage,
        amount=money(amount, "amount"),
        currency=currency_code(currency),
        expected_close=expected_close,
        next_step=clean_text(next_step, "nextStep", 300),
        **_source(
            session, principal, source, source_dataset_id, source_campaign_id, source_user_id
        ),
    )
    policy.authorize_write(session, principal, "opportunity", row)
    session.add(row)
    session.flush()
    session.add(
        OpportunityStageChange(
            opportunity_id=row.id, to_stage=stage.value, user_id=principal.user_id
        )
    )
    audit.record(
        session, principal, "opportunity.create", entity="opportunity", entity_id=row.id,
        organization_id=organization_id, stage=stage.value,
    )  # fmt: skip
    return row


_UNSET: Any = object()


def update_opportunity(
    session: Session,
    principal: Principal,
    opportunity_id: int,
    *,
    name: str | None = _UNSET,
    amount: Decimal | None = _UNSET,
    currency: str | None = _UNSET,
    expected_close: dt.date | None = _UNSET,
    next_step: str | None = _UNSET,
    owner_id: int | None = _UNSET,
) -> Opportunity:
    """Change what is given (the stage moves only through :func:`move_opportunity`)."""
    row = _writable(session, principal, opportunity_id)
    changed: dict[str, Any] = {}
    if name is not _UNSET:
        changed["name"] = clean_text(name, "name", MAX_NAME, required=True)
    if amount is not _UNSET:
        changed["amount"] = money(amount, "amount")
    if currency is not _UNSET:
        changed["currency"] = currency_code(currency or "")
    if expected_close is not _UNSET:
        changed["expected_close"] = expected_close
    if next_step is not _UNSET:
        changed["next_step"] = clean_text(next_step, "nextStep", 300)
    if owner_id is not _UNSET:
        changed["owner_id"] = active_user(session, owner_id, "ownerId") if owner_id else None
    for field, value in changed.items():
        setattr(row, field, value)
    if changed:
        policy.authorize_write(session, principal, "opportunity", row)
        session.flush()
        audit.record(
            session, principal, "opportunity.update", entity="opportunity",
            entity_id=row.id, fields=sorted(changed),
        )  # fmt: skip
    return row


def _writable(session: Session, principal: Principal, opportunity_id: int) -> Opportunity:
    row: Opportunity = policy.get_readable(session, "opportunity", principal, opportunity_id)
    policy.authorize_write(session, principal, "opportunity", row)
    return row


def move_opportunity(
    session: Session,
    principal: Principal,
    opportunity_id: int,
    stage: OpportunityStage,
    *,
    lost_reason: str | None = None,
) -> Opportunity:
    """Move to ``stage``, recording the move. Won and lost are final: moving a closed
    opportunity, or to the stage it is in, is a Conflict naming its stage; lost needs a
    reason."""
    row = _writable(session, principal, opportunity_id)
    seen = row.stage
    reason = long_text(lost_reason, "lostReason").strip() or None
    if stage is OpportunityStage.LOST and reason is None:
        raise InvalidInput("say why it was lost", field="lostReason")
    if stage is not OpportunityStage.LOST and reason is not None:
        raise InvalidInput("only a lost opportunity has a lost reason", field="lostReason")
    allowed = [seen] if seen in OPEN_STAGES and seen is not stage else []
    move(
        session, row, Opportunity.stage, allowed, f"move to {stage.value}",
        stage=stage, lost_reason=reason,
        closed_at=utcnow() if stage in CLOSED_STAGES else None,
    )  # fmt: skip
    session.add(
        OpportunityStageChange(
            opportunity_id=row.id,
            from_stage=seen.value,
            to_stage=stage.value,
            user_id=principal.user_id,
        )
    )
    audit.record(
        session, principal, "opportunity.move", entity="opportunity", entity_id=row.id,
        from_stage=seen.value, to_stage=stage.value,
    )  # fmt: skip
    return row


def _filtered(stmt: Select[Any], f: OpportunityFilter) -> Select[Any]:
    if f.owner_id is not None:
        stmt = stmt.where(Opportunity.owner_id == f.owner_id)
    if f.organization_id is not None:
        stmt = stmt.where(Opportunity.organization_id == f.organization_id)
    if f.stages:
        stmt = stmt.where(Opportunity.stage.in_(list(f.stages)))
    if f.closing_from is not None:
        stmt = stmt.where(Opportunity.expected_close >= f.closing_from)
    if f.closing_to is not None:
        stmt = stmt.where(Opportunity.expected_close <= f.closing_to)
    return stmt


def list_opportunities(
    session: Session,
    principal: Principal,
    *,
    where: OpportunityFilter,
    first: int,
    after: int | None = None,
) -> tuple[list[Opportunity], bool]:
    """Readable opportunities matching ``where``, newest first (keyset on id)."""
    stmt = policy.readable(_filtered(select(Opportunity), where), "opportunity", principal)
    if after is not None:
        stmt = stmt.where(Opportunity.id < after)
    rows = list(session.scalars(stmt.order_by(Opportunity.id.desc()).limit(first + 1)))
    return rows[:first], len(rows) > first


def count_opportunities(session: Session, principal: Principal, where: OpportunityFilter) -> int:
    stmt = _filtered(select(func.count(Opportunity.id)), where)
    return int(session.scalar(policy.readable(stmt, "opportunity", principal)) or 0)


def pipeline(
    session: Session, principal: Principal, where: OpportunityFilter | None = None
) -> list[StageFigures]:
    """Count, amount and probability-weighted amount per stage (and currency: amounts in
    different currencies are never added), over the opportunities the principal may
    read, in pipeline order; one grouped statement."""
    stmt = select(
        Opportunity.stage,
        Opportunity.currency,
        func.count(Opportunity.id),
        func.coalesce(func.sum(Opportunity.amount), 0),
    ).group_by(Opportunity.stage, Opportunity.currency)
    stmt = policy.readable(_filtered(stmt, where or OpportunityFilter()), "opportunity", principal)
    probabilities = stage_probabilities(session)
    order = {s: i for i, s in enumerate((*OPEN_STAGES, *CLOSED_STAGES))}
    figures = []
    for stage, currency, count, amount in session.execute(stmt):
        stage = OpportunityStage(stage)
        total = Decimal(str(amount)).quantize(CENT)
        p = probabilities.get(stage, 0.0)
        figures.append(
            StageFigures(
                stage=stage,
                currency=currency,
                count=int(count),
                amount=total,
                weighted_amount=(total * Decimal(str(p))).quantize(CENT),
                probability=p,
            )
        )
    return sorted(figures, key=lambda f: (order[f.stage], f.currency))


def stage_history(
    session: Session, opportunity_ids: Sequence[int]
) -> dict[int, list[OpportunityStageChange]]:
    """Each opportunity's stage moves, oldest first (its owner's readers may see them:
    the caller loaded the opportunity in scope)."""
    grouped: dict[int, list[OpportunityStageChange]] = defaultdict(list)
    for row in session.scalars(
        select(OpportunityStageChange)
        .where(OpportunityStageChange.opportunity_id.in_(list(opportunity_ids)))
        .order_by(OpportunityStageChange.id)
    ):
        grouped[row.opportunity_id].append(row)
    return grouped
