"""The « Importer des fichiers officiels » panel: upload, validate, preview, publish.

Reading is public; changing what everyone sees is not. Anyone may upload and
validate files, and an import makes a *private preview*: a new dataset in the
workspace that only this browser session shows (its path lives in
``st.session_state``). Publishing a preview, choosing the dataset everyone
sees and deleting one need the editor code, a secret configured outside the
repository (``TDI_GEO_EDITOR_SECRET`` or ``editor_secret`` in
``.streamlit/secrets.toml``); with none configured, nobody can publish from
the app and the command line on the server stays the trusted path.

All the work is done by :mod:`tdi_geo.importers`; this module only draws
widgets, saves the uploads to a temporary folder of the workspace and shows
the French reports as plain text (:mod:`app_panels.text`), since they quote
cells of the uploaded files.
"""

from __future__ import annotations

import math
import os
import shutil
import uuid
from pathlib import Path

import streamlit as st

from app_panels.text import caption, notice
from tdi_geo.importers import (
    ALL_FIELDS,
    EDITOR_SECRET_ENV,
    MAX_FILE_BYTES,
    ImportFileError,
    WorkspaceError,
    current_dataset,
    delete_dataset,
    editor_secret_ok,
    import_to_workspace,
    list_datasets,
    publish_dataset,
    safe_file_name,
    validate_files,
)
from tdi_geo.importers._editor import GUARD as EDITOR_GUARD
from tdi_geo.importers._editor import MAX_FAILURES as MAX_CODE_FAILURES
from tdi_geo.importers._editor import record_refused_code, secret_problem
from tdi_geo.programme import PROVENANCES

UPLOAD_TYPES = ["csv", "txt", "tsv", "xlsx", "xlsm", "xls", "ods", "geojson", "json", "zip", "shp", "dbf", "shx", "prj", "cpg"]
_SHAPEFILE_SIDECARS = {".dbf", ".shx", ".prj", ".cpg"}
#: Session key of this visitor's unpublished import (a dataset folder of the workspace).
PREVIEW_KEY = "tdi_preview"
#: Session key of the published dataset this page last showed (the compare-and-swap's expectation).
_SEEN_KEY = "tdi_seen_current"
#: Session keys the map page reads once per session; cleared so that a new dataset opens on its latest version.
RESEED_KEYS = ("_tdi_seeded",)


def configured_editor_secret() -> str | None:
    """The editors' secret: ``$TDI_GEO_EDITOR_SECRET`` (when set, even blank), else ``editor_secret`` in
    Streamlit's secrets; None when neither is configured. A weak one is refused later (:func:`secret_problem`)."""
    if EDITOR_SECRET_ENV in os.environ:
        return os.environ[EDITOR_SECRET_ENV]
    try:
        value = st.secrets.get("editor_secret")
    except Exception:  # no secrets.toml at all: Streamlit raises its own error type
        return None
    return None if value is None else str(value)


def _visitor() -> tuple[str, str]:
    """(session id, client address) of this run, for counting and logging wrong editor codes.

    Behind nginx (``TDI_GEO_BEHIND_PROXY=1``) the address is the ``X-Real-IP``
    header nginx sets; anywhere else a client could forge it, so the socket's
    address is used.
    """
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    session = ctx.session_id if ctx is not None else "inconnue"
    address = None
    if os.environ.get("TDI_GEO_BEHIND_PROXY", "") == "1":
        address = (st.context.headers or {}).get("X-Real-Ip")
    return session, str(address or st.context.ip_address or "inconnue")[:64]


