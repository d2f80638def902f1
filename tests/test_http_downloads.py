"""Issue 11: ``GET /api/territoires.*`` gives the page's download of the same view.

The routes are called as ASGI (a Starlette app holding only them, as
``st.App`` holds them), and once through the real server of ``make run``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gzip
import io
import json
import os
import urllib.error
import urllib.request
import zipfile

import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely
from conftest import serve_app
from starlette.applications import Starlette

from tdi_geo import export, http_downloads
from tdi_geo.importers import current_dataset, import_to_workspace, publish_dataset
from tdi_geo.indicators import build_view, diff_view
from tdi_geo.programme import DATASET_ENV, default_date, load_programme, versions_table


def call(app, path: str, query: str = "", headers: dict | None = None, method: str = "GET") -> tuple[int, dict, bytes]:
    """One request to an ASGI app: (status, lower-case headers, body)."""
    scope = {
        "type": "http", "method": method, "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": query.encode(), "scheme": "http", "http_version": "1.1", "asgi": {"version": "3.0"},
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "server": ("testserver", 80), "client": ("127.0.0.1", 5000),
    }
    out: dict = {"body": b""}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
            out["headers"] = {k.decode().lower(): v.decode() for k, v in message["headers"]}
        else:
            out["body"] += message.get("body", b"")

    run(app(scope, receive, send))
    return out["status"], out["headers"], out["body"]


def run(coroutine):
    """``asyncio.run``, in a worker thread when this thread already runs a loop (Playwright's
    sync API keeps one while a browser test of this module holds its page)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture()
def make_app(tmp_path, monkeypatch):
    """A Starlette app with the download routes; the import workspace is a fresh folder."""
    monkeypatch.delenv(DATASET_ENV, raising=False)
    monkeypatch.delenv(http_downloads.WORKSPACE_ENV, raising=False)

    def make(dataset=None, workspace=None):
        if dataset is not None:
            monkeypatch.setenv(DATASET_ENV, str(dataset))
        return Starlette(routes=http_downloads.download_routes(workspace or tmp_path / "imports"))

    return make


@pytest.fixture()
def embedded_app(make_app):
    return make_app()


@pytest.fixture()
def small_app(make_app, small_dataset):
    return make_app(small_dataset)


def _page_view(prog, date, date_from=None, regions=(), **filters):
    """The view the page's download buttons build (app.py before the shared parser existed)."""
    if date_from:
        return diff_view(prog, date_from, date, list(regions), resolution="fine")
    return build_view(prog, date, regions=list(regions), resolution="fine", **filters)


def test_region_53_geojson_is_byte_for_byte_the_page_download(embedded_app):
    prog = load_programme()
    status, headers, body = call(embedded_app, "/api/territoires.geojson", "region=53")
    assert status == 200
    # The page opens the latest version on « Année d'entrée dans le programme » (no status data after 2019).
    assert body == export.geojson_bytes(_page_view(prog, default_date(prog), regions=["53"], indicator="since"))
    assert headers["content-type"].startswith("application/geo+json")
    assert headers["content-disposition"] == (
        f'attachment; filename="territoires-industrie_{default_date(prog)}_reg-53.geojson"')


def test_the_national_view_has_every_territory_of_the_latest_version(embedded_app):
    status, _, body = call(embedded_app, "/api/territoires.geojson")
    assert status == 200
    latest = versions_table(load_programme())[-1]
    assert len(json.loads(body)["features"]) == latest["territories"] == latest["expected"] == 183


