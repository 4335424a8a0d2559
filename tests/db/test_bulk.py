"""Bulk writes beneath the ORM: what the writer thread of an import does with rows it is
handed, with a write that fails, with a caller that fails while it writes and with a
caller that reads while it writes; and what COPY stores for values of every kind."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ogcrm.auth.principal import system_principal
from ogcrm.datasets.intake import receive
from ogcrm.datasets.staging import STAGED_COLUMNS
from ogcrm.db.bulk import IdPool, WriteBehind, insert_rows
from ogcrm.db.models import ChangeRecord, Dataset, DatasetState, StagedRow, Well
from ogcrm.db.session import Database

COLUMNS = STAGED_COLUMNS


def _dataset(db: Database, tmp_path) -> int:
    path = tmp_path / "upload.csv"
    path.write_text("Operator Name,API #\nAcme Oil Co.,42-003-12345\n")
    with db.unit_of_work() as s:
        return receive(s, system_principal("test"), path, data_dir=tmp_path).dataset_id


def _rows(dataset_id: int, numbers: range) -> list[tuple]:
    return [(dataset_id, n, "clean", f'{{"n": {n}}}') for n in numbers]


def _staged(db: Database, dataset_id: int) -> list[int]:
    with db.read() as s:
        return list(
            s.scalars(
                select(StagedRow.row_number)
                .where(StagedRow.dataset_id == dataset_id)
                .order_by(StagedRow.row_number)
            )
        )


def test_batches_handed_to_the_writer_are_all_written_by_the_end_of_the_block(db, tmp_path):
    dataset_id = _dataset(db, tmp_path)
    with db.unit_of_work() as s, WriteBehind(s) as writer:
        for start in range(0, 5000, 1000):
            writer.write("staged_row", COLUMNS, _rows(dataset_id, range(start, start + 1000)))
    assert _staged(db, dataset_id) == list(range(5000))


def test_a_write_that_fails_is_raised_in_the_caller_and_nothing_stays(db, tmp_path):
    """Row 7 twice breaks the (dataset, row) key: the error reaches the caller as the
    ORM would raise it, and the transaction takes the batches before it back too."""
    dataset_id = _dataset(db, tmp_path)
    with (
        pytest.raises(IntegrityError, match="staged_row"),
        db.unit_of_work() as s,
        WriteBehind(s) as writer,
    ):
        writer.write("staged_row", COLUMNS, _rows(dataset_id, range(10)))
        writer.write("staged_row", COLUMNS, _rows(dataset_id, range(7, 8)))
        writer.write("staged_row", COLUMNS, _rows(dataset_id, range(10, 20)))
    assert _staged(db, dataset_id) == []


def test_a_caller_that_fails_stops_the_writer_and_keeps_its_own_error(db, tmp_path):
    dataset_id = _dataset(db, tmp_path)
    with pytest.raises(ZeroDivisionError), db.unit_of_work() as s, WriteBehind(s) as writer:
        writer.write("staged_row", COLUMNS, _rows(dataset_id, range(10)))
        1 / 0  # noqa: B018 - the caller's own fault, mid-import
    assert _staged(db, dataset_id) == []
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(StagedRow)) == 0
        assert s.get(Dataset, dataset_id).state == DatasetState.RECEIVED


def test_a_statement_of_the_caller_waits_for_the_queued_writes_and_sees_them(db, tmp_path):
    """The merge reads (stored wells, field owners) between the batches it queues: each
    read must see every row queued before it, and must not share the connection with a
    COPY in flight."""
    dataset_id = _dataset(db, tmp_path)
    seen = []
    with db.unit_of_work() as s, WriteBehind(s) as writer:
        for start in range(0, 3000, 1000):
            writer.write("staged_row", COLUMNS, _rows(dataset_id, range(start, start + 1000)))
            seen.append(s.scalar(select(func.count()).where(StagedRow.dataset_id == dataset_id)))
    assert seen == [1000, 2000, 3000]


def test_a_failed_write_is_raised_at_the_callers_next_statement(db, tmp_path):
    dataset_id = _dataset(db, tmp_path)
    ran: list[str] = []
    with (
        pytest.raises(IntegrityError, match="staged_row"),
        db.unit_of_work() as s,
        WriteBehind(s) as writer,
    ):
        writer.write("staged_row", COLUMNS, _rows(dataset_id, range(5)))
        writer.write("staged_row", COLUMNS, _rows(dataset_id, range(4, 6)))
        s.scalar(select(func.count()).select_from(StagedRow))
        ran.append("the statement after the failed write")
    assert ran == []
    assert _staged(db, dataset_id) == []


@pytest.mark.parametrize("queued", [False, True], ids=["inline", "through the writer"])
def test_values_of_every_kind_are_stored_as_the_orm_would_store_them(db, tmp_path, queued):
    """PostgreSQL's COPY goes in binary when every value is of its column's Python type,
    else as text for the server to parse: both must store the same thing, whether
    written inline or queued on the writer thread (which is handed binary rows already
    formatted, and text rows to format itself). Here a well given as the ORM types it,
    and one with numbers where text is due and text where a date is due (as a hand-made
    JSON file can give them)."""
    dataset_id = _dataset(db, tmp_path)
    columns = ["id", "api10", "name", "latitude", "spud_date", "dataset_id"]
    with db.unit_of_work() as s, WriteBehind(s, enabled=queued) as writer:
        first, second = IdPool(s, Well.__table__).take(2)
        insert_rows(
            s,
            Well.__table__,
            columns,
            [(first, "4200312345", "Ñandú #1", 31.5, dt.date(2024, 2, 29), dataset_id)],
            writer=writer,
        )
        insert_rows(
            s,
            Well.__table__,
            columns,
            [(second, "4200312346", 1234, 32, "2024-03-01", dataset_id)],
            writer=writer,
        )
        writer.write(
            "change_record",
            ("dataset_id", "entity", "entity_id", "field", "before", "after", "created_at"),
            [
                (
                    dataset_id,
                    "well",
                    first,
                    "name",
                    "null",
                    '{"a": [1, "b"]}',
                    dt.datetime.now(dt.UTC),
                )
            ],
        )
    with db.read() as s:
        wells = {w.id: w for w in s.scalars(select(Well))}
        change = s.scalars(select(ChangeRecord)).one()
    assert (wells[first].name, wells[first].latitude, wells[first].spud_date) == (
        "Ñandú #1",
        31.5,
        dt.date(2024, 2, 29),
    )
    assert wells[first].created_at.tzinfo is not None
    assert (wells[second].name, wells[second].latitude, wells[second].spud_date) == (
        "1234",
        32.0,
        dt.date(2024, 3, 1),
    )
    assert (change.before, change.after) == (None, {"a": [1, "b"]})
