"""Approve and merge, reject, revert: the CRM changes only through reviewed datasets,
every change is recorded, precedence holds, and a revert undoes exactly its own work."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from ogcrm.auth.principal import system_principal
from ogcrm.datasets.intake import receive
from ogcrm.datasets.lifecycle import reject
from ogcrm.datasets.merge import approve_and_merge
from ogcrm.datasets.revert import revert
from ogcrm.datasets.staging import process
from ogcrm.datasets.summary import summary
from ogcrm.db.models import (
    ChangeRecord,
    Dataset,
    DatasetState,
    Organization,
    OrganizationEvent,
    OrganizationIdentifier,
    Permit,
    ProductionReport,
    Well,
)
from ogcrm.errors import InvalidInput
from ogcrm.pipeline.contracts import SourceSpec
from ogcrm.plugins import default_registry

P = system_principal("test")


def _staged(db, path: Path, data_dir: Path, **kw) -> int:
    with db.unit_of_work() as s:
        received = receive(s, P, path, data_dir=data_dir, **kw)
    process(db, received.dataset_id, data_dir=data_dir)
    return received.dataset_id


def _count(db, model) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_texas_permits_merge_into_operators_wells_and_permits(db, tmp_path, shared_data):
    ds = _staged(db, shared_data / "real" / "tx-rrc-drilling-permits-daf420.dat", tmp_path)
    with db.unit_of_work() as s:
        counts = approve_and_merge(s, P, ds)
    assert counts["created"]["permit"] == 56
    assert counts["created"]["well"] == _count(db, Well) > 0
    with db.read() as s:
        dataset = s.get(Dataset, ds)
        apache = s.scalars(select(Permit).where(Permit.permit_number == "0787859")).one()
        org = s.get(Organization, apache.operator_id)
        idents = s.scalars(
            select(OrganizationIdentifier).where(OrganizationIdentifier.organization_id == org.id)
        ).all()
        well = s.get(Well, apache.well_id)
    assert dataset.state == DatasetState.MERGED and dataset.counts == counts
    assert org.name == "APACHE CORPORATION"
    assert [(i.agency, i.identifier) for i in idents] == [("tx-rrc", "027200")]
    assert (well.api10, well.state, well.operator_id) == ("4247536762", "TX", org.id)
    assert apache.state == "TX" and apache.issued_on is not None


def test_production_rows_fold_into_monthly_reports(db, tmp_path, shared_data):
    ds = _staged(db, shared_data / "real" / "nm-ocd-wcproduction-excerpt.xml", tmp_path)
    with db.unit_of_work() as s:
        approve_and_merge(s, P, ds)
    with db.read() as s:
        reports = s.scalars(select(ProductionReport)).all()
    assert len(reports) == 1  # gas, oil and water rows of one well-month
    report = reports[0]
    assert report.month.isoformat() == "1973-07-01"
    assert (report.gas_mcf, report.oil_bbl) == (53612.0, 75262.0)


#: A well named by three rows (two operators), and another well between them.
ONE_WELL_FOUR_ROWS = (
    "Operator Name,API #,County,Spud Date,Well Name\n"
    "Acme Oil Co.,42-003-12345,ANDREWS,,FIRST\n"
    "Acme Oil Co.,42-003-12345,,1/2/2024,\n"
    "Acme Oil Co.,42-003-99999,MIDLAND,,OTHER\n"
    "Bravo Energy LLC,42-003-12345,,,LAST\n"
)


def test_rows_of_one_new_well_fill_it_in_together(db, tmp_path):
    """A well named by several rows of one file is created once, from all of them: each
    field takes the last value a row gave it; its creation record names the first row."""
    path = tmp_path / "wells.csv"
    path.write_text(ONE_WELL_FOUR_ROWS)
    with db.unit_of_work() as s:
        counts = approve_and_merge(s, P, _staged(db, path, tmp_path))
    assert counts["created"]["well"] == 2
    with db.read() as s:
        well = s.scalars(select(Well).where(Well.api10 == "4200312345")).one()
        bravo = s.scalars(select(Organization).where(Organization.name == "Bravo Energy LLC")).one()
        created = s.scalars(
            select(ChangeRecord).where(
                ChangeRecord.entity == "well",
                ChangeRecord.entity_id == well.id,
                ChangeRecord.field == "__created__",
            )
        ).one()
    assert (well.county, str(well.spud_date), well.name) == ("Andrews", "2024-01-02", "LAST")
    assert well.operator_id == bravo.id  # the last row's operator
    assert created.row_number == 2  # the file's first data row


def test_a_well_a_later_batch_names_again_is_updated_in_file_order(db, tmp_path, monkeypatch):
    """One row per batch: the well is created by the first, then each later batch
    updates the stored well (on PostgreSQL, while the writer thread still sends earlier
    batches), the last one handing it to an operator that batch created. The well ends
    as the file leaves it, each change recorded with its row."""
    from ogcrm.datasets.merge import run

    monkeypatch.setattr(run, "MERGE_BATCH", 1)
    path = tmp_path / "wells.csv"
    path.write_text(ONE_WELL_FOUR_ROWS)
    ds = _staged(db, path, tmp_path)
    with db.unit_of_work() as s:
        counts = approve_and_merge(s, P, ds)
    assert counts["created"]["well"] == 2
    with db.read() as s:
        well = s.scalars(select(Well).where(Well.api10 == "4200312345")).one()
        bravo = s.scalars(select(Organization).where(Organization.name == "Bravo Energy LLC")).one()
        changes = [
            (r.field, r.row_number)
            for r in s.scalars(
                select(ChangeRecord)
                .where(ChangeRecord.entity == "well", ChangeRecord.entity_id == well.id)
                .order_by(ChangeRecord.row_number, ChangeRecord.field)
            )
        ]
        state = s.get(Dataset, ds).state
    assert (well.county, str(well.spud_date), well.name) == ("Andrews", "2024-01-02", "LAST")
    assert well.operator_id == bravo.id
    assert changes == [
        ("__created__", 2),
        ("spud_date", 3),
        ("name", 5),
        ("operator_id", 5),
    ]
    assert state == DatasetState.MERGED


def test_permits_and_wells_a_later_batch_names_again_end_as_the_file_leaves_them(
    db, tmp_path, monkeypatch
):
    """Two rows per batch. A row naming a permit or well an earlier batch created is
    applied after the last batch (looking it up then would stall the writer); the CRM
    still ends as the file leaves it, a new permit in a later batch points at the well an
    earlier one created, every change is recorded with its row, and a revert removes it
    all."""
    from ogcrm.datasets.merge import run

    monkeypatch.setattr(run, "MERGE_BATCH", 2)
    path = tmp_path / "permits.csv"
    path.write_text(
        "Permit Number,Operator Name,API #,County\n"
        "P1,Acme Oil Co.,42-003-00001,ANDREWS\n"  # row 2: creates P1 and its well
        "P2,Acme Oil Co.,42-003-00002,ANDREWS\n"
        "P1,Acme Oil Co.,42-003-00001,MIDLAND\n"  # row 4: P1 and its well again
        "P3,Bravo Energy LLC,42-003-00001,\n"  # row 5: a new permit on that well
        "P1,Bravo Energy LLC,42-003-00001,WARD\n"  # row 6: the last word on both
    )
    ds = _staged(db, path, tmp_path)
    with db.unit_of_work() as s:
        counts = approve_and_merge(s, P, ds)
    assert counts["created"]["permit"] == 3 and counts["created"]["well"] == 2
    assert counts["updated"] == {"permit": 2, "well": 3}
    with db.read() as s:
        p1, p3 = (
            s.scalars(select(Permit).where(Permit.permit_number == n)).one() for n in ("P1", "P3")
        )
        well = s.get(Well, p1.well_id)
        bravo = s.scalars(select(Organization).where(Organization.name == "Bravo Energy LLC")).one()
        changes = [
            (r.entity, r.field, r.after, r.row_number)
            for r in s.scalars(
                select(ChangeRecord)
                .where(ChangeRecord.dataset_id == ds, ChangeRecord.field == "county")
                .order_by(ChangeRecord.entity.desc(), ChangeRecord.row_number)
            )
        ]
    assert (p1.county.upper(), well.county.upper(), p3.well_id) == ("WARD", "WARD", well.id)
    assert well.operator_id == p1.operator_id == bravo.id
    assert changes == [
        ("well", "county", "Midland", 4),
        ("well", "county", "Andrews", 5),  # row 5 has none: its API number's county
        ("well", "county", "Ward", 6),
        ("permit", "county", "Midland", 4),
        ("permit", "county", "Ward", 6),
    ]
    with db.read() as s:
        events = {
            (e.organization_id == bravo.id, e.kind): e.data["count"]
            for e in s.scalars(select(OrganizationEvent).where(OrganizationEvent.dataset_id == ds))
        }
    # new wells and permits count for the operator they ended with
    assert {k: n for k, n in events.items() if k[1] in ("new_well", "new_permit")} == {
        (False, "new_well"): 1,
        (True, "new_well"): 1,
        (False, "new_permit"): 1,
        (True, "new_permit"): 2,
    }
    with db.unit_of_work() as s:
        conflicts = revert(s, P, ds)["conflicts"]
    # (Bravo itself stays: the follow-up task its new permits called for points at it)
    assert {c["entity"] for c in conflicts} <= {"organization"}
    assert (_count(db, Well), _count(db, Permit)) == (0, 0)


def test_a_changed_file_records_only_what_changed_and_revert_undoes_it(db, tmp_path):
    first = tmp_path / "v1.csv"
    first.write_text(
        "Operator Name,API #,Spud Date,County\n"
        "Acme Oil Co.,42-003-12345,1/2/2024,ANDREWS\n"
        "Bravo Energy LLC,42-003-12346,1/3/2024,ANDREWS\n"
    )
    ds1 = _staged(db, first, tmp_path / "store")
    with db.unit_of_work() as s:
        approve_and_merge(s, P, ds1)
    changes_after_first = _count(db, ChangeRecord)
    second = tmp_path / "v2.csv"
    second.write_text(first.read_text().replace("1/3/2024", "2/3/2024"))
    ds2 = _staged(db, second, tmp_path / "store")
    with db.unit_of_work() as s:
        counts = approve_and_merge(s, P, ds2)
    assert counts["changes"] == 1 and counts["updated"] == {"well": 1} and counts["created"] == {}
    with db.read() as s:
        rec = s.scalars(select(ChangeRecord).where(ChangeRecord.dataset_id == ds2)).one()
    assert (rec.entity, rec.field, rec.before, rec.after, rec.row_number) == (
        "well",
        "spud_date",
        "2024-01-03",
        "2024-02-03",
        3,
    )
    # reverting the first dataset: its well date was changed since -> a conflict, kept
    with db.unit_of_work() as s:
        result = revert(s, P, ds1)
    assert {c["entity"] for c in result["conflicts"]} >= {"well"}
    # reverting the second restores the date
    with db.unit_of_work() as s:
        # ds1 is reverted already; ds2 still merged
        assert revert(s, P, ds2)["fields_reverted"] == 1
    with db.read() as s:
        assert {str(w.spud_date) for w in s.scalars(select(Well))} >= {"2024-01-03"}
    assert _count(db, ChangeRecord) > changes_after_first  # history only grows


@pytest.mark.parametrize(
    "number", ["p-8", "ñ-7", "straße 9", "12345"], ids=["lower", "accented", "eszett", "digits"]
)
def test_a_permit_seen_again_is_updated_whatever_its_number_holds(db, tmp_path, number):
    """The merge finds what is stored with one SQL join before its first batch; a permit
    number SQL would normalize differently from the merge (case of non-ASCII letters) is
    still found, so the second file updates the permit instead of failing on its key."""
    first = tmp_path / "v1.csv"
    first.write_text(
        f"Permit Number,Operator Name,API #,County\n{number},Acme Oil Co.,42-003-12345,ANDREWS\n",
        encoding="utf-8",
    )
    with db.unit_of_work() as s:
        approve_and_merge(s, P, _staged(db, first, tmp_path / "store"))
    second = tmp_path / "v2.csv"
    second.write_text(first.read_text(encoding="utf-8").replace("ANDREWS", "MIDLAND"))
    with db.unit_of_work() as s:
        counts = approve_and_merge(s, P, _staged(db, second, tmp_path / "store"))
    assert counts["created"] == {} and counts["updated"]["permit"] == 1
    with db.read() as s:
        permit = s.scalars(select(Permit)).one()
    assert (permit.permit_number, permit.county.upper()) == (number.upper(), "MIDLAND")


def test_revert_removes_what_the_dataset_created(db, tmp_path, shared_data):
    before = (_count(db, Organization), _count(db, Well), _count(db, Permit))
    ds = _staged(db, shared_data / "real" / "tx-rrc-drilling-permits-daf420.dat", tmp_path)
    with db.unit_of_work() as s:
        approve_and_merge(s, P, ds)
    with db.unit_of_work() as s:
        result = revert(s, P, ds)
    assert result["conflicts"] == []
    assert (_count(db, Organization), _count(db, Well), _count(db, Permit)) == before
    with db.read() as s:
        assert s.get(Dataset, ds).state == DatasetState.REVERTED


def test_a_persons_edit_is_never_overwritten_by_an_import(db, tmp_path, users):
    person = users.create("admin")
    path = tmp_path / "a.csv"
    path.write_text("Operator Name,API #,County\nAcme Oil Co.,42-003-12345,ANDREWS\n")
    ds = _staged(db, path, tmp_path / "store")
    with db.unit_of_work() as s:
        approve_and_merge(s, P, ds)
        well = s.scalars(select(Well)).one()
        well.county = "Andrews (verified)"
        s.add(
            ChangeRecord(
                user_id=person.id,
                entity="well",
                entity_id=well.id,
                field="county",
                before="Andrews",
                after="Andrews (verified)",
            )
        )
    path2 = tmp_path / "b.csv"
    path2.write_text("Operator Name,API #,County\nAcme Oil Co.,42-003-12345,WARD\n")
    ds2 = _staged(db, path2, tmp_path / "store")
    with db.unit_of_work() as s:
        counts = approve_and_merge(s, P, ds2)
    assert counts["not_applied"] == {"well": 1}
    with db.read() as s:
        assert s.scalars(select(Well)).one().county == "Andrews (verified)"


def test_a_lower_ranked_source_never_overwrites_what_a_higher_ranked_one_set(
    db, tmp_path, monkeypatch
):
    """Precedence holds for values set when an entity was created (they have no change
    record of their own: the creation record speaks for them) and for later changes."""
    sources = default_registry().sources
    mapping = {"api": "API", "operator_name": "Operator", "county": "County", "spud_date": "Spud"}
    for name, rank in (("state-registry", 10), ("vendor-feed", 0)):
        spec = SourceSpec(name, name, "tx-rrc", mapping, state="TX", precedence=rank)
        monkeypatch.setitem(sources, name, spec)
    header = "API,Operator,County,Spud\n"
    high = tmp_path / "registry.csv"
    high.write_text(header + "42-003-12345,Acme Oil Co.,ANDREWS,2024-01-02\n")
    with db.unit_of_work() as s:
        approve_and_merge(s, P, _staged(db, high, tmp_path / "a", source="state-registry"))
    low = tmp_path / "vendor.csv"
    low.write_text(header + "42-003-12345,Acme Oil Co.,MIDLAND,2024-05-06\n")
    with db.unit_of_work() as s:
        counts = approve_and_merge(s, P, _staged(db, low, tmp_path / "b", source="vendor-feed"))
    # county, the county FIPS code derived from it, spud date: none applied
    assert counts["not_applied"] == {"well": 3} and counts["updated"] == {}
    with db.read() as s:
        well = s.scalars(select(Well)).one()
    assert (well.county, str(well.spud_date)) == ("Andrews", "2024-01-02")
    # the higher-ranked source may still change its own values
    high.write_text(header + "42-003-12345,Acme Oil Co.,ANDREWS,2024-01-09\n")
    with db.unit_of_work() as s:
        counts = approve_and_merge(s, P, _staged(db, high, tmp_path / "c", source="state-registry"))
    assert counts["updated"] == {"well": 1}


def test_the_review_summary_says_what_approving_would_add_and_update(db, tmp_path):
    header = "permit_number,Operator Name,Operator No,API #,County\n"
    first = tmp_path / "v1.csv"
    first.write_text(
        header
        + "P1,Acme Oil Co.,000123,42-003-00001,ANDREWS\n"
        + "P2,Acme Oil Co.,000123,42-003-00002,ANDREWS\n"
        + "P3,Bravo Energy LLC,000456,42-003-00003,ANDREWS\n"
    )
    ds1 = _staged(db, first, tmp_path / "a")
    with db.read() as s:
        preview = summary(s, ds1)["preview"]
    assert preview == {
        "well": {"new": 3, "existing": 0},
        "permit": {"new": 3, "existing": 0},
        "organization": {"new": 2, "existing": 0},
    }
    with db.unit_of_work() as s:
        approve_and_merge(s, P, ds1)
    second = tmp_path / "v2.csv"
    second.write_text(
        header
        + "P2,Acme Oil Co.,000123,42-003-00002,MIDLAND\n"
        + "P4,Charlie Petroleum Inc.,000789,42-003-00004,ANDREWS\n"
    )
    ds2 = _staged(db, second, tmp_path / "b")
    with db.read() as s:
        preview = summary(s, ds2)["preview"]
    assert preview == {
        "well": {"new": 1, "existing": 1},
        "permit": {"new": 1, "existing": 1},
        "organization": {"new": 1, "existing": 1},
    }
    with db.unit_of_work() as s:
        counts = approve_and_merge(s, P, ds2)
    # the preview was right about what the merge did
    assert {k: counts["created"][k] for k in ("well", "permit", "organization")} == {
        "well": 1,
        "permit": 1,
        "organization": 1,
    }
    with db.read() as s:
        assert "preview" not in summary(s, ds2)  # merged: the counts say what happened


def test_quarantined_and_duplicate_rows_are_not_merged(db, tmp_path):
    path = tmp_path / "q.csv"
    path.write_text(
        "Operator Name,API #\nAcme Oil Co.,42-003-12345\nAcme Oil Co.,42-003-12345\nBad Co,99-003-12345\n"
    )
    ds = _staged(db, path, tmp_path / "store")
    with db.read() as s:
        dataset = s.get(Dataset, ds)
        assert (dataset.rows_duplicate, dataset.rows_quarantined) == (1, 1)
    with db.unit_of_work() as s:
        approve_and_merge(s, P, ds)
    assert _count(db, Well) == 1


def test_merging_twice_or_after_reject_is_refused(db, tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("Operator Name,API #\nAcme Oil Co.,42-003-12345\n")
    ds = _staged(db, path, tmp_path / "store")
    with db.unit_of_work() as s:
        reject(s, P, ds, reason="wrong month")
    with pytest.raises(InvalidInput, match="not awaiting review"), db.unit_of_work() as s:
        approve_and_merge(s, P, ds)
    assert _count(db, Well) == 0


def test_dataset_commands(db, database_url, tmp_path, shared_data, monkeypatch):
    import json

    from click.testing import CliRunner

    from ogcrm.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OGCRM_DATA_DIR", str(tmp_path))
    run = lambda *a: CliRunner().invoke(main, ["--database-url", database_url, *a])  # noqa: E731
    path = shared_data / "real" / "co-ecmc-wells-shl-bhl-weld.csv"
    merged = json.loads(run("import", str(path), "--approve", "--json").output.splitlines()[-1])
    assert merged["state"] == "merged" and merged["counts"]["created"]["well"] == 831
    reverted = run("dataset", "revert", str(merged["id"]), "--json")
    out = json.loads(reverted.output)
    assert out["state"] == "reverted" and out["revert"]["conflicts"] == []
    assert _count(db, Well) == 0
    again = run("dataset", "approve", str(merged["id"]))
    assert again.exit_code == 1 and "not awaiting review" in again.output


REAL = [
    "tx-rrc-drilling-permits-daf420.dat",
    "boem-ogor-a-production-2019.fixed.txt",
    "boem-ogor-a-production-2025.delimited.txt",
    "boem-api-well-list.csv",
    "boem-companies.csv",
    "boem-active-leases-2018-05-01.dbf",
    "co-ecmc-wells-shl-bhl-weld.csv",
    "co-ecmc-well-production-05-123-31642.csv",
    "nd-dmr-monthly-production-2023-05.xlsx",
    "nm-ocd-wcproduction-excerpt.xml",
    "ny-dec-oil-gas-annual-production.csv",
    "oh-odnr-utica-horizontal-wells-2014-07-19.xls",
    "ut-dogm-oil-gas-wells-downholes.dbf",
    "eia-api-v2-ng-futures.json",
]


@pytest.mark.parametrize("name", REAL)
def test_every_real_file_merges_and_reverts_cleanly(db, tmp_path, shared_data, name):
    """Import, approve, check the merged counts against the CRM, revert: back to empty."""
    from ogcrm.datasets.summary import summary

    ds = _staged(db, shared_data / "real" / name, tmp_path)
    with db.unit_of_work() as s:
        counts = approve_and_merge(s, P, ds)
    created = counts["created"]
    assert _count(db, Well) == created.get("well", 0)
    assert _count(db, Permit) == created.get("permit", 0)
    assert _count(db, ProductionReport) == created.get("production_report", 0)
    assert _count(db, Organization) == created.get("organization", 0)
    with db.read() as s:
        assert summary(s, ds)["counts"]["created"] == created
    with db.unit_of_work() as s:
        result = revert(s, P, ds)
    assert result["conflicts"] == []
    assert [_count(db, m) for m in (Organization, Well, Permit, ProductionReport)] == [0, 0, 0, 0]
