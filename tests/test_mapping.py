"""Specification of the map: classes, colours, legend, escaping, insets, offline assets.

Views are built from the small dataset of ``conftest.py`` (or by hand when a
case needs precise values), so each expectation follows from rows written in
the tests.
"""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pytest
import shapely

from tdi_geo import assets, mapping
from tdi_geo.indicators import INDICATORS, build_view
from tdi_geo.perimeters import diff_geometries
from tdi_geo.programme import STATUSES


def _view(values, indicator="funding_eur", provenance=None, names=None, regions=None):
    n = len(values)
    frame = gpd.GeoDataFrame(
        {
            "id": [f"t{i}" for i in range(n)],
            "name": names or [f"Territoire {i}" for i in range(n)],
            "region": regions or ["53"] * n,
            "provenance": provenance or ["documented"] * n,
            indicator: values,
        },
        geometry=[shapely.box(i * 0.1, 47, i * 0.1 + 0.05, 47.05) for i in range(n)],
        crs="EPSG:4326",
    )
    return frame


def _features(data: dict) -> dict[str, dict]:
    """The browser's per-territory records as dicts (see ``mapping.display_features``)."""
    keys = ["id", "style", "flags", "name", "region", "value", "status", "provenance", "parts"]
    out = {}
    for row in data["features"]:
        item = dict(zip(keys, row))
        item["style"] = data["styles"][item["style"]]
        item["region"] = data["regions"][item["region"]]
        item["provenance"] = data["provenances"][item["provenance"]]
        out[item["id"]] = item
    return out


# --- classification ------------------------------------------------------------------


def test_quantiles_put_each_value_in_one_of_k_ordered_classes():
    values = np.arange(100, dtype=float)
    classes, bins = mapping.classify(values, "quantiles", 5)
    assert len(bins) == 5
    assert set(classes) == {0, 1, 2, 3, 4}
    assert np.all(np.diff(classes) >= 0), "larger values never fall in a lower class"
    assert np.bincount(classes).tolist() == [20, 20, 20, 20, 20]


def test_fisher_jenks_separates_natural_groups():
    values = [1, 2, 3, 100, 101, 102, 1000, 1001]
    classes, _ = mapping.classify(values, "fisher_jenks", 3)
    assert classes.tolist() == [0, 0, 0, 1, 1, 1, 2, 2]


def test_missing_values_get_no_class_and_few_distinct_values_few_classes():
    classes, bins = mapping.classify([0, 0, np.nan, 5, None], "quantiles", 5)
    assert classes.tolist() == [0, 0, -1, 1, -1]
    assert bins.tolist() == [0, 5]


@pytest.mark.parametrize("scheme,k", [("jenks", 5), ("quantiles", 0), ("quantiles", 12)])
def test_bad_classification_arguments_are_refused(scheme, k):
    with pytest.raises(ValueError):
        mapping.classify([1, 2, 3], scheme, k)


# --- colours and legend -------------------------------------------------------------


def test_numeric_view_is_coloured_light_to_dark_with_an_explicit_no_data_colour():
    values = [0, 10, 20, 30, 40, 50, 60, 70, 80, np.nan]
    colored, legend = mapping.color_view(_view(values), "funding_eur", "quantiles", 5)
    palette = mapping.SEQUENTIAL[5]
    assert colored["fill"].iloc[0] == palette[0]
    assert colored["fill"].iloc[8] == palette[-1]
    assert colored["fill"].iloc[9] == mapping.NO_DATA_COLOR
    assert mapping.NO_DATA_COLOR not in palette
    assert [c for c, _ in legend["items"]] == palette
    assert legend["no_data"] == (mapping.NO_DATA_COLOR, "Pas de donnée")
    assert colored["value_text"].iloc[9] == "Pas de donnée"


def test_legend_labels_come_from_the_values_in_each_class_in_french():
    colored, legend = mapping.color_view(_view([1_000_000, 2_500_000, 108_000_000]), "funding_eur", "quantiles", 3)
    labels = [label for _, label in legend["items"]]
    assert labels == ["1,0 M€", "2,5 M€", "108 M€"]
    spec = mapping.legend_spec(legend)
    assert spec["title"] == "Financements mobilisés" and spec["items"][-1][1] == "Pas de donnée"


def test_status_view_uses_one_distinct_colour_per_status_and_french_labels(small_programme):
    view = build_view(small_programme, "2019-09-24")
    colored, legend = mapping.color_view(view, "status")
    by_status = colored.groupby("status")["fill"].unique()
    assert all(len(fills) == 1 for fills in by_status)
    assert len(set(mapping.STATUS_COLORS.values()) | {mapping.NO_DATA_COLOR}) == len(STATUSES) + 1
    assert {label for _, label in legend["items"]} <= set(STATUSES.values())
    assert colored.set_index("id").loc["nord-fc", "fill"] == mapping.STATUS_COLORS["contract_signed"]


