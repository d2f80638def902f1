"""The national folium map: classes, colours, legend, tooltips, context, DROM insets.

A map is drawn in two parts so that a filter change does not rebuild the page:

- :func:`base_map` — the stable part: Leaflet map, région and département
  borders (``coarse`` lines), the « DROM rapprochés » boxes. It depends only on
  the reference geography and on the tiles toggle.
- :func:`territory_layer` — the view: one ``folium.GeoJson`` of the territories
  styled from a precomputed colour column, their tooltip and the legend (a
  Leaflet control that lives and dies with the layer).

Overseas territories are drawn in insets: their shapes are moved and scaled
with shapely affine transforms (:func:`to_display_coordinates`). Only the map
uses display coordinates; exports always use true WGS84 coordinates.

Palettes are colour-blind safe: ColorBrewer *YlGnBu* for numbers, Okabe–Ito
colours for statuses and diffs, and one explicit « Pas de donnée » grey.
"""

from __future__ import annotations

import html
import math
from functools import lru_cache

import folium
import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from folium.template import Template

from tdi_geo import assets, reference
from tdi_geo.indicators import INDICATORS
from tdi_geo.programme import PROVENANCES, STATUSES

# --- palettes ----------------------------------------------------------------

#: Colour of territories without a value, shown in every legend.
NO_DATA_COLOR = "#bdbdbd"
NO_DATA_LABEL = "Pas de donnée"

#: Status colours (Okabe–Ito, distinguishable with every common colour-vision deficiency).
STATUS_COLORS: dict[str, str] = {
    "identified": "#E69F00",
    "engaged": "#56B4E9",
    "protocol_signed": "#009E73",
    "contract_signed": "#0072B2",
}

#: Sequential ColorBrewer YlGnBu, light to dark, by number of classes.
SEQUENTIAL: dict[int, list[str]] = {
    1: ["#41b6c4"],
    2: ["#a1dab4", "#2c7fb8"],
    3: ["#edf8b1", "#7fcdbb", "#2c7fb8"],
    4: ["#ffffcc", "#a1dab4", "#41b6c4", "#225ea8"],
    5: ["#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"],
    6: ["#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494"],
    7: ["#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"],
}

#: Perimeter changes between two versions: key → (colour, French label).
DIFF_STYLES: dict[str, tuple[str, str]] = {
    "added": ("#0072B2", "Ajouté"),
    "removed": ("#D55E00", "Retiré"),
    "changed": ("#F0E442", "Périmètre modifié"),
    "unchanged": ("#dddddd", "Inchangé"),
}

#: Classification schemes offered for numeric indicators.
SCHEMES: dict[str, str] = {"quantiles": "Quantiles", "fisher_jenks": "Seuils naturels (Fisher-Jenks)"}

ILLUSTRATIVE_LABEL = "Illustratif : composition inventée"
_OUTLINE = "#333333"
_FILL_OPACITY = 0.85
_ILLUSTRATIVE_FILL_OPACITY = 0.5
_ILLUSTRATIVE_DASH = "4 3"

# --- overseas insets -----------------------------------------------------------

#: « DROM rapprochés »: région code → label and target box (lon/lat) west of Brittany.
DROM_INSETS: dict[str, dict] = {
    "01": {"label": "Guadeloupe", "box": (-10.2, 49.35, -6.9, 51.15)},
    "02": {"label": "Martinique", "box": (-10.2, 47.35, -6.9, 49.15)},
    "03": {"label": "Guyane", "box": (-10.2, 45.35, -6.9, 47.15)},
    "04": {"label": "La Réunion", "box": (-10.2, 43.35, -6.9, 45.15)},
    "06": {"label": "Mayotte", "box": (-10.2, 41.35, -6.9, 43.15)},
}
#: Bounds (south-west, north-east) of the national view: metropole and insets.
NATIONAL_BOUNDS = [[41.3, -10.3], [51.2, 9.6]]
#: Coordinate decimals sent to the browser (1e-4 degree ≈ 11 m, below the ``web`` tolerance).
DISPLAY_DECIMALS = 4
CONTEXT_DECIMALS = 3

#: Where the app serves :func:`tdi_geo.assets.leaflet_dir`, relative to the map's frame.
DEFAULT_ASSET_BASE = "../tdi_geo_leaflet"


