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
from ogcrm.api.types.reports import Dashboard, KpiName, Report
from ogcrm.reports import dashboards, definitions

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


DashboardResult = Annotated[Dashboard | UserErrors, strawberry.union("DashboardResult")]


@strawberry.input(description="A tile: set `kpi` or `reportId`, not both.")
class DashboardTileInput:
    kpi: KpiName | None = None  # type: ignore[valid-type]
    report_id: relay.GlobalID | None = None
    title: str | None = None


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

    @strawberry.mutation(description="Choose your dashboard's tiles, in order.")
    async def save_dashboard(
        self, info: Info[Context, None], tiles: list[DashboardTileInput]
    ) -> DashboardResult:
        ctx = info.context

        async def _call() -> Dashboard:
            chosen = [
                dashboards.Tile(
                    kpi=t.kpi.value if t.kpi else None,
                    report_id=optional_id(t.report_id, "Report", field=f"tiles[{i}].reportId"),
                    title=t.title,
                )
                for i, t in enumerate(tiles)
            ]
            found = await ctx.write(dashboards.save_layout, ctx.require_principal(), chosen)
            return Dashboard.of(found)

        return await guarded(ctx, _call)

    @strawberry.mutation(description="Go back to your role's default dashboard.")
    async def reset_dashboard(self, info: Info[Context, None]) -> DashboardResult:
        ctx = info.context

        async def _call() -> Dashboard:
            found = await ctx.write(dashboards.reset_layout, ctx.require_principal())
            return Dashboard.of(found)

        return await guarded(ctx, _call)
