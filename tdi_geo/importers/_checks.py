"""Turn one read file into a validated table of one kind, with a French report.

Each check names the file, the spreadsheet row (header = row 1 when it is the
first line) and the column as written in the file, and says what to fix.
Warnings never block an import; errors do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from tdi_geo.importers._columns import (
    ALL_FIELDS,
    KINDS,
    PERIMETER_KINDS,
    header_score,
    match_columns,
    missing_required,
    normalize_label,
)
from tdi_geo.importers._read import HEADER_SCAN_ROWS, RawFile, ReadError, clean_cells, read_file
from tdi_geo.spreadsheet import formula_like, neutralise_text

ALIASES_PATH = Path(__file__).with_name("commune_aliases.csv")
#: How many examples a message lists before « et N autres ».
LIST_LIMIT = 10
#: Fields whose text is kept in the dataset (formula-looking cells are neutralised).
TEXT_FIELDS = ("lib_ti", "lib_com", "id_ti", "epci_name", "main_city", "region_name", "territory_name",
               "territory_id", "project_id", "source")
_TRUE = {"true", "1", "oui", "yes", "vrai", "x", "o", "y"}
_FALSE = {"false", "0", "non", "no", "faux", "n", ""}


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


# --- reference -------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    communes: pd.DataFrame
    epci: pd.DataFrame
    epci_size: pd.Series
    aliases: pd.DataFrame
    cog_year: int
    commune_codes: frozenset = frozenset()
    epci_codes: frozenset = frozenset()
    alias_codes: frozenset = frozenset()


def _member_of(values: pd.Series, allowed: frozenset) -> pd.Series:
    """``values.isin(allowed)``, fast for large reference sets (pandas' string isin is not)."""
    return pd.Series([v in allowed for v in values.tolist()], index=values.index, dtype=bool)


@lru_cache(maxsize=2)
def load_reference(reference_dir: str | None = None) -> Reference:
    """Communes, EPCI (no geometry), commune aliases and COG year, cached."""
    from tdi_geo import reference

    ref_dir = Path(reference_dir) if reference_dir else None
    communes = reference.load_communes(ref_dir)[["insee_com", "name", "epci_siren", "region"]]
    epci = pd.DataFrame(reference.load_epci("coarse", ref_dir).drop(columns="geometry"))[["siren", "name", "region"]]
    aliases = pd.read_csv(ALIASES_PATH, dtype=str, keep_default_na=False) if ALIASES_PATH.exists() else (
        pd.DataFrame(columns=["old_code", "old_name", "new_code", "kind"], dtype="str"))
    size = communes.groupby("epci_siren").size()
    return Reference(
        communes, epci, size, aliases, int(reference.provenance(ref_dir)["cog_year"]),
        frozenset(communes["insee_com"]), frozenset(epci["siren"]), frozenset(aliases["old_code"]),
    )


# --- message helpers -----------------------------------------------------------------


def _where(report: ImportReport, row=None, column: str | None = None) -> str:
    parts = [f"« {report.file} »"]
    if report.sheet:
        parts.append(f"feuille « {report.sheet} »")
    if row is not None:
        parts.append(f"ligne {row}")
    if column:
        parts.append(f"colonne « {column} »")
    return ", ".join(parts)


def _enumerate(items: list[str], limit: int = LIST_LIMIT) -> str:
    """``a, b et c``; beyond ``limit`` items, ``a, b, … et N autres``."""
    if not items:
        return ""
    more = len(items) - limit
    if more > 0:
        return f"{', '.join(items[:limit])} et {more} autre{'s' if more > 1 else ''}"
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} et {items[-1]}"


def _rows(rows) -> str:
    rows = [str(int(r)) for r in rows]
    word = "lignes" if len(rows) > 1 else "ligne"
    return f"{word} {_enumerate(rows)}"


def _col(report: ImportReport, field_name: str) -> str:
    return report.columns.get(field_name, field_name)


# --- code normalisation ---------------------------------------------------------------


def _numeric_text(s: pd.Series) -> pd.Series:
    """Undo spreadsheet number formatting: ``1001.0`` → ``1001``, ``2.00000172E8`` → ``200000172``."""
    s = s.str.replace(r"[\s\u202f\xa0]", "", regex=True)
    s = s.str.replace(r"^(\d+)[.,]0+$", r"\1", regex=True)
    sci = s.str.fullmatch(r"\d+(?:[.,]\d+)?[eE]\+?\d+")
    if sci.any():
        values = pd.to_numeric(s[sci].str.replace(",", "."), errors="coerce")
        s = s.copy()
        s[sci] = values.map(lambda v: str(int(round(v))) if pd.notna(v) else "")
    return s


