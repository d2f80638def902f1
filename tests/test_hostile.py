"""Data is never code: hostile text in every field shows literally and runs nowhere.

A dataset whose free-text fields (territory names and ids, sources, notes,
version labels, the figures' source, the dataset name) carry template,
HTML and script payloads goes through the library (views, map data,
exports), the page (AppTest, then the real page in Chromium) and a
standalone map. Nothing runs in Python (a payload that would create a file
does not), nothing runs in the browser (a payload that would set
``window.__pwned`` does not), no request leaves localhost, and every text
comes back exactly as written. Hypothesis then throws arbitrary Unicode
names at the same paths.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import urllib.parse
from pathlib import Path

import pandas as pd
import pytest
from conftest import serve_app, write_small_dataset
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app_panels import detail
from tdi_geo import assets, export, mapping
from tdi_geo.indicators import build_view
from tdi_geo.programme import load_programme, version_dates
from tdi_geo.spreadsheet import neutralise_text

PWNED_FILE = Path("/tmp/tdi-geo-pwned-by-template")
#: One payload per territory of the small dataset (conftest.SMALL_TERRITORIES order).
PAYLOADS = [
    "{{ lipsum.__globals__.os.popen('touch " + str(PWNED_FILE) + "').read() }}" + "N" * 10_000,
    "{# commentaire jamais fermé",
    "{% raw %} Lamballe {% endraw %}",
    "</script><script>window.__pwned = 1</script>",
    '<img src=x onerror="window.__pwned = 1">',
    "ligne\u2028séparée\u2029paragraphe",
    "{{7*7}} Guingamp",
]
HOSTILE_ID = "id-{{7*7}}-</script>"


def _hostile_dataset(folder: Path) -> Path:
    """The small dataset with a payload in every free-text field."""
    write_small_dataset(folder)

    def rewrite(name: str, change) -> None:
        path = folder / f"{name}.csv"
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        for i, row in enumerate(rows):
            change(i, row)
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)

    def territory(i, row):
        row["name"] = PAYLOADS[i]
        row["note"] = "note {{7*7}} <b>gras</b> https://example.org/phish"
        if row["source"]:
            row["source"] = "https://example.org/{{7*7}}</script> ; <img src=x onerror=alert(1)>"

    rewrite("territories", territory)
    renamed = {"ouest-guyane": HOSTILE_ID}
    for table, column in (("territories", "id"), ("memberships", "territory_id"),
                          ("status_events", "territory_id"), ("projects", "territory_id")):
        rewrite(table, lambda i, row, c=column: row.update({c: renamed.get(row[c], row[c])}))
    rewrite("versions", lambda i, row: row.update(label="{% if true %}version{% endif %} </script>"))
    rewrite("national_figures", lambda i, row: row.update(source="{{7*7}} www.example.org <b>x</b>"))
    (folder / "dataset.json").write_text(json.dumps({"name": "{{7*7}} </script> <img src=x onerror=alert(1)>"}))
    return folder


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory) -> Path:
    return _hostile_dataset(tmp_path_factory.mktemp("hostile") / "dataset")


@pytest.fixture(scope="module")
def hostile(hostile_dir):
    return load_programme(hostile_dir)


def _names(prog) -> dict[str, str]:
    return dict(zip(prog.territories["id"], prog.territories["name"]))


def test_the_payloads_load_as_they_were_written(hostile):
    assert sorted(_names(hostile).values()) == sorted(PAYLOADS)
    assert HOSTILE_ID in _names(hostile)


@pytest.mark.parametrize("indicator", ["status", "funding_eur"])
def test_map_data_and_exports_carry_every_text_literally(hostile, indicator):
    names = _names(hostile)
    for date in version_dates(hostile):
        view = build_view(hostile, date, indicator=indicator, resolution="fine")
        colored, legend = mapping.color_view(view, indicator)
        layer = json.loads(json.dumps(mapping.layer_spec(colored, legend, "Statut", selected=HOSTILE_ID)))
        assert {f[0]: f[3] for f in layer["features"]} == {i: names[i] for i in view["id"]}
        features = json.loads(export.geojson_bytes(view))["features"]
        assert {f["properties"]["id"]: f["properties"]["name"] for f in features} == {i: names[i] for i in view["id"]}
        rows = list(csv.DictReader(io.StringIO(export.csv_bytes(view).decode("utf-8-sig"))))
        assert {r["id"]: r["name"] for r in rows} == {i: names[i] for i in view["id"]}
    assert not PWNED_FILE.exists(), "nothing ran on the server"


def test_the_standalone_page_keeps_data_inside_its_json_elements(hostile):
    view = build_view(hostile, "2019-09-24")
    colored, legend = mapping.color_view(view, "status")
    page = mapping.standalone_html(mapping.base_spec(), mapping.layer_spec(colored, legend, "Statut"),
                                   leaflet_js="l.js", leaflet_css="l.css", title="{{7*7}} </title>")
    assert page.count("</script>") == 4, "only the page's own script elements close"
    assert "<img" not in page and "{{7*7}} </title>" not in page
    blocks = re.findall(r'<script type="application/json" id="tdi-layer">(.*?)</script>', page, re.S)
    names = {f[0]: f[3] for f in json.loads(blocks[0])["features"]}
    assert names == dict(zip(view["id"], view["name"]))


def test_the_detail_panel_header_shows_names_sources_and_notes_as_text(hostile):
    view = build_view(hostile, "2019-09-24")
    territories = hostile.territories.set_index("id")
    for _, row in view.iterrows():
        header = detail.header_html(row, territories.loc[row["id"]])
        assert html.escape(row["name"]) in header
        assert set(re.findall(r"<(\w+)", header)) <= {"h3", "div", "span", "small", "b", "i", "a", "br"}
        assert all(href.startswith("https://") for href in re.findall(r'href="([^"]*)"', header))


# --- arbitrary names (hypothesis) -------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(min_size=1, max_size=300))
def test_any_unicode_name_survives_map_data_exports_and_panel(small_programme, name):
    view = build_view(small_programme, "2019-09-24")
    view.loc[view["id"] == "nord-fc", "name"] = name
    colored, legend = mapping.color_view(view, "projects")
    layer = mapping.layer_spec(colored, legend, "Projets")
    page = mapping.standalone_html(mapping.base_spec(), layer, leaflet_js="l.js", leaflet_css="l.css", title=name)
    block = re.search(r'id="tdi-layer">(.*?)</script>', page, re.S).group(1)
    assert {f[0]: f[3] for f in json.loads(block)["features"]}["nord-fc"] == name
    features = json.loads(export.geojson_bytes(view))["features"]
    assert {f["properties"]["id"]: f["properties"]["name"] for f in features}["nord-fc"] == name
    rows = list(csv.DictReader(io.StringIO(export.csv_bytes(view).decode("utf-8-sig"), newline="")))
    expected_cell = neutralise_text(pd.Series([name])).iloc[0]  # a formula-looking cell gets a leading '
    assert {r["id"]: r["name"] for r in rows}["nord-fc"] == expected_cell
    header = detail.header_html(view[view["id"] == "nord-fc"].iloc[0], None)
    assert html.unescape(re.sub(r"<[^>]+>", "", header.split("</h3>")[0])) == name


# --- in the browser -----------------------------------------------------------------------

_OPEN_ALL_TOOLTIPS = """() => {
    const names = [];
    window.map.eachLayer((layer) => {
        if (layer.getTooltip && layer.getTooltip() && layer.getElement && layer.getElement()) {
            layer.openTooltip(layer.getBounds().getCenter());
            names.push([layer.getElement().getAttribute('data-tdi-id'),
                        layer.getTooltip().getElement().querySelector('.tdi-tip-name').textContent]);
            layer.closeTooltip();
        }
    });
    return names;
}"""


def _serve_leaflet(page) -> None:
    """Answer the standalone page's Leaflet URLs from the installed package."""
    def answer(name: str, kind: str):
        body = (assets.leaflet_dir() / name).read_bytes()
        return lambda route: route.fulfill(body=body, content_type=kind)

    page.route("http://127.0.0.1/leaflet/leaflet.js", answer("leaflet.js", "text/javascript"))
    page.route("http://127.0.0.1/leaflet/leaflet.css", answer("leaflet.css", "text/css"))


