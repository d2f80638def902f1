"""Zip containers — XLSX and ODS workbooks, zipped shapefiles — opened without trusting them.

Before anything is decompressed, the archive's declared sizes are added up
and member names are checked (no ``../``, no absolute path). Python's
``zipfile`` never produces more bytes than a member declares, so the
declared total bounds what a decompression can cost; the members a
shapefile needs are copied out through a bounded streaming read.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from tdi_geo.importers._grid import ACCEPTED, RawFile, ReadError, megabytes

#: A zip may expand to at most this many times the file size limit (an XLSX
#: is typically 5 to 10 times smaller than its XML; a shapefile barely shrinks).
MAX_EXPANSION = 4
#: Most members accepted in one archive (an XLSX has a few dozen).
MAX_MEMBERS = 1000
#: The media type an OpenDocument spreadsheet names in its ``mimetype`` member.
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_CHUNK = 1024 * 1024
#: What reading a damaged member raises: bad CRC, truncated or invalid deflate data, unsupported
#: compression, an encrypted member, bad XML or a bad number in a sheet.
ZIP_FAILURES = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError)


def _damaged(name: str) -> ReadError:
    return ReadError(
        f"Fichier « {name} » illisible : archive zip ou classeur XLSX endommagé (fichier tronqué ou corrompu). "
        "Ouvrez-le dans votre tableur et enregistrez-le de nouveau."
    )


def _unsafe_name(member: str) -> bool:
    pure = PurePosixPath(member.replace("\\", "/"))
    return pure.is_absolute() or ".." in pure.parts or (len(member) > 1 and member[1] == ":")


def open_archive(data: bytes, name: str, max_bytes: int) -> zipfile.ZipFile:
    """The archive in ``data``, once its names and declared sizes are known to be safe."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise _damaged(name) from None
    if len(infos) > MAX_MEMBERS:
        raise ReadError(f"Archive « {name} » refusée : {len(infos)} fichiers (limite : {MAX_MEMBERS}).")
    unsafe = [i.filename for i in infos if _unsafe_name(i.filename)]
    if unsafe:
        shown = ", ".join(f"« {n[:80]} »" for n in unsafe[:3])
        raise ReadError(
            f"Archive « {name} » refusée : elle contient des chemins qui sortent du dossier de l'archive ({shown}). "
            "Refaites l'archive avec les seuls fichiers du shapefile, sans dossier parent."
        )
    declared = sum(i.file_size for i in infos)
    if declared > max_bytes * MAX_EXPANSION:
        raise ReadError(
            f"Fichier « {name} » refusé : {megabytes(declared)} une fois décompressé "
            f"(limite : {megabytes(max_bytes * MAX_EXPANSION)}). Une archive aussi dense n'est pas un export "
            "ordinaire ; enregistrez le tableau en CSV."
        )
    return archive


def bounded_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> bytes:
    """The bytes of one member, read in chunks and never more than it declares."""
    out = io.BytesIO()
    try:
        with archive.open(info) as member:
            while chunk := member.read(_CHUNK):
                out.write(chunk)
                if out.tell() > info.file_size:
                    raise _damaged(name)
    except ZIP_FAILURES:
        raise _damaged(name) from None
    return out.getvalue()


def read_zip(data: bytes, path: Path, name: str, max_bytes: int) -> RawFile:
    """An XLSX or ODS workbook, or a zip holding one shapefile."""
    from tdi_geo.importers._read_sheets import check_parts, read_workbook

    archive = open_archive(data, name, max_bytes)
    with archive:
        names = {i.filename for i in archive.infolist()}
        workbook = "xlsx" if "xl/workbook.xml" in names else "ods" if _is_ods(archive, names) else None
        if "xl/workbook.bin" in names:
            raise ReadError(f"Classeur « {name} » au format binaire Excel (.xlsb), non pris en charge : "
                            "enregistrez-le au format .xlsx ou CSV.")
        if workbook:
            check_parts(archive, name)
        else:
            dbf, cpg = _shapefile_parts(archive, name)
    if workbook:
        return read_workbook(data, path, name, workbook)
    from tdi_geo.importers._read_geo import read_dbf

    return read_dbf(dbf, cpg, path, name)


def _shapefile_parts(archive: zipfile.ZipFile, name: str) -> tuple[bytes, bytes | None]:
    """The ``.dbf`` and ``.cpg`` bytes of the archive's one shapefile."""
    shapefiles = [i for i in archive.infolist() if i.filename.lower().endswith(".shp")]
    if len(shapefiles) > 1:
        raise ReadError(
            f"L'archive « {name} » contient {len(shapefiles)} shapefiles : n'en mettez qu'un par archive."
        )
    if not shapefiles:
        raise ReadError(
            f"Format de fichier non pris en charge : l'archive « {name} » ne contient ni classeur (XLSX, ODS) "
            f"ni shapefile. Formats acceptés : {ACCEPTED}."
        )
    stem = shapefiles[0].filename[:-4].lower()
    parts = {i.filename[len(stem):].lower(): i for i in archive.infolist() if i.filename.lower().startswith(stem)}
    if ".dbf" not in parts:
        raise ReadError(
            f"Archive « {name} » incomplète : le shapefile « {PurePosixPath(shapefiles[0].filename).name} » "
            "n'a pas son fichier .dbf (les attributs). Ajoutez le .dbf (et le .cpg) à l'archive."
        )
    dbf = bounded_member(archive, parts[".dbf"], name)
    cpg = bounded_member(archive, parts[".cpg"], name) if ".cpg" in parts else None
    return dbf, cpg


def _is_ods(archive: zipfile.ZipFile, names: set[str]) -> bool:
    """Whether the archive is an OpenDocument spreadsheet (its ``mimetype`` member says so)."""
    if "content.xml" not in names or "mimetype" not in names:
        return False
    info = archive.getinfo("mimetype")
    return info.file_size <= 100 and bounded_member(archive, info, "").strip() == ODS_MIMETYPE
