"""Hostile workbooks of issue 17, generated here (no binary is committed).

Each one was measured against the former home-made XLSX reader (the cost
in its docstring); each must now be refused, or read, within 2 s of CPU and
200 MB. They are small files that expand, or that ask a reader for far more
work than their size suggests.
"""

from __future__ import annotations

import io
import zipfile
from typing import Callable

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MB = 1024 * 1024
#: A header the importers recognise, then one data row (a shared string in B2 when there are any).
GOOD_ROWS = ('<row r="1"><c r="A1" t="inlineStr"><is><t>insee_com</t></is></c>'
             '<c r="B1" t="inlineStr"><is><t>lib_ti</t></is></c></row>'
             '<row r="2"><c r="A2"><v>1001</v></c><c r="B2" t="inlineStr"><is><t>Territoire Ain</t></is></c></row>')


def _workbook(sheets: list[tuple[str, str]], properties: str = "") -> str:
    listed = "".join(f'<sheet name="{name}" sheetId="{i + 1}" r:id="{rel}"/>' for i, (name, rel) in enumerate(sheets))
    return f'<?xml version="1.0" encoding="UTF-8"?><workbook {NS} {_REL_NS}>{properties}<sheets>{listed}</sheets></workbook>'


def sheet_xml(rows: str, before: str = "") -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}>{before}<sheetData>{rows}</sheetData></worksheet>'


def xlsx(sheet: str | Callable = sheet_xml(GOOD_ROWS), *, shared: str | None = None,
         styles: str | Callable | None = None, workbook: str | None = None) -> bytes:
    """A minimal, valid XLSX package; a part given as a function writes itself in a stream (large parts)."""
    rels = [f'<Relationship Id="rId1" Type="{_OFFICE}/worksheet" Target="worksheets/sheet1.xml"/>']
    if shared is not None:
        rels.append(f'<Relationship Id="rIdS" Type="{_OFFICE}/sharedStrings" Target="sharedStrings.xml"/>')
    if styles is not None:
        rels.append(f'<Relationship Id="rIdT" Type="{_OFFICE}/styles" Target="styles.xml"/>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml",
                    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/'
                    '2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-'
                    'package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
                    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
                    'officedocument.spreadsheetml.sheet.main+xml"/></Types>')
        zf.writestr("_rels/.rels", f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
                                   f'Type="{_OFFICE}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        zf.writestr("xl/workbook.xml", workbook or _workbook([("Feuille1", "rId1")]))
        zf.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{_PKG}">{"".join(rels)}</Relationships>')
        for member, part in (("xl/sharedStrings.xml", shared), ("xl/styles.xml", styles),
                             ("xl/worksheets/sheet1.xml", sheet)):
            if callable(part):
                with zf.open(member, "w", force_zip64=True) as stream:
                    part(stream)
            elif part is not None:
                zf.writestr(member, part)
    return buffer.getvalue()


def _repeated(opening: str, unit: bytes, count: int, closing: str) -> Callable:
    def write(stream) -> None:
        stream.write(opening.encode())
        block = unit * 1_000_000
        for _ in range(count // 1_000_000):
            stream.write(block)
        stream.write(unit * (count % 1_000_000))
        stream.write(closing.encode())
    return write


def entity_amplification() -> bytes:
    """« Billion laughs » in sharedStrings.xml: nine levels of entities, ten times each (32 KB: 17 s, 2.8 GB)."""
    entities = '<!ENTITY a "' + "a" * 64 + '">' + "".join(
        f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(8))
    shared = (f'<?xml version="1.0"?><!DOCTYPE sst [{entities}]><sst {NS}>' + "<si><t>&i;</t></si>" * 200 + "</sst>")
    rows = GOOD_ROWS.replace('<c r="B2" t="inlineStr"><is><t>Territoire Ain</t></is></c>', '<c r="B2" t="s"><v>0</v></c>')
    return xlsx(sheet_xml(rows), shared=shared)


def non_row_elements() -> bytes:
    """40 million elements that are not rows in one sheet (157 KB: 108 s, 3.5 GB)."""
    return xlsx(_repeated(f'<?xml version="1.0"?><worksheet {NS}><sheetData>' + GOOD_ROWS, b"<x/>", 40_000_000,
                          "</sheetData></worksheet>"))


def wide_row() -> bytes:
    """One row of 15 million cells (321 KB: 41 s, 6 GB)."""
    return xlsx(_repeated(f'<?xml version="1.0"?><worksheet {NS}><sheetData>{GOOD_ROWS}<row r="3">',
                          b"<c/>", 15_000_000, "</row></sheetData></worksheet>"))


def many_styles() -> bytes:
    """styles.xml with 10 million ``<xf>`` (462 KB: 74 s, 4.1 GB)."""
    return xlsx(styles=_repeated(f'<?xml version="1.0"?><styleSheet {NS}><cellXfs count="10000000">',
                                 b'<xf numFmtId="14"/>', 10_000_000, "</cellXfs></styleSheet>"))


def long_cell_reference(letters: int) -> bytes:
    """A cell reference of ``letters`` letters (400,000: 1.5 KB, 46 s through the page; 1 M: 276 s)."""
    return xlsx(sheet_xml(GOOD_ROWS + f'<row r="3"><c r="{"A" * letters}3"><v>1</v></c></row>'))


def many_listed_sheets(count: int = 20_000) -> bytes:
    """workbook.xml listing ``count`` sheets over one member (100 KB: 9 s, 319 MB; bypassed MAX_SHEETS)."""
    return xlsx(workbook=_workbook([(f"Feuille{i}", "rId1") for i in range(count)]))


def far_apart_cells() -> bytes:
    """A1 and XFD1048576: calamine would allocate one 512 GB rectangle (and abort the process)."""
    return xlsx(sheet_xml(GOOD_ROWS + '<row r="1048576"><c r="XFD1048576"><v>2</v></c></row>'))


def ods_repeated_cells() -> bytes:
    """An ODS whose one row, repeated a million times, holds 16,384 repeated values: 16 billion cells."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Feuille1">'
        '<table:table-row table:number-rows-repeated="1000000">'
        '<table:table-cell table:number-columns-repeated="16384" office:value-type="float" office:value="1">'
        "<text:p>1</text:p></table:table-cell></table:table-row>"
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml", ODS_MANIFEST)
        zf.writestr("content.xml", content)
    return buffer.getvalue()


ODS_MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
    'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
    '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>'
)
#: name → (file name, builder) of the hostile workbooks: the issue's table, then two of calamine's own weak spots.
HOSTILE = {
    "entities": ("entites.xlsx", entity_amplification),
    "non_rows": ("elements.xlsx", non_row_elements),
    "wide_row": ("ligne_large.xlsx", wide_row),
    "styles": ("styles.xlsx", many_styles),
    "reference_400k": ("reference_400k.xlsx", lambda: long_cell_reference(400_000)),
    "reference_1m": ("reference_1m.xlsx", lambda: long_cell_reference(1_000_000)),
    "sheets_20000": ("feuilles.xlsx", many_listed_sheets),
    "far_apart": ("coins.xlsx", far_apart_cells),
    "ods_repeated": ("repetitions.ods", ods_repeated_cells),
}
