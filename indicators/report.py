"""The ``report``, ``route`` and ``complete`` commands: the indicator table, the route and the
complete months, as CSV or JSON.

Output goes to stdout, messages to stderr.  The database is opened read-only, except by
``complete --month``, which marks a month complete by hand (or, with ``--undo``, removes it).

**Written from DuckDB.**  ``report`` reads the stored indicator table through
:func:`indicators.stored_indicators.select` — the filters' months, department and indicator —
and DuckDB makes every row's whole line: first one row per month and department
(:func:`report_groups_sql`: its place in the long table's order, and the text around the
indicator and value — the ``department`` cell neutralised and quoted once per department, the
``complete`` flag joined from :func:`indicators.completeness.status_of`'s flags), then each
row's line joined to its group, with the value as text (rounded as below), sorted on integers:
the ranks of its month, department and indicator (:func:`report_lines_sql`).  The lines come
back as Arrow record batches of :data:`BATCH_ROWS` rows and are written out as the bytes of
their string buffer: no Python object per row.
``route`` computes its small tables in pandas, from the stored rows of the targets'
indicators and departments only, and writes them through the same SQL cells and line writer.

**Filters** (``report`` and ``route``): ``--month M``, or ``--from A`` and/or ``--to B`` (both
included; a range must hold a month of the data, its bounds need not), ``--department D``
(``All`` too), ``--indicator ID`` (a catalog id).  A month, range, department or indicator the
output does not have exits 2, naming it and what there is.  ``route`` filters its targets by
department and indicator (a target for every department is ``All``'s) and its month rows by
month.

**Numbers rounded for people** (the default).  A value is rounded to the decimals of its
catalog unit (:func:`decimals_of`, from :class:`indicators.units.Unit`): halves away from zero
*on the value as written* (its shortest text) — 2.675 → 2.68, 0.125 → 0.13, −2.5 → −3 — as
the pages round (:func:`indicators.units.fixed`), and then written as ``--exact`` writes a
number, so 12.50 is ``12.5``, 3.0 is ``3`` and −0.04 is ``0``:

=========  ========  ==========================================================================
unit       decimals  notes
=========  ========  ==========================================================================
count      0         ``estimated_dissatisfied`` 12.5 → ``13``
money      2         to the cent at every size (the cards drop cents from 1,000: a report's
                     figures are added up)
``%``      1         ``12.3``; also ``route``'s ``travelled`` and ``remaining`` (percent of the
                     route)
per 100    1
points     1
minutes    1         a duration stays in its catalog unit — one unit per indicator, so a
hours      1         column can be summed and compared (the cards switch to h or days by size)
=========  ========  ==========================================================================

A missing value stays missing, and so does one that is not finite (an overflowed sum); a value
of 2⁵³ or more (or 2⁵³ ÷ 10^decimals, whose double has no finer digits) is already whole at
that precision and is written as it is.

**``--exact``**: every digit — the shortest text that reads back as the same double (Python's
``repr``, which DuckDB's cast to text writes too), whole numbers below 2⁵³ without ``.0``.

**Complete months** (:mod:`indicators.completeness`).  ``report`` rows carry ``complete``
(``true``/``false``): whether that month is complete for that department (or All); ``route``
month rows carry ``complete`` for the target's department (empty past the data), and every
target its ``latest_month`` and ``latest_month_complete``.  ``complete`` without ``--month``
prints ``month, department, complete, marked, missing`` (the missing datasets, space-separated
in CSV, a list in JSON).

* CSV: a header row, then one row per record, rows ending in CRLF (a carriage return in a cell
  is quoted, as in the app's downloads); a missing value is an empty cell; text that a
  spreadsheet would run as a formula gets a ``'`` (:mod:`indicators.export`, applied in SQL).
* JSON: a list of objects (``report``) or ``{"routes": [...], "targets": [...]}`` (``route``);
  numbers are numbers, a missing value is ``null`` (never ``NaN``/``Infinity``: the output is
  always valid JSON); text is not neutralised.

**The same bytes every run.**  On the same data, ``report`` and ``route`` print the same bytes
run after run, whatever DuckDB's threads, and after the same files are loaded again: money is
summed exactly, as decimals (:mod:`indicators.facts`), every other figure comes from counts or
per-row values (medians and percentiles take the same order statistics however the rows were
read), and every output is sorted.

**Memory.**  ``report`` holds one batch of lines at a time (DuckDB itself holds the sorted
lines of the filters); the completeness flags are one boolean per month and department, the
groups one row each.

Exit codes: 0 printed (or marked); 1 nothing to print (no data loaded yet, no targets for
``route``, or the database can't be read, or stayed busy); 2 a filter or mark names a month,
department or indicator that is not in the data.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO, TypeVar

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from indicators import completeness, export, store, stored_indicators
from indicators.catalog import ALL_DEPARTMENTS, INDICATOR_IDS
from indicators.compute import LONG_COLUMNS
from indicators.export import neutralise_cell
from indicators.months import parse as parse_month
from indicators.scope import Scope
from indicators.units import UNITS, unit_of

T = TypeVar("T")

NO_DATA_MESSAGE = "no data loaded yet — run `python -m indicators ingest` or `demo`"
NO_TARGETS_MESSAGE = "no targets loaded yet — ingest a targets file with `python -m indicators ingest`"
BATCH_ROWS = 10_000
"""Rows fetched from DuckDB and written at a time (an Arrow record batch): a megabyte or so of
lines, the same memory batch after batch (200,000 rows, 24 MB of JSON, took new memory each
time: a third slower in a new process)."""
REPORT_COLUMNS: tuple[str, ...] = (*LONG_COLUMNS, "complete")
"""The rows ``report`` prints: the long table and whether the month is complete."""
REPORT_CHANNEL_COLUMNS: tuple[str, ...] = ("month", "department", "channel", "indicator",
                                           "value", "complete")
"""The rows ``report --by channel`` prints: the per-channel long table
(:mod:`indicators.channels`), and whether the month is complete for the department."""


class _Unreadable(Exception):
    """The database can't be opened or holds no tables; the message says why."""


