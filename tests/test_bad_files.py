"""The bad-file corpus (issue 8): every hostile or broken file is refused cleanly.

Each file is generated here into a temporary folder (no binary file is
committed). For each one: the import is refused, the French message names
the file as the user gave it (and the row and column when there is one),
no traceback, no library English, no server path, and neither the base
dataset nor the workspace (its datasets and its ``current`` pointer) changes.
A representative handful also goes through ``python -m tdi_geo``.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

import hostile_workbooks
from import_samples import epci_rows, make_sample, tree_digest, write_base_dataset, write_csv
from tdi_geo import PROJECT_ROOT
from tdi_geo.cli import main
from tdi_geo.importers import ImportFileError, current_dataset, import_to_workspace, validate_files
from tdi_geo.importers._checks import parse_file

#: Text that must never reach a user: Python's and the libraries' English, tracebacks.
ENGLISH = re.compile(
    r"Traceback|Error\b|Exception|object has no attribute|field limit|CRC-32|non-finite|not recognized|"
    r"No such file|Permission denied|codec can't|GDAL|pyogrio|openpyxl|zipfile|Chartsheet|/vsi",
)
PROJECT = {"territoire": ["Territoire Ain"], "pilier": ["Innover"], "date": ["2021-03-01"]}


def _xlsx_bytes(rows) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def chart_workbook(rows) -> bytes:
    """A workbook whose first sheet is a chart sheet (no cells), then a sheet of ``rows``."""
    from openpyxl.chart import BarChart, Reference

    wb = Workbook()
    wb.active.title = "Données"
    for row in rows:
        wb.active.append(row)
    chart = BarChart()
    chart.add_data(Reference(wb.active, min_col=1, min_row=1, max_row=2))
    wb.create_chartsheet("Graphique", 0).add_chart(chart)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _projects(tmp: Path, name: str, amount: str) -> Path:
    rows = pd.DataFrame({**PROJECT, "montant_etat": [amount]})
    return write_csv(rows, tmp / name)


def _geojson(properties: list[dict]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": p, "geometry": None} for p in properties]})


def build_corpus(tmp: Path, sample) -> dict[str, tuple[Path, list[str]]]:
    """case → (file, words the message must contain)."""
    files: dict[str, tuple[Path, list[str]]] = {}

    def add(case: str, name: str, data: bytes | str, words: list[str]) -> None:
        path = tmp / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        files[case] = (path, words)

    good = sample.communes.to_csv(sep=";", index=False, lineterminator="\n")
    header = "insee_com;lib_com;id_ti;lib_ti\n"
    add("empty", "vide.csv", b"", ["vide"])
    add("header_only", "titres.csv", header, ["aucune ligne de données", "ligne 1"])
    add("blank_lines", "blanc.csv", "\n \n\t\n", ["vide"])
    add("binary", "binaire.csv", bytes(range(256)) * 40, ["binaire"])
    add("pdf", "rapport.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + b"\x00\x01\x02" * 300, ["non pris en charge"])
    add("xls", "ancien.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, ["97-2003", "endommagé"])
    encrypted = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500 + "EncryptedPackage".encode("utf-16-le")
    add("encrypted_xlsx", "protege.xlsx", encrypted + b"\x00" * 500, ["mot de passe"])
    # Encodings: a cut character among good UTF-8, a half-cp1252 file, UTF-16 without BOM, an undefined byte.
    lines = good.splitlines(keepends=True)
    utf8 = "".join(lines[:4]) + "01001;Abergement-Clémenciat;0100TI01;Territoire Ain\n"
    add("cut_utf8", "coupe.csv", utf8.encode("utf-8") + "01002;L'Abergement-de-Varey;0100TI01;Territoire Ain é"
        .encode("utf-8")[:-1] + b"\n", ["ligne 6", "0xC3", "UTF-8"])
    add("mixed_encodings", "melange.csv", utf8.encode("utf-8") + "01004;Ambérieu;0100TI01;Territoire Ain\n"
        .encode("cp1252"), ["mélange d'encodages", "ligne 6", "0xE9"])
    add("utf16_no_bom", "unicode.csv", good.encode("utf-16-le"), ["UTF-16", "BOM", "UTF-8"])
    add("undefined_cp1252", "windows.csv", header.encode() + b"01001;Ab\x81;0100TI01;Ain\n",
        ["ligne 2", "0x81"])
    add("nul_csv", "nul.csv", header + "01001;Bourg\x00Cach\xe9;0100TI01;Territoire Ain\n",
        ["caractère nul", "ligne 2", "colonne « lib_com »"])
    # Size and shape.
    add("single_line_5mb", "ligne.csv", "x" * (5 * 1024 * 1024), ["ligne 1", "caractères"])
    add("wide_10000", "large.csv", ";".join(f"c{i}" for i in range(10_000)) + "\n" + ";" * 9_999 + "\n",
        ["10000 colonnes", "limite de 200", "ligne 1"])
    add("wide_250", "colonnes.csv", ";".join(["insee_com", "lib_ti"] + [f"x{i}" for i in range(248)]) + "\n",
        ["250 colonnes", "limite de 200"])
    add("too_many_rows", "lignes.csv", "insee_com;lib_ti\n" + "01001;A\n" * 100_001, ["trop grand", "lignes"])
    add("over_limit", "gros.csv", good * 3, ["trop volumineux", "limite"])
    # Columns and cells.
    add("wrong_columns", "colonnes_inconnues.csv", "commune;departement\nBourg;01\n",
        ["manquante", "« insee_com »", "--map"])
    add("duplicate_headers", "doublon.csv", "insee_com;lib_ti;insee_com\n01001;Ain;01002\n",
        ["colonnes en double", "« insee_com »", "colonnes A, C", "ligne 1"])
    add("bad_date", "dates.csv", "territoire;pilier;date\nTerritoire Ain;Innover;31/02/2021\n",
        ["date(s) illisible(s)", "ligne 2", "colonne « date »"])
    files["amount_1e30"] = (_projects(tmp, "montant_1e30.csv", "1e30"), ["plafond", "ligne 2", "« montant_etat »"])
    files["amount_huge"] = (_projects(tmp, "montant_20_chiffres.csv", "99999999999999999999"),
                            ["plafond", "ligne 2", "« montant_etat »"])
    files["amount_inf"] = (_projects(tmp, "montant_inf.csv", "inf"),
                           ["pas des nombres", "ligne 2", "« montant_etat »"])
    files["amount_nan"] = (_projects(tmp, "montant_nan.csv", "NaN"), ["pas des nombres", "ligne 2"])
    files["amount_negative"] = (_projects(tmp, "montant_negatif.csv", "-5"), ["négatif", "ligne 2"])
    files["amount_ambiguous"] = (_projects(tmp, "montant_ambigu.csv", "1.250"),
                                 ["ambigu", "ligne 2", "« 1.250 »", "Écrivez 1250"])
    epci = epci_rows(sample)
    epci.loc[1, "insee_reg"] = "99"
    files["region_99"] = (write_csv(epci, tmp / "region99.csv"),
                          ["code(s) région inconnu(s)", "ligne 3", "« insee_reg »", "« 99 »"])
    epci = epci_rows(sample)
    epci.loc[0, "insee_reg"] = "<b>84</b>"
    files["region_html"] = (write_csv(epci, tmp / "region_html.csv"), ["région inconnu", "ligne 2", "« insee_reg »"])
    # Workbooks.
    xlsx = _xlsx_bytes([["insee_com", "lib_ti"], ["=A1&\"001\"", "Territoire Ain"]])
    # A formula saved without its value (as openpyxl writes them) shows nothing: an empty code.
    add("formula_code", "formules.xlsx", xlsx, ["vide", "ligne 2", "colonne « insee_com »"])
    add("corrupted_xlsx", "abime.xlsx", xlsx[: len(xlsx) // 2], ["endommagé"])
    damaged = bytearray(xlsx)
    start = damaged.index(b"xl/worksheets/sheet1.xml") + len("xl/worksheets/sheet1.xml")
    damaged[start + 5: start + 15] = b"\xff" * 10  # the sheet's compressed bytes: a CRC or inflate error
    add("bad_crc_xlsx", "crc.xlsx", bytes(damaged), ["endommagé"])
    add("chartsheet", "graphique.xlsx", chart_workbook([["Nom", "Population"], ["Bourg", 42]]),
        ["manquante", "« Nom »"])
    # Archives.
    files["zip_slip"] = (_zip(tmp / "chemins.zip", {"../../evil.shp": b"x", "../../evil.dbf": b"x"}),
                         ["chemins qui sortent", "../../evil.shp"])
    files["zip_two_shapefiles"] = (_zip(tmp / "deux.zip", {"a.shp": b"x", "b.shp": b"x"}), ["2 shapefiles"])
    files["zip_no_dbf"] = (_zip(tmp / "sans_dbf.zip", {"couche.shp": b"x" * 100, "couche.shx": b"x"}),
                           [".dbf", "couche.shp"])
    files["zip_other"] = (_zip(tmp / "photos.zip", {"photo.jpg": b"x"}), ["ni classeur (XLSX, ODS) ni shapefile"])
    # GeoJSON and shapefiles.
    add("geojson_not_json", "couche.geojson", "type,features\n1,2\n", ["pas un GeoJSON"])
    add("geojson_broken", "tronque.geojson", '{"type": "FeatureCollection", "features": [{"type": "Fea',
        ["GeoJSON", "illisible"])
    add("geojson_nul", "nul.geojson", _geojson([{"siren": "200000438", "libelle_ter": "Ain\u0000 caché"}]),
        ["caractère nul", "ligne 1"])
    add("shp_without_dbf", "seul.shp", b"\x00\x00\x27\x0a" + b"\x00" * 96, [".dbf", "absent"])
    add("dbf_garbage", "attributs.dbf", b"\xff" * 200, ["endommagée"])
    return files


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    sample = make_sample()
    folder = tmp_path_factory.mktemp("corpus")
    return build_corpus(folder, sample)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A workspace with one good import (its ``current`` pointer set), and its base dataset."""
    root = tmp_path_factory.mktemp("ws")
    base = write_base_dataset(root / "base")
    good = write_csv(make_sample().communes, root / "bon.csv")
    import_to_workspace([good], root / "workspace", date="2023-06-01", base_dataset=base)
    return root / "workspace", base


