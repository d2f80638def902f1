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


def _with_cached_value(path, formula: str, value: str) -> None:
    """Store ``value`` as the saved result of ``formula`` (openpyxl writes formulas without one; Excel never does)."""
    import zipfile

    members = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            members[info.filename] = zf.read(info)
    sheet = members["xl/worksheets/sheet1.xml"]
    assert f"<f>{formula}</f><v />".encode() in sheet
    members["xl/worksheets/sheet1.xml"] = sheet.replace(f"<f>{formula}</f><v />".encode(),
                                                        f"<f>{formula}</f><v>{value}</v>".encode())
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for member, data in members.items():
            zf.writestr(member, data)


def test_xlsx_cells_read_as_the_spreadsheet_shows_them(tmp_path):
    """calamine gives the same text as openpyxl (values as saved) for every kind of cell, gaps included.

    A formula reads as the value the spreadsheet saved with it, what it
    shows; one saved without a value (by a program that does not calculate,
    like openpyxl) is an empty cell, for both readers.
    """
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
    ws["D7"] = "commence en colonne D"
    ws.title = "Feuille à accents"
    wb.create_sheet("Deuxième").append(["b"])
    path = tmp_path / "cellules.xlsx"
    wb.save(path)
    _with_cached_value(path, "SUM(B2:C2)", "2500000.5")

    expected = []
    for row in load_workbook(path, data_only=True)["Feuille à accents"].iter_rows(values_only=True):
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
    assert got[1][3] == "2019-09-24" and got[1][4] == "2020-01-29 14:30:00" and got[1][6] == "2500000.5"
    assert got[2][0] == ""  # a formula saved without its value
    assert got[4] == [""] * width  # row 5 of the spreadsheet is empty: numbering is kept
    assert got[6][3] == "commence en colonne D" and got[6][:3] == ["", "", ""]


def _anct_rows(sample) -> list[list]:
    """The sample ANCT list as a spreadsheet holds it: codes typed as numbers (leading zeros lost)."""
    rows = sample.communes.values.tolist()
    return [list(sample.communes.columns)] + [[int(c) if c.isdigit() else c, *rest] for c, *rest in rows]


def _xls_bytes(rows: list[list]) -> bytes:
    import io

    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("Feuille1")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_the_anct_list_reads_the_same_from_ods_xls_and_xlsm_as_from_xlsx(tmp_path, base, sample):
    from import_samples import ods_bytes, xlsx_bytes

    rows = _anct_rows(sample)
    twins = {"liste.xlsx": xlsx_bytes(rows), "liste.ods": ods_bytes(rows), "liste.xls": _xls_bytes(rows),
             "liste.xlsm": xlsx_bytes(rows)}
    outcomes = {}
    for name, data in twins.items():
        path = tmp_path / name
        path.write_bytes(data)
        report = _one(import_files([path], tmp_path / f"out-{name}", date="2023-06-01", base_dataset=base))
        assert report.errors == [], (name, report.errors)
        members = load_programme(tmp_path / f"out-{name}").memberships
        outcomes[name] = (report.kind, report.summary, sorted(members[members["valid_from"] == "2023-06-01"]
                                                              [["territory_id", "epci_siren", "insee_com"]]
                                                              .itertuples(index=False)))
    assert outcomes["liste.ods"] == outcomes["liste.xlsx"] == outcomes["liste.xls"] == outcomes["liste.xlsm"]
    assert outcomes["liste.ods"][0] == "communes" and outcomes["liste.ods"][1]["lignes"] == len(sample.communes)


def _dated_workbook(serials: list[str], date1904: bool) -> bytes:
    """A status table whose date cells are serial numbers shown with a date format (style 1)."""
    from hostile_workbooks import NS, sheet_xml, xlsx

    rows = ['<row r="1"><c r="A1" t="inlineStr"><is><t>territoire</t></is></c><c r="B1" t="inlineStr"><is>'
            '<t>date</t></is></c><c r="C1" t="inlineStr"><is><t>statut</t></is></c></row>']
    for number, serial in enumerate(serials, start=2):
        rows.append(f'<row r="{number}"><c r="A{number}" t="inlineStr"><is><t>Territoire Ain</t></is></c>'
                    f'<c r="B{number}" s="1"><v>{serial}</v></c>'
                    f'<c r="C{number}" t="inlineStr"><is><t>Engagé</t></is></c></row>')
    styles = f'<styleSheet {NS}><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs></styleSheet>'
    properties = '<workbookPr date1904="1"/>' if date1904 else ""
    workbook = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
                'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
                f'relationships">{properties}<sheets>'
                '<sheet name="Statuts" sheetId="1" r:id="rId1"/></sheets></workbook>')
    return xlsx(sheet_xml("".join(rows)), styles=styles, workbook=workbook)


