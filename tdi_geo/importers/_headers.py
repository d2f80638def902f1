"""Header detection: which sheet, which row is the header, which kind of table, which columns.

The first rows of every sheet are scanned for a row whose cells name the
required fields of one kind; when none does, the closest row explains what
is missing.
"""

from __future__ import annotations

import pandas as pd

from tdi_geo.importers._columns import (
    KINDS,
    header_score,
    match_columns,
    match_details,
    missing_required,
    normalize_header,
)
from tdi_geo.importers._parsers import numeric_text
from tdi_geo.importers._read import (
    HEADER_SCAN_ROWS,
    RawFile,
    clean_cells,
    has_invisible,
    has_nul,
)
from tdi_geo.importers._report import ImportReport, column_of, rows_text, where
from tdi_geo.xlsx_writer import column_letter


def detect(grid: pd.DataFrame, overrides: dict[str, str], body_probe: int = 50):
    """Find the header row and the kind in the first rows of a grid.

    Among the kinds whose required columns are all present, those found by
    exact names win over those that need a « contains » rule; a commune list
    and an EPCI list that still tie are told apart by the length of the codes
    under the header.

    Returns ``(header_index, kind, found)`` or ``None``.
    """
    for i in range(min(HEADER_SCAN_ROWS, len(grid))):
        headers = grid.iloc[i].tolist()
        complete: dict[str, dict[str, str]] = {}
        exactness: dict[str, int] = {}
        for key in KINDS:
            found, loose = match_details(headers, key, overrides)
            if not missing_required(found, key):
                complete[key] = found
                exactness[key] = sum(1 for group in KINDS[key].required
                                     if any(f in found and f not in loose for f in group))
        if not complete:
            continue
        best = max(exactness.values())
        complete = {k: v for k, v in complete.items() if exactness[k] == best}
        if "communes" in complete and "epci" in complete:
            position = headers.index(complete["communes"]["insee_com"])
            sample = numeric_text(grid.iloc[i + 1: i + 1 + body_probe, position])
            sample = sample[sample != ""]
            wrong = "epci" if (sample.str.len().median() if len(sample) else 5) < 7 else "communes"
            complete.pop(wrong)
        kind = max(complete, key=lambda k: len(complete[k]))
        return i, kind, complete[kind]
    return None


def best_guess(grid: pd.DataFrame, overrides: dict[str, str]):
    """The header row and kind that come closest, to explain what is missing."""
    best = (-1, 0, "communes", {})
    for i in range(min(HEADER_SCAN_ROWS, len(grid))):
        headers = grid.iloc[i].tolist()
        score = header_score(headers)
        for key in KINDS:
            found = match_columns(headers, key, overrides)
            candidate = (len(found) * 10 + score, i, key, found)
            if candidate[0] > best[0]:
                best = candidate
    return best[1], best[2], best[3]


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _quoted(text: str, limit: int = 40) -> str:
    return f"« {text[:limit]}… »" if len(text) > limit else f"« {text} »"


def _missing_message(report: ImportReport, grid: pd.DataFrame, row: int, kind: str, found: dict) -> str:
    headers = [h for h in grid.iloc[row].tolist() if h] if len(grid) else []
    groups = missing_required(found, kind)
    wanted = " ; ".join(" ou ".join(f"« {f} »" for f in group) for group in groups)
    shown = ", ".join(_quoted(h) for h in headers[:15]) or "aucune"
    if len(headers) > 15:
        shown += f" et {len(headers) - 15} autre(s)"
    return (
        f"{where(report, row + 1 if len(grid) else None)} : colonne(s) obligatoire(s) manquante(s) pour une "
        f"{KINDS[kind].label} : {wanted}. Colonnes trouvées : {shown}. Renommez la colonne dans le fichier ou "
        "indiquez la correspondance (option --map « COLONNE=CHAMP », par exemple --map \"Code commune=insee_com\" ; "
        "dans l'application : zone « Correspondance de colonnes »)."
    )


def _duplicate_headers(report: ImportReport, headers: list[str], found: dict[str, str]) -> None:
    """An error for each used column whose header appears more than once: which one to read is unknown."""
    norms = [normalize_header(str(h)[:100]) for h in headers]
    for field_name, header in found.items():
        norm = normalize_header(str(header)[:100])
        positions = [j for j, n in enumerate(norms) if n == norm]
        if len(positions) > 1:
            letters = ", ".join(column_letter(j) for j in positions)
            report.errors.append(
                f"{where(report, report.header_row)} : colonnes en double : {_quoted(header)} apparaît "
                f"{len(positions)} fois (colonnes {letters}) ; le fichier ne dit pas laquelle lire "
                f"pour « {field_name} ». "
                "Renommez ou supprimez les autres."
            )


