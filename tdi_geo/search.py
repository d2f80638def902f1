"""Find a commune, an EPCI or a territory from what people type, and say where a commune stands.

Names are compared as :mod:`tdi_geo.name_index` normalises them (accents,
hyphens, « St », articles) and found by any word prefix. Former communes
(merged or delegated since 2019, municipal arrondissements) resolve through
``importers/commune_aliases.csv``; homonyms carry their département.

The indexes are built once per process (commune and EPCI) or per dataset and
date (territories), so :func:`suggest` answers a keystroke in a few
milliseconds over the 34,875 communes (``benchmarks/bench_search.py``). What holds a commune at a date is read
from :func:`tdi_geo.programme.members_at` (whole EPCIs or single communes) and
the territory's name and provenance valid at that date. Geometry (the nearest
territory) is computed in the metric CRS of the commune's zone
(:data:`tdi_geo.reference.ZONES`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from tdi_geo import name_index as names
from tdi_geo import reference
from tdi_geo.programme import Programme, default_date, members_at, parse_date, territory_states_at, version_dates

ALIASES_PATH = Path(__file__).parent / "importers" / "commune_aliases.csv"
#: At most this many communes in :func:`where` (exact name matches are always all included).
MAX_MATCHES = 20
_INSEE = re.compile(r"^\d[\dab]\d{3}$")
_SIREN = re.compile(r"^\d{9}$")
_CODE_START = re.compile(r"^\d[\dab]?\d{0,2}$")


# --- the indexes ----------------------------------------------------------------


@dataclass(frozen=True)
class _Communes:
    """The reference communes, their name index and the alias rows it covers.

    Entries ``0..n-1`` of ``index`` are the communes, then one per alias
    (``old_name`` → row ``target`` of ``table``). The arrays are plain NumPy
    copies for the per-keystroke work (iterating Arrow strings is slow).
    """

    table: pd.DataFrame
    index: names.NameIndex
    aliases: pd.DataFrame
    codes: np.ndarray
    departement: np.ndarray
    departements: frozenset
    population: np.ndarray
    target: np.ndarray
    sorted_codes: np.ndarray
    code_order: np.ndarray
    labels: np.ndarray


@lru_cache(maxsize=1)
def _communes() -> _Communes:
    communes = reference.load_communes()
    deps = reference.load_departements("coarse").set_index("code")["name"]
    communes["departement_name"] = communes["departement"].map(deps).fillna("")
    communes["epci_siren"] = communes["epci_siren"].fillna("")
    communes["epci_name"] = communes["epci_siren"].map(_epcis()[0].set_index("siren")["name"]).fillna("")
    aliases = pd.read_csv(ALIASES_PATH, dtype=str, keep_default_na=False)
    position = pd.Series(np.arange(len(communes)), index=communes["insee_com"])
    aliases = aliases[aliases["new_code"].isin(position.index)].reset_index(drop=True)
    aliases["target"] = position[aliases["new_code"]].to_numpy()
    index = names.build_index(pd.concat([communes["name"], aliases["old_name"]], ignore_index=True))
    departement = communes["departement"].str.lower().to_numpy(dtype=str)
    codes = communes["insee_com"].to_numpy(dtype=str)
    order = np.argsort(codes, kind="stable")
    labels = (communes["name"] + " (" + communes["departement"] + " – " + communes["departement_name"] + ")")
    return _Communes(communes, index, aliases, codes, departement, frozenset(departement),
                     communes["population"].to_numpy(), aliases["target"].to_numpy(), codes[order], order,
                     labels.to_numpy(dtype=object))


@lru_cache(maxsize=1)
def _epcis() -> tuple[pd.DataFrame, names.NameIndex]:
    epci = pd.DataFrame(reference.load_epci("coarse").drop(columns="geometry"))
    return epci.reset_index(drop=True), names.build_index(epci["name"])


@lru_cache(maxsize=32)
def _territories(prog: Programme, date: str) -> tuple[pd.DataFrame, names.NameIndex]:
    """Every territory with its attributes at ``date`` and whether it has members then."""
    states = territory_states_at(prog, date).reset_index(drop=True)
    states["present"] = states["id"].isin(members_at(prog, date)["territory_id"])
    return states, names.build_index(states["name"])


@lru_cache(maxsize=64)
def _holders(prog: Programme, date: str) -> pd.Series:
    """The territory holding each commune at ``date`` ("" when none), in reference order."""
    communes = _communes().table
    members = members_at(prog, date)
    by_epci = members[members["epci_siren"] != ""].set_index("epci_siren")["territory_id"]
    by_commune = members[members["insee_com"] != ""].set_index("insee_com")["territory_id"]
    # object dtype: with no single-commune member, the first map is all-NaN floats.
    holder = communes["insee_com"].map(by_commune).astype(object)
    holder = holder.fillna(communes["epci_siren"].map(by_epci).astype(object))
    return pd.Series(holder.fillna("").to_numpy(dtype=str), index=communes["insee_com"])


# --- matching ---------------------------------------------------------------------


def _find_communes(text: str, code_prefix: bool = False) -> pd.DataFrame:
    """Matching communes, best first: ``pos`` (reference row), ``level``, ``alias`` (row or -1).

    With ``code_prefix``, 2 to 4 characters of an INSEE code find the communes
    whose code starts with them (type-ahead).
    """
    ref = _communes()
    n = len(ref.table)
    readings = names.readings(text)
    if code_prefix and readings and _CODE_START.match(readings[0]):
        span = slice(*np.searchsorted(ref.sorted_codes, [readings[0].upper(), readings[0].upper() + names.END]))
        pos = ref.code_order[span]
        pos = pos[np.argsort(-ref.population[pos], kind="stable")]
        return pd.DataFrame({"pos": pos, "level": names.PREFIX, "alias": np.full(len(pos), -1)})
    if readings and _INSEE.match(readings[0]):
        code = readings[0].upper()
        exact = np.flatnonzero(ref.codes == code)
        old = np.flatnonzero(ref.aliases["old_code"].to_numpy() == code)
        return pd.DataFrame({"pos": np.concatenate([exact, ref.target[old]]).astype(int), "level": names.CODE,
                             "alias": np.concatenate([np.full(len(exact), -1), old]).astype(int)})
    words = readings[0].split(" ") if readings else []
    found = pd.Series(dtype=int)
    if len(words) > 1 and words[-1] in ref.departements:  # « Saint-Martin (38) » narrows the homonyms
        found = names.search_names(ref.index, " ".join(words[:-1]))
        entry = found.index.to_numpy()
        pos = np.where(entry < n, entry, ref.target[np.clip(entry - n, 0, None)])
        found = found[ref.departement[pos] == words[-1]]
    if found.empty:
        found = names.search_names(ref.index, text)
    entry = found.index.to_numpy()
    alias = np.where(entry >= n, entry - n, -1)
    pos = np.where(alias >= 0, ref.target[np.clip(alias, 0, None)], entry).astype(int)
    # Best level first, a current name before a former one, then the most populated.
    order = np.lexsort((-ref.population[pos], alias >= 0, found.to_numpy()))
    _, first = np.unique(pos[order], return_index=True)
    order = order[np.sort(first)]
    return pd.DataFrame({"pos": pos[order], "level": found.to_numpy()[order], "alias": alias[order]})


def _find_epcis(text: str) -> pd.DataFrame:
    epci, index = _epcis()
    readings = names.readings(text)
    if readings and _SIREN.match(readings[0]):
        return epci[epci["siren"] == readings[0]].assign(level=names.CODE)
    found = names.search_names(index, text)
    frame = epci.loc[found.index].assign(level=found.to_numpy())
    return frame.sort_values(["level", "population"], ascending=[True, False], kind="stable")


def _find_territories(prog: Programme, date: str, text: str) -> pd.DataFrame:
    states, index = _territories(prog, date)
    found = names.search_names(index, text)
    frame = states.loc[found.index].assign(level=found.to_numpy())
    return frame.sort_values(["level", "present", "name"], ascending=[True, False, True], kind="stable")


def prepare(prog: Programme, date=None) -> None:
    """Build the commune, EPCI and territory indexes now (about a second), not at the first keystroke."""
    _communes()
    _epcis()
    _territories(prog, parse_date(date) if date else default_date(prog))


def suggest(prog: Programme, text: str, date=None, limit: int = 10) -> list[dict]:
    """Suggestions while the user types: communes first, then EPCIs, then territories.

    Parameters
    ----------
    prog : Programme
    text : str
        What has been typed so far (a name, a prefix, an INSEE code, a SIREN).
    date : str, optional
        Territory names are those valid at this date (default: the latest version).
    limit : int
        At most this many suggestions.

    Returns
    -------
    list of dict
        ``{"kind": "commune" | "epci" | "territory", "key": INSEE, SIREN or
        territory id, "label": str}``; homonym communes carry their
        département in the label. Plain text, never markup.

    Examples
    --------
    >>> from tdi_geo.programme import load_programme
    >>> first = suggest(load_programme(), "lamballe", "2019-09-24")[0]
    >>> first["kind"], first["key"], first["label"]
    ('commune', '22093', "Lamballe-Armor (22 – Côtes-d'Armor)")
    """
    if not names.readings(text):
        return []
    date = parse_date(date) if date else default_date(prog)
    ref = _communes()
    found = _find_communes(text, code_prefix=True).head(limit)
    pos, alias = found["pos"].to_numpy(), found["alias"].to_numpy()
    labels = ref.labels[pos].astype(object)
    former = alias >= 0
    labels[former] += ", ancienne commune " + ref.aliases["old_name"].to_numpy(dtype=object)[alias[former]]
    out = [{"kind": "commune", "key": k, "label": lab} for k, lab in zip(ref.codes[pos].tolist(), labels)]
    if len(out) < limit:  # communes first: the others only fill what is left
        for row in _find_epcis(text).head(limit - len(out)).itertuples():
            out.append({"kind": "epci", "key": row.siren, "label": f"{row.name} (EPCI {row.siren})"})
    if len(out) < limit:
        for row in _find_territories(prog, date, text).head(limit - len(out)).itertuples():
            out.append({"kind": "territory", "key": row.id, "label": f"{row.name} (territoire d'industrie)"})
    return out


# --- where a commune stands ---------------------------------------------------------


def _territory_dict(states: pd.DataFrame, territory_id: str) -> dict:
    row = states.loc[territory_id]
    return {"id": territory_id, "name": row["name"], "provenance": row["provenance"]}


@lru_cache(maxsize=1)
def _commune_polygons() -> pd.Series:
    polygons = reference.load_commune_polygons("coarse")
    return pd.Series(polygons.geometry.to_numpy(), index=polygons["insee_com"])


@lru_cache(maxsize=64)
def _states_by_id(prog: Programme, date: str) -> pd.DataFrame:
    return _territories(prog, date)[0].set_index("id")


def _member_since(prog: Programme, date: str, insee: str, territory_id: str) -> str:
    """First version date from which ``insee`` has been in ``territory_id`` without a break up to ``date``."""
    since = None
    for checkpoint in sorted({d for d in version_dates(prog) if d <= date} | {date}, reverse=True):
        if _holders(prog, checkpoint)[insee] != territory_id:
            break
        since = checkpoint
    if since == date and date not in version_dates(prog):
        # Joined between two versions: the start of the membership that holds it.
        members = members_at(prog, date)
        communes = _communes().table
        epci = communes["epci_siren"].to_numpy()[communes["insee_com"].to_numpy() == insee][0]
        rows = members[(members["territory_id"] == territory_id)
                       & ((members["insee_com"] == insee) | (members["epci_siren"] == epci) & (epci != ""))]
        since = rows["valid_from"].max()
    return since


def _other_versions(prog: Programme, date: str, insee: str) -> list[dict]:
    """The versions (other than ``date``) at which the commune was in a territory, and which."""
    out = []
    for version in version_dates(prog):
        holder = _holders(prog, version)[insee]
        if version != date and holder:
            out.append({"date": version, "territory": _territory_dict(_states_by_id(prog, version), holder)})
    return out


@lru_cache(maxsize=32)
def _metric_territories(prog: Programme, date: str) -> dict:
    """Territory shapes at ``date`` per zone (metropole, each DROM), in that zone's metric CRS."""
    from tdi_geo.perimeters import territory_geometries

    shapes = territory_geometries(prog, date, "coarse")
    members = members_at(prog, date)
    communes = _communes().table
    epci_dep = _epcis()[0].set_index("siren")["departement"]
    com_dep = communes.set_index("insee_com")["departement"]
    dep = members["epci_siren"].map(epci_dep).fillna(members["insee_com"].map(com_dep)).fillna("")
    zone = dep.map(reference.zone_of_departement).groupby(members["territory_id"]).first()
    shapes["zone"] = shapes["id"].map(zone)
    return {z: group.to_crs(reference.ZONES[z]["crs"]) for z, group in shapes.groupby("zone")}