@pytest.mark.parametrize(("query", "date", "date_from", "regions", "filters", "filename"), [
    ("", "2019-09-24", None, [], {}, "territoires-industrie_2019-09-24"),
    ("date=2018-11-22&region=53,27", "2018-11-22", None, ["53", "27"], {}, "territoires-industrie_2018-11-22_reg-53-27"),
    ("pillar=innover&indicator=funding_eur&classes=fisher_jenks", "2019-09-24", None, [],
     {"pillar": "innover", "indicator": "funding_eur"}, "territoires-industrie_2019-09-24"),
    ("status=protocol_signed,contract_signed&fragile=1", "2019-09-24", None, [],
     {"statuses": ["protocol_signed", "contract_signed"], "fragile_only": True}, "territoires-industrie_2019-09-24"),
    ("documented=oui&fragile=0", "2019-09-24", None, [], {"documented_only": True}, "territoires-industrie_2019-09-24"),
    ("from=2018-11-22&region=53", "2019-09-24", "2018-11-22", ["53"], {},
     "territoires-industrie_2019-09-24_depuis_2018-11-22_reg-53"),
    ("territory=lamballe&tiles=1&commune=22093&region=53", "2019-09-24", None, ["53"], {},
     "territoires-industrie_2019-09-24_reg-53"),
])
def test_every_parameter_gives_the_page_view_byte_for_byte(small_app, small_programme, query, date, date_from,
                                                           regions, filters, filename):
    view = _page_view(small_programme, date, date_from, regions, **filters)
    for fmt, writer in (("geojson", export.geojson_bytes), ("csv", export.csv_bytes)):
        status, headers, body = call(small_app, f"/api/territoires.{fmt}", query)
        assert status == 200, body
        assert body == writer(view), f"{fmt} of ?{query}"
        assert headers["content-disposition"] == f'attachment; filename="{filename}.{fmt}"'


def test_filters_really_change_the_file(small_app):
    everything = json.loads(call(small_app, "/api/territoires.geojson")[2])
    brittany = json.loads(call(small_app, "/api/territoires.geojson", "region=53")[2])
    assert {f["properties"]["region"] for f in brittany["features"]} == {"53"}
    assert 0 < len(brittany["features"]) < len(everything["features"])


@pytest.mark.parametrize(("fmt", "media_type"), [
    ("geojson", "application/geo+json"), ("csv", "text/csv"), ("gpkg", "application/geopackage+sqlite3"),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), ("zip", "application/zip"),
])
def test_every_format_is_served_with_its_type_name_and_validators(small_app, fmt, media_type):
    status, headers, body = call(small_app, f"/api/territoires.{fmt}", "region=53&indicator=projects")
    assert status == 200 and body
    assert headers["content-type"].startswith(media_type)
    assert headers["content-disposition"] == f'attachment; filename="territoires-industrie_2019-09-24_reg-53.{fmt}"'
    assert headers["etag"].startswith('"') and headers["cache-control"] == "no-cache"


def _features(small_app, query):
    return {f["id"]: f for f in json.loads(call(small_app, "/api/territoires.geojson", query)[2])["features"]}


@pytest.mark.parametrize("query", ["", "from=2018-11-22"])
def test_the_geopackage_reads_back_with_the_geojson_features(small_app, tmp_path, query):
    expected = _features(small_app, query)
    status, _, body = call(small_app, "/api/territoires.gpkg", query)
    assert status == 200
    path = tmp_path / "vue.gpkg"
    path.write_bytes(body)
    frame = pyogrio.read_dataframe(path, layer="territoires")
    assert frame.crs.to_epsg() == 4326
    assert sorted(frame["id"]) == sorted(expected)
    assert shapely.is_valid(frame.geometry.values).all()
    for row in frame.itertuples():
        props = expected[row.id]["properties"]
        assert row.name == props["name"] and row.region == props["region"]
        if "funding_eur" in props:
            assert row.funding_eur == props["funding_eur"] and bool(row.illustrative) == props["illustrative"]
        shape = shapely.geometry.shape(expected[row.id]["geometry"])
        assert abs(row.geometry.area - shape.area) < 1e-9


