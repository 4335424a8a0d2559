"""The delimited reader's two paths give one answer.

Arrow reads what it can be trusted with and the ``csv`` module takes over from the first
record it cannot; whichever path read a row, the user sees the same values, the same row
numbers and the same errors. Each test compares against the ``csv`` path alone (the
fast path switched off), so a difference between the two is what fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ogcrm_plugins.readers import _arrow_csv

from ogcrm.pipeline.contracts import Chunk, Sniff
from ogcrm.pipeline.detect import read_file
from ogcrm.pipeline.errors import ReaderError
from ogcrm.plugins import default_registry


def _rows(
    path: Path, chunk_rows: int = 4, sniff: Sniff | None = None
) -> list[tuple[int, list[str | None]]]:
    """(row number, values) for every record, in order, as the pipeline sees them."""
    out = []
    for chunk in read_file(path, default_registry(), chunk_rows=chunk_rows, sniff=sniff):
        for i, values in enumerate(chunk.frame.astype(object).itertuples(index=False)):
            out.append((chunk.row_number(i), [None if v != v else v for v in values]))
    return out


def _problems(path: Path, chunk_rows: int = 4) -> list[tuple[int, str]]:
    chunks = read_file(path, default_registry(), chunk_rows=chunk_rows)
    return [(p.row, p.message) for c in chunks for p in c.problems]


def _nothing(*args, **kwargs) -> Iterator[Chunk]:
    """A fast path that reads no record and leaves the whole file to the csv path."""
    return 0
    yield


@pytest.fixture
def csv_path_only(monkeypatch):
    """Switch the fast path off: what the reader gave before Arrow."""

    def switch_off() -> None:
        monkeypatch.setattr(_arrow_csv, "chunks", _nothing)

    return switch_off


def _both(path: Path, csv_path_only, chunk_rows: int = 4):
    fast = _rows(path, chunk_rows), _problems(path, chunk_rows)
    csv_path_only()
    slow = _rows(path, chunk_rows), _problems(path, chunk_rows)
    return fast, slow


def _write(tmp_path: Path, text: str, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_quoted_line_breaks_and_blank_lines_number_rows_alike(tmp_path, csv_path_only):
    text = 'a,b\n1,"two\nlines"\n\n3,4\n' + "".join(f"{i},x\n" for i in range(5, 20))
    path = _write(tmp_path, text)
    fast, slow = _both(path, csv_path_only)
    assert fast == slow
    assert fast[0][:3] == [(2, ["1", "two\nlines"]), (3, ["3", "4"]), (4, ["5", "x"])]


def test_a_ragged_row_after_many_chunks_is_quarantined_by_its_number(tmp_path, csv_path_only):
    lines = [f"{i},{i}" for i in range(30)]
    lines[21] = "21,21,extra"
    path = _write(tmp_path, "a,b\n" + "\n".join(lines) + "\n")
    fast, slow = _both(path, csv_path_only)
    assert fast == slow
    assert fast[1] == [(23, "has 3 fields, expected 2")]
    assert len(fast[0]) == 30 and fast[0][-1] == (31, ["29", "29"])


def test_an_inch_mark_leaves_the_quote_count_odd_and_changes_nothing(tmp_path, csv_path_only):
    body = "".join(f'{i},5-1/2" CSG\n' if i == 3 else f"{i},plain\n" for i in range(12))
    path = _write(tmp_path, "n,casing\n" + body)
    fast, slow = _both(path, csv_path_only)
    assert fast == slow
    assert fast[0][3] == (5, ["3", '5-1/2" CSG'])


def test_an_open_quote_at_the_end_is_refused_as_before(tmp_path):
    body = "".join(f"{i},ok\n" for i in range(20)) + '20,"never closed\n21,x\n'
    path = _write(tmp_path, "n,v\n" + body)
    with pytest.raises(ReaderError) as info:
        _rows(path)
    assert info.value.row == 22 and "ends inside a quoted field" in str(info.value)


def test_a_field_over_the_csv_limit_is_refused_naming_its_row(tmp_path):
    body = "".join(f"{i},ok\n" for i in range(10)) + "10," + "x" * 200_000 + "\n"
    path = _write(tmp_path, "n,v\n" + body)
    with pytest.raises(ReaderError) as info:
        _rows(path)
    assert info.value.row == 12 and "larger than 128 KB" in str(info.value)


def test_a_nul_deep_in_the_file_is_refused_naming_its_row(tmp_path):
    # past the head the sniffer reads, which would refuse the file as binary
    body = "".join(f"{i},ok\n" for i in range(20_000)) + "20000,o\x00k\n"
    path = _write(tmp_path, "n,v\n" + body)
    with pytest.raises(ReaderError) as info:
        _rows(path, chunk_rows=1_000)
    assert str(info.value) == "f.csv, row 20002: a NUL byte at character 8 of the line"


def test_cp1252_is_read_by_the_fast_path_with_the_same_values(tmp_path, csv_path_only):
    path = tmp_path / "w.csv"
    path.write_bytes(
        b"name,city\n" + "".join(f"Peña {i},Española\n" for i in range(9)).encode("cp1252")
    )
    fast, slow = _both(path, csv_path_only)
    assert fast == slow and fast[0][0] == (2, ["Peña 0", "Española"])


def test_a_character_after_a_closing_quote_is_kept(tmp_path):
    """The one deliberate difference: the csv module's strict mode refused the file."""
    path = _write(tmp_path, 'name,n\n"ACME" INC,1\n')
    assert _rows(path) == [(2, ["ACME INC", "1"])]


_FIELD = st.one_of(
    st.text(alphabet='ab ,"\n\r|é', max_size=6),
    st.sampled_from(["", "NULL", '5"', "x\ny"]),
)


def _quote(value: str) -> str:
    if any(ch in value for ch in ',"\n\r') or value != value.strip() or value == "":
        return '"' + value.replace('"', '""') + '"'
    return value


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    records=st.lists(st.lists(_FIELD, min_size=3, max_size=3), min_size=1, max_size=15),
    blank_after=st.sets(st.integers(0, 14), max_size=3),
    chunk_rows=st.integers(1, 5),
)
def test_any_well_formed_file_reads_the_same_on_both_paths(
    tmp_path_factory, records, blank_after, chunk_rows
):
    lines = []
    for i, record in enumerate(records):
        lines.append(",".join(_quote(v) for v in record))
        if i in blank_after:
            lines.append("")
    path = tmp_path_factory.mktemp("h") / "h.csv"
    path.write_bytes(("a,b,c\n" + "\n".join(lines) + "\n").encode())
    sniff = Sniff(
        reader="delimited",
        format="csv",
        confidence=1.0,
        details={"encoding": "utf-8", "delimiter": ",", "header": True, "columns": ["a", "b", "c"]},
    )
    fast = _rows(path, chunk_rows, sniff)
    original = _arrow_csv.chunks
    try:
        _arrow_csv.chunks = _nothing
        slow = _rows(path, chunk_rows, sniff)
    finally:
        _arrow_csv.chunks = original
    assert fast == slow
    assert [values for _, values in fast] == records
