"""The territories of 2018-2019 (124 → 136 → 141 → 144), read back from the list of 146.

No list of 2018-2019 gives compositions. What is known:

- the list of 146 (state after 19 Nov 2019) gives every composition;
- the 144 of 24 Sept 2019 are the 146 without the two Grand Est territories of
  19 Nov 2019 (an inference, see ``geodata/sources/tdi_lists/provenance.json``):
  « Val et Terres de Lorraine » (one territory in 2018) became Val de Lorraine
  and Terres de Lorraine, and Sel et Vermois was added;
- the 141 of summer 2019 are the 144 without the three territories added on
  24 Sept 2019 (press release);
- the research table (``geodata/programme/sources/``) dates the entry of some
  territories and documents some compositions; ``research_to_list.csv`` links
  each of its rows to its code in the list of 146.

The entry date of the other territories is not documented. They are placed
at the dates that the national counts leave free, région by région (the
régional budget of the earlier dataset, ``ENTRY_SLOTS``). Their presence at
22 Nov 2018 and 5 Mar 2019 is then a choice, marked *illustrative* at those
dates, unless the région's sourced count at that date leaves no choice
(``regional_counts.csv``).
"""

from __future__ import annotations

import re

import pandas as pd

from tdi_geo.programme_build.lineage import slug

LAUNCH, MARCH, SUMMER, SEPTEMBER = "2018-11-22", "2019-03-05", "2019-07-25", "2019-09-24"
EARLY_DATES = (LAUNCH, MARCH, SUMMER, SEPTEMBER)
#: « Val et Terres de Lorraine » of 2018: the union of the two territories it became in Nov 2019.
VAL_ET_TERRES = ("val-et-terres-de-lorraine", ("TI4411", "TI4413"))
#: Added on 19 Nov 2019 (with the split above): not among the 144.
ADDED_NOV_2019 = ("TI4409",)
#: Entry dates left free by the sourced counts, per région of the list's code,
#: for territories that no source dates (from the régional budget of the
#: earlier dataset, docs/PROGRAMME_DATA.md).
ENTRY_SLOTS: dict[str, dict[str, int]] = {
    "84": {LAUNCH: 8, MARCH: 1}, "24": {MARCH: 2}, "27": {LAUNCH: 1, MARCH: 2}, "32": {LAUNCH: 9},
    "93": {SUMMER: 1}, "02": {MARCH: 1, SUMMER: 1}, "03": {SUMMER: 1}, "52": {LAUNCH: 4},
    "11": {LAUNCH: 6}, "53": {LAUNCH: 5},
}


def _research(sources: dict) -> pd.DataFrame:
    """Research rows with their list code, entry date and what is documented."""
    decisions = sources["decisions"]
    decisions = decisions[decisions["treatment"].isin(["documented", "illustrative"])]
    links = sources["research_to_list"].rename(columns={"note": "link_note", "basis": "link_basis"})
    verdicts = sources["verdicts"].set_index("project_territory_id")["verdict_and_notes"]
    out = decisions.merge(links, on="territory_id").merge(
        sources["documented"][["name", "source"]], on="name", how="left")
    out["consistent"] = out["territory_id"].map(verdicts).fillna("").str.startswith("consistent")
    return out[out["code_ti_146"] != ""]


def early_territories(list146: pd.DataFrame, sources: dict, urls) -> pd.DataFrame:
    """The 144 territories of 24 Sept 2019 with their entry date and composition basis.

    Names are those of the 2018-2019 sources (the research table) where there
    is one, else the list's label.

    Returns one row per territory: ``id, codes, name, region, entry,
    entry_documented, composition`` (``documented`` / ``inferred``),
    ``research_source`` (URLs), ``note`` and ``communes`` (frozenset).
    """
    research = _research(sources)
    by_code = list146[list146["insee_com"] != ""].groupby("code")
    communes = by_code["insee_com"].apply(frozenset).to_dict()
    labels = list146.drop_duplicates("code").set_index("code")["label"].to_dict()
    groups: dict[tuple, list[str]] = {}
    for code in sorted(communes):
        if code in ADDED_NOV_2019:
            continue
        key = VAL_ET_TERRES[1] if code in VAL_ET_TERRES[1] else (code,)
        groups.setdefault(key, [])
    rows = []
    for codes in groups:
        rows_r = research[research["code_ti_146"].isin(codes) | (research["code_ti_146"] == "+".join(codes))]
        if codes == VAL_ET_TERRES[1]:
            tid, name = VAL_ET_TERRES[0], rows_r["territory_name"].iloc[0]
        elif len(rows_r) == 1:
            # The name the 2018-2019 sources give, without the research's remark in brackets,
            # unless the research only describes the territory (``name_2019`` then says its name).
            tid = rows_r["territory_id"].iloc[0]
            name = rows_r["name_2019"].iloc[0] or re.sub(r" \(.*\)$", "", rows_r["territory_name"].iloc[0])
        else:  # no research row, or two rows for one listed territory (Boulonnais, Calaisis)
            tid, name = slug(labels[codes[0]]), labels[codes[0]]
        documented_entry = rows_r[rows_r["entry_documented"] == "true"]
        entry = documented_entry["valid_from"].min() if len(documented_entry) else (
            rows_r["valid_from"].min() if len(rows_r) else "")
        composition = "documented" if (len(rows_r) == 1 and rows_r["treatment"].iloc[0] == "documented"
                                       and rows_r["consistent"].iloc[0] and len(documented_entry)) else "inferred"
        notes = list(dict.fromkeys(n for n in rows_r["link_note"] if n))
        rows.append(dict(
            id=tid, codes=codes, name=name, region=codes[0][2:4], entry=entry,
            entry_documented=bool(len(documented_entry)), research=bool(len(rows_r)),
            composition=composition,
            research_source=" ; ".join(dict.fromkeys(u for s in rows_r["source"].fillna("") for u in urls(s).split(" ; ") if u)),
            note=" ".join(notes), communes=frozenset().union(*(communes[c] for c in codes)),
        ))
    frame = pd.DataFrame(rows).sort_values("id", ignore_index=True)
    if frame["id"].duplicated().any():
        raise ValueError(f"duplicate ids: {sorted(frame.loc[frame['id'].duplicated(), 'id'])}")
    return _assign_entries(frame, sources["versions"])


