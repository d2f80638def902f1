"""The embedded programme dataset (geodata/programme/*.csv) keeps its promises.

These tests read the committed CSV files and the public lists
(``geodata/sources/tdi_lists/``) with pandas and the reference geography;
they do not use the library's programme loader nor the build's code, so a
mistake in the build shows here. The seed figures are read from
``national_figures.csv``, never written here.
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
LISTS = PROJECT_ROOT / "geodata" / "sources" / "tdi_lists"
#: Version dates and the list each one reproduces.
LIST_VERSIONS = {"2019-11-19": "communes_146_2019-2020.csv", "2020-10-13": "communes_148_2020.csv",
                 "2022-12-31": "epci_149_2022.csv", "2024-07-04": "epci_183_2024-07-04.csv"}
SIGNED = {"protocol_signed", "contract_signed"}


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(PROGRAMME_DIR / name, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    names = ["territories", "territory_states", "territory_links", "memberships", "versions", "status_events",
             "projects", "national_figures"]
    return {name: _csv(f"{name}.csv") for name in names}


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


def _states_at(data, date: str) -> pd.DataFrame:
    """Each territory's attributes at ``date``: its base row overridden by its states (empty cell = unchanged)."""
    out = data["territories"].set_index("id").assign(official_code="")
    states = data["territory_states"]
    for row in states[states["valid_from"] <= date].sort_values("valid_from").itertuples():
        for column in ("name", "provenance", "official_code", "source", "note"):
            if getattr(row, column):
                out.at[row.territory_id, column] = getattr(row, column)
    return out


def _communes_by_territory(data, date: str, communes: pd.DataFrame) -> dict[str, frozenset]:
    at = _member_communes(_members_at(data["memberships"], date), communes)
    return {tid: frozenset(group) for tid, group in at.groupby("territory_id")["insee_com"]}


def _source_list(name: str) -> pd.DataFrame:
    return pd.read_csv(LISTS / name, dtype=str, keep_default_na=False)


def _current_commune(codes: pd.Series) -> pd.Series:
    """Former commune codes (merged communes, arrondissements) → today's code, with the project's crosswalk."""
    aliases = pd.read_csv(PROJECT_ROOT / "tdi_geo" / "importers" / "commune_aliases.csv", dtype=str)
    return codes.map(aliases.set_index("old_code")["new_code"]).fillna(codes)


# --------------------------------------------------------------------------- versions


def test_each_version_shows_its_sourced_number_of_territories(data):
    for version in data["versions"].itertuples():
        shown = _members_at(data["memberships"], version.date)["territory_id"].nunique()
        assert shown == int(version.expected_territories), version.date


def test_nine_versions_from_the_launch_to_july_2024(data):
    versions = data["versions"]
    assert versions["date"].tolist() == ["2018-11-22", "2019-03-05", "2019-07-25", SEPT_2019, "2019-11-19",
                                         "2020-10-13", "2022-12-31", "2023-11-30", "2024-07-04"]
    assert versions["expected_territories"].astype(int).tolist() == [124, 136, 141, 144, 146, 148, 149, 183, 183]
    assert (versions["source"] != "").all()
    # A list that gives only a state « at the latest on » a date says so.
    for date in ("2020-10-13", "2022-12-31", "2023-11-30"):
        row = versions[versions["date"] == date].iloc[0]
        assert "au plus tard" in row["label"] and "au plus tard" in row["note"], date


def test_september_2019_adds_exactly_the_three_announced_territories(data):
    before = _members_at(data["memberships"], "2019-07-25")
    after = _members_at(data["memberships"], SEPT_2019)
    names = _states_at(data, SEPT_2019)["name"]
    added = set(after["territory_id"]) - set(before["territory_id"])
    assert {re.sub(r"\W", "", names[t]).lower() for t in added} == {
        "vendéeest", "lamballeterreetmer", "saintbrieucbaiedarmor"}
    assert set(before["territory_id"]) <= set(after["territory_id"])


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


# --------------------------------------------------------------------------- the public lists


