"""The map as data for Leaflet, and the fixed code that draws it.

Nothing here renders a template or writes JavaScript. A map is two JSON
documents:

- :func:`base_spec` — the stable part: région and département borders
  (``coarse`` lines), the « DROM rapprochés » boxes and their labels, the
  national bounds; it depends only on the reference geography and the tiles
  toggle;
- :func:`layer_spec` — the view: the territories (encoded paths, style,
  tooltip texts), the selection outline, the legend and when to zoom.

The fixed code in ``tdi_map.js`` (read once from this package, never
generated) draws them with Leaflet's API and puts every text in the page as
text (``textContent``, text nodes), never as HTML. A territory name from an
imported file therefore cannot become a template, markup or script, in
Python or in the browser, whatever it contains: there is no escaping to
forget. (folium, which drew the map before, renders each element's output a
second time as a Jinja template, so a name such as ``{{ ... }}`` ran on the
server.)

The same code draws the map in the app (a components-v2 element, see
``app_panels/map_view.py``) and in a standalone HTML page
(:func:`standalone_html`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import shapely

from tdi_geo import reference
from tdi_geo.indicators import INDICATORS
from tdi_geo.mapping._checks import check_frame
from tdi_geo.mapping.insets import INSET_LABEL_HEIGHT, NATIONAL_BOUNDS, inset_frames, to_display_coordinates
from tdi_geo.mapping.paths import encode_paths
from tdi_geo.mapping.style import ILLUSTRATIVE_LABEL, INFERRED_LABEL, PATTERN_WORDS, feature_style, provenance_pattern
from tdi_geo.programme import PROVENANCES, STATUSES

_HERE = Path(__file__).resolve().parent

#: Coordinate decimals sent to the browser: 1e-3 degree (≤ 55 m of rounding) is far
#: below the 600 m tolerance of the ``web`` shapes, and under a pixel up to zoom 10.
DISPLAY_DECIMALS = 3
CONTEXT_DECIMALS = 3

#: Fixed tooltip sentences (French), sent once per layer.
TOOLTIP_TEXTS = {
    "status": "Statut",
    "fragile": "Territoire fragile (chef de projet cofinancé)",
    "partial": "Périmètre partiel (membres connus seulement)",
    "illustrative": "Illustratif : présence à cette date ou composition sans source, pas une donnée publiée",
}
#: Bits of the ``flags`` field of a feature sent to the browser.
FLAG_ILLUSTRATIVE, FLAG_FRAGILE, FLAG_PARTIAL, FLAG_INFERRED = 1, 2, 4, 8

#: Outline of the selected territory.
SELECTED_STYLE = {"color": "#d10069", "weight": 3.5, "fill": False, "className": "tdi-selected"}
#: Context lines of the base map, drawn under the territories.
_CONTEXT_STYLES = {
    "departements": {"color": "#9aa3ab", "weight": 0.5},
    "regions": {"color": "#59626b", "weight": 1.2},
    "insets": {"color": "#8a939b", "weight": 1, "dashArray": "2 3"},
}


@lru_cache(maxsize=1)
def map_js() -> str:
    """The map's JavaScript module (``tdi_map.js``), read once."""
    return (_HERE / "tdi_map.js").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def map_css() -> str:
    """The map's styles (``tdi_map.css``: legend, tooltips, labels), read once."""
    return (_HERE / "tdi_map.css").read_text(encoding="utf-8")


#: What :func:`display_features` reads of a coloured view (tooltip texts, flags, style).
_FEATURE_COLUMNS = ("id", "name", "region", "region_name", "value_text", "status", "illustrative", "fragile",
                    "partial", "provenance", "fill", "emphasis")


def tooltip_parts(row, indicator_label: str) -> dict:
    """The pieces of one territory's tooltip, as plain text.

    The browser puts each piece in the tooltip as a text node: nothing in a
    territory's text can become markup.
    """
    status = ""
    if indicator_label != INDICATORS["status"]["label"] and isinstance(row.get("status"), str):
        status = STATUSES.get(row["status"], row["status"])
    flags = (
        (FLAG_ILLUSTRATIVE if bool(row.get("illustrative")) else 0)
        | (FLAG_FRAGILE if row.get("fragile") is True else 0)
        | (FLAG_PARTIAL if row.get("partial") is True else 0)
        | (FLAG_INFERRED if row.get("provenance") == "inferred" else 0)
    )
    return {
        "name": str(row["name"]),
        "region": str(row.get("region_name") or row.get("region") or ""),
        "value": str(row["value_text"]),
        "status": status,
        "provenance": PROVENANCES.get(row.get("provenance"), str(row.get("provenance") or "")),
        "flags": flags,
    }


