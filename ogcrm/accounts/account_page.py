"""What an account page shows of an organization, batched: each function takes many
organization ids and answers for all of them in one statement (a window function keeps
the newest ``first`` rows of each), so the page costs the same whether it shows one
account or fifty.

Regulatory rows (wells, permits, production) are public data: readable by anyone who
may read the organization they hang off, which the caller has already checked (these are
reached through an organization loaded in scope). CRM rows (interactions, tasks) go
through :mod:`ogcrm.auth.policy` again.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from ogcrm.auth import policy
from ogcrm.auth.principal import Principal
from ogcrm.db.models import (
    ChangeRecord,
    Interaction,
    OrganizationEvent,
    OrganizationIdentifier,
    ProductionReport,
    ScoreSnapshot,
    Tag,
    Task,
    TaskStatus,
    organization_tag,
)
from ogcrm.db.types import in_values, utcnow


def _newest_per_org(
    session: Session,
    model: Any,
    org_column: Any,
    org_ids: Sequence[int],
    order: Sequence[Any],
    first: int,
    where: Sequence[ColumnElement[bool]] = (),
    scoped: tuple[str, Principal] | None = None,
) -> dict[int, list[Any]]:
    ranked: Select[Any] = select(
        model.id.label("id"),
        func.row_number().over(partition_by=org_column, order_by=list(order)).label("n"),
    ).where(in_values(session, org_column, org_ids), *where)
    if scoped is not None:
        ranked = policy.readable(ranked, scoped[0], scoped[1])
    top = ranked.subquery()
    stmt = select(model).join(top, top.c.id == model.id).where(top.c.n <= first).order_by(*order)
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in session.scalars(stmt):
        grouped[getattr(row, org_column.key)].append(row)
    return grouped


def identifiers_of(session: Session, org_ids: Sequence[int]) -> dict[int, list[Any]]:
    stmt = (
        select(OrganizationIdentifier)
        .where(OrganizationIdentifier.organization_id.in_(list(org_ids)))
        .order_by(OrganizationIdentifier.agency, OrganizationIdentifier.identifier)
    )
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in session.scalars(stmt):
        grouped[row.organization_id].append(row)
    return grouped


def tags_of(session: Session, org_ids: Sequence[int]) -> dict[int, list[str]]:
    stmt = (
        select(organization_tag.c.organization_id, Tag.name)
        .join(Tag, Tag.id == organization_tag.c.tag_id)
        .where(organization_tag.c.organization_id.in_(list(org_ids)))
        .order_by(Tag.name)
    )
    grouped: dict[int, list[str]] = defaultdict(list)
    for org_id, name in session.execute(stmt):
        grouped[org_id].append(name)
    return grouped


def interactions_of(
    session: Session, principal: Principal, org_ids: Sequence[int], first: int
) -> dict[int, list[Interaction]]:
    return _newest_per_org(
        session,
        Interaction,
        Interaction.organization_id,
        org_ids,
        (Interaction.occurred_at.desc(), Interaction.id.desc()),
        first,
        scoped=("interaction", principal),
    )


def tasks_of(
    session: Session,
    principal: Principal,
    org_ids: Sequence[int],
    first: int,
    status: TaskStatus | None,
) -> dict[int, list[Task]]:
    where = [Task.status == status] if status is not None else []
    return _newest_per_org(
        session,
        Task,
        Task.organization_id,
        org_ids,
        (Task.due_at.is_(None), Task.due_at, Task.id),
        first,
        where,
        scoped=("task", principal),
    )


def production_of(
    session: Session, org_ids: Sequence[int], months: int
) -> dict[int, list[tuple[dt.date, float, float, float]]]:
    """Monthly oil, gas and water summed over each operator's reports, oldest first,
    for the last ``months`` months (a chart's series)."""
    today = utcnow().date()
    start = dt.date(today.year, today.month, 1)
    for _ in range(months - 1):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    report = ProductionReport
    stmt = (
        select(
            report.operator_id,
            report.month,
            func.coalesce(func.sum(report.oil_bbl), 0),
            func.coalesce(func.sum(report.gas_mcf), 0),
            func.coalesce(func.sum(report.water_bbl), 0),
        )
        .where(report.operator_id.in_(list(org_ids)), report.month >= start)
        .group_by(report.operator_id, report.month)
        .order_by(report.operator_id, report.month)
    )
    grouped: dict[int, list[tuple[dt.date, float, float, float]]] = defaultdict(list)
    for org_id, month, oil, gas, water in session.execute(stmt):
        grouped[org_id].append((month, float(oil), float(gas), float(water)))
    return grouped


def score_history_of(
    session: Session, org_ids: Sequence[int], first: int
) -> dict[int, list[ScoreSnapshot]]:
    return _newest_per_org(
        session,
        ScoreSnapshot,
        ScoreSnapshot.organization_id,
        org_ids,
        (ScoreSnapshot.computed_at.desc(), ScoreSnapshot.id.desc()),
        first,
    )


def changes_of(
    session: Session, org_ids: Sequence[int], first: int
) -> dict[int, list[ChangeRecord]]:
    """Field-level provenance of the organization rows: who or which dataset changed
    what, newest first."""
    return _newest_per_org(
        session,
        ChangeRecord,
        ChangeRecord.entity_id,
        org_ids,
        (ChangeRecord.created_at.desc(), ChangeRecord.id.desc()),
        first,
        [ChangeRecord.entity == "organization"],
    )


def events_of(
    session: Session, org_ids: Sequence[int], first: int
) -> dict[int, list[OrganizationEvent]]:
    return _newest_per_org(
        session,
        OrganizationEvent,
        OrganizationEvent.organization_id,
        org_ids,
        (OrganizationEvent.created_at.desc(), OrganizationEvent.id.desc()),
        first,
    )
