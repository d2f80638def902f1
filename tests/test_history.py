"""Issue 8: an import adds a dated version; it never changes what an earlier date shows.

Also the opening date (the latest version) and official codes replaced by a
later file.
"""

from __future__ import annotations

import pandas as pd
import pytest

from import_samples import write_csv
from tdi_geo import PROGRAMME_DIR
from tdi_geo.export import csv_bytes, geojson_bytes
from tdi_geo.importers import export_anct_communes, import_files
from tdi_geo.indicators import build_view, national_kpis
from tdi_geo.perimeters import perimeter_diff
from tdi_geo.programme import (
    dataset_summary,
    default_date,
    load_programme,
    national_figures,
    territories_at,
    territory_record,
    version_dates,
    versions_table,
)

#: After every embedded version (the last is 4 July 2024).
IMPORTED = "2025-06-01"


@pytest.fixture(scope="module")
def after_2023(tmp_path_factory):
    """The embedded dataset plus a 2023 ANCT per-commune file built from its own 2019 perimeter.

    Re-exporting the 2019 perimeter names every documented territory as the
    file would, so the import matches them by name: exactly the case where
    the import used to rewrite their rows (provenance, partial) for all dates.
    """
    folder = tmp_path_factory.mktemp("history")
    anct = export_anct_communes(PROGRAMME_DIR, "2019-09-24", folder / "tdi_communes_2023.csv")
    import_files([anct], folder / "out", date=IMPORTED, base_dataset=PROGRAMME_DIR)
    return load_programme(folder / "out")


def _exported(prog, date, fmt):
    view = build_view(prog, date, resolution="fine")
    # The one expected difference: tdi_view names the dataset the view comes
    # from (« programme » vs the imported dataset's folder). Normalise that key only.
    view.attrs["tdi_view"]["dataset"] = "normalised"
    return geojson_bytes(view) if fmt == "geojson" else csv_bytes(view)


def test_every_date_before_the_import_exports_the_same_bytes(after_2023):
    before = load_programme(PROGRAMME_DIR)
    earlier = [d for d in version_dates(after_2023) if d < IMPORTED]
    assert earlier == version_dates(before)  # all nine embedded versions are kept
    for date in earlier:
        assert _exported(after_2023, date, "geojson") == _exported(before, date, "geojson"), date
        assert _exported(after_2023, date, "csv") == _exported(before, date, "csv"), date
        assert national_kpis(after_2023, date) == national_kpis(before, date)
    assert versions_table(after_2023)[:-1] == versions_table(before)


def test_earlier_provenance_stays_what_it_was_in_2019(after_2023):
    view = build_view(after_2023, "2019-09-24", resolution="fine").set_index("id")
    assert view.at["lamballe-terre-et-mer", "provenance"] == "documented"
    assert view.at["auxois-morvan", "provenance"] == "inferred"
    record = territory_record(after_2023, "auxois-morvan", "2019-09-24")
    assert record["provenance"] == "inferred" and "echodescommunes" in record["source"]
    # From the imported version on, the official file is what is known about them.
    later = build_view(after_2023, IMPORTED).set_index("id")
    assert later.at["auxois-morvan", "provenance"] == later.at["lamballe-terre-et-mer", "provenance"] == "official"
    assert territory_record(after_2023, "auxois-morvan", IMPORTED)["source"] == "tdi_communes_2023.csv"


def test_the_app_opens_on_the_latest_version_and_the_embedded_figures_still_show(after_2023):
    assert default_date(after_2023) == IMPORTED
    shown = dataset_summary(after_2023)
    assert shown["version"] == IMPORTED and shown["files"] == ["tdi_communes_2023.csv"] and not shown["embedded"]
    assert dataset_summary(load_programme(PROGRAMME_DIR))["embedded"] is True
    embedded = load_programme(PROGRAMME_DIR)
    assert default_date(embedded) == version_dates(embedded)[-1] == "2024-07-04"
    assert national_figures(embedded, default_date(embedded)) == {}
    figures = national_figures(embedded, "2019-09-24")
    assert figures["territories"]["value"] == 144 and "24 septembre 2019" in figures["territories"]["source"]


