"""Every export lists each territory's member EPCIs (SIRENs, names), its communes count and its sources."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import openpyxl
import pandas as pd
import pyogrio
import pytest

from tdi_geo import export, export_formats
from tdi_geo.indicators import build_view, diff_view
from tdi_geo.perimeters import LIST_SEPARATOR, territory_members
from tdi_geo.programme import load_programme, territory_states_at

NEW_FIELDS = ["epci_sirens", "epci_names", "n_communes", "sources"]


@pytest.fixture(scope="module")
def prog():
    return load_programme()


@pytest.fixture(scope="module")
def view(prog):
    return build_view(prog, "2019-09-24", resolution="coarse")


def _split(text: str) -> list[str]:
    return text.split(LIST_SEPARATOR) if text else []


def test_lamballe_lists_its_epci_at_that_date(view):
    row = view.set_index("id").loc["lamballe-terre-et-mer"]
    assert _split(row["epci_sirens"]) == ["200069391"]
    assert "Lamballe Terre et Mer" in row["epci_names"]
    assert row["sources"].startswith("https://")


def test_member_lists_match_the_memberships_at_the_date(prog, view):
    sample = view.iloc[:: max(1, len(view) // 12)]
    for row in sample.itertuples():
        members = territory_members(prog, row.id, "2019-09-24").sort_values("siren")
        assert _split(row.epci_sirens) == members["siren"].tolist(), row.id
        assert _split(row.epci_names) == members["name"].tolist(), row.id
        assert row.n_communes == members["n_communes"].sum(), row.id


@pytest.mark.parametrize("date", ["2018-11-22", "2019-09-24"])
def test_sources_are_the_states_at_the_date(prog, date):
    # Illustrative ones (a presence no source dates) still cite the source of their composition.
    view = build_view(prog, date, resolution="coarse")
    states = territory_states_at(prog, date).set_index("id")
    assert view["illustrative"].any() == (date == "2018-11-22")
    for row in view.itertuples():
        wanted = [u for u in states.loc[row.id, "source"].replace(";", " ").split() if u]
        assert wanted and _split(row.sources) == wanted, row.id


def test_the_lists_follow_the_date(prog):
    # Some territories change members between versions (7 enlarged in Oct 2020): each export says its date's members.
    early = build_view(prog, "2019-11-19", resolution="coarse").set_index("id")
    late = build_view(prog, "2020-10-13", resolution="coarse").set_index("id")
    common = early.index.intersection(late.index)
    changed = [t for t in common if early.loc[t, "epci_sirens"] != late.loc[t, "epci_sirens"]]
    assert changed
    for tid in changed:
        for date, frame in (("2019-11-19", early), ("2020-10-13", late)):
            members = territory_members(prog, tid, date).sort_values("siren")
            assert _split(frame.loc[tid, "epci_sirens"]) == members["siren"].tolist(), (tid, date)


def test_every_format_carries_the_new_properties(view):
    small = view[view["id"].isin(["lamballe-terre-et-mer", view["id"].iloc[0]])]
    lamballe = small.set_index("id").loc["lamballe-terre-et-mer"]

    features = json.loads(export.geojson_bytes(small))["features"]
    props = next(f["properties"] for f in features if f["id"] == "lamballe-terre-et-mer")
    assert {k: props[k] for k in NEW_FIELDS} == {k: lamballe[k] for k in NEW_FIELDS}

    rows = list(csv.DictReader(io.StringIO(export.csv_bytes(small).decode("utf-8-sig"))))
    row = next(r for r in rows if r["id"] == "lamballe-terre-et-mer")
    assert row["epci_sirens"] == "200069391" and row["sources"] == lamballe["sources"]

    gpkg = pyogrio.read_dataframe(io.BytesIO(export_formats.gpkg_bytes(small))).set_index("id")
    assert gpkg.loc["lamballe-terre-et-mer", "epci_names"] == lamballe["epci_names"]

    archive = zipfile.ZipFile(io.BytesIO(export_formats.shapefile_zip_bytes(small)))
    fields = dict(line.split(",") for line in archive.read("champs.csv").decode().splitlines()[1:])
    assert fields["epci_siren"] == "epci_sirens" and fields["sources"] == "sources"

    workbook = zipfile.ZipFile(io.BytesIO(export_formats.xlsx_bytes(small)))
    sheet = "".join(workbook.read(n).decode() for n in workbook.namelist() if n.startswith("xl/"))
    assert "epci_sirens" in sheet and "200069391" in sheet


# --- comparison views (``from=``) -------------------------------------------------


def _expected_lists(prog, tid, date):
    members = territory_members(prog, tid, date).sort_values("siren")
    return members["siren"].tolist(), members["name"].tolist()


def test_a_comparison_lists_members_at_the_date_each_territory_is_drawn(prog):
    # 2022-12-31 → 2019-11-19: 3 territories removed (drawn at the « from » date), some changed, the rest unchanged.
    view = diff_view(prog, "2022-12-31", "2019-11-19", resolution="coarse")
    assert {"removed", "changed", "unchanged"} <= set(view["change"])
    states = {d: territory_states_at(prog, d).set_index("id") for d in ("2022-12-31", "2019-11-19")}
    unchanged = view[view["change"] == "unchanged"]
    sample = pd.concat([view[view["change"] != "unchanged"], unchanged.iloc[:: max(1, len(unchanged) // 10)]])
    for row in sample.itertuples():
        date = "2022-12-31" if row.change == "removed" else "2019-11-19"
        sirens, names = _expected_lists(prog, row.id, date)
        assert (_split(row.epci_sirens), _split(row.epci_names)) == (sirens, names), (row.id, row.change)
        assert row.n_communes == territory_members(prog, row.id, date)["n_communes"].sum(), row.id
        if not row.illustrative:
            wanted = [u for u in states[date].loc[row.id, "source"].replace(";", " ").split() if u]
            assert _split(row.sources) == wanted, row.id
    changed = view[view["change"] == "changed"].set_index("id")
    before = build_view(prog, "2022-12-31", resolution="coarse").set_index("id")
    # A change inside an EPCI keeps its SIREN listed: some, not all, changed lists differ.
    assert (changed["epci_sirens"] != before.loc[changed.index, "epci_sirens"]).any(), "changed ones: the later members"


def _diff_small(small_programme):
    view = diff_view(small_programme, "2019-07-25", "2019-09-24", regions=["53"], resolution="fine")
    assert view.set_index("id").loc["guingamp", "change"] == "removed"
    return view


def test_a_removed_territory_keeps_its_members_and_sources_at_the_from_date(small_programme):
    guingamp = _diff_small(small_programme).set_index("id").loc["guingamp"]
    assert _split(guingamp["epci_sirens"]) == ["200067981"]
    assert guingamp["epci_names"] and guingamp["sources"] == "https://example.org/guingamp"


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg", "xlsx", "zip"])
def test_every_format_of_a_comparison_carries_the_member_lists(small_programme, tmp_path, fmt):
    view = _diff_small(small_programme)
    wanted = {row.id: {k: getattr(row, k) for k in NEW_FIELDS} for row in view.itertuples()}
    if fmt == "geojson":
        got = {f["id"]: f["properties"] for f in json.loads(export.geojson_bytes(view))["features"]}
    elif fmt == "csv":
        got = {r["id"]: r for r in csv.DictReader(io.StringIO(export.csv_bytes(view).decode("utf-8-sig")))}
    elif fmt == "xlsx":
        path = tmp_path / "vue.xlsx"
        path.write_bytes(export_formats.xlsx_bytes(view))
        rows = list(openpyxl.load_workbook(path)["territoires"].values)
        got = {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    else:
        path = tmp_path / f"vue.{fmt}"
        path.write_bytes(export_formats.gpkg_bytes(view) if fmt == "gpkg" else export_formats.shapefile_zip_bytes(view))
        frame = pyogrio.read_dataframe(f"/vsizip/{path}/territoires.shp" if fmt == "zip" else path)
        frame = frame.rename(columns={v: k for k, v in export_formats.SHAPEFILE_FIELDS.items()})
        got = {r["id"]: r for r in frame.to_dict("records")}
    assert set(got) == set(wanted)
    for tid, props in wanted.items():
        for key, value in props.items():
            shown = got[tid][key]
            if value == "":  # dBase and spreadsheets have no empty text apart from a missing value
                assert shown in ("", None) or pd.isna(shown), (fmt, tid, key, shown)
            else:
                assert str(shown) == str(value), (fmt, tid, key, shown, value)