def test_the_corpus_has_at_least_35_files_and_each_is_tested(corpus):
    assert len(corpus) >= 35
    assert sorted(corpus) == sorted(CASES)


def _assert_clean(message: str, path: Path, words: list[str]) -> None:
    assert f"« {path.name} »" in message, message
    for word in words:
        assert word in message, (word, message)
    assert not ENGLISH.search(message), message
    assert str(path.parent) not in message, message


CASES = [
    "empty", "header_only", "blank_lines", "binary", "pdf", "xls", "encrypted_xlsx", "cut_utf8", "mixed_encodings",
    "utf16_no_bom", "undefined_cp1252", "nul_csv", "single_line_5mb", "wide_10000", "wide_250", "too_many_rows",
    "over_limit", "wrong_columns", "duplicate_headers", "bad_date", "amount_1e30", "amount_huge", "amount_inf", "amount_nan",
    "amount_negative", "amount_ambiguous", "region_99", "region_html", "formula_code", "corrupted_xlsx",
    "bad_crc_xlsx", "chartsheet", "zip_slip", "zip_two_shapefiles", "zip_no_dbf", "zip_other",
    "geojson_not_json", "geojson_broken", "geojson_nul", "shp_without_dbf", "dbf_garbage",
]


@pytest.mark.parametrize("case", CASES)
def test_bad_file_is_refused_in_french_and_changes_nothing(corpus, workspace, case, capsys):
    path, words = corpus[case]
    folder, base = workspace
    before, base_before, pointer = tree_digest(folder), tree_digest(base), current_dataset(folder)
    max_bytes = 1000 if case == "over_limit" else None
    options = {"max_bytes": max_bytes} if max_bytes else {}

    if not max_bytes:  # the command line has no size option: that case goes through the library only
        capsys.readouterr()
        assert main(["validate", str(path), "--dataset", str(base)]) == 2
        _assert_clean(capsys.readouterr().err, path, words)

    report = validate_files([path], base_dataset=base, **options)[0]
    assert report.errors, case
    _assert_clean("\n".join(report.errors), path, words)

    with pytest.raises(ImportFileError) as refused:
        import_to_workspace([path], folder, date="2024-06-01", base_dataset=base, **options)
    _assert_clean(str(refused.value), path, [])
    assert tree_digest(folder) == before and current_dataset(folder) == pointer
    assert tree_digest(base) == base_before