def _check_frame(view, name: str = "view") -> None:
    if not isinstance(view, gpd.GeoDataFrame):
        raise TypeError(f"{name} must be a GeoDataFrame, got {type(view).__name__}")


# --- numbers -------------------------------------------------------------------


def format_number(value, decimals: int = 0) -> str:
    """French number formatting: ``1234567.8`` → ``"1 234 567,8"`` (narrow spaces)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)) or pd.isna(value):
        return NO_DATA_LABEL
    text = f"{float(value):,.{decimals}f}"
    return text.replace(",", "\u202f").replace(".", ",")


def format_value(value, indicator: str) -> str:
    """An indicator value as French text with its unit (``"1,2 M€"``, ``"3 projets"``)."""
    spec = INDICATORS[indicator]
    if spec["kind"] == "categorical":
        if value is None or pd.isna(value):
            return NO_DATA_LABEL
        return STATUSES.get(value, str(value))
    if value is None or pd.isna(value):
        return NO_DATA_LABEL
    unit = spec["unit"]
    if unit == "€":
        return format_euros(value)
    if unit == "€/hab.":
        return f"{format_number(value, 2)} €/hab."
    count = int(round(float(value)))
    word = unit if unit else ""
    if word == "projets" and count <= 1:
        word = "projet"
    return f"{format_number(count)} {word}".strip()


def format_euros(value) -> str:
    """Euros with a readable scale: ``108000000`` → ``"108 M€"``, ``450000`` → ``"450 k€"``."""
    if value is None or pd.isna(value):
        return NO_DATA_LABEL
    value = float(value)
    if abs(value) >= 1e6:
        decimals = 0 if abs(value) >= 1e8 else 1
        return f"{format_number(value / 1e6, decimals)} M€"
    if abs(value) >= 1e3:
        return f"{format_number(value / 1e3, 0)} k€"
    return f"{format_number(value, 0)} €"


# --- classification and colours ---------------------------------------------------


def classify(values, scheme: str = "quantiles", k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Class of each value for a numeric choropleth.

    Parameters
    ----------
    values : array-like of float
        Missing values (NaN/None) get class ``-1``.
    scheme : {"quantiles", "fisher_jenks"}
    k : int, 1 to 7
        Wanted number of classes; fewer are made when there are fewer distinct
        values (each distinct value is then its own class).

    Returns
    -------
    classes : ndarray of int
        0 (lowest) to ``len(bins) - 1``, or ``-1`` for no data.
    bins : ndarray of float
        Upper bound (inclusive) of each class, ascending, without duplicates.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {tuple(SCHEMES)}, got {scheme!r}")
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= max(SEQUENTIAL):
        raise ValueError(f"k must be an int from 1 to {max(SEQUENTIAL)}, got {k!r}")
    vals = pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(vals)
    classes = np.full(vals.shape, -1, dtype=int)
    distinct = np.unique(vals[ok])
    if distinct.size == 0:
        return classes, np.array([], dtype=float)
    if distinct.size <= k:
        bins = distinct
    else:
        classifier = mapclassify.Quantiles if scheme == "quantiles" else mapclassify.FisherJenks
        bins = np.unique(np.asarray(classifier(vals[ok], k=k).bins, dtype=float))
    bins[-1] = max(bins[-1], distinct[-1])
    classes[ok] = np.searchsorted(bins, vals[ok], side="left")
    return classes, bins


def _class_labels(values: np.ndarray, classes: np.ndarray, n: int, indicator: str) -> list[str]:
    """Legend label of each class from the values actually in it (« min – max »)."""
    labels = []
    for i in range(n):
        members = values[classes == i]
        if members.size == 0:
            labels.append("—")
            continue
        low, high = members.min(), members.max()
        if low == high:
            labels.append(format_value(low, indicator))
        else:
            labels.append(f"{format_value(low, indicator)} – {format_value(high, indicator)}")
    return labels


def color_view(view: gpd.GeoDataFrame, indicator: str = "status", scheme: str = "quantiles", k: int = 5):
    """Colour each territory of a view for one indicator.

    Parameters
    ----------
    view : GeoDataFrame
        From :func:`tdi_geo.indicators.build_view` (needs the indicator column,
        ``provenance`` and ``name``).
    indicator : str
        Key of :data:`tdi_geo.indicators.INDICATORS`.
    scheme, k :
        Classification of numeric indicators, see :func:`classify`.

    Returns
    -------
    colored : GeoDataFrame
        A copy with ``fill`` (hex colour), ``value_text`` (French) and
        ``illustrative`` (bool) columns.
    legend : dict
        ``{"title", "items": [(colour, label)], "no_data": (colour, label),
        "illustrative": bool, "note"}`` — what :func:`legend_html` draws.
    """
    _check_frame(view)
    if indicator not in INDICATORS:
        raise ValueError(f"Indicateur inconnu : « {indicator} ».")
    if indicator not in view.columns:
        raise ValueError(f"La vue n'a pas de colonne « {indicator} ».")
    spec = INDICATORS[indicator]
    out = view.copy()
    out["illustrative"] = _illustrative(out)
    if spec["kind"] == "categorical":
        fill = out[indicator].map(STATUS_COLORS)
        present = set(out[indicator].dropna())
        items = [(STATUS_COLORS[s], STATUSES[s]) for s in STATUSES if s in present or not present]
        note = ""
    else:
        values = pd.to_numeric(out[indicator], errors="coerce").to_numpy(dtype=float)
        classes, bins = classify(values, scheme, k)
        palette = SEQUENTIAL[max(len(bins), 1)]
        fill = pd.Series([palette[c] if c >= 0 else None for c in classes], index=out.index)
        items = list(zip(palette[: len(bins)], _class_labels(values, classes, len(bins), indicator)))
        note = f"Classes : {SCHEMES[scheme].lower()}, {len(bins)} classe{'s' if len(bins) > 1 else ''}"
    out["fill"] = fill.fillna(NO_DATA_COLOR).astype(str)
    out["value_text"] = [format_value(v, indicator) for v in out[indicator]]
    legend = {
        "title": _legend_title(view, indicator),
        "items": items,
        "no_data": (NO_DATA_COLOR, NO_DATA_LABEL),
        "illustrative": bool(out["illustrative"].any()),
        "note": note,
    }
    return out, legend


def color_diff(diff: gpd.GeoDataFrame, date_a: str, date_b: str):
    """Colour a :func:`tdi_geo.perimeters.diff_geometries` frame by ``change``.

    Returns
    -------
    colored, legend :
        Same shapes as :func:`color_view`; legend labels carry the counts.
    """
    _check_frame(diff, "diff")
    unknown = set(diff["change"]) - set(DIFF_STYLES)
    if unknown:
        raise ValueError(f"Valeur de « change » inconnue : {', '.join(sorted(map(str, unknown)))}")
    out = diff.copy()
    out["illustrative"] = _illustrative(out)
    out["fill"] = out["change"].map({k: v[0] for k, v in DIFF_STYLES.items()})
    out["value_text"] = out["change"].map({k: v[1] for k, v in DIFF_STYLES.items()})
    counts = out["change"].value_counts()
    items = [(color, f"{label} ({int(counts.get(key, 0))})") for key, (color, label) in DIFF_STYLES.items()]
    legend = {
        "title": f"Évolution du périmètre : {_fr_date(date_a)} → {_fr_date(date_b)}",
        "items": items,
        "no_data": None,
        "illustrative": bool(out["illustrative"].any()),
        "note": "",
    }
    return out, legend


def _illustrative(frame: pd.DataFrame) -> pd.Series:
    if "illustrative" in frame.columns:
        return frame["illustrative"].fillna(False).astype(bool)
    return frame["provenance"].eq("illustrative")


def _legend_title(view: pd.DataFrame, indicator: str) -> str:
    title = INDICATORS[indicator]["label"]
    pillar = view.attrs.get("tdi_view", {}).get("pillar")
    if pillar and indicator != "status":
        from tdi_geo.programme import PILLARS

        title += f" — pilier « {PILLARS.get(pillar, pillar)} »"
    return title


def _fr_date(date: str) -> str:
    y, m, d = str(date)[:10].split("-")
    return f"{d}/{m}/{y}"


def feature_style(fill: str, illustrative: bool) -> dict:
    """Leaflet path style of one territory: illustrative ones are paler and dashed."""
    return {
        "fillColor": fill,
        "fillOpacity": _ILLUSTRATIVE_FILL_OPACITY if illustrative else _FILL_OPACITY,
        "color": _OUTLINE,
        "weight": 1.1 if illustrative else 0.7,
        "dashArray": _ILLUSTRATIVE_DASH if illustrative else None,
    }


# --- text -------------------------------------------------------------------------


def tooltip_html(row, indicator_label: str, region_names: dict[str, str] | None = None) -> str:
    """Escaped HTML of one territory's tooltip."""
    esc = html.escape
    region = row.get("region_name") or (region_names or {}).get(row.get("region"), row.get("region") or "")
    lines = [f"<b>{esc(str(row['name']))}</b>", esc(str(region))]
    lines.append(f"{esc(indicator_label)} : {esc(str(row['value_text']))}")
    if indicator_label != INDICATORS["status"]["label"] and isinstance(row.get("status"), str):
        lines.append(f"Statut : {esc(STATUSES.get(row['status'], row['status']))}")
    if row.get("fragile") is True:
        lines.append("Territoire fragile (chef de projet cofinancé)")
    if row.get("partial") is True:
        lines.append("<i>Périmètre partiel (membres connus seulement)</i>")
    if row["illustrative"]:
        lines.append("<i>Illustratif : composition inventée, pas une donnée publiée</i>")
    else:
        lines.append(esc(PROVENANCES.get(row.get("provenance"), str(row.get("provenance") or ""))))
    return "<br>".join(lines)


