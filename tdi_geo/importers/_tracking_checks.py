"""Checks of tracking tables: territory statuses and projects with their funding.

Territories are only referenced here (id or name); matching them against the
dataset happens when the table is merged.
"""

from __future__ import annotations

import pandas as pd

from tdi_geo.importers._columns import normalize_label
from tdi_geo.importers._parsers import (
    AMBIGUOUS,
    MAX_AMOUNT_EUR,
    NEGATIVE,
    NON_FINITE,
    TOO_LARGE,
    UNREADABLE,
    parse_bool,
    parse_dates,
    read_amounts,
)
from tdi_geo.importers._report import ParsedFile, column_of, enumerate_items, report_bad_cells, report_empty
from tdi_geo.importers._report import rows_text, where


def check_dates(parsed: ParsedFile) -> pd.Series:
    table, report = parsed.table, parsed.report
    report_empty(report, table, "date", "date")
    dates, bad = parse_dates(table["date"])
    report_bad_cells(report, table, "date", bad, "date(s) illisible(s)",
                     "Écrivez les dates au format AAAA-MM-JJ (2019-09-24) ou JJ/MM/AAAA (24/09/2019).")
    return dates


def territory_refs(parsed: ParsedFile) -> None:
    table = parsed.table
    for name in ("territory_id", "territory_name"):
        if name not in table:
            table[name] = ""
    empty = (table["territory_id"] == "") & (table["territory_name"] == "")
    if empty.any():
        field_name = "territory_id" if "territory_id" in parsed.report.columns else "territory_name"
        parsed.report.errors.append(
            f"{where(parsed.report, column=column_of(parsed.report, field_name))} : territoire vide, "
            f"{rows_text(table.loc[empty, '_row'])}. Indiquez l'identifiant ou le nom du territoire."
        )


