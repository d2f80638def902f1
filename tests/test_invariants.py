"""Issue 8: a dataset that breaks an invariant is refused at load time and by imports.

Each case corrupts one file of the small test dataset (tests/conftest.py) the
way a hand edit or a bad merge would, and checks the French message names the
file and the lines.
"""

from __future__ import annotations

import csv
import subprocess
import sys

import pandas as pd
import pytest

from conftest import write_small_dataset
from import_samples import tree_digest, write_csv
from tdi_geo import PROJECT_ROOT
from tdi_geo.importers import ImportFileError, import_files
from tdi_geo.programme import load_programme
from tdi_geo.programme_checks import DatasetError
from tdi_geo.reference import load_communes


def _append(path, row: dict) -> int:
    """Append a row to a CSV of the dataset; returns its spreadsheet line number."""
    with path.open(newline="", encoding="utf-8") as fh:
        header, *rows = list(csv.reader(fh))
    with path.open("a", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writerow({k: row.get(k, "") for k in header})
    return len(rows) + 2


def _member(tid, siren="", insee="", start="2019-09-24", end=""):
    return {"territory_id": tid, "epci_siren": siren, "insee_com": insee, "valid_from": start, "valid_to": end,
            "basis": "source"}


def _refused(folder) -> str:
    with pytest.raises(DatasetError) as exc:
        load_programme(folder)
    assert isinstance(exc.value, ValueError)  # the CLI and the app show ValueErrors as messages
    return str(exc.value)


@pytest.fixture()
def dataset(tmp_path):
    return write_small_dataset(tmp_path / "dataset")


def test_the_embedded_and_the_test_datasets_are_valid(dataset):
    load_programme(dataset)
    from tdi_geo import PROGRAMME_DIR

    load_programme(PROGRAMME_DIR)


def test_an_epci_in_two_territories_at_one_date(dataset):
    # 200069391 is Lamballe's EPCI from 2019-09-24; give it to Nord Franche-Comté from 2019-01-01 on.
    line = _append(dataset / "memberships.csv", _member("nord-fc", "200069391", start="2019-01-01"))
    message = _refused(dataset)
    assert "« memberships.csv »" in message and f"{line}" in message
    assert "EPCI 200069391 appartient à deux territoires le 2019-09-24" in message
    assert "« lamballe »" in message and "« nord-fc »" in message


def test_an_ended_membership_does_not_collide_with_a_later_one(dataset):
    # Guingamp's EPCI leaves on 2019-09-24; another territory may take it from that day on.
    _append(dataset / "memberships.csv", _member("lamballe", "200067981", start="2019-09-24"))
    load_programme(dataset)
    _append(dataset / "memberships.csv", _member("st-brieuc", "200067981", start="2019-09-23", end="2019-09-24"))
    assert "appartient à deux territoires le 2019-09-23" in _refused(dataset)


def test_a_commune_together_with_its_own_epci(dataset):
    communes = load_communes()
    insee = communes.loc[communes["epci_siren"] == "200069409", "insee_com"].iloc[0]  # Saint-Brieuc's EPCI
    line = _append(dataset / "memberships.csv", _member("lamballe", insee=insee))
    message = _refused(dataset)
    assert f"la commune {insee} et son EPCI 200069409" in message
    assert "« lamballe » et « st-brieuc »" in message and str(line) in message
    # the same in one territory
    dataset2 = write_small_dataset(dataset.parent / "again")
    _append(dataset2 / "memberships.csv", _member("st-brieuc", insee=insee))
    assert "membres de « st-brieuc » le 2019-09-24" in _refused(dataset2)


def test_duplicate_ids_and_unknown_territories(dataset):
    line = _append(dataset / "territories.csv", {"id": "auray", "name": "Autre Auray", "region": "53",
                                                 "provenance": "documented", "partial": "false"})
    _append(dataset / "projects.csv", {"id": "p1", "territory_id": "nord-fc", "pillar": "innover",
                                       "date": "2019-04-01", "state_commitment": "false"})
    project_line = _append(dataset / "projects.csv", {"id": "p9", "territory_id": "fantome", "pillar": "innover",
                                                      "date": "2019-04-01", "state_commitment": "false"})
    message = _refused(dataset)
    assert f"« territories.csv », colonne « id », lignes 5, {line} : identifiant en double « auray »" in message
    assert "« projects.csv », colonne « id », lignes 2, 7 : identifiant en double « p1 »" in message
    assert f"« projects.csv », colonne « territory_id », ligne {project_line} : territoire inconnu « fantome »" in message


@pytest.mark.parametrize(
    "table, row, column",
    [
        ("status_events", {"territory_id": "auray", "date": "24/09/2019", "status": "engaged", "fragile": "false"},
         "date"),
        ("versions", {"date": "2019-02-30", "label": "x"}, "date"),
        ("memberships", _member("auray", "200043123", start="2019-9-1"), "valid_from"),
        ("projects", {"id": "p8", "territory_id": "auray", "pillar": "innover", "date": "2019", }, "date"),
        ("national_figures", {"date": "24 sept. 2019", "indicator": "signed", "value": "1"}, "date"),
        ("territory_states", {"territory_id": "auray", "valid_from": "hier", "name": "x"}, "valid_from"),
    ],
)
def test_dates_must_be_iso(dataset, table, row, column):
    path = dataset / f"{table}.csv"
    if not path.exists():
        path.write_text("territory_id,valid_from,name,provenance,partial,official_code,source,note\n", encoding="utf-8")
    line = _append(path, row)
    message = _refused(dataset)
    assert f"« {table}.csv », colonne « {column} », ligne {line} : date invalide" in message
    assert "AAAA-MM-JJ" in message


def test_valid_to_must_follow_valid_from(dataset):
    line = _append(dataset / "memberships.csv", _member("auray", "200043124", start="2019-09-24", end="2019-09-24"))
    message = _refused(dataset)
    assert f"« memberships.csv », ligne {line} : « valid_to » doit être postérieure à « valid_from »" in message


def test_the_command_line_shows_the_problem_without_a_traceback(dataset):
    _append(dataset / "territories.csv", {"id": "auray", "name": "x", "region": "53"})
    done = subprocess.run([sys.executable, "-m", "tdi_geo", "versions", "--dataset", str(dataset)],
                          capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120)
    assert done.returncode == 2
    assert "identifiant en double « auray »" in done.stderr and "Traceback" not in done.stderr


def test_an_import_into_an_inconsistent_base_is_refused_and_writes_nothing(tmp_path, base):
    line = _append(base / "projects.csv", {"id": "dup", "territory_id": "territoire-ain", "pillar": "innover",
                                           "date": "2019-04-01", "state_commitment": "false"})
    _append(base / "projects.csv", {"id": "dup", "territory_id": "territoire-ain", "pillar": "attirer",
                                    "date": "2019-05-01", "state_commitment": "false"})
    before = tree_digest(base)
    status = pd.DataFrame({"territoire": ["Territoire Ain"], "date": ["2024-02-01"], "statut": ["Protocole signé"]})
    with pytest.raises(ImportFileError) as exc:
        import_files([write_csv(status, tmp_path / "s.csv")], tmp_path / "out", base_dataset=base)
    message = str(exc.value)
    assert "incohérent" in message and f"« projects.csv », colonne « id », lignes {line}, {line + 1}" in message
    assert not (tmp_path / "out").exists() and tree_digest(base) == before
