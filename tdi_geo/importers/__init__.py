"""Load official files (perimeters, tracking tables) into a programme dataset, with validation.

Accepted inputs (see ``docs/IMPORT.md``):

- the ANCT per-commune perimeter list (``insee_com, lib_com, id_ti, lib_ti``);
- the Caisse des Dépôts EPCI-level list (CSV, XLSX, XLS, ODS, GeoJSON or shapefile);
- tracking tables of territory statuses and of projects (CSV or a workbook).

Every problem is reported in French with the file, the spreadsheet row and the
column. :func:`validate_files` only reports; :func:`import_files` builds a new
dataset (base dataset + imported files) and writes it atomically, or raises
:class:`ImportFileError` and changes nothing. :func:`import_to_workspace`
writes a *preview* into a workspace; :func:`publish_dataset` (editor role,
compare-and-swap on the workspace's ``current`` pointer, logged) makes a
dataset the one everyone sees.
"""

from __future__ import annotations

import errno
from pathlib import Path

import pandas as pd

from tdi_geo.importers._checks import ImportReport, ParsedFile, check_overrides, load_reference, parse_file
from tdi_geo.importers._columns import ALL_FIELDS, KINDS, PERIMETER_KINDS
from tdi_geo.importers._dataset import (
    build_meta,
    date_from_name,
    merged_problems,
    read_tables,
    sha256_file,
    write_csv,
    write_dataset,
)
from tdi_geo.importers._merge import merge_perimeter, merge_projects, merge_status
from tdi_geo.importers._workspace import (
    CURRENT_POINTER,
    EDITOR_SECRET_ENV,
    MAX_PREVIEWS,
    PUBLICATIONS_LOG,
    PublishConflictError,
    WorkspaceError,
    current_dataset,
    delete_dataset,
    editor_secret_ok,
    is_published,
    list_datasets,
    new_dataset_name,
    prune_previews,
    publication_log,
    publish_dataset,
    safe_file_name,
    set_current,
)
from tdi_geo.importers._read import ACCEPTED, MAX_FILE_BYTES
from tdi_geo.importers._report import shorten_quotes

__all__ = [
    "ACCEPTED",
    "ALL_FIELDS",
    "CURRENT_POINTER",
    "EDITOR_SECRET_ENV",
    "KINDS",
    "MAX_FILE_BYTES",
    "MAX_PREVIEWS",
    "PUBLICATIONS_LOG",
    "ImportFileError",
    "ImportReport",
    "PublishConflictError",
    "WorkspaceError",
    "current_dataset",
    "delete_dataset",
    "editor_secret_ok",
    "export_anct_communes",
    "import_cli",
    "import_files",
    "import_to_workspace",
    "is_published",
    "list_datasets",
    "prune_previews",
    "publication_log",
    "publish_cli",
    "publish_dataset",
    "safe_file_name",
    "set_current",
    "validate_cli",
    "validate_files",
    "write_csv",
]

class ImportFileError(ValueError):
    """An import was refused; ``str(exc)`` is the French explanation, ``reports`` the details."""

    def __init__(self, message: str, reports: list[ImportReport] | None = None):
        super().__init__(shorten_quotes(message))
        self.reports = list(reports or [])


def _os_reason(exc: OSError) -> str:
    """The system's reason in French (``strerror`` is in English)."""
    reasons = {
        errno.EACCES: "permission refusée", errno.EPERM: "opération non permise",
        errno.ENOSPC: "disque plein", errno.EROFS: "système de fichiers en lecture seule",
        errno.ENOENT: "dossier introuvable", errno.EEXIST: "le dossier existe déjà",
        errno.ENOTDIR: "un élément du chemin n'est pas un dossier", errno.EDQUOT: "quota de disque dépassé",
    }
    return reasons.get(exc.errno, f"erreur système n° {exc.errno}")


def _base_dir(base_dataset: Path | None) -> Path:
    from tdi_geo.programme import default_dataset_dir

    base = Path(base_dataset) if base_dataset else default_dataset_dir()
    if not base.is_dir():
        raise ImportFileError(f"Le jeu de données de base « {base} » n'existe pas (option --dataset).")
    return base


def _check_provenance(provenance: str) -> None:
    from tdi_geo.programme import PROVENANCES

    if provenance not in PROVENANCES:
        raise ImportFileError(
            f"Provenance « {provenance} » inconnue. Valeurs possibles : {', '.join(PROVENANCES)}."
        )


