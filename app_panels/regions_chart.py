"""« Régions comparées »: one bar per région for the current filters (Altair).

Bars are sorted by value, stacked by part (projects with / without a State
commitment) and by provenance (illustrative parts lighter and dashed, as on
the map), with the national value as a reference rule. Names from the data
reach the chart only as data values (Vega draws them as text).

A click on a région's bar sets the sidebar's région filter to that région
(:func:`apply_pick`, at the start of the next run, before the widgets exist).

The expander is lazy (``on_change="rerun"``): nothing is computed until a
visitor opens it. Then the chart's Vega-Lite specification is built once per
dataset, view, measure and outlined régions, and shared by every session:
Altair's schema validation costs about 100 ms a chart, too much to pay on
every rerun of every visitor.
"""

from __future__ import annotations

import copy

import pandas as pd
import streamlit as st

from app_panels.text import caption
from tdi_geo.mapping.fmt import format_date, format_number
from tdi_geo.programme import per_dataset, tracking_until
from tdi_geo.summaries import DOCUMENTED, ILLUSTRATIVE, REGION_MEASURES, national_reference, region_parts, tracked
from tdi_geo.view_model import view_model

EXPANDER_KEY = "regions_compare"
CHART_KEY = "regions_chart"
MEASURE_KEY = "w_region_measure"
_SELECTION = "region_pick"
_HANDLED = "_tdi_chart_handled"


def apply_pick(regions_key: str) -> None:
    """Make a newly clicked région the région filter; call before the sidebar state is read.

    The chart's selection (from the reader's last click) is read at the
    start of the run, so the map is drawn filtered in the same run. A
    selection already handled is not applied again (the reader may have
    changed the filter in the sidebar since).
    """
    ss = st.session_state
    event = ss.get(CHART_KEY)
    selection = event.get("selection") if isinstance(event, dict) else getattr(event, "selection", None)
    points = (selection or {}).get(_SELECTION) if isinstance(selection, dict) else getattr(selection, _SELECTION, None)
    codes = tuple(str(p.get("region")) for p in (points or []) if isinstance(p, dict) and p.get("region"))
    if codes == ss.get(_HANDLED):
        return
    ss[_HANDLED] = codes
    if codes:
        ss[regions_key] = list(codes[:1])


def _axis_format(measure: str) -> str:
    if measure == "engaged_share":
        return ".0%"
    if measure == "funding_per_inhabitant":
        return ",.2f"
    return ",.0f"


def _axis_title(info: dict) -> str:
    """« Nombre de territoires », « Financements (€) »: the unit only when the label does not already say it.

    >>> _axis_title({"label": "Nombre de territoires", "unit": "territoires"}), _axis_title({"label": "Financements", "unit": "€"})
    ('Nombre de territoires', 'Financements (€)')
    """
    unit = str(info.get("unit") or "")
    return info["label"] if not unit or unit.lower() in info["label"].lower() else f"{info['label']} ({unit})"


