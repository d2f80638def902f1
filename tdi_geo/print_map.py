"""A print-ready picture of a view: A4 landscape PNG (300 dpi) or PDF.

Drawn with matplotlib through geopandas' plotting (``GeoDataFrame.plot`` on
an Axes), never by screenshotting a browser, so it needs no browser and
gives the same picture on every machine. The picture follows the page:

- colours, classes and legend come from :func:`tdi_geo.mapping.color_view` /
  :func:`~tdi_geo.mapping.color_diff` (the ``fill`` column and the legend
  dict), with the « Pas de donnée » entry;
- illustrative territories are hatched with a dashed outline, and the legend
  says so;
- the overseas régions are drawn in the « DROM rapprochés » boxes
  (:func:`~tdi_geo.mapping.to_display_coordinates`,
  :func:`~tdi_geo.mapping.inset_frames`), with région and département
  borders (coarse reference layers) for context;
- a title (indicator, date, filters), a source line (dataset, version source
  or imported file, reference COG year) and a scale bar for metropolitan
  France (metres at the map's latitude, labelled in km).

Fills are opaque (the page's are slightly transparent over a basemap): on
paper the colour of a territory is then exactly its legend colour.

matplotlib is imported lazily with the Agg backend: the page pays for it
only when an image button is clicked.
"""

from __future__ import annotations

import io
import math
from functools import lru_cache

import geopandas as gpd

from tdi_geo import __version__, mapping, reference
from tdi_geo.export import view_state

#: A4 landscape, inches.
PAGE_SIZE = (11.69, 8.27)
#: Resolution of the PNG (dots per inch).
DPI = 300
#: Where the map sits on the page (figure fraction: left, bottom, width, height).
MAP_BOX = (0.02, 0.09, 0.70, 0.79)
_HATCH = "////"
#: Inferred territories: sparse dots (the pattern of illustrative ones is hatching).
_DOTS = ".."
_HATCH_COLOR = "#555555"
_OUTLINE = "#333333"
_LAND = "#f4f4f4"
_EARTH_RADIUS_M = 6_371_008.8
_METRES_PER_DEGREE = math.pi * _EARTH_RADIUS_M / 180


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import pyplot

    return pyplot


def _colored(view: gpd.GeoDataFrame, indicator: str | None, scheme: str):
    """(coloured view, legend, what the map shows in French) as the page colours it."""
    from tdi_geo.indicators import INDICATORS

    state = view.attrs.get("tdi_view", {})
    if state.get("mode") == "diff":
        colored, legend = mapping.color_diff(view, state["date_from"], state["date"])
        what = (f"évolution du périmètre du {mapping.format_date(state['date_from'])} "
                f"au {mapping.format_date(state['date'])}")
        return colored, legend, what
    indicator = indicator or state.get("indicator") or "status"
    colored, legend = mapping.color_view(view, indicator, scheme)
    what = f"{INDICATORS[indicator]['label'].lower()} au {mapping.format_date(state.get('date', ''))}"
    return colored, legend, what


def _filters_text(state: dict) -> str:
    """The view's filters in French, or the national view when there are none."""
    from tdi_geo.programme import PILLARS, STATUSES

    parts = []
    names = reference.region_names()
    if state.get("regions"):
        parts.append("région" + ("s" if len(state["regions"]) > 1 else "") + " "
                     + ", ".join(names.get(r, r) for r in state["regions"]))
    if state.get("pillar"):
        parts.append(f"pilier « {PILLARS.get(state['pillar'], state['pillar'])} »")
    if state.get("statuses"):
        parts.append("statut " + ", ".join(STATUSES.get(s, s) for s in state["statuses"]))
    if state.get("fragile_only"):
        parts.append("territoires fragiles seulement")
    if state.get("documented_only"):
        parts.append("territoires documentés seulement")
    text = " ; ".join(parts)
    return text[:1].upper() + text[1:] if text else "France entière"


