"""The whitespace cleaner's two paths (Arrow kernels for text columns, Python for
columns of mixed objects) clean every value alike: what a user sees does not depend on
which reader made the column."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from ogcrm_plugins.cleaners._arrow import as_arrow_text as _as_arrow_text
from ogcrm_plugins.cleaners.whitespace import WhitespaceCleaner, _clean_arrow, _clean_python

from ogcrm.pipeline.contracts import CleanContext

_VALUE = st.one_of(
    st.none(),
    st.sampled_from(["NULL", " n/a ", "Null", "NR", "0", "*****", "**", "a*b", "", "  "]),
    st.text(alphabet=" \t\r\n\x0b\x0c\x1c\x1f\x85\xa0\u2003\u3000ab*NUL", max_size=8),
)


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(_VALUE, min_size=1, max_size=30),
    kind=st.sampled_from(["text", "date", "code", "api"]),
)
def test_both_paths_clean_alike(values, kind):
    column = pd.Series(values, dtype=object)
    text = _as_arrow_text(column)
    assert text is not None
    fast = _clean_arrow(text, kind)
    slow = _clean_python(column, kind)
    for a, b in zip(fast, slow, strict=True):
        assert a.tolist() == b.tolist()


def test_a_column_of_numbers_and_text_takes_the_python_path():
    column = pd.Series(["  ACME ", 12, None, "NULL"], dtype=object)
    assert _as_arrow_text(column) is None
    out, issues = WhitespaceCleaner().clean(pd.DataFrame({"name": column}), CleanContext())
    assert out["name"].tolist() == ["ACME", None, None, None]
    assert issues["message"].tolist() == ["missing-value code read as empty"]


def test_an_arrow_backed_column_is_cleaned_and_its_changes_recorded():
    column = pd.Series([" ACME  OIL ", "N/A", "Beta\nGas", "", "*****"], dtype="str")
    frame = pd.DataFrame({"operator_name": column})
    out, issues = WhitespaceCleaner().clean(frame, CleanContext(kinds={"operator_name": "name"}))
    assert out["operator_name"].tolist() == ["ACME OIL", None, "Beta Gas", None, None]
    assert out["operator_name"].dtype == np.dtype(object)
    assert sorted(zip(issues["row"], issues["message"], strict=True)) == [
        (0, "repeated blanks or line breaks collapsed"),
        (1, "missing-value code read as empty"),
        (2, "repeated blanks or line breaks collapsed"),
        (4, "missing-value code read as empty"),
    ]
