"""Specification of the programme model: versions, perimeters, diffs, KPIs, views.

These tests build a small dataset of their own (real EPCI codes from the
reference, made-up programme facts) so that each expectation follows from the
rows written here, not from the embedded data.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import shapely

from tdi_geo import reference
from tdi_geo.indicators import build_view, national_kpis, territory_indicators
from tdi_geo.perimeters import diff_geometries, perimeter_diff, territory_geometries, territory_members
from tdi_geo.programme import load_programme, members_at, status_at, versions_table

LAMBALLE = "200069391"
SAINT_BRIEUC = "200069409"
GUINGAMP = "200067981"
MONTBELIARD = "200065647"
BELFORT = "200069052"
OUEST_GUYANAIS = "249730037"


def _write(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


@pytest.fixture()
def dataset(tmp_path: Path) -> Path:
    d = tmp_path / "ds"
    d.mkdir()
    _write(d / "territories.csv", ["id", "name", "region", "provenance", "partial", "source", "note"], [
        ["nord-fc", "Nord Franche-Comté", "27", "documented", "false", "https://example.org/nfc", ""],
        ["lamballe", "Lamballe Terre et Mer", "53", "documented", "false", "https://example.org/l", ""],
        ["st-brieuc", "Saint-Brieuc Baie d'Armor", "53", "documented", "false", "https://example.org/sb", ""],
        ["guyane-1", "Territoire illustratif — Guyane n°1", "03", "illustrative", "false", "", ""],
        ["guingamp-part", "Guingamp partiel", "53", "illustrative", "true", "", ""],
    ])
    guingamp_communes = (
        reference.load_communes().query("epci_siren == @GUINGAMP")["insee_com"].sort_values().tolist()[:3]
    )
    member_rows = [
        ["nord-fc", MONTBELIARD, "", "2018-11-22", "", "source", "https://example.org/nfc", ""],
        ["nord-fc", BELFORT, "", "2019-03-05", "", "source", "https://example.org/nfc", ""],
        ["lamballe", LAMBALLE, "", "2019-09-24", "", "source", "https://example.org/l", ""],
        ["st-brieuc", SAINT_BRIEUC, "", "2019-09-24", "", "inference", "", "EPCI = territoire en Bretagne"],
        ["guyane-1", OUEST_GUYANAIS, "", "2018-11-22", "2019-09-24", "illustrative", "", ""],
    ] + [["guingamp-part", "", code, "2019-03-05", "", "illustrative", "", ""] for code in guingamp_communes]
    _write(d / "memberships.csv",
           ["territory_id", "epci_siren", "insee_com", "valid_from", "valid_to", "basis", "source", "note"],
           member_rows)
    _write(d / "versions.csv", ["date", "label", "expected_territories", "source"], [
        ["2018-11-22", "Lancement", "2", "s1"],
        ["2019-03-05", "Mars", "3", "s2"],
        ["2019-09-24", "Septembre", "4", "s3"],
    ])
    _write(d / "status_events.csv", ["territory_id", "date", "status", "fragile", "provenance", "source"], [
        ["nord-fc", "2018-11-22", "identified", "false", "illustrative", ""],
        ["nord-fc", "2019-03-19", "contract_signed", "false", "documented", "https://example.org/nfc"],
        ["lamballe", "2019-09-24", "engaged", "true", "illustrative", ""],
        ["guingamp-part", "2019-06-01", "engaged", "false", "illustrative", ""],
    ])
    header = ["id", "territory_id", "pillar", "date", "state_commitment", "amount_state_operators_eur",
              "amount_territoires_innovation_eur", "amount_region_eur", "amount_other_eur", "provenance", "source"]
    _write(d / "projects.csv", header, [
        ["p1", "nord-fc", "innover", "2019-04-01", "true", "1000000", "0", "200000", "", "illustrative", ""],
        ["p2", "nord-fc", "recruter", "2019-05-01", "false", "", "500000", "", "", "illustrative", ""],
        ["p3", "lamballe", "innover", "2019-09-24", "true", "300000", "", "", "", "illustrative", ""],
        ["p4", "nord-fc", "attirer", "2019-12-01", "true", "9999999", "", "", "", "illustrative", ""],
    ])
    _write(d / "national_figures.csv", ["date", "indicator", "value", "unit", "source"], [])
    return d


def test_version_contains_exactly_the_memberships_valid_at_its_date(dataset):
    prog = load_programme(dataset)
    members = members_at(prog, "2019-03-05")
    assert set(members["territory_id"]) == {"nord-fc", "guyane-1", "guingamp-part"}
    assert set(members.loc[members["territory_id"] == "nord-fc", "epci_siren"]) == {MONTBELIARD, BELFORT}
    # valid_to is exclusive: the Guyane territory is gone on 24 Sept.
    assert "guyane-1" not in set(members_at(prog, "2019-09-24")["territory_id"])


def test_versions_table_counts_documented_and_illustrative(dataset):
    rows = {r["date"]: r for r in versions_table(load_programme(dataset))}
    assert rows["2018-11-22"]["territories"] == 2
    assert (rows["2019-09-24"]["documented"], rows["2019-09-24"]["illustrative"]) == (3, 1)


def test_diff_lists_added_removed_and_changed_territories(dataset):
    prog = load_programme(dataset)
    diff = perimeter_diff(prog, "2019-03-05", "2019-09-24")
    assert [r["name"] for r in diff["added"]] == ["Lamballe Terre et Mer", "Saint-Brieuc Baie d'Armor"]
    assert [r["id"] for r in diff["removed"]] == ["guyane-1"]
    assert diff["changed"] == []
    assert [r["id"] for r in perimeter_diff(prog, "2018-11-22", "2019-03-05")["changed"]] == ["nord-fc"]


def test_diff_geometries_colour_every_territory_by_its_change(dataset):
    gdf = diff_geometries(load_programme(dataset), "2019-03-05", "2019-09-24", resolution="coarse")
    change = dict(zip(gdf["id"], gdf["change"]))
    assert change == {"lamballe": "added", "st-brieuc": "added", "guyane-1": "removed",
                      "nord-fc": "unchanged", "guingamp-part": "unchanged"}


def test_territory_shape_is_the_union_of_its_epcis(dataset):
    prog = load_programme(dataset)
    gdf = territory_geometries(prog, "2019-09-24", resolution="fine").set_index("id")
    epci = reference.load_epci("fine").set_index("siren")
    expected = shapely.union_all(epci.loc[[MONTBELIARD, BELFORT], "geometry"].values)
    shape = gdf.loc["nord-fc", "geometry"]
    assert shape.is_valid
    assert shapely.symmetric_difference(shape, expected).area < 1e-9 * max(expected.area, 1)
    assert gdf.loc["nord-fc", "population"] == epci.loc[[MONTBELIARD, BELFORT], "population"].sum()
    assert gdf.loc["nord-fc", "n_epci"] == 2


def test_partial_epci_territory_is_drawn_from_its_communes_only(dataset):
    prog = load_programme(dataset)
    gdf = territory_geometries(prog, "2019-09-24", resolution="fine").set_index("id")
    guingamp = reference.load_epci("fine").set_index("siren").loc[GUINGAMP, "geometry"]
    part = gdf.loc["guingamp-part", "geometry"]
    assert 0 < part.area < 0.5 * guingamp.area
    members = territory_members(prog, "guingamp-part", "2019-09-24")
    assert members["whole"].tolist() == [False]
    assert members["n_communes"].tolist() == [3]


def test_status_is_the_latest_event_and_defaults_to_identified(dataset):
    prog = load_programme(dataset)
    before = status_at(prog, "2019-03-18").set_index("territory_id")
    after = status_at(prog, "2019-09-24").set_index("territory_id")
    assert before.loc["nord-fc", "status"] == "identified"
    assert after.loc["nord-fc", "status"] == "contract_signed"
    assert after.loc["st-brieuc", "status"] == "identified"  # no event at all
    assert bool(after.loc["lamballe", "fragile"]) is True


def test_kpis_count_statuses_projects_and_money_at_the_date(dataset):
    kpis = national_kpis(load_programme(dataset), "2019-09-24")
    # 4 territories: nord-fc signed; lamballe and guingamp-part engaged; st-brieuc identified.
    assert kpis["territories"] == 4
    assert kpis["signed"] == 1
    assert kpis["engaged_share"] == 0.75
    assert kpis["finalising_share"] == 0.5
    assert kpis["fragile"] == 1
    # p4 is dated after the 24th and must not count.
    assert kpis["projects"] == 3
    assert kpis["projects_committed"] == 2
    assert kpis["state_operators_eur"] == 1_300_000
    assert kpis["territoires_innovation_eur"] == 500_000


def test_pillar_filter_keeps_matching_territories_and_counts_only_that_pillar(dataset):
    prog = load_programme(dataset)
    view = build_view(prog, "2019-09-24", pillar="recruter", resolution="coarse")
    assert view["id"].tolist() == ["nord-fc"]
    assert view["projects"].tolist() == [1]
    assert view["funding_eur"].tolist() == [500_000]
    all_pillars = territory_indicators(prog, "2019-09-24").set_index("id")
    assert all_pillars.loc["nord-fc", "funding_eur"] == 1_700_000


def test_region_status_fragile_and_provenance_filters(dataset):
    prog = load_programme(dataset)
    assert set(build_view(prog, "2019-09-24", regions=["53"], resolution="coarse")["id"]) == {
        "lamballe", "st-brieuc", "guingamp-part"}
    assert build_view(prog, "2019-09-24", statuses=["contract_signed"], resolution="coarse")["id"].tolist() == ["nord-fc"]
    assert build_view(prog, "2019-09-24", fragile_only=True, resolution="coarse")["id"].tolist() == ["lamballe"]
    documented = build_view(prog, "2019-09-24", documented_only=True, resolution="coarse")
    assert not documented["illustrative"].any()
    view = build_view(prog, "2019-09-24", regions=["53"], indicator="projects", resolution="coarse")
    assert view.attrs["tdi_view"]["regions"] == ["53"]
    assert view.attrs["tdi_view"]["indicator"] == "projects"


def test_funding_per_inhabitant_uses_reference_population(dataset):
    prog = load_programme(dataset)
    values = territory_indicators(prog, "2019-09-24").set_index("id")
    population = values.loc["lamballe", "population"]
    assert population == reference.load_epci("coarse").set_index("siren").loc[LAMBALLE, "population"]
    assert values.loc["lamballe", "funding_per_inhabitant"] == pytest.approx(300_000 / population, abs=0.01)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"regions": ["99"]}, "région inconnu"),
        ({"pillar": "innovation"}, "Pilier inconnu"),
        ({"indicator": "budget"}, "Indicateur inconnu"),
        ({"statuses": ["signed"]}, "Statut inconnu"),
    ],
)
def test_bad_filters_are_refused_with_a_french_message(dataset, kwargs, words):
    with pytest.raises(ValueError, match=words):
        build_view(load_programme(dataset), "2019-09-24", resolution="coarse", **kwargs)


def test_bad_date_is_refused_with_the_expected_format(dataset):
    with pytest.raises(ValueError, match="AAAA-MM-JJ"):
        members_at(load_programme(dataset), "24/09/2019")
