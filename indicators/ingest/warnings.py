"""Dates that load but look like a mistake: :func:`row_warnings` over a load's new rows.

Two warnings, for every timestamp column of an event dataset and for retention's ``month``
(targets' months are plans, which may lie years apart, and get none):

* **the Unix epoch** — values on 1970-01-01, the date an export writes for an empty date
  (26 real reviews dated 1970-01-01 stretched a report over 548 months).  "On 1970-01-01"
  means the UTC date *or* the date in the organisation's time zone (setting ``time_zone``):
  an export may write the epoch as ``1970-01-01`` (local, naive text), as
  ``1970-01-01T00:00:00Z`` or rendered in its own zone (``1969-12-31T19:00:00-05:00``); all
  three are caught, and together they are one interval of at most two days.
* **far dates** — values separated from the column's main body of dates by a gap of more than
  :data:`FAR_YEARS` years (calendar years, between consecutive days holding values).  The main
  body is the run of days without such a gap holding the most rows (on a tie, the latest);
  every other run is far.  A file spanning eight real years month by month has no such gap and
  never warns, however its rows are spread; one row nine years before the others does.  Epoch
  values are reported once, as epoch values, not again as far.

Cost: ONE aggregate over the new rows (per column min, max and the epoch count, and the first
row id); only a column whose values span more than :data:`FAR_YEARS` years is grouped by year,
and only one with a gap of :data:`FAR_YEARS` or more between its years is grouped by day to find
its runs; only a column that warns is read again for its count and first rows.

Rows are as in the file (header = row 1): the new rows' positions (0 for the first, in the
order they were read) mapped by ``file_rows`` (for a CSV, :func:`read_csv.file_rows` of the
source), else position + 2.  Values are shown as dates in the organisation's time zone.

Each warning is a :class:`FileWarning`; ``python -m indicators ingest --strict`` rejects a
file that has any (the load does that), otherwise it loads with the warning printed, shown on
the upload page and kept in the upload log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import duckdb

from indicators import store
from indicators.ingest.problems import FIRST_ROWS, FileWarning
from indicators.ingest.sql import quote
from indicators.schema import Dataset

FAR_YEARS: int = 5
"""A gap of more than this many years between a column's dates sets the smaller side apart."""

EPOCH = dt.date(1970, 1, 1)
"""The Unix epoch's date: what many exports write for an empty date."""

FileRows = Callable[[set[int]], dict[int, int]]
"""Positions of new rows (0 = the first read) to file rows."""


def warned_columns(dataset: Dataset) -> tuple[str, ...]:
    """The columns whose dates are checked: timestamps, and retention's month."""
    if dataset.month_column is None:
        return ()
    return tuple(c.name for c in dataset.columns if c.kind in ("timestamp", "month"))


@dataclass(frozen=True)
class _Column:
    """One checked column's figures from the first aggregate."""

    name: str
    low: dt.datetime | dt.date | None
    high: dt.datetime | dt.date | None
    epoch: int


def row_warnings(
    con: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    rows_sql: str,
    params: dict[str, object],
    *,
    file_rows: FileRows | None = None,
) -> list[FileWarning]:
    """The warnings of the rows ``FROM {rows_sql}`` (a table and a condition, e.g.
    ``"purchases" WHERE rowid > $stored_until``, with its ``params``): stored columns,
    timestamps as UTC instants.  Epoch warnings first, then far dates, column by column."""
    names = warned_columns(dataset)
    if not names:
        return []
    zone = ZoneInfo(store.read_settings(con).time_zone)
    check = _Check(con, dataset, rows_sql, params, zone, file_rows)
    first, columns = check.aggregate(names)
    if first is None:
        return []
    found = [check.epoch_warning(c.name, first) for c in columns if c.epoch]
    for c in columns:
        if c.low is not None and c.high is not None and _span_years_over(c.low, c.high):
            far = check.far_warning(c.name, first)
            if far is not None:
                found.append(far)
    return found


def _span_years_over(low: dt.date, high: dt.date) -> bool:
    """Whether ``high`` lies more than :data:`FAR_YEARS` calendar years after ``low``."""
    low_day = low.date() if isinstance(low, dt.datetime) else low
    high_day = high.date() if isinstance(high, dt.datetime) else high
    try:
        shifted = low_day.replace(year=low_day.year + FAR_YEARS)
    except ValueError:  # 29 February
        shifted = low_day.replace(year=low_day.year + FAR_YEARS, day=28)
    return high_day > shifted


