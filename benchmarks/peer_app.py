"""The naive peer of the performance benchmark (issue #4): what a first attempt looks like.

Usage: ``.venv/bin/streamlit run benchmarks/peer_app.py`` (``benchmarks/bench_app.py``
starts it for you next to the real app). The page draws ALL EPCIs at full
resolution (``load_epci("fine")``) as one ``folium.GeoJson`` coloured by
population with a plain style function, rendered with ``st_folium`` and no
other optimisation: the whole GeoJSON travels to the browser inside the
component's arguments. It is the baseline our app is compared against. To be
fair on the network side it needs no internet either: Leaflet comes from the
installed ``django-js-lib-leaflet`` package, served by a small local HTTP
server started once per Streamlit process, and folium's other CDN assets
(jQuery, Bootstrap, Font Awesome...) are dropped because the map does not use
them. No tiles.
"""

from __future__ import annotations

import functools
import http.server
import sys
import threading
from importlib import resources
from pathlib import Path

import folium
import streamlit as st
from streamlit_folium import st_folium

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tdi_geo.reference import load_epci  # noqa: E402

#: Population classes (inhabitants) and their colours (light to dark blue).
BREAKS = [5_000, 10_000, 20_000, 50_000, 100_000, 250_000]
COLOURS = ["#eff3ff", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#084594"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the Streamlit console readable
        pass


@st.cache_resource
def leaflet_base_url() -> str:
    """Serve Leaflet's dist folder on a free localhost port; return its base URL."""
    folder = Path(str(resources.files("js_lib_leaflet") / "static" / "js_lib_leaflet"))
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/"


def population_colour(population: int) -> str:
    for limit, colour in zip(BREAKS, COLOURS):
        if population < limit:
            return colour
    return COLOURS[-1]


st.set_page_config(page_title="Peer: naive EPCI choropleth", layout="wide")
st.title("EPCI population (naive full-resolution choropleth)")

epci = load_epci("fine")[["siren", "name", "population", "geometry"]]
epci["colour"] = epci["population"].map(population_colour)

base = leaflet_base_url()
m = folium.Map(location=[46.6, 2.4], zoom_start=6, tiles=None)
m.default_js = [("leaflet", base + "leaflet.js")]
m.default_css = [("leaflet_css", base + "leaflet.css")]
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

st_folium(m, height=650, use_container_width=True, key="peer_map")
st.caption(f"{len(epci)} EPCI, full resolution")
