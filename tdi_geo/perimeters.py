"""Territory geometry at a perimeter version, and what changed between two.

A territory's shape at date D is the union of the reference polygons of its
members valid at D: whole EPCIs, or single communes when the territory holds
only part of an EPCI. At each resolution, EPCI and commune polygons are parts
of one clean coverage (EPCIs are dissolved from the simplified communes), so
territories never overlap and the union is a cheap ``coverage_union_all``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from tdi_geo import reference
from tdi_geo.programme import (
    LINK_RELATIONS,
    Programme,
    members_at,
    parse_date,
    per_dataset,
    territories_at,
    territory_states_at,
)

_GEOMETRY_COLUMNS = ["id", "name", "region", "provenance", "partial", "n_epci", "n_communes", "population", "geometry"]


def _member_keys(members: pd.DataFrame) -> pd.Series:
    """One hashable key per member row: ``E:<siren>`` or ``C:<insee>``."""
    return np.where(members["epci_siren"] != "", "E:" + members["epci_siren"], "C:" + members["insee_com"])


def _union(geoms: np.ndarray) -> shapely.Geometry:
    if len(geoms) == 1:
        return geoms[0]
    merged = shapely.coverage_union_all(geoms)
    if not merged.is_valid:  # members from two zones or two layers
        merged = shapely.make_valid(shapely.union_all(geoms))
    return merged


@lru_cache(maxsize=64)
def _territory_geometries(prog: Programme, date: str, resolution: str) -> gpd.GeoDataFrame:
    members = members_at(prog, date)
    epci = reference.load_epci(resolution).set_index("siren")
    communes = reference.load_communes().set_index("insee_com")

    by_epci = members[members["epci_siren"] != ""]
    by_commune = members[members["insee_com"] != ""]
    unknown_epci = sorted(set(by_epci["epci_siren"]) - set(epci.index))
    unknown_com = sorted(set(by_commune["insee_com"]) - set(communes.index))
    if unknown_epci or unknown_com:
        raise ValueError(
            "Codes absents du référentiel : "
            + ", ".join([f"EPCI {c}" for c in unknown_epci] + [f"commune {c}" for c in unknown_com])
        )

    # Territories holding single communes are drawn from commune polygons of
    # the same resolution (their whole EPCIs expanded to communes): each EPCI
    # polygon is the union of its communes at that resolution, so these shapes
    # fit their neighbours drawn from whole EPCIs edge for edge.
    commune_level = set(by_commune["territory_id"])
    geoms: dict[str, shapely.Geometry] = {}
    stats: dict[str, tuple[int, int, int]] = {}
    for tid, rows in by_epci[~by_epci["territory_id"].isin(commune_level)].groupby("territory_id"):
        sirens = rows["epci_siren"].unique()
        geoms[tid] = _union(epci.loc[sirens, "geometry"].values)
        stats[tid] = (len(sirens), int(epci.loc[sirens, "n_communes"].sum()), int(epci.loc[sirens, "population"].sum()))
    if commune_level:
        # Plain lists and dicts: a loop of pandas look-ups per territory cost seconds per date
        # when most territories of a 2019-2020 list hold part of an EPCI.
        polygons = reference.load_commune_polygons(resolution)
        polygon_of = dict(zip(polygons["insee_com"].tolist(), polygons.geometry.values))
        codes_of_epci: dict[str, list[str]] = {}
        for code, siren in zip(communes.index.tolist(), communes["epci_siren"].tolist()):
            codes_of_epci.setdefault(siren, []).append(code)
        epci_of = dict(zip(communes.index.tolist(), communes["epci_siren"].tolist()))
        population_of = dict(zip(communes.index.tolist(), communes["population"].tolist()))
        codes_of: dict[str, set[str]] = {tid: set() for tid in commune_level}
        for tid, code in zip(by_commune["territory_id"].tolist(), by_commune["insee_com"].tolist()):
            codes_of[tid].add(code)
        for tid, siren in zip(by_epci["territory_id"].tolist(), by_epci["epci_siren"].tolist()):
            if tid in codes_of:
                codes_of[tid].update(codes_of_epci.get(siren, ()))
        for tid in sorted(commune_level):
            all_codes = sorted(codes_of[tid])
            geoms[tid] = _union(np.array([polygon_of[c] for c in all_codes if c in polygon_of], dtype=object))
            n_epci = len({epci_of[c] for c in all_codes})
            stats[tid] = (n_epci, len(all_codes), int(sum(population_of[c] for c in all_codes)))

    territories = territories_at(prog, date).set_index("id")  # attributes valid at this date
    ids = sorted(geoms)
    frame = territories.loc[ids, ["name", "region", "provenance", "partial"]].reset_index()
    frame["n_epci"] = [stats[i][0] for i in ids]
    frame["n_communes"] = [stats[i][1] for i in ids]
    frame["population"] = np.array([stats[i][2] for i in ids], dtype="int64")
    gdf = gpd.GeoDataFrame(frame, geometry=[geoms[i] for i in ids], crs="EPSG:4326")
    return gdf[_GEOMETRY_COLUMNS]


def territory_geometries(prog: Programme, date, resolution: str = "web") -> gpd.GeoDataFrame:
    """The territories present at ``date`` with their dissolved perimeter.

    Parameters
    ----------
    prog : Programme
    date : str or date
        A perimeter date; members valid at that date are used.
    resolution : {"fine", "web", "coarse"}
        Reference resolution of the EPCI polygons.

    Returns
    -------
    GeoDataFrame
        ``id, name, region, provenance, partial, n_epci, n_communes,
        population, geometry`` in EPSG:4326, one row per territory, sorted by id.
        A copy: callers may modify it.

    Examples
    --------
    >>> from tdi_geo.programme import load_programme
    >>> gdf = territory_geometries(load_programme(), "2019-09-24")
    >>> gdf.crs.to_epsg()
    4326
    """
    return _territory_geometries(prog, parse_date(date), resolution).copy(deep=False)  # copy-on-write


def _member_sets(prog: Programme, date: str) -> dict[str, frozenset]:
    members = members_at(prog, date)
    keys = pd.Series(_member_keys(members), index=members.index)
    return {tid: frozenset(keys[rows.index]) for tid, rows in members.groupby("territory_id")}


@lru_cache(maxsize=1)
def _epci_communes() -> dict[str, frozenset]:
    communes = reference.load_communes()
    return {siren: frozenset(group) for siren, group in communes.groupby("epci_siren")["insee_com"]}


def _commune_set(keys: frozenset) -> frozenset:
    """The communes of a member set (whole EPCIs expanded)."""
    by_epci = _epci_communes()
    out: set[str] = set()
    for key in keys:
        out |= by_epci.get(key[2:], frozenset()) if key.startswith("E:") else {key[2:]}
    return frozenset(out)


def _change_kind(before: frozenset, after: frozenset) -> str:
    before, after = _commune_set(before), _commune_set(after)
    if before < after:
        return "enlarged"
    if after < before:
        return "reduced"
    return "changed"


def _name_key(name: str) -> str:
    """A name without accents, case, punctuation or dash style: « Ardèche Drome » = « Ardèche-Drôme »."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode().lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


