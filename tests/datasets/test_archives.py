"""Archives of several files import as one dataset (finding 1 of the outside attack:
row numbers restarted in each member, the second member's rows hit the staging key, the
IntegrityError was taken for a transient fault, and the dataset looped forever)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from ogcrm.db.models import Dataset, DatasetState, StagedRow
from ogcrm.jobs.registry import retry_when
from ogcrm.pipeline.errors import ReaderError
from tests.datasets.test_intake_and_staging import _import

HEADER = "permit_number,api,operator_name\n"


def test_a_two_member_archive_stages_every_row_once(db, tmp_path: Path):
    archive = tmp_path / "two.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("jan.csv", HEADER + "1,42-003-00001,A LLC\n3,42-003-00003,C LLC\n")
        z.writestr("feb.csv", HEADER + "2,42-003-00002,B LLC\n")
    received = _import(db, archive, tmp_path / "data")
    with db.read() as s:
        dataset = s.get(Dataset, received.dataset_id)
        rows = s.scalars(
            select(StagedRow.row_number)
            .where(StagedRow.dataset_id == dataset.id)
            .order_by(StagedRow.row_number)
        ).all()
    assert dataset.state is DatasetState.AWAITING_REVIEW, dataset.error
    assert rows == [2, 3, 5]  # numbered on through the members: jan 2-3, feb 2 -> 5
    assert "jan.csv" in dataset.layout and "feb.csv" in dataset.layout
    assert not list(Path("/tmp").glob("ogcrm-zip-*/jan.csv"))  # extraction removed


def test_a_broken_constraint_is_bad_input_never_retried():
    assert retry_when(0, IntegrityError("INSERT", {}, Exception("duplicate key"))) is False
    assert retry_when(0, DataError("INSERT", {}, Exception("value too long"))) is False
    assert retry_when(0, OperationalError("SELECT", {}, Exception("connection reset"))) is True


def _zip_of(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_many_small_members_are_a_bomb_together(tmp_path: Path):
    """Each under the per-entry floor (1 MB), together far past the ratio."""
    from ogcrm.pipeline.detect import read_file
    from ogcrm.plugins import default_registry

    filler = HEADER.encode() + b"1,42-003-00001,A LLC\n" + b" " * 900_000
    archive = _zip_of(tmp_path / "many.zip", {f"m{i}.csv": filler for i in range(30)})
    try:
        list(read_file(archive, default_registry()))
    except ReaderError as exc:
        assert "zip bomb" in str(exc)
    else:
        raise AssertionError("a 30 x 900 KB archive of blanks was read")


def test_archives_nest_one_level_and_no_deeper(tmp_path: Path):
    from ogcrm.pipeline.detect import read_file
    from ogcrm.plugins import default_registry

    inner = _zip_of(
        tmp_path / "inner.zip", {"jan.csv": (HEADER + "1,42-003-00001,A LLC\n").encode()}
    )
    outer = _zip_of(tmp_path / "outer.zip", {"inner.zip": inner.read_bytes()})
    rows = [len(c.frame) for c in read_file(outer, default_registry())]
    assert rows == [1]  # a zip of zips is read
    deeper = _zip_of(tmp_path / "deeper.zip", {"outer.zip": outer.read_bytes()})
    try:
        list(read_file(deeper, default_registry()))
    except ReaderError as exc:
        assert "inside an archive inside an archive" in str(exc)
    else:
        raise AssertionError("three levels of archives were read")


def test_a_dataset_left_processing_by_a_killed_import_is_retried(
    db, database_url, tmp_path: Path, monkeypatch
):
    """Finding 10 of the outside attack: after kill -9 of `ogcrm import` the dataset stayed
    processing, re-importing said already_imported, and only `ogcrm serve` recovered it."""
    import json

    from click.testing import CliRunner

    from ogcrm.cli import main
    from ogcrm.datasets import lifecycle
    from ogcrm.datasets.intake import receive

    monkeypatch.setenv("OGCRM_DATA_DIR", str(tmp_path))
    path = tmp_path / "jan.csv"
    path.write_text(HEADER + "1,42-003-00001,A LLC\n")
    from ogcrm.auth.principal import system_principal

    with db.unit_of_work() as s:
        dataset_id = receive(s, system_principal("test"), path, data_dir=tmp_path).dataset_id
    with db.unit_of_work() as s:
        assert lifecycle.claim(s, dataset_id)  # a process took it, then was killed
    run = lambda *a: CliRunner().invoke(main, ["--database-url", database_url, *a])  # noqa: E731
    busy = run("dataset", "retry", str(dataset_id))
    assert busy.exit_code == 1 and "is being processed" in busy.output  # within the lease
    done = run("dataset", "retry", str(dataset_id), "--lease", "0", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["state"] == "awaiting_review"


def test_a_worker_without_the_file_fails_the_dataset_saying_so(db, tmp_path: Path):
    from ogcrm.auth.principal import system_principal
    from ogcrm.datasets.intake import receive
    from ogcrm.datasets.staging import process

    path = tmp_path / "jan.csv"
    path.write_text(HEADER + "1,42-003-00001,A LLC\n")
    with db.unit_of_work() as s:
        dataset_id = receive(s, system_principal("test"), path, data_dir=tmp_path / "a").dataset_id
    result = process(db, dataset_id, data_dir=tmp_path / "elsewhere")
    assert result.state is DatasetState.FAILED and "OGCRM_DATA_DIR" in result.error
