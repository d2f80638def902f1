"""Workbook cells read by python-calamine, in a child process with hard limits.

python-calamine (Rust's calamine) parses XLSX, XLSM, XLS and ODS without
DTDs or entities, quickly; but it builds each sheet as one dense rectangle
from A1 to its farthest cell, so a 1.5 KB file with a value in A1 and one
in XFD1048576 asks for 512 GB, and a failed allocation in Rust aborts the
whole process. So this module runs as its own small process
(:func:`tdi_geo.importers._read_sheets.read_workbook` starts it), which
first limits its own address space, CPU time and file writes
(``resource.setrlimit``), then reads the workbook from its standard input
and writes the sheets' cells, as text, on its standard output (JSON). A
workbook that would cost more dies there, alone, and the server stays up.

It imports only the standard library and python-calamine (no pandas, no
tdi_geo): it starts in about 0.1 s. :func:`cell_text` is also the one rule,
for every reader, of the text a spreadsheet shows for a cell value.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import sys


def cell_text(value) -> str:
    """The text a spreadsheet shows for one cell value (``None`` and NaN are empty).

    >>> [cell_text(v) for v in (None, 1001.0, 2.5, True, dt.date(2019, 9, 24), dt.datetime(2020, 1, 29, 14, 30))]
    ['', '1001', '2.5', 'true', '2019-09-24', '2020-01-29 14:30:00']
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


class Refused(Exception):
    """The workbook is over a limit or unreadable: a key the parent turns into French, and its details."""

    def __init__(self, key: str, **details):
        super().__init__(key)
        self.answer = {"refused": key, **details}


def _limit_self(memory: int, cpu: int) -> None:
    import resource

    for which, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_CPU, cpu), (resource.RLIMIT_FSIZE, 0),
                         (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(which, (value, value))


def worksheets(book) -> list[tuple[int, str]]:
    """(index, name) of the workbook's worksheets (chart and macro sheets left out), one per name."""
    import python_calamine as calamine

    seen, sheets = set(), []
    # ``sheets_metadata`` builds a new list at each access: read it once.
    for index, meta in enumerate(book.sheets_metadata):
        if meta.typ == calamine.SheetTypeEnum.WorkSheet and meta.name not in seen:
            seen.add(meta.name)
            sheets.append((index, meta.name))
    return sheets


def sheet_rows(sheet, limits: dict, head: int | None):
    """The rows of one sheet as lists of text, numbered from A1, trailing empty cells dropped.

    ``head``: only that many rows (choosing a sheet); else the whole sheet,
    refused beyond the limits (rows, columns, cells, characters per cell and
    in all).
    """
    end = sheet.end
    if end is None:
        return []
    start_col = sheet.start[1]
    if head is None:
        if end[0] + 1 > limits["max_rows"]:
            raise Refused("rows", rows=end[0] + 1)
        if end[1] + 1 > limits["max_columns"]:
            raise Refused("columns", count=end[1] + 1)
    rows, cells, chars = [], 0, 0
    lead = [""] * start_col
    # iter_rows yields every row from the first (row 1), but its cells from the sheet's first used column.
    for number, values in enumerate(sheet.iter_rows(), start=1):
        if head is not None and number > head:
            break
        row = lead + [cell_text(v) for v in values] if start_col else [cell_text(v) for v in values]
        while row and row[-1] == "":
            row.pop()
        if len(row) > limits["max_columns"]:
            raise Refused("columns", count=len(row), row=number)
        cells += len(row)
        if cells > limits["max_cells"]:
            raise Refused("cells", rows=number, cells=cells)
        for column, text in enumerate(row, start=1):
            if len(text) > limits["max_cell_chars"]:
                raise Refused("cell_chars", row=number, column=column)
            chars += len(text)
        if chars > limits["max_chars"]:
            raise Refused("chars", row=number, chars=chars)
        rows.append(row)
    if head is None and len(rows) != end[0] + 1:  # the row numbering would be wrong: never guess it
        raise Refused("layout", rows=len(rows), expected=end[0] + 1)
    return rows


def read(data: bytes, limits: dict) -> dict:
    """``{"sheets": [names], "grids": [rows or None], "whole": bool}`` (see :func:`main`).

    With ``limits["sheet"]`` (a position among the worksheets), that sheet
    whole; else every sheet's first ``limits["head"]`` rows, or the whole
    sheet when the workbook has only one.
    """
    import python_calamine as calamine

    try:
        book = calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except calamine.PasswordError:
        raise Refused("password") from None
    sheets = worksheets(book)
    if len(sheets) > limits["max_sheets"]:
        raise Refused("sheets", count=len(sheets))
    names = [name for _, name in sheets]
    wanted = limits.get("sheet")
    whole = wanted is not None or len(sheets) == 1
    grids = []
    for position, (index, _) in enumerate(sheets):
        if wanted is not None and position != wanted:
            grids.append(None)
            continue
        try:
            sheet = book.get_sheet_by_index(index)
        except calamine.PasswordError:
            raise Refused("password") from None
        try:
            grids.append(sheet_rows(sheet, limits, None if whole else limits["head"]))
        except Refused as refused:
            refused.answer["sheet"] = names[position]
            raise
        del sheet
    return {"sheets": names, "grids": grids, "whole": whole}


def peak_kb() -> int | None:
    """This process's peak resident memory, in kB (Linux), for the tests and benchmarks."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration, ValueError):
        return None


def main() -> int:
    """``python _sheet_worker.py LIMITS_JSON`` < workbook bytes > JSON answer (exit code 0 either way)."""
    limits = json.loads(sys.argv[1])
    _limit_self(limits["memory"], limits["cpu"])
    data = sys.stdin.buffer.read(limits["max_bytes"] + 1)
    try:
        answer = read(data, limits)
    except Refused as refused:
        answer = refused.answer
    except MemoryError:
        answer = {"refused": "memory"}
    except BaseException as exc:  # noqa: BLE001 - calamine's errors and panics: a damaged file, told as such
        answer = {"refused": "damaged", "error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    answer.setdefault("peak_kb", peak_kb())
    out = sys.stdout.buffer
    out.write(json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