def test_the_shapefile_reads_back_with_short_documented_field_names(small_app, tmp_path):
    expected = _features(small_app, "")
    status, _, body = call(small_app, "/api/territoires.zip")
    assert status == 200
    archive = zipfile.ZipFile(io.BytesIO(body))
    names = set(archive.namelist())
    assert {"territoires.shp", "territoires.shx", "territoires.dbf", "territoires.prj", "territoires.cpg",
            "champs.csv"} <= names
    assert archive.read("territoires.cpg").strip() == b"UTF-8"
    assert b"WGS" in archive.read("territoires.prj")
    fields = dict(line.split(",") for line in archive.read("champs.csv").decode().splitlines()[1:])
    assert fields["reg_name"] == "region_name" and fields["fund_p_hab"] == "funding_per_inhabitant"
    assert all(len(field) <= 10 for field in fields)
    path = tmp_path / "vue.zip"
    path.write_bytes(body)
    frame = pyogrio.read_dataframe(f"/vsizip/{path}/territoires.shp")
    assert frame.crs.to_epsg() == 4326
    assert sorted(frame["id"]) == sorted(expected)
    assert shapely.is_valid(frame.geometry.values).all()
    for row in frame.to_dict("records"):
        props = expected[row["id"]]["properties"]
        for field, prop in fields.items():
            value = row[field]
            wanted = props[prop]
            if wanted in ("", None):  # dBase has no empty text apart from a missing value
                assert value in ("", None) or pd.isna(value), (field, value)
                continue
            assert (value == int(wanted)) if isinstance(wanted, bool) else (value == wanted), (field, value, wanted)


def test_the_xlsx_has_the_csv_rows_and_neutralised_formulas(small_app, tmp_path):
    status, _, body = call(small_app, "/api/territoires.xlsx")
    assert status == 200
    path = tmp_path / "vue.xlsx"
    path.write_bytes(body)
    book = openpyxl.load_workbook(path)
    sheet = book["territoires"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    csv_text = call(small_app, "/api/territoires.csv")[2].decode("utf-8-sig")
    csv_rows = [line.split(",")[0] for line in csv_text.splitlines()]
    assert [r[0] for r in rows] == csv_rows, "same header, same territories in the same order"
    header = rows[0]
    formula = next(dict(zip(header, r)) for r in rows[1:] if r[0] == "formule")
    assert formula["name"] == "'=HYPERLINK(\"http://x\")"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row), "no formula anywhere"
    expected = _features(small_app, "")
    for record in (dict(zip(header, r)) for r in rows[1:]):
        props = expected[record["id"]]["properties"]
        assert record["population"] == props["population"] and record["illustrative"] is props["illustrative"]
    about = dict(book["vue"].iter_rows(min_row=2, values_only=True))
    assert about["territories"] == len(rows) - 1


@pytest.mark.parametrize(("query", "message"), [
    ("date=2030-01-01", "Date « 2030-01-01 » inconnue"),
    ("region=99", "Code de région inconnu ignoré : 99"),
    ("region=53,99", "Code de région inconnu ignoré : 99"),
    ("pillar=cuisine", "Pilier « cuisine » inconnu"),
    ("indicator=bonheur", "Indicateur « bonheur » inconnu"),
    ("classes=hasard", "Méthode de classes « hasard » inconnue"),
    ("status=fini", "Statut inconnu ignoré : fini"),
    ("fragile=peut-etre", "Valeur « peut-etre » ignorée pour « fragile »"),
    ("documented=2", "Valeur « 2 » ignorée pour « documented »"),
    ("from=1999-01-01", "Version de comparaison « 1999-01-01 » ignorée"),
    ("from=2019-09-24", "Version de comparaison « 2019-09-24 » ignorée"),
    ("regions=53", "Paramètre inconnu : « regions »"),
    ("region=" + "5" * 400, "Valeur trop longue"),
    ("territory=" + "x" * 3000, "Requête trop longue"),
])
@pytest.mark.parametrize("fmt", ["geojson", "xlsx"])
def test_a_bad_parameter_is_a_400_with_a_french_json_message(small_app, query, message, fmt):
    status, headers, body = call(small_app, f"/api/territoires.{fmt}", query)
    assert status == 400
    assert headers["content-type"] == "application/json"
    answer = json.loads(body)
    assert message in answer["erreur"] and any(message in m for m in answer["messages"])
    assert "content-disposition" not in headers and "Traceback" not in body.decode()


def test_an_unknown_format_is_a_french_404(small_app):
    status, _, body = call(small_app, "/api/territoires.pdf")
    assert status == 404 and "Format inconnu : « pdf »" in json.loads(body)["erreur"]


