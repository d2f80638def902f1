"""National figures for the date and filters: one compact row, and one line on how they compare with the published ones."""

from __future__ import annotations

import math
from html import escape

import streamlit as st

from tdi_geo.indicators import KPI_LABELS
from tdi_geo.mapping.fmt import NO_DATA_LABEL, format_euros, format_number
from tdi_geo.mapping.titles import source_items

_SHARES = {"engaged_share", "finalising_share"}
_EUROS = {"state_operators_eur", "territoires_innovation_eur"}
#: One row on a wide page (as many columns as figures), three or four columns on a phone;
#: text at 4.9:1 or more on white.
_CSS = (".tdi-kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(5.6rem,1fr));gap:.3rem .7rem;"
        "margin:.25rem 0 .2rem 0 !important;padding:0 !important}.tdi-kpis dd{margin-left:0}"
        ".tdi-kpi{min-width:0;display:flex;flex-direction:column}"
        ".tdi-kpi dt{font-size:.78rem;line-height:1.2;color:#31333f;margin:0}"
        ".tdi-kpi-value{order:-1;font-size:1.45rem;line-height:1.15;margin:0;color:#31333f;font-weight:600}"
        ".tdi-kpi-published{font-size:.75rem;color:#8a3c00;margin:0}"
        "@media (max-width:700px){.tdi-kpis{grid-template-columns:repeat(3,minmax(0,1fr))}"
        ".tdi-kpi-value{font-size:1.2rem}}")


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_kpi(key: str, value) -> str:
    """A KPI value as French text: shares in %, amounts in M€, counts plain, « Pas de donnée » when missing.

    Examples
    --------
    >>> format_kpi("engaged_share", 0.85), format_kpi("projects", None)
    ('85\\u202f%', 'Pas de donnée')
    """
    if _missing(value):
        return NO_DATA_LABEL
    if key in _SHARES:
        return f"{format_number(float(value) * 100)}\u202f%"
    if key in _EUROS:
        return format_euros(value)
    return format_number(value)


def differences(kpis: dict, figures: dict) -> list[str]:
    """The KPIs whose computed value, as shown, differs from the published one."""
    return [key for key in KPI_LABELS if key in kpis and key in figures
            and format_kpi(key, kpis[key]) != format_kpi(key, figures[key]["value"])]


def kpi_html(kpis: dict, figures: dict) -> str:
    """The KPIs with a value as one row of HTML; a published figure appears only where it differs.

    One element instead of nine metrics: the page is redrawn on every filter
    change by every visitor, and each Streamlit element has its cost. Every
    text is escaped (labels are ours, values formatted numbers).

    Examples
    --------
    >>> html_text = kpi_html({"territories": 144, "projects": 470, "fragile": None},
    ...                      {"territories": {"value": 144, "source": "<b>CP</b>"}, "projects": {"value": 474, "source": ""}})
    >>> "<dt>Territoires d&#x27;industrie</dt>" in html_text, "publié : 474" in html_text, "publié : 144" in html_text
    (True, True, False)
    >>> "<b>" in html_text, "Territoires fragiles" in html_text  # no markup from data; no tile without a value
    (False, False)
    """
    differ = set(differences(kpis, figures))
    items = []
    for key in (k for k in KPI_LABELS if k in kpis and not _missing(kpis[k])):
        extra = (f'<dd class="tdi-kpi-published">publié : {escape(format_kpi(key, figures[key]["value"]))}</dd>'
                 if key in differ else "")
        # The value is shown above its label (CSS order), after it for screen readers (a <dl>).
        items.append(f'<div class="tdi-kpi"><dt>{escape(KPI_LABELS[key])}</dt>'
                     f'<dd class="tdi-kpi-value">{escape(format_kpi(key, kpis[key]))}</dd>{extra}</div>')
    return f"<style>{_CSS}</style><dl class=\"tdi-kpis\" aria-label=\"Chiffres clés\">{''.join(items)}</dl>"


def check_text(kpis: dict, figures: dict, filtered: bool, date_label: str, tracked_until: str = "") -> str:
    """One sentence: what the figures are computed from, and whether they match the published ones.

    Examples
    --------
    >>> figures = {"projects": {"value": 474, "source": "Communiqué du 24 septembre 2019 (geodata/sources/x.txt)"}}
    >>> check_text({"projects": 474}, figures, False, "24/09/2019")
    'Chiffres calculés à partir des données au 24/09/2019, conformes aux chiffres publiés (Communiqué du 24 septembre 2019).'
    >>> check_text({"projects": 470, "fragile": None}, figures, False, "24/09/2019")  # doctest: +NORMALIZE_WHITESPACE
    'Chiffres calculés à partir des données au 24/09/2019 ; 1 diffère des chiffres publiés (Communiqué du 24 septembre
    2019), indiqués sous la valeur. Pas de donnée à cette date : territoires fragiles accompagnés.'
    """
    text = f"Chiffres calculés à partir des données au {date_label}"
    missing = [KPI_LABELS[k] for k in KPI_LABELS if k in kpis and _missing(kpis[k])]
    if filtered:
        text += " pour les territoires de la vue (les chiffres publiés sont nationaux)"
    elif figures:
        sources = list(dict.fromkeys(item["title"] for f in figures.values() for item in source_items(f["source"])))
        named = f" ({' ; '.join(sources)})" if sources else ""
        differ = differences(kpis, figures)
        if differ:
            text += (f" ; {len(differ)} diffère{'nt' if len(differ) > 1 else ''} des chiffres publiés{named}, "
                     "indiqués sous la valeur")
        else:
            text += f", conformes aux chiffres publiés{named}"
    if missing and tracked_until:
        text += (f". Statuts, projets et financements : {NO_DATA_LABEL.lower()} à cette date (le suivi par "
                 f"territoire s'arrête au {tracked_until})")
    elif missing:
        text += f". {NO_DATA_LABEL} à cette date : " + ", ".join(m[:1].lower() + m[1:] for m in missing)
    return text + "."


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
    from app_panels.text import caption

    st.html(kpi_html(kpis, figures if not filtered else {}))
    caption(check_text(kpis, figures, filtered, date_label, tracked_until))
