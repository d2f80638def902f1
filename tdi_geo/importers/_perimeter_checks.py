"""Checks of perimeter files: the per-commune list (ANCT) and the EPCI list (Caisse des Dépôts).

Codes are compared with the reference COG, communes are grouped into whole or
partial EPCIs, and each territory gets its label, official code and région.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from tdi_geo.importers._columns import normalize_label
from tdi_geo.importers._parsers import pad_codes
from tdi_geo.importers._report import (
    LIST_LIMIT,
    ParsedFile,
    column_of,
    enumerate_items,
    report_bad_cells,
    report_empty,
    rows_text,
    where,
)

ALIASES_PATH = Path(__file__).with_name("commune_aliases.csv")


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
    #: INSEE codes of the reference régions (``84``, ``02``…).
    region_codes: frozenset = frozenset()


def member_of(values: pd.Series, allowed: frozenset) -> pd.Series:
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
        frozenset(reference.region_names(ref_dir)),
    )


def territory_key(parsed: ParsedFile) -> pd.Series:
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
            f"{where(report, column=column_of(report, key_field))} : territoire vide, {rows_text(table.loc[empty, '_row'])}. "
            "Chaque ligne doit indiquer son territoire (code ou libellé)."
        )
    return key


def territory_table(parsed: ParsedFile, key: pd.Series) -> pd.DataFrame:
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
            f"{where(report, column=column_of(report, 'lib_ti'))} : le territoire « {key_value} » porte plusieurs "
            f"libellés : {variants}. Harmonisez le libellé."
        )
    first = frame.sort_values("name", ascending=False, kind="stable").drop_duplicates("key")
    first = first.assign(name=first["name"].where(first["name"] != "", first["key"]))
    return first.set_index("key").loc[frame["key"].unique(), ["name", "code"]].reset_index()


def member_duplicates(parsed: ParsedFile, member: pd.Series, key: pd.Series, member_field: str,
                      what: str) -> pd.Series:
    """Warn on identical rows, error on a member given to two territories; return rows to keep."""
    table, report = parsed.table, parsed.report
    fields = [c for c in table.columns if c != "_row"]
    identical = table.duplicated(fields, keep="first")
    if identical.any():
        firsts = table[fields].drop_duplicates(keep="first").reset_index().merge(
            table.loc[identical, fields + ["_row"]], on=fields)
        firsts = firsts.head(LIST_LIMIT)  # only the first pairs are shown; the count says how many
        pairs = [f"ligne {r} = ligne {table.at[i, '_row']}" for r, i in zip(firsts["_row"], firsts["index"])]
        pairs += [""] * (int(identical.sum()) - len(pairs))
        report.warnings.append(
            f"{where(report)} : {int(identical.sum())} ligne(s) en double, identiques à une ligne précédente "
            f"et ignorées : {enumerate_items(pairs)}."
        )
    pairs = pd.DataFrame({"member": member, "key": key, "_row": table["_row"]})[~identical]
    pairs = pairs[(pairs["member"] != "") & (pairs["key"] != "")]
    distinct = pairs.drop_duplicates(["member", "key"])
    clash = distinct[distinct.duplicated("member", keep=False)]
    members = clash["member"].unique()
    for code, group in clash[clash["member"].isin(members[:LIST_LIMIT * 2])].groupby("member", sort=False):
        places = ", ".join(f"« {k.removeprefix('nom:')} » (ligne {r})" for k, r in zip(group["key"], group["_row"]))
        report.errors.append(
            f"{where(report, column=column_of(report, member_field))} : {what} « {code} » est attribué(e) à deux "
            f"territoires : {places}. Un membre n'appartient qu'à un territoire à une date : gardez une seule ligne."
        )
    if len(members) > LIST_LIMIT * 2:
        report.errors.append(
            f"{where(report, column=column_of(report, member_field))} : et {len(members) - LIST_LIMIT * 2} autre(s) "
            "membre(s) attribué(s) à deux territoires."
        )
    return ~identical


def _keys(parsed: ParsedFile, codes: pd.Series, padded: int, member_field: str,
          what: str) -> tuple[pd.Series, pd.Series]:
    """The territory key of each row and which rows to keep (duplicates dropped, clashes reported)."""
    if padded:
        parsed.report.summary["codes complétés par des zéros"] = padded
    key = territory_key(parsed)
    return key, member_duplicates(parsed, codes, key, member_field, what)


def check_communes(parsed: ParsedFile, ref: Reference) -> None:
    table, report = parsed.table, parsed.report
    col = column_of(report, "insee_com")
    codes, padded = pad_codes(table["insee_com"], 5)
    empty = report_empty(report, table.assign(insee_com=codes), "insee_com", "code commune")
    known = member_of(codes, ref.commune_codes)
    alias = ref.aliases.set_index("old_code")
    resolvable = ~known & ~empty & member_of(codes, ref.alias_codes)
    if resolvable.any():
        old = codes[resolvable]
        new = old.map(alias["new_code"])
        names = ref.communes.set_index("insee_com")["name"]
        items = [f"{o} ({alias.at[o, 'old_name']}, {alias.at[o, 'kind']}) → {n} ({names.get(n, '?')}), ligne {r}"
                 for o, n, r in zip(old, new, table.loc[resolvable, "_row"])]
        report.warnings.append(
            f"{where(report, column=col)} : {int(resolvable.sum())} code(s) d'anciennes communes ou "
            f"d'arrondissements remplacé(s) par celui de la commune actuelle du COG {ref.cog_year} : "
            f"{enumerate_items(items)}."
        )
        codes = codes.where(~resolvable, codes.map(alias["new_code"]))
    unknown = ~member_of(codes, ref.commune_codes) & ~empty
    if unknown.any():
        cells = [f"« {v} » (ligne {r})" for v, r in zip(table.loc[unknown, "insee_com"], table.loc[unknown, "_row"])]
        report.errors.append(
            f"{where(report, column=col)} : {int(unknown.sum())} code(s) commune inconnu(s) du COG "
            f"{ref.cog_year} : {enumerate_items(cells)}. Corrigez ces codes INSEE (5 caractères, ex. 01001 ou 2A004) ; "
            f"le référentiel suit le COG {ref.cog_year} : un fichier d'un millésime antérieur doit être converti "
            f"vers le COG {ref.cog_year} (communes fusionnées depuis)."
        )
    key, keep = _keys(parsed, codes, padded, "insee_com", "la commune")
    if not report.ok:
        return
    territories = territory_table(parsed, key)
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
            f"{where(report, column=col)} : EPCI partiel : {len(partial)} EPCI couvert(s) en partie seulement ; "
            f"leurs communes sont importées une à une : {enumerate_items(items)}."
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


def _region_codes(parsed: ParsedFile, ref: Reference) -> pd.Series:
    """The région codes of the file, padded; a code that is not a reference région is an error."""
    table, report = parsed.table, parsed.report
    given, _ = pad_codes(table["region_code"], 2)
    unknown = (given != "") & ~member_of(given, ref.region_codes)
    report_bad_cells(report, table, "region_code", unknown, "code(s) région inconnu(s)",
                     "Codes possibles (INSEE) : " + ", ".join(sorted(ref.region_codes)) + ".")
    return given.where(~unknown, "")


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


def check_epci(parsed: ParsedFile, ref: Reference) -> None:
    table, report = parsed.table, parsed.report
    col = column_of(report, "epci_siren")
    sirens, padded = pad_codes(table["epci_siren"], 9)
    empty = report_empty(report, table.assign(epci_siren=sirens), "epci_siren", "SIREN d'EPCI")
    unknown = ~member_of(sirens, ref.epci_codes) & ~empty
    for i in table.index[unknown][: LIST_LIMIT * 2]:
        name = table.at[i, "epci_name"] if "epci_name" in table else ""
        city = table.at[i, "main_city"] if "main_city" in table else ""
        label = f" (« {name} »)" if name else ""
        report.errors.append(
            f"{where(report, table.at[i, '_row'], col)} : SIREN « {table.at[i, 'epci_siren']} »{label} absent du "
            f"COG {ref.cog_year} : cet EPCI n'existe plus (fusion ou changement de SIREN) ou le code est erroné. "
            f"Remplacez-le par le SIREN de l'EPCI actuel (référentiel COG {ref.cog_year})."
            + _epci_hint(ref, name, city)
        )
    if unknown.sum() > LIST_LIMIT * 2:
        report.errors.append(
            f"{where(report, column=col)} : et {int(unknown.sum()) - LIST_LIMIT * 2} autre(s) SIREN inconnu(s) du "
            f"COG {ref.cog_year}."
        )
    key, keep = _keys(parsed, sirens, padded, "epci_siren", "l'EPCI")
    given = _region_codes(parsed, ref) if "region_code" in table else None
    if not report.ok:
        return
    territories = territory_table(parsed, key)
    rows = pd.DataFrame({"key": key, "epci_siren": sirens})[keep].drop_duplicates()
    rows = rows.merge(ref.epci[["siren", "region"]], left_on="epci_siren", right_on="siren", how="left")
    if given is not None:
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

