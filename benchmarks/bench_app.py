"""Performance benchmark of the app against a naive peer (issue #4), in a real browser.

Usage: ``.venv/bin/python benchmarks/bench_app.py [--runs 3] [--app serve.py]``
(also run by ``make bench``; needs ``/usr/bin/chromium`` and the Python
``playwright`` package, no internet). In one run it starts two Streamlit
servers on free localhost ports: the real app (``app.py``) and the naive peer
(``benchmarks/peer_app.py``: every EPCI at full resolution in ``st_folium``).
It waits for ``/_stcore/health``, makes one unmeasured warm-up visit to each
(the first visit pays the server's imports and caches; its time is printed
apart), then for each run opens a fresh headless Chromium context in which every
request to a host other than localhost is aborted and listed. It measures the
time from ``page.goto`` until the map's Leaflet shapes (``path.leaflet-interactive``
in the page or in the peer's streamlit-folium iframe) are drawn, the bytes the browser receives
over HTTP (CDP ``encodedDataLength``) and over the websocket (CDP frame payload,
decompressed; the bytes on the wire are estimated by replaying permessage-deflate),
with Streamlit's own frontend bundle (``/static/``, ~3 MB for any Streamlit app)
shown apart, and, for the app, the time to redraw after choosing a région in
the sidebar multiselect. It prints medians, the ratios ours/peer and the targets
of the issue next to them; it asserts nothing (exit code 1 only when a
measurement could not be made). The servers are always stopped at the end.
"""

from __future__ import annotations

import argparse
import base64
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from _net import free_port

ROOT = Path(__file__).resolve().parents[1]
PEER_SCRIPT = ROOT / "benchmarks" / "peer_app.py"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
#: Streamlit's own frontend bundle (JS, CSS, fonts): the same ~3 MB for every
#: Streamlit app, served uncompressed by Streamlit 1.67 but immutable, so a
#: browser downloads it once. Reported apart from what the app itself sends.
FRONTEND_PREFIX = "/static/"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
SHAPES = "path.leaflet-interactive"

#: Targets of issues #4 and #19 (1 s and 1 MB to the shapes, first visit included),
#: printed next to the numbers (never asserted).
TARGET_SHAPES_S = 1.0
TARGET_SHAPES_VS_PEER = 0.25
TARGET_BYTES = 1.0e6
TARGET_REDRAW_S = 0.7

#: Runs in the top page. It counts the Leaflet shapes drawn in the page itself
#: (the app's map) and in its same-origin iframes (the peer's st_folium map): it
#: logs (epoch ms, number of shapes) each time that number changes, from a
#: MutationObserver on the page and on every iframe document plus a 20 ms timer (a new iframe document is picked up by the timer). Init
#: scripts do not run again when an iframe leaves its initial about:blank, so
#: watching from the top page is the reliable way.
_SHAPES_LOGGER = """
(() => {
  if (window.top !== window) return;
  const selector = '%s';
  const log = [];
  window.__benchShapes = log;
  window.__benchFrameLoaded = null;
  const watched = new WeakSet();
  let last = -1;
  const docs = () => {
    const found = [];
    for (const frame of document.querySelectorAll('iframe')) {
      try { if (frame.contentDocument) found.push(frame.contentDocument); } catch (e) {}
    }
    return found;
  };
  const check = () => {
    let n = document.querySelectorAll(selector).length;  // a map drawn in the page itself
    for (const doc of docs()) n += doc.querySelectorAll(selector).length;
    if (n !== last) { last = n; log.push([Date.now(), n]); }
  };
  setInterval(() => {
    for (const doc of docs()) {
      if (window.__benchFrameLoaded === null && doc.location.href !== 'about:blank') {
        window.__benchFrameLoaded = Date.now();
      }
      if (!watched.has(doc)) {
        watched.add(doc);
        new MutationObserver(check).observe(doc, {childList: true, subtree: true});
      }
    }
    if (!watched.has(document) && document.documentElement) {
      watched.add(document);
      new MutationObserver(check).observe(document, {childList: true, subtree: true});
    }
    check();
  }, 20);
})();
""" % SHAPES


