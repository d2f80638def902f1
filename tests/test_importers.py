"""Reading, validating and importing official files (issue #5), on files built here."""

from __future__ import annotations

import hashlib
import json
import warnings

import geopandas as gpd
import pandas as pd
import pytest
from openpyxl import Workbook
from shapely.geometry import Point

from import_samples import epci_rows, lose_zeros, write_csv
from tdi_geo.importers import (
    ImportFileError,
    current_dataset,
    export_anct_communes,
    import_files,
    import_to_workspace,
    list_datasets,
    publish_dataset,
    validate_files,
)
from tdi_geo.importers._checks import load_reference, pad_codes, parse_amounts, parse_dates
from tdi_geo.importers._columns import match_columns
from tdi_geo.programme import load_programme, members_at, territories_at


def _one(reports):
    assert len(reports) == 1
    return reports[0]


def _members(dataset, date):
    rows = members_at(load_programme(dataset), date)
    return {tid: set(g["epci_siren"].replace("", pd.NA).dropna()) | set(g["insee_com"].replace("", pd.NA).dropna())
            for tid, g in rows.groupby("territory_id")}


# --- header and code normalisation ------------------------------------------------------


@pytest.mark.parametrize(
    "header, field",
    [("INSEE_COM", "insee_com"), ("Code INSEE", "insee_com"), ("code_commune", "insee_com"),
     ("Libellé TI", "lib_ti"), ("  LIBELLE_TI ", "lib_ti"), ("Code TI", "id_ti")],
)
def test_headers_are_matched_whatever_case_accents_and_spaces(header, field):
    assert match_columns([header, "x"], "communes").get(field) == header


@pytest.mark.parametrize("header", ["siren_epci", "code_epci", "SIREN", "code_insee_", "Code EPCI"])
def test_epci_code_headers(header):
    assert match_columns([header, "lib_ti"], "epci")["epci_siren"] == header


def test_lost_leading_zeros_are_restored_and_corsican_codes_kept():
    codes, padded = pad_codes(pd.Series(["1001", "01001", "2A004", "2b010", "1001.0", " 75056 "]).str.strip(), 5)
    assert codes.tolist() == ["01001", "01001", "2A004", "2B010", "01001", "75056"]
    assert padded == 2
    sirens, _ = pad_codes(pd.Series(["20000172", "2.00000172E8", "200 000 172"]), 9)
    assert sirens.tolist() == ["020000172", "200000172", "200000172"]


def test_french_dates_and_amounts():
    dates, bad = parse_dates(pd.Series(["2019-09-24", "24/09/2019", "2019-09-24 00:00:00", "24 sept", ""]))
    assert dates.tolist()[:3] == ["2019-09-24"] * 3
    assert bad.tolist() == [False, False, False, True, False]
    amounts, bad = parse_amounts(pd.Series(["1 250 000", "1\u202f250\u202f000,50 €", "", "-5", "beaucoup"]))
    assert amounts.tolist()[:3] == [1250000, 1250001, 0]  # cents rounded half up (docs/IMPORT.md)
    assert bad.tolist() == [False, False, False, True, True]


# --- per-commune lists -------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_per_commune_list_in_any_encoding_and_separator(tmp_path, base, sample, encoding, sep):
    rows = sample.communes.assign(insee_com=lose_zeros(sample.communes["insee_com"]))
    rows.columns = ["Code INSEE", "Nom de la commune", "Code TI", "Libellé TI"]
    path = write_csv(rows, tmp_path / "perimetre.csv", sep=sep, encoding=encoding)
    report = _one(validate_files([path], base_dataset=base))
    assert report.errors == []
    assert report.kind == "communes"
    assert report.columns["lib_ti"] == "Libellé TI"  # accents decoded right
    assert report.summary["territoires"] == 2
    assert report.summary["communes"] == len(sample.communes)
    assert report.summary["codes complétés par des zéros"] == sum(c.startswith("0") for c in sample.communes["insee_com"])
    assert report.summary["EPCI complets"] == 3 and report.summary["EPCI partiels"] == 1


