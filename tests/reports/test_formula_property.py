"""Any text a user can store comes out inert in CSV and XLSX and exact in JSON, on the
database the suite runs on (PostgreSQL writes its CSV through COPY, SQLite row by row)."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from ogcrm.auth.principal import system_principal
from ogcrm.db.models import Organization
from ogcrm.db.session import Database
from ogcrm.reports import exports, streams
from ogcrm.reports.columns import TRIGGERS

#: What a column can hold: no NUL (PostgreSQL refuses it), no lone surrogates (not UTF-8).
TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)


def _export(db: Database, fmt: exports.Format) -> bytes:
    with db.read() as session:
        plan = exports.plan(session, system_principal("test"), exports.ExportKind.WELLS, {})
        return b"".join(streams.write(session, plan, fmt))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(names=st.lists(TEXT, min_size=1, max_size=8), longitude=st.floats(-179, -1))
def test_any_text_is_inert_in_sheets_and_exact_in_json(db: Database, names, longitude):
    from ogcrm.db.models import Well

    with db.unit_of_work() as s:
        s.execute(delete(Well))
        s.execute(delete(Organization))
        s.add_all(
            Well(api10=f"42{i:08d}", name=name, longitude=longitude, field_name=name)
            for i, name in enumerate(names)
        )
    sheet_rows = list(
        csv.DictReader(io.StringIO(_export(db, exports.Format.CSV).decode(), newline=""))
    )
    assert len(sheet_rows) == len(names)
    for row, name in zip(sheet_rows, names, strict=True):
        assert float(row["longitude"]) == longitude  # a number: never prefixed
        expected = "'" + name if name[:1] in TRIGGERS else name
        assert row["name"] == expected and row["field_name"] == expected
    book = openpyxl.load_workbook(io.BytesIO(_export(db, exports.Format.XLSX)))
    for line in book.worksheets[0].iter_rows(min_row=2):
        for cell in line:
            assert cell.data_type != "f"
            if isinstance(cell.value, str):
                assert cell.value[:1] not in TRIGGERS
    lines = _export(db, exports.Format.JSONL).decode().splitlines()
    assert [json.loads(line)["name"] for line in lines] == names