# --- files the corpus cannot hold as plain bytes: links, folders, permissions, a zip bomb -------------


def test_directory_symlink_and_unreadable_file_are_refused_without_traceback(tmp_path, workspace, monkeypatch):
    folder, base = workspace
    (tmp_path / "dossier.csv").mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("mot_de_passe_du_serveur;jeton\n1;2\n", encoding="utf-8")
    (tmp_path / "lien.csv").symlink_to(secret)
    (tmp_path / "passwd.csv").symlink_to("/etc/passwd")
    unreadable = write_csv(make_sample().communes, tmp_path / "interdit.csv")
    real_open = os.open

    def refuse(path, *args, **kwargs):  # the tests run as root, for whom chmod 000 changes nothing
        if Path(path) == unreadable:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    expected = {"dossier.csv": "dossier", "lien.csv": "lien symbolique", "passwd.csv": "lien symbolique",
                "interdit.csv": "lecture non autorisée"}
    before = tree_digest(folder)
    for name, words in expected.items():
        path = tmp_path / name
        report = validate_files([path], base_dataset=base)[0]
        message = "\n".join(report.errors)
        _assert_clean(message, path, [words])
        assert "mot_de_passe" not in message and "root:" not in message
        with pytest.raises(ImportFileError):
            import_to_workspace([path], folder, date="2024-06-01", base_dataset=base)
    assert tree_digest(folder) == before


