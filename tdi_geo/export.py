"""GeoJSON and CSV of a view: exactly the territories and values shown.

A *view* is the GeoDataFrame of :func:`tdi_geo.indicators.build_view` (or a
:func:`tdi_geo.perimeters.diff_geometries` frame with a ``tdi_view`` state).
Exports are always in true WGS84 coordinates, never in the map's inset
coordinates.

- GeoJSON follows RFC 7946: a FeatureCollection, longitude/latitude WGS84,
  valid polygons with counter-clockwise exteriors, one feature per territory,
  and the filter state in the top-level foreign member ``"tdi_view"``.
- CSV has the same properties (no geometry); cells that a spreadsheet would
  read as a formula are neutralised.
- GeoPackage, zipped shapefile and XLSX are in :mod:`tdi_geo.export_formats`.
- PNG and PDF are print-ready A4 pictures (:mod:`tdi_geo.print_map`).
- HTML is a self-contained map of the view (:func:`html_bytes`): Leaflet,
  shapes, tooltips and legend in one file that opens offline and can be
  embedded with an ``<iframe>``.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from tdi_geo import __version__, reference
from tdi_geo.spreadsheet import neutralise_text

#: Properties exported for each territory, in order (those present in the view).
EXPORT_FIELDS: list[str] = [
    "id",
    "name",
    "region",
    "region_name",
    "date",
    "change",
    "status",
    "status_label",
    "status_date",
    "fragile",
    "projects",
    "projects_committed",
    "funding_eur",
    "funding_per_inhabitant",
    "state_operators_eur",
    "territoires_innovation_eur",
    "region_eur",
    "other_eur",
    "population",
    "n_epci",
    "n_communes",
    "epci_sirens",
    "epci_names",
    "partial",
    "provenance",
    "provenance_label",
    "illustrative",
    "sources",
]
#: Coordinate decimals of exported geometries (1e-6 degree ≈ 0.1 m).
EXPORT_DECIMALS = 6
#: Formats of :func:`export_view_file` (and the CLI's ``export --format``).
FORMATS = ("geojson", "csv", "html", "gpkg", "xlsx", "zip", "png", "pdf")


def _check_view(view) -> None:
    if not isinstance(view, gpd.GeoDataFrame):
        raise TypeError(f"view must be a GeoDataFrame, got {type(view).__name__}")
    if "id" not in view.columns:
        raise ValueError("view has no 'id' column")


def _properties_frame(view: gpd.GeoDataFrame) -> pd.DataFrame:
    """The exported columns; ``illustrative`` and ``date`` filled in when missing."""
    frame = pd.DataFrame(view.drop(columns=view.geometry.name))
    if "illustrative" not in frame.columns and "provenance" in frame.columns:
        frame["illustrative"] = frame["provenance"].eq("illustrative")
    if "date" not in frame.columns and view.attrs.get("tdi_view", {}).get("date"):
        frame["date"] = view.attrs["tdi_view"]["date"]
    return frame[[c for c in EXPORT_FIELDS if c in frame.columns]]


def properties_frame(view: gpd.GeoDataFrame) -> pd.DataFrame:
    """The exported properties of a view (:data:`EXPORT_FIELDS` present, in order), no geometry.

    Every file format writes these columns; :mod:`tdi_geo.export_formats` uses it.
    """
    _check_view(view)
    return _properties_frame(view)


def plain(value):
    """A JSON- or spreadsheet-ready Python scalar (NaN → None, numpy → builtin)."""
    return _plain(value)


def _plain(value):
    """A JSON-ready Python scalar (NaN → None, numpy → builtin)."""
    if value is None:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def view_state(view: gpd.GeoDataFrame) -> dict:
    """The ``tdi_view`` member: filter state, counts and data provenance."""
    state = dict(view.attrs.get("tdi_view", {}))
    properties = _properties_frame(view)
    illustrative = properties.get("illustrative", pd.Series(dtype=bool))
    state["territories"] = int(len(view))
    state["illustrative_territories"] = int(illustrative.fillna(False).astype(bool).sum())
    state["inferred_territories"] = int(properties.get("provenance", pd.Series(dtype=object)).eq("inferred").sum())
    prov = reference.provenance()
    state["reference"] = {"source": prov["source"], "cog_year": prov["cog_year"], "licence": prov["licence"]}
    state["generator"] = f"tdi-geo {__version__}"
    if state["illustrative_territories"]:
        state["warning"] = (
            "Certains territoires sont illustratifs (propriété illustrative=true) : aucune source ne dit "
            "qu'ils étaient dans le programme à cette date, ou leur composition est inventée ; "
            "ce n'est pas une donnée publiée."
        )
    return json.loads(json.dumps(state, default=_plain))


def rfc7946_geometries(geoms) -> np.ndarray:
    """Valid, rounded geometries with counter-clockwise exterior rings (RFC 7946 §3.1.6)."""
    arr = np.asarray(geoms, dtype=object)
    arr = shapely.transform(arr, lambda c: np.round(c, EXPORT_DECIMALS))
    invalid = ~shapely.is_valid(arr)
    if invalid.any():
        arr[invalid] = shapely.make_valid(arr[invalid], method="structure", keep_collapsed=False)
    return shapely.orient_polygons(arr, exterior_cw=False)


def to_geojson(view: gpd.GeoDataFrame) -> dict:
    """The view as an RFC 7946 FeatureCollection.

    Parameters
    ----------
    view : GeoDataFrame
        A view in any CRS (converted to WGS84), one row per territory.

    Returns
    -------
    dict
        ``{"type": "FeatureCollection", "tdi_view": {...}, "features": [...]}``;
        each feature has ``id`` (territory id) and the :data:`EXPORT_FIELDS`
        present in the view as properties.

    Examples
    --------
    >>> from tdi_geo.indicators import build_view
    >>> from tdi_geo.programme import load_programme
    >>> fc = to_geojson(build_view(load_programme(), "2019-09-24", regions=["53"]))
    >>> {f["properties"]["region"] for f in fc["features"]}
    {'53'}
    """
    _check_view(view)
    if view.crs is not None and view.crs.to_epsg() != 4326:
        view = view.to_crs(4326)
    props = _properties_frame(view)
    geoms = rfc7946_geometries(view.geometry.values)
    # shapely writes plain JSON arrays (mapping() would give tuples).
    texts = shapely.to_geojson(geoms)
    records = props.to_dict("records")
    features = []
    for record, geom, text in zip(records, geoms, texts):
        properties = {key: _plain(value) for key, value in record.items()}
        features.append(
            {
                "type": "Feature",
                "id": properties["id"],
                "geometry": None if geom is None or geom.is_empty else json.loads(text),
                "properties": properties,
            }
        )
    return {"type": "FeatureCollection", "tdi_view": view_state(view), "features": features}


def geojson_bytes(view: gpd.GeoDataFrame) -> bytes:
    """:func:`to_geojson` serialised as UTF-8 JSON (compact)."""
    return json.dumps(to_geojson(view), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def to_csv(view: gpd.GeoDataFrame) -> str:
    """The view's properties as CSV text (comma, header row, no geometry).

    Booleans are written ``true``/``false``, missing values as empty cells,
    and text cells starting with ``= + - @`` or a tab are prefixed with ``'``
    so a spreadsheet does not run them as formulas.
    """
    _check_view(view)
    return table_csv(_properties_frame(view))


def table_csv(frame: pd.DataFrame) -> str:
    """Any table as :func:`to_csv` writes a view's properties (same cells, quoting and line ends)."""
    frame = frame.copy()
    for col in frame.columns:
        series = frame[col]
        if series.dtype == bool or pd.api.types.is_bool_dtype(series):
            frame[col] = series.map({True: "true", False: "false"})
        elif series.dtype == object or pd.api.types.is_string_dtype(series):
            frame[col] = neutralise_text(series)
    buffer = io.StringIO()
    # RFC 4180 line ends: the csv writer then also quotes a cell holding a lone "\r",
    # which would otherwise end the row early in every reader.
    frame.to_csv(buffer, index=False, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    return buffer.getvalue()


def csv_bytes(view: gpd.GeoDataFrame) -> bytes:
    """:func:`to_csv` as UTF-8 with a byte-order mark, so spreadsheets read the accents."""
    return to_csv(view).encode("utf-8-sig")


def html_bytes(view: gpd.GeoDataFrame, indicator: str | None = None, scheme: str = "quantiles") -> bytes:
    """A self-contained HTML map of the view, drawn as in the app.

    Parameters
    ----------
    view : GeoDataFrame
        From :func:`~tdi_geo.indicators.build_view` (coloured by ``indicator``,
        default the view's own) or :func:`~tdi_geo.indicators.diff_view`
        (coloured by change). ``web`` resolution is enough for a map.
    scheme : str
        Classification of numeric indicators (:data:`tdi_geo.mapping.SCHEMES`).

    Returns
    -------
    bytes
        UTF-8 HTML with Leaflet inlined from the installed package: no request
        at all; the title and source line say what the map shows, from what
        data, and that illustrative territories are made up.
    """
    from tdi_geo import mapping
    from tdi_geo.indicators import INDICATORS

    _check_view(view)
    state = view_state(view)
    if state.get("mode") == "diff":
        colored, legend = mapping.color_diff(view, state["date_from"], state["date"])
        label = "Évolution"
        what = f"évolution du périmètre du {mapping.format_date(state['date_from'])} au {mapping.format_date(state['date'])}"
    else:
        indicator = indicator or state.get("indicator") or "status"
        colored, legend = mapping.color_view(view, indicator, scheme)
        label = INDICATORS[indicator]["label"]
        what = f"{label.lower()} au {mapping.format_date(state['date'])}"
    regions = state.get("regions") or []
    layer = mapping.layer_spec(colored, legend, label, fit_key="file",
                               fit_bounds=None if regions and len(view) else mapping.NATIONAL_BOUNDS)
    where = f", régions {', '.join(regions)}" if regions else ""
    subtitle = (
        f"{state['territories']} territoires, dont {state['inferred_territories']} inférés (composition d'une "
        f"source, date ou présence déduite) et {state['illustrative_territories']} illustratifs (présence ou "
        "composition sans source, contour pointillé). "
        f"Jeu de données « {state.get('dataset', '')} » ; référentiel {state['reference']['source']}, "
        f"COG {state['reference']['cog_year']} ; {state['generator']}."
    )
    page = mapping.standalone_html(mapping.base_spec(), layer,
                                   title=f"Territoires d'industrie — {what}{where}", subtitle=subtitle)
    return page.encode("utf-8")


def export_state_file(prog, state: dict, fmt: str, out: Path | str, resolution: str | None = None) -> Path:
    """Write the file of a parsed view state (the CLI's ``export`` command).

    The same view and writer as the page's button and the HTTP route of the
    same parameters, so the data files (GeoJSON, CSV, …) are byte-for-byte theirs.

    Parameters
    ----------
    prog : Programme
    state : dict
        From :func:`tdi_geo.view_params.parse_view_params` (a comparison when
        ``date_from`` is set).
    fmt : {"geojson", "csv", "html", "gpkg", "xlsx", "zip", "png", "pdf"}
        ``zip`` is a zipped shapefile (:mod:`tdi_geo.export_formats`);
        ``png`` and ``pdf`` are A4 print-ready pictures (:mod:`tdi_geo.print_map`).
    out : Path
        Output file; its folder must exist.
    resolution : str, optional
        Geometry resolution: default ``fine`` for data files (as the page's
        downloads), ``web`` for the HTML map and pictures (as the page draws them).

    Returns
    -------
    Path
    """
    from tdi_geo.view_params import state_view

    if fmt not in FORMATS:
        raise ValueError(f"Format inconnu : « {fmt} ». Formats possibles : {', '.join(FORMATS)}.")
    out = Path(out)
    if not out.parent.is_dir():
        raise FileNotFoundError(f"Le dossier « {out.parent} » n'existe pas.")
    picture = fmt in ("html", "png", "pdf")
    view = state_view(prog, state, resolution=resolution or ("web" if picture else "fine"))
    if fmt in ("png", "pdf"):
        from tdi_geo import print_map

        source = print_map.version_source(prog, state["date"])
        out.write_bytes(print_map.WRITERS[fmt](view, state["indicator"], state["scheme"], source=source))
        return out
    if fmt == "html":
        out.write_bytes(html_bytes(view, state["indicator"], state["scheme"]))
        return out
    from tdi_geo import export_formats

    writers = {"geojson": geojson_bytes, "csv": csv_bytes, **export_formats.WRITERS}
    out.write_bytes(writers[fmt](view))
    return out


def export_view_file(
    prog,
    date,
    regions=(),
    pillar: str | None = None,
    indicator: str = "status",
    fmt: str = "geojson",
    out: Path | str = "vue.geojson",
    statuses=(),
    fragile_only: bool = False,
    documented_only: bool = False,
    resolution: str | None = None,
) -> Path:
    """Build a view from keyword filters and write it to a file.

    Kept for scripts: the CLI reads its parameters with the page's parser and
    calls :func:`export_state_file`. Unknown régions, statuses, pillar or
    indicator raise a French ``ValueError`` (from
    :func:`~tdi_geo.indicators.build_view`).

    Parameters
    ----------
    prog : Programme
    date, regions, pillar, indicator, statuses, fragile_only, documented_only :
        As :func:`tdi_geo.indicators.build_view`.
    fmt, out, resolution :
        As :func:`export_state_file`.

    Returns
    -------
    Path
    """
    from tdi_geo.programme import parse_date

    state = {
        "date": parse_date(date), "date_from": None, "regions": list(regions), "pillar": pillar,
        "statuses": list(statuses), "fragile_only": fragile_only, "documented_only": documented_only,
        "indicator": indicator, "scheme": "quantiles",
    }
    return export_state_file(prog, state, fmt, out, resolution)
