"""The table and the régions chart in headless Chromium (embedded data, localhost only).

The table is Streamlit's canvas data grid: a sort is asked by clicking a
column header and a row is selected with its row marker. With the keyboard
alone (no mouse at all), from the top of the page: Tab until the grid's
canvas has the focus, the arrow keys move the focused cell, Shift+Space
selects its row (see app_panels/table_view.py). The « Territoire » list is
the other keyboard path. The expectations come from the library's view for
the same filters.
"""

from __future__ import annotations

import re

import pytest

from tdi_geo.indicators import build_view
from tdi_geo.summaries import region_parts, table_frame

pytestmark = pytest.mark.browser

TIMEOUT_MS = 90_000
GRID = '[data-testid="stDataFrame"]'
from app_panels.table_view import ROW_HEIGHT  # the page sets the grid's row height (header and rows)


def _click_until_url(page, x: float, y: float, pattern: str, tries: int = 4) -> None:
    """Click at (x, y) until the URL matches ``pattern`` (the grid may still be drawing its first frame)."""
    for attempt in range(tries):
        page.mouse.click(x, y)
        try:
            page.wait_for_url(re.compile(pattern), timeout=TIMEOUT_MS // tries)
            return
        except Exception:  # noqa: BLE001 - retried, then failed below
            if attempt == tries - 1:
                raise


def _open_table(page):
    """The reader opens « Tableau des territoires de la vue » (a lazy expander: no grid until then)."""
    page.get_by_text("Tableau des territoires de la vue").click()


def _grid(page):
    _open_table(page)
    grid = page.locator(GRID).first
    grid.wait_for(timeout=TIMEOUT_MS)
    grid.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    return grid.bounding_box()


def test_the_map_is_named_and_points_to_the_table(page, app_url):
    page.goto(app_url + "?date=2019-09-24&region=53")
    box = page.locator(".tdi-map").first
    box.wait_for(timeout=TIMEOUT_MS)
    assert box.get_attribute("role") == "region"
    assert "Tableau des territoires de la vue" in box.get_attribute("aria-label")


def test_selecting_a_row_opens_the_detail_of_its_territory(page, app_url, prog):
    page.goto(app_url + "?date=2019-09-24&region=53")
    view = build_view(prog, "2019-09-24", regions=["53"])
    box = _grid(page)
    # The grid's accessible table (hidden, for screen readers) holds the rows once drawn.
    page.locator(f"{GRID} [role=gridcell]", has_text=view.iloc[0]["name"]).first.wait_for(
        state="attached", timeout=TIMEOUT_MS)
    row = 5
    # The row marker column (checkboxes) is the grid's first, narrow column.
    target = view.iloc[row]
    _click_until_url(page, box["x"] + 15, box["y"] + ROW_HEIGHT * (row + 1) + ROW_HEIGHT / 2,
                     f"territory={re.escape(target['id'])}")
    page.get_by_role("heading", name=target["name"]).wait_for(timeout=TIMEOUT_MS)


def test_sorting_the_table_then_selecting_its_first_row(page, app_url, prog):
    page.goto(app_url + "?date=2019-09-24&region=53")
    table = table_frame(build_view(prog, "2019-09-24", regions=["53"]))
    box = _grid(page)
    page.locator(f"{GRID} [role=columnheader]", has_text="Territoire").first.wait_for(
        state="attached", timeout=TIMEOUT_MS)
    # « Territoire » is the first column after the row markers: two clicks sort it descending.
    for _ in range(2):
        page.mouse.click(box["x"] + 90, box["y"] + ROW_HEIGHT / 2)
        page.wait_for_timeout(600)
    last = table.loc[table["Territoire"].str.casefold().idxmax(), "Identifiant"]
    assert last != table["Identifiant"].iloc[0]  # the sort really changes the first row
    _click_until_url(page, box["x"] + 15, box["y"] + ROW_HEIGHT * 1.5, f"territory={re.escape(last)}(&|$)")


def test_clicking_a_region_bar_filters_the_map(page, app_url, prog):
    page.goto(app_url + "?date=2019-09-24")
    page.get_by_text("Régions comparées").click()
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.wait_for(timeout=TIMEOUT_MS)
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    # The top band's widest segment belongs to the first (largest) région's bar.
    chart.locator("g.mark-rect path").first.wait_for(timeout=TIMEOUT_MS)
    x, y = page.evaluate("""() => {
        const rects = Array.from(document.querySelectorAll('[data-testid="stVegaLiteChart"] g.mark-rect path'))
            .map(p => p.getBoundingClientRect()).filter(r => r.width > 2);
        const top = Math.min(...rects.map(r => r.top));
        const best = rects.filter(r => r.top - top < 2).sort((a, b) => b.width - a.width)[0];
        // A quarter of the way along, not the middle: the national reference rule may cross the middle.
        return [best.left + best.width / 4, best.top + best.height / 2];
    }""")
    page.mouse.click(x, y)
    page.wait_for_url(re.compile(r"region=\d\d"), timeout=TIMEOUT_MS)
    code = re.search(r"region=(\d\d)", page.url).group(1)
    parts = region_parts(build_view(prog, "2019-09-24"), "territories")
    assert code == parts.loc[parts["rank"] == 0, "region"].iloc[0]  # the top bar is the largest région
    view = build_view(prog, "2019-09-24", regions=[code])
    ids = set(view["id"])
    page.wait_for_function(
        "n => document.querySelectorAll('path.tdi-territory').length === n", arg=len(ids), timeout=TIMEOUT_MS,
    )
    drawn = set(page.evaluate(
        "Array.from(document.querySelectorAll('path.tdi-territory')).map(p => p.getAttribute('data-tdi-id'))"))
    assert drawn == ids


CANVAS = f'{GRID} canvas[data-testid="data-grid-canvas"]'
FOCUSED_CELL = """() => { const a = document.activeElement;
    return a && a.closest('[data-testid="stDataFrame"]') && a.matches('td[role=gridcell]')
        ? [a.id, a.textContent] : null; }"""


def _tab_until(page, selector: str, presses: int = 200) -> list[str]:
    """Press Tab from the top of the page until ``selector`` has the focus; the stops passed on the way."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    stops = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return stops
        stops.append(page.evaluate("() => { const a = document.activeElement;"
                                   " return a ? (a.getAttribute('aria-label') || a.tagName) : ''; }"))
    raise AssertionError(f"{selector} never got the focus after {presses} Tab presses: {stops[-12:]}")


def _focused_row(page, view, row: int | None = None) -> int:
    """The data position of the grid's focused cell (``row`` once there), checked against the name it shows.

    The grid gives the DOM focus to its hidden table's cell after a render, so it is waited for.
    """
    page.wait_for_function(
        f"row => {{ const c = ({FOCUSED_CELL})(); return !!c && (row === null || c[0].endsWith('-' + row)); }}",
        arg=row, timeout=TIMEOUT_MS,
    )
    cell = page.evaluate(FOCUSED_CELL)
    column, row = (int(n) for n in re.fullmatch(r"glide-cell-(\d+)-(\d+)", cell[0]).groups())
    assert column == 1  # the first data column (« Territoire »), after the row markers
    assert cell[1] == view.iloc[row]["name"]
    return row


def _wait_table(page, view) -> None:
    _grid(page)
    page.locator(f"{GRID} [role=gridcell]", has_text=view.iloc[0]["name"]).first.wait_for(
        state="attached", timeout=TIMEOUT_MS)


def test_a_keyboard_user_tabs_to_the_table_and_selects_a_row_with_shift_space(page, app_url, prog):
    page.goto(app_url + "?date=2019-09-24&region=53")
    view = build_view(prog, "2019-09-24", regions=["53"])
    _wait_table(page, view)
    page.get_by_text("Maj+Espace pour la sélectionner").wait_for(timeout=TIMEOUT_MS)  # the page says how
    stops = _tab_until(page, CANVAS)
    # The grid's toolbar comes first, as the caption says: « après les 4 boutons de sa barre d'outils »
    # (Streamlit's English names, translated by app_panels/page_shell.py).
    assert stops[-4:] == ["Afficher ou masquer des colonnes", "Télécharger en CSV", "Rechercher", "Plein écran"]
    page.keyboard.press("ArrowDown")
    row = _focused_row(page, view)
    for _ in range(2):  # each arrow moves the focus one row down
        page.keyboard.press("ArrowDown")
        row = _focused_row(page, view, row + 1)
    assert "territory=" not in page.url  # moving is not selecting
    page.keyboard.press("Shift+Space")
    target = view.iloc[row]
    page.wait_for_url(re.compile(f"territory={re.escape(target['id'])}(&|$)"), timeout=TIMEOUT_MS)
    page.get_by_role("heading", name=target["name"]).wait_for(timeout=TIMEOUT_MS)
    # The focus stayed in the grid through the rerun: the next row is chosen the same way.
    page.keyboard.press("ArrowDown")
    after = _focused_row(page, view, row + 1)
    page.keyboard.press("Shift+Space")
    page.wait_for_url(re.compile(f"territory={re.escape(view.iloc[after]['id'])}(&|$)"), timeout=TIMEOUT_MS)
    page.get_by_role("heading", name=view.iloc[after]["name"]).wait_for(timeout=TIMEOUT_MS)


def test_tab_leaves_the_table_after_its_last_column(page, app_url, prog):
    page.goto(app_url + "?date=2019-09-24&region=53")
    view = build_view(prog, "2019-09-24", regions=["53"])
    _wait_table(page, view)
    _tab_until(page, CANVAS)
    # Inside the grid Tab walks the row's cells; it must then leave (no keyboard trap).
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("() => !!document.activeElement && document.activeElement !== document.body && "
                         "!document.activeElement.closest('[data-testid=\"stDataFrame\"]')"):
            break
    # The next stop after the table: « Régions comparées » (the table's files are in « Télécharger ▾ »).
    assert "Régions comparées" in page.evaluate("document.activeElement.textContent")


def test_the_territory_list_is_a_keyboard_path_to_the_detail(page, app_url, prog):
    page.goto(app_url + "?date=2019-09-24&region=53")
    view = build_view(prog, "2019-09-24", regions=["53"])
    _wait_table(page, view)
    target = view.iloc[len(view) - 1]
    _tab_until(page, 'input[role="combobox"][aria-label="Territoire"]')
    page.keyboard.type(target["name"])
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(f"territory={re.escape(target['id'])}(&|$)"), timeout=TIMEOUT_MS)
    page.get_by_role("heading", name=target["name"]).wait_for(timeout=TIMEOUT_MS)
