"""Text files (CSV, TXT, TSV): the one encoding that decodes the whole file, then the separator.

Encodings are tried in a fixed order and a file is never half-decoded:
UTF-8 (with or without BOM), UTF-16 with a BOM, and Windows-1252 only when
the file is not valid UTF-8 *and* holds no UTF-8 multibyte character at all
(a file that mixes both, or a UTF-8 file with one cut character, is refused
with the rows and bytes at fault).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from itertools import islice
from pathlib import Path

import pandas as pd

from tdi_geo.importers._grid import ACCEPTED, HEADER_SCAN_ROWS, RawFile, ReadError, Sheet, bounded_grid

_SEPARATORS = (";", ",", "\t", "|")
#: A well-formed UTF-8 sequence of two to four bytes (RFC 3629).
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
#: How many faulty bytes an encoding error lists.
_FAULTS_SHOWN = 5
_SAVE_AS_UTF8 = "Enregistrez le fichier en « CSV UTF-8 » (Excel : Fichier > Enregistrer sous > CSV UTF-8)."


class DecodeError(ValueError):
    """The bytes are not text in one encoding; the message is French, without the file name."""


def looks_textual(head: bytes) -> bool:
    """Whether the first bytes look like text (few control bytes) rather than a binary file."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    # Binary formats have about one control byte in ten; text rarely more than a stray one per line.
    return controls <= max(len(head) * 0.05, 2)


def utf16_without_bom(head: bytes) -> bool:
    """Whether ``head`` looks like UTF-16 text without its byte-order mark (one NUL every other byte)."""
    pairs = len(head) // 2
    if pairs < 4 or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    even, odd = head[0:pairs * 2:2], head[1:pairs * 2:2]
    return max(even.count(0), odd.count(0)) >= pairs * 0.4 and min(even.count(0), odd.count(0)) <= pairs * 0.05


def faults(data: bytes, encoding: str) -> list[tuple[int, int, int]]:
    """(row, offset, byte) of the first bytes that ``encoding`` cannot decode."""
    faults, start = [], 0
    while len(faults) < _FAULTS_SHOWN:
        try:
            data[start:].decode(encoding)
            break
        except UnicodeDecodeError as exc:
            offset = start + exc.start
            faults.append((data.count(b"\n", 0, offset) + 1, offset, data[offset]))
            start = start + max(exc.end, exc.start + 1)
    return faults


def fault_text(faults: list[tuple[int, int, int]]) -> str:
    return ", ".join(f"ligne {row} (octet 0x{byte:02X} à la position {offset})" for row, offset, byte in faults)


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode the whole of ``data`` in one encoding; returns the text and the encoding's name.

    Raises
    ------
    DecodeError
        When no single encoding decodes every byte, with the rows and bytes at fault.
    """
    if data.startswith(codecs.BOM_UTF8):
        body = data[len(codecs.BOM_UTF8):]
        try:
            return body.decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            raise DecodeError(
                "encodage invalide : le fichier s'annonce en UTF-8 (marque BOM) mais contient des octets qui ne "
                f"sont pas de l'UTF-8 : {fault_text(faults(body, 'utf-8'))} (numérotation après la marque). "
                "Un caractère a été coupé ou une partie du fichier vient d'un autre encodage. " + _SAVE_AS_UTF8
            ) from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise DecodeError(
                "encodage invalide : le fichier s'annonce en UTF-16 mais il est tronqué ou endommagé. "
                + _SAVE_AS_UTF8
            ) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if _UTF8_MULTIBYTE.search(data):
        raise DecodeError(
            "mélange d'encodages : le fichier contient des caractères UTF-8 mais aussi des octets invalides en "
            f"UTF-8 : {fault_text(faults(data, 'utf-8'))}. Un caractère a été coupé, ou des lignes viennent "
            "d'un fichier Windows (cp1252) : aucun encodage ne lit tout le fichier sans l'altérer. " + _SAVE_AS_UTF8
        )
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        raise DecodeError(
            "encodage non reconnu : le fichier n'est ni en UTF-8 ni en Windows-1252 : "
            f"{fault_text(faults(data, 'cp1252'))}. " + _SAVE_AS_UTF8
        ) from None


def sniff_separator(lines: list[str]) -> str:
    """The separator whose count is the same on most of the first lines.

    A name containing a comma in a ``;`` file changes the comma count of that
    line only, so consistency wins over raw frequency.
    """
    best, best_score = ";", (0, 0)
    sample = [line for line in lines if line.strip()][:HEADER_SCAN_ROWS * 2]
    for sep in _SEPARATORS:
        counts = pd.Series([line.count(sep) for line in sample], dtype="int64")
        counts = counts[counts > 0]
        if counts.empty:
            continue
        mode = int(counts.mode().iloc[0])
        score = (int((counts == mode).sum()), mode)
        if score > best_score:
            best, best_score = sep, score
    return best


def _rows(text: str, sep: str, name: str):
    """csv rows of ``text``; a csv error becomes a French :class:`ReadError` naming the row."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"')
    try:
        yield from reader
    except csv.Error as exc:
        limit = f"{csv.field_size_limit():,}".replace(",", "\u202f")
        reason = (f"une cellule dépasse {limit} caractères (un guillemet « \" » n'est sans doute pas refermé)"
                  if "field limit" in str(exc) else "ligne CSV malformée")
        raise ReadError(f"Fichier « {name} », ligne {reader.line_num} : {reason}.") from None


def read_text(data: bytes, path: Path, name: str) -> RawFile:
    """A CSV/TXT file as one sheet of text cells."""
    head = data[:8192]
    if utf16_without_bom(head):
        raise ReadError(
            f"Fichier « {name} » illisible : encodé en UTF-16 sans marque d'ordre des octets (BOM), "
            f"son encodage ne peut pas être établi avec certitude. {_SAVE_AS_UTF8}"
        )
    if not looks_textual(head):
        raise ReadError(
            f"Fichier « {name} » illisible : son contenu est binaire, pas du texte CSV. "
            f"Formats acceptés : {ACCEPTED}."
        )
    try:
        text, encoding = decode_text(data)
    except DecodeError as exc:
        raise ReadError(f"Fichier « {name} » refusé, {exc}") from None
    if not text or text.isspace():
        raise ReadError(f"Fichier « {name} » vide : il ne contient aucune ligne.")
    # Only the first lines are split for sniffing: splitting a 50 MB file into lines would cost memory for nothing.
    sep = sniff_separator(list(islice(io.StringIO(text), HEADER_SCAN_ROWS * 3)))
    grid = bounded_grid(_rows(text, sep, name), name)
    return RawFile(path=path, format="csv", sheets=[Sheet(grid=grid)], encoding=encoding, separator=sep)