def _nearest(prog: Programme, date: str, insee: str, departement: str) -> tuple[dict | None, str]:
    """The territory nearest to the commune at ``date``, or None and why.

    Edge to edge in the zone's metric CRS, between the ``coarse`` shapes
    (1.5 km simplification: 0 km means neighbours, small distances are approximate).
    """
    import geopandas as gpd

    zone = reference.zone_of_departement(departement)
    candidates = _metric_territories(prog, date).get(zone)
    if candidates is None or candidates.empty:
        return None, f"aucun territoire dans la zone {reference.ZONES[zone]['label']} à cette date"
    shape = _commune_polygons().get(insee)
    if shape is None:
        return None, "la commune n'a pas de contour dans le référentiel"
    shape = gpd.GeoSeries([shape], crs="EPSG:4326").to_crs(reference.ZONES[zone]["crs"]).iloc[0]
    distances = candidates.distance(shape).to_numpy()
    best = candidates.iloc[int(np.argmin(distances))]
    return ({"id": best["id"], "name": best["name"], "provenance": best["provenance"],
             "distance_km": round(float(distances.min()) / 1000, 1)}, "")


def _describe(prog: Programme, date: str, pos: int, alias: int) -> dict:
    ref = _communes()
    communes, aliases = ref.table, ref.aliases
    commune = communes.iloc[pos]
    insee = commune["insee_com"]
    holder = _holders(prog, date)[insee]
    states = _states_by_id(prog, date)
    match = {
        "insee": insee,
        "name": commune["name"],
        "departement": commune["departement"],
        "epci": {"siren": commune["epci_siren"], "name": commune["epci_name"]},
        "territory": _territory_dict(states, holder) if holder else None,
        "member_since": _member_since(prog, date, insee, holder) if holder else None,
    }
    if alias >= 0:
        row = aliases.loc[alias]
        match["former"] = {"insee": row["old_code"], "name": row["old_name"], "kind": row["kind"]}
    if not holder:
        match["nearest"], note = _nearest(prog, date, insee, commune["departement"])
        if note:
            match["nearest_note"] = note
        match["joined"] = _other_versions(prog, date, insee)
    return match


