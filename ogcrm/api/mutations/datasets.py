"""What the analyst does to a dataset: approve, reject, revert, decide a match, fix a row.

Each takes the dataset's global id and returns the dataset (or what the action made) or
one of the typed errors; an illegal transition is a ``Conflict`` naming the state.
"""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy.orm import Session
from strawberry import relay
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON
from strawberry.types import Info

from ogcrm.api.context import Context
from ogcrm.api.errors import UserErrors, guarded
from ogcrm.api.ids import local_id
from ogcrm.api.types.dataset import CellIssue, Dataset, KindCount, StagedRow
from ogcrm.api.upload import ReceivedFile
from ogcrm.datasets import queries, service
from ogcrm.db import models
from ogcrm.errors import InvalidInput

strawberry.enum(models.MatchVerdict, name="MatchDecision")

DatasetResult = Annotated[Dataset | UserErrors, strawberry.union("DatasetResult")]


@strawberry.type(description="An uploaded file, kept as a dataset and queued for processing.")
class UploadDatasetPayload:
    dataset: Dataset
    already_imported: bool = strawberry.field(
        description="The same bytes for the same source were uploaded before: that dataset."
    )


UploadResult = Annotated[UploadDatasetPayload | UserErrors, strawberry.union("UploadDatasetResult")]


@strawberry.type(description="A field the revert left alone: someone changed it since.")
class RevertConflict:
    entity: str
    entity_id: strawberry.ID
    field: str
    reason: str


@strawberry.type(description="A revert: the dataset as it now is, and what was done.")
class RevertDatasetPayload:
    dataset: Dataset
    fields_reverted: int
    removed: list[KindCount]
    conflicts: list[RevertConflict]


RevertResult = Annotated[RevertDatasetPayload | UserErrors, strawberry.union("RevertDatasetResult")]


@strawberry.type(description="A person's word on an incoming name, reused by every import.")
class MatchDecisionPayload:
    incoming: str
    organization_id: relay.GlobalID
    decision: models.MatchVerdict


MatchResult = Annotated[MatchDecisionPayload | UserErrors, strawberry.union("DecideMatchResult")]
RowResult = Annotated[StagedRow | UserErrors, strawberry.union("EditStagedRowResult")]


def _dataset(session: Session, ctx: Context, dataset_id: int) -> Dataset:
    return Dataset.from_row(queries.get_dataset(session, ctx.require_principal(), dataset_id))


