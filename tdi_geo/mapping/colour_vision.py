"""Colour-vision deficiency simulation and colour differences, to check the map's palettes.

Simulation: Machado, Oliveira & Fernandes (2009), « A Physiologically-based
Model for Simulation of Color Vision Deficiency », IEEE TVCG 15(6), matrices
for severity 1.0, applied to linear sRGB. Differences: CIEDE2000 in CIELAB
(D65). Written here from the published formulas (no colour-science
dependency); used by the tests and ``benchmarks/bench_a11y.py``.
"""

from __future__ import annotations

import re
from itertools import combinations
from pathlib import Path

import numpy as np

#: Machado et al. 2009, severity 1.0, on linear RGB.
MACHADO_2009: dict[str, np.ndarray] = {
    "normal": np.eye(3),
    "protanopia": np.array([
        [0.152286, 1.052583, -0.204868],
        [0.114503, 0.786281, 0.099216],
        [-0.003882, -0.048116, 1.051998],
    ]),
    "deuteranopia": np.array([
        [0.367322, 0.860646, -0.227968],
        [0.280085, 0.672501, 0.047413],
        [-0.011820, 0.042940, 0.968881],
    ]),
    "tritanopia": np.array([
        [1.255528, -0.076749, -0.178779],
        [-0.078411, 0.930809, 0.147602],
        [0.004733, 0.691367, 0.303900],
    ]),
}

# sRGB (linear) → XYZ, D65, and the D65 white point (IEC 61966-2-1).
_RGB_TO_XYZ = np.array([
    [0.4124564, 0.3575761, 0.1804375],
    [0.2126729, 0.7151522, 0.0721750],
    [0.0193339, 0.1191920, 0.9503041],
])
_WHITE = np.array([0.95047, 1.0, 1.08883])


def hex_to_rgb(colour: str) -> np.ndarray:
    """``"#0072B2"`` → sRGB in [0, 1]."""
    text = colour.lstrip("#")
    if len(text) != 6:
        raise ValueError(f"Expected a #rrggbb colour, got {colour!r}")
    return np.array([int(text[i:i + 2], 16) for i in (0, 2, 4)], dtype=float) / 255.0


def _linear(srgb: np.ndarray) -> np.ndarray:
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def simulate(srgb: np.ndarray, deficiency: str) -> np.ndarray:
    """Linear RGB as seen with ``deficiency`` (a key of :data:`MACHADO_2009`), clipped to the gamut."""
    if deficiency not in MACHADO_2009:
        raise ValueError(f"Unknown deficiency {deficiency!r}; expected one of {tuple(MACHADO_2009)}")
    return np.clip(MACHADO_2009[deficiency] @ _linear(np.asarray(srgb, dtype=float)), 0.0, 1.0)


