"""Print-ready picture of a view: A4 landscape PNG (300 dpi) and PDF, drawn with geopandas."""

from __future__ import annotations

import io
import re

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from tdi_geo import mapping, print_map, reference
from tdi_geo.cli import main as cli_main
from tdi_geo.indicators import build_view
from tdi_geo.programme import load_programme


@pytest.fixture(scope="module")
def projects_view():
    return build_view(load_programme(), "2019-09-24", indicator="projects")


def _hex(rgb) -> str:
    return "#" + "".join(f"{int(c):02x}" for c in rgb[:3])


def _dominant_colour(image: np.ndarray, col: float, row: float, half: int = 3) -> str:
    """Most frequent colour of a small window: a thin border line through the point cannot decide."""
    r, c = int(round(row)), int(round(col))
    window = image[r - half : r + half + 1, c - half : c + half + 1, :3].reshape(-1, 3)
    colours, counts = np.unique(window, axis=0, return_counts=True)
    return _hex(colours[counts.argmax()])


def test_png_colour_inside_known_territories_is_their_legend_colour(projects_view):
    from PIL import Image

    source = print_map.version_source(load_programme(), "2019-09-24")
    fig, ax, colored, legend = print_map.draw(projects_view, "projects", source=source)
    transform = ax.transData  # taken before saving, which closes the figure
    height = fig.get_size_inches()[1] * fig.dpi
    png = print_map._save(fig, "png")
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    assert image.shape[:2] == (round(height), round(fig.get_size_inches()[0] * fig.dpi))

    # The class of each value, from the classification itself (not from the picture's fill column).
    classes, _ = mapping.classify(projects_view["projects"], "quantiles")
    expected = {tid: legend["items"][c][0] for tid, c in zip(projects_view["id"], classes)}
    documented = colored[~colored["illustrative"]].copy()
    documented["area"] = shapely.area(documented.geometry.values)  # only to rank, degrees are fine
    metro = documented[~documented["region"].isin(list(mapping.DROM_INSETS))].nlargest(4, "area")
    overseas = documented[documented["region"].isin(list(mapping.DROM_INSETS))].nlargest(1, "area")
    picked = pd.concat([metro, overseas])
    assert len(picked) >= 4
    seen_classes = set()
    for row in picked.itertuples():
        point = row.geometry.representative_point()
        x, y = transform.transform((point.x, point.y))
        colour = _dominant_colour(image, x, height - y)
        assert colour == expected[row.id].lower(), (row.id, colour, expected[row.id])
        seen_classes.add(expected[row.id])
    # Outside France (the Atlantic, left of Brittany below the insets' column): white paper.
    x, y = transform.transform((-5.5, 42.0))
    assert _dominant_colour(image, x, height - y) == "#ffffff"


def test_picture_has_title_legend_drom_scale_and_source(projects_view):
    fig, ax, colored, legend = print_map.draw(projects_view, "projects", source="version « test » : communiqué")
    texts = [t.get_text() for t in fig.texts] + [t.get_text() for t in ax.texts]
    legend_texts = [t.get_text() for t in fig.legends[0].get_texts()]
    fig.clf()
    title = texts[0]
    assert "nombre de projets" in title and "24/09/2019" in title
    assert "France entière" in texts[1] and "144 territoires" in texts[1]
    assert legend_texts[: len(legend["items"])] == [label for _, label in legend["items"]]
    assert mapping.NO_DATA_LABEL in legend_texts
    assert any(mapping.INFERRED_LABEL in t for t in legend_texts)
    assert not any(mapping.ILLUSTRATIVE_LABEL in t for t in legend_texts), "none is illustrative on 24/09/2019"
    source = next(t for t in texts if t.startswith("Source"))
    assert f"COG {reference.provenance()['cog_year']}" in source
    assert "« programme »" in source and "communiqué" in source
    for inset in mapping.DROM_INSETS.values():
        assert inset["label"] in texts
    assert any(re.fullmatch(r"\d+ km", t) for t in texts)
    # DROM shapes are drawn inside their boxes, not at their true place.
    reunion = colored[colored["region"] == "04"]
    assert reunion.total_bounds[0] >= mapping.DROM_INSETS["04"]["box"][0]


