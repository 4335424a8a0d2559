"""Helpers shared by the built-in cleaners that work in Arrow's kernels.

Private to ``ogcrm_plugins.cleaners``; third-party cleaners depend only on the plugin
contract (``ogcrm.pipeline.contracts``), not on this module.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa


def as_arrow_text(values: pd.Series) -> pa.Array | None:
    """The column as one Arrow text array (zero-copy from pandas' Arrow strings), or None
    when it holds anything but text and missing values (the caller's Python path)."""
    try:
        array = pa.array(values, from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):
        return None
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_null(array.type):
        return array.cast(pa.large_string())
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        return array
    return None
