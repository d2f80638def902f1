"""A workspace of datasets: previews, the ``current`` pointer, publication and its log.

A workspace is a folder of dataset directories (one per import) plus:

- ``current``: a one-line file naming the dataset everyone sees (absent =
  the embedded data);
- ``publications.log``: one JSON object per line for every change of
  ``current`` and every deletion (who, when, which dataset, which files);
- ``.lock``: the file locked (``fcntl.flock``) while ``current`` or the log
  change, so that concurrent publications are serialised.

An import made in the app is a *preview*: its ``dataset.json`` says
``"preview": true`` and it never becomes current by itself. Only
:func:`publish_dataset`, given the editor's name and the pointer value the
editor saw (compare-and-swap), makes it current; a concurrent publication
makes the second one fail with :class:`PublishConflictError` instead of
being silently lost. The pointer is replaced with ``os.replace``, so a
reader sees the old or the new name, never a torn one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hmac
import json
import os
import shutil
import uuid
from pathlib import Path

from tdi_geo.importers._dataset import is_dataset, read_meta

#: Name of the pointer file that designates a workspace's current dataset.
CURRENT_POINTER = "current"
#: Append-only record of publications, one JSON object per line.
PUBLICATIONS_LOG = "publications.log"
LOCK_FILE = ".lock"
#: Environment variable holding the editors' secret (the app may also read ``st.secrets``).
EDITOR_SECRET_ENV = "TDI_GEO_EDITOR_SECRET"
#: At most this many unpublished previews are kept: anyone may import in the app,
#: so the oldest previews are deleted to bound the disk a visitor can fill.
MAX_PREVIEWS = 20
#: Value of ``expected_current`` that means « the embedded data » (no pointer).
EMBEDDED = None
_EMBEDDED_LABEL = "données embarquées"


class WorkspaceError(ValueError):
    """A workspace operation was refused; ``str(exc)`` is the French explanation."""


class PublishConflictError(WorkspaceError):
    """The current dataset changed since the editor looked at it: nothing was changed."""


def editor_secret_ok(given: str | None, configured: str | None) -> bool:
    """Whether ``given`` is the configured editors' secret, compared in constant time.

    Always False when no secret is configured (nobody may publish from the
    app then), when the configured one is refused (blank or too short, see
    :func:`tdi_geo.importers._editor.secret_problem`) or when nothing was given.
    """
    from tdi_geo.importers._editor import secret_problem

    if not configured or not given or secret_problem(configured):
        return False
    return hmac.compare_digest(str(given).encode("utf-8"), str(configured).encode("utf-8"))


@contextlib.contextmanager
def _locked(workspace: Path):
    """Hold the workspace's exclusive lock (waits for another holder to finish)."""
    workspace.mkdir(parents=True, exist_ok=True)
    fd = os.open(workspace / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _pointer_name(workspace: Path) -> str:
    """The raw name in ``current`` ("" when absent or unreadable)."""
    try:
        return (Path(workspace) / CURRENT_POINTER).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def _name(dataset) -> str:
    return "" if dataset is None else Path(dataset).name


def current_dataset(workspace: Path) -> Path | None:
    """The dataset designated by the workspace's ``current`` pointer, or None (embedded data)."""
    name = _pointer_name(workspace)
    path = Path(workspace) / name
    return path if name and "/" not in name and not name.startswith(".") and is_dataset(path) else None


def _write_pointer(workspace: Path, name: str) -> None:
    pointer = workspace / CURRENT_POINTER
    if not name:
        pointer.unlink(missing_ok=True)
        return
    tmp = workspace / f".{CURRENT_POINTER}.{uuid.uuid4().hex}"
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, pointer)


def _published_names(workspace: Path) -> set[str]:
    """Datasets that were made current at least once (from the log)."""
    return {str(r["dataset"]) for r in publication_log(workspace)
            if isinstance(r, dict) and r.get("action") == "publish" and r.get("dataset")}


def is_published(workspace: Path, dataset_dir: Path) -> bool:
    """Whether a dataset of the workspace may be shown to everyone.

    True for datasets not marked as previews (written by ``import --out`` or
    before previews existed) and for previews an editor published.
    """
    dataset_dir = Path(dataset_dir)
    return not read_meta(dataset_dir).get("preview") or dataset_dir.name in _published_names(Path(workspace))


