"""Dataset directories: read their tables, check and write a new one atomically.

The merge of imported files into tables is :mod:`tdi_geo.importers._merge`.
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

from tdi_geo.spreadsheet import neutralise_frame
from tdi_geo.programme import TABLE_COLUMNS

TABLES = ("territories", "memberships", "versions", "status_events", "projects", "national_figures",
          "territory_states", "territory_links")


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
