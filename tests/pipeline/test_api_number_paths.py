"""The API number cleaner's common shapes are read in Arrow's kernels for a column of
text and in Python for anything else; both take the same values, to the same API-10 and
API-14."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ogcrm_plugins.cleaners import api_number
from ogcrm_plugins.cleaners.api_number import ApiNumberCleaner, _common_arrow, _common_python

from ogcrm.pipeline.contracts import CleanContext

_API = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "42-003-12345", "4200312345", "420031234500", "42003123450000", "00312345",
            "05-123-31642", "0512331642", "42-000-12345", "99-003-12345", "42 003 12345",
            "42\xa0003\xa012345", "4.2003E+09", "42003123450.0", "", "  ", "42-003-1234X",
        ]
    ),
    st.text(alphabet="0123456789- \t\xa0", min_size=0, max_size=16),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(values=st.lists(_API, min_size=1, max_size=25), state=st.sampled_from([None, "TX", "CO"]))
def test_the_cleaner_gives_the_same_on_both_paths(values, state):
    """What the user sees: API-10, API-14 and every issue. (A value with other blanks
    than ASCII's is not taken by Arrow's common path; read one by one, it comes out the
    same.)"""
    frame = pd.DataFrame({"api": pd.Series(values, dtype=object)})
    context = CleanContext(kinds={"api": "api"}, state=state)
    fast = ApiNumberCleaner().clean(frame, context)
    original = api_number._common_arrow
    try:
        api_number._common_arrow = lambda *args: None
        slow = ApiNumberCleaner().clean(frame, context)
    finally:
        api_number._common_arrow = original
    pd.testing.assert_frame_equal(fast[0], slow[0])
    pd.testing.assert_frame_equal(fast[1], slow[1])


@settings(max_examples=100, deadline=None)
@given(values=st.lists(_API, min_size=1, max_size=25), state=st.sampled_from([None, "42", "05"]),
       implied=st.booleans())  # fmt: skip
def test_ascii_values_are_taken_alike(values, state, implied):
    raw = pd.Series([v for v in values if v is None or "\xa0" not in v] or [None], dtype=object)
    fast, slow = _common_arrow(raw, state, implied), _common_python(raw, state, implied)
    assert fast is not None
    assert (fast[0].tolist(), fast[1:]) == (slow[0].tolist(), slow[1:])


@pytest.mark.parametrize("dtype", ["str", object])
def test_a_text_column_is_read_by_arrow_whatever_its_dtype(dtype):
    raw = pd.Series(["42-003-12345", None, "420031234500"], dtype=dtype)
    common, api10, api14 = _common_arrow(raw, "42", False)
    assert common.tolist() == [True, False, True]
    assert (api10, api14) == (["4200312345", "4200312345"], [None, "42003123450000"])


def test_a_column_of_numbers_is_left_to_python():
    assert _common_arrow(pd.Series([4200312345, "42-003-12345"], dtype=object), "42", False) is None