def source_text(state: dict, source: str | None = None) -> str:
    """The source line: dataset, version source (press release or imported file), reference.

    Parameters
    ----------
    state : dict
        :func:`tdi_geo.export.view_state` of the view.
    source : str, optional
        What the perimeter version rests on (see :func:`version_source`).
    """
    ref = state.get("reference") or {}
    parts = [f"Jeu de données « {state.get('dataset', '')} »"]
    if source:
        parts.append(source)
    parts.append(f"référentiel {ref.get('source', '')}, COG {ref.get('cog_year', '')}")
    parts.append(state.get("generator") or f"tdi-geo {__version__}")
    return "Source : " + " ; ".join(parts) + "."


def version_source(prog, date) -> str:
    """What the view's perimeter version rests on: its recorded source, else the imported files."""
    from tdi_geo.programme import parse_date

    versions = prog.versions[prog.versions["date"] <= parse_date(date)]
    text = ""
    if not versions.empty:
        row = versions.iloc[-1]
        text = f"version « {row['label']} » : {row['source']}" if str(row["source"]).strip() else ""
    files = [str(i.get("file", "")) for i in prog.meta.get("imports", []) if i.get("file")]
    if files:
        text = (text + " ; " if text else "") + "fichier importé : " + ", ".join(files)
    return text


@lru_cache(maxsize=1)
def _context_layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Régions and départements (coarse) in display coordinates; the same for every picture."""
    regions = mapping.to_display_coordinates(reference.load_regions("coarse"), region_column="code")
    departements = mapping.to_display_coordinates(reference.load_departements("coarse"))
    return regions, departements


def _extent(display: gpd.GeoDataFrame, regional: bool) -> tuple[float, float, float, float]:
    """(x0, x1, y0, y1): the national frame, or the view's shapes with a margin when filtered by région."""
    if regional and len(display):
        x0, y0, x1, y1 = display.total_bounds
        pad = 0.06 * max(x1 - x0, y1 - y0, 0.2)
        return x0 - pad, x1 + pad, y0 - pad, y1 + pad
    (s, w), (n, e) = mapping.NATIONAL_BOUNDS
    return w, e, s, n


def _nice_length_km(max_km: float) -> int:
    """The largest 1/2/5 × 10^k km not longer than ``max_km``."""
    best = 1
    for exponent in range(0, 5):
        for mantissa in (1, 2, 5):
            if mantissa * 10**exponent <= max_km:
                best = mantissa * 10**exponent
    return best


def scale_bar(ax, x0: float, x1: float, y0: float, y1: float, at: float = 0.04) -> tuple[float, int]:
    """Draw a scale bar at the bottom of the map, starting at fraction ``at`` of its width, and return
    (its length in degrees of longitude, its length in km).

    A degree of longitude is ``cos(latitude)`` × 111.2 km: the length is
    computed at the bar's own latitude, which is where it is true.
    """
    lat = y0 + 0.06 * (y1 - y0)
    km_per_degree = _METRES_PER_DEGREE * math.cos(math.radians(lat)) / 1000
    km = _nice_length_km(0.2 * (x1 - x0) * km_per_degree)
    length = km / km_per_degree
    left = x0 + at * (x1 - x0)
    right = left + length
    ax.plot([left, right], [lat, lat], color="black", linewidth=2.5, solid_capstyle="butt", zorder=6)
    ax.text(right - length / 2, lat + 0.012 * (y1 - y0), f"{km} km", ha="center", va="bottom", fontsize=8, zorder=6,
            parse_math=False)
    return length, km


def escape_dollars(text: str) -> str:
    """``text`` with every « $ » escaped, for a wrapped text: matplotlib measures wrapped lines as mathtext
    whatever ``parse_math`` says, and « prix_$5_et_$6_ » is a mathtext syntax error."""
    return text.replace("$", r"\$")


def literal_legend(drawn) -> None:
    """A matplotlib legend's title and labels drawn as written, never as mathtext."""
    for text in (drawn.get_title(), *drawn.get_texts()):
        text.set_parse_math(False)


