"""Merge validated files into a dataset's tables (perimeters, statuses, projects).

An imported perimeter becomes a perimeter version of its own, dated ``D``
(see :mod:`tdi_geo.importers._dataset` for the rules on history); tracking
tables add status events and projects. Nothing here writes files.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from tdi_geo.importers._columns import normalize_label
from tdi_geo.importers._dataset import _slug
from tdi_geo.importers._report import ParsedFile
from tdi_geo.importers._report import rows_text as _rows
from tdi_geo.importers._report import where as _where

_BASIS = {"official": "official", "documented": "source", "illustrative": "illustrative"}


def _attributes(tables: dict[str, pd.DataFrame], date: str) -> pd.DataFrame:
    """Each territory's attributes valid at ``date`` (text cells), as :func:`territory_states_at` reads them."""
    out = tables["territories"].copy()
    out["base_name"] = out["name"]
    out["official_code"] = out["note"].str.extract(r"code officiel : (\S+)", expand=False).fillna("")
    states = tables["territory_states"]
    states = states[states["valid_from"] <= date].sort_values(["territory_id", "valid_from"], kind="stable")
    for column in ("name", "provenance", "partial", "official_code", "source", "note"):
        latest = states[column].where(states[column] != "").groupby(states["territory_id"]).last().dropna()
        override = out["id"].map(latest)
        out[column] = override.where(override.notna(), out[column])
    return out


def merge_perimeter(tables: dict[str, pd.DataFrame], parsed: ParsedFile, date: str, provenance: str,
                    dry_run: bool = False) -> None:
    """Add ``parsed`` (a perimeter file) to ``tables`` as the version of ``date``.

    Territories are matched by name (then by official code) with those known
    before ``date``; what the file says about them becomes a state valid from
    ``date``. Unmatched territories get a new base row.
    """
    report = parsed.report
    source = parsed.path.name
    territories = tables["territories"]
    states = tables["territory_states"]
    later_states = states["valid_from"] >= date
    states = states[~later_states]
    tables["territory_states"] = states
    before = _attributes(tables, date)
    ids = _assign_ids(before, parsed.territories, provenance)
    imported = parsed.territories.assign(id=ids)

    # Territories already known: what the file says holds from D on (a state), the base row is untouched.
    known = before.set_index("id")
    matched = imported[imported["id"].isin(known.index)]
    if not dry_run:
        _warn_renamed_and_recoded(report, matched, known, date)
    new = imported[~imported["id"].isin(territories["id"])]
    new_rows = pd.DataFrame(
        {
            "id": new["id"],
            "name": new["name"],
            "region": new["region"],
            "provenance": provenance,
            "partial": "false",
            "source": source,
            "note": "",
        }
    )
    tables["territories"] = pd.concat([territories, new_rows], ignore_index=True)[territories.columns]
    added_states = pd.DataFrame(
        {
            "territory_id": imported["id"],
            "valid_from": date,
            "name": imported["name"],
            "provenance": provenance,
            "partial": "false",
            "official_code": imported["code"],
            "source": source,
            "note": f"Périmètre du fichier « {source} » (version du {date}).",
        }
    )
    tables["territory_states"] = pd.concat([states, added_states], ignore_index=True)[states.columns]

    # Memberships: close what is valid at D, drop what starts on or after D, add the import.
    members = tables["memberships"]
    later = members["valid_from"] >= date
    open_at = (members["valid_from"] < date) & ((members["valid_to"] == "") | (members["valid_to"] > date))
    members = members.copy()
    members.loc[open_at, "valid_to"] = date
    members = members[~later]
    key_to_id = dict(zip(imported["key"], imported["id"]))
    added = pd.DataFrame(
        {
            "territory_id": parsed.members["key"].map(key_to_id),
            "epci_siren": parsed.members["epci_siren"],
            "insee_com": parsed.members["insee_com"],
            "valid_from": date,
            "valid_to": "",
            "basis": _BASIS.get(provenance, "official"),
            "source": source,
            "note": "",
        }
    )
    tables["memberships"] = pd.concat([members, added], ignore_index=True)[members.columns]

    # Versions: the import is the version of D; later base versions no longer describe it.
    versions = tables["versions"]
    dropped = versions[versions["date"] >= date]
    if not dry_run:
        if int(later.sum()):
            report.warnings.append(
                f"{_where(report)} : {int(later.sum())} appartenance(s) du jeu de base commençant le {date} ou "
                "après ont été retirées : la version importée les remplace."
            )
        if int(later_states.sum()):
            report.warnings.append(
                f"{_where(report)} : {int(later_states.sum())} état(s) de territoire du jeu de base datés du {date} "
                "ou après ont été retirés : la version importée les remplace."
            )
        if int(open_at.sum()):
            report.summary["appartenances de base closes"] = int(open_at.sum())
        if len(dropped):
            report.warnings.append(
                f"{_where(report)} : version(s) du jeu de base du {date} ou postérieure(s) retirée(s) "
                f"({', '.join(f'{d} « {l} »' for d, l in zip(dropped['date'], dropped['label']))}) : "
                "elles décrivaient un périmètre que le fichier importé remplace."
            )
    label = f"Import {Path(source).stem}"
    row = {c: "" for c in versions.columns}
    row.update({"date": date, "label": label, "expected_territories": str(len(imported)), "source": source})
    tables["versions"] = pd.concat(
        [versions[versions["date"] < date], pd.DataFrame([row], dtype="str")], ignore_index=True
    )[versions.columns]
    report.summary["date de version"] = date


