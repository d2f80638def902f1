"""Merge validated files into a base dataset and publish the result atomically.

An imported perimeter becomes a perimeter version of its own, dated ``D``:
base memberships still valid at ``D`` are closed at ``D``, base memberships and
versions starting on or after ``D`` are dropped (with a warning), and the
imported members are valid from ``D``. Tracking tables add status events and
projects. The new directory is written next to its destination, then renamed
into place, so a failed import leaves the previous dataset untouched.
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

TABLES = ("territories", "memberships", "versions", "status_events", "projects", "national_figures")
#: Name of the pointer file that designates a workspace's current dataset.
CURRENT_POINTER = "current"
_CODE_NOTE = re.compile(r"code officiel : (\S+)")
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


def merge_perimeter(tables: dict[str, pd.DataFrame], parsed: ParsedFile, date: str, provenance: str,
                    dry_run: bool = False) -> None:
    """Add ``parsed`` (a perimeter file) to ``tables`` as the version of ``date``."""
    report = parsed.report
    source = parsed.path.name
    territories = tables["territories"]
    ids = _assign_ids(territories, parsed.territories, provenance)
    imported = parsed.territories.assign(id=ids)

    # Territories: update those matched by name, append the others.
    existing = territories["id"].isin(imported["id"])
    if existing.any():
        row_of = imported.set_index("id")
        upd = territories.loc[existing, "id"]
        territories.loc[existing, "provenance"] = provenance
        territories.loc[existing, "partial"] = "false"
        territories.loc[existing, "source"] = territories.loc[existing, "source"].where(
            territories.loc[existing, "source"].str.contains(source, regex=False),
            (territories.loc[existing, "source"] + " ; " + source).str.strip(" ;"),
        )
        code_notes = upd.map(row_of["code"]).map(lambda c: f"code officiel : {c}" if c else "")
        notes = territories.loc[existing, "note"]
        territories.loc[existing, "note"] = notes.where(
            (code_notes == "") | notes.str.contains("code officiel", regex=False),
            (notes + " ; " + code_notes).str.strip(" ;"),
        )
    new = imported[~imported["id"].isin(territories["id"])]
    new_rows = pd.DataFrame(
        {
            "id": new["id"],
            "name": new["name"],
            "region": new["region"],
            "provenance": provenance,
            "partial": "false",
            "source": source,
            "note": new["code"].map(lambda c: f"code officiel : {c}" if c else ""),
        }
    )
    tables["territories"] = pd.concat([territories, new_rows], ignore_index=True)[territories.columns]

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


def _assign_ids(base: pd.DataFrame, imported: pd.DataFrame, provenance: str) -> list[str]:
    """Reuse the id of a base territory of the same name (unless it is illustrative), else a new slug.

    An illustrative base territory keeps its made-up composition for earlier
    dates under its own id; the imported one gets a distinct id, so the two
    are never confused.
    """
    by_name = {}
    for tid, name, prov in zip(base["id"], base["name"], base["provenance"]):
        by_name.setdefault(normalize_label(name), (tid, prov))
    used = set(base["id"])
    ids = []
    taken_now: set[str] = set()
    for name, code in zip(imported["name"], imported["code"]):
        match = by_name.get(normalize_label(name))
        if match and match[1] != "illustrative" and match[0] not in taken_now:
            ids.append(match[0])
            taken_now.add(match[0])
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


def _territory_lookup(territories: pd.DataFrame) -> tuple[dict, dict]:
    """Maps for matching references: normalised id/official code → id, normalised name → id."""
    by_id, by_name = {}, {}
    rank = {"official": 0, "documented": 1, "illustrative": 2}
    order = territories.assign(_rank=territories["provenance"].map(rank).fillna(3)).sort_values("_rank", kind="stable")
    for tid, name, note in zip(order["id"], order["name"], order["note"]):
        by_id.setdefault(normalize_label(tid), tid)
        for code in _CODE_NOTE.findall(note):
            by_id.setdefault(normalize_label(code), tid)
        by_name.setdefault(normalize_label(name), tid)
    return by_id, by_name


def resolve_territories(tables: dict[str, pd.DataFrame], parsed: ParsedFile) -> pd.Series:
    """The dataset id of each row's territory (by id, official code, or name); reports unknown ones."""
    table, report = parsed.table, parsed.report
    by_id, by_name = _territory_lookup(tables["territories"])
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


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_dataset(path: Path) -> bool:
    """Whether ``path`` looks like a programme dataset directory."""
    path = Path(path)
    return path.is_dir() and ((path / "territories.csv").exists() or (path / "dataset.json").exists())


def build_meta(tables, base_dir: Path, out: Path, provenance: str, imports: list[dict]) -> dict:
    previous = read_meta(base_dir).get("imports", [])
    return {
        "name": out.name,
        "provenance": provenance,
        "created": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "base": str(base_dir),
        "files": {f"{name}.csv": {"rows": int(len(frame))} for name, frame in tables.items()},
        "row_counts": {name: int(len(frame)) for name, frame in tables.items()},
        "imports": previous + imports,
    }


def publish(tables: dict[str, pd.DataFrame], meta: dict, base_dir: Path, out: Path) -> Path:
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
            meta["files"][f"{name}.csv"]["sha256"] = _sha256(tmp / f"{name}.csv")
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


# --- workspace ---------------------------------------------------------------------------------


def current_dataset(workspace: Path) -> Path | None:
    """The dataset designated by the workspace's ``current`` pointer, or None."""
    pointer = Path(workspace) / CURRENT_POINTER
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    path = Path(workspace) / name
    return path if name and "/" not in name and is_dataset(path) else None


def set_current(workspace: Path, dataset_dir: Path | None) -> None:
    """Point the workspace at ``dataset_dir`` (a child of it), atomically; None removes the pointer."""
    workspace = Path(workspace)
    pointer = workspace / CURRENT_POINTER
    if dataset_dir is None:
        pointer.unlink(missing_ok=True)
        return
    dataset_dir = Path(dataset_dir)
    if dataset_dir.parent.resolve() != workspace.resolve() or not is_dataset(dataset_dir):
        raise ValueError(f"« {dataset_dir} » n'est pas un jeu de données de l'espace {workspace}.")
    tmp = workspace / f".{CURRENT_POINTER}.{uuid.uuid4().hex[:8]}"
    tmp.write_text(dataset_dir.name + "\n", encoding="utf-8")
    os.replace(tmp, pointer)


def list_datasets(workspace: Path) -> list[dict]:
    """The datasets of a workspace, newest first: ``name, path, created, imports, current``."""
    workspace = Path(workspace)
    if not workspace.is_dir():
        return []
    current = current_dataset(workspace)
    rows = []
    for path in workspace.iterdir():
        if path.name.startswith(".") or not is_dataset(path):
            continue
        meta = read_meta(path)
        rows.append(
            {
                "name": path.name,
                "path": path,
                "created": meta.get("created", ""),
                "imports": meta.get("imports", []),
                "current": current is not None and path.resolve() == current.resolve(),
            }
        )
    return sorted(rows, key=lambda r: (r["created"], r["name"]), reverse=True)


def new_dataset_name(files: list[Path]) -> str:
    """A unique, sortable directory name for an import into a workspace."""
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    stem = _slug(Path(files[0]).stem)[:40] if files else "import"
    return f"{stamp}-{stem}-{uuid.uuid4().hex[:4]}"
