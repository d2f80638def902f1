"""The page's « Tableau des territoires de la vue » and « Régions comparées » (Streamlit AppTest).

Selections are given as the browser sends them (the widget's state); what
the page does with them is what a reader sees: the territory selected, the
map filtered, the URL updated. Expectations come from the library.
"""

from __future__ import annotations

import html

import pytest

from app_panels.downloads import MENU_KEY
from app_panels.regions_chart import CHART_KEY, EXPANDER_KEY, MEASURE_KEY
from app_panels.table_view import EXPANDER_KEY as TABLE_EXPANDER_KEY
from app_panels.table_view import TABLE_KEY
from tdi_geo import export
from tdi_geo.indicators import build_view
from tdi_geo.programme import default_date
from tdi_geo.summaries import REGION_MEASURES, table_frame

#: The last date of the status and project data (later dates: « Pas de donnée »).
TRACKED = "2019-09-24"



def _table(at):
    if not (TABLE_EXPANDER_KEY in at.session_state and at.session_state[TABLE_EXPANDER_KEY]):
        at.session_state[TABLE_EXPANDER_KEY] = True  # the reader opens the table (lazy: no grid until then)
        at.run()
    tables = [d for d in at.dataframe if d.key == TABLE_KEY]
    assert len(tables) == 1
    return tables[0].value


def test_the_table_of_a_region_holds_the_territories_of_the_map_and_of_the_download(app, prog):
    at = app(date=TRACKED, region="53")
    assert not at.exception
    view = build_view(prog, TRACKED, regions=["53"])
    table = _table(at)
    assert len(table) > 5
    assert table["Identifiant"].tolist() == view["id"].tolist()
    geojson_ids = [f["properties"]["id"] for f in __import__("json").loads(export.geojson_bytes(view))["features"]]
    assert sorted(table["Identifiant"]) == sorted(geojson_ids)
    expected = table_frame(view)
    assert table["Financements (€)"].tolist() == expected["Financements (€)"].tolist()
    assert table["Statut"].tolist() == expected["Statut"].tolist()
    at.session_state[MENU_KEY] = True  # the « Télécharger ▾ » menu, opened
    labels = [b.label for b in at.run().get("download_button")]
    assert "Télécharger le tableau (CSV)" in labels and "Télécharger le tableau (Excel)" in labels


def test_the_table_follows_the_filters(app, prog):
    at = app(date=TRACKED, region="53", status="engaged")
    view = build_view(prog, TRACKED, regions=["53"], statuses=["engaged"])
    assert len(view) > 0
    assert _table(at)["Identifiant"].tolist() == view["id"].tolist()


def test_selecting_a_row_selects_the_territory_and_a_map_choice_is_not_undone(app):
    at = app(region="53")
    ids = _table(at)["Identifiant"].tolist()
    at.session_state[TABLE_KEY] = {"selection": {"rows": [5], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert at.selectbox(key="w_territory").value == ids[5]
    assert at.query_params["territory"] == [ids[5]] or at.query_params["territory"] == ids[5]
    # Another territory chosen elsewhere (the selectbox, like a map click) stays chosen.
    at.selectbox(key="w_territory").set_value(ids[2]).run()
    assert at.selectbox(key="w_territory").value == ids[2]


def test_the_table_is_drawn_only_once_opened(app, prog):
    at = app(region="53")
    assert [d for d in at.dataframe if d.key == TABLE_KEY] == [], "closed, the grid costs the page nothing"
    assert len(_table(at)) == len(build_view(prog, default_date(prog), regions=['53']))


def test_the_table_tells_keyboard_users_which_keys_select_a_row(app, prog):
    at = app(region="53")
    _table(at)
    captions = html.unescape(" ".join(h.value for h in at.html if 'class="tdi-caption"' in h.value))
    # The grid's real keys (Shift+Space selects; Enter does not), and the other keyboard path.
    assert "Maj+Espace pour la sélectionner" in captions and "Entrée ne sélectionne pas" in captions
    assert "La liste « Territoire »" in captions
    assert f"{len(build_view(prog, default_date(prog), regions=['53']))} territoires : ceux de la carte" in captions


def test_clicking_a_region_bar_filters_the_map(app, prog):
    at = app()
    assert at.multiselect(key="w_regions").value == []
    at.session_state[CHART_KEY] = {"selection": {"region_pick": [{"region": "84"}]}}
    at.run()
    assert not at.exception
    assert at.multiselect(key="w_regions").value == ["84"]
    view = build_view(prog, default_date(prog), regions=["84"])
    assert _table(at)["Identifiant"].tolist() == view["id"].tolist()
    # A filter changed in the sidebar afterwards is kept (the old click is not applied again).
    at.multiselect(key="w_regions").set_value(["53"]).run()
    assert at.multiselect(key="w_regions").value == ["53"]


@pytest.mark.parametrize("measure", list(REGION_MEASURES))
def test_every_measure_draws_a_chart(app, measure):
    at = app(date=TRACKED)
    assert not (at.get("vega_lite_chart") or at.get("arrow_vega_lite_chart")), "closed, the chart costs nothing"
    at.session_state[EXPANDER_KEY] = True  # the visitor opens « Régions comparées »
    at.run()
    at.selectbox(key=MEASURE_KEY).set_value(measure).run()
    assert not at.exception
    charts = at.get("vega_lite_chart") or at.get("arrow_vega_lite_chart")
    assert len(charts) == 1


def test_after_the_status_data_the_regions_chart_says_so_instead_of_drawing_zeros(app):
    at = app()  # 4 July 2024: no status nor project per territory
    at.session_state[EXPANDER_KEY] = True
    at.run()
    at.selectbox(key=MEASURE_KEY).set_value("projects").run()
    assert not at.exception
    assert not (at.get("vega_lite_chart") or at.get("arrow_vega_lite_chart"))
    assert any("Pas de donnée à cette date" in i.value and "24/09/2019" in i.value for i in at.info)
    at.selectbox(key=MEASURE_KEY).set_value("territories").run()
    assert len(at.get("vega_lite_chart") or at.get("arrow_vega_lite_chart")) == 1
