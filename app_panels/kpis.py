"""National figures for the date and filters, with what the data is and where it comes from."""

from __future__ import annotations

from html import escape

import streamlit as st

from app_panels.text import caption
from tdi_geo.indicators import KPI_LABELS
from tdi_geo.mapping.fmt import format_euros, format_number

_SHARES = {"engaged_share", "finalising_share"}
_EUROS = {"state_operators_eur", "territoires_innovation_eur"}
#: Five to a row on a wide page, fewer on a narrow one; text at 4.9:1 or more on white.
_CSS = (".tdi-kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(9.5rem,1fr));gap:.4rem 1rem;"
        "margin:0 0 .5rem 0 !important;padding:0 !important}.tdi-kpis dd{margin-left:0}"
        ".tdi-kpi{min-width:0}.tdi-kpi dt{font-size:.875rem;color:#31333f;margin:0}"
        ".tdi-kpi-value{font-size:2.25rem;line-height:1.2;margin:0;color:#31333f}"
        ".tdi-kpi-published{font-size:.8rem;color:rgba(49,51,63,.75);margin:0}")


def format_kpi(key: str, value) -> str:
    """A KPI value as French text: shares in %, amounts in M€, counts plain."""
    if value is None:
        return "—"
    if key in _SHARES:
        return f"{format_number(float(value) * 100)}\u202f%"
    if key in _EUROS:
        return format_euros(value)
    return format_number(value)


def kpi_html(kpis: dict, figures: dict) -> str:
    """The KPIs as one block of HTML: label, value and, when the programme published one, its figure.

    One element instead of nine metrics in two rows of columns: the page is
    redrawn on every filter change by every visitor, and each Streamlit
    element has its cost. Every text is escaped (labels are ours, values
    formatted numbers; nothing from a file is interpreted).

    Examples
    --------
    >>> html_text = kpi_html({"territories": 144, "engaged_share": 0.85},
    ...                      {"territories": {"value": 144, "source": "<b>CP</b>"}})
    >>> "<dt>Territoires d&#x27;industrie</dt>" in html_text, "Chiffre publié : 144" in html_text
    (True, True)
    >>> "<b>" in html_text  # the source is in the caption below, never in markup
    False
    """
    items = []
    # A figure the data does not cover (after the last status and project data) is not a tile of « — ».
    for key in (k for k in KPI_LABELS if k in kpis and kpis[k] is not None):
        published = figures.get(key)
        extra = (f'<dd class="tdi-kpi-published">Chiffre publié : {escape(format_kpi(key, published["value"]))}</dd>'
                 if published is not None else "")
        items.append(f'<div class="tdi-kpi"><dt>{escape(KPI_LABELS[key])}</dt>'
                     f'<dd class="tdi-kpi-value">{escape(format_kpi(key, kpis[key]))}</dd>{extra}</div>')
    return f"<style>{_CSS}</style><dl class=\"tdi-kpis\" aria-label=\"Chiffres clés\">{''.join(items)}</dl>"


def render(kpis: dict, figures: dict, filtered: bool, date_label: str, tracked_until: str = "") -> None:
    """Draw the KPIs and the line saying where they come from.

    Parameters
    ----------
    kpis : dict
        :func:`tdi_geo.indicators.national_kpis` for the view.
    figures : dict
        :func:`tdi_geo.programme.national_figures` for the date (published figures).
    filtered : bool
        Whether filters restrict the territories (published figures are national).
    date_label : str
        The date, as shown to users.
    tracked_until : str
        The last date of the status and project data, as shown to users
        (empty when the dataset has none).
    """
    st.html(kpi_html(kpis, figures if not filtered else {}))
    scope = "territoires filtrés" if filtered else "tous les territoires"
    sources = sorted({f["source"] for f in figures.values()})
    text = f"Calculé à partir du jeu de données au {date_label} ({scope})."
    if any(value is None for value in kpis.values()):
        text += (f" Statuts, projets et financements : pas de donnée à cette date (le suivi par territoire "
                 f"s'arrête au {tracked_until})." if tracked_until else
                 " Statuts, projets et financements : pas de donnée dans ce jeu.")
    if sources and not filtered:
        text += " Chiffres publiés : " + " ; ".join(sources) + "."
    elif sources:
        text += " Les chiffres publiés sont nationaux : ils ne s'appliquent pas à une sélection."
    caption(text)