def test_a_failing_writer_gives_a_french_500_without_traceback(small_app, monkeypatch):
    def broken(view):
        raise RuntimeError("secret internal detail")

    monkeypatch.setitem(http_downloads.FORMATS, "csv", (broken, "text/csv"))
    status, _, body = call(small_app, "/api/territoires.csv", "region=27")
    assert status == 500
    assert "n'a pas pu être produit" in json.loads(body)["erreur"]
    assert "secret" not in body.decode() and "Traceback" not in body.decode()


def test_a_dataset_that_does_not_load_is_a_french_503_without_server_paths(make_app, small_dataset, tmp_path,
                                                                          caplog):
    import shutil

    broken = shutil.copytree(small_dataset, tmp_path / "srv-secret" / "jeu")
    (broken / "memberships.csv").write_text("pas,un,tableau\n", encoding="utf-8")
    app = make_app(broken)
    with caplog.at_level("ERROR"):
        status, headers, body = call(app, "/api/territoires.geojson")
    assert status == 503 and headers["x-content-type-options"] == "nosniff"
    answer = json.loads(body)
    assert "ne peuvent pas être chargées" in answer["erreur"]
    assert "srv-secret" not in body.decode() and str(tmp_path) not in body.decode() and "/" not in answer["erreur"]
    assert "memberships" in caplog.text, "the details go to the server's log"


def test_every_answer_says_nosniff_and_errors_echo_at_most_80_characters(small_app):
    long = "é" * 3000
    answers = [call(small_app, "/api/territoires.geojson", "region=53"),
               call(small_app, "/api/territoires.csv", "pillar=" + long[:150]),
               call(small_app, "/api/territoires." + long),
               call(small_app, "/api/territoires.geojson", long[:500] + "=1"),
               call(small_app, "/api/territoires.geojson", "date=" + long[:180])]
    etag = answers[0][1]["etag"]
    answers.append(call(small_app, "/api/territoires.geojson", "region=53", {"If-None-Match": etag}))
    assert [a[0] for a in answers] == [200, 400, 404, 400, 400, 304]
    for status, headers, body in answers:
        assert headers.get("x-content-type-options") == "nosniff", status
        if status >= 400:
            text = body.decode()
            assert "é" * 81 not in text, text[:300]


def test_etag_revalidation_gives_304_and_views_have_their_own_etag(small_app):
    _, first, _ = call(small_app, "/api/territoires.geojson", "region=53")
    _, again, _ = call(small_app, "/api/territoires.geojson", "region=53&tiles=1")
    _, other, _ = call(small_app, "/api/territoires.geojson", "region=27")
    _, csv_headers, _ = call(small_app, "/api/territoires.csv", "region=53")
    assert first["etag"] == again["etag"], "page-only parameters do not change the file"
    assert len({first["etag"], other["etag"], csv_headers["etag"]}) == 3
    status, headers, body = call(small_app, "/api/territoires.geojson", "region=53",
                                 {"If-None-Match": f'W/"nope", {first["etag"]}'})
    assert status == 304 and body == b"" and headers["etag"] == first["etag"]
    status, _, body = call(small_app, "/api/territoires.geojson", "region=53", {"If-None-Match": '"nope"'})
    assert status == 200 and body


def test_changed_dataset_files_change_the_etag(make_app, small_dataset, tmp_path):
    import shutil

    copy = shutil.copytree(small_dataset, tmp_path / "jeu")
    app = make_app(copy)
    _, before, body_before = call(app, "/api/territoires.csv")
    table = copy / "territories.csv"
    table.write_text(table.read_text(encoding="utf-8").replace("Lamballe Terre et Mer", "Lamballe Armor"),
                     encoding="utf-8")
    os.utime(table, ns=(table.stat().st_atime_ns, table.stat().st_mtime_ns + 10**9))
    status, after, body_after = call(app, "/api/territoires.csv", headers={"If-None-Match": before["etag"]})
    assert status == 200 and after["etag"] != before["etag"]
    assert "Lamballe Armor" in body_after.decode("utf-8-sig") and "Lamballe Armor" not in body_before.decode("utf-8-sig")


