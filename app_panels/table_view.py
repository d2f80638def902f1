"""« Tableau des territoires de la vue »: the map's territories as a sortable table.

The table is built from the very frame the map draws, so it holds exactly
the territories on the map. It is the map's text alternative too.

A selected row selects the territory (the detail panel's selectbox key,
set by :func:`apply_pick` at the start of the next run);
Streamlit does not let a script set a dataframe's selection, so a territory
chosen on the map is shown in the table by a highlighted row instead.

Keyboard (Streamlit 1.67's ``st.dataframe``, a glide-data-grid canvas)
----------------------------------------------------------------------
Measured in headless Chromium (``tests/test_browser_table.py``) and read in
the grid's key bindings (``streamlit/static/static/js/DataFrame.*.js``:
``selectRow`` is ``"shift+ "``, ``activateCell`` is ``" |Enter|shift+Enter"``):

- Tab reaches first the grid's four toolbar buttons (« Show/hide columns »,
  « Download as CSV », « Search », « Fullscreen », named in English by
  Streamlit), then the canvas (``data-grid-canvas``), which takes the focus;
- the arrow keys move the focused cell (a visible frame; the DOM focus goes
  to that cell in the grid's hidden ``role="grid"`` table, the one offered to
  assistive technologies); ArrowUp stops at the first row: the header and the
  row markers (check boxes) are not reachable, so sorting is mouse-only;
- **Shift+Space selects the focused cell's row** (``single-row``: it replaces
  the previous one), which reruns the script: the territory is selected, and
  the focus stays on the cell through the rerun;
- Enter and Space "activate" the cell, which in a read-only table does
  nothing visible: Enter does not select;
- inside the grid Tab moves one cell to the right; after the last column it
  leaves the grid (no keyboard trap).

The page's « Territoire » list (a combobox) is the other keyboard path.
"""

from __future__ import annotations

import streamlit as st

from app_panels import text
from tdi_geo.summaries import table_frame

TABLE_KEY = "tableau"
_HANDLED = "_tdi_table_handled"
_IDS = "_tdi_table_ids"
_HIGHLIGHT = "background-color: #fff3c4; font-weight: 600"
EXPANDER_KEY = "tableau_ouvert"
#: Rows drawn before the grid scrolls; each row is tall enough for a long name on two lines.
MAX_ROWS_SHOWN, ROW_HEIGHT = 16, 44
#: Short headers that fit 1440 px without a horizontal scroll, each with its full name as a
#: tooltip; numbers in the reader's own format (French in a French browser). (The identifier stays in the data, not on screen.)
COLUMNS = {
    "Territoire": st.column_config.TextColumn("Territoire", width=200),
    "Région": st.column_config.TextColumn("Région", width=120),
    "Statut": st.column_config.TextColumn("Statut", width=130, help="Statut d'engagement"),
    "Projets": st.column_config.NumberColumn("Projets", width=60, help="Nombre de projets"),
    "Projets avec engagement de l'État": st.column_config.NumberColumn(
        "dont État", width=64, help="Projets avec engagement de l'État"),
    "Financements (€)": st.column_config.NumberColumn(
        "Fin. (€)", width=90, format="localized", help="Financements mobilisés (€)"),
    "Financements par habitant (€/hab.)": st.column_config.NumberColumn(
        "€/hab.", width=60, format="localized", help="Financements par habitant (€/hab.)"),
    "Population": st.column_config.NumberColumn("Pop.", width=84, format="localized", help="Population"),
    "Nombre d'EPCI": st.column_config.NumberColumn("EPCI", width=46, help="Nombre d'EPCI membres"),
    "Provenance": st.column_config.TextColumn("Provenance", width=100),
    "Évolution": st.column_config.TextColumn("Évolution", width=100, help="Évolution du périmètre"),
}
#: How to use the table with the keyboard alone (the grid's real keys, see the module's docstring).
KEYBOARD_HELP = ("Au clavier : Tab jusqu'au tableau (après les 4 boutons de sa barre d'outils), "
                 "flèches pour choisir une ligne, Maj+Espace pour la sélectionner (Entrée ne sélectionne pas). "
                 "La liste « Territoire », sous la carte, choisit aussi un territoire au clavier.")