#: French words of the kinds of perimeter change.
CHANGE_KINDS: dict[str, str] = {"enlarged": "élargi", "reduced": "réduit", "changed": "modifié"}


@per_dataset
def perimeter_diff(prog: Programme, date_a, date_b) -> dict[str, list[dict]]:
    """What changed from the perimeter at ``date_a`` to the one at ``date_b``.

    Returns
    -------
    dict
        Lists of ``{"id", "name", ...}`` sorted by name:

        - ``added``: territories of ``date_b`` only; ``from`` lists the
          territories they were carved out of (splits recorded between the
          two dates), if any;
        - ``removed``: territories of ``date_a`` only; ``into`` names the
          territory they merged into, if any;
        - ``changed``: territories of both dates with another set of members;
          ``kind`` is ``enlarged`` (communes only added), ``reduced`` (only
          removed) or ``changed``;
        - ``renamed``: territories of both dates whose name changed (not only
          its accents, case or punctuation), with ``former_name`` (their
          perimeter may have changed too).
    """
    date_a, date_b = parse_date(date_a), parse_date(date_b)
    sets_a, sets_b = _member_sets(prog, date_a), _member_sets(prog, date_b)
    # Names as valid at the date the territory is shown: removed ones at date_a, the others at date_b.
    names_a = territories_at(prog, date_a).set_index("id")["name"]
    names_b = territories_at(prog, date_b).set_index("id")["name"]
    low, high = min(date_a, date_b), max(date_a, date_b)
    links = prog.territory_links
    links = links[(links["date"] > low) & (links["date"] <= high)]
    known = {**names_a.to_dict(), **names_b.to_dict()}

    def named(i: str) -> dict:
        return {"id": i, "name": known.get(i, i)}

    def rows(items):
        return sorted(items, key=lambda r: (r["name"], r["id"]))

    added, removed = set(sets_b) - set(sets_a), set(sets_a) - set(sets_b)
    both = set(sets_a) & set(sets_b)
    split = links[links["relation"] == "split_from"].groupby("territory_id")["other_id"].apply(list)
    merged = links[links["relation"] == "merged_into"].groupby("territory_id")["other_id"].last()
    out = {
        "added": rows({"id": i, "name": names_b[i], **({"from": [named(o) for o in split[i]]} if i in split else {})}
                      for i in added),
        "removed": rows({"id": i, "name": names_a[i], **({"into": named(merged[i])} if i in merged else {})}
                        for i in removed),
        "changed": rows({"id": i, "name": names_b[i], "kind": _change_kind(sets_a[i], sets_b[i])}
                        for i in both if sets_a[i] != sets_b[i]),
        "renamed": rows({"id": i, "name": names_b[i], "former_name": names_a[i]}
                        for i in both if _name_key(names_a[i]) != _name_key(names_b[i])),
    }
    return out


