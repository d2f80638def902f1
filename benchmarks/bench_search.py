"""Search benchmark: the type-ahead over the 34,875 reference communes, keystroke by keystroke.

For a few realistic names, calls :func:`tdi_geo.search.suggest` with every
prefix a user types (« l », « la », « lam »… « lamballe-armor ») and prints
the median and 95th percentile time per keystroke, then the same for a full
:func:`tdi_geo.search.where` answer. The target is at most 100 ms per
keystroke on the server. The indexes are built once per process, before the
timings (that build time is printed too).

Run: ``.venv/bin/python benchmarks/bench_search.py``
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tdi_geo.programme import default_date, load_programme  # noqa: E402
from tdi_geo.search import prepare, suggest, where  # noqa: E402

#: What people type: accents or not, « St », hyphens or spaces, a homonym, a code, a former commune.
TYPED = [
    "Lamballe-Armor",
    "st martin d'heres",
    "Saint-Étienne",
    "saint denis",
    "chateauneuf",
    "Le Havre",
    "Morieux",
    "22093",
    "Communauté d'agglomération Lamballe",
]
REPEAT = 3


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    prog = load_programme()
    date = default_date(prog)
    start = time.perf_counter()
    prepare(prog, date)
    print(f"index build (prepare, once per process): {1000 * (time.perf_counter() - start):.0f} ms")

    per_keystroke = []
    for text in TYPED:
        times = []
        for _ in range(REPEAT):
            for end in range(1, len(text) + 1):
                t0 = time.perf_counter()
                suggest(prog, text[:end], date)
                times.append(time.perf_counter() - t0)
        per_keystroke += times
        print(f"  {text!r:40} median {1000 * statistics.median(times):6.1f} ms   "
              f"p95 {1000 * _percentile(times, 0.95):6.1f} ms   ({len(times)} keystrokes)")
    print(f"suggest, per keystroke ({len(per_keystroke)}): median {1000 * statistics.median(per_keystroke):.1f} ms, "
          f"p95 {1000 * _percentile(per_keystroke, 0.95):.1f} ms, max {1000 * max(per_keystroke):.1f} ms "
          "(target: <= 100 ms)")

    full = []
    for text in TYPED:
        t0 = time.perf_counter()
        where(prog, text, date)
        full.append(time.perf_counter() - t0)
    print(f"where (full answer, {len(full)} queries): median {1000 * statistics.median(full):.0f} ms, "
          f"max {1000 * max(full):.0f} ms")


if __name__ == "__main__":
    main()
