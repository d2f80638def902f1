"""Issue 11: the shared view parser, and the GeoPackage / shapefile / XLSX writers."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pyogrio
import pytest

from app_panels import url_state
from tdi_geo import export, export_formats, xlsx_writer
from tdi_geo.cli import main as cli_main
from tdi_geo.indicators import build_view
from tdi_geo.programme import load_programme
from tdi_geo.view_params import (
    MAX_VALUE_LENGTH,
    default_view,
    file_stem,
    parse_view_params,
)

DATES = ["2018-11-22", "2019-07-25", "2019-09-24"]
REGIONS = {"27": "Bourgogne-Franche-Comté", "53": "Bretagne", "84": "Auvergne-Rhône-Alpes"}


def parse(**params):
    return parse_view_params(params, DATES, REGIONS, "2019-09-24")


# --- the parser ------------------------------------------------------------------


def test_no_parameter_is_the_default_view():
    assert parse() == (default_view("2019-09-24"), [])


def test_good_values_are_normalised():
    state, messages = parse(date=" 2019-07-25 ", **{"from": "2018-11-22"}, region="84, 53,53",
                            pillar="innover", status="contract_signed,engaged", fragile="OUI", documented="0",
                            indicator="projects", classes="fisher_jenks")
    assert messages == []
    assert state == {
        "date": "2019-07-25", "date_from": "2018-11-22", "regions": ["84", "53"], "pillar": "innover",
        "indicator": "projects", "scheme": "fisher_jenks", "statuses": ["engaged", "contract_signed"],
        "fragile_only": True, "documented_only": False,
    }


def test_a_repeated_parameter_keeps_its_last_value():
    state, _ = parse_view_params({"region": ["27", "53"]}, DATES, REGIONS, "2019-09-24")
    assert state["regions"] == ["53"]


@pytest.mark.parametrize(("params", "key", "message"), [
    ({"date": "2030-01-01"}, "date",
     ("Date « 2030-01-01 » inconnue : versions disponibles 2018-11-22, 2019-07-25, 2019-09-24. "
     "La carte s'ouvre au 2019-09-24.")),
    ({"from": "2030-01-01"}, "date_from", "Version de comparaison « 2030-01-01 » ignorée (inconnue ou identique)."),
    ({"from": "2019-09-24"}, "date_from", "Version de comparaison « 2019-09-24 » ignorée (inconnue ou identique)."),
    ({"region": "99"}, "regions", "Code de région inconnu ignoré : 99 (codes INSEE, ex. 53 pour la Bretagne)."),
    ({"pillar": "cuisine"}, "pillar",
     "Pilier « cuisine » inconnu : piliers possibles recruter, innover, attirer, simplifier, transition_ecologique."),
    ({"indicator": "bonheur"}, "indicator",
     ("Indicateur « bonheur » inconnu : indicateurs possibles since, status, funding_eur, funding_per_inhabitant, "
     "projects, projects_committed.")),
    ({"classes": "hasard"}, "scheme", "Méthode de classes « hasard » inconnue : quantiles, fisher_jenks."),
    ({"status": "fini"}, "statuses", "Statut inconnu ignoré : fini (statuts possibles : "),
    ({"fragile": "peut-être"}, "fragile_only", "Valeur « peut-être » ignorée pour « fragile » (attendu : 1 ou 0)."),
    ({"documented": "2"}, "documented_only", "Valeur « 2 » ignorée pour « documented » (attendu : 1 ou 0)."),
    ({"region": "5" * (MAX_VALUE_LENGTH + 1)}, "regions",
     f"Valeur trop longue ignorée pour « region » ({MAX_VALUE_LENGTH + 1} caractères, au plus {MAX_VALUE_LENGTH})."),
])
def test_each_bad_value_gives_its_french_message_and_keeps_the_default(params, key, message):
    state, messages = parse(**params)
    assert len(messages) == 1 and messages[0].startswith(message)
    assert state[key] == default_view("2019-09-24")[key]


def test_a_partly_bad_list_keeps_its_good_codes():
    state, messages = parse(region="53,99,00", status="engaged,fini")
    assert state["regions"] == ["53"] and state["statuses"] == ["engaged"]
    assert messages[0].startswith("Code de région inconnu ignoré : 99, 00") and "fini" in messages[1]


def test_the_page_reads_its_url_with_the_same_parser_and_keeps_its_own_parameters():
    params = {"region": "99", "pillar": "cuisine", "tiles": "1", "territory": "lamballe"}
    state, warnings = url_state.parse_query_params(params, DATES, REGIONS, "2019-09-24")
    assert warnings == parse(region="99", pillar="cuisine")[1]
    assert state["tiles"] is True and state["territory"] == "lamballe"
    _, warnings = url_state.parse_query_params({"tiles": "x"}, DATES, REGIONS, "2019-09-24")
    assert warnings == ["Valeur « x » ignorée pour « tiles » (attendu : 1 ou 0)."]


def test_file_stem_names_date_comparison_and_regions():
    assert file_stem(default_view("2019-09-24")) == "territoires-industrie_2019-09-24"
    state, _ = parse(region="84,53", **{"from": "2018-11-22"})
    assert file_stem(state) == "territoires-industrie_2019-09-24_depuis_2018-11-22_reg-84-53"


# --- the writers -----------------------------------------------------------------


def test_shapefile_field_names_fit_dbase_and_are_unique():
    fields = [export_formats.shapefile_field(name) for name in export.EXPORT_FIELDS]
    assert all(len(f) <= 10 for f in fields)
    assert len({f.lower() for f in fields}) == len(fields)
    assert {n for n in export.EXPORT_FIELDS if len(n) > 10} <= set(export_formats.SHAPEFILE_FIELDS)


@pytest.mark.parametrize("fmt", ["gpkg", "xlsx", "zip"])
def test_an_empty_view_still_gives_a_readable_file(small_programme, tmp_path, fmt):
    view = build_view(small_programme, "2019-09-24", regions=["84"], resolution="fine")
    assert view.empty
    path = tmp_path / f"vide.{fmt}"
    path.write_bytes(export_formats.WRITERS[fmt](view))
    if fmt == "xlsx":
        rows = list(openpyxl.load_workbook(path)["territoires"].values)
        assert list(rows[0]) == list(export.properties_frame(view).columns) and len(rows) == 1
    else:
        target = path if fmt == "gpkg" else f"/vsizip/{path}/territoires.shp"
        assert len(pyogrio.read_dataframe(target)) == 0


def test_xlsx_writer_keeps_types_drops_control_characters_and_is_deterministic(tmp_path):
    rows = [["texte", "entier", "réel", "booléen", "vide"],
            ["a <b> & \"c\"\x01\x1f", 12345678901, 0.1, True, None],
            ["  espaces  ", -3, float("nan"), False, ""]]
    body = xlsx_writer.xlsx_bytes([("Feuille: [1]/?", rows), ("Feuille: [1]/?", [["x"]])])
    assert body == xlsx_writer.xlsx_bytes([("Feuille: [1]/?", rows), ("Feuille: [1]/?", [["x"]])])
    path = tmp_path / "t.xlsx"
    path.write_bytes(body)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Feuille_ _1___", "Feuille_ _1____2"], "valid and unique names"
    got = list(book.worksheets[0].values)
    assert got[1] == ('a <b> & "c"', 12345678901, 0.1, True, None)
    assert got[2][:4] == ("  espaces  ", -3, None, False)
    assert book.worksheets[0]["A1"].font.b, "the header is bold"
    assert xlsx_writer.column_letter(27) == "AB"


def test_xlsx_writer_refuses_an_empty_workbook():
    with pytest.raises(ValueError, match="au moins une feuille"):
        xlsx_writer.xlsx_bytes([])


@pytest.mark.parametrize("fmt", ["gpkg", "xlsx", "zip"])
def test_the_cli_exports_the_new_formats(small_dataset, tmp_path, fmt):
    out = tmp_path / f"vue.{fmt}"
    assert cli_main(["export", "--dataset", str(small_dataset), "--date", "2019-09-24", "--region", "53",
                     "--format", fmt, "-o", str(out)]) == 0
    if fmt == "zip":
        assert "territoires.shp" in zipfile.ZipFile(io.BytesIO(out.read_bytes())).namelist()
        frame = pyogrio.read_dataframe(f"/vsizip/{out}/territoires.shp")
    elif fmt == "gpkg":
        frame = pyogrio.read_dataframe(out)
    else:
        frame = None
        ids = [r[0] for r in list(openpyxl.load_workbook(out)["territoires"].values)[1:]]
    if frame is not None:
        ids = list(frame["id"])
        assert set(frame["region"]) == {"53"}
    assert sorted(ids) == sorted(build_view(load_programme(small_dataset), "2019-09-24", regions=["53"])["id"])