@contextmanager
def _read_only(db: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    path = Path(db)
    if not path.is_file():
        raise _Unreadable(f"no database at {store.printable(str(path))}: {NO_DATA_MESSAGE}")
    try:
        con = store.connect(path, read_only=True)
    except store.NotADatabase as err:
        raise _Unreadable(f"cannot open database: {err}") from None
    except duckdb.Error as err:
        raise _Unreadable(f"cannot open database {store.printable(str(path))}: {err}") from None
    try:
        con.execute("SET enable_progress_bar = false")  # stderr is for messages
        yield con
    finally:
        con.close()


def _load(
    db: str | Path, read: Callable[[duckdb.DuckDBPyConnection], T], err: TextIO
) -> T | None:
    """``read(con)`` on the database opened read-only; None after telling ``err`` why not."""
    try:
        with _read_only(db) as con:
            return read(con)
    except _Unreadable as problem:
        print(f"error: {problem}", file=err)
    except duckdb.CatalogException:
        print(f"error: {store.printable(str(db))} has no dataset tables: {NO_DATA_MESSAGE}",
              file=err)
    return None


class _Stop(Exception):
    """Nothing (more) is printed: the message goes to stderr and the command exits ``code``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _run(db: str | Path, write: Callable[[duckdb.DuckDBPyConnection], None], err: TextIO
         ) -> int:
    """``write(con)`` on the database opened read-only: 0; 1 when the database can't be read;
    a :class:`_Stop`'s code after printing its message."""
    def guarded(con: duckdb.DuckDBPyConnection) -> _Stop | int:
        try:
            write(con)
        except _Stop as stop:
            return stop
        return 0

    done = _load(db, guarded, err)
    if done is None:
        return 1
    if isinstance(done, _Stop):
        print(f"error: {done}", file=err)
        return done.code
    return done


Stop = _Stop
"""For other read-only commands (:mod:`indicators.explain_cli`): raise to exit with a message."""
run_read_only = _run
"""For other read-only commands: ``run_read_only(db, body, err)`` as ``report`` runs."""


def format_number(value: object) -> str:
    """A number as CSV text: empty when missing or not finite, whole numbers without ``.0``,
    else ``repr``.

    >>> [format_number(v) for v in (3.0, 12.5, 1 / 3, float("nan"), float("inf"), None)]
    ['3', '12.5', '0.3333333333333333', '', '', '']
    """
    if value is None:
        return ""
    number = float(value)
    if not math.isfinite(number):
        return ""
    if number.is_integer() and abs(number) < 2**53:
        return str(int(number))
    return repr(number)


def _cell(value: object) -> object:
    """A value as the JSON encoder should see it: NaN/NA and ±inf → None, numpy scalars →
    Python."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, str):
        return value
    value = value.item() if hasattr(value, "item") else value
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    return [
        {column: _cell(value) for column, value in zip(frame.columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def _dump_json(value: object, out: TextIO) -> None:
    """``value`` as strict JSON (no ``NaN``/``Infinity``: :func:`_cell` made them None)."""
    json.dump(value, out, ensure_ascii=False, allow_nan=False)


def write_csv(frame: pd.DataFrame, out: TextIO, *, header: bool = True) -> None:
    """``frame`` as CSV: numbers by :func:`format_number`, missing as empty, text made safe
    (``complete``'s small table; ``report`` and ``route`` write from DuckDB).

    Text that a spreadsheet would run as a formula gets a leading ``'``
    (:func:`indicators.export.neutralise_cell`), and rows end in CRLF so that a carriage
    return inside a cell is quoted rather than starting a new row — as in the app's downloads.
    """
    writer = csv.writer(out, lineterminator="\r\n")
    if header:
        writer.writerow(frame.columns)
    numeric = [
        pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
        for c in frame.columns
    ]
    for row in frame.itertuples(index=False, name=None):
        writer.writerow(
            format_number(v) if is_number else _text(v)
            for v, is_number in zip(row, numeric, strict=True)
        )


def _text(value: object) -> str:
    """A cell that is not a number: ``true``/``false``, empty when missing, else safe text."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    return "" if _cell(value) is None else neutralise_cell(value)


def _known(label: str, wanted: str, known: Sequence[str]) -> str:
    known = list(known)
    shown = ", ".join(known) if len(known) <= 12 else f"{known[0]} … {known[-1]}"
    return f"unknown {label} {wanted!r}; the data has: {shown}"


# --- numbers as report and route write them ---------------------------------------------------

CENTS = 2
"""The decimals money keeps in ``report`` and ``route``: the cent, at every size."""
SHARE_COLUMNS: frozenset[str] = frozenset({"travelled", "remaining"})
"""``route`` columns in percent of the route, whatever the indicator's unit: ``%``'s decimals."""
SHARE_DECIMALS = UNITS["%"].decimals
PROBABILITY_COLUMNS: frozenset[str] = frozenset({"reach_probability"})
"""``route`` columns that are a probability (0–1): :data:`PROBABILITY_DECIMALS` decimals."""
PROBABILITY_DECIMALS = 3
_WHOLE_FROM = 2**53
"""From this size on a double has no fraction: it is written as it is."""


def decimals_of(indicator_id: str) -> int:
    """The decimals ``indicator_id``'s values are rounded to for people: its catalog unit's
    (:attr:`indicators.units.Unit.decimals`), money to the cent (:data:`CENTS`).

    >>> decimals_of("purchases"), decimals_of("revenue"), decimals_of("csat"), decimals_of("nps")
    (0, 2, 1, 1)
    >>> decimals_of("response_time_median"), decimals_of("resolution_time_median")
    (1, 1)
    """
    unit = unit_of(indicator_id)
    return CENTS if unit.kind == "money" else unit.decimals


_ALL_DECIMALS: tuple[int, ...] = tuple(
    sorted({decimals_of(i) for i in INDICATOR_IDS} | {SHARE_DECIMALS, PROBABILITY_DECIMALS})
)


def number_text_sql(value: str) -> str:
    """SQL: the DOUBLE ``value`` as text, as :func:`format_number` writes it — NULL when missing
    or not finite, whole numbers below 2⁵³ without ``.0``, else the shortest text that reads
    back as the same double (DuckDB's cast to VARCHAR writes Python's ``repr``).  ``-0.0`` is
    ``0``.  ``value`` is a column or an expression of the code, never data."""
    return (
        f"CASE WHEN {value} IS NULL THEN NULL WHEN NOT isfinite({value}) THEN NULL"
        f" WHEN {value} = trunc({value}) AND abs({value}) < {_WHOLE_FROM}"
        f" THEN CAST(CAST({value} AS BIGINT) AS VARCHAR)"
        f" ELSE CAST({value} AS VARCHAR) END"
    )


def rounded_sql(value: str, decimals: str, *, scale: str | None = None) -> str:
    """SQL: the DOUBLE ``value`` rounded to ``decimals`` (an SQL expression giving one of the
    decimals :func:`decimals_of` gives; NULL or another: not rounded) as a person rounds —
    halves away from zero on the value as written, as :func:`indicators.units.fixed`: 2.675
    (the double is 2.67499999…) → 2.68.  The result is the double nearest the rounded decimal.

    With ``x = value × 10^decimals``: when ``x`` is clearly not on a half — farther from one
    than ``x``'s own rounding error plus the distance between the double and its shortest text
    (together below ``|x| · 10⁻¹⁵``), with :data:`_NEAR_HALF` to spare — the text rounds the
    same way as ``x``, and the result is ``round(x) ÷ 10^decimals`` (an integer below 2⁵³
    divided by an exact power of ten: the nearest double).  Near a half, the shortest text
    itself (DuckDB's cast to VARCHAR, Python's ``repr``) is read as a DECIMAL of that scale —
    DuckDB's cast rounds half away from zero — and turned into the nearest double.

    Missing and not-finite values stay as they are, and so does a value of 2⁵³ ÷ 10^decimals
    or more: its double has no finer digit (its shortest text has at most ``decimals``
    decimals).

    ``scale``: a column holding ``10^decimals`` as a DOUBLE (NULL where not rounded), when the
    statement has one: a value clearly not on a half is then rounded by one formula whatever
    its decimals, the same double as the branch of its decimals would give — faster over many
    rows (``decimals`` should be a column too: it is read once per branch)."""
    branches = " ".join(f"WHEN {d} THEN {_rounded_to(value, d)}" for d in _ALL_DECIMALS)
    by_decimals = f"CASE {decimals} {branches} ELSE {value} END"
    if scale is None:
        return by_decimals
    x = f"({value} * {scale})"
    return (
        f"CASE WHEN {value} IS NULL THEN NULL"
        f" WHEN abs({value}) < {float(_WHOLE_FROM)!r} / {scale} AND {_off_half(x)}"
        f" THEN round({x}) / {scale} ELSE {by_decimals} END"
    )


_NEAR_HALF = 1e-6
"""How close to a half (in units of the last decimal kept) :func:`rounded_sql` rounds the
text rather than the double."""
_REL_ERROR = 1e-15
"""More than the relative error of ``x`` and of the double's shortest text (≈ 2 × 2⁻⁵³)."""


def _off_half(x: str) -> str:
    """SQL: whether ``x`` (``value × 10^decimals``) is clearly not on a half (:func:`rounded_sql`)."""
    return f"abs(abs({x}) - floor(abs({x})) - 0.5) > {_NEAR_HALF!r} + abs({x}) * {_REL_ERROR!r}"


def _rounded_to(value: str, decimals: int) -> str:
    scale = repr(10.0**decimals)
    x = f"({value} * {scale})"
    return (
        f"CASE WHEN NOT (abs({value}) < {_WHOLE_FROM / 10**decimals!r}) THEN {value}"
        f" WHEN {_off_half(x)} THEN round({x}) / {scale}"
        f" ELSE CAST(TRY_CAST(CAST({value} AS VARCHAR) AS DECIMAL(38, {decimals})) AS DOUBLE) END"
    )


_ROW_DECIMALS = "list_extract($out_decimals, list_position($out_ids, {indicator}))"
"""SQL: the decimals of the row's indicator (NULL for an id not in the catalog: not rounded)."""


def _decimals_parameters() -> dict[str, object]:
    return {"out_ids": list(INDICATOR_IDS), "out_decimals": [decimals_of(i) for i in INDICATOR_IDS]}


def _text_cell_sql(expression: str, fmt: str) -> str:
    """SQL: a text cell — neutralised and quoted for CSV, a JSON string for JSON (text is not
    neutralised there); NULL stays NULL.  Binds :data:`indicators.export.SQL_PARAMETERS` (CSV)."""
    text = f"CAST({expression} AS VARCHAR)"
    if fmt == "json":
        return f"CAST(to_json({text}) AS VARCHAR)"
    return export.csv_field_sql(export.neutralise_sql(text))


def _flag_cell_sql(expression: str) -> str:
    return f"CASE WHEN {expression} THEN 'true' WHEN NOT {expression} THEN 'false' END"


# --- writing cells out ------------------------------------------------------------------------


class _Sink:
    """Where the bytes go: ``out``'s binary buffer when it has one (stdout), else ``out`` itself,
    as text (a ``StringIO``)."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._buffer = getattr(out, "buffer", None)
        if self._buffer is not None:
            out.flush()

    def write(self, data: bytes | memoryview) -> None:
        if self._buffer is not None:
            self._buffer.write(data)
        else:
            self._out.write(bytes(data).decode("utf-8"))

    def close(self) -> None:
        if self._buffer is not None:
            self._buffer.flush()


def _bytes_of(lines: pa.Array) -> memoryview:
    """The UTF-8 bytes of a string array without nulls, one value after the other (its data
    buffer between its first and last offset: no copy)."""
    if len(lines) == 0:
        return memoryview(b"")
    if not (pa.types.is_string(lines.type) or pa.types.is_large_string(lines.type)):
        lines = lines.cast(pa.string())
    width = 8 if pa.types.is_large_string(lines.type) else 4
    _, offsets, data = lines.buffers()
    ends = np.frombuffer(offsets, dtype=f"<i{width}", count=len(lines) + 1,
                         offset=lines.offset * width)
    return memoryview(b"") if data is None else memoryview(data)[ends[0] : ends[-1]]


def _joined(pieces: Sequence[pa.Array | str], missing: str) -> memoryview:
    """Each row's ``pieces`` (cells, and text the same on every row) joined, rows one after the
    other; a missing cell is written ``missing``."""
    lines = pc.binary_join_element_wise(
        *(pa.scalar(p) if isinstance(p, str) else p for p in pieces), "",
        null_handling="replace", null_replacement=missing,
    )
    return _bytes_of(lines)


def _batches(con: duckdb.DuckDBPyConnection, sql: str, parameters: dict[str, object]
             ) -> pa.RecordBatchReader:
    """``sql``'s rows as Arrow record batches of :data:`BATCH_ROWS` rows, streamed."""
    con.complete()  # a lookup's execute() may have left its result open; sql() needs it done
    return con.sql(sql, params=parameters).to_arrow_reader(BATCH_ROWS)


def _write_rows(
    sink: _Sink, columns: Sequence[str], fmt: str, batches: Iterable[Sequence[pa.Array]]
) -> None:
    """Batches of cells (one string array per column: CSV fields, or JSON values) as a CSV
    table with a header, or as a JSON list of objects."""
    if fmt == "csv":
        sink.write((",".join(columns) + "\r\n").encode())
        ends = [","] * (len(columns) - 1) + ["\r\n"]
        for cells in batches:
            sink.write(_joined([p for pair in zip(cells, ends, strict=True) for p in pair], ""))
        return
    sink.write(b"[")
    skip = len(", ")  # every object is written after ", ": the first one without
    for cells in batches:
        if not len(cells[0]):
            continue
        pieces: list[pa.Array | str] = []
        before = ", {"
        for name, cell in zip(columns, cells, strict=True):
            pieces += [f"{before}{json.dumps(name)}: ", cell]
            before = ", "
        pieces.append("}")
        sink.write(_joined(pieces, "null")[skip:])
        skip = 0
    sink.write(b"]")


# --- filters ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What ``report`` and ``route`` print: months ``first`` … ``last`` (``YYYY-MM``, both
    included; None: no bound), one department, one indicator (None: every one)."""

    first: str | None = None
    last: str | None = None
    department: str | None = None
    indicator: str | None = None

    def scope(self, months: Sequence[str]) -> Scope:
        """The :class:`~indicators.scope.Scope` of the filters on data of ``months``."""
        span = None
        if self.first is not None or self.last is not None:
            span = (self.first or months[0], self.last or months[-1])
        return Scope(span, None if self.department is None else (self.department,))

    @property
    def indicators(self) -> list[str] | None:
        return None if self.indicator is None else [self.indicator]

    def rows(self, table: pd.DataFrame, *, months: bool = True) -> pd.DataFrame:
        """The rows of a ``route`` table the filters keep (``months``: by its ``month`` too)."""
        keep = pd.Series(True, index=table.index)
        if self.department is not None:
            keep &= table["department"] == self.department
        if self.indicator is not None:
            keep &= table["indicator"] == self.indicator
        if months and self.first is not None:
            keep &= table["month"] >= self.first
        if months and self.last is not None:
            keep &= table["month"] <= self.last
        return table[keep].reset_index(drop=True)


class FilterError(ValueError):
    """A filter names a month, department or indicator that is not there; the message says what
    is."""


def _month_label(text: str, option: str) -> str:
    try:
        return parse_month(text).strftime("%Y-%m")
    except ValueError as err:
        raise FilterError(f"{option}: {err}") from None


def check_filters(
    *, month: str | None, first: str | None, last: str | None, department: str | None,
    indicator: str | None, months: Sequence[str], departments: Sequence[str],
    indicators: Sequence[str],
) -> Filters:
    """The :class:`Filters` of the options, checked against what the output has (``months`` in
    order, ``departments`` All first, ``indicators`` in catalog order); :class:`FilterError`
    naming what is unknown.

    ``--month`` is one month of the data; ``--from``/``--to`` bound a range that must hold at
    least one month of the data (the bounds themselves need not be in it).
    """
    if month is not None and (first is not None or last is not None):
        raise FilterError("give --month or --from/--to, not both")
    if month is not None:
        label = _month_label(month, "--month")
        if label not in months:
            raise FilterError(_known("month", label, months))
        first = last = label
    else:
        first = None if first is None else _month_label(first, "--from")
        last = None if last is None else _month_label(last, "--to")
        if first is not None and last is not None and first > last:
            raise FilterError(f"--from {first} is after --to {last}")
        if (first is not None or last is not None) and not any(
            (first is None or first <= m) and (last is None or m <= last) for m in months
        ):
            raise FilterError(_known("month range", f"{first or '…'} to {last or '…'}", months))
    if department is not None and department not in departments:
        raise FilterError(_known("department", department, departments))
    if indicator is not None and indicator not in indicators:
        raise FilterError(_known("indicator", indicator, indicators))
    return Filters(first, last, department, indicator)


def _checked(options: dict[str, str | None], **known: Sequence[str]) -> Filters:
    try:
        return check_filters(**options, **known)
    except FilterError as problem:
        raise _Stop(2, str(problem)) from None


# --- report -----------------------------------------------------------------------------------


def run_report_cli(
    db: str | Path, *, month: str | None, department: str | None, fmt: str,
    out: TextIO | None = None, err: TextIO | None = None,
    first: str | None = None, last: str | None = None, indicator: str | None = None,
    exact: bool = False, by: str | None = None,
) -> int:
    """Print the indicator long table (``month,department,indicator,value,complete``), filtered
    (``department`` may be ``All``), rounded for people unless ``exact``.  ``by="channel"``:
    the per-channel table instead (:data:`REPORT_CHANNEL_COLUMNS`: a row per department ×
    channel and All × channel; an indicator not computed per channel has no row there).

    Returns the exit code (see the module docstring).
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    if by not in (None, "channel"):
        print(f"error: --by must be channel; got {by!r}", file=err)
        return 2
    options = {"month": month, "first": first, "last": last, "department": department,
               "indicator": indicator}
    return _run(db, lambda con: _report(con, options, fmt=fmt, exact=exact, out=out,
                                        by_channel=by == "channel"), err)


def report_sql(select: str, *, exact: bool, by_channel: bool = False
               ) -> tuple[str, dict[str, object]]:
    """The statement ``report`` fetches over :func:`indicators.stored_indicators.select`'s
    ``select`` (bind its parameters too), and its own parameters: ``month``, ``department``,
    (``channel`` when ``by_channel``), ``indicator`` as they are, ``position``, the indicator's
    place in the catalog (as :data:`indicators.stored_indicators.ORDER` ranks it: NULL for an id
    not in it), ``value`` as text (:func:`rounded_sql` unless ``exact``,
    :func:`number_text_sql`).  Projections only, so the rows keep ``select``'s order."""
    keys = "month, department, channel, indicator" if by_channel else \
        "month, department, indicator"
    rows = (f"SELECT {keys}, value, list_position($out_ids, indicator) AS position "
            f"FROM ({select})")
    keys = f"{keys}, position"
    if exact:
        return (f"SELECT {keys}, {number_text_sql('value')} AS value "
                f"FROM ({rows})"), {"out_ids": list(INDICATOR_IDS)}
    shown = rounded_sql("value", "decimals", scale="scale")
    return (f"SELECT {keys}, {number_text_sql('shown')} AS value "
            f"FROM (SELECT {keys}, {shown} AS shown FROM ({_with_decimals(rows, keys)}))"
            ), {**_decimals_parameters(),
                "out_scales": [10.0 ** decimals_of(i) for i in INDICATOR_IDS]}


def _with_decimals(rows: str, keys: str) -> str:
    """SQL: the ``keys`` (``position`` among them) and ``value`` of ``rows`` with the
    ``decimals`` of the row's indicator and their ``scale`` (``10^decimals``, ``$out_scales``),
    looked up once per row for :func:`rounded_sql` (NULL for an id not in the catalog)."""
    return (f"SELECT {keys}, value, list_extract($out_decimals, position) AS decimals, "
            f"list_extract($out_scales, position) AS scale FROM ({rows})")


_REPORT_STATUS = "report_month_status"
"""The name the completeness flags (month, department, complete) are registered under while
``report`` runs."""
_REPORT_GROUPS = "report_groups"
"""The temporary table of ``report``'s groups of lines (:func:`report_groups_sql`), while it
runs."""


def report_groups_sql(select: str, *, fmt: str, by_channel: bool = False
                      ) -> tuple[str, dict[str, object]]:
    """The statement that makes the temporary table :data:`_REPORT_GROUPS` over the unordered
    :func:`indicators.stored_indicators.select` ``select`` (bind its parameters and ``$all``
    too), and its own parameters: one row per month × department (× channel) group of
    ``select``'s rows (:func:`_groups_of`), with its place in the long table's order
    (:data:`indicators.stored_indicators.ORDER`, or ``CHANNEL_ORDER``, but the indicator) as
    the ranks of its month, department (All first) and channel (:data:`_GROUP_RANKS`), and the
    text of its lines (:func:`report_lines_sql`) before the indicator (``prefix``) and after
    the value (``suffix``).

    The ``department`` and ``channel`` cells are made once per name (neutralised and quoted for
    CSV, a JSON string); ``complete`` is the flag of :data:`_REPORT_STATUS` (registered by the
    caller), true for a month or department it lacks (nothing expected).  A table, so that
    DuckDB knows its size and joins the rows to it (not it to the rows)."""
    if fmt == "csv":
        channel = ["c.cell", "','"] if by_channel else []
        prefix = ["m.month", "','", "d.cell", "','", *channel]
        ends = ("',true' || chr(13) || chr(10)", "',false' || chr(13) || chr(10)")
    else:
        channel = ["', \"channel\": '", "c.cell"] if by_channel else []
        prefix = ["', {\"month\": '", "to_json(m.month)", "', \"department\": '", "d.cell",
                  *channel, "', \"indicator\": '"]
        ends = ("', \"complete\": true}'", "', \"complete\": false}'")
    keys = "m.month, d.department, c.channel" if by_channel else "m.month, d.department"
    sql = f"""CREATE OR REPLACE TEMP TABLE {_REPORT_GROUPS} AS
        WITH {_ranked(select, fmt, by_channel)}
        SELECT {keys}, {', '.join(_GROUP_RANKS[: 3 if by_channel else 2])},
               concat({', '.join(prefix)}) AS prefix,
               CASE WHEN s.complete IS NOT FALSE THEN {ends[0]} ELSE {ends[1]} END AS suffix
        FROM {_groups_of(select, by_channel)}
        LEFT JOIN {_REPORT_STATUS} s ON s.month = m.month AND s.department = d.department"""
    return sql, dict(export.SQL_PARAMETERS) if fmt == "csv" else {}


_GROUP_RANKS = ("month_rank", "department_rank", "channel_rank")
"""The columns of :data:`_REPORT_GROUPS` that order its groups as the long table does."""


def _ranked(select: str, fmt: str, by_channel: bool) -> str:
    """SQL: the common table expressions ``months``, ``departments`` (and ``channels``): each
    distinct value of ``select``'s rows, its rank in the long table's order (``department``:
    All first, then by name) and (departments, channels) its text cell."""
    ranked = [("months", "month", "month", False),
              ("departments", "department", "department <> $all, department", True)]
    if by_channel:
        ranked.append(("channels", "channel", "channel", True))
    return ",\n        ".join(
        f"{name} AS (SELECT {column}, row_number() OVER (ORDER BY {order}) AS {column}_rank"
        + (f", {_text_cell_sql(column, fmt)} AS cell" if cell else "")
        + f" FROM (SELECT DISTINCT {column} FROM ({select})))"
        for name, column, order, cell in ranked
    )


def _groups_of(select: str, by_channel: bool) -> str:
    """SQL: the groups of ``select``'s rows, joined to their ``months`` ``m``, ``departments``
    ``d`` (and ``channels`` ``c``) of :func:`_ranked` — without channels, every month with every
    department (a pair without rows has no line; two distinct columns are found faster than
    their pairs); with channels, the triples found (departments have channels of their own:
    the product would be larger)."""
    if not by_channel:
        return "months m CROSS JOIN departments d"
    return (f"(SELECT DISTINCT month, department, channel FROM ({select})) g "
            "JOIN months m ON m.month = g.month JOIN departments d ON d.department = g.department "
            "JOIN channels c ON c.channel = g.channel")


def report_lines_sql(
    select: str, *, fmt: str, exact: bool, by_channel: bool = False
) -> tuple[str, dict[str, object]]:
    """The statement giving ``report``'s rows as whole lines (column ``line``: CSV fields with
    ``,`` between and CRLF after; a JSON object after ``", "``), over the unordered
    :func:`indicators.stored_indicators.select` ``select`` (bind its parameters too) and the
    groups of :data:`_REPORT_GROUPS` (:func:`report_groups_sql`), and its own parameters.

    Each row's line is its group's ``prefix``, the indicator, the value (:func:`report_sql`)
    and the group's ``suffix``; the lines are sorted by group, then by indicator in catalog
    order: the long table's order (:data:`indicators.stored_indicators.ORDER`, or
    ``CHANNEL_ORDER`` when ``by_channel``), on integers: the group's ranks, the indicator's
    position."""
    value, parameters = report_sql(select, exact=exact, by_channel=by_channel)
    if fmt == "csv":
        middle = ["v.indicator", "','", "coalesce(v.value, '')"]
    else:
        middle = ["to_json(v.indicator)", "', \"value\": '", "coalesce(v.value, 'null')"]
    group = ("month", "department", "channel") if by_channel else ("month", "department")
    on = " AND ".join(f"g.{k} = v.{k}" for k in group)
    ranks = ", ".join(f"g.{rank}" for rank in _GROUP_RANKS[: len(group)])
    sql = f"""SELECT concat(g.prefix, {', '.join(middle)}, g.suffix) AS line
        FROM ({value}) v JOIN {_REPORT_GROUPS} g ON {on}
        ORDER BY {ranks}, v.position"""
    return sql, parameters


def _report(
    con: duckdb.DuckDBPyConnection, options: dict[str, str | None], *, fmt: str, exact: bool,
    out: TextIO, by_channel: bool = False,
) -> None:
    status = completeness.status_of(con)
    if status.empty:
        raise _Stop(1, NO_DATA_MESSAGE)
    months = list(pd.unique(status["month"].astype(str)))
    departments = list(pd.unique(status["department"].astype(str)))
    filters = _checked(options, months=months, departments=departments,
                       indicators=INDICATOR_IDS)
    scope = filters.scope(months)
    if by_channel:
        scope = Scope(scope.months, scope.departments, tuple(stored_indicators.channels(con)))
    select, parameters = stored_indicators.select(
        con, scope, indicators=filters.indicators, ordered=False
    )
    rows = {k: v for k, v in parameters.items() if k not in ("all", "order")}  # unordered: unread
    groups, more = report_groups_sql(select, fmt=fmt, by_channel=by_channel)
    sql, own = report_lines_sql(select, fmt=fmt, exact=exact, by_channel=by_channel)
    con.complete()  # a lookup's execute() may have left its result open
    con.register(_REPORT_STATUS, status[["month", "department", "complete"]])
    sink = _Sink(out)
    try:
        con.execute(groups, {**rows, "all": parameters["all"], **more})
        reader = _batches(con, sql, {**rows, **own})
        header = REPORT_CHANNEL_COLUMNS if by_channel else REPORT_COLUMNS
        sink.write(b"[" if fmt == "json" else (",".join(header) + "\r\n").encode())
        skip = len(", ") if fmt == "json" else 0  # every object follows ", ": the first without
        for batch in reader:
            data = _bytes_of(batch.column(0))
            sink.write(data[skip:])
            skip = 0 if len(data) else skip
        if fmt == "json":
            sink.write(b"]\n")
    finally:
        sink.close()
        con.complete()
        con.execute(f"DROP TABLE IF EXISTS temp.{_REPORT_GROUPS}")
        con.unregister(_REPORT_STATUS)


# --- route --------------------------------------------------------------------------------------

ROUTE_OUTPUT_COLUMNS: tuple[str, ...] = (
    "indicator", "department", "month", "actual", "planned", "travelled", "remaining", "status",
    "forecast", "forecast_low", "forecast_high", "complete", "notes",
)
"""The month rows printed by ``route``; ``forecast`` is the forecast's value that month and
``forecast_low`` … ``forecast_high`` its 80 % band, ``complete`` whether the month is complete for
the target's department (empty past the data), ``notes`` the event notes of that month that
belong on the target's chart (:func:`indicators.checkins.read_notes`), one a line."""

ROUTE_TARGET_COLUMNS: tuple[str, ...] = (
    "shape", "shape_note", "owner", "forecast_method", "forecast_at_target",
    "forecast_low_at_target", "forecast_high_at_target", "reach_probability", "reached_month",
    "reached_note", "pace_needed", "latest_month", "latest_month_complete",
    "checkin_month", "checkin_status", "checkin_note", "checkin_author",
)
"""Per-target figures repeated on each of its month rows in CSV, so the output is one table
(the summary's ``forecast_low`` / ``forecast_high``, the band at the target month, are named
``…_at_target`` there so as not to clash with the month rows' band)."""
_AT_TARGET = {"forecast_low": "forecast_low_at_target", "forecast_high": "forecast_high_at_target"}
_FLAG_COLUMNS = ("complete", "latest_month_complete")
_FRAME = "route_output_rows"
"""The name a ``route`` table is registered under while DuckDB writes its cells."""


def run_route_cli(
    db: str | Path, *, fmt: str, out: TextIO | None = None, err: TextIO | None = None,
    month: str | None = None, first: str | None = None, last: str | None = None,
    department: str | None = None, indicator: str | None = None, exact: bool = False,
) -> int:
    """Print the route to every target: month rows, then one summary row per target.

    CSV: one table, the month rows with their target's forecast and pace needed on each row.
    JSON: ``{"routes": [...], "targets": [...]}``.  ``department`` and ``indicator`` pick
    targets (a target for every department is ``All``'s), ``month``/``first``/``last`` its
    month rows; rounded as ``report`` unless ``exact``.  Exit 1 when there are no targets.
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    options = {"month": month, "first": first, "last": last, "department": department,
               "indicator": indicator}
    return _run(db, lambda con: _route(con, options, fmt=fmt, exact=exact, out=out, err=err),
                err)


def _route(
    con: duckdb.DuckDBPyConnection, options: dict[str, str | None], *, fmt: str, exact: bool,
    out: TextIO, err: TextIO,
) -> None:
    from indicators import checkins, route

    targets = store.read_targets(con)
    if targets.empty:
        raise _Stop(1, NO_TARGETS_MESSAGE)
    scope = Scope(departments=tuple(sorted({_flag_department(d) for d in targets["department"]})))
    indicators = stored_indicators.read(con, scope, indicators=sorted(set(targets["indicator"])))
    if store.stored_rows(con) == 0:
        print(f"warning: {NO_DATA_MESSAGE}; every month is 'no data'", file=err)
    flags = _complete_flags(completeness.status_of(con))
    routes, summary = route.route_tables(targets, indicators)
    routes = routes.assign(complete=_flags_of(flags, routes["month"], routes["department"]))
    notes = checkins.read_notes(con)
    routes = routes.assign(notes=_notes_of(notes, routes))
    routes = routes[[c for c in ROUTE_OUTPUT_COLUMNS if c in routes.columns]]
    summary = _with_latest_checkin(summary.assign(
        latest_month_complete=_flags_of(flags, summary["latest_month"], summary["department"])
    ), checkins.latest_checkins(con))
    filters = _checked(options, months=sorted(set(routes["month"])),
                       departments=list(dict.fromkeys(summary["department"])),
                       indicators=list(dict.fromkeys(summary["indicator"])))
    routes, summary = filters.rows(routes), filters.rows(summary, months=False)
    sink = _Sink(out)
    try:
        if fmt == "json":
            sink.write(b'{"routes": ')
            _write_frame(con, routes, sink, fmt=fmt, exact=exact)
            sink.write(b', "targets": ')
            _write_frame(con, summary, sink, fmt=fmt, exact=exact)
            sink.write(b', "checkins": ')
            _write_frame(con, _story(checkins.read_checkins(con), summary), sink, fmt=fmt,
                         exact=exact)
            sink.write(b', "notes": ')
            _write_frame(con, _story(notes, summary, notes=True), sink, fmt=fmt, exact=exact)
            sink.write(b"}\n")
        else:
            per_target = summary.rename(columns=_AT_TARGET)[
                ["indicator", "department", *ROUTE_TARGET_COLUMNS]]
            table = routes.merge(per_target, on=["indicator", "department"], how="left")
            _write_frame(con, table, sink, fmt=fmt, exact=exact)
    finally:
        sink.close()


def _notes_of(notes: pd.DataFrame, routes: pd.DataFrame) -> pd.Series:
    """Per route row, the notes of its month that belong on its target's chart, one a line
    (``None``: none): the note's indicator is the row's or none, its department the row's or
    All (every department)."""
    texts: dict[tuple[str, str, str], list[str]] = {}
    for note in notes.to_dict("records"):
        texts.setdefault((str(note["month"]), note["indicator"] or "", note["department"]),
                         []).append(str(note["note"]))
    cells = []
    for month, indicator, department in zip(routes["month"], routes["indicator"],
                                            routes["department"], strict=True):
        found = [text for i in ("", indicator) for d in dict.fromkeys((ALL_DEPARTMENTS, department))
                 for text in texts.get((month, i, d), [])]
        cells.append("\n".join(found) if found else None)
    return pd.Series(cells, index=routes.index, dtype=object)


def _with_latest_checkin(summary: pd.DataFrame, latest: pd.DataFrame) -> pd.DataFrame:
    """``summary`` with each target's latest check-in: ``checkin_month``, ``checkin_status``,
    ``checkin_note``, ``checkin_author`` (missing without one)."""
    picked = latest.rename(columns={c: f"checkin_{c}" for c in ("month", "status", "note",
                                                                 "author")})
    picked = picked[["indicator", "department", "checkin_month", "checkin_status",
                     "checkin_note", "checkin_author"]]
    merged = summary.merge(picked, on=["indicator", "department"], how="left")
    for column in picked.columns[2:]:
        merged[column] = merged[column].astype(object).where(merged[column].notna(), None)
    return merged


def _story(frame: pd.DataFrame, summary: pd.DataFrame, *, notes: bool = False) -> pd.DataFrame:
    """Check-ins of the targets in ``summary``, or (``notes``) the notes that belong on one of
    their charts, as printed: no id, the time written as ``YYYY-MM-DD HH:MM:SS`` (UTC)."""
    pairs = set(zip(summary["indicator"], summary["department"], strict=True))
    if notes:
        keep = [any((i is None or i == ti) and d in (ALL_DEPARTMENTS, td) for ti, td in pairs)
                for i, d in zip(frame["indicator"], frame["department"], strict=True)]
    else:
        keep = [(i, d) in pairs for i, d in zip(frame["indicator"], frame["department"],
                                                strict=True)]
    frame = frame[np.array(keep, dtype=bool)]
    written = frame["written_at"].map(lambda t: t.strftime("%Y-%m-%d %H:%M:%S"))
    frame = frame.drop(columns=["id"]).assign(written_at=written.astype(object))
    if "indicator" in frame and frame["indicator"].isna().any():
        frame = frame.assign(indicator=frame["indicator"].astype(object))
    return frame.reset_index(drop=True)


def frame_sql(frame: pd.DataFrame, *, fmt: str, exact: bool) -> tuple[str, dict[str, object]]:
    """The statement that writes the cells of ``frame`` (registered as :data:`_FRAME`, with an
    ``indicator`` column and a ``_row`` ordinal), and its parameters: numbers as ``report``
    writes them, rounded by the row's indicator (:data:`SHARE_COLUMNS` as ``%``) unless
    ``exact``; flags ``true``/``false``/missing; text by :func:`_text_cell_sql`; in ``_row``
    order."""
    numeric = [name for name in frame.columns if name not in _FLAG_COLUMNS
               and not pd.api.types.is_bool_dtype(frame[name].dtype)
               and pd.api.types.is_numeric_dtype(frame[name].dtype)]
    parameters: dict[str, object] = {} if exact or not numeric else _decimals_parameters()
    cells = []
    for name in frame.columns:
        column = f'"{name}"'
        kind = frame[name].dtype
        if name in _FLAG_COLUMNS or pd.api.types.is_bool_dtype(kind):
            cell = _flag_cell_sql(column)
        elif pd.api.types.is_numeric_dtype(kind):
            value = f"CAST({column} AS DOUBLE)"
            if not exact:
                decimals = (str(SHARE_DECIMALS) if name in SHARE_COLUMNS
                            else str(PROBABILITY_DECIMALS) if name in PROBABILITY_COLUMNS
                            else _ROW_DECIMALS.format(indicator='"indicator"'))
                value = rounded_sql(value, decimals)
            cell = number_text_sql(f"({value})")
        else:
            cell = _text_cell_sql(column, fmt)
            if fmt == "csv":
                parameters.update(export.SQL_PARAMETERS)
        cells.append(f"{cell} AS {column}")
    return f"SELECT {', '.join(cells)} FROM {_FRAME} ORDER BY _row", parameters


def _write_frame(
    con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, sink: _Sink, *, fmt: str, exact: bool
) -> None:
    """``frame``'s rows written by :func:`_write_rows`, their cells made by :func:`frame_sql`."""
    flags = {c: frame[c].astype("boolean") for c in _FLAG_COLUMNS if c in frame.columns}
    frame = frame.assign(**flags)
    con.register(_FRAME, frame.assign(_row=np.arange(len(frame))))
    try:
        sql, parameters = frame_sql(frame, fmt=fmt, exact=exact)
        reader = _batches(con, sql, parameters)
        _write_rows(sink, list(frame.columns), fmt, (batch.columns for batch in reader))
    finally:
        con.unregister(_FRAME)


def _flag_department(department: str) -> str:
    """The department whose flags and indicators a target's department reads (``*``: All)."""
    return ALL_DEPARTMENTS if department == store.ANY_DEPARTMENT else department


def _complete_flags(status: pd.DataFrame) -> dict[tuple[str, str], bool]:
    if status.empty:
        return {}
    return {
        (m, d): bool(c)
        for m, d, c in zip(status["month"], status["department"], status["complete"], strict=True)
    }


def _flags_of(
    flags: dict[tuple[str, str], bool], months: pd.Series, departments: pd.Series
) -> list[bool | None]:
    """Whether each (month, department) is complete; None for a month without data (past the
    data, or no latest month).  A target for ``*`` is All's."""
    return [
        flags.get((m, _flag_department(d))) if isinstance(m, str) else None
        for m, d in zip(months, departments, strict=True)
    ]


# --- complete months ------------------------------------------------------------------------

COMPLETE_COLUMNS: tuple[str, ...] = ("month", "department", "complete", "marked", "missing")
"""What ``complete`` without ``--month`` prints, one row per month and department (All first)."""


def run_complete_cli(
    db: str | Path,
    *,
    month: str | None,
    department: str | None,
    undo: bool,
    fmt: str = "csv",
    user: str | None = None,
    wait: float = store.DEFAULT_WAIT_SECONDS,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Without ``month``: print every month's completeness (``department`` filters).  With it:
    mark ``month`` complete by hand for ``department`` (default: every department, i.e. All),
    or with ``undo`` remove that mark, then say where the month stands.

    Exit 0 done; 1 no database or busy; 2 an unknown month or department, ``--undo`` without
    ``--month``.
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    if month is None:
        if undo:
            print("error: --undo needs --month (the month whose mark to remove)", file=err)
            return 2
        return _print_completeness(db, department=department, fmt=fmt, out=out, err=err)
    path = Path(db)
    if not path.is_file():
        print(f"error: no database at {store.printable(str(path))}: {NO_DATA_MESSAGE}", file=err)
        return 1
    try:
        con = store.connect_waiting(path, wait=wait, notify=store.print_to_stderr)
    except store.DatabaseBusy as busy:
        print(f"error: {store.printable(str(path))}: {busy}; nothing was changed", file=err)
        return 1
    try:
        try:
            month, stored, before = completeness.mark_complete(
                con, month, department or store.ANY_DEPARTMENT, complete=not undo, user=user
            )
        except completeness.MarkError as problem:
            print(f"error: {problem}; nothing was changed", file=err)
            return 2
        status = completeness.status_of(con)
    finally:
        con.close()
    shown = ALL_DEPARTMENTS if stored == store.ANY_DEPARTMENT else stored
    whom = "every department (All)" if stored == store.ANY_DEPARTMENT else store.printable(stored)
    if undo:
        said = "removed the mark" if before else "was not marked complete; nothing changed"
    else:
        said = "was already marked complete" if before else "marked complete"
    print(f"{month} {whom}: {said}", file=out)
    missing = completeness.missing_in(status, month, shown)
    if missing:
        print(f"{month} {store.printable(shown)}: incomplete — "
              f"{completeness.describe_missing(missing, month)}", file=out)
    else:
        print(f"{month} {store.printable(shown)}: complete", file=out)
    return 0


def _print_completeness(
    db: str | Path, *, department: str | None, fmt: str, out: TextIO, err: TextIO
) -> int:
    status = _load(db, completeness.status_of, err)
    if status is None:
        return 1
    if status.empty:
        print(f"error: {NO_DATA_MESSAGE}", file=err)
        return 1
    if department is not None:
        departments = list(dict.fromkeys(status["department"]))
        if department not in departments:
            print(f"error: {_known('department', department, departments)}", file=err)
            return 2
        status = status[status["department"] == department]
    table = status[list(COMPLETE_COLUMNS)]
    if fmt == "json":
        records = [
            {**{c: _cell(v) for c, v in zip(COMPLETE_COLUMNS[:4], row[:4], strict=True)},
             "missing": list(row[4])}
            for row in table.itertuples(index=False, name=None)
        ]
        _dump_json(records, out)
        out.write("\n")
    else:
        write_csv(table.assign(missing=[" ".join(m) for m in table["missing"]]), out)
    return 0