def _analyse(files, column_map, date, base_dataset, provenance, max_bytes, dry_run):
    """Parse every file, then merge them into the base tables; returns (parsed, tables, date)."""
    column_map = dict(column_map or {})
    problems = check_overrides(column_map)
    if problems:
        raise ImportFileError("\n".join(problems))
    _check_provenance(provenance)
    if date is not None:
        from tdi_geo.programme import parse_date

        try:
            date = parse_date(date)
        except ValueError as exc:
            raise ImportFileError(f"--date : {exc}") from None
    files = [Path(f) for f in files]
    if not files:
        raise ImportFileError("Aucun fichier à importer.")
    parsed = [parse_file(f, column_map, max_bytes) for f in files]
    _check_unused_overrides(parsed, column_map)
    base = _base_dir(base_dataset)
    tables = read_tables(base)
    perimeters = [p for p in parsed if p.report.kind in PERIMETER_KINDS and p.report.ok]
    if len([p for p in parsed if p.report.kind in PERIMETER_KINDS]) > 1:
        for p in perimeters:
            p.report.errors.append(
                f"« {p.report.file} » : un seul fichier de périmètre par import (une version de périmètre par "
                "date) ; importez les autres séparément."
            )
        perimeters = []
    version_date = None
    for p in perimeters:
        version_date = date or p.content_date or date_from_name(p.path.name)
        if version_date is None:
            if dry_run:
                p.report.summary["date de version"] = "à préciser avec --date"
                version_date = "9999-12-31"
            else:
                p.report.errors.append(
                    f"« {p.report.file} » : date de la version de périmètre inconnue : le nom du fichier et son "
                    "contenu n'en donnent pas une seule. Précisez-la avec --date AAAA-MM-JJ (dans l'application : "
                    "champ « Date de la version de périmètre »)."
                )
                continue
        merge_perimeter(tables, p, version_date, provenance, dry_run=dry_run)
    for p in parsed:
        if p.table is None:
            continue
        if p.report.kind == "status":
            merge_status(tables, p, provenance)
        elif p.report.kind == "projects":
            merge_projects(tables, p, provenance)
    for p in parsed:  # every value a message quotes, from any step, is cut to about 80 characters
        p.report.errors[:] = [shorten_quotes(m) for m in p.report.errors]
        p.report.warnings[:] = [shorten_quotes(m) for m in p.report.warnings]
    return parsed, tables, base, version_date


def _check_unused_overrides(parsed: list[ParsedFile], column_map: dict[str, str]) -> None:
    from tdi_geo.importers._columns import normalize_header

    used = {normalize_header(h) for p in parsed for h in p.report.columns.values()}
    for column in column_map:
        if normalize_header(column) not in used and parsed:
            parsed[0].report.warnings.append(
                f"--map : la colonne « {column} » n'a été trouvée dans aucun fichier ; correspondance ignorée."
            )


def validate_files(files, column_map: dict[str, str] | None = None, *, date: str | None = None,
                   base_dataset: Path | None = None, provenance: str = "official",
                   max_bytes: int = MAX_FILE_BYTES) -> list[ImportReport]:
    """Check files without writing anything.

    Parameters
    ----------
    files : list of Path
    column_map : dict, optional
        ``{header: field}`` forced by the user (``--map``).
    date, base_dataset, provenance
        As for :func:`import_files`; tracking tables are matched against the
        base dataset plus the perimeter file given with them.
    max_bytes : int
        Size limit per file.

    Returns
    -------
    list of ImportReport
        One per file; the files are valid when no report has errors.

    Raises
    ------
    ImportFileError
        Only for bad arguments (unknown ``--map`` field, bad date, missing base).
    """
    parsed, *_ = _analyse(files, column_map, date, base_dataset, provenance, max_bytes, dry_run=True)
    return [p.report for p in parsed]


def import_files(files, out: Path, *, date: str | None = None, column_map: dict[str, str] | None = None,
                 base_dataset: Path | None = None, provenance: str = "official",
                 max_bytes: int = MAX_FILE_BYTES, preview: bool = False) -> list[ImportReport]:
    """Build a new dataset = base dataset + files, and write it at ``out`` atomically.

    Parameters
    ----------
    files : list of Path
        At most one perimeter file, any number of tracking tables.
    out : Path
        Dataset directory to create or replace (an existing dataset is
        replaced only once the new one is complete).
    date : str, optional
        Date of the imported perimeter version (``AAAA-MM-JJ``); else read
        from the file's content or name.
    base_dataset : Path, optional
        Defaults to ``$TDI_GEO_DATASET`` or the embedded dataset.
    provenance : str
        Declared provenance of the imported rows (default ``official``).
    preview : bool
        Mark the dataset as a preview (not published) in its ``dataset.json``.

    Returns
    -------
    list of ImportReport

    Raises
    ------
    ImportFileError
        If any file has an error, or if the merged dataset would break an
        invariant (a member in two territories at one date…); nothing is
        written then.
    """
    parsed, tables, base, version_date = _analyse(
        files, column_map, date, base_dataset, provenance, max_bytes, dry_run=False
    )
    reports = [p.report for p in parsed]
    errors = [e for r in reports for e in r.errors]
    if errors:
        raise ImportFileError(
            f"Import refusé ({len(errors)} erreur(s)) ; aucun jeu de données n'a été modifié.\n"
            + "\n".join(f"- {e}" for e in errors),
            reports,
        )
    problems = merged_problems(tables)
    if problems:
        raise ImportFileError(
            f"Import refusé : le jeu de données obtenu serait incohérent ({len(problems)} problème(s)) ; aucun jeu "
            "de données n'a été modifié.\n" + "\n".join(f"- {p}" for p in problems[:20]),
            reports,
        )
    imports = [
        {
            "file": p.path.name,
            "kind": p.report.kind,
            "date": version_date if p.report.kind in PERIMETER_KINDS else None,
            "rows": p.report.summary.get("lignes", 0),
            "sha256": sha256_file(p.path),
        }
        for p in parsed
    ]
    meta = build_meta(tables, base, Path(out), provenance, imports, preview=preview)
    try:
        write_dataset(tables, meta, base, Path(out))
    except OSError as exc:
        raise ImportFileError(f"Écriture impossible dans « {out} » : {_os_reason(exc)}.", reports) from None
    except ValueError as exc:
        raise ImportFileError(str(exc), reports) from None
    return reports


