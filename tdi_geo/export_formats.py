"""GeoPackage, zipped shapefile and XLSX of a view: the files GIS and Excel users open.

Same territories, properties (:data:`tdi_geo.export.EXPORT_FIELDS`) and
geometries as the GeoJSON download (valid, rounded to 1e-6°, WGS84), so a
feature's attributes read the same in every format.

- **GeoPackage** (``.gpkg``): one layer ``territoires``, EPSG:4326, written
  by GDAL through pyogrio (imported here, lazily: the page pays for it only
  when the button is clicked).
- **Shapefile** (``.zip``): ``territoires.shp/.shx/.dbf``, ``.prj`` (WGS84),
  ``.cpg`` (UTF-8), ``champs.csv`` giving each 10-character dBase field
  name its full property name (:data:`SHAPEFILE_FIELDS`), and ``LISEZMOI.txt``.
  A dBase text field holds at most 254 bytes, and a territory's member EPCIs
  or sources can be longer (the names of a territory of ten EPCIs run to
  ~600 bytes). No member is lost: the complete lists are side tables of the
  archive, one row per item, joined on ``id`` — ``membres.csv`` (``id,
  epci_siren, epci_name``) and ``sources.csv`` (``id, source``); a list that
  does not fit keeps the whole items that do, followed by the explicit
  marker « … (suite dans membres.csv) » (or ``sources.csv``). Any other text
  too long for dBase (only a made-up import could have one) is cut at a
  character boundary with « … (texte complet dans le GeoPackage) ».
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

from tdi_geo.export import (
    plain,
    properties_frame,
    rfc7946_geometries,
    table_csv,
    view_state,
)
from tdi_geo.perimeters import LIST_SEPARATOR
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
#: Longest dBase text value, in bytes (UTF-8, as the ``.cpg`` says).
DBF_TEXT_BYTES = 254
#: List-valued property → side table of the shapefile archive holding it complete.
SIDE_TABLES: dict[str, str] = {"epci_sirens": "membres.csv", "epci_names": "membres.csv", "sources": "sources.csv"}
#: The end of a list cut to fit dBase (``{}``: its side table).
LIST_MARKER = "… (suite dans {})"
#: The end of any other text cut to fit dBase.
TEXT_MARKER = "… (texte complet dans le GeoPackage)"


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


def _fit_list(text: str, table: str, limit: int = DBF_TEXT_BYTES) -> str:
    """``text`` (a :data:`~tdi_geo.perimeters.LIST_SEPARATOR` list) if it fits in ``limit``
    UTF-8 bytes, else its first whole items and the marker naming ``table``.

    >>> _fit_list("aaaaaaaaaa ; bbbbbbbbbb ; cccccccccc ; dddddddddd", "membres.csv", limit=45)
    'aaaaaaaaaa ; … (suite dans membres.csv)'
    """
    if len(text.encode("utf-8")) <= limit:
        return text
    marker = LIST_MARKER.format(table)
    kept: list[str] = []
    for item in text.split(LIST_SEPARATOR):
        if len((LIST_SEPARATOR.join([*kept, item]) + LIST_SEPARATOR + marker).encode("utf-8")) > limit:
            break
        kept.append(item)
    return LIST_SEPARATOR.join([*kept, marker]) if kept else _fit_text(text, marker, limit)


def _fit_text(text: str, marker: str = TEXT_MARKER, limit: int = DBF_TEXT_BYTES) -> str:
    """``text`` if it fits in ``limit`` UTF-8 bytes, else cut at a character boundary and ended by ``marker``."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    room = limit - len(marker.encode("utf-8"))
    return raw[:room].decode("utf-8", errors="ignore") + marker


