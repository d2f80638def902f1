"""Identity of territories across lists: who continues, who splits, who merges.

Each list numbers its territories its own way: the 2019-2022 lists share one
numbering (``TI4401`` = ``ti-4401``), the 2023 phase renumbers them, and a code
can be reused for another perimeter. So identity is decided on the perimeter:
a territory of list B *continues* one of list A when each is the other's
largest overlap (in inhabitants) and they share at least half of the smaller
one's inhabitants. A new territory that does not continue another but has
most of its inhabitants from an old one was *carved out* of it (a split); an
old one that ends with most of its inhabitants inside a territory of the new
list *merged into* it.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd

#: Share of the smaller perimeter's inhabitants that two territories must
#: share for one to continue the other.
CONTINUE_SHARE = 0.5


def slug(text: str) -> str:
    """``Vallée de l'Arve`` → ``vallee-de-l-arve``."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'")).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def overlaps(old: dict[str, frozenset], new: dict[str, frozenset], population: pd.Series) -> pd.DataFrame:
    """Every pair of overlapping perimeters with the share of each side's inhabitants they share.

    Returns ``old, new, share_old, share_new`` (communes without inhabitants count as one).
    """
    pop = population.clip(lower=1)
    owner = {c: key for key, communes in new.items() for c in communes}
    total_new = {key: float(pop.reindex(list(s)).sum()) for key, s in new.items()}
    rows = []
    for key, communes in old.items():
        shared: dict[str, list[str]] = {}
        for c in communes:
            if c in owner:
                shared.setdefault(owner[c], []).append(c)
        total = float(pop.reindex(list(communes)).sum())
        for other, common in shared.items():
            inhabitants = float(pop.reindex(common).sum())
            rows.append((key, other, inhabitants / total, inhabitants / total_new[other]))
    return pd.DataFrame(rows, columns=["old", "new", "share_old", "share_new"])


def match(old: dict[str, frozenset], new: dict[str, frozenset], population: pd.Series) -> dict:
    """Decide continuations, splits and merges between two consecutive lists.

    Returns
    -------
    dict
        ``continues`` {new key: old key}, ``split_from`` {new key: old key}
        (new territories carved out of an old one that continues or ends),
        ``merged_into`` {old key: new key} (old territories that end inside a
        continuing or new territory).
    """
    pairs = overlaps(old, new, population)
    if pairs.empty:
        return {"continues": {}, "split_from": {}, "merged_into": {}}
    pairs = pairs.sort_values(["old", "new"], ignore_index=True)
    best_new = pairs.loc[pairs.groupby("old")["share_old"].idxmax()].set_index("old")["new"]
    best_old = pairs.loc[pairs.groupby("new")["share_new"].idxmax()].set_index("new")["old"]
    continues = {}
    for row in pairs.itertuples():
        mutual = best_new.get(row.old) == row.new and best_old.get(row.new) == row.old
        if mutual and max(row.share_old, row.share_new) >= CONTINUE_SHARE:
            continues[row.new] = row.old
    continued_old = set(continues.values())
    split_from, merged_into = {}, {}
    for row in pairs.sort_values(["share_new", "new"], ascending=[False, True]).itertuples():
        if row.new not in continues and row.new not in split_from and row.share_new >= CONTINUE_SHARE:
            split_from[row.new] = row.old
    for row in pairs.sort_values(["share_old", "old"], ascending=[False, True]).itertuples():
        if row.old not in continued_old and row.old not in merged_into and row.share_old >= CONTINUE_SHARE:
            merged_into[row.old] = row.new
    return {"continues": continues, "split_from": split_from, "merged_into": merged_into}
