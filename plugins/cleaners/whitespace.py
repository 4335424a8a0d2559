"""Whitespace and missing-value codes: the first cleaner in every chain.

Padding is trimmed silently (formatting, not content). Runs of blanks and line breaks
inside text are collapsed, and agencies' missing-value codes (``NULL``, ``N/A``, ``NR``,
``UNK``, ``Not Applicable``, ``*****``...) become empty; both are recorded. Codes (lease blocks such
as ``WD   31``) keep their inner blanks: there the spacing is part of the value.
"""

from __future__ import annotations

import pandas as pd

from ogcrm import hookimpl
from ogcrm.pipeline.contracts import CleanContext, Cleaner, IssueLog

#: Read as "no value" in any column.
NULL_TOKENS = frozenset(
    {"NULL", "N/A", "#N/A", "NONE", "NAN", "NOT APPLICABLE", "NOT AVAILABLE", "-", "--", "?"}
)
#: Also "no value", except in code columns where they may be real codes.
SOFT_NULL_TOKENS = frozenset({"NA", "NR", "UNK", "UNKNOWN", "N.A."})
#: Also "no date" in date columns.
DATE_NULL_TOKENS = frozenset({"00000000", "0", "000000", "0000-00-00"})

_RUNS = r"\s{2,}|[\t\r\n\x0b\x0c\x85]"


class WhitespaceCleaner(Cleaner):
    name = "whitespace"
    kinds = ()  # every column

    def clean(
        self, frame: pd.DataFrame, context: CleanContext
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        out = frame.copy()
        log = IssueLog(self.name)
        for column in out.columns:
            values = out[column]
            if pd.api.types.is_numeric_dtype(values):
                continue
            kind = context.kinds.get(column, "text")
            stripped = values.str.strip()  # readers give str or None (the contract)
            inner = stripped.str.contains(_RUNS, regex=True, na=False)
            if kind not in ("code", "api", "zip") and inner.any():
                collapsed = stripped.where(~inner, stripped.str.replace(r"\s+", " ", regex=True))
                log.add(
                    inner,
                    column,
                    values,
                    collapsed,
                    "fixed",
                    "repeated blanks or line breaks collapsed",
                )
                stripped = collapsed
            upper = stripped.str.upper()
            tokens = NULL_TOKENS if kind == "code" else NULL_TOKENS | SOFT_NULL_TOKENS
            if kind in ("date", "month"):
                tokens = tokens | DATE_NULL_TOKENS
            # a run of asterisks is a spreadsheet's "value too wide to show"
            is_token = upper.isin(tokens) | upper.str.fullmatch(r"\*+", na=False)
            log.add(
                is_token,
                column,
                values,
                None,
                "fixed",
                "missing-value code read as empty",
            )
            empty = is_token | (stripped == "")
            out[column] = stripped.where(~empty, None)
        return out, log.frame()


@hookimpl
def ogcrm_register_cleaners() -> list[type[Cleaner]]:
    return [WhitespaceCleaner]