def _refused_code_wait(workspace: Path, keys: tuple[str, ...], session: str, address: str, action: str,
                       given: str, secret: str) -> bool:
    """Whether the code may not be used now (waiting, locked out, missing or wrong), saying why; counts and
    logs a wrong code."""
    wait, locked = EDITOR_GUARD.wait(keys)
    if wait > 0:
        if locked:
            notice(f"Trop de codes éditeur erronés ({MAX_CODE_FAILURES} en 15 minutes) depuis cette session ou cette "
                   f"adresse : nouvel essai possible dans {math.ceil(wait / 60)} min. Rien n'a été publié ni "
                   "supprimé.", "error")
        else:
            notice(f"Attendez encore {math.ceil(wait)} s avant un nouvel essai du code éditeur (chaque code erroné "
                   "allonge l'attente). Rien n'a été publié ni supprimé.", "error")
        return True
    if not given:
        notice("Code éditeur manquant ou incorrect : rien n'a été publié ni supprimé.", "error")
        return True
    if editor_secret_ok(given, secret):
        EDITOR_GUARD.succeeded(keys)
        return False
    EDITOR_GUARD.failed(keys)
    record_refused_code(workspace, session=session, address=address, action=action)
    wait, locked = EDITOR_GUARD.wait(keys)
    then = (f"C'est le {MAX_CODE_FAILURES}e code erroné en 15 minutes : nouvel essai possible dans "
            f"{math.ceil(wait / 60)} min." if locked else f"Nouvel essai possible dans {math.ceil(wait)} s.")
    notice(f"Code éditeur manquant ou incorrect : rien n'a été publié ni supprimé. {then} L'essai est consigné "
           "(heure, session, adresse).", "error")
    return True


def session_preview() -> Path | None:
    """This session's private preview, if it still exists (old previews are pruned)."""
    value = st.session_state.get(PREVIEW_KEY)
    if not value:
        return None
    path = Path(value)
    if not (path / "territories.csv").is_file():
        st.session_state.pop(PREVIEW_KEY, None)
        notice("Votre aperçu privé n'existe plus (les aperçus les plus anciens sont effacés) : "
               "la carte montre de nouveau les données publiées.", "info")
        return None
    return path


def parse_column_map(text: str) -> tuple[dict[str, str], list[str]]:
    """``COLONNE=CHAMP`` lines → mapping, and French errors for malformed lines."""
    mapping, errors = {}, []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        if "=" not in line:
            errors.append(f"Ligne {number} de la correspondance : « {line} » n'a pas la forme COLONNE=CHAMP.")
            continue
        column, field = line.rsplit("=", 1)
        mapping[column.strip()] = field.strip()
    return mapping, errors


def save_uploads(uploads, folder: Path) -> tuple[list[Path], list[str]]:
    """Write the uploaded files to ``folder``; returns the files to import and French errors.

    The side files of a shapefile (``.dbf``, ``.shx``…) are saved next to
    their ``.shp`` but not imported on their own.
    """
    folder.mkdir(parents=True, exist_ok=True)
    saved, errors = [], []
    for upload in uploads:
        name = safe_file_name(upload.name)
        if upload.size > MAX_FILE_BYTES:
            errors.append(
                f"Fichier « {name} » trop volumineux : {upload.size / 1024 / 1024:.1f} Mo "
                f"(limite : {MAX_FILE_BYTES / 1024 / 1024:.0f} Mo)."
            )
            continue
        path = folder / name
        path.write_bytes(upload.getbuffer())
        saved.append(path)
    stems_with_shp = {p.stem for p in saved if p.suffix.lower() == ".shp"}
    files = [p for p in saved if not (p.suffix.lower() in _SHAPEFILE_SIDECARS and p.stem in stems_with_shp)]
    files = [p for p in files if p.suffix.lower() not in {".shx", ".prj", ".cpg"}]
    return files, errors


def _show_reports(reports) -> None:
    for report in reports:
        title = f"« {report.file} » : {report.kind_label}"
        if report.errors:
            notice(title + f" — {len(report.errors)} erreur(s)", "error")
        elif report.warnings:
            notice(title + f" — valide, {len(report.warnings)} avertissement(s)", "warning")
        else:
            notice(title + " — valide", "success")
        if report.summary:
            caption(" · ".join(f"{k} : {v}" for k, v in report.summary.items()))
        if report.columns:
            caption("Colonnes reconnues : " + ", ".join(f"« {h} » → {f}" for f, h in report.columns.items()))
        for message in report.errors:
            notice(message, "error")
        for message in report.warnings:
            notice(message, "warning")


def _dataset_label(row: dict) -> str:
    imports = ", ".join(i.get("file", "?") for i in row["imports"][-3:]) or "sans import"
    created = str(row["created"]).replace("T", " ")[:16]
    return f"{created} — {imports}"


