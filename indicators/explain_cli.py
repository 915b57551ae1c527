"""``python -m indicators explain``: what moved an indicator, segment by segment.

    python -m indicators explain --db PATH --indicator ID --month YYYY-MM [--department D]
                                 [--by department|component|channel]
                                 [--against previous|year|target] [--format csv|json]

CSV: one row per segment — ``segment, before, after, contribution, mix_effect, rate_effect``
(the two effects empty for a sum) — then a last row with segment ``total`` (before and after
the indicator's own values, contribution the total change); neutralised against formulas.
Numbers in CSV as ``report --exact`` writes them (whole numbers without ``.0``).
Against a target (``--against target``), ``before`` is the planned value (each segment's
share of it) and ``compared_with`` is ``target``.
JSON: ``{"indicator", "department", "by", "month", "compared_with", "value_before",
"value_after", "total_change", "segments": [...]}``.  Numbers keep every digit (the
contributions add up to the total change).  The rules are :mod:`indicators.explain`'s.

Exit codes: 0 done; 1 the database can't be read; 2 a change that can't be split as asked (an
indicator that is no sum, ``--by department`` with a department, a month without data …), the
reason on stderr.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import TextIO

import duckdb
import pandas as pd

from indicators import explain, export
from indicators.catalog import ALL_DEPARTMENTS
from indicators.report import Stop, format_number, run_read_only

COLUMNS = ("segment", "before", "after", "contribution", "mix_effect", "rate_effect")


def _number(value: float) -> float | None:
    return None if math.isnan(value) else value


def frame(result: explain.Explanation) -> pd.DataFrame:
    """The CSV's rows: the segments, then ``total``."""
    rows = [{"segment": p.segment, "before": _number(p.before), "after": _number(p.after),
             "contribution": p.contribution, "mix_effect": _number(p.mix_effect),
             "rate_effect": _number(p.rate_effect)} for p in result.parts]
    rows.append({"segment": "total", "before": result.value_before, "after": result.value_after,
                 "contribution": result.total_change, "mix_effect": None, "rate_effect": None})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def document(result: explain.Explanation) -> dict[str, object]:
    """The JSON object."""
    return {
        "indicator": result.indicator, "department": result.department, "by": result.by,
        "month": result.month, "compared_with": result.compared_with,
        "value_before": result.value_before, "value_after": result.value_after,
        "total_change": result.total_change,
        "segments": frame(result).iloc[:-1].astype(object).where(
            frame(result).iloc[:-1].notna(), None).to_dict("records"),
    }


def run_cli(
    db: str | Path, *, indicator: str, month: str, department: str | None, by: str,
    against: str, fmt: str, out: TextIO | None = None, err: TextIO | None = None,
) -> int:
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err

    def body(con: duckdb.DuckDBPyConnection) -> None:
        try:
            result = explain.explain(con, indicator=indicator, month=month,
                                     department=department or ALL_DEPARTMENTS, by=by,
                                     against=against)
        except (explain.ExplainError, ValueError) as problem:
            raise Stop(2, str(problem)) from None
        if fmt == "json":
            out.write(json.dumps(document(result), ensure_ascii=False) + "\n")
        else:
            # Numbers stay numbers (a −1 is no formula); the segment's text is neutralised.
            table = frame(result)
            table["segment"] = table["segment"].map(export.neutralise_cell)
            for column in COLUMNS[1:]:
                table[column] = table[column].map(format_number)
            out.write(table.to_csv(index=False, lineterminator="\r\n"))

    return run_read_only(db, body, err)