def _legend_handles(legend: dict):
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=c, edgecolor=_OUTLINE, linewidth=0.5, label=label) for c, label in legend["items"]]
    if legend.get("no_data"):  # a comparison has none: every territory has its change
        color, label = legend["no_data"]
        handles.append(Patch(facecolor=color, edgecolor=_OUTLINE, linewidth=0.5, label=label))
    if "inferred" in legend.get("provenances", ()):
        handles.append(Patch(facecolor="white", edgecolor=_HATCH_COLOR, hatch=_DOTS, linewidth=0.5,
                             label=f"{mapping.INFERRED_LABEL}\n(pointillé de points)"))
    if legend["illustrative"]:
        handles.append(Patch(facecolor="white", edgecolor=_HATCH_COLOR, hatch=_HATCH, linestyle="--",
                             linewidth=0.8, label=f"{mapping.ILLUSTRATIVE_LABEL}\n(hachuré, contour pointillé)"))
    return handles


def draw(view: gpd.GeoDataFrame, indicator: str | None = None, scheme: str = "quantiles", source: str | None = None):
    """Draw the view on an A4 landscape figure.

    Parameters
    ----------
    view : GeoDataFrame
        From :func:`~tdi_geo.indicators.build_view` or
        :func:`~tdi_geo.indicators.diff_view`, in EPSG:4326; ``web``
        resolution is enough for a page.
    indicator : str, optional
        Indicator to colour by (default: the view's own).
    scheme : str
        Classification of numeric indicators (:data:`tdi_geo.mapping.SCHEMES`).
    source : str, optional
        Version source for the source line (:func:`version_source`).

    Returns
    -------
    fig : matplotlib.figure.Figure
        At :data:`DPI`, so ``ax.transData`` gives the PNG's pixel coordinates
        (origin at the bottom left).
    ax : matplotlib.axes.Axes
        The map, in display coordinates (DROM moved into their boxes).
    colored : GeoDataFrame
        The view in display coordinates with its ``fill`` colour.
    legend : dict
        The legend drawn (as :func:`~tdi_geo.mapping.color_view` returns it).
    """
    if not isinstance(view, gpd.GeoDataFrame):
        raise TypeError(f"view must be a GeoDataFrame, got {type(view).__name__}")
    if view.crs is not None and view.crs.to_epsg() != 4326:
        view = view.to_crs(4326)
    pyplot = _pyplot()
    state = view_state(view)
    colored, legend, what = _colored(view, indicator, scheme)
    colored = mapping.to_display_coordinates(colored)

    regions, departements = _context_layers()
    frames = mapping.inset_frames()

    fig = pyplot.figure(figsize=PAGE_SIZE, dpi=DPI)
    ax = fig.add_axes(MAP_BOX)
    regional = bool(state.get("regions"))
    x0, x1, y0, y1 = _extent(colored, regional)
    mid_lat = (y0 + y1) / 2
    # Equirectangular at the map's mid latitude: shapes keep their proportions there.
    ax.set_aspect(1 / math.cos(math.radians(mid_lat)), adjustable="box")
    regions.plot(ax=ax, color=_LAND, edgecolor="none", zorder=0)
    if not regional:
        frames.plot(ax=ax, facecolor="none", edgecolor="#777777", linewidth=0.6, zorder=1)
        for row in frames.itertuples():
            bx0, _, _, by1 = row.geometry.bounds
            ax.text(bx0 + 0.08, by1 - 0.06, row.label, fontsize=6.5, ha="left", va="top", color="#333333", zorder=6,
                    parse_math=False)
    documented = colored[~colored["illustrative"]]
    illustrative = colored[colored["illustrative"]]
    inferred = documented[documented["provenance"].eq("inferred")] if "provenance" in documented else documented[:0]
    if len(documented):
        documented.plot(ax=ax, color=documented["fill"].tolist(), edgecolor=_OUTLINE, linewidth=0.3, zorder=2)
    if len(inferred):
        # Sparse dots over the fill: the legend colour stays readable.
        with pyplot.rc_context({"hatch.color": _HATCH_COLOR, "hatch.linewidth": 0.3}):
            inferred.plot(ax=ax, facecolor="none", edgecolor=_HATCH_COLOR, linewidth=0, hatch=_DOTS, zorder=3)
    if len(illustrative):
        illustrative.plot(ax=ax, color=illustrative["fill"].tolist(), edgecolor="none", zorder=2)
        # Hatching and a dashed outline over the fill: the legend colour stays readable.
        with pyplot.rc_context({"hatch.color": _HATCH_COLOR, "hatch.linewidth": 0.4}):
            illustrative.plot(ax=ax, facecolor="none", edgecolor=_HATCH_COLOR, hatch=_HATCH,
                              linewidth=0.5, linestyle="--", zorder=3)
    if "emphasis" in colored.columns and colored["emphasis"].any():
        colored[colored["emphasis"]].boundary.plot(ax=ax, color="black", linewidth=1.0, zorder=4)
    departements.boundary.plot(ax=ax, color="#8a8a8a", linewidth=0.2, zorder=4)
    regions.boundary.plot(ax=ax, color="#444444", linewidth=0.6, zorder=5)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_axis_off()
    drom_only = regional and set(state["regions"]) <= set(mapping.DROM_INSETS)
    if not drom_only:
        # National view: in the Bay of Biscay, clear of the insets and of Corsica.
        scale_bar(ax, *ax.get_xlim(), *ax.get_ylim(), at=0.04 if regional else 0.3)

    # Every text is drawn as written (parse_math=False): a « $ » in a file name or a label is not mathtext.
    fig.text(0.02, 0.95, f"Territoires d'industrie — {what}", fontsize=15, fontweight="bold", va="bottom",
             parse_math=False)
    counts = (f"{state['territories']} territoires, dont {state.get('inferred_territories', 0)} inférés et "
              f"{state['illustrative_territories']} illustratifs"
              if not state.get("mode") else f"{state['territories']} territoires")
    fig.text(0.02, 0.915, f"{_filters_text(state)} — {counts}", fontsize=10, va="bottom", color="#333333",
             parse_math=False)
    drawn = fig.legend(handles=_legend_handles(legend), title=legend["title"], loc="upper left",
                       bbox_to_anchor=(0.74, 0.88), frameon=False, fontsize=8.5, title_fontsize=9.5, alignment="left")
    literal_legend(drawn)
    if legend.get("note"):
        fig.text(0.745, 0.10, escape_dollars(legend["note"]), fontsize=7.5, color="#333333", va="bottom", wrap=True)
    lines = [source_text(state, source)]
    if state["illustrative_territories"]:
        lines.append("Les territoires illustratifs (hachurés) n'ont pas de source pour leur présence à cette date "
                     "ou pour leur composition : ce n'est pas une donnée publiée.")
    fig.text(0.02, 0.02, escape_dollars("\n".join(lines)), fontsize=6.5, color="#333333", va="bottom", wrap=True)
    return fig, ax, colored, legend