def legend_html(legend: dict) -> str:
    """Escaped HTML of the in-map legend (French)."""
    esc = html.escape

    def swatch(color: str, dashed: bool = False, opacity: float = _FILL_OPACITY) -> str:
        border = f"1.5px dashed {_OUTLINE}" if dashed else f"1px solid {_OUTLINE}"
        return (
            f'<i class="tdi-sw" style="background:{esc(color)};opacity:{opacity};'
            f'border:{border}"></i>'
        )

    parts = [f'<div class="tdi-legend-title">{esc(legend["title"])}</div>']
    for color, label in legend["items"]:
        parts.append(f'<div class="tdi-row">{swatch(color)}<span>{esc(label)}</span></div>')
    if legend.get("no_data"):
        color, label = legend["no_data"]
        parts.append(f'<div class="tdi-row">{swatch(color)}<span>{esc(label)}</span></div>')
    if legend.get("illustrative"):
        parts.append(
            f'<div class="tdi-row tdi-ill">{swatch("#ffffff", dashed=True, opacity=1)}'
            f"<span>{esc(ILLUSTRATIVE_LABEL)} (contour pointillé, teinte pâle)</span></div>"
        )
    if legend.get("note"):
        parts.append(f'<div class="tdi-note">{esc(legend["note"])}</div>')
    return "".join(parts)


