"""Reverting a merged dataset: its change records inverted newest first, conflicts
reported and left alone, history kept."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ogcrm.auth import audit
from ogcrm.auth.principal import Principal
from ogcrm.datasets import lifecycle
from ogcrm.datasets.merge.keys import (
    CREATED,
    column_value,
)
from ogcrm.db.models import (
    ChangeRecord,
    Contact,
    Interaction,
    Opportunity,
    Organization,
    OrganizationIdentifier,
    Permit,
    ProductionReport,
    Task,
    Well,
)

_ENTITY_MODELS: dict[str, Any] = {
    "organization": Organization,
    "well": Well,
    "permit": Permit,
    "production_report": ProductionReport,
}


def _referenced(session: Session, entity: str, entity_id: int) -> bool:
    """Whether rows this dataset did not create still point at an entity it created
    (they are removed first, newest first, so whatever remains is someone else's)."""
    checks: list[Any] = []
    if entity == "organization":
        checks = [
            select(Contact.id).where(Contact.organization_id == entity_id),
            select(Interaction.id).where(Interaction.organization_id == entity_id),
            select(Task.id).where(Task.organization_id == entity_id),
            select(Opportunity.id).where(Opportunity.organization_id == entity_id),
            select(Well.id).where(Well.operator_id == entity_id),
            select(Permit.id).where(Permit.operator_id == entity_id),
            select(ProductionReport.id).where(ProductionReport.operator_id == entity_id),
        ]
    elif entity == "well":
        checks = [
            select(Permit.id).where(Permit.well_id == entity_id),
            select(ProductionReport.id).where(ProductionReport.well_id == entity_id),
        ]
    return any(session.scalar(q.limit(1)) is not None for q in checks)


def revert(session: Session, principal: Principal, dataset_id: int) -> dict[str, Any]:
    """Undo a merged dataset's changes, newest first, in one transaction.

    A field changed since (by a later dataset or a person) is a conflict: left as it is
    and reported. An entity the dataset created is removed only when nothing else has
    changed it since. Change records are kept; the revert adds its own.
    """
    dataset = lifecycle.check_revertable(session, dataset_id)
    records = list(
        session.scalars(
            select(ChangeRecord)
            .where(ChangeRecord.dataset_id == dataset_id)
            .order_by(ChangeRecord.id.desc())
        )
    )
    later: dict[tuple[str, int, str], int] = {}
    touched: dict[tuple[str, int], int] = {}
    if records:
        first_id = min(r.id for r in records)
        for rec in session.scalars(
            select(ChangeRecord).where(
                ChangeRecord.id > first_id, ChangeRecord.dataset_id.is_distinct_from(dataset_id)
            )
        ):
            later[(rec.entity, rec.entity_id, rec.field)] = rec.id
            touched[(rec.entity, rec.entity_id)] = rec.id
    created = {(r.entity, r.entity_id) for r in records if r.field == CREATED}
    conflicts: list[dict[str, Any]] = []
    reverted = 0
    removed: dict[str, int] = defaultdict(int)
    for rec in records:
        model = _ENTITY_MODELS.get(rec.entity)
        if model is None:
            continue
        if rec.field == CREATED:
            if (rec.entity, rec.entity_id) in touched or _referenced(
                session, rec.entity, rec.entity_id
            ):
                conflicts.append(
                    {
                        "entity": rec.entity,
                        "id": rec.entity_id,
                        "field": CREATED,
                        "reason": "changed since by another dataset or a person",
                    }
                )
                continue
            row = session.get(model, rec.entity_id)
            if row is not None:
                session.delete(row)
                session.flush()
                removed[rec.entity] += 1
            continue
        if rec.field.startswith("identifier:"):
            agency = rec.field.split(":", 1)[1]
            for ident in session.scalars(
                select(OrganizationIdentifier).where(
                    OrganizationIdentifier.organization_id == rec.entity_id,
                    OrganizationIdentifier.agency == agency,
                    OrganizationIdentifier.identifier == rec.after,
                )
            ):
                session.delete(ident)
            continue
        if (rec.entity, rec.entity_id) in created:
            continue  # removed with the entity (or kept, as a reported conflict)
        if (rec.entity, rec.entity_id, rec.field) in later:
            conflicts.append(
                {
                    "entity": rec.entity,
                    "id": rec.entity_id,
                    "field": rec.field,
                    "reason": "changed since by another dataset or a person",
                }
            )
            continue
        row = session.get(model, rec.entity_id)
        if row is None:
            continue
        setattr(row, rec.field, column_value(rec.field, rec.before))
        session.add(
            ChangeRecord(
                dataset_id=dataset_id,
                user_id=principal.user_id,
                entity=rec.entity,
                entity_id=rec.entity_id,
                field=rec.field,
                before=rec.after,
                after=rec.before,
                row_number=rec.row_number,
            )
        )
        reverted += 1
    session.flush()
    result = {
        "fields_reverted": reverted,
        "entities_removed": dict(removed),
        "conflicts": conflicts,
    }
    # the dataset's summary says what the revert did, beside what the merge had done
    summary = {**result, "conflicts": len(conflicts)}
    lifecycle.finish_revert(
        session, dataset_id, counts={**(dataset.counts or {}), "revert": summary}
    )
    audit.record(
        session,
        principal,
        "dataset.revert",
        entity="dataset",
        entity_id=dataset_id,
        fields_reverted=reverted,
        conflicts=len(conflicts),
    )
    return result
