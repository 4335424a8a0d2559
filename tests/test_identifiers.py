"""Canonical natural keys: the forms the database accepts."""

from __future__ import annotations

import pytest

from ogcrm.identifiers import (
    IdentifierError,
    normalize_agency_identifier,
    normalize_api_number,
)


class TestApiNumber:
    @pytest.mark.parametrize(
        ("raw", "state", "api10", "api14"),
        [
            ("42-123-45678", None, "4212345678", None),
            ("4212345678", None, "4212345678", None),
            (4212345678, None, "4212345678", None),
            ("12345678", "42", "4212345678", None),
            ("42-123-45678-01", None, "4212345678", "42123456780100"),
            ("42123456780102", None, "4212345678", "42123456780102"),
            (" 05 123 31642 ", None, "0512331642", None),
        ],
    )
    def test_common_forms_give_one_canonical_number(self, raw, state, api10, api14):
        result = normalize_api_number(raw, state_code=state)
        assert (result.api10, result.api14) == (api10, api14)

    def test_displayed_dashed(self):
        assert str(normalize_api_number("4212345678")) == "42-123-45678"

    @pytest.mark.parametrize("raw", ["", "123", "12345678", "123456789012345", "N/A"])
    def test_impossible_digit_counts_are_refused(self, raw):
        with pytest.raises(IdentifierError, match="digits"):
            normalize_api_number(raw)

    def test_bad_implied_state_is_refused(self):
        with pytest.raises(IdentifierError, match="state code"):
            normalize_api_number("12345678", state_code="TX")


class TestAgencyIdentifiers:
    def test_agency_identifier_keeps_leading_zeros(self):
        assert normalize_agency_identifier(" RRC ", " 020528 ") == ("rrc", "020528")
