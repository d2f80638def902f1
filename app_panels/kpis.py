"""National figures for the date and filters, with what the data is and where it comes from."""

from __future__ import annotations

import streamlit as st

from app_panels.text import caption, md_plain
from tdi_geo.indicators import KPI_LABELS
from tdi_geo.mapping.fmt import format_euros, format_number

_SHARES = {"engaged_share", "finalising_share"}
_EUROS = {"state_operators_eur", "territoires_innovation_eur"}


def format_kpi(key: str, value) -> str:
    """A KPI value as French text: shares in %, amounts in M€, counts plain."""
    if value is None:
        return "—"
    if key in _SHARES:
        return f"{format_number(float(value) * 100)}\u202f%"
    if key in _EUROS:
        return format_euros(value)
    return format_number(value)


def render(kpis: dict, figures: dict, filtered: bool, date_label: str) -> None:
    """Draw the KPI metrics.

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
    """
    keys = [k for k in KPI_LABELS if k in kpis]
    rows = [keys[:5], keys[5:]]
    for row in rows:
        if not row:
            continue
        cols = st.columns(len(row))
        for col, key in zip(cols, row):
            published = figures.get(key)
            help_text = None
            if published is not None:
                help_text = md_plain(
                    f"Chiffre publié : {format_kpi(key, published['value'])} — source : {published['source']}"
                )
            col.metric(KPI_LABELS[key], format_kpi(key, kpis[key]), help=help_text)
    scope = "territoires filtrés" if filtered else "tous les territoires"
    sources = sorted({f["source"] for f in figures.values()})
    text = f"Calculé à partir du jeu de données au {date_label} ({scope})."
    if sources and not filtered:
        text += " Chiffres publiés (survoler « ? ») : " + " ; ".join(sources) + "."
    elif sources:
        text += " Les chiffres publiés sont nationaux : ils ne s'appliquent pas à une sélection."
    caption(text)
