"""Search: find a commune, an EPCI or a territory, and say which territory holds a commune at a date.

Expectations are computed here from the reference tables, the commune aliases
and the programme's ``memberships.csv`` (never from the search module), except
the acceptance facts of issue 12 (Lamballe-Armor in Lamballe Terre et Mer on
24 Sept 2019).
"""

from __future__ import annotations

import csv
import json
import unicodedata

import pandas as pd
import pytest

from tdi_geo import PROGRAMME_DIR, cli, reference
from tdi_geo.importers._perimeter_checks import ALIASES_PATH
from tdi_geo.name_index import normalise, normalise_column
from tdi_geo.programme import load_programme, territories_at
from tdi_geo.search import MAX_MATCHES, suggest, where

DATE = "2019-09-24"
REQUIRED_MATCH_KEYS = {"insee", "name", "departement", "epci", "territory", "member_since"}
#: Extra keys a match may carry (documented in ``where``), never instead of the required ones.
OPTIONAL_MATCH_KEYS = {"former", "nearest", "nearest_note", "joined"}
DROM_REGIONS = {"01", "02", "03", "04", "06"}


@pytest.fixture(scope="module")
def prog():
    return load_programme()


@pytest.fixture(scope="module")
def communes() -> pd.DataFrame:
    return reference.load_communes()


@pytest.fixture(scope="module")
def holders(communes) -> pd.Series:
    """The territory of each commune on DATE, straight from memberships.csv ("" when none)."""
    rows = pd.read_csv(PROGRAMME_DIR / "memberships.csv", dtype=str, keep_default_na=False)
    rows = rows[(rows["valid_from"] <= DATE) & ((rows["valid_to"] == "") | (rows["valid_to"] > DATE))]
    by_epci = dict(zip(rows["epci_siren"], rows["territory_id"]))
    by_commune = dict(zip(rows["insee_com"], rows["territory_id"]))
    return pd.Series([by_commune.get(c) or by_epci.get(e) or "" for c, e in
                      zip(communes["insee_com"], communes["epci_siren"].fillna(""))], index=communes["insee_com"])


