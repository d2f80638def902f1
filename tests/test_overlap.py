"""No two territories overlap, at any version and any resolution (issue #8, item 4).

A territory holding single communes of a partial EPCI used to be drawn from
``fine`` commune polygons whatever the resolution, so on the ``web`` and
``coarse`` maps it spilled over its neighbours' land and a click near the
border could select the wrong territory. Areas are measured in an equal-area
CRS (EPSG:6933), valid for metropolitan France and the DROM alike.
"""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import write_small_dataset

from tdi_geo import reference
from tdi_geo.perimeters import territory_geometries
from tdi_geo.programme import load_programme, members_at, version_dates
from tdi_geo.reference import RESOLUTIONS

EQUAL_AREA = "EPSG:6933"
#: Overlap allowed between two shapes, in m² (floating-point noise only).
MAX_OVERLAP_M2 = 1.0
#: Guingamp-Paimpol Agglomération, split by communes in the synthetic dataset.
SPLIT_EPCI = "200067981"


def _overlaps(geoms: gpd.GeoSeries, labels) -> list[tuple]:
    """Pairs of shapes whose common area exceeds ``MAX_OVERLAP_M2``, with that area."""
    values = geoms.to_crs(EQUAL_AREA).values
    left, right = shapely.STRtree(values).query(values, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    areas = shapely.area(shapely.intersection(values[left], values[right]))
    labels = np.asarray(labels)
    return [(labels[i], labels[j], round(a, 1)) for i, j, a in zip(left, right, areas) if a > MAX_OVERLAP_M2]


def _area_m2(geom) -> float:
    return float(gpd.GeoSeries([geom], crs=4326).to_crs(EQUAL_AREA).area.iloc[0])


# --- the embedded programme dataset -------------------------------------------

EMBEDDED = load_programme()
CASES = [(date, resolution) for date in version_dates(EMBEDDED) for resolution in RESOLUTIONS]


@pytest.mark.parametrize(("date", "resolution"), CASES)
def test_territories_of_the_embedded_dataset_never_overlap(date, resolution):
    gdf = territory_geometries(EMBEDDED, date, resolution)
    assert len(gdf) > 100
    assert gdf.is_valid.all() and not gdf.is_empty.any()
    assert _overlaps(gdf.geometry, gdf["id"]) == []


@pytest.mark.parametrize(("date", "resolution"), CASES)
def test_territories_cover_no_land_of_an_epci_they_hold_nothing_of(date, resolution):
    """A territory drawn from communes stays inside its EPCIs' polygons at that resolution.

    Otherwise it covers a neighbour's land: a territory holding that
    neighbour would overlap it, and a click there selects the wrong one.
    """
    gdf = territory_geometries(EMBEDDED, date, resolution)
    epci = reference.load_epci(resolution)
    communes = reference.load_communes().set_index("insee_com")
    members = members_at(EMBEDDED, date)
    held = members["epci_siren"].where(
        members["epci_siren"] != "", communes["epci_siren"].reindex(members["insee_com"]).values
    )
    held_pairs = set(zip(members["territory_id"], held))

    shapes = gdf.to_crs(EQUAL_AREA)
    epci_m = epci.to_crs(EQUAL_AREA)
    t_idx, e_idx = shapely.STRtree(epci_m.geometry.values).query(shapes.geometry.values, predicate="intersects")
    areas = shapely.area(shapely.intersection(shapes.geometry.values[t_idx], epci_m.geometry.values[e_idx]))
    spill = [
        (gdf["id"].iloc[t], epci["siren"].iloc[e], round(a))
        for t, e, a in zip(t_idx, e_idx, areas)
        if a > MAX_OVERLAP_M2 and (gdf["id"].iloc[t], epci["siren"].iloc[e]) not in held_pairs
    ]
    assert spill == []


# --- a synthetic dataset: one EPCI split by communes, its neighbour whole -------


def _append_rows(path: Path, rows: list[dict]) -> None:
    """Append rows under the file's own header (columns it lacks are left out)."""
    with path.open(encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    with path.open("a", encoding="utf-8", newline="") as fh:
        csv.DictWriter(fh, header, restval="", extrasaction="ignore").writerows(rows)


def _neighbour_with_longest_border(siren: str) -> str:
    epci = reference.load_epci("fine").set_index("siren")
    shape = epci.loc[siren, "geometry"]
    others = epci[epci.intersects(shape)].drop(siren)
    shared = shapely.length(shapely.intersection(others.geometry.values, shape.boundary))
    return others.index[int(np.argmax(shared))]


@pytest.fixture(scope="module")
def split_dataset(tmp_path_factory):
    """Two territories share SPLIT_EPCI by communes (west / east), a third holds its neighbour."""
    folder = write_small_dataset(tmp_path_factory.mktemp("split") / "dataset")
    neighbour = _neighbour_with_longest_border(SPLIT_EPCI)
    communes = reference.load_communes()
    codes = communes.loc[communes["epci_siren"] == SPLIT_EPCI, "insee_com"]
    polygons = reference.load_commune_polygons("fine").set_index("insee_com")
    x = shapely.get_x(shapely.point_on_surface(polygons.loc[polygons.index.intersection(codes), "geometry"].values))
    order = pd.Series(x, index=polygons.index.intersection(codes)).sort_values()
    west = sorted(order.index[: len(order) // 2])
    east = sorted(set(codes) - set(west))  # communes without a polygon go east
    territory = {"region": "53", "provenance": "illustrative", "partial": "false", "source": "", "note": ""}
    _append_rows(folder / "territories.csv", [
        territory | {"id": "split-ouest", "name": "Moitié ouest"},
        territory | {"id": "split-est", "name": "Moitié est"},
        territory | {"id": "voisin", "name": "EPCI voisin entier"},
    ])
    # From 2019-09-24, when the small dataset's « guingamp » stops holding the whole EPCI
    # (a commune and its own EPCI in two territories at one date is refused on load).
    member = {"epci_siren": "", "insee_com": "", "valid_from": "2019-09-24", "valid_to": "", "basis": "illustrative"}
    _append_rows(folder / "memberships.csv", (
        [member | {"territory_id": "split-ouest", "insee_com": code} for code in west]
        + [member | {"territory_id": "split-est", "insee_com": code} for code in east]
        + [member | {"territory_id": "voisin", "epci_siren": neighbour}]
    ))
    return load_programme(folder), neighbour, west, east


@pytest.mark.parametrize("resolution", list(RESOLUTIONS))
def test_split_epci_and_its_neighbour_never_overlap(split_dataset, resolution):
    prog, _, _, _ = split_dataset
    gdf = territory_geometries(prog, "2019-09-24", resolution)
    assert {"split-ouest", "split-est", "voisin"} <= set(gdf["id"])
    assert gdf.is_valid.all() and not gdf.is_empty.any()
    assert set(gdf.geom_type) <= {"Polygon", "MultiPolygon"}
    assert _overlaps(gdf.geometry, gdf["id"]) == []


@pytest.mark.parametrize("resolution", list(RESOLUTIONS))
def test_split_territories_together_cover_exactly_both_epcis(split_dataset, resolution):
    prog, neighbour, _, _ = split_dataset
    gdf = territory_geometries(prog, "2019-09-24", resolution).set_index("id")
    epci = reference.load_epci(resolution).set_index("siren")
    expected = shapely.union_all(epci.loc[[SPLIT_EPCI, neighbour], "geometry"].values)
    drawn = shapely.union_all(gdf.loc[["split-ouest", "split-est", "voisin"], "geometry"].values)
    assert _area_m2(shapely.symmetric_difference(drawn, expected)) < 1e-6 * _area_m2(expected)
    # The split EPCI is shared: its halves, together, are exactly its polygon.
    halves = shapely.union_all(gdf.loc[["split-ouest", "split-est"], "geometry"].values)
    assert _area_m2(shapely.symmetric_difference(halves, epci.loc[SPLIT_EPCI, "geometry"])) < MAX_OVERLAP_M2 * 10


@pytest.mark.parametrize("resolution", list(RESOLUTIONS))
def test_each_half_is_drawn_where_its_communes_are(split_dataset, resolution):
    """Simplification moves borders a little; it never gives a half the other's land."""
    prog, _, west, east = split_dataset
    gdf = territory_geometries(prog, "2019-09-24", resolution).set_index("id")
    fine = reference.load_commune_polygons("fine").set_index("insee_com")
    for tid, codes in (("split-ouest", west), ("split-est", east)):
        truth = shapely.union_all(fine.loc[fine.index.intersection(codes), "geometry"].values)
        shape = gdf.loc[tid, "geometry"]
        shared = _area_m2(shapely.intersection(shape, truth))
        assert shared > 0.9 * _area_m2(truth), f"{resolution}: {tid} misses its communes"
        assert shared > 0.9 * _area_m2(shape), f"{resolution}: {tid} covers other communes"
    assert gdf.loc["split-ouest", "n_communes"] == len(west)
    assert gdf.loc["split-est", "n_communes"] == len(east)
