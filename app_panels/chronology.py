"""« Chronologie du périmètre »: the picture of every version, its additions as text, its PNG download.

The expander is lazy (``on_change="rerun"``): the figure (matplotlib, a few
seconds the first time) is drawn only when a visitor opens it, then cached
per dataset.
"""

from __future__ import annotations

import streamlit as st

from app_panels.text import caption
from tdi_geo.mapping.fmt import format_date
from tdi_geo.programme import per_dataset

EXPANDER_KEY = "chronologie"


# Once per dataset (a preview is a dataset of its own), shared by every session, read-only.
@per_dataset(shared=True)
def _drawn(prog):
    from tdi_geo.chronology import render_chronology  # matplotlib only when the chronology is opened

    drawn = render_chronology(prog)
    return drawn.png, drawn.panels


def _alt_text(panels: list[dict]) -> str:
    """What the picture shows, for screen readers: each version's date and counts."""
    steps = "; ".join(f"{format_date(p['date'])} : {p['caption'].splitlines()[0]}" for p in panels)
    return f"Cartes de France du périmètre des Territoires d'industrie à chaque version ({steps})."


def render(prog) -> None:
    """Draw the « Chronologie du périmètre » expander below the map (the dataset's picture, drawn once)."""
    box = st.expander("Chronologie du périmètre", key=EXPANDER_KEY, on_change="rerun")
    if not box.open:
        return
    with box:
        try:
            with st.spinner("Dessin de la chronologie…"):
                png, panels = _drawn(prog)
        except (ValueError, KeyError, OSError) as exc:
            caption(f"Chronologie impossible à dessiner : {exc}")
            return
        st.image(png, alt=_alt_text(panels), width="stretch")
        for panel in panels:
            added = ", ".join(r["name"] for r in panel["added"]) or ("version de lancement" if panel is panels[0] else "aucun")
            line = f"{panel['territories']} territoires. Ajoutés ({len(panel['added'])}) : {added}"
            if panel["removed"]:
                line += f". Retirés ({len(panel['removed'])}) : " + ", ".join(r["name"] for r in panel["removed"])
            caption(line, bold_prefix=f"{format_date(panel['date'])} — {panel['label']} :")
        st.download_button(
            "Télécharger la chronologie (PNG)", data=png, file_name="territoires-industrie-chronologie.png",
            mime="image/png", on_click="ignore", key="dl_chronologie",
        )
