"""The ``report``, ``route`` and ``complete`` commands: the indicator table, the route and the
complete months, as CSV or JSON.

Output goes to stdout, messages to stderr.  The database is opened read-only, except by
``complete --month``, which marks a month complete by hand (or, with ``--undo``, removes it).

**Complete months** (:mod:`indicators.completeness`).  ``report`` rows carry ``complete``
(``true``/``false``): whether that month is complete for that department (or All); ``route``
month rows carry ``complete`` for the target's department (empty past the data), and every
target its ``latest_month`` and ``latest_month_complete``.  ``complete`` without ``--month``
prints ``month, department, complete, marked, missing`` (the missing datasets, space-separated
in CSV, a list in JSON).

* CSV: a header row, then one row per record; a missing value is an empty cell; numbers are
  written in full (Python's shortest round-trip ``repr``, whole numbers without ``.0``).
* JSON: a list of objects (``report``) or ``{"routes": [...], "targets": [...]}`` (``route``);
  a missing value is ``null``.  The output is always valid JSON (``allow_nan=False``): a value
  that is not finite (an overflowed sum) is missing, ``null`` — and empty in CSV.

**The same bytes every run.**  On the same data, ``report`` and ``route`` print the same bytes
run after run, whatever DuckDB's threads, and after the same files are loaded again: money is
summed exactly, as decimals (:mod:`indicators.facts`), every other figure comes from counts or
per-row values (medians and percentiles take the same order statistics however the rows were
read), and every output is sorted.

**Memory.**  ``report`` keeps the monthly facts and the wide indicator table (one row per month
and department, one float column per indicator: the long table's size ÷ 24, numbers only) and
writes the long table from it in batches of :data:`BATCH_ROWS` wide rows, so the output's text
never sits in memory whole (see the README's Reliability section for the figures).

Exit codes: 0 printed (or marked); 1 nothing to print (no data loaded yet, or the database
can't be read, or stayed busy); 2 a filter or mark names a month or department that is not in
the data.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO, TypeVar

import duckdb
import numpy as np
import pandas as pd

from indicators import completeness, store
from indicators.catalog import ALL_DEPARTMENTS, INDICATOR_IDS
from indicators.compute import (
    LONG_COLUMNS,
    facts_table,
    indicator_table,
    indicator_values,
    sort_wide,
)
from indicators.export import neutralise_cell
from indicators.facts import parse_month

T = TypeVar("T")

NO_DATA_MESSAGE = "no data loaded yet — run `python -m indicators ingest` or `demo`"
NO_TARGETS_MESSAGE = "no targets loaded yet — ingest a targets file with `python -m indicators ingest`"
BATCH_ROWS = 2_000
"""Wide rows (month × department) turned into long rows and written at a time by ``report``:
24 × 2,000 = 48,000 output rows per batch."""
REPORT_COLUMNS: tuple[str, ...] = (*LONG_COLUMNS, "complete")
"""The rows ``report`` prints: the long table and whether the month is complete."""


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
    """``frame`` as CSV: numbers by :func:`format_number`, missing as empty, text made safe.

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


def _known(label: str, wanted: str, known: list[str]) -> str:
    shown = ", ".join(known) if len(known) <= 12 else f"{known[0]} … {known[-1]}"
    return f"unknown {label} {wanted!r}; the data has: {shown}"


def _filter(
    table: pd.DataFrame, *, month: str | None, department: str | None
) -> tuple[pd.DataFrame, str | None]:
    """The rows for ``month`` / ``department``, or a message naming what is unknown."""
    if month is not None:
        months = list(dict.fromkeys(table["month"]))
        try:
            month = parse_month(month).strftime("%Y-%m")
        except ValueError as err:
            return table, str(err)
        if month not in months:
            return table, _known("month", month, months)
        table = table[table["month"] == month]
    if department is not None:
        departments = list(dict.fromkeys(table["department"]))
        if department not in departments:
            return table, _known("department", department, departments)
        table = table[table["department"] == department]
    return table.reset_index(drop=True), None


def run_report_cli(
    db: str | Path, *, month: str | None, department: str | None, fmt: str,
    out: TextIO | None = None, err: TextIO | None = None,
    first: str | None = None, last: str | None = None, indicator: str | None = None,
    exact: bool = False,
) -> int:
    """Print the indicator long table (``month,department,indicator,value``), filtered.

    ``department`` may be ``All``.  Returns the exit code (see the module docstring).
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    table = _load(db, lambda con: with_completeness(wide_table(con), completeness.status_of(con)),
                  err)
    if table is None:
        return 1
    if table.empty:
        print(f"error: {NO_DATA_MESSAGE}", file=err)
        return 1
    table, problem = _filter(table, month=month, department=department)
    if problem is not None:
        print(f"error: {problem}", file=err)
        return 2
    if fmt == "json":
        _write_long_json(table, out)
    else:
        _write_long_csv(table, out)
    return 0


def wide_table(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The indicator table as :func:`~indicators.compute.indicator_values` gives it (one row per
    month and department, one column per indicator), in the long table's order.

    The same values as :func:`~indicators.compute.indicator_table`, 24 times fewer rows and no
    text per value: the long table is made from it batch by batch (:func:`long_batches`).
    """
    settings = store.read_settings(con)
    return sort_wide(indicator_values(facts_table(con, settings=settings), settings=settings))


