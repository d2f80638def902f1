"""« Chronologie du périmètre »: small multiples of every perimeter version.

One panel per version of the dataset (the embedded four and any imported
one), each showing metropolitan France with the territories of that version,
those added since the previous version in the diff palette's « added »
colour. Under each panel: the version's date and label, and its counts
(« 144 territoires, +3 »); DROM additions, outside the metropolitan frame,
are named in text under the panel.

Drawn with matplotlib (Agg backend, imported lazily: the page pays for it
only when the chronology is shown) through geopandas plotting. No Streamlit.
"""

from __future__ import annotations

import io
import math
import textwrap
from dataclasses import dataclass, field

import numpy as np

from tdi_geo import reference
from tdi_geo.mapping.fmt import format_date
from tdi_geo.mapping.insets import DROM_INSETS
from tdi_geo.mapping.style import DIFF_STYLES
from tdi_geo.perimeters import perimeter_diff, territory_geometries
from tdi_geo.programme import Programme, versions_table

#: Fill of a territory added since the previous version (the diff map's colour).
ADDED_COLOR = DIFF_STYLES["added"][0]
#: Fill of a territory already present at the previous version.
PRESENT_COLOR = "#9e9e9e"
_LAND_COLOR = "#f4f4f4"
_REGION_EDGE = "#b0b0b0"
#: Lambert-93: metropolitan France without the east-west stretch of plain degrees.
_CRS = "EPSG:2154"
_RESOLUTION = "coarse"
_COLUMNS = 4
#: A version label wraps at this width (« Phase 2 : liste de novembre 2023 (état au plus tard… »).
_TITLE_WIDTH = 34
_PANEL_INCHES = (4.2, 5.2)
DPI = 110


def _metropolitan(frame, column: str = "region"):
    return frame[~frame[column].isin(list(DROM_INSETS))]


def chronology_panels(prog: Programme) -> list[dict]:
    """What each panel of the chronology shows, in version order.

    Returns
    -------
    list of dict
        ``{"date", "label", "territories", "added": [{"id", "name"}],
        "removed": [{"id", "name"}], "drom_added": [{"id", "name"}],
        "caption"}``. The first version has no previous one: nothing is
        « added » there. ``drom_added`` are additions outside metropolitan
        France (not visible in the panel, named in its caption).
    """
    panels = []
    previous = None
    for row in versions_table(prog):
        if previous is None:
            diff = {"added": [], "removed": []}
        else:
            diff = perimeter_diff(prog, previous, row["date"])
        drom_ids = set()
        if diff["added"]:
            shapes = territory_geometries(prog, row["date"], _RESOLUTION)
            drom_ids = set(shapes.loc[shapes["region"].isin(list(DROM_INSETS)), "id"])
        drom_added = [r for r in diff["added"] if r["id"] in drom_ids]
        panels.append({
            "date": row["date"],
            "label": row["label"],
            "territories": row["territories"],
            "added": diff["added"],
            "removed": diff["removed"],
            "drom_added": drom_added,
            "caption": _caption(row["territories"], previous is None, diff, drom_added),
        })
        previous = row["date"]
    return panels


def _caption(count: int, first: bool, diff: dict, drom_added: list[dict]) -> str:
    """« 144 territoires, +3 » (and « −1 » for removals, and DROM additions by name)."""
    text = f"{count} territoires"
    if not first:
        text += f", +{len(diff['added'])}"
        if diff["removed"]:
            text += f", \u2212{len(diff['removed'])}"
    if drom_added:
        # One name a line: the panels sit side by side and long lines would run into the next one.
        text += "\nOutre-mer :\n" + "\n".join(textwrap.shorten(r["name"], 48, placeholder="…") for r in drom_added)
    return text


@dataclass
class Chronology:
    """The drawn chronology: the PNG and where each panel's map landed in it.

    ``transforms[i]`` is the 3×3 matrix taking Lambert-93 coordinates of panel
    ``i`` to display pixels (origin bottom-left), as matplotlib drew it.
    """

    png: bytes
    panels: list[dict]
    size: tuple[int, int]
    transforms: list[np.ndarray] = field(default_factory=list)

    def pixel_at(self, panel: int, lon: float, lat: float) -> tuple[int, int]:
        """Column and row, in the PNG, of a WGS84 point in panel ``panel``."""
        from pyproj import Transformer

        x, y = Transformer.from_crs("EPSG:4326", _CRS, always_xy=True).transform(lon, lat)
        px, py, _ = self.transforms[panel] @ np.array([x, y, 1.0])
        return int(round(px)), int(round(self.size[1] - py))