def _zip_bomb(path: Path, expanded: int = 1100 * 1024 * 1024) -> Path:
    """A small XLSX-looking zip whose one sheet expands to ``expanded`` bytes of zeros."""
    zeros = bytes(1024 * 1024)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for _ in range(expanded // len(zeros)):
                sheet.write(zeros)
    return path


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory):
    return _zip_bomb(tmp_path_factory.mktemp("bomb") / "bombe.xlsx")


@pytest.mark.slow
def test_zip_bomb_is_refused_from_its_declared_sizes_without_expanding(zip_bomb, workspace):
    folder, base = workspace
    assert zip_bomb.stat().st_size < 10 * 1024 * 1024
    before = tree_digest(folder)
    tracemalloc.start()
    try:
        report = parse_file(zip_bomb).report
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    _assert_clean("\n".join(report.errors), zip_bomb, ["décompressé", "limite"])
    # The file itself is read once (a few MB); nothing near the 1.1 GB it expands to.
    assert peak < 3 * zip_bomb.stat().st_size + 16 * 1024 * 1024, peak
    with pytest.raises(ImportFileError):
        import_to_workspace([zip_bomb], folder, date="2024-06-01", base_dataset=base)
    assert tree_digest(folder) == before


def test_lying_zip_sizes_stop_at_what_the_archive_declares(tmp_path):
    """A member that inflates to more than it declares is cut there and refused as damaged, not expanded."""
    path = tmp_path / "menteur.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("couche.shp", b"x" * 100)
        zf.writestr("couche.dbf", bytes(10 * 1024 * 1024))
    data = bytearray(path.read_bytes())
    # Rewrite the .dbf's declared size (local header and central directory) from 10 MB to 1 KB.
    real = (10 * 1024 * 1024).to_bytes(4, "little")
    assert data.count(real) == 2
    data = data.replace(real, (1024).to_bytes(4, "little"))
    path.write_bytes(bytes(data))
    report = parse_file(path).report
    _assert_clean("\n".join(report.errors), path, ["endommagé"])


# --- the same refusals through the command line -----------------------------------------------------


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tdi_geo", *args], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=120)


