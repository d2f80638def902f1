"""Print-ready picture benchmark: PNG (A4, 300 dpi) and PDF of the national view.

Embedded data, latest version, ``web`` resolution (what the page's buttons
draw), coloured by status (categorical) and by number of projects
(classified). Measures, per format:

- the first render in the process (imports matplotlib, loads the context layers);
- the median of warm renders (what a second click costs), and the file size.

Prints the numbers; asserts nothing. Run: ``.venv/bin/python benchmarks/bench_print.py``
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tdi_geo import print_map
from tdi_geo.indicators import build_view
from tdi_geo.programme import default_date, load_programme

WARM_RUNS = 3


def _time(func, *args, **kwargs) -> tuple[float, bytes]:
    start = time.perf_counter()
    out = func(*args, **kwargs)
    return time.perf_counter() - start, out


def main() -> None:
    prog = load_programme()
    date = default_date(prog)
    source = print_map.version_source(prog, date)
    print(f"Image imprimable, vue nationale au {date} (résolution web)")
    first = True
    for indicator in ("status", "projects"):
        view = build_view(prog, date, indicator=indicator)
        for fmt, writer in print_map.WRITERS.items():
            cold, data = _time(writer, view, indicator, source=source)
            if first:
                print(f"  premier rendu du processus ({fmt}, {indicator}) : {cold:.2f} s")
                first = False
            warm = [_time(writer, view, indicator, source=source)[0] for _ in range(WARM_RUNS)]
            print(f"  {fmt.upper()} {indicator:<9} : médiane {statistics.median(warm):.2f} s "
                  f"(min {min(warm):.2f}, max {max(warm):.2f}) sur {WARM_RUNS} rendus ; {len(data) / 1e6:.2f} Mo")


if __name__ == "__main__":
    main()
