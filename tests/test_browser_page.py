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