def chart(parts: pd.DataFrame, reference: dict, measure: str, chosen: list[str]):
    """The Altair chart (``alt.LayerChart``) of :func:`tdi_geo.summaries.region_parts` rows and a national reference."""
    import altair as alt  # only when a visitor opens « Régions comparées »

    info = REGION_MEASURES[measure]
    order = parts.drop_duplicates("region").sort_values("rank")["region_name"].tolist()
    colours = parts.drop_duplicates("part")[["part", "color"]]
    fmt = _axis_format(measure)
    pick = alt.selection_point(fields=["region"], name=_SELECTION, on="click")
    data = parts.assign(
        provenance_order=(parts["provenance"] == ILLUSTRATIVE).astype(int),
        chosen=parts["region"].isin(chosen),
    )
    bars = alt.Chart(data).mark_bar(strokeWidth=1.5).encode(
        y=alt.Y("region_name:N", sort=order, title=None, axis=alt.Axis(labelLimit=260)),
        x=alt.X("value:Q", stack="zero", title=_axis_title(info), axis=alt.Axis(format=fmt)),
        color=alt.Color("part:N", title="Part", scale=alt.Scale(domain=colours["part"].tolist(),
                                                               range=colours["color"].tolist())),
        opacity=alt.Opacity("provenance:N", title="Provenance",
                            scale=alt.Scale(domain=[DOCUMENTED, ILLUSTRATIVE], range=[1.0, 0.45])),
        strokeDash=alt.StrokeDash("provenance:N", title="Provenance",
                                  scale=alt.Scale(domain=[DOCUMENTED, ILLUSTRATIVE], range=[[1, 0], [4, 3]])),
        stroke=alt.condition(alt.datum.chosen, alt.value("#222222"), alt.value("#555555")),
        order=alt.Order("provenance_order:Q"),
        detail="region:N",  # the clicked bar's code travels in the selection
        tooltip=[
            alt.Tooltip("region_name:N", title="Région"),
            alt.Tooltip("part:N", title="Part"),
            alt.Tooltip("provenance:N", title="Provenance"),
            alt.Tooltip("value:Q", title="Valeur", format=fmt),
            alt.Tooltip("total:Q", title="Total de la région", format=fmt),
        ],
    ).add_params(pick)
    rule_data = pd.DataFrame([{"value": reference["value"], "label": reference["label"]}])
    rule = alt.Chart(rule_data).mark_rule(color="#D55E00", strokeWidth=2).encode(
        x="value:Q", tooltip=[alt.Tooltip("label:N", title="Référence"), alt.Tooltip("value:Q", title="Valeur", format=fmt)],
    )
    label = alt.Chart(rule_data).mark_text(align="left", dx=4, dy=-6, color="#8a3c00", baseline="bottom").encode(
        x="value:Q", y=alt.value(0), text="label:N",
    )
    return alt.layer(bars, rule, label).properties(height=max(120, 24 * len(order) + 30))


@per_dataset(store="views", shared=True)
def chart_spec(prog, view_key: tuple, measure: str, chosen: tuple) -> dict:
    """The chart of a view (no région filter) as a Vega-Lite dict, with its caption; shared read-only.

    Returns
    -------
    dict
        ``{"spec": dict or None (no territory), "caption": str}``.
    """
    view = view_model(prog, view_key).view
    parts = region_parts(view, measure)
    if parts.empty:
        if len(view) and not tracked(view):
            until = tracking_until(prog)
            return {"spec": None, "caption": (
                "Pas de donnée à cette date : les statuts et les projets par territoire ne sont connus que "
                f"jusqu'au {format_date(until)}. Seul le nombre de territoires peut être comparé."
                if until else "Pas de donnée : ce jeu ne contient ni statuts ni projets.")}
        return {"spec": None, "caption": "Aucun territoire ne correspond à ces filtres."}
    reference = national_reference(view, measure)
    if measure == "engaged_share":
        shown_value = f"{format_number(100 * reference['value'])} %"
    else:
        digits = 2 if measure == "funding_per_inhabitant" else 1
        shown_value = f"{format_number(reference['value'], digits)} {REGION_MEASURES[measure]['unit']}"
    note = (f"Toutes les régions, avec les autres filtres de la carte. Ligne orange : "
            f"{reference['label'].lower()} ({shown_value}). "
            "Parties claires en pointillé : territoires illustratifs. "
            "Cliquez sur une barre pour filtrer la carte sur cette région.")
    return {"spec": chart(parts, reference, measure, list(chosen)).to_dict(), "caption": note}


def render(prog, view_key: tuple, *, chosen_regions: list[str]) -> None:
    """Draw the expander: the measure picker and the chart (every région, the page's other filters).

    Parameters
    ----------
    prog : Programme
    view_key : tuple
        :func:`tdi_geo.view_model.state_key` of the page's state without
        région filter nor comparison.
    chosen_regions : list of str
        The page's région filter (outlined bars).
    """
    box = st.expander("Régions comparées", key=EXPANDER_KEY, on_change="rerun")
    if not box.open:
        return
    with box:
        measure = st.selectbox("Mesure comparée", list(REGION_MEASURES), key=MEASURE_KEY,
                               format_func=lambda k: REGION_MEASURES[k]["label"])
        drawn = chart_spec(prog, view_key, measure, tuple(sorted(chosen_regions)))
        if drawn["spec"] is None:
            st.info(drawn["caption"])
            return
        caption(drawn["caption"])  # 4.9:1, not st.caption's 3.9:1 grey
        # A copy: Streamlit adds its own keys (selection, theme) to the specification it is given.
        st.vega_lite_chart(copy.deepcopy(drawn["spec"]), key=CHART_KEY, on_select="rerun",
                           selection_mode=_SELECTION, width="stretch")
