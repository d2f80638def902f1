"""Classification, palettes and legend entries of the choropleth (no map code).

:func:`color_view` and :func:`color_diff` add a ``fill`` colour and a French
``value_text`` to each territory of a view and return the legend as plain
data (title, colour/label pairs, the no-data entry, the illustrative flag).
Whatever draws the map (the page, a picture, a standalone file) draws that
legend; nothing here produces HTML.

Palettes are colour-blind safe: ColorBrewer *YlGnBu* for numbers, Okabe–Ito
colours for statuses and diffs, and one explicit « Pas de donnée » grey.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd

from tdi_geo.indicators import INDICATORS
from tdi_geo.mapping._checks import check_frame
from tdi_geo.mapping.fmt import NO_DATA_LABEL, format_date, format_euros, format_number, format_value
from tdi_geo.programme import PILLARS, STATUSES

#: Colour of territories without a value, shown in every legend.
NO_DATA_COLOR = "#bdbdbd"

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

ILLUSTRATIVE_LABEL = "Illustratif : présence ou composition sans source"
INFERRED_LABEL = "Inféré : composition d'une source, date ou présence déduite"
#: How each provenance level is drawn over its colour: a documented (or imported) fact
#: plainly, an inference with sparse dots, an illustration with hatching. A level not
#: listed here is drawn hatched (the least certain).
PROVENANCE_PATTERNS: dict[str, str | None] = {
    "documented": None, "official": None, "inferred": "dots", "illustrative": "hatch",
}
#: Legend words of each pattern.
PATTERN_WORDS = {None: "aplat", "dots": "pointillés", "hatch": "hachures"}
#: Provenance levels from the most to the least certain (the legend's order).
PROVENANCE_ORDER = ("documented", "official", "inferred", "illustrative")
_OUTLINE = "#333333"
#: Opaque fills: the colour drawn is exactly the legend's (no tint from what lies below).
_FILL_OPACITY = 1.0
_ILLUSTRATIVE_DASH = "4 3"


def provenance_pattern(level) -> str | None:
    """The pattern drawn over a territory of this provenance level (None: a plain fill)."""
    return PROVENANCE_PATTERNS.get(str(level), "hatch") if level else None


def provenance_levels(frame: pd.DataFrame) -> list[str]:
    """The provenance levels present in ``frame``, most certain first (unknown levels last)."""
    if "provenance" not in frame.columns:
        return []
    present = set(frame["provenance"].dropna().astype(str)) - {""}
    return [p for p in PROVENANCE_ORDER if p in present] + sorted(present - set(PROVENANCE_ORDER))

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
        import mapclassify  # ~0.8 s with scipy and scikit-learn: only when a numeric map is coloured

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
    check_frame(view)
    if indicator not in INDICATORS:
        raise ValueError(f"Indicateur inconnu : « {indicator} ».")
    if indicator not in view.columns:
        raise ValueError(f"La vue n'a pas de colonne « {indicator} ».")
    spec = INDICATORS[indicator]
    out = view.copy()
    out["illustrative"] = _illustrative(out)
    if spec["kind"] == "ordinal":
        # Few ordered values (years): one class each, darkest for the earliest.
        values = pd.to_numeric(out[indicator], errors="coerce")
        distinct = sorted(int(v) for v in values.dropna().unique())
        palette = SEQUENTIAL[max(min(len(distinct), max(SEQUENTIAL)), 1)][::-1]
        colours = {v: palette[min(i, len(palette) - 1)] for i, v in enumerate(distinct)}
        fill = values.map(lambda v: colours.get(int(v)) if pd.notna(v) else None)
        items = [(colours[v], format_value(v, indicator)) for v in distinct]
        note = ""
    elif spec["kind"] == "categorical":
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
        note = f"Classes : {SCHEMES[scheme].lower()}, {len(bins)} classe{'s' if len(bins) > 1 else ''}" if len(bins) else ""
    out["fill"] = fill.fillna(NO_DATA_COLOR).astype(str)
    out["value_text"] = [format_value(v, indicator) for v in out[indicator]]
    legend = {
        "title": _legend_title(view, indicator),
        "items": items,
        "no_data": (NO_DATA_COLOR, NO_DATA_LABEL),
        "illustrative": bool(out["illustrative"].any()),
        "provenances": provenance_levels(out),
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
    check_frame(diff, "diff")
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
        "no_data": None,  # every territory of a comparison has its change: no grey to mistake for « Inchangé »
        "illustrative": bool(out["illustrative"].any()),
        "provenances": provenance_levels(out),
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
        title += f" — pilier « {PILLARS.get(pillar, pillar)} »"
    return title


def feature_style(fill: str, pattern: str | None = None, emphasis: bool = False) -> dict:
    """Leaflet path style of one territory, with the pattern ``tdi_map.js`` draws over its colour.

    The fill is opaque, so the colour on screen is the legend's; a territory
    that is not a documented fact carries its provenance's ``pattern``
    (``"dots"``, ``"hatch"``) and a dashed outline; emphasised ones (a
    diff's changes) get a thick dark outline.
    """
    return {
        "fillColor": fill,
        "fillOpacity": _FILL_OPACITY,
        "pattern": pattern,
        "color": "#000000" if emphasis else _OUTLINE,
        "weight": 2.4 if emphasis else (1.1 if pattern else 0.7),
        "dashArray": _ILLUSTRATIVE_DASH if pattern else None,
    }
