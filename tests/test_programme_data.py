"""The embedded programme dataset (geodata/programme/*.csv) keeps its promises.

These tests read the committed CSV files with pandas and the reference
geography; they do not use the library's programme loader. The seed figures
are read from ``national_figures.csv``, never written here.
"""

from __future__ import annotations

import filecmp
import re
import subprocess
import sys

import pandas as pd
import pytest

from tdi_geo import PROGRAMME_DIR, PROJECT_ROOT
from tdi_geo.reference import load_communes, load_epci

SEPT_2019 = "2019-09-24"
SIGNED = {"protocol_signed", "contract_signed"}


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(PROGRAMME_DIR / name, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    names = ["territories", "memberships", "versions", "status_events", "projects", "national_figures", "crosswalk"]
    tables = {name: _csv(f"{name}.csv") for name in names}
    tables["documented"] = _csv("sources/documented_territories.csv")
    tables["decisions"] = _csv("sources/territory_decisions.csv")
    return tables


@pytest.fixture(scope="module")
def figures(data) -> dict[str, float]:
    rows = data["national_figures"]
    rows = rows[rows["date"] == SEPT_2019]
    return dict(zip(rows["indicator"], rows["value"].astype(float)))


@pytest.fixture(scope="module")
def epci() -> pd.DataFrame:
    return load_epci("coarse").drop(columns="geometry")


@pytest.fixture(scope="module")
def communes() -> pd.DataFrame:
    return load_communes()


def _members_at(memberships: pd.DataFrame, date: str) -> pd.DataFrame:
    valid_to = memberships["valid_to"]
    return memberships[(memberships["valid_from"] <= date) & ((valid_to == "") | (valid_to > date))]


def _member_communes(memberships: pd.DataFrame, communes: pd.DataFrame) -> pd.DataFrame:
    """One row per (membership, commune): whole EPCIs expanded to their communes."""
    whole = memberships[memberships["epci_siren"] != ""].merge(
        communes[["insee_com", "epci_siren"]], on="epci_siren", suffixes=("_member", ""))
    single = memberships[memberships["insee_com"] != ""]
    return pd.concat([whole.drop(columns="insee_com_member"), single], ignore_index=True)


def _status_at(data, date: str) -> pd.DataFrame:
    present = set(_members_at(data["memberships"], date)["territory_id"])
    events = data["status_events"]
    events = events[(events["date"] <= date) & events["territory_id"].isin(present)]
    return events.sort_values("date").groupby("territory_id").last()


def _documented_epci_names(cell: str) -> list[str]:
    names = []
    for item in cell.split(" | "):
        if item and not item.startswith(("(", "unknown")):
            names.append(re.split(r" \(| — |;", item)[0].strip())
    return names


# --------------------------------------------------------------------------- versions


def test_each_version_shows_its_sourced_number_of_territories(data):
    for version in data["versions"].itertuples():
        shown = _members_at(data["memberships"], version.date)["territory_id"].nunique()
        assert shown == int(version.expected_territories), version.date


def test_the_four_versions_are_the_programme_dates_with_their_counts(data):
    versions = data["versions"]
    assert versions["date"].tolist() == ["2018-11-22", "2019-03-05", "2019-07-25", SEPT_2019]
    assert versions["expected_territories"].astype(int).is_monotonic_increasing
    assert (versions["source"] != "").all()


def test_september_2019_adds_exactly_the_three_announced_territories(data):
    before = _members_at(data["memberships"], "2019-07-25")
    after = _members_at(data["memberships"], SEPT_2019)
    names = data["territories"].set_index("id")["name"]
    added = set(after["territory_id"]) - set(before["territory_id"])
    assert set(names[list(added)]) == {"Vendée-Est", "Lamballe Terre et Mer", "Saint-Brieuc Baie d'Armor"}
    assert set(before["territory_id"]) <= set(after["territory_id"])
    key = ["territory_id", "epci_siren", "insee_com"]
    kept = after[~after["territory_id"].isin(added)]
    assert set(map(tuple, kept[key].to_numpy())) == set(map(tuple, before[key].to_numpy()))


def test_no_commune_belongs_to_two_territories_at_any_date(data, communes):
    memberships = data["memberships"]
    for date in sorted(set(memberships["valid_from"])):
        at = _member_communes(_members_at(memberships, date), communes)
        per_commune = at.drop_duplicates(["territory_id", "insee_com"]).groupby("insee_com")["territory_id"].nunique()
        assert per_commune.max() == 1, (date, per_commune[per_commune > 1].index.tolist()[:5])


def test_every_member_exists_in_the_reference(data, epci, communes):
    memberships = data["memberships"]
    filled = (memberships["epci_siren"] != "") ^ (memberships["insee_com"] != "")
    assert filled.all(), "exactly one of epci_siren / insee_com per membership"
    assert set(memberships["epci_siren"]) - {""} <= set(epci["siren"])
    assert set(memberships["insee_com"]) - {""} <= set(communes["insee_com"])


def test_every_territory_has_members_and_a_known_region(data, epci):
    territories = data["territories"]
    assert territories["id"].is_unique
    assert set(territories["id"]) == set(data["memberships"]["territory_id"])
    assert set(territories["region"]) <= set(epci["region"])


# --------------------------------------------------------------------------- crosswalk and documented facts


def test_crosswalk_sirens_exist_in_the_reference(data, epci):
    sirens = set(data["crosswalk"]["siren"]) - {""}
    assert sirens and sirens <= set(epci["siren"])
    names = epci.set_index("siren")["name"]
    matched = data["crosswalk"][data["crosswalk"]["siren"] != ""]
    assert (matched["current_name"] == matched["siren"].map(names)).all()


def test_unmatched_crosswalk_names_say_why(data):
    unmatched = data["crosswalk"][data["crosswalk"]["siren"] == ""]
    assert len(unmatched) and (unmatched["reasoning"].str.len() > 20).all()


def test_every_high_confidence_epci_is_a_member_or_an_explained_exception(data, communes):
    doc = (PROJECT_ROOT / "docs" / "PROGRAMME_DATA.md").read_text(encoding="utf-8")
    rows = data["documented"].merge(data["decisions"], on="name", suffixes=("", "_decision"))
    crosswalk = data["crosswalk"]
    epci_of = communes.set_index("insee_com")["epci_siren"]
    for row in rows[rows["confidence"] == "high"].itertuples():
        if row.treatment == "excluded":
            assert row.name in doc, f"{row.name}: excluded without explanation in PROGRAMME_DATA.md"
            continue
        members = data["memberships"][data["memberships"]["territory_id"] == row.territory_id]
        covered = set(members["epci_siren"]) | set(epci_of.reindex(members["insee_com"]).dropna())
        for name in _documented_epci_names(row.epci_names):
            links = crosswalk[crosswalk["documented_name"] == name]
            assert len(links), f"{row.name}: {name!r} missing from crosswalk.csv"
            for link in links.itertuples():
                if link.siren:
                    assert link.siren in covered, f"{row.name}: {name!r} ({link.siren}) is not drawn"
                else:
                    assert name in doc, f"{row.name}: exception {name!r} not listed in PROGRAMME_DATA.md"


def test_partial_documented_territories_are_flagged_partial(data):
    rows = data["documented"].merge(data["decisions"], on="name")
    partial_ids = set(rows.loc[(rows["confidence"] == "partial") & (rows["treatment"] == "documented"), "territory_id"])
    flags = data["territories"].set_index("id")["partial"]
    assert partial_ids and (flags[list(partial_ids)] == "true").all()


def test_name_only_rows_never_become_documented_compositions(data):
    rows = data["documented"].merge(data["decisions"], on="name")
    chosen = (rows["confidence"] == "name_only") & (rows["treatment"] != "merged")
    name_only = set(rows.loc[chosen, "territory_id"]) - {""}
    members = data["memberships"][data["memberships"]["territory_id"].isin(name_only)]
    assert not (members["basis"] == "source").any()


# --------------------------------------------------------------------------- provenance


def _is_urls(cell: str) -> bool:
    return bool(cell) and all(part.startswith(("http://", "https://")) for part in cell.split(" ; "))


def test_illustrative_territories_are_marked_and_cite_no_source(data):
    territories = data["territories"]
    assert set(territories["provenance"]) == {"documented", "illustrative"}
    illustrative = territories[territories["provenance"] == "illustrative"]
    assert (illustrative["source"] == "").all()
    members = data["memberships"].merge(territories, left_on="territory_id", right_on="id", suffixes=("", "_t"))
    assert (members.loc[members["provenance"] == "illustrative", "basis"] == "illustrative").all()


def test_documented_territories_cite_urls(data):
    documented = data["territories"][data["territories"]["provenance"] == "documented"]
    assert documented["source"].map(_is_urls).all()


def test_memberships_basis_matches_their_source(data):
    memberships = data["memberships"]
    illustrative = memberships[memberships["basis"] == "illustrative"]
    assert (illustrative["source"] == "").all()
    sourced = memberships[memberships["basis"].isin(["source", "inference"])]
    assert sourced["source"].map(_is_urls).all()
    inferred = memberships[memberships["basis"] == "inference"]
    assert (inferred["note"].str.len() > 20).all()
    assert set(memberships["basis"]) <= {"source", "inference", "illustrative"}


@pytest.mark.parametrize("table", ["status_events", "projects"])
def test_records_are_illustrative_without_source_or_documented_with_urls(data, table):
    rows = data[table]
    assert set(rows["provenance"]) <= {"documented", "illustrative"}
    assert (rows.loc[rows["provenance"] == "illustrative", "source"] == "").all()
    assert rows.loc[rows["provenance"] == "documented", "source"].map(_is_urls).all()


# --------------------------------------------------------------------------- the three September additions


def test_vendee_est_is_illustrative_and_lies_in_vendee(data, epci):
    territory = data["territories"].set_index("id").loc["vendee-est"]
    assert territory["provenance"] == "illustrative"
    members = data["memberships"][data["memberships"]["territory_id"] == "vendee-est"]
    assert len(members) and (members["valid_from"] == SEPT_2019).all()
    departements = epci.set_index("siren").loc[members["epci_siren"], "departements"]
    assert (departements == "85").all()


def test_saint_brieuc_is_saint_brieuc_armor_agglomeration_by_inference(data, epci):
    members = data["memberships"][data["memberships"]["territory_id"] == "saint-brieuc-baie-d-armor"]
    assert len(members) == 1
    member = members.iloc[0]
    assert member["basis"] == "inference" and member["valid_from"] == SEPT_2019
    assert "Saint-Brieuc Armor" in epci.set_index("siren").at[member["epci_siren"], "name"]
    assert "Bretagne" in member["note"]


def test_lamballe_is_documented_and_added_in_september(data):
    territory = data["territories"].set_index("id").loc["lamballe-terre-et-mer"]
    assert territory["provenance"] == "documented"
    members = data["memberships"][data["memberships"]["territory_id"] == "lamballe-terre-et-mer"]
    assert (members["basis"] == "source").all() and (members["valid_from"] == SEPT_2019).all()


# --------------------------------------------------------------------------- status and projects


def test_status_on_24_september_2019_matches_the_press_release(data, figures):
    status = _status_at(data, SEPT_2019)
    total = len(status)
    signed = status["status"].isin(SIGNED).sum()
    engaged = (status["status"] == "engaged").sum()
    assert total == figures["territories"]
    assert signed == figures["signed"]
    assert round((signed + engaged) / total, 2) == figures["engaged_share"]
    assert round(engaged / total, 2) == figures["finalising_share"]
    assert (status["fragile"] == "true").sum() == figures["fragile"]


def test_documented_signatures_keep_their_dates(data):
    events = data["status_events"]
    carros = events[(events["territory_id"] == "carros") & events["status"].isin(SIGNED)]
    assert carros["date"].min() == "2019-03-18" and (carros["provenance"] == "documented").all()
    status = _status_at(data, SEPT_2019)
    cvl = data["territories"].loc[data["territories"]["region"] == "24", "id"]
    assert status.loc[cvl, "status"].isin(SIGNED).all(), "all 9 Centre-Val de Loire territories had signed"


def test_status_history_is_ordered(data):
    status = _status_at(data, "2018-11-22")
    assert (status["status"] == "identified").all(), "nothing was engaged or signed on launch day"
    starts = data["memberships"].groupby("territory_id")["valid_from"].min()
    events = data["status_events"]
    assert (events["date"] >= events["territory_id"].map(starts)).all()


def test_projects_on_24_september_2019_match_the_press_release(data, figures):
    projects = data["projects"]
    now = projects[projects["date"] <= SEPT_2019]
    committed = now["state_commitment"] == "true"
    assert len(now) == figures["projects"]
    assert committed.sum() == figures["projects_committed"]
    assert now["amount_state_operators_eur"].astype(int).sum() == figures["state_operators_eur"]
    assert now["amount_territoires_innovation_eur"].astype(int).sum() == figures["territoires_innovation_eur"]
    assert (now.loc[~committed, "amount_state_operators_eur"].astype(int) == 0).all()


def test_projects_belong_to_territories_present_at_their_date(data):
    projects = data["projects"]
    starts = data["memberships"].groupby("territory_id")["valid_from"].min()
    assert (projects["date"] >= projects["territory_id"].map(starts)).all()
    assert projects["id"].is_unique


def test_projects_span_the_pillars_and_the_fifth_only_from_its_creation(data):
    projects = data["projects"]
    assert set(projects["pillar"]) == {"recruter", "innover", "attirer", "simplifier", "transition_ecologique"}
    fifth = projects[projects["pillar"] == "transition_ecologique"]
    assert (fifth["date"] >= SEPT_2019).all()
    per_territory = projects.groupby("territory_id").size()
    assert per_territory.max() >= 3 * per_territory.median(), "projects are spread with some skew"


# --------------------------------------------------------------------------- reproducibility


def test_generator_reproduces_the_committed_files(tmp_path):
    script = PROJECT_ROOT / "scripts" / "build_programme_data.py"
    subprocess.run([sys.executable, str(script), "--out", str(tmp_path)], check=True, capture_output=True)
    written = sorted(p.name for p in tmp_path.glob("*.csv"))
    assert written == sorted(p.name for p in PROGRAMME_DIR.glob("*.csv"))
    for name in written:
        assert filecmp.cmp(tmp_path / name, PROGRAMME_DIR / name, shallow=False), name