def diff_item_text(kind: str, item: dict) -> str:
    """One change of :func:`perimeter_diff` in French, without its kind's title.

    >>> diff_item_text("added", {"id": "t", "name": "Terres de Lorraine",
    ...                          "from": [{"id": "v", "name": "Val de Lorraine"}]})
    'Terres de Lorraine (issu de Val de Lorraine)'
    >>> diff_item_text("renamed", {"id": "b", "name": "Berry Sologne", "former_name": "Bourges-Vierzon"})
    'Bourges-Vierzon → Berry Sologne'
    """
    if kind == "added" and "from" in item:
        return f"{item['name']} ({LINK_RELATIONS['split_from']} {', '.join(o['name'] for o in item['from'])})"
    if kind == "removed" and "into" in item:
        return f"{item['name']} ({LINK_RELATIONS['merged_into']} {item['into']['name']})"
    if kind == "changed":
        return f"{item['name']} ({CHANGE_KINDS[item['kind']]})"
    if kind == "renamed":
        return f"{item['former_name']} → {item['name']}"
    return item["name"]


#: Titles of the kinds of change, in the order they are told.
DIFF_TITLES: dict[str, str] = {"added": "Ajouté", "removed": "Retiré", "changed": "Périmètre modifié",
                               "renamed": "Renommé"}


def diff_sentences(diff: dict) -> list[str]:
    """One French line per change of :func:`perimeter_diff`, additions first."""
    return [f"{title} : {diff_item_text(kind, item)}" for kind, title in DIFF_TITLES.items() for item in diff[kind]]


