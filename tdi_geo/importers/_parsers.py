"""Pure parsers of cell text: codes (INSEE, SIREN), dates, amounts and yes/no values.

Each takes a pandas Series of cleaned text and returns the parsed values and a
mask (or reasons) of the cells it could not read; none of them raises on bad
input, and none of them knows about files or reports.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

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


#: Largest amount accepted in one cell, in euros. The programme's funding is
#: counted in billions for all territories together; ten billion euros in one
#: project's cell can only be a typing or unit error, and the bound keeps every
#: sum of amounts far below the int64 limit (9.2 × 10^18).
MAX_AMOUNT_EUR = 10_000_000_000
_AMOUNT_LIMIT = Decimal(MAX_AMOUNT_EUR)
#: Longest amount text read; no amount under the ceiling needs more characters.
_AMOUNT_CHARS = 40
_LONG_NUMBER = re.compile(r"\+?\d[\d\s.,]*")
_CURRENCY = re.compile(r"\s*(?:€|eur(?:os?)?)$", re.IGNORECASE)
_NON_FINITE = re.compile(r"[+\-\u2212]?(?:inf(?:ini(?:ty|te?))?|nan|∞|#(?:num|div/0|valeur|value)!?)", re.IGNORECASE)
#: Thousands grouped with spaces (regular, no-break, narrow no-break, thin, figure), then an optional decimal part.
_SPACE_GROUPS = re.compile(r"(\d{1,3}(?:[ \u00a0\u202f\u2009\u2007]\d{3})+)((?:[.,]\d+)?)")
_PLAIN = re.compile(r"\d+")
_SCIENTIFIC = re.compile(r"\d+(?:[.,]\d+)?[eE][+\-]?\d+")
_DECIMAL = re.compile(r"(\d+)([.,])(\d+)")
_DOTS_COMMA = re.compile(r"\d{1,3}(?:\.\d{3})+,\d+")
_COMMAS_DOT = re.compile(r"\d{1,3}(?:,\d{3})+\.\d+")
_DOT_GROUPS = re.compile(r"\d{1,3}(?:\.\d{3}){2,}")
_COMMA_GROUPS = re.compile(r"\d{1,3}(?:,\d{3}){2,}")

AMBIGUOUS = "ambigu"
NEGATIVE = "négatif"
NON_FINITE = "non fini"
TOO_LARGE = "trop grand"
UNREADABLE = "illisible"


def _amount_number(text: str) -> Decimal | str:
    """The unsigned number written in ``text``, or the reason it cannot be read."""
    grouped = _SPACE_GROUPS.fullmatch(text)
    if grouped:
        # Spaces group thousands (French style): the separator after them can only be the decimal one.
        digits = re.sub(r"\D", "", grouped.group(1))
        return Decimal(digits + grouped.group(2).replace(",", "."))
    if _PLAIN.fullmatch(text):
        return Decimal(text)
    if _SCIENTIFIC.fullmatch(text):
        return Decimal(text.replace(",", "."))
    decimal = _DECIMAL.fullmatch(text)
    if decimal:
        whole, _, fraction = decimal.groups()
        # « 1.250 » or « 1,250 »: a thousands separator or a decimal one? Nothing in the text tells.
        if len(fraction) == 3 and len(whole) <= 3 and not whole.startswith("0"):
            return AMBIGUOUS
        return Decimal(f"{whole}.{fraction}")
    if _DOTS_COMMA.fullmatch(text):
        return Decimal(text.replace(".", "").replace(",", "."))
    if _COMMAS_DOT.fullmatch(text) or _DOT_GROUPS.fullmatch(text) or _COMMA_GROUPS.fullmatch(text):
        return Decimal(text.replace(",", "").replace(".", "") if not _COMMAS_DOT.fullmatch(text)
                       else text.replace(",", ""))
    return UNREADABLE


def _amount(text: str) -> tuple[Decimal | None, str]:
    """The exact amount of one cell, or None and the reason it is refused."""
    text = _CURRENCY.sub("", text.strip()).strip()
    if not text:
        return Decimal(0), ""
    if len(text) > _AMOUNT_CHARS:
        # Not parsed at all: a long run of digits is a number too large, anything else unreadable.
        return None, TOO_LARGE if _LONG_NUMBER.fullmatch(text) else UNREADABLE
    if _NON_FINITE.fullmatch(text):
        return None, NON_FINITE
    negative = text[0] in "-\u2212"
    number = _amount_number(text[1:].lstrip() if text[0] in "+-\u2212" else text)
    if isinstance(number, str):
        return None, number
    if negative and number != 0:
        return None, NEGATIVE
    # Compared as an exact decimal, before any conversion to an integer type can overflow.
    if number > _AMOUNT_LIMIT:
        return None, TOO_LARGE
    return number, ""


def parse_amount(text: str) -> tuple[int | None, str]:
    """One amount cell → ``(euros, "")``, or ``(None, reason)`` when it is refused.

    Accepted: ``1250``, ``1 250`` (any space as thousands separator), ``1 250,50``,
    ``1.250,50``, ``1250.50``, ``1,250.50``, ``1.250.000``, ``1,5``, ``1,5E6``,
    with or without ``€``/``EUR``. An empty cell is 0 €. Cents are rounded to
    the nearest euro, half a euro upwards (``0,50`` → 1), since amounts are
    stored in whole euros.

    Reasons: :data:`AMBIGUOUS` (``1.250``, ``1,250``: thousands or decimals?),
    :data:`NEGATIVE`, :data:`NON_FINITE` (``inf``, ``nan``), :data:`TOO_LARGE`
    (over :data:`MAX_AMOUNT_EUR`), :data:`UNREADABLE`.
    """
    number, reason = _amount(text)
    return (None, reason) if number is None else (_whole_euros(number), "")


def _whole_euros(number: Decimal) -> int:
    """Rounded to the euro, half a euro upwards (the rule stated in docs/IMPORT.md)."""
    return int(number.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def read_amounts(s: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Amount cells → whole euros, the reason of each refused cell (``""`` if read), and which had cents."""
    exact = {text: _amount(text) for text in s.unique()}
    euros = {text: (_whole_euros(n) if n is not None else 0) for text, (n, _) in exact.items()}
    values = s.map(euros).astype("int64")
    reasons = s.map({text: reason for text, (_, reason) in exact.items()}).astype("str")
    rounded = s.map({text: n is not None and n != n.to_integral_value() for text, (n, _) in exact.items()})
    return values, reasons, rounded.astype(bool)


def parse_amounts(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Amount cells → whole euros; the second value flags refused cells (see :func:`parse_amount`)."""
    values, reasons, _ = read_amounts(s)
    return values, reasons != ""


def parse_bool(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``oui``/``non`` and their usual spellings → booleans; second value flags bad cells."""
    low = s.str.lower()
    return low.isin(_TRUE), ~(low.isin(_TRUE) | low.isin(_FALSE))
