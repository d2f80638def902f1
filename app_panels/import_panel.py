"""The « Importer des fichiers officiels » panel: upload, validate, import, choose the dataset shown.

All the work is done by :mod:`tdi_geo.importers`; this module only draws
widgets, saves the uploads to a temporary folder of the workspace and shows
the French reports. Messages are shown as plain text (Markdown escaped),
since they quote cells of the uploaded files.
"""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path

import streamlit as st

from tdi_geo.importers import (
    ALL_FIELDS,
    MAX_FILE_BYTES,
    ImportFileError,
    current_dataset,
    import_to_workspace,
    list_datasets,
    set_current,
    validate_files,
)
from tdi_geo.programme import PROVENANCES

UPLOAD_TYPES = ["csv", "txt", "tsv", "xlsx", "geojson", "json", "zip", "shp", "dbf", "shx", "prj", "cpg"]
_SHAPEFILE_SIDECARS = {".dbf", ".shx", ".prj", ".cpg"}
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


def _plain(text: str) -> str:
    """Escape Markdown so that quoted cells are shown as they are, never as links or markup."""
    return _MARKDOWN.sub(r"\\\1", str(text))


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
        name = Path(upload.name).name or "fichier"
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
            st.error(_plain(title + f" — {len(report.errors)} erreur(s)"))
        elif report.warnings:
            st.warning(_plain(title + f" — valide, {len(report.warnings)} avertissement(s)"))
        else:
            st.success(_plain(title + " — valide"))
        if report.summary:
            st.caption(_plain(" · ".join(f"{k} : {v}" for k, v in report.summary.items())))
        if report.columns:
            st.caption(_plain("Colonnes reconnues : " + ", ".join(f"« {h} » → {f}" for f, h in report.columns.items())))
        for message in report.errors:
            st.error(_plain(message))
        for message in report.warnings:
            st.warning(_plain(message))


def _dataset_label(row: dict) -> str:
    imports = ", ".join(i.get("file", "?") for i in row["imports"][-3:]) or "sans import"
    created = row["created"].replace("T", " ")[:16]
    return f"{created} — {imports}"


def _choose_dataset(workspace: Path) -> None:
    datasets = list_datasets(workspace)
    current = current_dataset(workspace)
    if current is None:
        st.info("Données affichées : données embarquées.")
    else:
        row = next((d for d in datasets if d["current"]), None)
        st.info(_plain("Données affichées : jeu importé " + (_dataset_label(row) if row else current.name)))
    if not datasets:
        return
    with st.expander(f"Jeux de données importés ({len(datasets)})"):
        names = [d["name"] for d in datasets]
        labels = {d["name"]: _dataset_label(d) for d in datasets}
        chosen = st.selectbox("Jeu de données", names, format_func=labels.get, key="import_dataset_choice")
        left, right = st.columns(2)
        if left.button("Afficher ce jeu", key="import_activate"):
            set_current(workspace, workspace / chosen)
            st.rerun()
        if right.button("Revenir aux données embarquées", key="import_reset", disabled=current is None):
            set_current(workspace, None)
            st.rerun()


def render_import_panel(workspace: Path) -> Path | None:
    """Draw the panel; return the dataset the app should show (None = embedded data).

    Parameters
    ----------
    workspace : Path
        Folder of imported datasets (e.g. ``data/imports``); created if needed.
    """
    workspace = Path(workspace)
    st.markdown(
        "Chargez un fichier officiel : liste ANCT des communes par territoire, liste des EPCI "
        "(Caisse des Dépôts, en CSV, XLSX, GeoJSON ou shapefile zippé), ou tableau de suivi des statuts "
        "et des projets. Le fichier est d'abord **validé** ; l'import crée un nouveau jeu de données "
        "sans modifier les précédents."
    )
    _choose_dataset(workspace)
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
    import_clicked = run.button("Importer", key="import_run", type="primary", disabled=not uploads)
    if not (validate_clicked or import_clicked):
        return current_dataset(workspace)

    column_map, problems = parse_column_map(mapping_text)
    folder = workspace / ".uploads" / uuid.uuid4().hex
    try:
        files, upload_errors = save_uploads(uploads, folder)
        for message in problems + upload_errors:
            st.error(_plain(message))
        if problems or upload_errors or not files:
            return current_dataset(workspace)
        # None = the dataset shown (the workspace's current one, else the default one).
        base = _embedded() if from_embedded else (current_dataset(workspace) or None)
        if validate_clicked:
            try:
                _show_reports(validate_files(files, column_map, date=date or None, base_dataset=base,
                                             provenance=provenance))
            except ImportFileError as exc:
                st.error(_plain(str(exc)))
            return current_dataset(workspace)
        try:
            reports, dataset = import_to_workspace(
                files, workspace, date=date or None, column_map=column_map, provenance=provenance,
                base_dataset=base,
            )
        except ImportFileError as exc:
            if exc.reports:
                _show_reports(exc.reports)
            st.error(_plain(str(exc).splitlines()[0]))
            return current_dataset(workspace)
        _show_reports(reports)
        st.success(_plain(f"Import réussi : le jeu « {dataset.name} » est maintenant affiché."))
        return dataset
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _embedded() -> Path:
    from tdi_geo import PROGRAMME_DIR

    return PROGRAMME_DIR