@pytest.mark.parametrize("date", ["2019-11-19", "2020-10-13"])
def test_the_2019_2020_versions_put_every_listed_commune_in_its_listed_territory(data, communes, date):
    listed = _source_list(LIST_VERSIONS[date])
    listed["insee_com"] = _current_commune(listed["insee_com"])
    listed = listed[listed["insee_com"].isin(communes["insee_com"])]
    owner = {c: tid for tid, s in _communes_by_territory(data, date, communes).items() for c in s}
    listed["territory"] = listed["insee_com"].map(owner)
    assert listed["territory"].notna().all(), listed[listed["territory"].isna()].head()
    # One dataset territory per listed code, and the other way round, carrying that code.
    pairs = listed[["code_ti", "territory"]].drop_duplicates()
    assert pairs["code_ti"].is_unique and pairs["territory"].is_unique
    codes = _states_at(data, date)["official_code"]
    assert (pairs["territory"].map(codes) == "TI" + pairs["code_ti"].str.removeprefix("TI")).all()
    # Nothing drawn that the list does not give (a commune nouvelle counts whole).
    drawn = set(owner)
    assert drawn == set(listed["insee_com"])


def _expected_communes(members: list[tuple[str, str]], communes: pd.DataFrame, ept: dict) -> frozenset:
    """The communes a list's members stand for, with the resolutions stated in the data."""
    by_epci = communes.groupby("epci_siren")["insee_com"].apply(frozenset)
    thionville = communes.set_index("insee_com").at["57672", "epci_siren"]
    out = set()
    for siren, name in members:
        if siren in by_epci.index:
            out |= by_epci[siren]
        elif siren in ("245701222", "245701362"):  # Val de Fensch, Portes de France-Thionville: merged since
            out |= by_epci[thionville]
        elif siren in ept:  # établissement public territorial: its communes of the 2020 list
            out |= ept[siren]
        else:  # a commune, given by its SIREN and name
            dep = communes[communes["insee_com"].str.startswith(siren[2:4])]
            bare = re.sub(r"^(Le|La|Les|L') ?", "", name)
            hit = dep[dep["name"].str.replace(r"^(Le|La|Les|L') ?", "", regex=True) == bare]
            assert len(hit) == 1, (siren, name)
            out.add(hit["insee_com"].iloc[0])
    return frozenset(out)


@pytest.fixture(scope="module")
def ept_communes(communes) -> dict[str, frozenset]:
    listed = _source_list("communes_148_2020.csv")
    in_mgp = listed[listed["insee_com"].map(communes.set_index("insee_com")["epci_siren"]) == "200054781"]
    holders = {"200057990": "TI1101", "200058014": "TI1104", "200058097": "TI1105"}
    return {siren: frozenset(in_mgp.loc[in_mgp["code_ti"] == code, "insee_com"]) for siren, code in holders.items()}


@pytest.mark.parametrize("date", ["2022-12-31", "2024-07-04"])
def test_the_2022_and_2024_versions_are_exactly_the_lists(data, communes, ept_communes, date):
    listed = _source_list(LIST_VERSIONS[date])
    if date == "2022-12-31":
        members = {r.id_ti: [(s.strip(), "") for s in r.siren_groupement.split(",")] for r in listed.itertuples()}
        for r in listed.itertuples():  # communes are the only members whose name is needed
            names = [n.strip() for n in r.lib_groupement.split(", ")]
            if len(names) == len(members[r.id_ti]):
                members[r.id_ti] = [(s, n) for (s, _), n in zip(members[r.id_ti], names)]
    else:
        members = {r.id_territoire: [(m.group(2), m.group(1)) for m in re.finditer(r"(?:^|;)\s*(.*?) \((\d{9})\)", r.liste_geo)]
                   for r in listed.itertuples()}
    expected = {"TI" + code.removeprefix("ti-"): _expected_communes(m, communes, ept_communes)
                for code, m in members.items()}
    codes = _states_at(data, date)["official_code"]
    drawn = {codes[tid]: s for tid, s in _communes_by_territory(data, date, communes).items()}
    assert drawn.keys() == expected.keys()
    wrong = [code for code in expected if drawn[code] != expected[code]]
    assert not wrong, wrong[:5]


def test_a_territory_keeps_its_id_while_its_code_and_perimeter_continue(data, communes):
    """2019-2022 lists share one numbering: a code kept with most of its perimeter is the same territory."""
    dates = ["2019-11-19", "2020-10-13", "2022-12-31"]
    for before, after in zip(dates, dates[1:]):
        ids_before = _states_at(data, before)
        ids_after = _states_at(data, after)
        present_b = _communes_by_territory(data, before, communes)
        present_a = _communes_by_territory(data, after, communes)
        by_code_b = {ids_before.at[t, "official_code"]: t for t in present_b}
        by_code_a = {ids_after.at[t, "official_code"]: t for t in present_a}
        for code in set(by_code_b) & set(by_code_a):
            shared = present_b[by_code_b[code]] & present_a[by_code_a[code]]
            if len(shared) >= len(present_b[by_code_b[code]]) / 2:
                assert by_code_b[code] == by_code_a[code], (before, after, code)