class BenchError(RuntimeError):
    """A measurement could not be made; the message says why."""


# --- servers -----------------------------------------------------------------


@dataclass
class Server:
    name: str
    script: Path
    port: int
    log_path: Path
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}/"

    def log_tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def start_server(name: str, script: Path, log_dir: Path) -> Server:
    port = free_port()
    server = Server(name, script, port, log_dir / f"{name}.log")
    log = server.log_path.open("w")
    server.proc = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", str(script),
            "--server.headless", "true",
            "--server.port", str(port),
            "--server.fileWatcherType", "none",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
        start_new_session=True,  # its own process group, stopped as a whole below
    )
    return server


def wait_healthy(server: Server, timeout: float) -> float:
    """Wait for ``/_stcore/health`` to answer ``ok``; return the seconds waited."""
    started = time.perf_counter()
    health = f"http://127.0.0.1:{server.port}/_stcore/health"
    while time.perf_counter() - started < timeout:
        if server.proc.poll() is not None:
            raise BenchError(
                f"{server.name}: streamlit exited with code {server.proc.returncode} before "
                f"answering {health}.\n{server.log_tail()}"
            )
        try:
            with urllib.request.urlopen(health, timeout=2) as resp:
                if resp.read().strip() == b"ok":
                    return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.2)
    raise BenchError(f"{server.name}: no 'ok' from {health} after {timeout:.0f} s.\n{server.log_tail()}")


def stop_server(server: Server) -> None:
    proc = server.proc
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


# --- one page visit ----------------------------------------------------------


@dataclass
class Visit:
    shapes_s: float = float("nan")
    shapes: int = 0
    http_bytes: int = 0
    http_requests: int = 0
    frontend_bytes: int = 0
    ws_bytes: int = 0
    ws_frames: int = 0
    blocked: list[str] = field(default_factory=list)
    largest: list[tuple[int, str]] = field(default_factory=list)
    shapes_settled_s: float = float("nan")
    first_ws_s: float = float("nan")
    frame_s: float = float("nan")
    redraw_s: float = float("nan")
    redraw_first_s: float = float("nan")
    redraw_shapes: int = 0
    redraw_ws_bytes: int = 0
    redraw_http_bytes: int = 0
    redraw_how: str = ""
    ws_extensions: str = ""
    ws_wire_estimate: int = 0
    http_decoded: int = 0
    #: resource type (Script, Font, Stylesheet, Document…) -> [bytes received, bytes decoded, requests]
    by_type: dict = field(default_factory=dict)

    @property
    def total_decoded(self) -> int:
        return self.http_decoded + self.ws_bytes

    @property
    def total_bytes(self) -> int:
        return self.http_bytes + self.ws_bytes

    @property
    def beyond_frontend_bytes(self) -> int:
        return self.total_bytes - self.frontend_bytes


