"""Receiving and processing uploads into staged rows: every real file, re-imports, bad
files, hostile file names."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from ogcrm.auth.principal import system_principal
from ogcrm.cli import main
from ogcrm.datasets.intake import receive, stored_path
from ogcrm.datasets.staging import process
from ogcrm.datasets.summary import summary
from ogcrm.db.models import CellIssue, Dataset, DatasetState, Organization, Permit, StagedRow, Well
from ogcrm.errors import InvalidInput
from ogcrm.pipeline.cleaning import json_lines

REAL_FILES = {
    "tx-rrc-drilling-permits-daf420.dat": ("tx-rrc-permits", 56),
    "boem-ogor-a-production-2019.fixed.txt": ("boem-ogor-a-fixed", 2000),
    "boem-ogor-a-production-2025.delimited.txt": ("boem-ogor-a-delimited", 2000),
    "boem-api-well-list.csv": ("boem-api-well-list", 2000),
    "boem-companies.csv": ("boem-companies", 100),
    "boem-active-leases-2018-05-01.dbf": ("boem-active-leases", 2000),
    "co-ecmc-wells-shl-bhl-weld.csv": ("co-ecmc-wells", 831),
    "co-ecmc-well-production-05-123-31642.csv": ("co-ecmc-production", 164),
    "nd-dmr-monthly-production-2023-05.xlsx": ("nd-dmr-production", 1699),
    "nm-ocd-wcproduction-excerpt.xml": ("nm-ocd-wcproduction", 3),
    "ny-dec-oil-gas-annual-production.csv": ("ny-dec-production", 2000),
    "oh-odnr-utica-horizontal-wells-2014-07-19.xls": ("oh-odnr-utica-wells", 1410),
    "ut-dogm-oil-gas-wells-downholes.dbf": ("ut-dogm-wells", 2000),
    "eia-api-v2-ng-futures.json": ("eia-api-v2", 1),
}


def _import(db, path: Path, data_dir: Path, **kwargs):
    with db.unit_of_work() as s:
        received = receive(s, system_principal("test"), path, data_dir=data_dir, **kwargs)
    if not received.already_imported:
        with db.read() as s:
            state = s.get(Dataset, received.dataset_id).state
        if state == DatasetState.RECEIVED:
            process(db, received.dataset_id, data_dir=data_dir)
    return received


def _crm_counts(db) -> tuple[int, int, int]:
    with db.read() as s:
        return tuple(
            s.scalar(select(func.count()).select_from(t)) for t in (Organization, Well, Permit)
        )


@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_every_real_file_is_staged_for_review(db, tmp_path, shared_data, name):
    source, rows = REAL_FILES[name]
    received = _import(db, shared_data / "real" / name, tmp_path)
    with db.read() as s:
        out = summary(s, received.dataset_id)
        staged = dict(
            s.execute(
                select(StagedRow.outcome, func.count())
                .where(StagedRow.dataset_id == received.dataset_id)
                .group_by(StagedRow.outcome)
            ).all()
        )
        issues = s.scalar(select(func.count()).where(CellIssue.dataset_id == received.dataset_id))
    assert (out["state"], out["source"], out["rows_read"]) == ("awaiting_review", source, rows)
    assert out["clean"] + out["fixed"] + out["quarantined"] + out["duplicates"] == rows
    assert {str(k): v for k, v in staged.items() if v} == {
        k: out[c]
        for k, c in (
            ("clean", "clean"),
            ("fixed", "fixed"),
            ("quarantined", "quarantined"),
            ("duplicate", "duplicates"),
        )
        if out[c]
    }
    assert issues == sum(i["count"] for i in out["issues"])
    assert _crm_counts(db) == (0, 0, 0)  # nothing reaches the CRM before approval


def test_staged_rows_keep_cleaned_values_and_issues_the_originals(db, tmp_path, shared_data):
    received = _import(
        db, shared_data / "real" / "nd-dmr-monthly-production-2023-05.xlsx", tmp_path
    )
    with db.read() as s:
        null_issue = s.scalars(
            select(CellIssue).where(
                CellIssue.dataset_id == received.dataset_id, CellIssue.column == "oil_bbl"
            )
        ).first()
        row = s.scalars(
            select(StagedRow).where(
                StagedRow.dataset_id == received.dataset_id,
                StagedRow.row_number == null_issue.row_number,
            )
        ).one()
    assert (null_issue.original, null_issue.corrected, null_issue.cleaner) == (
        "NULL",
        None,
        "whitespace",
    )
    assert row.cleaned["oil_bbl"] is None
    assert row.cleaned["api10"].startswith("33") and row.cleaned["county"]


def test_staged_values_come_back_exactly_whatever_characters_they_hold(db, tmp_path):
    """Backslashes, quotes, tabs and non-ASCII letters survive staging (on PostgreSQL the
    rows travel in COPY's text format, where a backslash is an escape)."""
    names = [
        'Smith \\ Sons "Unit"',
        "Peña\tRanch",
        "C:\\temp\\N",
        "Ünit №5",
        'A},{"operator_name":B',
    ]
    path = tmp_path / "leases.csv"
    path.write_text(
        "Operator Name,API #,Lease Name\n"
        + "".join(
            f'Acme Oil Co.,42-003-{i:05d},"{name.replace(chr(34), chr(34) * 2)}"\n'
            for i, name in enumerate(names, start=1)
        ),
        encoding="utf-8",
    )
    received = _import(db, path, tmp_path)
    with db.read() as s:
        staged = s.scalars(
            select(StagedRow)
            .where(StagedRow.dataset_id == received.dataset_id)
            .order_by(StagedRow.row_number)
        ).all()
    assert [r.cleaned["lease_name"] for r in staged] == [
        'Smith \\ Sons "Unit"',
        "Peña Ranch",  # a tab inside a name is a blank (the whitespace cleaner)
        "C:\\temp\\N",
        "Ünit №5",
        'A},{"operator_name":B',  # looks like the seam between two rows' JSON
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.text(alphabet=st.sampled_from('ab},{":\\/\té"'))),
            st.one_of(st.none(), st.integers(-(2**40), 2**40), st.floats(allow_nan=True)),
        ),
        min_size=1,
        max_size=20,
    ),
    st.sampled_from(["a", 'k},{"a":', "x/y"]),
)
def test_rows_as_json_match_pandas_own_line_output(rows, first_column):
    """Cutting the serialized array into rows gives what pandas' ``lines=True`` gives,
    whatever the values hold (brackets, quotes, colons, backslashes)."""
    frame = pd.DataFrame(rows, columns=[first_column, "b"], dtype=object)
    expected = frame.to_json(
        orient="records", lines=True, double_precision=15, date_format="iso"
    ).splitlines()
    assert json_lines(frame) == expected


