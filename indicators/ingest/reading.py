"""Reading a file: its kind from its first bytes (CSV, Excel, Parquet), its size, a workbook
converted before the database is opened (:func:`prepare_file`), and the :class:`Source` it
becomes (:func:`open_file`).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from indicators.ingest.problems import Problem, Rejected, reject_one
from indicators.ingest.read_csv import csv_source, transcode
from indicators.ingest.read_excel import xlsx_limits, xlsx_to_csv
from indicators.ingest.read_parquet import parquet_source
from indicators.ingest.source import Source

ENCODINGS: tuple[str, ...] = ("utf-8", "cp1251", "latin-1")
"""Text encodings a CSV file may use; anything but UTF-8 must be named by the user."""

MAX_UPLOAD_BYTES: int = 200 * 1024 * 1024

DELIMITERS: tuple[str, ...] = (",", ";")


_XLSX_MAGIC = b"PK\x03\x04"
_PARQUET_MAGIC = b"PAR1"



def _sniff_kind(path: Path) -> str:
    with path.open("rb") as f:
        magic = f.read(4)
    if magic == _XLSX_MAGIC:
        return "xlsx"
    if magic == _PARQUET_MAGIC:
        return "parquet"
    return "csv"



@dataclass(frozen=True)
class PreparedFile:
    """A file checked and, for a workbook, converted to CSV before the database is opened.

    Made by :func:`prepare_file` and handed to :func:`ingest_file` in place of the path, so
    the slow part of reading a workbook happens before the database is locked.
    """

    path: Path
    name: str
    """What reports and the log call the file."""
    kind: str
    """``csv``, ``xlsx`` or ``parquet`` (from the first bytes); ``""`` when rejected."""
    sheet: Path | None = None
    """The workbook's only sheet written as CSV, for an ``xlsx``."""
    problems: tuple[Problem, ...] = ()
    """Why the file is rejected, when it is (:func:`ingest_file` logs the rejection)."""


def _checked_kind(path: Path, name: str, max_bytes: int) -> str:
    """The file's kind (``_sniff_kind``) once it exists (and is no directory), is not empty
    and not too large."""
    if path.is_dir():
        raise reject_one(name, f"is a directory, not a file: {path}")
    if not path.is_file():
        raise reject_one(name, f"file does not exist: {path}")
    size = path.stat().st_size
    if size > max_bytes:
        raise reject_one(name, f"file is larger than {max_bytes / 1e6:g} MB ({size / 1e6:.1f} MB)")
    if size == 0:
        raise reject_one(name, "file is empty")
    return _sniff_kind(path)


def prepare_file(
    path: str | Path,
    *,
    scratch: Path,
    file_name: str | None = None,
    max_bytes: int = MAX_UPLOAD_BYTES,
) -> PreparedFile:
    """Check a file and write a workbook's sheet as CSV into ``scratch``; never raises for
    anything wrong with the file (the problems travel in the result).

    ``ValueError`` when ``$SERVICE_XLSX_MAX_*`` is set to something that is not a limit.
    """
    path = Path(path)
    name = file_name or path.name
    limits = xlsx_limits()
    try:
        kind = _checked_kind(path, name, max_bytes)
        if kind != "xlsx":
            return PreparedFile(path, name, kind)
        handle, sheet = tempfile.mkstemp(prefix="sheet-", suffix=".csv", dir=scratch)
        os.close(handle)
        return PreparedFile(path, name, kind, xlsx_to_csv(path, name, Path(sheet), limits))
    except Rejected as rejected:
        return PreparedFile(path, name, "", problems=tuple(rejected.problems))


def open_file(
    con: duckdb.DuckDBPyConnection,
    prepared: PreparedFile,
    *,
    encoding: str,
    delimiter: str | None,
    tmp: Path,
) -> Source:
    if prepared.problems:
        raise Rejected(list(prepared.problems))
    path, name = prepared.path, prepared.name
    if prepared.kind == "parquet":
        return parquet_source(con, path, name)
    if prepared.kind == "xlsx" and prepared.sheet is not None:
        return csv_source(prepared.sheet, name, ",")
    with path.open("rb") as f:
        start = f.read(2)
    if start in (b"\xff\xfe", b"\xfe\xff"):
        # Excel's "Unicode text" export; naming cp1251 or latin-1 would not help, so say so.
        raise reject_one(
            name,
            "the file is UTF-16 (Excel's \"Unicode text\"); save it as CSV UTF-8",
            row=1,
        )
    if encoding == "utf-8":
        return csv_source(path, name, delimiter)
    path, warnings = transcode(path, encoding, tmp / "utf8.csv", name)
    source = csv_source(path, name, delimiter)
    source.warnings.extend(warnings)
    return source
