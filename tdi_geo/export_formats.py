"""GeoPackage, zipped shapefile and XLSX of a view: the files GIS and Excel users open.

Same territories, properties (:data:`tdi_geo.export.EXPORT_FIELDS`) and
geometries as the GeoJSON download (valid, rounded to 1e-6°, WGS84), so a
feature's attributes read the same in every format.

- **GeoPackage** (``.gpkg``): one layer ``territoires``, EPSG:4326, written
  by GDAL through pyogrio (imported here, lazily: the page pays for it only
  when the button is clicked).
- **Shapefile** (``.zip``): ``territoires.shp/.shx/.dbf``, ``.prj`` (WGS84),
  ``.cpg`` (UTF-8), and ``champs.csv`` giving each 10-character dBase field
  name its full property name (:data:`SHAPEFILE_FIELDS`).
- **XLSX** (``.xlsx``): the attributes (no geometry) in a sheet
  ``territoires`` and the view's filters and sources in a sheet ``vue``;
  text that a spreadsheet would run as a formula is neutralised as in CSV
  (:mod:`tdi_geo.spreadsheet`). Written by :mod:`tdi_geo.xlsx_writer`.
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd

from tdi_geo.export import plain, properties_frame, rfc7946_geometries, view_state
from tdi_geo.spreadsheet import neutralise_text
from tdi_geo.xlsx_writer import xlsx_bytes as _workbook

#: Property → dBase field name (at most 10 characters) in the shapefile; the
#: properties not listed keep their name (already short enough). The same
#: table is written in the archive as ``champs.csv``.
SHAPEFILE_FIELDS: dict[str, str] = {
    "region_name": "reg_name",
    "status_label": "stat_label",
    "status_date": "stat_date",
    "projects_committed": "proj_engag",
    "funding_eur": "fund_eur",
    "funding_per_inhabitant": "fund_p_hab",
    "state_operators_eur": "etat_eur",
    "territoires_innovation_eur": "ti_eur",
    "provenance_label": "prov_label",
    "illustrative": "illustrat",
    "epci_sirens": "epci_siren",
}
#: GeoPackage layer and shapefile base name.
LAYER = "territoires"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _frame_4326(view: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The exported properties with the GeoJSON download's geometries, in EPSG:4326."""
    if view.crs is not None and view.crs.to_epsg() != 4326:
        view = view.to_crs(4326)
    props = properties_frame(view).reset_index(drop=True)
    geoms = rfc7946_geometries(view.geometry.values)
    return gpd.GeoDataFrame(props, geometry=list(geoms), crs="EPSG:4326")


def shapefile_field(name: str) -> str:
    """The dBase field name of a property (:data:`SHAPEFILE_FIELDS`, else the name itself)."""
    return SHAPEFILE_FIELDS.get(name, name)


def _write_with_gdal(frame: gpd.GeoDataFrame, folder: Path, filename: str, driver: str, **options) -> None:
    import pyogrio  # heavy (GDAL): only when a GIS file is asked for

    pyogrio.write_dataframe(frame, folder / filename, layer=LAYER, driver=driver, **options)


def gpkg_bytes(view: gpd.GeoDataFrame) -> bytes:
    """The view as a GeoPackage: layer ``territoires``, EPSG:4326, one feature per territory.

    Parameters
    ----------
    view : GeoDataFrame
        From :func:`~tdi_geo.indicators.build_view` or :func:`~tdi_geo.indicators.diff_view`.

    Returns
    -------
    bytes
        The ``.gpkg`` file (SQLite).
    """
    frame = _frame_4326(view)
    with tempfile.TemporaryDirectory(prefix="tdi-gpkg-") as tmp:
        _write_with_gdal(frame, Path(tmp), f"{LAYER}.gpkg", "GPKG", promote_to_multi=True)
        return (Path(tmp) / f"{LAYER}.gpkg").read_bytes()


def shapefile_zip_bytes(view: gpd.GeoDataFrame) -> bytes:
    """The view as a zipped shapefile with ``.prj`` (WGS84), ``.cpg`` (UTF-8) and ``champs.csv``.

    Field names longer than dBase's 10 characters are renamed by
    :data:`SHAPEFILE_FIELDS`; ``champs.csv`` lists every field with its
    property name. Booleans are written as 1/0 integers (dBase logicals are
    read inconsistently across programs).
    """
    frame = _frame_4326(view)
    for col in frame.columns:
        if col != frame.geometry.name and pd.api.types.is_bool_dtype(frame[col]):
            frame[col] = frame[col].astype("int32")
    fields = [c for c in frame.columns if c != frame.geometry.name]
    frame = frame.rename(columns={c: shapefile_field(c) for c in fields})
    doc = io.StringIO()
    doc.write("champ,propriete\r\n")
    for name in fields:
        doc.write(f"{shapefile_field(name)},{name}\r\n")
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="tdi-shp-") as tmp:
        folder = Path(tmp)
        _write_with_gdal(frame, folder, f"{LAYER}.shp", "ESRI Shapefile", encoding="UTF-8")
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.iterdir()):
                info = zipfile.ZipInfo(path.name, date_time=_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
            info = zipfile.ZipInfo("champs.csv", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, doc.getvalue().encode("utf-8"))
    return buffer.getvalue()


def _about_value(value) -> str | int | float | bool | None:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return plain(value)


def xlsx_bytes(view: gpd.GeoDataFrame) -> bytes:
    """The view's attributes as an Excel workbook.

    Sheet ``territoires``: the CSV download's header and rows (numbers as
    numbers, booleans as booleans, formula-looking text prefixed with ``'``).
    Sheet ``vue``: the filters, counts and sources of the view
    (:func:`tdi_geo.export.view_state`), one per row.
    """
    props = properties_frame(view).copy()
    for col in props.columns:
        if props[col].dtype == object or pd.api.types.is_string_dtype(props[col]):
            props[col] = neutralise_text(props[col])
    rows = [list(props.columns)]
    rows += [[plain(v) for v in record] for record in props.itertuples(index=False, name=None)]
    about = pd.Series({k: _about_value(v) for k, v in view_state(view).items()}, dtype=object)
    texts = about.map(lambda v: isinstance(v, str))
    about[texts] = neutralise_text(about[texts].astype(str))
    about_rows = [["paramètre", "valeur"], *([k, v] for k, v in about.items())]
    return _workbook([("territoires", rows), ("vue", about_rows)])


#: Format (file extension) → writer of a view, for the CLI and the HTTP routes.
WRITERS = {"gpkg": gpkg_bytes, "xlsx": xlsx_bytes, "zip": shapefile_zip_bytes}