def test_a_published_import_is_served_with_a_new_etag(make_app, tmp_path, base):
    from test_workspace import _status_file

    workspace = tmp_path / "imports"
    app = make_app(workspace=workspace)
    _, embedded, _ = call(app, "/api/territoires.csv")
    _, preview = import_to_workspace([_status_file(tmp_path)], workspace, base_dataset=base)
    _, still, _ = call(app, "/api/territoires.csv")
    assert still["etag"] == embedded["etag"], "a preview is nobody else's data"
    publish_dataset(workspace, preview, editor="Test", expected_current=None)
    assert current_dataset(workspace) is not None
    status, published, _ = call(app, "/api/territoires.csv")
    assert status == 200 and published["etag"] != embedded["etag"]
    latest = default_date(load_programme(current_dataset(workspace)))
    assert latest != "2019-09-24"
    assert f"territoires-industrie_{latest}.csv" in published["content-disposition"], "the published data are served"


def test_the_cache_of_built_files_is_bounded():
    cache = http_downloads._BoundedCache(entries=3, max_bytes=100)
    for i in range(10):
        cache.put(f"k{i}", b"x" * 30)
    assert list(cache.data) == ["k7", "k8", "k9"]
    cache.put("big", b"x" * 80)
    assert sum(map(len, cache.data.values())) <= 100 and "big" in cache.data
    cache.put("huge", b"x" * 101)
    assert "huge" not in cache.data


def test_concurrent_requests_for_one_file_share_one_build(small_app, monkeypatch):
    calls = []
    writer = http_downloads.FORMATS["geojson"][0]

    def counting(view):
        calls.append(1)
        return writer(view)

    monkeypatch.setitem(http_downloads.FORMATS, "geojson", (counting, "application/geo+json"))

    async def many():
        async def one():
            out = {}

            async def send(message):
                out.setdefault("status", message.get("status"))

            scope = {"type": "http", "method": "GET", "path": "/api/territoires.geojson", "root_path": "",
                     "raw_path": b"/api/territoires.geojson", "query_string": b"region=52", "headers": []}
            await small_app(scope, None, send)
            return out["status"]

        return await asyncio.gather(*(one() for _ in range(8)))

    assert run(many()) == [200] * 8
    assert len(calls) == 1


@pytest.fixture(scope="module")
def served(tmp_path_factory, small_dataset):
    """``streamlit run serve.py`` (what ``make run`` serves) on the small dataset."""
    with serve_app(tmp_path_factory, dataset=small_dataset) as url:
        yield url


def _fetch(url: str) -> tuple[bytes, str]:
    with urllib.request.urlopen(url, timeout=120) as resp:
        return resp.read(), resp.headers["Content-Disposition"]


@pytest.mark.slow
def test_the_server_of_make_run_answers_the_downloads(served, small_programme):
    body, disposition = _fetch(served + "api/territoires.geojson?region=53")
    assert disposition.endswith('_reg-53.geojson"')
    assert body == export.geojson_bytes(_page_view(small_programme, "2019-09-24", regions=["53"]))
    with pytest.raises(urllib.error.HTTPError) as bad:
        urllib.request.urlopen(served + "api/territoires.csv?pillar=cuisine", timeout=60)
    assert bad.value.code == 400
    assert "Pilier « cuisine » inconnu" in json.loads(bad.value.read())["erreur"]


@pytest.mark.browser
def test_the_page_buttons_and_the_routes_give_the_same_files(served, page, tmp_path):
    query = "date=2019-09-24&region=53&indicator=funding_eur"
    page.goto(served + "?" + query)
    page.get_by_role("button", name="Télécharger ▾").click()  # the downloads' menu
    for label, fmt in (("Télécharger GeoJSON", "geojson"), ("Télécharger CSV", "csv"),
                       ("Télécharger GeoPackage", "gpkg"), ("Télécharger Excel", "xlsx"),
                       ("Télécharger Shapefile (zip)", "zip")):
        button = page.get_by_role("button", name=label)
        button.wait_for(timeout=90_000)
        with page.expect_download(timeout=90_000) as info:
            button.click()
        clicked = tmp_path / f"page.{fmt}"
        info.value.save_as(clicked)
        body, disposition = _fetch(served + f"api/territoires.{fmt}?{query}")
        assert disposition == f'attachment; filename="{info.value.suggested_filename}"', fmt
        if fmt in ("geojson", "csv"):
            assert clicked.read_bytes() == body, f"{fmt}: byte-for-byte"
        elif fmt == "xlsx":
            assert clicked.read_bytes() == body, "the XLSX writer is deterministic too"
        else:
            routed = tmp_path / f"route.{fmt}"
            routed.write_bytes(body)
            layer = "/vsizip/{}/territoires.shp" if fmt == "zip" else "{}"
            page_frame = pyogrio.read_dataframe(layer.format(clicked))
            route_frame = pyogrio.read_dataframe(layer.format(routed))
            assert sorted(page_frame["id"]) == sorted(route_frame["id"]) and len(page_frame) == 3
    assert page.blocked == []