# --- display coordinates ------------------------------------------------------------


@lru_cache(maxsize=1)
def _inset_matrices() -> dict[str, list[float]]:
    """Affine matrix (shapely order a, b, d, e, xoff, yoff) moving each DROM into its box."""
    regions = reference.load_regions("coarse").set_index("code")
    matrices = {}
    for code, inset in DROM_INSETS.items():
        minx, miny, maxx, maxy = regions.loc[code, "geometry"].bounds
        bx0, by0, bx1, by1 = inset["box"]
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
    _check_frame(frame, "frame")
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
    _check_frame(display_view, "display_view")
    if display_view.empty:
        return None
    point = shapely.Point(float(lng), float(lat))
    hits = display_view.sindex.query(point, predicate="intersects")
    if len(hits) == 0:
        return None
    return str(display_view.iloc[int(hits[0])]["id"])


# --- GeoJSON for the browser -----------------------------------------------------------


def _rounded(geoms: np.ndarray, decimals: int) -> np.ndarray:
    return shapely.transform(geoms, lambda coords: np.round(coords, decimals))


def _feature_collection(geoms: np.ndarray, ids: list, properties: list[dict]) -> dict:
    features = []
    for geom, fid, props in zip(geoms, ids, properties):
        if geom is None or geom.is_empty:
            continue
        features.append(
            {"type": "Feature", "id": fid, "properties": props, "geometry": shapely.geometry.mapping(geom)}
        )
    return {"type": "FeatureCollection", "features": features}


