"""Per-territory indicators, national KPIs, and the filtered *view*.

The view is the one object the map, the panels and the exports share: the
territories shown at a date, after filters, with their indicators and the
filter state in ``attrs["tdi_view"]``. Whatever is drawn is what is exported.
"""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd

from tdi_geo import reference
from tdi_geo.perimeters import diff_geometries, territory_geometries, territory_member_lists
from tdi_geo.programme import (
    ENGAGED_STATUSES,
    PROVENANCES,
    SIGNED_STATUSES,
    STATUSES,
    Programme,
    check_pillar,
    first_seen,
    members_at,
    per_dataset,
    parse_date,
    projects_at,
    status_at,
    territories_at,
    tracking_known,
)

#: Map indicators: key → French label, kind and unit. Defined once.
INDICATORS: dict[str, dict] = {
    "since": {"label": "Année d'entrée dans le programme", "kind": "ordinal", "unit": ""},
    "status": {"label": "Statut d'engagement", "kind": "categorical", "unit": ""},
    "funding_eur": {"label": "Financements mobilisés", "kind": "numeric", "unit": "€"},
    "funding_per_inhabitant": {"label": "Financements par habitant", "kind": "numeric", "unit": "€/hab."},
    "projects": {"label": "Nombre de projets", "kind": "numeric", "unit": "projets"},
    "projects_committed": {"label": "Projets avec engagement de l'État", "kind": "numeric", "unit": "projets"},
}

#: Indicators drawn from the status and project data, « Pas de donnée » where it stops.
TRACKING_INDICATORS = ("status", "funding_eur", "funding_per_inhabitant", "projects", "projects_committed")

#: KPI keys, in display order; the same keys name the sourced national figures.
KPI_LABELS: dict[str, str] = {
    "territories": "Territoires d'industrie",
    "engaged_share": "Territoires engagés",
    "signed": "Protocole ou contrat signé",
    "finalising_share": "Plan d'actions en finalisation",
    "fragile": "Territoires fragiles accompagnés",
    "projects": "Projets",
    "projects_committed": "Projets avec engagement de l'État",
    "state_operators_eur": "Mobilisés par l'État et ses opérateurs",
    "territoires_innovation_eur": "Fléchés via « Territoires d'innovation »",
}


def check_indicator(indicator: str) -> str:
    """Return ``indicator`` if known, else raise a French ``ValueError``."""
    if indicator not in INDICATORS:
        raise ValueError(
            f"Indicateur inconnu : « {indicator} ». Indicateurs possibles : {', '.join(INDICATORS)}."
        )
    return indicator


@per_dataset
def territory_population(prog: Programme, date) -> pd.Series:
    """Population (municipal, reference COG) of each territory at ``date``."""
    members = members_at(prog, date)
    communes = reference.load_communes()
    epci_pop = communes.groupby("epci_siren")["population"].sum()
    com_pop = communes.set_index("insee_com")["population"]
    pop = np.where(
        members["epci_siren"] != "",
        members["epci_siren"].map(epci_pop).fillna(0),
        members["insee_com"].map(com_pop).fillna(0),
    )
    return pd.Series(pop, index=members["territory_id"]).groupby(level=0).sum().astype("int64")