def vocabulary(values: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    lookup = {normalize_label(k): k for k in values}
    lookup.update({normalize_label(v): k for k, v in values.items()})
    lookup.update({normalize_label(k): v for k, v in extra.items()})
    return lookup


def _check_vocabulary(parsed: ParsedFile, field_name: str, values: dict[str, str], extra: dict[str, str],
                      words: tuple[str, str]) -> None:
    """Replace the labels of ``field_name`` by their keys; empty or unknown labels are errors."""
    table, report = parsed.table, parsed.report
    word, plural = words
    key = table[field_name].map(normalize_label).map(vocabulary(values, extra))
    report_empty(report, table, field_name, word)
    report_bad_cells(report, table, field_name, key.isna() & (table[field_name] != ""), f"{word}(s) inconnu(s)",
                     f"{plural} possibles : " + ", ".join(f"« {v} »" for v in values.values()) + ".")
    table[field_name] = key.fillna("")


def _check_yes_no(parsed: ParsedFile, field_name: str, default: str) -> None:
    """Yes/no cells → ``true``/``false``; ``default`` when the column is absent."""
    table = parsed.table
    if field_name not in table:
        table[field_name] = default
        return
    values, bad = parse_bool(table[field_name])
    report_bad_cells(parsed.report, table, field_name, bad, "valeur(s) non reconnue(s)",
                     "Écrivez « oui » ou « non ».")
    table[field_name] = values.map({True: "true", False: "false"})


def check_status(parsed: ParsedFile) -> None:
    from tdi_geo.programme import STATUSES

    table, report = parsed.table, parsed.report
    territory_refs(parsed)
    table["date"] = check_dates(parsed)
    _check_vocabulary(parsed, "status", STATUSES, {
        "engage": "engaged", "plan d'actions en finalisation": "engaged", "en finalisation": "engaged",
        "protocole": "protocol_signed", "contrat": "contract_signed", "identifie": "identified",
    }, ("statut", "Statuts"))
    # Without the column, fragility is unknown: carried over from the previous event when merged.
    _check_yes_no(parsed, "fragile", default="")
    if "source" not in table:
        table["source"] = ""
    keyed_duplicates(parsed, ["territory_id", "territory_name", "date"], "un même territoire à une même date")
    report.summary["statuts"] = int(len(parsed.table))


def check_projects(parsed: ParsedFile) -> None:
    from tdi_geo.programme import AMOUNT_COLUMNS, PILLARS

    table, report = parsed.table, parsed.report
    territory_refs(parsed)
    table["date"] = check_dates(parsed)
    _check_vocabulary(parsed, "pillar", PILLARS,
                      {"ecologie": "transition_ecologique", "transition": "transition_ecologique"},
                      ("pilier", "Piliers"))
    _check_yes_no(parsed, "state_commitment", default="false")
    for amount in AMOUNT_COLUMNS:
        if amount in table:
            table[amount] = check_amounts(parsed, amount)
        else:
            table[amount] = "0"
    if "source" not in table:
        table["source"] = ""
    if "project_id" not in table:
        table["project_id"] = ""
    keyed_duplicates(parsed, ["project_id"], "un même identifiant de projet", only_filled="project_id")
    report.summary["projets"] = int(len(parsed.table))


def keyed_duplicates(parsed: ParsedFile, keys: list[str], what: str, only_filled: str | None = None) -> None:
    """Identical rows → warning (dropped); rows sharing ``keys`` but differing elsewhere → error.

    With ``only_filled``, key conflicts are only looked for among rows where that field is filled.
    """
    table, report = parsed.table, parsed.report
    fields = [c for c in table.columns if c != "_row"]
    identical = table.duplicated(fields)
    if identical.any():
        report.warnings.append(
            f"{where(report)} : {int(identical.sum())} ligne(s) en double, identiques à une ligne précédente "
            f"et ignorées : {rows_text(table.loc[identical, '_row'])}."
        )
    distinct = table[~identical]
    if only_filled:
        distinct = distinct[distinct[only_filled] != ""]
    clash = distinct[distinct.duplicated(keys, keep=False)]
    if not clash.empty:
        report.errors.append(
            f"{where(report)} : lignes contradictoires pour {what} : {rows_text(clash['_row'])}. "
            "Gardez une seule ligne par clé ou corrigez les valeurs."
        )
    parsed.table = table[~identical].reset_index(drop=True)



_CEILING = f"{MAX_AMOUNT_EUR:,}".replace(",", "\u202f")
#: reason → (what is wrong, how to write it), for refused amount cells.
_AMOUNT_MESSAGES = {
    AMBIGUOUS: ("montant(s) ambigu(s)",
                "Un point ou une virgule suivi de trois chiffres peut séparer les milliers ou les décimales. "
                "Écrivez 1250 ou 1 250 pour mille deux cent cinquante euros, et 1,25 pour un euro vingt-cinq."),
    NEGATIVE: ("montant(s) négatif(s)", "Un financement est positif ou nul : retirez le signe moins."),
    NON_FINITE: ("valeur(s) qui ne sont pas des nombres (inf, nan…)",
                 "Écrivez le montant en euros, ou laissez la cellule vide pour 0 €."),
    TOO_LARGE: (f"montant(s) au-delà du plafond de {_CEILING} € par cellule",
                "Vérifiez l'unité (les montants sont en euros) et les chiffres en trop."),
    UNREADABLE: ("montant(s) illisible(s)",
                 "Écrivez un montant en euros, par exemple 1250000, 1 250 000 ou 1 250 000,50 €."),
}


def check_amounts(parsed: ParsedFile, field_name: str) -> pd.Series:
    """The amounts of one column as whole euros (text); an error per kind of refused cell, a warning for cents."""
    table, report = parsed.table, parsed.report
    values, reasons, rounded = read_amounts(table[field_name])
    for reason, (what, fix) in _AMOUNT_MESSAGES.items():
        report_bad_cells(report, table, field_name, reasons == reason, what, fix)
    if rounded.any():
        cells = [f"ligne {r} (« {v} » → {e} €)"
                 for r, v, e in zip(table.loc[rounded, "_row"], table.loc[rounded, field_name], values[rounded])]
        report.warnings.append(
            f"{where(report, column=column_of(report, field_name))} : {int(rounded.sum())} montant(s) avec des "
            f"centimes, arrondi(s) à l'euro le plus proche (0,50 € vers le haut) : {enumerate_items(cells)}."
        )
    return values.astype("str")