@lru_cache(maxsize=1)
def context_geojson() -> dict[str, dict]:
    """Région and département borders as lines (``coarse``, display coordinates).

    Returns
    -------
    dict
        ``{"departements": FeatureCollection, "regions": FeatureCollection}``:
        département lines exclude région borders so nothing is drawn twice.
    """
    deps = to_display_coordinates(reference.load_departements("coarse"), "region")
    regs = to_display_coordinates(reference.load_regions("coarse"), "code")
    reg_lines = shapely.line_merge(shapely.union_all(shapely.boundary(regs.geometry.values)))
    dep_lines = shapely.line_merge(shapely.union_all(shapely.boundary(deps.geometry.values)))
    dep_only = shapely.difference(dep_lines, shapely.buffer(reg_lines, 1e-5))
    geoms = _rounded(np.array([reg_lines, dep_only], dtype=object), CONTEXT_DECIMALS)
    return {
        "regions": _feature_collection(geoms[:1], ["regions"], [{}]),
        "departements": _feature_collection(geoms[1:], ["departements"], [{}]),
    }


def display_geojson(colored: gpd.GeoDataFrame, indicator_label: str) -> tuple[dict, dict]:
    """The minimal GeoJSON drawn for a coloured view, and each feature's style.

    Properties are only ``tip`` (escaped tooltip HTML); ids are territory ids.
    Coordinates are in display space and rounded to :data:`DISPLAY_DECIMALS`.
    """
    display = to_display_coordinates(colored, "region")
    tips = [tooltip_html(row, indicator_label) for row in display.drop(columns="geometry").to_dict("records")]
    geoms = _rounded(display.geometry.values, DISPLAY_DECIMALS)
    ids = display["id"].astype(str).tolist()
    data = _feature_collection(geoms, ids, [{"tip": t} for t in tips])
    styles = {
        fid: feature_style(fill, bool(ill))
        for fid, fill, ill in zip(ids, display["fill"], display["illustrative"])
    }
    return data, styles


# --- folium elements ---------------------------------------------------------------------

_MAP_CSS = """
<style>
.leaflet-container { background: #f7f9fb; font-family: "Source Sans Pro", "Segoe UI", sans-serif; }
.tdi-legend { background: rgba(255,255,255,.94); padding: 8px 10px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,.3); font-size: 12.5px; line-height: 1.35; color: #222;
  max-width: 270px; }
.tdi-legend-title { font-weight: 600; margin-bottom: 4px; }
.tdi-row { display: flex; align-items: center; margin: 2px 0; }
.tdi-sw { display: inline-block; flex: 0 0 auto; width: 16px; height: 12px; margin-right: 6px;
  box-sizing: border-box; }
.tdi-note { color: #555; margin-top: 4px; font-size: 11.5px; }
.tdi-inset-label { font-size: 11px; color: #444; white-space: nowrap; font-weight: 600; background: none; border: none; }
.leaflet-tooltip { font-size: 12.5px; }
</style>
"""


class _LayerLegend(MacroElement):
    """A legend control added and removed together with its parent layer."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(layer) {
            var legend = L.control({position: "bottomright"});
            legend.onAdd = function() {
                var div = L.DomUtil.create("div", "tdi-legend");
                div.setAttribute("data-testid", "tdi-legend");
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            function show() { if (layer._map && !legend._map) { legend.addTo(layer._map); } }
            layer.on("add", show);
            layer.on("remove", function() { legend.remove(); });
            show();
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str):
        super().__init__()
        self._name = "TdiLegend"
        self.html = html_text


class _FitOnViewChange(MacroElement):
    """Zoom to the view when it changed (not when merely the selection changed)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(layer) {
            function fit() {
                var map = layer._map;
                if (!map || window.__tdiFitKey === {{ this.key|tojson }}) { return; }
                window.__tdiFitKey = {{ this.key|tojson }};
                var bounds = {{ this.bounds|tojson }} ? L.latLngBounds({{ this.bounds|tojson }}) : layer.getBounds();
                // Keep the bottom free for the legend: the national view has vertical slack.
                var legend = map.getContainer().querySelector(".tdi-legend");
                var below = legend ? legend.offsetHeight + 12 : 8;
                if (bounds.isValid()) {
                    map.fitBounds(bounds, {paddingTopLeft: [8, 8], paddingBottomRight: [8, below], maxZoom: 10});
                }
            }
            layer.on("add", fit);
            fit();
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, key: str, bounds: list | None):
        super().__init__()
        self._name = "TdiFit"
        self.key = key
        self.bounds = bounds


