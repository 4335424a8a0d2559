"""Reports, KPIs and the report catalog as the API shows them: a result is typed
columns, rows of plain values, and a Vega-Lite specification a front end renders as is."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON
from strawberry.types import Info

from ogcrm.api.context import Context
from ogcrm.api.types.access import Actor, actor
from ogcrm.db import models
from ogcrm.reports import catalog, dashboards, definitions, kpis, series
from ogcrm.reports import run as runner

ColumnShape = strawberry.enum(catalog.Shape, name="ColumnShape")

#: Every KPI by name, as an enum a client can switch on.
KpiName = strawberry.enum(
    enum.Enum("KpiName", {name.upper(): name for name in kpis.ALL}),  # type: ignore[misc]
    name="KpiName",
    description="The KPIs a manager tracks (see `kpis` for what each shows).",
)


@strawberry.input(description="Days included at both ends; either may be left open.")
class PeriodInput:
    start: dt.date | None = None
    end: dt.date | None = None

    def to_period(self) -> definitions.Period:
        return definitions.Period(self.start, self.end)


def period_of(value: PeriodInput | None) -> definitions.Period | None:
    return value.to_period() if value is not None else None


@strawberry.type(description="One column of a report's result.")
class ReportColumn:
    name: str
    label: str
    role: str = strawberry.field(description="`dimension` (grouped by) or `metric`.")
    shape: ColumnShape  # type: ignore[valid-type]


@strawberry.type(description="A report's or KPI's figures, and a chart of them.")
class ReportResult:
    title: str
    subject: str
    columns: list[ReportColumn]
    rows: list[list[JSON | None]] = strawberry.field(description="Values in column order.")
    truncated: bool = strawberry.field(description="More groups exist than the limit.")
    chart: JSON = strawberry.field(
        description="A Vega-Lite v5 specification with the data inline (vegaEmbed renders it)."
    )

    @classmethod
    def of(cls, result: runner.Result) -> ReportResult:
        return cls(
            title=result.title,
            subject=result.subject,
            columns=[
                ReportColumn(name=c.name, label=c.label, role=c.role, shape=c.shape)
                for c in result.columns
            ],
            rows=result.rows,
            truncated=result.truncated,
            chart=result.chart,
        )


@strawberry.type(description="A catalog entry a report may name.")
class CatalogEntry:
    name: str
    label: str
    shape: ColumnShape | None = None  # type: ignore[valid-type]


@strawberry.type(description="What a report can count, group by and filter on.")
class CatalogSubject:
    name: str
    label: str
    dates: list[str] = strawberry.field(
        description="What `periodOn` may name; the first is the default."
    )
    dimensions: list[CatalogEntry]
    metrics: list[CatalogEntry]

    @classmethod
    def of(cls, s: catalog.Subject) -> CatalogSubject:
        return cls(
            name=s.name,
            label=s.label,
            dates=list(s.dates),
            dimensions=[
                CatalogEntry(name=d.name, label=d.label, shape=d.shape)
                for d in s.dimensions.values()
            ],
            metrics=[CatalogEntry(name=x.name, label=x.label) for x in s.metrics.values()],
        )


@strawberry.type(description="A KPI: what it shows.")
class Kpi:
    name: KpiName  # type: ignore[valid-type]
    title: str
    description: str


def kpi_list() -> list[Kpi]:
    out = [Kpi(name=KpiName(k.name), title=k.title, description=k.description)  # type: ignore[operator]
           for k in kpis.KPIS.values()]  # fmt: skip
    out.append(Kpi(name=KpiName(kpis.MOVERS), title="Score movers",  # type: ignore[operator]
                   description="Accounts whose priority moved most since a date (default 30 days)."))  # fmt: skip
    return out


@strawberry.type(description="A saved report: its owner edits it, everyone reads a shared one.")
class Report(relay.Node):
    id: relay.NodeID[int]
    name: str
    description: str
    shared: bool
    definition: JSON
    created_at: dt.datetime
    updated_at: dt.datetime
    owner_pk: strawberry.Private[int | None]

    @strawberry.field(description="Who made it.")
    async def owner(self, info: Info[Context, None]) -> Actor | None:
        return await actor(info, self.owner_pk)

    @strawberry.field(description="Run it now, in your scope (one statement).")
    async def result(
        self, info: Info[Context, None], period: PeriodInput | None = None
    ) -> ReportResult:
        ctx = info.context
        parsed = definitions.parse(self.definition)
        found = await ctx.read(
            runner.run, ctx.require_principal(), parsed, period=period_of(period), title=self.name
        )
        return ReportResult.of(found)

    @classmethod
    def from_row(cls, row: models.Report) -> Report:
        return cls(
            id=row.id,
            name=row.name,
            description=row.description,
            shared=row.shared,
            definition=row.definition,
            created_at=row.created_at,
            updated_at=row.updated_at,
            owner_pk=row.owner_id,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info[Context, None], node_ids: Iterable[str], required: bool = False
    ) -> list[Any]:
        ids = [int(i) for i in node_ids]
        found = await info.context.read(
            definitions.reports_by_ids, info.context.require_principal(), ids
        )
        return [cls.from_row(found[i]) if i in found else None for i in ids]


@strawberry.type(description="One month's value.")
class MonthValue:
    month: dt.date
    value: float


@strawberry.type(
    description="How the model did on months it was not shown, beside the baseline's "
    "error on the same months (mean absolute percentage error, 0.1 = 10%)."
)
class Backtest:
    held_back_months: int
    mape: float | None
    baseline_mape: float | None


@strawberry.type(description="A forecast with its method, its baseline and its backtest.")
class Forecast:
    title: str
    method: str
    baseline: str
    history: list[MonthValue]
    forecast: list[MonthValue]
    backtest: Backtest | None = strawberry.field(
        description="Null when the history is too short to hold months back."
    )
    chart: JSON

    @classmethod
    def of(cls, f: series.Forecast) -> Forecast:
        return cls(
            title=f.title,
            method=f.method,
            baseline=f.baseline,
            history=[MonthValue(month=m, value=v) for m, v in f.history],
            forecast=[MonthValue(month=m, value=round(v, 6)) for m, v in f.forecast],
            backtest=Backtest(
                held_back_months=f.backtest.held_back,
                mape=f.backtest.mape,
                baseline_mape=f.backtest.baseline_mape,
            )
            if f.backtest
            else None,
            chart=f.chart,
        )


@strawberry.type(description="A dashboard tile: a KPI or a saved report, and its figures.")
class DashboardTile:
    position: int
    title: str
    kpi: KpiName | None  # type: ignore[valid-type]
    report_id: relay.GlobalID | None
    tile: strawberry.Private[dashboards.Tile]

    @strawberry.field(description="Its figures now, in your scope.")
    async def result(self, info: Info[Context, None]) -> ReportResult:
        ctx = info.context
        principal = ctx.require_principal()
        tile = self.tile

        def _run(session: Any) -> runner.Result:
            if tile.kpi is not None:
                return kpis.kpi(session, principal, tile.kpi)
            assert tile.report_id is not None
            row = definitions.get_report(session, principal, tile.report_id)
            return runner.run(session, principal, definitions.parse(row.definition), title=row.name)

        return ReportResult.of(await ctx.read(_run))


@strawberry.type(description="Your dashboard: your tiles, or your role's default.")
class Dashboard:
    is_default: bool
    tiles: list[DashboardTile]

    @classmethod
    def of(cls, found: dashboards.Layout) -> Dashboard:
        titles = {k.name: k.title for k in kpis.KPIS.values()} | {kpis.MOVERS: "Score movers"}
        return cls(
            is_default=found.is_default,
            tiles=[
                DashboardTile(
                    position=i,
                    title=t.title or (titles.get(t.kpi, t.kpi) if t.kpi else "Report"),
                    kpi=KpiName(t.kpi) if t.kpi else None,  # type: ignore[operator]
                    report_id=relay.GlobalID("Report", str(t.report_id)) if t.report_id else None,
                    tile=t,
                )
                for i, t in enumerate(found.tiles)
            ],
        )
