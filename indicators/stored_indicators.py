"""The stored indicator table: computed once by the engine, kept current by every change, read
by every page, export and command.

SKELETON (issue 17 groundwork): :func:`read` computes the table live until the stored table is
built; the tables, :func:`rebuild`, :func:`refresh` and :func:`verify` are being written.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pandas as pd

from indicators.scope import Scope

LONG_COLUMNS: tuple[str, ...] = ("month", "department", "indicator", "value")


def read(
    con: duckdb.DuckDBPyConnection,
    scope: Scope | None = None,
    *,
    indicators: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The indicator long table of ``scope`` (the columns of :data:`LONG_COLUMNS`: month text
    ``YYYY-MM``, department with ``All``, catalog id, float64 value with NaN for missing),
    sorted as :func:`indicators.compute.sort_long`; only ``indicators`` when given.

    The same values, row for row, as :func:`indicators.compute.indicator_table` with the same
    months and departments."""
    from indicators.compute import indicator_table

    scope = scope or Scope()
    table = indicator_table(con, months=scope.months, departments=scope.departments)
    if indicators is not None:
        wanted = set(indicators)
        table = table[table["indicator"].isin(wanted)].reset_index(drop=True)
    return table


def run_rebuild_cli(db: str, *, wait: float) -> int:
    """``python -m indicators rebuild``: SKELETON, written in issue 17's stored-table work."""
    raise NotImplementedError("rebuild: issue 17 groundwork")
