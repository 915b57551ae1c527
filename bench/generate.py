"""Synthetic SPEC-format CSV files of any size, for the benchmark (:mod:`bench.run`).

``write_files(directory, n)`` writes ``purchases.csv`` with ``n`` rows over :data:`MONTHS`
months and :data:`DEPARTMENTS` departments, and complaints (≈ 5 % of ``n``), responses
(≈ 20 %) and surveys (≈ 5 %) in proportion.  Each file is one DuckDB
``COPY (SELECT … FROM range(n)) TO …``: no Python loop over rows, so 10 million purchases take
seconds, not minutes.

Randomness comes from ``hash(row, salt)``, not ``random()``: the same ``n`` gives the same
files whatever the number of threads, so two runs measure the same data.

Customer structure (what makes the customer counts realistic): purchases come in *visits*
(≈ 2.5 purchases per customer, department and month on average), visits belong to
:data:`PURCHASES_PER_CUSTOMER`-times fewer customers than purchases, and a customer's visits
cluster in the months after the customer's first month and mostly in one home department.
So distinct (customer, department, month) is well below ``n``, customers come back (returning
customers) and new customers keep arriving over the 36 months.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

MONTHS = 36
FIRST_MONTH = "2023-01-01"
DEPARTMENTS: tuple[str, ...] = (
    "Online store", "Retail stores", "Call centre", "Field service",
    "Wholesale", "Repairs", "Rentals", "Catering",
)
PURCHASES_PER_CUSTOMER = 8
PURCHASES_PER_VISIT = 2.5
SHARES: dict[str, float] = {"complaints": 0.05, "responses": 0.20, "surveys": 0.05}
"""Rows of each other dataset per purchase."""

_BUCKETS = 1_000_003
"""A prime: ``hash(...) % _BUCKETS / _BUCKETS`` is a uniform number in [0, 1)."""


def _u(key: str, salt: int) -> str:
    """SQL for a deterministic uniform [0, 1) draw from ``key`` (an integer expression)."""
    return f"((hash({key}, {salt}) % {_BUCKETS}) / {_BUCKETS}.0)"


def _month_start(month_expr: str) -> str:
    return f"(DATE '{FIRST_MONTH}' + to_months(CAST({month_expr} AS INTEGER)))"


def _timestamp(month_expr: str, key: str, salt: int) -> str:
    """A timestamp uniformly inside the month (to the second)."""
    start = _month_start(month_expr)
    seconds = f"CAST({_u(key, salt)} * 86400 * day(last_day({start})) AS BIGINT)"
    return f"(CAST({start} AS TIMESTAMP) + to_seconds({seconds}))"


def _iso(ts: str) -> str:
    return f"strftime({ts}, '%Y-%m-%dT%H:%M:%S')"


def _department(index_expr: str) -> str:
    names = ", ".join("'" + d.replace("'", "''") + "'" for d in DEPARTMENTS)
    return f"([{names}])[CAST({index_expr} AS INTEGER) + 1]"


def _skewed_department(key: str, salt: int) -> str:
    """Departments of unequal size: the first ones sell most."""
    return f"floor({len(DEPARTMENTS)} * pow({_u(key, salt)}, 1.6))"


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


def _purchases_sql(s: Sizes) -> str:
    # visit → customer; customer → first month and home department; visit → month offset
    visit = f"(hash(i, 1) % {s.visits})"
    customer = f"(hash(v, 2) % {s.customers})"
    return f"""
    WITH rows AS (SELECT range AS i, {visit} AS v FROM range({s.purchases})),
    visits AS (
        SELECT i, v, {customer} AS c FROM rows
    ),
    placed AS (
        SELECT i, c,
               -- customers arrive all along the 36 months; visits follow within ~2 years,
               -- most of them soon after the first month
               -- (wrapping round the range keeps every month equally busy)
               (floor({MONTHS} * {_u('c', 3)}) + floor(24 * pow({_u('v', 4)}, 2.5)))
                   % {MONTHS} AS m,
               CASE WHEN {_u('v', 5)} < 0.75 THEN {_skewed_department('c', 6)}
                    ELSE {_skewed_department('v', 7)} END AS d,
               round(2 + 300 * pow({_u('i', 8)}, 3), 2) AS amount,
               {_u('i', 9)} AS r
        FROM visits
    )
    SELECT 'P' || CAST(i AS VARCHAR) AS purchase_id,
           {_iso(_timestamp('m', 'i', 10))} AS purchased_at,
           'C' || lpad(CAST(c AS VARCHAR), 8, '0') AS customer_id,
           {_department('d')} AS department,
           amount,
           (['store', 'online', 'phone'])[CAST(floor(3 * r) AS INTEGER) + 1] AS channel,
           CASE WHEN r < 0.6 THEN round(amount * (1 + 0.3 * {_u('i', 11)}), 2) END
               AS list_amount
    FROM placed
    """


_COMPONENTS = "['product', 'procedures', 'facilities', 'systems', 'information', 'people']"


def _complaints_sql(s: Sizes) -> str:
    # a small pool of complaining customers, so that complaints repeat within 90 days
    pool = max(1, s.complaints // 3)
    opened = _timestamp(f"floor({MONTHS} * {_u('i', 21)})", "i", 22)
    return f"""
    SELECT 'Q' || lpad(CAST(i AS VARCHAR), 10, '0') AS complaint_id,
           {_iso('o')} AS opened_at,
           {_department(_skewed_department('i', 23))} AS department,
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
    FROM (SELECT range AS i, {opened} AS o FROM range({s.complaints}))
    """


def _responses_sql(s: Sizes) -> str:
    received = _timestamp(f"floor({MONTHS} * {_u('i', 41)})", "i", 42)
    wait = f"CAST(60 + 60 * 240 * pow({_u('i', 44)}, 3) AS BIGINT)"
    return f"""
    SELECT 'R' || lpad(CAST(i AS VARCHAR), 10, '0') AS request_id,
           {_department(_skewed_department('i', 43))} AS department,
           {_iso('r')} AS received_at,
           CASE WHEN {_u('i', 45)} < 0.95 THEN {_iso(f"r + to_seconds({wait})")} END
               AS responded_at,
           CASE WHEN {_u('i', 46)} < 0.5
                THEN ([15, 30, 60, 240])[CAST(floor(4 * {_u('i', 47)}) AS INTEGER) + 1] END
               AS promised_minutes,
           (['email', 'phone', 'chat'])[CAST(floor(3 * {_u('i', 48)}) AS INTEGER) + 1] AS channel
    FROM (SELECT range AS i, {received} AS r FROM range({s.responses}))
    """


def _surveys_sql(s: Sizes) -> str:
    answered = _timestamp(f"floor({MONTHS} * {_u('i', 51)})", "i", 52)
    return f"""
    SELECT 'S' || lpad(CAST(i AS VARCHAR), 10, '0') AS survey_id,
           {_iso(answered)} AS answered_at,
           {_department(_skewed_department('i', 53))} AS department,
           CASE WHEN k THEN 'csat' ELSE 'nps' END AS kind,
           CASE WHEN k THEN 1 + CAST(floor(5 * pow({_u('i', 55)}, 0.6)) AS INTEGER)
                ELSE CAST(floor(11 * pow({_u('i', 56)}, 0.5)) AS INTEGER) END AS score,
           CASE WHEN {_u('i', 57)} < 0.7 THEN {_customer('i', s.customers, 58)} END
               AS customer_id
    FROM (SELECT range AS i, {_u('i', 54)} < 0.6 AS k FROM range({s.surveys}))
    """


def write_files(directory: str | Path, n: int, *, threads: int | None = None) -> dict[str, Path]:
    """Write the four CSV files for ``n`` purchases into ``directory``; their paths by dataset.

    Files that already exist for the same ``n`` are rewritten (the output is deterministic, so
    the bytes are the same).
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    sizes = Sizes.for_purchases(n)
    con = duckdb.connect()
    try:
        if threads is not None:
            con.execute(f"SET threads = {int(threads)}")
        # Row order is part of "same bytes every run"; the CSV writer keeps it only when asked.
        con.execute("SET preserve_insertion_order = true")
        con.execute("SET enable_progress_bar = false")  # the benchmark prints its own lines
        paths = {}
        for name, sql in (
            ("purchases", _purchases_sql(sizes)),
            ("complaints", _complaints_sql(sizes)),
            ("responses", _responses_sql(sizes)),
            ("surveys", _surveys_sql(sizes)),
        ):
            path = out / f"{name}.csv"
            # COPY takes no parameter for the target file; the path is ours, quote it safely.
            target = str(path).replace("'", "''")
            con.execute(f"COPY ({sql}) TO '{target}' (HEADER, DELIMITER ',')")
            paths[name] = path
    finally:
        con.close()
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, required=True, help="number of purchases")
    parser.add_argument("--out", default="bench/out/data", help="directory for the CSV files")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    paths = write_files(Path(args.out) / str(args.n), args.n)
    for name, path in paths.items():
        print(f"{name}: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    print(f"written in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
