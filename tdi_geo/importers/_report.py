"""The import report of one file and the French message helpers that fill it.

Every message names the file, the sheet, the spreadsheet row and the column
as written in the file; the helpers here are the one place that spells them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tdi_geo.importers._columns import KINDS
from tdi_geo.quoting import QUOTE_CHARS, shorten, shorten_quotes  # noqa: F401  (re-exported for the importers)

#: How many examples a message lists before « et N autres ».
LIST_LIMIT = 10


@dataclass
class ImportReport:
    """What validating one file found.

    Attributes
    ----------
    file : str
        The file name, as shown in messages.
    kind : str or None
        ``communes``, ``epci``, ``status`` or ``projects`` (None if unknown).
    columns : dict
        ``{field: header}``: which column of the file feeds which field.
    errors, warnings : list of str
        French messages; any error blocks the import.
    summary : dict
        Counts (rows, territories, communes, EPCI…), for display.
    """

    file: str
    kind: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    format: str | None = None
    encoding: str | None = None
    separator: str | None = None
    sheet: str | None = None
    header_row: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind].label if self.kind else "type non reconnu"

    def to_text(self) -> str:
        """The report as French text (one block per file)."""
        lines = [f"Fichier « {self.file} » : {self.kind_label}"]
        details = []
        if self.format:
            details.append(f"format {self.format}")
        if self.encoding:
            details.append(f"encodage {self.encoding}")
        if self.separator:
            details.append(f"séparateur {self.separator}")
        if self.sheet:
            details.append(f"feuille « {self.sheet} »")
        if self.header_row:
            details.append(f"en-tête ligne {self.header_row}")
        if details:
            lines.append("  " + ", ".join(details))
        if self.columns:
            lines.append("  Colonnes : " + ", ".join(f"« {h} » → {f}" for f, h in self.columns.items()))
        if self.summary:
            lines.append("  Résumé : " + ", ".join(f"{k} = {v}" for k, v in self.summary.items()))
        lines += [f"  ERREUR : {e}" for e in self.errors]
        lines += [f"  Avertissement : {w}" for w in self.warnings]
        return "\n".join(lines)


@dataclass
class ParsedFile:
    """A validated file: its report and the rows it contributes."""

    path: Path
    report: ImportReport
    #: One row per data row: the mapped fields (cleaned text) and ``_row``.
    table: pd.DataFrame | None = None
    #: Perimeter kinds: ``key, name, code, region`` per imported territory.
    territories: pd.DataFrame | None = None
    #: Perimeter kinds: ``key, epci_siren, insee_com`` (one filled).
    members: pd.DataFrame | None = None
    #: A date read from the file content (perimeter kinds), if any.
    content_date: str | None = None


def where(report: ImportReport, row=None, column: str | None = None) -> str:
    """« file », sheet, row and column of a message, as far as they are known."""
    parts = [f"« {report.file} »"]
    if report.sheet:
        parts.append(f"feuille « {report.sheet} »")
    if row is not None:
        parts.append(f"ligne {row}")
    if column:
        parts.append(f"colonne « {column} »")
    return ", ".join(parts)


def enumerate_items(items: list[str], limit: int = LIST_LIMIT) -> str:
    """``a, b et c``; beyond ``limit`` items, ``a, b, … et N autres``."""
    if not items:
        return ""
    more = len(items) - limit
    if more > 0:
        return f"{', '.join(items[:limit])} et {more} autre{'s' if more > 1 else ''}"
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} et {items[-1]}"


def rows_text(rows) -> str:
    """``ligne 3`` or ``lignes 3, 5 et 8``."""
    rows = [str(int(r)) for r in rows]
    word = "lignes" if len(rows) > 1 else "ligne"
    return f"{word} {enumerate_items(rows)}"


def column_of(report: ImportReport, field_name: str) -> str:
    """The header of the file that feeds ``field_name`` (the field name if none)."""
    return report.columns.get(field_name, field_name)


def report_bad_cells(report: ImportReport, table: pd.DataFrame, field_name: str, bad: pd.Series, what: str,
                     fix: str) -> None:
    """One error listing the rows and values of the ``bad`` cells of ``field_name``."""
    if not bad.any():
        return
    cells = [f"ligne {r} (« {v} »)" for r, v in zip(table.loc[bad, "_row"], table.loc[bad, field_name])]
    report.errors.append(
        f"{where(report, column=column_of(report, field_name))} : {what} : {enumerate_items(cells)}. {fix}"
    )


def report_empty(report: ImportReport, table: pd.DataFrame, field_name: str, what: str) -> pd.Series:
    """One error listing the rows where ``field_name`` is empty; returns the mask of those rows."""
    empty = table[field_name] == ""
    if empty.any():
        report.errors.append(
            f"{where(report, column=column_of(report, field_name))} : {what} vide, "
            f"{rows_text(table.loc[empty, '_row'])}. Remplissez ces cellules ou supprimez ces lignes."
        )
    return empty
