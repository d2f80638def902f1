"""Sample official files for the importer tests, built from the reference communes.

Nothing here is real programme data: territories are made up (« Territoire
Ain », …) from real commune and EPCI codes so that validation against the
reference can succeed or fail on purpose.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tdi_geo.importers._checks import load_reference


@dataclass
class Sample:
    """Two made-up territories and the EPCIs they cover."""

    communes: pd.DataFrame  # insee_com, lib_com, id_ti, lib_ti (the ANCT layout)
    ain: list[str]  # two whole EPCIs of the Ain (codes start with 0)
    corse: str  # a whole EPCI of Corse-du-Sud (codes 2A…)
    partial: str  # an EPCI of Ille-et-Vilaine of which only two communes are listed
    partial_communes: list[str]


def _smallest_epcis(communes: pd.DataFrame, departement: str, n: int) -> list[str]:
    g = communes.groupby("epci_siren").agg(size=("insee_com", "size"), dep=("departement", "first"),
                                           ndep=("departement", "nunique"))
    g = g[(g["dep"] == departement) & (g["ndep"] == 1) & (g["size"] >= 3)]
    return g.sort_values(["size"]).index[:n].tolist()


def make_sample() -> Sample:
    from tdi_geo.reference import load_communes

    communes = load_communes()
    ain = _smallest_epcis(communes, "01", 2)
    corse = _smallest_epcis(communes, "2A", 1)[0]
    partial = _smallest_epcis(communes, "35", 1)[0]
    partial_communes = sorted(communes.loc[communes["epci_siren"] == partial, "insee_com"])[:2]
    a = communes[communes["epci_siren"].isin(ain)].assign(id_ti="0100TI01", lib_ti="Territoire Ain")
    b = pd.concat(
        [communes[communes["epci_siren"] == corse], communes[communes["insee_com"].isin(partial_communes)]]
    ).assign(id_ti="2A35TI01", lib_ti="Territoire Corse-Bretagne")
    rows = pd.concat([a, b])[["insee_com", "name", "id_ti", "lib_ti"]].rename(columns={"name": "lib_com"})
    return Sample(rows.reset_index(drop=True), ain, corse, partial, partial_communes)


def write_csv(frame: pd.DataFrame, path: Path, sep: str = ";", encoding: str = "utf-8") -> Path:
    """Write like a spreadsheet export: no index, no quoting unless needed."""
    text = frame.to_csv(sep=sep, index=False, lineterminator="\r\n")
    path.write_bytes(text.encode(encoding))
    return path


def lose_zeros(codes: pd.Series) -> pd.Series:
    """What a spreadsheet does to a code column it reads as numbers."""
    return codes.where(~codes.str.fullmatch(r"\d+"), codes.str.lstrip("0"))


def epci_rows(sample: Sample) -> pd.DataFrame:
    """The EPCI-level list (Caisse des Dépôts layout) for the two territories, whole EPCIs only."""
    ref = load_reference()
    epci = ref.epci.set_index("siren")
    sirens = sample.ain + [sample.corse]
    labels = ["Territoire Ain", "Territoire Ain", "Territoire Corse"]
    return pd.DataFrame(
        {
            "code_insee_": sirens,
            "nom_de_l_ep": [epci.at[s, "name"] for s in sirens],
            "libelle_ter": labels,
            "ville_princ": ["Ville A", "Ville B", "Ville C"],
            "insee_reg": [epci.at[s, "region"] for s in sirens],
            "region": ["Auvergne-Rhône-Alpes", "Auvergne-Rhône-Alpes", "Corse"],
        }
    )


def write_base_dataset(directory: Path) -> Path:
    """A small base dataset: one documented territory since 2019, one later version (2024)."""
    from tdi_geo.programme import TABLE_COLUMNS as _COLUMNS

    sample = make_sample()
    directory.mkdir(parents=True, exist_ok=True)
    tables = {
        "territories": [
            {"id": "territoire-ain", "name": "Territoire Ain", "region": "84", "provenance": "documented",
             "partial": "false", "source": "https://example.org/ain", "note": ""},
            {"id": "vallee-test", "name": "Vallée test", "region": "84", "provenance": "illustrative",
             "partial": "false", "source": "", "note": ""},
        ],
        "memberships": [
            {"territory_id": "territoire-ain", "epci_siren": sample.ain[0], "insee_com": "", "valid_from": "2018-11-22",
             "valid_to": "", "basis": "source", "source": "https://example.org/ain", "note": ""},
            {"territory_id": "vallee-test", "epci_siren": sample.ain[1], "insee_com": "", "valid_from": "2024-01-01",
             "valid_to": "", "basis": "illustrative", "source": "", "note": ""},
        ],
        "versions": [
            {"date": "2018-11-22", "label": "Lancement", "expected_territories": "124", "source": "s"},
            {"date": "2024-01-01", "label": "Plus tard", "expected_territories": "183", "source": "s"},
        ],
        "status_events": [
            {"territory_id": "territoire-ain", "date": "2019-09-24", "status": "engaged", "fragile": "false",
             "provenance": "documented", "source": "s"},
        ],
        "projects": [],
        "national_figures": [],
    }
    for name, rows in tables.items():
        pd.DataFrame(rows, columns=_COLUMNS[name]).to_csv(directory / f"{name}.csv", index=False)
    (directory / "crosswalk.csv").write_text("documented_name,region,siren,current_name,reasoning\n", encoding="utf-8")
    return directory


def tree_digest(directory: Path) -> dict[str, str]:
    """Path → sha256 of every file under ``directory`` (to prove nothing changed)."""
    directory = Path(directory)
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def ods_bytes(rows: list[list], sheet: str = "Feuille1") -> bytes:
    """An OpenDocument spreadsheet of ``rows`` (numbers as numbers, anything else as text), built by hand."""
    import io
    import zipfile
    from xml.sax.saxutils import escape, quoteattr

    def cell(value) -> str:
        if value is None or value == "":
            return "<table:table-cell/>"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return (f'<table:table-cell office:value-type="float" office:value="{value}">'
                    f"<text:p>{value}</text:p></table:table-cell>")
        return f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p></table:table-cell>'

    body = "".join("<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>" for row in rows)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:spreadsheet><table:table table:name={quoteattr(sheet)}>{body}</table:table>"
        "</office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")  # stored, first
        zf.writestr("META-INF/manifest.xml", manifest)
        zf.writestr("content.xml", content)
    return buffer.getvalue()


def xlsx_bytes(rows: list[list], sheet: str = "Feuille1") -> bytes:
    """The same rows as an XLSX workbook written by openpyxl."""
    import io

    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = sheet
    for row in rows:
        wb.active.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