def render_chronology(prog: Programme, dpi: int = DPI) -> Chronology:
    """Draw the chronology; see :func:`chronology_png` for the picture alone."""
    # The Agg canvas directly (not pyplot): never a window, no global state, safe in a threaded server.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    from tdi_geo.print_map import literal_legend

    panels = chronology_panels(prog)
    if not panels:
        raise ValueError("Le jeu de données n'a aucune version de périmètre : pas de chronologie.")
    # Up to four in a row; more make a square-ish grid (nine versions: three rows of three).
    ncols = len(panels) if len(panels) <= _COLUMNS else math.ceil(math.sqrt(len(panels)))
    nrows = math.ceil(len(panels) / ncols)
    extra_lines = max(p["caption"].count("\n") for p in panels)  # DROM names under a panel
    extra_lines += max(len(textwrap.wrap(p["label"], _TITLE_WIDTH)) for p in panels) - 1  # wrapped labels
    fig = Figure(figsize=(_PANEL_INCHES[0] * ncols, (_PANEL_INCHES[1] + 0.2 * extra_lines) * nrows + 0.6), dpi=dpi)
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    land = _metropolitan(reference.load_regions(_RESOLUTION), "code").to_crs(_CRS)
    west, south, east, north = land.total_bounds
    for ax, panel in zip(axes, panels):
        shapes = _metropolitan(territory_geometries(prog, panel["date"], _RESOLUTION)).to_crs(_CRS)
        added = shapes["id"].isin([r["id"] for r in panel["added"]])
        land.plot(ax=ax, color=_LAND_COLOR, edgecolor=_REGION_EDGE, linewidth=0.4)
        if (~added).any():
            shapes[~added].plot(ax=ax, color=PRESENT_COLOR, edgecolor="none")
        if added.any():
            shapes[added].plot(ax=ax, color=ADDED_COLOR, edgecolor="#000000", linewidth=0.35)
        ax.set_xlim(west - 2e4, east + 2e4)
        ax.set_ylim(south - 2e4, north + 2e4)
        ax.set_aspect("equal")
        ax.set_ylabel("")  # geopandas labels projected axes (« Northing [metre] »)
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        # Labels and captions come from the data (an imported file's name): drawn as written, never as mathtext.
        label = "\n".join(textwrap.wrap(panel["label"], _TITLE_WIDTH)) or panel["label"]
        ax.set_title(f"{format_date(panel['date'])}\n{label}", fontsize=11, parse_math=False)
        ax.set_xlabel(panel["caption"], fontsize=10.5, parse_math=False)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    literal_legend(fig.legend(
        handles=[Patch(facecolor=ADDED_COLOR, edgecolor="#000000", label="Ajouté depuis la version précédente"),
                 Patch(facecolor=PRESENT_COLOR, label="Déjà présent")],
        loc="upper center", bbox_to_anchor=(0.5, 0.955), ncol=2, frameon=False, fontsize=10,
    ))
    fig.suptitle("Territoires d'industrie : le périmètre version après version (France métropolitaine)",
                 fontsize=13, parse_math=False)
    fig.tight_layout(rect=(0, 0, 1, 0.91))
    fig.canvas.draw()  # applies the equal aspect: the transforms below are the drawn ones
    transforms = [ax.transData.get_affine().get_matrix().copy() for ax in axes[: len(panels)]]
    width, height = fig.canvas.get_width_height()
    buffer = io.BytesIO()
    # No bbox_inches="tight": the saved pixels must be the drawn ones for pixel_at.
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return Chronology(buffer.getvalue(), panels, (width, height), transforms)


def chronology_png(prog: Programme) -> bytes:
    """The chronology as one PNG: a panel per version, additions highlighted.

    Parameters
    ----------
    prog : Programme

    Returns
    -------
    bytes
        A PNG image.

    Examples
    --------
    >>> from tdi_geo.programme import load_programme
    >>> chronology_png(load_programme())[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
    True
    """
    return render_chronology(prog).png
