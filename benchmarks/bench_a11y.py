"""Accessibility figures of the map's colours: palettes under colour-vision deficiency, legend contrast.

For each categorical palette (statuses, perimeter changes, chronology) and
each simulated vision (Machado et al. 2009, severity 1.0), prints the
smallest CIEDE2000 difference between two of its colours and the closest
pair; then the WCAG contrast ratio of the legend's text colours, on the
legend's background laid over the darkest possible map.

Run: ``.venv/bin/python benchmarks/bench_a11y.py``
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tdi_geo.mapping.colour_vision import MACHADO_2009, legend_text_contrasts, map_palettes, min_pairwise_delta_e  # noqa: E402


def main() -> None:
    print("Minimum pairwise ΔE (CIEDE2000) per palette, simulated vision (Machado 2009, severity 1.0)")
    print(f"{'palette':<12}" + "".join(f"{d:>28}" for d in MACHADO_2009))
    for name, palette in map_palettes().items():
        cells = []
        for deficiency in MACHADO_2009:
            value, pair = min_pairwise_delta_e(palette, deficiency)
            cells.append(f"{value:6.1f} ({pair[0]}/{pair[1]})")
        print(f"{name:<12}" + "".join(f"{c:>28}" for c in cells))
    print("\nLegend text contrast (WCAG AA: ≥ 4.5 for normal text)")
    for selector, (colour, background, ratio) in legend_text_contrasts().items():
        print(f"  {selector:<22} {colour} on {background}: {ratio:5.2f} : 1")


if __name__ == "__main__":
    main()
