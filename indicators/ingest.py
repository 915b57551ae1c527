"""Reading, validating and loading analysts' files (SPEC §1).

A file is recognised by its header, validated whole and, only if every row passes, loaded in
one transaction that replaces exactly the slices it contains (``Dataset.slice_key``: month and
department for event datasets and retention, indicator and department for targets). Every
upload, accepted or rejected, leaves one row in ``upload_log``; a rejected one leaves nothing
else.

All the work on rows happens inside DuckDB, set-based, so it stays fast on large files:

1. the header (first record) is read in Python to learn the column names, and one NumPy pass
   over the bytes tells whether the file holds a control character or a stray BOM (only then
   does the per-cell control rule run) and whether it is all ASCII (then trimming only looks at
   U+0020); DuckDB then reads the file with those columns by position, every column as
   ``VARCHAR``;
2. the fast path, in one transaction: one ``INSERT … SELECT`` writes the typed value of every
   contract column straight into the dataset's table, and aborts on the first row that breaks
   a rule; then ragged rows, duplicate keys among the new rows and an empty file are checked,
   the log row written, the stored rows of the file's slices kept for undo
   (:mod:`indicators.undo`; nothing to copy into an empty table) and deleted — a clean file's
   only pass over it, and its rows are copied once;
3. when anything is wrong the transaction is rolled back and the file is staged again in a
   temp table with the trimmed text of every cell next to its typed value, every broken rule
   counted, and per-rule queries fetch the first offending rows for the report (a rejected
   file costs a second pass, a clean one does not carry its text).

Row numbers are as in the file: the header is row 1 and a quoted multi-line record is one row.
Excel rows are sheet rows; Parquet and DataFrame rows count as if preceded by a header row.

Text rules (see :mod:`indicators.schema`): cells are trimmed and an empty cell is a missing
value; dates are ISO unless the user names one of :data:`DATE_FORMATS` (ISO is then still
accepted); nothing is parsed loosely (no day/month guessing, no ``4.0`` for an integer).
Timestamps with ``Z`` or an offset are converted to the organisation's time zone, naive ones are
taken as already in it; stored timestamps are naive local time.
"""

from __future__ import annotations

import csv
import datetime as dt
import fcntl
import math
import os
import shutil
import signal
import tempfile
import threading
import time
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from indicators import store, undo
from indicators.schema import (
    ALL_DEPARTMENTS_TARGET,
    DATASETS,
    MAX_MAGNITUDE,
    MONTH_DATASETS,
    Column,
    Dataset,
    closest,
    normalise_header,
)

ENCODINGS: tuple[str, ...] = ("utf-8", "cp1251", "latin-1")
"""Text encodings a CSV file may use; anything but UTF-8 must be named by the user."""

MAX_UPLOAD_BYTES: int = 200 * 1024 * 1024
MAX_PROBLEMS: int = 200
"""Problems reported per file; the count of all problems is still given in the message."""

DELIMITERS: tuple[str, ...] = (",", ";")


@dataclass(frozen=True)
class DateFormat:
    """A non-ISO way of writing dates: a strict pattern and the ``strptime`` formats it allows."""

    pattern: str
    formats: tuple[str, ...]


def _day_first(sep: str) -> DateFormat:
    esc = "\\" + sep
    return DateFormat(
        pattern=rf"\d{{1,2}}{esc}\d{{1,2}}{esc}\d{{4}}( \d{{1,2}}:\d{{2}}(:\d{{2}})?)?",
        formats=tuple(f"%d{sep}%m{sep}%Y{t}" for t in ("", " %H:%M", " %H:%M:%S")),
    )


DATE_FORMATS: dict[str, DateFormat | None] = {
    "ISO": None,
    "DD.MM.YYYY": _day_first("."),
    "DD/MM/YYYY": _day_first("/"),
    "M/D/YYYY": DateFormat(
        pattern=r"\d{1,2}/\d{1,2}/\d{4}( \d{1,2}:\d{2}(:\d{2})?)?",
        formats=("%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S"),
    ),
}
"""How dates may be written. ISO is always accepted; the others only when the user names them."""

_ISO_NAIVE = r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?"
_ISO_TIME = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?"
_ISO_ZONED = _ISO_TIME + r"(Z|[+-](0\d|1[0-4])(:?[0-5]\d)?)"
"""A zoned timestamp: ``Z`` or a UTC offset ``±HH:MM`` (also ``±HHMM`` and ``±HH``, ISO 8601's
other forms) with HH at most 14 (the largest offset in use, Kiribati's) and MM at most 59."""
_OFFSET_OUT_OF_RANGE = _ISO_TIME + r"[+-]((1[5-9]|[2-9]\d)(:?\d{2})?|\d{2}:?[6-9]\d)"
"""An offset of the same shape with HH above 14 or MM above 59 (``+99:99``, ``+24:00``,
``-9999``, ``+00:60``): DuckDB would read it and move the row by up to four days."""
_MONTH = r"\d{4}-\d{2}"
_INTEGER = r"[+-]?\d+"
_NUMBER_POINT = r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?"
_NUMBER_COMMA = r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?"
_FORMAT_CHARACTERS: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD), (0x0600, 0x0605), (0x061C, 0x061C), (0x06DD, 0x06DD), (0x070F, 0x070F),
    (0x0890, 0x0891), (0x08E2, 0x08E2), (0x180E, 0x180E), (0x200B, 0x200F), (0x202A, 0x202E),
    (0x2060, 0x2064), (0x2066, 0x206F), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD),
    (0x110CD, 0x110CD), (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001), (0xE0020, 0xE007F),
)
"""Unicode's format characters (category Cf, Unicode 15.1) as inclusive ranges: zero-width
space and joiners, bidi embeddings, overrides and isolates, the BOM, soft hyphen, tags.
Written out (a test compares them with :mod:`unicodedata`) so that the byte scan and the SQL
rule test exactly the same characters."""
_CONTROL = (
    r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F"
    + "".join(f"\\x{{{lo:X}}}-\\x{{{hi:X}}}" for lo, hi in _FORMAT_CHARACTERS)
    + "]"
)
"""Characters a text cell may not hold: C0 controls but tab and line breaks, DEL, and the
format characters (:data:`_FORMAT_CHARACTERS`, the BOM among them).

A NUL, a byte-order mark or a zero-width space is invisible on screen, so ``c\x001``,
``\ufeffp2`` (a BOM left in the middle of files pasted together) or ``All\u200b`` would be
stored as an id or department that looks like another one, and a bidi override reorders the
text shown: silent corruption, so the row is rejected instead."""

MAX_LINE_BYTES: int = 8_000_000
"""A CSV record (a line, or a quoted record over several) longer than this is rejected, naming
its row: "line N is … MB; the limit is 8 MB".

The size is the record's bytes without its line break.  DuckDB reads a file in buffers of
:data:`_CSV_BUFFER_BYTES` (32 MiB, its default) and skips a record that does not fit one
without a trace — the silent loss of issue 14 — so the limit must stay well below that; 8 MB
is four times DuckDB's default line limit (2 MB, which refused a valid 3 MB text cell) and
keeps the reader's memory what it was.  The byte scan enforces it before DuckDB reads a row."""
_CSV_BUFFER_BYTES: int = 32 * 1024 * 1024
"""DuckDB's CSV read buffer, set explicitly: its default grows with ``max_line_size``."""
_DUCKDB_LINE_BYTES: int = MAX_LINE_BYTES + 2
"""DuckDB's own line limit, just above ours so that it never refuses a record ours allows (it
refuses a last line without a line break at exactly its limit)."""

MAX_FUTURE_DAYS: int = 366
"""A date (or retention month) later than this many days after today is rejected."""
EARLIEST_DATE: dt.date = dt.date(1900, 1, 1)
"""A date (or retention month) before this is rejected.

Both bounds catch mistyped years (``2099``, ``9999``, ``0025``): the reported months run from
the first to the last month holding data, so one such row would silently stretch every report
over centuries of empty months."""


def latest_date(today: dt.date | None = None) -> dt.date:
    """The last date a row may carry: :data:`MAX_FUTURE_DAYS` after ``today`` (UTC by default)."""
    today = today or dt.datetime.now(dt.UTC).date()
    return today + dt.timedelta(days=MAX_FUTURE_DAYS)


MAX_TARGET_YEARS: int = 10
"""A target's months (baseline and target month) lie from :data:`EARLIEST_DATE` to this many
years after today's month: a plan, unlike data, may look ahead, but not by centuries."""


def latest_target_month(today: dt.date | None = None) -> dt.date:
    """The last month (its first day) a target may name: :data:`MAX_TARGET_YEARS` ahead."""
    today = today or dt.datetime.now(dt.UTC).date()
    return dt.date(today.year + MAX_TARGET_YEARS, today.month, 1)


_STAGE = "ingest_stage"
_SLICES = "ingest_slices"
_FRAME = "ingest_frame"
_REJECTS = "ingest_reject_errors"
_REJECT_SCANS = "ingest_reject_scans"
_PARQUET = "read_parquet($path)"
# The typed relations a source may read, each with its DESCRIBE written out (no SQL is built
# from a relation's text).
_DESCRIBE = {
    _PARQUET: "DESCRIBE SELECT * FROM read_parquet($path)",
    _FRAME: "DESCRIBE SELECT * FROM ingest_frame",
}
_XLSX_MAGIC = b"PK\x03\x04"
_PARQUET_MAGIC = b"PAR1"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an uploaded file; ``row`` as in the file (header = row 1)."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    rule: str


