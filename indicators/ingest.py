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
   the stored rows of the file's slices deleted and the log row written — a clean file's only
   pass over it, and its rows are copied once;
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
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from indicators import store
from indicators.schema import DATASETS, Column, Dataset, closest, normalise_header

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
_ISO_ZONED = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)"
_MONTH = r"\d{4}-\d{2}"
_INTEGER = r"[+-]?\d+"
_NUMBER_POINT = r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?"
_NUMBER_COMMA = r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?"
_CONTROL = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F\x{FEFF}]"
"""Characters a text cell may not hold: C0 controls but tab and line breaks, DEL, and a BOM.

A NUL or a byte-order mark is invisible on screen, so ``c\x001`` or ``\ufeffp2`` (a BOM left
in the middle of files pasted together) would be stored as an id or department that looks
like another one: silent corruption, so the row is rejected instead."""

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


@dataclass(frozen=True)
class _ByteScan:
    controls: bool
    """A control character or a BOM past the first bytes: the per-cell rule must run."""
    ascii: bool
    """Every byte is ASCII: a cell can only start or end with U+0020 among the spaces trimmed."""


def _scan_bytes(path: Path) -> _ByteScan:
    """One pass over the bytes of a UTF-8 file: control characters, BOMs, non-ASCII bytes.

    Counting bytes with NumPy runs at memory speed (about 0.3 s for 650 MB), where a regex over
    every text cell would cost the clean file's single pass about 40 %: only a file that holds
    such a byte pays for the cell rule.  The common chunk needs three counts: bytes below
    0x20 (line feeds alone, in an LF file), line feeds, and bytes from 0x7F up (none in an
    ASCII file); only a chunk with more is looked at further.  Only the bytes either side of a
    chunk boundary are looked at again, for a BOM split across two chunks.
    """
    controls, ascii_only, tail = False, True, b""
    with path.open("rb") as f:
        chunk = f.read(1 << 22)
        # A BOM at the very start is the file's encoding mark, not data.
        if chunk.startswith(_UTF8_BOM):
            chunk = chunk[len(_UTF8_BOM) :]
        while chunk and not controls:
            a = np.frombuffer(chunk, dtype=np.uint8)
            low = np.count_nonzero(a < 0x20)
            if low and low != np.count_nonzero(a == 0x0A):
                # tab, line feed and carriage return are the only allowed bytes below 0x20
                allowed = sum(int(np.count_nonzero(a == b)) for b in (0x09, 0x0A, 0x0D))
                controls = int(low) != allowed
            if np.count_nonzero(a >= 0x7F):
                ascii_only = False
                controls = controls or bool(np.count_nonzero(a == 0x7F)) or _UTF8_BOM in chunk
            controls = controls or _UTF8_BOM in tail + chunk[:2]
            tail = chunk[-2:]
            chunk = f.read(1 << 22)
    return _ByteScan(controls=controls, ascii=ascii_only and not controls)


def _csv_source(path: Path, name: str, delimiter: str | None) -> _Source:
    header, delimiter = _csv_header(path, name, delimiter)
    scan = _scan_bytes(path)
    params = _Params("s")
    columns = {c: "VARCHAR" for c in _positions(len(header))}
    from_sql = (
        f"read_csv({params(str(path))}, header = true, auto_detect = false, "
        f"columns = {params(columns)}, delim = {params(delimiter)}, quote = '\"', "
        f"escape = '\"', store_rejects = true, rejects_table = '{_REJECTS}', "
        f"rejects_scan = '{_REJECT_SCANS}')"
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
    )


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


def _xlsx_to_csv(path: Path, name: str, target: Path) -> Path:
    """Write the workbook's only sheet as UTF-8 CSV, keeping sheet row numbers."""
    import openpyxl

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
        with target.open("w", encoding="utf-8", newline="") as out:
            # QUOTE_ALL writes an empty row as "" so the CSV reader does not skip it as blank.
            writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
            pending_empty: list[list[str]] = []
            for row in book.worksheets[0].iter_rows(values_only=True):
                cells = [_cell_text(v) for v in row]
                if not any(c.strip() for c in cells):
                    # Held back so trailing empty rows (common in sheets) are dropped.
                    pending_empty.append(cells)
                    continue
                writer.writerows(pending_empty)
                pending_empty.clear()
                writer.writerow(cells)
    finally:
        book.close()
    return target


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
        if sql_type in ("DOUBLE", "FLOAT", "REAL") or sql_type.startswith("DECIMAL"):
            # Whole floats (an integer column that held a NaN) read back as "7", not "7.0";
            # NaN and infinities fail the abs() bound and stay unreadable text.
            texts.append(
                f"CASE WHEN {col} = trunc({col}) AND abs({col}) < 1e15 "
                f"THEN CAST(CAST({col} AS BIGINT) AS VARCHAR) ELSE CAST({col} AS VARCHAR) END "
                f"AS {col}"
            )
        else:
            texts.append(f"CAST({col} AS VARCHAR) AS {col}")
    aliases = ", ".join(_positions(len(header)))
    from_sql = f"(SELECT {', '.join(texts)} FROM {relation} AS src({aliases}))"
    return _Source(name, header, from_sql, params)