def _standalone(page, view) -> dict[str, str]:
    """Draw ``view`` in a standalone page; return the name each territory's tooltip shows."""
    colored, legend = mapping.color_view(view, "status")
    layer = mapping.layer_spec(colored, legend, "Statut <b>{{7*7}}</b>")
    html_page = mapping.standalone_html(mapping.base_spec(), layer, leaflet_js="http://127.0.0.1/leaflet/leaflet.js",
                                        leaflet_css="http://127.0.0.1/leaflet/leaflet.css", title="Carte")
    page.route("http://127.0.0.1/carte.html", lambda r: r.fulfill(body=html_page, content_type="text/html"))
    page.goto("http://127.0.0.1/carte.html")
    page.locator(".tdi-legend").wait_for(timeout=30_000)
    page.unroute("http://127.0.0.1/carte.html")
    return dict(page.evaluate(_OPEN_ALL_TOOLTIPS))


@pytest.mark.browser
def test_the_standalone_map_shows_hostile_names_literally_and_runs_nothing(page, hostile):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    _serve_leaflet(page)
    view = build_view(hostile, "2019-09-24")
    assert _standalone(page, view) == dict(zip(view["id"], view["name"]))
    assert page.evaluate("window.__pwned") is None and dialogs == []
    assert page.locator("img[src='x']").count() == 0
    assert page.blocked == []


