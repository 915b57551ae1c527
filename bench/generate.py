"""Synthetic SPEC-format CSV files of any size, for the benchmark (:mod:`bench.run`).

``write_files(directory, n)`` writes ``purchases.csv`` with ``n`` rows over :data:`MONTHS`
months (ending in :data:`LAST_MONTH`) and :data:`DEPARTMENTS` departments, complaints (≈ 5 % of
``n``), responses (≈ 20 %) and surveys (≈ 5 %) in proportion, the retention counts of every
month and department, and a dozen targets (:data:`TARGETS`) for the route.  Each file is one
DuckDB ``COPY (SELECT … FROM range(n)) TO …``: no Python loop over rows, so 10 million purchases
take seconds, not minutes.

Two options change the shape (:class:`Shape`):

* ``write_files(directory, n, shape=Shape(months=548, departments=98))`` — a *long history*
  with many departments and few rows per month (the shape of real review data: the indicator
  table has ``months × (departments + 1) × 24`` rows, 1.3 million here, for few purchases);
* ``write_month(directory, n)`` — *the next month* after the history of ``write_files(…, n)``,
  every dataset's rows of that month alone (≈ ``n / months`` purchases, ids after the
  history's, the same customers and departments), as a monthly load brings it.

Randomness comes from ``hash(row, salt)``, not ``random()``: the same ``n`` gives the same
files whatever the number of threads, so two runs measure the same data, and
:func:`cached_files` writes them once for every run after (a stamp names the generator's
source and the parameters; anything else and they are written again).

Customer structure (what makes the customer counts realistic): purchases come in *visits*
(≈ 2.5 purchases per customer, department and month on average), visits belong to
:data:`PURCHASES_PER_CUSTOMER`-times fewer customers than purchases, and a customer's visits
cluster in the months after the customer's first month and mostly in one home department.
So distinct (customer, department, month) is well below ``n``, customers come back (returning
customers) and new customers keep arriving over the 36 months.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from indicators import months as month_labels

MONTHS = 36
LAST_MONTH = "2025-12"
"""Every history ends here; a long one starts earlier (``2023-01`` for 36 months)."""
FIRST_MONTH = "2023-01-01"
"""The first day of the default 36-month history."""
DEPARTMENTS: tuple[str, ...] = (
    "Online store", "Retail stores", "Call centre", "Field service",
    "Wholesale", "Repairs", "Rentals", "Catering",
)
PURCHASES_PER_CUSTOMER = 8
PURCHASES_PER_VISIT = 2.5
SHARES: dict[str, float] = {"complaints": 0.05, "responses": 0.20, "surveys": 0.05}
"""Rows of each other dataset per purchase."""
DATASETS: tuple[str, ...] = (
    "purchases", "complaints", "responses", "retention", "surveys", "targets",
)
"""The files :func:`write_files` writes, in loading order (SPEC §1: every dataset)."""
MONTH_DATASETS: tuple[str, ...] = DATASETS[:-1]
"""The files :func:`write_month` writes: a month of every dataset but the targets."""

TARGETS: tuple[tuple[str, str, int, int, str], ...] = (
    # indicator, department, baseline (months before the last), target (months after), target
    ("revenue_growth_yoy", "*", 12, 12, "10"),
    ("complaint_rate", "*", 12, 6, "3"),
    ("csat", "*", 18, 12, "80"),
    ("response_time_median", "*", 12, 6, "30"),
    ("promise_kept_rate", "*", 12, 12, "95"),
    ("retention_rate", "*", 24, 12, "90"),
    ("average_ticket", "Online store", 12, 12, "90"),
    ("nps", "Online store", 18, 6, "40"),
    ("discount_rate", "Online store", 12, 6, "5"),
    ("repeat_complaint_rate", "Online store", 12, 12, "5"),
    ("unresolved_complaints_rate", "Retail stores", 12, 6, "10"),
    ("returning_customers_rate", "Retail stores", 12, 12, "60"),
)
"""The targets file: two of every route status is as likely as any, whatever the values."""

_BUCKETS = 1_000_003
"""A prime: ``hash(...) % _BUCKETS / _BUCKETS`` is a uniform number in [0, 1)."""


@dataclass(frozen=True)
class Shape:
    """How many months (ending in :data:`LAST_MONTH`) and departments the files cover."""

    months: int = MONTHS
    departments: int = len(DEPARTMENTS)

    def __post_init__(self) -> None:
        if self.months < 1 or self.departments < 1:
            raise ValueError("a shape needs at least one month and one department")

    @property
    def first_month(self) -> str:
        """``YYYY-MM`` of the history's first month."""
        return month_labels.shift(LAST_MONTH, -(self.months - 1))

    @property
    def names(self) -> tuple[str, ...]:
        """The departments: :data:`DEPARTMENTS` first, then ``Department 009`` and on.

        >>> Shape(departments=10).names[-3:]
        ('Catering', 'Department 009', 'Department 010')
        """
        extra = (f"Department {i:03d}" for i in range(len(DEPARTMENTS) + 1, self.departments + 1))
        return (*DEPARTMENTS[: self.departments], *extra)

    @property
    def key(self) -> str:
        """The folder name of a shape's files beside the default's (``""`` for the default)."""
        return "" if self == Shape() else f"-{self.months}m-{self.departments}d"


