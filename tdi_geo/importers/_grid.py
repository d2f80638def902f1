"""What every reader produces — sheets of text cells — with the limits that bound a read.

The limits are checked while rows arrive, before any per-column work, so a
hostile file (10,000 columns, millions of tiny cells) costs a bounded amount
of CPU and memory before it is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

from tdi_geo.importers._sheet_worker import cell_text  # noqa: F401  (one rule for every reader)

#: Largest file accepted, in bytes (uploads and CLI alike).
MAX_FILE_BYTES = 50 * 1024 * 1024
#: Widest table accepted. The official tables have at most about twenty
#: columns; two hundred leaves room for a user's own extra columns while
#: keeping the per-column work (cleaning, header matching) small.
MAX_COLUMNS = 200
#: Most rows accepted: about three times the 35,000 communes of France, the
#: longest official table (one row per commune).
MAX_ROWS = 100_000
#: Most cells (empty ones included) accepted in one sheet: the per-commune list
#: with ten columns has 350,000; reading an XLSX costs about 10 µs per cell.
MAX_CELLS = 500_000
#: Longest cell, in characters, in every format: the limit of Python's csv module (its default
#: ``csv.field_size_limit()``), which CSV files have always had. A real cell is a name or a code.
MAX_CELL_CHARS = 131_072
#: Rows scanned to find the header row and the separator.
HEADER_SCAN_ROWS = 20

ACCEPTED = ("CSV (.csv, .txt), Excel (.xlsx, .xlsm, .xls), OpenDocument (.ods), GeoJSON (.geojson) "
            "ou shapefile (.shp, .dbf ou .zip)")
_SEPARATOR_NAMES = {";": "point-virgule", ",": "virgule", "\t": "tabulation", "|": "barre verticale"}


class ReadError(Exception):
    """A file cannot be read; the message is French and names the file."""


@dataclass
class Sheet:
    """The text cells of one table, before header detection."""

    grid: pd.DataFrame
    name: str | None = None
    #: Only the first rows (for choosing among sheets); ``load()`` reads all.
    partial: bool = False
    loader: Callable[[], pd.DataFrame] | None = None

    def load(self) -> "Sheet":
        """The whole sheet (reads the rest of the file when only its head was read)."""
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


def megabytes(size: int) -> str:
    """``12,3 Mo``."""
    return f"{size / 1024 / 1024:.1f} Mo".replace(".", ",")


def too_wide(name: str, width: int, row: int | None = None) -> ReadError:
    """The error for a table wider than :data:`MAX_COLUMNS`."""
    where = f", ligne {row}" if row is not None else ""
    return ReadError(
        f"Fichier « {name} »{where} : {width} colonnes, plus que la limite de {MAX_COLUMNS}. "
        "Retirez les colonnes inutiles (les tableaux officiels en ont une vingtaine au plus)."
    )


def too_long(name: str, rows: int, cells: int | None = None) -> ReadError:
    """The error for a table beyond :data:`MAX_ROWS` rows or :data:`MAX_CELLS` cells."""
    size = f"{count_text(rows)} lignes" + (f", {count_text(cells)} cellules" if cells is not None else "")
    return ReadError(
        f"Fichier « {name} » trop grand : {size} "
        f"(limites : {count_text(MAX_ROWS)} lignes, {count_text(MAX_CELLS)} cellules). Découpez le fichier ou "
        "retirez les colonnes inutiles."
    )


def too_long_cell(name: str, row: int, column: int) -> ReadError:
    """The error for a cell longer than :data:`MAX_CELL_CHARS`, in any format."""
    from tdi_geo.xlsx_writer import column_letter

    return ReadError(f"Fichier « {name} », ligne {row}, colonne {column_letter(column - 1)} : une cellule dépasse "
                     f"{count_text(MAX_CELL_CHARS)} caractères, la limite d'une cellule.")


def check_cell_lengths(grid: pd.DataFrame, name: str) -> pd.DataFrame:
    """``grid``, or the error naming its first cell longer than :data:`MAX_CELL_CHARS` (grid row i = row i + 1)."""
    for position, column in enumerate(grid.columns, start=1):
        lengths = grid[column].str.len()
        if len(lengths) and lengths.max() > MAX_CELL_CHARS:
            raise too_long_cell(name, int((lengths > MAX_CELL_CHARS).to_numpy().argmax()) + 1, position)
    return grid


def count_text(n: int) -> str:
    """``100 000`` with the French (narrow no-break space) thousands separator."""
    return f"{n:,}".replace(",", "\u202f")


def bounded_grid(rows: Iterable[list[str]], name: str) -> pd.DataFrame:
    """A DataFrame of text cells from ``rows``, refusing a table over the limits as soon as it shows.

    Trailing empty cells of a row do not count towards its width, but they
    count towards the number of cells.
    """
    kept: list[list[str]] = []
    cells = width = 0
    for number, row in enumerate(rows, start=1):
        row = list(row)
        # Empty cells count too: a file of separators alone must not be read for free.
        cells += len(row)
        if number > MAX_ROWS or cells > MAX_CELLS:
            raise too_long(name, number, cells)
        while row and row[-1] == "":
            row.pop()
        if len(row) > MAX_COLUMNS:
            raise too_wide(name, len(row), number)
        if row and max(map(len, row)) > MAX_CELL_CHARS:
            raise too_long_cell(name, number, next(i for i, v in enumerate(row, 1) if len(v) > MAX_CELL_CHARS))
        width = max(width, len(row))
        kept.append(row)
    grid = pd.DataFrame([r + [""] * (width - len(r)) for r in kept], dtype="str") if kept else pd.DataFrame()
    grid.columns = range(grid.shape[1])
    return grid
