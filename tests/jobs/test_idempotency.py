"""Delivered twice, imported twice: the second time changes nothing (RELIABILITY rows 29
and 33)."""

from __future__ import annotations

import threading

from sqlalchemy import func, select, text

from ogcrm.auth.principal import system_principal
from ogcrm.datasets.intake import receive
from ogcrm.datasets.merge import approve_and_merge
from ogcrm.datasets.staging import process
from ogcrm.db.models import ChangeRecord, Dataset, DatasetState, Organization, Permit, Well
from ogcrm.db.session import Database
from ogcrm.errors import InvalidInput

P = system_principal("test")
HEADER = "permit_number,Operator Name,API #,County\n"
ROWS = "".join(f"P{i},Operator {i % 7} LLC,42-003-{i:05d},ANDREWS\n" for i in range(1, 301))


def _staged(db: Database, path, data_dir) -> int:
    with db.unit_of_work() as s:
        dataset_id = receive(s, P, path, data_dir=data_dir).dataset_id
    process(db, dataset_id, data_dir=data_dir)
    return dataset_id


def _history(db: Database, dataset_id: int) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).where(ChangeRecord.dataset_id == dataset_id))


def test_two_deliveries_at_once_merge_once(db, tmp_path, monkeypatch):
    """Two workers given the same merge at the same moment: the state transition lets one
    through; the other waits (on the dataset row on PostgreSQL, on the write lock on
    SQLite), then finds it merged and stops."""
    path = tmp_path / "permits.csv"
    path.write_text(HEADER + ROWS)
    dataset_id = _staged(db, path, tmp_path)
    # each merge, once past the state check, holds its transaction open for a moment
    monkeypatch.setenv("OGCRM_FAILPOINT", "merge.after_batch:sleep=1")
    outcomes: list[object] = []
    start = threading.Barrier(2)

    def deliver() -> None:
        start.wait()
        try:
            with db.unit_of_work() as s:
                outcomes.append(approve_and_merge(s, P, dataset_id))
        except InvalidInput as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    merged = [o for o in outcomes if isinstance(o, dict)]
    refused = [o for o in outcomes if isinstance(o, InvalidInput)]
    assert len(merged) == 1 and len(refused) == 1, outcomes
    assert "not awaiting review" in str(refused[0])
    with db.read() as s:
        assert s.get(Dataset, dataset_id).state == DatasetState.MERGED
        assert s.scalar(select(func.count()).select_from(Permit)) == 300
    assert _history(db, dataset_id) == merged[0]["changes"]


def _versions(db: Database) -> dict[tuple[str, int], object]:
    """Each stored row's version: PostgreSQL's ``xmin`` (changes whenever a row is
    rewritten, even to the same values), ``updated_at`` on SQLite."""
    versions: dict[tuple[str, int], object] = {}
    with db.read() as s:
        for model in (Organization, Well, Permit):
            table = model.__tablename__
            marker = "xmin::text" if db.engine.dialect.name == "postgresql" else "updated_at"
            for id_, version in s.execute(text(f"SELECT id, {marker} FROM {table}")):
                versions[(table, id_)] = version
    return versions


def test_an_import_that_changes_one_field_rewrites_only_that_row(db, tmp_path):
    first = tmp_path / "v1.csv"
    first.write_text(HEADER + ROWS)
    with db.unit_of_work() as s:
        approve_and_merge(s, P, _staged(db, first, tmp_path / "a"))
    before = _versions(db)
    # the same rows again, in a file that differs in one county
    second = tmp_path / "v2.csv"
    second.write_text(HEADER + ROWS.replace("42-003-00150,ANDREWS", "42-003-00150,MIDLAND"))
    ds2 = _staged(db, second, tmp_path / "b")
    with db.unit_of_work() as s:
        counts = approve_and_merge(s, P, ds2)
    after = _versions(db)
    assert counts["created"] == {}
    rewritten = {key for key in before if before[key] != after[key]}
    with db.read() as s:
        changed_well = s.scalars(select(Well.id).where(Well.api10 == "4200300150")).one()
        changed_permit = s.scalars(select(Permit.id).where(Permit.permit_number == "P150")).one()
    assert rewritten == {("well", changed_well), ("permit", changed_permit)}
    with db.read() as s:
        fields = set(
            s.execute(
                select(ChangeRecord.entity, ChangeRecord.field).where(
                    ChangeRecord.dataset_id == ds2
                )
            ).all()
        )
    assert fields == {
        ("well", "county"),
        ("well", "county_fips"),
        ("permit", "county"),
    }