def import_to_workspace(files, workspace: Path, *, date: str | None = None,
                        column_map: dict[str, str] | None = None, base_dataset: Path | None = None,
                        provenance: str = "official", max_bytes: int = MAX_FILE_BYTES,
                        publish: bool = False, editor: str | None = None) -> tuple[list[ImportReport], Path]:
    """Import into a new dataset directory of ``workspace``: a preview, unless ``publish``.

    The base is ``base_dataset``, else the workspace's current dataset, else
    the embedded one. Earlier datasets stay in the workspace. The new
    dataset is **not** made current: show it to the visitor who imported it
    (e.g. ``load_programme(dataset_dir)`` in that session only) until an
    editor calls :func:`publish_dataset`.

    Parameters
    ----------
    publish : bool
        Trusted callers (the command line): publish at once, as ``editor``,
        expecting the current dataset seen when the import started.

    Returns
    -------
    (reports, dataset_dir)

    Raises
    ------
    ImportFileError
        The files or the merge were refused; nothing was written.
    PublishConflictError
        (``publish=True``) another publication happened during the import;
        the new dataset is removed and ``current`` is unchanged.
    WorkspaceError
        (``publish=True``) no editor name.
    """
    workspace = Path(workspace)
    if publish and not " ".join(str(editor or "").split()):
        raise WorkspaceError("Publication refusée : indiquez le nom de l'éditeur ou de l'éditrice qui publie.")
    workspace.mkdir(parents=True, exist_ok=True)
    seen = current_dataset(workspace)
    base = base_dataset or seen
    out = workspace / new_dataset_name([Path(f) for f in files])
    reports = import_files(files, out, date=date, column_map=column_map, base_dataset=base,
                           provenance=provenance, max_bytes=max_bytes, preview=not publish)
    if not publish:
        prune_previews(workspace)
    if publish:
        try:
            publish_dataset(workspace, out, editor=editor, expected_current=seen)
        except WorkspaceError:
            import shutil

            shutil.rmtree(out, ignore_errors=True)
            raise
    return reports, out


# --- export --------------------------------------------------------------------------------------


def export_anct_communes(prog_or_dataset_dir, date, path: Path) -> Path:
    """Write the perimeter at ``date`` in the ANCT per-commune format.

    Parameters
    ----------
    prog_or_dataset_dir : Programme or Path
    date : str
        ``AAAA-MM-JJ``.
    path : Path
        Output CSV (``;``-separated, UTF-8 with BOM, as spreadsheets expect).

    Returns
    -------
    Path
        ``path``: one row per commune with ``insee_com, lib_com, id_ti, lib_ti``;
        ``id_ti`` is the official code valid at ``date`` when the territory
        has one, else its id; ``lib_ti`` its name at ``date``.
    """
    from tdi_geo.programme import Programme, load_programme, members_at, territories_at

    prog = prog_or_dataset_dir if isinstance(prog_or_dataset_dir, Programme) else load_programme(prog_or_dataset_dir)
    members = members_at(prog, date)
    communes = load_reference().communes
    whole = members.loc[members["epci_siren"] != "", ["territory_id", "epci_siren"]].merge(
        communes[["insee_com", "epci_siren"]], on="epci_siren"
    )
    single = members[members["epci_siren"] == ""][["territory_id", "insee_com"]]
    rows = pd.concat([whole[["territory_id", "insee_com"]], single], ignore_index=True)
    territories = territories_at(prog, date).set_index("id")
    code = territories["official_code"].where(territories["official_code"] != "", territories.index.to_series())
    out = pd.DataFrame(
        {
            "insee_com": rows["insee_com"],
            "lib_com": rows["insee_com"].map(communes.set_index("insee_com")["name"]).fillna(""),
            "id_ti": rows["territory_id"].map(code),
            "lib_ti": rows["territory_id"].map(territories["name"]),
        }
    ).sort_values(["id_ti", "insee_com"], ignore_index=True)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(out, path, sep=";", encoding="utf-8-sig")
    return path


# The command-line wrappers (``python -m tdi_geo validate|import|publish``) print the
# same reports; they live apart so that this module keeps to the import itself.
from tdi_geo.importers._cli import import_cli, publish_cli, validate_cli  # noqa: E402
