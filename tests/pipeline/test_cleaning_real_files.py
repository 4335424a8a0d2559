"""The cleaner chain on the real agency files, through their built-in sources.

Each test reads a file from ../shared/data/real with its source, runs the whole chain,
and checks what the file's known dirt (FORMATS.md) turns into, plus that the outcome
counts add up to the rows read.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ogcrm.pipeline.cleaning import CleanRun
from ogcrm.pipeline.detect import read_file
from ogcrm.pipeline.mapping import match_source, suggest_mapping
from ogcrm.plugins import default_registry


@pytest.fixture
def real(shared_data: Path) -> Path:
    return shared_data / "real"


class Cleaned:
    def __init__(self, run: CleanRun, chunks: list) -> None:
        self.counts = run.counts
        self.frame = pd.concat([c.frame for c in chunks])
        self.original = pd.concat([c.original for c in chunks])
        self.issues = pd.concat([c.issues for c in chunks], ignore_index=True)
        self.outcome = pd.concat([c.outcome for c in chunks])

    def issues_of(self, cleaner: str, column: str, severity: str | None = None) -> pd.DataFrame:
        hit = self.issues[(self.issues.cleaner == cleaner) & (self.issues.column == column)]
        return hit if severity is None else hit[hit.severity == severity]


def clean(path: Path, source: str) -> Cleaned:
    registry = default_registry()
    spec = registry.sources[source]
    run = CleanRun(spec, registry, path.name)
    chunks = list(
        run.clean_all(read_file(path, registry, chunk_rows=500, options=dict(spec.reader_options)))
    )
    cleaned = Cleaned(run, chunks)
    counts = run.counts
    assert counts["rows_read"] == sum(
        counts[o] for o in ("clean", "fixed", "quarantined", "duplicate")
    )
    assert counts["rows_read"] == len(cleaned.frame)
    return cleaned


def test_texas_permits_api_county_and_truncated_names(real):
    c = clean(real / "tx-rrc-drilling-permits-daf420.dat", "tx-rrc-permits")
    first = c.frame.iloc[0]
    assert (first.api10, first.county, first.county_fips) == ("4200349279", "Andrews", "48003")
    assert first.operator_name == "WATERBRIDGE STATELINE LLC"  # padding gone
    assert first.operator_name_key == "WATERBRIDGE STATELINE"
    assert (first.received_date, first.issued_date) == ("2025-11-25", "2025-12-03")
    assert first.latitude == pytest.approx(32.3355403) and first.longitude == pytest.approx(
        -103.0123038
    )
    assert c.counts["quarantined"] == 0
    # the 8-digit county+well form is the column's own: no issue per row for it
    assert c.issues_of("api_number", "api_county_sequence").empty


def test_north_dakota_api_as_number_null_codes_and_county_abbreviations(real):
    c = clean(real / "nd-dmr-monthly-production-2023-05.xlsx", "nd-dmr-production")
    assert c.counts["rows_read"] == 1699
    assert c.frame.api10.str.fullmatch(r"33\d{8}").all()
    nulls = c.issues_of("whitespace", "oil_bbl")
    assert len(nulls) == 15 and set(nulls.original) == {"NULL"}
    assert c.frame.loc[nulls.row, "oil_bbl"].isna().all()
    assert set(c.frame.county) == {
        "Mountrail",
        "McKenzie",
        "Dunn",
        "Divide",
        "Williams",
        "Bowman",
        "Billings",
        "Bottineau",
    }
    assert c.frame.production_month.eq("2023-05-01").all()
    runs = c.issues_of("whitespace", "well_name")
    assert len(runs) > 0 and runs.original.str.contains("  ").all()


def test_colorado_api_without_state_code_and_split_parts(real):
    wells = clean(real / "co-ecmc-wells-shl-bhl-weld.csv", "co-ecmc-wells")
    row = wells.frame[wells.original.api == "1233164201"].iloc[0]
    assert (row.api10, row.api14) == ("0512331642", "05123316420100")
    assert (
        wells.issues_of("api_number", "api")
        .message.eq("state code 05 added (county, well, sidetrack)")
        .all()
    )
    production = clean(real / "co-ecmc-well-production-05-123-31642.csv", "co-ecmc-production")
    assert production.frame.api10.eq("0512331642").all()
    assert production.frame.api14.eq("05123316420100").all()  # sidetrack "1" padded
    assert set(production.frame.operator_name) >= {"VERDAD RESOURCES LLC"}


def test_new_mexico_unpadded_api_parts_and_day_sentinel(real):
    c = clean(real / "nm-ocd-wcproduction-excerpt.xml", "nm-ocd-wcproduction")
    assert c.frame.api10.tolist() == ["3000520178"] * 3
    assert c.frame.production_month.tolist() == ["1973-07-01"] * 3
    assert c.frame.product_code.tolist() == ["G", "O", "W"] or set(c.frame.product_code) <= {
        "G",
        "O",
        "W",
    }
    assert c.frame.days_produced.isna().all()
    assert set(c.issues_of("numbers", "days_produced").message) == {"99 means unknown days"}


def test_new_york_not_applicable_unk_and_statewide_county(real):
    c = clean(real / "ny-dec-oil-gas-annual-production.csv", "ny-dec-production")
    assert c.counts["rows_read"] == 2000
    na = c.issues_of("whitespace", "operator_name")
    assert "Not Applicable" in set(na.original)
    assert c.frame.operator_name.ne("Not Applicable").all()
    statewide = c.original.county.eq("Statewide")
    assert statewide.any()
    # "Statewide" is no county: it is taken from the API number instead
    assert c.frame.loc[statewide, "county"].notna().all()
    assert c.frame.api10.str.startswith("31").all()


def test_ohio_truncated_operator_and_double_spaces(real):
    c = clean(real / "oh-odnr-utica-horizontal-wells-2014-07-19.xls", "oh-odnr-utica-wells")
    enervest = c.frame[c.frame.operator_name == "ENERVEST OPERATING L"]
    assert len(enervest) > 0 and enervest.operator_name_key.eq("ENERVEST OPERATING").all()
    assert len(c.issues_of("company_name", "operator_name", "warning")) == len(enervest)
    assert "ANTERO RESOURCES CORPORATION" in set(c.frame.operator_name)
    assert c.frame.api14.str.fullmatch(r"34\d{12}").all()
    assert c.frame.issued_date.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()


def test_utah_zero_positions_come_from_utm_with_the_datum(real):
    c = clean(real / "ut-dogm-oil-gas-wells-downholes.dbf", "ut-dogm-wells")
    converted = c.issues_of("coordinates", "latitude")
    converted = converted[converted.message == "converted from UTM zone 12 (NAD83)"]
    assert len(converted) > 1900
    assert c.frame.latitude.between(36.9, 42.1).all()  # every well now has a position in Utah
    assert c.frame.datum.eq("NAD83").all()
    # the few with real lat/lon keep theirs, and agree with their UTM to a few km
    kept = c.frame[c.original.latitude.str.strip() != "0.00000000000e+000"]
    assert len(kept) == 6 and kept.latitude.between(39.5, 40.6).all()
    assert c.frame.well_type.isna().sum() == len(c.issues_of("whitespace", "well_type"))
    assert {"Duchesne", "Uintah"} <= set(c.frame.county.dropna())


def test_boem_sources(real):
    ogor = clean(real / "boem-ogor-a-production-2019.fixed.txt", "boem-ogor-a-fixed")
    first = ogor.frame.iloc[0]
    assert (first.lease_number, first.api10, first.production_month) == (
        "00016",
        "1771900225",
        "2020-01-01",
    )
    assert first.oil_bbl == 0.0 and first.operator_number == "03151"
    delimited = clean(real / "boem-ogor-a-production-2025.delimited.txt", "boem-ogor-a-delimited")
    assert delimited.frame.iloc[0].operator_name == "ARRAY PETROLEUM LLC"
    wells = clean(real / "boem-api-well-list.csv", "boem-api-well-list")
    assert wells.frame.spud_date.dropna().str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    stars = wells.issues_of("whitespace", "total_depth_ft")
    assert set(stars.original) <= {"*****"}
    companies = clean(real / "boem-companies.csv", "boem-companies")
    assert companies.counts["duplicate"] >= 1  # "3803 ECP GOM V, LP" appears twice
    assert companies.frame.operator_zip.dropna().str.fullmatch(r"\d{5}(-\d{4})?").all()
    leases = clean(real / "boem-active-leases-2018-05-01.dbf", "boem-active-leases")
    assert leases.frame.issued_date.iloc[0] == "1946-11-26"


def test_eia_sources(real):
    futures = clean(real / "eia-api-v2-ng-futures.json", "eia-api-v2")
    assert (futures.frame.period.iloc[0], futures.frame.value.iloc[0]) == ("1993-12-24", 1.869)
    price = clean(
        real / "eia-crude-oil-first-purchase-price-annual.xls", "eia-first-purchase-price"
    )
    assert price.counts["rows_read"] == 125 and price.frame.value.iloc[0] == 1.19


def test_every_real_file_matches_its_source_by_columns(real):
    registry = default_registry()
    expected = {
        "tx-rrc-drilling-permits-daf420.dat": "tx-rrc-permits",
        "nd-dmr-monthly-production-2023-05.xlsx": "nd-dmr-production",
        "ny-dec-oil-gas-annual-production.csv": "ny-dec-production",
        "co-ecmc-wells-shl-bhl-weld.csv": "co-ecmc-wells",
        "ut-dogm-oil-gas-wells-downholes.dbf": "ut-dogm-wells",
        "boem-companies.csv": "boem-companies",
    }
    for name, source in expected.items():
        columns = list(next(read_file(real / name, registry)).frame.columns)
        assert match_source(columns, registry.sources).name == source, name


def test_suggested_mapping_for_an_unknown_file():
    columns = [
        "Operator Name",
        "API #",
        "Spud Date",
        "County",
        "Oil (BBL)",
        "Remarks",
        "Lat",
        "Long",
    ]
    suggested = {s.column: s.field for s in suggest_mapping(columns)}
    assert suggested == {
        "Operator Name": "operator_name",
        "API #": "api",
        "Spud Date": "spud_date",
        "County": "county",
        "Oil (BBL)": "oil_bbl",
        "Lat": "latitude",
        "Long": "longitude",
    }