DEFAULT = Shape()
LONG = Shape(months=548, departments=98)
"""A long history × many departments: 548 × (98 + 1) × 24 = 1,302,048 indicator rows."""


def _u(key: str, salt: int) -> str:
    """SQL for a deterministic uniform [0, 1) draw from ``key`` (an integer expression)."""
    return f"((hash({key}, {salt}) % {_BUCKETS}) / {_BUCKETS}.0)"


def _month_start(month_expr: str, shape: Shape) -> str:
    return f"(DATE '{shape.first_month}-01' + to_months(CAST({month_expr} AS INTEGER)))"


def _timestamp(month_expr: str, key: str, salt: int, shape: Shape) -> str:
    """A timestamp uniformly inside the month (to the second)."""
    start = _month_start(month_expr, shape)
    seconds = f"CAST({_u(key, salt)} * 86400 * day(last_day({start})) AS BIGINT)"
    return f"(CAST({start} AS TIMESTAMP) + to_seconds({seconds}))"


def _iso(ts: str) -> str:
    return f"strftime({ts}, '%Y-%m-%dT%H:%M:%S')"


def _department(index_expr: str, shape: Shape) -> str:
    names = ", ".join("'" + d.replace("'", "''") + "'" for d in shape.names)
    return f"([{names}])[CAST({index_expr} AS INTEGER) + 1]"


def _skewed_department(key: str, salt: int, shape: Shape) -> str:
    """Departments of unequal size: the first ones sell most."""
    return f"floor({shape.departments} * pow({_u(key, salt)}, 1.6))"


def _customer(index: str, customers: int, salt: int) -> str:
    return f"'C' || lpad(CAST(hash({index}, {salt}) % {customers} AS VARCHAR), 8, '0')"