class _InsetLabels(MacroElement):
    """Non-interactive text labels of the DROM boxes (div icons, no marker image)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.labels|tojson }}.forEach(function(item) {
            L.marker(item[0], {
                icon: L.divIcon({className: "tdi-inset-label", html: item[1], iconSize: null, iconAnchor: [-4, -3]}),
                interactive: false, keyboard: false
            }).addTo({{ this._parent.get_name() }});
        });
        {% endmacro %}
        """
    )

    def __init__(self, labels: list[tuple[list[float], str]]):
        super().__init__()
        self._name = "TdiInsetLabels"
        self.labels = [[latlng, html.escape(text)] for latlng, text in labels]


def base_map(tiles: bool = False, asset_base: str = DEFAULT_ASSET_BASE) -> folium.Map:
    """The stable part of the national map.

    Parameters
    ----------
    tiles : bool
        Add the OpenStreetMap background (needs a network; off by default).
    asset_base : str
        URL where Leaflet's dist directory is served (see :mod:`tdi_geo.assets`).

    Returns
    -------
    folium.Map
        No CDN asset: only Leaflet from ``asset_base``.
    """
    fmap = folium.Map(
        location=[46.3, -0.5],
        zoom_start=5,
        tiles=None,
        zoom_snap=0.25,
        zoom_delta=0.5,
        min_zoom=4,
        max_zoom=12,
        attribution_control=True,
        control_scale=False,
        zoom_control="topright",
    )
    fmap.get_root().header.add_child(Element(_MAP_CSS), name="tdi_css")
    if tiles:
        folium.TileLayer(
            "OpenStreetMap", name="Fond OpenStreetMap", attr="© contributeurs OpenStreetMap", control=False
        ).add_to(fmap)
    context = context_geojson()
    folium.GeoJson(
        context["departements"],
        name="Départements",
        style_function=lambda _f: {"color": "#9aa3ab", "weight": 0.5, "fill": False},
        interactive=False,
        control=False,
    ).add_to(fmap)
    folium.GeoJson(
        context["regions"],
        name="Régions",
        style_function=lambda _f: {"color": "#59626b", "weight": 1.2, "fill": False},
        interactive=False,
        control=False,
    ).add_to(fmap)
    frames = inset_frames()
    folium.GeoJson(
        _feature_collection(frames.boundary.values, frames["region"].tolist(), [{}] * len(frames)),
        name="DROM rapprochés",
        style_function=lambda _f: {"color": "#8a939b", "weight": 1, "dashArray": "2 3", "fill": False},
        interactive=False,
        control=False,
    ).add_to(fmap)
    fmap.add_child(
        _InsetLabels([([box.bounds[3], box.bounds[0]], label) for label, box in zip(frames["label"], frames.geometry)])
    )
    fmap.fit_bounds(NATIONAL_BOUNDS)
    return assets.make_offline(fmap, asset_base)


def territory_layer(
    colored: gpd.GeoDataFrame,
    legend: dict,
    indicator_label: str,
    selected: str | None = None,
    fit_key: str = "",
    fit_bounds: list | None = None,
) -> folium.FeatureGroup:
    """The view as a feature group: territories, selection outline and legend.

    Parameters
    ----------
    colored, legend :
        From :func:`color_view` or :func:`color_diff`.
    indicator_label : str
        Label of the value shown in tooltips.
    selected : str, optional
        Territory id to outline.
    fit_key : str
        The map zooms when this key differs from the last one drawn (a new
        view), not when only the selection changes.
    fit_bounds : list, optional
        ``[[south, west], [north, east]]`` to zoom to; default: the layer's
        bounds. Pass :data:`NATIONAL_BOUNDS` for the national view.
    """
    _check_frame(colored, "colored")
    group = folium.FeatureGroup(name="Territoires", control=False)
    data, styles = display_geojson(colored, indicator_label)
    default = feature_style(NO_DATA_COLOR, False)
    folium.GeoJson(
        data,
        name="Territoires d'industrie",
        style_function=lambda f: styles.get(f.get("id"), default),
        highlight_function=lambda _f: {"weight": 2.5, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
    ).add_to(group)
    if selected:
        chosen = colored[colored["id"] == selected]
        if not chosen.empty:
            display = to_display_coordinates(chosen, "region")
            folium.GeoJson(
                _feature_collection(_rounded(display.geometry.values, DISPLAY_DECIMALS), [selected], [{}]),
                name="Sélection",
                style_function=lambda _f: {"color": "#d10069", "weight": 3.5, "fill": False},
                interactive=False,
            ).add_to(group)
    group.add_child(_LayerLegend(legend_html(legend)))
    group.add_child(_FitOnViewChange(fit_key, fit_bounds))
    return group