class Traffic:
    """Counts what the browser receives, from Chrome DevTools Protocol events."""

    def __init__(self, cdp):
        self.http_bytes = 0
        self.http_requests = 0
        self.frontend_bytes = 0
        self.ws_bytes = 0
        self.ws_frames = 0
        self.last_event = time.perf_counter()
        self._urls: dict[str, str] = {}
        self.sizes: list[tuple[int, str]] = []
        cdp.on("Network.requestWillBeSent", self._sent)
        cdp.on("Network.responseReceived", self._response)
        cdp.on("Network.dataReceived", self._data)
        cdp.on("Network.loadingFinished", self._finished)
        self.http_decoded = 0
        self.by_type: dict[str, list[int]] = {}
        self._types: dict[str, str] = {}
        self._decoded: dict[str, int] = {}
        cdp.on("Network.webSocketFrameReceived", self._frame)
        cdp.on("Network.webSocketHandshakeResponseReceived", self._handshake)
        self.ws_extensions = ""
        self.ws_wire_estimate = 0
        self.first_ws_epoch: float | None = None
        self._clock_offset: float | None = None  # wall time - CDP monotonic time
        self._deflaters: dict[str, object] = {}
        cdp.send("Network.enable")

    def _sent(self, event):
        self._urls[event["requestId"]] = event["request"]["url"]
        if self._clock_offset is None and "wallTime" in event:
            self._clock_offset = event["wallTime"] - event["timestamp"]

    def _response(self, event):
        self._types[event["requestId"]] = event.get("type") or "Other"

    def _data(self, event):
        rid = event["requestId"]
        self._decoded[rid] = self._decoded.get(rid, 0) + int(event.get("dataLength", 0))

    def _finished(self, event):
        size = int(event.get("encodedDataLength", 0))
        self.http_bytes += size
        self.http_requests += 1
        decoded = self._decoded.get(event["requestId"], 0)
        self.http_decoded += decoded
        row = self.by_type.setdefault(self._types.get(event["requestId"], "Other"), [0, 0, 0])
        row[0] += size
        row[1] += decoded
        row[2] += 1
        url = self._urls.get(event["requestId"], "?")
        self.sizes.append((size, url))
        if urlparse(url).path.startswith(FRONTEND_PREFIX):
            self.frontend_bytes += size
        self.last_event = time.perf_counter()

    def _deflated_size(self, socket_id: str, data: bytes) -> int:
        """Size of a message under permessage-deflate as uvicorn configures it.

        CDP reports payloads after decompression; this replays the server's
        compression (raw deflate, 12 window bits, memLevel 5, context kept
        between messages, sync flush minus its 4-byte tail) to estimate the
        bytes on the wire.
        """
        deflater = self._deflaters.get(socket_id)
        if deflater is None:
            deflater = self._deflaters[socket_id] = zlib.compressobj(wbits=-12, memLevel=5)
        out = deflater.compress(data) + deflater.flush(zlib.Z_SYNC_FLUSH)
        return len(out) - 4

    def _handshake(self, event):
        headers = {k.lower(): v for k, v in event["response"].get("headers", {}).items()}
        self.ws_extensions = headers.get("sec-websocket-extensions", "none")

    def _frame(self, event):
        response = event["response"]
        payload = response.get("payloadData", "")
        if response.get("opcode") == 2:  # binary frames come base64-encoded
            data = base64.b64decode(payload)
        else:
            data = payload.encode("utf-8")
        size = len(data)
        self.ws_wire_estimate += self._deflated_size(event["requestId"], data)
        self.ws_bytes += size
        self.ws_frames += 1
        if self.first_ws_epoch is None and self._clock_offset is not None:
            self.first_ws_epoch = event["timestamp"] + self._clock_offset
        self.last_event = time.perf_counter()


def _shape_logs(page) -> list[tuple[float, int]]:
    """The (epoch ms, shape count) entries logged by :data:`_SHAPES_LOGGER`."""
    try:
        return [tuple(entry) for entry in page.evaluate("window.__benchShapes || []")]
    except Exception:  # navigation in progress
        return []


def _current_shapes(page) -> int:
    log = _shape_logs(page)
    return log[-1][1] if log else 0