def test_the_three_provenance_levels_have_their_own_legend_entries():
    view = build_view(load_programme(), "2018-11-22", indicator="status")
    assert set(view["provenance"]) == {"documented", "inferred", "illustrative"}
    fig, _, _, _ = print_map.draw(view)
    legend_texts = [t.get_text() for t in fig.legends[0].get_texts()]
    fig.clf()
    assert any(mapping.ILLUSTRATIVE_LABEL in t and "hachuré" in t for t in legend_texts)
    assert any(mapping.INFERRED_LABEL in t for t in legend_texts)


def test_scale_bar_is_true_at_its_latitude():
    pyplot = print_map._pyplot()
    fig, ax = pyplot.subplots()
    length, km = print_map.scale_bar(ax, -5.0, 10.0, 41.0, 51.0)
    (x0, x1), (y0, _) = ax.lines[-1].get_data()
    pyplot.close(fig)
    _, _, metres = Geod(ellps="WGS84").inv(x0, y0, x1, y0)
    assert x1 - x0 == pytest.approx(length)
    assert metres / 1000 == pytest.approx(km, rel=0.01)


def test_pdf_is_one_a4_landscape_page(projects_view):
    pdf = print_map.pdf_bytes(projects_view.head(20))
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    width, height = float(box.group(1)), float(box.group(2))
    assert width == pytest.approx(841.9, abs=1) and height == pytest.approx(595.3, abs=1)


@pytest.mark.parametrize("fmt, magic", [("png", b"\x89PNG\r\n\x1a\n"), ("pdf", b"%PDF")])
def test_cli_writes_the_pictures(small_dataset, tmp_path, fmt, magic):
    out = tmp_path / f"vue.{fmt}"
    assert cli_main(["export", "--dataset", str(small_dataset), "--date", "2019-09-24", "--indicator", "projects",
                     "--format", fmt, "-o", str(out)]) == 0
    assert out.read_bytes().startswith(magic)
    if fmt == "png":
        from PIL import Image

        with Image.open(out) as image:
            assert image.size == (3507, 2481)


def test_a_diff_view_is_printed_with_the_change_legend(small_programme):
    from tdi_geo.indicators import diff_view

    view = diff_view(small_programme, "2018-11-22", "2019-09-24")
    fig, ax, colored, legend = print_map.draw(view)
    legend_texts = [t.get_text() for t in fig.legends[0].get_texts()]
    fig.clf()
    assert legend["title"].startswith("Évolution du périmètre")
    assert any(t.startswith("Ajouté") for t in legend_texts)


def test_an_empty_view_still_prints_its_legend_and_title(small_programme):
    view = build_view(small_programme, "2019-09-24", regions=["06"])
    assert view.empty
    fig, ax, colored, legend = print_map.draw(view)
    texts = [t.get_text() for t in fig.texts]
    fig.clf()
    assert "0 territoires" in texts[1] and "Mayotte" in texts[1]
    assert print_map.pdf_bytes(view).startswith(b"%PDF")


def test_an_imported_file_named_with_dollars_prints_and_draws_its_chronology(tmp_path, base, sample):
    """« prix_$5_et_$6_.csv »: as mathtext, « $5_et_$ » is a syntax error that made every picture fail."""
    from PIL import Image

    from import_samples import write_csv
    from tdi_geo.chronology import chronology_panels, render_chronology
    from tdi_geo.importers import import_files

    name = "prix_$5_et_$6_.csv"
    out = tmp_path / "importé"
    assert not import_files([write_csv(sample.communes, tmp_path / name)], out, date="2023-06-01",
                            base_dataset=base)[0].errors
    prog = load_programme(out)
    source = print_map.version_source(prog, "2023-06-01")
    assert name in source
    view = build_view(prog, "2023-06-01", indicator="projects")
    fig, *_ = print_map.draw(view, "projects", source=source)
    assert [t for t in fig.texts if name.replace("$", r"\$") in t.get_text()], "the source line names the file"
    assert print_map._save(fig, "png").startswith(b"\x89PNG")
    assert print_map.pdf_bytes(view, "projects", source=source).startswith(b"%PDF")

    assert any("prix_$5_et_$6_" in p["label"] for p in chronology_panels(prog))
    picture = Image.open(io.BytesIO(render_chronology(prog, dpi=40).png))
    assert picture.width > 100
