"""Monthly series read from the CRM, and the forecasts made of them: demand per product
from order history, production per operator from its monthly reports.

Each series is one grouped statement in the caller's scope; months with nothing in them
are zeros (a month without orders is a month of no demand, not a gap).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ogcrm.auth import policy
from ogcrm.auth.principal import Principal
from ogcrm.db.models import Action, Order, OrderLine, Product, ProductionReport
from ogcrm.errors import InvalidInput, NotFound
from ogcrm.reports import forecast
from ogcrm.reports.charts import SCHEMA
from ogcrm.reports.dialect import month_start
from ogcrm.reports.kpis import SOLD

MAX_HORIZON = 36

MEASURES = {
    "oil_bbl": func.coalesce(func.sum(ProductionReport.oil_bbl), 0.0),
    "gas_mcf": func.coalesce(func.sum(ProductionReport.gas_mcf), 0.0),
    "boe": func.coalesce(func.sum(ProductionReport.oil_bbl), 0.0)
    + func.coalesce(func.sum(ProductionReport.gas_mcf), 0.0) / 6.0,
}


@dataclass(frozen=True)
class Forecast:
    title: str
    method: str
    baseline: str
    history: list[tuple[dt.date, float]]
    forecast: list[tuple[dt.date, float]]
    backtest: forecast.Backtest | None
    chart: dict[str, Any]


def _months(first: dt.date, count: int) -> list[dt.date]:
    out, year, month = [], first.year, first.month
    for _ in range(count):
        out.append(dt.date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _filled(
    rows: list[tuple[str, float]], until: dt.date | None = None
) -> list[tuple[dt.date, float]]:
    """Month-start text -> value rows as a gapless monthly series (zeros in between)."""
    if not rows:
        return []
    values = {dt.date.fromisoformat(str(m)[:10]): float(v or 0) for m, v in rows}
    first, last = min(values), max(values)
    if until is not None and until > last:
        last = until
    span = (last.year - first.year) * 12 + last.month - first.month + 1
    return [(m, values.get(m, 0.0)) for m in _months(first, span)]


def _horizon(months: int) -> int:
    if not 1 <= months <= MAX_HORIZON:
        raise InvalidInput(f"months must be between 1 and {MAX_HORIZON}", field="months")
    return months


def _chart(
    title: str, history: list[tuple[dt.date, float]], ahead: list[tuple[dt.date, float]]
) -> dict[str, Any]:
    values = [
        {"month": m.isoformat(), "value": round(v, 3), "series": "history"} for m, v in history
    ]
    values += [
        {"month": m.isoformat(), "value": round(v, 3), "series": "forecast"} for m, v in ahead
    ]
    return {
        "$schema": SCHEMA,
        "title": title,
        "data": {"values": values},
        "mark": {"type": "line", "point": True, "tooltip": True},
        "width": 640,
        "height": 320,
        "encoding": {
            "x": {"field": "month", "type": "temporal", "timeUnit": "yearmonth", "title": "Month"},
            "y": {"field": "value", "type": "quantitative", "title": None},
            "color": {"field": "series", "type": "nominal", "title": None},
            "strokeDash": {"field": "series", "type": "nominal", "legend": None},
        },
    }


def _forecast(
    title: str,
    series: list[tuple[dt.date, float]],
    horizon: int,
    model: forecast.Model,
    baseline: forecast.Model,
    names: tuple[str, str],
    holdout: int,
) -> Forecast:
    values = [v for _, v in series]
    ahead = model(values, horizon) if values else []
    start = _months(series[-1][0], 2)[1] if series else None
    future = list(zip(_months(start, horizon), ahead, strict=True)) if start else []
    return Forecast(
        title, names[0], names[1], series, future,
        forecast.backtest(values, model, baseline, holdout), _chart(title, series, future),
    )  # fmt: skip


def demand_forecast(
    session: Session,
    principal: Principal,
    product_id: int,
    *,
    months: int = 6,
    today: dt.date | None = None,
) -> Forecast:
    """Monthly quantity ordered of one product (confirmed orders or later, in scope),
    forecast ``months`` ahead with the seasonal model, backtested on the last year."""
    horizon = _horizon(months)
    policy.require(principal, "order", Action.READ)
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound(f"no product {product_id}")
    month = month_start(Order.created_at)
    stmt = (
        select(month, func.sum(OrderLine.quantity))
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.product_id == product_id, Order.status.in_(SOLD))
        .where(policy.scope_filter("order", principal, Action.READ))
        .group_by(month)
    )
    today = today or dt.datetime.now(dt.UTC).date()
    # the current month is not over: its demand so far would read as a collapse
    last_full = _months(dt.date(today.year, today.month, 1), 1)[0] - dt.timedelta(days=1)
    rows = [
        (m, q) for m, q in session.execute(stmt) if dt.date.fromisoformat(str(m)[:10]) <= last_full
    ]
    series = _filled(rows, dt.date(last_full.year, last_full.month, 1))
    return _forecast(
        f"Demand for {product.name} ({product.unit})", series, horizon,
        forecast.seasonal_trend, forecast.seasonal_naive,
        ("seasonal index x linear trend (multiplicative decomposition, ratio to trend)",
         "seasonal naive (the same month a year earlier)"),
        holdout=12,
    )  # fmt: skip


def production_forecast(
    session: Session,
    principal: Principal,
    organization_id: int,
    *,
    months: int = 12,
    measure: str = "boe",
) -> Forecast:
    """An operator's monthly production (``boe``, ``oil_bbl`` or ``gas_mcf``) over its
    wells and leases, forecast by exponential decline, backtested on the last 6 months."""
    horizon = _horizon(months)
    if measure not in MEASURES:
        raise InvalidInput(f"measure is one of {', '.join(MEASURES)}", field="measure")
    org = policy.get_readable(session, "organization", principal, organization_id)
    policy.require(principal, "production", Action.READ)
    stmt = (
        select(ProductionReport.month, MEASURES[measure])
        .where(ProductionReport.operator_id == organization_id)
        .group_by(ProductionReport.month)
    )
    series = _filled(list(session.execute(stmt)))
    return _forecast(
        f"{org.name}: {measure} per month", series, horizon,
        forecast.exponential_decline, forecast.last_value,
        ("Arps exponential decline (log-linear fit over the last 24 months)",
         "naive (the last month carried on)"),
        holdout=6,
    )  # fmt: skip