def display_features(colored: gpd.GeoDataFrame, indicator_label: str, shapes: Mapping | None = None) -> dict:
    """What the browser needs to draw a coloured view, compactly.

    Parameters
    ----------
    colored : GeoDataFrame
        From :func:`~tdi_geo.mapping.color_view` or :func:`~tdi_geo.mapping.color_diff`.
    indicator_label : str
        Label of the value shown in tooltips.
    shapes : mapping, optional
        Territory id → its shape already encoded in display coordinates
        (:func:`encoded_shapes`), shared by every view of a date; shapes are
        encoded here when not given.

    Returns
    -------
    dict
        ``{"k": decimals, "label", "texts", "regions": [...], "provenances":
        [...], "styles": [...], "features": [[id, style index, flags, name,
        région index, value, status, provenance index, parts], ...]}`` in
        display coordinates. Repeated strings are sent once; texts are plain
        (:func:`tooltip_parts`).
    """
    check_frame(colored, "colored")
    # Only the columns a tooltip and a style read, column by column: dropping the
    # geometry from a wide frame copied every block (a third of a cold view's time).
    names = [c for c in _FEATURE_COLUMNS if c in colored.columns]
    records = [dict(zip(names, values)) for values in zip(*(colored[c].tolist() for c in names))]
    if shapes is None:
        encoded = encoded_shapes(colored).values()
    else:
        encoded = [shapes.get(str(record["id"])) or [] for record in records]
    tables: dict[str, dict] = {"styles": {}, "regions": {}, "provenances": {}}

    def index_of(table: str, value) -> int:
        return tables[table].setdefault(value, len(tables[table]))

    features = []
    for record, parts in zip(records, encoded):
        if not parts:
            continue
        tip = tooltip_parts(record, indicator_label)
        level = record.get("provenance") or ("illustrative" if tip["flags"] & FLAG_ILLUSTRATIVE else "documented")
        style = index_of("styles", (record["fill"], provenance_pattern(level), bool(record.get("emphasis", False))))
        features.append([
            str(record["id"]), style, tip["flags"], tip["name"], index_of("regions", tip["region"]),
            tip["value"], tip["status"], index_of("provenances", tip["provenance"]), parts,
        ])
    return {
        "k": DISPLAY_DECIMALS,
        "label": str(indicator_label),
        "texts": dict(TOOLTIP_TEXTS),
        "regions": list(tables["regions"]),
        "provenances": list(tables["provenances"]),
        "styles": [feature_style(*key) for key in tables["styles"]],
        "features": features,
    }


def encoded_shapes(frame: gpd.GeoDataFrame) -> dict[str, list]:
    """Each territory's shape in display coordinates (DROM moved), encoded: id → parts.

    The costly step of a layer (every vertex rounded and encoded); a view of a
    date is a subset of the same shapes, so callers encode a date once and pass
    the result to :func:`display_features` / :func:`layer_spec`.
    """
    display = to_display_coordinates(frame, "region")
    return dict(zip(display["id"].astype(str), encode_paths(display.geometry.values, DISPLAY_DECIMALS)))