def test_illustrative_territories_are_hatched_dashed_and_listed_in_legend_and_tooltip(small_programme):
    view = build_view(small_programme, "2019-09-24")
    colored, legend = mapping.color_view(view, "projects")
    assert legend["illustrative"] is True
    spec = mapping.legend_spec(legend)
    assert spec["provenance"] == [[None, "Documenté (source publique) : aplat"],
                                  ["hatch", f"{mapping.ILLUSTRATIVE_LABEL} : hachures"]]
    data = mapping.display_features(colored, INDICATORS["projects"]["label"])
    feats = _features(data)
    assert feats["auray"]["flags"] & mapping.FLAG_ILLUSTRATIVE
    assert not feats["nord-fc"]["flags"] & mapping.FLAG_ILLUSTRATIVE
    assert feats["auray"]["style"]["dashArray"] and not feats["nord-fc"]["style"]["dashArray"]
    assert feats["auray"]["style"]["pattern"] == "hatch" and feats["nord-fc"]["style"]["pattern"] is None
    # No tint: the colour drawn is the legend's, whatever the provenance.
    assert feats["auray"]["style"]["fillOpacity"] == feats["nord-fc"]["style"]["fillOpacity"] == 1
    assert "Illustratif" in data["texts"]["illustrative"]
    assert feats["nord-fc"]["provenance"] == "Documenté (source publique)"


def test_documented_only_view_has_no_illustrative_legend_entry(small_programme):
    view = build_view(small_programme, "2019-09-24", documented_only=True)
    _, legend = mapping.color_view(view, "status")
    assert legend["illustrative"] is False
    assert not mapping.legend_spec(legend)["illustrative"]
    assert mapping.legend_spec(legend)["provenance"] == [], "one plain level: nothing to tell apart"


def test_each_provenance_level_present_gets_its_own_pattern_and_legend_row(small_programme):
    view = build_view(small_programme, "2019-09-24")
    view["provenance"] = ["inferred" if i == "lamballe" else p for i, p in zip(view["id"], view["provenance"])]
    colored, legend = mapping.color_view(view, "status")
    spec = mapping.legend_spec(legend)
    assert [pattern for pattern, _ in spec["provenance"]] == [None, "dots", "hatch"], "most certain first"
    feats = _features(mapping.display_features(colored, "Statut"))
    assert feats["lamballe"]["style"]["pattern"] == "dots" and feats["auray"]["style"]["pattern"] == "hatch"


def test_diff_colours_added_removed_changed_unchanged_distinctly(small_programme):
    diff = diff_geometries(small_programme, "2019-07-25", "2019-09-24")
    colored, legend = mapping.color_diff(diff, "2019-07-25", "2019-09-24")
    fills = colored.set_index("id")["fill"]
    assert fills["lamballe"] == fills["st-brieuc"] == mapping.DIFF_STYLES["added"][0]
    assert fills["guingamp"] == mapping.DIFF_STYLES["removed"][0]
    assert fills["nord-fc"] == mapping.DIFF_STYLES["unchanged"][0]
    assert len({color for color, _ in mapping.DIFF_STYLES.values()}) == 4
    labels = dict((c, label) for c, label in legend["items"])
    assert labels[mapping.DIFF_STYLES["added"][0]] == "Ajouté (2)"
    assert labels[mapping.DIFF_STYLES["removed"][0]] == "Retiré (1)"
    assert "25/07/2019 → 24/09/2019" in legend["title"]
    drawn = {c for c, _ in mapping.legend_spec(legend)["items"]}
    assert set(colored["fill"]) <= drawn, "every colour of the map is in its legend"
    assert mapping.NO_DATA_COLOR not in drawn, "no « Pas de donnée » grey to mistake for « Inchangé »"
    weights = {i: f["style"]["weight"] for i, f in _features(mapping.display_features(colored, "Évolution")).items()}
    assert weights["lamballe"] > weights["nord-fc"], "changes stand out at national zoom"


def test_range_labels_show_the_unit_once():
    _, legend = mapping.color_view(_view([0.5, 1.25, 3.0, 4.0], "funding_per_inhabitant"),
                                   "funding_per_inhabitant", "quantiles", 2)
    assert [label for _, label in legend["items"]] == ["0,50 – 1,25 €/hab.", "3,00 – 4,00 €/hab."]


# --- data stays data -----------------------------------------------------------------------


def test_names_travel_as_plain_text_in_json_never_as_markup_or_template(small_programme):
    """The map is JSON data drawn by fixed code: a name is sent exactly as written."""
    view = build_view(small_programme, "2019-09-24")
    colored, legend = mapping.color_view(view, "status")
    layer = mapping.layer_spec(colored, legend, "Statut")
    name = _features(layer)["auray"]["name"]
    assert name == '<b>Auray & "Quiberon"</b>', "no escaping to undo, nothing rendered"
    assert json.loads(json.dumps(layer)) == layer, "plain JSON: nothing to compile"
    page = mapping.standalone_html(mapping.base_spec(), layer, leaflet_js="l.js", leaflet_css="l.css", title="<t>")
    assert "<b>Auray" not in page and "\\u003cb\\u003eAuray" in page


