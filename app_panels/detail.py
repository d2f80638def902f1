"""The territory detail panel: identity, provenance, members, status history, projects.

User text (names, notes, sources) is HTML-escaped before it reaches
``st.html``; tables go through ``st.dataframe``, which shows plain text.
"""

from __future__ import annotations

import html

import pandas as pd
import streamlit as st

# Captions through text.caption, not st.caption: Streamlit's caption grey is 3.9:1 on white (WCAG AA wants 4.5).
from app_panels import text

from tdi_geo.indicators import INDICATORS
from tdi_geo.mapping.fmt import format_date, format_euros, format_number, format_value
from tdi_geo.mapping.titles import source_items
from tdi_geo.perimeters import territory_members
from tdi_geo.programme import BASES, PILLARS, PROVENANCES, STATUSES, projects_at, territory_record

_BADGE = (
    '<span style="display:inline-block;padding:1px 7px;border-radius:9px;'
    'font-size:.85em;background:{bg};color:{fg};border:1px dashed #555">{text}</span>'
)


def _links(sources: str) -> str:
    """Escaped HTML of `` ; ``-separated sources: a URL as a link named by its publisher, other text as is.

    Examples
    --------
    >>> _links("Communiqué (geodata/sources/x.txt) ; https://www.example.org/a?b=<c>")
    'Communiqué ; <a href="https://www.example.org/a?b=&lt;c&gt;" title="https://www.example.org/a?b=&lt;c&gt;" target="_blank" rel="noopener noreferrer">example.org</a>'
    """
    parts = []
    for item in source_items(sources):
        if item["url"] and item["url"].lower().startswith(("http://", "https://")):
            url = html.escape(item["url"], quote=True)
            parts.append(f'<a href="{url}" title="{url}" target="_blank" rel="noopener noreferrer">'
                         f'{html.escape(item["title"])}</a>')
        else:
            parts.append(html.escape(item["title"]))
    return " ; ".join(parts)


def header_html(row: pd.Series, territory: dict | pd.Series | None) -> str:
    """Escaped HTML of the panel header: name, région, provenance, sources."""
    esc = html.escape
    # .tdi-detail[data-tdi-id]: the map scrolls it into view after a tap (tdi_map.js).
    lines = [f'<div class="tdi-detail" data-tdi-id="{esc(str(row["id"]), quote=True)}">',
             f'<h3 style="margin:0 0 .2em 0">{esc(str(row["name"]))}</h3>']
    lines.append(f"<div>{esc(str(row.get('region_name') or row.get('region') or ''))}</div>")
    if bool(row.get("illustrative")):
        lines.append(
            _BADGE.format(bg="#fff4d6", fg="#5a4300", text="illustratif")
            + " <small>Aucune source ne donne sa présence à cette date (ou sa composition) : "
            "ce n'est pas une donnée publiée.</small>"
        )
    elif row.get("provenance") == "inferred":
        lines.append(_BADGE.format(bg="#e8f1fb", fg="#0b3d6e", text="inféré")
                     + f" <small>{esc(PROVENANCES['inferred'])} : la raison est dans la note ci-dessous.</small>")
    else:
        label = PROVENANCES.get(row.get("provenance"), str(row.get("provenance") or ""))
        lines.append(f"<div><b>Provenance :</b> {esc(label)}</div>")
    if territory is not None and territory.get("source"):
        lines.append(f"<div><b>Source :</b> {_links(territory['source'])}</div>")
    if bool(row.get("partial")):
        lines.append("<div><i>Périmètre partiel : seuls les membres connus sont dessinés.</i></div>")
    if territory is not None and territory.get("note"):
        lines.append(f"<div><small>{esc(str(territory['note']))}</small></div>")
    return "".join(lines) + "</div>"


def render(prog, view: pd.DataFrame, territory_id: str, date: str, pillar: str | None) -> None:
    """Draw the detail of one territory of the view at ``date``."""
    rows = view[view["id"] == territory_id]
    if rows.empty:
        st.info("Ce territoire n'est pas dans la vue actuelle (date ou filtres).")
        return
    row = rows.iloc[0]
    st.html(header_html(row, territory_record(prog, territory_id, date)))

    keys = [k for k in ("status", "funding_eur", "funding_per_inhabitant", "projects", "projects_committed") if k in row.index]
    if keys:
        st.markdown("\n".join(f"- {INDICATORS[k]['label']} : **{format_value(row[k], k)}**" for k in keys))
    if pillar:
        text.caption(f"Projets et montants du pilier « {PILLARS[pillar]} » seulement.")

    st.markdown("**EPCI membres**")
    try:
        members = territory_members(prog, territory_id, date)
    except KeyError:
        text.caption("Ce territoire n'a plus de membres à cette date (retiré du périmètre).")
        return
    st.dataframe(
        pd.DataFrame({
            "SIREN": members["siren"],
            "EPCI": members["name"],
            "Communes": members["n_communes"],
            "Population": members["population"].map(format_number),
            "Base": members["basis"].map(lambda b: BASES.get(b, b)),
        }),
        hide_index=True,
        width="stretch",
    )

    st.markdown("**Historique du statut**")
    events = prog.status_events[
        (prog.status_events["territory_id"] == territory_id) & (prog.status_events["date"] <= date)
    ].sort_values("date")
    if events.empty:
        text.caption("Aucun événement : statut « Identifié » par défaut.")
    else:
        st.dataframe(
            pd.DataFrame({
                "Date": events["date"].map(format_date),
                "Statut": events["status"].map(lambda s: STATUSES.get(s, s)),
                "Fragile": events["fragile"].map({True: "oui", False: "non"}),
                "Provenance": events["provenance"].map(lambda p: PROVENANCES.get(p, p)),
                "Source": events["source"].map(lambda t: " ; ".join(i["title"] for i in source_items(t))),
            }),
            hide_index=True,
            width="stretch",
        )

    st.markdown("**Projets par pilier**")
    projects = projects_at(prog, date, pillar)
    projects = projects[projects["territory_id"] == territory_id]
    if projects.empty:
        text.caption("Aucun projet à cette date.")
        return
    amounts = ["amount_state_operators_eur", "amount_territoires_innovation_eur", "amount_region_eur", "amount_other_eur"]
    grouped = projects.groupby("pillar").agg(
        n=("id", "size"), committed=("state_commitment", "sum"), **{a: (a, "sum") for a in amounts}
    )
    st.dataframe(
        pd.DataFrame({
            "Pilier": [PILLARS.get(p, p) for p in grouped.index],
            "Projets": grouped["n"].to_numpy(),
            "Avec engagement de l'État": grouped["committed"].astype(int).to_numpy(),
            "État et opérateurs": grouped["amount_state_operators_eur"].map(format_euros).to_numpy(),
            "Territoires d'innovation": grouped["amount_territoires_innovation_eur"].map(format_euros).to_numpy(),
            "Région": grouped["amount_region_eur"].map(format_euros).to_numpy(),
            "Autres": grouped["amount_other_eur"].map(format_euros).to_numpy(),
        }),
        hide_index=True,
        width="stretch",
    )
    if (projects["provenance"] == "illustrative").any():
        text.caption("Projets marqués illustratifs dans les données : montants inventés, pas publiés.")