def with_completeness(wide: pd.DataFrame, status: pd.DataFrame) -> pd.DataFrame:
    """``wide`` with a ``complete`` column from a :func:`indicators.completeness.month_status`
    frame (a month and department it lacks has no rows and expects none: complete)."""
    flags = status.set_index(["month", "department"])["complete"].astype(bool)
    keys = pd.MultiIndex.from_arrays([wide["month"], wide["department"]])
    found = flags.reindex(keys)
    return wide.assign(complete=found.fillna(True).astype(bool).to_numpy())


def long_batches(wide: pd.DataFrame, *, rows: int | None = None) -> Iterator[pd.DataFrame]:
    """The long table (``month, department, indicator, value``, and ``complete`` when ``wide``
    has it) of ``wide``, ``rows`` (default :data:`BATCH_ROWS`) wide rows × 24 indicators, in
    catalog order, at a time."""
    rows = BATCH_ROWS if rows is None else rows
    ids = list(INDICATOR_IDS)
    for start in range(0, len(wide), rows):
        chunk = wide.iloc[start : start + rows]
        batch = pd.DataFrame({
            "month": np.repeat(chunk["month"].to_numpy(dtype=object), len(ids)),
            "department": np.repeat(chunk["department"].to_numpy(dtype=object), len(ids)),
            "indicator": np.tile(np.array(ids, dtype=object), len(chunk)),
            "value": chunk[ids].to_numpy(dtype="float64").reshape(-1),
        })
        if "complete" in chunk.columns:
            batch["complete"] = np.repeat(chunk["complete"].to_numpy(dtype=bool), len(ids))
        yield batch


def _write_long_csv(wide: pd.DataFrame, out: TextIO) -> None:
    csv.writer(out, lineterminator="\r\n").writerow(REPORT_COLUMNS)
    for batch in long_batches(wide):
        write_csv(batch, out, header=False)


def _write_long_json(wide: pd.DataFrame, out: TextIO) -> None:
    """The same text as ``json.dump`` of the whole list of records, written record by record."""
    out.write("[")
    separator = ""
    for batch in long_batches(wide):
        out.write(separator + ", ".join(
            json.dumps(record, ensure_ascii=False, allow_nan=False) for record in _records(batch)
        ))
        separator = ", "
    out.write("]\n")


ROUTE_OUTPUT_COLUMNS: tuple[str, ...] = (
    "indicator", "department", "month", "actual", "planned", "travelled", "remaining", "status",
    "forecast", "complete",
)
"""The month rows printed by ``route``; ``forecast`` is the forecast line's value that month,
``complete`` whether the month is complete for the target's department (empty past the data)."""

ROUTE_TARGET_COLUMNS: tuple[str, ...] = (
    "forecast_at_target", "reached_month", "reached_note", "pace_needed", "latest_month",
    "latest_month_complete",
)
"""Per-target figures repeated on each of its month rows in CSV, so the output is one table."""


def run_route_cli(
    db: str | Path, *, fmt: str, out: TextIO | None = None, err: TextIO | None = None,
    month: str | None = None, first: str | None = None, last: str | None = None,
    department: str | None = None, indicator: str | None = None, exact: bool = False,
) -> int:
    """Print the route to every target: month rows, then one summary row per target.

    CSV: one table, the month rows with their target's forecast and pace needed on each row.
    JSON: ``{"routes": [...], "targets": [...]}``.  Exit 1 when there are no targets.
    """
    from indicators import route

    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    def targets_and_indicators(
        con: duckdb.DuckDBPyConnection,
    ) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame]:
        targets = store.read_targets(con)
        if targets.empty:
            return targets, None, pd.DataFrame()
        return targets, indicator_table(con), completeness.status_of(con)

    loaded = _load(db, targets_and_indicators, err)
    if loaded is None:
        return 1
    targets, indicators, status = loaded
    if indicators is None:
        print(f"error: {NO_TARGETS_MESSAGE}", file=err)
        return 1
    if indicators.empty:
        print(f"warning: {NO_DATA_MESSAGE}; every month is 'no data'", file=err)
    flags = _complete_flags(status)
    routes = route.route_table(targets, indicators)
    routes = routes.assign(complete=_flags_of(flags, routes["month"], routes["department"]))
    routes = routes[[c for c in ROUTE_OUTPUT_COLUMNS if c in routes.columns]]
    summary = route.route_summary(targets, indicators)
    summary = summary.assign(
        latest_month_complete=_flags_of(flags, summary["latest_month"], summary["department"])
    )
    if fmt == "json":
        _dump_json({"routes": _records(routes), "targets": _records(summary)}, out)
        out.write("\n")
    else:
        per_target = summary[["indicator", "department", *ROUTE_TARGET_COLUMNS]]
        write_csv(routes.merge(per_target, on=["indicator", "department"], how="left"), out)
    return 0



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
        flags.get((m, ALL_DEPARTMENTS if d == store.ANY_DEPARTMENT else d))
        if isinstance(m, str) else None
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
