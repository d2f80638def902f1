"""Pure parsers of cell text: codes (INSEE, SIREN), dates, amounts and yes/no values.

Each takes a pandas Series of cleaned text and returns the parsed values and a
mask (or reasons) of the cells it could not read; none of them raises on bad
input, and none of them knows about files or reports.
"""

from __future__ import annotations

import pandas as pd

_TRUE = {"true", "1", "oui", "yes", "vrai", "x", "o", "y"}
_FALSE = {"false", "0", "non", "no", "faux", "n", ""}


def numeric_text(s: pd.Series) -> pd.Series:
    """Undo spreadsheet number formatting: ``1001.0`` → ``1001``, ``2.00000172E8`` → ``200000172``."""
    s = s.str.replace(r"[\s\u202f\xa0]", "", regex=True)
    s = s.str.replace(r"^(\d+)[.,]0+$", r"\1", regex=True)
    sci = s.str.fullmatch(r"\d+(?:[.,]\d+)?[eE]\+?\d+")
    if sci.any():
        values = pd.to_numeric(s[sci].str.replace(",", "."), errors="coerce")
        s = s.copy()
        s[sci] = values.map(lambda v: str(int(round(v))) if pd.notna(v) else "")
    return s


def pad_codes(s: pd.Series, width: int) -> tuple[pd.Series, int]:
    """Restore leading zeros lost by spreadsheets; returns the codes and how many were padded.

    Only all-digit codes are padded, so Corsican codes (``2A004``) are kept.
    """
    s = numeric_text(s).str.upper()
    short = s.str.fullmatch(r"\d+") & (s.str.len() < width)
    return s.where(~short, s.str.zfill(width)), int(short.sum())


def parse_dates(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """ISO (``2019-09-24``) or French (``24/09/2019``) dates → ISO text; second value flags bad cells."""
    out = pd.Series("", index=s.index, dtype="str")
    text = s.str.slice(0, 10).where(s.str.match(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?$"), s)
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        todo = (out == "") & (text != "")
        if not todo.any():
            break
        parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        ok = parsed.notna()
        out.loc[ok[ok].index] = parsed[ok].dt.strftime("%Y-%m-%d")
    bad = (out == "") & (s != "")
    return out, bad


def parse_amounts(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """French amounts (``1 234 567,50 €``) → integer euros; second value flags bad cells."""
    text = s.str.replace(r"[\s\u202f\xa0€]|eur(os?)?$", "", regex=True, case=False)
    with_comma = text.str.contains(",", regex=False)
    text = text.where(~with_comma, text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    values = pd.to_numeric(text.replace("", "0"), errors="coerce")
    bad = values.isna() | (values < 0)
    return values.fillna(0).round().astype("int64"), bad


def parse_bool(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``oui``/``non`` and their usual spellings → booleans; second value flags bad cells."""
    low = s.str.lower()
    return low.isin(_TRUE), ~(low.isin(_TRUE) | low.isin(_FALSE))
