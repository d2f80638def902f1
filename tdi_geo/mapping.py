"""The national folium map: classes, colours, legend, tooltips, context, DROM insets.

A map is drawn in two parts so that a filter change does not rebuild the page:

- :func:`base_map` — the stable part: Leaflet map, région and département
  borders (``coarse`` lines), the « DROM rapprochés » boxes. It depends only on
  the reference geography and on the tiles toggle.
- :func:`territory_layer` — the view: the territories styled from a
  precomputed colour column (:func:`color_view`, never ``folium.Choropleth``),
  their tooltip and the legend (a Leaflet control that lives and dies with the
  layer). The app swaps this feature group without recreating the map.

Shapes do not travel as ``folium.GeoJson`` text (~18 characters per vertex)
but as encoded paths (~3–5 characters, :func:`encode_paths`) that a few lines
of JS turn into Leaflet polygons: the default view's message is ~4 times
smaller, which is most of what the browser receives beyond Streamlit itself.

Overseas territories are drawn in insets: their shapes are moved and scaled
with shapely affine transforms (:func:`to_display_coordinates`). Only the map
uses display coordinates; exports always use true WGS84 coordinates.

Palettes are colour-blind safe: ColorBrewer *YlGnBu* for numbers, Okabe–Ito
colours for statuses and diffs, and one explicit « Pas de donnée » grey.
"""

from __future__ import annotations

import html
import math
import warnings
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
_INSET_LABEL_HEIGHT = 0.3
#: Bounds (south-west, north-east) of the national view: metropole and insets.
NATIONAL_BOUNDS = [[41.3, -10.3], [51.2, 9.6]]
#: Coordinate decimals sent to the browser: 1e-3 degree (≤ 55 m of rounding) is far
#: below the 600 m tolerance of the ``web`` shapes, and under a pixel up to zoom 10.
DISPLAY_DECIMALS = 3
CONTEXT_DECIMALS = 3

#: Where the app serves :func:`tdi_geo.assets.leaflet_dir`, relative to the page that runs the map.
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
        with warnings.catch_warnings():
            # Ties and the pure-Python Fisher-Jenks only warn; duplicate bins are dropped below.
            warnings.simplefilter("ignore", UserWarning)
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
            labels.append(_range_label(low, high, indicator))
    return labels


def _range_label(low: float, high: float, indicator: str) -> str:
    """« 0,80 – 3,31 €/hab. »: the unit once, unless the two ends use different scales."""
    unit = INDICATORS[indicator]["unit"]
    if unit == "€":
        low_text, high_text = format_euros(low), format_euros(high)
        if low_text.split()[-1] == high_text.split()[-1]:
            low_text = low_text.rsplit(" ", 1)[0]
        return f"{low_text} – {high_text}"
    if unit == "€/hab.":
        return f"{format_number(low, 2)} – {format_value(high, indicator)}"
    return f"{format_number(low)} – {format_value(high, indicator)}"


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
    out["emphasis"] = out["change"] != "unchanged"
    counts = out["change"].value_counts()
    items = [(color, f"{label} ({int(counts.get(key, 0))})") for key, (color, label) in DIFF_STYLES.items()]
    legend = {
        "title": f"Évolution du périmètre : {format_date(date_a)} → {format_date(date_b)}",
        "items": items,
        "no_data": (NO_DATA_COLOR, NO_DATA_LABEL),
        "illustrative": bool(out["illustrative"].any()),
        "note": "",
    }
    return out, legend


