"""Issue 10, scale-out: the real page through nginx in front of two replicas (deploy/stack.py).

The stack is started as ``make stack`` starts it (nginx from Debian, two
``streamlit run serve.py`` on loopback ports, one shared import workspace).
A visitor's whole session (page, websocket, upload, download) must stay on
one replica; when that replica stops, visitors still get the map from the
other. nginx's access log (``upstream=… route=…``) says which replica
answered which request.

Like chromium, nginx is installed by ``make test`` when missing (root +
apt-get); without it these tests skip locally and fail in CI (``CI=true``).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, localhost_only_page
from import_samples import write_csv

from deploy.stack import TEMP_DIRS, TEMPLATE, Stack, free_port, nginx_path, render_conf, unreplaced
from tdi_geo.indicators import build_view
from tdi_geo.importers import import_to_workspace, publish_dataset
from tdi_geo.programme import default_date

TIMEOUT_MS = 90_000
ROUTE = re.compile(r"tdi_route=([0-9a-f]{32})")


@pytest.fixture(scope="module")
def nginx() -> str:
    """Path to nginx; skip locally without it, fail in CI (``CI=true``), as for chromium."""
    path = nginx_path()
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("nginx est introuvable alors que CI=true : le test de montée en charge doit tourner.")
        pytest.skip("nginx absent (installer : apt-get install nginx ; make test l'installe en root)")
    return path


@pytest.fixture(scope="module")
def stack(nginx, tmp_path_factory):
    """nginx + 2 replicas on the embedded data, with a fresh shared workspace."""
    stack = Stack(tmp_path_factory.mktemp("stack"), free_port(), replicas=2,
                  workspace=tmp_path_factory.mktemp("shared-imports"), env={"TDI_GEO_DATASET": None}, nginx=nginx)
    try:
        stack.start()
    except RuntimeError as exc:
        pytest.fail(f"la pile nginx + répliques n'a pas démarré : {exc}")
    yield stack
    stack.stop()


def _upstreams(stack: Stack, route: str) -> list[str]:
    """The replica addresses nginx used for ``route``'s requests, in order (retries included)."""
    lines = (stack.run_dir / "access.log").read_text().splitlines()
    return [re.search(r"upstream=(\S+(?:, \S+)*) route=", line).group(1)
            for line in lines if f"route={route} " in line and "upstream=" in line]


def _route_cookie(page) -> str:
    values = [c["value"] for c in page.context.cookies() if c["name"] == "tdi_route"]
    assert len(values) == 1 and re.fullmatch(r"[0-9a-f]{32}", values[0]), page.context.cookies()
    return values[0]


def _wait_for_ids(page, expected: set[str]) -> set[str]:
    page.locator(".tdi-map path.tdi-territory").first.wait_for(timeout=TIMEOUT_MS)
    deadline = time.time() + TIMEOUT_MS / 1000
    drawn: set[str] = set()
    while time.time() < deadline:
        drawn = set(page.evaluate(
            "Array.from(document.querySelectorAll('path.tdi-territory')).map(p => p.getAttribute('data-tdi-id'))"
        ))
        if drawn == expected:
            break
        page.wait_for_timeout(200)
    return drawn


# --- the configuration --------------------------------------------------------------------


def test_nginx_refuses_exactly_the_uploads_streamlit_refuses():
    limit = re.search(r"client_max_body_size\s+(\d+)m;", TEMPLATE.read_text()).group(1)
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert int(limit) == config["server"]["maxUploadSize"], "nginx's body limit differs from the app's"


def test_the_rendered_configuration_is_accepted_by_nginx(nginx, tmp_path):
    conf = render_conf(TEMPLATE.read_text(), listen=f"127.0.0.1:{free_port()}",
                       replicas=["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"], as_root=os.geteuid() == 0)
    (tmp_path / "nginx.conf").write_text(conf)
    for folder in TEMP_DIRS:
        (tmp_path / folder).mkdir(parents=True)
    check = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                            "-e", str(tmp_path / "error.log")], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    assert conf.count("server 127.0.0.1:") == 3 and unreplaced(conf) == []


# --- the shared workspace -----------------------------------------------------------------

_READER = r"""
import hashlib, json, sys, time
from pathlib import Path
from tdi_geo.importers import current_dataset
from tdi_geo.importers._dataset import read_meta
from tdi_geo.programme import load_programme

workspace, stop = Path(sys.argv[1]), Path(sys.argv[2])
print("ready", flush=True)
deadline = time.monotonic() + 60
i = 0
while not stop.exists() and time.monotonic() < deadline and i < 5000:
    i += 1
    dataset = current_dataset(workspace)
    meta = read_meta(dataset)
    hashes_ok = bool(meta) and all(
        hashlib.sha256((dataset / name).read_bytes()).hexdigest() == info["sha256"]
        for name, info in meta["files"].items() if "sha256" in info)
    rows_ok = True
    if i % 10 == 0:  # what the app does on a new dataset
        prog = load_programme(dataset)
        rows_ok = all(len(getattr(prog, t)) == n for t, n in meta["row_counts"].items())
    print(json.dumps([dataset.name, hashes_ok, rows_ok]), flush=True)
"""


