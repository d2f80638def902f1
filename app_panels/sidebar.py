"""Sidebar widgets: version, indicator, filters, comparison, background.

Each widget is bound to a ``st.session_state`` key (``w_<state key>``), seeded
once per session from the URL by :func:`seed_from_state`; :func:`render`
returns the page state as a plain dict.
"""

from __future__ import annotations

import streamlit as st

from tdi_geo.indicators import INDICATORS
from tdi_geo.mapping.fmt import format_date, format_number
from tdi_geo.mapping.style import SCHEMES
from tdi_geo.programme import PILLARS, STATUSES

_WIDGET_KEYS = {
    "date": "w_date",
    "date_from": "w_date_from",
    "regions": "w_regions",
    "pillar": "w_pillar",
    "indicator": "w_indicator",
    "scheme": "w_scheme",
    "statuses": "w_statuses",
    "fragile_only": "w_fragile",
    "documented_only": "w_documented",
    "tiles": "w_tiles",
}
TERRITORY_KEY = "w_territory"
#: Session key of the région filter (set by a click on the régions chart).
REGIONS_KEY = _WIDGET_KEYS["regions"]


def seed_from_state(state: dict) -> None:
    """Put a parsed URL state into the widgets' session keys (before they exist)."""
    for key, widget in _WIDGET_KEYS.items():
        st.session_state[widget] = state[key]
    # Selectboxes use "" for « all / none »: None would show Streamlit's English placeholder.
    st.session_state["w_pillar"] = state["pillar"] or ""
    st.session_state["w_compare"] = bool(state["date_from"])
    st.session_state[TERRITORY_KEY] = state["territory"] or ""


def current_state(versions: list[dict], defaults: dict) -> dict:
    """The state the widgets hold, read before they are drawn.

    The app draws the map before the sidebar (so the map's message reaches
    the browser first); widget values live in ``st.session_state`` between
    runs, so they can be read first. Invalid combinations are repaired here,
    before the widgets exist.
    """
    ss = st.session_state
    dates = [row["date"] for row in versions]
    for key, widget in _WIDGET_KEYS.items():
        if widget not in ss:
            ss[widget] = defaults[key]
    if ss["w_date"] not in dates:
        ss["w_date"] = defaults["date"]
    date = ss["w_date"]
    earlier = [d for d in dates if d < date]
    date_from = None
    if ss.get("w_compare") and earlier:
        if ss.get("w_date_from") not in earlier:
            ss["w_date_from"] = earlier[-1]
        date_from = ss["w_date_from"]
    return {
        "date": date,
        "date_from": date_from,
        "regions": list(ss["w_regions"] or []),
        "pillar": ss.get("w_pillar") or None,
        "indicator": ss["w_indicator"],
        "scheme": ss["w_scheme"],
        "statuses": list(ss["w_statuses"] or []),
        "fragile_only": bool(ss["w_fragile"]),
        "documented_only": bool(ss["w_documented"]),
        "tiles": bool(ss["w_tiles"]),
    }


def render(versions: list[dict], regions: dict[str, str]) -> dict:
    """Draw the sidebar and return the state it shows.

    Parameters
    ----------
    versions : list of dict
        :func:`tdi_geo.programme.versions_table` rows.
    regions : dict
        INSEE région code → name.
    """
    by_date = {row["date"]: row for row in versions}
    dates = list(by_date)

    def version_label(date: str) -> str:
        row = by_date[date]
        text = f"{format_date(date)} — {format_number(row['territories'])} territoires"
        if row["illustrative"] or row["inferred"]:
            text += (f" ({row['documented']} documentés, {row['inferred']} inférés, "
                     f"{row['illustrative']} illustratifs)")
        return text

    sb = st.sidebar
    sb.header("Carte")
    date = sb.selectbox("Version du périmètre", dates, key="w_date", format_func=version_label)
    indicator = sb.selectbox(
        "Indicateur", list(INDICATORS), key="w_indicator", format_func=lambda k: INDICATORS[k]["label"]
    )
    scheme = sb.radio(
        "Classes (indicateurs chiffrés)",
        list(SCHEMES),
        key="w_scheme",
        format_func=SCHEMES.get,
        disabled=INDICATORS[indicator]["kind"] == "categorical",
        horizontal=False,
    )

    sb.header("Filtres")
    chosen_regions = sb.multiselect(
        "Région", list(regions), key="w_regions", format_func=lambda c: f"{regions[c]} ({c})",
        placeholder="Toutes les régions",
    )
    pillar = sb.selectbox(
        "Pilier", ["", *PILLARS], key="w_pillar",
        format_func=lambda k: PILLARS.get(k, "Tous les piliers"),
        help="Un territoire est retenu s'il a au moins un projet dans ce pilier ; "
        "les indicateurs ne comptent alors que ce pilier.",
    )
    statuses = sb.multiselect(
        "Statut d'engagement", list(STATUSES), key="w_statuses", format_func=STATUSES.get,
        placeholder="Tous les statuts",
    )
    fragile = sb.checkbox("Territoires fragiles seulement", key="w_fragile")
    documented = sb.radio(
        "Provenance", [False, True], key="w_documented",
        format_func=lambda v: "Documentés seulement" if v else "Tous (y compris illustratifs)",
    )

    sb.header("Comparer")
    earlier = [d for d in dates if d < date]
    compare = sb.toggle("Comparer avec une version antérieure", key="w_compare", disabled=not earlier)
    date_from = None
    if compare and earlier:
        if st.session_state.get("w_date_from") not in earlier:
            st.session_state["w_date_from"] = earlier[-1]
        date_from = sb.selectbox("Version de départ", earlier, key="w_date_from", format_func=version_label)

    sb.header("Affichage")
    tiles = sb.toggle(
        "Fond de carte OpenStreetMap", key="w_tiles",
        help="Nécessite une connexion Internet ; la carte fonctionne sans.",
    )
    return {
        "date": date,
        "date_from": date_from,
        "regions": list(chosen_regions),
        "pillar": pillar or None,
        "indicator": indicator,
        "scheme": scheme,
        "statuses": list(statuses),
        "fragile_only": bool(fragile),
        "documented_only": bool(documented),
        "tiles": bool(tiles),
    }