def diff_view(prog, date_from: str, date_to: str, regions=(), resolution: str = "web") -> gpd.GeoDataFrame:
    """The view of the comparison mode: territories of both dates with ``change``.

    Parameters
    ----------
    prog : Programme
    date_from, date_to : str
        The two perimeter versions.
    regions : iterable of str
        INSEE région codes to keep; empty means all.
    resolution : str
        Reference resolution of the shapes.

    Returns
    -------
    GeoDataFrame
        :func:`tdi_geo.perimeters.diff_geometries` columns plus
        ``region_name`` and ``illustrative``; the comparison state in
        ``attrs["tdi_view"]`` (as exports expect).
    """
    from tdi_geo.perimeters import diff_geometries

    regions = sorted({str(r) for r in regions})
    frame = diff_geometries(prog, date_from, date_to, resolution)
    if regions:
        frame = frame[frame["region"].isin(regions)].reset_index(drop=True)
    frame["region_name"] = frame["region"].map(reference.region_names())
    frame["illustrative"] = frame["provenance"].eq("illustrative")
    frame.attrs["tdi_view"] = {
        "mode": "diff",
        "date_from": date_from,
        "date": date_to,
        "regions": regions,
        "dataset": str(prog.meta.get("name") or prog.dataset_dir.name),
    }
    return frame


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


def format_date(date: str) -> str:
    """An ISO date as French users write it: ``2019-09-24`` → ``24/09/2019``."""
    y, m, d = str(date)[:10].split("-")
    return f"{d}/{m}/{y}"


def feature_style(fill: str, illustrative: bool, emphasis: bool = False) -> dict:
    """Leaflet path style of one territory: illustrative ones are paler and dashed;
    emphasised ones (a diff's changes) get a thick dark outline."""
    return {
        "fillColor": fill,
        "fillOpacity": _ILLUSTRATIVE_FILL_OPACITY if illustrative else _FILL_OPACITY,
        "color": "#000000" if emphasis else _OUTLINE,
        "weight": 2.4 if emphasis else (1.1 if illustrative else 0.7),
        "dashArray": _ILLUSTRATIVE_DASH if illustrative else None,
    }


# --- text -------------------------------------------------------------------------


#: Fixed tooltip sentences (French), sent once per layer.
TOOLTIP_TEXTS = {
    "status": "Statut",
    "fragile": "Territoire fragile (chef de projet cofinancé)",
    "partial": "Périmètre partiel (membres connus seulement)",
    "illustrative": "Illustratif : composition inventée, pas une donnée publiée",
}
#: Bits of the ``flags`` field of a feature sent to the browser.
FLAG_ILLUSTRATIVE, FLAG_FRAGILE, FLAG_PARTIAL = 1, 2, 4


def tooltip_parts(row, indicator_label: str) -> dict:
    """The pieces of one territory's tooltip, each HTML-escaped.

    The browser joins them (``_TERRITORIES_JS``); nothing in a territory's
    text can become markup.
    """
    esc = html.escape
    status = ""
    if indicator_label != INDICATORS["status"]["label"] and isinstance(row.get("status"), str):
        status = esc(STATUSES.get(row["status"], row["status"]))
    flags = (
        (FLAG_ILLUSTRATIVE if bool(row.get("illustrative")) else 0)
        | (FLAG_FRAGILE if row.get("fragile") is True else 0)
        | (FLAG_PARTIAL if row.get("partial") is True else 0)
    )
    return {
        "name": esc(str(row["name"])),
        "region": esc(str(row.get("region_name") or row.get("region") or "")),
        "value": esc(str(row["value_text"])),
        "status": status,
        "provenance": esc(PROVENANCES.get(row.get("provenance"), str(row.get("provenance") or ""))),
        "flags": flags,
    }


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
        by1 -= _INSET_LABEL_HEIGHT  # the label strip at the top of the box stays free
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


# --- compact geometry for the browser ------------------------------------------------------
#
# The map's shapes travel inside the component's arguments (websocket). GeoJSON
# spends ~18 characters per vertex; here each path is an encoded polyline
# string (quantised, delta-encoded, zigzag, 5-bit chunks with a continuation
# bit, as Google's polyline algorithm, applied to lng/lat), about 5 characters
# per vertex. The 64 symbols are the URL-safe base64 alphabet, so the strings
# never contain characters that JSON, HTML or Jinja (folium renders scripts
# through Jinja twice) would alter. The browser decodes them with a few lines
# of JS (``_DECODER_JS``).

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_ALPHABET_CODES = np.frombuffer(_ALPHABET.encode("ascii"), dtype=np.uint8)
_SYMBOL = {ch: i for i, ch in enumerate(_ALPHABET)}