@pytest.mark.slow
def test_a_replica_reading_current_while_another_publishes_always_sees_a_complete_dataset(tmp_path, base):
    """Another process (a replica) reads ``current`` and the dataset it names while publications follow."""
    workspace = tmp_path / "shared"
    datasets = []
    for name, date in (("a.csv", "2024-02-01"), ("b.csv", "2024-03-01")):
        status = pd.DataFrame({"territoire": ["Territoire Ain"], "date": [date], "statut": ["Protocole signé"]})
        datasets.append(import_to_workspace([write_csv(status, tmp_path / name)], workspace, base_dataset=base)[1])
    publish_dataset(workspace, datasets[0], editor="E", expected_current=None)
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", _READER, str(workspace), str(stop)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "ready", "the reader did not start"
        current = datasets[0]
        for i in range(80):
            target = datasets[(i + 1) % 2]
            publish_dataset(workspace, target, editor="E", expected_current=current)
            current = target
            time.sleep(0.02)
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=90)
    assert reader.returncode == 0, err[-3000:]
    reads = [json.loads(line) for line in out.splitlines()]
    assert len(reads) >= 20
    assert {name for name, _, _ in reads} == {d.name for d in datasets}, "both publications were seen"
    assert all(hashes_ok and rows_ok for _, hashes_ok, rows_ok in reads), [r for r in reads if not all(r[1:])][:3]


# --- through nginx ------------------------------------------------------------------------