def pad_codes(s: pd.Series, width: int) -> tuple[pd.Series, int]:
    """Restore leading zeros lost by spreadsheets; returns the codes and how many were padded.

    Only all-digit codes are padded, so Corsican codes (``2A004``) are kept.
    """
    s = _numeric_text(s).str.upper()
    short = s.str.fullmatch(r"\d+") & (s.str.len() < width)
    return s.where(~short, s.str.zfill(width)), int(short.sum())


# --- header and kind detection -------------------------------------------------------


def _detect(grid: pd.DataFrame, overrides: dict[str, str], body_probe: int = 50):
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
            sample = _numeric_text(grid.iloc[i + 1: i + 1 + body_probe, position])
            sample = sample[sample != ""]
            wrong = "epci" if (sample.str.len().median() if len(sample) else 5) < 7 else "communes"
            complete.pop(wrong)
        kind = max(complete, key=lambda k: len(complete[k]))
        return i, kind, complete[kind]
    return None


def _best_guess(grid: pd.DataFrame, overrides: dict[str, str]):
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
        f"{_where(report, row + 1 if len(grid) else None)} : colonne(s) obligatoire(s) manquante(s) pour une "
        f"{KINDS[kind].label} : {wanted}. Colonnes trouvées : {shown}. Renommez la colonne dans le fichier ou "
        "indiquez la correspondance (option --map « COLONNE=CHAMP », par exemple --map \"Code commune=insee_com\" ; "
        "dans l'application : zone « Correspondance de colonnes »)."
    )


# --- parsing one file ------------------------------------------------------------------


def parse_file(path: Path, overrides: dict[str, str] | None = None, max_bytes: int | None = None,
               reference_dir: str | None = None) -> ParsedFile:
    """Read and validate one file.

    Parameters
    ----------
    path : Path
    overrides : dict, optional
        ``{header: field}`` forced by the user.
    max_bytes : int, optional
        Size limit (default :data:`tdi_geo.importers._read.MAX_FILE_BYTES`).

    Returns
    -------
    ParsedFile
        Never raises on bad input: problems are in ``report.errors``.
    """
    path = Path(path)
    overrides = overrides or {}
    report = ImportReport(file=path.name)
    parsed = ParsedFile(path=path, report=report)
    try:
        raw = read_file(path, max_bytes) if max_bytes is not None else read_file(path)
    except ReadError as exc:
        report.errors.append(str(exc))
        return parsed
    report.format, report.encoding, report.separator = raw.format, raw.encoding, raw.separator_name
    try:
        _validate(parsed, raw, overrides, reference_dir)
    except Exception as exc:  # a file we did not foresee must still get a French message, not a traceback
        parsed.table = None
        report.errors.append(
            f"Fichier « {report.file} » : contenu inattendu, la validation n'a pas pu aller au bout "
            f"({exc.__class__.__name__} : {str(exc)[:200]}). Vérifiez le fichier ou signalez-le avec ce message."
        )
    return parsed


def _validate(parsed: ParsedFile, raw: RawFile, overrides: dict[str, str], reference_dir: str | None) -> None:
    report = parsed.report
    table = _select_table(raw, report, overrides)
    if table is None:
        return
    parsed.table = table
    _neutralise_formulas(table, report)
    ref = load_reference(reference_dir)
    if report.kind == "communes":
        _check_communes(parsed, ref)
    elif report.kind == "epci":
        _check_epci(parsed, ref)
    elif report.kind == "status":
        _check_status(parsed)
    else:
        _check_projects(parsed)
    if report.kind in PERIMETER_KINDS and "date" in report.columns and report.ok:
        _content_date(parsed)