@dataclass
class IngestResult:
    """What happened to one uploaded file."""

    file_name: str
    dataset: str | None
    outcome: str
    """``"accepted"`` or ``"rejected"``."""
    rows: int = 0
    slices: list[tuple[str, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    message: str = ""
    warnings: list[str] = field(default_factory=list)
    """Things an accepted load did that look like a mistake (see :data:`MAX_NEW_DEPARTMENTS`;
    targets for departments without data, :func:`_warn_unknown_departments`)."""
    load_id: int | None = None
    """The file's entry in ``upload_log`` (what ``python -m indicators undo`` takes); None
    until it is logged."""

    @property
    def accepted(self) -> bool:
        return self.outcome == "accepted"

    def problems_frame(self) -> pd.DataFrame:
        """The problems as a table (``file``, ``row``, ``column``, ``value``, ``rule``)."""
        return pd.DataFrame(
            {
                "file": pd.Series([p.file for p in self.problems], dtype="str"),
                "row": pd.Series([p.row for p in self.problems], dtype="Int64"),
                "column": pd.Series([p.column for p in self.problems], dtype="str"),
                "value": pd.Series([p.value for p in self.problems], dtype="str"),
                "rule": pd.Series([p.rule for p in self.problems], dtype="str"),
            }
        )


class _Rejected(Exception):
    """Raised while reading a file to reject it whole; carries what to report."""

    def __init__(self, problems: list[Problem]):
        super().__init__(problems[0].rule if problems else "rejected")
        self.problems = problems


class _Params:
    """Named SQL parameters collected while a statement is built (values never enter SQL text)."""

    def __init__(self, prefix: str = "p") -> None:
        self.prefix = prefix
        self.values: dict[str, object] = {}

    def __call__(self, value: object) -> str:
        name = f"{self.prefix}{len(self.values)}"
        self.values[name] = value
        return f"${name}"


def _q(name: str) -> str:
    """Quote an identifier taken from the schema's fixed lists."""
    return '"' + name + '"'


def _table(dataset: Dataset) -> str:
    """The quoted name of a dataset's table — only a dataset of :data:`schema.DATASETS`."""
    if DATASETS.get(dataset.name) is not dataset:
        raise ValueError(f"not a dataset of the schema: {dataset.name!r}")
    return _q(dataset.name)


# Fixed statements (identifiers from the module's constants and the schema's names only).
_NEW_ROWS = "rowid > $stored_until"
"""The rows a load appended: after the table's last rowid before it (parameter)."""
_LAST_ROWID = {name: f"SELECT coalesce(max(rowid), -1) FROM {_q(name)}" for name in DATASETS}
_DELETE_STORED = {name: f"DELETE FROM {_q(name)} WHERE NOT ({_NEW_ROWS})" for name in DATASETS}
"""Per dataset: its table's last rowid; delete every row but the load's (replace-all)."""
_COUNT_RAGGED = f"SELECT count(*) FROM temp.{_REJECTS}"
_SORTED_SLICES = f"SELECT * FROM {_SLICES} ORDER BY ALL"


# --- sources: a file's header plus a FROM clause yielding VARCHAR columns c0..cN ----------


@dataclass
class _Source:
    name: str
    header: list[str]
    from_sql: str
    params: dict[str, object]
    delimiter: str = ","
    csv_path: Path | None = None
    """Set for CSV text read by DuckDB: structural errors come from its rejects table."""
    rejected_records: list[int] = field(default_factory=list)
    may_hold_controls: bool = True
    """False when a byte scan found no control character or BOM: the per-cell rule is skipped."""
    ascii_only: bool = False
    """True when a byte scan found only ASCII: trimming needs to look for U+0020 alone."""
    records: int | None = None
    """CSV text: its data records by the byte scan, which DuckDB's rows must add up to."""
    records_exact: bool = False
    """``records`` follows every quote as DuckDB does (else it is counted again on a mismatch)."""

    @property
    def decimal_comma(self) -> bool:
        return self.delimiter == ";"


def _positions(n: int) -> list[str]:
    return [f"c{i}" for i in range(n)]


def _sniff_kind(path: Path) -> str:
    with path.open("rb") as f:
        magic = f.read(4)
    if magic == _XLSX_MAGIC:
        return "xlsx"
    if magic == _PARQUET_MAGIC:
        return "parquet"
    return "csv"


def _reject_one(
    name: str,
    rule: str,
    *,
    row: int | None = None,
    column: str | None = None,
    value: str | None = None,
) -> _Rejected:
    return _Rejected([Problem(name, row, column, value, rule)])


def _transcode(path: Path, encoding: str, target: Path, name: str) -> Path:
    """Copy a legacy single-byte file to UTF-8 in chunks (DuckDB reads UTF-8 only here)."""
    try:
        with (
            path.open("r", encoding=encoding, newline="") as src,
            target.open("w", encoding="utf-8", newline="") as dst,
        ):
            shutil.copyfileobj(src, dst, 1 << 20)
    except UnicodeDecodeError as err:
        raise _reject_one(
            name,
            f"byte {err.object[err.start : err.start + 1]!r} is not valid {encoding}; "
            "check the file's encoding",
        ) from None
    return target


def _csv_header(path: Path, name: str, delimiter: str | None) -> tuple[list[str], str]:
    """The first record's fields and the delimiter (from the header line unless given)."""
    with path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="") as f:
        first_line = f.readline()
        if not first_line.strip():
            if not f.read(1 << 16).strip():
                raise _reject_one(name, "file is empty")
            raise _reject_one(name, "row 1 must be the header, but it is empty", row=1)
        if delimiter is None:
            delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
        f.seek(0)
        # The csv module, not the line, so that a quoted header spanning lines stays one record.
        try:
            header = next(csv.reader(f, delimiter=delimiter))
        except csv.Error as err:
            # An opening quote that is never closed swallows the file into one field, which
            # the csv module refuses past its field size limit: a header it cannot read.
            raise _reject_one(
                name, f"row 1 (the header) cannot be read: {err}; check its quotes", row=1
            ) from None
    if any("\udc80" <= ch <= "\udcff" for cell in header for ch in cell):
        raise _reject_one(
            name,
            "not valid UTF-8: name the file's encoding (cp1251 or latin-1)",
            row=1,
        )
    return header, delimiter


_UTF8_BOM = b"\xef\xbb\xbf"
_LF, _CR, _QUOTE = 0x0A, 0x0D, 0x22
_SCAN_CHUNK = 1 << 22
_CF_LOW = np.array([low for low, _ in _FORMAT_CHARACTERS])
_CF_HIGH = np.array([high for _, high in _FORMAT_CHARACTERS])
_CF_FIRST_BYTES = np.zeros(256, dtype=bool)
_CF_FIRST_BYTES[[chr(c).encode()[0] for lo, hi in _FORMAT_CHARACTERS for c in range(lo, hi + 1)]] = True
"""The first UTF-8 bytes of the format characters: 0xC2 (U+00AD) and bytes from 0xD8 up, so
Latin, Greek and Cyrillic letters (0xC3–0xD1) are never decoded by the scan."""


@dataclass(frozen=True)
class _Line:
    """A record longer than :data:`MAX_LINE_BYTES`: its row, size in bytes and first byte."""

    row: int
    size: int
    start: int


@dataclass(frozen=True)
class _ByteScan:
    controls: bool
    """A control character, a BOM or another format character past the first bytes: the
    per-cell rule must run."""
    ascii: bool
    """Every byte is ASCII: a cell can only start or end with U+0020 among the spaces trimmed."""
    records: int = 0
    """Data records (after the header; blank lines, which DuckDB skips, left out)."""
    plain_quotes: bool = True
    """Every quote opens a field, closes one or is doubled inside one, so ``records`` and
    ``long_lines`` follow the quotes as DuckDB does.  False when a quote stands inside an
    unquoted field (``5" screen``, which DuckDB reads as text): :func:`_walk_records` then
    counts again before anything is concluded from them."""
    long_lines: tuple[_Line, ...] = ()
    """Records longer than :data:`MAX_LINE_BYTES` (the first :data:`MAX_PROBLEMS`)."""


def _has_format_character(x: np.ndarray) -> bool:
    """Whether UTF-8 bytes ``x`` (three zero bytes at the end) hold a format character."""
    lead = np.flatnonzero((x[:-3] >= 0xD8) | (x[:-3] == 0xC2))
    lead = lead[_CF_FIRST_BYTES[x[lead]]]
    if not len(lead):
        return False
    b0, b1, b2, b3 = (x[lead + k].astype(np.int64) & m for k, m in enumerate((255, 63, 63, 63)))
    code = np.where(
        b0 < 0xE0,
        (b0 & 0x1F) << 6 | b1,
        np.where(b0 < 0xF0, (b0 & 0x0F) << 12 | b1 << 6 | b2, (b0 & 0x07) << 18 | b1 << 12 | b2 << 6 | b3),
    )
    i = np.searchsorted(_CF_LOW, code, side="right") - 1
    return bool(np.any((i >= 0) & (code <= _CF_HIGH[i])))


def _holds_controls(chunk: bytes, a: np.ndarray, line_feeds: int, overlap: bytes) -> tuple[bool, bool]:
    """(control or format character, non-ASCII byte) in ``chunk`` (``a``: its bytes as an
    array); ``overlap``: the bytes before it, for a character split across chunks."""
    controls = False
    low = np.count_nonzero(a < 0x20)
    if low and low != line_feeds:
        # tab, line feed and carriage return are the only allowed bytes below 0x20
        allowed = sum(int(np.count_nonzero(a == b)) for b in (0x09, 0x0A, 0x0D))
        controls = int(low) != allowed
    if not np.count_nonzero(a >= 0x7F):
        return controls, False
    if controls or np.count_nonzero(a == 0x7F):
        return True, True
    padded = np.frombuffer(overlap + chunk + b"\0\0\0", dtype=np.uint8)
    return _has_format_character(padded), True


class _Records:
    """Counts a CSV file's records chunk by chunk, as DuckDB splits them.

    A record ends at a line break outside quotes (LF; CR in a file without LF); a quote toggles
    "inside", which is exact while every quote opens, closes or doubles (``plain``).  Records
    of size 0 are blank lines.  Record ``k`` (from 1, blank lines included) is row ``k``.
    """

    def __init__(self, delimiter: str, line_break: int, start: int) -> None:
        self.edges = np.array([ord(delimiter), _LF, _CR, _QUOTE], dtype=np.uint8)
        self.line_break = line_break
        self.inside = 0
        self.start = start
        """Where the current record starts (a byte offset in the file)."""
        self.ended = self.blank = 0
        self.plain = True
        self.long: list[_Line] = []
        self.ends = np.empty(_SCAN_CHUNK, dtype=bool)
        self.pairs = np.empty(_SCAN_CHUNK, dtype=bool)
        self.last = line_break
        """The byte before the chunk (before the file: a line start)."""

    def feed(self, chunk: bytes, a: np.ndarray, base: int) -> int:
        """Take ``chunk`` (``a``: as an array; at byte ``base`` of the file); returns its count
        of line feeds."""
        if not self.inside and len(a) <= MAX_LINE_BYTES and chunk.find(b'"') < 0:
            return self._feed_unquoted(chunk, a, base)
        breaks = np.flatnonzero(a == self.line_break)
        quotes = np.flatnonzero(a == _QUOTE)
        if len(quotes):
            if self.plain:
                self._check_quotes(a, quotes)
            ends = breaks[((np.searchsorted(quotes, breaks) + self.inside) & 1) == 0]
            self.inside = (self.inside + len(quotes)) & 1
        else:
            ends = breaks[: 0 if self.inside else len(breaks)]
        if len(ends):
            self._ended(a, base, ends)
        self.last = int(a[-1])
        return len(breaks) if self.line_break == _LF else 0

    def _feed_unquoted(self, chunk: bytes, a: np.ndarray, base: int) -> int:
        """A chunk without quotes, outside quotes (the common one): every line break ends a
        record, and only the first can end one begun in an earlier chunk — the only record that
        can be longer than the chunk (itself no longer than the limit), so the only size looked
        at."""
        brk = bytes([self.line_break])
        first = chunk.find(brk)
        if first < 0:
            self.last = int(a[-1])
            return 0
        # Into buffers kept from chunk to chunk: a fresh 4 MB array per step costs more in page
        # faults than the comparison itself.
        ends = np.equal(a, self.line_break, out=self.ends[: len(a)])
        pairs = self.pairs[: len(a) - 1]
        count = int(np.count_nonzero(ends))
        before = int(a[first - 1]) if first else self.last
        size = base + first - self.start - (self.line_break == _LF and before == _CR)
        if size > MAX_LINE_BYTES and len(self.long) < MAX_PROBLEMS:
            self.long.append(_Line(self.ended + 1, size, self.start))
        self.blank += (size <= 0) + int(np.count_nonzero(np.logical_and(ends[1:], ends[:-1], out=pairs)))
        if self.line_break == _LF and chunk.find(b"\r") >= 0:
            # CR LF blank lines past the first line break (that one's size says it)
            crlf = np.logical_and(ends[2:], ends[:-2], out=pairs[1:])
            self.blank += int(np.count_nonzero(crlf & (a[1:-1] == _CR)))
        self.ended += count
        self.start = base + chunk.rfind(brk) + 1
        self.last = int(a[-1])
        return count if self.line_break == _LF else 0

    def _check_quotes(self, a: np.ndarray, quotes: np.ndarray) -> None:
        """Outside a field a quote must follow a field's edge, inside one precede it (or be
        doubled); at a chunk's end the next byte is not looked at."""
        before = np.where(quotes > 0, a[quotes - 1], self.last)
        after = np.where(quotes + 1 < len(a), a[np.minimum(quotes + 1, len(a) - 1)], _QUOTE)
        opening = ((np.arange(len(quotes)) + self.inside) & 1) == 0
        edge = np.where(opening, before, after)
        self.plain = bool(np.isin(edge, self.edges).all())

    def _ended(self, a: np.ndarray, base: int, ends: np.ndarray) -> None:
        starts = np.empty_like(ends)
        starts[0] = self.start - base
        starts[1:] = ends[:-1] + 1
        sizes = ends - starts
        if self.line_break == _LF:
            sizes -= np.where(ends > 0, a[ends - 1], self.last) == _CR
        self.blank += int(np.count_nonzero(sizes <= 0))
        for k in np.flatnonzero(sizes > MAX_LINE_BYTES)[: MAX_PROBLEMS - len(self.long)]:
            self.long.append(_Line(self.ended + int(k) + 1, int(sizes[k]), base + int(starts[k])))
        self.ended += len(ends)
        self.start = base + int(ends[-1]) + 1

    def finish(self, size: int, *, controls: bool, ascii_only: bool) -> _ByteScan:
        """The scan of a file of ``size`` bytes (a last record may lack its line break)."""
        ended, tail = self.ended, size - self.start
        if tail > 0:
            ended += 1
            if tail > MAX_LINE_BYTES and len(self.long) < MAX_PROBLEMS:
                self.long.append(_Line(ended, tail, self.start))
        return _ByteScan(
            controls=controls,
            ascii=ascii_only and not controls,
            records=max(ended - self.blank - 1, 0),
            plain_quotes=self.plain,
            long_lines=tuple(self.long),
        )


def _scan_bytes(path: Path, delimiter: str = ",") -> _ByteScan:
    """One pass over the bytes of a UTF-8 file: control and format characters, non-ASCII
    bytes, and its records (how many, which are too long).

    Counting bytes with NumPy runs at memory speed, where a regex over every text cell would
    cost the clean file's single pass about 40 %: only a file that holds such a character pays
    for the cell rule.  The common chunk needs a few counts (bytes below 0x20, from 0x7F up)
    and the positions of its line breaks and quotes; only a chunk with more is looked at
    further.  The record count is what :func:`_lost_records` holds DuckDB's reading to.
    """
    controls, ascii_only, overlap, base = False, True, b"", 0
    with path.open("rb") as f:
        chunk = f.read(_SCAN_CHUNK)
        # A BOM at the very start is the file's encoding mark, not data.
        if chunk.startswith(_UTF8_BOM):
            chunk, base = chunk[len(_UTF8_BOM) :], len(_UTF8_BOM)
        line_break = _CR if b"\r" in chunk and b"\n" not in chunk else _LF
        records = _Records(delimiter, line_break, base)
        while chunk:
            a = np.frombuffer(chunk, dtype=np.uint8)
            line_feeds = records.feed(chunk, a, base)
            if not controls:
                found, non_ascii = _holds_controls(chunk, a, line_feeds, overlap)
                controls, ascii_only = found, ascii_only and not non_ascii
            overlap, base = chunk[-3:], base + len(chunk)
            chunk = f.read(_SCAN_CHUNK)
    return records.finish(base, controls=controls, ascii_only=ascii_only)


def _walk_records(path: Path, delimiter: str) -> tuple[int, tuple[_Line, ...]] | None:
    """Data records and over-long records as the csv module splits the file; None if it can't.

    Like DuckDB, the csv module reads a quote inside an unquoted field as text, which the byte
    scan cannot follow: this Python pass runs only for such a file, and only when the scan's
    count disagrees with DuckDB's or finds an over-long record.
    """
    consumed, ending = 0, 0

    def lines() -> Iterator[str]:
        nonlocal consumed, ending
        with path.open("rb") as f:
            for line in f:
                consumed += len(line)
                ending = 2 if line.endswith(b"\r\n") else int(line.endswith(b"\n"))
                yield line.decode("utf-8", "surrogateescape")

    records, start, long = 0, 0, []
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, path.stat().st_size + 1))
    try:
        for row, fields in enumerate(csv.reader(lines(), delimiter=delimiter), 1):
            size = consumed - start - ending
            if size > MAX_LINE_BYTES and len(long) < MAX_PROBLEMS:
                long.append(_Line(row, size, start))
            records += bool(fields)
            start = consumed
    except csv.Error:
        return None
    finally:
        csv.field_size_limit(limit)
    return max(records - 1, 0), tuple(long)