@strawberry.type
class DatasetMutations:
    @strawberry.mutation(
        description="Upload an agency file (GraphQL multipart request spec: `file` is the "
        "part); it is stored by its SHA-256 and processed by a job. Follow "
        "`dataset(id) { state }` until AWAITING_REVIEW."
    )
    async def upload_dataset(
        self, info: Info[Context, None], file: Upload, source: str | None = None
    ) -> UploadResult:
        ctx = info.context

        def _upload(session: Session) -> UploadDatasetPayload:
            if not isinstance(file, ReceivedFile):
                raise InvalidInput(
                    "send the file as a multipart request (GraphQL multipart request spec)",
                    field="file",
                )
            received = service.upload(
                session,
                ctx.require_principal(),
                file.path,
                digest=file.sha256,
                filename=file.filename,
                data_dir=ctx.settings.data_dir,
                source=source,
            )
            return UploadDatasetPayload(
                dataset=_dataset(session, ctx, received.dataset_id),
                already_imported=received.already_imported,
            )

        return await guarded(ctx, lambda: ctx.write(_upload))

    @strawberry.mutation(
        description="Approve a dataset awaiting review: the merge runs as a job; follow "
        "`dataset(id) { state }`. The dataset keeps you as its approver."
    )
    async def approve_dataset(self, info: Info[Context, None], id: relay.GlobalID) -> DatasetResult:
        ctx = info.context

        def _approve(session: Session) -> Dataset:
            dataset_id = local_id(id, "Dataset")
            service.approve(session, ctx.require_principal(), dataset_id)
            return _dataset(session, ctx, dataset_id)

        return await guarded(ctx, lambda: ctx.write(_approve))

    @strawberry.mutation(description="Reject a dataset awaiting review; its rows stay on record.")
    async def reject_dataset(
        self, info: Info[Context, None], id: relay.GlobalID, reason: str = ""
    ) -> DatasetResult:
        ctx = info.context

        def _reject(session: Session) -> Dataset:
            row = service.reject(
                session, ctx.require_principal(), local_id(id, "Dataset"), reason=reason
            )
            return Dataset.from_row(row)

        return await guarded(ctx, lambda: ctx.write(_reject))

    @strawberry.mutation(
        description="Undo a merged dataset: fields changed since are left alone and listed."
    )
    async def revert_dataset(self, info: Info[Context, None], id: relay.GlobalID) -> RevertResult:
        ctx = info.context

        def _revert(session: Session) -> RevertDatasetPayload:
            dataset_id = local_id(id, "Dataset")
            result = service.revert_in(session, ctx.require_principal(), dataset_id)
            session.expire_all()
            return RevertDatasetPayload(
                dataset=_dataset(session, ctx, dataset_id),
                fields_reverted=result["fields_reverted"],
                removed=[
                    KindCount(kind=k, count=v)
                    for k, v in sorted(result["entities_removed"].items())
                ],
                conflicts=[
                    RevertConflict(
                        entity=c["entity"],
                        entity_id=strawberry.ID(str(c["id"])),
                        field=c["field"],
                        reason=c["reason"],
                    )
                    for c in result["conflicts"]
                ],
            )

        return await guarded(ctx, lambda: ctx.write(_revert))

    @strawberry.mutation(
        description="Say whether an incoming operator name is a stored organization (SAME) "
        "or not (DIFFERENT); this dataset's merge and every later import follow it."
    )
    async def decide_match(
        self,
        info: Info[Context, None],
        dataset_id: relay.GlobalID,
        incoming: str,
        organization_id: relay.GlobalID,
        decision: models.MatchVerdict,
        note: str = "",
    ) -> MatchResult:
        ctx = info.context

        def _decide(session: Session) -> MatchDecisionPayload:
            service.decide_match(
                session,
                ctx.require_principal(),
                local_id(dataset_id, "Dataset", field="datasetId"),
                incoming,
                local_id(organization_id, "Organization", field="organizationId"),
                models.MatchVerdict(decision),
                note=note,
            )
            return MatchDecisionPayload(
                incoming=incoming, organization_id=organization_id, decision=decision
            )

        return await guarded(ctx, lambda: ctx.write(_decide))

    @strawberry.mutation(
        description="Fix a quarantined row by hand (canonical field -> value); the row is "
        "cleaned again and the result shows its new outcome and corrections."
    )
    async def edit_staged_row(
        self, info: Info[Context, None], dataset_id: relay.GlobalID, row: int, values: JSON
    ) -> RowResult:
        ctx = info.context

        def _edit(session: Session) -> StagedRow:
            if not isinstance(values, dict) or not values:
                raise InvalidInput("values must be an object of field: value", field="values")
            edited = service.edit_row(
                session,
                ctx.require_principal(),
                local_id(dataset_id, "Dataset", field="datasetId"),
                row,
                {str(k): v for k, v in values.items()},
            )
            page = queries.staged_rows(
                session,
                ctx.require_principal(),
                local_id(dataset_id, "Dataset", field="datasetId"),
                first=1,
                after_row=edited.row_number - 1,
            )
            staged = page.rows[0]
            return StagedRow(
                row=staged.row_number,
                outcome=staged.outcome,
                values=staged.cleaned,
                corrections=[CellIssue.from_row(i) for i in page.issues.get(staged.row_number, [])],
            )

        return await guarded(ctx, lambda: ctx.write(_edit))
