"""Argument checks shared by the map modules: bad input fails at the door."""

from __future__ import annotations

import geopandas as gpd


def check_frame(frame, name: str = "view") -> None:
    """Raise ``TypeError`` naming ``name`` unless ``frame`` is a GeoDataFrame."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise TypeError(f"{name} must be a GeoDataFrame, got {type(frame).__name__}")
