"""The « Chronologie du périmètre »: panel data and the PNG a visitor downloads."""

from __future__ import annotations

import io

import geopandas as gpd
import pytest
import shapely
from PIL import Image

from tdi_geo.chronology import ADDED_COLOR, PRESENT_COLOR, chronology_panels, chronology_png, render_chronology
from tdi_geo.perimeters import perimeter_diff, territory_geometries
from tdi_geo.programme import load_programme, version_dates

LAST_ADDITIONS = {"Vendée-Est", "Lamballe Terre et Mer", "Saint-Brieuc Baie d'Armor"}
#: The panel of 24 Sept 2019 (the fourth version).
SEPT = 3


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


@pytest.fixture(scope="module")
def embedded():
    return load_programme()


@pytest.fixture(scope="module")
def drawn(embedded):
    return render_chronology(embedded)


def test_one_panel_per_version_with_counts(embedded):
    panels = chronology_panels(embedded)
    assert [p["date"] for p in panels] == version_dates(embedded)
    assert [p["territories"] for p in panels] == [124, 136, 141, 144, 146, 148, 149, 183, 183]
    assert panels[0]["caption"] == "124 territoires" and panels[0]["added"] == []
    assert panels[SEPT]["caption"] == "144 territoires, +3"
    # The sourced steps of 2018-2019: 12 added in March, 5 by summer, 3 on 24 Sept 2019.
    assert [len(p["added"]) for p in panels[1:4]] == [12, 5, 3]
    assert panels[-1]["caption"].startswith("183 territoires, +0")
    assert "\u2212" in panels[7]["caption"], "phase 2 drops some phase 1 territories"


def test_the_september_2019_panel_highlights_exactly_its_three_additions(embedded):
    panel = chronology_panels(embedded)[SEPT]
    assert {r["name"] for r in panel["added"]} == LAST_ADDITIONS
    dates = version_dates(embedded)
    assert {r["id"] for r in panel["added"]} == {r["id"] for r in perimeter_diff(embedded, dates[2], dates[3])["added"]}
    assert panel["drom_added"] == []


def test_drom_additions_are_named_under_their_panel(embedded):
    panels = chronology_panels(embedded)
    drom = [r for p in panels for r in p["drom_added"]]
    assert drom, "the embedded data adds overseas territories in 2019"
    for panel in panels:
        for r in panel["drom_added"]:
            assert r["name"][:40] in panel["caption"]
            assert r in panel["added"]


def test_removals_are_counted(small_programme):
    panels = chronology_panels(small_programme)
    assert len(panels) == 3
    assert panels[-1]["caption"] == "6 territoires, +2, \u22121"
    assert [r["id"] for r in panels[-1]["removed"]] == ["guingamp"]


def test_png_is_a_picture_with_a_panel_per_version(drawn):
    image = Image.open(io.BytesIO(drawn.png))
    assert image.format == "PNG"
    assert image.size == drawn.size
    assert len(drawn.transforms) == 9


@pytest.mark.parametrize("panel, colour", [(SEPT, ADDED_COLOR), (SEPT - 1, None)])
def test_added_territory_is_drawn_in_the_added_colour_only_on_its_panel(embedded, drawn, panel, colour):
    image = Image.open(io.BytesIO(drawn.png)).convert("RGB")
    shapes = territory_geometries(embedded, "2019-09-24", "coarse")
    # The centre of the widest circle inside an addition: the point farthest from any outline.
    added = shapes[shapes["name"].isin(LAST_ADDITIONS)].to_crs("EPSG:2154")
    circles = gpd.GeoSeries(shapely.maximum_inscribed_circle(added.geometry.values), crs="EPSG:2154")
    widest = circles.length.to_numpy().argmax()
    point = gpd.GeoSeries([circles.iloc[widest]], crs="EPSG:2154").to_crs("EPSG:4326").iloc[0].coords[0]
    point = shapely.Point(point)
    pixel = image.getpixel(drawn.pixel_at(panel, point.x, point.y))
    if colour:
        assert max(abs(a - b) for a, b in zip(pixel, _rgb(colour))) <= 12, pixel
    else:  # not yet a member on the summer 2019 panel: neither highlighted nor grey
        assert max(abs(a - b) for a, b in zip(pixel, _rgb(ADDED_COLOR))) > 40, pixel
        assert max(abs(a - b) for a, b in zip(pixel, _rgb(PRESENT_COLOR))) > 12, pixel


def test_chronology_png_bytes(small_programme):
    assert chronology_png(small_programme)[:8] == b"\x89PNG\r\n\x1a\n"
