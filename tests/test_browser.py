"""The real page in headless Chromium, with every non-localhost request blocked.

The app is started with ``streamlit run`` on a free port (embedded data). The
expectations (which territories are drawn) come from the library's view for
the same filters. In CI (``CI=true``) these tests fail, never skip, when
chromium is missing (see ``conftest.chromium``).
"""

from __future__ import annotations

import json
import re
import time

import pytest

from tdi_geo import mapping
from tdi_geo.indicators import INDICATORS, build_view
from tdi_geo.programme import default_date

pytestmark = pytest.mark.browser

#: The map's container: the map is drawn in the page itself (components v2, no iframe).
MAP = ".tdi-map"
TIMEOUT_MS = 90_000


def _map_frame(page):
    """The frame that runs the map (the page's own) once territories are drawn."""
    page.locator(f"{MAP} path.tdi-territory").first.wait_for(timeout=TIMEOUT_MS)
    return page.main_frame


def _drawn_ids(page) -> set[str]:
    frame = _map_frame(page)
    return set(frame.evaluate(
        "Array.from(document.querySelectorAll('path.tdi-territory')).map(p => p.getAttribute('data-tdi-id'))"
    ))


def _wait_for_ids(page, expected: set[str]) -> set[str]:
    deadline = time.time() + TIMEOUT_MS / 1000
    drawn: set[str] = set()
    while time.time() < deadline:
        drawn = _drawn_ids(page)
        if drawn == expected:
            break
        page.wait_for_timeout(200)
    return drawn


def test_default_page_draws_every_territory_with_a_legend_and_no_network(page, app_url, prog, tmp_path):
    page.goto(app_url)
    view = build_view(prog, default_date(prog))
    assert _wait_for_ids(page, set(view["id"])) == set(view["id"])
    frame = page.locator(MAP)
    legend = frame.locator(".tdi-legend")
    legend.wait_for(timeout=TIMEOUT_MS)
    text = legend.inner_text()
    # The latest version (4 July 2024): coloured by year of entry, every territory documented.
    assert INDICATORS["since"]["label"] in text and "Illustratif" not in text and "Inféré" not in text
    assert frame.locator("img.leaflet-tile").count() == 0, "no tiles by default"
    page.screenshot(path=str(tmp_path / "carte.png"))
    assert page.blocked == [], f"requests outside localhost: {page.blocked[:5]}"


def test_launch_map_draws_inferred_and_illustrative_territories_distinctly(page, app_url, prog):
    page.goto(app_url + "?date=2018-11-22")
    view = build_view(prog, "2018-11-22")
    assert _wait_for_ids(page, set(view["id"])) == set(view["id"])
    text = page.locator(MAP).locator(".tdi-legend").inner_text()
    assert "Statut d'engagement" in text and "Illustratif" in text and "Inféré" in text
    for level, css in (("illustrative", "tdi-illustrative"), ("inferred", "tdi-inferred")):
        drawn = set(_map_frame(page).evaluate(
            f"Array.from(document.querySelectorAll('path.{css}')).map(p => p.getAttribute('data-tdi-id'))"))
        assert drawn == set(view.loc[view["provenance"] == level, "id"]), level
    dashes = _map_frame(page).evaluate(
        "Array.from(document.querySelectorAll('path.tdi-illustrative')).map(p => p.getAttribute('stroke-dasharray'))"
    )
    assert all(dashes), "illustrative territories have a dashed outline"


def test_region_in_the_url_draws_only_that_region(page, app_url, prog):
    page.goto(app_url + "?date=2019-09-24&region=53")
    expected = set(build_view(prog, "2019-09-24", regions=["53"])["id"])
    assert _wait_for_ids(page, expected) == expected
    assert page.blocked == []
    # The shapes are not Tab stops (Leaflet makes them so): the keyboard reaches the
    # table, the map's text alternative, without walking through every territory.
    tab_stops = "document.querySelectorAll('.tdi-map path.tdi-territory:not([tabindex=\"-1\"])').length"
    assert page.evaluate(tab_stops) == 0


def test_choosing_a_region_in_the_sidebar_redraws_the_map_without_reloading_it(page, app_url, prog):
    page.goto(app_url)
    everything = set(build_view(prog, default_date(prog))["id"])
    assert _wait_for_ids(page, everything) == everything
    # Mark the Leaflet map: a redraw must update it, not recreate it (no flicker).
    _map_frame(page).evaluate("window.map.__tdiSameMap = true")
    box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').first
    box.locator("input").first.click()
    box.locator("input").first.fill("Bretagne")
    page.wait_for_timeout(300)
    box.locator("input").first.press("Enter")
    expected = set(build_view(prog, default_date(prog), regions=["53"])["id"])
    assert _wait_for_ids(page, expected) == expected
    page.wait_for_url(re.compile(r"region=53"), timeout=TIMEOUT_MS)
    assert _map_frame(page).evaluate("window.map.__tdiSameMap === true"), "the map was remounted"