def _write_perimeter(sample, path, ain_code="0100TI01", ain_name="Territoire Ain"):
    rows = sample.communes.copy()
    ain = rows["id_ti"] == "0100TI01"
    rows.loc[ain, "id_ti"] = ain_code
    rows.loc[ain, "lib_ti"] = ain_name
    return write_csv(rows, path)


def test_a_new_official_code_replaces_the_old_one_from_its_version_on(tmp_path, base, sample):
    import_files([_write_perimeter(sample, tmp_path / "p.csv")], tmp_path / "one", date="2023-06-01",
                 base_dataset=base)
    status = pd.DataFrame({"code territoire": ["0100TI99"], "date": ["2024-07-01"], "statut": ["Contrat signé"]})
    reports = import_files(
        [_write_perimeter(sample, tmp_path / "p2.csv", ain_code="0100TI99"), write_csv(status, tmp_path / "s.csv")],
        tmp_path / "two", date="2024-06-01", base_dataset=tmp_path / "one",
    )
    warnings = " ".join(reports[0].warnings)
    assert "nouveau code officiel « 0100TI99 »" in warnings and "« 0100TI01 »" in warnings
    assert reports[1].errors == []  # the status table using the new code is accepted
    prog = load_programme(tmp_path / "two")
    assert territory_record(prog, "territoire-ain", "2023-06-01")["official_code"] == "0100TI01"
    assert territory_record(prog, "territoire-ain", "2024-06-01")["official_code"] == "0100TI99"
    events = prog.status_events[prog.status_events["date"] == "2024-07-01"]
    assert events["territory_id"].tolist() == ["territoire-ain"]
    exported = export_anct_communes(prog, "2024-06-01", tmp_path / "export.csv").read_text(encoding="utf-8-sig")
    assert "0100TI99" in exported and "0100TI01" not in exported
    older = export_anct_communes(prog, "2023-06-01", tmp_path / "older.csv").read_text(encoding="utf-8-sig")
    assert "0100TI01" in older and "0100TI99" not in older


def test_a_renamed_territory_keeps_its_id_and_its_earlier_name(tmp_path, base, sample):
    import_files([_write_perimeter(sample, tmp_path / "p.csv")], tmp_path / "one", date="2023-06-01",
                 base_dataset=base)
    reports = import_files([_write_perimeter(sample, tmp_path / "p2.csv", ain_name="Ain Industrie")],
                           tmp_path / "two", date="2024-06-01", base_dataset=tmp_path / "one")
    assert any("« Territoire Ain » s'appelle « Ain Industrie »" in w for w in reports[0].warnings)
    prog = load_programme(tmp_path / "two")
    assert territories_at(prog, "2024-06-01").set_index("id").at["territoire-ain", "name"] == "Ain Industrie"
    assert territories_at(prog, "2023-06-01").set_index("id").at["territoire-ain", "name"] == "Territoire Ain"
    assert territories_at(prog, "2019-01-01").set_index("id").at["territoire-ain", "name"] == "Territoire Ain"
    diff = perimeter_diff(prog, "2023-06-01", "2024-06-01")
    assert {"id": "territoire-ain", "name": "Ain Industrie"} not in diff["added"]  # same territory, not a new one


def test_reimporting_on_the_same_date_replaces_that_version_only(tmp_path, base, sample):
    import_files([_write_perimeter(sample, tmp_path / "p.csv")], tmp_path / "one", date="2023-06-01",
                 base_dataset=base)
    import_files([_write_perimeter(sample, tmp_path / "p.csv", ain_code="0100TI02")], tmp_path / "two",
                 date="2023-06-01", base_dataset=tmp_path / "one")
    prog = load_programme(tmp_path / "two")
    assert territory_record(prog, "territoire-ain", "2023-06-01")["official_code"] == "0100TI02"
    assert len(prog.territory_states[prog.territory_states["territory_id"] == "territoire-ain"]) == 1
    assert territory_record(prog, "territoire-ain", "2019-01-01")["provenance"] == "documented"