def encode_paths(geoms, decimals: int) -> list[list[list[str]]]:
    """Encode (multi)polygons or (multi)lines as nested lists of polyline strings.

    Parameters
    ----------
    geoms : array-like of shapely geometries
    decimals : int
        Coordinates are rounded to this many decimals (1e-``decimals`` degree).

    Returns
    -------
    list
        One item per geometry: a list of parts (polygons or lines), each a
        list of paths (rings; the closing vertex is dropped, Leaflet closes
        rings). Empty geometries give ``[]``.
    """
    arr = np.asarray(geoms, dtype=object)
    parts, part_geom = shapely.get_parts(arr, return_index=True)
    is_polygon = shapely.get_type_id(parts) == 3
    rings_poly, ring_part_poly = shapely.get_rings(parts[is_polygon], return_index=True)
    poly_part_ids = np.flatnonzero(is_polygon)[ring_part_poly]
    line_part_ids = np.flatnonzero(~is_polygon)
    paths = np.concatenate([rings_poly, parts[~is_polygon]])
    path_part = np.concatenate([poly_part_ids, line_part_ids])
    order = np.argsort(path_part, kind="stable")
    paths, path_part = paths[order], path_part[order]
    closed = np.concatenate([np.ones(len(rings_poly), bool), np.zeros(len(line_part_ids), bool)])[order]

    coords, coord_path = shapely.get_coordinates(paths, return_index=True)
    if closed.any():  # drop each ring's closing vertex
        last = np.r_[coord_path[1:] != coord_path[:-1], True]
        keep = ~(last & closed[coord_path])
        coords, coord_path = coords[keep], coord_path[keep]
    quantised = np.round(coords * 10**decimals).astype(np.int64)
    first = np.r_[True, coord_path[1:] != coord_path[:-1]]
    delta = quantised.copy()
    delta[1:] -= quantised[:-1]
    delta[first] = quantised[first]
    values = delta.reshape(-1)
    zigzag = np.where(values < 0, ~(values << 1), values << 1)
    n_chunks = 1 + sum(((zigzag >> (5 * k)) > 0).astype(int) for k in range(1, 7))
    ks = np.arange(7)
    chunks = (zigzag[:, None] >> (5 * ks)) & 31
    more = ks[None, :] < (n_chunks[:, None] - 1)
    symbols = chunks | np.where(more, 0x20, 0)
    text = _ALPHABET_CODES[symbols[ks[None, :] < n_chunks[:, None]]].tobytes().decode("ascii")
    per_vertex = n_chunks.reshape(-1, 2).sum(axis=1)
    per_path = np.bincount(coord_path, weights=per_vertex, minlength=len(paths)).astype(int)
    ends = np.cumsum(per_path)
    starts = ends - per_path

    out: list[list[list[str]]] = [[] for _ in range(len(arr))]
    last_part = -1
    for path_index, part_index in enumerate(path_part):
        if part_index != last_part:
            out[part_geom[part_index]].append([])
            last_part = part_index
        out[part_geom[part_index]][-1].append(text[starts[path_index]:ends[path_index]])
    return out


def decode_path(text: str, decimals: int) -> list[tuple[float, float]]:
    """Inverse of one :func:`encode_paths` string: ``[(lng, lat), ...]``."""
    values, index = [], 0
    while index < len(text):
        result, shift = 0, 0
        while True:
            byte = _SYMBOL[text[index]]
            index += 1
            result |= (byte & 31) << shift
            shift += 5
            if byte < 32:
                break
        values.append(~(result >> 1) if result & 1 else result >> 1)
    coords = np.cumsum(np.array(values, dtype=np.int64).reshape(-1, 2), axis=0) / 10**decimals
    return [tuple(c) for c in coords]


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


