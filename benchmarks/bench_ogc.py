"""Benchmark of the OGC API – Features items request with ``limit=1000`` (issue #11).

Usage: ``.venv/bin/python benchmarks/bench_ogc.py [--repeat 5] [--no-server]``
(also run by ``make bench``). For each request (``territoires`` latest version,
``territoires`` with ``datetime=2019-07-25``, ``territoires`` over all versions,
``epci``) it prints the first (cold: the view is built and cached) and the
median warm time, and the response size:

- in process, through the ASGI routes of :mod:`tdi_geo.ogc` (the handler alone);
- over HTTP, against ``streamlit run serve.py`` (what ``make run`` serves) on a
  free loopback port, started and stopped here (skipped with ``--no-server``),
  without and with ``Accept-Encoding: gzip`` (the size is then what travels).

The embedded dataset is served. It prints numbers only and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _net import free_port

REQUESTS = [
    "/ogc/collections/territoires/items?limit=1000",
    "/ogc/collections/territoires/items?limit=1000&datetime=2019-07-25",
    "/ogc/collections/territoires/items?limit=1000&datetime=2018-01-01/..",
    "/ogc/collections/epci/items?limit=1000",
]


def _asgi_get(app, path_query: str) -> bytes:
    path, _, query = path_query.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": query.encode(),
             "headers": [(b"host", b"bench")], "server": ("bench", 80), "client": ("127.0.0.1", 1)}
    chunks: list[bytes] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    asyncio.run(app(scope, receive, send))
    return b"".join(chunks)


def _http_get(url: str, gzip: bool = False) -> bytes:
    """The body as received (compressed when ``gzip``: its size is what travels)."""
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"} if gzip else {})
    with urllib.request.urlopen(request, timeout=60) as resp:
        return resp.read()


def _measure(fetch, target: str, repeat: int) -> tuple[float, float, int]:
    start = time.perf_counter()
    body = fetch(target)
    cold = time.perf_counter() - start
    warm = []
    for _ in range(repeat):
        start = time.perf_counter()
        fetch(target)
        warm.append(time.perf_counter() - start)
    return cold, statistics.median(warm), len(body)


def _report(title: str, fetch, prefix: str, repeat: int) -> None:
    print(f"\n== {title} (froid = 1re requête ; chaud = médiane de {repeat})")
    print(f"{'requête':<70} {'froid':>8} {'chaud':>8} {'taille':>10}")
    for request in REQUESTS:
        cold, warm, size = _measure(fetch, prefix + request, repeat)
        print(f"{request:<70} {cold * 1000:7.0f}ms {warm * 1000:7.0f}ms {size / 1e6:8.2f}Mo")


def _with_server(repeat: int) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "TDI_GEO_DATASET"}
    with tempfile.TemporaryDirectory() as workspace:
        env["TDI_GEO_WORKSPACE"] = workspace
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "serve.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 90
            while True:
                try:
                    _http_get(base + "/_stcore/health")
                    break
                except OSError:
                    if proc.poll() is not None or time.time() > deadline:
                        print("Le serveur n'a pas démarré : mesure HTTP impossible.")
                        return
                    time.sleep(0.3)
            _report("HTTP, streamlit run serve.py", _http_get, base, repeat)
            _report("HTTP, client acceptant gzip (taille transmise)", lambda url: _http_get(url, gzip=True), base, repeat)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-server", action="store_true", help="only the in-process measure")
    args = parser.parse_args()
    os.environ.pop("TDI_GEO_DATASET", None)
    os.environ.setdefault("TDI_GEO_WORKSPACE", tempfile.mkdtemp(prefix="bench-ogc-"))
    from starlette.applications import Starlette

    from tdi_geo.ogc import routes

    app = Starlette(routes=routes)
    _report("En processus, routes ASGI de tdi_geo.ogc", lambda target: _asgi_get(app, target), "", args.repeat)
    if not args.no_server:
        _with_server(args.repeat)


if __name__ == "__main__":
    main()
