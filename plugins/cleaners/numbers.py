"""Numbers and units: thousands separators, e-notation, sentinels, units in the header.

Numeric columns come out as floats (empty as NaN). ``1,854,885`` loses its separators
(recorded as fixed; e-notation such as DBF's ``1.25000000000e+001`` is just a way of
writing a number and is read silently); ``-1``, ``-999`` and
``-9999`` are the agencies' "unknown" and become empty (fixed); any other negative
volume or depth is an error (the database refuses them too). A column whose header or
mapping names a unit other than the field's base unit (``MBBL``, ``MMCF``, ``thousand
barrels``, metres) is converted, each value recorded. ``days_produced`` of 99 is New
Mexico's "unknown" and more than 31 is impossible.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ogcrm import hookimpl
from ogcrm.pipeline.contracts import CleanContext, Cleaner, ColumnCleaner, ColumnResult, IssueLog

#: Multipliers to the field's base unit (bbl, mcf, ft).
UNITS: dict[str, float] = {
    "BBL": 1.0,
    "MBBL": 1_000.0,
    "THOUSAND BARRELS": 1_000.0,
    "MMBBL": 1_000_000.0,
    "MILLION BARRELS": 1_000_000.0,
    "MCF": 1.0,
    "CF": 0.001,
    "MMCF": 1_000.0,
    "BCF": 1_000_000.0,
    "FT": 1.0,
    "M": 3.280839895,
}
SENTINELS = (-1.0, -99.0, -999.0, -9999.0, -99999.0)
_THOUSANDS = r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?"


class NumberCleaner(ColumnCleaner):
    name = "numbers"
    kinds = ("number", "integer")

    def clean_column(
        self, raw: pd.Series, col: str, context: CleanContext, log: IssueLog
    ) -> ColumnResult:
        if pd.api.types.is_numeric_dtype(raw):
            return raw
        text = raw
        grouped = raw.str.fullmatch(_THOUSANDS, na=False)
        if grouped.any():
            text = raw.where(~grouped, raw.str.replace(",", "", regex=False))
            log.add(grouped, col, raw, text, "fixed", "thousands separators removed")
        values = pd.to_numeric(text, errors="coerce")
        present = raw.notna()
        bad = present & values.isna()
        log.add(bad, col, raw, None, "error", "not a number")
        sentinel = values.isin(SENTINELS)
        log.add(sentinel, col, raw, None, "fixed", "negative sentinel read as unknown")
        values = values.mask(sentinel)
        negative = values < 0
        log.add(negative, col, raw, None, "error", "cannot be negative")
        values = values.mask(negative)
        unit = (context.units.get(col) or "").upper()
        factor = UNITS.get(unit)
        if factor is not None and factor != 1.0:
            converted = values * factor
            log.add(values.notna(), col, raw, converted, "fixed", f"converted from {unit}")
            values = converted
        if context.kinds[col] == "integer":
            if col == "days_produced":
                unknown = values == 99
                log.add(unknown, col, raw, None, "fixed", "99 means unknown days")
                values = values.mask(unknown)
                impossible = values > 31
                log.add(impossible, col, raw, None, "error", "more than 31 days in a month")
                values = values.mask(impossible)
            fraction = values.notna() & (np.floor(values) != values)
            log.add(fraction, col, raw, values.round(), "warning", "rounded to a whole number")
            values = values.round()
        return values.astype("float64")


@hookimpl
def ogcrm_register_cleaners() -> list[type[Cleaner]]:
    return [NumberCleaner]