def display_features(colored: gpd.GeoDataFrame, indicator_label: str) -> dict:
    """What the browser needs to draw a coloured view, compactly.

    Returns
    -------
    dict
        ``{"k": decimals, "label", "texts", "regions": [...], "provenances":
        [...], "styles": [...], "features": [[id, style index, flags, name,
        région index, value, status, provenance index, parts], ...]}`` in
        display coordinates. Repeated strings are sent once; every text is
        HTML-escaped (:func:`tooltip_parts`).
    """
    display = to_display_coordinates(colored, "region")
    records = display.drop(columns="geometry").to_dict("records")
    encoded = encode_paths(display.geometry.values, DISPLAY_DECIMALS)
    tables: dict[str, dict[str, int]] = {"styles": {}, "regions": {}, "provenances": {}}

    def index_of(table: str, value) -> int:
        return tables[table].setdefault(value, len(tables[table]))

    features = []
    for record, parts in zip(records, encoded):
        if not parts:
            continue
        tip = tooltip_parts(record, indicator_label)
        style = index_of("styles", (record["fill"], bool(tip["flags"] & FLAG_ILLUSTRATIVE),
                                    bool(record.get("emphasis", False))))
        features.append([
            str(record["id"]), style, tip["flags"], tip["name"], index_of("regions", tip["region"]),
            tip["value"], tip["status"], index_of("provenances", tip["provenance"]), parts,
        ])
    return {
        "k": DISPLAY_DECIMALS,
        "label": html.escape(indicator_label),
        "texts": {key: html.escape(text) for key, text in TOOLTIP_TEXTS.items()},
        "regions": list(tables["regions"]),
        "provenances": list(tables["provenances"]),
        "styles": [feature_style(*key) for key in tables["styles"]],
        "features": features,
    }


# --- folium elements ---------------------------------------------------------------------

#: The map's own styles (legend, labels, tooltips), for a page that hosts the map itself.
MAP_CSS = """
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
"""
_MAP_CSS = f"<style>\n{MAP_CSS}</style>"


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


#: Decoder of :func:`encode_paths` strings into Leaflet ``[lat, lng]`` arrays.
_DECODER_JS = """
window.tdiDecode = window.tdiDecode || (function() {
    var alphabet = "%s", symbol = new Int8Array(128);
    for (var s = 0; s < 64; s++) { symbol[alphabet.charCodeAt(s)] = s; }
    return function(text, k) {
        var out = [], i = 0, x = 0, y = 0, scale = Math.pow(10, k);
        function next() {
            var result = 0, shift = 0, b;
            do { b = symbol[text.charCodeAt(i++)]; result |= (b & 31) << shift; shift += 5; } while (b >= 32);
            return (result & 1) ? ~(result >> 1) : (result >> 1);
        }
        while (i < text.length) { x += next(); y += next(); out.push([y / scale, x / scale]); }
        return out;
    };
})();
""" % _ALPHABET