def _reopen_map() -> None:
    """Open the map on the dataset now shown, at its latest version (the URL's filters no longer apply)."""
    for key in RESEED_KEYS:
        st.session_state.pop(key, None)
    st.query_params.clear()


def _show_state(workspace: Path, preview: Path | None) -> None:
    published = current_dataset(workspace)
    rows = {d["name"]: d for d in list_datasets(workspace)}
    if published is None:
        notice("Données publiées (vues par tous) : données embarquées.", "info")
    else:
        row = rows.get(published.name)
        notice("Données publiées (vues par tous) : jeu importé " + (_dataset_label(row) if row else published.name),
               "info")
    if preview is not None:
        row = next((d for d in list_datasets(workspace, include_previews=True) if d["name"] == preview.name), None)
        notice("Votre aperçu privé (vu par vous seul·e tant qu'un éditeur ne l'a pas publié) : "
               + (_dataset_label(row) if row else preview.name), "warning")
        if st.button("Abandonner mon aperçu", key="import_drop_preview"):
            st.session_state.pop(PREVIEW_KEY, None)
            try:
                delete_dataset(workspace, preview)
            except (WorkspaceError, OSError):
                pass  # published meanwhile, or already pruned: only this session forgets it
            _reopen_map()
            st.rerun()


def _upload_and_import(workspace: Path, preview: Path | None) -> None:
    uploads = st.file_uploader(
        "Fichiers officiels", type=UPLOAD_TYPES, accept_multiple_files=True, key="import_uploads",
        help=f"Taille maximale : {MAX_FILE_BYTES // (1024 * 1024)} Mo par fichier.",
    )
    left, right = st.columns(2)
    date = left.text_input(
        "Date de la version de périmètre (AAAA-MM-JJ)", key="import_date",
        help="Facultative si le nom du fichier ou une colonne « date » la donne.",
    )
    provenance = right.selectbox("Provenance déclarée", list(PROVENANCES), format_func=PROVENANCES.get,
                                 key="import_provenance", index=list(PROVENANCES).index("official"))
    mapping_text = st.text_area(
        "Correspondance de colonnes (facultatif, une par ligne : COLONNE=CHAMP)", key="import_map",
        help="Champs possibles : " + ", ".join(ALL_FIELDS), height=80,
    )
    from_embedded = st.checkbox("Partir des données embarquées plutôt que du jeu affiché", key="import_from_embedded")
    check, run = st.columns(2)
    validate_clicked = check.button("Valider", key="import_validate", disabled=not uploads)
    import_clicked = run.button("Importer (aperçu privé)", key="import_run", type="primary", disabled=not uploads)
    if not (validate_clicked or import_clicked):
        return

    column_map, problems = parse_column_map(mapping_text)
    folder = workspace / ".uploads" / uuid.uuid4().hex
    try:
        files, upload_errors = save_uploads(uploads, folder)
        for message in problems + upload_errors:
            notice(message, "error")
        if problems or upload_errors or not files:
            return
        # The base: the embedded data if asked, else what this visitor sees (their preview or the published data).
        base = _embedded() if from_embedded else (preview or current_dataset(workspace) or None)
        with st.spinner("Lecture et vérification des fichiers…"):
            if validate_clicked:
                try:
                    _show_reports(validate_files(files, column_map, date=date or None, base_dataset=base,
                                                 provenance=provenance))
                except ImportFileError as exc:
                    notice(str(exc), "error")
                return
            try:
                reports, dataset = import_to_workspace(
                    files, workspace, date=date or None, column_map=column_map, provenance=provenance,
                    base_dataset=base,
                )
            except ImportFileError as exc:
                if exc.reports:
                    _show_reports(exc.reports)
                notice(str(exc).splitlines()[0], "error")
                return
        _show_reports(reports)
        st.session_state[PREVIEW_KEY] = str(dataset)
        _reopen_map()
        notice(f"Import réussi : aperçu privé « {dataset.name} ». L'onglet Carte l'affiche pour vous seul·e, "
               "sur sa dernière version ; un éditeur doit le publier pour que tout le monde le voie.", "success")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _editor_section(workspace: Path, preview: Path | None, secret: str | None) -> None:
    seen = st.session_state.get(_SEEN_KEY, str(current_dataset(workspace) or ""))
    st.session_state[_SEEN_KEY] = str(current_dataset(workspace) or "")
    with st.expander("Publication (éditeurs)"):
        problem = secret_problem(secret)
        if problem:
            notice(problem + f" (variable {EDITOR_SECRET_ENV} ou « editor_secret » dans .streamlit/secrets.toml)",
                   "error")
            return
        if not secret:
            notice("La publication depuis l'application est désactivée : aucun code éditeur n'est configuré sur "
                   f"le serveur (variable {EDITOR_SECRET_ENV} ou « editor_secret » dans .streamlit/secrets.toml). "
                   "Sur le serveur, la ligne de commande reste possible : "
                   "python -m tdi_geo publish DOSSIER JEU --editor NOM.", "info")
            return
        left, right = st.columns(2)
        editor = left.text_input("Nom de l'éditeur ou de l'éditrice", key="editor_name")
        given = right.text_input("Code éditeur", type="password", key="editor_code")
        datasets = list_datasets(workspace)
        labels = {d["name"]: _dataset_label(d) for d in datasets}
        choice = st.selectbox("Jeu publié à afficher pour tous", [""] + list(labels), key="editor_choice",
                              format_func=lambda name: labels.get(name, "Données embarquées"))
        buttons = st.container(horizontal=True)
        actions = {
            "publish": buttons.button("Publier mon aperçu", key="editor_publish", disabled=preview is None),
            "show": buttons.button("Afficher ce jeu pour tous", key="editor_show"),
            "delete": buttons.button("Supprimer ce jeu", key="editor_delete", disabled=not choice),
        }
        action = next((name for name, clicked in actions.items() if clicked), None)
        if action is None:
            return
        session, address = _visitor()
        if _refused_code_wait(workspace, (f"session:{session}", f"adresse:{address}"), session, address, action,
                              given, secret):
            return
        expected = Path(seen) if seen else None
        try:
            if action == "publish":
                publish_dataset(workspace, preview, editor=editor, expected_current=expected)
                st.session_state.pop(PREVIEW_KEY, None)
                message = "Aperçu publié : tout le monde voit maintenant ce jeu de données."
            elif action == "show":
                publish_dataset(workspace, (workspace / choice) if choice else None, editor=editor,
                                expected_current=expected)
                message = "Jeu affiché pour tous : " + (labels[choice] if choice else "données embarquées") + "."
            else:
                delete_dataset(workspace, workspace / choice, editor=editor)
                message = f"Jeu supprimé : {labels[choice]}."
        except WorkspaceError as exc:
            notice(str(exc), "error")
            return
        st.session_state[_SEEN_KEY] = str(current_dataset(workspace) or "")
        _reopen_map()
        notice(message, "success")


def render_import_panel(workspace: Path, *, editor_secret: str | None = None) -> None:
    """Draw the panel.

    Parameters
    ----------
    workspace : Path
        Folder of imported datasets (e.g. ``data/imports``); created if needed.
    editor_secret : str, optional
        The configured editors' secret (:func:`configured_editor_secret`);
        None disables publication from the app.
    """
    workspace = Path(workspace)
    workspace.mkdir(parents=True, exist_ok=True)
    st.markdown(
        "Chargez un fichier officiel : liste ANCT des communes par territoire, liste des EPCI "
        "(Caisse des Dépôts, en CSV, XLSX, XLS, ODS, GeoJSON ou shapefile zippé), ou tableau de suivi des statuts "
        "et des projets. Le fichier est d'abord **validé** ; l'import crée un **aperçu privé**, visible "
        "par vous seul·e, sans modifier les jeux précédents. Un éditeur le publie pour tous."
    )
    preview = session_preview()
    _show_state(workspace, preview)
    _upload_and_import(workspace, session_preview())
    _editor_section(workspace, session_preview(), editor_secret)


def _embedded() -> Path:
    from tdi_geo import PROGRAMME_DIR

    return PROGRAMME_DIR