def _hidden_characters(report: ImportReport, raw: pd.DataFrame, table: pd.DataFrame) -> None:
    """NUL characters are errors; other invisible characters were removed, with a warning."""
    for field_name in raw.columns:
        rows = table.loc[has_nul(raw[field_name]), "_row"]
        if len(rows):
            report.errors.append(
                f"{where(report, column=column_of(report, field_name))} : caractère nul (code 0, invisible), "
                f"{rows_text(rows)}. Il couperait le texte à cet endroit : retirez-le du fichier."
            )
        rows = table.loc[has_invisible(raw[field_name]), "_row"]
        if len(rows):
            report.warnings.append(
                f"{where(report, column=column_of(report, field_name))} : caractères de contrôle ou invisibles "
                f"(espace de largeur nulle, marque de direction…) retirés, {rows_text(rows)}. Le texte importé "
                "diffère donc du fichier : vérifiez ces cellules."
            )


def select_table(raw: RawFile, report: ImportReport, overrides: dict[str, str]) -> pd.DataFrame | None:
    """The data rows of the first sheet that has a known header, one column per field, plus ``_row``.

    Fills ``report`` (kind, columns, sheet, header row, errors and warnings);
    returns None when no usable table is found.
    """
    chosen = None
    for sheet in raw.sheets:
        # Detection only needs the first rows and a probe of the body below them.
        head = clean_cells(sheet.grid.iloc[:HEADER_SCAN_ROWS + 50])
        detected = detect(head, overrides)
        if detected is not None:
            chosen = (sheet, detected)
            break
    if chosen is None:
        sheet = raw.sheets[0] if raw.sheets else None
        grid = clean_cells(sheet.grid.iloc[:HEADER_SCAN_ROWS + 50]) if sheet is not None else pd.DataFrame()
        if sheet is not None and len(raw.sheets) > 1:
            report.sheet = sheet.name
        if grid.empty or not grid.ne("").any().any():
            report.errors.append(f"Fichier « {report.file} » vide : il ne contient aucune donnée.")
            return None
        row, kind, found = best_guess(grid, overrides)
        if len(raw.sheets) > 1:
            names = ", ".join(_quoted(str(s.name)) for s in raw.sheets)
            report.sheet = None
            report.errors.append(
                f"« {report.file} » : aucune des feuilles ({names}) n'a les colonnes attendues. "
                + _capitalise(_missing_message(report, grid, row, kind, found).split(" : ", 1)[1])
            )
        else:
            report.errors.append(_missing_message(report, grid, row, kind, found))
        return None
    sheet, (header_index, kind, found) = chosen
    report.kind, report.columns = kind, found
    if len(raw.sheets) > 1:
        report.sheet = sheet.name
        others = [s.name for s in raw.sheets if s is not sheet]
        report.warnings.append(
            f"« {report.file} » : classeur de {len(raw.sheets)} feuilles ; lecture de la feuille « {sheet.name} », "
            f"la première qui a les colonnes attendues (ignorées : {', '.join(f'« {n} »' for n in others)})."
        )
    full = sheet.load().grid
    grid = clean_cells(full)
    report.header_row = header_index + 1
    if header_index > 0:
        report.warnings.append(
            f"{where(report)} : {header_index} ligne(s) de titre au-dessus de l'en-tête ignorée(s) ; "
            f"en-tête lu à la ligne {header_index + 1}."
        )
    headers = grid.iloc[header_index].tolist()
    _duplicate_headers(report, headers, found)
    if not report.ok:
        return None
    body = grid.iloc[header_index + 1:]
    positions = {f: headers.index(h) for f, h in found.items()}
    table = pd.DataFrame({f: body[j] for f, j in positions.items()}, index=body.index)
    table["_row"] = body.index + 1
    kept = body.ne("").any(axis=1)
    raw_cells = pd.DataFrame({f: full.iloc[header_index + 1:, j].astype("str") for f, j in positions.items()})
    table, raw_cells = table[kept], raw_cells[kept]
    if table.empty:
        report.errors.append(
            f"{where(report)} : aucune ligne de données sous l'en-tête (ligne {header_index + 1}). "
            "Le fichier ne contient que des titres de colonnes."
        )
        return None
    _hidden_characters(report, raw_cells, table)
    report.summary["lignes"] = int(len(table))
    return table.reset_index(drop=True)