@pytest.mark.parametrize("case", ["empty", "cut_utf8", "wide_10000", "duplicate_headers", "amount_1e30",
                                  "region_99", "encrypted_xlsx", "geojson_nul", "zip_slip"])
def test_cli_refuses_bad_files_with_exit_code_2(corpus, workspace, case, tmp_path):
    path, words = corpus[case]
    folder, base = workspace
    done = _cli("validate", str(path), "--dataset", str(base))
    assert done.returncode == 2, done.stdout + done.stderr
    _assert_clean(done.stderr, path, words)
    out = tmp_path / "sortie"
    done = _cli("import", str(path), "--out", str(out), "--date", "2024-06-01", "--dataset", str(base))
    assert done.returncode == 2
    assert not ENGLISH.search(done.stderr) and "aucun jeu de données n'a été modifié" in done.stderr
    assert not out.exists()


def test_cli_on_a_directory_and_a_symlink(tmp_path, workspace):
    _, base = workspace
    (tmp_path / "dossier").mkdir()
    (tmp_path / "lien.csv").symlink_to("/etc/passwd")
    for name in ("dossier", "lien.csv"):
        done = _cli("validate", str(tmp_path / name), "--dataset", str(base))
        assert done.returncode == 2
        assert not ENGLISH.search(done.stderr) and "root:" not in done.stderr and str(tmp_path) not in done.stderr


@pytest.mark.slow
def test_cli_zip_bomb_keeps_memory_bounded(zip_bomb):
    """Peak RSS growth of a process that validates the bomb, measured inside that process."""
    script = (
        "import resource, sys\n"
        "from tdi_geo.cli import main\n"
        "import tdi_geo.importers._checks, openpyxl, pyogrio\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "code = main(['validate', sys.argv[1]])\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print('RSS', code, after - before, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(zip_bomb)], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=120)
    _, code, growth_kb = done.stderr.strip().splitlines()[-1].split()
    assert code == "2"
    assert int(growth_kb) < 100 * 1024, growth_kb  # KB on Linux: under 100 MB for a file that expands to 1.1 GB
    assert "Traceback" not in done.stderr


# --- bounded work ---------------------------------------------------------------------------------------


def test_ten_thousand_columns_are_refused_within_two_seconds(corpus):
    path, _ = corpus["wide_10000"]
    started = time.perf_counter()
    report = parse_file(path).report
    elapsed = time.perf_counter() - started
    assert "10000 colonnes" in report.errors[0]
    assert elapsed < 2.0, elapsed


