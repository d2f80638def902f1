"""Where a région view looks, and the towns that name it (display coordinates).

A map filtered on régions is zoomed to the régions themselves (not only to
the territories drawn, which may leave a coast or a tip out), and its main
towns are named so a reader knows where they are.
"""

from __future__ import annotations

from functools import lru_cache

import geopandas as gpd
import shapely

from tdi_geo import REFERENCE_DIR, reference
from tdi_geo.mapping.insets import to_display_coordinates

#: Towns named on a région view: the most populous communes of each région.
TOWNS_PER_REGION = 6


@lru_cache(maxsize=32)
def region_bounds(codes: tuple[str, ...]) -> list | None:
    """``[[south, west], [north, east]]`` of the régions ``codes`` as drawn, or None if none is known."""
    regions = reference.load_regions("coarse")
    chosen = regions[regions["code"].isin(codes)]
    if chosen.empty:
        return None
    west, south, east, north = to_display_coordinates(chosen, "code").total_bounds
    return [[float(south), float(west)], [float(north), float(east)]]


@lru_cache(maxsize=32)
def main_towns(codes: tuple[str, ...], per_region: int = TOWNS_PER_REGION) -> list[list]:
    """The most populous communes of the régions ``codes``: ``[[lat, lng], name]`` in display coordinates.

    Only those communes' polygons are read (a filtered read of the
    ``coarse`` commune layer), each named at a point inside it.
    """
    communes = reference.load_communes()
    chosen = communes[communes["region"].isin(codes) & communes["has_polygon"]]
    top = chosen.sort_values("population", ascending=False).groupby("region").head(per_region)
    if top.empty:
        return []
    shapes = gpd.read_parquet(REFERENCE_DIR / "communes_coarse.parquet",
                              filters=[("insee_com", "in", top["insee_com"].tolist())])
    frame = shapes.merge(top[["insee_com", "name", "region", "population"]], on="insee_com")
    frame = frame.sort_values("population", ascending=False)
    frame = frame.set_geometry(shapely.point_on_surface(frame.geometry.values), crs=shapes.crs)
    display = to_display_coordinates(frame, "region")
    return [[[round(p.y, 4), round(p.x, 4)], str(name)] for p, name in zip(display.geometry, display["name"])]