def _rows(event) -> tuple[int, ...]:
    """The selected data positions of a dataframe's selection state (object or dict)."""
    selection = event.get("selection") if isinstance(event, dict) else getattr(event, "selection", None)
    rows = selection.get("rows") if isinstance(selection, dict) else getattr(selection, "rows", None)
    return tuple(int(r) for r in (rows or ()) if isinstance(r, (int, float)) or str(r).isdigit())


def apply_pick(territory_key: str) -> None:
    """Make a newly selected row's territory the page's territory; call before the map is drawn.

    The table's selection (from the reader's last interaction) is read at
    the start of the run, as the map's click is, so the map and the detail
    panel show the territory in the same run. Positions are data positions
    in the table drawn last (``_tdi_table_ids``), whatever the reader's sort;
    a selection already handled is not applied again, so a later map click
    is not undone by a row still selected.
    """
    ss = st.session_state
    rows = _rows(ss.get(TABLE_KEY))
    if rows == ss.get(_HANDLED):
        return
    ss[_HANDLED] = rows
    ids = ss.get(_IDS) or []
    if rows and 0 <= rows[0] < len(ids):
        ss[territory_key] = ids[rows[0]]


def _highlight(table, selected_row: int | None):
    """A Styler marking the selected territory's row (the map's selection)."""
    def style(row):
        return [_HIGHLIGHT if row.name == selected_row else ""] * len(row)

    return table.style.apply(style, axis=1)


def render(shown, *, selected: str, table=None, arrow=None, ids=None) -> None:
    """Draw the table of ``shown`` (the map's frame); its CSV and Excel files are in « Télécharger ▾ ».

    Parameters
    ----------
    shown : DataFrame
        The frame the map draws (view or comparison frame).
    selected : str
        The page's selected territory id ("" if none), highlighted.
    table : DataFrame, optional
        :func:`tdi_geo.summaries.table_frame` of ``shown`` when already built
        (the shared view model holds it); read-only.
    arrow : pyarrow.Table, optional
        The same table already in Arrow form, drawn as is when no row is
        highlighted: Streamlit then skips converting the frame on every run
        (half of a rerun's time).
    ids : list of str, optional
        The territory ids of ``shown``, in order, when already known.
    """
    if shown.empty:  # the map already says « Aucun territoire ne correspond à ces filtres »
        return
    if table is None:
        table = table_frame(shown)
    ids = shown["id"].astype(str).tolist() if ids is None else ids
    selected_row = ids.index(selected) if selected in ids else None
    st.session_state[_IDS] = ids
    # Lazy: the grid (and its ~300 kB of frontend code) only once a reader opens the table.
    box = st.expander("Tableau des territoires de la vue", key=EXPANDER_KEY, on_change="rerun")
    if not box.open:
        return
    with box:
        if selected_row is not None:
            data = _highlight(table, selected_row)
        else:
            data = table if arrow is None else arrow
        rows = min(len(table), MAX_ROWS_SHOWN)
        st.dataframe(
            data, hide_index=True, width="stretch", key=TABLE_KEY,
            on_select="rerun", selection_mode="single-row",
            row_height=ROW_HEIGHT, height=(rows + 1) * ROW_HEIGHT + 3,
            column_order=[c for c in table.columns if c in COLUMNS],
            column_config=COLUMNS,
        )
        text.caption(f"{len(table)} territoires : ceux de la carte, avec les mêmes filtres et la même version "
                     "(fichiers CSV et Excel dans « Télécharger ▾ »). Cliquez sur un en-tête pour trier ; "
                     "sélectionnez une ligne pour choisir le territoire. " + KEYBOARD_HELP)