def test_the_map_code_never_parses_data_as_html_or_code():
    js = mapping.map_js()
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "eval(", "new Function", "document.write"):
        assert sink not in js, sink
    assert "textContent" in js


# --- geometry for the browser ---------------------------------------------------------------


def test_encoded_paths_decode_to_the_rounded_coordinates():
    poly = shapely.Polygon([(2.123456, 48.1), (2.5, 48.123449), (2.3, 48.6)], holes=[[(2.3, 48.2), (2.35, 48.2), (2.32, 48.25)]])
    multi = shapely.MultiPolygon([poly, shapely.box(-61.5, 16.0, -61.2, 16.3)])
    line = shapely.LineString([(0, 0), (-1.23456, 45.6789)])
    encoded = mapping.encode_paths([multi, line, shapely.Polygon()], 4)
    assert len(encoded[0]) == 2 and len(encoded[0][0]) == 2, "two polygons, the first with a hole"
    assert encoded[2] == []
    exterior = mapping.decode_path(encoded[0][0][0], 4)
    assert np.allclose(exterior, np.round(np.array(poly.exterior.coords)[:-1], 4))
    assert np.allclose(mapping.decode_path(encoded[1][0][0], 4), [(0, 0), (-1.2346, 45.6789)])
    assert re.fullmatch(r"[A-Za-z0-9_-]+", "".join(encoded[0][0])), "only URL-safe characters"


def test_overseas_shapes_move_into_their_inset_box_and_metropole_stays():
    frame = gpd.GeoDataFrame(
        {"region": ["03", "53"]},
        geometry=[shapely.box(-54.0, 4.0, -53.0, 5.0), shapely.box(-3.0, 48.0, -2.0, 48.5)],
        crs="EPSG:4326",
    )
    shown = mapping.to_display_coordinates(frame)
    box = shapely.box(*mapping.DROM_INSETS["03"]["box"])
    assert box.contains(shown.geometry.iloc[0])
    assert shown.geometry.iloc[1].equals(frame.geometry.iloc[1])
    assert frame.geometry.iloc[0].bounds == (-54.0, 4.0, -53.0, 5.0), "the input is not modified"


def test_a_click_finds_the_territory_drawn_there_including_in_an_inset(small_programme):
    view = mapping.to_display_coordinates(build_view(small_programme, "2019-09-24"))
    guyane = view.set_index("id").loc["ouest-guyane", "geometry"]
    inside = guyane.representative_point()
    assert mapping.territory_at(view, inside.y, inside.x) == "ouest-guyane"
    assert mapping.territory_at(view, 40.0, -30.0) is None


# --- offline --------------------------------------------------------------------------------


def test_the_map_declares_no_remote_asset_only_the_installed_leaflet(small_programme):
    view = build_view(small_programme, "2019-09-24")
    colored, legend = mapping.color_view(view, "status")
    layer = mapping.layer_spec(colored, legend, "Statut", selected="nord-fc")
    page = mapping.standalone_html(mapping.base_spec(), layer, leaflet_js="../leaflet-here/leaflet.js",
                                   leaflet_css="../leaflet-here/leaflet.css", title="Carte")
    urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", page)
    assert urls == ["../leaflet-here/leaflet.css", "../leaflet-here/leaflet.js"]
    for text in (page, mapping.map_css()):
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//|@import""", text)
    assert (assets.leaflet_dir() / "leaflet.js").is_file()
    assert assets.leaflet_version().startswith("1.9")


def test_tiles_are_off_by_default_and_opt_in():
    assert mapping.base_spec()["tiles"] is False
    assert mapping.base_spec(tiles=True)["tiles"] is True
    assert "tile.openstreetmap.org" in mapping.map_js(), "the only network resource, used only when asked"


def test_the_base_map_does_not_change_with_the_view(small_programme):
    """A filter change must not remount the map: only the layer changes."""
    assert mapping.base_spec() == mapping.base_spec()
    assert "features" not in mapping.base_spec()


def test_an_empty_view_gives_a_layer_with_its_legend_and_no_territory(small_programme):
    view = build_view(small_programme, "2019-09-24", regions=["06"])
    assert view.empty
    for indicator in INDICATORS:
        colored, legend = mapping.color_view(view, indicator)
        layer = mapping.layer_spec(colored, legend, INDICATORS[indicator]["label"], selected="nord-fc")
        assert layer["features"] == [] and layer["selected"] is None
        assert layer["legend"]["items"][-1][1] == "Pas de donnée"