class _EncodedLayer(MacroElement):
    """Non-interactive lines or polygon outlines from :func:`encode_paths` data."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        """
        + _DECODER_JS
        + """
        (function(parent) {
            var parts = {{ this.parts|tojson }};
            var paths = [];
            parts.forEach(function(part) {
                {% if this.polygon %}paths.push(part.map(function(r) { return window.tdiDecode(r, {{ this.k }}); }));
                {% else %}part.forEach(function(p) { paths.push(window.tdiDecode(p, {{ this.k }})); });{% endif %}
            });
            if (paths.length) {
                L.{{ "polygon" if this.polygon else "polyline" }}(paths, {{ this.style|tojson }}).addTo(parent);
            }
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, parts: list, decimals: int, style: dict, polygon: bool = False):
        super().__init__()
        self._name = "TdiEncodedLayer"
        self.parts = parts
        self.k = int(decimals)
        self.style = {**style, "interactive": False}
        self.polygon = polygon


class _TerritoryPolygons(MacroElement):
    """The view's territories: styled polygons with tooltip, hover and a ``data-tdi-id``."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        """
        + _DECODER_JS
        + """
        (function(group) {
            var data = {{ this.data|tojson }}, t = data.texts;
            function tip(f) {
                var lines = ["<b>" + f[3] + "</b>", data.regions[f[4]], data.label + " : " + f[5]];
                if (f[6]) { lines.push(t.status + " : " + f[6]); }
                if (f[2] & 2) { lines.push(t.fragile); }
                if (f[2] & 4) { lines.push("<i>" + t.partial + "</i>"); }
                lines.push((f[2] & 1) ? "<i>" + t.illustrative + "</i>" : data.provenances[f[7]]);
                return lines.join("<br>");
            }
            data.features.forEach(function(f) {
                var latlngs = f[8].map(function(part) {
                    return part.map(function(ring) { return window.tdiDecode(ring, data.k); });
                });
                var base = data.styles[f[1]];
                var poly = L.polygon(latlngs, Object.assign(
                    {className: "tdi-territory" + ((f[2] & 1) ? " tdi-illustrative" : "")}, base));
                poly.bindTooltip(function() { return tip(f); }, {sticky: true});
                poly.on("mouseover", function() { poly.setStyle({weight: 2.5, color: "#000000"}); });
                poly.on("mouseout", function() { poly.setStyle(base); });
                poly.on("add", function() {
                    var el = poly.getElement();
                    if (el) { el.setAttribute("data-tdi-id", f[0]); }
                });
                poly.addTo(group);
            });
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, data: dict):
        super().__init__()
        self._name = "TdiTerritories"
        self.data = data


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
        Context borders, DROM boxes and their labels; no CDN asset, only
        Leaflet from ``asset_base``.
    """
    fmap = folium.Map(
        location=[46.3, -0.5],
        zoom_start=5,
        tiles=None,
        zoom_snap=0.25,
        zoom_delta=0.5,
        min_zoom=4,
        max_zoom=12,
        control_scale=False,
        zoom_control="topright",
        # Leaflet's keyboard handler focuses the map on mousedown, which makes the
        # browser scroll the page when the map is partly off-screen: the click then
        # lands elsewhere. Territories stay reachable from the « Territoire » list.
        keyboard=False,
    )
    fmap.get_root().header.add_child(Element(_MAP_CSS), name="tdi_css")
    if tiles:
        folium.TileLayer(
            "OpenStreetMap", name="Fond OpenStreetMap", attr="© contributeurs OpenStreetMap", control=False
        ).add_to(fmap)
    context = context_paths()
    fmap.add_child(_EncodedLayer(context["departements"], CONTEXT_DECIMALS, {"color": "#9aa3ab", "weight": 0.5}))
    fmap.add_child(_EncodedLayer(context["regions"], CONTEXT_DECIMALS, {"color": "#59626b", "weight": 1.2}))
    fmap.add_child(
        _EncodedLayer(context["insets"], CONTEXT_DECIMALS, {"color": "#8a939b", "weight": 1, "dashArray": "2 3"})
    )
    frames = inset_frames()
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
    group.add_child(_TerritoryPolygons(display_features(colored, indicator_label)))
    if selected:
        chosen = colored[colored["id"] == selected]
        if not chosen.empty:
            display = to_display_coordinates(chosen, "region")
            group.add_child(
                _EncodedLayer(
                    encode_paths(display.geometry.values, DISPLAY_DECIMALS)[0],
                    DISPLAY_DECIMALS,
                    {"color": "#d10069", "weight": 3.5, "fill": False, "className": "tdi-selected"},
                    polygon=True,
                )
            )
    group.add_child(_LayerLegend(legend_html(legend)))
    group.add_child(_FitOnViewChange(fit_key, fit_bounds))
    return group