def test_import_aggregates_communes_to_epci_and_keeps_partial_epci_as_communes(tmp_path, base, sample):
    path = write_csv(sample.communes, tmp_path / "tdi_communes.csv")
    reports = import_files([path], tmp_path / "out", date="2023-06-01", base_dataset=base)
    warnings = " ".join(reports[0].warnings)
    assert "EPCI partiel" in warnings and sample.partial in warnings and "2 commune(s) sur" in warnings
    members = _members(tmp_path / "out", "2023-06-01")
    assert members["territoire-ain"] == set(sample.ain)  # matched to the base territory by name
    corse_id = next(t for t in members if t != "territoire-ain")
    assert members[corse_id] == {sample.corse, *sample.partial_communes}
    prog = load_programme(tmp_path / "out")
    imported = territories_at(prog, "2023-06-01").set_index("id").loc[["territoire-ain", corse_id]]
    assert set(imported["provenance"]) == {"official"}
    assert imported.loc[corse_id, "region"] == "94"
    assert imported.loc[corse_id, "official_code"] == "2A35TI01"
    # Issue 8: the import is a state from its version on; 2019 still shows the documented territory.
    before = territories_at(prog, "2019-09-24").set_index("id")
    assert before.loc["territoire-ain", "provenance"] == "documented"
    assert before.loc["territoire-ain", "source"] == "https://example.org/ain"


