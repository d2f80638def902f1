"""XLSX worksheets streamed row by row, with bounded work per cell.

openpyxl, even in read-only mode, parses every worksheet in full when the
workbook is opened if the sheet does not state its dimensions, and costs
about 30 µs per cell: a 50 MB workbook would take minutes. Here each
worksheet's XML is streamed with the standard library's C parser and read
only as far as needed (the first rows to find the header, then up to the
limits). Cells are read as a spreadsheet shows them, as openpyxl did:
formulas as their text (``=…``), dates as ISO text, numbers as written.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import zipfile
import zlib
from typing import Iterator
from xml.etree.ElementTree import ParseError, iterparse

from tdi_geo.importers._grid import MAX_COLUMNS, ReadError, cell_text, too_wide

#: Built-in number formats that show dates or times (ECMA-376, part 1, 18.8.30).
_DATE_FORMAT_IDS = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])
#: What a format code shows literally: quoted text, [colours]/[conditions], escaped characters.
_FORMAT_LITERALS = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')
_CELL_REF = re.compile(r"([A-Z]+)(\d+)")
_EPOCHS = {False: dt.datetime(1899, 12, 30), True: dt.datetime(1904, 1, 1)}


class XlsxError(ValueError):
    """The workbook's structure cannot be read (missing part, bad XML)."""


def _local(tag: str) -> str:
    """A tag or attribute name without its namespace (transitional and strict OOXML alike)."""
    return tag.rsplit("}", 1)[-1]


def _events(archive: zipfile.ZipFile, member: str, events=("end",)):
    try:
        with archive.open(member) as stream:
            yield from iterparse(stream, events=events)
    except KeyError:
        raise XlsxError(member) from None
    except ParseError:
        raise XlsxError(member) from None


def _text(element) -> str:
    """The text of a string item: its ``t`` runs, without phonetic guides (``rPh``)."""
    parts = []
    for child in element:
        name = _local(child.tag)
        if name == "t":
            parts.append(child.text or "")
        elif name == "r":
            parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return "".join(parts)


