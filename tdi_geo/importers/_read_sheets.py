"""Spreadsheets — XLSX, XLSM, XLS and ODS — read by python-calamine in a bounded child process.

No module of tdi-geo parses the XML of an uploaded workbook: python-calamine
does (no DTD, no entities), in a child process
(:mod:`._sheet_worker`) that limits its own memory and CPU time, so that a
workbook built to exhaust them costs that child and nothing else. Before it
starts, a zip container's declared sizes are checked (:mod:`._read_zip` for
the whole archive; here each part calamine parses), so the hostile shapes
that are cheap to detect never reach it.

A workbook with one worksheet is read whole in one run. With several, one
run reads the first rows of each (to find the sheet with the expected
columns) and the chosen sheet is read whole by a second run
(:meth:`Sheet.load`).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

from tdi_geo.importers import _sheet_worker
from tdi_geo.importers._grid import (
    HEADER_SCAN_ROWS,
    MAX_CELL_CHARS,
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_FILE_BYTES,
    MAX_ROWS,
    RawFile,
    ReadError,
    Sheet,
    bounded_grid,
    count_text,
    megabytes,
    too_long,
    too_long_cell,
    too_wide,
)

_LOG = logging.getLogger(__name__)

#: Most worksheets in one workbook, counted as the workbook lists them (one per name).
MAX_SHEETS = 50
#: Largest XML part once decompressed (a worksheet, an ODS ``content.xml``): calamine parses
#: its worst shapes at about 20 MB/s; a sheet of 500,000 cells written by Excel takes about 20 MB.
MAX_PART_BYTES = 32 * 1024 * 1024
#: Largest shared-strings part (the per-commune list's texts take about 2 MB).
MAX_SHARED_STRINGS_BYTES = 32 * 1024 * 1024
#: Largest styles part (a workbook with Excel's maximum of 64,000 cell styles takes about 6 MB).
MAX_STYLES_BYTES = 8 * 1024 * 1024
#: The reading process's address space (it starts at about 16 MB) and CPU time.
WORKER_MEMORY_BYTES = 200 * 1024 * 1024
WORKER_CPU_SECONDS = 10
#: Wall-clock bound on one reading (a reading waiting for the CPU included).
WORKER_WALL_SECONDS = 60
#: Workbooks read at the same time by one server process; others wait their turn.
CONCURRENT_READS = 2
_SLOTS = threading.BoundedSemaphore(CONCURRENT_READS)
#: The last reading's cost in the child process (``cpu_s``, ``peak_kb``), for the tests and benchmarks.
LAST_READING: dict = {}
_WORKER = Path(_sheet_worker.__file__)
_LABELS = {"xlsx": "classeur Excel", "xls": "classeur Excel 97-2003", "ods": "classeur OpenDocument"}
_RESAVE = "Ouvrez-le dans votre tableur et enregistrez-le de nouveau (en .xlsx, .ods ou CSV)."


def check_parts(archive: zipfile.ZipFile, name: str) -> None:
    """Refuse a workbook one of whose XML parts is larger than any real table needs (declared sizes)."""
    for info in archive.infolist():
        member = info.filename.lower()
        if not member.endswith((".xml", ".rels")):
            continue  # pictures and other parts are never parsed
        if member.endswith("sharedstrings.xml"):
            limit, what = MAX_SHARED_STRINGS_BYTES, "de textes partagés"
        elif member.endswith("styles.xml"):
            limit, what = MAX_STYLES_BYTES, "de styles"
        else:
            limit, what = MAX_PART_BYTES, "pour une seule partie"
        if info.file_size > limit:
            raise ReadError(
                f"Classeur « {name} » refusé : {megabytes(info.file_size)} {what} une fois décompressé "
                f"(limite : {megabytes(limit)}). Un tableau officiel en demande bien moins ; enregistrez la "
                "feuille utile seule, ou en CSV."
            )


def read_workbook(data: bytes, path: Path, name: str, fmt: str) -> RawFile:
    """The worksheets of a workbook (``fmt``: ``xlsx``, ``xls`` or ``ods``) as sheets of text cells."""
    answer = _run(data, name, fmt, sheet=None)
    names, grids = answer["sheets"], answer["grids"]
    if not names:
        raise ReadError(f"Classeur « {name} » sans feuille de données (seulement des graphiques ?).")
    if answer["whole"]:
        return RawFile(path=path, format=fmt, sheets=[Sheet(grid=bounded_grid(grids[0], name), name=names[0])])
    return RawFile(path=path, format=fmt, sheets=[
        Sheet(grid=bounded_grid(rows, name), name=sheet, partial=True,
              loader=(lambda i=i: bounded_grid(_run(data, name, fmt, sheet=i)["grids"][i], name)))
        for i, (sheet, rows) in enumerate(zip(names, grids))
    ])


def _limits(sheet: int | None) -> dict:
    return {
        "max_bytes": MAX_FILE_BYTES, "max_rows": MAX_ROWS, "max_columns": MAX_COLUMNS, "max_cells": MAX_CELLS,
        "max_cell_chars": MAX_CELL_CHARS, "max_chars": MAX_FILE_BYTES, "max_sheets": MAX_SHEETS,
        "head": HEADER_SCAN_ROWS + 2, "sheet": sheet,
        "memory": WORKER_MEMORY_BYTES, "cpu": WORKER_CPU_SECONDS,
    }


def _run(data: bytes, name: str, fmt: str, sheet: int | None) -> dict:
    """One reading by the child process; its answer, or a French :class:`ReadError`."""
    if not _SLOTS.acquire(timeout=WORKER_WALL_SECONDS):
        raise ReadError(f"Fichier « {name} » non lu : le serveur lit déjà d'autres classeurs. "
                        "Réessayez dans une minute.")
    try:
        done = subprocess.run(
            [sys.executable, "-I", str(_WORKER), json.dumps(_limits(sheet))], input=data, capture_output=True,
            timeout=WORKER_WALL_SECONDS, env={"PATH": os.environ.get("PATH", ""), "RUST_BACKTRACE": "0"},
        )
    except subprocess.TimeoutExpired:
        raise _too_costly(name, fmt) from None
    except OSError:
        _LOG.exception("the workbook reader could not start")
        raise ReadError(f"Fichier « {name} » non lu : le lecteur de classeurs n'a pas pu démarrer sur le "
                        "serveur. Réessayez, ou enregistrez le tableau en CSV.") from None
    finally:
        _SLOTS.release()
    LAST_READING.clear()
    if done.returncode != 0:
        _LOG.info("workbook reader stopped (%s): %s", done.returncode, done.stderr[-500:])
        if done.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
            raise _too_costly(name, fmt)
        if done.returncode == -signal.SIGABRT:  # an allocation over the limit, in calamine
            raise _too_much_memory(name, fmt)
        raise _damaged(name, fmt)
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        raise _damaged(name, fmt) from None
    LAST_READING["peak_kb"] = answer.get("peak_kb")
    if "refused" in answer:
        raise _refusal(answer, name, fmt)
    return answer


def _damaged(name: str, fmt: str) -> ReadError:
    return ReadError(f"Fichier « {name} » illisible : {_LABELS[fmt]} endommagé (une partie manque ou est "
                     f"illisible). {_RESAVE}")


def _too_costly(name: str, fmt: str) -> ReadError:
    return ReadError(f"Classeur « {name} » refusé : sa lecture dépasse {WORKER_CPU_SECONDS} s de calcul, bien "
                     "plus qu'un tableau officiel. Enregistrez la feuille utile seule, ou en CSV.")


def _too_much_memory(name: str, fmt: str) -> ReadError:
    return ReadError(
        f"Classeur « {name} » refusé : sa lecture demande plus de {megabytes(WORKER_MEMORY_BYTES)} de mémoire "
        "(des cellules très éloignées les unes des autres, ou très nombreuses). Supprimez les lignes et colonnes "
        "vides au-delà du tableau, ou enregistrez-le en CSV."
    )


def _refusal(answer: dict, name: str, fmt: str) -> ReadError:
    key = answer["refused"]
    where = f"Classeur « {name} », feuille « {answer['sheet']} »" if answer.get("sheet") else f"Classeur « {name} »"
    if key == "password":
        return ReadError(
            f"Classeur « {name} » protégé par un mot de passe (chiffré) : il ne peut pas être lu. Ouvrez-le, "
            "retirez le mot de passe et enregistrez-le de nouveau."
        )
    if key == "sheets":
        return ReadError(
            f"Classeur « {name} » refusé : {answer['count']} feuilles (limite : {MAX_SHEETS}). Enregistrez la "
            "feuille utile seule, ou en CSV."
        )
    if key == "columns":
        return too_wide(name, answer["count"], answer.get("row"))
    if key == "rows":
        return too_long(name, answer["rows"])
    if key == "cells":
        return too_long(name, answer["rows"], answer["cells"])
    if key == "cell_chars":
        return too_long_cell(name, answer["row"], answer["column"])
    if key == "chars":
        return ReadError(f"{where} refusé : ses cellules contiennent plus de {count_text(MAX_FILE_BYTES)} "
                         "caractères en tout (autant qu'un CSV de 50 Mo). Découpez le fichier.")
    if key == "memory":
        return _too_much_memory(name, fmt)
    _LOG.info("workbook refused as damaged: %s", answer)
    return _damaged(name, fmt)