@pytest.mark.parametrize("date1904, serial", [(False, "43732"), (True, "42270")])
def test_a_date_reads_as_the_spreadsheet_shows_it_in_both_date_systems(tmp_path, base, date1904, serial):
    """24 Sept 2019 is serial 43732 counted from 1900, 42270 counted from 1904 (old Mac Excel)."""
    path = tmp_path / "statuts.xlsx"
    path.write_bytes(_dated_workbook([serial], date1904))
    out = tmp_path / "out"
    report = _one(import_files([path], out, base_dataset=base))
    assert report.errors == []
    events = load_programme(out).status_events
    assert "2019-09-24" in set(events["date"])


@pytest.mark.parametrize("date1904", [False, True])
def test_out_of_range_date_serials_get_a_french_message_naming_the_cells(tmp_path, base, date1904):
    path = tmp_path / "statuts.xlsx"
    path.write_bytes(_dated_workbook(["43732", "1e12", "-5", "99999999"], date1904))
    report = _one(validate_files([path], base_dataset=base))
    message = next(e for e in report.errors if "date" in e)
    assert "colonne « date »" in message and "ligne 3" in message and "ligne 4" in message and "ligne 5" in message
    assert "ligne 2" not in message


@pytest.mark.parametrize("suffix", [".xlsx", ".ods", ".geojson", ".csv"])
def test_a_cell_over_the_csv_limit_is_refused_in_every_format_naming_its_row_and_column(tmp_path, base, suffix):
    from import_samples import ods_bytes

    from tdi_geo.importers._grid import MAX_CELL_CHARS

    long = "x" * (MAX_CELL_CHARS + 1)
    rows = [["insee_com", "lib_ti"], ["01001", "Territoire Ain"], ["01002", long]]
    path = tmp_path / f"longue{suffix}"
    if suffix == ".xlsx":  # written by hand: Excel and openpyxl stop a cell at 32,767 characters, a forger does not
        from hostile_workbooks import sheet_xml, xlsx

        path.write_bytes(xlsx(sheet_xml("".join(
            f'<row r="{r}">' + "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' for v in row) + "</row>"
            for r, row in enumerate(rows, start=1)))))
    elif suffix == ".ods":
        path.write_bytes(ods_bytes(rows))
    elif suffix == ".geojson":
        path.write_text(json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": None, "properties": dict(zip(rows[0], r))} for r in rows[1:]]}))
    else:
        path.write_text("\n".join(";".join(r) for r in rows) + "\n", encoding="utf-8")
    message = "\n".join(_one(validate_files([path], base_dataset=base)).errors)
    assert "131\u202f072 caractères" in message and "ligne 3" in message, message
    assert suffix == ".csv" or "ligne 3, colonne B" in message, message  # the csv module cannot say which column
    assert long[:200] not in message


def test_every_value_quoted_in_a_message_is_cut_to_about_80_characters(tmp_path, base):
    long_pillar = "Innover " + "toujours " * 200
    long_name = "Territoire " + "très " * 300
    rows = pd.DataFrame({"territoire": ["Territoire Ain", long_name], "pilier": [long_pillar, "Innover"],
                         "date": ["2021-03-01", "2021-03-01"]})
    report = _one(validate_files([write_csv(rows, tmp_path / "projets.csv")], base_dataset=base))
    text = "\n".join(report.errors + report.warnings)
    assert "ligne 2" in text and "ligne 3" in text
    assert long_pillar[:80] + "…" in text and long_name[:80] + "…" in text
    assert long_pillar[:81] not in text and long_name[:81] not in text
