"""The dashboard and the forecasts over GraphQL: a rep's default dashboard in one query,
a saved layout, demand forecast from three years of orders (the model named and
backtested next to seasonal-naive), production forecast by decline."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from ogcrm.db import models as m
from ogcrm.db.session import Database
from tests.support import global_id, gql, token_for

OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations"
FORECAST_OPERATIONS = {"Dashboard", "SaveDashboard", "DemandForecast", "ProductionForecast"}
SEASON = [0.7, 0.75, 0.9, 1.0, 1.15, 1.3, 1.4, 1.35, 1.1, 0.95, 0.8, 0.7]


def op(name: str) -> str:
    return (OPERATIONS / f"{name}.graphql").read_text()


def months_back(n: int) -> list[dt.date]:
    """The first days of the ``n`` full months before this one, oldest first."""
    today = dt.datetime.now(dt.UTC).date()
    year, month, out = today.year, today.month, []
    for _ in range(n):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        out.append(dt.date(year, month, 1))
    return out[::-1]


@pytest.fixture
def world(client: TestClient, db: Database, users) -> dict:
    alice, bob, manager = users.create("sales"), users.create("sales"), users.create("manager")
    months = months_back(36)
    with db.unit_of_work() as s:
        orgs = {}
        for who in (alice, bob):
            orgs[who.id] = m.Organization(name=f"Org of {who.email}", normalized_name=who.email.upper(),
                                          owner_id=who.id)  # fmt: skip
            s.add(orgs[who.id])
        sand = m.Product(sku="SAND", name="Frac sand", unit="ton", unit_price=Decimal("40"))
        s.add(sand)
        s.flush()
        for t, month in enumerate(months):
            for who, base in ((alice, 100), (bob, 1)):
                order = m.Order(number=f"O-{who.id}-{t}", organization_id=orgs[who.id].id,
                                owner_id=who.id, status="confirmed",
                                created_at=dt.datetime(month.year, month.month, 10, tzinfo=dt.UTC))  # fmt: skip
                s.add(order)
                s.flush()
                quantity = round((base + 2 * t) * SEASON[month.month - 1], 3)
                s.add(m.OrderLine(order_id=order.id, product_id=sand.id,
                                  quantity=Decimal(str(quantity)), unit_price=Decimal("40")))  # fmt: skip
        well = m.Well(api10="4238900009", operator_id=orgs[alice.id].id)
        s.add(well)
        s.flush()
        for t, month in enumerate(months[-24:]):
            s.add(m.ProductionReport(well_id=well.id, operator_id=orgs[alice.id].id, month=month,
                                     oil_bbl=600 * math.exp(-0.05 * t), gas_mcf=0))  # fmt: skip
        product_id, alice_org = sand.id, orgs[alice.id].id
    return {"alice": token_for(client, alice), "manager": token_for(client, manager),
            "product": global_id("Product", product_id),
            "org": global_id("Organization", alice_org), "months": months}  # fmt: skip


def test_demand_forecast_names_its_method_and_beats_seasonal_naive(client, world):
    found = gql(client, op("DemandForecast"), token=world["manager"], productId=world["product"],
                months=6)["data"]["demandForecast"]  # fmt: skip
    assert "seasonal" in found["method"] and found["baseline"].startswith("seasonal naive")
    assert [h["month"] for h in found["history"]] == [d.isoformat() for d in world["months"]]
    first = world["months"][0]
    # alice's 100 plus bob's 1, times the season of that calendar month
    assert found["history"][0]["value"] == pytest.approx(101 * SEASON[first.month - 1], abs=0.01)
    assert (
        len(found["forecast"]) == 6
        and found["forecast"][0]["month"] > found["history"][-1]["month"]
    )
    back = found["backtest"]
    assert back["heldBackMonths"] == 12 and back["mape"] < back["baselineMape"]
    assert found["chart"]["encoding"]["x"]["type"] == "temporal"

    mine = gql(client, op("DemandForecast"), token=world["alice"], productId=world["product"])
    history = mine["data"]["demandForecast"]["history"]
    assert history[0]["value"] == pytest.approx(100 * SEASON[first.month - 1], abs=0.01)

    bad = gql(
        client, op("DemandForecast"), token=world["manager"], productId=world["product"], months=99
    )
    assert bad["errors"][0]["extensions"]["field"] == "months"


def test_production_forecast_follows_the_decline(client, world):
    found = gql(client, op("ProductionForecast"), token=world["alice"], organizationId=world["org"],
                months=3, measure="oil_bbl")["data"]["productionForecast"]  # fmt: skip
    assert found["method"].startswith("Arps exponential decline")
    assert [round(p["value"], 3) for p in found["forecast"]] == [
        round(600 * math.exp(-0.05 * t), 3) for t in (24, 25, 26)
    ]
    assert found["backtest"]["mape"] < 1e-6 < found["backtest"]["baselineMape"]
    hidden = gql(client, op("ProductionForecast"), token=world["alice"],
                 organizationId=world["org"], measure="water")  # fmt: skip
    assert hidden["errors"][0]["extensions"]["field"] == "measure"


def test_a_default_dashboard_then_a_chosen_one(client, world):
    board = gql(client, op("Dashboard"), token=world["alice"])["data"]["dashboard"]
    assert board["isDefault"] is True
    assert [t["kpi"] for t in board["tiles"]] == [
        "FOLLOW_UPS", "PIPELINE_BY_STAGE", "INTERACTIONS_PER_REP_WEEK", "SCORE_MOVERS"]  # fmt: skip
    assert all(t["result"]["chart"]["$schema"].endswith("v5.json") for t in board["tiles"])

    saved = gql(client, op("SaveDashboard"), token=world["alice"],
                tiles=[{"kpi": "REVENUE_BY_PRODUCT_MONTH", "title": "My sand"}])["data"]["saveDashboard"]  # fmt: skip
    assert saved["__typename"] == "Dashboard" and saved["isDefault"] is False
    board = gql(client, op("Dashboard"), token=world["alice"])["data"]["dashboard"]
    assert [t["title"] for t in board["tiles"]] == ["My sand"]
    rows = board["tiles"][0]["result"]["rows"]
    assert len(rows) == 36 and all(r[1] == "Frac sand" for r in rows)  # only alice's orders
    assert rows[0][3] == pytest.approx(100 * SEASON[world["months"][0].month - 1], abs=0.01)

    unknown = gql(client, op("SaveDashboard"), token=world["alice"],
                  tiles=[{"reportId": global_id("Report", 987654)}])["data"]["saveDashboard"]  # fmt: skip
    assert unknown["__typename"] == "NotFound"
    both = gql(client, op("SaveDashboard"), token=world["alice"],
               tiles=[{"kpi": "FOLLOW_UPS", "reportId": global_id("Report", 1)}])["data"]["saveDashboard"]  # fmt: skip
    assert both["__typename"] == "ValidationError" and both["field"] == "tiles[0]"
