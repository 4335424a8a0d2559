"""The sales pipeline's own records: stage probabilities an admin sets, and the history
of every stage move."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ogcrm.db.base import Base, IdMixin, foreign_key
from ogcrm.db.types import utcnow


class PipelineStage(Base):
    """A stage's default win probability (0..1): what the weighted pipeline multiplies
    each opportunity's amount by. One row per stage, seeded by the migration."""

    __tablename__ = "pipeline_stage"
    __table_args__ = (CheckConstraint("probability BETWEEN 0 AND 1", name="probability_range"),)

    #: An :class:`OpportunityStage` value.
    stage: Mapped[str] = mapped_column(String(16), primary_key=True)
    probability: Mapped[float]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = foreign_key(
        "user.id", nullable=True, ondelete="SET NULL", index=False
    )


class OpportunityStageChange(IdMixin, Base):
    """An opportunity moved from one stage to another: who, when (the first row of each
    opportunity has no ``from_stage``: it was created there)."""

    __tablename__ = "opportunity_stage_change"

    opportunity_id: Mapped[int] = foreign_key("opportunity.id", ondelete="CASCADE")
    from_stage: Mapped[str | None] = mapped_column(String(16))
    to_stage: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = foreign_key(
        "user.id", nullable=True, ondelete="SET NULL", index=False
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class RoutingRule(IdMixin, Base):
    """One assignment rule: JSON-logic over a service request and its organization; the
    first enabled rule (by ``position``) whose logic holds assigns the user or team."""

    __tablename__ = "routing_rule"
    __table_args__ = (
        UniqueConstraint("position"),
        CheckConstraint(
            "assign_user_id IS NOT NULL OR assign_team_id IS NOT NULL", name="assigns_someone"
        ),
    )

    position: Mapped[int]
    #: What it routes: ``service_request`` (to a user or a team), or ``organization``
    #: (a new, unowned one a merged dataset created: to a user, who then owns it).
    applies_to: Mapped[str] = mapped_column(
        String(16), default="service_request", server_default="service_request"
    )
    name: Mapped[str] = mapped_column(String(200))
    logic: Mapped[dict[str, Any]] = mapped_column(default=dict)
    assign_user_id: Mapped[int | None] = foreign_key(
        "user.id", nullable=True, ondelete="SET NULL", index=False
    )
    assign_team_id: Mapped[int | None] = foreign_key(
        "team.id", nullable=True, ondelete="SET NULL", index=False
    )
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = foreign_key(
        "user.id", nullable=True, ondelete="SET NULL", index=False
    )
