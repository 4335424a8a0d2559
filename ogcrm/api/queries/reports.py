"""Queries of KPIs, saved reports and the catalog: thin resolvers over
:mod:`ogcrm.reports`, whose statements carry the caller's scope."""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from ogcrm.api.context import Context
from ogcrm.api.ids import local_id
from ogcrm.api.permissions import IsAuthenticated
from ogcrm.api.types.reports import (
    CatalogSubject,
    Dashboard,
    Forecast,
    Kpi,
    KpiName,
    PeriodInput,
    Report,
    ReportResult,
    kpi_list,
    period_of,
)
from ogcrm.reports import catalog, dashboards, definitions, kpis, series
from ogcrm.reports import run as runner


@strawberry.type
class ReportQueries:
    @strawberry.field(
        description="What reports can count, group by and filter on.",
        permission_classes=[IsAuthenticated],
    )
    def report_catalog(self) -> list[CatalogSubject]:
        return [CatalogSubject.of(s) for s in catalog.SUBJECTS.values()]

    @strawberry.field(
        description="Every KPI, with what it shows.", permission_classes=[IsAuthenticated]
    )
    def kpis(self) -> list[Kpi]:
        return kpi_list()

    @strawberry.field(
        description="One KPI in your scope over a period (score movers: since `since`).",
        permission_classes=[IsAuthenticated],
    )
    async def kpi(
        self,
        info: Info[Context, None],
        name: KpiName,  # type: ignore[valid-type]
        period: PeriodInput | None = None,
        since: dt.datetime | None = None,
    ) -> ReportResult:
        ctx = info.context
        found = await ctx.read(
            kpis.kpi, ctx.require_principal(), name.value, period=period_of(period), since=since
        )
        return ReportResult.of(found)

    @strawberry.field(
        description="Saved reports you may read: yours and the shared ones, by name.",
        permission_classes=[IsAuthenticated],
    )
    async def reports(self, info: Info[Context, None]) -> list[Report]:
        rows = await info.context.read(definitions.list_reports, info.context.require_principal())
        return [Report.from_row(r) for r in rows]

    @strawberry.field(
        description="Run a report definition without saving it (see `reportCatalog`).",
        permission_classes=[IsAuthenticated],
    )
    async def run_report(
        self, info: Info[Context, None], definition: JSON, period: PeriodInput | None = None
    ) -> ReportResult:
        ctx = info.context
        parsed = definitions.parse(definition)
        found = await ctx.read(
            runner.run, ctx.require_principal(), parsed, period=period_of(period)
        )
        return ReportResult.of(found)

    @strawberry.field(
        description="Your dashboard, every tile's figures in one query.",
        permission_classes=[IsAuthenticated],
    )
    async def dashboard(self, info: Info[Context, None]) -> Dashboard:
        found = await info.context.read(dashboards.layout, info.context.require_principal())
        return Dashboard.of(found)

    @strawberry.field(
        description="Monthly demand for a product from order history, forecast with a "
        "seasonal model and backtested against seasonal-naive on the last 12 months.",
        permission_classes=[IsAuthenticated],
    )
    async def demand_forecast(
        self, info: Info[Context, None], product_id: relay.GlobalID, months: int = 6
    ) -> Forecast:
        ctx = info.context
        found = await ctx.read(
            series.demand_forecast,
            ctx.require_principal(),
            local_id(product_id, "Product", field="productId"),
            months=months,
        )
        return Forecast.of(found)

    @strawberry.field(
        description="An operator's monthly production (boe, oil_bbl or gas_mcf) forecast by "
        "exponential decline, backtested against the last month carried on.",
        permission_classes=[IsAuthenticated],
    )
    async def production_forecast(
        self,
        info: Info[Context, None],
        organization_id: relay.GlobalID,
        months: int = 12,
        measure: str = "boe",
    ) -> Forecast:
        ctx = info.context
        found = await ctx.read(
            series.production_forecast,
            ctx.require_principal(),
            local_id(organization_id, "Organization", field="organizationId"),
            months=months,
            measure=measure,
        )
        return Forecast.of(found)
