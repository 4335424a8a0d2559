"""A row with too few or too many fields is quarantined with its text, not fatal: the
rest of the file imports, the counts add up, and the row fixed by hand merges."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from ogcrm.auth.principal import system_principal
from ogcrm.datasets import review
from ogcrm.datasets.intake import receive
from ogcrm.datasets.merge import approve_and_merge
from ogcrm.datasets.staging import process
from ogcrm.db.models import CellIssue, Dataset, DatasetState, Organization, StagedRow, Well

P = system_principal("test")


def _import(db, path: Path, data_dir: Path) -> int:
    with db.unit_of_work() as s:
        dataset_id = receive(s, P, path, data_dir=data_dir).dataset_id
    process(db, dataset_id, data_dir=data_dir)
    return dataset_id


def test_a_ragged_row_deep_in_a_big_file_is_quarantined_with_its_text(db, tmp_path: Path):
    path = tmp_path / "wells.csv"
    rows = [f"Operator {i % 300} LLC,42{i % 500 + 1:03d}{i:05d},REEVES" for i in range(100_000)]
    rows[54_321] = "Broken Row Energy,4238954321"  # the county is missing
    rows[77_777] = "Wide Row Oil,4238977777,WARD,surplus"
    path.write_text("operator_name,api,county\n" + "\n".join(rows) + "\n")
    dataset_id = _import(db, path, tmp_path)
    with db.read() as s:
        dataset = s.get(Dataset, dataset_id)
        staged = s.scalar(
            select(func.count()).select_from(StagedRow).where(StagedRow.dataset_id == dataset_id)
        )
        issues = s.scalars(
            select(CellIssue).where(CellIssue.cleaner == "reader").order_by(CellIssue.row_number)
        ).all()
    assert dataset.state == DatasetState.AWAITING_REVIEW
    assert dataset.rows_read == staged == 100_000
    assert (dataset.rows_clean + dataset.rows_fixed + dataset.rows_quarantined
            + dataset.rows_duplicate) == 100_000  # fmt: skip
    assert dataset.rows_quarantined == 2
    short, wide = issues
    assert (short.row_number, short.column, short.severity) == (54_323, "county", "error")
    assert short.original == "Broken Row Energy,4238954321"
    assert short.message == "has 2 fields, expected 3 (missing from 'county' on)"
    assert (wide.row_number, wide.column) == (77_779, "column 4")
    assert wide.original == "Wide Row Oil,4238977777,WARD,surplus"


def test_a_ragged_row_fixed_by_hand_merges(db, tmp_path: Path):
    path = tmp_path / "wells.csv"
    path.write_text(
        "operator_name,api,county\n"
        "Caprock Operating LLC,42-389-12345,REEVES\n"
        "Mesa Verde Energy,42-389-12346\n"
    )
    dataset_id = _import(db, path, tmp_path)
    with db.read() as s:
        (bad,) = review.rows(s, dataset_id, outcome="quarantined")
    assert bad.row_number == 3 and "reader" in {i["cleaner"] for i in bad.issues["county"]}
    with db.unit_of_work() as s:
        fixed = review.edit_row(s, P, dataset_id, 3, {"county": "Ward"})
    assert fixed.outcome in ("clean", "fixed")
    with db.unit_of_work() as s:
        approve_and_merge(s, P, dataset_id)
    with db.read() as s:
        well = s.scalars(select(Well).where(Well.api10 == "4238912346")).one()
        assert s.get(Organization, well.operator_id).name == "Mesa Verde Energy"
        assert well.county.upper() == "WARD"
