"""Prioritization rules and the history of the scores they produced."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ogcrm.db.base import Base, BigIntPK, IdMixin, TimestampMixin, enum_column, foreign_key
from ogcrm.db.types import FloatListType, JSONType, utcnow


class RuleSetStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ARCHIVED = "archived"


class RuleSet(IdMixin, TimestampMixin, Base):
    """A versioned set of rules. Exactly one is active at a time; the database enforces
    "at most one" with a partial unique index, activation is one transaction."""

    __tablename__ = "rule_set"
    __table_args__ = (
        UniqueConstraint("name", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index(
            "uq_rule_set_one_active",
            "status",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(default=1)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[RuleSetStatus] = enum_column(RuleSetStatus, default=RuleSetStatus.DRAFT)
    created_by_id: Mapped[int | None] = foreign_key("user.id", nullable=True, index=False)
    activated_by_id: Mapped[int | None] = foreign_key("user.id", nullable=True, index=False)
    activated_at: Mapped[dt.datetime | None]

    rules: Mapped[list[Rule]] = relationship(
        back_populates="rule_set",
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Rule.position",
    )


class Rule(IdMixin, Base):
    __tablename__ = "rule"
    __table_args__ = (UniqueConstraint("rule_set_id", "name"),)

    rule_set_id: Mapped[int] = foreign_key("rule_set.id", ondelete="CASCADE", index=False)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    logic: Mapped[Any] = mapped_column(JSONType)
    weight: Mapped[float] = mapped_column(default=1.0)
    enabled: Mapped[bool] = mapped_column(default=True)

    rule_set: Mapped[RuleSet] = relationship(back_populates="rules", lazy="raise")


class ScoreSnapshot(IdMixin, Base):
    """An organization's score at one moment under one rule set, with its explanation.

    History, written up to a million rows per rescore: it has no foreign keys (each
    costs a lookup per inserted row, 2.6 s per million measured on PostgreSQL), its
    rows are made by the rescore statement from organizations and the rule set it
    scores with, and it outlives the organizations it describes, as audit events do.
    """

    __tablename__ = "score_snapshot"
    __table_args__ = (
        Index("ix_score_snapshot_organization_id_computed_at", "organization_id", "computed_at"),
    )

    organization_id: Mapped[int] = mapped_column(BigIntPK)
    rule_set_id: Mapped[int | None] = mapped_column(BigIntPK)
    score: Mapped[float]
    priority: Mapped[float]
    #: Each enabled rule's contribution, in rule position order (see ``rules_of``): the
    #: rule set is immutable once saved, so positions name the rules.
    contributions: Mapped[list[float]] = mapped_column(FloatListType, default=list)
    computed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class OrganizationScore(Base):
    """An organization's current score and effective priority: one row per organization
    (a trigger on ``organization`` inserts it), apart from the organization row so
    that a full rescore rewrites a narrow table rather than every organization.

    ``priority`` is the manual override while it is in force, otherwise the score; it
    is indexed so the prioritized list is one index scan. ``snapshot_id`` is the
    ScoreSnapshot holding this score's explanation.
    """

    __tablename__ = "organization_score"
    # ix_organization_score_priority: declared after the class (it names its columns)

    organization_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True
    )
    score: Mapped[float] = mapped_column(default=0.0, server_default=text("0"))
    priority: Mapped[float] = mapped_column(default=0.0, server_default=text("0"))
    rule_set_id: Mapped[int | None] = mapped_column(BigInteger)
    snapshot_id: Mapped[int | None] = mapped_column(BigInteger)
    scored_at: Mapped[dt.datetime | None]


#: In the list's own order (priority high to low, then id low to high): a page is the
#: index's first rows. An index on (priority, id) serves only an all-descending order, so
#: ties (every unscored account) were sorted on each request (47 ms at 100,000).
Index(
    "ix_organization_score_priority",
    OrganizationScore.priority.desc(),
    OrganizationScore.organization_id,
)