def legend_spec(legend: dict) -> dict:
    """The legend as the browser draws it: plain texts and colours, every entry in order.

    Parameters
    ----------
    legend : dict
        From :func:`tdi_geo.mapping.color_view` or :func:`~tdi_geo.mapping.color_diff`.

    Examples
    --------
    The colours first (each one drawn on the map), then, when some
    territories are not documented facts, the provenance levels present with
    the pattern each is drawn with (``[pattern, label]``, ``None`` = plain).

    Examples
    --------
    >>> spec = legend_spec({"title": "Statut", "items": [("#56B4E9", "Engagé")],
    ...                     "no_data": ("#bdbdbd", "Pas de donnée"), "illustrative": True, "note": "",
    ...                     "provenances": ["documented", "illustrative"]})
    >>> [label for _, label in spec["items"]]
    ['Engagé', 'Pas de donnée']
    >>> spec["provenance"]
    [[None, 'Documenté (source publique) : aplat'], ['hatch', 'Illustratif : présence ou composition sans source : hachures']]
    """
    items = [[str(color), str(label)] for color, label in legend["items"]]
    if legend.get("no_data"):
        items.append([str(c) for c in legend["no_data"]])
    levels = list(legend.get("provenances") or (["illustrative"] if legend.get("illustrative") else []))
    provenance = []
    if any(provenance_pattern(level) for level in levels):
        for level in levels:
            pattern = provenance_pattern(level)
            label = {"illustrative": ILLUSTRATIVE_LABEL, "inferred": INFERRED_LABEL}.get(level) or PROVENANCES.get(
                level, str(level))
            provenance.append([pattern, f"{label} : {PATTERN_WORDS[pattern]}"])
    return {
        "title": str(legend["title"]),
        "items": items,
        "provenance_title": "Provenance",
        "provenance": provenance,
        "illustrative": ILLUSTRATIVE_LABEL if legend.get("illustrative") else "",
        "note": str(legend.get("note") or ""),
    }


@lru_cache(maxsize=1)
def context_paths() -> dict[str, list]:
    """Région and département borders as encoded lines (``coarse``, display coordinates).

    Département lines exclude région borders so nothing is drawn twice.
    """
    deps = to_display_coordinates(reference.load_departements("coarse"), "region")
    regs = to_display_coordinates(reference.load_regions("coarse"), "code")
    reg_lines = shapely.line_merge(shapely.union_all(shapely.boundary(regs.geometry.values)))
    dep_lines = shapely.line_merge(shapely.union_all(shapely.boundary(deps.geometry.values)))
    dep_only = shapely.difference(dep_lines, shapely.buffer(reg_lines, 1e-5))
    frames = shapely.boundary(inset_frames().geometry.values)
    regions, departements, boxes = encode_paths(
        [reg_lines, dep_only, shapely.union_all(frames)], CONTEXT_DECIMALS
    )
    return {"regions": regions, "departements": departements, "insets": boxes}


def base_spec(tiles: bool = False) -> dict:
    """The stable part of the national map, as JSON-ready data.

    Parameters
    ----------
    tiles : bool
        Add the OpenStreetMap background (needs a network; off by default).

    Returns
    -------
    dict
        ``{"k", "tiles", "bounds", "lines": [{"parts", "style"}], "labels":
        [[[lat, lng], text, [lat, lng]]]}``: context borders and the DROM boxes with
        their labels, in display coordinates.
    """
    context = context_paths()
    frames = inset_frames()
    return {
        "k": CONTEXT_DECIMALS,
        "tiles": bool(tiles),
        "bounds": NATIONAL_BOUNDS,
        "lines": [{"parts": context[name], "style": style} for name, style in _CONTEXT_STYLES.items()],
        # Each label at its box's top-left corner, with the opposite corner of its label strip
        # (the browser sizes the text to stay inside the box).
        "labels": [[[box.bounds[3], box.bounds[0]], str(label), [box.bounds[3] - INSET_LABEL_HEIGHT, box.bounds[2]]]
                   for label, box in zip(frames["label"], frames.geometry)],
    }


