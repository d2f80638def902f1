"""The national map, drawn in the page itself (Streamlit components v2).

A components-v2 element is rendered in the app's own DOM, so the only things
to fetch once the script's message arrives are Leaflet's two files.

The element's code is the fixed module of :mod:`tdi_geo.mapping.leaflet`
(``tdi_map.js``); the map travels as JSON data in the element's
arguments, in two parts:

- the base map (context borders, DROM boxes), drawn when the page first shows
  it or when the tiles toggle changes;
- the view's layer (territories, tooltips, legend, selection), swapped on
  every rerun that changes it, without recreating the map (no flicker, zoom
  kept).

No template is rendered and no code is generated from data: a name from an
imported file reaches the page only as text.

A click on a territory comes back as a ``click`` trigger: ``{"lat", "lng"}``
in display coordinates, for one run.
"""

from __future__ import annotations

import hashlib
import json

import streamlit as st

from tdi_geo.mapping import base_spec, map_css, map_js

_MAP = st.components.v2.component("tdi_geo_map", js=map_js(), css=map_css(), isolate_styles=False)


def _key(value) -> str:
    """A short fingerprint of JSON data: the browser redraws a part only when it changes."""
    return hashlib.sha1(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@st.cache_resource(show_spinner=False, max_entries=2)
def _base(tiles: bool) -> tuple[dict, str]:
    """The base map's data and fingerprint (shared by every session; read-only)."""
    base = base_spec(tiles=tiles)
    return base, _key(base)


def render(layer: dict, *, tiles: bool, asset_base: str, height: int, key: str):
    """Draw the map with ``layer`` (:func:`tdi_geo.mapping.layer_spec`); return this run's click or None."""
    base, base_key = _base(tiles)
    result = _MAP(
        key=key,
        data={
            "height": height,
            "leaflet_js": f"{asset_base}/leaflet.js",
            "leaflet_css": f"{asset_base}/leaflet.css",
            "base": base,
            "base_key": base_key,
            "layer": layer,
            "layer_key": _key(layer),
        },
        height=height,
        on_click_change=lambda: None,
    )
    return getattr(result, "click", None)
