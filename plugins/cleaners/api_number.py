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

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from ogcrm_plugins.cleaners._arrow import as_arrow_text
from ogcrm_plugins.cleaners._reference import USPS_TO_API_STATE, VALID_API_STATES

from ogcrm import hookimpl
from ogcrm.pipeline.contracts import CleanContext, Cleaner, IssueLog, map_distinct_columns

_EXCEL_RE = re.compile(r"\d(?:\.\d+)?[eE]\+?\d{1,2}|\d+\.0*")
_NON_DIGITS = re.compile(r"[^0-9]+")  # ASCII digits only: API numbers are stored as such
_DROP_ASCII_NON_DIGITS = {c: None for c in range(128) if not chr(c).isdigit()}
#: dashes and blanks between the parts of a written number (42-003-12345, 42 003 12345)
_DASHES = re.compile(r"[-\s]")


def _undashed(value: Any) -> str:
    """A written number without its dashes and blanks ("" for no value)."""
    if value.__class__ is not str:
        return ""
    plain = value.replace("-", "")
    return plain if plain.isdigit() else _DASHES.sub("", value)


def _known_whole(plain: str) -> bool:
    """10, 12 or 14 ASCII digits (state, county, well, then sidetrack and event) of a
    known state and a real county: read as written."""
    return (
        len(plain) in (10, 12, 14)
        and plain[:2] in VALID_API_STATES
        and plain[2:5] != "000"
        and plain.isascii()
        and plain.isdigit()
    )


def _known_whole_with(state: str) -> Callable[[str], bool]:
    """As :func:`_known_whole`, for a source whose 10 digits may lack the state code
    (Colorado: county, well, sidetrack): those are read by :func:`read_api`."""

    def known(plain: str) -> bool:
        return _known_whole(plain) and not (len(plain) == 10 and plain[:2] != state)

    return known


def _common_python(
    raw: pd.Series, state: str | None, state_implied: bool
) -> tuple[np.ndarray, list[str], list[str | None]]:
    """Which values are whole numbers of a known state and county (see
    :func:`_known_whole`), with their API-10 and API-14, value by value."""
    plain = list(map(_undashed, raw.tolist()))
    known = _known_whole if not state or state_implied else _known_whole_with(state)
    common = np.fromiter(map(known, plain), dtype=bool, count=len(plain))
    whole = [plain[i] for i in np.flatnonzero(common)]
    api14 = [w if len(w) == 14 else w + "00" if len(w) == 12 else None for w in whole]
    return common, [w[:10] for w in whole], api14


_VALID_STATES = pa.array(sorted(VALID_API_STATES))


def _common_arrow(
    raw: pd.Series, state: str | None, state_implied: bool
) -> tuple[np.ndarray, list[str], list[str | None]] | None:
    """The same in Arrow's kernels, for a column of text (None for anything else).

    RE2's ``\\s`` is ASCII white space where Python's is Unicode's: a value holding other
    blanks is not taken here, and :func:`read_api` reads it to the same result."""
    text = as_arrow_text(raw)
    if text is None:
        return None
    plain = pc.replace_substring_regex(text, r"[-\s]", "")
    width = pc.utf8_length(plain)
    prefix = pc.utf8_slice_codeunits(plain, 0, 2)
    known = pc.and_(
        pc.and_(
            pc.match_substring_regex(plain, r"^[0-9]+$"), pc.is_in(width, pa.array([10, 12, 14]))
        ),
        pc.and_(
            pc.is_in(prefix, _VALID_STATES.cast(prefix.type)),
            pc.not_equal(pc.utf8_slice_codeunits(plain, 2, 5), "000"),
        ),
    )
    if state and not state_implied:  # ten digits not of the source's state: county first
        known = pc.and_(known, pc.invert(pc.and_(pc.equal(width, 10), pc.not_equal(prefix, state))))
    common = pc.fill_null(known, False)
    whole = pc.filter(plain, common)
    wide = pc.filter(width, common)
    api14 = pc.if_else(
        pc.equal(wide, 14),
        whole,
        pc.if_else(
            pc.equal(wide, 12),
            pc.binary_join_element_wise(
                whole, pa.scalar("00", whole.type), pa.scalar("", whole.type)
            ),
            pa.scalar(None, whole.type),
        ),
    )
    return (
        common.to_numpy(zero_copy_only=False),
        pc.utf8_slice_codeunits(whole, 0, 10).to_pylist(),
        api14.to_pylist(),
    )


