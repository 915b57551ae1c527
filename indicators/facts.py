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

Durations are taken to the microsecond (``date_diff('microsecond', …)``) on the stored local
timestamps.  Every value in the SQL is a parameter; table and column names come from the fixed
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
from datetime import date

import duckdb
import pandas as pd

from indicators.catalog import ALL_DEPARTMENTS, UNCLASSIFIED
from indicators.store import ANY_DEPARTMENT, Settings, read_settings

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

# The datasets whose rows place a month on the calendar (targets do not).
_MONTH_TABLES: tuple[str, ...] = ("purchases", "complaints", "responses", "retention", "surveys")

# ``$all`` labels the GROUPING SETS rows that span every department.
_DEPT = "CASE WHEN grouping(department) = 1 THEN $all ELSE department END AS department, " \
        "grouping(department) AS is_all"
_SETS = "GROUP BY GROUPING SETS ((month, department), (month))"

_FACTS_SQL = f"""
WITH
p AS MATERIALIZED (
    SELECT month, {_DEPT},
           count(*) AS purchases,
           sum(amount) AS revenue,
           count(list_amount) AS list_purchases,
           sum(list_amount) AS list_amount,
           sum(amount) FILTER (WHERE list_amount IS NOT NULL) AS list_paid
    FROM purchases {_SETS}
),
-- one row per customer, department and month with a purchase: the basis of the customer counts
cdm AS MATERIALIZED (
    SELECT customer_id, department, month FROM purchases
    WHERE customer_id IS NOT NULL GROUP BY ALL
),
-- the customer's previous active month (same department / anywhere); months are distinct
-- within a partition, so LAG is the latest earlier month
cust_months AS (
    SELECT department, 0 AS is_all, month,
           lag(month) OVER (PARTITION BY customer_id, department ORDER BY month) AS prev
    FROM cdm
    UNION ALL
    SELECT $all, 1, month, lag(month) OVER (PARTITION BY customer_id ORDER BY month)
    FROM (SELECT DISTINCT customer_id, month FROM cdm)
),
cu AS MATERIALIZED (
    SELECT month, department, is_all,
           count(*) AS active_customers,
           count(*) FILTER (WHERE prev IS NULL) AS new_customers,
           count(*) FILTER (WHERE prev >= month - INTERVAL 12 MONTH) AS returning_customers
    FROM cust_months GROUP BY month, department, is_all
),
-- RANGE … EXCLUDE GROUP counts the customer's complaints on the component opened in
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
    FROM complaints
),
c AS MATERIALIZED (
    SELECT month, {_DEPT},
           count(*) AS complaints,
           count(customer_id) AS complaints_with_customer,
           count(*) FILTER (WHERE is_repeat) AS repeat_complaints,
           count(*) FILTER (WHERE resolved_at IS NULL) AS unresolved_complaints,
           quantile_cont(date_diff('microsecond', opened_at, resolved_at) / 3.6e9, 0.5)
               AS resolution_hours_median,
           coalesce(sum(compensation), 0) AS compensation
    FROM ct {_SETS}
),
promise AS (
    SELECT unnest($promise_departments::VARCHAR[]) AS department,
           unnest($promise_minutes::DOUBLE[]) AS minutes
),
rt AS (
    SELECT r.month, r.department,
           date_diff('microsecond', r.received_at, r.responded_at) / 6e7 AS minutes,
           coalesce(r.promised_minutes, pr.minutes, $default_promise) AS promised
    FROM responses AS r LEFT JOIN promise AS pr ON pr.department = r.department
),
r AS MATERIALIZED (
    SELECT month, {_DEPT},
           count(*) AS requests,
           count(minutes) AS answered_requests,
           count(*) FILTER (WHERE minutes <= promised) AS promise_kept,
           quantile_cont(minutes, [0.5, 0.9]) AS q
    FROM rt {_SETS}
),
rn AS MATERIALIZED (
    SELECT month, {_DEPT},
           CAST(sum(customers_start) AS BIGINT) AS retention_start,
           CAST(sum(customers_end) AS BIGINT) AS retention_end,
           CAST(sum(new_customers) AS BIGINT) AS retention_new
    FROM retention {_SETS}
),
s AS MATERIALIZED (
    SELECT month, {_DEPT},
           count(*) FILTER (WHERE kind = 'csat') AS csat_answers,
           count(*) FILTER (WHERE kind = 'csat' AND score >= 4) AS csat_satisfied,
           count(*) FILTER (WHERE kind = 'nps') AS nps_answers,
           count(*) FILTER (WHERE kind = 'nps' AND score >= 9) AS nps_promoters,
           count(*) FILTER (WHERE kind = 'nps' AND score <= 6) AS nps_detractors
    FROM surveys {_SETS}
),
keys AS MATERIALIZED (
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
SELECT strftime(g.month, '%Y-%m') AS month, g.department, g.is_all,
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

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


class DepartmentNameError(ValueError):
    """A stored department carries the name reserved for every department together."""


def _promise_parameters(settings: Settings) -> dict[str, object]:
    named = sorted(d for d in settings.promised_minutes if d != ANY_DEPARTMENT)
    return {
        "promise_departments": named,
        "promise_minutes": [settings.promise_for(d) for d in named],
        # the ``*`` entry (else 60) is what promise_for gives any department not named
        "default_promise": settings.promise_for(ANY_DEPARTMENT),
    }


def facts_table(
    con: duckdb.DuckDBPyConnection, *, settings: Settings | None = None
) -> pd.DataFrame:
    """The monthly facts (see the module docstring), one row per month × (departments + All).

    Sorted by month, then ``All`` first, then departments by name.  Empty (with every column)
    when no dataset holds a row.  ``settings`` defaults to :func:`store.read_settings`; only the
    promised minutes are used here.

    Raises :class:`DepartmentNameError` if a stored department is literally called ``All``.
    """
    settings = read_settings(con) if settings is None else settings
    params = {"all": ALL_DEPARTMENTS, "unclassified": UNCLASSIFIED,
              **_promise_parameters(settings)}
    frame = con.cursor().execute(_FACTS_SQL, params).df()
    clash = (frame["is_all"] == 0) & (frame["department"] == ALL_DEPARTMENTS)
    if clash.any():
        raise DepartmentNameError(
            f"a department is named {ALL_DEPARTMENTS!r}, the name reserved for every "
            "department together; rename it in the data"
        )
    frame = frame.drop(columns="is_all")
    for name in COUNT_COLUMNS:
        frame[name] = frame[name].astype("int64")
    for name in (*SUM_COLUMNS, *QUANTILE_COLUMNS):
        frame[name] = frame[name].astype("float64")
    for name in ("month", "department"):
        frame[name] = frame[name].astype("str")
    return frame[list(FACT_COLUMNS)]


# --- the grid, for the tables that are not facts ------------------------------------------


def month_grid(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[str]]:
    """Every reported month (``YYYY-MM``, first to last with data) and every department.

    Departments are sorted by name, without ``All``.  Both lists are empty on an empty store.
    """
    bounds = " UNION ALL ".join(
        f'SELECT min(month) AS lo, max(month) AS hi FROM "{t}"' for t in _MONTH_TABLES
    )
    months = con.cursor().execute(
        f"""SELECT strftime(unnest(generate_series(min(lo), max(hi), INTERVAL 1 MONTH)),
                            '%Y-%m')
            FROM ({bounds}) HAVING count(lo) > 0"""
    ).fetchall()
    names = " UNION ".join(f'SELECT DISTINCT department FROM "{t}"' for t in _MONTH_TABLES)
    departments = con.cursor().execute(f"SELECT department FROM ({names}) ORDER BY 1").fetchall()
    return [m for (m,) in months], [d for (d,) in departments]


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