@pytest.mark.browser
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(st.text(min_size=1, max_size=80), min_size=7, max_size=7))
def test_the_standalone_map_shows_any_unicode_names_literally(page, small_programme, names):
    _serve_leaflet(page)
    view = build_view(small_programme, "2019-09-24")
    view["name"] = names[: len(view)]
    assert _standalone(page, view) == dict(zip(view["id"], view["name"]))
    assert page.blocked == []


@pytest.mark.browser
def test_the_app_on_a_hostile_dataset_shows_every_text_literally_and_runs_nothing(
        page, hostile_dir, hostile, tmp_path_factory):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    names = _names(hostile)
    target = next(i for i, n in names.items() if n.startswith("{{ lipsum"))
    with serve_app(tmp_path_factory, dataset=hostile_dir) as url:
        page.goto(url + "?" + urllib.parse.urlencode({"date": "2019-09-24", "territory": target}))
        page.locator(".tdi-map path.tdi-territory").first.wait_for(timeout=90_000)
        page.locator(".tdi-legend").wait_for(timeout=90_000)
        shown = dict(page.evaluate(_OPEN_ALL_TOOLTIPS))
        expected = build_view(hostile, "2019-09-24")
        assert shown == dict(zip(expected["id"], expected["name"]))
        page.get_by_text("EPCI membres").wait_for(timeout=90_000)
        assert page.locator("h3").filter(has_text=names[target][:40]).first.inner_text() == names[target]
        body = page.locator("body").inner_text()
        assert "{{7*7}} </script> <img src=x onerror=alert(1)>" in body, "the dataset name, literally"
        assert page.evaluate("window.__pwned") is None and dialogs == []
        assert page.locator("img[src='x']").count() == 0
        assert page.locator("a[href*='example.org/phish']").count() == 0, "a note is not a link"
    assert page.blocked == []
    assert not PWNED_FILE.exists(), "nothing ran on the server"
