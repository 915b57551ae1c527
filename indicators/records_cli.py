"""``python -m indicators records``: the stored rows behind an indicator's value, as CSV or JSON.

    python -m indicators records --db PATH --indicator ID --month YYYY-MM [--department D]
                                 [--component C] [--sort COLUMN] [--desc]
                                 [--limit N] [--offset N] [--format csv|json]

Which rows, ``counted`` and the order are :mod:`indicators.records`' rules.  Without ``--limit``
every row from ``--offset`` is printed (a download); ``--limit N`` (N ≥ 1) prints at most N
rows, a page; ``--limit 0`` is refused (it would print no row: leave ``--limit`` out for every
row).  The command reads every department: it has no reader's roles (the app's pages pass the
reader's departments to :func:`indicators.records.records`).

Cells, in both formats: text as stored; timestamps the stored instant in UTC,
``YYYY-MM-DDTHH:MM:SSZ`` (``.ffffff`` when it has microseconds); money as its exact decimal
text, trailing zeros dropped (``1234.5``, never through a float); other numbers as ``report
--exact`` writes them (whole numbers without ``.0``); ``counted`` and ``detractor`` ``true`` or
``false``; a missing value empty (CSV) or ``null`` (JSON).

* CSV: a header row (:attr:`indicators.records.RecordSource.columns`), then one row per record,
  rows ending in CRLF; text cells neutralised against formulas (:mod:`indicators.export`:
  ``=HYPERLINK(…)`` is written ``'=HYPERLINK(…)``).
* JSON: one object — ``indicator``, ``month``, ``department``, ``component``, ``dataset``,
  ``total`` (rows matching), ``counted`` (in the numerator), ``subtracted`` (NPS's
  detractors, else ``null``), ``sums`` (money as text, counts as numbers), ``per`` (the
  indicator whose records a rate divides by, else ``null``), ``offset``, ``limit`` (``null``:
  every row), ``columns`` and ``rows`` (a list of objects).  Text is not neutralised.

Exit codes: 0 printed; 1 the database can't be read; 2 the rows can't be listed as asked (an
unknown or unlisted indicator, a month not ``YYYY-MM``, a department not in the data, a
component on rows without one, a column not listed, ``--limit 0``), the reason on stderr.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TextIO

import duckdb
import pandas as pd

from indicators import export, records
from indicators.catalog import ALL_DEPARTMENTS
from indicators.report import Stop, format_number, run_read_only
from indicators.schema import DATASETS


def money_text(value: Decimal) -> str:
    """An exact amount as decimal text, trailing zeros dropped.

    >>> [money_text(Decimal(v)) for v in ("1234.5000", "10.0000", "0.0000", "0.0100")]
    ['1234.5', '10', '0', '0.01']
    """
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def instant_text(value: datetime) -> str:
    """A stored instant (UTC) as ISO 8601 with ``Z``.

    >>> instant_text(datetime(2025, 3, 7, 14, 5)), instant_text(datetime(2025, 3, 7, 14, 5, 0, 5))
    ('2025-03-07T14:05:00Z', '2025-03-07T14:05:00.000005Z')
    """
    return value.isoformat(timespec="microseconds" if value.microsecond else "seconds") + "Z"


def _cell(value: object) -> object:
    """A cell as JSON holds it (None when missing)."""
    if value is None or value is pd.NaT or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, Decimal):
        return money_text(value)
    if isinstance(value, pd.Timestamp):
        return instant_text(value.to_pydatetime())
    if isinstance(value, datetime):
        return instant_text(value)
    return value.item() if hasattr(value, "item") else value


def rows(result: records.Records) -> list[dict[str, object]]:
    """The page as JSON objects."""
    frame = result.frame.astype(object)
    return [{name: _cell(value) for name, value in zip(result.columns, row, strict=True)}
            for row in frame.itertuples(index=False, name=None)]


def document(result: records.Records) -> dict[str, object]:
    """The JSON object (module docstring)."""
    return {
        "indicator": result.indicator, "month": result.month, "department": result.department,
        "component": result.component, "dataset": result.dataset, "total": result.total,
        "counted": result.counted, "subtracted": result.subtracted,
        "sums": {name: _cell(value) for name, value in result.sums.items()},
        "per": records.SOURCES[result.indicator].per, "offset": result.offset,
        "limit": result.limit, "columns": list(result.columns), "rows": rows(result),
    }


def csv_text(result: records.Records) -> str:
    """The CSV (module docstring): every cell text, text cells neutralised."""
    kinds = {c.name: c.kind for c in DATASETS[result.dataset].columns}
    listed = rows(result)
    table = {name: [_csv_cell(row[name], kinds.get(name)) for row in listed]
             for name in result.columns}
    return pd.DataFrame(table, columns=list(result.columns), dtype=object).to_csv(
        index=False, lineterminator="\r\n")


def _csv_cell(value: object, kind: str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind in ("id", "text", "choice"):
        return export.neutralise_cell(str(value))
    if isinstance(value, (int, float)):
        return format_number(value)
    return str(value)


def run_cli(
    db: str | Path, *, indicator: str, month: str, department: str | None,
    component: str | None, sort: str | None, descending: bool, limit: int | None,
    offset: int, fmt: str, out: TextIO | None = None, err: TextIO | None = None,
) -> int:
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    if limit == 0:
        print("error: --limit 0 would print no row; leave --limit out for every row", file=err)
        return 2

    def body(con: duckdb.DuckDBPyConnection) -> None:
        try:
            result = records.records(
                con, indicator=indicator, month=month,
                department=department or ALL_DEPARTMENTS, component=component,
                order_by=sort, descending=descending, limit=limit, offset=offset)
        except (records.RecordsError, records.RecordsForbidden) as problem:
            raise Stop(2, str(problem)) from None
        if fmt == "json":
            out.write(json.dumps(document(result), ensure_ascii=False) + "\n")
        else:
            out.write(csv_text(result))

    return run_read_only(db, body, err)