def _warn_renamed_and_recoded(report, matched: pd.DataFrame, known: pd.DataFrame, date: str) -> None:
    """Say which territories the file renames or gives a new official code (from ``date`` on)."""
    old_code = matched["id"].map(known["official_code"])
    recoded = (matched["code"] != "") & (old_code != "") & (matched["code"] != old_code)
    for tid, name, old, code in zip(matched["id"][recoded], matched["name"][recoded], old_code[recoded],
                                    matched["code"][recoded]):
        report.warnings.append(
            f"{_where(report)} : « {name} » a un nouveau code officiel « {code} » (ancien : « {old} ») ; le nouveau "
            f"code remplace l'ancien à partir du {date}, les dates antérieures gardent l'ancien."
        )
    old_name = matched["id"].map(known["name"])
    renamed = matched["name"].map(normalize_label) != old_name.map(normalize_label)
    for name, old in zip(matched["name"][renamed], old_name[renamed]):
        report.warnings.append(
            f"{_where(report)} : « {old} » s'appelle « {name} » dans le fichier (même code officiel) ; ce nom vaut "
            f"à partir du {date}, les dates antérieures gardent l'ancien."
        )


def _assign_ids(before: pd.DataFrame, imported: pd.DataFrame, provenance: str) -> list[str]:
    """Reuse the id of a known territory of the same name, else of the same official code
    (unless it is illustrative), else a new slug.

    ``before`` holds each territory's attributes just before the imported
    version. An illustrative territory keeps its made-up composition for
    earlier dates under its own id; the imported one gets a distinct id, so
    the two are never confused.
    """
    by_name, by_code = {}, {}
    for tid, name, base_name, prov, code in zip(before["id"], before["name"], before["base_name"],
                                                before["provenance"], before["official_code"]):
        if prov == "illustrative":
            continue
        by_name.setdefault(normalize_label(name), tid)
        by_name.setdefault(normalize_label(base_name), tid)
        if code:
            by_code.setdefault(normalize_label(code), tid)
    used = set(before["id"])
    ids = []
    taken_now: set[str] = set()
    for name, code in zip(imported["name"], imported["code"]):
        match = by_name.get(normalize_label(name))
        if match is None and code:
            match = by_code.get(normalize_label(code))
        if match and match not in taken_now:
            ids.append(match)
            taken_now.add(match)
            continue
        candidate = _slug(name.lstrip("'"))
        if candidate in used or candidate in taken_now:
            candidate = f"{candidate}-{_slug(code)}" if code and _slug(code) != candidate else candidate
        base_candidate, n = candidate, 2
        while candidate in used or candidate in taken_now:
            candidate = f"{base_candidate}-{provenance}" if n == 2 else f"{base_candidate}-{provenance}-{n}"
            n += 1
        ids.append(candidate)
        taken_now.add(candidate)
    return ids


def _territory_lookup(tables: dict[str, pd.DataFrame]) -> tuple[dict, dict]:
    """Maps for matching references: normalised id/official code → id, normalised name → id.

    The latest names and codes come first (so a code that replaced another
    one is accepted), official territories before documented and
    illustrative ones; earlier names and codes still match after them.
    """
    by_id, by_name = {}, {}
    rank = {"official": 0, "documented": 1, "illustrative": 2}
    latest = _attributes(tables, "9999-12-31")
    order = latest.assign(_rank=latest["provenance"].map(rank).fillna(3)).sort_values("_rank", kind="stable")
    for tid, name, code in zip(order["id"], order["name"], order["official_code"]):
        by_id.setdefault(normalize_label(tid), tid)
        if code:
            by_id.setdefault(normalize_label(code), tid)
        by_name.setdefault(normalize_label(name), tid)
    states = tables["territory_states"].sort_values("valid_from", ascending=False, kind="stable")
    for tid, name, code in zip(states["territory_id"], states["name"], states["official_code"]):
        if code:
            by_id.setdefault(normalize_label(code), tid)
        if name:
            by_name.setdefault(normalize_label(name), tid)
    base = tables["territories"]
    for tid, name, note in zip(base["id"], base["name"], base["note"]):
        for code in re.findall(r"code officiel : (\S+)", note):
            by_id.setdefault(normalize_label(code), tid)
        by_name.setdefault(normalize_label(name), tid)
    return by_id, by_name