def _wait_for_shapes(page, since_ms: float, timeout: float, differs_from: int | None = None):
    """Poll until a frame logged shapes after ``since_ms``; return (epoch ms, count)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        for ts, n in _shape_logs(page):
            if ts >= since_ms and n > 0 and (differs_from is None or n != differs_from):
                return ts, n
        page.wait_for_timeout(25)
    return None


def _settled(page, since_ms: float) -> tuple[float, int]:
    """(epoch ms, count) of the last change of the shape count after ``since_ms``."""
    changes = [(ts, n) for ts, n in _shape_logs(page) if ts >= since_ms]
    return changes[-1] if changes else (since_ms, _current_shapes(page))


def _wait_quiet(traffic: Traffic, page, quiet_s: float = 1.0, cap_s: float = 20.0) -> None:
    """Wait until no HTTP response or websocket frame arrived for ``quiet_s``."""
    deadline = time.perf_counter() + cap_s
    while time.perf_counter() < deadline:
        if time.perf_counter() - traffic.last_event >= quiet_s:
            return
        page.wait_for_timeout(100)


def _route_local_only(context, blocked: list[str]) -> None:
    def handle(route):
        host = urlparse(route.request.url).hostname or ""
        if host in LOCAL_HOSTS or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("blockedbyclient")

    context.route("**/*", handle)


def _redraw(page, traffic: Traffic, visit: Visit, region: str, region_code: str, base_url: str, timeout: float):
    """Choose ``region`` in the sidebar multiselect; time until the shapes change."""
    before = _current_shapes(page)
    ws0, http0 = traffic.ws_bytes, traffic.http_bytes
    boxes = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]')
    target = None
    for i in range(boxes.count()):
        label = boxes.nth(i).inner_text().lower()
        if "gion" in label:  # "Région(s)", with or without accent
            target = boxes.nth(i)
            break
    if target is None and boxes.count():
        target = boxes.first
    if target is not None:
        box = target.locator("input").first
        box.click()
        box.fill(region)
        page.wait_for_timeout(200)  # let the option list filter before choosing
        visit.redraw_how = f"sidebar multiselect: {region}"
        start_ms = time.time() * 1000
        box.press("Enter")
    else:
        # No multiselect: the query param is the only lever, at the price of a reload.
        visit.redraw_how = f"reload with ?region={region_code} (no sidebar multiselect found)"
        start_ms = time.time() * 1000
        page.goto(f"{base_url}?region={region_code}")
        before = 0
    found = _wait_for_shapes(page, start_ms, timeout, differs_from=before)
    if found is None:
        raise BenchError(
            f"the shapes did not change within {timeout:.0f} s after {visit.redraw_how} "
            f"(still {before} shapes)" + _page_diagnosis(page)
        )
    visit.redraw_first_s = (found[0] - start_ms) / 1000
    _wait_quiet(traffic, page)
    settled_ms, visit.redraw_shapes = _settled(page, start_ms)
    visit.redraw_s = (settled_ms - start_ms) / 1000
    visit.redraw_ws_bytes = traffic.ws_bytes - ws0
    visit.redraw_http_bytes = traffic.http_bytes - http0


def _page_diagnosis(page) -> str:
    """Error boxes shown by Streamlit, and a screenshot, to explain a failed wait."""
    try:
        errors = page.locator('[data-testid="stException"], [data-testid="stAlert"]').all_inner_texts()
        shot = Path(tempfile.gettempdir()) / f"bench_app_failure_{int(time.time())}.png"
        page.screenshot(path=str(shot), full_page=True)
    except Exception as exc:  # the page itself may be gone
        return f"\n(no diagnosis: {exc})"
    text = "\n".join(e.strip()[:500] for e in errors) or "(no error box on the page)"
    return f"\npage says:\n{text}\nscreenshot: {shot}"


def visit_once(browser, url: str, timeout: float, redraw: dict | None = None, shot: Path | None = None) -> Visit:
    visit = Visit()
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        _route_local_only(context, visit.blocked)
        context.add_init_script(_SHAPES_LOGGER)
        page = context.new_page()
        traffic = Traffic(context.new_cdp_session(page))
        start_ms = time.time() * 1000
        page.goto(url, wait_until="commit", timeout=timeout * 1000)
        found = _wait_for_shapes(page, start_ms, timeout)
        if found is None:
            raise BenchError(
                f"no '{SHAPES}' in any frame of {url} after {timeout:.0f} s "
                f"(frames: {[f.url[:80] for f in page.frames]}; blocked: {visit.blocked}; "
                "a canvas renderer or a map outside an iframe is not seen)" + _page_diagnosis(page)
            )
        visit.shapes_s = (found[0] - start_ms) / 1000
        _wait_quiet(traffic, page)
        settled_ms, visit.shapes = _settled(page, start_ms)
        visit.shapes_settled_s = (settled_ms - start_ms) / 1000
        visit.http_bytes, visit.http_requests = traffic.http_bytes, traffic.http_requests
        visit.http_decoded = traffic.http_decoded
        visit.by_type = {k: list(v) for k, v in traffic.by_type.items()}
        visit.frontend_bytes = traffic.frontend_bytes
        visit.ws_extensions = traffic.ws_extensions
        if traffic.first_ws_epoch is not None:
            visit.first_ws_s = traffic.first_ws_epoch - start_ms / 1000
        frame_ms = page.evaluate("window.__benchFrameLoaded")
        if frame_ms:
            visit.frame_s = (frame_ms - start_ms) / 1000
        visit.ws_wire_estimate = traffic.ws_wire_estimate
        visit.ws_bytes, visit.ws_frames = traffic.ws_bytes, traffic.ws_frames
        visit.largest = sorted(traffic.sizes, reverse=True)[:4]
        if shot:
            page.screenshot(path=str(shot))
        if redraw is not None:
            _redraw(page, traffic, visit, base_url=url, timeout=timeout, **redraw)
            if shot:
                page.screenshot(path=str(shot.with_name(shot.stem + "_redraw.png")))
        return visit
    finally:
        context.close()


# --- report ------------------------------------------------------------------


def _median(values):
    values = [v for v in values if v == v]  # drop NaN
    return statistics.median(values) if values else float("nan")


def _mb(n: float) -> str:
    return f"{n / 1e6:.2f} MB"


def _check(ok: bool) -> str:
    return "OK  " if ok else "MISS"


def summarise(name: str, visits: list[Visit]) -> dict:
    return {
        "name": name,
        "shapes_s": _median([v.shapes_s for v in visits]),
        "shapes_min_s": min(v.shapes_s for v in visits),
        "shapes_settled_s": _median([v.shapes_settled_s for v in visits]),
        "first_ws_s": _median([v.first_ws_s for v in visits]),
        "frame_s": _median([v.frame_s for v in visits]),
        "shapes": visits[-1].shapes,
        "http": _median([v.http_bytes for v in visits]),
        "http_requests": _median([v.http_requests for v in visits]),
        "ws": _median([v.ws_bytes for v in visits]),
        "ws_frames": _median([v.ws_frames for v in visits]),
        "ws_wire": _median([v.ws_wire_estimate for v in visits]),
        "total_wire": _median([v.http_bytes + v.ws_wire_estimate for v in visits]),
        "total": _median([v.total_bytes for v in visits]),
        "total_decoded": _median([v.total_decoded for v in visits]),
        "by_type": {kind: [_median([v.by_type.get(kind, [0, 0, 0])[i] for v in visits]) for i in range(3)]
                    for kind in sorted({k for v in visits for k in v.by_type})},
        "frontend": _median([v.frontend_bytes for v in visits]),
        "beyond_frontend": _median([v.beyond_frontend_bytes for v in visits]),
        "blocked": sorted({u for v in visits for u in v.blocked}),
        "blocked_count": sum(len(v.blocked) for v in visits),
        "redraw_s": _median([v.redraw_s for v in visits]),
        "redraw_first_s": _median([v.redraw_first_s for v in visits]),
        "redraw_shapes": visits[-1].redraw_shapes,
        "redraw_ws": _median([v.redraw_ws_bytes for v in visits]),
        "redraw_http": _median([v.redraw_http_bytes for v in visits]),
        "redraw_how": visits[-1].redraw_how,
        "largest": visits[-1].largest,
        "ws_extensions": visits[-1].ws_extensions,
    }


def print_run(name: str, i: int, v: Visit) -> None:
    line = (
        f"  {name:<5} run {i}: shapes {v.shapes_s:6.3f} s (settled {v.shapes_settled_s:.3f} s, "
        f"{v.shapes} paths)  "
        f"http {_mb(v.http_bytes)} / {v.http_requests} req  ws {_mb(v.ws_bytes)} / {v.ws_frames} frames  "
        f"total {_mb(v.total_bytes)}  blocked {len(v.blocked)}"
    )
    if v.redraw_how:
        line += (f"  redraw {v.redraw_s:.3f} s (first change {v.redraw_first_s:.3f} s) "
                 f"-> {v.redraw_shapes} paths")
    print(line, flush=True)


def print_report(ours: dict | None, peer: dict | None, runs: int) -> None:
    print(f"\n== Results: medians of {runs} runs, fresh browser context each ==")
    header = f"{'':<34} {'ours':>14} {'peer':>14} {'ours/peer':>10}   target"
    print(header)
    print("-" * (len(header) + 24))

    def row(label, key, fmt, target=""):
        a = ours[key] if ours else float("nan")
        b = peer[key] if peer else float("nan")
        ratio = a / b if ours and peer and b else float("nan")
        print(f"{label:<34} {fmt(a):>14} {fmt(b):>14} {ratio:>10.2f}   {target}")

    secs = lambda x: f"{x:.3f} s"  # noqa: E731
    mbs = lambda x: _mb(x)  # noqa: E731
    count = lambda x: f"{x:,.0f}"  # noqa: E731
    shapes_target = ""
    bytes_target = bytes_rest_target = ""
    if ours:
        ok = ours["shapes_s"] <= TARGET_SHAPES_S
        shapes_target = f"{_check(ok)} <= {TARGET_SHAPES_S} s"
        if peer:
            ok_rel = ours["shapes_s"] <= TARGET_SHAPES_VS_PEER * peer["shapes_s"]
            shapes_target += f"; {_check(ok_rel)} <= {TARGET_SHAPES_VS_PEER:.0%} of peer"
        bytes_target = f"{_check(ours['total'] <= TARGET_BYTES)} <= {_mb(TARGET_BYTES)}"
        bytes_rest_target = f"{_check(ours['beyond_frontend'] <= TARGET_BYTES)} <= {_mb(TARGET_BYTES)}"
    row("time to first shapes (median)", "shapes_s", secs, shapes_target)
    row("time to shapes (min)", "shapes_min_s", secs)
    row("  first websocket frame (median)", "first_ws_s", secs)
    row("  map iframe document (median)", "frame_s", secs)
    row("time to last shape change (median)", "shapes_settled_s", secs)
    row("shapes drawn (paths)", "shapes", count)
    row("HTTP received (encoded)", "http", mbs)
    row("HTTP requests", "http_requests", count)
    row("websocket received (payload)", "ws", mbs)
    row("websocket frames", "ws_frames", count)
    row("websocket on the wire (deflate est.)", "ws_wire", mbs)
    row("total received", "total", mbs, bytes_target)
    row("total decoded (http + ws payload)", "total_decoded", mbs,
        f"{_check(ours['total_decoded'] <= TARGET_BYTES)} <= {_mb(TARGET_BYTES)}" if ours else "")
    row("  of which Streamlit frontend /static/", "frontend", mbs)
    row("  all the rest (app + map + ws)", "beyond_frontend", mbs, bytes_rest_target)
    row("total on the wire (ws deflate est.)", "total_wire", mbs)
    row("non-localhost requests blocked", "blocked_count", count, "must be 0 for ours")
    if ours and ours["redraw_how"]:
        ok = ours["redraw_s"] <= TARGET_REDRAW_S
        print(
            f"{'redraw after filter, settled (med)':<34} {secs(ours['redraw_s']):>14} {'-':>14} {'-':>10}   "
            f"{_check(ok)} <= {TARGET_REDRAW_S} s"
        )
        print(f"{'  first change of the shapes':<34} {secs(ours['redraw_first_s']):>14}")
        print(f"  redraw: {ours['redraw_how']} -> {ours['redraw_shapes']} paths; "
              f"received ws {_mb(ours['redraw_ws'])}, http {_mb(ours['redraw_http'])}")
    for summary in (ours, peer):
        if not summary:
            continue
        print(f"\n{summary['name']}: HTTP per resource type (medians): received / decoded / requests")
        for kind, (received, decoded, requests) in sorted(summary["by_type"].items(), key=lambda kv: -kv[1][0]):
            print(f"  {kind:<12} {_mb(received):>10} {_mb(decoded):>10} {requests:>6.0f}")
        print(f"  {'WebSocket':<12} {_mb(summary['ws_wire']):>10} {_mb(summary['ws']):>10}   (deflate est. / payload)")
        print(f"\n{summary['name']}: blocked hosts: {summary['blocked'] or 'none'}")
        print(f"  websocket extensions: {summary['ws_extensions'] or 'none'} "
              "(payload sizes above are after decompression)")
        for size, url in summary["largest"]:
            print(f"  largest HTTP response: {size:>10,} B  {url[:110]}")


# --- main --------------------------------------------------------------------


def measure(browser, server: Server, runs: int, timeout: float, redraw: dict | None, shots: Path | None) -> list[Visit]:
    warm = visit_once(browser, server.url, timeout)
    print(f"  {server.name:<5} first visit after server start (not in the medians): "
          f"shapes {warm.shapes_s:.3f} s, total {_mb(warm.total_bytes)}, decoded {_mb(warm.total_decoded)}",
          flush=True)
    visits = []
    for i in range(1, runs + 1):
        shot = shots / f"{server.name}_{i}.png" if shots else None
        visit = visit_once(browser, server.url, timeout, redraw=redraw, shot=shot)
        print_run(server.name, i, visit)
        visits.append(visit)
    return visits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="measured visits per app (default 3)")
    parser.add_argument("--app", default="serve.py", help="the script `make run` serves (serve.py wraps app.py), relative to the project root")
    parser.add_argument("--no-peer", action="store_true", help="measure the app only")
    parser.add_argument("--region", default="Bretagne", help="région chosen for the redraw")
    parser.add_argument("--region-code", default="53", help="its INSEE code (query-param fallback)")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds allowed per wait")
    parser.add_argument("--screenshots", type=Path, help="folder for a screenshot of each visit")
    args = parser.parse_args(argv)

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("bench_app: the 'playwright' package is missing (pip install -r requirements-dev.txt).")
        return 1
    if not Path(CHROMIUM).exists():
        print(f"bench_app: {CHROMIUM} not found (apt-get install -y chromium).")
        return 1
    app_script = ROOT / args.app
    if not app_script.is_file():
        print(f"bench_app: {app_script} not found; nothing to compare the peer with.")
        return 1
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)

    servers: list[Server] = []
    ours = peer = None
    with tempfile.TemporaryDirectory(prefix="bench_app_") as tmp:
        try:
            servers.append(start_server("ours", app_script, Path(tmp)))
            if not args.no_peer:
                servers.append(start_server("peer", PEER_SCRIPT, Path(tmp)))
            for server in servers:
                waited = wait_healthy(server, args.timeout)
                print(f"{server.name}: {server.script} healthy on port {server.port} "
                      f"after {waited:.1f} s", flush=True)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    redraw = {"region": args.region, "region_code": args.region_code}
                    ours = summarise("ours", measure(browser, servers[0], args.runs, args.timeout,
                                                     redraw, args.screenshots))
                    if not args.no_peer:
                        peer = summarise("peer", measure(browser, servers[1], args.runs, args.timeout,
                                                         None, args.screenshots))
                finally:
                    browser.close()
        except BenchError as exc:
            print(f"\nbench_app: measurement failed: {exc}")
            print_report(ours, peer, args.runs) if ours or peer else None
            return 1
        finally:
            for server in servers:
                stop_server(server)
    print_report(ours, peer, args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
