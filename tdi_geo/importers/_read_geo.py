"""GeoJSON and shapefile attributes, read through GDAL from bytes, never from the user's path.

GDAL reads a path with its own syntax (a ``;`` or a ``/vsi…`` prefix changes
its meaning), so it is given bytes (GeoJSON) or a private copy of the
``.dbf`` under a fixed name. Its English messages never reach the user:
each failure gets a French sentence. Counts in the headers are checked
against the limits before GDAL reads a row.
"""

from __future__ import annotations

import re
import struct
import tempfile
from pathlib import Path

import pandas as pd

from tdi_geo.importers._grid import (
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_ROWS,
    RawFile,
    ReadError,
    Sheet,
    cell_text,
    check_cell_lengths,
    too_long,
    too_wide,
)
from tdi_geo.importers._read_text import fault_text, faults

#: A JSON ``\u0000`` escape that is not itself an escaped backslash: GDAL would cut the text there.
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _check_counts(name: str, fields: int, records: int) -> None:
    if fields > MAX_COLUMNS:
        raise too_wide(name, fields)
    if records > MAX_ROWS or fields * records > MAX_CELLS:
        raise too_long(name, records, fields * records)


def _grid(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.drop(columns=[c for c in frame.columns if c == "geometry"])
    columns = [str(c) for c in frame.columns]
    body = pd.DataFrame({i: frame[c].map(cell_text) for i, c in enumerate(frame.columns)}, dtype="str")
    header = pd.DataFrame([columns], columns=range(len(columns)), dtype="str")
    return pd.concat([header, body], ignore_index=True)


def read_geojson(data: bytes, path: Path, name: str) -> RawFile:
    """The attribute table of a GeoJSON file (its geometry is ignored)."""
    import pyogrio

    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if not body.lstrip()[:1] == b"{":
        raise ReadError(
            f"Fichier « {name} » illisible : ce n'est pas un GeoJSON (un GeoJSON est un texte JSON qui commence "
            "par « { »). Exportez la couche au format GeoJSON depuis votre logiciel SIG."
        )
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        raise ReadError(
            f"Fichier « {name} » refusé : un GeoJSON doit être en UTF-8, or il contient des octets invalides : "
            f"{fault_text(faults(body, 'utf-8'))}."
        ) from None
    nul = _JSON_NUL.search(body) or re.search(rb"\x00", body)
    if nul:
        line = body.count(b"\n", 0, nul.start()) + 1
        raise ReadError(
            f"Fichier « {name} », ligne {line} du fichier : caractère nul (\\u0000) dans un texte. Il couperait le "
            "nom à cet endroit sans prévenir ; retirez-le."
        )
    try:
        info = pyogrio.read_info(body)
        _check_counts(name, len(info["fields"]), int(info["features"]))
        frame = pyogrio.read_dataframe(body, read_geometry=False)
    except ReadError:
        raise
    except Exception:  # GDAL's messages are English and may quote internal paths
        raise ReadError(
            f"Fichier « {name} » illisible : JSON invalide ou structure GeoJSON absente (il faut un objet "
            "« FeatureCollection » avec des « features »). Vérifiez que l'export est complet."
        ) from None
    return RawFile(path=path, format="geojson", sheets=[Sheet(grid=check_cell_lengths(_grid(frame), name))])


def read_dbf(dbf: bytes, cpg: bytes | None, path: Path, name: str) -> RawFile:
    """The attribute table of a shapefile, from the bytes of its ``.dbf`` (and ``.cpg``)."""
    import pyogrio

    if len(dbf) < 32 or dbf[0] not in (0x02, 0x03, 0x04, 0x05, 0x30, 0x31, 0x43, 0x63, 0x83, 0x8B, 0xCB, 0xF5):
        raise ReadError(f"Fichier « {name} » illisible : sa table attributaire (.dbf) est endommagée.")
    records, header_length = struct.unpack("<IH", dbf[4:10])
    _check_counts(name, max(header_length - 33, 0) // 32, records)
    with tempfile.TemporaryDirectory(prefix="tdi-geo-dbf-") as folder:
        # A fixed, plain name: the user's file name may contain characters GDAL reads as syntax.
        copy = Path(folder) / "couche.dbf"
        copy.write_bytes(dbf)
        if cpg is not None:
            copy.with_suffix(".cpg").write_bytes(cpg[:64])
        try:
            frame = pyogrio.read_dataframe(copy, read_geometry=False)
        except Exception:  # GDAL's messages are English and quote the private copy's path
            raise ReadError(
                f"Fichier « {name} » illisible : table attributaire (.dbf) du shapefile endommagée ou tronquée."
            ) from None
    return RawFile(path=path, format="shapefile", sheets=[Sheet(grid=_grid(frame))])
