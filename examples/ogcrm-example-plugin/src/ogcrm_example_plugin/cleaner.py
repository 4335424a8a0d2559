"""A cleaner for this source's quirk: the operator's OTC number written after its name,
``CEDAR MIDSTREAM INC (OTC 24155)``.

It keeps the cleaner contract: vectorized (pandas string methods, no Python loop per
row), a new frame rather than the input changed, every changed value reported with its
original, and a column added only because it derives a canonical value
(``operator_number``, which the merge uses to recognize the operator).
"""

from __future__ import annotations

import pandas as pd

from ogcrm import CleanContext, ColumnCleaner, IssueLog

_OTC = r"^(?P<name>.*?)\s*\(\s*OTC\s*#?\s*(?P<number>\d+)\s*\)\s*$"


class OtcOperatorCleaner(ColumnCleaner):
    name = "otc_operator"
    version = "1"
    kinds = ("name",)  # the kind of operator_name (``ogcrm fields``)

    def clean_column(
        self, raw: pd.Series, column: str, context: CleanContext, log: IssueLog
    ) -> dict[str, pd.Series]:
        if column != "operator_name":
            return {column: raw}
        parts = raw.str.extract(_OTC)
        found = parts["number"].notna()
        name = parts["name"].where(found, raw)
        log.add(found, column, raw, name, "fixed", "OTC operator number moved to operator_number")
        return {column: name, "operator_number": parts["number"].where(found, None)}