def _lab(linear_rgb: np.ndarray) -> np.ndarray:
    xyz = _RGB_TO_XYZ @ linear_rgb / _WHITE
    eps, kappa = 216 / 24389, 24389 / 27
    f = np.where(xyz > eps, np.cbrt(xyz), (kappa * xyz + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e_2000(lab1: np.ndarray, lab2: np.ndarray) -> float:
    """CIEDE2000 colour difference (Sharma, Wu & Dalal 2005 formulation), kL = kC = kH = 1."""
    l1, a1, b1 = lab1
    l2, a2, b2 = lab2
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_bar**7 / (c_bar**7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360 if c1p else 0.0
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360 if c2p else 0.0
    dl, dc = l2 - l1, c2p - c1p
    if c1p * c2p == 0:
        dh = 0.0
    else:
        dh = h2p - h1p
        dh -= 360 if dh > 180 else (-360 if dh < -180 else 0)
    d_big_h = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    l_bar, c_bar_p = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        h_bar = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        h_bar = (h1p + h2p) / 2
    else:
        h_bar = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (1 - 0.17 * np.cos(np.radians(h_bar - 30)) + 0.24 * np.cos(np.radians(2 * h_bar))
         + 0.32 * np.cos(np.radians(3 * h_bar + 6)) - 0.20 * np.cos(np.radians(4 * h_bar - 63)))
    d_theta = 30 * np.exp(-(((h_bar - 275) / 25) ** 2))
    r_c = 2 * np.sqrt(c_bar_p**7 / (c_bar_p**7 + 25.0**7))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / np.sqrt(20 + (l_bar - 50) ** 2)
    s_c, s_h = 1 + 0.045 * c_bar_p, 1 + 0.015 * c_bar_p * t
    r_t = -np.sin(np.radians(2 * d_theta)) * r_c
    return float(np.sqrt((dl / s_l) ** 2 + (dc / s_c) ** 2 + (d_big_h / s_h) ** 2
                         + r_t * (dc / s_c) * (d_big_h / s_h)))


def min_pairwise_delta_e(colours: dict[str, str], deficiency: str) -> tuple[float, tuple[str, str]]:
    """Smallest CIEDE2000 difference between two colours of a palette, as seen with ``deficiency``.

    Returns
    -------
    (float, (str, str))
        The difference and the two keys of the closest pair.
    """
    labs = {k: _lab(simulate(hex_to_rgb(c), deficiency)) for k, c in colours.items()}
    return min((delta_e_2000(labs[a], labs[b]), (a, b)) for a, b in combinations(labs, 2))


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a ``#rrggbb`` colour."""
    return float(np.array([0.2126, 0.7152, 0.0722]) @ _linear(hex_to_rgb(colour)))


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio (1 to 21) of two opaque colours."""
    high, low = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def map_palettes() -> dict[str, dict[str, str]]:
    """The categorical palettes a reader must tell apart: statuses (with « Pas de donnée »),
    perimeter changes, and the chronology's « ajouté » / « déjà présent » / land."""
    from tdi_geo.chronology import _LAND_COLOR, ADDED_COLOR, PRESENT_COLOR
    from tdi_geo.mapping.style import DIFF_STYLES, NO_DATA_COLOR, STATUS_COLORS

    return {
        "status": {**STATUS_COLORS, "no_data": NO_DATA_COLOR},
        "diff": {key: colour for key, (colour, _) in DIFF_STYLES.items()},
        "chronology": {"added": ADDED_COLOR, "present": PRESENT_COLOR, "land": _LAND_COLOR},
    }


def _css_rules(css: str) -> dict[str, dict[str, str]]:
    rules = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", re.sub(r"/\*.*?\*/", "", css, flags=re.S)):
        declarations = dict(
            (name.strip(), value.strip()) for name, _, value in (d.partition(":") for d in body.split(";")) if value
        )
        for selector in selectors.split(","):
            rules.setdefault(selector.strip(), {}).update(declarations)
    return rules


def _over(colour: str, backdrop: str) -> str:
    """An ``rgba(r,g,b,a)`` or ``#rrggbb`` colour laid over an opaque ``backdrop``, as ``#rrggbb``."""
    match = re.fullmatch(r"rgba\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*([\d.]+)\s*\)", colour)
    if not match:
        return colour
    rgb, alpha = np.array([float(v) for v in match.groups()[:3]]), float(match.group(4))
    mixed = alpha * rgb + (1 - alpha) * hex_to_rgb(backdrop) * 255
    return "#" + "".join(f"{int(round(v)):02x}" for v in mixed)


def legend_text_contrasts(css_path: Path | None = None) -> dict[str, tuple[str, str, float]]:
    """WCAG contrast of the map's own text (legend, its note, DROM labels), read from ``tdi_map.css``.

    The legend's translucent background is laid over black, the darkest map
    it could sit on: the ratios are lower bounds.

    Returns
    -------
    dict
        selector → (text colour, background colour, contrast ratio).
    """
    rules = _css_rules((css_path or Path(__file__).with_name("tdi_map.css")).read_text(encoding="utf-8"))
    legend_bg = _over(rules[".tdi-legend"]["background"], "#000000")
    map_bg = rules[".leaflet-container"]["background"]
    found = {}
    for selector, background in ((".tdi-legend", legend_bg), (".tdi-note", legend_bg), (".tdi-inset-label", map_bg)):
        colour = rules[selector]["color"]
        colour = "#" + "".join(ch * 2 for ch in colour[1:]) if len(colour) == 4 else colour
        found[selector] = (colour, background, contrast_ratio(colour, background))
    return found
