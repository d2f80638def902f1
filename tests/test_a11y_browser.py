"""Automated accessibility audit of the real page: axe-core injected by Playwright.

axe-core comes from the npm registry, pinned in ``package.json`` /
``package-lock.json`` and installed in ``node_modules/`` by ``make test``
(``npm ci``). Every serious or critical violation fails the test, except the
few listed in :data:`STREAMLIT_OWN`, which belong to Streamlit's own markup
and styling (we cannot change them from the app). In CI (``CI=true``) a
missing chromium or axe-core fails the test instead of skipping it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import serve_app

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"
TIMEOUT_MS = 90_000

#: Violations in Streamlit's own markup, left to Streamlit: (rule, CSS selector the node matches, why).
STREAMLIT_OWN = [
    # A disabled widget's label (« Classes (indicateurs chiffrés) » while a status map is shown):
    # Streamlit greys it (#a8a7a5, 2.3:1). WCAG 1.4.3 exempts inactive components, but axe
    # cannot tell that from a label that is not bound to the disabled control.
    ("color-contrast", '[data-testid="stWidgetLabel"] *', "libellé d'un widget désactivé"),
    # (st.caption's grey, 3.9:1, is no longer exempted: every caption of ours goes through
    # app_panels.text.caption, 4.9:1.)
]

#: What we draw ourselves: any violation here fails, whatever the rule.
OURS = ".tdi-map, .tdi-legend, .tdi-notice, .tdi-caption, [data-testid=\"stHtml\"], [data-testid=\"stImage\"]"

_AUDIT = """async ([own, ours]) => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  const found = [];
  for (const v of result.violations) {
    if (v.impact !== "serious" && v.impact !== "critical") { continue; }
    for (const node of v.nodes) {
      const el = document.querySelector(node.target[node.target.length - 1]);
      const mine = !!(el && el.closest(ours));
      const excused = !mine && own.some(([rule, selector]) => rule === v.id && el && el.matches(selector));
      found.push({rule: v.id, impact: v.impact, target: node.target.join(" "), html: node.html.slice(0, 160),
                  ours: mine, excused: excused});
    }
  }
  return found;
}"""


@pytest.fixture(scope="module")
def axe_script() -> Path:
    if not AXE.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"axe-core est absent ({AXE}) alors que CI=true : lancer « npm ci » (make test le fait).")
        pytest.skip("axe-core absent : « npm ci » à la racine du projet (make test le fait)")
    return AXE


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    with serve_app(tmp_path_factory) as url:
        yield url


def _audit(page, axe_script: Path) -> list[dict]:
    # Audit the settled page: while a run is going on Streamlit fades the previous
    # run's elements (data-stale), which axe would report as low contrast.
    page.wait_for_function("!document.querySelector('[data-stale=\"true\"]')", timeout=TIMEOUT_MS)
    page.add_script_tag(path=str(axe_script))
    return page.evaluate(_AUDIT, [[[rule, selector] for rule, selector, _ in STREAMLIT_OWN], OURS])


@pytest.mark.parametrize("query", [
    "",  # the national status map
    "from=2019-07-25&territory=vendee-est",  # the perimeter diff, a territory's detail panel
    "region=99&indicator=projects",  # a warning notice (unknown région) and a numeric legend
])
def test_axe_finds_no_serious_violation_in_our_markup(page, app_url, axe_script, query):
    page.goto(app_url + ("?" + query if query else ""))
    page.locator(".tdi-map path.tdi-territory").first.wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("Chronologie du périmètre").click()  # its picture, captions and button are audited too
    page.get_by_text("Télécharger la chronologie (PNG)").wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("Régions comparées").click()  # its list, caption and chart too
    page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("Tableau des territoires de la vue").click()  # the table, with its grid drawn
    page.locator('[data-testid="stDataFrame"] [role=gridcell]').first.wait_for(state="attached", timeout=TIMEOUT_MS)
    found = _audit(page, axe_script)
    left = [v for v in found if not v["excused"]]
    assert not left, "Violations axe graves :\n" + "\n".join(
        f"{v['rule']} ({v['impact']}, {'notre balisage' if v['ours'] else 'Streamlit'}) {v['target']}: {v['html']}"
        for v in left
    )


def test_map_and_legend_have_accessible_names(page, app_url):
    page.goto(app_url)
    page.locator(".tdi-map path.tdi-territory").first.wait_for(timeout=TIMEOUT_MS)
    region = page.get_by_role("region", name="Carte des Territoires d'industrie")
    assert region.count() == 1
    assert "tableau des territoires" in region.get_attribute("aria-label").lower()
    assert page.get_by_role("group", name="Légende").count() == 1
    assert page.get_by_role("button", name="Zoomer", exact=True).count() == 1
    # The chronology picture has a text alternative naming each version's count.
    page.get_by_text("Chronologie du périmètre").click()
    image = page.get_by_role("img", name="Cartes de France du périmètre")
    image.wait_for(timeout=TIMEOUT_MS)
    assert "144 territoires, +3" in image.get_attribute("alt")


def test_the_chronology_panel_shows_each_step_and_the_three_additions_of_september_2019(page, app_url):
    page.goto(app_url)
    page.locator(".tdi-map path.tdi-territory").first.wait_for(timeout=TIMEOUT_MS)
    page.get_by_text("Chronologie du périmètre").click()
    page.get_by_text("Télécharger la chronologie (PNG)").wait_for(timeout=TIMEOUT_MS)
    steps = page.locator(".tdi-caption").filter(has_text="territoires. Ajoutés")
    assert steps.count() == 9  # one per version, 2018 → 2024
    assert "Ajoutés (3) : Lamballe Terre et Mer, Saint-Brieuc Baie d'Armor, Vendée-Est" in steps.nth(3).inner_text()
    with page.expect_download() as info:
        page.get_by_text("Télécharger la chronologie (PNG)").click()
    assert info.value.suggested_filename.endswith(".png")
    assert Path(info.value.path()).read_bytes()[:4] == b"\x89PNG"