def test_the_same_bytes_again_change_nothing(db, tmp_path, shared_data):
    path = shared_data / "real" / "tx-rrc-drilling-permits-daf420.dat"
    first = _import(db, path, tmp_path)
    copy = tmp_path / "renamed.dat"
    copy.write_bytes(path.read_bytes())
    second = _import(db, copy, tmp_path)
    assert (second.dataset_id, second.already_imported) == (first.dataset_id, True)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Dataset)) == 1
        assert s.scalar(select(func.count()).select_from(StagedRow)) == 56


def test_a_file_that_fails_to_parse_is_a_failed_dataset_and_touches_nothing(db, tmp_path):
    path = tmp_path / "unclosed.csv"
    path.write_text('operator,api\nAcme,4212345678\n"Bravo,4212345679\n')
    received = _import(db, path, tmp_path)
    with db.read() as s:
        dataset = s.get(Dataset, received.dataset_id)
        assert s.scalar(select(func.count()).select_from(StagedRow)) == 0
    assert dataset.state == DatasetState.FAILED
    assert dataset.error == (
        "unclosed.csv, row 3: the file ends inside a quoted field (truncated, or an unclosed quote)"
    )
    assert _crm_counts(db) == (0, 0, 0)


def test_a_fault_deep_in_a_file_leaves_nothing_staged(db, tmp_path):
    """The bad row comes after whole chunks were staged (on PostgreSQL, while their COPY
    is still open): the dataset fails naming the row, and none of its rows stay."""
    path = tmp_path / "long.csv"
    good = "".join(f"Operator {i},42{i % 500 + 1:03d}{i:05d}\n" for i in range(70_000))
    path.write_text("operator,api\n" + good + 'Bravo,"4212345679\n')
    received = _import(db, path, tmp_path)
    with db.read() as s:
        dataset = s.get(Dataset, received.dataset_id)
        assert s.scalar(select(func.count()).select_from(StagedRow)) == 0
        assert s.scalar(select(func.count()).select_from(CellIssue)) == 0
    assert dataset.state == DatasetState.FAILED
    assert dataset.error.startswith("long.csv, row 70002: the file ends inside a quoted field")
    assert _crm_counts(db) == (0, 0, 0)


