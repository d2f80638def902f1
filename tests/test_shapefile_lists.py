"""Issue 11: the zipped shapefile loses no member EPCI or source to dBase's 254-byte text fields.

Lists too long for a ``.dbf`` field keep their whole first items and an explicit
marker; ``membres.csv`` and ``sources.csv`` in the archive hold them complete.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pyogrio
import pytest

from tdi_geo import export, export_formats
from tdi_geo.indicators import build_view, diff_view
from tdi_geo.perimeters import LIST_SEPARATOR
from tdi_geo.programme import load_programme

LISTS = {"epci_sirens": "membres.csv", "epci_names": "membres.csv", "sources": "sources.csv"}


def _split(text) -> list[str]:
    return text.split(LIST_SEPARATOR) if isinstance(text, str) and text else []


def _read_zip(view, tmp_path):
    """(dbf rows by id, side tables {name: rows}, archive) of the view's shapefile zip, read back with GDAL."""
    path = tmp_path / "vue.zip"
    path.write_bytes(export_formats.shapefile_zip_bytes(view))
    archive = zipfile.ZipFile(path)
    frame = pyogrio.read_dataframe(f"/vsizip/{path}/territoires.shp")
    frame = frame.rename(columns={v: k for k, v in export_formats.SHAPEFILE_FIELDS.items()})
    tables = {name: list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig"))))
              for name in ("membres.csv", "sources.csv")}
    return frame.set_index("id"), tables, archive


@pytest.fixture(scope="module")
def national():
    return build_view(load_programme(), "2019-09-24", resolution="coarse")


def _check_no_member_lost(view, tmp_path):
    features = {f["id"]: f["properties"] for f in json.loads(export.geojson_bytes(view))["features"]}
    dbf, tables, _ = _read_zip(view, tmp_path)
    assert sorted(dbf.index) == sorted(features)
    members: dict[str, list] = {}
    for row in tables["membres.csv"]:
        members.setdefault(row["id"], []).append((row["epci_siren"], row["epci_name"]))
    sources: dict[str, list] = {}
    for row in tables["sources.csv"]:
        sources.setdefault(row["id"], []).append(row["source"])
    cut = 0
    for tid, props in features.items():
        full = {key: _split(props[key]) for key in LISTS}
        assert members.get(tid, []) == list(zip(full["epci_sirens"], full["epci_names"])), tid
        assert sources.get(tid, []) == full["sources"], tid
        for key, table in LISTS.items():
            value = dbf.loc[tid, key]
            value = "" if not isinstance(value, str) else value
            assert len(value.encode("utf-8")) <= export_formats.DBF_TEXT_BYTES
            if value == props[key]:
                continue
            # Cut, never silently: whole first items, then the marker naming the side table.
            cut += 1
            items = _split(value)
            assert items[-1] == f"… (suite dans {table})", (tid, key, value)
            assert items[:-1] == full[key][: len(items) - 1] and len(items) - 1 < len(full[key]), (tid, key)
    return cut


def test_no_epci_or_source_is_lost_across_the_national_zip(national, tmp_path):
    assert max(len(t.encode("utf-8")) for t in national["epci_names"]) > export_formats.DBF_TEXT_BYTES, (
        "the embedded data has lists longer than dBase allows: the case this guards"
    )
    assert _check_no_member_lost(national, tmp_path) >= 6


def test_no_member_is_lost_in_a_comparison_zip(tmp_path):
    view = diff_view(load_programme(), "2019-09-24", "2018-11-22", resolution="coarse")
    assert "removed" in set(view["change"])
    _check_no_member_lost(view, tmp_path)


def test_the_archive_documents_the_side_tables(national, tmp_path):
    _, tables, archive = _read_zip(national.iloc[:3], tmp_path)
    readme = archive.read("LISEZMOI.txt").decode("utf-8")
    assert "membres.csv" in readme and "sources.csv" in readme and "254 octets" in readme
    assert "« … (suite dans membres.csv) »" in readme
    fields = dict(line.split(",") for line in archive.read("champs.csv").decode().splitlines()[1:])
    assert fields["epci_names"] == "epci_names" and fields["epci_siren"] == "epci_sirens"
    assert list(tables["membres.csv"][0]) == ["id", "epci_siren", "epci_name"]


def test_any_other_text_too_long_for_dbase_is_cut_at_a_character_with_a_marker(national, tmp_path):
    view = national.iloc[:2].copy()
    view.loc[view.index[0], "name"] = "Communauté é" * 40  # 560 bytes, accents across the cut
    dbf, _, _ = _read_zip(view, tmp_path)
    name = dbf.loc[view["id"].iloc[0], "name"]
    assert name.endswith(export_formats.TEXT_MARKER)
    assert len(name.encode("utf-8")) <= export_formats.DBF_TEXT_BYTES
    assert view["name"].iloc[0].startswith(name.removesuffix(export_formats.TEXT_MARKER))
    assert dbf.loc[view["id"].iloc[1], "name"] == view["name"].iloc[1]


def test_side_tables_neutralise_formulas_like_the_csv_download(national):
    view = national.iloc[:1].copy()
    view["sources"] = "=HYPERLINK(\"http://x\") ; https://example.org/a"
    tables = export_formats.side_tables(export.properties_frame(view))
    rows = list(csv.DictReader(io.StringIO(tables["sources.csv"].decode("utf-8-sig"))))
    assert [r["source"] for r in rows] == ["'=HYPERLINK(\"http://x\")", "https://example.org/a"]


def test_the_latest_version_without_status_data_exports_as_a_shapefile(tmp_path):
    """No status after 2019: the flags are empty in the .dbf, not 0, and the file is written."""
    import pyogrio

    from tdi_geo.cli import main

    out = tmp_path / "latest.zip"
    assert main(["export", "--format", "zip", "-o", str(out)]) == 0
    frame = pyogrio.read_dataframe(f"/vsizip/{out}/territoires.shp")
    assert len(frame) == 183 and frame["fragile"].isna().all() and frame["projects"].isna().all()