def layer_spec(
    colored: gpd.GeoDataFrame,
    legend: dict,
    indicator_label: str,
    selected: str | None = None,
    fit_key: str = "",
    fit_bounds: list | None = None,
    shapes: Mapping | None = None,
    towns: list | None = None,
) -> dict:
    """The view as JSON-ready data: territories, selection outline, legend, zoom, towns.

    Parameters
    ----------
    colored, legend :
        From :func:`tdi_geo.mapping.color_view` or :func:`~tdi_geo.mapping.color_diff`.
        An empty view gives a layer with no territory and its legend.
    indicator_label : str
        Label of the value shown in tooltips.
    selected : str, optional
        Territory id to outline.
    fit_key : str
        The map zooms when this key differs from the last one drawn (a new
        view), not when only the selection or the colours change.
    fit_bounds : list, optional
        ``[[south, west], [north, east]]`` to zoom to; default: the layer's
        bounds. Pass :data:`~tdi_geo.mapping.NATIONAL_BOUNDS` for the national view.
    shapes : mapping, optional
        Encoded shapes by territory id (:func:`encoded_shapes`), to skip encoding.
    towns : list, optional
        ``[[lat, lng], name]`` of towns to name on the map (display coordinates),
        e.g. :func:`tdi_geo.mapping.places.main_towns`.
    """
    check_frame(colored, "colored")
    spec = display_features(colored, indicator_label, shapes)
    outline = None
    if selected:
        chosen = colored[colored["id"] == selected]
        if not chosen.empty:
            display = to_display_coordinates(chosen, "region")
            outline = encode_paths(display.geometry.values, DISPLAY_DECIMALS)[0] or None
    spec.update(
        legend=legend_spec(legend),
        selected=outline,
        selected_style=SELECTED_STYLE,
        fit={"key": str(fit_key), "bounds": fit_bounds},
        towns=[[[float(lat), float(lng)], str(name)] for (lat, lng), name in (towns or [])],
    )
    return spec


def script_json(value) -> str:
    """JSON that is safe inside an HTML ``<script>`` element.

    ``<``, ``>``, ``&`` and the JavaScript line separators are written as
    ``\\uXXXX`` escapes, so no text can close the element or start a comment.

    Examples
    --------
    >>> script_json({"name": "</script><b>"})
    '{"name":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e"}'
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text


def _inline_script(text: str) -> str:
    """Code placed inside ``<script>``: no ``</script`` can end the element early."""
    return text.replace("</script", "<\\/script")


def standalone_html(base: dict, layer: dict, *, title: str, subtitle: str = "",
                    leaflet_js: str | None = None, leaflet_css: str | None = None) -> str:
    """A self-contained HTML page drawing the map with the same code as the app.

    Parameters
    ----------
    base, layer : dict
        From :func:`base_spec` and :func:`layer_spec`.
    title, subtitle : str
        Plain text shown above the map (and the page title): what the map
        shows, its date and its sources.
    leaflet_js, leaflet_css : str, optional
        URLs of Leaflet's files. By default Leaflet is inlined from the
        installed package (:mod:`tdi_geo.assets`): the page then needs no
        request at all, opens from ``file://`` and can be embedded with an
        ``<iframe>`` from any static host.
    """
    import html

    from tdi_geo import assets

    if leaflet_css is None:
        css_tag = f"<style>{(assets.leaflet_dir() / assets.LEAFLET_CSS).read_text(encoding='utf-8')}</style>"
    else:
        css_tag = f"<link rel=\"stylesheet\" href=\"{html.escape(leaflet_css, quote=True)}\">"
    if leaflet_js is None:
        js_tag = f"<script>{_inline_script((assets.leaflet_dir() / assets.LEAFLET_JS).read_text(encoding='utf-8'))}</script>"
    else:
        js_tag = f"<script src=\"{html.escape(leaflet_js, quote=True)}\"></script>"
    return (
        "<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{html.escape(title)}</title>{css_tag}{js_tag}"
        "<style>html,body{margin:0;height:100%;font-family:\"Source Sans Pro\",\"Segoe UI\",sans-serif}"
        "body{display:flex;flex-direction:column}.tdi-head{padding:6px 10px;font-size:13px;color:#333}"
        ".tdi-head h1{font-size:16px;margin:0 0 2px 0}.tdi-map{flex:1;min-height:300px}\n"
        f"{map_css()}</style></head><body>"
        f"<header class=\"tdi-head\"><h1>{html.escape(title)}</h1><div>{html.escape(subtitle)}</div></header>"
        "<div class=\"tdi-map\" id=\"tdi-map\" role=\"region\" "
        f"aria-label=\"{html.escape(title, quote=True)}\"></div>"
        f"<script type=\"application/json\" id=\"tdi-base\">{script_json(base)}</script>"
        f"<script type=\"application/json\" id=\"tdi-layer\">{script_json(layer)}</script>"
        f"<script type=\"module\">\n{_inline_script(map_js())}\ndrawStandalone(document.getElementById(\"tdi-map\"));\n</script>"
        "</body></html>\n"
    )
