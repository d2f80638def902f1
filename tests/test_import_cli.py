"""`python -m tdi_geo validate|import` on good and bad files (issue #5).

Every bad file gets its own French message naming the row and the column,
exit code 2, no traceback, and leaves the existing dataset byte-identical.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest
from openpyxl import Workbook

from import_samples import epci_rows, tree_digest, write_csv
from tdi_geo import PROJECT_ROOT
from tdi_geo.cli import main
from tdi_geo.importers import import_cli


@pytest.fixture()
def existing(tmp_path, base, sample):
    """A dataset already imported at --out, which failed imports must leave untouched."""
    out = tmp_path / "out"
    code = main(["import", str(write_csv(sample.communes, tmp_path / "ok.csv")), "--out", str(out),
                 "--date", "2023-06-01", "--dataset", str(base)])
    assert code == 0
    return out


def _bad_files(tmp_path, sample) -> dict:
    """name → (path, words the message must contain)."""
    files = {}
    (tmp_path / "vide.csv").write_bytes(b"")
    files["empty"] = (tmp_path / "vide.csv", ["vide"])
    (tmp_path / "titres.csv").write_text("insee_com;lib_com;id_ti;lib_ti\n", encoding="utf-8")
    files["header_only"] = (tmp_path / "titres.csv", ["aucune ligne de données", "ligne 1"])
    (tmp_path / "garbage.csv").write_bytes(bytes(range(256)) * 40)
    files["binary"] = (tmp_path / "garbage.csv", ["binaire"])
    (tmp_path / "ancien.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    files["xls"] = (tmp_path / "ancien.xls", ["97-2003", "endommagé"])
    (tmp_path / "rapport.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"\x00\x01\x02" * 300)
    files["pdf"] = (tmp_path / "rapport.pdf", ["non pris en charge", "CSV"])
    wrong = pd.DataFrame({"commune": ["Bourg"], "departement": ["01"]})
    files["wrong_columns"] = (write_csv(wrong, tmp_path / "colonnes.csv"),
                              ["manquante", "« insee_com »", "« commune »", "--map"])
    unknown = sample.communes.copy()
    unknown.loc[3, "insee_com"] = "99999"
    files["unknown_code"] = (write_csv(unknown, tmp_path / "inconnu.csv"),
                             ["« 99999 » (ligne 5)", "colonne « insee_com »", "inconnu", "COG 2025"])
    conflict = pd.concat([sample.communes, sample.communes.iloc[[0]].assign(id_ti="X1", lib_ti="Autre")])
    files["conflict"] = (write_csv(conflict, tmp_path / "conflit.csv"),
                         ["deux territoires", sample.communes.at[0, "insee_com"], "(ligne 2)",
                          f"(ligne {len(conflict) + 1})"])
    empty_territory = sample.communes.copy()
    empty_territory.loc[5, ["id_ti", "lib_ti"]] = ""
    files["empty_territory"] = (write_csv(empty_territory, tmp_path / "sans_territoire.csv"),
                                ["territoire vide", "ligne 7", "« id_ti »"])
    siren = epci_rows(sample)
    siren.loc[1, "code_insee_"] = "241000999"
    files["unknown_siren"] = (write_csv(siren, tmp_path / "epci.csv"),
                              ["241000999", "ligne 3", "« code_insee_ »", "COG 2025", "n'existe plus"])
    wb = Workbook()
    wb.active.title = "Couverture"
    wb.active.append(["Territoires d'industrie"])
    wb.create_sheet("Annexe").append(["Nom", "Population"])
    wb.save(tmp_path / "classeur.xlsx")
    files["xlsx_no_sheet"] = (tmp_path / "classeur.xlsx", ["« Couverture »", "« Annexe »", "colonnes attendues"])
    status = pd.DataFrame({"territoire": ["Territoire Ain", "Territoire Ain"], "date": ["2020-01-29"] * 2,
                           "statut": ["Contrat signé", "Protocole signé"]})
    files["status_conflict"] = (write_csv(status, tmp_path / "statuts.csv"),
                                ["contradictoires", "lignes 2 et 3", "même date"])
    stranger = pd.DataFrame({"Nom du territoire": ["Atlantide"], "date": ["2020-01-29"], "statut": ["Engagé"]})
    files["unknown_territory"] = (write_csv(stranger, tmp_path / "atlantide.csv"),
                                  ["« Atlantide »", "ligne 2", "colonne « Nom du territoire »", "inconnu"])
    return files


BAD = ["empty", "header_only", "binary", "xls", "pdf", "wrong_columns", "unknown_code", "conflict",
       "empty_territory", "unknown_siren", "xlsx_no_sheet", "status_conflict", "unknown_territory"]


@pytest.mark.parametrize("case", BAD)
def test_bad_file_is_refused_with_its_message_and_changes_nothing(tmp_path, sample, base, existing, capsys, case):
    path, words = _bad_files(tmp_path, sample)[case]
    before, base_before = tree_digest(existing), tree_digest(base)
    capsys.readouterr()

    assert main(["validate", str(path), "--dataset", str(base)]) == 2
    err = capsys.readouterr().err
    for word in words:
        assert word in err, (word, err)
    assert f"« {path.name} »" in err

    code = main(["import", str(path), "--out", str(existing), "--date", "2024-06-01", "--dataset", str(base)])
    captured = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in captured.err and "aucun jeu de données n'a été modifié" in captured.err
    assert tree_digest(existing) == before
    assert tree_digest(base) == base_before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []  # no temp dir left


def test_file_over_the_size_limit_is_refused(tmp_path, sample, base, existing, capsys):
    path = write_csv(sample.communes, tmp_path / "gros.csv")
    before = tree_digest(existing)
    code = import_cli([path], out=existing, date="2024-06-01", base_dataset=base, max_bytes=1000)
    err = capsys.readouterr().err
    assert code == 2
    assert "trop volumineux" in err and "limite" in err and "« gros.csv »" in err
    assert tree_digest(existing) == before


def test_missing_date_is_asked_for(tmp_path, sample, base, existing, capsys):
    before = tree_digest(existing)
    code = main(["import", str(write_csv(sample.communes, tmp_path / "tdi.csv")), "--out", str(existing),
                 "--dataset", str(base)])
    assert code == 2
    assert "--date" in capsys.readouterr().err
    assert tree_digest(existing) == before


def test_out_folder_that_is_not_a_dataset_is_never_replaced(tmp_path, sample, base, capsys):
    precious = tmp_path / "documents"
    precious.mkdir()
    (precious / "note.txt").write_text("à garder", encoding="utf-8")
    code = main(["import", str(write_csv(sample.communes, tmp_path / "p.csv")), "--out", str(precious),
                 "--date", "2023-06-01", "--dataset", str(base)])
    assert code == 2
    assert "n'est pas un jeu de données" in capsys.readouterr().err
    assert [p.name for p in precious.iterdir()] == ["note.txt"]


def test_duplicate_rows_warn_but_do_not_block(tmp_path, sample, base, capsys):
    doubled = pd.concat([sample.communes, sample.communes.iloc[[2]]])
    path = write_csv(doubled, tmp_path / "doublons.csv")
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "en double" in out and f"ligne {len(doubled) + 1} = ligne 4" in out
    assert "valide" in out


def test_formula_cells_are_neutralised_in_the_written_dataset(tmp_path, sample, base, capsys):
    rows = sample.communes.copy()
    rows.loc[rows["id_ti"] == "0100TI01", "lib_ti"] = '=HYPERLINK("http://example.org","Ain")'
    path = write_csv(rows, tmp_path / "formules.csv")
    out = tmp_path / "out"
    assert main(["import", str(path), "--out", str(out), "--date", "2023-06-01", "--dataset", str(base)]) == 0
    stdout = capsys.readouterr().out
    assert "formule" in stdout and "colonne « lib_ti »" in stdout and "ligne 2" in stdout
    written = (out / "territories.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in written
    assert not any(line.split(",", 2)[1].startswith(("=", "+", "@")) for line in written.splitlines()[1:])


def test_map_option_fixes_unusual_headers(tmp_path, sample, base, capsys):
    rows = sample.communes.rename(columns={"insee_com": "Numéro", "lib_ti": "Grappe"}).drop(columns="id_ti")
    path = write_csv(rows, tmp_path / "maison.csv")
    assert main(["validate", str(path)]) == 2
    capsys.readouterr()
    assert main(["validate", str(path), "--map", "Numéro=insee_com", "--map", "Grappe=lib_ti"]) == 0
    assert "« Numéro » → insee_com" in capsys.readouterr().out
    assert main(["validate", str(path), "--map", "Numéro=code_magique"]) == 2
    assert "code_magique" in capsys.readouterr().err


def _run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "tdi_geo", *args], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=120)


def test_subprocess_validate_then_import(tmp_path, sample, base):
    path = write_csv(sample.communes, tmp_path / "perimetre_2023-06-01.csv", encoding="cp1252")
    done = _run("validate", str(path), env={"TDI_GEO_DATASET": str(base)})
    assert done.returncode == 0, done.stderr
    assert "territoires = 2" in done.stdout
    done = _run("import", str(path), "--out", str(tmp_path / "ds"), "--dataset", str(base))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "ds" / "dataset.json").exists()


def test_subprocess_bad_file_exits_2_without_traceback(tmp_path, base):
    (tmp_path / "garbage.csv").write_bytes(os.urandom(4096))
    done = _run("import", str(tmp_path / "garbage.csv"), "--out", str(tmp_path / "ds"), "--date", "2023-01-01",
                "--dataset", str(base))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "Erreur" in done.stderr
    assert not (tmp_path / "ds").exists()


def test_an_output_folder_that_cannot_be_written_is_reported_in_french(tmp_path, sample, base, capsys):
    blocker = tmp_path / "fichier.txt"
    blocker.write_text("pas un dossier")
    code = import_cli([write_csv(sample.communes, tmp_path / "p.csv")], blocker / "sortie", date="2023-06-01",
                      base_dataset=base)
    err = capsys.readouterr().err
    assert code == 2 and "Écriture impossible" in err
    assert "Not a directory" not in err and "Errno" not in err and "Traceback" not in err
