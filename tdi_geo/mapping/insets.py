"""« DROM rapprochés »: overseas territories moved into boxes west of Brittany.

Only the map uses display coordinates; exports always use true WGS84
coordinates. A click on the map comes back in display coordinates, and
:func:`territory_at` finds the territory drawn there.
"""

from __future__ import annotations

import math
from functools import lru_cache

import geopandas as gpd
import shapely

from tdi_geo import reference
from tdi_geo.mapping._checks import check_frame

#: « DROM rapprochés »: région code → label and target box (lon/lat) west of Brittany.
DROM_INSETS: dict[str, dict] = {
    "01": {"label": "Guadeloupe", "box": (-10.2, 49.35, -6.9, 51.15)},
    "02": {"label": "Martinique", "box": (-10.2, 47.35, -6.9, 49.15)},
    "03": {"label": "Guyane", "box": (-10.2, 45.35, -6.9, 47.15)},
    "04": {"label": "La Réunion", "box": (-10.2, 43.35, -6.9, 45.15)},
    "06": {"label": "Mayotte", "box": (-10.2, 41.35, -6.9, 43.15)},
}
#: Height (degrees) of the strip at the top of each box kept for its label.
INSET_LABEL_HEIGHT = 0.42
#: Bounds (south-west, north-east) of the national view: metropole and insets.
NATIONAL_BOUNDS = [[41.3, -10.3], [51.2, 9.6]]



@lru_cache(maxsize=1)
def _inset_matrices() -> dict[str, list[float]]:
    """Affine matrix (shapely order a, b, d, e, xoff, yoff) moving each DROM into its box."""
    regions = reference.load_regions("coarse").set_index("code")
    matrices = {}
    for code, inset in DROM_INSETS.items():
        minx, miny, maxx, maxy = regions.loc[code, "geometry"].bounds
        bx0, by0, bx1, by1 = inset["box"]
        by1 -= INSET_LABEL_HEIGHT  # the label strip at the top of the box stays free
        lat_src = math.radians((miny + maxy) / 2)
        lat_dst = math.radians((by0 + by1) / 2)
        # Sizes in "local metres" (degrees × cos(lat) for longitudes), 8 % margin.
        src_w, src_h = (maxx - minx) * math.cos(lat_src), maxy - miny
        dst_w, dst_h = (bx1 - bx0) * math.cos(lat_dst), by1 - by0
        scale = 0.92 * min(dst_w / src_w, dst_h / src_h)
        a = scale * math.cos(lat_src) / math.cos(lat_dst)
        e = scale
        cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
        tx, ty = (bx0 + bx1) / 2, (by0 + by1) / 2
        matrices[code] = [a, 0.0, 0.0, e, tx - a * cx, ty - e * cy]
    return matrices


def to_display_coordinates(frame: gpd.GeoDataFrame, region_column: str = "region") -> gpd.GeoDataFrame:
    """Move overseas shapes into the « DROM rapprochés » boxes of the national view.

    Parameters
    ----------
    frame : GeoDataFrame
        In EPSG:4326, with the INSEE région code in ``region_column``.

    Returns
    -------
    GeoDataFrame
        A copy; metropolitan rows are unchanged. For the map only: exports use
        true coordinates.
    """
    check_frame(frame, "frame")
    if region_column not in frame.columns:
        raise ValueError(f"frame has no column {region_column!r}")
    out = frame.copy()
    for code, matrix in _inset_matrices().items():
        mask = (out[region_column] == code).to_numpy()
        if mask.any():
            out.loc[mask, out.geometry.name] = out.geometry[mask].affine_transform(matrix)
    return out


def inset_frames() -> gpd.GeoDataFrame:
    """The inset boxes (polygons) with their label, in display coordinates."""
    boxes = [shapely.box(*inset["box"]) for inset in DROM_INSETS.values()]
    return gpd.GeoDataFrame(
        {"region": list(DROM_INSETS), "label": [i["label"] for i in DROM_INSETS.values()]},
        geometry=boxes,
        crs="EPSG:4326",
    )


def territory_at(display_view: gpd.GeoDataFrame, lat: float, lng: float) -> str | None:
    """Id of the territory drawn under a clicked point (display coordinates), if any."""
    check_frame(display_view, "display_view")
    if display_view.empty:
        return None
    point = shapely.Point(float(lng), float(lat))
    hits = display_view.sindex.query(point, predicate="intersects")
    if len(hits) == 0:
        return None
    return str(display_view.iloc[int(hits[0])]["id"])
