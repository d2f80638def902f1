"""The national map, drawn in the page itself (Streamlit components v2).

streamlit-folium draws a map in an iframe: its first paint waited for the
iframe's component module, a second document, its 225 KB bundle, then Leaflet.
A components-v2 element is rendered in the app's own DOM, so the only things
to fetch once the script's message arrives are Leaflet's two files.

The map is still built by :mod:`tdi_geo.mapping` with folium; folium writes it
as JavaScript (streamlit-folium's :func:`generate_leaflet_string`), in two
parts, as before:

- the base map (context borders, DROM boxes), run when the page first shows
  it or when the tiles toggle changes;
- the view's feature group (territories, tooltips, legend, selection), swapped
  on every rerun that changes it, without recreating the map (no flicker,
  zoom kept).

A click on a territory comes back as a ``click`` trigger: ``{"lat", "lng"}``
in display coordinates, for one run.
"""

from __future__ import annotations

import hashlib

import folium
import streamlit as st
from streamlit_folium import generate_leaflet_string

from tdi_geo import mapping

#: Name of the Leaflet map, as a page global (``window.map_div``) and as its
#: container's id: folium's generated code refers to both.
MAP_NAME = "map_div"
_LAYER_NAME = "tdi_layer"

_JS = """
const loading = {};
function load(url, css) {
    if (!loading[url]) {
        loading[url] = new Promise((resolve, reject) => {
            const el = document.createElement(css ? "link" : "script");
            if (css) { el.rel = "stylesheet"; el.href = url; } else { el.src = url; }
            el.onload = resolve;
            el.onerror = () => { delete loading[url]; reject(new Error("Leaflet introuvable : " + url)); };
            document.head.appendChild(el);
        });
    }
    return loading[url];
}

export default function(component) {
    const { data, parentElement, setTriggerValue } = component;
    let box = parentElement.querySelector(".tdi-map");
    if (!box) {
        box = document.createElement("div");
        box.className = "tdi-map";
        box.id = data.name;
        parentElement.appendChild(box);
    }
    box.style.height = data.height + "px";
    Promise.all([load(data.leaflet_js), load(data.leaflet_css, true)]).then(() => {
        const run = (0, eval);  // folium's code declares page globals, as in its own page
        // Before folium's code runs, window[name] is the container itself (named access).
        const current = () => (window[data.name] instanceof L.Map ? window[data.name] : null);
        if (box.dataset.base !== data.base_key || !current()) {
            if (current()) { current().remove(); }
            window.__tdiFitKey = undefined;
            run(data.base);
            box.dataset.base = data.base_key;
            delete box.dataset.layer;
            window.map = window[data.name];
        }
        const map = current();
        if (box.dataset.layer === data.layer_key) { return; }
        if (window[data.layer] && map.hasLayer(window[data.layer])) { map.removeLayer(window[data.layer]); }
        run(data.layer_script);
        box.dataset.layer = data.layer_key;
        window[data.layer].on("click", (e) => setTriggerValue("click", {lat: e.latlng.lat, lng: e.latlng.lng}));
    });
    return () => {
        if (window.L && window[data.name] instanceof L.Map) { window[data.name].remove(); }
        window[data.name] = undefined;
    };
}
"""

_MAP = st.components.v2.component("tdi_geo_map", js=_JS, css=mapping.MAP_CSS, isolate_styles=False)


@st.cache_data(show_spinner=False, max_entries=4)
def base_script(tiles: bool, asset_base: str) -> str:
    """The base map as JavaScript: creates ``window.map_div`` in the element of that id."""
    fmap = mapping.base_map(tiles=tiles, asset_base=asset_base)
    fmap.get_root().render()
    return generate_leaflet_string(fmap, base_id=MAP_NAME.removeprefix("map_"))


def layer_script(group: folium.FeatureGroup) -> str:
    """A :func:`tdi_geo.mapping.territory_layer` group as JavaScript that adds it to the map."""
    holder = folium.Map(tiles=None)
    group.add_to(holder)
    holder.get_root().render()
    script = generate_leaflet_string(group, base_id=_LAYER_NAME)
    return script.replace(holder.get_name(), MAP_NAME)


def render(group: folium.FeatureGroup, *, tiles: bool, asset_base: str, height: int, key: str):
    """Draw the map with ``group`` on it; return the click of this run (``{"lat", "lng"}``) or None."""
    base = base_script(tiles, asset_base)
    layer = layer_script(group)
    result = _MAP(
        key=key,
        data={
            "name": MAP_NAME,
            "height": height,
            "leaflet_js": f"{asset_base}/leaflet.js",
            "leaflet_css": f"{asset_base}/leaflet.css",
            "base": base,
            "base_key": hashlib.sha1(base.encode()).hexdigest(),
            "layer": f"feature_group_{_LAYER_NAME}",
            "layer_script": layer,
            "layer_key": hashlib.sha1(layer.encode()).hexdigest(),
        },
        height=height,
        on_click_change=lambda: None,
    )
    return getattr(result, "click", None)
