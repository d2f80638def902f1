"""Everything the map page shows for one view, computed once per dataset and view state.

A view state (date, régions, pillar, statuses, flags, indicator, classes,
comparison date) names one page; every visitor who asks for it gets the same
territories, colours, legend, map data, figures and table. :func:`view_model`
builds them once and keeps them in the dataset's bounded view cache
(:attr:`tdi_geo.programme.Programme.views`), so a rerun for a state already
seen costs a dictionary lookup, whichever session asks.

What differs per visitor (the selected territory, a search's zoom) is not
here: :func:`selection_outline` draws a selection from the shared data.

The objects returned are shared between sessions: treat them as read-only.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
import pyarrow as pa

from tdi_geo import mapping
from tdi_geo.mapping.places import main_towns, region_bounds
from tdi_geo.indicators import INDICATORS, build_view, diff_view, national_kpis
from tdi_geo.perimeters import perimeter_diff
from tdi_geo.programme import Programme, national_figures, per_dataset, versions_table
from tdi_geo.summaries import table_frame

__all__ = ["ViewModel", "data_key", "selection_outline", "state_key", "view_model"]

#: The state fields that change what the page shows (not the tiles, not the territory).
STATE_FIELDS = ("date", "regions", "pillar", "statuses", "fragile_only", "documented_only", "indicator",
                "scheme", "date_from")


def state_key(state: Mapping) -> tuple:
    """A hashable, canonical key of a view state (lists become sorted tuples).

    >>> state_key({"date": "2019-09-24", "regions": ["84", "53"], "pillar": None, "statuses": [],
    ...            "fragile_only": False, "documented_only": False, "indicator": "status",
    ...            "scheme": "quantiles", "date_from": None})
    ('2019-09-24', ('53', '84'), None, (), False, False, 'status', 'quantiles', None)
    """
    def canonical(name, value):
        if name in ("regions", "statuses"):
            return tuple(sorted(str(v) for v in value or ()))
        if name in ("fragile_only", "documented_only"):
            return bool(value)
        return value or None if name in ("pillar", "date_from") else value

    return tuple(canonical(name, state.get(name)) for name in STATE_FIELDS)


def data_key(value) -> str:
    """A short fingerprint of JSON-ready data (the browser redraws a part only when it changes)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]


@dataclass(frozen=True, eq=False)
class ViewModel:
    """One view of the page, shared read-only by every session that shows it."""

    key: tuple
    view: gpd.GeoDataFrame  #: :func:`~tdi_geo.indicators.build_view` (figures, régions chart)
    shown: gpd.GeoDataFrame  #: what the map draws: the view, or the comparison frame
    diff: dict | None  #: :func:`~tdi_geo.perimeters.perimeter_diff` in comparison mode
    layer: dict  #: :func:`tdi_geo.mapping.layer_spec`, without selection
    layer_key: str
    value_label: str
    kpis: dict | None  #: :func:`~tdi_geo.indicators.national_kpis` (None when comparing)
    figures: dict  #: published national figures of the date
    version: dict  #: the date's row of :func:`~tdi_geo.programme.versions_table`
    names: dict  #: territory id → name, for the map's territories
    options: list  #: territory ids sorted by name (the « Territoire » list)
    table: pd.DataFrame  #: :func:`~tdi_geo.summaries.table_frame` of ``shown``
    table_arrow: pa.Table  #: the same as Arrow, converted once (the page draws it on every run)
    _outlines: dict = field(default_factory=dict, repr=False)

    @property
    def ids(self) -> list[str]:
        return list(self.names)

    @functools.cached_property
    def display(self) -> gpd.GeoDataFrame:
        """``shown`` in display coordinates (DROM moved), for clicks and zooms: built on first use."""
        return mapping.to_display_coordinates(self.shown)