def diff_geometries(prog: Programme, date_a, date_b, resolution: str = "web") -> gpd.GeoDataFrame:
    """Territories of both dates with a ``change`` column.

    ``change`` is one of ``added``, ``removed``, ``changed``, ``unchanged``.
    Removed territories keep their shape at ``date_a``; the others are drawn
    at ``date_b``.
    """
    diff = perimeter_diff(prog, date_a, date_b)
    after = territory_geometries(prog, date_b, resolution)
    before = territory_geometries(prog, date_a, resolution)
    change = pd.Series("unchanged", index=after["id"])
    for kind in ("added", "changed"):
        change[[r["id"] for r in diff[kind]]] = kind
    after["change"] = change.values
    removed = before[before["id"].isin([r["id"] for r in diff["removed"]])].copy()
    removed["change"] = "removed"
    out = pd.concat([after, removed], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


def territory_members(prog: Programme, territory_id: str, date) -> pd.DataFrame:
    """Member EPCIs of one territory at ``date``.

    Returns
    -------
    DataFrame
        ``siren, name, type, n_communes, population, basis, whole`` — one row
        per EPCI; ``whole`` is False when only some of its communes belong to
        the territory (``n_communes`` and ``population`` then count those).
    """
    members = members_at(prog, date)
    members = members[members["territory_id"] == territory_id]
    if members.empty:
        raise KeyError(f"Le territoire « {territory_id} » n'existe pas à la date {parse_date(date)}.")
    epci = reference.load_epci("coarse").drop(columns="geometry").set_index("siren")
    communes = reference.load_communes().set_index("insee_com")

    whole = members[members["epci_siren"] != ""]
    rows = epci.loc[whole["epci_siren"], ["name", "type", "n_communes", "population"]].reset_index()
    rows["basis"] = whole["basis"].values
    rows["whole"] = True

    parts = members[members["insee_com"] != ""]
    if not parts.empty:
        part_communes = communes.loc[parts["insee_com"]].assign(basis=parts["basis"].values)
        grouped = part_communes.groupby("epci_siren").agg(
            n_communes=("name", "size"), population=("population", "sum"), basis=("basis", "first")
        )
        grouped = grouped.join(epci[["name", "type"]]).reset_index().rename(columns={"epci_siren": "siren"})
        grouped["whole"] = False
        rows = pd.concat([rows, grouped[rows.columns]], ignore_index=True)
    return rows.sort_values("name", ignore_index=True)


#: Separator of the list-valued export properties (``epci_sirens``, ``epci_names``, ``sources``).
LIST_SEPARATOR = " ; "


@per_dataset
def territory_member_lists(prog: Programme, date) -> pd.DataFrame:
    """Member EPCIs and source URLs of every territory at ``date``, as text lists.

    Returns
    -------
    DataFrame
        ``id, epci_sirens, epci_names, sources``, one row per territory with
        members at ``date``. SIRENs and names are in the same order (by SIREN)
        and joined with :data:`LIST_SEPARATOR`; a territory holding only some
        communes of an EPCI lists that EPCI too. ``sources`` are the URLs of
        the territory's state valid at ``date`` (an illustrative territory
        cites the source of its composition; its presence at ``date`` has none).
    """
    date = parse_date(date)
    members = members_at(prog, date)
    communes = reference.load_communes().set_index("insee_com")["epci_siren"]
    # Partial members are single communes: report the EPCI they belong to.
    siren = members["epci_siren"].where(members["epci_siren"] != "", members["insee_com"].map(communes))
    pairs = (
        pd.DataFrame({"id": members["territory_id"], "siren": siren.fillna("").astype(str)})
        .query("siren != ''")
        .drop_duplicates()
        .sort_values(["id", "siren"], kind="stable")
    )
    names = reference.load_epci("coarse").set_index("siren")["name"]
    pairs["name"] = pairs["siren"].map(names).fillna("")
    grouped = pairs.groupby("id", sort=False).agg(
        epci_sirens=("siren", LIST_SEPARATOR.join), epci_names=("name", LIST_SEPARATOR.join)
    )
    states = territory_states_at(prog, date).set_index("id")
    sources = states["source"].fillna("").astype(str)
    # Normalise whatever separators the dataset used to the export's one.
    sources = sources.str.split(r"\s*;\s*|\s+", regex=True).map(lambda urls: LIST_SEPARATOR.join(u for u in urls if u))
    out = pd.DataFrame({"id": sorted(set(members["territory_id"]))})
    out = out.join(grouped, on="id").join(sources.rename("sources"), on="id")
    return out.fillna("").reset_index(drop=True)
