"""Valid files that used to be refused or misread (issue 8, item 13), and what cleaning shows.

An EPCI list whose only « insee » header is the région code, file names with
``;``, spaces and accents, a workbook that starts with a chart sheet, French
amounts with cents, and names that change under cleaning.
"""

from __future__ import annotations

import json
import warnings
import zipfile

import pandas as pd
import pytest

from import_samples import epci_rows, write_csv
from test_bad_files import chart_workbook
from tdi_geo.importers import import_files, validate_files
from tdi_geo.importers._read import clean_text
from tdi_geo.programme import load_programme


def _one(reports):
    assert len(reports) == 1
    return reports[0]


def test_epci_list_with_siren_libelle_ter_insee_reg_is_an_epci_list(tmp_path, base, sample):
    rows = epci_rows(sample)[["code_insee_", "libelle_ter", "insee_reg"]]
    rows = rows.rename(columns={"code_insee_": "siren"})
    report = _one(validate_files([write_csv(rows, tmp_path / "epci.csv")], base_dataset=base))
    assert report.errors == []
    assert report.kind == "epci"
    assert report.columns == {"epci_siren": "siren", "lib_ti": "libelle_ter", "region_code": "insee_reg"}


@pytest.mark.parametrize("name", ["liste_epci; maj.geojson", "liste EPCI (copie).geojson", "périmètre été.geojson"])
def test_file_names_with_semicolons_spaces_and_accents_are_read(tmp_path, base, sample, name):
    rows = epci_rows(sample)
    features = [{"type": "Feature", "geometry": None, "properties": row} for row in rows.to_dict("records")]
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    out = tmp_path / "out"
    report = _one(import_files([path], out, date="2019-07-01", base_dataset=base))
    assert report.errors == [] and report.kind == "epci" and report.file == name
    assert set(load_programme(out).territories["name"]) >= {"Territoire Ain", "Territoire Corse"}


def test_zipped_shapefile_under_a_name_with_a_semicolon(tmp_path, base, sample):
    import geopandas as gpd
    from shapely.geometry import Point

    rows = epci_rows(sample).assign(insee_reg=lambda d: d["insee_reg"].astype(int))
    folder = tmp_path / "shp"
    folder.mkdir()
    with warnings.catch_warnings():  # the shapefile driver truncates names to 10 characters, and says so
        warnings.simplefilter("ignore")
        gpd.GeoDataFrame(rows, geometry=[Point(5, 46)] * len(rows), crs="EPSG:4326").to_file(folder / "liste.shp")
    path = tmp_path / "liste; 2019.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for part in folder.iterdir():
            zf.write(part, f"export/{part.name}")
    report = _one(validate_files([path], base_dataset=base))
    assert report.errors == [] and report.kind == "epci" and report.format == "shapefile"


def test_a_workbook_starting_with_a_chart_sheet_reads_the_data_sheet(tmp_path, base, sample):
    rows = [list(sample.communes.columns)] + sample.communes.values.tolist()
    path = tmp_path / "avec_graphique.xlsx"
    path.write_bytes(chart_workbook(rows))
    report = _one(validate_files([path], base_dataset=base))
    assert report.errors == [] and report.kind == "communes" and report.summary["lignes"] == len(sample.communes)


def test_french_and_english_amounts_are_stored_in_whole_euros(tmp_path, base):
    amounts = ["1 250,50", "1.250,50", "1250.50", "1\u202f250", "1250", "1,5", "1\xa0250\xa0000 €", "1,250.75"]
    rows = pd.DataFrame({"id_projet": [f"P{i}" for i in range(len(amounts))], "territoire": "Territoire Ain",
                         "pilier": "Innover", "date": "2021-03-01", "montant_etat": amounts})
    out = tmp_path / "out"
    report = _one(import_files([write_csv(rows, tmp_path / "projets.csv")], out, base_dataset=base))
    stored = load_programme(out).projects.set_index("id")["amount_state_operators_eur"]
    assert [int(stored[f"P{i}"]) for i in range(len(amounts))] == [1251, 1251, 1251, 1250, 1250, 2, 1250000, 1251]
    rounding = [w for w in report.warnings if "arrondi" in w]
    assert rounding and "« montant_etat »" in rounding[0] and "ligne 2 (« 1 250,50 » → 1251 €)" in rounding[0]


def test_names_changed_by_cleaning_are_a_visible_warning(tmp_path, base, sample):
    rows = sample.communes.copy()
    rows.loc[rows["id_ti"] == "0100TI01", "lib_ti"] = "Territoire\u200b Ain\x07"
    report = _one(validate_files([write_csv(rows, tmp_path / "invisibles.csv")], base_dataset=base))
    assert report.errors == []
    warning = next(w for w in report.warnings if "invisibles" in w)
    assert "colonne « lib_ti »" in warning and "lignes 2, 3" in warning


@pytest.mark.parametrize("raw, clean", [("  Ain  ", "Ain"), ("A\u00a0\u00a0B", "A B"), ("A\u200bB", "AB"),
                                        ("\ufeffAin", "Ain"), ("Saint-\u202fÉtienne", "Saint- Étienne"),
                                        ("Vallée", "Vallée"), ("A\x00B", "A\x00B")])
def test_cell_cleaning(raw, clean):
    assert clean_text(raw) == clean


def test_xlsx_cells_read_as_the_spreadsheet_shows_them(tmp_path):
    """The streaming XLSX reader gives the same text as openpyxl for every kind of cell, gaps included."""
    import datetime as dt

    from openpyxl import Workbook, load_workbook

    from tdi_geo.importers._grid import cell_text
    from tdi_geo.importers._read import read_file

    wb = Workbook()
    ws = wb.active
    ws.append(["texte", "entier", "décimal", "date", "date et heure", "booléen", "formule", "vide"])
    ws.append(["Vallée d'Aigues", 1250000, 1250000.5, dt.date(2019, 9, 24), dt.datetime(2020, 1, 29, 14, 30),
               True, "=SUM(B2:C2)", None])
    ws.append(["=HYPERLINK(\"http://x\")", 0, -3.25, dt.datetime(2023, 6, 1), None, False, None, None])
    ws["A6"] = "après un trou de deux lignes"
    ws["C6"] = 7
    ws.title = "Feuille à accents"
    wb.create_sheet("Deuxième").append(["b"])
    path = tmp_path / "cellules.xlsx"
    wb.save(path)

    expected = []
    for row in load_workbook(path)["Feuille à accents"].iter_rows(values_only=True):
        cells = [cell_text(v) for v in row]
        while cells and cells[-1] == "":
            cells.pop()
        expected.append(cells)
    raw = read_file(path)
    assert [s.name for s in raw.sheets] == ["Feuille à accents", "Deuxième"]
    grid = raw.sheets[0].load().grid
    got = [[c for c in row] for row in grid.values.tolist()]
    width = grid.shape[1]
    assert got == [r + [""] * (width - len(r)) for r in expected]
    assert got[1][3] == "2019-09-24" and got[1][4] == "2020-01-29 14:30:00" and got[1][6] == "=SUM(B2:C2)"
    assert got[4] == [""] * width  # row 5 of the spreadsheet is empty: numbering is kept