def test_a_binary_file_is_a_failed_dataset_with_the_reason(db, tmp_path):
    path = tmp_path / "photo.csv"
    path.write_bytes(bytes(range(256)) * 64)
    received = _import(db, path, tmp_path)
    with db.read() as s:
        dataset = s.get(Dataset, received.dataset_id)
    assert dataset.state == DatasetState.FAILED and "not a format ogcrm reads" in dataset.error


def test_hostile_file_names_are_metadata_only(db, tmp_path):
    path = tmp_path / "upload.csv"
    path.write_text("operator,api\nAcme,4212345678\n")
    received = _import(db, path, tmp_path / "store", filename="../../etc/\x00passwd.csv")
    with db.read() as s:
        dataset = s.get(Dataset, received.dataset_id)
    assert dataset.filename == "passwd.csv"
    stored = stored_path(tmp_path / "store", dataset.content_hash)
    assert stored.is_file() and stored.resolve().is_relative_to((tmp_path / "store").resolve())
    assert stored.name == dataset.content_hash


def test_processing_twice_is_refused(db, tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text("operator,api\nAcme,4212345678\n")
    received = _import(db, path, tmp_path)
    with pytest.raises(InvalidInput, match="is awaiting_review, not received"):
        process(db, received.dataset_id, data_dir=tmp_path)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(StagedRow)) == 1


def test_unknown_source_is_refused(db, tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text("operator,api\nAcme,4212345678\n")
    with pytest.raises(InvalidInput, match="unknown source 'nope'"), db.unit_of_work() as s:
        receive(s, system_principal("test"), path, data_dir=tmp_path, source="nope")


def test_import_command(db, database_url, tmp_path, shared_data, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OGCRM_DATA_DIR", str(tmp_path))
    path = shared_data / "real" / "oh-odnr-utica-horizontal-wells-2014-07-19.xls"
    run = lambda *a: CliRunner().invoke(main, ["--database-url", database_url, *a])  # noqa: E731
    first = run("import", str(path), "--json")
    assert first.exit_code == 0, first.output
    out = json.loads(first.output.splitlines()[-1])
    assert (out["state"], out["rows_read"], out["already_imported"]) == (
        "awaiting_review",
        1410,
        False,
    )
    assert {"id", "clean", "fixed", "quarantined", "duplicates", "counts"} <= out.keys()
    again = json.loads(run("import", str(path), "--json").output.splitlines()[-1])
    assert (again["id"], again["already_imported"]) == (out["id"], True)
    listed = json.loads(run("datasets", "--json").output)
    assert [d["id"] for d in listed] == [out["id"]]
    shown = json.loads(run("dataset", "show", str(out["id"]), "--json").output)
    assert shown["issues"] and shown["source"] == "oh-odnr-utica-wells"
    bad = tmp_path / "bad.csv"
    bad.write_text('a,b\n1,2\n"3,4\n')
    failed = run("import", str(bad))
    assert (
        failed.exit_code == 1 and "bad.csv, row 3: the file ends inside a quoted" in failed.output
    )


def test_the_same_file_received_twice_at_once_is_one_dataset(db, tmp_path, monkeypatch):
    """Both receivers find no dataset, wait, then insert: the (source, hash) key lets
    one through and the other answers with its dataset, never an unexpected error."""
    import threading

    if db.engine.dialect.name != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serializes writers before they overlap")
    path = tmp_path / "same.csv"
    path.write_text("Operator Name,API #\nAcme Oil Co.,42-003-12345\n")
    monkeypatch.setenv("OGCRM_FAILPOINT", "intake.before_insert:sleep=1")
    outcomes: list[object] = []
    start = threading.Barrier(2)

    def receive_one() -> None:
        start.wait()
        try:
            with db.unit_of_work() as s:
                outcomes.append(receive(s, system_principal("test"), path, data_dir=tmp_path))
        except Exception as exc:  # what the test is about: none may escape
            outcomes.append(exc)

    threads = [threading.Thread(target=receive_one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(not isinstance(o, Exception) for o in outcomes), outcomes
    assert len({o.dataset_id for o in outcomes}) == 1
    assert sorted(o.already_imported for o in outcomes) == [False, True]
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Dataset)) == 1