@dataclass(frozen=True)
class Sizes:
    purchases: int
    customers: int
    visits: int
    complaints: int
    responses: int
    surveys: int

    @classmethod
    def for_purchases(cls, n: int) -> Sizes:
        return cls(
            purchases=n,
            customers=max(1, n // PURCHASES_PER_CUSTOMER),
            visits=max(1, int(n / PURCHASES_PER_VISIT)),
            complaints=max(1, round(n * SHARES["complaints"])),
            responses=max(1, round(n * SHARES["responses"])),
            surveys=max(1, round(n * SHARES["surveys"])),
        )


@dataclass(frozen=True)
class Rows:
    """Which rows a file holds: ids ``first … first + count − 1``, each in the month its hash
    draws (``month=None``) or all in one month (an index: 0 = the history's first month)."""

    first: int
    count: int
    month: int | None = None

    def source(self, extra: str = "") -> str:
        """``SELECT range AS i … FROM range(first, first + count)``."""
        return f"SELECT range AS i{extra} FROM range({self._bounds()})"

    def _bounds(self) -> str:
        return str(self.count) if self.first == 0 else f"{self.first}, {self.first + self.count}"

    def month_of(self, key: str, salt: int, shape: Shape) -> str:
        """The row's month index: drawn uniformly over the history, or the fixed month."""
        if self.month is not None:
            return str(self.month)
        return f"floor({shape.months} * {_u(key, salt)})"


def _purchases_sql(s: Sizes, shape: Shape, rows: Rows) -> str:
    # visit → customer; customer → first month and home department; visit → month offset
    visit = f"(hash(i, 1) % {s.visits})"
    customer = f"(hash(v, 2) % {s.customers})"
    # customers arrive all along the months; visits follow within ~2 years, most of them soon
    # after the first month (wrapping round the range keeps every month equally busy)
    drawn = (f"(floor({shape.months} * {_u('c', 3)}) + floor(24 * pow({_u('v', 4)}, 2.5)))"
             f"\n                   % {shape.months}")
    month = drawn if rows.month is None else str(rows.month)
    return f"""
    WITH rows AS ({rows.source(f", {visit} AS v")}),
    visits AS (
        SELECT i, v, {customer} AS c FROM rows
    ),
    placed AS (
        SELECT i, c,
               {month} AS m,
               CASE WHEN {_u('v', 5)} < 0.75 THEN {_skewed_department('c', 6, shape)}
                    ELSE {_skewed_department('v', 7, shape)} END AS d,
               round(2 + 300 * pow({_u('i', 8)}, 3), 2) AS amount,
               {_u('i', 9)} AS r
        FROM visits
    )
    SELECT 'P' || CAST(i AS VARCHAR) AS purchase_id,
           {_iso(_timestamp('m', 'i', 10, shape))} AS purchased_at,
           'C' || lpad(CAST(c AS VARCHAR), 8, '0') AS customer_id,
           {_department('d', shape)} AS department,
           amount,
           (['store', 'online', 'phone'])[CAST(floor(3 * r) AS INTEGER) + 1] AS channel,
           CASE WHEN r < 0.6 THEN round(amount * (1 + 0.3 * {_u('i', 11)}), 2) END
               AS list_amount
    FROM placed
    """


_COMPONENTS = "['product', 'procedures', 'facilities', 'systems', 'information', 'people']"


def _complaints_sql(s: Sizes, shape: Shape, rows: Rows) -> str:
    # a small pool of complaining customers, so that complaints repeat within 90 days
    pool = max(1, s.complaints // 3)
    opened = _timestamp(rows.month_of("i", 21, shape), "i", 22, shape)
    return f"""
    SELECT 'Q' || lpad(CAST(i AS VARCHAR), 10, '0') AS complaint_id,
           {_iso('o')} AS opened_at,
           {_department(_skewed_department('i', 23, shape), shape)} AS department,
           CASE WHEN {_u('i', 24)} < 0.9 THEN {_customer('i', pool, 25)} END AS customer_id,
           CASE WHEN {_u('i', 26)} < 0.93
                THEN ({_COMPONENTS})[CAST(floor(6 * {_u('i', 27)}) AS INTEGER) + 1] END
               AS component,
           'type ' || CAST(hash(i, 28) % 12 AS VARCHAR) AS category,
           CASE WHEN {_u('i', 29)} < 0.85
                THEN {_iso(f"o + to_seconds(CAST(600 + 86400 * 10 * pow({_u('i', 30)}, 2) AS BIGINT))")}
           END AS resolved_at,
           CASE WHEN {_u('i', 31)} < 0.3 THEN round(50 * {_u('i', 32)}, 2) END AS compensation,
           (['email', 'phone', 'chat'])[CAST(floor(3 * {_u('i', 33)}) AS INTEGER) + 1] AS channel
    FROM ({rows.source(f", {opened} AS o")})
    """


def _responses_sql(s: Sizes, shape: Shape, rows: Rows) -> str:
    received = _timestamp(rows.month_of("i", 41, shape), "i", 42, shape)
    wait = f"CAST(60 + 60 * 240 * pow({_u('i', 44)}, 3) AS BIGINT)"
    return f"""
    SELECT 'R' || lpad(CAST(i AS VARCHAR), 10, '0') AS request_id,
           {_department(_skewed_department('i', 43, shape), shape)} AS department,
           {_iso('r')} AS received_at,
           CASE WHEN {_u('i', 45)} < 0.95 THEN {_iso(f"r + to_seconds({wait})")} END
               AS responded_at,
           CASE WHEN {_u('i', 46)} < 0.5
                THEN ([15, 30, 60, 240])[CAST(floor(4 * {_u('i', 47)}) AS INTEGER) + 1] END
               AS promised_minutes,
           (['email', 'phone', 'chat'])[CAST(floor(3 * {_u('i', 48)}) AS INTEGER) + 1] AS channel
    FROM ({rows.source(f", {received} AS r")})
    """


def _surveys_sql(s: Sizes, shape: Shape, rows: Rows) -> str:
    answered = _timestamp(rows.month_of("i", 51, shape), "i", 52, shape)
    return f"""
    SELECT 'S' || lpad(CAST(i AS VARCHAR), 10, '0') AS survey_id,
           {_iso(answered)} AS answered_at,
           {_department(_skewed_department('i', 53, shape), shape)} AS department,
           CASE WHEN k THEN 'csat' ELSE 'nps' END AS kind,
           CASE WHEN k THEN 1 + CAST(floor(5 * pow({_u('i', 55)}, 0.6)) AS INTEGER)
                ELSE CAST(floor(11 * pow({_u('i', 56)}, 0.5)) AS INTEGER) END AS score,
           CASE WHEN {_u('i', 57)} < 0.7 THEN {_customer('i', s.customers, 58)} END
               AS customer_id
    FROM ({rows.source(f", {_u('i', 54)} < 0.6 AS k")})
    """


def _retention_sql(s: Sizes, shape: Shape, months: range) -> str:
    """One row per month and department: customers at the start, new ones, lost ones; the
    counts scale with the customers a department-month has (``customers / months``)."""
    scale = max(1, s.customers // (shape.months * shape.departments))
    key = f"(m * {shape.departments} + d)"
    return f"""
    WITH grid AS (
        SELECT m.range AS m, d.range AS d
        FROM range({months.start}, {months.stop}) m, range({shape.departments}) d
    ),
    counts AS (
        SELECT m, d,
               CAST({scale} * (1 + 2 * {_u(key, 61)}) AS BIGINT) AS start_,
               CAST({scale} * 0.3 * {_u(key, 62)} AS BIGINT) AS new_,
               CAST({scale} * 0.25 * {_u(key, 63)} AS BIGINT) AS lost
        FROM grid
    )
    SELECT strftime({_month_start('m', shape)}, '%Y-%m') AS month,
           {_department('d', shape)} AS department,
           start_ AS customers_start,
           start_ - least(lost, start_) + new_ AS customers_end,
           new_ AS new_customers
    FROM counts
    ORDER BY m, d
    """


def _targets_sql() -> str:
    rows = ", ".join(
        f"('{i}', '{d}', '{month_labels.shift(LAST_MONTH, -before)}', "
        f"'{month_labels.shift(LAST_MONTH, after)}', '{t}')"
        for i, d, before, after, t in TARGETS
    )
    return f"""
    SELECT * FROM (VALUES {rows})
        AS t(indicator, department, baseline_month, target_month, target)
    """


def _history_sql(name: str, s: Sizes, shape: Shape) -> str:
    """Every row of dataset ``name`` over the whole history."""
    if name == "retention":
        return _retention_sql(s, shape, range(shape.months))
    if name == "targets":
        return _targets_sql()
    count = s.purchases if name == "purchases" else getattr(s, name)
    return _EVENT_SQL[name](s, shape, Rows(0, count))


def _month_sql(name: str, s: Sizes, shape: Shape) -> str:
    """Dataset ``name``'s rows of the month after the history: ``1 / months`` of each."""
    if name == "retention":
        return _retention_sql(s, shape, range(shape.months, shape.months + 1))
    count = s.purchases if name == "purchases" else getattr(s, name)
    rows = Rows(first=count, count=max(1, round(count / shape.months)), month=shape.months)
    return _EVENT_SQL[name](s, shape, rows)


_EVENT_SQL = {
    "purchases": _purchases_sql,
    "complaints": _complaints_sql,
    "responses": _responses_sql,
    "surveys": _surveys_sql,
}


def _copy_all(out: Path, queries: dict[str, str], threads: int | None) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        if threads is not None:
            con.execute(f"SET threads = {int(threads)}")
        # Row order is part of "same bytes every run"; the CSV writer keeps it only when asked.
        con.execute("SET preserve_insertion_order = true")
        con.execute("SET enable_progress_bar = false")  # the benchmark prints its own lines
        paths = {}
        for name, sql in queries.items():
            path = out / f"{name}.csv"
            # COPY takes no parameter for the target file; the path is ours, quote it safely.
            target = str(path).replace("'", "''")
            con.execute(f"COPY ({sql}) TO '{target}' (HEADER, DELIMITER ',')")
            paths[name] = path
    finally:
        con.close()
    return paths


def write_files(
    directory: str | Path, n: int, *, shape: Shape = DEFAULT, threads: int | None = None
) -> dict[str, Path]:
    """Write every dataset's file (:data:`DATASETS`) for ``n`` purchases over ``shape`` into
    ``directory``; their paths by dataset.

    Files that already exist are rewritten (the output is deterministic: the same bytes).
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    sizes = Sizes.for_purchases(n)
    return _copy_all(Path(directory),
                     {name: _history_sql(name, sizes, shape) for name in DATASETS}, threads)


def next_month(shape: Shape = DEFAULT) -> str:
    """``YYYY-MM`` of the month :func:`write_month` writes: the one after the history.

    >>> next_month()
    '2026-01'
    """
    return month_labels.shift(LAST_MONTH, 1)


def write_month(
    directory: str | Path, n: int, *, shape: Shape = DEFAULT, threads: int | None = None
) -> dict[str, Path]:
    """Write the month after the history of ``write_files(…, n, shape=shape)``: every dataset
    of :data:`MONTH_DATASETS`, ``1 / months`` of its history's rows, all in
    :func:`next_month`, ids after the history's; their paths by dataset."""
    if n < 1:
        raise ValueError("n must be at least 1")
    sizes = Sizes.for_purchases(n)
    return _copy_all(Path(directory),
                     {name: _month_sql(name, sizes, shape) for name in MONTH_DATASETS}, threads)


STAMP = ".complete"
"""The file that marks a folder of generated files as whole, holding their fingerprint."""


def fingerprint(n: int, shape: Shape) -> str:
    """What the files depend on: this module's source, ``n`` and ``shape``."""
    source = Path(__file__).read_bytes()
    return hashlib.sha256(source + repr((n, shape)).encode()).hexdigest()


def cached_files(root: str | Path, n: int, *, shape: Shape = DEFAULT) -> tuple[dict, dict, bool]:
    """``(history, month, written)``: the paths of :func:`write_files` and :func:`write_month`
    for ``n`` and ``shape`` under ``root/<n><shape.key>/`` (the month in ``month/``), written
    only when the folder's :data:`STAMP` does not name the same :func:`fingerprint`;
    ``written`` says whether they were."""
    folder = Path(root) / f"{n}{shape.key}"
    stamp = folder / STAMP
    wanted = fingerprint(n, shape)
    history = {name: folder / f"{name}.csv" for name in DATASETS}
    month = {name: folder / "month" / f"{name}.csv" for name in MONTH_DATASETS}
    whole = all(p.is_file() for p in (*history.values(), *month.values()))
    if whole and stamp.is_file() and stamp.read_text() == wanted:
        return history, month, False
    stamp.unlink(missing_ok=True)
    history = write_files(folder, n, shape=shape)
    month = write_month(folder / "month", n, shape=shape)
    stamp.write_text(wanted)
    return history, month, True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, required=True, help="number of purchases")
    parser.add_argument("--out", default="bench/out/data", help="directory for the CSV files")
    parser.add_argument("--months", type=int, default=MONTHS, help="months of history")
    parser.add_argument("--departments", type=int, default=len(DEPARTMENTS),
                        help="departments (beyond the 8 named ones: Department 009 …)")
    parser.add_argument("--month", action="store_true",
                        help="write the month after the history instead of the history")
    args = parser.parse_args(argv)
    shape = Shape(months=args.months, departments=args.departments)
    started = time.perf_counter()
    folder = Path(args.out) / f"{args.n}{shape.key}"
    write = write_month if args.month else write_files
    paths = write(folder / "month" if args.month else folder, args.n, shape=shape)
    for name, path in paths.items():
        print(f"{name}: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    print(f"written in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
