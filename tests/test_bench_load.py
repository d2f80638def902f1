"""The load benchmark's protocol client against the real server (``streamlit run serve.py``).

The client (``benchmarks/st_client.py``) speaks the page's websocket protocol;
these tests check that what it sees is what a visitor would: the map, a
finished view, no exception, and filter changes that change the view.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from conftest import serve_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import bench_load
from st_client import Session

#: Generous: other test runs may share the machine's two cores.
VIEW_TIMEOUT = 150


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    with serve_app(tmp_path_factory) as base:
        yield base


async def _two_visitors(url: str):
    return await asyncio.gather(*(bench_load.visit(url, i, VIEW_TIMEOUT) for i in range(2)))


@pytest.mark.slow
def test_two_concurrent_visitors_get_the_map_and_each_filter_change_changes_the_view(url):
    visits = asyncio.run(_two_visitors(url))
    for i, views in enumerate(visits):
        assert [v.label for v in views] == ["chargement", "région", "date", "indicateur"], views
        for view in views:
            assert view.finished and not view.errors, view
            assert view.map_seconds <= view.seconds, f"no map message in {view.label}: {view}"
        first, region, date, indicator = views
        assert f"region={bench_load.REGIONS[i]}" in first.query_string
        # Adding a région shows more territories, and the page's URL says so.
        assert region.territories > first.territories > 0
        assert f"region={bench_load.REGIONS[i]}%2C{bench_load.REGIONS[i + 1]}" in region.query_string
        # Another version redraws the map and keeps the régions chosen (the page sends every widget's value).
        assert date.map_hash != region.map_hash
        assert date.query_string.split("&")[0] != region.query_string.split("&")[0]
        assert "%2C" in date.query_string
        # Another indicator recolours the same territories.
        assert indicator.map_hash != date.map_hash
        assert indicator.territories == date.territories
        assert indicator.query_string != date.query_string


@pytest.mark.slow
def test_a_region_without_territory_says_so_instead_of_an_exception(url):
    async def mayotte():
        async with Session(url, timeout=VIEW_TIMEOUT) as session:
            return await session.load("date=2019-09-24&region=06")  # Mayotte joined in 2023

    view = asyncio.run(mayotte())
    assert view.finished and not view.errors, view
    assert view.territories == 0
    assert any("Aucun territoire" in alert for alert in view.alerts), view.alerts


def test_the_client_refuses_a_server_that_is_not_on_loopback():
    with pytest.raises(ValueError, match="loopback"):
        Session("http://example.org/")
