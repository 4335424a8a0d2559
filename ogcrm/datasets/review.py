"""Reviewing a processed dataset before approval: its rows page by page with what the
cleaners did to each, the organizations that need a person's word, and fixing a
quarantined row (re-cleaned on save)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ogcrm.auth import audit
from ogcrm.auth.principal import Principal
from ogcrm.datasets.matching import load_matcher
from ogcrm.datasets.queries import get_dataset, staged_page
from ogcrm.datasets.staging import stage_issues
from ogcrm.db.models import CellIssue, Dataset, DatasetState, RowOutcome, Source, StagedRow
from ogcrm.errors import InvalidInput, NotFound
from ogcrm.pipeline.cleaning import CleanRun
from ogcrm.pipeline.contracts import Chunk, SourceSpec
from ogcrm.pipeline.matching import OrgName, Verdict
from ogcrm.plugins import Registry, default_registry


@dataclass(frozen=True)
class ReviewRow:
    row_number: int
    outcome: str
    cleaned: dict[str, Any]
    #: column -> {"original", "corrected", "severity", "message", "cleaner"}
    issues: dict[str, list[dict[str, Any]]]


def rows(
    session: Session,
    dataset_id: int,
    *,
    outcome: str | None = None,
    after_row: int = 0,
    limit: int = 50,
) -> list[ReviewRow]:
    """A page of staged rows (``after_row`` is the last row number of the previous
    page), each with its cell issues: the original of every value a cleaner changed."""
    if limit < 1 or limit > 500:
        raise InvalidInput("limit must be between 1 and 500", field="limit")
    page = staged_page(
        session,
        dataset_id,
        outcome=RowOutcome(outcome) if outcome else None,
        first=limit,
        after_row=after_row,
    )
    return [
        ReviewRow(
            r.row_number,
            str(r.outcome),
            r.cleaned,
            _by_column(page.issues.get(r.row_number, [])),
        )
        for r in page.rows
    ]


def _by_column(issues: list[CellIssue]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for issue in issues:
        out[issue.column].append(
            {
                "original": issue.original,
                "corrected": issue.corrected,
                "severity": str(issue.severity),
                "message": issue.message,
                "cleaner": issue.cleaner,
            }
        )
    return dict(out)


@dataclass(frozen=True)
class Candidate:
    name: str
    key: str
    rows: int
    verdict: str
    organization_id: int | None
    organization_name: str | None
    score: float
    reason: str


def scoped_candidates(session: Session, principal: Principal, dataset_id: int) -> list[Candidate]:
    """:func:`candidates` of a dataset the principal may read."""
    get_dataset(session, principal, dataset_id)
    return candidates(session, dataset_id)


def candidates(session: Session, dataset_id: int) -> list[Candidate]:
    """The dataset's operator names that resemble a known organization without being
    certainly it: each needs a person to confirm or deny (``record_decision``)."""
    staged = (
        select(
            StagedRow.cleaned["operator_name"].as_string().label("name"),
            StagedRow.cleaned["operator_name_key"].as_string().label("key"),
            StagedRow.cleaned["operator_name_form"].as_string().label("form"),
        )
        .where(
            StagedRow.dataset_id == dataset_id,
            StagedRow.outcome.in_([RowOutcome.CLEAN, RowOutcome.FIXED]),
        )
        .subquery()
    )
    names = session.execute(
        select(staged.c.name, staged.c.key, staged.c.form, func.count()).group_by(
            staged.c.name, staged.c.key, staged.c.form
        )
    ).all()
    matcher = load_matcher(session)
    out = []
    for name, key, form, count in names:
        if not key:
            continue
        match = matcher.match(OrgName(key, name or "", form))
        if match.verdict is Verdict.CANDIDATE and match.other is not None:
            out.append(
                Candidate(
                    name or key,
                    key,
                    int(count),
                    str(match.verdict),
                    match.other.organization_id,
                    match.other.name,
                    match.score,
                    match.reason,
                )
            )
    return sorted(out, key=lambda c: (-c.rows, c.name))


def edit_row(
    session: Session,
    principal: Principal,
    dataset_id: int,
    row_number: int,
    values: dict[str, Any],
    *,
    registry: Registry | None = None,
) -> ReviewRow:
    """Correct a quarantined row by hand: the new values (canonical fields) go through the
    source's cleaner chain again; the row's outcome and the dataset's counts follow."""
    registry = registry or default_registry()
    dataset = session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound(f"dataset {dataset_id} not found")
    if dataset.state != DatasetState.AWAITING_REVIEW:
        raise InvalidInput(
            f"dataset {dataset_id} is {dataset.state}; only rows under review can be edited"
        )
    row = session.scalars(
        select(StagedRow).where(
            StagedRow.dataset_id == dataset_id, StagedRow.row_number == row_number
        )
    ).first()
    if row is None:
        raise NotFound(f"row {row_number} of dataset {dataset_id} not found")
    if row.outcome != RowOutcome.QUARANTINED:
        raise InvalidInput(f"row {row_number} is {row.outcome}, not quarantined")
    source = session.get(Source, dataset.source_id)
    spec = registry.sources.get(source.name) or SourceSpec(
        source.name, source.title, source.agency, mapping=source.mapping
    )
    unknown = sorted(set(values) - set(spec.mapping))
    if unknown:
        raise InvalidInput(
            f"not fields of source {spec.name}: {', '.join(unknown)}", field="values"
        )
    edited = SourceSpec(
        spec.name,
        spec.title,
        spec.agency,
        mapping={f: f for f in spec.mapping},
        state=spec.state,
        cleaners=spec.cleaners,
        options=spec.options,
    )
    raw = {f: _raw(values[f]) if f in values else _raw(row.cleaned.get(f)) for f in spec.mapping}
    run = CleanRun(edited, registry, dataset.filename)
    cleaned = run.clean(Chunk(pd.DataFrame([raw], dtype=object), first_row=row_number))
    outcome = str(cleaned.outcome.iloc[0])
    if outcome == "duplicate":  # alone in its run, a row cannot repeat an earlier one
        outcome = "clean"
    row.cleaned = json.loads(cleaned.lines[0])
    row.outcome = RowOutcome(outcome)
    stage_issues(session, dataset_id, cleaned.issues)
    counts = {
        "clean": Dataset.rows_clean,
        "fixed": Dataset.rows_fixed,
        "quarantined": Dataset.rows_quarantined,
    }
    if outcome != "quarantined":
        session.execute(
            update(Dataset)
            .where(Dataset.id == dataset_id)
            .values(
                {
                    counts["quarantined"]: counts["quarantined"] - 1,
                    counts[outcome]: counts[outcome] + 1,
                }
            )
        )
    session.flush()
    audit.record(
        session,
        principal,
        "dataset.edit_row",
        entity="dataset",
        entity_id=dataset_id,
        row=row_number,
        fields=sorted(values),
        outcome=outcome,
    )
    return rows(session, dataset_id, after_row=row_number - 1, limit=1)[0]


def _raw(value: Any) -> str | None:
    return None if value is None else str(value)