@per_dataset
def territory_indicators(prog: Programme, date, pillar: str | None = None) -> pd.DataFrame:
    """Indicators of every territory present at ``date``.

    Parameters
    ----------
    prog : Programme
    date : str or date
    pillar : str, optional
        When given, project counts and amounts count only this pillar.

    Returns
    -------
    DataFrame
        ``id, since, status, status_label, status_date, fragile, projects,
        projects_committed, funding_eur, state_operators_eur,
        territoires_innovation_eur, region_eur, other_eur, population,
        funding_per_inhabitant`` — one row per territory, sorted by id.
        ``since`` is the year of the first version in which the territory
        appears. Where the status and project data stop
        (:func:`~tdi_geo.programme.tracking_known` is False), status, flags,
        counts and amounts are missing (« Pas de donnée »), never zero.
    """
    date = parse_date(date)
    present = territories_at(prog, date)[["id"]]
    status = status_at(prog, date).rename(columns={"territory_id": "id"})
    projects = projects_at(prog, date, pillar)
    grouped = projects.groupby("territory_id")
    agg = pd.DataFrame(
        {
            "projects": grouped.size(),
            "projects_committed": grouped["state_commitment"].sum(),
            "state_operators_eur": grouped["amount_state_operators_eur"].sum(),
            "territoires_innovation_eur": grouped["amount_territoires_innovation_eur"].sum(),
            "region_eur": grouped["amount_region_eur"].sum(),
            "other_eur": grouped["amount_other_eur"].sum(),
        }
    )
    agg["funding_eur"] = agg[["state_operators_eur", "territoires_innovation_eur", "region_eur", "other_eur"]].sum(axis=1)
    out = present.merge(status[["id", "status", "status_date", "fragile"]], on="id", how="left")
    out = out.merge(agg, left_on="id", right_index=True, how="left")
    count_cols = ["projects", "projects_committed", "funding_eur", "state_operators_eur",
                  "territoires_innovation_eur", "region_eur", "other_eur"]
    out[count_cols] = out[count_cols].fillna(0).astype("int64")
    out["status_label"] = out["status"].map(STATUSES)
    out["population"] = out["id"].map(territory_population(prog, date)).fillna(0).astype("int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        per_head = np.where(out["population"] > 0, out["funding_eur"] / out["population"], np.nan)
    out["funding_per_inhabitant"] = np.round(per_head, 2)
    out.insert(1, "since", out["id"].map(first_seen(prog)).str[:4].map(lambda y: int(y) if isinstance(y, str) else pd.NA)
               .astype("Int64"))
    if not tracking_known(prog, date):
        out[["status", "status_label", "status_date"]] = None
        out["fragile"] = pd.array([pd.NA] * len(out), dtype="boolean")
        for column in count_cols + ["funding_per_inhabitant"]:
            out[column] = np.nan
    return out.sort_values("id", ignore_index=True)


def national_kpis(
    prog: Programme,
    date,
    territory_ids: Iterable[str] | None = None,
    pillar: str | None = None,
) -> dict:
    """National figures computed from the data at ``date``.

    Shares are fractions rounded to the whole percent, as the programme
    publishes them (123 engaged of 144 → 0.85); the exact counts are given too
    (``engaged``, ``finalising``). Amounts are in euros. Where the status and
    project data stop (:func:`~tdi_geo.programme.tracking_known`), every
    figure but ``territories`` is None (« Pas de donnée »).

    Parameters
    ----------
    territory_ids : iterable of str, optional
        Restrict to these territories (the filtered view).
    pillar : str, optional
        Count only this pillar's projects.
    """
    date = parse_date(date)
    status = status_at(prog, date)
    projects = projects_at(prog, date, pillar)
    # Plain arrays and a set: a filtered view asks this for every new filter, and
    # masking whole Arrow-backed frames cost more than the sums themselves.
    ids = None if territory_ids is None else set(territory_ids)

    def kept(frame: pd.DataFrame) -> np.ndarray:
        if ids is None:
            return np.ones(len(frame), dtype=bool)
        return np.fromiter((t in ids for t in frame["territory_id"].tolist()), dtype=bool, count=len(frame))

    in_status, in_projects = kept(status), kept(projects)
    statuses = status["status"].to_numpy(dtype=object)[in_status]
    n = len(statuses)
    if not tracking_known(prog, date):
        return {key: None for key in KPI_LABELS} | {"territories": n, "engaged": None, "finalising": None}
    engaged = int(np.isin(statuses, ENGAGED_STATUSES).sum())
    finalising = int((statuses == "engaged").sum())

    def share(count: int) -> float:
        return round(count / n, 2) if n else 0.0

    def total(column: str) -> int:
        return int(projects[column].to_numpy()[in_projects].sum())

    return {
        "territories": n,
        "engaged_share": share(engaged),
        "signed": int(np.isin(statuses, SIGNED_STATUSES).sum()),
        "finalising_share": share(finalising),
        "fragile": int(status["fragile"].to_numpy(dtype=bool)[in_status].sum()),
        "projects": int(in_projects.sum()),
        "projects_committed": total("state_commitment"),
        "state_operators_eur": total("amount_state_operators_eur"),
        "territoires_innovation_eur": total("amount_territoires_innovation_eur"),
        "engaged": engaged,
        "finalising": finalising,
    }


def build_view(
    prog: Programme,
    date,
    regions: Iterable[str] = (),
    pillar: str | None = None,
    statuses: Iterable[str] = (),
    fragile_only: bool = False,
    documented_only: bool = False,
    indicator: str = "status",
    resolution: str = "web",
) -> gpd.GeoDataFrame:
    """The territories shown for a date and a set of filters, with indicators.

    Parameters
    ----------
    regions : iterable of str
        INSEE région codes; empty means all.
    pillar : str, optional
        Keep territories with at least one project in this pillar, and count
        only that pillar's projects and amounts.
    statuses : iterable of str
        Keys of :data:`~tdi_geo.programme.STATUSES`; empty means all.
    fragile_only, documented_only : bool
        Keep only fragile territories / only non-illustrative ones.
    indicator : str
        Key of :data:`INDICATORS`, recorded in the view state.

    Returns
    -------
    GeoDataFrame
        :func:`~tdi_geo.perimeters.territory_geometries` columns plus
        :func:`territory_indicators` columns and ``region_name``,
        ``provenance_label``, ``illustrative``, ``date``. The filter state is in
        ``attrs["tdi_view"]``.
    """
    date = parse_date(date)
    regions = sorted({str(r).strip() for r in regions if str(r).strip()})
    statuses = sorted(set(statuses))
    known_regions = reference.region_names()
    unknown = [r for r in regions if r not in known_regions]
    if unknown:
        raise ValueError(
            f"Code de région inconnu : {', '.join(unknown)}. Codes INSEE possibles : {', '.join(known_regions)}."
        )
    bad_status = [s for s in statuses if s not in STATUSES]
    if bad_status:
        raise ValueError(f"Statut inconnu : {', '.join(bad_status)}. Statuts possibles : {', '.join(STATUSES)}.")
    if pillar:
        check_pillar(pillar)
    check_indicator(indicator)

    view = _full_view(prog, date, pillar or None, resolution)
    mask = pd.Series(True, index=view.index)
    if regions:
        mask &= view["region"].isin(regions)
    if pillar:
        mask &= view["projects"] > 0
    if statuses:
        mask &= view["status"].isin(statuses)
    if fragile_only:
        mask &= view["fragile"].fillna(False).astype(bool)
    if documented_only:
        mask &= view["provenance"] != "illustrative"
    view = view[mask].reset_index(drop=True)
    view.attrs["tdi_view"] = {
        "date": date,
        "regions": regions,
        "pillar": pillar or None,
        "statuses": statuses,
        "fragile_only": bool(fragile_only),
        "documented_only": bool(documented_only),
        "indicator": indicator,
        "dataset": str(prog.meta.get("name") or prog.dataset_dir.name),
    }
    return view


@per_dataset
def _full_view(prog: Programme, date: str, pillar: str | None, resolution: str) -> gpd.GeoDataFrame:
    """Every territory present at ``date`` with its shape, indicators and member lists, unfiltered.

    Computed once per dataset, date, pillar and resolution: a filtered view
    (régions, statuses, flags) is a row mask over it.
    """
    geoms = territory_geometries(prog, date, resolution)
    values = territory_indicators(prog, date, pillar).drop(columns="population")
    view = geoms.merge(values, on="id", how="left").merge(territory_member_lists(prog, date), on="id", how="left")
    view["region_name"] = view["region"].map(reference.region_names())
    view["provenance_label"] = view["provenance"].map(PROVENANCES)
    view["illustrative"] = view["provenance"] == "illustrative"
    view["date"] = date
    # Plain Python strings, not Arrow-backed ones: every view of the date masks,
    # compares and takes rows of this frame, and on ~150 rows pyarrow's per-call
    # cost dominated (half of a new view's time under load). Values are unchanged.
    text = [c for c in view.columns if c != "geometry" and pd.api.types.is_string_dtype(view[c].dtype)]
    view = view.astype({c: object for c in text})
    return gpd.GeoDataFrame(view, geometry="geometry", crs="EPSG:4326")


def diff_view(prog, date_from: str, date_to: str, regions=(), resolution: str = "web") -> gpd.GeoDataFrame:
    """The view of the comparison mode: territories of both dates with ``change``.

    Parameters
    ----------
    prog : Programme
    date_from, date_to : str
        The two perimeter versions.
    regions : iterable of str
        INSEE région codes to keep; empty means all.
    resolution : str
        Reference resolution of the shapes.

    Returns
    -------
    GeoDataFrame
        :func:`tdi_geo.perimeters.diff_geometries` columns plus
        ``region_name``, ``illustrative`` and the member lists of every
        export (``epci_sirens``, ``epci_names``, ``sources``, see
        :func:`~tdi_geo.perimeters.territory_member_lists`); the comparison
        state in ``attrs["tdi_view"]`` (as exports expect).

    Notes
    -----
    Each row describes the territory at the date it is drawn: at ``date_to``,
    except a territory removed since ``date_from``, which has its members,
    communes count and sources at ``date_from`` (its last composition), as
    its shape.
    """
    regions = sorted({str(r) for r in regions})
    frame = diff_geometries(prog, date_from, date_to, resolution)
    if regions:
        frame = frame[frame["region"].isin(regions)].reset_index(drop=True)
    lists = territory_member_lists(prog, date_to).set_index("id")
    before = territory_member_lists(prog, date_from).set_index("id")
    removed = frame["change"].eq("removed")
    for column in ("epci_sirens", "epci_names", "sources"):
        now = frame["id"].map(lists[column])
        frame[column] = now.where(~removed, frame["id"].map(before[column])).fillna("")
    frame["region_name"] = frame["region"].map(reference.region_names())
    frame["illustrative"] = frame["provenance"].eq("illustrative")
    frame.attrs["tdi_view"] = {
        "mode": "diff",
        "date_from": date_from,
        "date": date_to,
        "regions": regions,
        "dataset": str(prog.meta.get("name") or prog.dataset_dir.name),
    }
    return frame