def _append_log(workspace: Path, record: dict) -> None:
    # ASCII only: a name holding U+2028 or U+0085 stays inside its line, whatever splits the file later.
    with (workspace / PUBLICATIONS_LOG).open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=True, sort_keys=True) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def append_event(workspace: Path, record: dict) -> None:
    """Append ``record`` (with the time, UTC) to the workspace's publication log, under its lock."""
    workspace = Path(workspace)
    with _locked(workspace):
        _append_log(workspace, {**record, "at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()})


def _record(action: str, editor: str, dataset: str, previous: str, dataset_dir: Path | None) -> dict:
    files = []
    if dataset_dir is not None:
        for item in read_meta(dataset_dir).get("imported_files", []):
            files.append({"file": item.get("file"), "sha256": item.get("sha256"), "kind": item.get("kind")})
    return {
        "action": action,
        "editor": editor,
        "at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        "dataset": dataset or None,
        "previous": previous or None,
        "files": files,
    }


def _check_editor(editor: str) -> str:
    editor = " ".join(str(editor or "").split())
    if not editor:
        raise WorkspaceError("Publication refusée : indiquez le nom de l'éditeur ou de l'éditrice qui publie.")
    return editor[:200]


def _member(workspace: Path, dataset_dir) -> Path:
    """``dataset_dir`` as a dataset directly inside ``workspace``, or a French error."""
    path = Path(dataset_dir)
    path = path if path.is_absolute() or path.parent != Path(".") else workspace / path
    if path.parent.resolve() != workspace.resolve() or path.name.startswith(".") or not is_dataset(path):
        raise WorkspaceError(f"« {path.name} » n'est pas un jeu de données de cet espace de travail.")
    return path


def publish_dataset(workspace: Path, dataset_dir, *, editor: str, expected_current) -> Path | None:
    """Make ``dataset_dir`` the dataset everyone sees, if ``current`` is still ``expected_current``.

    Parameters
    ----------
    workspace : Path
    dataset_dir : Path, str or None
        A dataset of the workspace (path or name); None goes back to the
        embedded data.
    editor : str
        Who publishes (recorded in the log).
    expected_current : Path, str or None
        The current dataset the editor saw (``current_dataset(workspace)``
        when the page was drawn); None = the embedded data.

    Returns
    -------
    Path or None
        The new current dataset.

    Raises
    ------
    PublishConflictError
        ``current`` changed in the meantime (another publication won); nothing changed.
    WorkspaceError
        No editor name, or ``dataset_dir`` is not a loadable dataset of the workspace.
    """
    workspace = Path(workspace)
    editor = _check_editor(editor)
    target = None if dataset_dir is None else _member(workspace, dataset_dir)
    if target is not None:
        from tdi_geo.programme import load_programme

        try:
            load_programme(target)  # never point everyone at a dataset that does not load
        except (OSError, ValueError) as exc:
            raise WorkspaceError(f"Publication refusée : {exc}") from None
    with _locked(workspace):
        previous = _pointer_name(workspace)
        expected = _name(expected_current)
        if previous != expected:
            raise PublishConflictError(
                "Publication refusée : le jeu de données affiché a changé entre-temps "
                f"(« {previous or _EMBEDDED_LABEL} » au lieu de « {expected or _EMBEDDED_LABEL} »), sans doute par "
                "une autre publication. Rien n'a été modifié ; rechargez la page, vérifiez le jeu affiché, puis "
                "publiez à nouveau."
            )
        if target is not None and not is_dataset(target):  # deleted since it was checked
            raise WorkspaceError(f"Publication refusée : « {target.name} » n'existe plus.")
        name = _name(target)
        _write_pointer(workspace, name)
        _append_log(workspace, _record("publish" if name else "unpublish", editor, name, previous, target))
    return target


def set_current(workspace: Path, dataset_dir: Path | None) -> None:
    """Point the workspace at a *published* dataset (or None), whatever is current now.

    Kept for trusted callers; the app must use :func:`publish_dataset`
    (editor role, compare-and-swap). A preview is refused here.
    """
    workspace = Path(workspace)
    if dataset_dir is not None:
        target = _member(workspace, dataset_dir)
        if not is_published(workspace, target):
            raise WorkspaceError(f"« {target.name} » n'a pas été publié : publiez-le (rôle éditeur) pour l'afficher.")
    with _locked(workspace):
        previous = _pointer_name(workspace)
        name = _name(dataset_dir)
        _write_pointer(workspace, name)
        _append_log(workspace, _record("publish" if name else "unpublish", "(set_current)", name, previous,
                                       None if dataset_dir is None else workspace / name))


def delete_dataset(workspace: Path, dataset_dir, *, editor: str | None = None) -> None:
    """Delete a dataset of the workspace (never the current one).

    A preview that was never published may be deleted without an editor
    (the visitor who made it discards it); a published dataset needs
    ``editor`` and the deletion is logged.

    Raises
    ------
    WorkspaceError
        The dataset is current, unknown, or published and no editor was given.
    """
    workspace = Path(workspace)
    target = _member(workspace, dataset_dir)
    with _locked(workspace):
        if _pointer_name(workspace) == target.name:
            raise WorkspaceError(
                f"« {target.name} » est le jeu affiché : publiez-en un autre avant de le supprimer."
            )
        published = is_published(workspace, target)
        if published:
            editor = _check_editor(editor or "")
        trash = workspace / f".deleted-{target.name}-{uuid.uuid4().hex[:8]}"
        os.rename(target, trash)  # atomic: readers see the dataset whole or not at all
        if published:
            _append_log(workspace, _record("delete", editor, target.name, _pointer_name(workspace), None))
    shutil.rmtree(trash, ignore_errors=True)


def prune_previews(workspace: Path, keep: int = MAX_PREVIEWS) -> list[str]:
    """Delete the oldest unpublished previews beyond ``keep``; return their names.

    Published datasets and the current one are never touched. A visitor
    whose preview was pruned sees the published data again (the app says so).
    """
    workspace = Path(workspace)
    previews = [row for row in list_datasets(workspace, include_previews=True)
                if not row["published"] and not row["current"]]
    # Newest first; ``created`` has a one-second resolution, the folder's mtime breaks ties.
    previews.sort(key=lambda row: (row["created"], row["path"].stat().st_mtime_ns), reverse=True)
    removed = []
    for row in previews[max(keep, 0):]:
        try:
            delete_dataset(workspace, row["path"])
        except (WorkspaceError, OSError):
            continue  # published or removed meanwhile: leave it
        removed.append(row["name"])
    return removed


def list_datasets(workspace: Path, *, include_previews: bool = False) -> list[dict]:
    """The datasets of a workspace, newest first.

    Each row: ``name, path, created, imports, current, published``. Previews
    (imported, not published) are left out unless ``include_previews``: a
    visitor must never be offered another visitor's preview.
    """
    workspace = Path(workspace)
    if not workspace.is_dir():
        return []
    current = _pointer_name(workspace)
    published_names = _published_names(workspace)
    rows = []
    for path in workspace.iterdir():
        if path.name.startswith(".") or not is_dataset(path):
            continue
        meta = read_meta(path)
        published = not meta.get("preview") or path.name in published_names
        if not (published or include_previews):
            continue
        rows.append(
            {
                "name": path.name,
                "path": path,
                "created": meta.get("created", ""),
                "imports": meta.get("imports", []),
                "current": path.name == current,
                "published": published,
            }
        )
    return sorted(rows, key=lambda r: (r["created"], r["name"]), reverse=True)


def publication_log(workspace: Path) -> list[dict]:
    """The publication records of a workspace, oldest first (unreadable lines skipped).

    Lines end with ``\\n`` only: ``str.splitlines`` would also cut at U+2028,
    U+2029 or U+0085 inside a file name written by an older version, lose that
    record, and with it the dataset's published state.
    """
    try:
        lines = (Path(workspace) / PUBLICATIONS_LOG).read_bytes().decode("utf-8", errors="replace").split("\n")
    except OSError:
        return []
    records = []
    for line in lines:
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


def safe_file_name(name: str) -> str:
    r"""An uploaded file's name as stored: its last path part, without control, format or line/paragraph
    separator characters (U+2028, U+2029, U+0085…), which could cut a line of a log or hide a part of it.

    >>> safe_file_name("../statuts\u2028suite\x00.csv")
    'statutssuite.csv'
    """
    import unicodedata

    name = Path(str(name).replace("\\", "/")).name
    return "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp")).strip() or "fichier"


def new_dataset_name(files: list[Path]) -> str:
    """A unique, sortable directory name for an import into a workspace."""
    from tdi_geo.importers._dataset import _slug

    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    stem = _slug(Path(files[0]).stem)[:40] if files else "import"
    return f"{stamp}-{stem}-{uuid.uuid4().hex[:8]}"
