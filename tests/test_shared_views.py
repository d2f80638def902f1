"""What every session shares: bounded caches, one view model per view, the map's big parts sent once per page.

Issue 10: a view's cost must be paid once for all visitors, in caches that no
visitor can grow without bound, and the page must not receive the same base
map and layer again on every rerun.
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from app_panels import map_view
from tdi_geo.memo import BoundedCache
from tdi_geo.programme import default_date, load_programme, territories_at
from tdi_geo.view_model import selection_outline, state_key, view_model


def _state(prog, **changes):
    state = {"date": default_date(prog), "regions": [], "pillar": None, "statuses": [], "fragile_only": False,
             "documented_only": False, "indicator": "status", "scheme": "quantiles", "date_from": None}
    return {**state, **changes}


# --- the cache ------------------------------------------------------------------------------------


def test_a_bounded_cache_keeps_at_most_its_limit_and_drops_the_least_recently_used():
    cache = BoundedCache(max_entries=3)
    for key in range(1000):  # a visitor sending a thousand different URLs
        cache.get_or_compute(key, lambda key=key: key * 2)
    assert len(cache) == 3 and 999 in cache and 0 not in cache
    cache.get_or_compute(997, lambda: "recomputed")  # used again: kept over 998
    cache.get_or_compute(1000, lambda: 2000)
    assert 997 in cache and 998 not in cache


def test_a_result_older_than_its_time_to_live_is_computed_again():
    now = [0.0]
    cache = BoundedCache(max_entries=8, ttl=60, clock=lambda: now[0])
    assert cache.get_or_compute("k", lambda: "first") == "first"
    now[0] = 59
    assert cache.get_or_compute("k", lambda: "second") == "first"
    now[0] = 121
    assert cache.get_or_compute("k", lambda: "third") == "third"


def test_twenty_sessions_asking_for_the_same_missing_view_compute_it_once():
    cache, calls, results = BoundedCache(max_entries=4), [], []
    start = threading.Barrier(20)

    def slow():
        calls.append(1)
        time.sleep(0.2)
        return object()

    def session():
        start.wait()
        results.append(cache.get_or_compute("view", slow))

    threads = [threading.Thread(target=session) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(calls) == 1 and len(results) == 20 and len({id(r) for r in results}) == 1


def test_a_failed_computation_is_not_kept():
    cache = BoundedCache(max_entries=2)
    with pytest.raises(ValueError):
        cache.get_or_compute("k", lambda: (_ for _ in ()).throw(ValueError("Date inconnue")))
    assert "k" not in cache and cache.get_or_compute("k", lambda: 1) == 1


# --- per dataset ----------------------------------------------------------------------------------


def test_a_dataset_query_is_answered_once_and_callers_cannot_change_the_shared_answer(prog):
    first = territories_at(prog, default_date(prog))
    first["name"] = "changé par un appelant"
    first.iloc[0, 0] = "id changé"
    again = territories_at(prog, default_date(prog))
    assert len(again) > 100 and "changé par un appelant" not in set(again["name"])
    assert "id changé" not in set(again["id"])


def test_one_view_model_serves_every_session_and_a_new_dataset_starts_afresh(prog, small_dataset):
    key = state_key(_state(prog, regions=["53"]))
    model = view_model(prog, key)
    assert view_model(prog, key) is model, "the second session gets the same object, not a copy"
    assert model.ids == model.shown["id"].tolist() and set(model.table["Identifiant"]) == set(model.ids)
    assert model.kpis["territories"] == len(model.view) < model.version["territories"]
    other = load_programme(small_dataset)
    assert view_model(other, state_key(_state(other))) is not model


def test_the_view_cache_is_bounded_whatever_the_filters_asked(prog):
    regions = sorted(prog.territories["region"].unique())
    asked = [(region, pillar, indicator) for region in regions for pillar in (None, "innover", "attirer")
             for indicator in ("status", "projects", "funding_eur")]
    assert len(asked) > prog.views.max_entries, "the test asks for more views than the cache keeps"
    for region, pillar, indicator in asked:
        view_model(prog, state_key(_state(prog, regions=[region], pillar=pillar, indicator=indicator)))
    assert len(prog.views) <= prog.views.max_entries


def test_a_selection_outline_is_one_of_the_view_s_territories_and_none_outside(prog):
    model = view_model(prog, state_key(_state(prog, regions=["53"])))
    outline = selection_outline(model, model.ids[0])
    assert outline and all(isinstance(ring, str) and ring for polygon in outline for ring in polygon)
    assert selection_outline(model, "pas-un-territoire") is None


# --- the map's parts travel once per page ------------------------------------------------------------


def _map_data(at) -> dict:
    (element,) = at.get("bidi_component")
    return json.loads(element.proto.json)


def test_the_base_map_and_the_layer_are_sent_once_then_only_their_keys(app, prog):
    at = app(region="53")
    first = _map_data(at)
    assert first["base"] and first["layer"]["features"], "the first run sends both parts"
    chosen = first["layer"]["features"][0][0]
    at.selectbox(key="w_territory").set_value(chosen).run()
    second = _map_data(at)
    assert second["base"] is None and second["layer"] is None, "the page already holds them"
    assert (second["base_key"], second["layer_key"]) == (first["base_key"], first["layer_key"])
    assert second["selection"]["id"] == chosen and second["selection"]["parts"], "the selection travels every run"
    at.multiselect(key="w_regions").set_value(["84"]).run()
    third = _map_data(at)
    assert third["base"] is None and third["layer"]["features"] and third["layer_key"] != first["layer_key"]


def test_a_part_the_page_says_it_lacks_is_sent_again():
    sent: list[str] = []
    assert map_view._once("a", {"x": 1}, sent, missing=[]) == {"x": 1}
    assert map_view._once("a", {"x": 1}, sent, missing=[]) is None
    assert map_view._once("a", {"x": 1}, sent, missing=["a"]) == {"x": 1}
    for key in "bcdefg":
        map_view._once(key, {}, sent, missing=[])
    assert len(sent) == map_view.KEEP_SENT and "a" not in sent
    assert map_view._once("a", {"x": 1}, sent, missing=[]) == {"x": 1}, "forgotten keys are sent again"


def test_answers_for_any_instant_stay_bounded(prog):
    """OGC's datetime and the CLI accept any date: the per-dataset answers must not pile up."""
    import datetime as dt

    start = dt.date(2018, 1, 1)
    asked = prog.derived.max_entries + 100
    for day in range(asked):
        territories_at(prog, (start + dt.timedelta(days=day)).isoformat())
    assert len(prog.derived) <= prog.derived.max_entries < asked


def test_the_page_knows_whether_a_view_is_ready(prog):
    key = state_key(_state(prog, regions=["76", "84"], indicator="funding_eur", pillar="innover",
                           documented_only=True, scheme="fisher_jenks"))  # asked by no other test
    assert not view_model.is_cached(prog, key)
    view_model(prog, key)
    assert view_model.is_cached(prog, key)
