"""Load benchmark of the page at the Streamlit protocol level (issue #10), no browser.

Usage: ``.venv/bin/python benchmarks/bench_load.py [--levels 1,10,20,50,100]
[--sequential 0,10,50,100,300] [--idle 150] [--url http://127.0.0.1:P/ --pid PID]``
(also run by ``make bench``). Without ``--url`` it starts ``streamlit run serve.py``
(what ``make run`` serves) on a free loopback port with the embedded data and a
fresh import workspace, and stops it at the end; all traffic goes to 127.0.0.1.

Each simulated visitor (:mod:`st_client`: the page's websocket protocol, the
same messages a browser sends) opens the page with a query string (région and
indicator vary between visitors), waits for the finished view, then makes 3
filter changes as the page sends them, with no think time: adds a région in
the sidebar's multiselect, picks another version of the perimeter, another
indicator. A view is finished at the run's ``script_finished`` (after any
``st.rerun`` of the app itself); the map's time is that of the message carrying
the ``tdi_geo_map`` element.

1. **Levels.** After one unmeasured warm-up visit, for each level N, N visitors
   start at once. Visitors are numbered across levels (level 10 after level 1 is
   visitors 1 to 10), so a level does not replay views that the previous one left
   in the server's caches; first views repeat only every 60 visitors. Per level it prints p50 / p95 / max of the time to a finished
   view and to the map's message, errors (exceptions shown by the page,
   unfinished runs, timeouts), views per second, server CPU seconds per view
   (``utime + stime`` of ``/proc/<pid>/stat``, all threads), peak RSS (``VmRSS``
   sampled every 0.1 s) and the bytes received per visitor (payload / wire).
2. **Memory.** On a fresh server (restarted here; the same one with
   ``--url``), the RSS after 0, 1, then each count of ``--sequential`` visitors
   one after the other, then after ``--idle`` seconds without visitors (closed
   sessions are kept a while for reconnects).

Every wait is bounded: ``--view-timeout`` per view, ``--level-timeout`` per level
and ``--memory-timeout`` for the sequential visits. It prints numbers and the
issue's targets next to them; it asserts nothing. The machine's other load
(and this client, which shares its cores) makes the numbers noisy: compare
runs made in the same conditions.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from st_client import Session, View
from _net import free_port

#: Régions with territories at every date: the visitors' first views are never empty.
REGIONS = ["53", "28", "84", "75", "76", "32", "44", "27", "52", "24", "93", "11"]
INDICATORS = ["projects", "status", "funding_eur", "funding_per_inhabitant", "projects_committed"]
VIEWS_PER_VISIT = 4
TICKS = os.sysconf("SC_CLK_TCK")

#: Targets of issue #10, printed next to the numbers (never asserted).
TARGET_CPU_PER_VIEW = 0.07
TARGET_VIEWS_S_AT_20 = 15
TARGET_P95_AT_20 = 2.0
TARGET_P95_AT_100 = 10.0
TARGET_RSS_IDLE_MB = 60
TARGET_RSS_100_MB = 20


# --- the server ---------------------------------------------------------------------


class OwnServer:
    """``streamlit run serve.py`` on a free loopback port (embedded data, fresh workspace)."""

    def __init__(self, timeout: float = 90.0):
        self.port = free_port()
        self._tmp = tempfile.TemporaryDirectory(prefix="bench_load_")
        env = {k: v for k, v in os.environ.items() if k != "TDI_GEO_DATASET"}
        env["TDI_GEO_WORKSPACE"] = str(Path(self._tmp.name) / "imports")
        self.log = Path(self._tmp.name) / "streamlit.log"
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "serve.py", "--server.port", str(self.port),
                 "--server.address", "127.0.0.1", "--server.headless", "true"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        self.url = f"http://127.0.0.1:{self.port}/"
        self.pid = self.proc.pid
        deadline = time.monotonic() + timeout
        while not _healthy(self.url):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-2000:]
                self.stop()
                raise RuntimeError(f"streamlit run serve.py did not answer /_stcore/health:\n{tail}")
            time.sleep(0.3)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)
            except ProcessLookupError:
                pass
        self._tmp.cleanup()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "_stcore/health", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid``, all its threads (``/proc/<pid>/stat``)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14, 15)


def rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` in MB (``VmRSS``)."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class PeakRss:
    """Samples ``VmRSS`` every 0.1 s in a thread, while in the ``with`` block."""

    def __init__(self, pid: int):
        self.pid, self.peak = pid, rss_mb(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.1):
            try:
                self.peak = max(self.peak, rss_mb(self.pid))
            except OSError:
                return

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


# --- one visitor ----------------------------------------------------------------------


def visit_query(i: int) -> str:
    """The query string visitor ``i`` opens the page with."""
    return f"region={REGIONS[i % len(REGIONS)]}&indicator={INDICATORS[i % len(INDICATORS)]}"


async def visit(base_url: str, i: int, timeout: float) -> list[View]:
    """Visitor ``i``: first load, then 3 filter changes; stops at the first unfinished view."""
    views: list[View] = []
    try:
        async with Session(base_url, timeout=timeout) as session:
            views.append(await session.load(visit_query(i)))
            for change in (_add_region, _other_date, _other_indicator):
                if not views[-1].finished:
                    break
                widget, value, label = change(session, i)
                views.append(await session.change(widget, value, label))
    except Exception as exc:  # connection refused, handshake timeout, missing widget
        views.append(View("connexion", errors=[f"{type(exc).__name__}: {exc}"]))
    return views


def _add_region(session: Session, i: int):
    widget = session.widget("w_regions", "Région")
    extra = REGIONS[(i + 1) % len(REGIONS)]
    option = next((o for o in widget.options if o.endswith(f"({extra})")), None)
    value = list(widget.value) + ([option] if option and option not in widget.value else [])
    return widget, value, "région"


def _other_date(session: Session, i: int):
    widget = session.widget("w_date", "Version du périmètre")
    others = [o for o in widget.options if o != widget.value] or widget.options
    return widget, others[i % len(others)], "date"


def _other_indicator(session: Session, i: int):
    widget = session.widget("w_indicator", "Indicateur")
    others = [o for o in widget.options if o != widget.value] or widget.options
    return widget, others[i % len(others)], "indicateur"


# --- levels -------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (``p`` in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Level:
    sessions: int
    views: list[View] = field(default_factory=list)
    expected: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    client_cpu: float = 0.0
    peak_rss: float = 0.0
    unfinished_sessions: int = 0

    @property
    def ok(self) -> list[View]:
        return [v for v in self.views if v.finished and not v.errors]

    @property
    def errors(self) -> int:
        return self.expected - len(self.ok)

    @property
    def finished(self) -> list[View]:
        return [v for v in self.views if v.finished]


async def run_level(base_url: str, pid: int, n: int, view_timeout: float, level_timeout: float,
                    first: int = 0) -> Level:
    """Visitors ``first`` to ``first + n - 1`` at once; the level ends when all are done or after ``level_timeout``."""
    level = Level(n, expected=n * VIEWS_PER_VISIT)
    cpu0, client0, start = cpu_seconds(pid), time.process_time(), time.perf_counter()
    with PeakRss(pid) as rss:
        tasks = [asyncio.create_task(visit(base_url, first + i, view_timeout)) for i in range(n)]
        done, pending = await asyncio.wait(tasks, timeout=level_timeout)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    level.wall = time.perf_counter() - start
    level.cpu = cpu_seconds(pid) - cpu0
    level.client_cpu = time.process_time() - client0
    level.peak_rss = rss.peak
    level.unfinished_sessions = len(pending)
    for task in done:
        level.views += task.result()
    return level


def _s(x: float) -> str:
    return "     -" if math.isnan(x) else f"{x:6.2f}"


def print_levels(levels: list[Level]) -> None:
    print("\n== Concurrent visitors (each: first load + 3 filter changes, no think time)")
    print(f"{'sessions':>8} | {'finished view (s)':^22} | {'map message (s)':^22} | {'errors':>6} | "
          f"{'views/s':>7} | {'CPU s/view':>10} | {'peak RSS':>8} | {'kB/session':>16} | {'client CPU':>10}")
    print(f"{'':>8} | {'p50':>6} {'p95':>7} {'max':>7} | {'p50':>6} {'p95':>7} {'max':>7} | {'':>6} | "
          f"{'':>7} | {'':>10} | {'MB':>8} | {'payload/wire':>16} | {'s':>10}")
    for lv in levels:
        done = [v.seconds for v in lv.finished]
        maps = [v.map_seconds for v in lv.views if not math.isnan(v.map_seconds)]
        views = len(lv.finished)
        payload = sum(v.payload_bytes for v in lv.views) / lv.sessions / 1e3
        wire = sum(v.wire_bytes for v in lv.views) / lv.sessions / 1e3
        cpu_view = lv.cpu / views if views else float("nan")
        print(f"{lv.sessions:>8} | {_s(percentile(done, 50))} {_s(percentile(done, 95)):>7} {_s(max(done, default=float('nan'))):>7} | "
              f"{_s(percentile(maps, 50))} {_s(percentile(maps, 95)):>7} {_s(max(maps, default=float('nan'))):>7} | "
              f"{lv.errors:>6} | {views / lv.wall:>7.2f} | {cpu_view:>10.3f} | {lv.peak_rss:>8.0f} | "
              f"{payload:>7.0f} / {wire:<6.0f} | {lv.client_cpu:>10.1f}")
    for lv in levels:
        refs = sum(v.refs for v in lv.views)
        reruns = sum(v.app_reruns for v in lv.views)
        by_label = {}
        for v in lv.finished:
            by_label.setdefault(v.label, []).append(v.seconds)
        medians = ", ".join(f"{label} {percentile(times, 50):.2f}" for label, times in by_label.items())
        print(f"  {lv.sessions} sessions: p50 s by view: {medians}; {refs} messages came as cached refs "
              f"(ref_hash), {reruns} app-triggered reruns (st.rerun) within views")
    for lv in levels:
        messages = sorted({e for v in lv.views for e in v.errors})
        if messages or lv.unfinished_sessions:
            print(f"  {lv.sessions} sessions: {lv.errors} views in error, {lv.unfinished_sessions} visits cut by "
                  f"the level timeout; first errors: {messages[:3]}")
    by_n = {lv.sessions: lv for lv in levels}
    print("\n  issue #10 targets (one process, this machine):")
    cpus = [lv.cpu / len(lv.finished) for lv in levels if lv.finished]
    if cpus:
        median_cpu = sorted(cpus)[len(cpus) // 2]
        print(f"  {_check(median_cpu <= TARGET_CPU_PER_VIEW)} server CPU per view (median of levels) "
              f"{median_cpu:.3f} s <= {TARGET_CPU_PER_VIEW} s")
    if 20 in by_n:
        lv = by_n[20]
        p95 = percentile([v.seconds for v in lv.finished], 95)
        print(f"  {_check(len(lv.finished) / lv.wall >= TARGET_VIEWS_S_AT_20)} 20 sessions: "
              f"{len(lv.finished) / lv.wall:.1f} views/s >= {TARGET_VIEWS_S_AT_20}")
        print(f"  {_check(p95 <= TARGET_P95_AT_20 and lv.errors == 0)} 20 sessions: p95 {p95:.2f} s <= "
              f"{TARGET_P95_AT_20} s, {lv.errors} errors (0 wanted)")
    if 100 in by_n:
        lv = by_n[100]
        p95 = percentile([v.seconds for v in lv.finished], 95)
        print(f"  {_check(p95 <= TARGET_P95_AT_100 and lv.errors == 0)} 100 sessions: p95 {p95:.2f} s <= "
              f"{TARGET_P95_AT_100} s, {lv.errors} errors (0 wanted)")


def _check(ok: bool) -> str:
    return "OK  " if ok else "MISS"


# --- memory ----------------------------------------------------------------------------------


async def run_memory(base_url: str, pid: int, counts: list[int], idle: float, view_timeout: float,
                     phase_timeout: float) -> None:
    """RSS after each count of sequential visitors, then after ``idle`` seconds."""
    print("\n== Memory: visitors one after the other (each: first load + 3 filter changes, then closed)")
    marks = sorted(set(counts) | {0, 1})
    deadline = time.monotonic() + phase_timeout
    done = errors = 0
    rss: dict[int, float] = {}
    for mark in marks:
        while done < mark and time.monotonic() < deadline:
            views = await visit(base_url, done, view_timeout)
            errors += sum(1 for v in views if v.errors or not v.finished) + VIEWS_PER_VISIT - len(views)
            done += 1
        if done < mark:
            print(f"  stopped after {done} visitors: --memory-timeout ({phase_timeout:.0f} s) reached")
            break
        rss[mark] = rss_mb(pid)
        ref = f"  ({rss[mark] - rss[1]:+.0f} MB vs after the first)" if 1 in rss and mark > 1 else ""
        note = "  <- reference" if mark == 1 else ""
        print(f"  after {mark:>4} visitors: RSS {rss[mark]:7.1f} MB{ref}{note}", flush=True)
    if errors:
        print(f"  {errors} views in error during the sequential visits")
    if idle > 0 and 1 in rss:
        cpu0, end = cpu_seconds(pid), time.monotonic() + idle
        while time.monotonic() < end:
            await asyncio.sleep(min(5.0, end - time.monotonic()))
        after, idle_cpu = rss_mb(pid), cpu_seconds(pid) - cpu0
        print(f"  after {idle:.0f} s idle: RSS {after:7.1f} MB  ({after - rss[1]:+.0f} MB vs after the first); "
              f"server CPU while idle {idle_cpu:.2f} s (background threads)")
        last = max(rss)
        print(f"\n  {_check(after - rss[1] <= TARGET_RSS_IDLE_MB)} after {last} visitors and {idle:.0f} s idle: "
              f"{after - rss[1]:+.0f} MB <= {TARGET_RSS_IDLE_MB} MB (issue: 300 visitors, 150 s)")
    if 100 in rss and 1 in rss:
        print(f"  {_check(rss[100] - rss[1] <= TARGET_RSS_100_MB)} growth over 100 visitors: "
              f"{rss[100] - rss[1]:+.0f} MB <= {TARGET_RSS_100_MB} MB")


# --- main ---------------------------------------------------------------------------------------


def _counts(text: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, not {text!r}") from None
    if any(v < 0 or v > 1000 for v in values):
        raise argparse.ArgumentTypeError(f"counts must be between 0 and 1000: {text!r}")
    return values


async def _levels(url: str, pid: int, args) -> None:
    warm = await visit(url, -1, args.view_timeout)  # a visitor of its own: the levels' views stay uncached
    print(f"warm-up visit (not counted): {', '.join(f'{v.label} {v.seconds:.2f} s' for v in warm)}"
          + (f"; errors: {[e for v in warm for e in v.errors]}" if any(v.errors for v in warm) else ""), flush=True)
    levels, first = [], 0
    for n in args.levels:
        level = await run_level(url, pid, n, args.view_timeout, args.level_timeout, first)
        first += n
        print(f"  {n} sessions: {len(level.finished)} views finished in {level.wall:.1f} s", flush=True)
        levels.append(level)
    print_levels(levels)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=_counts, default=[1, 10, 20, 50, 100],
                        help="concurrent visitors per level (default 1,10,20,50,100)")
    parser.add_argument("--sequential", type=_counts, default=[0, 10, 50, 100, 300],
                        help="RSS printed after these numbers of sequential visitors (default 0,10,50,100,300; "
                             "empty: skip the memory part)")
    parser.add_argument("--idle", type=float, default=150.0, help="seconds idle after the sequential visitors (0: skip)")
    parser.add_argument("--view-timeout", type=float, default=120.0, help="seconds allowed per view")
    parser.add_argument("--level-timeout", type=float, default=900.0, help="seconds allowed per level")
    parser.add_argument("--memory-timeout", type=float, default=1800.0, help="seconds allowed for the sequential visitors")
    parser.add_argument("--url", help="an already running server (http://127.0.0.1:PORT/); needs --pid")
    parser.add_argument("--pid", type=int, help="process id of the server at --url (CPU and RSS are read from /proc)")
    args = parser.parse_args(argv)
    if args.url and not args.pid:
        parser.error("--url needs --pid: CPU and memory are read from /proc/<pid>")
    if args.url and not args.url.endswith("/"):
        args.url += "/"

    def with_server(run) -> None:
        if args.url:
            asyncio.run(run(args.url, args.pid))
            return
        server = OwnServer()
        try:
            print(f"serve.py on {server.url} (pid {server.pid}), RSS at start {rss_mb(server.pid):.0f} MB", flush=True)
            asyncio.run(run(server.url, server.pid))
        finally:
            server.stop()

    try:
        if args.levels:
            with_server(lambda url, pid: _levels(url, pid, args))
        if args.sequential:
            if args.url:
                print("\n(memory part on the same server as the levels: --url was given)")
            with_server(lambda url, pid: run_memory(url, pid, args.sequential, args.idle, args.view_timeout,
                                                    args.memory_timeout))
    except (RuntimeError, ValueError, OSError) as exc:
        print(f"bench_load: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