def _long_line_problem(path: Path, name: str, line: _Line) -> Problem:
    with path.open("rb") as f:
        f.seek(line.start)
        head = f.read(80).decode("utf-8", "replace").strip()
    return Problem(
        name,
        line.row,
        None,
        head + "…",
        f"line {line.row} is {line.size / 1e6:.1f} MB ({line.size:,} bytes); the limit is "
        f"{MAX_LINE_BYTES / 1e6:g} MB ({MAX_LINE_BYTES:,} bytes) a line",
    )


def _counted_records(path: Path, name: str, delimiter: str, scan: _ByteScan) -> tuple[int, bool]:
    """The file's data records and whether the count is exact; a record longer than
    :data:`MAX_LINE_BYTES` rejects the file, naming its row (DuckDB would skip it unseen)."""
    records, exact, long = scan.records, scan.plain_quotes, scan.long_lines
    if long and not exact:
        walked = _walk_records(path, delimiter)
        if walked is not None:
            (records, long), exact = walked, True
    if long:
        raise _Rejected([_long_line_problem(path, name, line) for line in long])
    return records, exact


def _lost_records(source: _Source, read: int) -> list[Problem]:
    """Nothing lost: the file's own count of records must equal the rows DuckDB read plus the
    rows it rejected (``read``), else the file is rejected."""
    if source.csv_path is None or source.records is None:
        return []
    if read != source.records and not source.records_exact:
        walked = _walk_records(source.csv_path, source.delimiter)
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


def _csv_source(path: Path, name: str, delimiter: str | None) -> _Source:
    header, delimiter = _csv_header(path, name, delimiter)
    scan = _scan_bytes(path, delimiter)
    records, exact = _counted_records(path, name, delimiter, scan)
    params = _Params("s")
    columns = {c: "VARCHAR" for c in _positions(len(header))}
    from_sql = (
        f"read_csv({params(str(path))}, header = true, auto_detect = false, "
        f"columns = {params(columns)}, delim = {params(delimiter)}, quote = '\"', "
        f"escape = '\"', max_line_size = {params(_DUCKDB_LINE_BYTES)}, "
        f"buffer_size = {params(_CSV_BUFFER_BYTES)}, store_rejects = true, "
        f"rejects_table = '{_REJECTS}', rejects_scan = '{_REJECT_SCANS}')"
    )
    return _Source(
        name,
        header,
        from_sql,
        params.values,
        delimiter,
        csv_path=path,
        may_hold_controls=scan.controls,
        ascii_only=scan.ascii,
        records=records,
        records_exact=exact,
    )


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