def _select_table(raw: RawFile, report: ImportReport, overrides: dict[str, str]) -> pd.DataFrame | None:
    chosen = None
    for sheet in raw.sheets:
        grid = clean_cells(sheet.grid)
        detected = _detect(grid, overrides)
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
        row, kind, found = _best_guess(grid, overrides)
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
            f"{_where(report)} : {header_index} ligne(s) de titre au-dessus de l'en-tête ignorée(s) ; "
            f"en-tête lu à la ligne {header_index + 1}."
        )
    headers = grid.iloc[header_index].tolist()
    body = grid.iloc[header_index + 1:]
    table = pd.DataFrame({f: body[headers.index(h)] for f, h in found.items()}, index=body.index)
    table["_row"] = body.index + 1
    table = table[body.ne("").any(axis=1)]
    if table.empty:
        report.errors.append(
            f"{_where(report)} : aucune ligne de données sous l'en-tête (ligne {header_index + 1}). "
            "Le fichier ne contient que des titres de colonnes."
        )
        return None
    report.summary["lignes"] = int(len(table))
    return table.reset_index(drop=True)


def _neutralise_formulas(table: pd.DataFrame, report: ImportReport) -> None:
    """Prefix formula-looking text cells with ``'`` so no spreadsheet runs them."""
    for field_name in TEXT_FIELDS:
        if field_name not in table:
            continue
        s = table[field_name]
        risky = formula_like(s)
        if risky.any():
            cells = [f"ligne {r} (« {v[:40]} »)" for r, v in zip(table.loc[risky, "_row"], s[risky])]
            report.warnings.append(
                f"{_where(report, column=_col(report, field_name))} : {int(risky.sum())} cellule(s) commencent "
                f"par =, +, - ou @ comme une formule de tableur : {_enumerate(cells)}. Elles sont importées comme "
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
            f"{_where(report, column=_col(report, 'date'))} : plusieurs dates ({_enumerate(sorted(values))}) ; "
            "la date de la version doit être donnée avec --date."
        )


# --- shared checks -----------------------------------------------------------------------


