"""API well numbers, written any of the ways agencies write them, to API-10 and API-14.

Adds ``api10`` (state, county, well: the cross-agency match key) and ``api14`` (with
sidetrack and event, when known), keeping the source's own column as it was written.
Shapes read (FORMATS.md §1.1): 14 digits (also as an Excel number such as
``3.3053039010000E+13``), 12 digits, 10 digits with the state code or, in Colorado's
``API`` column, without it (county, well, sidetrack), the 8-digit county+well form with
the state implied by the source (Texas RRC), Colorado integers that lost their leading
zeros (6 or 7 digits), dashed forms, and New Mexico's unpadded state/county/well parts.
An unknown state code, county ``000`` or a digit count no form has is an error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from ogcrm_plugins.cleaners._reference import USPS_TO_API_STATE, VALID_API_STATES

from ogcrm import hookimpl
from ogcrm.pipeline.contracts import CleanContext, Cleaner, IssueLog

_EXCEL_NUMBER = r"\d(?:\.\d+)?[eE]\+?\d{1,2}|\d+\.0*"
_PART_WIDTHS = {"api_state": 2, "api_county": 3, "api_well": 5, "api_sidetrack": 2}


class ApiNumberCleaner(Cleaner):
    name = "api_number"
    kinds = ("api", "api_state", "api_county", "api_well", "api_sidetrack", "api_county_sequence")

    def clean(
        self, frame: pd.DataFrame, context: CleanContext
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        out = frame.copy()
        log = IssueLog(self.name)
        state = USPS_TO_API_STATE.get(context.state or "")
        columns = {context.kinds[c]: c for c in context.columns(*self.kinds)}
        if not columns:
            return out, log.frame()
        index = out.index
        api10 = pd.Series(None, index=index, dtype=object)
        api14 = pd.Series(None, index=index, dtype=object)
        if "api" in columns:
            col = columns["api"]
            a10, a14 = self._whole(out[col], col, state, log)
            api10, api14 = a10, a14
        if "api_county_sequence" in columns:
            col = columns["api_county_sequence"]
            a10, a14 = self._whole(out[col], col, state, log, state_implied=True)
            api10, api14 = api10.fillna(a10), api14.fillna(a14)
        if {"api_county", "api_well"} <= columns.keys():
            a10, a14 = self._parts(out, columns, state, log)
            api10, api14 = api10.fillna(a10), api14.fillna(a14)
        self._validate(api10, columns, out, log)
        out["api10"] = api10.where(api10.notna(), None)
        out["api14"] = api14.where(api14.notna() & api10.notna(), None)
        return out, log.frame()

    @staticmethod
    def _whole(
        raw: pd.Series,
        col: str,
        state: str | None,
        log: IssueLog,
        *,
        state_implied: bool = False,
    ) -> tuple[pd.Series, pd.Series]:
        present = raw.notna()
        excel = raw.str.fullmatch(_EXCEL_NUMBER, na=False)
        digits = raw.str.replace(r"\D", "", regex=True)
        if excel.any():
            as_int = pd.to_numeric(raw[excel], errors="coerce")
            fixed = as_int.dropna().astype("int64").astype(str)
            digits.loc[fixed.index] = fixed
            log.add(excel, col, raw, digits, "fixed", "written as a spreadsheet number")
        n = digits.str.len()
        api10 = pd.Series(None, index=raw.index, dtype=object)
        api14 = pd.Series(None, index=raw.index, dtype=object)
        full = present & n.isin([10, 12, 14])
        starts_with_state = digits.str[:2] == state if state else pd.Series(True, index=raw.index)
        if state and not state_implied:
            # ten digits that do not start with the source's state code are Colorado's
            # county + well + sidetrack form
            no_state = present & (n == 10) & ~starts_with_state
            full = full & ~no_state
            api10[no_state] = state + digits[no_state].str[:8]
            api14[no_state] = state + digits[no_state] + "00"
            log.add(
                no_state,
                col,
                raw,
                api10,
                "fixed",
                f"state code {state} added (county, well, sidetrack)",
            )
        api10[full] = digits[full].str[:10]
        api14[full & (n == 14)] = digits[full & (n == 14)]
        api14[full & (n == 12)] = digits[full & (n == 12)] + "00"
        if state:
            short = present & n.isin([6, 7, 8]) & ~full
            api10[short] = state + digits[short].str.zfill(8)
            # eight digits in a county+well column are that column's form, not a fault;
            # fewer are an integer that lost its leading zeros
            lost = short & (n < 8) if state_implied else short
            message = pd.Series(
                np.where(
                    n[lost] == 8,
                    f"state code {state} implied by the source",
                    "leading zeros restored; state code implied by the source",
                ),
                index=n[lost].index,
            ).reindex(raw.index)
            log.add(lost, col, raw, api10, "fixed", message)
        bad = present & api10.isna()
        log.add(
            bad,
            col,
            raw,
            None,
            "error",
            "API number has "
            + n.fillna(0).astype(int).astype(str)
            + " digits; expected 10, 12 or 14"
            + ("" if state else " (or 8 with the state known)"),
        )
        return api10, api14

    @staticmethod
    def _parts(
        out: pd.DataFrame, columns: dict[str, str], state: str | None, log: IssueLog
    ) -> tuple[pd.Series, pd.Series]:
        parts: dict[str, pd.Series] = {}
        for kind, width in _PART_WIDTHS.items():
            if kind not in columns:
                continue
            col = columns[kind]
            raw = out[col]
            digits = raw.str.replace(r"\D", "", regex=True)
            padded = digits.str.zfill(width)
            changed = raw.notna() & (padded != raw)
            log.add(changed, col, raw, padded, "fixed", f"padded to {width} digits")
            too_long = digits.str.len() > width
            log.add(too_long, col, raw, None, "error", f"more than {width} digits")
            parts[kind] = padded.where(~too_long, None)
        st = parts.get("api_state")
        if st is None:
            st = pd.Series(state, index=out.index, dtype=object)
        api10 = st + parts["api_county"] + parts["api_well"]
        api14 = api10 + parts["api_sidetrack"] + "00" if "api_sidetrack" in parts else None
        return api10, api14 if api14 is not None else pd.Series(None, index=out.index, dtype=object)

    @staticmethod
    def _validate(
        api10: pd.Series, columns: dict[str, str], out: pd.DataFrame, log: IssueLog
    ) -> None:
        col = columns.get("api") or columns.get("api_county_sequence") or columns["api_county"]
        raw = out[col]
        known = api10.notna()
        bad_state = known & ~api10.str[:2].isin(VALID_API_STATES)
        log.add(
            bad_state, col, raw, None, "error", "unknown API state code " + api10.str[:2].fillna("")
        )
        bad_county = known & ~bad_state & (api10.str[2:5] == "000")
        log.add(bad_county, col, raw, None, "error", "API county code 000 does not exist")
        api10[bad_state | bad_county] = None


@hookimpl
def ogcrm_register_cleaners() -> list[type[Cleaner]]:
    return [ApiNumberCleaner]
