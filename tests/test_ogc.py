"""OGC API – Features under /ogc/ (tdi_geo.ogc): every endpoint, paging, datetime, filters, errors.

The routes are called as an ASGI app (httpx, which Starlette's TestClient
needs, is not installed); the last test reads the real server with GDAL's
OAPIF driver, as QGIS does.
"""

from __future__ import annotations

import asyncio
import json
import re
from urllib.parse import urlsplit

import pandas as pd
import pytest
from starlette.applications import Starlette

from tdi_geo import ogc
from tdi_geo.export import to_geojson
from tdi_geo.indicators import build_view
from tdi_geo.programme import default_date, load_programme

APP = Starlette(routes=ogc.routes)
ITEMS = "/ogc/collections/territoires/items"


def get(url: str, host: str = "carte.example:8501", headers=()):
    """(status, content type, body bytes) of a GET through the ASGI app."""
    parts = urlsplit(url)
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": parts.path, "raw_path": parts.path.encode(), "root_path": "",
             "query_string": parts.query.encode(), "headers": [(b"host", host.encode()), *headers],
             "server": ("carte.example", 8501), "client": ("127.0.0.1", 5000)}
    start, body = {}, []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            start.update(message)
        else:
            body.append(message.get("body", b""))

    asyncio.run(APP(scope, receive, send))
    answer = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return start["status"], answer.get("content-type", ""), b"".join(body)


def get_json(url: str, status: int = 200, media_type: str | None = None) -> dict:
    code, ctype, body = get(url)
    assert code == status, body[:500]
    if media_type:
        assert ctype.startswith(media_type)
    return json.loads(body)


def ids(url: str) -> list[str]:
    return [f["id"] for f in get_json(url)["features"]]


@pytest.fixture()
def small(monkeypatch, small_dataset, tmp_path):
    monkeypatch.setenv("TDI_GEO_DATASET", str(small_dataset))
    monkeypatch.setenv("TDI_GEO_WORKSPACE", str(tmp_path / "imports"))
    return load_programme(small_dataset)


@pytest.fixture()
def embedded(monkeypatch, tmp_path):
    monkeypatch.delenv("TDI_GEO_DATASET", raising=False)
    monkeypatch.setenv("TDI_GEO_WORKSPACE", str(tmp_path / "imports"))
    return load_programme()


def test_landing_links_are_absolute_and_conformance_declares_the_three_classes(small):
    for path in ("/ogc", "/ogc/"):
        links = {link["rel"]: link for link in get_json(path, media_type="application/json")["links"]}
        assert links["service-desc"]["href"] == "http://carte.example:8501/ogc/api"
        assert links["service-desc"]["type"] == ogc.OPENAPI
        assert links["data"]["href"] == "http://carte.example:8501/ogc/collections"
        assert links["conformance"]["href"] == "http://carte.example:8501/ogc/conformance"
    classes = get_json("/ogc/conformance")["conformsTo"]
    assert {c.rsplit("/", 1)[1] for c in classes} == {"core", "geojson", "oas30"}


