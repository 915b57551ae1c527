"""CSV text: the header and delimiter, legacy encodings transcoded to UTF-8 (a file named
latin-1/cp1251 that is UTF-8 after all gets a warning), DuckDB's reader over the file, the
records it must account for, and the file's own row numbers.
"""

from __future__ import annotations

import codecs
import csv
import re
import shutil
from pathlib import Path

from indicators.ingest.bytescan import (
    CSV_BUFFER_BYTES,
    DUCKDB_LINE_BYTES,
    counted_records,
    scan_bytes,
    walk_records,
)
from indicators.ingest.problems import FileWarning, Problem, reject_one
from indicators.ingest.source import Source, position_names
from indicators.ingest.sql import REJECT_SCANS, REJECTS, Params

_CHUNK_BYTES = 1 << 20
_UTF8_BOM = b"\xef\xbb\xbf"
_WORD = re.compile(r"[^\s,;\"']{0,20}[^\x00-\x7f][^\s,;\"']{0,20}")
"""A word holding a character beyond ASCII: the example a look-alike warning shows."""


def _utf8_example(path: Path) -> str | None:
    """If the file is valid UTF-8 holding at least one multi-byte sequence: the first word
    such a sequence is in; else None.

    A strict incremental decoder over chunks, skipping ASCII chunks, given up at the first byte
    that is not UTF-8 — in a legacy file, its first letter beyond ASCII — so a real legacy file
    costs one chunk or so; only a file that is UTF-8 after all is decoded whole.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    example = None
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK_BYTES):
            if chunk.isascii() and not decoder.getstate()[0]:
                continue
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError:
                return None
            if example is None and not text.isascii():
                match = _WORD.search(text)
                example = match.group() if match else text[:20]
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    return example


def transcode(
    path: Path, encoding: str, target: Path, name: str
) -> tuple[Path, list[FileWarning]]:
    """Copy a legacy single-byte file to UTF-8 in chunks (DuckDB reads UTF-8 only here).

    A file that is valid UTF-8 and holds multi-byte sequences (:func:`_utf8_example`) was
    almost surely written as UTF-8, and read as ``encoding`` its letters come out garbled
    ('Café' as 'CafÃ©'): it loads with a warning (a rejection with ``--strict``). A UTF-8
    byte-order mark at the start is rejected: it would garble the header's first name.
    """
    with path.open("rb") as f:
        if f.read(len(_UTF8_BOM)) == _UTF8_BOM:
            raise reject_one(
                name,
                f"the file starts with UTF-8's byte-order mark, so it is UTF-8, not {encoding}: "
                "load it as utf-8",
                row=1,
            )
    word = _utf8_example(path)
    try:
        with (
            path.open("r", encoding=encoding, newline="") as src,
            target.open("w", encoding="utf-8", newline="") as dst,
        ):
            shutil.copyfileobj(src, dst, _CHUNK_BYTES)
    except UnicodeDecodeError as err:
        hint = "it looks like UTF-8: load it as utf-8" if word else "check the file's encoding"
        raise reject_one(
            name, f"byte {err.object[err.start : err.start + 1]!r} is not valid {encoding}; {hint}"
        ) from None
    if word is None:
        return target, []
    garbled = word.encode("utf-8").decode(encoding, errors="replace")
    text = (
        f"this file looks like UTF-8 (e.g. {word!r} read as {garbled!r}): load it as utf-8, "
        f"not {encoding}"
    )
    return target, [FileWarning(None, word, text)]


def _csv_header(path: Path, name: str, delimiter: str | None) -> tuple[list[str], str]:
    """The first record's fields and the delimiter (from the header line unless given)."""
    with path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="") as f:
        first_line = f.readline()
        if not first_line.strip():
            if not f.read(1 << 16).strip():
                raise reject_one(name, "file is empty")
            raise reject_one(name, "row 1 must be the header, but it is empty", row=1)
        if delimiter is None:
            delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
        f.seek(0)
        # The csv module, not the line, so that a quoted header spanning lines stays one record.
        try:
            header = next(csv.reader(f, delimiter=delimiter))
        except csv.Error as err:
            # An opening quote that is never closed swallows the file into one field, which
            # the csv module refuses past its field size limit: a header it cannot read.
            raise reject_one(
                name, f"row 1 (the header) cannot be read: {err}; check its quotes", row=1
            ) from None
    if any("\udc80" <= ch <= "\udcff" for cell in header for ch in cell):
        raise reject_one(
            name,
            "not valid UTF-8: name the file's encoding (cp1251 or latin-1)",
            row=1,
        )
    return header, delimiter



