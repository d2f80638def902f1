"""Orchestration of one file's validation: read, find the table, run the checks of its kind.

The steps live in their own modules: reading (:mod:`._read`), header
detection (:mod:`._headers`), parsers (:mod:`._parsers`), perimeter and
tracking checks, and the report (:mod:`._report`). The names other modules
and tests import from here are re-exported below.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from tdi_geo.importers._columns import ALL_FIELDS, PERIMETER_KINDS
from tdi_geo.importers._headers import select_table
from tdi_geo.importers._parsers import pad_codes, parse_amounts, parse_dates
from tdi_geo.importers._perimeter_checks import Reference, check_communes, check_epci, load_reference
from tdi_geo.importers._read import MAX_FILE_BYTES, RawFile, ReadError, read_file
from tdi_geo.importers._report import (
    ImportReport,
    ParsedFile,
    column_of,
    enumerate_items,
    shorten_quotes,
    where,
)
from tdi_geo.importers._tracking_checks import check_projects, check_status
from tdi_geo.spreadsheet import formula_like, neutralise_text

__all__ = ["ImportReport", "ParsedFile", "Reference", "check_overrides", "load_reference", "pad_codes",
           "parse_amounts", "parse_dates", "parse_file"]

_LOG = logging.getLogger(__name__)
#: Fields whose text is kept in the dataset (formula-looking cells are neutralised).
TEXT_FIELDS = ("lib_ti", "lib_com", "id_ti", "epci_name", "main_city", "region_name", "territory_name",
               "territory_id", "project_id", "source")


def parse_file(path: Path, overrides: dict[str, str] | None = None, max_bytes: int | None = None,
               reference_dir: str | None = None, name: str | None = None) -> ParsedFile:
    """Read and validate one file.

    Parameters
    ----------
    path : Path
    overrides : dict, optional
        ``{header: field}`` forced by the user.
    max_bytes : int, optional
        Size limit (default :data:`tdi_geo.importers._read.MAX_FILE_BYTES`).
    reference_dir : str, optional
        Reference data to check codes against (default: the embedded one).
    name : str, optional
        The file's name as the user gave it, for messages (default ``path.name``);
        the server's path never appears in a message.

    Returns
    -------
    ParsedFile
        Never raises on bad input: problems are in ``report.errors``.
    """
    path = Path(path)
    overrides = overrides or {}
    report = ImportReport(file=Path(name).name if name else path.name)
    parsed = ParsedFile(path=path, report=report)
    try:
        raw = read_file(path, MAX_FILE_BYTES if max_bytes is None else max_bytes, report.file)
        report.format, report.encoding, report.separator = raw.format, raw.encoding, raw.separator_name
        _validate(parsed, raw, overrides, reference_dir)
    except ReadError as exc:
        parsed.table = None
        report.errors.append(str(exc))
    except Exception:  # a file we did not foresee must still get a French message, not a traceback
        # The exception's own text is English and may quote file content or a path: it is logged, not shown.
        _LOG.debug("unexpected failure validating %s", report.file, exc_info=True)
        parsed.table = None
        report.errors.append(
            f"Fichier « {report.file} » : contenu inattendu, la validation n'a pas pu aller au bout. "
            "Vérifiez le fichier (colonnes, cellules fusionnées, valeurs) ou signalez-le avec ce message."
        )
    report.errors[:] = [shorten_quotes(m) for m in report.errors]
    report.warnings[:] = [shorten_quotes(m) for m in report.warnings]
    return parsed


def _validate(parsed: ParsedFile, raw: RawFile, overrides: dict[str, str], reference_dir: str | None) -> None:
    report = parsed.report
    table = select_table(raw, report, overrides)
    if table is None:
        return
    parsed.table = table
    _neutralise_formulas(table, report)
    ref = load_reference(reference_dir)
    if report.kind == "communes":
        check_communes(parsed, ref)
    elif report.kind == "epci":
        check_epci(parsed, ref)
    elif report.kind == "status":
        check_status(parsed)
    else:
        check_projects(parsed)
    if report.kind in PERIMETER_KINDS and "date" in report.columns and report.ok:
        _content_date(parsed)


def _neutralise_formulas(table: pd.DataFrame, report: ImportReport) -> None:
    """Prefix formula-looking text cells with ``'`` so no spreadsheet runs them.

    A formula in a code, date, amount or status cell has no value to read
    (a text file holds its text, never a result): it is an error. A
    workbook's formulas read as the values the spreadsheet saved with them.
    """
    for field_name in [c for c in table.columns if c not in TEXT_FIELDS and c != "_row"]:
        formulas = table[field_name].str.startswith("=")
        if formulas.any():
            cells = [f"ligne {r} (« {v[:40]} »)"
                     for r, v in zip(table.loc[formulas, "_row"], table.loc[formulas, field_name])]
            report.errors.append(
                f"{where(report, column=column_of(report, field_name))} : {int(formulas.sum())} formule(s) de tableur "
                f"au lieu d'une valeur : {enumerate_items(cells)}. Les formules ne sont pas calculées à l'import : "
                "remplacez-les par leur valeur (Copier, puis Collage spécial > Valeurs)."
            )
    for field_name in TEXT_FIELDS:
        if field_name not in table:
            continue
        s = table[field_name]
        risky = formula_like(s)
        if risky.any():
            cells = [f"ligne {r} (« {v[:40]} »)" for r, v in zip(table.loc[risky, "_row"], s[risky])]
            report.warnings.append(
                f"{where(report, column=column_of(report, field_name))} : {int(risky.sum())} cellule(s) commencent "
                f"par =, +, - ou @ comme une formule de tableur : {enumerate_items(cells)}. Elles sont importées comme "
                "texte, précédées d'une apostrophe, pour ne jamais être exécutées. Vérifiez ces cellules."
            )
            table[field_name] = neutralise_text(s)


def _content_date(parsed: ParsedFile) -> None:
    table, report = parsed.table, parsed.report
    dates, bad = parse_dates(table["date"])
    values = dates[~bad & (dates != "")].unique()
    if len(values) == 1 and not bad.any():
        parsed.content_date = str(values[0])
    elif len(values) > 1:
        report.warnings.append(
            f"{where(report, column=column_of(report, 'date'))} : plusieurs dates ({enumerate_items(sorted(values))}) ; "
            "la date de la version doit être donnée avec --date."
        )


def check_overrides(overrides: dict[str, str]) -> list[str]:
    """French errors for ``COLUMN=FIELD`` pairs whose field is unknown."""
    return [
        f"--map « {column}={field_name} » : champ « {field_name} » inconnu. Champs possibles : "
        + ", ".join(ALL_FIELDS) + "."
        for column, field_name in overrides.items()
        if field_name not in ALL_FIELDS
    ]
