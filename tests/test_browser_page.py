"""The first screen in a real browser: French everywhere, the map first, a phone, the legend's colours."""

from __future__ import annotations

import re
import urllib.request

import pytest

from conftest import localhost_only_page

pytestmark = pytest.mark.browser

SHAPES = "path.leaflet-interactive"
#: English words Streamlit writes when left alone (checked as whole words, any case).
ENGLISH = re.compile(
    r"\b(upload|download|search|fullscreen|collapse|expand|sidebar|heading|browse|files?|drag|drop|clear|"
    r"select|close|open|show|hide|columns?|running|rerun|delete|copy|sort|theme|settings|print|deploy|"
    r"choose|limit|press|enter|apply|results|link|help|the|and|for)\b",
    re.IGNORECASE,
)
#: Every visible text (not an icon's ligature, not hidden from readers) and every title / aria-label / placeholder.
_ALL_TEXTS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement, text = node.nodeValue.trim();
    if (!text || !el || el.closest('[aria-hidden="true"], [data-testid="stIconMaterial"], script, style')) continue;
    if (el.checkVisibility && !el.checkVisibility({visibilityProperty: true})) continue;
    out.push(text);
  }
  for (const el of document.querySelectorAll('[title], [aria-label], [placeholder]')) {
    for (const name of ['title', 'aria-label', 'placeholder']) {
      const value = el.getAttribute(name);
      if (value) out.push(name + '=' + value);
    }
  }
  return out;
}"""


def _open(page, url: str):
    page.goto(url)
    page.wait_for_selector(SHAPES, timeout=90_000)
    page.wait_for_function("!document.querySelector('[data-stale=\"true\"]')", timeout=60_000)


def _english(page) -> set[str]:
    return {text for text in page.evaluate(_ALL_TEXTS) if ENGLISH.search(text)}


def test_the_served_page_says_it_is_french(app_url):
    with urllib.request.urlopen(app_url) as resp:
        html = resp.read().decode("utf-8")
    assert '<html lang="fr">' in html and 'lang="en"' not in html


@pytest.mark.parametrize("width,height", [(1440, 900), (390, 844)])
def test_no_english_word_on_the_map_tab_nor_the_import_tab(browser, app_url, width, height):
    page = localhost_only_page(browser)
    try:
        page.set_viewport_size({"width": width, "height": height})
        _open(page, app_url)
        assert page.evaluate("document.documentElement.lang") == "fr"
        page.get_by_text("Tableau des territoires de la vue").click()
        grid = page.locator('[data-testid="stDataFrame"]').first
        grid.scroll_into_view_if_needed()
        grid.hover()  # the grid's toolbar (« Show/hide columns », « Fullscreen »…) appears on hover
        page.wait_for_timeout(300)
        found = _english(page)
        page.get_by_role("tab", name="Importer des fichiers officiels").click()
        page.locator('[data-testid="stFileUploaderDropzone"]').first.wait_for(timeout=30_000)
        found |= _english(page)
        assert found == set()
    finally:
        page.context.close()


# --- the map first --------------------------------------------------------------------------

def _rect(page, selector: str) -> dict:
    return page.locator(selector).first.evaluate(
        "e => { const r = e.getBoundingClientRect(); return {x: r.x, y: r.y, w: r.width, h: r.height}; }")


def test_the_map_fills_most_of_the_first_screen_under_a_title_that_says_what_it_shows(page, app_url, prog):
    from tdi_geo.mapping.fmt import format_date
    from tdi_geo.programme import default_date

    page.set_viewport_size({"width": 1440, "height": 900})
    _open(page, app_url)
    box = _rect(page, ".tdi-map")
    visible = min(box["y"] + box["h"], 900) - max(box["y"], 0)
    assert visible >= 0.6 * 900, f"the map shows {visible:.0f} px of 900"
    title = page.locator("h1.tdi-title")
    assert title.bounding_box()["y"] < box["y"], "the title is above the map"
    assert format_date(default_date(prog)) in title.inner_text() and "territoires" in title.inner_text()
    kpis = _rect(page, ".tdi-kpis")
    assert kpis["y"] > box["y"] + box["h"], "the figures follow the map"
    # On 24 Sept 2019 every figure of the press release has a value: still one row.
    _open(page, app_url + "?date=2019-09-24")
    tops = page.locator(".tdi-kpi").evaluate_all("tiles => tiles.map(t => Math.round(t.getBoundingClientRect().top))")
    assert len(tops) > 1 and len(set(tops)) == 1, f"the figures hold in one row (tops {tops})"


# --- legend = colours -----------------------------------------------------------------------

#: The launch: documented, inferred and illustrative territories side by side.
LAUNCH = "2018-11-22"


def _interior_points(prog, how_many: int = 10) -> list[tuple[str, float, float, float]]:
    """(id, lat, lng, radius in degrees) deep inside the largest metropolitan territories of the
    launch, half with a plain or dotted fill, half hatched."""
    import shapely

    from tdi_geo import mapping
    from tdi_geo.indicators import build_view

    view = build_view(prog, LAUNCH)
    view = mapping.to_display_coordinates(view[~view["region"].isin(list(mapping.DROM_INSETS))])
    circles = shapely.maximum_inscribed_circle(view.geometry.values, 0.01)
    view = view.assign(radius=shapely.length(circles), centre=shapely.get_point(circles, 0))
    picked = []
    for illustrative in (False, True):
        part = view[view["illustrative"] == illustrative].nlargest(how_many // 2, "radius")
        picked += [(i, c.y, c.x, r) for i, c, r in zip(part["id"], part["centre"], part["radius"])]
    return picked


def _mode_colour(image, x: int, y: int, half: int = 3) -> tuple[int, int, int]:
    from collections import Counter

    patch = [image.getpixel((x + dx, y + dy))[:3] for dx in range(-half, half + 1) for dy in range(-half, half + 1)]
    return Counter(patch).most_common(1)[0][0]


def _hex(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def test_every_sampled_territory_is_drawn_in_a_colour_of_the_legend(page, app_url, prog, tmp_path):
    from PIL import Image

    from tdi_geo.view_model import state_key, view_model
    from app_panels.url_state import default_state
    from tdi_geo.programme import tracking_until

    page.set_viewport_size({"width": 1440, "height": 900})
    _open(page, app_url + f"?date={LAUNCH}")
    page.mouse.move(1, 1)  # no hover outline
    page.wait_for_timeout(500)
    legend = {c.lower() for c in page.locator(".tdi-legend [data-color]").evaluate_all(
        "rows => rows.map(r => r.getAttribute('data-color'))")}
    assert legend, "the legend lists its colours"
    layer = view_model(prog, state_key(default_state(LAUNCH, tracking_until(prog)))).layer
    fills = {f[0]: layer["styles"][f[1]]["fillColor"].lower() for f in layer["features"]}
    box = _rect(page, ".tdi-map")
    shot = tmp_path / "map.png"
    page.locator(".tdi-map").first.screenshot(path=str(shot))
    image = Image.open(shot).convert("RGB")
    scale = image.width / box["w"]
    points = _interior_points(prog)
    assert len(points) == 10
    for tid, lat, lng, radius in points:
        xy = page.evaluate(f"(() => {{ const p = window.map.latLngToContainerPoint([{lat}, {lng}]); return [p.x, p.y]; }})()")
        edge = page.evaluate(f"window.map.latLngToContainerPoint([{lat}, {lng + radius}]).x") - xy[0]
        assert edge >= 4, f"{tid}: too small at this zoom to sample ({edge:.1f} px)"
        colour = _hex(_mode_colour(image, round(xy[0] * scale), round(xy[1] * scale)))
        assert colour == fills[tid], f"{tid}: drawn {colour}, its class is {fills[tid]}"
        assert colour in legend, f"{tid}: {colour} is not a legend colour {sorted(legend)}"


def test_the_legend_says_how_provenance_is_drawn_and_the_map_draws_it(page, app_url):
    page.set_viewport_size({"width": 1440, "height": 900})
    _open(page, app_url + f"?date={LAUNCH}")
    patterns = page.locator(".tdi-legend [data-pattern]").evaluate_all(
        "rows => rows.map(r => [r.getAttribute('data-pattern'), r.innerText])")
    assert ["plain", "dots", "hatch"] == [p for p, _ in patterns]
    assert "Inféré" in patterns[1][1] and "Illustratif" in patterns[2][1]

    def fills(selector):
        return page.evaluate(f"Array.from(document.querySelectorAll('{selector}')).map(p => p.getAttribute('fill'))")

    hatched, dotted = fills("path.tdi-illustrative"), fills("path.tdi-inferred")
    assert hatched and all(f.startswith("url(#tdi-hatch-") for f in hatched)
    assert dotted and all(f.startswith("url(#tdi-dots-") for f in dotted)
    plain = fills("path.tdi-territory:not(.tdi-illustrative):not(.tdi-inferred)")
    assert plain and all(f.startswith("#") for f in plain)
    # The latest version is all documented: no pattern, and none in the legend.
    _open(page, app_url)
    assert page.locator(".tdi-legend [data-pattern]").evaluate_all(
        "rows => rows.map(r => r.getAttribute('data-pattern'))") in ([], ["plain"])


# --- a phone --------------------------------------------------------------------------------

@pytest.fixture()
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    page = context.new_page()
    yield page
    context.close()


#: Visible elements whose text spills out of their box (overflow left visible), and the page's own width.
_OVERFLOWS = """() => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!el.checkVisibility || !el.checkVisibility()) continue;
    const text = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.nodeValue.trim());
    if (!text) continue;
    const style = getComputedStyle(el);
    if (style.overflowX !== 'visible' || style.textOverflow === 'ellipsis') continue;
    if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0) out.push(el.tagName + ': ' + el.textContent.slice(0, 60));
  }
  if (document.documentElement.scrollWidth > window.innerWidth + 1) out.push('page: ' + document.documentElement.scrollWidth);
  return out;
}"""


def test_on_a_phone_the_map_comes_first_at_full_width_with_a_labelled_filters_button(phone, app_url):
    _open(phone, app_url)
    box = _rect(phone, ".tdi-map")
    assert box["w"] >= 0.9 * 390 and box["h"] >= 0.6 * 844
    assert box["y"] < 844 * 0.35, "the map starts in the first third of the screen"
    button = phone.locator('[data-testid="stExpandSidebarButton"]')
    assert button.get_attribute("aria-label") == "Afficher les filtres"
    assert "Filtres" in button.evaluate("b => getComputedStyle(b, '::after').content")
    assert phone.evaluate(_OVERFLOWS) == []


def test_on_a_phone_inset_labels_stay_inside_their_boxes(phone, app_url):
    from tdi_geo.mapping import inset_frames

    _open(phone, app_url)
    boxes = []
    for geometry in inset_frames().geometry:
        west, south, east, north = geometry.bounds
        boxes.append(phone.evaluate(f"""(() => {{ const a = window.map.latLngToContainerPoint([{north}, {west}]),
            b = window.map.latLngToContainerPoint([{south}, {east}]); return [a.x, a.y, b.x, b.y]; }})()"""))
    origin = _rect(phone, ".tdi-map")
    labels = phone.locator(".tdi-inset-label span").evaluate_all(
        "spans => spans.map(s => { const r = s.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })")
    assert len(labels) == len(boxes)
    for (x0, y0, x1, y1), (bx0, by0, bx1, by1) in zip(labels, boxes):
        x0, x1, y0, y1 = x0 - origin["x"], x1 - origin["x"], y0 - origin["y"], y1 - origin["y"]
        assert bx0 <= x0 and x1 <= bx1 + 0.5 and by0 <= y0 and y1 <= by1 + 0.5, ((x0, y0, x1, y1), (bx0, by0, bx1, by1))


def test_on_a_phone_tapping_a_territory_shows_its_detail_on_screen(phone, app_url, prog):
    _open(phone, app_url)
    tid, lat, lng, _ = _interior_points(prog, 2)[0]
    origin = _rect(phone, ".tdi-map")
    x, y = phone.evaluate(f"(() => {{ const p = window.map.latLngToContainerPoint([{lat}, {lng}]); return [p.x, p.y]; }})()")
    phone.touchscreen.tap(origin["x"] + x, origin["y"] + y)
    detail = phone.locator(f'.tdi-detail[data-tdi-id="{tid}"] h3')
    detail.wait_for(timeout=60_000)
    phone.wait_for_timeout(800)
    top = detail.evaluate("h => h.getBoundingClientRect().top")
    bottom = detail.evaluate("h => h.getBoundingClientRect().bottom")
    assert 0 <= top and bottom <= 844, f"the detail's heading is at {top:.0f}–{bottom:.0f} px of 844"