def lost_records(source: Source, read: int) -> list[Problem]:
    """Nothing lost: the file's own count of records must equal the rows DuckDB read plus the
    rows it rejected (``read``), else the file is rejected."""
    if source.csv_path is None or source.records is None:
        return []
    if read != source.records and not source.records_exact:
        walked = walk_records(source.csv_path, source.delimiter)
        if walked is not None:
            source.records, source.records_exact = walked[0], True
    if read == source.records:
        return []
    return [
        Problem(
            source.name,
            None,
            None,
            None,
            f"the file holds {source.records} data rows but {read} could be read; check its "
            "quotes and line breaks",
        )
    ]


def csv_source(path: Path, name: str, delimiter: str | None) -> Source:
    header, delimiter = _csv_header(path, name, delimiter)
    scan = scan_bytes(path, delimiter)
    records, exact = counted_records(path, name, delimiter, scan)
    params = Params("s")
    columns = {c: "VARCHAR" for c in position_names(len(header))}
    from_sql = (
        f"read_csv({params(str(path))}, header = true, auto_detect = false, "
        f"columns = {params(columns)}, delim = {params(delimiter)}, quote = '\"', "
        f"escape = '\"', max_line_size = {params(DUCKDB_LINE_BYTES)}, "
        f"buffer_size = {params(CSV_BUFFER_BYTES)}, store_rejects = true, "
        f"rejects_table = '{REJECTS}', rejects_scan = '{REJECT_SCANS}')"
    )
    return Source(
        name,
        header,
        from_sql,
        params.values,
        delimiter,
        csv_path=path,
        may_hold_controls=scan.controls,
        ascii_only=scan.ascii,
        edge_spaces=scan.edge_spaces,
        records=records,
        records_exact=exact,
    )



# --- row numbers ---------------------------------------------------------------------------


def line_ending_fault(path: Path) -> tuple[int, str] | None:
    """The row and reason of the first line-ending fault DuckDB cannot read past, if any.

    DuckDB gives up on a file that mixes CRLF and LF, or holds a lone CR outside quotes,
    without saying where ("the CSV parser state machine reached an invalid state"); this walk
    runs only then. Lines are split on LF and a record ends with a line whose quotes are
    balanced, so quoted line breaks keep the file's row numbers.
    """
    row, in_quotes, first_crlf = 1, False, None
    with path.open("rb") as f:
        for line in f:
            body = line[:-1] if line.endswith(b"\n") else line
            crlf = body.endswith(b"\r")
            body = body[:-1] if crlf else body
            if b"\r" in body:
                quoted = in_quotes
                for byte in body:
                    if byte == 0x22:
                        quoted = not quoted
                    elif byte == 0x0D and not quoted:
                        return row, "a carriage return (CR) inside the row"
            in_quotes ^= line.count(b'"') % 2 == 1
            if in_quotes or not line.endswith(b"\n"):
                continue
            if first_crlf is None:
                first_crlf = crlf
            elif crlf != first_crlf:
                ending, first = ("CRLF", "LF") if crlf else ("LF", "CRLF")
                return row, f"the row ends with {ending} but the header with {first}"
            row += 1
    return None


def _has_blank_line(path: Path) -> bool:
    tail = b""
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            block = tail + chunk
            if b"\n\n" in block or b"\n\r\n" in block:
                return True
            tail = block[-2:]
    return False


def file_rows(source: Source, rowids: set[int]) -> dict[int, int]:
    """File row numbers of staging rows (rowid = order of the rows DuckDB kept)."""
    if source.csv_path is None:
        return {r: r + 2 for r in rowids}
    rejected = sorted(set(source.rejected_records))
    if not _has_blank_line(source.csv_path):
        # Rows DuckDB rejected as ragged are missing from the stage: shift past them.
        mapping = {}
        for r in rowids:
            row = r + 2
            for bad in rejected:
                if bad <= row:
                    row += 1
            mapping[r] = row
        return mapping
    # DuckDB skips blank lines but counts them as records; only a CSV walk can tell where
    # they are. This runs only for a rejected file and stops at the last row reported.
    mapping, wanted, staged = {}, set(rowids), -1
    skip = set(rejected)
    # DuckDB has read every field already; the csv module's own cap (128 KiB a field) must not
    # stop the walk, so it is lifted to the file's size for the walk.
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, source.csv_path.stat().st_size + 1))
    try:
        with source.csv_path.open(
            "r", encoding="utf-8-sig", errors="surrogateescape", newline=""
        ) as f:
            for record, fields in enumerate(csv.reader(f, delimiter=source.delimiter), 1):
                if record == 1 or not fields or record in skip:
                    continue
                staged += 1
                if staged in wanted:
                    mapping[staged] = record
                    if len(mapping) == len(wanted):
                        break
    except csv.Error:
        # Not expected once the cap is lifted; rows past it are then reported without a
        # number rather than with a wrong one (or a traceback).
        pass
    finally:
        csv.field_size_limit(limit)
    return mapping