def _plain(text: str) -> str:
    """What someone typing without accents, hyphens or apostrophes would type."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return ascii_text.replace("-", " ").replace("'", " ").lower()


def _unique_names(communes: pd.DataFrame) -> pd.DataFrame:
    keys = normalise_column(communes["name"])
    return communes[~keys.duplicated(keep=False)]


def test_the_one_normal_form_is_the_same_for_the_index_and_for_a_typed_query(communes):
    names = communes["name"]
    assert normalise_column(names).tolist() == [normalise(n) for n in names]


def test_a_name_typed_without_accents_or_hyphens_finds_the_commune(prog, communes):
    unique = _unique_names(communes)
    accented = unique[unique["name"].str.contains("[éèêâîôûç]") & unique["name"].str.contains("-")]
    assert len(accented) > 100
    for row in accented.sample(8, random_state=12).itertuples():
        first = where(prog, _plain(row.name), DATE)["matches"][0]
        assert (first["insee"], first["name"]) == (row.insee_com, row.name), row.name


def test_st_and_ste_are_read_as_saint_and_sainte(prog, communes):
    unique = _unique_names(communes)
    for prefix, short in (("Saint-", "St "), ("Sainte-", "Ste-")):
        for row in unique[unique["name"].str.startswith(prefix)].sample(4, random_state=1).itertuples():
            typed = short + row.name[len(prefix):]
            assert where(prog, typed, DATE)["matches"][0]["insee"] == row.insee_com, typed


def test_homonyms_are_all_listed_with_their_departement(prog, communes):
    same = communes[communes["name"].str.startswith("Saint-Martin")]
    homonyms = same[same["name"].duplicated(keep=False)]
    name, group = next(iter(homonyms.groupby("name")))
    assert group["departement"].nunique() >= 2
    matches = where(prog, _plain(name), DATE)["matches"]
    exact = [m for m in matches if m["name"] == name]
    assert {(m["insee"], m["departement"]) for m in exact} == set(zip(group["insee_com"], group["departement"]))
    assert matches[:len(exact)] == exact  # exact names come first
    labels = [s["label"] for s in suggest(prog, name, DATE, limit=len(group)) if s["kind"] == "commune"]
    assert len(set(labels)) == len(group) and all(name in label for label in labels)
    # « Saint-Martin… (dd) »: the département picks one of them.
    one = group.iloc[1]
    assert where(prog, f"{name} ({one['departement']})", DATE)["matches"][0]["insee"] == one["insee_com"]


def test_every_exact_homonym_is_listed_even_beyond_the_limit(prog, communes):
    counts = communes["name"].value_counts()
    name = counts.index[0]
    result = where(prog, name, DATE, limit=3)
    assert {m["insee"] for m in result["matches"] if m["name"] == name} == set(
        communes.loc[communes["name"] == name, "insee_com"])
    assert counts.iloc[0] > 3


def test_at_most_twenty_matches_and_the_rest_counted(prog, communes):
    exact = int((normalise_column(communes["name"]) == normalise("saint")).sum())
    result = where(prog, "saint", DATE)
    assert len(result["matches"]) == max(MAX_MATCHES, exact)
    assert result["omitted"] > 1000  # every Saint-… commune matched, 20 shown


def test_a_commune_delegated_into_lamballe_armor_in_2019_resolves_by_its_former_name_and_code(prog, communes):
    aliases = pd.read_csv(ALIASES_PATH, dtype=str, keep_default_na=False)
    lamballe = communes.loc[communes["name"] == "Lamballe-Armor", "insee_com"].item()
    former = aliases[aliases["new_code"] == lamballe]
    assert len(former) > 0
    current_keys = set(normalise_column(communes["name"]))
    for row in former.itertuples():
        for typed in (row.old_code, _plain(row.old_name)):
            first = where(prog, typed, DATE)["matches"][0]
            if typed == row.old_code or normalise(row.old_name) not in current_keys:
                assert first["insee"] == lamballe, typed
                assert first["former"] == {"insee": row.old_code, "name": row.old_name, "kind": row.kind}
                assert first["territory"]["name"] == "Lamballe Terre et Mer"


def test_a_former_commune_elsewhere_resolves_to_its_commune_nouvelle(prog, communes):
    aliases = pd.read_csv(ALIASES_PATH, dtype=str, keep_default_na=False)
    delegated = aliases[aliases["kind"] == "commune déléguée"]
    taken = set(normalise_column(pd.concat([communes["name"], aliases["old_name"]])).value_counts().loc[
        lambda c: c > 1].index)
    usable = delegated[~normalise_column(delegated["old_name"]).isin(taken).to_numpy()]
    for row in usable.sample(5, random_state=3).itertuples():
        first = where(prog, row.old_name, DATE)["matches"][0]
        assert (first["insee"], first["former"]["insee"]) == (row.new_code, row.old_code)


def test_a_commune_outside_every_territory_gets_the_nearest_one(prog, communes, holders):
    from tdi_geo.perimeters import territory_geometries

    metro = communes[~communes["departement"].str.startswith("97") & communes["has_polygon"]]
    outside = metro[metro["insee_com"].map(holders) == ""].sample(3, random_state=5)
    shapes = territory_geometries(prog, DATE, "coarse")
    shapes = shapes[shapes["region"].map(lambda r: r not in DROM_REGIONS)].to_crs("EPSG:2154")
    polygons = reference.load_commune_polygons("coarse").set_index("insee_com").to_crs("EPSG:2154")
    for code in outside["insee_com"]:
        match = where(prog, code, DATE)["matches"][0]
        assert match["territory"] is None and match["member_since"] is None
        distances = shapes.distance(polygons.loc[code, "geometry"])
        nearest = shapes.iloc[int(distances.to_numpy().argmin())]
        assert match["nearest"]["id"] == nearest["id"]
        assert match["nearest"]["distance_km"] == pytest.approx(distances.min() / 1000, abs=0.06)


def test_a_commune_that_joined_later_says_when(prog, communes):
    lamballe = communes.loc[communes["name"] == "Lamballe-Armor", "insee_com"].item()
    first_version = load_programme().versions["date"].iloc[0]
    match = where(prog, lamballe, first_version)["matches"][0]
    assert match["territory"] is None
    assert {"date": DATE, "territory": {"id": "lamballe-terre-et-mer", "name": "Lamballe Terre et Mer",
                                        "provenance": "documented"}} in match["joined"]


def test_a_commune_of_a_partly_covered_epci_gets_the_answer_for_that_commune(prog, communes, holders):
    rows = pd.read_csv(PROGRAMME_DIR / "memberships.csv", dtype=str, keep_default_na=False)
    at_date = (rows["valid_from"] <= DATE) & ((rows["valid_to"] == "") | (rows["valid_to"] > DATE))
    single = rows[(rows["insee_com"] != "") & at_date]
    assert not single.empty
    member = single.iloc[0]
    epci = communes.set_index("insee_com").at[member["insee_com"], "epci_siren"]
    siblings = communes[(communes["epci_siren"] == epci) & ~communes["insee_com"].isin(single["insee_com"])]
    assert not siblings.empty  # the EPCI is only partly in the territory
    match = where(prog, member["insee_com"], DATE)["matches"][0]
    assert match["territory"]["id"] == member["territory_id"]
    assert match["member_since"] == member["valid_from"]
    for code in siblings["insee_com"].head(5):
        other = where(prog, code, DATE)["matches"][0]
        assert (other["territory"] or {}).get("id", "") == holders[code] != member["territory_id"]


def test_drom_communes_in_and_out_of_territories(prog, communes, holders):
    drom = communes[communes["departement"].str.startswith("97")]
    inside = drom[drom["insee_com"].map(holders) != ""]
    outside = drom[drom["insee_com"].map(holders) == ""]
    assert not inside.empty and not outside.empty
    code = inside["insee_com"].iloc[0]
    assert where(prog, code, DATE)["matches"][0]["territory"]["id"] == holders[code]
    regions = territories_at(prog, DATE).set_index("id")["region"]
    for code in outside["insee_com"].sample(6, random_state=2):
        match = where(prog, code, DATE)["matches"][0]
        assert match["territory"] is None
        if match["nearest"] is None:  # no territory in that overseas zone: said, not guessed
            assert match["nearest_note"]
        else:  # never a metropolitan territory across the ocean
            assert regions[match["nearest"]["id"]] in DROM_REGIONS


def test_insee_code_and_siren_queries(prog, communes, holders):
    row = communes[communes["insee_com"].map(holders) != ""].sample(1, random_state=7).iloc[0]
    match = where(prog, row["insee_com"], DATE)["matches"][0]
    assert (match["insee"], match["name"], match["territory"]["id"]) == (row["insee_com"], row["name"],
                                                                         holders[row["insee_com"]])
    corsica = communes[communes["insee_com"].str.startswith("2A")].iloc[0]
    assert where(prog, corsica["insee_com"].lower(), DATE)["matches"][0]["insee"] == corsica["insee_com"]
    rows = pd.read_csv(PROGRAMME_DIR / "memberships.csv", dtype=str, keep_default_na=False)
    at_date = (rows["valid_from"] <= DATE) & ((rows["valid_to"] == "") | (rows["valid_to"] > DATE))
    whole = rows[(rows["epci_siren"] != "") & at_date]
    sizes = communes["epci_siren"].value_counts()
    siren = next(s for s in whole["epci_siren"] if sizes.get(s, 99) <= MAX_MATCHES)
    territory = whole.set_index("epci_siren").at[siren, "territory_id"]
    result = where(prog, siren, DATE)
    assert result["epcis"][0]["siren"] == siren
    assert [t["id"] for t in result["epcis"][0]["territories"]] == [territory]
    assert result["matches"] == []  # an EPCI lists its communes only when asked
    listed = where(prog, siren, DATE, communes=True)["matches"]
    assert {m["insee"] for m in listed} == set(communes.loc[communes["epci_siren"] == siren, "insee_com"])
    assert {m["territory"]["id"] for m in listed} == {territory}


def test_a_territory_name_lists_its_communes_only_when_asked(prog, holders):
    result = where(prog, "Lamballe Terre et Mer", DATE)
    assert result["territories"][0]["id"] == "lamballe-terre-et-mer" and result["matches"] == []
    listed = where(prog, "Lamballe Terre et Mer", DATE, communes=True, limit=1000)["matches"]
    assert {m["insee"] for m in listed} == set(holders[holders == "lamballe-terre-et-mer"].index)


def test_where_reads_the_member_since_without_interruption_and_names_at_the_date(tmp_path, communes):
    from conftest import write_small_dataset

    folder = write_small_dataset(tmp_path / "gap")
    with (folder / "memberships.csv").open("a", newline="", encoding="utf-8") as fh:
        # Guingamp-Paimpol left on 24 Sept 2019 in the small dataset; here it comes back later.
        csv.writer(fh).writerow(["guingamp", "200067981", "", "2019-12-01", "", "source", "", ""])
    with (folder / "versions.csv").open("a", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerow(["2019-12-01", "Retour", "", "test"])
    with (folder / "territory_states.csv").open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([["territory_id", "valid_from", "name", "provenance", "partial", "official_code",
                                   "source", "note"],
                                  ["guingamp", "2019-12-01", "Guingamp renommé", "official", "", "", "", ""]])
    small = load_programme(folder)
    code = communes.loc[communes["epci_siren"] == "200067981", "insee_com"].iloc[0]
    before, gap, after = (where(small, code, d)["matches"][0] for d in ("2019-07-25", DATE, "2019-12-01"))
    assert (before["territory"]["name"], before["member_since"]) == ("Guingamp-Paimpol", "2018-11-22")
    assert gap["territory"] is None
    assert [j["date"] for j in gap["joined"]] == ["2018-11-22", "2019-07-25", "2019-12-01"]
    assert after["territory"] == {"id": "guingamp", "name": "Guingamp renommé", "provenance": "official"}
    assert after["member_since"] == "2019-12-01"


def test_acceptance_where_lamballe_names_lamballe_terre_et_mer(capsys):
    assert cli.main(["where", "Lamballe", "--date", DATE, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["query"] == "Lamballe" and result["date"] == DATE
    assert result["matches"][0]["territory"]["name"] == "Lamballe Terre et Mer"
    assert cli.main(["where", "Lamballe", "--date", DATE]) == 0
    assert ("Lamballe-Armor (22093) fait partie du territoire Lamballe Terre et Mer depuis le 24/09/2019"
            in capsys.readouterr().out)


def test_the_json_shape_is_exactly_the_one_the_issue_gives(capsys):
    assert cli.main(["where", "saint martin", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) >= {"query", "date", "matches"}
    assert result["date"] == load_programme().versions["date"].max()  # the latest version by default
    assert 0 < len(result["matches"])
    for match in result["matches"]:
        assert REQUIRED_MATCH_KEYS <= set(match) <= REQUIRED_MATCH_KEYS | OPTIONAL_MATCH_KEYS
        assert all(isinstance(match[k], str) for k in ("insee", "name", "departement"))
        assert set(match["epci"]) == {"siren", "name"}
        if match["territory"] is None:
            assert match["member_since"] is None
        else:
            assert set(match["territory"]) == {"id", "name", "provenance"}
            assert len(match["member_since"]) == 10 and match["member_since"] <= result["date"]


def test_a_bad_date_exits_2_with_a_french_message(capsys):
    assert cli.main(["where", "Lamballe", "--date", "2019-02-30", "--json"]) == 2
    captured = capsys.readouterr()
    assert "Date invalide" in captured.err and "Traceback" not in captured.err and captured.out == ""


@pytest.mark.parametrize("hostile", ["{{7*7}}", "</script><script>alert(1)</script>", "", "'; DROP TABLE x; --",
                                     "\x00\u202e", "a" * 5000])
def test_a_hostile_query_is_echoed_literally_and_matches_nothing(capsys, prog, hostile):
    assert cli.main(["where", hostile, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["query"] == hostile
    assert result["matches"] == [] and "49" not in json.dumps(result)
    assert cli.main(["where", hostile]) == 0
    assert "Traceback" not in capsys.readouterr().err
    assert all(s["kind"] in {"commune", "epci", "territory"} for s in suggest(prog, hostile))


def test_type_ahead_suggests_communes_first_from_any_prefix(prog, communes):
    row = _unique_names(communes).sort_values("population").iloc[-1]
    for end in range(3, len(row["name"]) + 1):
        got = suggest(prog, row["name"][:end], DATE, limit=10)
        kinds = [s["kind"] for s in got]
        assert kinds == sorted(kinds, key=["commune", "epci", "territory"].index)
        assert row["insee_com"] in [s["key"] for s in got if s["kind"] == "commune"], row["name"][:end]
    assert suggest(prog, row["insee_com"][:3], DATE, limit=500)[0]["key"].startswith(row["insee_com"][:3])


def test_the_french_answer_of_a_commune_outside_says_the_nearest_territory_and_when_it_joined(capsys, prog):
    first_version = prog.versions["date"].iloc[0]
    assert cli.main(["where", "Lamballe-Armor", "--date", first_version]) == 0
    out = capsys.readouterr().out
    nearest = where(prog, "Lamballe-Armor", first_version)["matches"][0]["nearest"]["name"]
    assert f"ne fait partie d'aucun territoire d'industrie le {'/'.join(first_version.split('-')[::-1])}" in out
    assert f"Territoire le plus proche : {nearest}" in out
    assert "Elle fait partie de Lamballe Terre et Mer à partir de la version du 24/09/2019." in out
