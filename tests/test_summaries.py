"""The table of a view and the per-région summaries (library, no Streamlit).

Expected numbers are recomputed from the rows of :func:`build_view`, never typed in.
"""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import pytest

from tdi_geo.indicators import build_view, diff_view
from tdi_geo.programme import ENGAGED_STATUSES, PROVENANCES, default_date, load_programme, version_dates
from tdi_geo.summaries import (
    REGION_MEASURES,
    TABLE_COLUMNS,
    check_measure,
    national_reference,
    region_parts,
    table_csv_bytes,
    table_frame,
    table_xlsx_bytes,
)


@pytest.fixture(scope="module")
def prog():
    return load_programme()


#: The last date of the status and project data (the press release of 24 Sept 2019).
TRACKED = "2019-09-24"


@pytest.fixture(scope="module")
def view(prog):
    return build_view(prog, TRACKED)


def test_the_table_has_one_row_per_territory_of_the_view_in_its_order(prog):
    view = build_view(prog, TRACKED, regions=["53"])
    table = table_frame(view)
    assert table["Identifiant"].tolist() == view["id"].tolist()
    assert len(table) > 5
    assert table["Territoire"].tolist() == view["name"].tolist()
    assert table["Projets avec engagement de l'État"].tolist() == view["projects_committed"].tolist()
    assert table["Région"].unique().tolist() == ["Bretagne"]
    assert list(table.columns) == [TABLE_COLUMNS[c] for c in TABLE_COLUMNS if c != "change_label"]


def test_the_table_of_a_comparison_names_each_change(prog):
    dates = version_dates(prog)
    frame = diff_view(prog, "2019-07-25", TRACKED)
    table = table_frame(frame)
    assert len(table) == len(frame)
    added = table.loc[frame["change"].eq("added").to_numpy(), "Évolution"]
    assert len(added) == 3 and set(added) == {"Ajouté"}
    assert set(table["Provenance"]) == {PROVENANCES["documented"], PROVENANCES["inferred"]}
    early = table_frame(diff_view(prog, dates[1], dates[0]))
    assert PROVENANCES["illustrative"] in set(early["Provenance"])


def test_without_status_data_the_regions_chart_has_only_the_count_of_territories(prog):
    latest = build_view(prog, default_date(prog))
    assert latest["status"].isna().all() and latest["projects"].isna().all()
    assert len(region_parts(latest, "territories")) > 0
    for measure in ("engaged_share", "projects", "funding_eur", "funding_per_inhabitant"):
        assert region_parts(latest, measure).empty, measure


def test_table_downloads_hold_the_rows_and_neutralise_formulas():
    view = pd.DataFrame({"id": ["a", "b"], "name": ["=HYPERLINK(\"x\")", "Vallée"], "region_name": ["R", "R"],
                         "projects": [3, 4], "population": [10, 20]})
    table = table_frame(view)
    csv = pd.read_csv(io.BytesIO(table_csv_bytes(table)), encoding="utf-8-sig")
    assert csv["Territoire"].tolist() == ["'=HYPERLINK(\"x\")", "Vallée"]
    assert csv["Projets"].tolist() == [3, 4]
    sheet = openpyxl.load_workbook(io.BytesIO(table_xlsx_bytes(table))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == tuple(table.columns)
    assert rows[1][0] == "'=HYPERLINK(\"x\")" and rows[2][1:] == ("R", 4, 20, "b")


@pytest.mark.parametrize("measure", list(REGION_MEASURES))
def test_each_region_bar_adds_up_to_the_sums_over_its_territories(view, measure):
    parts = region_parts(view, measure)
    frame = pd.DataFrame(view)
    for code, rows in frame.groupby("region"):
        n, engaged = len(rows), rows["status"].isin(ENGAGED_STATUSES).sum()
        expected = {
            "territories": n,
            "engaged_share": engaged / n,
            "projects": rows["projects"].sum(),
            "funding_eur": rows["funding_eur"].sum(),
            "funding_per_inhabitant": rows["funding_eur"].sum() / rows["population"].sum(),
        }[measure]
        got = parts.loc[parts["region"] == code, "value"].sum()
        assert got == pytest.approx(expected), code
        illustrative = parts[(parts["region"] == code) & (parts["provenance"] == "Illustratif")]
        if measure == "territories":
            assert illustrative["value"].sum() == rows["illustrative"].sum()
    assert set(parts["region"]) == set(frame["region"])


def test_projects_are_split_into_committed_and_not(view):
    parts = region_parts(view, "projects")
    frame = pd.DataFrame(view)
    committed = parts[parts["part"] == "Avec engagement de l'État"].groupby("region")["value"].sum()
    assert committed.to_dict() == pytest.approx(frame.groupby("region")["projects_committed"].sum().to_dict())


def test_regions_are_ranked_by_decreasing_value(view):
    parts = region_parts(view, "funding_eur").drop_duplicates("region").sort_values("rank")
    assert parts["total"].is_monotonic_decreasing
    assert parts["rank"].tolist() == list(range(len(parts)))


def test_national_reference_values(view):
    frame = pd.DataFrame(view)
    share = national_reference(view, "engaged_share")
    assert share["value"] == pytest.approx(frame["status"].isin(ENGAGED_STATUSES).mean())
    per_head = national_reference(view, "funding_per_inhabitant")
    assert per_head["value"] == pytest.approx(frame["funding_eur"].sum() / frame["population"].sum())
    mean = national_reference(view, "projects")
    assert mean["value"] == pytest.approx(frame["projects"].sum() / frame["region"].nunique())
    assert mean["label"] == "Moyenne nationale par région"


def test_an_empty_view_gives_no_bar_and_an_unknown_measure_is_refused(prog):
    empty = build_view(prog, default_date(prog), statuses=["identified"], regions=["53"], fragile_only=True)
    empty = empty.iloc[0:0]
    assert region_parts(empty, "projects").empty
    assert national_reference(empty, "engaged_share")["value"] == 0.0
    with pytest.raises(ValueError, match="Mesure inconnue"):
        check_measure("habitants")
