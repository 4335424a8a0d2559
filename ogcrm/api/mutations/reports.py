"""Saving and deleting reports: a definition naming anything outside the catalog is a
``ValidationError`` naming it."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from ogcrm.api.context import Context
from ogcrm.api.errors import UserErrors, guarded
from ogcrm.api.ids import local_id, optional_id
from ogcrm.api.types.reports import Report
from ogcrm.reports import definitions

ReportResultPayload = Annotated[Report | UserErrors, strawberry.union("SaveReportResult")]


@strawberry.type(description="A report was deleted.")
class ReportDeleted:
    id: relay.GlobalID


DeleteReportResult = Annotated[ReportDeleted | UserErrors, strawberry.union("DeleteReportResult")]


@strawberry.input(description="A report to save; with `id`, it replaces that report.")
class SaveReportInput:
    name: str
    definition: JSON = strawberry.field(
        description="Subject, dimensions, metrics... (see `reportCatalog`)."
    )
    description: str = ""
    shared: bool = False
    id: relay.GlobalID | None = None


@strawberry.type
class ReportMutations:
    @strawberry.mutation(description="Save a report (yours), checked against the catalog.")
    async def save_report(
        self, info: Info[Context, None], input: SaveReportInput
    ) -> ReportResultPayload:
        ctx = info.context

        async def _call() -> Report:
            row = await ctx.write(
                definitions.save_report,
                ctx.require_principal(),
                name=input.name,
                definition=input.definition,
                description=input.description,
                shared=input.shared,
                report_id=optional_id(input.id, "Report", field="id"),
            )
            return Report.from_row(row)

        return await guarded(ctx, _call)

    @strawberry.mutation(description="Delete one of your reports.")
    async def delete_report(
        self, info: Info[Context, None], id: relay.GlobalID
    ) -> DeleteReportResult:
        ctx = info.context

        async def _call() -> ReportDeleted:
            report_id = local_id(id, "Report", field="id")
            await ctx.write(definitions.delete_report, ctx.require_principal(), report_id)
            return ReportDeleted(id=id)

        return await guarded(ctx, _call)
