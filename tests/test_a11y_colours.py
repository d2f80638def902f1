"""The map's colours for readers with a colour-vision deficiency, and its text contrast (WCAG AA)."""

from __future__ import annotations

import numpy as np
import pytest

from tdi_geo.mapping.colour_vision import (
    contrast_ratio,
    delta_e_2000,
    legend_text_contrasts,
    map_palettes,
    min_pairwise_delta_e,
    simulate,
)

#: Floor of the smallest CIEDE2000 difference between two colours of a palette.
MIN_DELTA_E = 10.0


@pytest.mark.parametrize(("lab1", "lab2", "expected"), [
    # Sharma, Wu & Dalal (2005), test pairs 1, 7 and 17 of their CIEDE2000 data set.
    ((50, 2.6772, -79.7751), (50, 0, -82.7485), 2.0425),
    ((50, 2.49, -0.001), (50, -2.49, 0.0011), 7.2195),
    ((50, 2.5, 0), (73, 25, -18), 27.1492),
])
def test_ciede2000_matches_the_published_test_data(lab1, lab2, expected):
    assert delta_e_2000(np.array(lab1, float), np.array(lab2, float)) == pytest.approx(expected, abs=1e-4)


def test_simulation_confuses_red_and_green_for_a_deuteranope():
    red, green = np.array([0.8, 0.2, 0.2]), np.array([0.45, 0.55, 0.2])
    assert np.abs(simulate(red, "normal") - simulate(green, "normal")).max() > 0.3
    # What Machado's model is for: the red/green axis collapses.
    assert np.abs(simulate(red, "deuteranopia") - simulate(green, "deuteranopia")).max() < 0.15
    palette = {"red": "#cc3333", "green": "#73a833"}
    assert min_pairwise_delta_e(palette, "deuteranopia")[0] < min_pairwise_delta_e(palette, "normal")[0] / 2


@pytest.mark.parametrize("deficiency", ["normal", "deuteranopia", "protanopia"])
@pytest.mark.parametrize("palette", ["status", "diff", "chronology"])
def test_palettes_stay_distinguishable(palette, deficiency):
    value, pair = min_pairwise_delta_e(map_palettes()[palette], deficiency)
    assert value >= MIN_DELTA_E, f"{palette}: {pair} only ΔE {value:.1f} apart with {deficiency}"


def test_wcag_contrast_ratio():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


def test_map_text_meets_wcag_aa():
    found = legend_text_contrasts()
    assert set(found) == {".tdi-legend", ".tdi-note", ".tdi-inset-label"}
    for selector, (colour, background, ratio) in found.items():
        assert ratio >= 4.5, f"{selector}: {colour} on {background} is {ratio:.2f}:1"


def test_contrast_check_reads_the_stylesheet(tmp_path):
    css = tmp_path / "map.css"
    css.write_text(".leaflet-container { background: #ffffff; }\n"
                   ".tdi-legend { background: rgba(255,255,255,.5); color: #999; }\n"
                   ".tdi-note { color: #aaa; }\n.tdi-inset-label { color: #bbb; }\n")
    found = legend_text_contrasts(css)
    assert found[".tdi-legend"][1] == "#808080"  # half white over black
    assert all(ratio < 4.5 for _, _, ratio in found.values())
