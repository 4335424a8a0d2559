"""Reports and KPIs over GraphQL, through the operations in graphql/operations/: a
manager saves a shared report, a rep runs it and sees only their scope, a definition
outside the catalog is refused with its name, and the CLI renders a chart offline."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient
from strawberry.relay import GlobalID

from ogcrm.cli import main
from ogcrm.db import models as m
from ogcrm.db.session import Database
from tests.support import gql, token_for

OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations"
#: The operations this flow runs (tests/e2e checks every file is run by some test).
REPORT_OPERATIONS = {"Kpi", "ReportCatalog", "SaveReport", "Reports", "RunReport", "DeleteReport"}

BY_OWNER = {"subject": "opportunities", "dimensions": ["owner", "stage"],
            "metrics": ["count", "amount"], "chart": {"mark": "bar"}}  # fmt: skip


def op(name: str) -> str:
    return (OPERATIONS / f"{name}.graphql").read_text()


@pytest.fixture
def world(client: TestClient, db: Database, users) -> dict:
    alice, bob, manager = users.create("sales"), users.create("sales"), users.create("manager")
    with db.unit_of_work() as s:
        for who, amounts in ((alice, [100, 250]), (bob, [4000])):
            org = m.Organization(name=f"{who.email} Oil", normalized_name=who.email.upper(),
                                 owner_id=who.id)  # fmt: skip
            s.add(org)
            s.flush()
            for amount in amounts:
                s.add(m.Opportunity(organization_id=org.id, owner_id=who.id, name="deal",
                                    stage="proposal", amount=Decimal(amount),
                                    expected_close=dt.date(2026, 12, 20)))  # fmt: skip
    return {"alice": token_for(client, alice), "bob": token_for(client, bob),
            "manager": token_for(client, manager), "alice_user": alice, "manager_user": manager}  # fmt: skip


def test_a_shared_report_shows_each_reader_their_own_scope(client, world):
    saved = gql(client, op("SaveReport"), token=world["manager"],
                input={"name": "Pipeline by owner", "shared": True, "definition": BY_OWNER})  # fmt: skip
    report = saved["data"]["saveReport"]
    assert report["__typename"] == "Report", report
    assert len(report["result"]["rows"]) == 2  # the manager sees both owners
    assert report["result"]["chart"]["mark"]["type"] == "bar"
    assert report["result"]["chart"]["data"]["values"][0].keys() == {
        "owner",
        "stage",
        "count",
        "amount",
    }

    mine = gql(client, op("Reports"), token=world["alice"])["data"]["reports"]
    assert [r["name"] for r in mine] == ["Pipeline by owner"]
    rows = mine[0]["result"]["rows"]
    assert rows == [["Sales 1", "proposal", 2, 350.0]]  # alice's two, never bob's

    pipeline = gql(client, op("Kpi"), token=world["alice"], name="PIPELINE_BY_STAGE")["data"]["kpi"]
    assert pipeline["rows"] == [["proposal", 2, 350.0, 175.0]]
    assert [c["role"] for c in pipeline["columns"]] == ["dimension", "metric", "metric", "metric"]

    # alice can read it but not change it
    denied = gql(client, op("DeleteReport"), token=world["alice"], id=report["id"])
    assert denied["data"]["deleteReport"]["__typename"] == "PermissionDenied"
    gone = gql(client, op("DeleteReport"), token=world["manager"], id=report["id"])
    assert gone["data"]["deleteReport"]["__typename"] == "ReportDeleted"
    assert gql(client, op("Reports"), token=world["alice"])["data"]["reports"] == []


@pytest.mark.parametrize(
    ("definition", "field", "name"),
    [
        ({**BY_OWNER, "dimensions": ["colour"]}, "dimensions[0]", "colour"),
        ({**BY_OWNER, "metrics": ["count", "profit"]}, "metrics[1]", "profit"),
        ({**BY_OWNER, "subject": "weather"}, "subject", "weather"),
        (
            {**BY_OWNER, "filters": [{"dimension": "password_hash", "in": ["x"]}]},
            "filters[0].dimension",
            "password_hash",
        ),
        ({**BY_OWNER, "sort": [{"by": "amount; DROP TABLE report"}]}, "sort[0].by", "DROP TABLE"),
        ({**BY_OWNER, "sql": "SELECT 1"}, "sql", "sql"),
    ],
)
def test_a_definition_outside_the_catalog_is_refused_with_its_name(
    client, world, definition, field, name
):
    saved = gql(client, op("SaveReport"), token=world["manager"],
                input={"name": "bad", "definition": definition})["data"]["saveReport"]  # fmt: skip
    assert saved["__typename"] == "ValidationError"
    assert saved["field"] == field and name in saved["message"]
    tried = gql(client, op("RunReport"), token=world["manager"], definition=definition)
    assert tried["data"] is None
    assert tried["errors"][0]["extensions"]["field"] == field


def test_the_catalog_and_an_unsaved_run(client, world):
    catalog = gql(client, op("ReportCatalog"), token=world["alice"])["data"]
    subjects = {s["name"]: s for s in catalog["reportCatalog"]}
    assert "weighted_amount" in {x["name"] for x in subjects["opportunities"]["metrics"]}
    assert "PIPELINE_BY_STAGE" in {k["name"] for k in catalog["kpis"]}
    run = gql(client, op("RunReport"), token=world["manager"],
              definition={"subject": "opportunities", "dimensions": ["close_month"],
                          "metrics": ["amount"]},
              period={"start": "2026-12-01", "end": "2026-12-31"})["data"]["runReport"]  # fmt: skip
    assert run["rows"] == [["2026-12-01", 4350.0]]
    assert run["chart"]["mark"]["type"] == "line"  # a time along x
    empty = gql(client, op("RunReport"), token=world["manager"], definition=BY_OWNER,
                period={"start": "2027-01-01"})["data"]["runReport"]  # fmt: skip
    assert empty["rows"] == [] and empty["truncated"] is False


def test_reports_export_and_render_offline(client, world, settings, tmp_path, monkeypatch):
    monkeypatch.setenv("OGCRM_DATABASE_URL", settings.database_url)
    spec = tmp_path / "by-owner.json"
    spec.write_text(json.dumps(BY_OWNER))
    runner = CliRunner()
    saved = runner.invoke(main, ["report", "save", "By owner", str(spec), "--shared"])
    assert saved.exit_code == 0, saved.output
    as_json = runner.invoke(main, ["report", "run", "By owner", "--format", "json"])
    assert json.loads(as_json.stdout)["rows"] == [["Sales 1", "proposal", 2, 350.0],
                                                  ["Sales 2", "proposal", 1, 4000.0]]  # fmt: skip
    mine = runner.invoke(main, ["report", "run", "By owner", "--as", world["alice_user"].email])
    assert json.loads(mine.stdout)["rows"] == [["Sales 1", "proposal", 2, 350.0]]
    out = tmp_path / "by-owner.csv"
    assert (
        runner.invoke(
            main, ["report", "run", "By owner", "--format", "csv", "-o", str(out)]
        ).exit_code
        == 0
    )
    written = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["owner"], r["stage"], int(r["count"]), float(r["amount"])) for r in written] == [
        ("Sales 1", "proposal", 2, 350.0),
        ("Sales 2", "proposal", 1, 4000.0),
    ]
    xlsx = tmp_path / "by-owner.xlsx"
    assert (
        runner.invoke(
            main, ["report", "run", "By owner", "--format", "xlsx", "-o", str(xlsx)]
        ).exit_code
        == 0
    )
    sheet = openpyxl.load_workbook(xlsx).worksheets[0]
    assert [c.value for c in sheet[2]] == ["Sales 1", "proposal", 2, 350]
    png = tmp_path / "by-owner.png"
    assert (
        runner.invoke(
            main, ["report", "run", "By owner", "--format", "png", "-o", str(png)]
        ).exit_code
        == 0
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 2000
    svg = runner.invoke(main, ["report", "run", "By owner", "--format", "svg"])
    assert svg.stdout.lstrip().startswith("<svg") and "Sales 1" in svg.stdout
    bad = runner.invoke(main, ["report", "run", "Nope"])
    assert bad.exit_code == 1 and "no report named 'Nope'" in bad.output
    kpi = runner.invoke(main, ["kpi", "pipeline_by_stage", "--as", world["manager_user"].email])
    assert json.loads(kpi.stdout)["rows"] == [["proposal", 3, 4350.0, 2175.0]]

    token = world["alice"]
    report_id = gql(client, op("Reports"), token=token)["data"]["reports"][0]["id"]
    local = GlobalID.from_id(report_id).node_id
    exported = client.get("/exports/report", params={"report": local},
                          headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert exported.status_code == 200
    shown = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["owner"], float(r["amount"])) for r in shown] == [("Sales 1", 350.0)]