def test_import_makes_a_dated_version_and_closes_the_base_perimeter(tmp_path, base, sample):
    path = write_csv(sample.communes, tmp_path / "tdi_communes.csv")
    reports = import_files([path], tmp_path / "out", date="2023-06-01", base_dataset=base)
    prog = load_programme(tmp_path / "out")
    assert prog.versions["date"].tolist() == ["2018-11-22", "2023-06-01"]
    version = prog.versions.iloc[-1]
    assert version["expected_territories"] == 2 and version["source"] == "tdi_communes.csv"
    assert _members(tmp_path / "out", "2019-01-01") == {"territoire-ain": {sample.ain[0]}}  # history kept
    assert "vallee-test" not in _members(tmp_path / "out", "2024-06-01")
    assert any("2024-01-01" in w and "retirée" in w for w in reports[0].warnings)
    meta = json.loads((tmp_path / "out" / "dataset.json").read_text(encoding="utf-8"))
    assert meta["imports"] == [{"file": "tdi_communes.csv", "kind": "communes", "date": "2023-06-01",
                                "rows": len(sample.communes),
                                "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}]
    assert meta["row_counts"]["territories"] == len(prog.territories)
    assert (tmp_path / "out" / "crosswalk.csv").exists()  # other base files carried over


def test_version_date_comes_from_file_name_or_content_else_is_asked(tmp_path, base, sample):
    named = write_csv(sample.communes, tmp_path / "perimetre_2019-09-24.csv")
    import_files([named], tmp_path / "a", base_dataset=base)
    assert load_programme(tmp_path / "a").versions["date"].iloc[-1] == "2019-09-24"

    dated = write_csv(sample.communes.assign(date_perimetre="24/09/2019"), tmp_path / "perimetre.csv")
    import_files([dated], tmp_path / "b", base_dataset=base)
    assert load_programme(tmp_path / "b").versions["date"].iloc[-1] == "2019-09-24"

    undated = write_csv(sample.communes, tmp_path / "tdi_2023-2027.csv")
    with pytest.raises(ImportFileError) as exc:
        import_files([undated], tmp_path / "c", base_dataset=base)
    assert "--date" in str(exc.value)
    assert not (tmp_path / "c").exists()


def test_codes_of_merged_communes_are_resolved_with_a_warning(tmp_path, base, sample):
    aliases = load_reference().aliases
    communes = load_reference().communes
    alias = aliases[aliases["kind"] == "commune déléguée"].iloc[0]
    epci = communes.set_index("insee_com").at[alias["new_code"], "epci_siren"]
    rows = communes[communes["epci_siren"] == epci][["insee_com", "name"]].rename(columns={"name": "lib_com"})
    rows.loc[rows["insee_com"] == alias["new_code"], "insee_com"] = alias["old_code"]
    rows = rows.assign(id_ti="T1", lib_ti="Territoire fusion")
    path = write_csv(rows, tmp_path / "ancien_cog.csv")
    report = _one(import_files([path], tmp_path / "out", date="2023-01-01", base_dataset=base))
    assert any(alias["old_code"] in w and alias["new_code"] in w for w in report.warnings)
    members = _members(tmp_path / "out", "2023-01-01")
    assert {epci} in members.values()  # the EPCI is complete again once the old code is resolved


def test_round_trip_through_the_anct_format(tmp_path, base, sample):
    first = import_files([write_csv(sample.communes, tmp_path / "p.csv")], tmp_path / "one", date="2023-06-01",
                         base_dataset=base)
    assert first
    exported = export_anct_communes(tmp_path / "one", "2023-06-01", tmp_path / "export.csv")
    head = exported.read_bytes()[:40]
    assert head.startswith(b"\xef\xbb\xbfinsee_com;lib_com;id_ti;lib_ti")
    import_files([exported], tmp_path / "two", date="2023-06-01", base_dataset=tmp_path / "one")
    assert _members(tmp_path / "two", "2023-06-01") == _members(tmp_path / "one", "2023-06-01")
    territories = load_programme(tmp_path / "two").territories
    assert len(territories) == len(load_programme(tmp_path / "one").territories)  # same ids, no duplicates


# --- EPCI-level lists -----------------------------------------------------------------------


def test_epci_list_csv_with_truncated_headers_and_numeric_codes(tmp_path, base, sample):
    rows = epci_rows(sample).assign(insee_reg=lambda d: d["insee_reg"].astype(int).astype(str))
    path = write_csv(rows, tmp_path / "liste_territoiresindustrie141.csv", sep=";", encoding="cp1252")
    report = _one(import_files([path], tmp_path / "out", date="2019-07-01", base_dataset=base))
    assert report.kind == "epci"
    assert report.columns["epci_siren"] == "code_insee_" and report.columns["main_city"] == "ville_princ"
    members = _members(tmp_path / "out", "2019-07-01")
    assert members["territoire-ain"] == set(sample.ain)
    prog = load_programme(tmp_path / "out")
    assert prog.territories.set_index("name").at["Territoire Corse", "region"] == "94"


def test_epci_list_xlsx_with_title_row_and_several_sheets(tmp_path, base, sample):
    wb = Workbook()
    notes = wb.active
    notes.title = "Notes"
    notes.append(["Liste publiée par la Caisse des Dépôts"])
    data = wb.create_sheet("Liste 141")
    data.append(["Territoires d'industrie : liste des EPCI"])
    rows = epci_rows(sample)
    data.append(["Code SIREN EPCI", "Nom EPCI", "Libellé territoire", "Ville principale", "Code région", "Région"])
    for values in rows.itertuples(index=False):
        data.append([int(values[0]), *values[1:4], int(values[4]), values[5]])
    path = tmp_path / "liste.xlsx"
    wb.save(path)
    report = _one(import_files([path], tmp_path / "out", date="2019-07-01", base_dataset=base))
    assert report.sheet == "Liste 141" and report.header_row == 2
    text = " ".join(report.warnings)
    assert "« Liste 141 »" in text and "« Notes »" in text and "ligne 2" in text
    assert _members(tmp_path / "out", "2019-07-01")["territoire-ain"] == set(sample.ain)


def test_epci_list_geojson_and_truncated_shapefile(tmp_path, base, sample):
    rows = epci_rows(sample)
    gdf = gpd.GeoDataFrame(rows, geometry=[Point(5, 46)] * len(rows), crs="EPSG:4326")
    gdf.to_file(tmp_path / "liste.geojson", driver="GeoJSON")
    shp = gdf.assign(insee_reg=gdf["insee_reg"].astype(int))
    with warnings.catch_warnings():  # the shapefile driver truncates names to 10 characters, and says so
        warnings.simplefilter("ignore")
        shp.to_file(tmp_path / "liste.shp", engine="pyogrio")
    for name in ("liste.geojson", "liste.shp"):
        report = _one(import_files([tmp_path / name], tmp_path / name.replace(".", "_"), date="2019-07-01",
                                   base_dataset=base))
        assert report.kind == "epci", name
        assert report.errors == []
        assert _members(tmp_path / name.replace(".", "_"), "2019-07-01")["territoire-ain"] == set(sample.ain)


def test_unknown_epci_siren_is_an_error_with_a_hint(tmp_path, base, sample):
    rows = epci_rows(sample)
    ref = load_reference()
    city = ref.communes[ref.communes["epci_siren"] == sample.corse]["name"].drop_duplicates(keep=False)
    city = city[~city.isin(ref.communes["name"].value_counts()[lambda c: c > 1].index)].iloc[0]
    rows.loc[2, "code_insee_"] = "242000999"
    rows.loc[2, "ville_princ"] = city
    report = _one(validate_files([write_csv(rows, tmp_path / "l.csv")], base_dataset=base))
    message = " ".join(report.errors)
    assert "ligne 4" in message and "« code_insee_ »" in message and "242000999" in message
    assert "COG 2025" in message and sample.corse in message  # hint: the city's current EPCI


# --- tracking tables -----------------------------------------------------------------------------


def test_tracking_tables_match_territories_by_id_or_name(tmp_path, base):
    status = pd.DataFrame(
        {
            "Territoire": ["Territoire Ain", "TERRITOIRE AIN"],
            "Date du statut": ["24/09/2019", "2020-01-29"],
            "Statut": ["Engagé", "Contrat signé"],
            "Fragile": ["oui", "non"],
        }
    )
    wb = Workbook()
    ws = wb.active
    ws.title = "Projets"
    ws.append(["ID projet", "Id territoire", "Pilier", "Date", "Engagement État", "Montant État opérateurs",
               "Montant Région", "Source"])
    ws.append(["P1", "territoire-ain", "Recruter", "2019-09-01", "oui", 1250000, "300 000", "Comité du 01/09"])
    ws.append(["P2", "territoire-ain", "Transition écologique", "2019-10-01", "non", None, None, None])
    wb.save(tmp_path / "suivi_projets.xlsx")
    files = [write_csv(status, tmp_path / "suivi_statuts.csv", sep=";"), tmp_path / "suivi_projets.xlsx"]
    reports = import_files(files, tmp_path / "out", base_dataset=base)
    assert [r.kind for r in reports] == ["status", "projects"]
    prog = load_programme(tmp_path / "out")
    events = prog.status_events[prog.status_events["provenance"] == "official"]
    assert events[["territory_id", "date", "status"]].values.tolist() == [
        ["territoire-ain", "2019-09-24", "engaged"], ["territoire-ain", "2020-01-29", "contract_signed"]]
    assert events["fragile"].tolist() == [True, False]
    projects = prog.projects.set_index("id")
    assert projects.at["P1", "amount_state_operators_eur"] == 1250000
    assert projects.at["P1", "amount_region_eur"] == 300000
    assert bool(projects.at["P1", "state_commitment"]) and projects.at["P2", "pillar"] == "transition_ecologique"
    assert any("remplacé" in w for w in reports[0].warnings)  # the base event of 2019-09-24 is replaced


def test_tracking_table_with_unknown_territory_and_bad_values(tmp_path, base):
    status = pd.DataFrame({"territoire": ["Inconnu-sur-Mer", "Territoire Ain"], "date": ["2019-09-24", "demain"],
                           "statut": ["Engagé", "Presque"]})
    report = _one(validate_files([write_csv(status, tmp_path / "s.csv")], base_dataset=base))
    text = "\n".join(report.errors)
    assert "Inconnu-sur-Mer" in text and "ligne 2" in text
    assert "« demain »" in text and "ligne 3" in text and "« date »" in text
    assert "« Presque »" in text and "Protocole signé" in text


# --- workspace ---------------------------------------------------------------------------------------


def test_workspace_keeps_every_import_and_only_a_publication_changes_the_current_one(tmp_path, base, sample):
    workspace = tmp_path / "imports"
    assert current_dataset(workspace) is None
    _, first = import_to_workspace([write_csv(sample.communes, tmp_path / "p.csv")], workspace,
                                   date="2023-06-01", base_dataset=base, publish=True, editor="Test")
    assert current_dataset(workspace) == first
    status = pd.DataFrame({"territoire": ["Territoire Ain"], "date": ["2024-02-01"], "statut": ["Protocole signé"]})
    _, second = import_to_workspace([write_csv(status, tmp_path / "s.csv")], workspace)
    # Issue 8: an import made without publishing is a preview: nobody else sees it.
    assert current_dataset(workspace) == first
    assert [d["name"] for d in list_datasets(workspace)] == [first.name]
    assert {d["name"] for d in list_datasets(workspace, include_previews=True)} == {first.name, second.name}
    # the second import was based on the current one (the first): its perimeter is there
    assert _members(second, "2023-06-01") == _members(first, "2023-06-01")
    publish_dataset(workspace, second, editor="Test", expected_current=first)
    assert current_dataset(workspace) == second and len(list_datasets(workspace)) == 2
    with pytest.raises(ImportFileError):
        import_to_workspace([tmp_path / "absent.csv"], workspace)
    assert current_dataset(workspace) == second


def test_title_rows_above_the_header_keep_spreadsheet_row_numbers(tmp_path, base, sample):
    rows = sample.communes.copy()
    rows.loc[4, "insee_com"] = "00000"
    body = rows.to_csv(sep=";", index=False, lineterminator="\n")
    path = tmp_path / "titre.csv"
    path.write_text("Territoires d'industrie 2023-2027;;;\n\n" + body, encoding="utf-8")
    report = _one(validate_files([path], base_dataset=base))
    assert report.header_row == 3
    assert any("ligne 3" in w and "titre" in w for w in report.warnings)
    assert any("« 00000 » (ligne 8)" in e for e in report.errors)  # title 1, blank 2, header 3, data from 4


def test_utf16_tab_export_from_excel(tmp_path, base, sample):
    path = write_csv(sample.communes, tmp_path / "unicode.txt", sep="\t", encoding="utf-16")
    report = _one(validate_files([path], base_dataset=base))
    assert report.errors == [] and report.summary["communes"] == len(sample.communes)


def test_embedded_dataset_survives_an_export_import_round_trip(tmp_path):
    from tdi_geo import PROGRAMME_DIR

    prog = load_programme(PROGRAMME_DIR)
    date = prog.versions["date"].iloc[-1]
    exported = export_anct_communes(prog, date, tmp_path / "export.csv")
    import_files([exported], tmp_path / "out", date=date, base_dataset=PROGRAMME_DIR)

    def by_name(dataset):
        loaded = load_programme(dataset)
        names = loaded.territories.set_index("id")["name"]
        rows = members_at(loaded, date)
        return {names[t]: set(g["epci_siren"]) | set(g["insee_com"]) for t, g in rows.groupby("territory_id")}

    assert by_name(tmp_path / "out") == by_name(PROGRAMME_DIR)


def test_status_without_fragile_column_keeps_the_previous_flag(tmp_path, base):
    first = pd.DataFrame({"territoire": ["Territoire Ain"], "date": ["2019-10-01"], "statut": ["Engagé"],
                          "fragile": ["oui"]})
    then = pd.DataFrame({"territoire": ["Territoire Ain"], "date": ["2020-01-29"], "statut": ["Contrat signé"]})
    import_files([write_csv(first, tmp_path / "s1.csv"), write_csv(then, tmp_path / "s2.csv")], tmp_path / "out",
                 base_dataset=base)
    events = load_programme(tmp_path / "out").status_events.set_index("date")
    assert bool(events.at["2020-01-29", "fragile"]) is True
    assert bool(events.at["2019-09-24", "fragile"]) is False  # the base event before it is untouched