def parse_dates(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """ISO (``2019-09-24``) or French (``24/09/2019``) dates → ISO text; second value flags bad cells."""
    out = pd.Series("", index=s.index, dtype="str")
    text = s.str.slice(0, 10).where(s.str.match(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?$"), s)
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        todo = (out == "") & (text != "")
        if not todo.any():
            break
        parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        ok = parsed.notna()
        out.loc[ok[ok].index] = parsed[ok].dt.strftime("%Y-%m-%d")
    bad = (out == "") & (s != "")
    return out, bad


def _parse_bool(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    low = s.str.lower()
    return low.isin(_TRUE), ~(low.isin(_TRUE) | low.isin(_FALSE))


def _report_bad_cells(report: ImportReport, table: pd.DataFrame, field_name: str, bad: pd.Series, what: str,
                      fix: str) -> None:
    if not bad.any():
        return
    cells = [f"ligne {r} (« {v} »)" for r, v in zip(table.loc[bad, "_row"], table.loc[bad, field_name])]
    report.errors.append(
        f"{_where(report, column=_col(report, field_name))} : {what} : {_enumerate(cells)}. {fix}"
    )


def _report_empty(report: ImportReport, table: pd.DataFrame, field_name: str, what: str) -> pd.Series:
    empty = table[field_name] == ""
    if empty.any():
        report.errors.append(
            f"{_where(report, column=_col(report, field_name))} : {what} vide, {_rows(table.loc[empty, '_row'])}. "
            "Remplissez ces cellules ou supprimez ces lignes."
        )
    return empty


def _territory_key(parsed: ParsedFile) -> pd.Series:
    """The territory of each row: its code when the file has one, else its label."""
    table, report = parsed.table, parsed.report
    key_field = "id_ti" if "id_ti" in table else "lib_ti"
    empty = table[key_field] == ""
    if key_field == "id_ti" and "lib_ti" in table:
        empty &= table["lib_ti"] == ""
        key = table["id_ti"].where(table["id_ti"] != "", "nom:" + table["lib_ti"])
    else:
        key = table[key_field]
    if empty.any():
        report.errors.append(
            f"{_where(report, column=_col(report, key_field))} : territoire vide, {_rows(table.loc[empty, '_row'])}. "
            "Chaque ligne doit indiquer son territoire (code ou libellé)."
        )
    return key


def _territory_table(parsed: ParsedFile, key: pd.Series) -> pd.DataFrame:
    """One row per territory key with its label and official code; flags conflicting labels."""
    table, report = parsed.table, parsed.report
    names = table["lib_ti"] if "lib_ti" in table else table["id_ti"]
    codes = table["id_ti"] if "id_ti" in table else pd.Series("", index=table.index)
    frame = pd.DataFrame({"key": key, "name": names, "code": codes, "_row": table["_row"]})
    frame = frame[frame["key"] != ""]
    labels = frame[frame["name"] != ""].drop_duplicates(["key", "name"])
    conflicts = labels[labels.duplicated("key", keep=False)]
    for key_value, group in conflicts.groupby("key", sort=False):
        variants = ", ".join(f"« {n} » (ligne {r})" for n, r in zip(group["name"], group["_row"]))
        report.errors.append(
            f"{_where(report, column=_col(report, 'lib_ti'))} : le territoire « {key_value} » porte plusieurs "
            f"libellés : {variants}. Harmonisez le libellé."
        )
    first = frame.sort_values("name", ascending=False, kind="stable").drop_duplicates("key")
    first = first.assign(name=first["name"].where(first["name"] != "", first["key"]))
    return first.set_index("key").loc[frame["key"].unique(), ["name", "code"]].reset_index()


def _duplicates(parsed: ParsedFile, member: pd.Series, key: pd.Series, member_field: str, what: str) -> pd.Series:
    """Warn on identical rows, error on a member given to two territories; return rows to keep."""
    table, report = parsed.table, parsed.report
    fields = [c for c in table.columns if c != "_row"]
    identical = table.duplicated(fields, keep="first")
    if identical.any():
        firsts = table[fields].drop_duplicates(keep="first").reset_index().merge(
            table.loc[identical, fields + ["_row"]], on=fields)
        pairs = [f"ligne {r} = ligne {table.loc[i, '_row']}" for r, i in zip(firsts["_row"], firsts["index"])]
        report.warnings.append(
            f"{_where(report)} : {int(identical.sum())} ligne(s) en double, identiques à une ligne précédente "
            f"et ignorées : {_enumerate(pairs)}."
        )
    pairs = pd.DataFrame({"member": member, "key": key, "_row": table["_row"]})[~identical]
    pairs = pairs[(pairs["member"] != "") & (pairs["key"] != "")]
    distinct = pairs.drop_duplicates(["member", "key"])
    clash = distinct[distinct.duplicated("member", keep=False)]
    for code, group in clash.groupby("member", sort=False):
        where = ", ".join(f"« {k.removeprefix('nom:')} » (ligne {r})" for k, r in zip(group["key"], group["_row"]))
        report.errors.append(
            f"{_where(report, column=_col(report, member_field))} : {what} « {code} » est attribué(e) à deux "
            f"territoires : {where}. Un membre n'appartient qu'à un territoire à une date : gardez une seule ligne."
        )
    return ~identical


# --- per-kind checks ----------------------------------------------------------------------


def _check_communes(parsed: ParsedFile, ref: Reference) -> None:
    table, report = parsed.table, parsed.report
    col = _col(report, "insee_com")
    codes, padded = pad_codes(table["insee_com"], 5)
    empty = _report_empty(report, table.assign(insee_com=codes), "insee_com", "code commune")
    known = _member_of(codes, ref.commune_codes)
    alias = ref.aliases.set_index("old_code")
    resolvable = ~known & ~empty & _member_of(codes, ref.alias_codes)
    if resolvable.any():
        old = codes[resolvable]
        new = old.map(alias["new_code"])
        names = ref.communes.set_index("insee_com")["name"]
        items = [f"{o} ({alias.at[o, 'old_name']}, {alias.at[o, 'kind']}) → {n} ({names.get(n, '?')}), ligne {r}"
                 for o, n, r in zip(old, new, table.loc[resolvable, "_row"])]
        report.warnings.append(
            f"{_where(report, column=col)} : {int(resolvable.sum())} code(s) d'anciennes communes ou "
            f"d'arrondissements remplacé(s) par celui de la commune actuelle du COG {ref.cog_year} : "
            f"{_enumerate(items)}."
        )
        codes = codes.where(~resolvable, codes.map(alias["new_code"]))
    unknown = ~_member_of(codes, ref.commune_codes) & ~empty
    if unknown.any():
        cells = [f"« {v} » (ligne {r})" for v, r in zip(table.loc[unknown, "insee_com"], table.loc[unknown, "_row"])]
        report.errors.append(
            f"{_where(report, column=col)} : {int(unknown.sum())} code(s) commune inconnu(s) du COG "
            f"{ref.cog_year} : {_enumerate(cells)}. Corrigez ces codes INSEE (5 caractères, ex. 01001 ou 2A004) ; "
            f"le référentiel suit le COG {ref.cog_year} : un fichier d'un millésime antérieur doit être converti "
            f"vers le COG {ref.cog_year} (communes fusionnées depuis)."
        )
    if padded:
        report.summary["codes complétés par des zéros"] = padded
    key = _territory_key(parsed)
    keep = _duplicates(parsed, codes, key, "insee_com", "la commune")
    if not report.ok:
        return
    territories = _territory_table(parsed, key)
    rows = pd.DataFrame({"key": key, "insee_com": codes})[keep].drop_duplicates()
    rows = rows.merge(ref.communes[["insee_com", "epci_siren", "region"]], on="insee_com", how="left")
    counts = rows.groupby(["key", "epci_siren"]).size().rename("n").reset_index()
    counts["total"] = counts["epci_siren"].map(ref.epci_size)
    complete = counts[counts["n"] == counts["total"]]
    partial = counts[counts["n"] < counts["total"]]
    whole = rows.merge(complete[["key", "epci_siren"]], on=["key", "epci_siren"], how="left", indicator=True)
    by_commune = whole[whole["_merge"] == "left_only"]
    members = pd.concat(
        [
            complete[["key", "epci_siren"]].assign(insee_com=""),
            by_commune[["key", "insee_com"]].assign(epci_siren=""),
        ],
        ignore_index=True,
    )[["key", "epci_siren", "insee_com"]]
    if not partial.empty:
        names = ref.epci.set_index("siren")["name"]
        labels = territories.set_index("key")["name"]
        items = [f"{names.get(s, s)} ({s}) : {n} commune(s) sur {t} dans « {labels.get(k, k)} »"
                 for k, s, n, t in zip(partial["key"], partial["epci_siren"], partial["n"], partial["total"])]
        report.warnings.append(
            f"{_where(report, column=col)} : EPCI partiel : {len(partial)} EPCI couvert(s) en partie seulement ; "
            f"leurs communes sont importées une à une : {_enumerate(items)}."
        )
    region = _main_region(rows)
    parsed.territories = territories.assign(region=territories["key"].map(region).fillna(""))
    parsed.members = members
    report.summary.update(
        {
            "territoires": int(len(territories)),
            "communes": int(len(rows)),
            "EPCI complets": int(len(complete)),
            "EPCI partiels": int(len(partial)),
        }
    )


def _main_region(rows: pd.DataFrame) -> pd.Series:
    """key → the région of most of the territory's members."""
    counts = rows.dropna(subset=["region"]).value_counts(["key", "region"]).reset_index()
    return counts.drop_duplicates("key").set_index("key")["region"]


_HINT_MAPS: dict[int, tuple[dict, dict]] = {}


def _unique_map(keys: pd.Series, values: pd.Series) -> dict:
    """normalised key → value, for keys that occur once only (a hint must not be a guess)."""
    norm = keys.map(normalize_label)
    once = ~norm.duplicated(keep=False)
    return dict(zip(norm[once], values[once]))


def _epci_hint(ref: Reference, name: str, city: str) -> str:
    """A lead for an unknown SIREN: a current EPCI of the same name, or the main city's current EPCI."""
    if id(ref) not in _HINT_MAPS:
        with_epci = ref.communes.dropna(subset=["epci_siren"])
        _HINT_MAPS[id(ref)] = (_unique_map(ref.epci["name"], ref.epci["siren"]),
                               _unique_map(with_epci["name"], with_epci["epci_siren"]))
    by_name, by_city = _HINT_MAPS[id(ref)]
    if name and normalize_label(name) in by_name:
        return f" Piste : un EPCI du même nom existe avec le SIREN {by_name[normalize_label(name)]}."
    if city and normalize_label(city) in by_city:
        siren = by_city[normalize_label(city)]
        label = ref.epci.set_index("siren")["name"].get(siren, "")
        return f" Piste : la ville principale « {city} » appartient aujourd'hui à l'EPCI {siren} ({label})."
    return ""


def _check_epci(parsed: ParsedFile, ref: Reference) -> None:
    table, report = parsed.table, parsed.report
    col = _col(report, "epci_siren")
    sirens, padded = pad_codes(table["epci_siren"], 9)
    empty = _report_empty(report, table.assign(epci_siren=sirens), "epci_siren", "SIREN d'EPCI")
    unknown = ~_member_of(sirens, ref.epci_codes) & ~empty
    for i in table.index[unknown][: LIST_LIMIT * 2]:
        name = table.at[i, "epci_name"] if "epci_name" in table else ""
        city = table.at[i, "main_city"] if "main_city" in table else ""
        label = f" (« {name} »)" if name else ""
        report.errors.append(
            f"{_where(report, table.at[i, '_row'], col)} : SIREN « {table.at[i, 'epci_siren']} »{label} absent du "
            f"COG {ref.cog_year} : cet EPCI n'existe plus (fusion ou changement de SIREN) ou le code est erroné. "
            f"Remplacez-le par le SIREN de l'EPCI actuel (référentiel COG {ref.cog_year})."
            + _epci_hint(ref, name, city)
        )
    if unknown.sum() > LIST_LIMIT * 2:
        report.errors.append(
            f"{_where(report, column=col)} : et {int(unknown.sum()) - LIST_LIMIT * 2} autre(s) SIREN inconnu(s) du "
            f"COG {ref.cog_year}."
        )
    if padded:
        report.summary["codes complétés par des zéros"] = padded
    key = _territory_key(parsed)
    keep = _duplicates(parsed, sirens, key, "epci_siren", "l'EPCI")
    if not report.ok:
        return
    territories = _territory_table(parsed, key)
    rows = pd.DataFrame({"key": key, "epci_siren": sirens})[keep].drop_duplicates()
    rows = rows.merge(ref.epci[["siren", "region"]], left_on="epci_siren", right_on="siren", how="left")
    if "region_code" in table:
        given, _ = pad_codes(table["region_code"], 2)
        given_by_key = pd.Series(given.values, index=key.values)
        given_by_key = given_by_key[given_by_key != ""]
        region = given_by_key[~given_by_key.index.duplicated()]
    else:
        region = pd.Series(dtype="str")
    fallback = _main_region(rows)
    territories["region"] = territories["key"].map(region).fillna(territories["key"].map(fallback)).fillna("")
    parsed.territories = territories
    parsed.members = rows[["key", "epci_siren"]].assign(insee_com="")
    report.summary.update({"territoires": int(len(territories)), "EPCI": int(len(rows))})


def _check_dates(parsed: ParsedFile) -> pd.Series:
    table, report = parsed.table, parsed.report
    _report_empty(report, table, "date", "date")
    dates, bad = parse_dates(table["date"])
    _report_bad_cells(report, table, "date", bad, "date(s) illisible(s)",
                      "Écrivez les dates au format AAAA-MM-JJ (2019-09-24) ou JJ/MM/AAAA (24/09/2019).")
    return dates


def _territory_refs(parsed: ParsedFile) -> None:
    table = parsed.table
    for name in ("territory_id", "territory_name"):
        if name not in table:
            table[name] = ""
    empty = (table["territory_id"] == "") & (table["territory_name"] == "")
    if empty.any():
        field_name = "territory_id" if "territory_id" in parsed.report.columns else "territory_name"
        parsed.report.errors.append(
            f"{_where(parsed.report, column=_col(parsed.report, field_name))} : territoire vide, "
            f"{_rows(table.loc[empty, '_row'])}. Indiquez l'identifiant ou le nom du territoire."
        )


def _vocabulary(values: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    lookup = {normalize_label(k): k for k in values}
    lookup.update({normalize_label(v): k for k, v in values.items()})
    lookup.update({normalize_label(k): v for k, v in extra.items()})
    return lookup


def _check_status(parsed: ParsedFile) -> None:
    from tdi_geo.programme import STATUSES

    table, report = parsed.table, parsed.report
    _territory_refs(parsed)
    table["date"] = _check_dates(parsed)
    lookup = _vocabulary(STATUSES, {
        "engage": "engaged", "plan d'actions en finalisation": "engaged", "en finalisation": "engaged",
        "protocole": "protocol_signed", "contrat": "contract_signed", "identifie": "identified",
    })
    status = table["status"].map(normalize_label).map(lookup)
    _report_empty(report, table, "status", "statut")
    _report_bad_cells(report, table, "status", status.isna() & (table["status"] != ""), "statut(s) inconnu(s)",
                      "Statuts possibles : " + ", ".join(f"« {v} »" for v in STATUSES.values()) + ".")
    table["status"] = status.fillna("")
    if "fragile" in table:
        fragile, bad = _parse_bool(table["fragile"])
        _report_bad_cells(report, table, "fragile", bad, "valeur(s) non reconnue(s)", "Écrivez « oui » ou « non ».")
        table["fragile"] = fragile.map({True: "true", False: "false"})
    else:
        table["fragile"] = ""  # unknown: carried over from the previous event when merged
    if "source" not in table:
        table["source"] = ""
    _keyed_duplicates(parsed, ["territory_id", "territory_name", "date"], "un même territoire à une même date")
    report.summary["statuts"] = int(len(parsed.table))


def parse_amounts(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """French amounts (``1 234 567,50 €``) → integer euros; second value flags bad cells."""
    text = s.str.replace(r"[\s\u202f\xa0€]|eur(os?)?$", "", regex=True, case=False)
    with_comma = text.str.contains(",", regex=False)
    text = text.where(~with_comma, text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    values = pd.to_numeric(text.replace("", "0"), errors="coerce")
    bad = values.isna() | (values < 0)
    return values.fillna(0).round().astype("int64"), bad


def _check_projects(parsed: ParsedFile) -> None:
    from tdi_geo.programme import AMOUNT_COLUMNS, PILLARS

    table, report = parsed.table, parsed.report
    _territory_refs(parsed)
    table["date"] = _check_dates(parsed)
    lookup = _vocabulary(PILLARS, {"ecologie": "transition_ecologique", "transition": "transition_ecologique"})
    pillar = table["pillar"].map(normalize_label).map(lookup)
    _report_empty(report, table, "pillar", "pilier")
    _report_bad_cells(report, table, "pillar", pillar.isna() & (table["pillar"] != ""), "pilier(s) inconnu(s)",
                      "Piliers possibles : " + ", ".join(f"« {v} »" for v in PILLARS.values()) + ".")
    table["pillar"] = pillar.fillna("")
    if "state_commitment" in table:
        committed, bad = _parse_bool(table["state_commitment"])
        _report_bad_cells(report, table, "state_commitment", bad, "valeur(s) non reconnue(s)",
                          "Écrivez « oui » ou « non ».")
        table["state_commitment"] = committed.map({True: "true", False: "false"})
    else:
        table["state_commitment"] = "false"
    for amount in AMOUNT_COLUMNS:
        if amount in table:
            values, bad = parse_amounts(table[amount])
            _report_bad_cells(report, table, amount, bad, "montant(s) illisible(s) ou négatif(s)",
                              "Écrivez un montant positif en euros (ex. 1 250 000 ou 1250000,50).")
            table[amount] = values.astype("str")
        else:
            table[amount] = "0"
    if "source" not in table:
        table["source"] = ""
    if "project_id" not in table:
        table["project_id"] = ""
    _keyed_duplicates(parsed, ["project_id"], "un même identifiant de projet", only_filled="project_id")
    report.summary["projets"] = int(len(parsed.table))


def _keyed_duplicates(parsed: ParsedFile, keys: list[str], what: str, only_filled: str | None = None) -> None:
    """Identical rows → warning (dropped); rows sharing ``keys`` but differing elsewhere → error.

    With ``only_filled``, key conflicts are only looked for among rows where that field is filled.
    """
    table, report = parsed.table, parsed.report
    fields = [c for c in table.columns if c != "_row"]
    identical = table.duplicated(fields)
    if identical.any():
        report.warnings.append(
            f"{_where(report)} : {int(identical.sum())} ligne(s) en double, identiques à une ligne précédente "
            f"et ignorées : {_rows(table.loc[identical, '_row'])}."
        )
    distinct = table[~identical]
    if only_filled:
        distinct = distinct[distinct[only_filled] != ""]
    clash = distinct[distinct.duplicated(keys, keep=False)]
    if not clash.empty:
        report.errors.append(
            f"{_where(report)} : lignes contradictoires pour {what} : {_rows(clash['_row'])}. "
            "Gardez une seule ligne par clé ou corrigez les valeurs."
        )
    parsed.table = table[~identical].reset_index(drop=True)


def check_overrides(overrides: dict[str, str]) -> list[str]:
    """French errors for ``COLUMN=FIELD`` pairs whose field is unknown."""
    return [
        f"--map « {column}={field_name} » : champ « {field_name} » inconnu. Champs possibles : "
        + ", ".join(ALL_FIELDS) + "."
        for column, field_name in overrides.items()
        if field_name not in ALL_FIELDS
    ]
