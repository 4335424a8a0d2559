"""Every real agency file in ../shared/data/real reads into proper records.

One test per file: detected format, row count, and spot values checked against the file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ogcrm.pipeline.detect import read_file, sniff_file
from ogcrm.plugins import default_registry


def _read(path: Path, **options) -> tuple[str, pd.DataFrame, list]:
    registry = default_registry()
    verdict = sniff_file(path, registry)
    chunks = list(read_file(path, registry, sniff=verdict, chunk_rows=700, options=options))
    return verdict.format, pd.concat([c.frame for c in chunks], ignore_index=True), chunks


@pytest.fixture
def real(shared_data: Path) -> Path:
    return shared_data / "real"


def test_tx_rrc_permits_fixed_width_multi_record(real: Path):
    fmt, df, chunks = _read(real / "tx-rrc-drilling-permits-daf420.dat")
    assert fmt == "fixed-width"
    assert len(df) == 56  # one row per 01 root record, trailers folded in
    apache = df[df.permit_number == "0787859"].iloc[0]
    assert apache.operator_number == "027200"  # leading zero kept
    assert apache.operator_name.strip() == "APACHE CORPORATION"
    assert apache.api_county_sequence == "47536762"
    assert apache.surface_longitude.strip() == "-103.2838556"
    # remark wrapped mid-word at 70 characters, and broken by a 0x85 continuation line
    assert "DOUBLE ASSIGNMENT OF RESERVOIR AND" in apache.remarks
    assert "ON THE APPROVED PERMIT APPLICATION. LATERAL # TH1" in apache.remarks
    first = df.iloc[0]
    assert (first.permit_number, first.operator_number, first.received_date) == (
        "0911978",
        "900327",
        "20251125",
    )
    assert chunks[0].row_numbers[:2] == (1, 14)  # file line of each permit's 01 record


def test_boem_ogor_fixed_width(real: Path):
    fmt, df, _ = _read(real / "boem-ogor-a-production-2019.fixed.txt")
    assert fmt == "fixed-width"
    assert len(df) == 2000
    assert df.columns[0] == "LEASE_NUMBER"
    assert all(len(v) == 12 for v in df.API_WELL_NUMBER)
    assert df.PRODUCTION_DATE.str.fullmatch(r"\d{6}").all()


def test_boem_ogor_delimited_headerless_all_quoted(real: Path):
    fmt, df, _ = _read(real / "boem-ogor-a-production-2025.delimited.txt")
    assert fmt == "csv"
    assert len(df) == 2000  # no header row to lose
    first = df.iloc[0]
    assert first.column_1 == " 00016"  # padding kept for the cleaners
    assert first.column_2 == " E002"
    assert first.column_9 == "177190022500"
    assert first.column_13 == "ARRAY PETROLEUM LLC"


def test_boem_api_well_list(real: Path):
    fmt, df, _ = _read(real / "boem-api-well-list.csv")
    assert (fmt, len(df)) == ("csv", 2000)
    assert df.columns[0] == "API_WELL_NUMBER"
    assert df.API_WELL_NUMBER.str.fullmatch(r"\d{12}").all()


def test_boem_companies(real: Path):
    fmt, df, _ = _read(real / "boem-companies.csv")
    assert (fmt, len(df)) == ("csv", 100)
    assert "BUS_ASC_NAME" in df.columns
    assert (
        df.BUS_ASC_NAME == "fjdks;lfjkd;la"
    ).sum() == 1  # the junk record is read, cleaners judge it


def test_boem_active_leases_dbf(real: Path):
    fmt, df, _ = _read(real / "boem-active-leases-2018-05-01.dbf")
    assert (fmt, len(df)) == ("dbf", 2000)
    assert df.LEASE_NUMB.iloc[0] == " 00016 "
    assert df.ROYALTY_RA.iloc[0] == " 1.25000000000e+001"


def test_utah_downholes_dbf(real: Path):
    fmt, df, _ = _read(real / "ut-dogm-oil-gas-wells-downholes.dbf")
    assert (fmt, len(df)) == ("dbf", 2000)
    assert df.API.iloc[0].strip() == "4304752619"
    assert (
        df.ConstructT.str.strip() == "NULL"
    ).sum() == 1409  # the literal NULL sentinel, for the cleaners


def test_utah_metadata_xml(real: Path):
    fmt, df, _ = _read(real / "ut-agrc-oil-gas-wells-downholes.shp.xml")
    assert fmt == "xml"
    assert len(df) == 1
    assert df.iloc[0].ArcGISFormat == "1.0"


def test_ny_quoted_multiline_fields(real: Path):
    fmt, df, _ = _read(real / "ny-dec-oil-gas-annual-production.csv")
    assert (fmt, len(df)) == ("csv", 2000)
    geo = df["New Georeferenced Column"]
    assert (geo.str.contains("\n")).sum() == 1951
    assert df["API Well Number"].iloc[0] == "31009055570000"


def test_colorado_wells(real: Path):
    fmt, df, _ = _read(real / "co-ecmc-wells-shl-bhl-weld.csv")
    assert (fmt, len(df)) == ("csv", 831)
    assert df.API_Label.str.match(r"05-123-\d{5}").all()


def test_colorado_production_with_pandas_index_column(real: Path):
    fmt, df, _ = _read(real / "co-ecmc-well-production-05-123-31642.csv")
    assert (fmt, len(df)) == ("csv", 164)
    assert df.columns[0] == "index"
    assert set(df["Operator Name"]) >= {"VERDAD RESOURCES LLC"}


def test_ohio_xls_with_banner_and_footer(real: Path):
    fmt, df, chunks = _read(real / "oh-odnr-utica-horizontal-wells-2014-07-19.xls")
    assert fmt == "xls"
    assert len(df) == 1410  # footer "1410 Horizontal Permits - 971 Drilled" dropped
    assert list(df.columns[:4]) == ["Permit Issued", "County", "Township", "API #"]
    assert chunks[0].row_numbers[0] == 7  # banner rows 1-5, header on row 6
    assert df.iloc[0]["API #"] == "34005241600100"
    assert "ENERVEST OPERATING L" in set(df.Operator)


def test_north_dakota_xlsx_both_sheets(real: Path):
    fmt, oil, _ = _read(real / "nd-dmr-monthly-production-2023-05.xlsx")
    assert (fmt, len(oil)) == ("xlsx", 1699)
    assert oil.API_WELLNO.iloc[0] == "33053039010000"  # an Excel number, not 3.3053E+13
    assert oil.ReportDate.iloc[0] == "2023-05-01"
    assert {"NULL", "NR", "NA"} & set(oil.Quarter.dropna()) or (oil == "NULL").any().any()
    _, skimmed, chunks = _read(
        real / "nd-dmr-monthly-production-2023-05.xlsx", sheet="SkimmedCrudeRecovery"
    )
    assert len(skimmed) == 300
    assert chunks[0].sheet == "SkimmedCrudeRecovery"


def test_eia_xls_data_sheet_with_three_header_rows(real: Path):
    fmt, df, _ = _read(real / "eia-crude-oil-first-purchase-price-annual.xls", sheet="Data 1")
    assert (fmt, len(df)) == ("xls", 125)
    assert df.iloc[0].Date == "1900-06-30"  # Excel serial 182, 1900 date system
    assert df.iloc[0, 1] == "1.19"


@pytest.mark.parametrize(
    ("name", "first_key", "value_key"),
    [
        ("eia-api-v2-crude-oil-imports.json", "period", "quantity"),
        ("eia-api-v2-cplc-reserves.json", "period", "value"),
        ("eia-api-v2-ng-drilling-activity.json", "period", "value"),
        ("eia-api-v2-ng-futures.json", "period", "value"),
    ],
)
def test_eia_api_json_record_path(real: Path, name, first_key, value_key):
    fmt, df, _ = _read(real / name)
    assert (fmt, len(df)) == ("json", 1)
    assert df.iloc[0][first_key]
    assert isinstance(df.iloc[0][value_key], str)  # numbers arrive as strings; kept as text


def test_new_mexico_utf16_xml_with_inline_schema(real: Path):
    fmt, df, _ = _read(real / "nm-ocd-wcproduction-excerpt.xml")
    assert (fmt, len(df)) == ("xml", 3)
    first = df.iloc[0]
    assert (first.api_st_cde, first.api_cnty_cde, first.api_well_idn) == ("30", "5", "20178")
    assert first.prd_knd_cde == "G "  # trailing blank kept for the cleaners
    assert first.prodn_day_num == "99"


def test_new_mexico_dictionary_xlsx(real: Path):
    fmt, df, _ = _read(real / "nm-ocd-interface-v1.1-data-dictionary.xlsx")
    assert (fmt, len(df)) == ("xlsx", 224)
    assert list(df.columns[:3]) == ["Category", "Table", "Column"]
    _, codes, _ = _read(
        real / "nm-ocd-interface-v1.1-data-dictionary.xlsx", sheet="consolidated code list"
    )
    assert list(codes.columns[:5]) == ["Category", "Table", "Column", "Code", "Decode"]


def test_every_real_data_file_has_a_test():
    """A new file in ../shared/data/real needs a test above."""
    source = Path(__file__).read_text()
    real = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"
    if not real.is_dir():
        pytest.skip(f"{real} is absent")
    data = [p.name for p in real.iterdir() if p.suffix not in {".md", ".cpg", ".prj"}]
    assert [name for name in data if name not in source] == []
