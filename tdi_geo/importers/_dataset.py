"""Merge validated files into a base dataset and write the result atomically.

An imported perimeter becomes a perimeter version of its own, dated ``D``:
base memberships still valid at ``D`` are closed at ``D``, base memberships,
versions and territory states starting on or after ``D`` are dropped (with a
warning), and the imported members are valid from ``D``. What the file says
about a territory (official name and code, provenance, complete perimeter) is
recorded as a *state* valid from ``D`` (``territory_states.csv``), never
written over the territory's base row: an import adds, and every date before
``D`` shows exactly what it showed before. Tracking tables add status events
and projects. The merged tables must pass the dataset invariants
(:mod:`tdi_geo.programme_checks`) before anything is written; the new
directory is written next to its destination, then renamed into place, so a
failed import leaves the previous dataset untouched. The workspace (current
pointer, publication) is :mod:`tdi_geo.importers._workspace`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path

import pandas as pd

from tdi_geo.importers._checks import ParsedFile, _rows, _where
from tdi_geo.spreadsheet import neutralise_frame
from tdi_geo.importers._columns import normalize_label
from tdi_geo.programme import TABLE_COLUMNS

TABLES = ("territories", "memberships", "versions", "status_events", "projects", "national_figures",
          "territory_states")
_BASIS = {"official": "official", "documented": "source", "illustrative": "illustrative"}


def _slug(text: str) -> str:
    import unicodedata

    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "territoire"


def read_tables(dataset_dir: Path) -> dict[str, pd.DataFrame]:
    """The dataset's CSV tables as text (missing tables are empty), unchanged otherwise."""
    tables = {}
    for name in TABLES:
        path = Path(dataset_dir) / f"{name}.csv"
        columns = TABLE_COLUMNS[name]
        if path.exists():
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
            for col in columns:
                if col not in frame:
                    frame[col] = ""
        else:
            frame = pd.DataFrame({c: pd.Series(dtype="str") for c in columns})
        tables[name] = frame
    return tables


def read_meta(dataset_dir: Path) -> dict:
    path = Path(dataset_dir) / "dataset.json"
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def date_from_name(name: str) -> str | None:
    """The one date written in a file name (``2019-09-24``, ``20190924``, ``24-09-2019``), if unambiguous."""
    found = set()
    for y, m, d in re.findall(r"(?<!\d)(\d{4})[-_.]?(\d{2})[-_.]?(\d{2})(?!\d)", name):
        found.add((y, m, d))
    for d, m, y in re.findall(r"(?<!\d)(\d{2})[-_.](\d{2})[-_.](\d{4})(?!\d)", name):
        found.add((y, m, d))
    dates = set()
    for y, m, d in found:
        try:
            dates.add(dt.date(int(y), int(m), int(d)).isoformat())
        except ValueError:
            continue
    return dates.pop() if len(dates) == 1 else None


# --- merge ---------------------------------------------------------------------------------


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


def write_csv(frame: pd.DataFrame, path: Path, **kwargs) -> None:
    """Write a CSV that no spreadsheet can turn into a formula."""
    neutralise_frame(frame).to_csv(path, index=False, **{"encoding": "utf-8", "lineterminator": "\n", **kwargs})


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_dataset(path: Path) -> bool:
    """Whether ``path`` looks like a programme dataset directory."""
    path = Path(path)
    return path.is_dir() and ((path / "territories.csv").exists() or (path / "dataset.json").exists())


def build_meta(tables, base_dir: Path, out: Path, provenance: str, imports: list[dict], *,
               preview: bool = False) -> dict:
    """The ``dataset.json`` of a new dataset.

    ``imports`` (file, kind, date, rows, sha256 of each imported file) is
    appended to the base's import history and kept apart as
    ``imported_files`` (what the publication log records). ``preview`` marks
    a dataset imported into a workspace and not published yet.
    """
    previous = read_meta(base_dir).get("imports", [])
    meta = {
        "name": out.name,
        "provenance": provenance,
        "created": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "base": Path(base_dir).name,
        "files": {f"{name}.csv": {"rows": int(len(frame))} for name, frame in tables.items()},
        "row_counts": {name: int(len(frame)) for name, frame in tables.items()},
        "imports": previous + imports,
        "imported_files": imports,
    }
    if preview:
        meta["preview"] = True
    return meta


def merged_problems(tables: dict[str, pd.DataFrame]) -> list[str]:
    """The dataset invariants broken by merged ``tables`` (checked before anything is written)."""
    from tdi_geo.programme_checks import dataset_problems

    stripped = {name: frame.map(str.strip) if len(frame) else frame for name, frame in tables.items()}
    return dataset_problems(stripped)


def write_dataset(tables: dict[str, pd.DataFrame], meta: dict, base_dir: Path, out: Path) -> Path:
    """Write the dataset into a temporary sibling of ``out``, check it, then rename it into place.

    Raises ``ValueError`` (French) when ``out`` exists and is not a dataset,
    so that an unrelated folder is never replaced.
    """
    out = Path(out).absolute()
    if out.exists() and not is_dataset(out) and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(
            f"Le dossier de sortie « {out} » existe et n'est pas un jeu de données : choisissez un autre --out."
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        base_dir = Path(base_dir)
        if base_dir.is_dir():
            for item in base_dir.iterdir():
                if item.name == "dataset.json" or item.name.startswith(".") or item.stem in TABLES:
                    continue
                if item.is_dir():
                    shutil.copytree(item, tmp / item.name)
                else:
                    shutil.copy2(item, tmp / item.name)
        for name, frame in tables.items():
            write_csv(frame, tmp / f"{name}.csv")
            meta["files"][f"{name}.csv"]["sha256"] = sha256_file(tmp / f"{name}.csv")
        (tmp / "dataset.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        _check_written(tmp, tables)
        if out.exists():
            old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
            os.rename(out, old)
            try:
                os.rename(tmp, out)
            except OSError:
                os.rename(old, out)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _check_written(directory: Path, tables: dict[str, pd.DataFrame]) -> None:
    """Read the written tables back (as the app will) before publishing them."""
    from tdi_geo.programme import load_programme

    prog = load_programme(directory)
    for name, frame in tables.items():
        if len(getattr(prog, name)) != len(frame):
            raise ValueError(f"Écriture incomplète du fichier {name}.csv : import annulé.")
