"""Build the embedded programme dataset (``geodata/programme/*.csv``) from its sources.

A build step, never run by the app: ``python -m tdi_geo build-programme``
(``--out DIR`` writes elsewhere). Same inputs, same bytes.

Inputs, all committed:

- ``geodata/sources/tdi_lists/``: the public lists of territories (146 and 148
  by commune, 2019-2020; 149 by EPCI, 2022; 183 by EPCI, Nov 2023 and
  4 July 2024) and their ``provenance.json``;
- ``geodata/programme/sources/``: the research table of 2018-2019 territories
  (``documented_territories.csv``: source URLs), what the project decided for
  each row (``territory_decisions.csv``: id, entry date, documented or not),
  each row's code in the list of 146 (``research_to_list.csv``), the sourced
  régional counts (``regional_counts.csv``) and the versions
  (``versions.csv``: date, label, sourced count, list, note);
- ``geodata/programme/national_figures.csv`` (the press release of 24 Sept 2019);
- the reference geography (:mod:`tdi_geo.reference`) and the former commune codes.

``docs/PROGRAMME_DATA.md`` explains each rule.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from tdi_geo import PROGRAMME_DIR
from tdi_geo.programme_build import early, lineage, tables, tracking
from tdi_geo.programme_build.lists import LISTS, LISTS_DIR, read_list

SOURCES_DIR = PROGRAMME_DIR / "sources"
#: Tables written by the build, in this order.
OUTPUTS = ("territories", "territory_states", "territory_links", "memberships", "versions", "status_events", "projects")


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def read_sources(programme_dir: Path = PROGRAMME_DIR, lists_dir: Path = LISTS_DIR) -> dict[str, pd.DataFrame]:
    """The committed inputs of the build (the lists themselves are read by :func:`read_list`)."""
    sources = programme_dir / "sources"
    return {
        "documented": _csv(sources / "documented_territories.csv"),
        "decisions": _csv(sources / "territory_decisions.csv"),
        "research_to_list": _csv(sources / "research_to_list.csv"),
        "regional_counts": _csv(sources / "regional_counts.csv"),
        "versions": _csv(sources / "versions.csv"),
        "verdicts": _csv(lists_dir / "documented_rows_vs_list_146.csv"),
        "national_figures": _csv(programme_dir / "national_figures.csv"),
        "provenance": json.loads((lists_dir / "provenance.json").read_text(encoding="utf-8")),
    }


def urls(text: str) -> str:
    """The URLs of a research source cell, ``" ; "``-separated (``github:`` refs made URLs)."""
    out = []
    for match in re.finditer(r"(https?://\S+|github:(\S+) (\S+) @([0-9a-f]{40}))", text):
        if match.group(2):
            out.append(f"https://github.com/{match.group(2)}/blob/{match.group(4)}/{match.group(3)}")
        else:
            out.append(match.group(1).rstrip(";,"))
    return " ; ".join(dict.fromkeys(out))


def list_url(provenance: dict, key: str) -> str:
    """The public address of a list's source file."""
    entry = next(f for f in provenance["files"] if f["file"] == LISTS[key].file)
    return f"{entry['repository']}/blob/{entry['commit'] or 'HEAD'}/{entry['path']}"


def _early_snapshots(frame: pd.DataFrame, levels: pd.DataFrame, url146: str) -> list[tuple[str, dict]]:
    out = []
    for date in early.EARLY_DATES:
        here = levels[levels["date"] == date].set_index("id")
        states = {}
        for t in frame[frame["id"].isin(here.index)].itertuples():
            source = " ; ".join(s for s in (t.research_source, url146) if s)
            note = " ".join(n for n in (here.at[t.id, "reason"], t.note) if n)
            states[t.id] = dict(communes=t.communes, name=t.name, official_code="", source=source,
                                provenance=here.at[t.id, "provenance"], note=note, member_notes={})
        out.append((date, states))
    return out


def _list_states(rows: pd.DataFrame, source: str, label: str) -> dict[str, dict]:
    """Territories of one list keyed by official code."""
    states = {}
    kept = rows[rows["insee_com"] != ""]
    for code, group in kept.groupby("code", sort=True):
        notes = {}
        for r in group[group["note"] != ""].itertuples():
            notes[r.insee_com] = r.note
        states[code] = dict(communes=frozenset(group["insee_com"]), name=group["label"].iloc[0], official_code=code,
                            source=source, provenance="documented", member_notes=notes,
                            note=f"Composition et date tirées de la liste « {label} ».")
    return states


