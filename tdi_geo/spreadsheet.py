"""Text cells that a spreadsheet would run as formulas (« CSV injection »).

One rule for everything tdi-geo writes as CSV — imported datasets and
exports alike: a text cell starting with ``= + - @``, a tab or a carriage
return is prefixed with ``'`` so that no spreadsheet executes it. Plain
numbers (``-12``, ``+3,5``) are left as they are.
"""

from __future__ import annotations

import re

import pandas as pd

#: Cells starting with one of these are run as formulas by spreadsheet programs.
FORMULA_START = re.compile(r"^[=+\-@\t\r]")
_NUMBER = re.compile(r"^[+-]?\d+([.,]\d+)?$")


def formula_like(series: pd.Series) -> pd.Series:
    """Boolean mask of the text cells a spreadsheet would run as formulas."""
    text = series.astype("str")
    return (text.str.match(FORMULA_START) & ~text.str.match(_NUMBER)).fillna(False).astype(bool)


def neutralise_text(series: pd.Series) -> pd.Series:
    """The series with every formula-like text cell prefixed with ``'``."""
    risky = formula_like(series)
    if not risky.any():
        return series
    return series.where(~risky, "'" + series.astype("str"))


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text columns are neutralised."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = neutralise_text(out[col])
    return out
