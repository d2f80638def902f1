"""``python -m tdi_geo validate|import|publish``: the importers as commands.

Reports go to stdout (valid) or stderr (refused), in French; the exit code
is 0 on success and 2 for anything the user must fix.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tdi_geo import importers
from tdi_geo.importers._read import MAX_FILE_BYTES
from tdi_geo.importers._report import ImportReport
from tdi_geo.importers._workspace import WorkspaceError, current_dataset, publish_dataset

EXIT_OK = 0
EXIT_USER_ERROR = 2


def _print_reports(reports: list[ImportReport], stream) -> None:
    for report in reports:
        print(report.to_text(), file=stream)


def validate_cli(files, column_map: dict[str, str] | None = None, base_dataset: Path | None = None,
                 max_bytes: int = MAX_FILE_BYTES) -> int:
    """``python -m tdi_geo validate``: print the reports; 0 when valid, 2 otherwise.

    Tracking tables are checked against ``base_dataset`` (default: the embedded
    dataset or ``$TDI_GEO_DATASET``).
    """
    try:
        reports = importers.validate_files(files, column_map, base_dataset=base_dataset, max_bytes=max_bytes)
    except importers.ImportFileError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    errors = sum(len(r.errors) for r in reports)
    if errors:
        _print_reports(reports, sys.stderr)
        print(f"Erreur : {errors} erreur(s) ; corrigez le fichier puis relancez la validation.", file=sys.stderr)
        return EXIT_USER_ERROR
    _print_reports(reports, sys.stdout)
    print(f"Fichier(s) valide(s) : {len(reports)}.")
    return EXIT_OK


def import_cli(files, out: Path | None = None, date: str | None = None, column_map: dict[str, str] | None = None,
               base_dataset: Path | None = None, provenance: str = "official",
               max_bytes: int = MAX_FILE_BYTES, workspace: Path | None = None, publish: bool = False,
               editor: str | None = None) -> int:
    """``python -m tdi_geo import``: build the dataset at ``out`` (or a new one in ``workspace``,
    published at once with ``publish``); 0 on success, 2 otherwise."""
    try:
        if workspace is not None:
            reports, out = importers.import_to_workspace(files, workspace, date=date, column_map=column_map,
                                               base_dataset=base_dataset, provenance=provenance,
                                               max_bytes=max_bytes, publish=publish, editor=editor)
        else:
            reports = importers.import_files(files, out, date=date, column_map=column_map, base_dataset=base_dataset,
                                   provenance=provenance, max_bytes=max_bytes)
    except importers.ImportFileError as exc:
        message = str(exc)
        if exc.reports:
            _print_reports(exc.reports, sys.stderr)
            message = message.splitlines()[0]
        print(f"Erreur : {message}", file=sys.stderr)
        return EXIT_USER_ERROR
    except WorkspaceError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    _print_reports(reports, sys.stdout)
    print(f"Jeu de données écrit : {Path(out)}")
    if workspace is not None:
        print("Publié : c'est le jeu affiché." if publish else
              "Non publié : publiez-le avec « python -m tdi_geo publish » pour l'afficher.")
    return EXIT_OK


def publish_cli(workspace: Path, dataset: str | None, editor: str, expected: str | None = None) -> int:
    """``python -m tdi_geo publish``: make ``dataset`` (None = embedded data) current; 0 or 2.

    ``expected`` is the current dataset the caller saw ("" = embedded data);
    by default, the one current when the command starts.
    """
    workspace = Path(workspace)
    if expected is None:
        expected = current_dataset(workspace)
    try:
        shown = publish_dataset(workspace, dataset or None, editor=editor, expected_current=expected or None)
    except WorkspaceError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    print(f"Jeu affiché : {shown.name if shown else 'données embarquées'}")
    return EXIT_OK