def _parquet_source(con: duckdb.DuckDBPyConnection, path: Path, name: str) -> _Source:
    params: dict[str, object] = {"path": str(path)}
    try:
        described = _described(con, _PARQUET, params)
    except duckdb.Error as err:
        raise _reject_one(name, f"not a readable Parquet file: {err}") from None
    return _typed_source(name, [column for column, _ in described], described, _PARQUET, params)


def _open_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    name: str,
    *,
    encoding: str,
    delimiter: str | None,
    max_bytes: int,
    tmp: Path,
) -> _Source:
    if not path.is_file():
        raise _reject_one(name, f"file does not exist: {path}")
    size = path.stat().st_size
    if size > max_bytes:
        raise _reject_one(name, f"file is larger than {max_bytes / 1e6:g} MB ({size / 1e6:.1f} MB)")
    if size == 0:
        raise _reject_one(name, "file is empty")
    kind = _sniff_kind(path)
    if kind == "parquet":
        return _parquet_source(con, path, name)
    if kind == "xlsx":
        return _csv_source(_xlsx_to_csv(path, name, tmp / "sheet.csv"), name, ",")
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
    a collision, counts as not clean) and an empty file are checked; then the stored rows of the
    file's slices are deleted, the log row written and the transaction committed.

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
        result.outcome = "accepted"
        result.message = _accepted_message(result, dataset, replace_all=replace_all)
        _log(con, result, user, _slices_text(result.slices))
        store.pause_for_test("before_commit")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        result.outcome, result.rows, result.slices, result.message = "rejected", 0, [], ""
        raise
    store.pause_for_test("committed")


def _accepted_message(result: IngestResult, dataset: Dataset, *, replace_all: bool) -> str:
    return f"{result.rows} rows of {dataset.name} loaded; replaced " + (
        "the whole table" if replace_all else _slices_text(result.slices)
    )


