"""Reading datasets as the API pages them: scoped by the one policy layer, keyset-paged
by id (stable while rows are added), each page one statement whatever its size.

Datasets are an ownerless kind: a role either reads them (analysts, managers, admins)
or does not; a caller who may not read them finds none, and one named by id is
reported as missing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ogcrm.auth import policy
from ogcrm.auth.principal import Principal
from ogcrm.db.models import CellIssue, Dataset, DatasetState, RowOutcome, Source, StagedRow
from ogcrm.errors import InvalidInput

MAX_PAGE = 500


@dataclass(frozen=True)
class DatasetFilter:
    state: DatasetState | None = None
    source: str | None = None
    uploaded_by: int | None = None
    since: dt.datetime | None = None


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    has_next: bool


def _page(rows: Sequence[Any], first: int) -> Page:
    return Page(list(rows[:first]), has_next=len(rows) > first)


def _check_first(first: int) -> None:
    if first < 0 or first > MAX_PAGE:
        raise InvalidInput(f"first must be between 0 and {MAX_PAGE}, not {first}", field="first")


def get_dataset(session: Session, principal: Principal, dataset_id: int) -> Dataset:
    """One dataset the principal may read (else :class:`~ogcrm.errors.NotFound`)."""
    dataset: Dataset = policy.get_readable(session, "dataset", principal, dataset_id)
    return dataset


def datasets_by_ids(
    session: Session, principal: Principal, ids: Sequence[int]
) -> dict[int, Dataset]:
    stmt = policy.readable(select(Dataset).where(Dataset.id.in_(list(ids))), "dataset", principal)
    return {d.id: d for d in session.scalars(stmt)}


def list_datasets(
    session: Session,
    principal: Principal,
    *,
    where: DatasetFilter = DatasetFilter(),
    first: int = 20,
    before_id: int | None = None,
) -> Page:
    """Datasets newest first."""
    _check_first(first)
    stmt = policy.readable(select(Dataset), "dataset", principal)
    if where.state is not None:
        stmt = stmt.where(Dataset.state == where.state)
    if where.source is not None:
        stmt = stmt.where(
            Dataset.source_id.in_(select(Source.id).where(Source.name == where.source))
        )
    if where.uploaded_by is not None:
        stmt = stmt.where(Dataset.uploaded_by_id == where.uploaded_by)
    if where.since is not None:
        stmt = stmt.where(Dataset.created_at >= where.since)
    if before_id is not None:
        stmt = stmt.where(Dataset.id < before_id)
    return _page(session.scalars(stmt.order_by(Dataset.id.desc()).limit(first + 1)).all(), first)


def source_names(session: Session, source_ids: Sequence[int]) -> dict[int, str]:
    rows = session.execute(select(Source.id, Source.name).where(Source.id.in_(list(source_ids))))
    return {i: n for i, n in rows}


@dataclass(frozen=True)
class IssueFilter:
    cleaner: str | None = None
    column: str | None = None
    severity: str | None = None


def issues(
    session: Session,
    principal: Principal,
    dataset_id: int,
    *,
    where: IssueFilter = IssueFilter(),
    first: int = 50,
    after_id: int | None = None,
) -> Page:
    """A page of a dataset's cell issues in file order (by id)."""
    _check_first(first)
    get_dataset(session, principal, dataset_id)
    stmt = select(CellIssue).where(CellIssue.dataset_id == dataset_id)
    if where.cleaner is not None:
        stmt = stmt.where(CellIssue.cleaner == where.cleaner)
    if where.column is not None:
        stmt = stmt.where(CellIssue.column == where.column)
    if where.severity is not None:
        stmt = stmt.where(CellIssue.severity == where.severity)
    if after_id is not None:
        stmt = stmt.where(CellIssue.id > after_id)
    return _page(session.scalars(stmt.order_by(CellIssue.id).limit(first + 1)).all(), first)


@dataclass(frozen=True)
class IssueCount:
    cleaner: str
    column: str
    severity: str
    count: int


def issue_summary(session: Session, principal: Principal, dataset_id: int) -> list[IssueCount]:
    """How many issues each cleaner raised on each column, most first."""
    get_dataset(session, principal, dataset_id)
    return issue_counts(session, dataset_id)


def issue_counts(session: Session, dataset_id: int) -> list[IssueCount]:
    """Issues per cleaner, column and severity, most first (the caller checked access)."""
    grouped = session.execute(
        select(CellIssue.cleaner, CellIssue.column, CellIssue.severity, func.count())
        .where(CellIssue.dataset_id == dataset_id)
        .group_by(CellIssue.cleaner, CellIssue.column, CellIssue.severity)
        .order_by(func.count().desc(), CellIssue.cleaner, CellIssue.column)
    ).all()
    return [IssueCount(c, col, str(sev), int(n)) for c, col, sev, n in grouped]


@dataclass
class StagedPage:
    rows: list[StagedRow]
    has_next: bool
    #: row number -> that row's cell issues, in order
    issues: dict[int, list[CellIssue]] = field(default_factory=dict)


def staged_rows(
    session: Session,
    principal: Principal,
    dataset_id: int,
    *,
    outcome: RowOutcome | None = None,
    first: int = 50,
    after_row: int = 0,
) -> StagedPage:
    """A page of a readable dataset's staged rows with their corrections."""
    _check_first(first)
    get_dataset(session, principal, dataset_id)
    return staged_page(session, dataset_id, outcome=outcome, first=first, after_row=after_row)


def staged_page(
    session: Session,
    dataset_id: int,
    *,
    outcome: RowOutcome | None = None,
    first: int = 50,
    after_row: int = 0,
) -> StagedPage:
    """A page of staged rows after ``after_row`` and their cell issues: two statements
    per page, whatever its size (the caller has checked access)."""
    stmt = select(StagedRow).where(
        StagedRow.dataset_id == dataset_id, StagedRow.row_number > after_row
    )
    if outcome is not None:
        stmt = stmt.where(StagedRow.outcome == outcome)
    page = _page(session.scalars(stmt.order_by(StagedRow.row_number).limit(first + 1)).all(), first)
    out = StagedPage(page.rows, page.has_next)
    numbers = [r.row_number for r in page.rows]
    if numbers:
        by_row: dict[int, list[CellIssue]] = defaultdict(list)
        for issue in session.scalars(
            select(CellIssue)
            .where(CellIssue.dataset_id == dataset_id, CellIssue.row_number.in_(numbers))
            .order_by(CellIssue.id)
        ):
            by_row[issue.row_number].append(issue)
        out.issues = dict(by_row)
    return out


@dataclass(frozen=True)
class ErrorParts:
    """A failed dataset's error as its parts (the reader's message names them all)."""

    file: str
    reason: str
    row: int | None = None
    column: str | None = None
    sheet: str | None = None


_ERROR = re.compile(
    r"^(?P<file>[^,:]+?)(?:, sheet '(?P<sheet>[^']*)')?(?:, row (?P<row>\d+))?"
    r"(?:, column (?:'(?P<column>[^']*)'|(?P<position>\d+)))?: (?P<reason>.*)$",
    re.DOTALL,
)


def error_parts(dataset: Dataset) -> ErrorParts | None:
    """The file, sheet, row, column and reason of a failed dataset's error."""
    if not dataset.error:
        return None
    match = _ERROR.match(dataset.error)
    if match is None:
        return ErrorParts(file=dataset.filename, reason=dataset.error)
    return ErrorParts(
        file=match["file"],
        reason=match["reason"],
        row=int(match["row"]) if match["row"] else None,
        column=match["column"] if match["column"] is not None else match["position"],
        sheet=match["sheet"],
    )