def _over_limit(name: str, what: str, seen: str, limit: str, variable: str) -> _Rejected:
    return _reject_one(
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
        raise _reject_one(name, f"not a readable Excel workbook: {err}") from None


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


def _xlsx_to_csv(path: Path, name: str, target: Path, limits: XlsxLimits | None = None) -> Path:
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
            raise _reject_one(name, f"not a readable Excel workbook: {err}") from None
        try:
            if len(book.sheetnames) != 1:
                raise _reject_one(
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


def _described(
    con: duckdb.DuckDBPyConnection, relation: str, params: dict[str, object]
) -> list[tuple[str, str]]:
    """Column names and SQL types of one of the fixed typed relations (:data:`_DESCRIBE`)."""
    return [(row[0], row[1]) for row in con.execute(_DESCRIBE[relation], params).fetchall()]


def _typed_source(
    name: str,
    header: list[str],
    described: list[tuple[str, str]],
    relation: str,
    params: dict[str, object],
) -> _Source:
    """A typed relation (Parquet, DataFrame) with every column rendered as text."""
    texts = []
    for col, (_, sql_type) in zip(_positions(len(header)), described, strict=True):
        if sql_type in _FLOAT_TYPES or sql_type.startswith("DECIMAL"):
            # Whole floats (an integer column that held a NaN) read back as "7", not "7.0";
            # NaN and infinities stay text the number rules refuse (a Parquet file's are
            # rejected first, by _parquet_problems). TRY_CAST: DuckDB may evaluate the THEN
            # branch for a whole vector, and CAST(NaN AS BIGINT) is an error.
            texts.append(
                f"CASE WHEN isfinite({col}) AND {col} = trunc({col}) AND abs({col}) < 1e15 "
                f"THEN CAST(TRY_CAST({col} AS BIGINT) AS VARCHAR) ELSE CAST({col} AS VARCHAR) "
                f"END AS {col}"
            )
        else:
            texts.append(f"CAST({col} AS VARCHAR) AS {col}")
    aliases = ", ".join(_positions(len(header)))
    from_sql = f"(SELECT {', '.join(texts)} FROM {relation} AS src({aliases}))"
    return _Source(name, header, from_sql, params)


_FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")
_PARQUET_ROWS = "read_parquet($path, file_row_number = true)"
"""The Parquet file with each row's position in it (``file_row_number``, from 0) last."""
_NOT_FINITE = "must be a finite number"
"""The rule for NaN and infinities (the same words as the CSV rule for non-finite numbers)."""
_EXPECTED = {
    "id": "text",
    "text": "text",
    "choice": "text",
    "integer": "a number",
    "number": "a number",
    "month": "a month",
    "timestamp": "a date/time",
}


def _nested_or_binary(sql_type: str) -> str | None:
    """The Parquet kind of a column no contract column may read (nested or binary), else None."""
    if sql_type == "BLOB":
        return "BINARY"
    if sql_type.endswith("]"):
        return "LIST"
    for kind in ("STRUCT", "MAP", "UNION"):
        if sql_type.startswith(kind + "("):
            return kind
    return None


def _parquet_problems(
    con: duckdb.DuckDBPyConnection,
    source: _Source,
    described: list[tuple[str, str]],
    params: dict[str, object],
) -> list[Problem]:
    """A contract column of a nested or binary type, and every NaN or infinity in one.

    Rendered as text, a LIST, STRUCT or MAP value became ``[a]`` or ``{'x': 1}`` and a BINARY
    one escaped bytes, silently; a NaN gave DuckDB's raw cast error.  Header problems are
    left to the load, which reports them.
    """
    try:
        dataset, positions, _ = _recognise(source)
    except _Rejected:
        return []
    problems = []
    for column in dataset.columns:
        if column.name not in positions:
            continue
        sql_type = described[positions[column.name]][1]
        kind = _nested_or_binary(sql_type)
        if kind is not None:
            expected = _EXPECTED[column.kind]
            problems.append(
                Problem(
                    source.name,
                    1,
                    column.name,
                    sql_type,
                    f"a {kind} column in the Parquet file, where {column.name} must hold "
                    f"{expected}; write it as a plain "
                    f"{'string' if expected == 'text' else expected.split()[-1]} column",
                )
            )
        elif sql_type in _FLOAT_TYPES:
            problems += _non_finite(con, source, column.name, positions[column.name], params)
    problems.sort(key=lambda p: (p.row or 0, p.column or ""))
    return problems[:MAX_PROBLEMS]


def _non_finite(
    con: duckdb.DuckDBPyConnection,
    source: _Source,
    column: str,
    position: int,
    params: dict[str, object],
) -> list[Problem]:
    """The first rows (up to the cap) whose value in the column at ``position`` is not finite.

    An aggregate's FILTER, not a WHERE: DuckDB 2.0 pushes a WHERE into the Parquet reader,
    whose row-group statistics leave NaN out, and the rows holding NaN are skipped unread.
    """
    aliases = ", ".join(_positions(len(source.header)))
    c = f"c{position}"
    (found,) = con.execute(
        f"SELECT min(struct_pack(r := file_row_number, v := {c}), {MAX_PROBLEMS}) "
        f"FILTER (WHERE NOT isfinite({c})) FROM {_PARQUET_ROWS} AS src({aliases})",
        params,
    ).fetchone()
    return [
        Problem(
            source.name,
            int(hit["r"]) + 2,
            column,
            "NaN" if math.isnan(hit["v"]) else ("inf" if hit["v"] > 0 else "-inf"),
            _NOT_FINITE,
        )
        for hit in found or []
    ]


def _parquet_source(con: duckdb.DuckDBPyConnection, path: Path, name: str) -> _Source:
    params: dict[str, object] = {"path": str(path)}
    try:
        described = _described(con, _PARQUET, params)
    except duckdb.Error as err:
        raise _reject_one(name, f"not a readable Parquet file: {err}") from None
    source = _typed_source(name, [column for column, _ in described], described, _PARQUET, params)
    problems = _parquet_problems(con, source, described, params)
    if problems:
        raise _Rejected(problems)
    return source


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
    """The file's kind (``_sniff_kind``) once it exists, is not empty and not too large."""
    if not path.is_file():
        raise _reject_one(name, f"file does not exist: {path}")
    size = path.stat().st_size
    if size > max_bytes:
        raise _reject_one(name, f"file is larger than {max_bytes / 1e6:g} MB ({size / 1e6:.1f} MB)")
    if size == 0:
        raise _reject_one(name, "file is empty")
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
        return PreparedFile(path, name, kind, _xlsx_to_csv(path, name, Path(sheet), limits))
    except _Rejected as rejected:
        return PreparedFile(path, name, "", problems=tuple(rejected.problems))


def _open_file(
    con: duckdb.DuckDBPyConnection,
    prepared: PreparedFile,
    *,
    encoding: str,
    delimiter: str | None,
    tmp: Path,
) -> _Source:
    if prepared.problems:
        raise _Rejected(list(prepared.problems))
    path, name = prepared.path, prepared.name
    if prepared.kind == "parquet":
        return _parquet_source(con, path, name)
    if prepared.kind == "xlsx" and prepared.sheet is not None:
        return _csv_source(prepared.sheet, name, ",")
    with path.open("rb") as f:
        start = f.read(2)
    if start in (b"\xff\xfe", b"\xfe\xff"):
        # Excel's "Unicode text" export; naming cp1251 or latin-1 would not help, so say so.
        raise _reject_one(
            name,
            "the file is UTF-16 (Excel's \"Unicode text\"); save it as CSV UTF-8",
            row=1,
        )
    if encoding != "utf-8":
        path = _transcode(path, encoding, tmp / "utf8.csv", name)
    return _csv_source(path, name, delimiter)


# --- scratch folders: temporary files removed on every way out ----------------------------

SCRATCH_STALE_SECONDS: float = 60.0
"""A scratch folder this old whose owner is gone is removed by the next run."""


def scratch_root(database: str | Path) -> Path:
    """Where loads into ``database`` keep temporary files: ``uploads`` next to the file (the
    folder the app's sandboxed connections may read)."""
    return Path(database).absolute().parent / "uploads"


@contextmanager
def scratch_folder(root: Path) -> Iterator[Path]:
    """A private folder under ``root`` for one run's temporary files, removed when it ends.

    An exception, Ctrl-C and (in :func:`run_cli`) SIGTERM unwind through here, so the folder
    goes.  A process killed outright (SIGKILL, power cut) cannot clean up: its owner holds an
    exclusive ``flock`` on the folder's ``.lock`` for as long as it runs, the kernel drops it
    when the process dies, and every new run first removes the unlocked folders of such runs.
    """
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    _remove_stale(root)
    folder = Path(tempfile.mkdtemp(prefix="scratch-", dir=root))
    lock = (folder / ".lock").open("wb")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        lock.close()


def _remove_stale(root: Path) -> None:
    """Remove the scratch folders under ``root`` of runs that ended without cleaning up.

    A folder younger than :data:`SCRATCH_STALE_SECONDS` is left alone: its owner may not
    have taken its lock yet.
    """
    for folder in root.glob("scratch-*"):
        try:
            if time.time() - folder.stat().st_mtime < SCRATCH_STALE_SECONDS:
                continue
            with (folder / ".lock").open("rb") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                shutil.rmtree(folder, ignore_errors=True)
        except (BlockingIOError, FileNotFoundError, NotADirectoryError):
            continue  # alive, gone already, or never locked (killed before its lock)


@contextmanager
def _temporary(scratch: Path | None) -> Iterator[Path]:
    """A temporary folder inside ``scratch`` (else Python's temp folder), removed after."""
    with tempfile.TemporaryDirectory(prefix="ingest-", dir=scratch) as tmp:
        yield Path(tmp)


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """In this block SIGTERM raises ``SystemExit(143)``, so cleanup runs before the process
    ends: ``with`` blocks remove temporary files and a load's transaction rolls back (DuckDB
    checks for signals while a statement runs).  Only the main thread can handle signals."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        store.print_to_stderr("error: stopped by SIGTERM; the file in progress was not stored")
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# --- recognising the header --------------------------------------------------------------


def _recognise(source: _Source) -> tuple[Dataset, dict[str, int], list[str]]:
    """The dataset, each contract column's position in the file, and the ignored columns."""
    name = source.name
    names = [normalise_header(h) for h in source.header]
    if not any(names):
        raise _reject_one(name, "file is empty")
    seen: dict[str, int] = {}
    problems = []
    for i, col in enumerate(names):
        if col and col in seen:
            problems.append(
                Problem(
                    name,
                    1,
                    col,
                    source.header[i],
                    f"duplicate column name (columns {seen[col] + 1} and {i + 1})",
                )
            )
        seen.setdefault(col, i)
    if problems:
        raise _Rejected(problems)
    matches = [d for d in DATASETS.values() if set(d.required) <= set(names)]
    if len(matches) > 1:
        raise _reject_one(
            name,
            "the columns fit several datasets ("
            + ", ".join(d.name for d in matches)
            + "); upload one dataset per file",
            row=1,
        )
    if not matches:
        best, missing = closest(names)
        raise _Rejected(
            [
                Problem(
                    name,
                    1,
                    col,
                    None,
                    f"unknown file shape: closest dataset is {best.name}, which requires "
                    f"this column (missing: {', '.join(missing)})",
                )
                for col in missing
            ]
        )
    dataset = matches[0]
    positions = {c: seen[c] for c in dataset.column_names if c in seen}
    ignored = [
        source.header[i].strip() or f"(column {i + 1} without a name)"
        for i, col in enumerate(names)
        if col not in positions
    ]
    return dataset, positions, ignored


# --- staging: trimmed text and typed value of every contract column ----------------------


def _typed_expr(
    column: Column,
    t: str,
    p: _Params,
    *,
    date_format: DateFormat | None,
    time_zone: str,
    decimal_comma: bool,
) -> str:
    """SQL for the typed value of raw text ``t``; NULL when it is not exactly readable."""
    kind = column.kind
    if kind in ("id", "text"):
        return t
    if kind == "choice":
        return f"CASE WHEN list_contains({p(list(column.choices or ()))}, lower({t})) THEN lower({t}) END"
    if kind == "integer":
        return f"CASE WHEN regexp_full_match({t}, {p(_INTEGER)}) THEN try_cast({t} AS BIGINT) END"
    if kind == "number":
        if decimal_comma:
            return (
                f"CASE WHEN regexp_full_match({t}, {p(_NUMBER_COMMA)}) "
                f"THEN try_cast(replace({t}, ',', '.') AS DOUBLE) END"
            )
        return (
            f"CASE WHEN regexp_full_match({t}, {p(_NUMBER_POINT)}) THEN try_cast({t} AS DOUBLE) END"
        )
    if kind == "month":
        return (
            f"CASE WHEN regexp_full_match({t}, {p(_MONTH)}) THEN try_cast({t} || '-01' AS DATE) END"
        )
    other = ""
    if date_format is not None:
        other = (
            f" WHEN regexp_full_match({t}, {p(date_format.pattern)}) "
            f"THEN try_strptime({t}, {p(list(date_format.formats))})"
        )
    # Naive first: it is the common case, and the two patterns exclude each other (a zoned
    # value ends in Z or an offset), so the order changes no value, only the regex work.
    return (
        f"CASE WHEN regexp_full_match({t}, {p(_ISO_NAIVE)}) THEN try_cast({t} AS TIMESTAMP) "
        f"WHEN regexp_full_match({t}, {p(_ISO_ZONED)}) "
        f"THEN timezone({p(time_zone)}, try_cast({t} AS TIMESTAMPTZ))"
        f"{other} END"
    )


def _stage(
    con: duckdb.DuckDBPyConnection,
    source: _Source,
    dataset: Dataset,
    positions: dict[str, int],
    *,
    date_format: DateFormat | None,
    time_zone: str,
) -> int:
    """Create the full staging table (one pass over the file); returns its row count.

    Text and typed value of every column: what :func:`_validate` needs to report problems.
    """
    p = _Params()
    raw, typed = _stage_columns(
        source, dataset, positions, p, date_format=date_format, time_zone=time_zone
    )
    if source.csv_path is not None:
        _drop_rejects(con)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_STAGE} AS SELECT *, {', '.join(typed)} "
        f"FROM (SELECT {', '.join(raw)} FROM {source.from_sql})",
        p.values,
    )
    return con.execute("SELECT count(*) FROM ingest_stage").fetchone()[0]


