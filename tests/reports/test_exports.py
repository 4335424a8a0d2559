"""Exports as a user downloads them: ``GET /exports/...`` with a bearer token and
``ogcrm export``; formulas inert in CSV and XLSX and exact in JSON; the caller's scope;
audited; a bad filter refused with its name before any byte is sent."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import select
from starlette.testclient import TestClient

from ogcrm.accounts.contacts import create_contact
from ogcrm.accounts.interactions import log_interaction
from ogcrm.accounts.organizations import create_organization
from ogcrm.auth.principal import system_principal
from ogcrm.cli import main
from ogcrm.datasets.service import import_now
from ogcrm.db.models import AuditEvent, Permit, Well
from ogcrm.db.session import Database
from tests.support import token_for

HOSTILE = ['=HYPERLINK("http://x","y")', "+1+1", "@SUM(A1)", "\tTabbed", "-2+3", "\r=1"]


@pytest.fixture
def world(client: TestClient, db: Database, users) -> dict:
    alice, bob, admin = users.create("sales"), users.create("sales"), users.create("admin")
    with db.unit_of_work() as s:
        mine = create_organization(s, alice.principal(db), name="Caprock Operating LLC").id
        theirs = create_organization(s, bob.principal(db), name="Mesa Verde Energy Inc").id
        c1 = create_contact(s, alice.principal(db), organization_id=mine, full_name=HOSTILE[0],
                            title=HOSTILE[1], emails=["ops@caprock.example"]).id  # fmt: skip
        c2 = create_contact(s, alice.principal(db), organization_id=mine, full_name=HOSTILE[2],
                            title=HOSTILE[3]).id  # fmt: skip
        c3 = create_contact(s, bob.principal(db), organization_id=theirs, full_name="Dana Wu",
                            title=HOSTILE[4]).id  # fmt: skip
        well = Well(api10="4238912345", state="TX", county="REEVES", operator_id=mine,
                    latitude=31.4, longitude=-103.5, spud_date=dt.date(2026, 3, 1))  # fmt: skip
        s.add(well)
        s.flush()
        s.add_all([
            Permit(agency="rrc", permit_number=f"P{i}", operator_id=mine, well_id=well.id,
                   state="TX", county="REEVES" if i % 2 else "WARD", total_depth_ft=9000.5 + i,
                   issued_on=dt.date(2026, 1, 1) + dt.timedelta(days=i), lease_name=HOSTILE[5])
            for i in range(10)
        ])  # fmt: skip
        for note in ("+1+1 call back", "@SUM(A1)", "\tindented", '=HYPERLINK("http://x","y")'):
            log_interaction(s, alice.principal(db), organization_id=mine, kind="call", notes=note)
    return {
        "alice": token_for(client, alice), "bob": token_for(client, bob),
        "admin": token_for(client, admin), "mine": mine, "theirs": theirs,
        "contacts": (c1, c2, c3), "alice_user": alice,
    }  # fmt: skip


def get(client: TestClient, path: str, token: str | None, **params) -> object:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(path, params=params, headers=headers)


def rows_of_csv(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"), newline="")))


def test_contacts_are_inert_in_csv_and_xlsx_and_exact_in_json(client, world):
    csv_rows = rows_of_csv(get(client, "/exports/contacts", world["admin"], format="csv").content)
    by_id = {int(r["id"]): r for r in csv_rows}
    c1, c2, c3 = world["contacts"]
    assert by_id[c1]["full_name"] == "'" + HOSTILE[0]
    assert by_id[c1]["title"] == "'+1+1"
    assert by_id[c2]["full_name"] == "'@SUM(A1)" and by_id[c2]["title"] == "'\tTabbed"
    assert by_id[c3]["title"] == "'-2+3"
    assert by_id[c1]["email"] == "ops@caprock.example"
    for row in csv_rows:
        for value in row.values():
            assert value[:1] not in ("=", "+", "-", "@", "\t", "\r"), row

    response = get(client, "/exports/contacts", world["admin"], format="xlsx")
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    header = [c.value for c in sheet[1]]
    cells = [dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2)]
    assert {c["full_name"].value for c in cells} == {"'" + HOSTILE[0], "'@SUM(A1)", "Dana Wu"}
    for row in cells:
        for cell in row.values():
            assert cell.data_type != "f"
            if isinstance(cell.value, str):
                assert cell.value[:1] not in ("=", "+", "-", "@", "\t", "\r")
    assert all(isinstance(row["id"].value, int) for row in cells)

    lines = get(client, "/exports/contacts", world["admin"], format="jsonl").text.splitlines()
    exact = {r["id"]: r for r in map(json.loads, lines)}
    assert exact[c1]["full_name"] == HOSTILE[0] and exact[c1]["title"] == "+1+1"
    assert exact[c2]["title"] == "\tTabbed" and exact[c3]["title"] == "-2+3"


def test_interaction_notes_are_inert_in_sheets_and_exact_in_json(client, world):
    notes = ["+1+1 call back", "@SUM(A1)", "\tindented", '=HYPERLINK("http://x","y")']
    rows = rows_of_csv(get(client, "/exports/interactions", world["alice"], withinDays=1).content)
    assert [r["notes"] for r in rows] == ["'" + n for n in notes]
    assert all(r["occurred_at"].endswith("Z") for r in rows)
    sheet = openpyxl.load_workbook(
        io.BytesIO(get(client, "/exports/interactions", world["alice"], format="xlsx").content)
    ).worksheets[0]
    cells = [row[8] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in cells] == ["'" + n for n in notes]
    assert {c.data_type for c in cells} == {"s"}
    lines = get(client, "/exports/interactions", world["alice"], format="jsonl").text.split("\n")
    assert [json.loads(line)["notes"] for line in lines if line] == notes
    assert get(client, "/exports/interactions", world["bob"]).text.count("\n") == 1  # header only


def test_numbers_stay_numbers_and_dates_read_back(client, world):
    wells = rows_of_csv(get(client, "/exports/wells", world["admin"]).content)
    assert wells[0]["longitude"] == "-103.5" and wells[0]["spud_date"] == "2026-03-01"
    sheet = openpyxl.load_workbook(
        io.BytesIO(get(client, "/exports/wells", world["admin"], format="xlsx").content)
    ).worksheets[0]
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, next(sheet.iter_rows(min_row=2, values_only=True)), strict=True))
    assert row["longitude"] == -103.5 and row["spud_date"] == dt.datetime(2026, 3, 1)
    permits = rows_of_csv(get(client, "/exports/permits", world["admin"], county="reeves").content)
    assert sorted(p["permit_number"] for p in permits) == ["P1", "P3", "P5", "P7", "P9"]
    assert {p["lease_name"] for p in permits} == {"'\r=1"}
    assert {float(p["total_depth_ft"]) for p in permits} == {9001.5, 9003.5, 9005.5, 9007.5, 9009.5}


def test_a_rep_exports_only_their_scope(client, world):
    rows = rows_of_csv(get(client, "/exports/contacts", world["alice"]).content)
    assert sorted(int(r["id"]) for r in rows) == sorted(world["contacts"][:2])
    orgs = rows_of_csv(get(client, "/exports/organizations", world["alice"]).content)
    assert [int(r["id"]) for r in orgs] == [world["mine"]]
    theirs = get(client, "/exports/contacts", world["alice"], format="jsonl", owner=world["theirs"])
    assert theirs.status_code == 200 and theirs.text == ""


def test_exports_are_audited_naming_the_contacts_read(client, world, db: Database):
    get(client, "/exports/contacts", world["alice"], format="jsonl", owner="mine")
    with db.read() as s:
        events = s.scalars(
            select(AuditEvent).where(AuditEvent.user_id == world["alice_user"].id)
            .order_by(AuditEvent.id)
        ).all()  # fmt: skip
    export = next(e for e in events if e.action == "export")
    assert export.entity == "contacts"
    assert export.details == {"format": "jsonl", "filter": {"owner": ["mine"]}}
    read = next(e for e in events if e.action == "contact.read")
    assert read.details["ids"] == sorted(world["contacts"][:2])


@pytest.mark.parametrize(
    ("path", "params", "status", "field"),
    [
        ("/exports/permits", {"withinDays": "ninety"}, 400, "withinDays"),
        ("/exports/permits", {"colour": "red"}, 400, "colour"),
        ("/exports/organizations", {"owner": "somebody"}, 400, "owner"),
        ("/exports/organizations", {"state": "Atlantis"}, 400, "filter.state"),
        ("/exports/wells", {"county": "123"}, 400, "filter.county"),
        ("/exports/everything", {}, 400, "kind"),
        ("/exports/permits", {"format": "pdf"}, 400, "format"),
        ("/exports/dataset-rows", {}, 400, "dataset"),
        ("/exports/dataset-rows", {"dataset": "999999"}, 404, None),
        ("/exports/organizations", {"segment": "999999"}, 404, None),
    ],
)
def test_bad_filters_are_refused_with_their_name(client, world, path, params, status, field):
    response = get(client, path, world["admin"], **params)
    assert response.status_code == status, response.text
    error = response.json()["errors"][0]
    assert error["extensions"].get("field") == field, error


def test_an_export_needs_a_valid_token(client, world):
    assert get(client, "/exports/permits", None).status_code == 401
    refused = get(client, "/exports/permits", "not-a-token")
    assert refused.status_code == 401 and "WWW-Authenticate" in refused.headers


def test_a_datasets_cleaned_rows_and_corrections(client, world, db, settings, tmp_path: Path):
    listing = tmp_path / "permits.csv"
    listing.write_text(
        "permit_number,api,operator_name,county,issued_date,latitude,longitude\n"
        "101,42-389-12345,=CMD LLC,reeves,2026-01-05,31.5,-103.6\n"
        "102,4238912346,Mesa  Verde Energy,Ward,01/07/2026,31.6,-103.7\n",
        encoding="utf-8",
    )
    received = import_now(db, system_principal("test"), listing, data_dir=settings.data_dir)
    rows = rows_of_csv(
        get(client, "/exports/dataset-rows", world["admin"], dataset=received.dataset_id).content
    )
    assert [r["row_number"] for r in rows] == ["2", "3"]  # the header is line 1
    assert rows[0]["operator_name"].startswith("'=")
    assert rows[1]["longitude"] == "-103.7" and rows[1]["issued_date"] == "2026-01-07"
    issues = rows_of_csv(
        get(client, "/exports/dataset-issues", world["admin"], dataset=received.dataset_id).content
    )
    fixed = {(i["row_number"], i["column"]): i for i in issues}
    assert fixed[("3", "issued_date")]["original"] == "01/07/2026"
    assert get(client, "/exports/dataset-rows", world["alice"], dataset=received.dataset_id
               ).status_code in (403, 404)  # fmt: skip


def test_the_cli_writes_the_same_export_with_progress(world, settings, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("OGCRM_DATABASE_URL", settings.database_url)
    out = tmp_path / "reeves.csv"
    result = CliRunner().invoke(
        main, ["export", "permits", "--filter", "county=REEVES", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "5 rows" in result.output
    assert len(rows_of_csv(out.read_bytes())) == 5
    mine = tmp_path / "mine.jsonl"
    result = CliRunner().invoke(
        main, ["export", "contacts", "--format", "jsonl", "-o", str(mine),
               "--as", world["alice_user"].email],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(mine.read_text().splitlines()) == 2
    bad = CliRunner().invoke(
        main, ["export", "permits", "--filter", "withinDays=soon", "-o", str(tmp_path / "x.csv")]
    )
    assert bad.exit_code == 1 and "withinDays must be a whole number" in bad.output
    assert not (tmp_path / "x.csv").exists()
    limit = CliRunner().invoke(main, ["dataset", "rows", "1", "--limit", "100000"])
    assert limit.exit_code == 1 and "limit must be between 1 and 500" in limit.output


def test_a_segment_narrows_an_export(client, world, db: Database, users):
    from ogcrm.accounts import segments
    from ogcrm.accounts.organizations import update_organization

    manager = users.create("manager")
    with db.unit_of_work() as s:
        update_organization(s, system_principal("test"), world["mine"], state="TX")
        texas = segments.create_segment(
            s, manager.principal(db), name="Texas", logic={"==": [{"var": "state"}, "TX"]}
        ).id
    token = token_for(client, manager)
    rows = rows_of_csv(get(client, "/exports/organizations", token, segment=texas).content)
    assert [int(r["id"]) for r in rows] == [world["mine"]] and rows[0]["state"] == "TX"
    contacts = rows_of_csv(get(client, "/exports/contacts", token, segment=texas).content)
    assert sorted(int(r["id"]) for r in contacts) == sorted(world["contacts"][:2])
