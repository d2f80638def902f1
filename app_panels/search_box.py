"""The search box above the map: a commune, an EPCI or a territory, and where it stands.

Typing gives up to ten suggestions from :func:`tdi_geo.search.suggest`
(communes first, then the territories and EPCIs whose name matches); the
chosen one is resolved with :func:`tdi_geo.search.where` at the date shown.
The page then selects the territory that holds it and zooms to it, and says
so in a sentence (:func:`tdi_geo.search_text.match_sentence`). A commune's
INSEE code travels in the URL as ``commune=``.
"""

from __future__ import annotations

import streamlit as st

from app_panels.text import notice
from tdi_geo.search import suggest, where
from tdi_geo.search_text import match_sentence

QUERY_KEY = "w_search"
CHOICE_KEY = "w_search_choice"
#: Suggestions shown: communes first, and room kept for territories and EPCIs.
MAX_SUGGESTIONS, MAX_OTHERS = 10, 3
_KIND_LABELS = {"commune": "Commune", "epci": "EPCI", "territory": "Territoire"}


def seed_from_url(params: dict) -> None:
    """First run of a session: ``?commune=INSEE`` fills the search box."""
    commune = str(params.get("commune") or "").strip()[:10]
    if commune and QUERY_KEY not in st.session_state:
        st.session_state[QUERY_KEY] = commune


def _suggestions(prog, text: str, date: str) -> list[dict]:
    found = suggest(prog, text, date, limit=3 * MAX_SUGGESTIONS)
    others = [f for f in found if f["kind"] != "commune"][:MAX_OTHERS]
    communes = [f for f in found if f["kind"] == "commune"][: MAX_SUGGESTIONS - len(others)]
    return communes + others


def render(prog, date: str) -> dict | None:
    """Draw the box; return what the visitor chose, resolved at ``date``, or None.

    Returns
    -------
    dict or None
        ``{"kind", "key", "territory": id or None, "sentence": French text,
        "commune": INSEE or None}``.
    """
    left, right = st.columns([0.45, 0.55], vertical_alignment="bottom")
    text = left.text_input("Rechercher une commune, un EPCI ou un territoire", key=QUERY_KEY, max_chars=80,
                           placeholder="ex. Lamballe, 22093, Saint-Brieuc")
    if not text.strip():
        return None
    with st.spinner("Recherche…"):
        found = _suggestions(prog, text, date)
    if not found:
        with right:
            notice(f"Aucune commune, aucun EPCI ni territoire ne correspond à « {text.strip()} ».", "info")
        return None
    labels = {f"{f['kind']}:{f['key']}": f"{_KIND_LABELS[f['kind']]} — {f['label']}" for f in found}
    picked = right.selectbox("Résultats", list(labels), format_func=labels.get, key=CHOICE_KEY)
    kind, key = picked.split(":", 1)
    return _resolve(prog, kind, key, date)


def _resolve(prog, kind: str, key: str, date: str) -> dict:
    if kind == "territory":
        return {"kind": kind, "key": key, "territory": key, "sentence": "", "commune": None}
    answer = where(prog, key, date)
    if kind == "commune" and answer["matches"]:
        match = answer["matches"][0]
        territory = match["territory"]["id"] if match["territory"] else None
        return {"kind": kind, "key": key, "territory": territory, "sentence": match_sentence(match, date),
                "commune": match["insee"]}
    epcis = answer.get("epcis") or []
    holders = epcis[0]["territories"] if epcis else []
    name = epcis[0]["name"] if epcis else key
    if holders:
        names = ", ".join(h["name"] for h in holders)
        sentence = f"L'EPCI {name} ({key}) fait partie du ou des territoires : {names}."
    else:
        sentence = f"L'EPCI {name} ({key}) ne fait partie d'aucun territoire d'industrie à cette date."
    return {"kind": kind, "key": key, "territory": holders[0]["id"] if holders else None, "sentence": sentence,
            "commune": None}
