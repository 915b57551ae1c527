"""Monthly facts: the stored rows reduced in DuckDB to a few numbers per month and department.

Everything heavy happens here, in SQL; :mod:`indicators.compute` turns the facts into
indicators with plain arithmetic.  No raw rows ever reach pandas.

The facts table (:func:`facts_table`) has one row per (month, department) for every month from
the first to the last month that holds any data (purchases, complaints, responses, retention,
surveys — never targets), for every department that appears in any of those datasets, and for
the pseudo-department ``All`` (:data:`indicators.catalog.ALL_DEPARTMENTS`).  ``All`` rows are
aggregated from the rows themselves (``GROUPING SETS``), never from the department rows, so
medians and distinct counts are right.  ``month`` is text ``YYYY-MM``.

Columns (counts are int64 and 0 over no rows; sums are float64 and 0 over no rows; medians and
quantiles are float64 and NaN over no rows):

=============================  ==================================================================
``purchases``                  purchases in the month
``revenue``                    Σ ``amount``
``list_purchases``             purchases that carry ``list_amount``
``list_amount``                Σ ``list_amount`` over those purchases
``list_paid``                  Σ ``amount`` over those same purchases
``active_customers``           distinct ``customer_id`` with a purchase in the month
``new_customers``              active customers with no stored purchase before the month (in the
                               department; for ``All`` in any department)
``returning_customers``        active customers who also purchased in one of the months m−12 …
                               m−1 (in the department; for ``All`` in any department)
``complaints``                 complaints opened in the month
``complaints_with_customer``   those that carry a ``customer_id``
``repeat_complaints``          those whose customer had opened an earlier complaint on the same
                               component (NULL = unclassified is one value), in any department,
                               with ``opened_at`` in [t − 90 days, t) — strictly earlier than t,
                               at most 90 × 24 hours earlier; two complaints opened at the very
                               same instant do not repeat each other
``unresolved_complaints``      complaints with no ``resolved_at``
``resolution_hours_median``    median hours ``opened_at`` → ``resolved_at`` of resolved complaints
``compensation``               Σ ``compensation`` (an empty value counts as none paid)
``requests``                   requests received in the month
``answered_requests``          those with ``responded_at``
``promise_kept``               answered within their promise: ``minutes ≤ promised`` where the
                               promise is ``promised_minutes``, else the department's setting
                               (:meth:`Settings.promise_for`); an unanswered request is not kept
``response_minutes_median``    median minutes ``received_at`` → ``responded_at``, answered only
``response_minutes_p90``       90th percentile of the same (``quantile_cont``, linear)
``retention_start``            Σ ``customers_start`` (retention dataset)
``retention_end``              Σ ``customers_end``
``retention_new``              Σ ``new_customers``
``csat_answers``               csat answers
``csat_satisfied``             csat answers scoring 4 or 5
``nps_answers``                nps answers
``nps_promoters``              nps answers scoring 9 or 10
``nps_detractors``             nps answers scoring 0 to 6
=============================  ==================================================================

**Money is exact.**  The four sums (``revenue``, ``list_amount``, ``list_paid``,
``compensation``) add ``DECIMAL(18,4)`` amounts as ``DECIMAL(38,4)``: integers of
ten-thousandths inside DuckDB, so the same in every run whatever the threads or the rows'
order.  Each exact sum is converted once, in SQL, to the nearest float64 (DuckDB rounds the
conversion correctly): what reaches pandas is deterministic, and a sum of at most 15
significant digits (to the cent below 10^13) prints (``repr``) as its exact decimal text —
``299060.17``, never ``299060.169999989``.  A database not yet upgraded (opened read-only,
amounts still DOUBLE) sums doubles, as before.

Durations are taken to the microsecond (``date_diff('microsecond', …)``) on the stored
timestamps, which are instants in UTC (:mod:`indicators.ingest.cells`): a duration is the time
that passed, across daylight-saving changes too.  The repeat window's ``INTERVAL 90 DAYS`` on
those UTC ``TIMESTAMP`` values is 90 × 24 hours of elapsed time (a plain TIMESTAMP has no
daylight saving).  Months are the stored ``month`` (the organisation's zone).  Every value in the SQL is a parameter; table and column names come from the fixed
text in this module only.

Examples
--------
>>> import duckdb
>>> from indicators.store import init_db
>>> con = duckdb.connect()
>>> init_db(con)
>>> facts_table(con).empty
True
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from indicators.catalog import ALL_DEPARTMENTS, UNCLASSIFIED
from indicators.schema import MONTH_DATASETS
from indicators.store import ANY_DEPARTMENT, Settings, read_settings
from indicators.store import departments as stored_departments

COUNT_COLUMNS: tuple[str, ...] = (
    "purchases",
    "list_purchases",
    "active_customers",
    "new_customers",
    "returning_customers",
    "complaints",
    "complaints_with_customer",
    "repeat_complaints",
    "unresolved_complaints",
    "requests",
    "answered_requests",
    "promise_kept",
    "retention_start",
    "retention_end",
    "retention_new",
    "csat_answers",
    "csat_satisfied",
    "nps_answers",
    "nps_promoters",
    "nps_detractors",
)
SUM_COLUMNS: tuple[str, ...] = ("revenue", "list_amount", "list_paid", "compensation")
QUANTILE_COLUMNS: tuple[str, ...] = (
    "resolution_hours_median",
    "response_minutes_median",
    "response_minutes_p90",
)
FACT_COLUMNS: tuple[str, ...] = ("month", "department", *COUNT_COLUMNS, *SUM_COLUMNS,
                                 *QUANTILE_COLUMNS)


# ``$all`` labels the GROUPING SETS rows that span every department.
_DEPT = "CASE WHEN grouping(department) = 1 THEN $all ELSE department END AS department, " \
        "grouping(department) AS is_all"
_SETS = "GROUP BY GROUPING SETS ((month, department), (month))"
# A scope of All alone groups by month only (no department rows to drop afterwards), a scope
# without All by month and department only (no All rows to drop).
_ALL_ONLY = "$all AS department, 1 AS is_all"
_DEPARTMENTS_ONLY = "department, 0 AS is_all"

_FACTS_TEMPLATE = """
WITH
p AS MATERIALIZED (
    SELECT month, {dept},
           count(*) AS purchases,
           sum(amount) AS revenue,
           count(list_amount) AS list_purchases,
           sum(list_amount) AS list_amount,
           sum(amount) FILTER (WHERE list_amount IS NOT NULL) AS list_paid
    FROM purchases {rows} {sets}
),
{customers}-- RANGE … EXCLUDE GROUP counts the customer's complaints on the component opened in
-- [t − 90 days, t), leaving out t itself and every complaint opened at the same instant
ct AS (
    SELECT month, department, customer_id, opened_at, resolved_at, compensation,
           CASE WHEN customer_id IS NOT NULL THEN
               count(*) OVER (
                   PARTITION BY customer_id, coalesce(component, $unclassified)
                   ORDER BY opened_at
                   RANGE BETWEEN INTERVAL 90 DAYS PRECEDING AND CURRENT ROW EXCLUDE GROUP
               ) > 0
           END AS is_repeat
    FROM complaints {complaint_rows}
),
c AS MATERIALIZED (
    SELECT month, {dept},
           count(*) AS complaints,
           count(customer_id) AS complaints_with_customer,
           count(*) FILTER (WHERE is_repeat) AS repeat_complaints,
           count(*) FILTER (WHERE resolved_at IS NULL) AS unresolved_complaints,
           quantile_cont(date_diff('microsecond', opened_at, resolved_at) / 3.6e9, 0.5)
               AS resolution_hours_median,
           coalesce(sum(compensation), 0) AS compensation
    FROM ct {full_rows} {sets}
),
promise AS (
    SELECT unnest($promise_departments::VARCHAR[]) AS department,
           unnest($promise_minutes::DOUBLE[]) AS minutes
),
rt AS (
    SELECT r.month, r.department,
           date_diff('microsecond', r.received_at, r.responded_at) / 6e7 AS minutes,
           coalesce(r.promised_minutes, pr.minutes, $default_promise) AS promised
    FROM (SELECT * FROM responses {full_rows}) AS r
    LEFT JOIN promise AS pr ON pr.department = r.department
),
r AS MATERIALIZED (
    SELECT month, {dept},
           count(*) AS requests,
           count(minutes) AS answered_requests,
           count(*) FILTER (WHERE minutes <= promised) AS promise_kept,
           quantile_cont(minutes, [0.5, 0.9]) AS q
    FROM rt {sets}
),
rn AS MATERIALIZED (
    SELECT month, {dept},
           CAST(sum(customers_start) AS BIGINT) AS retention_start,
           CAST(sum(customers_end) AS BIGINT) AS retention_end,
           CAST(sum(new_customers) AS BIGINT) AS retention_new
    FROM retention {full_rows} {sets}
),
s AS MATERIALIZED (
    SELECT month, {dept},
           count(*) FILTER (WHERE kind = 'csat') AS csat_answers,
           count(*) FILTER (WHERE kind = 'csat' AND score >= 4) AS csat_satisfied,
           count(*) FILTER (WHERE kind = 'nps') AS nps_answers,
           count(*) FILTER (WHERE kind = 'nps' AND score >= 9) AS nps_promoters,
           count(*) FILTER (WHERE kind = 'nps' AND score <= 6) AS nps_detractors
    FROM surveys {full_rows} {sets}
),
{grid}SELECT strftime(g.month, '%Y-%m') AS month, g.department, g.is_all,
       coalesce(p.purchases, 0) AS purchases,
       coalesce(p.list_purchases, 0) AS list_purchases,
       coalesce(cu.active_customers, 0) AS active_customers,
       coalesce(cu.new_customers, 0) AS new_customers,
       coalesce(cu.returning_customers, 0) AS returning_customers,
       coalesce(c.complaints, 0) AS complaints,
       coalesce(c.complaints_with_customer, 0) AS complaints_with_customer,
       coalesce(c.repeat_complaints, 0) AS repeat_complaints,
       coalesce(c.unresolved_complaints, 0) AS unresolved_complaints,
       coalesce(r.requests, 0) AS requests,
       coalesce(r.answered_requests, 0) AS answered_requests,
       coalesce(r.promise_kept, 0) AS promise_kept,
       coalesce(rn.retention_start, 0) AS retention_start,
       coalesce(rn.retention_end, 0) AS retention_end,
       coalesce(rn.retention_new, 0) AS retention_new,
       coalesce(s.csat_answers, 0) AS csat_answers,
       coalesce(s.csat_satisfied, 0) AS csat_satisfied,
       coalesce(s.nps_answers, 0) AS nps_answers,
       coalesce(s.nps_promoters, 0) AS nps_promoters,
       coalesce(s.nps_detractors, 0) AS nps_detractors,
       coalesce(p.revenue, 0)::DOUBLE AS revenue,
       coalesce(p.list_amount, 0)::DOUBLE AS list_amount,
       coalesce(p.list_paid, 0)::DOUBLE AS list_paid,
       coalesce(c.compensation, 0)::DOUBLE AS compensation,
       c.resolution_hours_median::DOUBLE AS resolution_hours_median,
       r.q[1]::DOUBLE AS response_minutes_median,
       r.q[2]::DOUBLE AS response_minutes_p90