def resolve_territories(tables: dict[str, pd.DataFrame], parsed: ParsedFile) -> pd.Series:
    """The dataset id of each row's territory (by id, official code, or name); reports unknown ones."""
    table, report = parsed.table, parsed.report
    by_id, by_name = _territory_lookup(tables)
    from_id = table["territory_id"].map(normalize_label).map(by_id)
    from_name = table["territory_name"].map(normalize_label).map(by_name)
    resolved = from_id.fillna(from_name)
    unknown = resolved.isna()
    if unknown.any():
        field_name = "territory_id" if "territory_id" in report.columns else "territory_name"
        shown = table.loc[unknown, "territory_id"].where(table.loc[unknown, "territory_id"] != "",
                                                         table.loc[unknown, "territory_name"])
        names = sorted(set(shown))
        report.errors.append(
            f"{_where(report, column=report.columns.get(field_name, field_name))} : territoire(s) inconnu(s) du jeu de "
            f"données : {', '.join(f'« {n} »' for n in names[:10])}{' …' if len(names) > 10 else ''} "
            f"({_rows(table.loc[unknown, '_row'])}). Vérifiez l'identifiant ou le nom, ou importez d'abord le "
            "fichier de périmètre qui définit ce territoire (dans la même commande)."
        )
    return resolved.fillna("")


def merge_status(tables: dict[str, pd.DataFrame], parsed: ParsedFile, provenance: str) -> None:
    """Add the status events of ``parsed``; they replace base events of the same territory and date."""
    table = parsed.table
    ids = resolve_territories(tables, parsed)
    events = pd.DataFrame(
        {
            "territory_id": ids,
            "date": table["date"],
            "status": table["status"],
            "fragile": table["fragile"],
            "provenance": provenance,
            "source": table["source"].where(table["source"] != "", parsed.path.name),
        }
    )
    base = tables["status_events"]
    key = base["territory_id"] + "|" + base["date"]
    replaced = key.isin(events["territory_id"] + "|" + events["date"])
    if replaced.any():
        parsed.report.warnings.append(
            f"{_where(parsed.report)} : {int(replaced.sum())} statut(s) du jeu de base (même territoire, même date) "
            "remplacé(s) par ceux du fichier."
        )
    merged = pd.concat([base[~replaced], events], ignore_index=True)[base.columns]
    tables["status_events"] = _carry_fragile(merged)


def _carry_fragile(events: pd.DataFrame) -> pd.DataFrame:
    """An event whose file said nothing about fragility keeps the territory's previous flag."""
    unknown = events["fragile"] == ""
    if not unknown.any():
        return events
    order = events.sort_values(["territory_id", "date"], kind="stable")
    flags = order["fragile"].where(order["fragile"] != "").groupby(order["territory_id"]).ffill()
    events = events.copy()
    events.loc[unknown, "fragile"] = flags.reindex(events.index)[unknown].fillna("false")
    return events


def merge_projects(tables: dict[str, pd.DataFrame], parsed: ParsedFile, provenance: str) -> None:
    """Add the projects of ``parsed``; they replace base projects with the same id."""
    from tdi_geo.programme import AMOUNT_COLUMNS

    table = parsed.table
    ids = resolve_territories(tables, parsed)
    generated = "import-" + _slug(parsed.path.stem) + "-" + table["_row"].astype("str")
    frame = pd.DataFrame(
        {
            "id": table["project_id"].where(table["project_id"] != "", generated),
            "territory_id": ids,
            "pillar": table["pillar"],
            "date": table["date"],
            "state_commitment": table["state_commitment"],
            **{c: table[c] for c in AMOUNT_COLUMNS},
            "provenance": provenance,
            "source": table["source"].where(table["source"] != "", parsed.path.name),
        }
    )
    base = tables["projects"]
    replaced = base["id"].isin(frame["id"])
    if replaced.any():
        parsed.report.warnings.append(
            f"{_where(parsed.report)} : {int(replaced.sum())} projet(s) du jeu de base remplacé(s) par ceux du "
            "fichier (même identifiant)."
        )
    tables["projects"] = pd.concat([base[~replaced], frame], ignore_index=True)[base.columns]


# --- writing -------------------------------------------------------------------------------------
