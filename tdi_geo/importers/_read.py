"""Read an uploaded file into a grid of text cells, whatever its format.

Formats: CSV/TXT/TSV (encoding and separator sniffed), XLSX (every sheet),
GeoJSON, shapefile (``.shp``, ``.dbf`` or a ``.zip`` holding one). The grid
keeps the file's rows as the user sees them in a spreadsheet: grid row ``i``
is spreadsheet row ``i + 1``. Header detection and column matching happen in
:mod:`tdi_geo.importers._checks`.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import pandas as pd

#: Largest file accepted, in bytes (uploads and CLI alike).
MAX_FILE_BYTES = 50 * 1024 * 1024
#: A zip (XLSX or zipped shapefile) may expand to at most this many times the limit.
_MAX_EXPANSION = 4
#: Rows scanned to find the header row and the separator.
HEADER_SCAN_ROWS = 20

TEXT_SUFFIXES = {".csv", ".txt", ".tsv", ""}
GEO_SUFFIXES = {".geojson", ".json", ".shp", ".dbf"}
ACCEPTED = "CSV (.csv, .txt), Excel (.xlsx), GeoJSON (.geojson) ou shapefile (.shp, .dbf ou .zip)"
_SEPARATORS = (";", ",", "\t", "|")
_SEPARATOR_NAMES = {";": "point-virgule", ",": "virgule", "\t": "tabulation", "|": "barre verticale"}
#: Characters trimmed from both ends of every cell (spaces, non-breaking spaces, BOM, zero-width).
STRIP_CHARS = " \t\r\n\xa0\u202f\u2007\u2009\ufeff\u200b"


class ReadError(Exception):
    """A file cannot be read; the message is French and names the file."""


@dataclass
class Sheet:
    """The text cells of one table, before header detection."""

    grid: pd.DataFrame
    name: str | None = None
    #: Only the first rows (for choosing among sheets); ``load()`` reads all.
    partial: bool = False
    loader: object = None

    def load(self) -> "Sheet":
        if self.partial and self.loader is not None:
            return Sheet(grid=self.loader(), name=self.name)
        return self


@dataclass
class RawFile:
    """What was read from one file."""

    path: Path
    format: str
    sheets: list[Sheet]
    encoding: str | None = None
    separator: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def separator_name(self) -> str | None:
        return _SEPARATOR_NAMES.get(self.separator) if self.separator else None


def read_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> RawFile:
    """Read ``path`` into one or more sheets of text cells.

    Parameters
    ----------
    path : Path
    max_bytes : int
        Files larger than this are refused before being read.

    Raises
    ------
    ReadError
        Missing, empty, too large, binary, unsupported or unreadable file.
    """
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise ReadError(f"Fichier « {name} » introuvable ({path}).")
    size = path.stat().st_size
    if size > max_bytes:
        raise ReadError(
            f"Fichier « {name} » trop volumineux : {_megabytes(size)} (limite : {_megabytes(max_bytes)}). "
            "Retirez les colonnes inutiles ou découpez le fichier."
        )
    if size == 0:
        raise ReadError(f"Fichier « {name} » vide (0 octet). Vérifiez que l'export s'est bien terminé.")
    with path.open("rb") as fh:
        head = fh.read(8192)
    suffix = path.suffix.lower()
    try:
        if head.startswith(b"PK\x03\x04"):
            return _read_zip(path, max_bytes)
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            raise ReadError(
                f"Fichier « {name} » au format Excel 97-2003 (.xls), non pris en charge : "
                "enregistrez-le au format .xlsx ou CSV."
            )
        if suffix in GEO_SUFFIXES:
            return _read_geo(path)
        if suffix in TEXT_SUFFIXES or _looks_textual(head):
            return _read_text(path)
    except ReadError:
        raise
    except Exception as exc:  # any parser failure on bad input becomes a French message
        raise ReadError(f"Fichier « {name} » illisible : {_reason(exc)}.") from None
    raise ReadError(f"Format de fichier non pris en charge : « {name} ». Formats acceptés : {ACCEPTED}.")


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} Mo".replace(".", ",")


def _reason(exc: Exception) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return text[:200]


def _looks_textual(head: bytes) -> bool:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    if b"\x00" in head:
        return False
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    return controls <= len(head) * 0.01


# --- text (CSV) ---------------------------------------------------------------


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode bytes as UTF-8 (with or without BOM), UTF-16 (with BOM), else cp1252, else latin-1.

    Returns the text and the name of the encoding used.
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def sniff_separator(lines: list[str]) -> str:
    """The separator whose count is the same on most of the first lines.

    A name containing a comma in a ``;`` file changes the comma count of that
    line only, so consistency wins over raw frequency.
    """
    best, best_score = ";", (0, 0)
    sample = [line for line in lines if line.strip()][:HEADER_SCAN_ROWS * 2]
    for sep in _SEPARATORS:
        counts = pd.Series([line.count(sep) for line in sample], dtype="int64")
        counts = counts[counts > 0]
        if counts.empty:
            continue
        mode = int(counts.mode().iloc[0])
        score = (int((counts == mode).sum()), mode)
        if score > best_score:
            best, best_score = sep, score
    return best


def _read_text(path: Path) -> RawFile:
    data = path.read_bytes()
    if not _looks_textual(data[:8192]):
        raise ReadError(
            f"Fichier « {path.name} » illisible : son contenu est binaire, pas du texte CSV. "
            f"Formats acceptés : {ACCEPTED}."
        )
    try:
        text, encoding = decode_text(data)
    except UnicodeDecodeError:
        raise ReadError(f"Fichier « {path.name} » illisible : encodage de caractères invalide.") from None
    if not text.strip():
        raise ReadError(f"Fichier « {path.name} » vide : il ne contient aucune ligne.")
    lines = text.splitlines()
    sep = sniff_separator(lines[: HEADER_SCAN_ROWS * 3])
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"'))
    width = max((len(r) for r in rows), default=0)
    grid = pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype="str") if rows else pd.DataFrame()
    grid.columns = range(grid.shape[1])
    return RawFile(path=path, format="csv", sheets=[Sheet(grid=grid)], encoding=encoding, separator=sep)


# --- XLSX -----------------------------------------------------------------------


def _read_zip(path: Path, max_bytes: int) -> RawFile:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ReadError(f"Fichier « {path.name} » illisible : archive zip ou XLSX endommagée.") from None
    with archive:
        infos = archive.infolist()
        if sum(i.file_size for i in infos) > max_bytes * _MAX_EXPANSION:
            raise ReadError(
                f"Fichier « {path.name} » trop volumineux une fois décompressé "
                f"(limite : {_megabytes(max_bytes * _MAX_EXPANSION)})."
            )
        names = [i.filename for i in infos]
    if "xl/workbook.xml" in names:
        return _read_xlsx(path)
    shapefiles = [n for n in names if n.lower().endswith(".shp")]
    if len(shapefiles) == 1:
        return _read_geo(path, f"/vsizip/{path}/{shapefiles[0]}")
    if len(shapefiles) > 1:
        raise ReadError(
            f"L'archive « {path.name} » contient {len(shapefiles)} shapefiles : "
            "n'en mettez qu'un par archive."
        )
    raise ReadError(
        f"Format de fichier non pris en charge : l'archive « {path.name} » ne contient ni classeur XLSX "
        f"ni shapefile. Formats acceptés : {ACCEPTED}."
    )


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _xlsx_grid(path: Path, sheet_name: str, limit: int | None) -> pd.DataFrame:
    from openpyxl import load_workbook

    # data_only=False: a formula is read as its text, so it can be seen and neutralised.
    wb = load_workbook(path, read_only=True, data_only=False)
    try:
        rows = islice(wb[sheet_name].iter_rows(values_only=True), limit)
        cells = [[_cell_text(v) for v in row] for row in rows]
    finally:
        wb.close()
    width = max((len(r) for r in cells), default=0)
    grid = pd.DataFrame([r + [""] * (width - len(r)) for r in cells], dtype="str")
    grid.columns = range(grid.shape[1])
    return grid


def _read_xlsx(path: Path) -> RawFile:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=False)
    try:
        names = list(wb.sheetnames)
    finally:
        wb.close()
    sheets = [
        Sheet(
            grid=_xlsx_grid(path, name, HEADER_SCAN_ROWS + 2),
            name=name,
            partial=True,
            loader=(lambda n=name: _xlsx_grid(path, n, None)),
        )
        for name in names
    ]
    return RawFile(path=path, format="xlsx", sheets=sheets)


# --- GeoJSON / shapefile ------------------------------------------------------------


def _read_geo(path: Path, source: str | None = None) -> RawFile:
    import pyogrio

    frame = pyogrio.read_dataframe(source or str(path), read_geometry=False)
    frame = frame.drop(columns=[c for c in frame.columns if c == "geometry"])
    columns = [str(c) for c in frame.columns]
    body = pd.DataFrame({i: frame[c].map(_cell_text) for i, c in enumerate(frame.columns)}, dtype="str")
    header = pd.DataFrame([columns], columns=range(len(columns)), dtype="str")
    grid = pd.concat([header, body], ignore_index=True)
    fmt = "shapefile" if (source or path.suffix.lower() in (".shp", ".dbf")) else "geojson"
    return RawFile(path=path, format=fmt, sheets=[Sheet(grid=grid)], encoding=None)


def clean_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Trim spaces and non-breaking spaces around every cell; inner runs of spaces become one space."""
    out = {}
    for col in frame.columns:
        s = frame[col].astype("str")
        out[col] = s.str.strip(STRIP_CHARS).str.replace(r"[\s\xa0\u202f]+", " ", regex=True)
    return pd.DataFrame(out, index=frame.index)
