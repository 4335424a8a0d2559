"""Bulk writes beneath the ORM: what the writer thread of an import does with rows it is
handed, with a write that fails, and with a caller that fails while it writes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ogcrm.auth.principal import system_principal
from ogcrm.db.bulk import WriteBehind
from ogcrm.db.models import Dataset, DatasetState, StagedRow
from ogcrm.db.session import Database
from ogcrm.services.datasets import STAGED_COLUMNS, receive

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
