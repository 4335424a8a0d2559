"""US states and counties: names, postal codes and FIPS codes, to one form.

States become USPS codes (``Texas``, ``tx``, FIPS ``48`` -> ``TX``). Counties become the
Census name plus a ``<column>_fips`` column of five digits, from a name (``REEVES``), a
FIPS code, an agency abbreviation (North Dakota's ``MCK`` -> McKenzie) or, with the
source option ``county_codes = "alphabetical"``, a county's place in the state's
alphabetical list (Utah DOGM's ``7`` -> Duchesne). A missing county is taken from the
API number's county part when there is one. Unknown names are warnings.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
from ogcrm_plugins.cleaners._reference import (
    API_STATE_TO_USPS,
    counties,
    county_by_abbreviation,
    county_key,
    states,
)

from ogcrm import hookimpl
from ogcrm.pipeline.contracts import (
    CleanContext,
    Cleaner,
    IssueLog,
    map_distinct,
    map_distinct_columns,
)


def resolve_county(usps: str, value: str, *, alphabetical: bool = False) -> tuple[str, str] | None:
    """``(name, 5-digit FIPS)`` for a county written any of the ways agencies write it."""
    table = counties().get(usps)
    if not table or not value:
        return None
    text = value.strip()
    if text.isdigit():
        number = int(text)
        if number == 0:
            return None
        code = f"{2 * number - 1:03d}" if alphabetical else f"{number:03d}"
        county = table.get(code)
    else:
        county = table.get(county_key(text))
        if county is None and len(text) <= 4:
            county = county_by_abbreviation(usps, text)
    return (county.name, county.fips) if county else None


def _resolve_many(
    state: pd.Series, county: pd.Series, alphabetical: bool
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """``(name, fips, translated)`` per row, resolved once per distinct (state, county).

    ``translated`` is whether the name differs from what was written other than by case
    (``MCK`` -> McKenzie is a correction worth showing; ``ASHLAND`` -> Ashland is not).
    """

    def one(pair: tuple[Any, Any]) -> tuple[str | None, str | None, bool]:
        usps, value = pair
        if not isinstance(usps, str) or not isinstance(value, str):
            return None, None, False
        hit = resolve_county(usps, value, alphabetical=alphabetical)
        if hit is None:
            return None, None, False
        spelled = re.sub(r"\s+(COUNTY|PARISH)$", "", value.strip().upper())
        return hit[0], hit[1], hit[0].upper() != spelled

    states_present = state.dropna().unique()
    if len(states_present) <= 1:  # the usual case: one state per file, keyed by county
        usps = states_present[0] if len(states_present) else None
        return map_distinct_columns(county, lambda v: one((usps, v)), 3)
    pairs = pd.Series(list(zip(state, county, strict=True)), index=county.index, dtype=object)
    return map_distinct_columns(pairs, one, 3)


class GeographyCleaner(Cleaner):
    name = "geography"
    kinds = ("state", "county")

    def clean(
        self, frame: pd.DataFrame, context: CleanContext
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        out = frame.copy(deep=False)  # copy-on-write: the caller's frame stays as it was
        log = IssueLog(self.name)
        lookup = states().usps_by_key
        for col in context.columns("state"):
            raw = out[col]
            usps = map_distinct(raw, lambda v: lookup.get(str(v).strip().upper()))
            present = raw.notna()
            log.add(
                present & usps.notna() & (usps != raw),
                col,
                raw,
                usps,
                "fixed",
                "state written as its postal code",
            )
            log.add(present & usps.isna(), col, raw, None, "warning", "not a US state")
            out[col] = usps
        state = self._row_state(out, context)
        alphabetical = context.options.get("county_codes") == "alphabetical"
        for col in context.columns("county"):
            raw = out[col]
            zero = raw.str.fullmatch(r"0+", na=False)
            log.add(zero, col, raw, None, "fixed", "0 means no county given")
            raw = raw.where(~zero, None)
            name, fips, translated = _resolve_many(state, raw, alphabetical)
            found = name.notna()
            present = raw.notna()
            log.add(
                present & found & translated.fillna(False).astype(bool),
                col,
                raw,
                name,
                "fixed",
                "county code read as its name",
            )
            unknown = present & ~found
            log.add(unknown, col, raw, None, "warning", "county not found in " + state.fillna("?"))
            if "api10" in out:
                from_api = ~found & out["api10"].notna()
                if from_api.any():
                    api = out["api10"].where(from_api)
                    api_state = api.str[:2].map(API_STATE_TO_USPS)
                    d_name, d_fips, _ = _resolve_many(api_state, api.str[2:5], False)
                    filled = from_api & d_name.notna()
                    log.add(filled, col, raw, d_name, "fixed", "county taken from the API number")
                    name = name.where(~filled, d_name)
                    fips = fips.where(~filled, d_fips)
            out[col] = name.where(name.notna(), None)
            out[f"{col}_fips"] = fips.where(fips.notna(), None)
        if not context.columns("county") and "api10" in out and out["api10"].notna().any():
            # A well list without a county column (Colorado's) still says where each
            # well is: an API number's digits 3-5 are its county. Derived, not corrected:
            # no raw value changes, so no issue is recorded.
            api = out["api10"]
            name, fips, _ = _resolve_many(api.str[:2].map(API_STATE_TO_USPS), api.str[2:5], False)
            out["county"] = name.where(name.notna(), None)
            out["county_fips"] = fips.where(fips.notna(), None)
        return out, log.frame()

    @staticmethod
    def _row_state(out: pd.DataFrame, context: CleanContext) -> pd.Series:
        """Each row's state: its own state column, else the API number's, else the
        source's."""
        state = pd.Series(context.state, index=out.index, dtype=object)
        if "api10" in out:
            state = out["api10"].str[:2].map(API_STATE_TO_USPS).fillna(state)
        if "state" in out:
            state = out["state"].fillna(state)
        return state


@hookimpl
def ogcrm_register_cleaners() -> list[type[Cleaner]]:
    return [GeographyCleaner]
