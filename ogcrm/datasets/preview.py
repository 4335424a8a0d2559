"""The merge preview: what approving a dataset would create and update, by natural key,
without merging anything."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ogcrm.datasets.merge.keys import (
    merged_rows,
    operator_identity,
    staged_api10,
    staged_permit_number,
    stored_values,
)
from ogcrm.db.models import (
    Dataset,
    Organization,
    OrganizationIdentifier,
    Permit,
    Source,
    StagedRow,
    Well,
)
from ogcrm.errors import NotFound


def merge_preview(session: Session, dataset_id: int) -> dict[str, dict[str, int]]:
    """What approving a dataset would do, by natural key: how many organizations, wells
    and permits are new and how many already exist (so would be updated where they
    differ). Organizations are recognised here by agency operator number or exact
    normalized name; the merge's fuzzier matching can only turn some ``new`` into
    ``existing``."""
    dataset = session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound(f"dataset {dataset_id} not found")
    agency = session.scalar(select(Source.agency).where(Source.id == dataset.source_id))
    agency = (agency or "").lower()
    mine = merged_rows(dataset_id)
    cleaned = StagedRow.cleaned

    def split(key: Any, target: Any, *where: Any) -> dict[str, int]:
        keys = select(key.label("k")).where(*mine, key.is_not(None)).distinct().subquery()
        total = session.scalar(select(func.count()).select_from(keys)) or 0
        joined = keys.join(target.table, keys.c.k == target)
        known = (
            session.scalar(
                select(func.count(func.distinct(keys.c.k))).select_from(joined).where(*where)
            )
            or 0
        )
        return {"new": total - known, "existing": known}

    out = {
        "well": split(staged_api10(), Well.api10),
        "permit": split(staged_permit_number(), Permit.permit_number, Permit.agency == agency),
    }
    operators = session.execute(
        select(
            cleaned["operator_number"].as_string(),
            cleaned["operator_name_key"].as_string(),
            cleaned["operator_name"].as_string(),
        )
        .where(*mine)
        .distinct()
    ).all()
    identities = [operator_identity(*row) for row in operators if row[0] or row[2]]
    oi = OrganizationIdentifier
    found_ids = stored_values(
        session, oi.identifier, {i for i, _ in identities if i}, oi.agency == agency
    )
    found_names = stored_values(
        session, Organization.normalized_name, {k for _, k in identities if k}
    )
    seen: dict[str, bool] = {}
    for ident, normalized in identities:
        who = ident or normalized or ""
        seen[who] = seen.get(who, False) or ident in found_ids or normalized in found_names
    existing = sum(seen.values())
    out["organization"] = {"new": len(seen) - existing, "existing": existing}
    return out