def _drop_rejects(con: duckdb.DuckDBPyConnection) -> None:
    """Forget the previous read's rejected rows (DuckDB appends to its rejects tables)."""
    con.execute("DROP TABLE IF EXISTS temp.ingest_reject_errors")
    con.execute("DROP TABLE IF EXISTS temp.ingest_reject_scans")


def _trimmed(c: str, ascii_only: bool) -> str:
    """SQL for cell ``c`` trimmed, empty → NULL.

    DuckDB's ``trim`` removes U+0020 and the Unicode space separators (U+00A0, U+2000…, not
    tabs).  In a file of ASCII bytes only U+0020 can occur, so trim() runs only on a cell that
    starts or ends with one: trimming every cell cost about a fifth of a clean file's load, and
    ``prefix``/``suffix`` are byte compares.
    """
    if ascii_only:
        return (
            f"CASE WHEN prefix({c}, ' ') OR suffix({c}, ' ') THEN NULLIF(trim({c}), '') "
            f"ELSE NULLIF({c}, '') END"
        )
    return f"NULLIF(trim({c}), '')"


def _stage_columns(
    source: _Source,
    dataset: Dataset,
    positions: dict[str, int],
    p: _Params,
    *,
    date_format: DateFormat | None,
    time_zone: str,
) -> tuple[list[str], list[str]]:
    """The trimmed-text (``t_*``) and typed (``v_*``, with ``v_month``) column expressions."""
    p.values.update(source.params)
    raw, typed = [], []
    for column in dataset.columns:
        t = _q("t_" + column.name)
        if column.name in positions:
            raw.append(f"{_trimmed(f'c{positions[column.name]}', source.ascii_only)} AS {t}")
        else:
            raw.append(f"NULL::VARCHAR AS {t}")
        expr = _typed_expr(
            column,
            t,
            p,
            date_format=date_format,
            time_zone=time_zone,
            decimal_comma=source.decimal_comma,
        )
        typed.append(f"CAST({expr} AS {column.sql_type}) AS {_q('v_' + column.name)}")
    if dataset.event:
        typed.append(
            f"CAST(date_trunc('month', {_q('v_' + dataset.month_column)}) AS DATE) AS \"v_month\""
        )
    return raw, typed


class _NotClean(Exception):
    """The fast load found something wrong; it rolled back and the full path reports it."""


_BROKEN_ROW = "a row breaks a rule of the contract"
"""The fast load's error text (a constant): a broken row aborts its INSERT."""


def _load_direct(
    con: duckdb.DuckDBPyConnection,
    source: _Source,
    dataset: Dataset,
    positions: dict[str, int],
    result: IngestResult,
    user: str | None,
    *,
    date_format: DateFormat | None,
    date_format_name: str,
    time_zone: str,
    replace_all: bool,
) -> None:
    """The fast path: load a clean file straight into its table in one transaction.

    One ``INSERT … SELECT`` reads the file and writes the typed values into the table (the
    stored table is the only copy made: staging first and copying after cost as much again).
    A row that breaks any rule aborts the INSERT — its first column is ``error(…)`` for such a
    row — and so does DuckDB on a row it cannot split.  Still inside the transaction: ragged
    rows (the rejects table), duplicate keys among the new rows (sorted 64-bit hashes of the
    key: distinct hashes prove distinct keys; fewer hashes than keys, a duplicate or very rarely
    a collision, counts as not clean) and an empty file are checked; then the log row is
    written, the stored rows of the file's slices kept for undo and deleted, and the
    transaction committed.

    The new rows are told from the stored ones by ``rowid``: rows appended inside a transaction
    get row ids above every stored row's.  Anything wrong raises :class:`_NotClean` (or a
    ``duckdb.Error``) after a ROLLBACK: nothing was changed, and the caller's full path stages
    the file again to report every problem exactly.
    """
    p = _Params()
    raw, typed = _stage_columns(
        source, dataset, positions, p, date_format=date_format, time_zone=time_zone
    )
    rules = _source_rules(source, dataset, positions, date_format=date_format_name)
    for rule in rules:
        p.values.update(rule.params)
    broken = " OR ".join(f"({r.violated})" for r in rules) or "false"
    targets = list(dataset.column_names) + (["month"] if dataset.event else [])
    values = [_q("v_" + c) for c in targets]
    values[0] = f"CASE WHEN {broken} THEN error({p(_BROKEN_ROW)}) ELSE {values[0]} END"
    table = _table(dataset)
    if source.csv_path is not None:
        _drop_rejects(con)
    con.execute("BEGIN TRANSACTION")
    try:
        (stored_until,) = con.execute(_LAST_ROWID[dataset.name]).fetchone()
        until = {"stored_until": stored_until}
        (result.rows,) = con.execute(
            f"INSERT INTO {table} ({', '.join(_q(c) for c in targets)}) "
            f"SELECT {', '.join(values)} FROM (SELECT *, {', '.join(typed)} "
            f"FROM (SELECT {', '.join(raw)} FROM {source.from_sql}))",
            p.values,
        ).fetchone()
        store.pause_for_test("staged")
        if result.rows == 0 and not replace_all:
            raise _NotClean("no data rows")
        if source.csv_path is not None:
            (ragged,) = con.execute(_COUNT_RAGGED).fetchone()
            if ragged:
                raise _NotClean("ragged rows")
            if _lost_records(source, result.rows):
                raise _NotClean("rows lost")
        for cols in _unique_sets(dataset):
            if not all(c in positions for c in cols):
                continue
            key = ", ".join(_q(c) for c in cols)
            present = " AND ".join(f"{_q(c)} IS NOT NULL" for c in cols)
            # Rows whose hash equals the previous one in hash order (a sort: about a third
            # faster at 10 M rows than count(DISTINCT …), whose hash table holds every key).
            (same,) = con.execute(
                f"SELECT count(*) FILTER (WHERE h = before) FROM (SELECT h, lag(h) OVER "
                f"(ORDER BY h) AS before FROM (SELECT hash({key}) AS h FROM {table} "
                f"WHERE {_NEW_ROWS} AND {present}))",
                until,
            ).fetchone()
            if same:
                raise _NotClean("duplicate keys")
        result.slices = _slices(con, dataset, f"{table} WHERE {_NEW_ROWS}", prefix="", params=until)
        if _many_departments(dataset, result.slices) or _unknown_departments(
            con, dataset, result.slices
        ):
            # The full path weighs them (_guard_departments, _warn_unknown_departments).
            raise _NotClean("departments to weigh")
        result.outcome = "accepted"
        result.message = _accepted_message(result, dataset, replace_all=replace_all)
        load_id = _log(con, result, user, _slices_text(result.slices))
        undo.keep_removed(
            con, dataset, load_id, slices=None if replace_all else _SLICES,
            stored_until=stored_until,
        )
        if replace_all:
            con.execute(_DELETE_STORED[dataset.name], until)
        else:
            match = " AND ".join(
                f"{table}.{_q(k)} = s.k{i}" for i, k in enumerate(dataset.slice_key)
            )
            con.execute(
                f"DELETE FROM {table} USING {_SLICES} AS s WHERE NOT ({table}.{_NEW_ROWS}) "
                f"AND {match}",
                until,
            )
        store.pause_for_test("deleted")
        store.pause_for_test("inserted")
        undo.prune(con)
        store.pause_for_test("before_commit")
        con.execute("COMMIT")
    except BaseException:
        _rollback(con)
        result.outcome, result.rows, result.slices, result.message = "rejected", 0, [], ""
        result.load_id = None
        raise
    store.pause_for_test("committed")


MAX_NEW_DEPARTMENTS: int = 1_000
"""More new departments than this in one file (names no stored row holds) is a warning, and
with ``ingest --strict`` a rejection: it is nearly always swapped columns (ids read as
departments), and every report and page then carries a line per id — a file of 200,000 such
departments made ``report`` pass 9.8 GB."""
_DEPARTMENT_EXAMPLES = 3


def _slice_departments(dataset: Dataset, slices: Sequence[tuple[str, ...]]) -> set[str]:
    at = dataset.slice_key.index("department")
    return {s[at] for s in slices}


def _many_departments(dataset: Dataset, slices: Sequence[tuple[str, ...]]) -> bool:
    """More departments in the file than may be new: only then are the stored ones looked up."""
    return len(_slice_departments(dataset, slices)) > MAX_NEW_DEPARTMENTS


