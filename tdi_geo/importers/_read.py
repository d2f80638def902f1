"""Read an uploaded file into sheets of text cells, whatever its format, refusing it safely.

Formats: CSV/TXT/TSV (:mod:`._read_text`), XLSX/XLSM, ODS and zipped
shapefiles (:mod:`._read_zip`), XLS (OLE2), the workbooks' cells being read
by python-calamine (:mod:`._read_sheets`), GeoJSON and shapefiles
(:mod:`._read_geo`). This module
opens the file — never through a symbolic link, never a directory or a
device —, reads at most the size limit, and sends the bytes to the reader of
their format. The grid keeps the file's rows as a spreadsheet shows them:
grid row ``i`` is spreadsheet row ``i + 1``. Every failure is a
:class:`ReadError` whose French message names the file as the user gave it,
never a server path and never a library's English text.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pandas as pd

from tdi_geo.importers._grid import (  # noqa: F401  (re-exported: the importers' public reading API)
    ACCEPTED,
    HEADER_SCAN_ROWS,
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    RawFile,
    ReadError,
    Sheet,
    megabytes,
)
from tdi_geo.importers._read_text import (  # noqa: F401  (decode_text, sniff_separator: re-exported)
    decode_text,
    looks_textual,
    read_text,
    sniff_separator,
    utf16_without_bom,
)

TEXT_SUFFIXES = {".csv", ".txt", ".tsv", ""}
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: The stream name Office gives an encrypted (password-protected) document inside its OLE2 wrapper.
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
#: Trimmed from both ends of every cell (spaces and no-break spaces).
STRIP_CHARS = " \t\r\n\xa0\u202f\u2007\u2009"
#: Control and invisible formatting characters (zero-width, bidirectional marks, BOM):
#: removed from cells, with a warning, since they change a name without showing.
_INVISIBLE = re.compile(
    r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
_SPACES = re.compile(r"[\s\xa0\u202f]+")


def read_file(path: Path, max_bytes: int = MAX_FILE_BYTES, name: str | None = None) -> RawFile:
    """Read ``path`` into one or more sheets of text cells.

    Parameters
    ----------
    path : Path
    max_bytes : int
        Files larger than this are refused before being read.
    name : str, optional
        The file's name as the user gave it (an upload saved under another
        name); messages use it, never ``path``. Defaults to ``path.name``.

    Raises
    ------
    ReadError
        Missing, empty, too large, binary, unsupported, unsafe or unreadable file.
    """
    path = Path(path)
    name = Path(name).name if name else path.name
    data = read_bytes(path, name, max_bytes)
    suffix = Path(name).suffix.lower()
    try:
        if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            from tdi_geo.importers._read_zip import read_zip

            return read_zip(data, path, name, max_bytes)
        if data.startswith(_OLE2):
            if _ENCRYPTED in data or suffix in (".xlsx", ".xlsm"):
                raise _encrypted_error(name)
            from tdi_geo.importers._read_sheets import read_workbook

            return read_workbook(data, path, name, "xls")
        if suffix in (".geojson", ".json"):
            from tdi_geo.importers._read_geo import read_geojson

            return read_geojson(data, path, name)
        if suffix in (".shp", ".dbf"):
            return _read_shapefile(data, path, name, suffix, max_bytes)
        head = data[:8192]
        if suffix in TEXT_SUFFIXES or looks_textual(head) or utf16_without_bom(head):
            return read_text(data, path, name)
    except ReadError:
        raise
    except MemoryError:
        raise ReadError(f"Fichier « {name} » trop volumineux pour être lu en mémoire.") from None
    except Exception:  # any other parser failure on bad input: a French message, never the library's text
        raise ReadError(
            f"Fichier « {name} » illisible : son contenu ne correspond pas à son format. "
            f"Formats acceptés : {ACCEPTED}."
        ) from None
    raise ReadError(f"Format de fichier non pris en charge : « {name} ». Formats acceptés : {ACCEPTED}.")


def read_bytes(path: Path, name: str, max_bytes: int) -> bytes:
    """The bytes of a regular file, without following a symbolic link and at most ``max_bytes``."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise ReadError(f"Fichier « {name} » introuvable.") from None
    except OSError:
        raise ReadError(f"Fichier « {name} » inaccessible : son dossier ne peut pas être lu (droits).") from None
    if stat.S_ISLNK(info.st_mode):
        raise ReadError(
            f"« {name} » est un lien symbolique : il n'est pas suivi. Donnez le fichier lui-même."
        )
    if stat.S_ISDIR(info.st_mode):
        raise ReadError(f"« {name} » est un dossier, pas un fichier. Donnez le fichier à importer.")
    if not stat.S_ISREG(info.st_mode):
        raise ReadError(f"« {name} » n'est pas un fichier ordinaire (périphérique, tube…) : il n'est pas lu.")
    _check_size(info.st_size, name, max_bytes)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except PermissionError:
        raise ReadError(
            f"Fichier « {name} » illisible : lecture non autorisée (droits du fichier). "
            "Donnez-vous le droit de lecture ou copiez-le ailleurs."
        ) from None
    except OSError:
        raise ReadError(f"Fichier « {name} » illisible : il n'a pas pu être ouvert.") from None
    try:
        with os.fdopen(fd, "rb") as fh:
            opened = os.fstat(fh.fileno())
            if not stat.S_ISREG(opened.st_mode):
                raise ReadError(f"« {name} » n'est pas un fichier ordinaire : il n'est pas lu.")
            # read(n) reserves n bytes first: ask for the file's size (plus one, to see growth), not the limit.
            data = fh.read(min(opened.st_size, max_bytes) + 1)
    except OSError:
        raise ReadError(f"Fichier « {name} » illisible : erreur de lecture du disque.") from None
    _check_size(len(data), name, max_bytes)
    return data


