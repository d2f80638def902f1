"""The CLI on the embedded dataset: versions, diff, KPIs and info, as JSON.

Expected values are read from the sourced data files (``versions.csv``
expected counts, ``national_figures.csv`` seed figures), so these tests check
that what the data *computes* matches what the sources *say*.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from tdi_geo import PROGRAMME_DIR, PROJECT_ROOT

SEED_DATE = "2019-09-24"
#: The three territories the press release of 24 Sept 2019 names as new.
ADDED_ON_24_SEPT = {"Vendée-Est", "Lamballe Terre et Mer", "Saint-Brieuc Baie d'Armor"}


def run_cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        [sys.executable, "-m", "tdi_geo", *args],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def versions() -> pd.DataFrame:
    return pd.read_csv(PROGRAMME_DIR / "versions.csv", dtype=str)


def test_versions_json_shows_each_sourced_count_on_its_date(versions):
    rows = json.loads(run_cli("versions", "--json").stdout)
    got = {r["date"]: r["territories"] for r in rows}
    expected = dict(zip(versions["date"], versions["expected_territories"].astype(int)))
    assert got == expected
    assert sorted(expected.values())[:4] == [124, 136, 141, 144]
    assert sorted(expected.values()) == [124, 136, 141, 144, 146, 148, 149, 183, 183]
    for row in rows:
        assert set(row) >= {"date", "label", "territories", "documented", "inferred", "illustrative", "note"}
        assert row["documented"] + row["inferred"] + row["illustrative"] == row["territories"]
        if row["date"] >= SEED_DATE:
            assert row["illustrative"] == 0, row["date"]


def test_diff_141_to_144_lists_exactly_the_three_new_territories(versions):
    expected = versions.set_index("expected_territories")["date"]
    before, after = expected["141"], expected["144"]
    diff = json.loads(run_cli("diff", before, after, "--json").stdout)
    assert {r["name"] for r in diff["added"]} == ADDED_ON_24_SEPT
    assert diff["removed"] == [] and diff["changed"] == [] and diff["renamed"] == []
    assert all(set(r) == {"id", "name"} for r in diff["added"])


def test_diff_of_november_2019_says_what_split_and_what_was_added():
    diff = json.loads(run_cli("diff", SEED_DATE, "2019-11-19", "--json").stdout)
    added = {r["name"]: r for r in diff["added"]}
    assert set(added) == {"Sel et Vermois", "Terres de Lorraine"}
    assert [o["id"] for o in added["Terres de Lorraine"]["from"]] == ["val-et-terres-de-lorraine"]
    assert diff["changed"] == [{"id": "val-et-terres-de-lorraine", "name": "Val de Lorraine", "kind": "reduced"}]
    text = run_cli("diff", SEED_DATE, "2019-11-19").stdout
    assert "Ajouté : Terres de Lorraine (issu de Val de Lorraine)" in text
    assert "Périmètre modifié : Val de Lorraine (réduit)" in text


def test_kpis_at_24_september_2019_equal_the_press_release_figures():
    figures = pd.read_csv(PROGRAMME_DIR / "national_figures.csv", dtype=str)
    seed = figures[figures["date"] == SEED_DATE]
    assert len(seed) == 9, "the nine figures of the press release must be recorded"
    assert seed["source"].str.contains("000_3af200a01a20ee1d").all()
    kpis = json.loads(run_cli("kpis", "--date", SEED_DATE, "--json").stdout)
    for row in seed.itertuples():
        assert kpis[row.indicator] == pytest.approx(float(row.value)), row.indicator
    assert 0 <= kpis["engaged_share"] <= 1 and 0 <= kpis["finalising_share"] <= 1


def test_info_reports_reference_and_programme_blocks():
    info = json.loads(run_cli("info", "--json").stdout)
    prog = info["programme"]
    assert prog["territories"] == prog["documented"] + prog["inferred"] + prog["illustrative"] == 183
    assert prog["date"] == "2024-07-04" and prog["illustrative"] == 0
    assert info["reference"]["epci"] > 1200


def test_cli_errors_are_french_and_without_traceback():
    proc = run_cli("kpis", "--date", "24/09/2019", "--json", check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "AAAA-MM-JJ" in proc.stderr
    proc = run_cli("diff", "2019-07-25", "2019-09-24", "--dataset", "/nonexistent/dir", check=False)
    assert proc.returncode == 2 and "n'existe pas" in proc.stderr


def test_where_ploufragan_names_its_territory_in_2024_and_in_2019():
    text = run_cli("where", "Ploufragan", "--date", "2024-07-04").stdout
    assert "Ploufragan (22215) fait partie du territoire Baie d'Armor Industrie" in text
    result = json.loads(run_cli("where", "Ploufragan", "--date", "2019-09-24", "--json").stdout)
    match = result["matches"][0]
    assert match["territory"]["id"] == "saint-brieuc-baie-d-armor" and match["member_since"] == "2019-09-24"
