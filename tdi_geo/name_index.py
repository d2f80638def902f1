"""Names as people type them: one normal form, and a prefix index over every word.

:func:`normalise` removes accents, case, hyphens and apostrophes, reads
« St »/« Ste » as « Saint »/« Sainte » and drops a leading article (the
reference stores « Havre », people type « Le Havre »). :func:`build_index`
puts every word suffix of every name into one sorted array, so a prefix of
the whole name or of any of its words is two binary searches
(:func:`search_names`), fast enough to answer every keystroke.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

#: Match levels, best first: a code (found by the caller), the exact name, a
#: prefix of the name, a prefix of one of its words, every typed word as a
#: word prefix, a substring.
CODE, EXACT, PREFIX, WORD, ALL_WORDS, SUBSTRING = range(6)
#: Sorts after every character a normalised key holds ([a-z0-9 ]): ``[q, q + END)`` is "starts with q".
END = "\x7f"

_LIGATURES = {"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"}
_SAINTS = {r"\bst\b": "saint", r"\bste\b": "sainte", r"\bsts\b": "saints", r"\bstes\b": "saintes"}
_ACCENTS = "[\u0300-\u036f]"  # combining marks, once NFKD has split « é » into « e » + « ́ »
_SEPARATORS = r"[^a-z0-9]+"  # anything else (’, -, «, a non-Latin letter) separates words
_ARTICLE = r"^(?:le|la|les|l) "


def normalise_column(values: pd.Series, saints: bool = True) -> pd.Series:
    """:func:`normalise` over a column, vectorised (the indexes are built with it)."""
    out = values.astype(str)
    for char, repl in _LIGATURES.items():
        out = out.str.replace(char, repl, regex=False)
    out = out.str.normalize("NFKD").str.replace(_ACCENTS, "", regex=True).str.lower()
    out = out.str.replace(_SEPARATORS, " ", regex=True).str.strip()
    if saints:
        for pattern, repl in _SAINTS.items():
            out = out.str.replace(pattern, repl, regex=True)
    return out.str.replace(_ARTICLE, "", regex=True)


def normalise(text: str, saints: bool = True) -> str:
    """The form in which names are compared (the same rules as the indexes, for one string).

    Examples
    --------
    >>> normalise("Saint-Martin-d'Hères")
    'saint martin d heres'
    >>> normalise("  ST MARTIN D’HERES ")
    'saint martin d heres'
    >>> normalise("Le Havre"), normalise("Œuilly"), normalise("St", saints=False)
    ('havre', 'oeuilly', 'st')
    """
    text = str(text)
    for char, repl in _LIGATURES.items():
        text = text.replace(char, repl)
    text = re.sub(_ACCENTS, "", unicodedata.normalize("NFKD", text)).lower()
    text = re.sub(_SEPARATORS, " ", text).strip()
    if saints:
        for pattern, repl in _SAINTS.items():
            text = re.sub(pattern, repl, text)
    return re.sub(_ARTICLE, "", text)


@lru_cache(maxsize=256)
def readings(text: str) -> tuple[str, ...]:
    """The normalised readings of a query: « st » is « saint », or the start of « Strasbourg »."""
    return tuple(dict.fromkeys(r for r in (normalise(text), normalise(text, saints=False)) if r))


@dataclass(frozen=True)
class NameIndex:
    """Every word suffix of every key, sorted, with the entry and word position it comes from."""

    keys: pd.Series
    suffixes: np.ndarray
    owner: np.ndarray
    start: np.ndarray


def build_index(names: pd.Series) -> NameIndex:
    """Index ``names``: entry ``i`` is the ``i``-th name, found by any of its word prefixes.

    Examples
    --------
    >>> index = build_index(pd.Series(["Saint-Martin-d'Hères", "Mont-Saint-Martin", "Martigues"]))
    >>> search_names(index, "st martin").to_dict()
    {0: 2, 1: 3}
    >>> search_names(index, "mart").to_dict()
    {0: 3, 1: 3, 2: 2}
    """
    keys = normalise_column(names.reset_index(drop=True))
    parts, owners, starts = [], [], []
    for k in range(int(keys.str.count(" ").max()) + 1 if len(keys) else 0):
        if k == 0:  # pandas reads n=0 as "split everywhere"
            has, suffix = keys != "", keys
        else:
            split = keys.str.split(" ", n=k)
            has = split.str.len() == k + 1
            suffix = split.str[-1]
        parts.append(suffix[has].to_numpy(dtype=str))
        owners.append(np.flatnonzero(has.to_numpy()))
        starts.append(np.full(int(has.sum()), k))
    suffixes = np.concatenate(parts) if parts else np.array([], dtype=str)
    order = np.argsort(suffixes, kind="stable")
    return NameIndex(keys, suffixes[order], np.concatenate(owners or [[]])[order].astype(int),
                     np.concatenate(starts or [[]])[order].astype(int))


def _range(index: NameIndex, prefix: str) -> slice:
    if len(prefix) > index.suffixes.dtype.itemsize // 4:
        # Longer than every key: nothing starts with it, and comparing would widen the whole array.
        return slice(0, 0)
    lo, hi = np.searchsorted(index.suffixes, [prefix, prefix + END])
    return slice(int(lo), int(hi))


def _lookup(index: NameIndex, query: str) -> pd.Series:
    """Best level of each matching entry (index = entry), for one normalised query."""
    if not re.search("[a-z]", query):  # a name has letters: « {{7*7}} » is none
        return pd.Series(dtype=int)
    span = _range(index, query)
    owner, start = index.owner[span], index.start[span]
    level = np.where(start > 0, WORD, np.where(index.suffixes[span] == query, EXACT, PREFIX))
    found = pd.Series(level, index=owner)
    words = query.split(" ")
    if 1 < len(words) <= int(index.start.max(initial=0)) + 1:  # « saint martin re » finds « Saint-Martin-de-Ré »
        sets = [np.unique(index.owner[_range(index, w)]) for w in words]
        common = sets[0]
        for other in sets[1:]:
            common = np.intersect1d(common, other)
        found = pd.concat([found, pd.Series(ALL_WORDS, index=common)])
    if found.empty and 3 <= len(query) <= index.suffixes.dtype.itemsize // 4:
        inside = np.flatnonzero(index.keys.str.contains(query, regex=False).to_numpy())
        found = pd.Series(SUBSTRING, index=inside)
    return found.groupby(level=0).min()


def search_names(index: NameIndex, text: str) -> pd.Series:
    """The entries matching what was typed, with their best level over the query's readings.

    Returns
    -------
    Series
        Match level (``EXACT`` … ``SUBSTRING``) indexed by entry, unordered.
        A query without letters matches no name.
    """
    found = [_lookup(index, reading) for reading in readings(text)]
    return pd.concat(found).groupby(level=0).min() if found else pd.Series(dtype=int)
