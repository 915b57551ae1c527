"""The ``report`` and ``route`` commands: the indicator table and the route, as CSV or JSON.

Output goes to stdout, messages to stderr.  The database is opened read-only.

* CSV: a header row, then one row per record; a missing value is an empty cell; numbers are
  written in full (Python's shortest round-trip ``repr``, whole numbers without ``.0``).
* JSON: a list of objects (``report``) or ``{"routes": [...], "targets": [...]}`` (``route``);
  a missing value is ``null``.

Exit codes: 0 printed; 1 nothing to print (no data loaded yet, or the database can't be
read); 2 a filter names a month or department that is not in the data.
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
import pandas as pd

from indicators import store
from indicators.compute import LONG_COLUMNS, indicator_table
from indicators.export import neutralise_cell
from indicators.facts import parse_month

T = TypeVar("T")

NO_DATA_MESSAGE = "no data loaded yet — run `python -m indicators ingest` or `demo`"
NO_TARGETS_MESSAGE = "no targets loaded yet — ingest a targets file with `python -m indicators ingest`"


class _Unreadable(Exception):
    """The database can't be opened or holds no tables; the message says why."""


@contextmanager
def _read_only(db: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    path = Path(db)
    if not path.is_file():
        raise _Unreadable(f"no database at {path}: {NO_DATA_MESSAGE}")
    try:
        con = store.connect(path, read_only=True)
    except duckdb.Error as err:
        raise _Unreadable(f"cannot open database {path}: {err}") from None
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
        print(f"error: {db} has no dataset tables: {NO_DATA_MESSAGE}", file=err)
    return None


def format_number(value: object) -> str:
    """A number as CSV text: empty when missing, whole numbers without ``.0``, else ``repr``.

    >>> [format_number(v) for v in (3.0, 12.5, 1 / 3, float("nan"), None)]
    ['3', '12.5', '0.3333333333333333', '', '']
    """
    if value is None:
        return ""
    number = float(value)
    if math.isnan(number):
        return ""
    if number.is_integer() and abs(number) < 2**53:
        return str(int(number))
    return repr(number)


def _cell(value: object) -> object:
    """A value as the JSON encoder should see it: NaN/NA → None, numpy scalars → Python."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, str):
        return value
    return value.item() if hasattr(value, "item") else value


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    return [
        {column: _cell(value) for column, value in zip(frame.columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def write_csv(frame: pd.DataFrame, out: TextIO) -> None:
    """``frame`` as CSV: numbers by :func:`format_number`, missing as empty, text made safe.

    Text that a spreadsheet would run as a formula gets a leading ``'``
    (:func:`indicators.export.neutralise_cell`), and rows end in CRLF so that a carriage
    return inside a cell is quoted rather than starting a new row — as in the app's downloads.
    """
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(frame.columns)
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    for row in frame.itertuples(index=False, name=None):
        writer.writerow(
            format_number(v) if is_number else ("" if _cell(v) is None else neutralise_cell(v))
            for v, is_number in zip(row, numeric, strict=True)
        )


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
) -> int:
    """Print the indicator long table (``month,department,indicator,value``), filtered.

    ``department`` may be ``All``.  Returns the exit code (see the module docstring).
    """
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    table = _load(db, indicator_table, err)
    if table is None:
        return 1
    if table.empty:
        print(f"error: {NO_DATA_MESSAGE}", file=err)
        return 1
    table, problem = _filter(table, month=month, department=department)
    if problem is not None:
        print(f"error: {problem}", file=err)
        return 2
    table = table[list(LONG_COLUMNS)]
    if fmt == "json":
        json.dump(_records(table), out, ensure_ascii=False)
        out.write("\n")
    else:
        write_csv(table, out)
    return 0


ROUTE_OUTPUT_COLUMNS: tuple[str, ...] = (
    "indicator", "department", "month", "actual", "planned", "travelled", "remaining", "status",
    "forecast",
)
"""The month rows printed by ``route``; ``forecast`` is the forecast line's value that month."""

ROUTE_TARGET_COLUMNS: tuple[str, ...] = (
    "forecast_at_target", "reached_month", "reached_note", "pace_needed",
)
"""Per-target figures repeated on each of its month rows in CSV, so the output is one table."""


def run_route_cli(
    db: str | Path, *, fmt: str, out: TextIO | None = None, err: TextIO | None = None
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
    ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        targets = store.read_targets(con)
        return targets, (indicator_table(con) if not targets.empty else None)

    loaded = _load(db, targets_and_indicators, err)
    if loaded is None:
        return 1
    targets, indicators = loaded
    if indicators is None:
        print(f"error: {NO_TARGETS_MESSAGE}", file=err)
        return 1
    if indicators.empty:
        print(f"warning: {NO_DATA_MESSAGE}; every month is 'no data'", file=err)
    routes = route.route_table(targets, indicators)
    routes = routes[[c for c in ROUTE_OUTPUT_COLUMNS if c in routes.columns]]
    summary = route.route_summary(targets, indicators)
    if fmt == "json":
        json.dump({"routes": _records(routes), "targets": _records(summary)}, out,
                  ensure_ascii=False)
        out.write("\n")
    else:
        per_target = summary[["indicator", "department", *ROUTE_TARGET_COLUMNS]]
        write_csv(routes.merge(per_target, on=["indicator", "department"], how="left"), out)
    return 0