def _guard_departments(
    con: duckdb.DuckDBPyConnection, dataset: Dataset, result: IngestResult, *, strict: bool
) -> None:
    """Warn about a file bringing more than :data:`MAX_NEW_DEPARTMENTS` new departments, or
    with ``strict`` reject it; runs before the load's transaction, so stored rows are the old."""
    if not _many_departments(dataset, result.slices):
        return
    stored = set(store.departments(con)) | {ALL_DEPARTMENTS_TARGET}
    new = sorted(_slice_departments(dataset, result.slices) - stored)
    if len(new) <= MAX_NEW_DEPARTMENTS:
        return
    examples = ", ".join(repr(d[:40]) for d in new[:_DEPARTMENT_EXAMPLES])
    text = (
        f"{len(new):,} new departments (no stored row names them), more than "
        f"{MAX_NEW_DEPARTMENTS:,} in one file, e.g. {examples}; check that the columns are "
        "not swapped"
    )
    if strict:
        raise _reject_one(
            result.file_name, f"{text} (--strict)", column="department", value=str(len(new))
        )
    result.warnings.append(text)
    result.message += f"; warning: {text}"


_UNKNOWN_EXAMPLES = 5
_UNSTORED_DEPARTMENTS = (
    "SELECT d FROM (SELECT DISTINCT unnest(CAST($names AS VARCHAR[])) AS d) AS named WHERE "
    + " AND ".join(
        f'NOT EXISTS (SELECT 1 FROM "{name}" WHERE "{name}".department = named.d)'
        for name in MONTH_DATASETS
    )
    + " ORDER BY d"
)
"""Of ``$names``, those that no row of any dataset with months names (fixed identifiers)."""


def _unknown_departments(
    con: duckdb.DuckDBPyConnection, dataset: Dataset, slices: Sequence[tuple[str, ...]]
) -> list[str]:
    """The departments a targets file names that no stored row of any dataset holds, sorted
    (``*``, all departments, is never unknown); none for other datasets."""
    if dataset.month_column is not None:  # only targets are not sliced by month
        return []
    named = sorted(_slice_departments(dataset, slices) - {ALL_DEPARTMENTS_TARGET})
    if not named:
        return []
    return [d for (d,) in con.execute(_UNSTORED_DEPARTMENTS, {"names": named}).fetchall()]


def _warn_unknown_departments(
    con: duckdb.DuckDBPyConnection, dataset: Dataset, result: IngestResult
) -> None:
    """A targets file naming departments without data is loaded, with a warning naming them:
    usually a typo, sometimes a department whose first files are still to come."""
    unknown = _unknown_departments(con, dataset, result.slices)
    if not unknown:
        return
    names = ", ".join(repr(d[:40]) for d in unknown[:_UNKNOWN_EXAMPLES])
    more = len(unknown) - _UNKNOWN_EXAMPLES
    plural = len(unknown) != 1
    text = (
        f"targets for {len(unknown):,} department{'s' if plural else ''} without any data: "
        f"{names}" + (f" and {more:,} more" if more > 0 else "")
        + " — check the spelling (the targets are stored, and show no data until "
        f"{'their' if plural else 'its'} files are loaded)"
    )
    result.warnings.append(text)
    result.message += f"; warning: {text}"


def _accepted_message(result: IngestResult, dataset: Dataset, *, replace_all: bool) -> str:
    return f"{result.rows} rows of {dataset.name} loaded; replaced " + (
        "the whole table" if replace_all else _slices_text(result.slices)
    )


_STRUCTURAL_RULES = {
    "MISSING COLUMNS": "too few values in the row",
    "TOO MANY COLUMNS": "too many values in the row",
    "UNQUOTED VALUE": "bad quoting",
    "UNTERMINATED QUOTES": "bad quoting",
    "LINE SIZE OVER MAXIMUM": f"line too long: the limit is {MAX_LINE_BYTES / 1e6:g} MB a line",
    "INVALID ENCODING": "not valid UTF-8: name the file's encoding (cp1251 or latin-1)",
}


def _structural_problems(con: duckdb.DuckDBPyConnection, source: _Source) -> list[Problem]:
    """Rows DuckDB could not split into the header's columns (they are not in the stage)."""
    if source.csv_path is None:
        return []
    rows = con.execute(
        f"SELECT line, column_name, error_type, csv_line, error_message FROM temp.{_REJECTS} "
        f"ORDER BY line"
    ).fetchall()
    problems, records = [], []
    for line, col, error_type, csv_line, message in rows:
        if line in records:
            continue
        records.append(line)
        column = None
        if col and col.startswith("c") and col[1:].isdigit() and int(col[1:]) < len(source.header):
            column = normalise_header(source.header[int(col[1:])])
        rule = f"{_STRUCTURAL_RULES.get(error_type, error_type.lower())} ({message})"
        problems.append(
            Problem(source.name, int(line), column, (csv_line or "").strip()[:200], rule)
        )
    source.rejected_records = records
    return problems


# --- rules ---------------------------------------------------------------------------------


@dataclass
class _Rule:
    column: str
    violated: str
    """SQL over the staging table, TRUE for a row that breaks the rule."""
    rule: str
    params: dict[str, object] = field(default_factory=dict)
    other: str | None = None
    """A second column whose text the report quotes (cross-column rules)."""


def _unreadable_rule(column: Column, date_format: str, decimal_comma: bool) -> str:
    kind = column.kind
    if kind == "timestamp":
        extra = "" if date_format == "ISO" else f" or {date_format}"
        others = [f for f in DATE_FORMATS if f != "ISO"]
        hint = (
            ""
            if date_format != "ISO"
            else f"; for another format name it ({', '.join(others[:-1])} or {others[-1]})"
        )
        return (
            f"not a valid date/time: ISO (2025-03-07, 2025-03-07T14:05[:00][Z|+01:00]){extra}{hint}"
        )
    if kind == "month":
        return "not a valid month written YYYY-MM"
    if kind == "integer":
        return "not a whole number (digits only, e.g. 4 not 4.0)"
    if kind == "number":
        if decimal_comma:
            return "not a number"
        return "not a number (use a decimal point; a decimal comma only in ;-delimited files)"
    return "not one of: " + ", ".join(column.choices or ())


_CONTROL_RULE = (
    "holds an invisible control character (such as NUL) or a byte-order mark (U+FEFF) or "
    "another format character (Unicode Cf: a zero-width space, a bidi control); remove it"
)


def _reserved_rules(column: Column, t: str, n: int) -> list[_Rule]:
    """A rule per reserved value of the column (``n``: rules so far, for parameter names)."""
    rules = []
    for value, reason in column.reserved:
        p = _Params(f"r{n + len(rules)}_")
        rules.append(_Rule(column.name, f"lower({t}) = {p(value.lower())}", reason, p.values))
    return rules


def _bounds(column: Column, dataset: Dataset) -> tuple[dt.date, dt.date, str, str] | None:
    """(latest, earliest, rule past latest, rule before earliest) for a dated column."""
    if column.kind == "timestamp" or column.name == dataset.month_column:
        latest = latest_date()
        after = f"more than {MAX_FUTURE_DAYS} days in the future (after {latest:%Y-%m-%d}); "
        before = f"before {EARLIEST_DATE:%Y-%m-%d}; check the year"
        if column.kind == "timestamp":
            return (
                dt.datetime.combine(latest, dt.time.max),
                dt.datetime.combine(EARLIEST_DATE, dt.time()),
                after + "check the year",
                before,
            )
        return latest, EARLIEST_DATE, after + "check the year", before
    if column.kind == "month":
        # Targets' months may lie years ahead, but not beyond what a route can draw.
        latest = latest_target_month()
        return (
            latest,
            EARLIEST_DATE,
            f"more than {MAX_TARGET_YEARS} years ahead (after {latest:%Y-%m}); check the year",
            f"before {EARLIEST_DATE:%Y-%m}; check the year",
        )
    return None


def _bound_rules(column: Column, dataset: Dataset, v: str, n: int) -> list[_Rule]:
    """The earliest and latest date or month a column may hold (none for other kinds)."""
    bounds = _bounds(column, dataset)
    if bounds is None:
        return []
    latest, earliest, after, before = bounds
    p, q = _Params(f"r{n}_"), _Params(f"r{n + 1}_")
    return [
        _Rule(column.name, f"{v} > {p(latest)}", after, p.values),
        _Rule(column.name, f"{v} < {q(earliest)}", before, q.values),
    ]


def _value_rules(
    column: Column, t: str, v: str, n: int, *, date_format: str, decimal_comma: bool
) -> list[_Rule]:
    """A value that cannot be read; for a timestamp an offset out of range, for a number a
    magnitude above :data:`schema.MAX_MAGNITUDE` (each cell breaks one of them at most)."""
    if column.kind in ("id", "text"):
        return []
    p = _Params(f"r{n}_")
    unreadable = f"{t} IS NOT NULL AND {v} IS NULL"
    rules = []
    if column.kind == "timestamp":
        offset = f"regexp_full_match({t}, {p(_OFFSET_OUT_OF_RANGE)})"
        rules.append(
            _Rule(
                column.name,
                f"{unreadable} AND {offset}",
                "the UTC offset is out of range: write Z or ±HH:MM with HH at most 14 and MM "
                "at most 59",
                p.values,
            )
        )
        unreadable += f" AND NOT {offset}"
    if column.kind == "number":
        unreadable = f"{t} IS NOT NULL AND ({v} IS NULL OR NOT isfinite({v}))"
        cap = _Params(f"r{n}c_")
        rules.append(
            _Rule(
                column.name,
                f"isfinite({v}) AND abs({v}) > {cap(MAX_MAGNITUDE)}",
                f"larger than {MAX_MAGNITUDE:g} in magnitude, the cap on any number; check "
                "the value",
                cap.values,
            )
        )
    rule = _unreadable_rule(column, date_format, decimal_comma)
    return [_Rule(column.name, unreadable, rule, p.values), *rules]