def test_api_is_an_openapi_30_document_declaring_the_page_filters(small):
    code, ctype, body = get("/ogc/api")
    assert code == 200 and ctype == "application/vnd.oai.openapi+json;version=3.0"
    doc = json.loads(body)
    assert doc["openapi"].startswith("3.0") and doc["servers"][0]["url"] == "http://carte.example:8501/ogc"
    items = doc["paths"]["/collections/{collection}/items"]["get"]["parameters"]
    declared = {p["$ref"].rsplit("/", 1)[1] for p in items}
    assert {"bbox", "datetime", "limit", "offset", "region", "pillar", "status", "provenance"} <= declared
    assert doc["components"]["parameters"]["limit"]["schema"]["maximum"] == 1000
    assert "/collections/{collection}/items/{feature}" in doc["paths"]
    # Every route is described, and every reference resolves.
    served = {r.path.removeprefix("/ogc") or "/" for r in ogc.routes if "{path" not in r.path}
    assert served == set(doc["paths"])
    refs = [p["$ref"] for path in doc["paths"].values() for p in path["get"]["parameters"]]
    for ref in refs:
        assert ref.rsplit("/", 1)[1] in doc["components"]["parameters"], ref
    for path, item in doc["paths"].items():
        in_path = {doc["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]["name"]
                   for p in item["get"]["parameters"]
                   if doc["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]["in"] == "path"}
        assert in_path == set(re.findall(r"{(\w+)}", path)), path


def test_collections_list_both_and_extent_lists_the_version_dates(small):
    listing = get_json("/ogc/collections")
    assert [c["id"] for c in listing["collections"]] == ["territoires", "epci"]
    one = get_json("/ogc/collections/territoires")
    assert one["extent"]["temporal"]["values"] == ["2018-11-22", "2019-07-25", "2019-09-24"]
    assert one["extent"]["temporal"]["interval"] == [["2018-11-22", None]]
    west, south, east, north = one["extent"]["spatial"]["bbox"][0]
    assert west < -60 and east > 55 and south < -20 and north > 51  # the DROM are in
    items = [link for link in one["links"] if link["rel"] == "items"][0]
    assert items["href"] == "http://carte.example:8501/ogc/collections/territoires/items"
    assert items["type"] == "application/geo+json"


def test_items_are_the_geojson_download_of_the_latest_version(embedded):
    expected = to_geojson(build_view(embedded, default_date(embedded), resolution="fine"))["features"]
    got = get_json(ITEMS + "?limit=1000", media_type="application/geo+json")
    assert got["numberMatched"] == got["numberReturned"] == len(expected) == 183
    assert [f["id"] for f in got["features"]] == [f["id"] for f in expected]
    assert [f["properties"] for f in got["features"]] == [f["properties"] for f in expected]
    assert got["features"][7]["geometry"] == expected[7]["geometry"]
    assert got["timeStamp"].endswith("Z")


def test_feature_pages_are_gzipped_for_clients_that_accept_it(small):
    import gzip

    plain = get("/ogc/collections/epci/items?limit=200")[2]
    code, ctype, packed = get("/ogc/collections/epci/items?limit=200", headers=[(b"accept-encoding", b"gzip")])
    assert code == 200 and ctype == "application/geo+json"
    assert len(packed) < len(plain) / 2 and json.loads(gzip.decompress(packed)) | {"timeStamp": 0} == \
        json.loads(plain) | {"timeStamp": 0}


def test_paging_by_50_returns_every_feature_exactly_once(embedded):
    url, seen, pages = ITEMS + "?limit=50", [], 0
    while url:
        page = get_json(url.replace("http://carte.example:8501", ""))
        pages += 1
        assert page["numberMatched"] == 183 and page["numberReturned"] == len(page["features"]) <= 50
        seen += [f["id"] for f in page["features"]]
        links = {link["rel"]: link["href"] for link in page["links"]}
        assert ("prev" in links) == (pages > 1)
        url = links.get("next")
    assert pages == 4 and len(seen) == len(set(seen)) == 183
    back = {link["rel"]: link["href"] for link in get_json(ITEMS + "?limit=50&offset=150")["links"]}
    assert back["prev"].endswith("offset=100&limit=50") and "next" not in back


def test_limit_defaults_to_100_and_is_capped_at_1000(small):
    page = get_json("/ogc/collections/epci/items")
    assert page["numberMatched"] == 1253 and page["numberReturned"] == 100
    assert get_json("/ogc/collections/epci/items?limit=5000")["numberReturned"] == 1000
    assert get_json("/ogc/collections/epci/items?offset=1250")["numberReturned"] == 3


def test_datetime_instant_selects_the_version_valid_then(small):
    assert sorted(ids(ITEMS)) == ["auray", "formule", "lamballe", "nord-fc", "ouest-guyane", "st-brieuc"]
    between = get_json(ITEMS + "?datetime=2019-08-01T12:00:00Z")
    assert sorted(f["id"] for f in between["features"]) == ["auray", "formule", "guingamp", "nord-fc", "ouest-guyane"]
    assert {f["properties"]["date"] for f in between["features"]} == {"2019-07-25"}
    assert ids(ITEMS + "?datetime=2019-09-24") == ids(ITEMS)
    before = get_json(ITEMS + "?datetime=2018-01-01")
    assert before["numberMatched"] == 0 and before["features"] == []


def test_datetime_interval_gives_each_territory_once_with_its_validity(small):
    found = {f["id"]: f["properties"] for f in get_json(ITEMS + "?datetime=2019-01-01/..")["features"]}
    assert len(found) == 7
    assert (found["guingamp"]["valid_from"], found["guingamp"]["valid_to"]) == ("2018-11-22", "2019-09-24")
    assert found["guingamp"]["date"] == "2019-07-25"  # as at its last version in the interval
    assert (found["lamballe"]["valid_from"], found["lamballe"]["valid_to"]) == ("2019-09-24", None)
    assert (found["nord-fc"]["valid_from"], found["nord-fc"]["valid_to"]) == ("2018-11-22", None)
    assert sorted(ids(ITEMS + "?datetime=../2019-08-01")) == sorted(["auray", "formule", "guingamp", "nord-fc",
                                                                     "ouest-guyane"])
    assert len(ids(ITEMS + "?datetime=2019-09-30/2020-01-01")) == 6


def test_region_status_provenance_and_pillar_filter_like_the_page(small):
    for query, kwargs in [("region=53", {"regions": ["53"]}), ("status=engaged,protocol_signed",
                          {"statuses": ["engaged", "protocol_signed"]}), ("pillar=innover", {"pillar": "innover"}),
                          ("region=53,27&datetime=2019-07-25", {"regions": ["53", "27"], "date": "2019-07-25"})]:
        page_view = build_view(small, kwargs.pop("date", "2019-09-24"), resolution="fine", **kwargs)
        assert ids(ITEMS + "?" + query) == page_view["id"].tolist(), query
    documented = get_json(ITEMS + "?provenance=documented")["features"]
    assert {f["properties"]["provenance"] for f in documented} == {"documented"} and len(documented) == 3
    counted = {f["id"]: f["properties"]["projects"] for f in get_json(ITEMS + "?pillar=innover")["features"]}
    assert counted == {"lamballe": 1, "nord-fc": 1}  # only the pillar's projects are counted


def test_bbox_keeps_the_territories_it_touches(small):
    assert sorted(ids(ITEMS + "?bbox=-3.5,48.2,-2.4,48.7")) == ["lamballe", "st-brieuc"]
    assert ids(ITEMS + "?bbox=-54.6,4.9,-53.9,5.8") == ["ouest-guyane"]
    assert ids(ITEMS + "?bbox=170,-10,175,-5") == []


def test_epci_carry_the_territory_holding_them_at_the_datetime(small):
    def holder(query):
        page = get_json("/ogc/collections/epci/items?limit=1000&offset=0&" + query + "&region=53")
        page2 = get_json("/ogc/collections/epci/items?limit=1000&offset=1000&" + query + "&region=53")
        return {f["id"]: f["properties"]["territory_id"] for f in page["features"] + page2["features"]}

    latest, summer = holder("datetime=2019-09-24"), holder("datetime=2019-07-25")
    assert latest["200067981"] is None and summer["200067981"] == "guingamp"
    assert latest["200069391"] == "lamballe" and summer["200069391"] is None
    epci = get_json("/ogc/collections/epci/items/200069391")
    assert epci["properties"]["territory_name"] == "Lamballe Terre et Mer" and epci["properties"]["siren"] == "200069391"
    engaged = get_json("/ogc/collections/epci/items?status=engaged")
    assert {f["properties"]["territory_id"] for f in engaged["features"]} == {"lamballe", "ouest-guyane"}


def test_single_feature_and_french_404s(small):
    code, ctype, body = get(ITEMS + "/nord-fc")
    feature = json.loads(body)
    assert code == 200 and ctype == "application/geo+json"
    assert feature["type"] == "Feature" and feature["id"] == "nord-fc" and feature["geometry"]["type"]
    assert {link["rel"] for link in feature["links"]} == {"self", "collection"}
    assert get_json(ITEMS + "/guingamp?datetime=2019-07-25")["properties"]["date"] == "2019-07-25"
    for url in (ITEMS + "/guingamp", ITEMS + "/inconnu", "/ogc/collections/communes", "/ogc/collections/x/items",
                "/ogc/processes", ITEMS + "/nord-fc/plus"):
        error = get_json(url, status=404)
        assert error["code"] == "NotFound" and "inconnu" in error["description"].lower()


@pytest.mark.parametrize("query, word", [
    ("limit=0", "limit"), ("limit=dix", "limit"), ("offset=-1", "offset"), ("bbox=1,2,3", "bbox"),
    ("bbox=0,50,1,40", "bbox"), ("datetime=hier", "datetime"), ("datetime=2019-09-24/2019-01-01", "début"),
    ("datetime=../..", "datetime"), ("region=99", "Code de région inconnu"), ("pillar=chanter", "Pilier"),
    ("status=fini", "Statut inconnu"), ("provenance=rumeur", "provenance"), ("couleur=rouge", "couleur"), ("f=html", "Format"),
])
def test_bad_parameters_answer_400_in_french_json(small, query, word):
    code, ctype, body = get(ITEMS + "?" + query)
    error = json.loads(body)
    assert code == 400 and ctype.startswith("application/json")
    assert error["code"] == "InvalidParameterValue" and word in error["description"]
    assert "Traceback" not in body.decode()


@pytest.mark.parametrize("query", ["region=99", "region=53,99,98", "pillar=chanter", "status=fini,engaged",
                                   "region=99&status=fini"])
def test_shared_filters_have_the_downloads_french_messages(small, tmp_path, query):
    from test_http_downloads import call

    from tdi_geo import http_downloads

    code, _, body = get(ITEMS + "?" + query)
    status, _, route = call(Starlette(routes=http_downloads.download_routes(tmp_path / "imports")),
                            "/api/territoires.geojson", query)
    assert code == status == 400
    assert json.loads(body)["description"] == " ".join(json.loads(route)["messages"])


def test_an_internal_failure_is_a_french_500_without_traceback(small, monkeypatch):
    def broken(*_):
        raise KeyError("colonne disparue")

    monkeypatch.setattr(ogc, "_territory_rows", broken)
    code, ctype, body = get(ITEMS)
    assert code == 500 and ctype.startswith("application/json")
    assert json.loads(body) == {"code": "ServerError", "description": "Erreur interne du serveur OGC API."}


def test_served_dataset_follows_the_workspace_then_the_environment(monkeypatch, small_dataset, tmp_path):
    import shutil

    workspace = tmp_path / "imports"
    shutil.copytree(small_dataset, workspace / "publie")
    (workspace / "current").write_text("publie\n", encoding="utf-8")
    monkeypatch.delenv("TDI_GEO_DATASET", raising=False)
    monkeypatch.setenv("TDI_GEO_WORKSPACE", str(workspace))
    assert get_json(ITEMS)["numberMatched"] == 6  # the published dataset, not the embedded 144
    monkeypatch.setenv("TDI_GEO_DATASET", str(tmp_path / "absent"))
    error = get_json(ITEMS, status=503)
    assert error["code"] == "ServiceUnavailable" and "ne peuvent pas être chargées" in error["description"]
    assert str(tmp_path) not in json.dumps(error) and "/" not in error["description"]


def test_view_cache_is_bounded(small):
    for pillar in ("innover", "recruter", "attirer", "simplifier", "transition_ecologique"):
        get_json(ITEMS + f"?pillar={pillar}&datetime=2018-11-22/..")
    assert len(ogc._views) <= ogc.CACHE_SIZE


def test_concurrent_cold_requests_build_the_view_once(monkeypatch, small_dataset, tmp_path):
    import shutil
    import threading

    import tdi_geo.indicators as indicators

    fresh = shutil.copytree(small_dataset, tmp_path / "copie")  # a programme no cache has seen
    monkeypatch.setenv("TDI_GEO_DATASET", str(fresh))
    calls, real = [], indicators.build_view
    monkeypatch.setattr(indicators, "build_view", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(get_json(ITEMS)["numberMatched"])) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [6, 6, 6, 6] and calls == ["2019-09-24"]


@pytest.mark.slow
def test_gdal_oapif_driver_reads_the_served_layers(tmp_path_factory):
    """Acceptance: GDAL's OAPIF driver (as QGIS) against `streamlit run serve.py`."""
    import pyogrio
    from conftest import serve_app

    prog = load_programme(None)
    expected = to_geojson(build_view(prog, default_date(prog), resolution="fine"))["features"]
    with serve_app(tmp_path_factory) as url:
        source = f"OAPIF:{url}ogc"
        layers = {name for name, _ in pyogrio.list_layers(source)}
        assert layers == {"territoires", "epci"}
        latest = pyogrio.read_dataframe(source, layer="territoires")
        assert latest["id"].tolist() == [f["id"] for f in expected] and len(latest) == 183
        assert latest.crs.to_epsg() == 4326 and latest.geometry.is_valid.all()
        september = pyogrio.read_dataframe(source, layer="territoires", DATETIME="2019-09-24")
        assert len(september) == 144
        in_2019 = to_geojson(build_view(prog, "2019-09-24", resolution="fine"))["features"]
        # GDAL takes the field types from the first page it read (the latest version: no funding data).
        assert pd.to_numeric(september["funding_eur"]).tolist() == [f["properties"]["funding_eur"] for f in in_2019]
        summer = pyogrio.read_dataframe(source, layer="territoires", DATETIME="2019-07-25")
        assert len(summer) == 141
        paged = pyogrio.read_dataframe(source, layer="territoires", PAGE_SIZE=50)
        assert sorted(paged["id"]) == sorted(latest["id"]) and paged["id"].is_unique
        epci = pyogrio.read_dataframe(source, layer="epci")
        assert len(epci) == 1253 and epci["territory_id"].notna().sum() > 0


def _answer(url: str) -> tuple[int, dict, bytes]:
    """(status, lower-case headers, body) of one request to the OGC routes."""
    path, _, query = url.partition("?")
    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "root_path": "",
             "query_string": query.encode(), "scheme": "http", "http_version": "1.1", "asgi": {"version": "3.0"},
             "headers": [(b"host", b"carte.example:8501")], "server": ("carte.example", 8501),
             "client": ("127.0.0.1", 5000)}
    start, body = {}, []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            start.update(message)
        else:
            body.append(message.get("body", b""))

    asyncio.run(APP(scope, receive, send))
    return start["status"], {k.decode().lower(): v.decode() for k, v in start["headers"]}, b"".join(body)


def test_every_answer_says_nosniff_and_errors_echo_at_most_80_characters(small):
    long = "x" * 5000
    answers = {url: _answer(url) for url in (
        "/ogc", "/ogc/api", ITEMS, ITEMS + "/nord-fc", ITEMS + "?bbox=" + long, f"/ogc/collections/{long}",
        f"{ITEMS}/{long}", f"/ogc/{long}", ITEMS + "?limit=" + long, ITEMS + "?datetime=" + long)}
    for url, (status, headers, body) in answers.items():
        assert headers.get("x-content-type-options") == "nosniff", url[:60]
        if status >= 400:
            text = json.loads(body)["description"]
            assert "x" * 81 not in text and "x…" in text, (url[:60], text[:300])
    assert [a[0] for a in answers.values()] == [200, 200, 200, 200, 400, 404, 404, 404, 400, 400]


def test_a_server_error_is_a_french_sentence_without_paths(small, monkeypatch):
    def broken(*_):
        raise RuntimeError("/srv/tdi/secret/programme/territories.csv: boom")

    monkeypatch.setattr(ogc, "_territory_rows", broken)
    status, headers, body = _answer(ITEMS)
    assert status == 500 and headers["x-content-type-options"] == "nosniff"
    error = json.loads(body)
    assert error["code"] == "ServerError" and "Erreur interne" in error["description"]
    assert "/srv" not in body.decode() and "boom" not in body.decode()