_PART_WIDTHS = {"api_state": 2, "api_county": 3, "api_well": 5, "api_sidetrack": 2}


def read_api(
    text: str, state: str | None, *, state_implied: bool = False
) -> tuple[str | None, str | None, str | None, str | None]:
    """``(api10, api14, severity, message)`` for one written API number.

    ``state`` is the source's API state code; ``state_implied`` says the column holds
    county + well only (Texas RRC's 8 digits), so adding the state is no correction.
    """
    value = text.strip()
    fixed: str | None = None
    if ("." in value or "E" in value or "e" in value) and _EXCEL_RE.fullmatch(value):
        value = str(int(float(value)))
        fixed = "written as a spreadsheet number"
    digits = value.translate(_DROP_ASCII_NON_DIGITS)
    if not digits.isascii() or not digits.isdigit():
        digits = _NON_DIGITS.sub("", digits)
    n = len(digits)
    api14: str | None = None
    if state and not state_implied and n == 10 and not digits.startswith(state):
        # Colorado's API column: county + well + sidetrack, without the state code
        api10, api14 = state + digits[:8], state + digits + "00"
        fixed = f"state code {state} added (county, well, sidetrack)"
    elif n in (10, 12, 14):
        api10 = digits[:10]
        api14 = digits if n == 14 else digits + "00" if n == 12 else None
    elif state and n in (6, 7, 8):
        api10 = state + digits.zfill(8)
        if n < 8:
            fixed = "leading zeros restored; state code implied by the source"
        elif not state_implied:
            fixed = f"state code {state} implied by the source"
    else:
        expected = "expected 10, 12 or 14" + ("" if state else " (or 8 with the state known)")
        return None, None, "error", f"API number has {n} digits; {expected}"
    if api10[:2] not in VALID_API_STATES:
        return None, None, "error", f"unknown API state code {api10[:2]}"
    if api10[2:5] == "000":
        return None, None, "error", "API county code 000 does not exist"
    return api10, api14, "fixed" if fixed else None, fixed


class ApiNumberCleaner(Cleaner):
    name = "api_number"
    kinds = ("api", "api_state", "api_county", "api_well", "api_sidetrack", "api_county_sequence")

    def clean(
        self, frame: pd.DataFrame, context: CleanContext
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        out = frame.copy(deep=False)  # copy-on-write: the caller's frame stays as it was
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
        if "api" not in columns and "api_county_sequence" not in columns:
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
        # Most values are already whole numbers (dashed or not) of a known state and
        # county: read those in one pass (Arrow's kernels for a column of text, else
        # Python), and only the rest one distinct value at a time.
        found = _common_arrow(raw, state, state_implied)
        common, whole10, whole14 = found or _common_python(raw, state, state_implied)
        rest = raw[~common]
        api10, api14, severity, message = map_distinct_columns(
            rest, lambda v: read_api(str(v), state, state_implied=state_implied), 4
        )
        at = raw.index[np.flatnonzero(common)]
        api10 = pd.concat([pd.Series(whole10, index=at, dtype=object), api10]).reindex(raw.index)
        api14 = pd.concat([pd.Series(whole14, index=at, dtype=object), api14]).reindex(raw.index)
        severity = severity.reindex(raw.index)
        message = message.reindex(raw.index)
        for level in ("fixed", "error"):
            log.add(
                severity == level, col, raw, api10 if level == "fixed" else None, level, message
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