# --- gzip (Accept-Encoding) ---------------------------------------------------------


@pytest.mark.parametrize(("accept", "gzipped"), [
    ("gzip", True), ("br, gzip;q=0.5", True), ("*", True), ("GZIP;q=1.0, identity", True),
    ("gzip;q=0", False), ("gzip;q=0, *", False), ("*;q=0", False), ("br, deflate", False), ("identity", False),
    (None, False),
])
@pytest.mark.parametrize("fmt", ["geojson", "csv"])
def test_text_files_are_gzipped_when_the_client_accepts_it(small_app, accept, gzipped, fmt):
    plain_status, plain, identity = call(small_app, f"/api/territoires.{fmt}", "region=53")
    headers = {"Accept-Encoding": accept} if accept is not None else {}
    status, answer, body = call(small_app, f"/api/territoires.{fmt}", "region=53", headers)
    assert plain_status == status == 200
    assert answer["vary"] == plain["vary"] == "Accept-Encoding"
    assert answer["content-disposition"] == plain["content-disposition"]
    if gzipped:
        assert answer["content-encoding"] == "gzip"
        assert gzip.decompress(body) == identity, "the same file, compressed"
        assert len(body) < len(identity)
        assert answer["etag"] != plain["etag"], "each representation has its own strong ETag"
    else:
        assert "content-encoding" not in answer and body == identity and answer["etag"] == plain["etag"]


def test_revalidation_compares_the_etag_of_the_representation_asked(small_app):
    _, plain, _ = call(small_app, "/api/territoires.geojson", "region=53")
    _, packed, _ = call(small_app, "/api/territoires.geojson", "region=53", {"Accept-Encoding": "gzip"})
    status, headers, body = call(small_app, "/api/territoires.geojson", "region=53",
                                 {"Accept-Encoding": "gzip", "If-None-Match": packed["etag"]})
    assert status == 304 and body == b"" and headers["vary"] == "Accept-Encoding"
    status, _, body = call(small_app, "/api/territoires.geojson", "region=53",
                           {"Accept-Encoding": "gzip", "If-None-Match": plain["etag"]})
    assert status == 200 and gzip.decompress(body), "an identity ETag does not validate the gzipped file"
    status, _, _ = call(small_app, "/api/territoires.geojson", "region=53", {"If-None-Match": plain["etag"]})
    assert status == 304


@pytest.mark.parametrize("fmt", ["gpkg", "xlsx", "zip"])
def test_binary_files_are_sent_as_they_are(small_app, fmt):
    _, plain, identity = call(small_app, f"/api/territoires.{fmt}", "region=53")
    _, headers, body = call(small_app, f"/api/territoires.{fmt}", "region=53", {"Accept-Encoding": "gzip"})
    assert "content-encoding" not in headers and "vary" not in headers
    assert headers["etag"] == plain["etag"]
    if fmt != "gpkg":  # GDAL stamps a GeoPackage with its creation time
        assert body == identity


def test_gzipped_copies_share_the_bounded_cache(make_app, small_dataset, monkeypatch):
    monkeypatch.setattr(http_downloads, "CACHE_ENTRIES", 3)
    app = make_app(small_dataset)
    for region in ("53", "27", "52", "11"):
        for accept in ("gzip", "identity"):
            assert call(app, "/api/territoires.csv", f"region={region}", {"Accept-Encoding": accept})[0] == 200
    service = app.routes[0].endpoint.__self__
    assert len(service.cache.data) == 3
