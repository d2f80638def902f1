"""French formatting of numbers, amounts, indicator values and dates (no map code).

Every number a user reads on the map, in the panels or in the CLI's French
output goes through these functions, so one rule decides how it looks.
"""

from __future__ import annotations

import math

import pandas as pd

from tdi_geo.indicators import INDICATORS
from tdi_geo.programme import STATUSES

#: Text shown for a missing value, in tooltips, legends and panels.
NO_DATA_LABEL = "Pas de donnée"


def format_number(value, decimals: int = 0) -> str:
    """French number formatting: ``1234567.8`` → ``"1 234 567,8"`` (narrow spaces)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)) or pd.isna(value):
        return NO_DATA_LABEL
    text = f"{float(value):,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",")


def format_value(value, indicator: str) -> str:
    """An indicator value as French text with its unit (``"1,2 M€"``, ``"3 projets"``)."""
    spec = INDICATORS[indicator]
    if spec["kind"] == "ordinal":
        return NO_DATA_LABEL if value is None or pd.isna(value) else str(int(value))
    if spec["kind"] == "categorical":
        if value is None or pd.isna(value):
            return NO_DATA_LABEL
        return STATUSES.get(value, str(value))
    if value is None or pd.isna(value):
        return NO_DATA_LABEL
    unit = spec["unit"]
    if unit == "€":
        return format_euros(value)
    if unit == "€/hab.":
        return f"{format_number(value, 2)} €/hab."
    count = int(round(float(value)))
    word = unit if unit else ""
    if word == "projets" and count <= 1:
        word = "projet"
    return f"{format_number(count)} {word}".strip()


def format_euros(value) -> str:
    """Euros with a readable scale: ``108000000`` → ``"108 M€"``, ``450000`` → ``"450 k€"``."""
    if value is None or pd.isna(value):
        return NO_DATA_LABEL
    value = float(value)
    if abs(value) >= 1e6:
        decimals = 0 if abs(value) >= 1e8 else 1
        return f"{format_number(value / 1e6, decimals)} M€"
    if abs(value) >= 1e3:
        return f"{format_number(value / 1e3, 0)} k€"
    return f"{format_number(value, 0)} €"


def format_date(date: str) -> str:
    """An ISO date as French users write it.

    Examples
    --------
    >>> format_date("2019-09-24")
    '24/09/2019'
    """
    y, m, d = str(date)[:10].split("-")
    return f"{d}/{m}/{y}"