@pytest.mark.slow
def test_first_page_sets_the_route_cookie_and_nginx_gzips_what_the_replicas_send_plain(stack):
    with urllib.request.urlopen(stack.url, timeout=10) as resp:
        cookie = resp.headers.get("Set-Cookie", "")
        page = resp.read().decode()
    assert ROUTE.search(cookie) and "HttpOnly" in cookie, cookie
    script = re.search(r"static/js/index\.[^\"]+\.js", page).group()
    request = urllib.request.Request(stack.url + script, headers={
        "Accept-Encoding": "gzip", "Cookie": f"tdi_route={ROUTE.search(cookie).group(1)}"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert resp.headers["Content-Encoding"] == "gzip" and resp.headers["Server"] == "nginx"
        assert "Set-Cookie" not in resp.headers, "a visitor with a route keeps it"
        through_nginx = gzip.decompress(resp.read())
    direct = urllib.request.Request(stack.replica_url(0) + script, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(direct, timeout=10) as resp:
        assert resp.headers.get("Content-Encoding") is None, "the replica's own gzip is off behind nginx"
        assert resp.read() == through_nginx


@pytest.mark.slow
@pytest.mark.browser
def test_a_whole_visit_through_nginx_stays_on_one_replica(browser, stack, prog, tmp_path):
    page = localhost_only_page(browser)
    responses = []
    page.on("response", lambda response: responses.append(response))
    try:
        first = page.goto(stack.url)
        assert ROUTE.search(first.header_value("set-cookie") or ""), "the first page sets the route cookie"
        route = _route_cookie(page)

        # The map.
        everything = set(build_view(prog, default_date(prog))["id"])
        assert _wait_for_ids(page, everything) == everything
        # Streamlit's bundle came compressed by nginx (below gzip_min_length, 1 KB, it is not worth it).
        assets = [r for r in responses if re.search(r"/static/(js|css)/", r.url) and r.status == 200]
        plain = [(r.url, r.headers.get("content-length")) for r in assets
                 if r.headers.get("content-encoding") != "gzip" and int(r.headers.get("content-length", 0)) >= 1024]
        assert any("/static/js/index." in r.url and r.headers.get("content-encoding") == "gzip" for r in assets)
        assert plain == [], f"static files sent uncompressed: {plain[:5]}"

        # A filter change redraws it.
        box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').first
        box.locator("input").first.click()
        box.locator("input").first.fill("Bretagne")
        page.wait_for_timeout(300)
        box.locator("input").first.press("Enter")
        box.locator("input").first.press("Escape")  # close the open list: it hides the rest of the page from roles
        bretagne = set(build_view(prog, default_date(prog), regions=["53"])["id"])
        assert _wait_for_ids(page, bretagne) == bretagne

        # The page's GeoJSON download (a file of this session, /media/ on its replica).
        page.get_by_role("button", name="Télécharger ▾").click()  # the downloads' menu
        with page.expect_download(timeout=TIMEOUT_MS) as info:
            page.get_by_role("button", name="Télécharger GeoJSON").click()
        info.value.save_as(tmp_path / "vue.geojson")
        collection = json.loads((tmp_path / "vue.geojson").read_text(encoding="utf-8"))
        assert {f["id"] for f in collection["features"]} == bretagne

        # An upload into this session (/_stcore/upload_file/<session>/...), imported as a private preview.
        name = prog.territories.query("provenance == 'documented'")["name"].iloc[0]
        upload = write_csv(pd.DataFrame({"territoire": [name], "date": ["2019-09-24"], "statut": ["Contrat signé"]}),
                           tmp_path / "statuts_2019.csv")
        page.get_by_role("tab", name="Importer des fichiers officiels").click()
        page.locator("input[type=file]").set_input_files(str(upload))
        page.get_by_role("button", name="Importer (aperçu privé)").click()
        page.get_by_text("Import réussi : aperçu privé").wait_for(timeout=TIMEOUT_MS)
        shared = [p for p in stack.workspace.iterdir() if (p / "dataset.json").exists()]
        assert len(shared) == 1, "the preview lives in the shared workspace"

        upstreams = _upstreams(stack, route)
        assert len(upstreams) > 10 and len(set(upstreams)) == 1, f"the session moved: {set(upstreams)}"
        assert any("/_stcore/upload_file/" in line and f"route={route} " in line
                   for line in (stack.run_dir / "access.log").read_text().splitlines())
        assert page.blocked == [], f"requests outside localhost: {page.blocked[:5]}"
    finally:
        page.context.close()


def _refuses(url: str) -> bool:
    host, port = re.match(r"http://([\d.]+):(\d+)/", url).groups()
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex((host, int(port))) != 0


def _hold_websockets(url: str, count: int, source: str, ready, release, outcome: dict) -> None:
    """Open ``count`` websockets to the page's stream from the address ``source`` and keep them idle
    until ``release`` is set (in this thread's own event loop)."""
    import asyncio

    from websockets.asyncio.client import connect

    ws_url = url.replace("http://", "ws://") + "_stcore/stream"

    async def one(slots):
        async with slots:
            try:
                return await connect(ws_url, subprotocols=["streamlit"], origin=url.rstrip("/"),
                                     local_addr=(source, 0), open_timeout=30, max_size=None)
            except Exception as exc:  # noqa: BLE001 - refused or failed: counted, not raised
                outcome.setdefault("errors", []).append(type(exc).__name__ + ": " + str(exc)[:80])
                return None

    async def main():
        slots = asyncio.Semaphore(100)
        sockets = await asyncio.gather(*(one(slots) for _ in range(count)))
        outcome["open"] = sum(ws is not None for ws in sockets)
        ready.set()
        while not release.is_set():
            await asyncio.sleep(0.2)
        outcome["still_open"] = sum(ws is not None and ws.state.name == "OPEN" for ws in sockets)
        await asyncio.gather(*(ws.close() for ws in sockets if ws is not None), return_exceptions=True)

    asyncio.run(main())


@pytest.mark.slow
@pytest.mark.browser
def test_one_client_holding_1500_idle_websockets_does_not_stop_another_from_getting_the_map(browser, stack, prog):
    """The flood comes from 127.0.0.2 (any 127.x address is this machine); the visitor's browser from 127.0.0.1."""
    import threading

    ready, release, outcome = threading.Event(), threading.Event(), {}
    flood = threading.Thread(target=_hold_websockets, args=(stack.url, 1500, "127.0.0.2", ready, release, outcome))
    flood.start()
    try:
        assert ready.wait(120), "the 1,500 websockets were not all answered within two minutes"
        assert outcome["open"] == 200, outcome.get("open")  # nginx's limit per address; the others got 429
        assert all("429" in e for e in outcome.get("errors", [])), outcome.get("errors", [])[:3]
        page = localhost_only_page(browser)
        try:
            page.goto(stack.url)
            everything = set(build_view(prog, default_date(prog))["id"])
            assert _wait_for_ids(page, everything) == everything
        finally:
            page.context.close()
    finally:
        release.set()
        flood.join(60)
    assert outcome["still_open"] == 200, "the flood's connections were idle, not refused later"


@pytest.mark.slow
@pytest.mark.browser
def test_when_a_visitors_replica_stops_new_and_returning_visitors_still_get_the_map(browser, stack, prog):
    everything = set(build_view(prog, default_date(prog))["id"])
    first = localhost_only_page(browser)
    newcomer = None
    try:
        first.goto(stack.url)
        assert _wait_for_ids(first, everything) == everything
        route = _route_cookie(first)
        address = _upstreams(stack, route)[-1]
        index = [f"127.0.0.1:{p}" for p in stack.replica_ports].index(address)
        survivor = f"127.0.0.1:{stack.replica_ports[1 - index]}"

        stack.stop_replica(index)
        assert _refuses(stack.replica_url(index))

        newcomer = localhost_only_page(browser)
        newcomer.goto(stack.url)
        assert _wait_for_ids(newcomer, everything) == everything
        assert _upstreams(stack, _route_cookie(newcomer))[-1].split(", ")[-1] == survivor

        # The visitor whose replica stopped keeps its route key; nginx moves that key to the survivor.
        first.reload()
        assert _wait_for_ids(first, everything) == everything
        assert _route_cookie(first) == route
        assert _upstreams(stack, route)[-1].split(", ")[-1] == survivor
        assert first.blocked == [] and newcomer.blocked == []
    finally:
        first.context.close()
        if newcomer is not None:
            newcomer.context.close()
