"""Dataset: one uploaded file from intake to revert, with its issues, staged rows and
match candidates, as the analyst reviews it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from ogcrm.api.context import Context
from ogcrm.api.ids import page_info
from ogcrm.api.pagination import check_first, decode_cursor, encode_cursor
from ogcrm.api.types.access import Actor, actor
from ogcrm.datasets import queries, review
from ogcrm.datasets.preview import merge_preview
from ogcrm.db import models

# strawberry.enum marks the model's own classes: fields are annotated with them directly
strawberry.enum(models.DatasetState, name="DatasetState")
strawberry.enum(models.RowOutcome, name="RowOutcome")
strawberry.enum(models.Severity, name="Severity")

_ISSUE_CURSOR = "cell_issue"
_ROW_CURSOR = "staged_row"


@strawberry.type(description="Why a file could not be read: where, and what was wrong.")
class DatasetError:
    file: str
    sheet: str | None
    row: int | None
    column: str | None
    reason: str


@strawberry.type(description="Rows read = clean + fixed + quarantined + duplicates.")
class RowCounts:
    read: int
    clean: int
    fixed: int
    quarantined: int
    duplicates: int


@strawberry.type(description="Of one entity kind: how many are new and how many stored.")
class PreviewCount:
    kind: str
    new: int
    existing: int


@strawberry.type(description="Per entity kind, what a merge created, updated, did not apply.")
class KindCount:
    kind: str
    count: int


@strawberry.type(description="What the merge did (and, after a revert, what the revert did).")
class MergeResult:
    created: list[KindCount]
    updated: list[KindCount]
    not_applied: list[KindCount] = strawberry.field(
        description="Changes kept out by precedence: a person's edit or a higher source."
    )
    changes: int
    reverted_fields: int | None
    removed: list[KindCount] | None = strawberry.field(
        description="After a revert: the entities it removed."
    )
    conflicts: int | None


@strawberry.type(description="One correction or complaint of a cleaner about one cell.")
class CellIssue:
    id: strawberry.ID
    row: int
    column: str
    original: str | None
    corrected: str | None
    cleaner: str
    severity: models.Severity
    message: str

    @classmethod
    def from_row(cls, row: models.CellIssue) -> CellIssue:
        return cls(
            id=strawberry.ID(str(row.id)),
            row=row.row_number,
            column=row.column,
            original=row.original,
            corrected=row.corrected,
            cleaner=row.cleaner,
            severity=row.severity,
            message=row.message,
        )


@strawberry.type
class CellIssueEdge:
    cursor: str
    node: CellIssue


@strawberry.type(description="A dataset's cell issues in file order.")
class CellIssueConnection:
    edges: list[CellIssueEdge]
    page_info: relay.PageInfo


@strawberry.type(description="How many issues one cleaner raised on one column.")
class IssueCount:
    cleaner: str
    column: str
    severity: models.Severity
    count: int


@strawberry.type(description="A staged row: its cleaned values and what the cleaners did.")
class StagedRow:
    row: int
    outcome: models.RowOutcome
    values: JSON
    corrections: list[CellIssue]


@strawberry.type
class StagedRowEdge:
    cursor: str
    node: StagedRow


@strawberry.type(description="A dataset's staged rows in file order.")
class StagedRowConnection:
    edges: list[StagedRowEdge]
    page_info: relay.PageInfo


@strawberry.type(description="An incoming operator name that resembles a stored one.")
class MatchCandidate:
    incoming: str
    rows: int
    organization_id: relay.GlobalID | None
    organization_name: str | None
    similarity: float
    reason: str = strawberry.field(description="Why it was not merged without a person.")


@strawberry.input
class IssueFilter:
    cleaner: str | None = None
    column: str | None = None
    severity: models.Severity | None = None


@strawberry.input
class RowFilter:
    outcome: models.RowOutcome | None = None


def _counts(values: dict[str, Any] | None) -> list[KindCount]:
    return [KindCount(kind=k, count=int(v)) for k, v in sorted((values or {}).items())]


@strawberry.type
class Dataset(relay.Node):
    """One upload of a source's file."""

    id: relay.NodeID[int]
    filename: str = strawberry.field(description="The client's file name (metadata only).")
    content_hash: str = strawberry.field(description="SHA-256 of the bytes: the stored name.")
    size_bytes: float
    format: str | None
    encoding: str | None
    layout: str | None = strawberry.field(
        description="The fixed-width layout it was read with, or the sheet(s) read."
    )
    state: models.DatasetState
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    reviewed_at: dt.datetime | None
    merged_at: dt.datetime | None
    reverted_at: dt.datetime | None
    timings: JSON = strawberry.field(description="Seconds per stage.")
    counts: RowCounts
    row: strawberry.Private[models.Dataset]

    @classmethod
    def from_row(cls, row: models.Dataset) -> Dataset:
        return cls(
            id=row.id,
            filename=row.filename,
            content_hash=row.content_hash,
            size_bytes=float(row.size_bytes),
            format=row.format,
            encoding=row.encoding,
            layout=row.layout,
            state=row.state,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            reviewed_at=row.reviewed_at,
            merged_at=row.merged_at,
            reverted_at=row.reverted_at,
            timings=dict(row.timings or {}),
            counts=RowCounts(
                read=row.rows_read,
                clean=row.rows_clean,
                fixed=row.rows_fixed,
                quarantined=row.rows_quarantined,
                duplicates=row.rows_duplicate,
            ),
            row=row,
        )

    @strawberry.field(description="The source (agency dataset kind) it was read as.")
    async def source(self, info: Info[Context, None]) -> str | None:
        if self.row.source_id is None:
            return None
        return await info.context.loaders.source_name.load(self.row.source_id)

    @strawberry.field
    async def uploaded_by(self, info: Info[Context, None]) -> Actor | None:
        return await actor(info, self.row.uploaded_by_id)

    @strawberry.field(description="Who approved or rejected it.")
    async def reviewed_by(self, info: Info[Context, None]) -> Actor | None:
        return await actor(info, self.row.reviewed_by_id)

    @strawberry.field(description="Why it failed, when it did.")
    def error(self) -> DatasetError | None:
        parts = queries.error_parts(self.row)
        if parts is None:
            return None
        return DatasetError(
            file=parts.file,
            sheet=parts.sheet,
            row=parts.row,
            column=parts.column,
            reason=parts.reason,
        )

    @strawberry.field(description="While awaiting review: what approving would do.")
    async def preview(self, info: Info[Context, None]) -> list[PreviewCount] | None:
        if self.state != models.DatasetState.AWAITING_REVIEW:
            return None
        found = await info.context.read(merge_preview, self.id)
        return [
            PreviewCount(kind=k, new=v["new"], existing=v["existing"]) for k, v in found.items()
        ]

    @strawberry.field(description="After a merge: what it created, updated, did not apply.")
    def merge_result(self) -> MergeResult | None:
        counts = self.row.counts or {}
        if not counts:
            return None
        revert = counts.get("revert") or {}
        return MergeResult(
            created=_counts(counts.get("created")),
            updated=_counts(counts.get("updated")),
            not_applied=_counts(counts.get("not_applied")),
            changes=int(counts.get("changes", 0)),
            reverted_fields=revert.get("fields_reverted"),
            removed=_counts(revert.get("entities_removed")) if revert else None,
            conflicts=revert.get("conflicts") if revert else None,
        )

    @strawberry.field(description="Its cell issues, in file order.")
    async def issues(
        self,
        info: Info[Context, None],
        first: int = 50,
        after: str | None = None,
        filter: IssueFilter | None = None,
    ) -> CellIssueConnection:
        ctx = info.context
        check_first(first, ctx.settings.max_page_size)
        key = decode_cursor(_ISSUE_CURSOR, after, (int,)) if after else None
        f = filter or IssueFilter()
        page = await ctx.read(
            queries.issues,
            ctx.require_principal(),
            self.id,
            where=queries.IssueFilter(
                f.cleaner, f.column, f.severity.value if f.severity else None
            ),
            first=first,
            after_id=key[0] if key else None,
        )
        edges = [
            CellIssueEdge(node=CellIssue.from_row(r), cursor=encode_cursor(_ISSUE_CURSOR, (r.id,)))
            for r in page.rows
        ]
        return CellIssueConnection(
            edges=edges, page_info=page_info(edges, has_next=page.has_next, after=after)
        )

    @strawberry.field(description="How many issues per cleaner and column, most first.")
    async def issue_summary(self, info: Info[Context, None]) -> list[IssueCount]:
        ctx = info.context
        found = await ctx.read(queries.issue_summary, ctx.require_principal(), self.id)
        return [
            IssueCount(
                cleaner=c.cleaner,
                column=c.column,
                severity=models.Severity(c.severity),
                count=c.count,
            )
            for c in found
        ]

    @strawberry.field(description="Its staged rows with each row's corrections.")
    async def rows(
        self,
        info: Info[Context, None],
        first: int = 50,
        after: str | None = None,
        filter: RowFilter | None = None,
    ) -> StagedRowConnection:
        ctx = info.context
        check_first(first, ctx.settings.max_page_size)
        key = decode_cursor(_ROW_CURSOR, after, (int,)) if after else None
        page = await ctx.read(
            queries.staged_rows,
            ctx.require_principal(),
            self.id,
            outcome=(filter.outcome if filter else None),
            first=first,
            after_row=key[0] if key else 0,
        )
        edges = [
            StagedRowEdge(
                node=StagedRow(
                    row=r.row_number,
                    outcome=r.outcome,
                    values=r.cleaned,
                    corrections=[CellIssue.from_row(i) for i in page.issues.get(r.row_number, [])],
                ),
                cursor=encode_cursor(_ROW_CURSOR, (r.row_number,)),
            )
            for r in page.rows
        ]
        return StagedRowConnection(
            edges=edges, page_info=page_info(edges, has_next=page.has_next, after=after)
        )

    @strawberry.field(description="Operator names that need a person's word before merging.")
    async def match_candidates(self, info: Info[Context, None]) -> list[MatchCandidate]:
        ctx = info.context
        found = await ctx.read(review.scoped_candidates, ctx.require_principal(), self.id)
        return [
            MatchCandidate(
                incoming=c.name,
                rows=c.rows,
                organization_id=(
                    relay.GlobalID("Organization", str(c.organization_id))
                    if c.organization_id is not None
                    else None
                ),
                organization_name=c.organization_name,
                similarity=c.score,
                reason=c.reason,
            )
            for c in found
        ]

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        rows = await info.context.loaders.dataset.load_many([int(i) for i in node_ids])
        return [cls.from_row(row) if row is not None else None for row in rows]


@strawberry.type
class DatasetEdge:
    cursor: str
    node: Dataset


@strawberry.type(description="Datasets, newest first.")
class DatasetConnection:
    edges: list[DatasetEdge]
    page_info: relay.PageInfo


@strawberry.input(description="Narrow the datasets; every given field must match.")
class DatasetFilter:
    state: models.DatasetState | None = None
    source: str | None = None
    uploaded_by: relay.GlobalID | None = None
    since: dt.datetime | None = None
