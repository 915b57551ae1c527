"""Excel workbooks: bounded (bytes unpacked, rows), their only sheet written as CSV.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from indicators.ingest.problems import Rejected, reject_one

# --- Excel workbooks: bounded, converted to CSV before the database is opened -------------

XLSX_MAX_BYTES: int = 1_000_000_000
"""The most a workbook may unpack to: its parts as the zip declares them and as inflated, and
the sheet's text as CSV. ``$SERVICE_XLSX_MAX_BYTES`` overrides it.  Zip packs repetitive XML
about 300:1, so a 1.7 MB workbook of 12 M tiny rows unpacks to 500 MB and openpyxl would parse
it for minutes; a sheet of Excel's full 1,048,576 rows of ten cells unpacks to about 350 MB."""
XLSX_MAX_ROWS: int = 1_048_576
"""The most rows a sheet may hold: Excel's own limit. ``$SERVICE_XLSX_MAX_ROWS`` overrides it."""
_XLSX_LIMIT_VARIABLES = {"bytes": "SERVICE_XLSX_MAX_BYTES", "rows": "SERVICE_XLSX_MAX_ROWS"}
_SHEET_PARTS = "xl/worksheets/"
_ROW_TAGS = (b"<row ", b"<row>", b"<row/")
"""How a sheet row starts in SpreadsheetML (a ``<`` in text is always escaped as ``&lt;``)."""


@dataclass(frozen=True)
class XlsxLimits:
    """The bounds a workbook must keep (:data:`XLSX_MAX_BYTES`, :data:`XLSX_MAX_ROWS`)."""

    bytes: int
    rows: int


def xlsx_limits() -> XlsxLimits:
    """The limits in force: the constants, or ``$SERVICE_XLSX_MAX_BYTES`` / ``…_ROWS``.

    ``ValueError`` (naming the variable) when a variable is set but not a whole number > 0.
    """
    values = {"bytes": XLSX_MAX_BYTES, "rows": XLSX_MAX_ROWS}
    for key, variable in _XLSX_LIMIT_VARIABLES.items():
        text = os.environ.get(variable, "").strip()
        if not text:
            continue
        try:
            values[key] = int(text)
        except ValueError:
            values[key] = 0
        if values[key] <= 0:
            raise ValueError(f"{variable} must be a whole number above 0, got {text!r}")
    return XlsxLimits(**values)


def _over_limit(name: str, what: str, seen: str, limit: str, variable: str) -> Rejected:
    return reject_one(
        name,
        f"{what} {seen}, more than the limit of {limit} (${variable}); "
        "split the data or save it as CSV",
    )


def _mb(size: int) -> str:
    return f"{size:,} bytes" if size < 1_000_000 else f"{size / 1e6:,.1f} MB"


def _check_unpacked(path: Path, name: str, limits: XlsxLimits) -> None:
    """Reject a workbook that unpacks past the limits, before openpyxl parses any of it.

    The sizes the zip declares are summed first; then every part is inflated once, counting
    the bytes really produced (a lying declaration cannot get past the limit, and Python's
    zipfile stops at the declared size with a CRC error anyway) and the sheet's row tags.
    Inflating is about a hundred times faster than openpyxl's parse, so a 12 M-row sheet is
    refused in seconds instead of being converted for minutes.
    """
    variable = _XLSX_LIMIT_VARIABLES["bytes"]
    try:
        with zipfile.ZipFile(path) as book:
            parts = book.infolist()
            declared = sum(part.file_size for part in parts)
            if declared > limits.bytes:
                raise _over_limit(
                    name, "the workbook unpacks to", _mb(declared), _mb(limits.bytes), variable
                )
            inflated = 0
            for part in parts:
                rows, size = _inflate_counting(book, part, limits.bytes - inflated)
                inflated += size
                if inflated > limits.bytes:
                    raise _over_limit(
                        name, "the workbook unpacks to at least", _mb(inflated),
                        _mb(limits.bytes), variable,
                    )
                if rows > limits.rows:
                    raise _over_limit(
                        name, "the sheet has", f"{rows:,} rows", f"{limits.rows:,} rows",
                        _XLSX_LIMIT_VARIABLES["rows"],
                    )
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as err:
        raise reject_one(name, f"not a readable Excel workbook: {err}") from None


def _inflate_counting(book: zipfile.ZipFile, part: zipfile.ZipInfo, budget: int) -> tuple[int, int]:
    """Row tags (for a sheet part) and bytes of one part, inflating no more than ``budget`` + 1."""
    counting = part.filename.startswith(_SHEET_PARTS)
    rows, size, tail = 0, 0, b""
    with book.open(part) as stream:
        while size <= budget and (chunk := stream.read(1 << 20)):
            size += len(chunk)
            if counting:
                # The last 4 bytes carried over: a 5-byte tag split by the chunk counts once.
                block = tail + chunk
                rows += sum(block.count(tag) for tag in _ROW_TAGS)
                tail = block[-4:]
    return rows, size


def _cell_text(value: object) -> str:
    """An Excel cell as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep="T")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def xlsx_to_csv(path: Path, name: str, target: Path, limits: XlsxLimits | None = None) -> Path:
    """Write the workbook's only sheet as UTF-8 CSV, keeping sheet row numbers.

    Bounded by ``limits`` (default :func:`xlsx_limits`): the unpacked size and the row tags
    are checked before parsing, and the rows and the CSV text are counted again while
    converting (openpyxl also makes rows of the gaps a sheet's row numbers skip).  A rejected
    or interrupted conversion removes its partial CSV.
    """
    import openpyxl

    limits = limits or xlsx_limits()
    try:
        _check_unpacked(path, name, limits)
        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as err:  # openpyxl raises many kinds for a damaged workbook
            raise reject_one(name, f"not a readable Excel workbook: {err}") from None
        try:
            if len(book.sheetnames) != 1:
                raise reject_one(
                    name,
                    f"the workbook has {len(book.sheetnames)} sheets "
                    f"({', '.join(book.sheetnames)}); save the data as a workbook with one sheet",
                )
            _write_sheet(book.worksheets[0], name, target, limits)
        finally:
            book.close()
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target


def _write_sheet(sheet: object, name: str, target: Path, limits: XlsxLimits) -> None:
    """The sheet's rows as CSV, counting rows and characters against ``limits``."""
    rows = written = 0
    with target.open("w", encoding="utf-8", newline="") as out:
        # QUOTE_ALL writes an empty row as "" so the CSV reader does not skip it as blank.
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
        # Widths of the empty rows held back, so trailing empty rows (common in sheets) are
        # dropped; only widths, so a sheet of many empty rows costs no memory per cell.
        pending_empty: list[int] = []
        for row in sheet.iter_rows(values_only=True):
            rows += 1
            if rows > limits.rows:
                raise _over_limit(
                    name, "the sheet has at least", f"{rows:,} rows",
                    f"{limits.rows:,} rows", _XLSX_LIMIT_VARIABLES["rows"],
                )
            cells = [_cell_text(v) for v in row]
            # Two quotes and a comma around each cell, as QUOTE_ALL writes it.
            written += sum(map(len, cells)) + 3 * len(cells)
            if written > limits.bytes:
                raise _over_limit(
                    name, "the sheet's text is at least", _mb(written),
                    _mb(limits.bytes), _XLSX_LIMIT_VARIABLES["bytes"],
                )
            if not any(c.strip() for c in cells):
                pending_empty.append(len(cells))
                continue
            writer.writerows([""] * width for width in pending_empty)
            pending_empty.clear()
            writer.writerow(cells)
