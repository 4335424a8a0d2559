"""Each KPI on a small world built here, with the expected figures worked out by hand in
the comments; a rep's KPIs hold only their own scope."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ogcrm.auth.principal import system_principal
from ogcrm.db import models as m
from ogcrm.db.session import Database
from ogcrm.reports.definitions import Period
from ogcrm.reports.kpis import KPIS, kpi

UTC = dt.UTC


def at(day: str, hour: int = 12) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest.fixture
def world(db: Database, users) -> dict:
    alice, bob, manager = users.create("sales"), users.create("sales"), users.create("manager")
    now = dt.datetime.now(UTC)
    with db.unit_of_work() as s:
        a = m.Organization(name="Alpha Oil LLC", normalized_name="ALPHA OIL", owner_id=alice.id)
        b = m.Organization(name="Bravo Gas Inc", normalized_name="BRAVO GAS", owner_id=bob.id)
        s.add_all([a, b])
        s.flush()

        def opp(org, owner, stage, amount, created=None, closed=None):
            s.add(m.Opportunity(organization_id=org.id, owner_id=owner.id, name=f"{stage} {amount}",
                                stage=stage, amount=Decimal(amount), created_at=created or now,
                                closed_at=closed, expected_close=dt.date(2026, 12, 15)))  # fmt: skip

        opp(a, alice, "prospecting", 1000)
        opp(a, alice, "proposal", 2000)
        opp(a, alice, "won", 3000, at("2026-11-01"), at("2026-11-11"))  # 10 days to close
        opp(a, alice, "lost", 500, at("2026-11-01"), at("2026-11-05"))
        opp(b, bob, "won", 4000, at("2026-11-01"), at("2026-11-21"))  # 20 days
        opp(b, bob, "negotiation", 1000)
        for day, who, org in [("2026-11-16", alice, a), ("2026-11-17", alice, a),
                              ("2026-11-18", alice, a), ("2026-11-23", alice, a),
                              ("2026-11-24", bob, b), ("2026-11-25", bob, b),
                              ("2026-10-01", bob, b)]:  # fmt: skip
            s.add(m.Interaction(organization_id=org.id, user_id=who.id, kind="call",
                                occurred_at=at(day)))  # fmt: skip
        for who, org, due, status in [(alice, a, -1, "open"), (alice, a, 1, "open"),
                                      (alice, a, -3, "done"), (bob, b, -2, "open")]:  # fmt: skip
            s.add(m.Task(organization_id=org.id, assignee_id=who.id, title="call",
                         due_at=now + dt.timedelta(days=due), status=status))  # fmt: skip
        well = m.Well(api10="4238900001", state="TX", county="REEVES", operator_id=a.id,
                      status="ACTIVE")  # fmt: skip
        idle = m.Well(api10="4238900002", state="TX", county="WARD", operator_id=a.id,
                      status="SHUT-IN")  # fmt: skip
        s.add_all([well, idle])
        s.flush()
        for n, (org, county, day) in enumerate([(a, "REEVES", "2026-01-10"), (a, "REEVES", "2026-01-20"),
                                                (a, "WARD", "2026-02-03"), (b, "REEVES", "2026-01-15")]):  # fmt: skip
            s.add(m.Permit(agency="rrc", permit_number=f"P{n}", operator_id=org.id, state="TX",
                           county=county, issued_on=dt.date.fromisoformat(day)))  # fmt: skip
        s.add_all([
            m.ProductionReport(well_id=well.id, operator_id=a.id, month=dt.date(2026, 1, 1),
                               oil_bbl=100, gas_mcf=600),
            m.ProductionReport(well_id=well.id, operator_id=a.id, month=dt.date(2026, 2, 1),
                               oil_bbl=90, gas_mcf=600),
        ])  # fmt: skip
        for org, county, kind, hours, rating, status in [
            (a, "REEVES", "pump repair", 10, 4, "resolved"),
            (a, "REEVES", "pump repair", 20, 2, "resolved"),
            (b, "WARD", "pump repair", None, None, "open"),
        ]:
            opened = at("2026-11-02", 8)
            s.add(m.ServiceRequest(
                organization_id=org.id, kind=kind, subject="pump", status=status, county=county,
                state="TX", created_at=opened, rating=rating,
                resolved_at=opened + dt.timedelta(hours=hours) if hours else None))  # fmt: skip
        sand = m.Product(sku="SAND", name="Frac sand", unit="ton", unit_price=Decimal("38.75"))
        water = m.Product(sku="WATER", name="Water hauling", unit="load", unit_price=Decimal(100))
        s.add_all([sand, water])
        s.flush()
        for number, org, owner, status, county, day, lines in [
            ("O-1", a, alice, "confirmed", "REEVES", "2026-01-12", [(sand, 10, "38.75"), (water, 2, "100")]),
            ("O-2", b, bob, "draft", "WARD", "2026-01-13", [(sand, 99, "38.75")]),
            ("O-3", b, bob, "delivered", "WARD", "2026-02-02", [(sand, 4, "40")]),
        ]:  # fmt: skip
            order = m.Order(number=number, organization_id=org.id, owner_id=owner.id, status=status,
                            county=county, state="TX", created_at=at(day))  # fmt: skip
            s.add(order)
            s.flush()
            for product, qty, price in lines:
                s.add(m.OrderLine(order_id=order.id, product_id=product.id,
                                  quantity=Decimal(qty), unit_price=Decimal(price)))  # fmt: skip
        source = s.query(m.Source).first()
        ds = m.Dataset(filename="permits.csv", content_hash="0" * 64, size_bytes=10,
                       source_id=source.id if source else None, state="awaiting_review")  # fmt: skip
        s.add(ds)
        s.flush()
        for row, outcome in [(2, "clean"), (3, "fixed"), (4, "fixed"), (5, "quarantined")]:
            s.add(m.StagedRow(dataset_id=ds.id, row_number=row, outcome=outcome, cleaned={}))
        for row, column, cleaner in [(3, "issued_date", "dates"), (4, "issued_date", "dates"),
                                     (4, "api", "api_number"), (5, "api", "api_number"),
                                     (5, "api", "api_number")]:  # fmt: skip
            s.add(m.CellIssue(dataset_id=ds.id, row_number=row, column=column, cleaner=cleaner,
                              severity="warning", original="x", corrected="y"))  # fmt: skip
    return {"alice": alice.principal(db), "bob": bob.principal(db),
            "manager": manager.principal(db), "dataset": ds.id}  # fmt: skip


def table(result) -> list[list]:
    return result.rows


def test_pipeline_by_stage_weights_by_the_stage_probability(db, world):
    with db.read() as s:
        everyone = table(kpi(s, world["manager"], "pipeline_by_stage"))
        alice = table(kpi(s, world["alice"], "pipeline_by_stage"))
    # prospecting 1000 x 0.1; proposal 2000 x 0.5; negotiation 1000 x 0.75;
    # won 3000 + 4000 x 1.0; lost 500 x 0
    assert everyone == [
        ["prospecting", 1, 1000.0, 100.0],
        ["proposal", 1, 2000.0, 1000.0],
        ["negotiation", 1, 1000.0, 750.0],
        ["won", 2, 7000.0, 7000.0],
        ["lost", 1, 500.0, 0.0],
    ]
    # alice sees her own four: no negotiation, one win
    assert alice == [
        ["prospecting", 1, 1000.0, 100.0],
        ["proposal", 1, 2000.0, 1000.0],
        ["won", 1, 3000.0, 3000.0],
        ["lost", 1, 500.0, 0.0],
    ]


def test_win_rate_and_days_to_close_per_owner(db, world, users):
    with db.read() as s:
        rows = table(kpi(s, world["manager"], "win_rate_by_owner",
                         period=Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))))  # fmt: skip
        december = table(kpi(s, world["manager"], "win_rate_by_owner",
                             period=Period(dt.date(2026, 12, 1), None)))  # fmt: skip
    names = {r[0] for r in rows}
    assert len(names) == 2
    by_wins = sorted(rows, key=lambda r: r[1])
    # alice: 1 won, 1 lost -> 0.5, 10 days; bob: 1 won -> 1.0, 20 days
    assert [r[1:] for r in by_wins] == [[1, 1, 0.5, 10.0], [1, 0, 1.0, 20.0]]
    assert december == []  # nothing closed then


def test_interactions_per_rep_per_week(db, world):
    with db.read() as s:
        rows = table(kpi(s, world["manager"], "interactions_per_rep_week",
                         period=Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30))))  # fmt: skip
    counts = [(week, n) for week, _rep, n in rows]
    # week of Monday 16 Nov: alice 3; week of Monday 23 Nov: alice 1, bob 2 (1 Oct is outside)
    assert sorted(counts) == [("2026-11-16", 3), ("2026-11-23", 1), ("2026-11-23", 2)]


def test_open_and_overdue_follow_ups(db, world):
    with db.read() as s:
        rows = table(kpi(s, world["manager"], "follow_ups"))
        mine = table(kpi(s, world["alice"], "follow_ups"))
    # alice: 2 open (1 overdue); bob: 1 open, overdue; the done task counts nowhere
    assert sorted(r[1:] for r in rows) == [[1, 1], [2, 1]]
    assert [r[1:] for r in mine] == [[2, 1]]


def test_permits_per_operator_and_county_per_month(db, world):
    period = Period(dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    with db.read() as s:
        by_operator = table(kpi(s, world["manager"], "permits_by_operator_month", period=period))
        by_county = table(kpi(s, world["manager"], "permits_by_county_month", period=period))
    assert by_operator == [["2026-01-01", "Alpha Oil LLC", 2], ["2026-01-01", "Bravo Gas Inc", 1],
                           ["2026-02-01", "Alpha Oil LLC", 1]]  # fmt: skip
    assert by_county == [["2026-01-01", "REEVES", 3], ["2026-02-01", "WARD", 1]]


def test_active_wells_and_production_trend(db, world):
    with db.read() as s:
        wells = table(kpi(s, world["manager"], "active_wells_by_operator"))
        production = table(kpi(s, world["manager"], "production_by_operator_month",
                               period=Period(dt.date(2026, 1, 1), None)))  # fmt: skip
    assert wells == [["Alpha Oil LLC", 1, 2]]
    # boe = oil + gas / 6: 100 + 100, 90 + 100
    assert production == [["2026-01-01", "Alpha Oil LLC", 100.0, 600.0, 200.0],
                          ["2026-02-01", "Alpha Oil LLC", 90.0, 600.0, 190.0]]  # fmt: skip


def test_service_requests_by_county_and_resolution(db, world):
    with db.read() as s:
        by_county = table(kpi(s, world["manager"], "service_requests_by_county"))
        resolution = table(kpi(s, world["manager"], "service_resolution"))
        alice = table(kpi(s, world["alice"], "service_requests_by_county"))
    assert by_county == [
        ["REEVES", "pump repair", "resolved", 2],
        ["WARD", "pump repair", "open", 1],
    ]
    # 10 h and 20 h -> 15 h; ratings 4 and 2 -> 3.0, two rated of three
    assert resolution == [["pump repair", 3, 15.0, 3.0, 2]]
    assert alice == [["REEVES", "pump repair", "resolved", 2]]


def test_orders_and_revenue_by_product_and_county(db, world):
    with db.read() as s:
        by_product = table(kpi(s, world["manager"], "revenue_by_product_month"))
        by_county = table(kpi(s, world["manager"], "revenue_by_county_month"))
        bob = table(kpi(s, world["bob"], "revenue_by_county_month"))
    # January: O-1 only (O-2 is a draft): sand 10 x 38.75 = 387.5, water 2 x 100 = 200;
    # February: O-3 sand 4 x 40 = 160
    assert by_product == [["2026-01-01", "Frac sand", 1, 10.0, 387.5],
                          ["2026-01-01", "Water hauling", 1, 2.0, 200.0],
                          ["2026-02-01", "Frac sand", 1, 4.0, 160.0]]  # fmt: skip
    assert by_county == [["2026-01-01", "REEVES", 1, 587.5], ["2026-02-01", "WARD", 1, 160.0]]
    assert bob == [["2026-02-01", "WARD", 1, 160.0]]


def test_score_distribution_and_movers(db, world):
    with db.unit_of_work() as s:
        ids = dict(s.query(m.Organization.name, m.Organization.id).all())
        s.query(m.OrganizationScore).filter_by(organization_id=ids["Alpha Oil LLC"]).update(
            {"priority": 42.0, "score": 42.0})  # fmt: skip
        s.query(m.OrganizationScore).filter_by(organization_id=ids["Bravo Gas Inc"]).update(
            {"priority": 7.5, "score": 7.5})  # fmt: skip
        s.add(m.ScoreSnapshot(organization_id=ids["Alpha Oil LLC"], score=12.0, priority=12.0,
                              computed_at=dt.datetime.now(UTC) - dt.timedelta(days=40)))  # fmt: skip
    with db.read() as s:
        buckets = table(kpi(s, world["manager"], "score_distribution"))
        movers = table(kpi(s, world["manager"], "score_movers"))
        bobs = table(kpi(s, world["bob"], "score_movers"))
    assert buckets == [[0, 1], [40, 1]]  # 7.5 -> bucket 0, 42 -> bucket 40
    assert movers == [["Alpha Oil LLC", 12.0, 42.0, 30.0]]  # Bravo has no snapshot then
    assert bobs == []  # Alpha is alice's


def test_data_quality_per_dataset(db, world):
    with db.read() as s:
        rows = table(kpi(s, world["manager"], "rows_by_outcome"))
        issues = table(kpi(s, system_principal("test"), "issues_by_cleaner"))
    d = world["dataset"]
    assert rows == [[d, "clean", 1], [d, "fixed", 2], [d, "quarantined", 1]]
    assert issues == [[d, "api_number", "api", 3], [d, "dates", "issued_date", 2]]


def test_every_kpi_runs_and_charts(db, world):
    with db.read() as s:
        for name in [*KPIS, "score_movers"]:
            result = kpi(s, world["manager"], name)
            assert result.chart["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
            assert result.chart["data"]["values"] == result.records()