def _save(fig, fmt: str) -> bytes:
    buffer = io.BytesIO()
    # No tight bounding box: the page stays exactly A4 and ax.transData stays the pixel map.
    if fmt == "png":
        # zlib level 3: a file ~10 % larger than level 6 for about half the encoding time.
        options = {"metadata": {"Software": None}, "pil_kwargs": {"compress_level": 3}}
    else:
        options = {"metadata": {"Creator": f"tdi-geo {__version__}", "CreationDate": None}}
    try:
        fig.savefig(buffer, format=fmt, dpi=DPI, **options)
    finally:
        _pyplot().close(fig)
    return buffer.getvalue()


def png_bytes(view: gpd.GeoDataFrame, indicator: str | None = None, scheme: str = "quantiles",
              source: str | None = None) -> bytes:
    """The view as an A4 landscape PNG at 300 dpi (3507 × 2481 pixels); see :func:`draw`."""
    fig, *_ = draw(view, indicator, scheme, source)
    return _save(fig, "png")


def pdf_bytes(view: gpd.GeoDataFrame, indicator: str | None = None, scheme: str = "quantiles",
              source: str | None = None) -> bytes:
    """The view as a one-page A4 landscape PDF (vector shapes); see :func:`draw`."""
    fig, *_ = draw(view, indicator, scheme, source)
    return _save(fig, "pdf")


#: Format → writer, as :data:`tdi_geo.export_formats.WRITERS`.
WRITERS = {"png": png_bytes, "pdf": pdf_bytes}

