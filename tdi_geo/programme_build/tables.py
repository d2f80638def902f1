"""From dated snapshots of the programme to the dataset tables (memberships, territories, states).

A *snapshot* is the programme at one version date: per territory id, its
communes (reference COG), name, official code, provenance level, reason and
source. Memberships are written as whole EPCIs where the territory holds every
commune of one, as communes otherwise, valid from the snapshot's date to the
next one's; rows that stay the same from one snapshot to the next are joined
into one interval.
"""

from __future__ import annotations

import pandas as pd

#: Provenance level of a membership at a date → the dataset's ``basis`` value.
BASIS_OF = {"documented": "source", "inferred": "inference", "illustrative": "illustrative"}


def members(communes: frozenset, commune_epci: pd.Series, epci_size: pd.Series) -> list[tuple[str, str]]:
    """``(epci_siren, "")`` for every EPCI held whole, ``("", insee_com)`` for the other communes."""
    frame = pd.DataFrame({"insee_com": sorted(communes)})
    frame["epci"] = frame["insee_com"].map(commune_epci).fillna("")
    held = frame.groupby("epci")["insee_com"].transform("size")
    whole = (frame["epci"] != "") & (held == frame["epci"].map(epci_size))
    out = [(e, "") for e in sorted(frame.loc[whole, "epci"].unique())]
    return out + [("", c) for c in frame.loc[~whole, "insee_com"]]


def membership_rows(snapshots: list[tuple[str, dict]], commune_epci: pd.Series, epci_size: pd.Series) -> pd.DataFrame:
    """Membership intervals of every territory across the snapshots, joined where nothing changes."""
    rows = []
    dates = [d for d, _ in snapshots]
    for i, (date, territories) in enumerate(snapshots):
        valid_to = dates[i + 1] if i + 1 < len(dates) else ""
        for tid, state in territories.items():
            notes = state.get("member_notes", {})
            for epci, commune in members(state["communes"], commune_epci, epci_size):
                note = notes.get(epci or commune, "")
                rows.append((tid, epci, commune, date, valid_to, BASIS_OF[state["provenance"]], state["source"], note))
    frame = pd.DataFrame(rows, columns=["territory_id", "epci_siren", "insee_com", "valid_from", "valid_to",
                                        "basis", "source", "note"])
    key = ["territory_id", "epci_siren", "insee_com", "basis", "source", "note"]
    frame = frame.sort_values(key + ["valid_from"], kind="stable", ignore_index=True)
    # A row continues the previous one when it has the same key and starts where it ended.
    same = (frame[key] == frame[key].shift()).all(axis=1) & (frame["valid_from"] == frame["valid_to"].shift())
    run = (~same).cumsum()
    joined = frame.groupby(run, sort=False).agg({**{k: "first" for k in key}, "valid_from": "first", "valid_to": "last"})
    joined = joined[["territory_id", "epci_siren", "insee_com", "valid_from", "valid_to", "basis", "source", "note"]]
    return joined.sort_values(["territory_id", "valid_from", "epci_siren", "insee_com"], ignore_index=True)


STATE_FIELDS = ("name", "provenance", "official_code", "source", "note")


def territory_tables(snapshots: list[tuple[str, dict]], regions: dict[str, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The base record of each territory (its first snapshot) and its dated states (what changes later).

    ``territories.csv`` has no code column: the official code is always a
    state, from the first version whose list gives it.
    """
    base, states, last = {}, [], {}
    for date, territories in snapshots:
        for tid, state in sorted(territories.items()):
            values = {f: state.get(f, "") for f in STATE_FIELDS}
            if tid not in base:
                base[tid] = dict(id=tid, name=values["name"], region=regions[tid], provenance=values["provenance"],
                                 partial="false", source=values["source"], note=values["note"])
                previous = dict(values, official_code="")
            else:
                previous = last[tid]
            changed = {f: v for f, v in values.items() if v != previous[f]}
            if any(v == "" for v in changed.values()):
                raise ValueError(f"{tid} on {date}: an attribute becomes empty ({sorted(changed)})")
            if changed:
                states.append(dict(territory_id=tid, valid_from=date, partial="",
                                   **{f: changed.get(f, "") for f in STATE_FIELDS}))
            last[tid] = values
    territories = pd.DataFrame(base.values()).sort_values("id", ignore_index=True)
    state_frame = pd.DataFrame(states, columns=["territory_id", "valid_from", "name", "provenance", "partial",
                                                "official_code", "source", "note"])
    return territories, state_frame.sort_values(["territory_id", "valid_from"], ignore_index=True)