WORST_SHAPES = {
    # Each is about 50 MB, just under the size limit.
    "separators": lambda n: (";" * 199 + "\n") * (n // 200),
    "newlines": lambda n: "\n" * n,
    "one_quoted_cell": lambda n: '"' + "x" * (n - 1),
    # Under every limit (98,000 rows of 520 bytes): read, cleaned and checked to the end.
    "long_names": lambda n: "insee_com;lib_com;id_ti;lib_ti\n"
                            + ("01001;" + "é" * 245 + ";T1;Territoire\n") * (n // 525),
    "mixed_at_the_end": lambda n: "insee_com;lib_ti\n" + "01001;Ain é\n" * (n // 14) + "\xe9",
    "geojson_features": lambda n: '{"type": "FeatureCollection", "features": [' + ",".join(
        ['{"type": "Feature", "properties": {"siren": "200000438", "libelle_ter": "Ain"}, "geometry": null}']
        * (n // 100)) + "]}",
}


@pytest.mark.slow
@pytest.mark.parametrize("shape", sorted(WORST_SHAPES))
def test_a_50_mb_file_of_the_worst_shape_finishes_within_seconds(tmp_path, shape):
    text = WORST_SHAPES[shape](49 * 1024 * 1024)
    path = tmp_path / (f"{shape}.geojson" if shape.startswith("geojson") else f"{shape}.csv")
    path.write_bytes(text.encode("utf-8") if shape != "mixed_at_the_end" else
                     text[:-1].encode("utf-8") + b"\xe9")
    assert path.stat().st_size < 50 * 1024 * 1024
    started = time.perf_counter()
    report = parse_file(path).report
    elapsed = time.perf_counter() - started
    assert elapsed < 10, (shape, elapsed)
    assert report.errors or report.summary["lignes"] > 90_000, shape  # refused, or read to the end
    assert not ENGLISH.search("\n".join(report.errors))


def _raw_xlsx(path: Path, rows: int, columns: int) -> Path:
    """A minimal workbook written directly (openpyxl would take long to write this many cells)."""
    names = ["insee_com", "lib_ti"] + [f"colonne {i}" for i in range(2, columns)]  # a header that matches
    header = "".join(f'<c t="inlineStr"><is><t>{n}</t></is></c>' for n in names)
    body = "".join(f'<c t="inlineStr"><is><t>valeur {i}</t></is></c>' for i in range(columns))

    def sheet(stream) -> None:
        stream.write(f"<worksheet {hostile_workbooks.NS}><sheetData><row>{header}</row>".encode())
        for _ in range(rows):
            stream.write(f"<row>{body}</row>".encode())
        stream.write(b"</sheetData></worksheet>")

    path.write_bytes(hostile_workbooks.xlsx(sheet))
    return path


@pytest.mark.slow
def test_a_large_workbook_of_the_worst_shape_is_refused_within_seconds(tmp_path):
    """2,600 rows of 200 inline strings (23 MB of XML, under the part limit): read by calamine, then too many cells."""
    path = _raw_xlsx(tmp_path / "large.xlsx", rows=2_600, columns=200)
    started = time.perf_counter()
    report = parse_file(path).report
    elapsed = time.perf_counter() - started
    assert elapsed < 10, elapsed
    _assert_clean("\n".join(report.errors), path, ["trop grand", "cellules"])


def test_the_4_mb_workbook_openpyxl_took_37_s_on_is_refused_from_its_declared_sizes(tmp_path):
    """20,000 rows of 200 cells: 177 MB of sheet XML, refused before anything parses it."""
    path = _raw_xlsx(tmp_path / "large.xlsx", rows=20_000, columns=200)
    started = time.process_time()
    report = parse_file(path).report
    assert time.process_time() - started < 2
    _assert_clean("\n".join(report.errors), path, ["une fois décompressé", "limite : 32,0 Mo"])


# --- the hostile workbooks of issue 17: each refused, or read, within 2 s of CPU and 200 MB ----------------


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    files = {}
    for case, (name, build) in hostile_workbooks.HOSTILE.items():
        files[case] = folder / name
        files[case].write_bytes(build())
    return files


def _costs(call):
    """(result, CPU seconds of this process and of the reading processes it started, traced peak bytes)."""
    from tdi_geo.importers import _read_sheets

    _read_sheets.LAST_READING.clear()
    before, cpu = os.times(), time.process_time()
    tracemalloc.start()
    try:
        result = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    after = os.times()
    children = (after.children_user + after.children_system) - (before.children_user + before.children_system)
    return result, time.process_time() - cpu + children, peak, _read_sheets.LAST_READING.get("peak_kb")


@pytest.mark.parametrize("case", sorted(hostile_workbooks.HOSTILE))
def test_a_hostile_workbook_is_refused_within_2_s_and_200_mb(hostile, workspace, case, capsys):
    """tracemalloc sees this process's Python memory; the reading process reports its own peak (VmHWM)."""
    path = hostile[case]
    folder, base = workspace
    before = tree_digest(folder)
    parsed, cpu, peak, worker_kb = _costs(lambda: parse_file(path))
    assert cpu < 2.0, (case, cpu)
    assert peak < 200 * 1024 * 1024, (case, peak)
    assert worker_kb is None or worker_kb < 200 * 1024, (case, worker_kb)
    _assert_clean("\n".join(parsed.report.errors), path, [])
    assert parsed.report.errors, case

    capsys.readouterr()
    assert main(["validate", str(path), "--dataset", str(base)]) == 2
    _assert_clean(capsys.readouterr().err, path, [])
    with pytest.raises(ImportFileError):
        import_to_workspace([path], folder, date="2024-06-01", base_dataset=base)
    assert tree_digest(folder) == before