def worksheets(archive: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(name, member path) of every worksheet, in workbook order; chart sheets are left out."""
    targets = {}
    for _, element in _events(archive, "xl/_rels/workbook.xml.rels"):
        if _local(element.tag) == "Relationship":
            target = element.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
            targets[element.get("Id")] = path
    sheets = []
    for _, element in _events(archive, "xl/workbook.xml"):
        if _local(element.tag) == "sheet":
            rel = next((v for k, v in element.attrib.items() if _local(k) == "id" and k.startswith("{")), None)
            path = targets.get(rel, "")
            if path.startswith("xl/worksheets/"):
                sheets.append((element.get("name", ""), path))
    return sheets


def uses_1904_dates(archive: zipfile.ZipFile) -> bool:
    """Whether the workbook counts dates from 1904 (old Mac Excel) rather than 1900."""
    for _, element in _events(archive, "xl/workbook.xml"):
        if _local(element.tag) == "workbookPr":
            return element.get("date1904", "0").lower() in ("1", "true")
    return False


def shared_strings(archive: zipfile.ZipFile) -> list[str]:
    """The workbook's shared strings (its size is bounded by the caller)."""
    if "xl/sharedStrings.xml" not in archive.namelist():
        return []
    strings = []
    for _, element in _events(archive, "xl/sharedStrings.xml"):
        if _local(element.tag) == "si":
            strings.append(_text(element))
            element.clear()
    return strings


def _is_date_code(code: str) -> bool:
    return bool(re.search(r"[dmyhs]", _FORMAT_LITERALS.sub("", code), re.IGNORECASE))


def date_styles(archive: zipfile.ZipFile) -> list[bool]:
    """For each cell style (``s`` attribute), whether it shows a date."""
    if "xl/styles.xml" not in archive.namelist():
        return []
    custom: dict[int, str] = {}
    styles: list[bool] = []
    in_cell_xfs = False
    for event, element in _events(archive, "xl/styles.xml", events=("start", "end")):
        name = _local(element.tag)
        if name == "cellXfs":
            in_cell_xfs = event == "start"
        elif event == "end" and name == "numFmt":
            custom[int(element.get("numFmtId", "0"))] = element.get("formatCode", "")
        elif event == "end" and name == "xf" and in_cell_xfs:
            fmt = int(element.get("numFmtId", "0"))
            styles.append(fmt in _DATE_FORMAT_IDS if fmt not in custom else _is_date_code(custom[fmt]))
    return styles


def _column(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


class _Workbook:
    """What every sheet's cells need: shared strings, date styles, date system."""

    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive
        self.strings = shared_strings(archive)
        self.dates = date_styles(archive)
        self.epoch = _EPOCHS[uses_1904_dates(archive)]

    def value(self, cell) -> str:
        kind = cell.get("t", "n")
        formula = value = inline = None
        for child in cell:
            name = child.tag[child.tag.rfind("}") + 1:]
            if name == "f":
                formula = child.text or ""
            elif name == "v":
                value = child.text
            elif name == "is":
                inline = _text(child)
        if formula is not None:  # read as written, never computed: a formula is shown as its text
            return "=" + formula
        if kind == "inlineStr":
            return inline or ""
        if value is None:
            return ""
        if kind == "s":
            index = int(value)
            return self.strings[index] if 0 <= index < len(self.strings) else ""
        if kind == "b":
            return cell_text(value.strip() in ("1", "true"))
        if kind in ("str", "e"):
            return value
        if kind == "d":
            return value[:10] if value[10:].strip("T0:.Z") == "" else value.replace("T", " ")
        number = float(value)
        style = int(cell.get("s", "0"))
        if style < len(self.dates) and self.dates[style] and 0 <= number < 2_958_466:  # up to 9999-12-31
            # Rounded to the millisecond, Excel's precision: a day fraction is not exact in binary.
            return cell_text(self.epoch + dt.timedelta(milliseconds=round(number * 86_400_000)))
        return cell_text(number)


def rows(workbook: _Workbook, member: str, name: str, limit: int | None) -> Iterator[list[str]]:
    """The rows of one worksheet as text cells, gaps filled, at most ``limit`` rows."""
    expected = 1
    for _, element in _events(workbook.archive, member):
        # Only rows matter; their cells are read from the row element (plain suffix test: this runs per tag).
        if not (element.tag.endswith("}row") or element.tag == "row"):
            continue
        number = int(element.get("r", expected))
        if limit is not None and number > limit:
            return
        while expected < number:  # rows the file leaves out are empty rows of the spreadsheet
            expected += 1
            yield []
        cells: dict[int, str] = {}
        position = 0
        for cell in element:
            ref = _CELL_REF.fullmatch(cell.get("r", ""))
            position = _column(ref.group(1)) if ref else position + 1
            if position > MAX_COLUMNS:
                raise too_wide(name, position, number)
            cells[position] = workbook.value(cell)
        width = max((p for p, v in cells.items() if v != ""), default=0)
        expected = number + 1
        element.clear()  # keep memory flat: a row already read is dropped
        yield [cells.get(p, "") for p in range(1, width + 1)]


def open_workbook(archive: zipfile.ZipFile, name: str) -> tuple[_Workbook, list[tuple[str, str]]]:
    """The workbook's shared parts and its worksheets; a structure that cannot be read is refused."""
    try:
        return _Workbook(archive), worksheets(archive)
    except (XlsxError, ValueError, zipfile.BadZipFile, zlib.error, EOFError, OSError):
        raise ReadError(
            f"Fichier « {name} » illisible : classeur XLSX endommagé (une partie manque ou est illisible). "
            "Ouvrez-le dans votre tableur et enregistrez-le de nouveau."
        ) from None