def _assign_entries(frame: pd.DataFrame, versions: pd.DataFrame) -> pd.DataFrame:
    """Entry dates of the territories that no source dates: the régional slots, then the national counts."""
    frame = frame.copy()
    undated = frame[frame["entry"] == ""].sort_values(["region", "codes"])
    for region, group in undated.groupby("region"):
        slots = [d for d, n in sorted(ENTRY_SLOTS.get(region, {}).items()) for _ in range(n)]
        for k, idx in enumerate(group.index):
            frame.at[idx, "entry"] = slots[k] if k < len(slots) else LAUNCH
    expected = versions.set_index("date")["expected_territories"].astype(int)
    # Move chosen (undocumented) entries forward or back until each count is met:
    # territories of the list only first (the research placed its own rows), latest
    # codes first; a documented entry never moves.
    for date, later in ((LAUNCH, MARCH), (MARCH, SUMMER)):
        present = (frame["entry"] <= date).sum()
        movable = frame[~frame["entry_documented"]].sort_values(["research", "codes"], ascending=[True, False])
        if present > expected[date]:
            pick = movable[movable["entry"] <= date].index[: present - expected[date]]
            frame.loc[pick, "entry"] = later
        elif present < expected[date]:
            pick = movable[movable["entry"] == later].index[: expected[date] - present]
            frame.loc[pick, "entry"] = date
    for date in EARLY_DATES:
        if (frame["entry"] <= date).sum() != expected[date]:
            raise ValueError(f"{date}: {(frame['entry'] <= date).sum()} territories, expected {expected[date]}")
    return frame


def presence(frame: pd.DataFrame, regional_counts: pd.DataFrame) -> pd.DataFrame:
    """Provenance of each territory at each 2018-2019 version where it is present, with its reason.

    Returns ``id, date, provenance, reason`` (French reason).
    """
    counts = {(r.region, r.date): (int(r.count), r.source) for r in regional_counts.itertuples()}
    rows = []
    for date in EARLY_DATES:
        here = frame[frame["entry"] <= date]
        for t in here.itertuples():
            if t.entry_documented:
                level = t.composition
                reason = ("Composition et date d'entrée documentées (source publique conforme à la liste "
                          "des 146)." if level == "documented" else
                          "Date d'entrée documentée ; composition reprise de la liste des 146 (état de fin 2019 "
                          "à 2020), faute de liste datée de cette version.")
            elif date == SEPTEMBER:
                level, reason = "inferred", ("Composition reprise de la liste des 146 ; présence déduite : les 144 "
                                             "du 24/09/2019 sont les 146 sans les deux territoires ajoutés en "
                                             "Grand Est le 19/11/2019.")
            elif date == SUMMER:
                level, reason = "inferred", ("Composition reprise de la liste des 146 ; présence déduite : les 141 "
                                             "de l'été 2019 sont les 144 du 24/09/2019 sans les trois territoires "
                                             "ajoutés ce jour-là.")
            elif _region_closed(frame, t.region, date, counts):
                n, source = counts[(t.region, date)]
                level, reason = "inferred", (f"Composition reprise de la liste des 146 ; présence déduite du nombre "
                                             f"de territoires de la région à cette date ({n} ; {source}).")
            else:
                level, reason = "illustrative", ("Composition reprise de la liste des 146, mais date d'entrée non "
                                                 "documentée : présence à cette date illustrative (placée pour "
                                                 "atteindre le compte national de la version).")
            rows.append(dict(id=t.id, date=date, provenance=level, reason=reason))
    return pd.DataFrame(rows)


def _region_closed(frame: pd.DataFrame, region: str, date: str, counts: dict) -> bool:
    """True when the région's sourced count at ``date`` leaves no choice of who was there."""
    if (region, date) not in counts:
        return False
    mine = frame[frame["region"] == region]
    present = mine[mine["entry"] <= date]
    absent = mine[mine["entry"] > date]
    return len(present) == counts[(region, date)][0] and bool(absent["entry_documented"].all())
