"""Property tests of the cell parsers: amounts, dates and codes (issue 8).

Any amount under the ceiling, written in any accepted French or English
style, reads back as the same number of euros; any text at all is either
read or refused with a reason that has a French message, never an
exception; dates round-trip in every accepted format; codes that lost their
leading zeros in a spreadsheet get them back.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tdi_geo.importers._checks import pad_codes, parse_amounts, parse_dates
from tdi_geo.importers._parsers import (
    AMBIGUOUS,
    MAX_AMOUNT_EUR,
    NEGATIVE,
    NON_FINITE,
    TOO_LARGE,
    parse_amount,
)
from tdi_geo.importers._tracking_checks import _AMOUNT_MESSAGES

SPACES = [" ", "\u00a0", "\u202f", "\u2009"]


def _grouped(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


def _styles(n: int) -> list[str]:
    """``n`` euros written every accepted way (none of them ambiguous)."""
    styles = [str(n), f"{n},00", f"{n}.00", f"{_grouped(n, '.')},00", f"{_grouped(n, ',')}.00"]
    styles += [_grouped(n, space) for space in SPACES] + [f"{_grouped(n, ' ')},00"]
    if n >= 1_000_000:  # two groups or more: a dot or a comma can only separate thousands
        styles += [_grouped(n, "."), _grouped(n, ",")]
    return styles


@settings(max_examples=300, deadline=None)
@given(n=st.integers(min_value=0, max_value=MAX_AMOUNT_EUR), style=st.integers(min_value=0, max_value=20),
       currency=st.sampled_from(["", " €", "€", " EUR", " euros"]))
@example(n=1250, style=0, currency="")
@example(n=MAX_AMOUNT_EUR, style=3, currency=" €")
def test_any_amount_under_the_ceiling_round_trips_in_every_style(n, style, currency):
    styles = _styles(n)
    text = styles[style % len(styles)] + currency
    assert parse_amount(text) == (n, ""), text


@settings(max_examples=200, deadline=None)
@given(euros=st.integers(min_value=0, max_value=MAX_AMOUNT_EUR - 1), cents=st.integers(min_value=0, max_value=99))
def test_cents_are_rounded_half_up_to_the_euro(euros, cents):
    expected = euros + (1 if cents >= 50 else 0)
    assert parse_amount(f"{_grouped(euros, ' ')},{cents:02d}") == (expected, "")
    assert parse_amount(f"{euros}.{cents:02d}") == (expected, "")


@settings(max_examples=200, deadline=None)
@given(n=st.integers(min_value=MAX_AMOUNT_EUR + 1, max_value=10**40))
def test_amounts_over_the_ceiling_are_refused_never_wrapped(n):
    assert parse_amount(str(n)) == (None, TOO_LARGE)
    assert parse_amount(f"{n:.3e}") in ((None, TOO_LARGE), (MAX_AMOUNT_EUR, ""))


@settings(max_examples=100, deadline=None)
@given(n=st.integers(min_value=1, max_value=MAX_AMOUNT_EUR))
def test_negative_amounts_are_refused(n):
    assert parse_amount(f"-{n}") == (None, NEGATIVE)
    assert parse_amount(f"\u2212{_grouped(n, ' ')}") == (None, NEGATIVE)


@pytest.mark.parametrize("text", ["1.250", "1,250", "12.500", "999,999"])
def test_ambiguous_amounts_are_refused(text):
    assert parse_amount(text) == (None, AMBIGUOUS)


@pytest.mark.parametrize("text", ["inf", "-inf", "Infinity", "nan", "NaN", "∞"])
def test_non_finite_amounts_are_refused(text):
    assert parse_amount(text) == (None, NON_FINITE)


@settings(max_examples=500, deadline=None)
@given(text=st.text(max_size=60) | st.from_regex(r"[-+\s0-9.,eE€]{0,30}", fullmatch=True))
def test_any_text_is_read_or_refused_with_a_french_reason(text):
    euros, reason = parse_amount(text)
    if euros is None:
        assert reason in _AMOUNT_MESSAGES
    else:
        assert reason == "" and 0 <= euros <= MAX_AMOUNT_EUR
    values, bad = parse_amounts(pd.Series([text], dtype="str"))
    assert bool(bad.iloc[0]) == (euros is None) and values.dtype == "int64"


DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d 00:00:00", "%Y-%m-%dT12:30"]


@settings(max_examples=300, deadline=None)
@given(day=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)),
       fmt=st.sampled_from(DATE_FORMATS))
def test_dates_round_trip_in_every_accepted_format(day, fmt):
    dates, bad = parse_dates(pd.Series([day.strftime(fmt)], dtype="str"))
    assert dates.tolist() == [day.isoformat()] and not bad.any()


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=30))
def test_any_text_as_a_date_is_read_or_flagged(text):
    dates, bad = parse_dates(pd.Series([text], dtype="str"))
    value = dates.iloc[0]
    if bad.iloc[0]:
        assert value == ""
    elif value:
        assert dt.date.fromisoformat(value)
    else:
        assert text == ""


@settings(max_examples=300, deadline=None)
@given(code=st.integers(min_value=1, max_value=99_999), width=st.sampled_from([5, 9]),
       spreadsheet=st.sampled_from(["int", "float", "comma", "scientific"]))
def test_codes_that_lost_their_leading_zeros_get_them_back(code, width, spreadsheet):
    if width == 9:
        code *= 10_000
    original = str(code).zfill(width)
    shown = {"int": str(code), "float": f"{code}.0", "comma": f"{code},0", "scientific": f"{code:.8E}"}[spreadsheet]
    padded, count = pad_codes(pd.Series([shown], dtype="str"), width)
    assert padded.tolist() == [original]
    assert count == (1 if len(str(code)) < width else 0)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=20))
def test_any_text_as_a_code_never_raises(text):
    padded, _ = pad_codes(pd.Series([text], dtype="str"), 5)
    assert len(padded) == 1


@pytest.mark.parametrize("code", ["2A004", "2b010", "97101"])
def test_corsican_and_overseas_codes_are_kept(code):
    assert pad_codes(pd.Series([code], dtype="str"), 5)[0].tolist() == [code.upper()]