FROM grid AS g
LEFT JOIN p USING (month, department, is_all)
LEFT JOIN cu USING (month, department, is_all)
LEFT JOIN c USING (month, department, is_all)
LEFT JOIN r USING (month, department, is_all)
LEFT JOIN rn USING (month, department, is_all)
LEFT JOIN s USING (month, department, is_all)
ORDER BY g.month, g.is_all DESC, g.department
"""

_CUSTOMERS_BITSTRING = """-- the months each customer bought in, as a bit string per customer and department (bit i:
-- month $first_month + i), and per customer (every department): one aggregation over the
-- purchases instead of sorting every (customer, department, month) for a window
cm AS MATERIALIZED (
    SELECT customer_id, {customer_department},
           bitstring_agg(CAST(date_diff('month', $first_month, month) AS INTEGER),
                         0, $last_index) AS active
    FROM purchases WHERE customer_id IS NOT NULL {customer_rows}
    GROUP BY ALL
),
{masks}-- for month i: the bits of every earlier month, and of the months i − 12 … i − 1 (NULL: none)
windows AS (
    SELECT i,
           bitstring_agg(j, 0, $last_index) FILTER (WHERE j < i) AS earlier,
           bitstring_agg(j, 0, $last_index) FILTER (WHERE j < i AND j >= i - 12) AS recent
    FROM range(0, $last_index + 1) AS a(i), range(0, $last_index + 1) AS b(j)
    WHERE i BETWEEN $first_index AND $until_index
    GROUP BY i
),
-- new: no bit before month i; returning: a bit in the 12 months before it
cu AS MATERIALIZED (
    SELECT CAST($first_month + to_months(CAST(i AS INTEGER)) AS DATE) AS month,
           department, is_all,
           count(*) AS active_customers,
           count(*) FILTER (WHERE earlier IS NULL OR bit_count(active & earlier) = 0)
               AS new_customers,
           count(*) FILTER (WHERE bit_count(active & recent) > 0) AS returning_customers
    FROM masks, windows WHERE get_bit(active, CAST(i AS INTEGER)) = 1
    GROUP BY ALL
),
"""
# The word path: one query gives, per customer and department and per customer (every
# department; see the masks), the first month bought in (index from the purchases' first month)
# and the months of the scope and the 12 before it as the bits of one 64-bit word (bit k: month
# $base + k) — one aggregation, integers only; NumPy then counts (_count_words) and the facts
# query reads the counts from a registered frame.
_WORD_CUSTOMERS_SQL = """WITH
cm AS (
    SELECT customer_id, {customer_department}, min(i) AS first_month,
           bit_or(CASE WHEN i >= $base THEN 1::BIGINT << (i - $base) ELSE 0::BIGINT END)
               AS active
    FROM (SELECT customer_id, department,
                 CAST(date_diff('month', $first_month, month) AS INTEGER) AS i
          FROM purchases WHERE customer_id IS NOT NULL {customer_rows})
    GROUP BY ALL
),
{masks}SELECT CASE WHEN is_all = 1 THEN 0 ELSE list_position($groups, department) END AS g,
       first_month, active
