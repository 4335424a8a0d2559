"""Saved report definitions and each user's dashboard layout."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ogcrm.db.base import Base, BigIntPK, IdMixin, TimestampMixin, foreign_key
from ogcrm.db.types import utcnow


class Report(IdMixin, TimestampMixin, Base):
    """A named report: a subject, dimensions and metrics from the catalog, filters, sort
    and limit, and how to chart it (``definition``, checked against the catalog when
    saved and again when run). Its owner edits it; ``shared`` lets every user read it."""

    __tablename__ = "report"
    __table_args__ = (UniqueConstraint("owner_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = foreign_key("user.id", nullable=True, ondelete="SET NULL")
    shared: Mapped[bool] = mapped_column(default=False)
    definition: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Dashboard(Base):
    """A user's chosen tiles (KPIs and reports) in order; without a row, their role's
    default layout applies."""

    __tablename__ = "dashboard"

    user_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    tiles: Mapped[list[Any]] = mapped_column(default=list)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