def _rules(
    dataset: Dataset,
    positions: dict[str, int],
    *,
    date_format: str,
    decimal_comma: bool,
    controls: bool = True,
) -> list[_Rule]:
    """Every row rule of the dataset that applies to the columns the file has.

    ``controls=False`` leaves out the control-character rule, for a file whose bytes were
    scanned and hold none.
    """
    rules: list[_Rule] = []
    for column in dataset.columns:
        name = column.name
        if name not in positions:
            continue
        t, v = _q("t_" + name), _q("v_" + name)
        if not column.allow_empty:
            rules.append(_Rule(name, f"{t} IS NULL", "required value is empty"))
        rules += _reserved_rules(column, t, len(rules))
        if controls and column.kind in ("id", "text"):
            p = _Params(f"r{len(rules)}_")
            rules.append(_Rule(name, f"regexp_matches({t}, {p(_CONTROL)})", _CONTROL_RULE, p.values))
        rules += _bound_rules(column, dataset, v, len(rules))
        rules += _value_rules(
            column, t, v, len(rules), date_format=date_format, decimal_comma=decimal_comma
        )
        if column.minimum is not None:
            p = _Params(f"r{len(rules)}_")
            op, sign = ("<=", ">") if column.exclusive_minimum else ("<", "≥")
            rules.append(
                _Rule(
                    name,
                    f"{v} {op} {p(column.minimum)}",
                    f"must be {sign} {column.minimum:g}",
                    p.values,
                )
            )
        if column.maximum is not None:
            p = _Params(f"r{len(rules)}_")
            rules.append(
                _Rule(name, f"{v} > {p(column.maximum)}", f"must be ≤ {column.maximum:g}", p.values)
            )
        if column.not_before is not None and column.not_before in positions:
            other = column.not_before
            op = "<=" if column.strictly_after else "<"
            if column.kind == "number":
                text = f"must be {'>' if column.strictly_after else '≥'} {other}"
            else:
                text = (
                    f"must be after {other}"
                    if column.strictly_after
                    else (f"must not be before {other}")
                )
            rules.append(_Rule(name, f"{v} {op} {_q('v_' + other)}", text, other=other))
        if column.max_months_after is not None and column.not_before in positions:
            other, most = column.not_before, column.max_months_after
            p = _Params(f"r{len(rules)}_")
            rules.append(
                _Rule(
                    name,
                    f"date_diff('month', {_q('v_' + other)}, {v}) > {p(most)}",
                    f"more than {most} months after {other}: a route spans at most {most} months",
                    p.values,
                    other=other,
                )
            )
        if column.not_after is not None and column.not_after in positions:
            other = column.not_after
            rules.append(
                _Rule(name, f"{v} > {_q('v_' + other)}", f"must be ≤ {other}", other=other)
            )
        if column.range_by is not None and column.range_by[0] in positions:
            by, ranges = column.range_by
            for key, (low, high) in ranges.items():
                p = _Params(f"r{len(rules)}_")
                rules.append(
                    _Rule(
                        name,
                        f"{_q('v_' + by)} = {p(key)} AND ({v} < {p(low)} OR {v} > {p(high)})",
                        f"a {key} {name} must be between {low} and {high}",
                        p.values,
                        other=by,
                    )
                )
    return rules


def _source_rules(
    source: _Source, dataset: Dataset, positions: dict[str, int], *, date_format: str
) -> list[_Rule]:
    """:func:`_rules` for this source's delimiter and byte scan (both staging passes)."""
    return _rules(
        dataset,
        positions,
        date_format=date_format,
        decimal_comma=source.decimal_comma,
        controls=source.may_hold_controls,
    )


def _unique_sets(dataset: Dataset) -> list[tuple[str, ...]]:
    sets = [(c.name,) for c in dataset.columns if c.unique]
    if dataset.unique_together:
        sets.append(dataset.unique_together)
    return sets


# --- row numbers ---------------------------------------------------------------------------


def _line_ending_fault(path: Path) -> tuple[int, str] | None:
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


def _file_rows(source: _Source, rowids: set[int]) -> dict[int, int]:
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


# --- validation ----------------------------------------------------------------------------


def _validate(
    con: duckdb.DuckDBPyConnection,
    source: _Source,
    dataset: Dataset,
    positions: dict[str, int],
    *,
    date_format: str,
) -> tuple[list[Problem], int]:
    """Every problem (up to the cap) and how many there are in all."""
    structural = _structural_problems(con, source)
    if source.csv_path is not None:
        (staged,) = con.execute(f"SELECT count(*) FROM {_STAGE}").fetchone()
        structural += _lost_records(source, staged + len(source.rejected_records))
    rules = _source_rules(source, dataset, positions, date_format=date_format)
    uniques = [cols for cols in _unique_sets(dataset) if all(c in positions for c in cols)]
    # count(*) FILTER, not count_if: DuckDB 2.0's count_if gives NULL when every input is NULL.
    counts = [f"count(*) FILTER (WHERE {r.violated})" for r in rules]
    for cols in uniques:
        key = ", ".join(_q("v_" + c) for c in cols)
        present = " AND ".join(f"{_q('v_' + c)} IS NOT NULL" for c in cols)
        counts.append(
            f"count(*) FILTER (WHERE {present}) - count(DISTINCT ({key})) FILTER (WHERE {present})"
        )
    params: dict[str, object] = {}
    for r in rules:
        params.update(r.params)
    totals = con.execute(f"SELECT {', '.join(counts)} FROM {_STAGE}", params).fetchone()
    total = len(structural) + sum(totals)
    if total == 0:
        return [], 0

    found: list[tuple[int, str, str | None, str, int | None]] = []
    for rule, count in zip(rules, totals, strict=False):
        if not count:
            continue
        other = f", {_q('t_' + rule.other)}" if rule.other else ", NULL"
        for rowid, value, other_value in con.execute(
            f"SELECT rowid, {_q('t_' + rule.column)}{other} FROM {_STAGE} "
            f"WHERE {rule.violated} ORDER BY rowid LIMIT {MAX_PROBLEMS}",
            rule.params,
        ).fetchall():
            text = (
                rule.rule if other_value is None else f"{rule.rule} ({rule.other} = {other_value})"
            )
            found.append((rowid, rule.column, value, text, None))
    for cols, count in zip(uniques, totals[len(rules) :], strict=True):
        if not count:
            continue
        key = ", ".join(_q("v_" + c) for c in cols)
        present = " AND ".join(f"{_q('v_' + c)} IS NOT NULL" for c in cols)
        label = cols[0] if len(cols) == 1 else "(" + ", ".join(cols) + ")"
        for rowid, first, value in con.execute(
            f"SELECT rowid, first, v FROM (SELECT rowid, min(rowid) OVER (PARTITION BY {key}) "
            f"AS first, concat_ws(' ', {', '.join(_q('t_' + c) for c in cols)}) AS v "
            f"FROM {_STAGE} WHERE {present}) WHERE rowid > first ORDER BY rowid "
            f"LIMIT {MAX_PROBLEMS}"
        ).fetchall():
            found.append((rowid, cols[0], value, f"duplicate {label}", first))
    rows = _file_rows(source, {f[0] for f in found} | {f[4] for f in found if f[4] is not None})
    problems = structural + [
        Problem(
            source.name,
            rows.get(rowid),
            column,
            "" if value is None else value,
            text if first is None else f"{text} (first in row {rows.get(first)})",
        )
        for rowid, column, value, text, first in found
    ]
    problems.sort(key=lambda p: (p.row or 0, p.column or ""))
    return problems[:MAX_PROBLEMS], total


# --- loading and the log -------------------------------------------------------------------


def _slices(
    con: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    rows: str = _STAGE,
    *,
    prefix: str = "v_",
    params: dict[str, object] | None = None,
) -> list[tuple[str, str]]:
    """The distinct slice keys of ``rows`` (the stage, or the new rows of the table; ``params``
    for its parameters), kept in the temp table the DELETE joins, and returned sorted as text."""
    keys = ", ".join(f"{_q(prefix + k)} AS k{i}" for i, k in enumerate(dataset.slice_key))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_SLICES} AS SELECT DISTINCT {keys} FROM {rows}", params
    )
    found = con.execute(_SORTED_SLICES).fetchall()
    return [
        tuple(v.strftime("%Y-%m") if isinstance(v, dt.date) else str(v) for v in row)
        for row in found
    ]


def _slices_text(slices: Sequence[tuple[str, ...]]) -> str:
    return "; ".join(" ".join(s) for s in slices)


def _slices_summary(slices: Sequence[tuple[str, ...]], *, listed: int = 6) -> str:
    """Every slice when there are few; else how many, over which months and departments."""
    if len(slices) <= listed:
        return "slices " + _slices_text(slices)
    firsts = sorted({s[0] for s in slices})
    seconds = {s[1] for s in slices}
    return (
        f"{len(slices)} slices ({len(firsts)} × {firsts[0]}…{firsts[-1]}, "
        f"{len(seconds)} × {', '.join(sorted(seconds)[:3])}{'…' if len(seconds) > 3 else ''})"
    )


