"""Dates in whatever form the agency wrote them, to ISO ``YYYY-MM-DD``.

Read: ``YYYYMMDD``, ``YYYY-MM-DD`` (with or without a time and milliseconds),
``M/D/YYYY`` and ``MM/DD/YYYY`` (with or without a time), ``DD-Mon-YYYY`` (``07-OCT-2010``,
the default form of Oracle exports, which several agencies publish), ``YYYYMM`` and ``YYYY-MM``
(first of the month), ``YYYYQn`` (first month of the quarter), and Excel serial numbers
when the source says its dates are serials (``options.excel_dates``). Month fields keep
the first day of their month. One column may mix forms: values not in the column's most
common form are recorded as fixed. An impossible date (``20230231``) is an error; a date
in the future is a warning.

``M/D/YY`` (older agency extracts, spreadsheets saved by hand) is read with a sliding
century: a two-digit year up to ten years past this year is this century's, any other
the last one's (in 2026, ``1/2/36`` is 2036 and ``1/2/37`` 1937). The reading is a
guess, so every such value is recorded as fixed, naming the year it was read as, for
the reviewer to see; one read into the future also gets the far-future warning.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pandas as pd

from ogcrm import hookimpl
from ogcrm.pipeline.contracts import (
    CleanContext,
    Cleaner,
    ColumnCleaner,
    ColumnResult,
    IssueLog,
    map_distinct_columns,
)

_FORMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("YYYYMMDD", re.compile(r"(\d{4})(\d{2})(\d{2})")),
    ("YYYY-MM-DD", re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+)?Z?")),
    ("M/D/YYYY", re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?: [\d:]+(?: ?[AP]M)?)?")),
    ("M/D/YY", re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2})(?: [\d:]+(?: ?[AP]M)?)?")),
    ("DD-Mon-YYYY", re.compile(r"(\d{1,2})-([A-Z]{3})-(\d{4})")),
    ("YYYYMM", re.compile(r"(\d{4})(\d{2})")),
    ("YYYY-MM", re.compile(r"(\d{4})-(\d{1,2})")),
    ("YYYYQn", re.compile(r"(\d{4})Q([1-4])")),
    ("YYYY", re.compile(r"(\d{4})")),
)
_MONTHS = {
    name: n
    for n, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1
    )
}
_EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01 given Lotus' leap-year bug


#: How far past this year a two-digit year may be read into the future.
TWO_DIGIT_AHEAD = 10


def century_of(two_digits: int, today: dt.date) -> int:
    """The four-digit year of ``two_digits`` (sliding century, see the module)."""
    year = 2000 + two_digits
    return year if year <= today.year + TWO_DIGIT_AHEAD else year - 100


def parse_date(
    text: str, *, excel: bool = False, today: dt.date | None = None
) -> tuple[str | None, str, str | None]:
    """``(iso date or None, form, problem or None)`` for one value."""
    value = text.strip().upper()
    if excel and re.fullmatch(r"\d{1,5}(\.\d+)?", value):
        serial = float(value)
        return (_EXCEL_EPOCH + dt.timedelta(days=int(serial))).isoformat(), "excel serial", None
    for form, pattern in _FORMS:
        m = pattern.fullmatch(value)
        if not m:
            continue
        if form == "DD-Mon-YYYY":
            month = _MONTHS.get(m.group(2))
            if month is None:
                return None, form, f"not a date: {text.strip()!r} (unknown month)"
            g = [int(m.group(3)), month, int(m.group(1))]
        else:
            g = [int(x) for x in m.groups()]
        try:
            if form == "M/D/YYYY":
                day = dt.date(g[2], g[0], g[1])
            elif form == "M/D/YY":
                day = dt.date(century_of(g[2], today or dt.date.today()), g[0], g[1])
            elif form in ("YYYYMM", "YYYY-MM"):
                day = dt.date(g[0], g[1], 1)
            elif form == "YYYYQn":
                day = dt.date(g[0], 3 * g[1] - 2, 1)
            elif form == "YYYY":
                day = dt.date(g[0], 1, 1)
            else:
                day = dt.date(g[0], g[1], g[2])
        except ValueError:
            return None, form, f"impossible date {text.strip()!r}"
        if day.year < 1800:
            return None, form, f"date {text.strip()!r} is before 1800"
        return day.isoformat(), form, None
    return None, "unknown", f"not a date: {text.strip()!r}"


class DateCleaner(ColumnCleaner):
    name = "dates"
    kinds = ("date", "month", "year")

    def clean_column(
        self, raw: pd.Series, col: str, context: CleanContext, log: IssueLog
    ) -> ColumnResult:
        excel = bool(context.options.get("excel_dates"))
        today = dt.date.today()
        horizon = (today + dt.timedelta(days=366)).isoformat()
        kind = context.kinds[col]
        iso, form, problem = map_distinct_columns(
            raw, lambda v: parse_date(str(v), excel=excel, today=today), 3
        )
        present = raw.notna()
        bad = present & problem.notna()
        log.add(bad, col, raw, None, "error", problem)
        good = present & ~bad
        guessed = good & (form == "M/D/YY")
        log.add(guessed, col, raw, iso, "fixed", "two-digit year read as " + iso.str[:4])
        if good.any():
            dominant = Counter(form[good]).most_common(1)[0][0]
            minority = good & (form != dominant) & ~guessed
            log.add(
                minority,
                col,
                raw,
                iso,
                "fixed",
                "written as " + form.fillna("") + f"; the column is mostly {dominant}",
            )
        future = good & (iso > horizon)
        log.add(future, col, raw, iso, "warning", "date is more than a year in the future")
        if kind == "month":
            iso = iso.str[:8] + "01"
        elif kind == "year":
            iso = iso.str[:4]
        return iso.where(good, None)


@hookimpl
def ogcrm_register_cleaners() -> list[type[Cleaner]]:
    return [DateCleaner]