@per_dataset(store="views", shared=True)
def view_model(prog: Programme, key: tuple) -> ViewModel:
    """The page's view for ``key`` (:func:`state_key`), computed once per dataset.

    Raises
    ------
    ValueError, KeyError
        The state names an unknown date, région, status or indicator (French message).
    """
    state = dict(zip(STATE_FIELDS, key))
    date, date_from = state["date"], state["date_from"]
    view = build_view(
        prog, date, regions=state["regions"], pillar=state["pillar"], statuses=state["statuses"],
        fragile_only=state["fragile_only"], documented_only=state["documented_only"], indicator=state["indicator"],
    )
    if date_from:
        shown = diff_view(prog, date_from, date, state["regions"])
        # The story of a comparison first: additions, removals, changes, then the rest (map, table, list).
        order = {change: i for i, change in enumerate(mapping.DIFF_STYLES)}
        shown = shown.iloc[shown["change"].map(order).fillna(len(order)).argsort(kind="stable")]
        diff = perimeter_diff(prog, date_from, date)
        colored, legend = mapping.color_diff(shown, date_from, date)
        value_label, kpis = "Évolution", None
    else:
        shown, diff = view, None
        colored, legend = mapping.color_view(view, state["indicator"], state["scheme"])
        value_label = INDICATORS[state["indicator"]]["label"]
        kpis = national_kpis(prog, date, territory_ids=view["id"].tolist(), pillar=state["pillar"])
    # The zoom follows the view (date, filters, comparison), not the indicator or
    # the classes: recolouring keeps the reader's zoom.
    fit_key = repr((key[:6], date_from))
    # A région view shows its whole région(s) with their main towns named; the national one, France and the DROM.
    regions = tuple(sorted(state["regions"] or ()))
    fit_bounds = (region_bounds(regions) if regions else None) or mapping.NATIONAL_BOUNDS
    if date_from:  # a few changes would be specks at national zoom: the map opens on them
        fit_bounds = changes_bounds(colored) or fit_bounds
    layer = mapping.layer_spec(colored, legend, value_label, fit_key=fit_key, fit_bounds=fit_bounds,
                               towns=main_towns(regions) if regions else None,
                               shapes=None if date_from else date_shapes(prog, date))
    names = dict(zip(shown["id"].astype(str), shown["name"].astype(str)))
    version = next((row for row in versions_table(prog) if row["date"] == date), None)
    if version is None:
        raise ValueError(f"Date de version inconnue : « {date} ».")
    table = table_frame(shown)
    return ViewModel(
        key=key, view=view, shown=shown, diff=diff, layer=layer, layer_key=data_key(layer),
        value_label=value_label, kpis=kpis, figures=national_figures(prog, date), version=version,
        names=names, options=sorted(names, key=lambda i: (names[i].casefold(), i)),
        table=table, table_arrow=pa.Table.from_pandas(table, preserve_index=False),
    )


#: A comparison with at most this many changes opens zoomed on them.
FEW_CHANGES = 6
#: Margin (degrees) around the changes a comparison opens on.
CHANGES_MARGIN = 0.8


def changes_bounds(colored: gpd.GeoDataFrame) -> list | None:
    """Bounds (display coordinates, with a margin) of a comparison's changes when there are few, else None."""
    changed = colored[colored["change"] != "unchanged"] if "change" in colored.columns else colored.iloc[:0]
    if changed.empty or len(changed) > FEW_CHANGES:
        return None
    west, south, east, north = mapping.to_display_coordinates(changed).total_bounds
    m = CHANGES_MARGIN
    return [[float(south - m), float(west - m)], [float(north + m), float(east + m)]]


@per_dataset(shared=True)
def date_shapes(prog: Programme, date: str) -> dict[str, list]:
    """Every territory of ``date`` encoded for the browser (:func:`tdi_geo.mapping.encoded_shapes`), once.

    The views of a date draw subsets of these shapes: a new filter costs a
    lookup per territory instead of encoding its vertices again.
    """
    return mapping.encoded_shapes(build_view(prog, date))


def selection_outline(model: ViewModel, territory_id: str) -> list | None:
    """The encoded outline of one territory of the view (display coordinates), or None.

    The shape the layer already carries for it: a selection is a per-visitor
    choice over shared data, and costs no encoding.
    """
    if territory_id not in model.names:
        return None
    outline = model._outlines.get(territory_id)
    if outline is None:
        outline = next((f[-1] for f in model.layer["features"] if f[0] == territory_id), [])
        model._outlines[territory_id] = outline
    return outline or None


def zoom_bounds(model: ViewModel, territory_id: str) -> list | None:
    """``[[south, west], [north, east]]`` of one territory as drawn, or None if not in the view."""
    chosen = model.display[model.display["id"].astype(str) == territory_id]
    if chosen.empty:
        return None
    west, south, east, north = chosen.total_bounds
    return [[south, west], [north, east]]


def warm_up(prog: Programme, indicators: tuple[str, ...] = ("since", "status", "projects"), pause: float = 0.02) -> int:
    """Build the opening views of every version before the first visitor comes; return how many.

    A server calls this once at start-up (``serve.py``, in a background
    thread): each date's shapes, member lists and indicators, the default
    view per indicator given, and the classification library (imported by
    the first numeric map) are then ready, and the first visitors do not pay
    for them. Bounded: versions × indicators views.

    The page's opening view comes first (the latest version, « since », the
    first indicator; a visitor arriving meanwhile waits
    for that one build instead of making it again), and the thread sleeps
    ``pause`` seconds between two views, so a visitor's run gets the
    interpreter instead of queueing behind the whole warm-up.
    """
    import time

    from tdi_geo.programme import default_date

    opening = default_date(prog)
    dates = sorted(prog.versions["date"].astype(str), key=lambda d: (d != opening, d))
    built = 0
    for indicator in indicators:
        for date in dates:
            view_model(prog, state_key({"date": date, "regions": [], "pillar": None, "statuses": [],
                                        "fragile_only": False, "documented_only": False,
                                        "indicator": indicator, "scheme": "quantiles", "date_from": None}))
            built += 1
            time.sleep(pause)
    return built
