"""``python -m indicators unusual``: the month's unusual values, each with its reason.

    python -m indicators unusual --db PATH [--month YYYY-MM] [--department D]
                                 [--format csv|json]

The month defaults to the latest one holding data; the departments to every one and All
(``--department All`` is every department together only).  The threshold and the minimum
volume are the settings (``unusual_threshold``, ``min_volume``); the rules are
:mod:`indicators.unusual`'s.

CSV: one row per unusual value — :data:`COLUMNS` — in the indicator table's order (All first,
then departments by name, catalog order); numbers as ``report --exact`` writes them, text
neutralised against formulas; only the header when nothing is unusual.  JSON: ``{"month",
"threshold", "min_volume", "values": [...]}``, the same fields per value (a missing number
``null``).

Exit codes: 0 done (nothing unusual too); 1 the database can't be read or holds no data; 2 a
month that is not ``YYYY-MM`` or outside the data, or a department without data, the reason on stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

import duckdb
import pandas as pd

from indicators import export, store, stored_indicators, unusual
from indicators import months as month_labels
from indicators.catalog import ALL_DEPARTMENTS
from indicators.report import NO_DATA_MESSAGE, Stop, format_number, run_read_only
from indicators.scope import Scope

COLUMNS: tuple[str, ...] = (
    "month", "department", "indicator", "value", "usual", "mad", "score", "basis", "volume",
    "reason",
)
NUMBERS: tuple[str, ...] = ("value", "usual", "mad", "score", "volume")
TEXT: tuple[str, ...] = ("department", "reason")


def listed(con: duckdb.DuckDBPyConnection, *, month: str | None,
           department: str | None) -> tuple[str, pd.DataFrame]:
    """The month listed and its unusual values (:data:`COLUMNS`); :class:`Stop` for a bad
    month or department, or no data."""
    months, departments = stored_indicators.grid(con)
    if not months:
        raise Stop(1, NO_DATA_MESSAGE)
    if month is None:
        month = months[-1]
    else:
        try:
            month = month_labels.from_index(month_labels.index(month))
        except ValueError as problem:
            raise Stop(2, f"--month: {problem}") from None
        if not months[0] <= month <= months[-1]:
            raise Stop(2, f"--month: no data in {month} (the data runs from {months[0]} to "
                       f"{months[-1]})")
    if department is not None and department not in (ALL_DEPARTMENTS, *departments):
        raise Stop(2, f"--department: no data for department {store.printable(department)!r}")
    scope = Scope((month, month), None if department is None else (department,))
    flags = unusual.unusual_in(con, scope)
    return month, flags[flags["unusual"]][list(COLUMNS)].reset_index(drop=True)


def run_cli(db: str | Path, *, month: str | None, department: str | None, fmt: str,
            out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err

    def body(con: duckdb.DuckDBPyConnection) -> None:
        shown, table = listed(con, month=month, department=department)
        if fmt == "json":
            settings = store.read_settings(con)
            values = table.astype(object).where(table.notna(), None).to_dict("records")
            out.write(json.dumps({"month": shown, "threshold": settings.unusual_threshold,
                                  "min_volume": settings.min_volume, "values": values},
                                 ensure_ascii=False) + "\n")
            return
        table = table.astype(object)
        for column in TEXT:
            table[column] = table[column].map(export.neutralise_cell)
        for column in NUMBERS:
            table[column] = table[column].map(format_number)
        out.write(table.to_csv(index=False, lineterminator="\r\n"))

    return run_read_only(db, body, err)