def _log(
    con: duckdb.DuckDBPyConnection, result: IngestResult, user: str | None, slices: str
) -> int:
    """Write the file's ``upload_log`` entry; its id, also set as ``result.load_id``."""
    (result.load_id,) = con.execute(
        """INSERT INTO upload_log (uploaded_at, "user", file_name, dataset, slices, "rows",
                                   outcome, message)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
        [
            dt.datetime.now(dt.UTC).replace(tzinfo=None),
            user,
            result.file_name,
            result.dataset,
            slices,
            result.rows,
            result.outcome,
            result.message,
        ],
    ).fetchone()
    return result.load_id


def _load(
    con: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    result: IngestResult,
    user: str | None,
    *,
    replace_all: bool,
) -> None:
    """Replace the file's slices and log the upload, all in one transaction.

    The log entry comes first: its id marks the rows the DELETE removes, kept for undo
    (:func:`indicators.undo.keep_removed`) before they go.
    """
    table = _table(dataset)
    targets = list(dataset.column_names) + (["month"] if dataset.event else [])
    if replace_all:
        delete = f"DELETE FROM {table}"
    else:
        match = " AND ".join(f"{table}.{_q(k)} = s.k{i}" for i, k in enumerate(dataset.slice_key))
        delete = f"DELETE FROM {table} USING {_SLICES} AS s WHERE {match}"
    # store.pause_for_test: no-op unless $INDICATORS_TEST_PAUSE_AT names the point (crash tests).
    store.pause_for_test("staged")
    con.execute("BEGIN TRANSACTION")
    try:
        load_id = _log(con, result, user, _slices_text(result.slices))
        undo.keep_removed(con, dataset, load_id, slices=None if replace_all else _SLICES)
        con.execute(delete)
        store.pause_for_test("deleted")
        con.execute(
            f"INSERT INTO {table} ({', '.join(_q(c) for c in targets)}) "
            f"SELECT {', '.join(_q('v_' + c) for c in targets)} FROM {_STAGE}"
        )
        store.pause_for_test("inserted")
        undo.prune(con)
        store.pause_for_test("before_commit")
        con.execute("COMMIT")
    except BaseException:
        _rollback(con)
        result.load_id = None
        raise
    store.pause_for_test("committed")


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """ROLLBACK after a failed step of a load.  A COMMIT that could not write (a full disk)
    has ended the transaction already: its error, not "no transaction is active", is raised."""
    try:
        con.execute("ROLLBACK")
    except duckdb.TransactionException as exc:
        if "no transaction is active" not in str(exc):
            raise


def _reject(
    con: duckdb.DuckDBPyConnection,
    result: IngestResult,
    problems: list[Problem],
    total: int,
    user: str | None,
) -> IngestResult:
    result.outcome = "rejected"
    result.problems = problems
    result.slices = []
    # The outcome is said by whoever shows the message ("rejected: f.csv — …", the log's
    # outcome column), so the message itself does not repeat it.
    if total > len(problems):
        result.message = f"{total} problems (the first {len(problems)} listed); nothing was stored"
    elif len(problems) == 1:
        result.message = f"{problems[0].rule}; nothing was stored"
    else:
        result.message = f"{len(problems)} problems; nothing was stored"
    _log(con, result, user, "")
    return result


def _ingest_source(
    con: duckdb.DuckDBPyConnection,
    source: _Source,
    *,
    user: str | None,
    date_format: str,
    replace_all: bool,
    strict: bool = False,
) -> IngestResult:
    result = IngestResult(source.name, None, "rejected")
    try:
        dataset, positions, result.ignored_columns = _recognise(source)
        result.dataset = dataset.name
        time_zone = store.read_settings(con).time_zone
        try:
            _load_direct(
                con,
                source,
                dataset,
                positions,
                result,
                user,
                date_format=DATE_FORMATS[date_format],
                date_format_name=date_format,
                time_zone=time_zone,
                replace_all=replace_all,
            )
            return result
        except (_NotClean, duckdb.Error) as err:
            # Rolled back.  A full disk is not the file's fault: the command says so (exit 1);
            # otherwise the full path reads the file again and reports exactly.
            if store.is_disk_full(err):
                raise
        try:
            result.rows = _stage(
                con,
                source,
                dataset,
                positions,
                date_format=DATE_FORMATS[date_format],
                time_zone=time_zone,
            )
        except duckdb.Error as err:
            if store.is_disk_full(err):
                raise
            fault = _line_ending_fault(source.csv_path) if source.csv_path else None
            if fault is not None:
                raise _reject_one(
                    source.name,
                    f"{fault[1]}: the file mixes line endings; save it again with one "
                    "kind (CRLF or LF)",
                    row=fault[0],
                ) from None
            raise _reject_one(source.name, f"the file could not be read: {err}") from None
        problems, total = _validate(con, source, dataset, positions, date_format=date_format)
        if not problems and result.rows == 0 and not replace_all:
            problems, total = [Problem(source.name, None, None, None, "no data rows")], 1
        if problems:
            return _reject(con, result, problems, total, user)
        result.slices = _slices(con, dataset)
        result.outcome = "accepted"
        result.message = _accepted_message(result, dataset, replace_all=replace_all)
        _guard_departments(con, dataset, result, strict=strict)
        _warn_unknown_departments(con, dataset, result)
        try:
            _load(con, dataset, result, user, replace_all=replace_all)
        except duckdb.Error as err:
            if store.is_disk_full(err):
                raise
            result.outcome = "rejected"
            raise _reject_one(source.name, f"loading failed, nothing was stored: {err}") from None
        return result
    except _Rejected as rejected:
        return _reject(con, result, rejected.problems, len(rejected.problems), user)


def _check_options(encoding: str, date_format: str, delimiter: str | None) -> None:
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {ENCODINGS}, got {encoding!r}")
    if date_format not in DATE_FORMATS:
        raise ValueError(f"date_format must be one of {tuple(DATE_FORMATS)}, got {date_format!r}")
    if delimiter is not None and delimiter not in DELIMITERS:
        raise ValueError(f"delimiter must be one of {DELIMITERS}, got {delimiter!r}")


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    path: str | Path | PreparedFile,
    *,
    encoding: str = "utf-8",
    date_format: str = "ISO",
    delimiter: str | None = None,
    user: str | None = None,
    file_name: str | None = None,
    max_bytes: int = MAX_UPLOAD_BYTES,
    strict: bool = False,
    scratch: Path | None = None,
) -> IngestResult:
    """Validate one CSV/XLSX/Parquet file and, if it is clean, replace its slices.

    ``file_name`` is what reports and the log call the file (default: the path's name).
    ``path`` may be a :class:`PreparedFile` (its own name and checks then apply), so that a
    workbook was converted before ``con`` locked the database. With ``strict``, a file
    bringing more than :data:`MAX_NEW_DEPARTMENTS` new departments is rejected instead of
    loaded with a warning. Temporary copies go into ``scratch`` (default: Python's temp
    folder). Options that are not allowed values raise ``ValueError``; everything wrong with
    the file itself is a rejected :class:`IngestResult`.
    """
    _check_options(encoding, date_format, delimiter)
    # A private cursor keeps the staging tables and the transaction off the caller's connection.
    with con.cursor() as cur, _temporary(scratch) as tmp:
        prepared = path
        if not isinstance(prepared, PreparedFile):
            prepared = prepare_file(path, scratch=tmp, file_name=file_name, max_bytes=max_bytes)
        try:
            source = _open_file(cur, prepared, encoding=encoding, delimiter=delimiter, tmp=tmp)
        except _Rejected as rejected:
            result = IngestResult(prepared.name, None, "rejected")
            return _reject(cur, result, rejected.problems, len(rejected.problems), user)
        return _ingest_source(
            cur, source, user=user, date_format=date_format, replace_all=False, strict=strict
        )


def ingest_frame(
    con: duckdb.DuckDBPyConnection,
    frame: pd.DataFrame,
    *,
    file_name: str,
    user: str | None = None,
    replace_all: bool = False,
) -> IngestResult:
    """Validate and load a table of cells (e.g. the targets editor) like a file.

    Rows are numbered as in a file with a header (the first row is row 2). With
    ``replace_all`` the whole stored table of the dataset is replaced, and an empty frame
    clears it.
    """
    header = [str(c) for c in frame.columns]
    renamed = frame.set_axis(_positions(len(header)), axis=1)
    with con.cursor() as cur:
        if not header:
            result = IngestResult(file_name, None, "rejected")
            problems = [Problem(file_name, None, None, None, "file is empty")]
            return _reject(cur, result, problems, 1, user)
        cur.register(_FRAME, renamed)
        try:
            source = _typed_source(file_name, header, _described(cur, _FRAME, {}), _FRAME, {})
            return _ingest_source(
                cur, source, user=user, date_format="ISO", replace_all=replace_all
            )
        finally:
            cur.unregister(_FRAME)


# --- command line --------------------------------------------------------------------------


def format_result(result: IngestResult) -> str:
    """The lines the command line prints for one file.

    Each line is :func:`indicators.store.printable`: a control or format character in a file
    name, a header or a value (a line break, an ANSI escape, a bidi override) is shown escaped
    (``\\n``, ``\\x1b``, ``\\u202e``), so no name can forge a line or drive the terminal.
    """
    if result.accepted:
        lines = [
            f"accepted: {result.file_name} → {result.dataset}, {result.rows} row{'' if result.rows == 1 else 's'}, "
            f"{_slices_summary(result.slices)}"
        ]
    else:
        lines = [
            f"rejected: {result.file_name}"
            + (f" ({result.dataset})" if result.dataset else "")
            + f" — {result.message}"
        ]
        for p in result.problems:
            where = "" if p.row is None else f" row {p.row}"
            col = "" if p.column is None else f" column {p.column}"
            value = "" if p.value is None else f" value {p.value!r}"
            lines.append(f"  {p.file}{where}{col}{value}: {p.rule}")
    if result.ignored_columns:
        lines.append("  ignored columns: " + ", ".join(result.ignored_columns))
    return "\n".join(store.printable(line) for line in lines)


def run_cli(
    db: str,
    files: list[str],
    *,
    encoding: str,
    date_format: str,
    delimiter: str | None,
    user: str | None,
    wait: float = store.DEFAULT_WAIT_SECONDS,
    strict: bool = False,
) -> int:
    """Ingest every file into ``db``; 0 all accepted, 1 any rejected or busy, 2 usage error.

    While another process (the app, another load) holds the file, wait up to ``wait`` seconds,
    saying so on stderr; then give up with exit 1 and nothing loaded.  Workbooks are converted
    to CSV before the database is opened, so a conversion never holds it.  Temporary files live
    in a :func:`scratch_folder` under :func:`scratch_root` and are removed on every way out
    (SIGTERM raises ``SystemExit(143)`` here; a SIGKILLed run's folder goes at the next run).
    With ``strict``, too many new departments reject a file (:data:`MAX_NEW_DEPARTMENTS`).
    """
    missing = [f for f in files if not Path(f).is_file()]
    for f in missing:
        print(f"error: no such file: {store.printable(f)}")
    if missing:
        return 2
    try:
        xlsx_limits()
    except ValueError as err:
        print(f"error: {err}")
        return 2
    with _sigterm_unwinds(), scratch_folder(_cli_scratch_root(db)) as tmp:
        prepared = [prepare_file(f, scratch=tmp) for f in files]
        return _ingest_prepared(
            db,
            files,
            prepared,
            wait=wait,
            tmp=tmp,
            options={
                "encoding": encoding,
                "date_format": date_format,
                "delimiter": delimiter,
                "user": user,
                "strict": strict,
            },
        )


def _cli_scratch_root(db: str) -> Path:
    """:func:`scratch_root` of ``db``, or a folder in Python's temp folder when ``db``'s folder
    cannot hold it (opening the database then fails and says why)."""
    root = scratch_root(db)
    if root.parent.is_dir() and os.access(root.parent, os.W_OK):
        return root
    return Path(tempfile.gettempdir()) / "indicators-scratch"


def _ingest_prepared(
    db: str,
    files: list[str],
    prepared: list[PreparedFile],
    *,
    wait: float,
    tmp: Path,
    options: dict[str, object],
) -> int:
    """Open ``db`` (waiting while it is busy) and load each prepared file; the exit code."""
    try:
        con = store.connect_waiting(db, wait=wait, notify=store.print_to_stderr)
    except store.DatabaseBusy as err:
        store.print_to_stderr(
            f"error: {store.printable(db)}: {err}; nothing was loaded, try again later"
        )
        return 1
    except (duckdb.Error, OSError) as err:
        print(f"error: cannot open database {store.printable(db)}: {err}")
        return 2
    rejected = 0
    try:
        for i, (f, ready) in enumerate(zip(files, prepared, strict=True), 1):
            print(f"[{i}/{len(files)}] {store.printable(f)} …", flush=True)
            result = ingest_file(con, ready, scratch=tmp, **options)
            rejected += not result.accepted
            print(format_result(result), flush=True)
            for warning in result.warnings:
                print(f"  warning: {warning}", flush=True)
    finally:
        con.close()
    if len(files) > 1:
        print(f"{len(files) - rejected} accepted, {rejected} rejected")
    return 1 if rejected else 0
