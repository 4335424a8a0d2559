"""Each built-in cleaner on tricky values: what it corrects, and the issue it records."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ogcrm.pipeline.contracts import SourceSpec
from ogcrm.pipeline.mapping import clean_context
from ogcrm.plugins import default_registry


def run(cleaner: str, source_state: str | None = None, options=None, units=None, **columns):
    """One cleaner over a frame of canonical columns (rows numbered from 2, as a file's
    data rows are), returning the cleaned frame and the issues."""
    n = len(next(iter(columns.values())))
    index = pd.RangeIndex(2, n + 2, name="row")
    frame = pd.DataFrame({k: pd.Series(v, dtype=object, index=index) for k, v in columns.items()})
    mapping = {k: ({"column": k, "unit": units[k]} if units and k in units else k) for k in columns}
    spec = SourceSpec("t", "t", "test", mapping=mapping, state=source_state, options=options or {})
    out, issues = default_registry().cleaners[cleaner]().clean(frame, clean_context(spec))
    return out, issues


def issue_of(issues: pd.DataFrame, row: int, column: str | None = None) -> dict:
    hit = issues[(issues.row == row) & ((issues.column == column) if column else True)]
    assert len(hit) == 1, issues
    return hit.iloc[0].to_dict()


class TestWhitespace:
    def test_null_codes_become_empty_and_are_recorded(self):
        out, issues = run(
            "whitespace",
            oil_bbl=["NULL", "12", "NR", "  ", "*****", "NA"],
        )
        assert out.oil_bbl.tolist()[1] == "12"
        assert [v is None or (isinstance(v, float) and math.isnan(v)) for v in out.oil_bbl] == [
            True,
            False,
            True,
            True,
            True,
            True,
        ]
        assert sorted(issues.row) == [2, 4, 6, 7]  # blanks are not codes
        assert set(issues.message) == {"missing-value code read as empty"}

    def test_padding_is_trimmed_silently_and_runs_collapsed_with_an_issue(self):
        out, issues = run("whitespace", well_name=["  BILL 14-23 1H  ", "ALEXANDRIA   1-33-28HTF"])
        assert out.well_name.tolist() == ["BILL 14-23 1H", "ALEXANDRIA 1-33-28HTF"]
        assert issues.row.tolist() == [3]
        assert issue_of(issues, 3)["original"] == "ALEXANDRIA   1-33-28HTF"

    def test_codes_keep_inner_blanks_and_soft_null_codes(self):
        out, issues = run("whitespace", lease_number=[" WD   31 ", "NA"])
        assert out.lease_number.tolist() == ["WD   31", "NA"]
        assert issues.empty


class TestApiNumber:
    @pytest.mark.parametrize(
        ("raw", "state", "api10", "api14", "severity"),
        [
            ("42-123-45678", None, "4212345678", None, None),
            ("4212345678", None, "4212345678", None, None),
            ("42-383-38147-00-00", None, "4238338147", "42383381470000", None),
            ("177164014000", None, "1771640140", "17716401400000", None),
            ("33053039010000", "ND", "3305303901", "33053039010000", None),
            ("3.3053039010000E+13", "ND", "3305303901", "33053039010000", "fixed"),
            ("34005241600100.0", "OH", "3400524160", "34005241600100", "fixed"),
            ("1233164201", "CO", "0512331642", "05123316420100", "fixed"),
            ("12508888", "CO", "0512508888", None, "fixed"),
            ("100123", "CO", "0500100123", None, "fixed"),
            ("123", "TX", None, None, "error"),
            ("9912345678", None, None, None, "error"),
            ("4200012345", None, None, None, "error"),
            ("42-003-1٣345", None, None, None, "error"),  # an Arabic-Indic digit
        ],
    )
    def test_shapes(self, raw, state, api10, api14, severity):
        out, issues = run("api_number", source_state=state, api=[raw])
        assert (out.api10.iloc[0], out.api14.iloc[0]) == (api10, api14)
        assert (issues.severity.iloc[0] if len(issues) else None) == severity
        assert out.api.iloc[0] == raw  # the source's own spelling is kept

    def test_error_messages_say_why(self):
        _, issues = run("api_number", api=["123", "9912345678", "4200012345"])
        assert issues.message.tolist() == [
            "API number has 3 digits; expected 10, 12 or 14 (or 8 with the state known)",
            "unknown API state code 99",
            "API county code 000 does not exist",
        ]

    @settings(max_examples=300, deadline=None)
    @given(
        values=st.lists(
            st.text(alphabet="0123456789-  .E٣", max_size=18)
            | st.sampled_from(
                ["42-003-12345", "0512345678", "05-123-45678-00", "3300012345", "42٣0312345"]
            ),
            min_size=1,
            max_size=12,
        ),
        state=st.sampled_from([None, "TX", "CO", "ND"]),
    )
    def test_a_chunk_reads_every_value_as_read_api_does(self, values, state):
        """The cleaner reads common shapes in bulk and the rest one by one: the same
        result either way, value for value."""
        from ogcrm_plugins.cleaners._reference import USPS_TO_API_STATE
        from ogcrm_plugins.cleaners.api_number import read_api

        out, issues = run("api_number", source_state=state, api=values)
        code = USPS_TO_API_STATE.get(state or "")
        for i, value in enumerate(values):
            api10, api14, severity, _ = read_api(value, code)
            row = i + 2
            assert (out.api10[row], out.api14[row] if api10 else None) == (api10, api14), value
            found = issues[issues.row == row].severity.tolist()
            assert found == ([severity] if severity else []), value

    def test_new_mexico_split_parts_are_padded(self):
        out, issues = run(
            "api_number", source_state="NM", api_state=["30"], api_county=["5"], api_well=["645"]
        )
        assert out.api10.iloc[0] == "3000500645"
        assert sorted(issues.message) == ["padded to 3 digits", "padded to 5 digits"]

    def test_texas_county_sequence_takes_the_state_without_an_issue(self):
        out, issues = run(
            "api_number", source_state="TX", api_county_sequence=["00349279", "349280"]
        )
        assert out.api10.tolist() == ["4200349279", "4200349280"]
        assert issues.row.tolist() == [3]  # only the one that lost its zeros


class TestCompanyName:
    def test_key_and_form_are_added_display_kept(self):
        names = ["Pioneer Natural Resources USA, Inc.", "PIONEER NATURAL RES. USA, INC."]
        out, issues = run("company_name", operator_name=names)
        assert out.operator_name.tolist() == names
        assert out.operator_name_key.tolist() == ["PIONEER NATURAL RESOURCES USA"] * 2
        assert out.operator_name_form.tolist() == ["corp", "corp"]
        assert issues.empty

    @pytest.mark.parametrize(
        ("name", "key", "form"),
        [
            ("BURLINGTON RESOURCES O & G CO LP", "BURLINGTON RESOURCES OIL AND GAS", "lp"),
            ("ANADARKO E&P ONSHORE LLC", "ANADARKO EXPLORATION AND PRODUCTION ONSHORE", "llc"),
            ("CHEVRON U. S. A. INC.", "CHEVRON USA", "corp"),
            ("NCX Company, L.L.C.", "NCX", "llc"),
            ("Hunt Oil Co.", "HUNT OIL", "co"),
            ("TRIO CONSULTING & MANAGEMENT,LLC", "TRIO CONSULTING AND MANAGEMENT", "llc"),
        ],
    )
    def test_suffixes_punctuation_and_abbreviations(self, name, key, form):
        out, _ = run("company_name", operator_name=[name])
        assert (out.operator_name_key.iloc[0], out.operator_name_form.iloc[0]) == (key, form)

    def test_truncated_name_is_flagged_and_keyed_without_the_fragment(self):
        out, issues = run("company_name", operator_name=["ENERVEST OPERATING L", "Southwell, R.C."])
        assert out.operator_name_key.tolist() == ["ENERVEST OPERATING", "SOUTHWELL R C"]
        assert issues.row.tolist() == [2]
        assert issue_of(issues, 2)["severity"] == "warning"


class TestDates:
    def test_mixed_forms_in_one_column(self):
        out, issues = run(
            "dates", spud_date=["20251125", "20251203", "11/2/2011", "2023-05-01T00:00:00.000"]
        )
        assert out.spud_date.tolist() == ["2025-11-25", "2025-12-03", "2011-11-02", "2023-05-01"]
        assert sorted(issues.row) == [4, 5]
        assert (
            issue_of(issues, 4)["message"] == "written as M/D/YYYY; the column is mostly YYYYMMDD"
        )

    def test_impossible_date_is_an_error(self):
        out, issues = run("dates", issued_date=["20230231", "13/45/2020", "20230228"])
        assert out.issued_date.tolist()[2] == "2023-02-28"
        errors = issues[issues.severity == "error"]
        assert errors.row.tolist() == [2, 3]
        assert errors.message.tolist() == [
            "impossible date '20230231'",
            "impossible date '13/45/2020'",
        ]

    def test_oracle_day_month_name_year_is_read_in_any_case(self):
        out, issues = run(
            "dates",
            spud_date=[
                "2010-10-07",
                "2011-02-15",
                "07-Oct-2010",
                "15-FEB-2011",
                "31-Feb-2011",
                "07-Okt-2010",
            ],
        )
        assert out.spud_date.tolist()[:4] == [
            "2010-10-07",
            "2011-02-15",
            "2010-10-07",
            "2011-02-15",
        ]
        assert issue_of(issues, 4)["message"] == (
            "written as DD-Mon-YYYY; the column is mostly YYYY-MM-DD"
        )
        errors = issues[issues.severity == "error"]
        assert errors.message.tolist() == [
            "impossible date '31-Feb-2011'",
            "not a date: '07-Okt-2010' (unknown month)",
        ]

    def test_month_fields_keep_the_first_of_the_month(self):
        out, _ = run("dates", production_month=["202001", "1973-07-31T00:00:00", "2024Q3"])
        assert out.production_month.tolist() == ["2020-01-01", "1973-07-01", "2024-07-01"]

    def test_far_future_is_a_warning(self):
        _, issues = run("dates", spud_date=["20990101"])
        assert issues.severity.tolist() == ["warning"]

    def test_two_digit_years_are_read_with_a_sliding_century_and_shown(self):
        this_year = dt.date.today().year
        ahead, behind = (this_year + 10) % 100, (this_year + 11) % 100
        out, issues = run(
            "dates",
            spud_date=["1/2/2023", f"1/2/{ahead:02d}", f"12/31/{behind:02d}", "2/30/23", "7/4/87"],
        )
        assert out.spud_date.tolist() == [
            "2023-01-02",
            f"{this_year + 10}-01-02",
            f"{this_year + 11 - 100}-12-31",
            None,
            "1987-07-04",
        ]
        fixed = issues[issues.severity == "fixed"].set_index("row").message.to_dict()
        assert fixed == {
            2: "written as M/D/YYYY; the column is mostly M/D/YY",
            3: f"two-digit year read as {this_year + 10}",
            4: f"two-digit year read as {this_year + 11 - 100}",
            6: "two-digit year read as 1987",
        }
        assert issue_of(issues[issues.severity == "error"], 5)["message"] == (
            "impossible date '2/30/23'"
        )
        # read ten years ahead: also the far-future warning, for the reviewer to judge
        assert issues[issues.severity == "warning"].row.tolist() == [3]

    def test_excel_serials_when_the_source_says_so(self):
        out, _ = run("dates", options={"excel_dates": True}, period=["182", "45000"])
        assert out.period.tolist() == ["1900-06-30", "2023-03-15"]


class TestNumbers:
    def test_separators_sentinels_negatives_and_garbage(self):
        out, issues = run(
            "numbers", oil_bbl=["1,854,885", "-1", "-5", "abc", "1.25000000000e+001", "7"]
        )
        values = out.oil_bbl.tolist()
        assert values[0] == 1854885.0 and values[4] == 12.5 and values[5] == 7.0
        assert all(math.isnan(v) for v in values[1:4])
        by_row = {r: issue_of(issues, r) for r in (2, 3, 4, 5)}
        assert by_row[2]["severity"] == "fixed"  # separators
        assert by_row[3]["message"] == "negative sentinel read as unknown"
        assert (by_row[4]["severity"], by_row[4]["message"]) == ("error", "cannot be negative")
        assert (by_row[5]["severity"], by_row[5]["message"]) == ("error", "not a number")
        assert 6 not in set(issues.row)  # e-notation is a way of writing, not dirt

    def test_units_named_in_the_mapping_are_converted(self):
        out, issues = run("numbers", units={"oil_bbl": "MBBL"}, oil_bbl=["2.5"])
        assert out.oil_bbl.iloc[0] == 2500.0
        assert issue_of(issues, 2)["message"] == "converted from MBBL"

    def test_days_produced(self):
        out, issues = run("numbers", days_produced=["31", "99", "45"])
        assert out.days_produced.iloc[0] == 31.0
        assert issue_of(issues, 3)["message"] == "99 means unknown days"
        assert issue_of(issues, 4)["severity"] == "error"


class TestCoordinates:
    def test_zero_swapped_and_unsigned(self):
        out, issues = run(
            "coordinates",
            source_state="TX",
            latitude=["0", "-103.0123038", "32.3355403", "31.9"],
            longitude=["0", "32.3355403", "103.0123038", "-102.1"],
        )
        assert math.isnan(out.latitude.iloc[0])
        assert (out.latitude.iloc[1], out.longitude.iloc[1]) == (32.3355403, -103.0123038)
        assert (out.latitude.iloc[2], out.longitude.iloc[2]) == (32.3355403, -103.0123038)
        messages = set(issues.message)
        assert "0 means the position is unknown" in messages
        assert "latitude and longitude were swapped" in messages
        assert "longitude sign restored (west)" in messages
        assert 5 not in set(issues.row)

    def test_outside_the_state_is_a_warning(self):
        _, issues = run("coordinates", source_state="TX", latitude=["47.9"], longitude=["-103.58"])
        assert issues.severity.tolist() == ["warning"]
        assert issues.message.tolist() == ["position is outside TX"]

    def test_utm_fills_unknown_positions_and_names_the_datum(self):
        out, issues = run(
            "coordinates",
            source_state="UT",
            options={"datum": "NAD83"},
            latitude=["0"],
            longitude=["0"],
            utm_easting=["643718"],
            utm_northing=["4448707"],
            utm_zone=["12"],
        )
        assert out.latitude.iloc[0] == pytest.approx(40.17644, abs=1e-4)
        assert out.longitude.iloc[0] == pytest.approx(-109.31201, abs=1e-4)
        assert out.datum.iloc[0] == "NAD83"
        assert "converted from UTM zone 12 (NAD83)" in set(issues.message)


class TestContactPoints:
    def test_phones_to_e164(self):
        out, issues = run(
            "phone",
            contact_phone=[
                "(432) 555-0100",
                "1-432-555-0101",
                "+44 20 7946 0958",
                "555-0100",
                "432.555.0102 x12",
            ],
        )
        assert out.contact_phone.tolist()[:3] == ["+14325550100", "+14325550101", "+442079460958"]
        assert pd.isna(out.contact_phone.iloc[3])
        assert out.contact_phone.iloc[4] == "+14325550102"
        assert issue_of(issues, 5)["message"] == "not a phone number; left empty"
        assert set(issues[issues.row == 6].message) == {"written as E.164", "extension dropped"}

    def test_emails(self):
        out, issues = run(
            "email", contact_email=["Ops@Pioneer.COM", "mailto:a@b.com", "not-an-email"]
        )
        assert out.contact_email.tolist()[:2] == ["Ops@pioneer.com", "a@b.com"]
        assert pd.isna(out.contact_email.iloc[2])
        assert issue_of(issues, 4)["severity"] == "warning"


class TestGeography:
    def test_states_to_postal_codes(self):
        out, issues = run("geography", state=["Texas", "tx", "48", "Atlantis"])
        assert out.state.tolist()[:3] == ["TX", "TX", "TX"]
        assert issue_of(issues, 5)["message"] == "not a US state"

    def test_counties_by_name_code_and_abbreviation(self):
        out, issues = run(
            "geography", source_state="ND", county=["MCK", "MTL", "Williams", "Nowhere"]
        )
        assert out.county.tolist()[:3] == ["McKenzie", "Mountrail", "Williams"]
        assert out.county_fips.tolist()[:3] == ["38053", "38061", "38105"]
        assert issue_of(issues, 5)["severity"] == "warning"
        assert sorted(issues[issues.severity == "fixed"].row) == [2, 3]  # case alone is no fix

    def test_a_file_without_counties_gets_them_from_its_api_numbers(self):
        out, issues = run("geography", api10=["0512331642", "3305304901", None])
        assert out.county.tolist() == ["Weld", "McKenzie", None]
        assert out.county_fips.tolist() == ["08123", "38053", None]
        assert issues.empty  # derived, not corrected: no value the file gave changed

    def test_alphabetical_county_numbers(self):
        out, _ = run(
            "geography",
            source_state="UT",
            options={"county_codes": "alphabetical"},
            county=["7", "24"],
        )
        assert out.county.tolist() == ["Duchesne", "Uintah"]


@pytest.mark.parametrize("cleaner", sorted(default_registry().cleaners))
def test_a_cleaner_leaves_the_frame_it_was_given_as_it_was(cleaner):
    """Review shows each row as read next to its cleaned values: the chain keeps the
    frame it read and hands copies on, so no cleaner may write into its input (the
    built-in ones copy shallowly and rely on pandas' copy-on-write)."""
    columns = {
        "well_name": ["  BILL   1H ", "NULL"],
        "api": ["42-003-12345", "3.3053039010000E+13"],
        "operator_name": ["ACME  OIL, INC.", "N/A"],
        "county": ["andrews", "003"],
        "state": ["tx", "Texas"],
        "spud_date": ["1/2/2024", "20240230"],
        "total_depth_ft": ["12,000", "-"],
        "latitude": ["-102.5", "0"],
        "longitude": ["32.1", "0"],
        "operator_phone": ["(432) 555-0100", "x"],
        "operator_email": ["A@B.COM ", "nope"],
    }
    index = pd.RangeIndex(2, 4, name="row")
    frame = pd.DataFrame({k: pd.Series(v, dtype=object, index=index) for k, v in columns.items()})
    before = frame.copy(deep=True)
    spec = SourceSpec("t", "t", "test", mapping={k: k for k in columns}, state="TX")
    out, _ = default_registry().cleaners[cleaner]().clean(frame, clean_context(spec))
    pd.testing.assert_frame_equal(frame, before)
    assert out is not frame


def test_exact_duplicates_are_found_within_a_chunk_and_across_chunks():
    """A row whose cleaned values equal an earlier row's is a duplicate, whether the
    earlier row is in the same chunk or in one before; padding that cleaning removes
    does not make a row different, one value that differs does, and a row with an
    error stays quarantined however often it appears."""
    from ogcrm.pipeline.cleaning import CleanRun
    from ogcrm.pipeline.contracts import Chunk

    spec = SourceSpec("t", "t", "test", mapping={"well_name": "name", "api": "api"}, state="TX")
    run = CleanRun(spec, default_registry())

    def chunk(first_row: int, *rows: tuple[str, str]) -> list[str]:
        frame = pd.DataFrame(rows, columns=["name", "api"], dtype=object)
        return run.clean(Chunk(frame, first_row)).outcome.tolist()

    first = chunk(
        2,
        ("BILL 1H", "42-003-12345"),
        ("BILL 1H", "42-003-12345"),  # same chunk
        ("  BILL 1H ", "42-003-12345"),  # the same once trimmed
        ("BILL 2H", "42-003-12345"),
        ("BAD", "42-000-12345"),  # county 000 does not exist: an error
    )
    second = chunk(
        7,
        ("BILL 2H", "42-003-12345"),  # seen in the chunk before
        ("BILL 3H", "42-003-12345"),
        ("BAD", "42-000-12345"),
    )
    assert first == ["clean", "duplicate", "duplicate", "clean", "quarantined"]
    assert second == ["duplicate", "clean", "quarantined"]
    assert run.counts["duplicate"] == 3