FROM masks
WHERE (is_all = 1 OR list_contains($groups, department))
  -- customers who bought in none of the counted months count nowhere (a new customer is active)
  AND active >> $counted_from <> 0
"""
_CUSTOMERS_WORD = """cu AS (
    SELECT CAST(month AS DATE) AS month, department, is_all, active_customers, new_customers,
           returning_customers
    FROM facts_word_counts
),
"""
WORD_MONTHS = 62
"""The widest span of months (the scope plus the 12 before it) counted in one 64-bit word per
customer (a signed BIGINT, whose top bits are left alone); a wider one takes bit strings, which
are slower (text-like values)."""

# ``{keep}`` / ``{merge}``: the word path's first month, kept per department and merged for All.
_MASKS_WITH_ALL = """masks AS (
    SELECT department, 0 AS is_all, {keep}active FROM cm
    UNION ALL
    SELECT $all, 1, {merge}bit_or(active) FROM cm GROUP BY customer_id
),
"""
_MASKS_DEPARTMENTS = """masks AS (SELECT department, 0 AS is_all, {keep}active FROM cm),
"""
_MASKS_ONLY_ALL = """masks AS (SELECT $all AS department, 1 AS is_all, {keep}active FROM cm),
"""
_GRID_FROM_DATA = """keys AS MATERIALIZED (
    SELECT month, department, is_all FROM p
    UNION ALL SELECT month, department, is_all FROM c
    UNION ALL SELECT month, department, is_all FROM r
    UNION ALL SELECT month, department, is_all FROM rn
    UNION ALL SELECT month, department, is_all FROM s
),
months AS (
    SELECT unnest(generate_series(min(month), max(month), INTERVAL 1 MONTH))::DATE AS month
    FROM keys HAVING count(*) > 0
),
departments AS (
    SELECT DISTINCT department, is_all FROM keys
),
grid AS (SELECT month, department, is_all FROM months CROSS JOIN departments)
"""
# A scope's grid is known before the query (from :func:`month_grid`), so it is a parameter.
_GRID_GIVEN = """grid AS (
    SELECT m.month, d.department, d.is_all
    FROM (SELECT unnest($grid_months::DATE[]) AS month) AS m
    CROSS JOIN (SELECT unnest($grid_departments::VARCHAR[]) AS department,
                       unnest($grid_is_all::INTEGER[]) AS is_all) AS d
)
"""
_IN_MONTHS = "month BETWEEN $lo AND $hi"
# The months with every column ($full_lo … $hi); before them a scope has purchases only.
_IN_FULL_MONTHS = "month BETWEEN $full_lo AND $hi"
_IN_DEPARTMENTS = "list_contains($departments, department)"
# Repeats look back 90 days in any department: the complaint window needs the rows from
# before the scope (4 months cover 90 days before the 1st of $full_lo) and from every department.
_COMPLAINT_HISTORY = "WHERE month BETWEEN $full_lo - INTERVAL 4 MONTH AND $hi"
# Without All, only complaints of the customers who complained in the scope can be the earlier
# complaint of one of the scope's: the window partitions their complaints alone (in every
# department), and the scope's own rows (a complaint without customer too).
_COMPLAINT_CUSTOMERS = f""" AND ({_IN_DEPARTMENTS} OR customer_id IN (
        SELECT customer_id FROM complaints WHERE {_IN_FULL_MONTHS} AND {_IN_DEPARTMENTS}))"""


def _facts_sql(
    *, scoped: bool, with_all: bool, named: bool = True, word: bool = False
) -> tuple[str, str | None]:
    """The facts query, and the word path's customer query (None on the bit-string path).

    Every row (not ``scoped``), or only a scope's months and departments: a scope reads only
    the rows of its months (and its departments, unless ``All`` is among them: ``All`` is
    aggregated from every department's rows) — purchases from ``$lo``, everything else from
    ``$full_lo``.  Customer months need every earlier month too, so their scan is bounded above
    only; with ``All`` alone (no ``named`` department) they are kept per customer only, a
    smaller aggregation, and every dataset is grouped by month alone; without ``All`` every
    dataset is grouped by month and department alone.  Repeat complaints need
    the 4 months before ``$full_lo`` in every department (of the scope's complaining customers
    only, without ``All``).

    ``word`` (the months counted fit :data:`WORD_MONTHS`) counts new and returning customers
    from one 64-bit word per customer (:func:`_count_words`); else from bit strings in SQL.
    """
    parts = {"customers": _CUSTOMERS_WORD if word else _CUSTOMERS_BITSTRING,
             "dept": _DEPT, "sets": _SETS}
    if not scoped:
        parts |= {"masks": _MASKS_WITH_ALL, "rows": "", "full_rows": "", "customer_rows": "",
                  "complaint_rows": "", "customer_department": "department",
                  "grid": _GRID_FROM_DATA}
    else:
        departments = "" if with_all else f" AND {_IN_DEPARTMENTS}"
        masks = _MASKS_DEPARTMENTS
        if with_all:
            masks = _MASKS_WITH_ALL if named else _MASKS_ONLY_ALL
        if with_all and not named:
            parts |= {"dept": _ALL_ONLY, "sets": "GROUP BY month"}
        elif not with_all:
            parts |= {"dept": _DEPARTMENTS_ONLY, "sets": "GROUP BY month, department"}
        parts |= {
            "masks": masks,
            "rows": f"WHERE {_IN_MONTHS}{departments}",
            "full_rows": f"WHERE {_IN_FULL_MONTHS}{departments}",
            "customer_rows": f"AND month <= $hi{departments}",
            "customer_department": "department" if named else "NULL AS department",
            "complaint_rows": _COMPLAINT_HISTORY + ("" if with_all else _COMPLAINT_CUSTOMERS),
            "grid": _GRID_GIVEN,
        }
    parts |= {
        "keep": "first_month, " if word else "",
        "merge": "min(first_month), " if word else "",
    }

    def fill(template: str) -> str:
        for name, text in parts.items():
            template = template.replace("{" + name + "}", text)
        return template

    return fill(_FACTS_TEMPLATE), fill(_WORD_CUSTOMERS_SQL) if word else None


def _count_words(
    groups: Sequence[str], first: np.ndarray, active: np.ndarray, group: np.ndarray,
    *, first_index: int, base: int, months: Sequence[date],
) -> pd.DataFrame:
    """Active, new and returning customers per group and month of the word path, with NumPy.

    ``group`` is 0 for ``All`` and ``i`` for ``groups[i - 1]``; per row, ``first`` the
    customer's first month (index) and ``active`` the word (bit ``k``: month ``base + k``).
    For month ``i`` (``first_index`` … , one per ``months``): active — its bit is set; new —
    the first month is ``i``; returning — active, and a bit is set among the 12 months before
    it.  One pass per month over the rows: a few integer operations and a ``bincount``, where
    SQL needed a join of every customer with every month.
    """
    size = len(groups) + 1
    out = {name: np.zeros((size, len(months)), dtype=np.int64)
           for name in ("active_customers", "new_customers", "returning_customers")}
    # A scorecard's scope is one group (All, or one department): a plain count of the mask.
    # (A weighted bincount into a single bin adds serially, several times slower.)
    only = int(group[0]) if len(group) and group.min() == group.max() else None
    for j in range(len(months)):
        i = first_index + j
        k, r = i - base, max(i - 12, 0) - base
        is_active = (active & (1 << k)) != 0
        is_returning = is_active & ((active & (((1 << (k - r)) - 1) << r)) != 0)
        for name, mask in (("active_customers", is_active), ("new_customers", first == i),
                           ("returning_customers", is_returning)):
            if only is not None:
                out[name][only, j] = np.count_nonzero(mask)
            else:
                # weighted counts (exact: far fewer than 2**53 rows), no copy of the group
                out[name][:, j] = np.bincount(group, weights=mask, minlength=size)
    names = [ALL_DEPARTMENTS, *groups]
    return pd.DataFrame({
        "month": np.tile(np.array(months, dtype="datetime64[D]"), size),
        "department": np.repeat(np.array(names, dtype=object), len(months)),
        "is_all": np.repeat(np.array([1] + [0] * len(groups), dtype=np.int32), len(months)),
        **{name: counts.reshape(-1) for name, counts in out.items()},
    })


def _used(params: dict[str, object], sql: str) -> dict[str, object]:
    """The parameters ``sql`` names (DuckDB refuses unused ones)."""
    return {k: v for k, v in params.items() if "$" + k in sql}


def _word_parameters(first: date, first_index: int, until_index: int) -> dict[str, object]:
    """Parameters of the word path for months ``first_index`` … ``until_index`` (from
    ``first``); empty when they and the 12 months before them do not fit one word."""
    base = max(first_index - 12, 0)
    if until_index - base + 1 > WORD_MONTHS:
        return {}
    start = f"{first:%Y-%m}"
    return {
        "base": base,
        "counted_from": first_index - base,
        "word_months": [parse_month(shift_month(start, i))
                        for i in range(first_index, until_index + 1)],
    }


_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


class DepartmentNameError(ValueError):
    """A stored department carries the name reserved for every department together."""

    @classmethod
    def reserved(cls) -> DepartmentNameError:
        return cls(
            f"a department is named {ALL_DEPARTMENTS!r}, the name reserved for every "
            "department together; rename it in the data"
        )


def _promise_parameters(settings: Settings) -> dict[str, object]:
    named = sorted(d for d in settings.promised_minutes if d != ANY_DEPARTMENT)
    return {
        "promise_departments": named,
        "promise_minutes": [settings.promise_for(d) for d in named],
        # the ``*`` entry (else 60) is what promise_for gives any department not named
        "default_promise": settings.promise_for(ANY_DEPARTMENT),
    }


def _month_bits(cur: duckdb.DuckDBPyConnection) -> tuple[date, int]:
    """The purchases' first month and the index of their last (bit positions of ``cm``)."""
    first, span = cur.execute(
        "SELECT min(month), date_diff('month', min(month), max(month)) FROM purchases"
    ).fetchone()
    if first is None:
        return date(2000, 1, 1), 0
    return first, span


def _months_after(first: date, month: date) -> int:
    return (month.year - first.year) * 12 + month.month - first.month


def _scope_grid(
    cur: duckdb.DuckDBPyConnection,
    months: tuple[str, str] | None,
    departments: Sequence[str] | None,
) -> dict[str, object] | None:
    """The scoped query's grid and bounds; None when the scope holds no row of the table."""
    if departments is None:
        all_months, named = month_grid(cur)
    else:
        # only whether the wanted departments (and a clashing "All") are stored at all
        all_months = _reported_months(cur)
        named = _stored_departments(cur, [*departments, ALL_DEPARTMENTS])
    if ALL_DEPARTMENTS in named:
        raise DepartmentNameError.reserved()
    lo, hi = ("0001-01", "9999-12") if months is None else months
    parse_month(lo), parse_month(hi)
    grid_months = [parse_month(m) for m in all_months if lo <= m <= hi]
    wanted = None if departments is None else set(departments)
    grid_departments = [d for d in named if wanted is None or d in wanted]
    with_all = wanted is None or ALL_DEPARTMENTS in wanted
    if not grid_months or not (grid_departments or with_all):
        return None
    return {
        "lo": grid_months[0],
        "hi": grid_months[-1],
        "grid_months": grid_months,
        "grid_departments": [ALL_DEPARTMENTS] * with_all + grid_departments,
        "grid_is_all": [1] * with_all + [0] * len(grid_departments),
        "with_all": with_all,
    }


def facts_table(
    con: duckdb.DuckDBPyConnection,
    *,
    settings: Settings | None = None,
    months: tuple[str, str] | None = None,
    departments: Sequence[str] | None = None,
    full_from: str | None = None,
    in_transaction: bool = False,
) -> pd.DataFrame:
    """The monthly facts (see the module docstring), one row per month × (departments + All).

    Sorted by month, then ``All`` first, then departments by name.  Empty (with every column)
    when no dataset holds a row.  ``settings`` defaults to :func:`store.read_settings`; only the
    promised minutes are used here.

    ``months`` (``(first, last)``, ``YYYY-MM``, both included) and ``departments`` (names,
    ``All`` among them or not) narrow the result to those rows of the full table — the same
    values, computed from the rows of those months and departments only (and the earlier
    purchases and complaints that new, returning and repeat need), so a scorecard does not pay
    for every month.  ``None`` (the default) means no restriction.

    ``full_from`` (``YYYY-MM``, with ``months``) computes every column only from that month on;
    the scope's earlier rows carry the purchases' columns alone (``purchases``, ``revenue``,
    ``list_purchases``, ``list_amount``, ``list_paid``), every other count 0, sum 0 and median
    NaN.  For callers that read the earlier months for revenue only
    (:func:`compute.indicator_table` reads the 12 months before a scope for revenue growth), so
    that customers, complaints, requests and surveys are not counted there.

    ``in_transaction``: ``con`` is inside a transaction already (a load's, which keeps the
    stored indicators current before its COMMIT): the facts are read on ``con`` itself, so they
    include the transaction's own rows.  Otherwise they are read on a cursor of ``con`` in a
    transaction of their own (the month bounds and the facts from the same snapshot).

    Raises :class:`DepartmentNameError` if a stored department is literally called ``All``.
    """
    settings = read_settings(con) if settings is None else settings
    params: dict[str, object] = {"all": ALL_DEPARTMENTS, "unclassified": UNCLASSIFIED,
                                 **_promise_parameters(settings)}
    scoped = months is not None or departments is not None
    cur = con if in_transaction else con.cursor()
    # One transaction: the month bounds and the facts come from the same snapshot.
    if not in_transaction:
        cur.execute("BEGIN TRANSACTION")
    try:
        first, span = _month_bits(cur)
        params.update(first_month=first, last_index=span, first_index=0, until_index=span)
        shape: dict[str, object] = {"scoped": False, "with_all": True}
        if scoped:
            scope = _scope_grid(cur, months, departments)
            if scope is None:
                if not in_transaction:
                    cur.execute("COMMIT")
                return _empty_facts()
            with_all = scope.pop("with_all")
            params.update(scope)
            full_lo = scope["lo"] if full_from is None else max(scope["lo"], parse_month(full_from))
            params.update(first_index=_months_after(first, full_lo),
                          until_index=_months_after(first, scope["hi"]), full_lo=full_lo)
            if not with_all:
                params["departments"] = scope["grid_departments"]
            named = len(scope["grid_departments"]) > with_all
            shape = {"scoped": True, "with_all": with_all, "named": named}
        # One word per customer for a scope's few months; the whole table (many months, every
        # department) is counted faster by bit strings in SQL than by NumPy over the words.
        word = _word_parameters(first, params["first_index"], params["until_index"]) if scoped else {}
        params.update(word)
        sql, word_sql = _facts_sql(**shape, word=bool(word))
        if word_sql is not None:
            # the word path is a scope's: its departments are the grid's
            groups = [d for d in params["grid_departments"] if d != ALL_DEPARTMENTS]
            found = cur.execute(word_sql, _used({**params, "groups": groups}, word_sql))
            columns = found.fetchnumpy()
            counts = _count_words(
                groups, columns["first_month"].astype(np.int64),
                columns["active"].astype(np.int64), columns["g"].astype(np.int64),
                first_index=params["first_index"], base=word["base"],  # type: ignore[arg-type]
                months=word["word_months"],  # type: ignore[arg-type]
            )
            cur.register("facts_word_counts", counts)
        try:
            frame = cur.execute(sql, _used(params, sql)).df()
        finally:
            if word_sql is not None:
                cur.unregister("facts_word_counts")
    except BaseException:
        if not in_transaction:
            cur.execute("ROLLBACK")
        raise
    if not in_transaction:
        cur.execute("COMMIT")
    clash = (frame["is_all"] == 0) & (frame["department"] == ALL_DEPARTMENTS)
    if clash.any():
        raise DepartmentNameError.reserved()
    return _typed_facts(frame.drop(columns="is_all"))


def _typed_facts(frame: pd.DataFrame) -> pd.DataFrame:
    for name in COUNT_COLUMNS:
        frame[name] = frame[name].astype("int64")
    for name in (*SUM_COLUMNS, *QUANTILE_COLUMNS):
        frame[name] = frame[name].astype("float64")
    for name in ("month", "department"):
        frame[name] = frame[name].astype("str")
    return frame[list(FACT_COLUMNS)]


def _empty_facts() -> pd.DataFrame:
    return _typed_facts(pd.DataFrame({name: pd.Series(dtype="object") for name in FACT_COLUMNS}))


def shift_month(month: str, by: int) -> str:
    """``YYYY-MM`` moved ``by`` months (negative: earlier).

    >>> shift_month("2025-02", -3)
    '2024-11'
    """
    start = parse_month(month)
    index = start.year * 12 + start.month - 1 + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


# --- the grid, for the tables that are not facts ------------------------------------------


def month_grid(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[str]]:
    """Every reported month (``YYYY-MM``, first to last with data) and every department.

    Departments are sorted by name, without ``All``.  Both lists are empty on an empty store.
    """
    cur = con.cursor()
    return _reported_months(cur), stored_departments(cur)


# Fixed statements over the datasets with months (table names from the schema only).
_REPORTED_MONTHS = (
    "SELECT strftime(unnest(generate_series(min(lo), max(hi), INTERVAL 1 MONTH)), '%Y-%m') "
    "FROM (" + " UNION ALL ".join(
        f'SELECT min(month) AS lo, max(month) AS hi FROM "{t}"' for t in MONTH_DATASETS
    ) + ") HAVING count(lo) > 0"
)
_STORED_IN_ANY = "SELECT " + " OR ".join(
    f'EXISTS (SELECT 1 FROM "{t}" WHERE department = $department)' for t in MONTH_DATASETS
)


def _reported_months(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every month from the first to the last that holds a row of any dataset (``YYYY-MM``),
    read on ``con`` itself (a scope reads it inside its transaction)."""
    return [m for (m,) in con.execute(_REPORTED_MONTHS).fetchall()]


def _stored_departments(con: duckdb.DuckDBPyConnection, names: Sequence[str]) -> list[str]:
    """Those of ``names`` that some dataset holds a row of, sorted: a few lookups that stop at
    the first row found, where :func:`month_grid` reads every row's department."""
    return sorted(
        name for name in set(names)
        if con.execute(_STORED_IN_ANY, {"department": name}).fetchone()[0]
    )


def parse_month(month: str) -> date:
    """``YYYY-MM`` → the first day of that month; ``ValueError`` on anything else."""
    found = _MONTH_RE.match(month.strip()) if isinstance(month, str) else None
    if found is None or not 1 <= int(found.group(2)) <= 12:
        raise ValueError(f"month must be written YYYY-MM, got {month!r}")
    return date(int(found.group(1)), int(found.group(2)), 1)


# --- complaint mix -------------------------------------------------------------------------

_MIX_SQL = f"""
SELECT strftime(month, '%Y-%m') AS month, {_DEPT},
       coalesce(component, $unclassified) AS component,
       count(*) AS complaints
FROM complaints
GROUP BY GROUPING SETS ((month, department, component), (month, component))
"""


def complaint_counts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Complaints per month, department (and ``All``) and component, only where there are some.

    Columns ``month`` (``YYYY-MM``), ``department``, ``component`` (NULL → ``unclassified``),
    ``complaints`` (int64).
    """
    frame = con.cursor().execute(
        _MIX_SQL, {"all": ALL_DEPARTMENTS, "unclassified": UNCLASSIFIED}
    ).df()
    return frame.drop(columns="is_all").astype({"complaints": "int64"})


# --- response times ------------------------------------------------------------------------

_SCOPE = """
    FROM responses
    WHERE ($month IS NULL OR month = $month) AND ($department IS NULL OR department = $department)
"""
_MINUTES = "date_diff('microsecond', received_at, responded_at) / 6e7"

_NICE_STEPS: tuple[float, ...] = (1.0, 2.0, 5.0)


def _scope_parameters(month: str | None, department: str) -> dict[str, object]:
    return {
        "month": None if month is None else parse_month(month),
        "department": None if department == ALL_DEPARTMENTS else department,
    }


def nice_bin_width(max_minutes: float, *, max_bins: int) -> float:
    """The smallest 1-2-5 × 10^k width that puts 0 … ``max_minutes`` into ≤ ``max_bins`` bins.

    >>> nice_bin_width(95.0, max_bins=40)
    5.0
    """
    if max_bins < 1:
        raise ValueError("max_bins must be at least 1")
    exponent = math.floor(math.log10(max_minutes / max_bins)) if max_minutes > 0 else 0
    while True:
        for step in _NICE_STEPS:
            width = step * 10.0**exponent
            if math.floor(max_minutes / width) + 1 <= max_bins:
                return width
        exponent += 1


def response_time_bins(
    con: duckdb.DuckDBPyConnection,
    *,
    month: str | None,
    department: str,
    bin_minutes: float | None = None,
    max_bins: int = 40,
) -> pd.DataFrame:
    """Answered requests received in ``month`` (None: every month) of ``department`` binned by
    minutes waited, in SQL.

    Bins are ``[bin_start, bin_end)`` from 0, ``bin_minutes`` wide (else a 1-2-5 width that fits
    ``max_bins``), every bin up to the last non-empty one listed, empty ones with 0.  With an
    explicit ``bin_minutes`` that would need more than ``max_bins`` bins, the last bin holds the
    tail and ends at the longest wait.  Columns ``bin_start``, ``bin_end`` (float64),
    ``requests`` (int64); no rows when nothing was answered.
    """
    if bin_minutes is not None and not bin_minutes > 0:
        raise ValueError("bin_minutes must be positive")
    params = _scope_parameters(month, department)
    cur = con.cursor()
    (longest,) = cur.execute(
        f"SELECT max({_MINUTES}) {_SCOPE} AND responded_at IS NOT NULL", params
    ).fetchone()
    if longest is None:
        return pd.DataFrame(
            {"bin_start": pd.Series(dtype="float64"), "bin_end": pd.Series(dtype="float64"),
             "requests": pd.Series(dtype="int64")}
        )
    width = bin_minutes or nice_bin_width(longest, max_bins=max_bins)
    bins = min(math.floor(longest / width) + 1, max_bins)
    frame = cur.execute(
        f"""WITH counted AS (
                SELECT least(CAST(floor({_MINUTES} / $width) AS BIGINT), $last) AS bin,
                       count(*) AS requests
                {_SCOPE} AND responded_at IS NOT NULL
                GROUP BY 1
            )
            SELECT b.bin * $width AS bin_start,
                   CASE WHEN b.bin = $last THEN greatest((b.bin + 1) * $width, $longest)
                        ELSE (b.bin + 1) * $width END AS bin_end,
                   coalesce(counted.requests, 0) AS requests
            FROM range(0, $last + 1) AS b(bin) LEFT JOIN counted USING (bin)
            ORDER BY b.bin""",
        {**params, "width": float(width), "last": bins - 1, "longest": float(longest)},
    ).df()
    return frame.astype({"bin_start": "float64", "bin_end": "float64", "requests": "int64"})


def promise_counts(
    con: duckdb.DuckDBPyConnection, *, month: str | None, department: str, settings: Settings
) -> pd.DataFrame:
    """How many requests in scope carry each effective promise (column ``promised``, minutes,
    and ``requests``), most common first, then the shorter promise first."""
    return con.cursor().execute(
        f"""WITH promise AS (
                SELECT unnest($promise_departments::VARCHAR[]) AS department,
                       unnest($promise_minutes::DOUBLE[]) AS minutes
            ), scoped AS (
                SELECT department, promised_minutes {_SCOPE}
            )
            SELECT coalesce(s.promised_minutes, pr.minutes, $default_promise)::DOUBLE
                       AS promised,
                   count(*) AS requests
            FROM scoped AS s LEFT JOIN promise AS pr ON pr.department = s.department
            GROUP BY 1 ORDER BY requests DESC, promised""",
        {**_scope_parameters(month, department), **_promise_parameters(settings)},
    ).df()