def test_geojson_download_is_exactly_the_view(page, app_url, prog, tmp_path):
    page.goto(app_url + "?date=2019-09-24&region=53&indicator=funding_eur")
    expected = build_view(prog, "2019-09-24", regions=["53"], indicator="funding_eur")
    assert _wait_for_ids(page, set(expected["id"])) == set(expected["id"])
    page.get_by_role("button", name="Télécharger ▾").click()  # the downloads' menu
    with page.expect_download(timeout=TIMEOUT_MS) as info:
        page.get_by_role("button", name="Télécharger GeoJSON").click()
    path = tmp_path / "vue.geojson"
    info.value.save_as(path)
    collection = json.loads(path.read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    assert {f["id"] for f in collection["features"]} == set(expected["id"])
    assert collection["tdi_view"]["regions"] == ["53"]
    assert collection["tdi_view"]["indicator"] == "funding_eur"
    funding = {f["id"]: f["properties"]["funding_eur"] for f in collection["features"]}
    assert funding == dict(zip(expected["id"], expected["funding_eur"].astype(int)))


def test_clicking_a_territory_opens_its_detail(page, app_url, prog):
    page.goto(app_url + "?date=2019-09-24&region=53")
    view = build_view(prog, "2019-09-24", regions=["53"])
    frame = _map_frame(page)
    target = view.iloc[0]
    point = mapping.to_display_coordinates(view.iloc[[0]]).geometry.iloc[0].representative_point()
    page.wait_for_function("document.querySelectorAll('path.tdi-territory').length === %d" % len(view),
                           timeout=TIMEOUT_MS)  # the région's layer, drawn once
    page.wait_for_timeout(500)  # let the zoom to the région settle
    x, y = frame.evaluate(
        "([lat, lng]) => { const p = window.map.latLngToContainerPoint([lat, lng]); return [p.x, p.y]; }",
        [point.y, point.x],
    )
    box = page.locator(MAP).bounding_box()
    page.mouse.move(box["x"] + x, box["y"] + y)
    # The territory under the pointer shows its tooltip (a zoom still moving may
    # have left a neighbour's open too: the test asks for this one's).
    tooltip = page.locator(".leaflet-tooltip").filter(has_text=target["name"])
    tooltip.wait_for(timeout=TIMEOUT_MS)
    assert "Bretagne" in tooltip.inner_text()
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.get_by_role("heading", name=target["name"]).wait_for(timeout=TIMEOUT_MS)
    page.wait_for_url(re.compile(f"territory={re.escape(target['id'])}"), timeout=TIMEOUT_MS)


def test_searching_a_commune_highlights_its_territory_and_puts_it_in_the_url(page, app_url, prog):
    from tdi_geo.search import where

    match = where(prog, "22093", "2019-09-24")["matches"][0]
    page.goto(app_url + "?date=2019-09-24")
    _map_frame(page)
    box = page.get_by_label("Rechercher une commune, un EPCI ou un territoire")
    box.fill("lamballe armor")
    box.press("Enter")
    page.get_by_text(f"fait partie du territoire {match['territory']['name']}").wait_for(timeout=TIMEOUT_MS)
    page.wait_for_url(re.compile("commune=22093"), timeout=TIMEOUT_MS)
    page.locator(f"{MAP} path.tdi-selected").wait_for(timeout=TIMEOUT_MS)
    page.get_by_role("heading", name=match["territory"]["name"]).wait_for(timeout=TIMEOUT_MS)
    assert page.blocked == []


def test_a_page_that_lost_the_map_data_asks_for_it_again_and_still_draws_the_view(page, app_url, prog):
    """The base map and the layer are sent once per page, then by key; a page without them asks back."""
    page.goto(app_url + "?date=2019-09-24&region=53")
    bretagne = set(build_view(prog, "2019-09-24", regions=["53"])["id"])
    assert _wait_for_ids(page, bretagne) == bretagne
    # As if the message that carried a part had been skipped by a fast rerun.
    page.evaluate("globalThis.__tdiMapParts.clear(); window.map.remove(); "
                  "document.querySelector('.tdi-map').tdiMap = null")
    box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').first
    box.locator("input").first.click()
    box.locator("input").first.fill("Normandie")
    page.wait_for_timeout(300)
    box.locator("input").first.press("Enter")
    both = set(build_view(prog, "2019-09-24", regions=["28", "53"])["id"])
    assert _wait_for_ids(page, both) == both
    assert page.evaluate("globalThis.__tdiMapParts.size") >= 2, "the page holds the base map and the layer again"