def _identify(known: list[tuple[str, dict]], listed: list[tuple[str, dict]],
              population: pd.Series) -> tuple[list[tuple[str, dict]], pd.DataFrame]:
    """Give the territories of each list (keyed by code) the id of the one they continue, or a new id.

    ``known`` are snapshots already keyed by id (2018-2019). Splits and merges
    between consecutive snapshots are returned as links.
    """
    used = {tid for _, states in known for tid in states}
    links = []
    out = list(known)
    for date, by_code in listed:
        previous = out[-1][1]
        decided = lineage.match({k: v["communes"] for k, v in previous.items()},
                                {k: v["communes"] for k, v in by_code.items()}, population)
        ids = {}
        for code in sorted(by_code):
            if code in decided["continues"]:
                ids[code] = decided["continues"][code]
                continue
            new = lineage.slug(by_code[code]["name"])
            new = new if new not in used else f"{new}-{code.lower()}"
            if new in used:
                raise ValueError(f"{date}: no free id for {code}")
            ids[code] = new
            used.add(new)
        for code, old in decided["split_from"].items():
            links.append(dict(date=date, territory_id=ids[code], relation="split_from", other_id=old))
        for old, code in decided["merged_into"].items():
            links.append(dict(date=date, territory_id=old, relation="merged_into", other_id=ids[code]))
        out.append((date, {ids[code]: state for code, state in by_code.items()}))
    frame = pd.DataFrame(links, columns=["date", "territory_id", "relation", "other_id"])
    return out, frame.sort_values(["date", "territory_id", "relation"], ignore_index=True)


def _write(frame: pd.DataFrame, path: Path) -> None:
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == bool:
            out[col] = out[col].map({True: "true", False: "false"})
    out.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def build_programme(out_dir: Path = PROGRAMME_DIR, programme_dir: Path = PROGRAMME_DIR,
                    lists_dir: Path = LISTS_DIR) -> dict[str, pd.DataFrame]:
    """Build every programme table from the sources and write them as CSV into ``out_dir``.

    Returns the tables by name. Raises ``ValueError`` when a rule is broken
    (a count that differs from the version's sourced count, a commune in two
    territories, a national figure not met).
    """
    from tdi_geo.importers._perimeter_checks import load_reference
    from tdi_geo.reference import load_communes

    sources = read_sources(programme_dir, lists_dir)
    ref = load_reference()
    communes = load_communes()
    population = communes.set_index("insee_com")["population"]
    lists = {key: read_list(key, ref, lists_dir) for key in LISTS}
    versions = sources["versions"]
    url = {key: list_url(sources["provenance"], key) for key in LISTS}

    frame = early.early_territories(lists["146"], sources, urls)
    levels = early.presence(frame, sources["regional_counts"])
    listed = [(v.date, _list_states(lists[v.list], url[v.list], v.label))
              for v in versions[versions["list"] != ""].itertuples()]
    snapshots, links = _identify(_early_snapshots(frame, levels, url["146"]), listed, population)
    _check_counts(snapshots, versions)

    # A territory's région is that of its first code (TIrrnn: the piloting région).
    regions = dict(zip(frame["id"], frame["region"]))
    for _, states in snapshots:
        for tid, state in states.items():
            regions.setdefault(tid, state["official_code"][2:4])
    territories, states = tables.territory_tables(snapshots, regions)
    epci_size = communes.groupby("epci_siren").size()
    memberships = tables.membership_rows(snapshots, communes.set_index("insee_com")["epci_siren"], epci_size)

    figures = sources["national_figures"]
    targets = dict(zip(figures["indicator"], figures["value"].astype(float)))
    tracking_frame = frame.set_index("id").assign(valid_from=frame.set_index("id")["entry"])
    tracking_frame["population"] = [float(population.reindex(list(c)).sum()) for c in frame["communes"]]
    tracking_frame["name_source"] = tracking_frame["research_source"]
    rng = np.random.default_rng(tracking.SEED)
    events = tracking.build_status_events(tracking_frame.sort_index(), targets, rng)
    projects = tracking.build_projects(tracking_frame.sort_index(), events, targets, rng)
    tracking.check_tracking(events, projects, targets)

    out = {
        "territories": territories,
        "territory_states": states,
        "territory_links": links,
        "memberships": memberships,
        "versions": versions[["date", "label", "expected_territories", "source", "note"]],
        "status_events": events,
        "projects": projects,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in OUTPUTS:
        _write(out[name], out_dir / f"{name}.csv")
    if out_dir.resolve() != programme_dir.resolve():
        shutil.copyfile(programme_dir / "national_figures.csv", out_dir / "national_figures.csv")
    return out


def _check_counts(snapshots: list[tuple[str, dict]], versions: pd.DataFrame) -> None:
    expected = dict(zip(versions["date"], versions["expected_territories"].astype(int)))
    for date, states in snapshots:
        if len(states) != expected[date]:
            raise ValueError(f"{date}: {len(states)} territories, expected {expected[date]}")
        seen: dict[str, str] = {}
        for tid, state in states.items():
            for commune in state["communes"]:
                if commune in seen:
                    raise ValueError(f"{date}: commune {commune} in {seen[commune]} and {tid}")
                seen[commune] = tid
