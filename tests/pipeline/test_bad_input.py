"""Bad input: a clear error naming the file, and the row and column when there is one."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from ogcrm.pipeline.detect import read_file, sniff_file
from ogcrm.pipeline.errors import ReaderError, UnknownFormat
from ogcrm.plugins import default_registry


def _read_all(path: Path, **options) -> int:
    return sum(len(c.frame) for c in read_file(path, default_registry(), options=options))


def _error(path: Path, **options) -> ReaderError:
    with pytest.raises(ReaderError) as info:
        _read_all(path, **options)
    return info.value


def _write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


class TestDelimited:
    def test_empty_file(self, tmp_path):
        err = _error(_write(tmp_path, "empty.csv", b""))
        assert str(err) == "empty.csv: the file is empty"

    def test_header_only(self, tmp_path):
        err = _error(_write(tmp_path, "header.csv", "operator,api,county\n"))
        assert str(err) == "header.csv, row 1: the file has a header but no data rows"

    def test_truncated_inside_a_quoted_field(self, tmp_path):
        err = _error(_write(tmp_path, "cut.csv", 'a,b,c\n1,2,3\n4,"unfinished,6\n7,8,9\n'))
        assert err.filename == "cut.csv" and err.row == 3
        assert "ends inside a quoted field" in str(err)

    def test_extra_fields_are_a_problem_of_their_row_not_of_the_file(self, tmp_path):
        path = _write(tmp_path, "wide.csv", "a,b,c\n1,2,3\n4,5,6,7\n8,9,10\n")
        chunks = list(read_file(path, default_registry()))
        assert sum(len(c.frame) for c in chunks) == 3  # the ragged row is kept, cut
        (problem,) = [p for c in chunks for p in c.problems]
        assert (problem.row, problem.column) == (3, "column 4")
        assert problem.message == "has 4 fields, expected 3" and problem.original == "4,5,6,7"
        frame = chunks[0].frame
        assert frame.iloc[1].tolist() == ["4", "5", "6"]

    def test_missing_fields_are_padded_and_said(self, tmp_path):
        path = _write(tmp_path, "short.csv", "a,b,c\n1,2,3\n4,5\n")
        (chunk,) = list(read_file(path, default_registry()))
        (problem,) = chunk.problems
        assert (problem.row, problem.column) == (3, "c")
        assert "has 2 fields, expected 3" in problem.message
        assert chunk.frame.iloc[1].tolist()[:2] == ["4", "5"] and pd.isna(chunk.frame.iloc[1, 2])

    def test_a_file_of_mostly_ragged_rows_is_refused_naming_the_first(self, tmp_path):
        rows = "".join(f"{i},x\n" if i % 2 else f"{i},x,y\n" for i in range(40))
        err = _error(_write(tmp_path, "semi.csv", "a,b,c\n" + rows))
        assert err.row == 3
        assert "20 of 40 rows have the wrong number of fields (rows 3, 5, 7, 9, 11" in str(err)
        assert "is the delimiter or the header right?" in str(err)

    def test_a_source_sets_how_many_ragged_rows_it_takes(self, tmp_path):
        rows = "".join(f"{i},x\n" if i % 3 == 0 else f"{i},x,y\n" for i in range(40))
        path = _write(tmp_path, "third.csv", "a,b,c\n" + rows)
        assert "14 of 40 rows have the wrong number" in str(_error(path))  # the default
        assert _read_all(path, max_ragged_share=0.5) == 40  # this source's files are like that
        chunks = list(read_file(path, default_registry(), options={"max_ragged_share": 0.5}))
        assert len([p for c in chunks for p in c.problems]) == 14
        strict = _error(_write(tmp_path, "one.csv", "a,b\n1,2\n3\n"), max_ragged_rows=0)
        assert "1+ of 2 rows have the wrong number of fields (rows 3" in str(strict)

    @pytest.mark.parametrize(
        ("option", "value", "message"),
        [
            ("max_ragged_rows", -1, "max_ragged_rows must be a count, not -1"),
            ("max_ragged_rows", "many", "max_ragged_rows must be a count, not 'many'"),
            ("max_ragged_share", 2, "max_ragged_share must be between 0 and 1, not 2"),
        ],
    )
    def test_a_bad_ragged_limit_is_refused_naming_the_option(
        self, tmp_path, option, value, message
    ):
        err = _error(_write(tmp_path, "f.csv", "a,b\n1,2\n"), **{option: value})
        assert str(err) == f"f.csv: reader option {message}"

    def test_duplicate_header(self, tmp_path):
        err = _error(_write(tmp_path, "dup.csv", "api,name,api\n1,x,2\n"))
        assert (err.row, err.column) == (1, 3)
        assert "duplicate column name 'api'" in str(err)

    def test_invalid_utf8_after_utf8_names_byte_and_row(self, tmp_path):
        rows = (
            ["name,city"] + [f"Pétro {i},Midland" for i in range(3000)] + ["Bad \xff byte,Odessa"]
        )
        data = "\n".join(rows).encode("utf-8").replace("\xc3\xbf".encode("latin-1"), b"\xff")
        err = _error(_write(tmp_path, "late.csv", data))
        assert err.row == 3002
        assert "invalid UTF-8 byte 0xff at byte offset" in str(err)

    def test_cp1252_without_bom_is_decoded(self, tmp_path):
        path = _write(tmp_path, "win.csv", "name,city\nPétro Energy,Midland\n".encode("cp1252"))
        frame = next(read_file(path, default_registry())).frame
        assert frame.name.iloc[0] == "Pétro Energy"

    def test_utf16_with_bom_is_decoded(self, tmp_path):
        path = _write(tmp_path, "u16.csv", "name,city\nPétro Energy,Midland\n".encode("utf-16"))
        assert sniff_file(path, default_registry()).details["encoding"] == "utf-16"
        assert next(read_file(path, default_registry())).frame.name.iloc[0] == "Pétro Energy"

    def test_nul_byte_after_the_sniffed_head_names_the_row(self, tmp_path):
        rows = "operator,api\n" + "Acme,4212345678\n" * 5000 + "Bra\x00vo,4212345679\n"
        err = _error(_write(tmp_path, "nul.csv", rows))
        assert str(err) == "nul.csv, row 5002: a NUL byte at character 4 of the line"

    def test_mixed_line_endings_are_one_record_each(self, tmp_path):
        path = _write(tmp_path, "mixed.csv", "operator,api\r\nAcme,1\rBravo,2\nCharlie,3\r\n")
        frame = next(read_file(path, default_registry())).frame
        assert frame.operator.tolist() == ["Acme", "Bravo", "Charlie"]


class TestUnknown:
    def test_binary_file_that_is_no_format(self, tmp_path):
        path = _write(tmp_path, "data.csv", bytes(range(256)) * 40)
        with pytest.raises(UnknownFormat, match=r"data.csv: not a format ogcrm reads"):
            sniff_file(path, default_registry())

    def test_extension_is_not_trusted(self, tmp_path):
        wb = openpyxl.Workbook()
        wb.active.append(["operator", "wells"])
        wb.active.append(["Acme", 3])
        path = tmp_path / "really-a-spreadsheet.csv"
        wb.save(path)
        assert sniff_file(path, default_registry()).format == "xlsx"


class TestXml:
    def test_entity_expansion_bomb(self, tmp_path):
        bomb = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><root><r><a>&lol2;</a></r></root>'
        err = _error(_write(tmp_path, "bomb.xml", bomb))
        assert "DTDs and entities are not allowed" in str(err) and err.filename == "bomb.xml"

    def test_external_entity(self, tmp_path):
        xxe = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><root><r><a>&x;</a></r></root>'
        err = _error(_write(tmp_path, "xxe.xml", xxe))
        assert "DTDs and entities are not allowed" in str(err)
        assert "root:" not in str(err)

    def test_malformed_xml_names_line_and_column(self, tmp_path):
        err = _error(
            _write(
                tmp_path,
                "bad.xml",
                "<?xml version='1.0'?>\n<root>\n<r><a>1</a></r>\n<r><a>2</b></r>\n</root>",
            )
        )
        assert err.row == 4 and "not well-formed" in str(err)


class TestZip:
    def test_zip_bomb_is_refused_before_decompressing(self, tmp_path):
        path = tmp_path / "bomb.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("big.csv", b"0" * 50_000_000)
        err = _error(path)
        assert "zip bomb" in str(err) and "big.csv" in str(err)

    def test_entry_outside_the_target(self, tmp_path):
        path = tmp_path / "slip.zip"
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("../../etc/evil.csv", "a,b\n1,2\n")
        err = _error(path)
        assert "points outside the archive" in str(err)

    def test_symlink_entry_is_refused(self, tmp_path):
        path = tmp_path / "link.zip"
        info = zipfile.ZipInfo("passwd.csv")
        info.external_attr = (0o120777 << 16) | 0x20  # S_IFLNK, as `zip --symlinks` writes
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr(info, "/etc/passwd")
        err = _error(path)
        assert str(err) == "link.zip: archive entry 'passwd.csv' is a symbolic link"

    def test_csv_inside_a_zip_is_read(self, tmp_path):
        path = tmp_path / "ok.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("permits.csv", "permit,operator\n1,Acme\n2,Bravo\n")
        chunks = list(read_file(path, default_registry()))
        assert chunks[0].sheet == "permits.csv" and len(chunks[0].frame) == 2


class TestSpreadsheets:
    def test_formula_is_refused_with_sheet_row_and_column(self, tmp_path):
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "Wells"
        ws.append(["operator", "oil", "gas"])
        ws.append(["Acme", 10, 20])
        ws.append(["Bravo", 5, "=B2+C2"])
        path = tmp_path / "formula.xlsx"
        wb.save(path)
        err = _error(path)
        assert (err.sheet, err.row, err.column) == ("Wells", 3, 3)
        assert "formulas are not accepted" in str(err)

    def test_a_lying_dimension_does_not_create_empty_rows(self, tmp_path):
        wb = openpyxl.Workbook()
        wb.active.append(["operator", "wells"])
        wb.active.append(["Acme", 3])
        wb.active["A5000"] = None
        wb.active.cell(row=5000, column=2).number_format = "0.00"  # formatted, empty
        path = tmp_path / "sparse.xlsx"
        wb.save(path)
        assert _read_all(path) == 1


class TestFixedWidth:
    def test_line_shorter_than_its_layout(self, tmp_path, shared_data):
        lines = (
            (shared_data / "real" / "boem-ogor-a-production-2019.fixed.txt")
            .read_bytes()
            .split(b"\r\n")[:20]
        )
        lines[11] = lines[11][:100]
        err = _error(_write(tmp_path, "ogor.txt", b"\r\n".join(lines)), layout="boem-ogor-a")
        assert (err.row, err.column) == (12, "SORT_NAME")
        assert "line is 100 characters, the layout needs 161" in str(err)


class TestJson:
    def test_invalid_json_lines_names_the_line(self, tmp_path):
        path = _write(tmp_path, "rows.jsonl", '{"a": 1}\n{"a": 2}\n{"a": \n{"a": 4}\n')
        err = _error(path)
        assert err.row == 3 and "invalid JSON" in str(err)

    def test_invalid_json_array_names_the_line(self, tmp_path):
        path = _write(tmp_path, "rows.json", '[\n{"a": 1},\n{"a": 2},\n{"a": 3 "b": 4}\n]')
        err = _error(path)
        assert (err.row, err.filename) == (4, "rows.json")
        assert "invalid JSON: Expecting ',' delimiter" in str(err)

    def test_array_item_that_is_not_an_object(self, tmp_path):
        err = _error(_write(tmp_path, "mixed.json", '[{"a": 1}, {"a": 2}, 3]'))
        assert str(err) == "mixed.json, row 3: record 3 is not an object"

    def test_nested_response_without_records(self, tmp_path):
        err = _error(_write(tmp_path, "meta.json", json.dumps({"response": {"total": "0"}})))
        assert "no list of records" in str(err)


class TestJsonStreaming:
    def test_array_streams_in_chunks_and_keeps_number_text(self, tmp_path):
        records = [{"api": f"42{i:08d}", "oil": f"{i}.10", "gas": i * 1.5} for i in range(25)]
        text = json.dumps(records).replace('"0.10"', "0.10")  # one bare decimal number
        path = _write(tmp_path, "wells.json", text)
        chunks = list(read_file(path, default_registry(), chunk_rows=10))
        assert [len(c.frame) for c in chunks] == [10, 10, 5]
        assert [c.first_row for c in chunks] == [1, 11, 21]
        assert chunks[0].frame.oil.iloc[0] == "0.10"  # the file's digits, not float 0.1
        assert chunks[2].frame.api.iloc[-1] == "4200000024"

    def test_document_record_path_skips_lists_inside_records(self, tmp_path):
        doc = {
            "response": {
                "total": "2",
                "data": [
                    {"period": "2024", "value": "7", "facets": [{"x": 1}, {"x": 2}, {"x": 3}]},
                    {"period": "2025", "value": "8", "facets": []},
                ],
            },
            "request": {"params": {"data": ["value"]}},
        }
        path = _write(tmp_path, "api.json", json.dumps(doc))
        frame = next(read_file(path, default_registry())).frame
        assert frame.period.tolist() == ["2024", "2025"]
        assert json.loads(frame.facets.iloc[0]) == [{"x": 1}, {"x": 2}, {"x": 3}]

    def test_record_path_can_be_given(self, tmp_path):
        doc = {"a": [{"k": 1}, {"k": 2}, {"k": 3}], "b": {"rows": [{"k": 9}]}}
        path = _write(tmp_path, "two.json", json.dumps(doc))
        frame = next(read_file(path, default_registry(), options={"record_path": "b.rows"})).frame
        assert frame.k.tolist() == ["9"]


def test_nothing_is_read_into_memory_at_once(tmp_path):
    """Chunks are bounded by chunk_rows whatever the file size."""
    buf = io.StringIO()
    buf.write("permit,operator\n")
    for i in range(25_000):
        buf.write(f"{i},Operator {i % 50}\n")
    path = _write(tmp_path, "many.csv", buf.getvalue())
    sizes = [len(c.frame) for c in read_file(path, default_registry(), chunk_rows=4_000)]
    assert max(sizes) == 4_000 and sum(sizes) == 25_000


def test_a_workbook_is_read_whatever_its_file_name(tmp_path):
    """Stored uploads are named by their hash: the content decides the format."""
    wb = openpyxl.Workbook()
    wb.active.append(["operator", "wells"])
    wb.active.append(["Acme", 3])
    path = tmp_path / "3f2ef4252eb0285e5e0105b2c2fc14155d6e691519ecf46a4591c6f480587c31"
    wb.save(path)
    assert _read_all(path) == 1