def _split_lists(props: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """One row per list item: ``id`` and each column of ``columns`` (property → side-table column).

    The lists of one territory are in the same order (by SIREN for the EPCIs),
    so their items pair up position by position.
    """
    present = {prop: out for prop, out in columns.items() if prop in props.columns}
    if not present:
        return pd.DataFrame(columns=["id", *columns.values()])
    table = props[["id", *present]].rename(columns=present)
    for column in present.values():
        table[column] = table[column].fillna("").astype(str).map(lambda t: t.split(LIST_SEPARATOR) if t else [])
    table = table.explode(list(present.values()), ignore_index=True).dropna()
    return table.reset_index(drop=True)


def side_tables(props: pd.DataFrame) -> dict[str, bytes]:
    """The shapefile archive's complete lists: ``membres.csv`` and ``sources.csv``.

    UTF-8 CSV with a byte-order mark and formula-looking text neutralised, as the CSV download.
    """
    members = _split_lists(props, {"epci_sirens": "epci_siren", "epci_names": "epci_name"})
    sources = _split_lists(props, {"sources": "source"})
    return {name: table_csv(table).encode("utf-8-sig")
            for name, table in (("membres.csv", members), ("sources.csv", sources))}


def _readme() -> str:
    lines = [
        "Territoires d'industrie : shapefile de la vue exportée",
        "",
        "territoires.shp/.shx/.dbf/.prj/.cpg : les territoires (WGS84, EPSG:4326, texte en UTF-8).",
        "champs.csv : le nom complet (propriété du GeoJSON) de chaque champ dBase de 10 caractères au plus.",
        "Les booléens sont écrits 1 (vrai) ou 0 (faux) ; vide : pas de donnée.",
        "",
        f"Un champ texte dBase contient au plus {DBF_TEXT_BYTES} octets. Les listes trop longues",
        "(EPCI membres, sources) y sont tronquées à l'élément près et finissent par",
        f"« {LIST_MARKER.format('membres.csv')} » ou « {LIST_MARKER.format('sources.csv')} ».",
        "Les listes complètes, une ligne par élément, à joindre aux territoires par « id » :",
        "  membres.csv : id, epci_siren, epci_name (EPCI membres à la date de la vue ; dans une",
        "                comparaison, un territoire retiré garde ceux de la date de départ) ;",
        "  sources.csv : id, source (adresses des sources ; aucune pour un territoire illustratif).",
        f"Tout autre texte trop long pour dBase finit par « {TEXT_MARKER} ».",
    ]
    return "\r\n".join(lines) + "\r\n"


def _zip_member(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    # A fixed date: the same view gives the same archive bytes.
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def shapefile_zip_bytes(view: gpd.GeoDataFrame) -> bytes:
    """The view as a zipped shapefile, with its documentation and complete lists.

    The archive holds ``territoires.shp/.shx/.dbf``, ``.prj`` (WGS84),
    ``.cpg`` (UTF-8), ``champs.csv`` (every dBase field with its property
    name: names longer than dBase's 10 characters are renamed by
    :data:`SHAPEFILE_FIELDS`), ``membres.csv`` and ``sources.csv`` (the
    complete member EPCIs and sources, see :func:`side_tables`) and
    ``LISEZMOI.txt``. Booleans are written as 1/0 integers (dBase logicals
    are read inconsistently across programs). Lists longer than a dBase
    text field keep their whole first items and say where the rest is
    (:data:`LIST_MARKER`), never a silent cut.
    """
    frame = _frame_4326(view)
    tables = side_tables(frame.drop(columns=frame.geometry.name))
    for col in frame.columns:
        if col == frame.geometry.name:
            continue
        if pd.api.types.is_bool_dtype(frame[col]):
            # Nullable: a flag the data does not give (after the status data) stays empty, not 0.
            frame[col] = frame[col].astype("Int32") if frame[col].isna().any() else frame[col].astype("int32")
        elif col in SIDE_TABLES:
            frame[col] = frame[col].fillna("").astype(str).map(lambda t, table=SIDE_TABLES[col]: _fit_list(t, table))
        elif frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col]):
            frame[col] = frame[col].map(lambda t: _fit_text(t) if isinstance(t, str) else t)
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
                _zip_member(archive, path.name, path.read_bytes())
            _zip_member(archive, "champs.csv", doc.getvalue().encode("utf-8"))
            for name, data in tables.items():
                _zip_member(archive, name, data)
            _zip_member(archive, "LISEZMOI.txt", _readme().encode("utf-8"))
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