def _check_size(size: int, name: str, max_bytes: int) -> None:
    if size > max_bytes:
        raise ReadError(
            f"Fichier « {name} » trop volumineux : {megabytes(size)} (limite : {megabytes(max_bytes)}). "
            "Retirez les colonnes inutiles ou découpez le fichier."
        )
    if size == 0:
        raise ReadError(f"Fichier « {name} » vide (0 octet). Vérifiez que l'export s'est bien terminé.")


def _encrypted_error(name: str) -> ReadError:
    # Office wraps a password-protected .xlsx in an OLE2 file: it is not an old .xls.
    return ReadError(
        f"Classeur « {name} » protégé par un mot de passe (chiffré) : il ne peut pas être lu. Ouvrez-le, "
        "retirez le mot de passe (Fichier > Informations > Protéger le classeur) et enregistrez-le en .xlsx."
    )


def _sibling(path: Path, suffix: str) -> Path | None:
    for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if os.path.lexists(candidate):
            return candidate
    return None


def _read_shapefile(data: bytes, path: Path, name: str, suffix: str, max_bytes: int) -> RawFile:
    from tdi_geo.importers._read_geo import read_dbf

    dbf = data
    if suffix == ".shp":
        sibling = _sibling(path, ".dbf")
        if sibling is None:
            raise ReadError(
                f"Shapefile « {name} » incomplet : son fichier .dbf (les attributs) est absent. Donnez le .dbf "
                "avec le .shp, ou une archive .zip qui contient .shp, .shx, .dbf et .cpg."
            )
        dbf = read_bytes(sibling, Path(name).with_suffix(sibling.suffix).name, max_bytes)
    cpg_path = _sibling(path, ".cpg")
    cpg = read_bytes(cpg_path, Path(name).with_suffix(".cpg").name, 1024) if cpg_path is not None else None
    return read_dbf(dbf, cpg, path, name)


def clean_text(value: str) -> str:
    """One cell without surrounding spaces or invisible characters, inner runs of spaces made one space."""
    # Fast path for the common cell: printable (no control, format or non-ASCII space character), single-spaced.
    if value.isprintable() and "  " not in value and value[:1] != " " and value[-1:] != " ":
        return value
    return _SPACES.sub(" ", _INVISIBLE.sub("", value).strip(STRIP_CHARS))


def clean_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`clean_text` on every cell."""
    return pd.DataFrame({col: [clean_text(v) for v in frame[col].astype("str").tolist()] for col in frame.columns},
                        index=frame.index, columns=frame.columns, dtype="str")


def has_nul(values: pd.Series) -> pd.Series:
    """Which cells hold a NUL character."""
    return pd.Series(["\x00" in v for v in values.astype("str").tolist()], index=values.index, dtype=bool)


def has_invisible(values: pd.Series) -> pd.Series:
    """Which cells hold a character that :func:`clean_text` removes without it showing."""
    return pd.Series([not v.isprintable() and _INVISIBLE.search(v) is not None for v in values.astype("str").tolist()],
                     index=values.index, dtype=bool)
