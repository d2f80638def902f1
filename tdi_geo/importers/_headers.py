"""Header detection: which sheet, which row is the header, which kind of table, which columns.

The first rows of every sheet are scanned for a row whose cells name the
required fields of one kind; when none does, the closest row explains what
is missing.
"""

from __future__ import annotations

import pandas as pd

from tdi_geo.importers._columns import KINDS, header_score, match_columns, missing_required
from tdi_geo.importers._parsers import numeric_text
from tdi_geo.importers._read import HEADER_SCAN_ROWS, RawFile, clean_cells
from tdi_geo.importers._report import ImportReport, where


def detect(grid: pd.DataFrame, overrides: dict[str, str], body_probe: int = 50):
    """Find the header row and the kind in the first rows of a grid.

    Returns ``(header_index, kind, found)`` or ``None``.
    """
    for i in range(min(HEADER_SCAN_ROWS, len(grid))):
        headers = grid.iloc[i].tolist()
        complete = {}
        for key in KINDS:
            found = match_columns(headers, key, overrides)
            if not missing_required(found, key):
                complete[key] = found
        if not complete:
            continue
        if "communes" in complete and "epci" in complete:
            code_header = complete["communes"]["insee_com"]
            position = headers.index(code_header)
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


def _missing_message(report: ImportReport, grid: pd.DataFrame, row: int, kind: str, found: dict) -> str:
    headers = [h for h in grid.iloc[row].tolist() if h] if len(grid) else []
    groups = missing_required(found, kind)
    wanted = " ; ".join(" ou ".join(f"« {f} »" for f in group) for group in groups)
    shown = ", ".join(f"« {h} »" for h in headers[:15]) or "aucune"
    return (
        f"{where(report, row + 1 if len(grid) else None)} : colonne(s) obligatoire(s) manquante(s) pour une "
        f"{KINDS[kind].label} : {wanted}. Colonnes trouvées : {shown}. Renommez la colonne dans le fichier ou "
        "indiquez la correspondance (option --map « COLONNE=CHAMP », par exemple --map \"Code commune=insee_com\" ; "
        "dans l'application : zone « Correspondance de colonnes »)."
    )


def select_table(raw: RawFile, report: ImportReport, overrides: dict[str, str]) -> pd.DataFrame | None:
    chosen = None
    for sheet in raw.sheets:
        grid = clean_cells(sheet.grid)
        detected = detect(grid, overrides)
        if detected is not None:
            chosen = (sheet, detected)
            break
    if chosen is None:
        sheet = raw.sheets[0] if raw.sheets else None
        grid = clean_cells(sheet.grid) if sheet is not None else pd.DataFrame()
        if sheet is not None and len(raw.sheets) > 1:
            report.sheet = sheet.name
        if grid.empty or not grid.ne("").any().any():
            report.errors.append(f"Fichier « {report.file} » vide : il ne contient aucune donnée.")
            return None
        row, kind, found = best_guess(grid, overrides)
        if len(raw.sheets) > 1:
            names = ", ".join(f"« {s.name} »" for s in raw.sheets)
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
    grid = clean_cells(sheet.load().grid)
    report.header_row = header_index + 1
    if header_index > 0:
        report.warnings.append(
            f"{where(report)} : {header_index} ligne(s) de titre au-dessus de l'en-tête ignorée(s) ; "
            f"en-tête lu à la ligne {header_index + 1}."
        )
    headers = grid.iloc[header_index].tolist()
    body = grid.iloc[header_index + 1:]
    table = pd.DataFrame({f: body[headers.index(h)] for f, h in found.items()}, index=body.index)
    table["_row"] = body.index + 1
    table = table[body.ne("").any(axis=1)]
    if table.empty:
        report.errors.append(
            f"{where(report)} : aucune ligne de données sous l'en-tête (ligne {header_index + 1}). "
            "Le fichier ne contient que des titres de colonnes."
        )
        return None
    report.summary["lignes"] = int(len(table))
    return table.reset_index(drop=True)

