"""The naive peer of the performance benchmark (issue #4): what a first attempt looks like.

Usage: ``.venv/bin/streamlit run benchmarks/peer_app.py`` (``benchmarks/bench_app.py``
starts it for you next to the real app). The page draws ALL EPCIs at full
resolution (``load_epci("fine")``) as one ``folium.GeoJson`` coloured by
population with a plain style function, rendered with ``st_folium`` and no
other optimisation: the whole GeoJSON travels to the browser inside the
component's arguments. It is the baseline our app is compared against. To be
fair on the network side it needs no internet either: Leaflet comes from the
installed ``django-js-lib-leaflet`` package, served by Streamlit the same way
the app does it (a never-drawn component whose folder is Leaflet's dist, see
:mod:`tdi_geo.assets`), and folium's other CDN assets (jQuery, Bootstrap, Font
Awesome...) are dropped because the map does not use them. No tiles.
"""

from __future__ import annotations

import sys
from pathlib import Path

import folium
import streamlit as st
import streamlit.components.v1 as components
from streamlit_folium import st_folium

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tdi_geo import assets  # noqa: E402
from tdi_geo.reference import load_epci  # noqa: E402

#: Population classes (inhabitants) and their colours (light to dark blue).
BREAKS = [5_000, 10_000, 20_000, 50_000, 100_000, 250_000]
COLOURS = ["#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#084594"]


def population_colour(population: int) -> str:
    for limit, colour in zip(BREAKS, COLOURS):
        if population < limit:
            return colour
    return COLOURS[-1]


st.set_page_config(page_title="Peer: naive EPCI choropleth", layout="wide")
st.title("EPCI population (naive full-resolution choropleth)")

epci = load_epci("fine")[["siren", "name", "population", "geometry"]]
epci["colour"] = epci["population"].map(population_colour)

# Served at /component/<name>/; the map frame lives under /component/ too.
leaflet_files = components.declare_component("peer_leaflet", path=str(assets.leaflet_dir()))
m = folium.Map(location=[46.6, 2.4], zoom_start=6, tiles=None)
folium.GeoJson(
    epci,
    name="EPCI",
    style_function=lambda feature: {
        "fillColor": feature["properties"]["colour"],
        "color": "#555555",
        "weight": 0.5,
        "fillOpacity": 0.8,
    },
    tooltip=folium.GeoJsonTooltip(fields=["name", "population"]),
).add_to(m)
# folium declares Leaflet, jQuery, Bootstrap and icon fonts on CDNs: with no
# network its map stays blank. Point Leaflet at the installed copy, drop the rest.
m.default_js = [("leaflet", f"../{leaflet_files.name}/leaflet.js")]
m.default_css = [("leaflet_css", f"../{leaflet_files.name}/leaflet.css")]

st_folium(m, height=650, use_container_width=True, key="peer_map")
st.caption(f"{len(epci)} EPCI, full resolution")