def _epci_holders(prog: Programme, date: str, siren: str) -> list[dict]:
    """The territories holding some commune of the EPCI at ``date`` (several when it is split)."""
    holders = _holders(prog, date).to_numpy()[_communes().table["epci_siren"].to_numpy() == siren]
    states = _states_by_id(prog, date)
    return [_territory_dict(states, tid) for tid in sorted(set(holders) - {""})]


def where(prog: Programme, query: str, date=None, communes: bool = False, limit: int = MAX_MATCHES) -> dict:
    """Which territory holds the communes matching ``query`` at ``date``.

    Parameters
    ----------
    prog : Programme
    query : str
        A commune name (accents, hyphens, « St » optional), an INSEE code, a
        former commune's name or code, an EPCI name or SIREN, a territory name.
    date : str, optional
        Default: the latest perimeter version.
    communes : bool
        Also list the communes of the matching EPCIs and territories.
    limit : int
        At most this many communes, except that every commune whose name
        matches exactly is always listed.

    Returns
    -------
    dict
        ``{"query", "date", "matches": [{"insee", "name", "departement",
        "epci": {"siren", "name"}, "territory": {"id", "name", "provenance"}
        | None, "member_since": date | None}], "epcis", "territories"}``;
        ``epcis`` are ``{"siren", "name", "territories"}`` (those holding
        some of its communes at ``date``), ``territories`` are ``{"id",
        "name", "provenance", "present"}`` (``present``: has members then).
        A commune found by a former name also has ``former``; one in no
        territory has ``nearest`` (``{"id", "name", "provenance",
        "distance_km"}`` or None with ``nearest_note``) and ``joined`` (the
        other versions at which it was in a territory). ``omitted`` counts
        the communes left out by ``limit``.

    Raises
    ------
    ValueError
        A date that is not ``AAAA-MM-JJ`` (French message).

    Examples
    --------
    >>> from tdi_geo.programme import load_programme
    >>> first = where(load_programme(), "Lamballe", "2019-09-24")["matches"][0]
    >>> first["name"], first["territory"]["name"], first["member_since"]
    ('Lamballe-Armor', 'Lamballe Terre et Mer', '2019-09-24')
    """
    date = parse_date(date) if date else default_date(prog)
    found = _find_communes(query)
    rows = list(zip(found["pos"], found["alias"]))
    epcis = _find_epcis(query)
    territories = _find_territories(prog, date, query)
    if communes:  # the communes of each matching EPCI, then of each matching territory
        table, holders = _communes().table, _holders(prog, date)
        for siren in epcis.loc[epcis["level"] <= names.WORD, "siren"]:
            rows += [(p, -1) for p in np.flatnonzero((table["epci_siren"] == siren).to_numpy())]
        for tid in territories.loc[territories["level"] <= names.WORD, "id"]:
            rows += [(p, -1) for p in np.flatnonzero(holders.to_numpy() == tid)]
    first: dict = {}
    for pos, alias in rows:  # each commune once, at its best place
        first.setdefault(pos, alias)
    rows = list(first.items())
    keep = max(limit, int((found["level"] <= names.EXACT).sum()))
    out = {
        "query": str(query),
        "date": date,
        "matches": [_describe(prog, date, int(p), int(a)) for p, a in rows[:keep]],
        "epcis": [{"siren": r.siren, "name": r.name, "territories": _epci_holders(prog, date, r.siren)}
                  for r in epcis.head(limit).itertuples()],
        "territories": [{"id": r.id, "name": r.name, "provenance": r.provenance, "present": bool(r.present)}
                        for r in territories.head(limit).itertuples()],
    }
    if len(rows) > keep:
        out["omitted"] = len(rows) - keep
    return out
