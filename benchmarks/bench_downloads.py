"""Download-route benchmark: ``GET /api/territoires.geojson`` for the national view.

Serves the download routes (the same ``download_routes`` that ``serve.py``
gives ``st.App``) with uvicorn on a free loopback port, embedded data, and
measures over real HTTP:

- the first (cold) request of each format: build of the national view + writer;
- the warm time per GeoJSON request (sequential, keep-alive off);
- requests per second with 10 concurrent clients;
- a revalidation (``If-None-Match`` → 304).

Prints the numbers; asserts nothing. Run: ``.venv/bin/python benchmarks/bench_downloads.py``
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import uvicorn
from starlette.applications import Starlette

from tdi_geo.http_downloads import download_routes
from _net import free_port

WARM_REQUESTS = 30
CONCURRENT_CLIENTS = 10
CONCURRENT_REQUESTS = 200


def _get(url: str, headers: dict | None = None) -> tuple[int, int]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=120) as resp:
            return resp.status, len(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, 0


def main() -> None:
    workspace = tempfile.mkdtemp(prefix="tdi-bench-imports-")  # empty: the embedded data are served
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=download_routes(workspace)), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}/api/territoires."
    try:
        print("== first request of each format (national view: build + write)")
        for fmt in ("geojson", "csv", "gpkg", "xlsx", "zip"):
            start = time.perf_counter()
            status, size = _get(base + fmt)
            print(f"  {fmt:8s} {time.perf_counter() - start:6.3f} s  HTTP {status}  {size / 1e6:5.2f} Mo")

        url = base + "geojson"
        times = []
        for _ in range(WARM_REQUESTS):
            start = time.perf_counter()
            _get(url)
            times.append(time.perf_counter() - start)
        print(f"== warm /api/territoires.geojson (national), {WARM_REQUESTS} sequential requests")
        print(f"  median {statistics.median(times) * 1000:6.1f} ms   max {max(times) * 1000:6.1f} ms")

        start = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENT_CLIENTS) as pool:
            statuses = list(pool.map(lambda _: _get(url)[0], range(CONCURRENT_REQUESTS)))
        elapsed = time.perf_counter() - start
        print(f"== {CONCURRENT_CLIENTS} concurrent clients, {CONCURRENT_REQUESTS} requests: "
              f"{CONCURRENT_REQUESTS / elapsed:6.1f} req/s ({statuses.count(200)} × 200)")

        with urllib.request.urlopen(url, timeout=60) as resp:
            etag = resp.headers["ETag"]
        start = time.perf_counter()
        for _ in range(WARM_REQUESTS):
            status, _ = _get(url, {"If-None-Match": etag})
        print(f"== revalidation (If-None-Match): {(time.perf_counter() - start) / WARM_REQUESTS * 1000:6.1f} ms "
              f"per request, HTTP {status}")

        start = time.perf_counter()
        status, _ = _get(base + "geojson?region=53&indicator=funding_eur")
        print(f"== a new view (région 53, cache miss): {(time.perf_counter() - start) * 1000:6.1f} ms, HTTP {status}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)


if __name__ == "__main__":
    main()
