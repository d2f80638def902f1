"""The national map, drawn in the page itself (Streamlit components v2).

A components-v2 element is rendered in the app's own DOM, so the only things
to fetch once the script's message arrives are Leaflet's two files.

The element's code is the fixed module of :mod:`tdi_geo.mapping.leaflet`
(``tdi_map.js``); the map travels as JSON data in the element's arguments:

- the base map (context borders, DROM boxes) and the view's layer
  (territories, tooltips, legend), each shared by every session
  (:func:`tdi_geo.view_model.view_model`) and sent to a page **once**: later
  runs send only its key, which the page looks up in what it already holds
  (a part the page lacks comes back as a ``missing`` trigger and is sent
  again on that run);
- the visitor's own selection outline and zoom, small, sent every run.

The browser redraws a part only when its key changes (no flicker, zoom kept).
No template is rendered and no code is generated from data: a name from an
imported file reaches the page only as text.

A click on a territory comes back as a ``click`` trigger: ``{"lat", "lng"}``
in display coordinates, for one run.
"""

from __future__ import annotations

import streamlit as st

from tdi_geo.mapping import SELECTED_STYLE, base_spec, map_css, map_js
from tdi_geo.view_model import data_key

_MAP = st.components.v2.component("tdi_geo_map", js=map_js(), css=map_css(), isolate_styles=False)
_SENT = "_tdi_map_sent"
#: Parts a session is known to hold; fewer than the page keeps (tdi_map.js, KEEP_PARTS = 8).
KEEP_SENT = 4


@st.cache_resource(show_spinner=False, max_entries=2)
def _base(tiles: bool) -> tuple[dict, str]:
    """The base map's data and fingerprint (shared by every session; read-only)."""
    base = base_spec(tiles=tiles)
    return base, data_key(base)


def _once(key: str, value: dict, sent: list[str], missing: list) -> dict | None:
    """``value`` if this session's page may not hold ``key`` yet, else None (the page has it)."""
    if key in sent and key not in missing:
        sent.remove(key)
        sent.append(key)
        return None
    if key in sent:
        sent.remove(key)
    sent.append(key)
    del sent[:-KEEP_SENT]
    return value


def render(layer: dict, layer_key: str, *, selection: tuple[str, list] | None, fit: dict | None,
           tiles: bool, asset_base: str, key: str):
    """Draw the map; return this run's click or None.

    Parameters
    ----------
    layer, layer_key :
        The view's shared layer (:func:`tdi_geo.mapping.layer_spec`) and its fingerprint.
    selection : (id, encoded outline), optional
        The visitor's selected territory.
    fit : dict, optional
        ``{"key", "bounds"}`` overriding the layer's zoom (a search's territory).
    """
    base, base_key = _base(tiles)
    ss = st.session_state
    sent = ss.setdefault(_SENT, [])
    missing = [str(k) for k in (ss.get(key) or {}).get("missing") or []]  # a trigger: this run only
    result = _MAP(
        key=key,
        data={
            "leaflet_js": f"{asset_base}/leaflet.js",
            "leaflet_css": f"{asset_base}/leaflet.css",
            "base_key": base_key,
            "base": _once(base_key, base, sent, missing),
            "layer_key": layer_key,
            "layer": _once(layer_key, layer, sent, missing),
            "selection": {"id": selection[0], "parts": selection[1], "style": SELECTED_STYLE} if selection else None,
            "fit": fit,
        },
        on_click_change=lambda: None,
        on_missing_change=lambda: None,
    )
    return getattr(result, "click", None)