def test_phase_2_territories_that_continue_phase_1_keep_its_id(data, communes):
    phase1 = _communes_by_territory(data, "2022-12-31", communes)
    phase2 = _communes_by_territory(data, "2023-11-30", communes)
    kept = set(phase1) & set(phase2)
    assert len(kept) > 100, "most phase 2 territories continue a phase 1 one"
    for tid in kept:
        assert phase1[tid] & phase2[tid], tid
    links = data["territory_links"]
    assert set(links["relation"]) == {"split_from", "merged_into"}
    assert set(links["territory_id"]) | set(links["other_id"]) <= set(data["territories"]["id"])


# --------------------------------------------------------------------------- provenance


def test_no_illustrative_territory_from_24_september_2019_on(data):
    for date in data["versions"]["date"]:
        if date >= SEPT_2019:
            present = set(_members_at(data["memberships"], date)["territory_id"])
            levels = _states_at(data, date).loc[sorted(present), "provenance"]
            assert "illustrative" not in set(levels), date


def test_provenance_levels_say_why(data):
    """Every territory at every version is documented, inferred or illustrative, with a source and a reason."""
    for date in data["versions"]["date"]:
        present = sorted(set(_members_at(data["memberships"], date)["territory_id"]))
        states = _states_at(data, date).loc[present]
        assert set(states["provenance"]) <= {"documented", "inferred", "illustrative"}, date
        assert (states["source"].str.contains("https://")).all(), date
        assert (states["note"] != "").all(), date
        inferred = states[states["provenance"] == "inferred"]
        assert inferred["note"].str.contains("déduite|reprise de la liste").all(), date


def test_the_144_of_september_2019_are_the_146_without_two_grand_est_changes(data, communes):
    sept = _communes_by_territory(data, SEPT_2019, communes)
    nov = _communes_by_territory(data, "2019-11-19", communes)
    added = set(nov) - set(sept)
    names = _states_at(data, "2019-11-19")["name"]
    assert sorted(names[list(added)]) == ["Sel et Vermois", "Terres de Lorraine"]
    assert sept["val-et-terres-de-lorraine"] == nov["val-et-terres-de-lorraine"] | nov[(added - {
        names[names == "Sel et Vermois"].index[0]}).pop()]
    assert all(sept[t] == nov[t] for t in sept if t != "val-et-terres-de-lorraine")


def test_memberships_basis_follows_the_provenance(data):
    basis = {"documented": "source", "inferred": "inference", "illustrative": "illustrative"}
    for date in data["versions"]["date"]:
        members = _members_at(data["memberships"], date)
        levels = _states_at(data, date)["provenance"]
        assert (members["basis"] == members["territory_id"].map(levels).map(basis)).all(), date


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
    territories = data["territories"]
    cvl = territories.loc[(territories["region"] == "24") & territories["id"].isin(status.index), "id"]
    assert len(cvl) >= 8 and status.loc[cvl, "status"].isin(SIGNED).all(), "all Centre-Val de Loire territories had signed"


def test_status_history_is_ordered(data):
    status = _status_at(data, "2018-11-22")
    assert (status["status"] == "identified").all(), "nothing was engaged or signed on launch day"
    starts = data["memberships"].groupby("territory_id")["valid_from"].min()
    events = data["status_events"]
    assert (events["date"] >= events["territory_id"].map(starts)).all()


def test_no_status_or_project_is_invented_after_2019(data):
    """No source gives status or projects per territory after the press release: nothing is dated later."""
    assert data["status_events"]["date"].max() <= SEPT_2019
    assert data["projects"]["date"].max() <= SEPT_2019
    later = set(_members_at(data["memberships"], "2024-07-04")["territory_id"])
    earlier = set(_members_at(data["memberships"], SEPT_2019)["territory_id"])
    assert not set(data["status_events"]["territory_id"]) & (later - earlier)


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


def test_build_programme_reproduces_the_committed_files(tmp_path):
    subprocess.run([sys.executable, "-m", "tdi_geo", "build-programme", "--out", str(tmp_path)], check=True,
                   capture_output=True, cwd=PROJECT_ROOT)
    written = sorted(p.name for p in tmp_path.glob("*.csv"))
    assert written == sorted(p.name for p in PROGRAMME_DIR.glob("*.csv"))
    for name in written:
        assert filecmp.cmp(tmp_path / name, PROGRAMME_DIR / name, shallow=False), name