@dataclass(frozen=True)
class _Flagged:
    """The rows a warning is about."""

    count: int
    low: dt.datetime | dt.date
    high: dt.datetime | dt.date
    earliest_month: dt.date | None
    rows: list[int]
    """The first :data:`FIRST_ROWS` of them, as in the file."""


class _Check:
    """The statements over one load's new rows (identifiers from the schema only)."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        dataset: Dataset,
        rows_sql: str,
        params: dict[str, object],
        zone: ZoneInfo,
        file_rows: FileRows | None,
    ) -> None:
        self.con, self.dataset, self.params, self.zone = con, dataset, params, zone
        self.rows = f"(SELECT rowid AS row_id, * FROM {rows_sql}) AS new_rows"
        self.file_rows = file_rows
        self.is_month = {c.name: c.kind == "month" for c in dataset.columns}
        self.epoch_params = self._epoch_window()

    def _epoch_window(self) -> dict[str, object]:
        """The instants (naive UTC) from the earlier to the later start of 1970-01-01 (UTC and
        local) up to the later of their ends: one interval, as no offset exceeds 14 hours."""
        utc = dt.datetime.combine(EPOCH, dt.time())
        local = utc.replace(tzinfo=self.zone).astimezone(dt.UTC).replace(tzinfo=None)
        day = dt.timedelta(days=1)
        return {
            "epoch_from": min(utc, local),
            "epoch_until": max(utc, local) + day,
            "epoch_day": EPOCH,
        }

    def _epoch_test(self, column: str) -> str:
        col = quote(column)
        if self.is_month[column]:
            return f"{col} = $epoch_day"
        return f"({col} >= $epoch_from AND {col} < $epoch_until)"

    def _params(self, sql: str, extra: dict[str, object] | None = None) -> dict[str, object]:
        """The parameters ``sql`` uses (DuckDB refuses unused ones)."""
        values = dict(self.params)
        values.update({k: v for k, v in self.epoch_params.items() if f"${k}" in sql})
        values.update(extra or {})
        return values

    def _run(self, sql: str, extra: dict[str, object] | None = None) -> list[tuple]:
        return self.con.execute(sql, self._params(sql, extra)).fetchall()

    def aggregate(self, names: Sequence[str]) -> tuple[int | None, list[_Column]]:
        """The first new row's id and each column's min, max and epoch count: one scan."""
        parts = ["min(row_id)"]
        for name in names:
            col = quote(name)
            parts += [
                f"min({col})",
                f"max({col})",
                f"count(*) FILTER (WHERE {self._epoch_test(name)})",
            ]
        (row,) = self._run(f"SELECT {', '.join(parts)} FROM {self.rows}")
        columns = [
            _Column(name, row[1 + 3 * i], row[2 + 3 * i], row[3 + 3 * i])
            for i, name in enumerate(names)
        ]
        return row[0], columns

    def _flagged(
        self, column: str, condition: str, first: int, extra: dict[str, object] | None = None
    ) -> _Flagged:
        """The rows meeting ``condition``: how many, the column's range, their earliest month
        and their first file rows."""
        col, month = quote(column), self.dataset.month_column
        month_sql = quote("month") if month is not None else "NULL"
        ((count, low, high, earliest_month),) = self._run(
            f"SELECT count(*), min({col}), max({col}), min({month_sql}) FROM {self.rows} "
            f"WHERE {condition}",
            extra,
        )
        firsts = self._run(
            f"SELECT row_id FROM {self.rows} WHERE {condition} ORDER BY row_id "
            f"LIMIT {FIRST_ROWS}",
            extra,
        )
        positions = {r - first for (r,) in firsts}
        mapped = self.file_rows(positions) if self.file_rows else {p: p + 2 for p in positions}
        rows = [mapped[p] for p in sorted(positions) if p in mapped]
        return _Flagged(count, low, high, earliest_month, rows)

    def _day(self, column: str, value: dt.datetime | dt.date) -> str:
        """A stored value as the date a person wrote (the month, for a month column)."""
        if self.is_month[column]:
            return f"{value:%Y-%m}"
        if isinstance(value, dt.datetime):
            value = value.replace(tzinfo=dt.UTC).astimezone(self.zone)
        return f"{value:%Y-%m-%d}"

    def epoch_warning(self, column: str, first: int) -> FileWarning:
        found = self._flagged(column, self._epoch_test(column), first)
        dated = "for month 1970-01" if self.is_month[column] else "dated 1970-01-01"
        text = (
            f"{column}: {_rows(found.count)} {dated} (the Unix epoch, often an export's empty "
            f"date), {_row_list(found.count, found.rows)} — check the export"
        )
        if column == self.dataset.month_column and found.earliest_month is not None:
            text += f"; the report now reaches back to {found.earliest_month:%Y-%m}"
        value = "1970-01" if self.is_month[column] else "1970-01-01"
        return FileWarning(column, value, text)

    def _runs(self, column: str) -> list[tuple[dt.datetime | dt.date, dt.datetime | dt.date, int]]:
        """The column's runs of days without a gap over :data:`FAR_YEARS` years, in order:
        (first value, last value, rows), epoch values left out."""
        col = quote(column)
        return self._run(
            f"SELECT min(lo), max(hi), sum(n) FROM (SELECT lo, hi, n, sum(gap) OVER (ORDER BY "
            f"day ROWS UNBOUNDED PRECEDING) AS run FROM (SELECT day, lo, hi, n, CASE WHEN "
            f"lag(day) OVER (ORDER BY day) + INTERVAL {FAR_YEARS} YEAR < day THEN 1 ELSE 0 END "
            f"AS gap FROM (SELECT CAST({col} AS DATE) AS day, min({col}) AS lo, max({col}) AS hi, "
            f"count(*) AS n FROM {self.rows} WHERE {col} IS NOT NULL AND NOT "
            f"{self._epoch_test(column)} GROUP BY day))) GROUP BY run ORDER BY run"
        )

    def _may_be_far(self, column: str) -> bool:
        """Whether two consecutive years holding values lie :data:`FAR_YEARS` or more apart: only
        then can a gap exceed :data:`FAR_YEARS` years (a cheap grouping by year first)."""
        col = quote(column)
        years = [
            y
            for (y,) in self._run(
                f"SELECT DISTINCT year({col}) FROM {self.rows} WHERE {col} IS NOT NULL AND NOT "
                f"{self._epoch_test(column)} ORDER BY 1"
            )
        ]
        return any(b - a >= FAR_YEARS for a, b in zip(years, years[1:], strict=False))

    def far_warning(self, column: str, first: int) -> FileWarning | None:
        if not self._may_be_far(column):
            return None
        runs = self._runs(column)
        if len(runs) < 2:
            return None
        main = max(range(len(runs)), key=lambda i: (runs[i][2], i))
        body_from, body_to, _ = runs[main]
        col = quote(column)
        condition = (
            f"NOT {self._epoch_test(column)} AND ({col} < $body_from OR {col} > $body_to)"
        )
        found = self._flagged(
            column, condition, first, {"body_from": body_from, "body_to": body_to}
        )
        before, after = main > 0, main < len(runs) - 1
        side = "before or after" if before and after else "before" if before else "after"
        low, high = self._day(column, found.low), self._day(column, found.high)
        text = (
            f"{column}: {_rows(found.count)} dated {low if low == high else f'{low} … {high}'}, "
            f"more than {FAR_YEARS} years {side} the file's other dates "
            f"({self._day(column, body_from)} … {self._day(column, body_to)}), "
            f"{_row_list(found.count, found.rows)} — check the year"
        )
        if column == self.dataset.month_column and found.earliest_month is not None and before:
            text += f"; the report now reaches back to {found.earliest_month:%Y-%m}"
        return FileWarning(column, low, text)


def _rows(count: int) -> str:
    return f"{count:,} row{'' if count == 1 else 's'}"


def _row_list(count: int, rows: Sequence[int]) -> str:
    listed = ", ".join(str(r) for r in rows)
    if not rows:
        return "rows not numbered"
    if count == 1:
        return f"row {listed}"
    if count <= len(rows):
        return f"rows {listed}"
    return f"first rows {listed}"
