"""Review before approval: pages of rows with their corrections, merge candidates to
confirm or deny, and quarantined rows fixed by hand."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ogcrm.accounts.organizations import create_organization
from ogcrm.auth.principal import system_principal
from ogcrm.datasets import review
from ogcrm.datasets.intake import receive
from ogcrm.datasets.matching import record_decision
from ogcrm.datasets.merge import approve_and_merge
from ogcrm.datasets.staging import process
from ogcrm.db.models import Dataset, MatchVerdict, Organization, Well
from ogcrm.errors import InvalidInput

P = system_principal("test")
FILE = (
    "Operator Name,API #,Spud Date\n"
    "Pennzoil Products Co.,42-003-12345,1/2/2024\n"
    "Pennzoil Products Co.,99-003-12346,1/3/2024\n"
    "Acme Oil Co.,42-003-12347,NULL\n"
)


@pytest.fixture
def dataset_id(db, tmp_path):
    path = tmp_path / "wells.csv"
    path.write_text(FILE)
    with db.unit_of_work() as s:
        create_organization(s, P, name="Pennzoil Producing Company")
        dataset = receive(s, P, path, data_dir=tmp_path).dataset_id
    process(db, dataset, data_dir=tmp_path)
    return dataset


def test_pages_show_each_rows_corrections(db, dataset_id):
    with db.read() as s:
        quarantined = review.rows(s, dataset_id, outcome="quarantined")
        first_page = review.rows(s, dataset_id, limit=2)
        second_page = review.rows(s, dataset_id, after_row=first_page[-1].row_number, limit=2)
    (bad,) = quarantined
    assert bad.row_number == 3
    assert bad.issues["api"][0]["original"] == "99-003-12346"
    assert bad.issues["api"][0]["severity"] == "error"
    assert [r.row_number for r in first_page + second_page] == [2, 3, 4]
    acme = second_page[-1]
    assert acme.issues["spud_date"][0]["original"] == "NULL"
    assert acme.cleaned["spud_date"] is None


def test_a_candidate_is_shown_and_a_persons_word_decides_the_merge(db, dataset_id):
    with db.read() as s:
        (candidate,) = review.candidates(s, dataset_id)
    assert (candidate.name, candidate.organization_name, candidate.rows) == (
        "Pennzoil Products Co.",
        "Pennzoil Producing Company",
        1,
    )
    with db.unit_of_work() as s:
        record_decision(s, P, candidate.name, candidate.organization_name, MatchVerdict.SAME)
        approve_and_merge(s, P, dataset_id)
    with db.read() as s:
        names = sorted(s.scalars(select(Organization.name)))
        well = s.scalars(select(Well).where(Well.api10 == "4200312345")).one()
        pennzoil = s.get(Organization, well.operator_id)
    assert names == ["Acme Oil Co.", "Pennzoil Producing Company"]
    assert pennzoil.name == "Pennzoil Producing Company"


def test_a_quarantined_row_fixed_by_hand_is_recleaned_and_merged(db, dataset_id):
    with db.unit_of_work() as s:
        fixed = review.edit_row(s, P, dataset_id, 3, {"api": "42 003 12346"})
    assert fixed.outcome == "clean" and fixed.cleaned["api10"] == "4200312346"
    with db.read() as s:
        dataset = s.get(Dataset, dataset_id)
    assert (dataset.rows_quarantined, dataset.rows_fixed + dataset.rows_clean) == (0, 3)
    with db.unit_of_work() as s:
        approve_and_merge(s, P, dataset_id)
    with db.read() as s:
        assert sorted(s.scalars(select(Well.api10))) == ["4200312345", "4200312346", "4200312347"]


def test_only_quarantined_rows_of_a_dataset_under_review_are_edited(db, dataset_id):
    with pytest.raises(InvalidInput, match="not quarantined"), db.unit_of_work() as s:
        review.edit_row(s, P, dataset_id, 2, {"api": "4200399999"})
    with pytest.raises(InvalidInput, match="not fields of source"), db.unit_of_work() as s:
        review.edit_row(s, P, dataset_id, 3, {"nonsense": "x"})


def test_review_commands(db, database_url, dataset_id, monkeypatch, tmp_path):
    import json

    from click.testing import CliRunner

    from ogcrm.cli import main

    monkeypatch.chdir(tmp_path)
    run = lambda *a: CliRunner().invoke(main, ["--database-url", database_url, *a])  # noqa: E731
    page = json.loads(
        run("dataset", "rows", str(dataset_id), "--outcome", "quarantined", "--json").output
    )
    assert [r["row_number"] for r in page] == [3]
    found = json.loads(run("dataset", "candidates", str(dataset_id), "--json").output)
    assert found[0]["organization_name"] == "Pennzoil Producing Company"
    decided = run(
        "dataset", "decide", "Pennzoil Products Co.", "Pennzoil Producing Company", "same"
    )
    assert decided.exit_code == 0 and "the same company" in decided.output
    edited = json.loads(
        run("dataset", "edit", str(dataset_id), "3", "api=4200312346", "--json").output
    )
    assert edited["outcome"] == "clean"
    assert json.loads(run("dataset", "candidates", str(dataset_id), "--json").output) == []
