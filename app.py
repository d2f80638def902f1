"""Territoires d'industrie — the national map (Streamlit).

Thin on purpose: URL and sidebar state → :mod:`tdi_geo` calls → map and
panels. Run with ``streamlit run app.py``; no internet needed (Leaflet is
served from the installed ``django-js-lib-leaflet`` package).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import streamlit as st
import streamlit.components.v1 as components

from app_panels import (chronology, detail, downloads, kpis, map_view, regions_chart, search_box, sidebar, table_view,
                        text, url_state)
from app_panels.import_panel import configured_editor_secret, render_import_panel, session_preview
from tdi_geo import assets, mapping, reference
from tdi_geo.mapping.titles import data_note, view_title
from tdi_geo.importers import current_dataset
from tdi_geo.programme import (
    DATASET_ENV, dataset_summary, default_date, load_programme, tracking_until, version_dates, versions_table,
)
from tdi_geo.perimeters import diff_item_text
from tdi_geo.view_model import selection_outline, state_key, view_model, zoom_bounds

APP_ROOT = Path(__file__).resolve().parent
IMPORT_WORKSPACE = Path(os.environ.get("TDI_GEO_WORKSPACE", APP_ROOT / "data" / "imports"))
MAP_KEY = "carte"

st.set_page_config(page_title="Territoires d'industrie — carte nationale", layout="wide")

# Registering Leaflet's dist directory as a (never drawn) component makes
# Streamlit serve it at /component/<name>/ with proper MIME types: the map,
# drawn in the page, loads it by a URL relative to the page.
_LEAFLET_FILES = components.declare_component("tdi_geo_leaflet", path=str(assets.leaflet_dir()))
ASSET_BASE = f"./component/{_LEAFLET_FILES.name}"


# --- dataset -------------------------------------------------------------------
# Lazy tabs: only the open tab runs, so the map page never pays for the import
# widgets. The data shown: $TDI_GEO_DATASET when set, else this session's
# private preview (an import not yet published), else the workspace's published
# dataset, else the embedded one.

tab_map, tab_import = st.tabs(["Carte", "Importer des fichiers officiels"], key="page_tab", on_change="rerun")
pinned = os.environ.get(DATASET_ENV) or None
with tab_map:
    preview = None if pinned else session_preview()
dataset_dir = pinned or (str(preview) if preview else None) or (str(current_dataset(IMPORT_WORKSPACE) or "") or None)
try:
    # Cached per folder and file dates (at most 8 datasets: a visitor's preview is one of its own).
    prog = load_programme(dataset_dir)
    dates = version_dates(prog)
    opening_date = default_date(prog)
    tracked_until = tracking_until(prog)
except (FileNotFoundError, ValueError) as exc:
    text.notice(f"Impossible de charger les données du programme : {exc}", "error", where=tab_map)
    prog = None
regions = reference.region_names()

# --- state: URL (first run of a session) → widgets → URL -------------------------

url_warnings: list[str] = []
if prog is not None:
    versions = versions_table(prog)
    if "_tdi_seeded" not in st.session_state:
        first_state, url_warnings = url_state.parse_query_params(
            st.query_params.to_dict(), dates, regions, opening_date, tracked_until
        )
        sidebar.seed_from_state(first_state)
        search_box.seed_from_url(st.query_params.to_dict())
        st.session_state["_tdi_seeded"] = True
    regions_chart.apply_pick(sidebar.REGIONS_KEY)  # a click on a région bar filters this run's map
    state = sidebar.current_state(versions, url_state.default_state(opening_date, tracked_until))

if tab_import.open:
    with tab_import:
        if pinned:
            text.notice(f"La variable {DATASET_ENV} impose le jeu de données affiché : "
                        "un jeu importé ici n'est pas affiché tant qu'elle est définie.", "info")
        render_import_panel(IMPORT_WORKSPACE, editor_secret=configured_editor_secret())
    if prog is not None:
        sidebar.render(versions, regions)  # keeps the filters for the return to the map
    st.stop()
if prog is None:
    st.stop()

with tab_map:
    for message in url_warnings:
        text.notice(message, "warning")
    shown_data = dataset_summary(prog)
    if shown_data["preview"]:
        text.notice(f"Aperçu privé : vous seul·e voyez le jeu importé « {shown_data['name']} » "
                    f"({', '.join(shown_data['files']) or 'sans fichier'}), tant qu'un éditeur ne l'a pas publié. "
                    "Onglet « Importer » pour l'abandonner ou le publier.", "warning")

    # Everything that depends only on (dataset, view state) is computed once for
    # every session (tdi_geo.view_model): a rerun for a view already seen costs a lookup.
    # The spinner (a timer thread per run) only when there is work to do.
    view_key = state_key(state)
    with contextlib.nullcontext() if view_model.is_cached(prog, view_key) else st.spinner("Préparation de la carte…"):
        try:
            model = view_model(prog, view_key)
        except (ValueError, KeyError) as exc:
            text.notice(f"Vue impossible à construire : {exc}", "warning")
            st.stop()
    shown = model.shown

    # The page, top to bottom: what the map shows (one line), the map, the chosen
    # territory's detail right under it, the tools (territory list, search, downloads),
    # the figures, then the table, the régions and the chronology. The boxes are laid
    # out first and filled in the order the data needs (the search picks the territory
    # the map outlines).
    title_box, map_box, detail_box = st.container(), st.container(), st.container()
    list_col, search_col, menu_col = st.columns([0.34, 0.5, 0.16], vertical_alignment="bottom")

    # Territory: URL/selectbox value, replaced by a search pick or a click on the map (one-run triggers).
    ids = model.names
    with search_col:
        found = search_box.render(prog, state["date"])
    zoom_to = None
    if found:
        if found["sentence"]:
            text.notice(found["sentence"], "info", where=detail_box)
        pick = (found["kind"], found["key"], state["date"])
        if st.session_state.get("_tdi_last_pick") != pick and found["territory"] in ids:
            st.session_state["_tdi_last_pick"] = pick
            st.session_state[sidebar.TERRITORY_KEY] = found["territory"]
        if found["territory"] in ids:
            zoom_to = found["territory"]
        elif found["territory"]:
            text.notice("Ce territoire n'est pas dans la vue : changez les filtres (région, pilier, statut) pour le voir.",
                        "warning", where=detail_box)
    clicked = (st.session_state.get(MAP_KEY) or {}).get("click")
    if clicked:
        hit = mapping.territory_at(model.display, clicked["lat"], clicked["lng"])
        if hit:
            st.session_state[sidebar.TERRITORY_KEY] = hit
    table_view.apply_pick(sidebar.TERRITORY_KEY)  # a row selected in the table
    selected = st.session_state.get(sidebar.TERRITORY_KEY)
    if selected and selected not in ids:
        text.notice(f"Le territoire « {selected} » n'est pas dans la vue (date ou filtres) : "
                    "aucun territoire sélectionné.", "warning", where=title_box)
        st.session_state[sidebar.TERRITORY_KEY] = selected = ""

    text.heading(f"Territoires d'industrie : {view_title(state, shown, regions)}", where=title_box)
    with map_box:
        if shown.empty:
            st.info("Aucun territoire ne correspond à ces filtres.")
        fit = None
        if zoom_to:  # a search zooms to the territory it found
            fit = {"key": repr((model.layer["fit"]["key"], found["kind"], found["key"])),
                   "bounds": zoom_bounds(model, zoom_to)}
        outline = selection_outline(model, selected) if selected else None
        map_view.render(model.layer, model.layer_key, selection=(selected, outline) if outline else None, fit=fit,
                        tiles=state["tiles"], asset_base=ASSET_BASE, key=MAP_KEY)
    with list_col:
        territory = st.selectbox(
            "Territoire", ["", *model.options], key=sidebar.TERRITORY_KEY,
            format_func=lambda i: model.names.get(i, "Choisir un territoire (ou toucher la carte)"),
        )
    with menu_col:
        downloads.render(prog, state, shown, model.table)
    if territory:
        with detail_box:
            detail.render(prog, shown, territory, state["date"], None if state["date_from"] else state["pillar"])

    row = next(r for r in versions if r["date"] == state["date"])
    if model.kpis is not None:
        kpis.render(model.kpis, model.figures,
                    filtered=len(model.view) != row["territories"] or bool(state["pillar"]),
                    date_label=mapping.format_date(state["date"]),
                    tracked_until=mapping.format_date(tracked_until) if tracked_until else "")
    if model.diff is not None:
        for kind, title in (("added", "Ajoutés"), ("removed", "Retirés"), ("changed", "Périmètre modifié"),
                            ("renamed", "Renommés")):
            items = [item for item in model.diff[kind] if item["id"] in ids]
            names = [diff_item_text(kind, item) for item in items]
            text.caption(", ".join(names) if names else "aucun", bold_prefix=f"{title} ({len(names)}) :")
    text.caption(data_note(shown_data, reference.provenance()))

    # Below: the map's text alternative (the same rows), the régions compared (all régions,
    # other filters), the chronology (drawn only when opened).
    table_view.render(shown, selected=territory, table=model.table,
                      arrow=model.table_arrow, ids=model.ids)
    regions_chart.render(prog, state_key({**state, "regions": [], "date_from": None}), chosen_regions=state["regions"])
    chronology.render(prog)

# The widgets must agree with the state read before them; if a widget repaired
# its value, draw again once (never in a loop).
if sidebar.render(versions, regions) != state and not st.session_state.get("_tdi_redrawn"):
    st.session_state["_tdi_redrawn"] = True
    st.rerun()
st.session_state["_tdi_redrawn"] = False

wanted = url_state.to_query_params({**state, "territory": territory}, opening_date, tracked_until)
if found and found["commune"]:
    wanted["commune"] = found["commune"]
if wanted != st.query_params.to_dict():
    st.query_params.from_dict(wanted)