_STRUCTURAL_RULES = {
    "MISSING COLUMNS": "too few values in the row",
    "TOO MANY COLUMNS": "too many values in the row",
    "UNQUOTED VALUE": "bad quoting",
    "UNTERMINATED QUOTES": "bad quoting",
    "LINE SIZE OVER MAXIMUM": "line too long",
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
        if column.reserved:
            p = _Params(f"r{len(rules)}_")
            names = ", ".join(p(r.lower()) for r in column.reserved)
            rules.append(_Rule(name, f"lower({t}) IN ({names})", column.reserved_rule, p.values))
        if controls and column.kind in ("id", "text"):
            p = _Params(f"r{len(rules)}_")
            rules.append(
                _Rule(
                    name,
                    f"regexp_matches({t}, {p(_CONTROL)})",
                    "holds an invisible control character (such as NUL) or a byte-order mark "
                    "(U+FEFF); remove it",
                    p.values,
                )
            )
        if column.kind == "timestamp" or (
            column.kind == "month" and column.name == dataset.month_column
        ):
            # Targets' months are left out: a target month may lie years ahead.
            latest = latest_date()
            p = _Params(f"r{len(rules)}_")
            bound: tuple[dt.date, dt.date] = (latest, EARLIEST_DATE)
            if column.kind == "timestamp":
                bound = (
                    dt.datetime.combine(latest, dt.time.max),
                    dt.datetime.combine(EARLIEST_DATE, dt.time()),
                )
            rules.append(
                _Rule(
                    name,
                    f"{v} > {p(bound[0])}",
                    f"more than {MAX_FUTURE_DAYS} days in the future (after {latest:%Y-%m-%d}); "
                    "check the year",
                    p.values,
                )
            )
            p = _Params(f"r{len(rules)}_")
            rules.append(
                _Rule(
                    name,
                    f"{v} < {p(bound[1])}",
                    f"before {EARLIEST_DATE:%Y-%m-%d}; check the year",
                    p.values,
                )
            )
        if column.kind not in ("id", "text"):
            bad = f"{t} IS NOT NULL AND {v} IS NULL"
            if column.kind == "number":
                bad = f"{t} IS NOT NULL AND ({v} IS NULL OR NOT isfinite({v}))"
            rules.append(_Rule(name, bad, _unreadable_rule(column, date_format, decimal_comma)))
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
) -> None:
    con.execute(
        """INSERT INTO upload_log (uploaded_at, "user", file_name, dataset, slices, "rows",
                                   outcome, message)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
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
    )


def _load(
    con: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    result: IngestResult,
    user: str | None,
    *,
    replace_all: bool,
) -> None:
    """Replace the file's slices and log the upload, all in one transaction."""
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
        con.execute(delete)
        store.pause_for_test("deleted")
        con.execute(
            f"INSERT INTO {table} ({', '.join(_q(c) for c in targets)}) "
            f"SELECT {', '.join(_q('v_' + c) for c in targets)} FROM {_STAGE}"
        )
        store.pause_for_test("inserted")
        _log(con, result, user, _slices_text(result.slices))
        store.pause_for_test("before_commit")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    store.pause_for_test("committed")


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
        except (_NotClean, duckdb.Error):
            pass  # rolled back: the full path reads the file again and reports exactly
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
        try:
            _load(con, dataset, result, user, replace_all=replace_all)
        except duckdb.Error as err:
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
    path: str | Path,
    *,
    encoding: str = "utf-8",
    date_format: str = "ISO",
    delimiter: str | None = None,
    user: str | None = None,
    file_name: str | None = None,
    max_bytes: int = MAX_UPLOAD_BYTES,
) -> IngestResult:
    """Validate one CSV/XLSX/Parquet file and, if it is clean, replace its slices.

    ``file_name`` is what reports and the log call the file (default: the path's name).
    Options that are not allowed values raise ``ValueError``; everything wrong with the file
    itself is a rejected :class:`IngestResult`.
    """
    _check_options(encoding, date_format, delimiter)
    path = Path(path)
    name = file_name or path.name
    # A private cursor keeps the staging tables and the transaction off the caller's connection.
    with con.cursor() as cur, tempfile.TemporaryDirectory(prefix="ingest-") as tmp:
        try:
            source = _open_file(
                cur,
                path,
                name,
                encoding=encoding,
                delimiter=delimiter,
                max_bytes=max_bytes,
                tmp=Path(tmp),
            )
        except _Rejected as rejected:
            result = IngestResult(name, None, "rejected")
            return _reject(cur, result, rejected.problems, len(rejected.problems), user)
        return _ingest_source(cur, source, user=user, date_format=date_format, replace_all=False)


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
    """The lines the command line prints for one file."""
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
    return "\n".join(lines)


def run_cli(
    db: str,
    files: list[str],
    *,
    encoding: str,
    date_format: str,
    delimiter: str | None,
    user: str | None,
    wait: float = store.DEFAULT_WAIT_SECONDS,
) -> int:
    """Ingest every file into ``db``; 0 all accepted, 1 any rejected or busy, 2 usage error.

    While another process (the app, another load) holds the file, wait up to ``wait`` seconds,
    saying so on stderr; then give up with exit 1 and nothing loaded.
    """
    missing = [f for f in files if not Path(f).is_file()]
    for f in missing:
        print(f"error: no such file: {f}")
    if missing:
        return 2
    try:
        con = store.connect_waiting(db, wait=wait, notify=store.print_to_stderr)
    except store.DatabaseBusy as err:
        store.print_to_stderr(f"error: {db}: {err}; nothing was loaded, try again later")
        return 1
    except (duckdb.Error, OSError) as err:
        print(f"error: cannot open database {db}: {err}")
        return 2
    rejected = 0
    try:
        for i, f in enumerate(files, 1):
            print(f"[{i}/{len(files)}] {f} …", flush=True)
            result = ingest_file(
                con, f, encoding=encoding, date_format=date_format, delimiter=delimiter, user=user
            )
            rejected += not result.accepted
            print(format_result(result), flush=True)
    finally:
        con.close()
    if len(files) > 1:
        print(f"{len(files) - rejected} accepted, {rejected} rejected")
    return 1 if rejected else 0
