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
daylight saving).  Months are the stored ``month`` (the organisation's zone).

How the query is put together
-----------------------------
:func:`facts_table` runs one SQL query, ``WITH`` a list of CTEs and a final ``SELECT``:

1. :func:`resolve_scope` turns the call's months and departments into a :class:`FactsScope`
   — the grid's first and last month, the first month with every column, the departments and
   whether ``All`` is among them — read from the stored rows in the caller's snapshot.
2. One function per dataset returns that dataset's CTEs for the scope, each an :class:`Sql`
   (its text and the values of the ``$name`` parameters it uses): :func:`purchases_sql`
   (``p``), :func:`customers_sql` (``cm`` → ``groups`` → ``windows`` → ``cu``),
   :func:`complaints_sql` (``ct`` → ``c``), :func:`responses_sql` (``promise`` → ``rt`` →
   ``r``), :func:`retention_sql` (``rn``), :func:`surveys_sql` (``s``) and :func:`grid_sql`
   (every month × department of the scope).  Each aggregation yields one row per month and
   department *and* per month for ``All`` (``GROUPING SETS``), or only the one a scope needs
   (:func:`_group_by`).
3. :func:`facts_query` joins them with :func:`with_query`: the grid ``LEFT JOIN`` every part
   on (month, department, is_all), a count or sum over no rows 0 (:data:`FACTS_SELECT`).

The text depends only on the scope's *shape* (with ``All`` or not, with departments or not);
every value — months, department names, promises — is a parameter, and :func:`with_query`
refuses a text whose ``$names`` are not exactly the parameters given.  Table and column names
come from the fixed text in this module only.

**New and returning customers** are counted one way, in SQL (:func:`customers_sql`): per
customer and department (and per customer for ``All``), the first month bought in and the
months bought in from ``base`` (12 months before the first counted month) as one bit string;
a customer is active in month ``k`` when bit ``k`` is set, new when ``k`` is the first month,
returning when one of the 12 bits before ``k`` is set.  The bit string spans the counted months
and the 12 before them, however long the history.

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import duckdb
import pandas as pd

from indicators import months as ym
from indicators.catalog import ALL_DEPARTMENTS, UNCLASSIFIED
from indicators.schema import MONTH_DATASETS
from indicators.store import ANY_DEPARTMENT, Settings, is_utc_zone, read_settings, utc_of_local_sql
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
    "complaints_within_promise",
    "complaints_closed_3_business_days",
    "complaints_closed_8_weeks",
    "complaints_closed_later",
    "backlog",
    "backlog_over_8_weeks",
    "fcr_judged",
    "fcr_resolved",
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
    "ces_answers",
    "ces_easy",
    "ces_score_sum",
)
SUM_COLUMNS: tuple[str, ...] = ("revenue", "list_amount", "list_paid", "compensation")
QUANTILE_COLUMNS: tuple[str, ...] = (
    "resolution_hours_median",
    "backlog_age_median_days",
    "response_minutes_median",
    "response_minutes_p90",
)
FACT_COLUMNS: tuple[str, ...] = ("month", "department", *COUNT_COLUMNS, *SUM_COLUMNS,
                                 *QUANTILE_COLUMNS)


# --- pieces of SQL ------------------------------------------------------------------------


@dataclass(frozen=True)
class Sql:
    """A piece of a query: its text and the values of the ``$name`` parameters it uses."""

    text: str
    params: Mapping[str, object] = field(default_factory=dict)


_PARAMETER = re.compile(r"\$([a-z_]+)")


def with_query(ctes: Sequence[Sql], select: Sql) -> Sql:
    """``WITH`` the ``ctes`` (each ``name AS (…)``), then ``select``: one query whose parameters
    are theirs.  ``ValueError`` if two pieces give one name two values, or if the text names a
    parameter no piece gives (or a piece gives one the text does not name: DuckDB refuses
    unused parameters)."""
    params: dict[str, object] = {}
    for part in (*ctes, select):
        for name, value in part.params.items():
            if name in params and params[name] != value:
                raise ValueError(f"parameter ${name} given two values")
            params[name] = value
    text = "WITH\n" + ",\n".join(part.text for part in ctes) + "\n" + select.text
    named = set(_PARAMETER.findall(text))
    if named != set(params):
        raise ValueError(f"parameters named {sorted(named)}, given {sorted(params)}")
    return Sql(text, params)


# --- the scope the query answers ----------------------------------------------------------


@dataclass(frozen=True)
class FactsScope:
    """A call's months and departments resolved against the stored rows (:func:`resolve_scope`).

    ``lo`` … ``hi``: the first days of the grid's first and last month (reported months only);
    ``full_lo``: the first month with every column (before it, the purchases' columns alone; at
    most the month after ``hi``); ``departments``: the grid's stored departments, by name,
    ``All`` aside; ``with_all``: whether ``All`` is in the grid.  Without ``All`` only the
    rows of ``departments`` are read (``All`` would need every department's rows).
    ``earlier``: the data holds months before ``full_lo`` (so some customers may have bought
    before it only).
    """

    lo: date
    hi: date
    full_lo: date
    departments: tuple[str, ...]
    with_all: bool
    earlier: bool = False
    requests_with_customer: bool = True
    """The responses table has ``customer_id`` (a database not yet upgraded, opened read-only,
    may not: its requests are then no contacts of first-contact resolution)."""

    @property
    def base(self) -> date:
        """Bit 0 of the customers' month bits: 12 months before ``full_lo`` (returning looks
        back 12 months), or ``0001-01``."""
        return ym.parse(ym.from_index(max(ym.index(ym.label(self.full_lo)) - 12, ym.FIRST_INDEX)))


def resolve_scope(
    cur: duckdb.DuckDBPyConnection,
    months: tuple[str, str] | None,
    departments: Sequence[str] | None,
    full_from: str | None = None,
) -> FactsScope | None:
    """The grid of a call (see :func:`facts_table`); None when it holds no row of the table.

    Read on ``cur`` itself (the caller's snapshot).  Named departments are found by lookups
    that stop at the first row (:func:`_stored_departments`); only a call for every department
    reads every row's department.  Raises :class:`DepartmentNameError` if a stored department
    is literally called ``All``; ``ValueError`` if a month is not ``YYYY-MM``.
    """
    first, last = ("0001-01", "9999-12") if months is None else months
    for month in (first, last) if full_from is None else (first, last, full_from):
        ym.index(month)
    if departments is None:
        stored, with_all = stored_departments(cur), True
    else:
        stored = _stored_departments(cur, [*departments, ALL_DEPARTMENTS])
        with_all = ALL_DEPARTMENTS in departments
    if ALL_DEPARTMENTS in stored:
        raise DepartmentNameError.reserved()
    named = tuple(stored if departments is None else (d for d in stored if d in departments))
    reported = _reported_months(cur)
    grid = [m for m in reported if ym.between(m, first, last)]
    if not grid or not (named or with_all):
        return None
    full = grid[0] if full_from is None else max(grid[0], full_from.strip())
    full = min(full, ym.shift(grid[-1], 1))
    return FactsScope(ym.parse(grid[0]), ym.parse(grid[-1]), ym.parse(full), named, with_all,
                      earlier=reported[0] < full,
                      requests_with_customer=_has_column(cur, "responses", "customer_id"))


def _has_column(cur: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    return cur.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE database_name = current_database() AND "
        "schema_name = 'main' AND table_name = $table AND column_name = $column",
        {"table": table, "column": column}).fetchone()[0] > 0


def _group_by(scope: FactsScope) -> tuple[str, str]:
    """The ``department, is_all`` columns and the GROUP BY of an aggregation over ``scope``.

    With ``All`` and departments: both in one pass, ``GROUPING SETS`` (``$all`` labels the rows
    that span every department); ``All`` alone: by month only; departments alone: by month and
    department only — no rows computed to be dropped.
    """
    if not scope.with_all:
        return "department, 0 AS is_all", "GROUP BY month, department"
    if not scope.departments:
        return "$all AS department, 1 AS is_all", "GROUP BY month"
    return _ALL_OR_DEPARTMENT, "GROUP BY GROUPING SETS ((month, department), (month))"


# ``$all`` labels the GROUPING SETS rows that span every department.
_ALL_OR_DEPARTMENT = ("CASE WHEN grouping(department) = 1 THEN $all ELSE department END "
                      "AS department, grouping(department) AS is_all")


def _labels(scope: FactsScope) -> dict[str, object]:
    """The parameters :func:`_group_by`'s text names."""
    return {"all": ALL_DEPARTMENTS} if scope.with_all else {}


def _rows(scope: FactsScope, since: str = "full_lo") -> Sql:
    """``WHERE`` the rows of the scope's months from ``$since`` (``lo``: every month of the
    grid; ``full_lo``: those with every column) and, without ``All``, of its departments."""
    values: dict[str, object] = {since: getattr(scope, since), "hi": scope.hi}
    text = f"WHERE month BETWEEN ${since} AND $hi"
    if not scope.with_all:
        text += " AND list_contains($departments, department)"
        values["departments"] = list(scope.departments)
    return Sql(text, values)


def _aggregate(name: str, scope: FactsScope, measures: str, source: str, rows: Sql) -> Sql:
    """The CTE ``name``: ``measures`` per month and department (and ``All``) over ``rows`` of
    ``source``."""
    key, group = _group_by(scope)
    return Sql(f"{name} AS MATERIALIZED (\n    SELECT month, {key},\n{measures}\n"
               f"    FROM {source} {rows.text}\n    {group}\n)",
               {**_labels(scope), **rows.params})


# --- one function per dataset ---------------------------------------------------------------


def purchases_sql(scope: FactsScope) -> list[Sql]:
    """``p``: the purchases' counts and exact sums, from ``$lo`` (the revenue history too)."""
    return [_aggregate("p", scope, """\
           count(*) AS purchases,
           sum(amount) AS revenue,
           count(list_amount) AS list_purchases,
           sum(list_amount) AS list_amount,
           sum(amount) FILTER (WHERE list_amount IS NOT NULL) AS list_paid""",
        "purchases", _rows(scope, "lo"))]


WORD_BITS = 63
"""The most months a customer's bits may span and still be counted in one 64-bit integer
(``BIGINT``; bit 63 is the sign, left alone); a longer span takes a bit string, whose
aggregation is slower (a variable-length value per customer)."""


def _bits(scope: FactsScope) -> tuple[str, str]:
    """How :func:`customers_sql` keeps a customer's months as bits: the aggregate that sets bit
    ``{i}`` of each row (none when ``{i}`` < 0), and the test that bit ``{k}`` of ``{a}`` is set.  One 64-bit integer
    when the months fit (:data:`WORD_BITS`), else a bit string of ``$last_bit`` + 1 bits; the
    counting around them is the same."""
    if _last_bit(scope) < WORD_BITS:
        return "bit_or(CASE WHEN {i} >= 0 THEN 1::BIGINT << {i} END)", "({a} >> {k}) & 1 = 1"
    return ("bitstring_agg({i}, 0, $last_bit) FILTER (WHERE {i} >= 0)",
            "get_bit({a}, CAST({k} AS INTEGER)) = 1")


def _last_bit(scope: FactsScope) -> int:
    """The bit of ``$hi``, the last month counted (bit 0 is :attr:`FactsScope.base`)."""
    return ym.months_between(ym.label(scope.base), ym.label(scope.hi))


def customers_sql(scope: FactsScope) -> list[Sql]:
    """Active, new and returning customers per counted month (``$full_lo`` … ``$hi``).

    * ``cm`` — per customer and department (per customer alone for ``All`` alone), over every
      purchase up to ``$hi``: ``first`` and ``last``, the first and last month bought in
      (month ``$base`` + i), and ``active``, the months bought in from ``$base`` as bits (bit
      ``i``: month ``$base`` + i; NULL when none; :func:`_bits`);
    * ``cg`` — the customers of each group who bought in a counted month (``last`` ≥
      ``$counted_from``): per department of the scope, and for ``All`` per customer over every
      department (the OR of the bits, the earliest first month);
    * ``windows`` — per counted month ``k``: the bits of the 12 months before it;
    * ``cu`` — per month and group: active (bit ``k`` set), new (``first`` = ``k``: nothing
      bought before) and returning (active, and a bit set among the 12 before).
    """
    base, last_bit = scope.base, _last_bit(scope)
    counted_from = ym.months_between(ym.label(base), ym.label(scope.full_lo))
    set_bit, has_bit = _bits(scope)
    keep = Sql("", {}) if scope.with_all else Sql(
        " AND list_contains($departments, department)", {"departments": list(scope.departments)})
    department = "department" if scope.departments else "NULL AS department"
    months = set_bit.format(i="i")
    # A scope that counts later months only (a scorecard's, a refresh's) groups the purchases
    # of the customers who bought in them, not every customer's: at 10 M purchases a month's
    # refresh groups 1.9 M rows instead of 10.3 M (1.5 s → 0.3 s).
    counted = Sql("", {}) if not scope.earlier else Sql(
        " AND customer_id IN (SELECT customer_id FROM purchases WHERE month BETWEEN $full_lo "
        f"AND $hi AND customer_id IS NOT NULL{keep.text})", {"full_lo": scope.full_lo})
    cm = Sql(f"""cm AS MATERIALIZED (
    SELECT customer_id, {department}, min(i) AS first, max(i) AS last,
           {months} AS active
    FROM (SELECT customer_id, department, date_diff('month', $base, month) AS i
          FROM purchases WHERE customer_id IS NOT NULL AND month <= $hi{keep.text}{counted.text})
    GROUP BY ALL
)""", {"base": base, "hi": scope.hi, **keep.params, **counted.params,
       **({"last_bit": last_bit} if "$last_bit" in months else {})})

    values: dict[str, object] = {"counted_from": counted_from, **_labels(scope)}
    if not scope.with_all:
        groups = "SELECT department, 0 AS is_all, first, active FROM cm WHERE last >= $counted_from"
    elif not scope.departments:
        groups = "SELECT $all AS department, 1 AS is_all, first, active FROM cm " \
                 "WHERE last >= $counted_from"
    else:
        groups = """SELECT department, 0 AS is_all, first, active FROM cm
    WHERE last >= $counted_from AND list_contains($departments, department)
    UNION ALL
    SELECT $all, 1, min(first), bit_or(active) FROM cm
    GROUP BY customer_id HAVING max(last) >= $counted_from"""
        values["departments"] = list(scope.departments)
    return [
        cm,
        Sql(f"cg AS (\n    {groups}\n)", values),
        Sql(f"""windows AS (
    SELECT k, {set_bit.format(i="j")} AS recent
    FROM range($counted_from, $last_bit + 1) AS a(k)
    LEFT JOIN range(0, $last_bit + 1) AS b(j) ON j >= k - 12 AND j < k
    GROUP BY k
)""", {"counted_from": counted_from, "last_bit": last_bit}),
        Sql(f"""cu AS MATERIALIZED (
    SELECT CAST($base + to_months(CAST(w.k AS INTEGER)) AS DATE) AS month,
           g.department, g.is_all,
           count(*) AS active_customers,
           count(*) FILTER (WHERE g.first = w.k) AS new_customers,
           count(*) FILTER (WHERE bit_count(g.active & w.recent) > 0) AS returning_customers
    FROM cg AS g, windows AS w
    WHERE {has_bit.format(a="g.active", k="w.k")}
    GROUP BY ALL
)""", {"base": base}),
    ]


def complaints_sql(scope: FactsScope, settings: Settings) -> list[Sql]:
    """``ct``: the complaints with whether each repeats an earlier one and the business days it
    took; ``c``: per month, complaints, those with a customer, repeats, unresolved, resolved
    within the promise, the FCA bands, resolution hours, compensation.

    ``RANGE … EXCLUDE GROUP`` counts the customer's complaints on the component opened in
    [t − 90 days, t), leaving out t itself and every complaint opened at the same instant.  The
    window looks back 90 days in any department: it reads the 4 months before ``$full_lo``
    (they cover 90 days before its 1st) in every department.  Without ``All``, only the
    complaints of the customers who complained in the scope can be the earlier complaint of one
    of the scope's: the window partitions their complaints alone (in every department) and the
    scope's own rows (a complaint without customer too).

    ``business_days``: the business days after the (local) day the complaint was opened, up to
    and including the day it was resolved (:func:`business_days_sql`); *within the promise*
    when resolved and that is at most the department's ``complaint_promise_days``
    (:meth:`Settings.complaint_promise_for`).  The FCA bands of the month's complaints: closed
    within 3 business days; later but within 8 weeks (56 × 24 hours after ``opened_at``);
    later than that; open (``unresolved_complaints``).
    """
    rows = _rows(scope)
    history = "month BETWEEN $full_lo - INTERVAL 4 MONTH AND $hi"
    if not scope.with_all:
        history += f""" AND (list_contains($departments, department) OR customer_id IN (
        SELECT customer_id FROM complaints {rows.text}))"""
    zone = _zone(settings)
    days = business_days_sql(local_day_sql("opened_at", zone.text),
                             local_day_sql("resolved_at", zone.text))
    ct = Sql(f"""ct AS (
    SELECT month, department, customer_id, opened_at, resolved_at, compensation,
           CASE WHEN customer_id IS NOT NULL THEN
               count(*) OVER (
                   PARTITION BY customer_id, coalesce(component, $unclassified)
                   ORDER BY opened_at
                   RANGE BETWEEN INTERVAL 90 DAYS PRECEDING AND CURRENT ROW EXCLUDE GROUP
               ) > 0
           END AS is_repeat,
           {days} AS business_days,
           coalesce(list_extract($complaint_days, list_position($complaint_days_departments,
                                                                department)),
                    $default_complaint_days) AS promise_days
    FROM complaints WHERE {history}
)""", {"unclassified": UNCLASSIFIED, **rows.params, **zone.params,
       **_complaint_promise_parameters(settings)})
    return [ct, _aggregate("c", scope, f"""\
           count(*) AS complaints,
           count(customer_id) AS complaints_with_customer,
           count(*) FILTER (WHERE is_repeat) AS repeat_complaints,
           count(*) FILTER (WHERE resolved_at IS NULL) AS unresolved_complaints,
           count(*) FILTER (WHERE business_days <= promise_days) AS complaints_within_promise,
           count(*) FILTER (WHERE business_days <= {FCA_BUSINESS_DAYS})
               AS complaints_closed_3_business_days,
           count(*) FILTER (WHERE business_days > {FCA_BUSINESS_DAYS}
                            AND resolved_at <= opened_at + INTERVAL {FCA_WEEKS * 7} DAYS)
               AS complaints_closed_8_weeks,
           count(*) FILTER (WHERE resolved_at > opened_at + INTERVAL {FCA_WEEKS * 7} DAYS
                            AND business_days > {FCA_BUSINESS_DAYS})
               AS complaints_closed_later,
           quantile_cont(date_diff('microsecond', opened_at, resolved_at) / 3.6e9, 0.5)
               AS resolution_hours_median,
           coalesce(sum(compensation), 0) AS compensation""", "ct", rows)]


FCA_BUSINESS_DAYS = 3
"""The FCA's first band: complaints closed by the end of the third business day after the day
they were received (its ``DISP 1.5`` "summary resolution communication" window)."""
FCA_WEEKS = 8
"""The FCA's second band: complaints closed within eight weeks of receipt (``DISP 1.6``)."""
BACKLOG_OLD_DAYS = 56
"""A complaint open at a month's end for more than this many days (8 weeks) is *old*."""


def _zone(settings: Settings) -> Sql:
    """The organisation's zone as the parameter ``$zone`` (no parameter for a UTC zone: the
    SQL then converts nothing)."""
    return Sql("", {}) if is_utc_zone(settings.time_zone) else Sql("$zone",
                                                                    {"zone": settings.time_zone})


def local_day_sql(utc: str, zone: str) -> str:
    """SQL for the day (a DATE) on which UTC ``TIMESTAMP`` ``utc`` falls in the organisation's
    zone (``zone``: SQL for its name, or empty for UTC)."""
    if not zone:
        return f"CAST({utc} AS DATE)"
    return f"CAST(timezone({zone}, make_timestamptz(epoch_us({utc}))) AS DATE)"


def month_end_sql(month: str, zone: str) -> str:
    """SQL for the instant (a UTC ``TIMESTAMP``) at which month ``month`` (a DATE, its first
    day) ends: midnight at the start of the next month in the organisation's zone."""
    local = f"CAST({month} + INTERVAL 1 MONTH AS TIMESTAMP)"
    return local if not zone else utc_of_local_sql(local, zone)


def _weekdays_before(day: str) -> str:
    """SQL: the weekdays (Monday to Friday) among the days before ``day`` since 0001-01-01, a
    Monday."""
    k = f"date_diff('day', DATE '0001-01-01', {day})"
    return f"(5 * ({k} // 7) + least({k} % 7, 5))"


def business_days_sql(opened: str, closed: str) -> str:
    """SQL: the business days after day ``opened`` up to and including day ``closed`` (DATEs;
    NULL when ``closed`` is): weekdays, less the ``$holidays`` (a DATE list) that fall on one.

    A complaint opened on a Friday and resolved on the Wednesday after took 3 business days;
    resolved on the Saturday or Sunday after its opening, 0."""
    after = f"{closed} + 1"
    return (f"({_weekdays_before(after)} - {_weekdays_before(opened + ' + 1')}"
            f" - len(list_filter($holidays::DATE[], lambda h: h > {opened} AND h <= {closed}"
            f" AND isodow(h) <= 5)))")


def _complaint_promise_parameters(settings: Settings) -> dict[str, object]:
    named = sorted(d for d in settings.complaint_promise_days if d != ANY_DEPARTMENT)
    return {
        "complaint_days_departments": named,
        "complaint_days": [settings.complaint_promise_days[d] for d in named],
        "default_complaint_days": settings.complaint_promise_for(ANY_DEPARTMENT),
        "holidays": list(settings.holidays),
    }


def backlog_sql(scope: FactsScope, settings: Settings) -> list[Sql]:
    """``b``: the complaints open at each counted month's end — opened in or before the month
    (its stored month), not resolved before the next month began (:func:`month_end_sql`) — and
    their age then (days, elapsed time from ``opened_at``): the count, the median age, those
    older than :data:`BACKLOG_OLD_DAYS`.

    ``ends`` lists the counted months (``$full_lo`` … ``$hi``) with their end; every complaint
    opened up to ``$hi`` and not resolved before the end of ``$full_lo`` is joined to the months
    it was open at the end of."""
    zone = _zone(settings)
    keep = "" if scope.with_all else " AND list_contains($departments, department)"
    values = {"full_lo": scope.full_lo, "hi": scope.hi, **zone.params,
              **({} if scope.with_all else {"departments": list(scope.departments)})}
    return [
        Sql(f"""ends AS (
    SELECT CAST(m AS DATE) AS month, {month_end_sql("CAST(m AS DATE)", zone.text)} AS month_end
    FROM (SELECT unnest(generate_series($full_lo, $hi, INTERVAL 1 MONTH)) AS m)
)""", values),
        Sql(f"""open_at_end AS (
    SELECT e.month, c.department,
           date_diff('microsecond', c.opened_at, e.month_end) / 8.64e10 AS age_days
    FROM (SELECT month, department, opened_at, resolved_at FROM complaints
          WHERE month <= $hi{keep}
            AND (resolved_at IS NULL OR resolved_at >= (SELECT min(month_end) FROM ends))) AS c
    JOIN ends AS e ON c.month <= e.month AND (c.resolved_at IS NULL OR c.resolved_at >= e.month_end)
)""", values),
        _aggregate("b", scope, f"""\
           count(*) AS backlog,
           quantile_cont(age_days, 0.5) AS backlog_age_median_days,
           count(*) FILTER (WHERE age_days > {BACKLOG_OLD_DAYS}) AS backlog_over_8_weeks""",
                   "open_at_end", Sql("")),
    ]


def fcr_sql(scope: FactsScope, settings: Settings) -> list[Sql]:
    """``f``: first-contact resolution of the counted months' contacts.

    A *contact* is a complaint (opened at ``opened_at``, closed at ``resolved_at``) or a request
    (``received_at``, ``responded_at``) that carries a ``customer_id``.  One of the month's
    contacts (its stored month) that is closed is *judged* once ``$fcr_days`` days (× 24 hours)
    have passed after its closing by the data: the *horizon*, the latest ``opened_at`` or
    ``received_at`` stored in any department, is at least that late; and the month itself is
    judged only once the horizon is ``$fcr_days`` days past the month's end (before, its counts
    are 0: the indicator is missing).  A judged contact is *resolved at the first contact* when
    the same customer opened no complaint and made no request (any department) in the
    ``$fcr_days`` days after it was closed: the first such contact after the closing (ASOF) is
    later than that, or there is none."""
    zone = _zone(settings)
    keep = "" if scope.with_all else " AND list_contains($departments, department)"
    values = {"full_lo": scope.full_lo, "hi": scope.hi, "fcr_days": settings.fcr_days,
              **zone.params,
              **({} if scope.with_all else {"departments": list(scope.departments)})}
    window = "to_days(CAST($fcr_days AS INTEGER))"
    requests = ("" if not scope.requests_with_customer else """
    UNION ALL
    SELECT month, department, customer_id, received_at, responded_at
    FROM responses WHERE customer_id IS NOT NULL AND month >= $full_lo""")
    return [
        Sql(f"""contacts AS MATERIALIZED (
    SELECT month, department, customer_id, opened_at AS opened, resolved_at AS closed
    FROM complaints WHERE customer_id IS NOT NULL AND month >= $full_lo{requests}
)""", {"full_lo": scope.full_lo}),
        Sql("""horizon AS (
    SELECT max(t) AS t FROM (SELECT max(opened_at) AS t FROM complaints
                             UNION ALL SELECT max(received_at) FROM responses)
)"""),
        # the ASOF join first, over every closed contact of the months (a filter on the
        # horizon below it turns DuckDB's ASOF join into a plan 50 times slower), then judged
        Sql(f"""next_contact AS MATERIALIZED (
    SELECT c.month, c.department, c.closed,
           n.opened IS NULL OR n.opened > c.closed + {window} AS first_contact
    FROM (SELECT * FROM contacts
          WHERE closed IS NOT NULL AND month BETWEEN $full_lo AND $hi{keep}) AS c
    ASOF LEFT JOIN (SELECT customer_id, opened FROM contacts) AS n
        ON n.customer_id = c.customer_id AND n.opened > c.closed
)""", values),
        Sql(f"""judged AS (
    SELECT a.month, a.department, a.first_contact
    FROM next_contact AS a, horizon AS h
    WHERE a.closed + {window} <= h.t
      AND {month_end_sql("a.month", zone.text)} + {window} <= h.t
)""", {"fcr_days": settings.fcr_days, **zone.params}),
        _aggregate("f", scope, """\
           count(*) AS fcr_judged,
           count(*) FILTER (WHERE first_contact) AS fcr_resolved""", "judged", Sql("")),
    ]


def responses_sql(scope: FactsScope, settings: Settings) -> list[Sql]:
    """``promise``: the promised minutes set per department; ``rt``: each request's minutes
    waited and its promise (its own, else its department's setting, else the ``*`` one);
    ``r``: requests, answered, promise kept, the median and 90th percentile wait."""
    rows = _rows(scope)
    return [
        Sql(f"promise AS (\n{_PROMISE_TABLE}\n)", _promise_parameters(settings)),
        Sql(f"""rt AS (
    SELECT r.month, r.department,
           date_diff('microsecond', r.received_at, r.responded_at) / 6e7 AS minutes,
           coalesce(r.promised_minutes, pr.minutes, $default_promise) AS promised
    FROM (SELECT * FROM responses {rows.text}) AS r
    LEFT JOIN promise AS pr ON pr.department = r.department
)""", rows.params),
        _aggregate("r", scope, """\
           count(*) AS requests,
           count(minutes) AS answered_requests,
           count(*) FILTER (WHERE minutes <= promised) AS promise_kept,
           quantile_cont(minutes, [0.5, 0.9]) AS q""", "rt", Sql("")),
    ]


def retention_sql(scope: FactsScope) -> list[Sql]:
    """``rn``: the retention dataset's three sums."""
    return [_aggregate("rn", scope, """\
           CAST(sum(customers_start) AS BIGINT) AS retention_start,
           CAST(sum(customers_end) AS BIGINT) AS retention_end,
           CAST(sum(new_customers) AS BIGINT) AS retention_new""", "retention", _rows(scope))]


def surveys_sql(scope: FactsScope) -> list[Sql]:
    """``s``: csat and nps answers and their satisfied, promoter and detractor counts."""
    return [_aggregate("s", scope, """\
           count(*) FILTER (WHERE kind = 'csat') AS csat_answers,
           count(*) FILTER (WHERE kind = 'csat' AND score >= 4) AS csat_satisfied,
           count(*) FILTER (WHERE kind = 'nps') AS nps_answers,
           count(*) FILTER (WHERE kind = 'nps' AND score >= 9) AS nps_promoters,
           count(*) FILTER (WHERE kind = 'nps' AND score <= 6) AS nps_detractors,
           count(*) FILTER (WHERE kind = 'ces') AS ces_answers,
           count(*) FILTER (WHERE kind = 'ces' AND score >= 5) AS ces_easy,
           coalesce(sum(score) FILTER (WHERE kind = 'ces'), 0) AS ces_score_sum""",
        "surveys", _rows(scope))]


def grid_sql(scope: FactsScope) -> list[Sql]:
    """``grid``: every month ``$lo`` … ``$hi`` × the scope's departments, ``All`` first."""
    return [Sql("""grid AS (
    SELECT CAST(m.month AS DATE) AS month, d.department, d.is_all
    FROM (SELECT unnest(generate_series($lo, $hi, INTERVAL 1 MONTH)) AS month) AS m
    CROSS JOIN (SELECT unnest($grid_departments::VARCHAR[]) AS department,
                       unnest($grid_is_all::INTEGER[]) AS is_all) AS d
)""", {"lo": scope.lo, "hi": scope.hi,
       "grid_departments": [ALL_DEPARTMENTS] * scope.with_all + list(scope.departments),
       "grid_is_all": [1] * scope.with_all + [0] * len(scope.departments)})]


FACTS_SELECT = """SELECT strftime(g.month, '%Y-%m') AS month, g.department,
       coalesce(p.purchases, 0) AS purchases,
       coalesce(p.list_purchases, 0) AS list_purchases,
       coalesce(cu.active_customers, 0) AS active_customers,
       coalesce(cu.new_customers, 0) AS new_customers,
       coalesce(cu.returning_customers, 0) AS returning_customers,
       coalesce(c.complaints, 0) AS complaints,
       coalesce(c.complaints_with_customer, 0) AS complaints_with_customer,
       coalesce(c.repeat_complaints, 0) AS repeat_complaints,
       coalesce(c.unresolved_complaints, 0) AS unresolved_complaints,
       coalesce(c.complaints_within_promise, 0) AS complaints_within_promise,
       coalesce(c.complaints_closed_3_business_days, 0) AS complaints_closed_3_business_days,
       coalesce(c.complaints_closed_8_weeks, 0) AS complaints_closed_8_weeks,
       coalesce(c.complaints_closed_later, 0) AS complaints_closed_later,
       coalesce(b.backlog, 0) AS backlog,
       coalesce(b.backlog_over_8_weeks, 0) AS backlog_over_8_weeks,
       coalesce(f.fcr_judged, 0) AS fcr_judged,
       coalesce(f.fcr_resolved, 0) AS fcr_resolved,
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
       coalesce(s.ces_answers, 0) AS ces_answers,
       coalesce(s.ces_easy, 0) AS ces_easy,
       coalesce(s.ces_score_sum, 0) AS ces_score_sum,
       coalesce(p.revenue, 0)::DOUBLE AS revenue,
       coalesce(p.list_amount, 0)::DOUBLE AS list_amount,
       coalesce(p.list_paid, 0)::DOUBLE AS list_paid,
       coalesce(c.compensation, 0)::DOUBLE AS compensation,
       c.resolution_hours_median::DOUBLE AS resolution_hours_median,
       b.backlog_age_median_days::DOUBLE AS backlog_age_median_days,
       r.q[1]::DOUBLE AS response_minutes_median,
       r.q[2]::DOUBLE AS response_minutes_p90
FROM grid AS g
LEFT JOIN p USING (month, department, is_all)
LEFT JOIN cu USING (month, department, is_all)
LEFT JOIN c USING (month, department, is_all)
LEFT JOIN r USING (month, department, is_all)
LEFT JOIN rn USING (month, department, is_all)
LEFT JOIN s USING (month, department, is_all)
LEFT JOIN b USING (month, department, is_all)
LEFT JOIN f USING (month, department, is_all)
ORDER BY g.month, g.is_all DESC, g.department"""
"""The final SELECT: the grid with every part joined; a count or a sum over no rows is 0, a
median NULL; each exact sum is converted once to the nearest DOUBLE."""


PARTS: dict[str, tuple[str, ...]] = {
    "p": ("purchases BIGINT", "revenue DOUBLE", "list_purchases BIGINT", "list_amount DOUBLE",
          "list_paid DOUBLE"),
    "cu": ("active_customers BIGINT", "new_customers BIGINT", "returning_customers BIGINT"),
    "c": ("complaints BIGINT", "complaints_with_customer BIGINT", "repeat_complaints BIGINT",
          "unresolved_complaints BIGINT", "complaints_within_promise BIGINT",
          "complaints_closed_3_business_days BIGINT", "complaints_closed_8_weeks BIGINT",
          "complaints_closed_later BIGINT", "resolution_hours_median DOUBLE",
          "compensation DOUBLE"),
    "r": ("requests BIGINT", "answered_requests BIGINT", "promise_kept BIGINT", "q DOUBLE[]"),
    "rn": ("retention_start BIGINT", "retention_end BIGINT", "retention_new BIGINT"),
    "s": ("csat_answers BIGINT", "csat_satisfied BIGINT", "nps_answers BIGINT",
          "nps_promoters BIGINT", "nps_detractors BIGINT", "ces_answers BIGINT",
          "ces_easy BIGINT", "ces_score_sum BIGINT"),
    "b": ("backlog BIGINT", "backlog_age_median_days DOUBLE", "backlog_over_8_weeks BIGINT"),
    "f": ("fcr_judged BIGINT", "fcr_resolved BIGINT"),
}
"""The parts :data:`FACTS_SELECT` joins (the purchases' counts and sums, the customers, the
complaints, the requests, retention, surveys) and the columns each gives."""


def _no_rows(name: str) -> Sql:
    """Part ``name`` with its columns and no row: a part the caller does not need."""
    columns = ", ".join(f"CAST(NULL AS {c.split()[1]}) AS {c.split()[0]}" for c in PARTS[name])
    return Sql(f"{name} AS (\n    SELECT CAST(NULL AS DATE) AS month, CAST(NULL AS VARCHAR) "
               f"AS department, CAST(NULL AS INTEGER) AS is_all, {columns} WHERE false\n)")


def facts_query(
    scope: FactsScope, settings: Settings, parts: frozenset[str] | None = None
) -> Sql:
    """The facts query over ``scope``: the CTEs of the ``parts`` wanted (:data:`PARTS`; None:
    every one — a part not wanted has no row, so its counts are 0 and its medians missing), the
    grid, :data:`FACTS_SELECT`."""
    built = {
        "p": lambda: purchases_sql(scope),
        "cu": lambda: customers_sql(scope),
        "c": lambda: complaints_sql(scope, settings),
        "r": lambda: responses_sql(scope, settings),
        "rn": lambda: retention_sql(scope),
        "s": lambda: surveys_sql(scope),
        "b": lambda: backlog_sql(scope, settings),
        "f": lambda: fcr_sql(scope, settings),
    }
    ctes = [piece for name, make in built.items()
            for piece in (make() if parts is None or name in parts else [_no_rows(name)])]
    return with_query([*ctes, *grid_sql(scope)], Sql(FACTS_SELECT))


def facts_table(
    con: duckdb.DuckDBPyConnection,
    *,
    settings: Settings | None = None,
    months: tuple[str, str] | None = None,
    departments: Sequence[str] | None = None,
    full_from: str | None = None,
    in_transaction: bool = False,
    parts: frozenset[str] | None = None,
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
    transaction of their own (the grid and the facts from the same snapshot).

    ``parts``: only those parts of :data:`PARTS` are computed (the others' counts 0, medians
    NaN), for a caller that needs some indicators only (:func:`compute.indicator_table`).

    Raises :class:`DepartmentNameError` if a stored department is literally called ``All``.
    """
    settings = read_settings(con) if settings is None else settings
    cur = con if in_transaction else con.cursor()
    if not in_transaction:
        cur.execute("BEGIN TRANSACTION")
    try:
        scope = resolve_scope(cur, months, departments, full_from)
        frame = None
        if scope is not None:
            query = facts_query(scope, settings, parts)
            frame = cur.execute(query.text, dict(query.params)).df()
    except BaseException:
        if not in_transaction:
            cur.execute("ROLLBACK")
        raise
    if not in_transaction:
        cur.execute("COMMIT")
    return _empty_facts() if frame is None else _typed_facts(frame)


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


class DepartmentNameError(ValueError):
    """A stored department carries the name reserved for every department together."""

    @classmethod
    def reserved(cls) -> DepartmentNameError:
        return cls(
            f"a department is named {ALL_DEPARTMENTS!r}, the name reserved for every "
            "department together; rename it in the data"
        )


# The promised minutes set per department, as a table (for facts and compute's promise rule).
_PROMISE_TABLE = """    SELECT unnest($promise_departments::VARCHAR[]) AS department,
           unnest($promise_minutes::DOUBLE[]) AS minutes"""


def _promise_parameters(settings: Settings) -> dict[str, object]:
    named = sorted(d for d in settings.promised_minutes if d != ANY_DEPARTMENT)
    return {
        "promise_departments": named,
        "promise_minutes": [settings.promise_for(d) for d in named],
        # the ``*`` entry (else 60) is what promise_for gives any department not named
        "default_promise": settings.promise_for(ANY_DEPARTMENT),
    }


# Older names of :mod:`indicators.months`' functions, still imported elsewhere.
shift_month = ym.shift
parse_month = ym.parse


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


# --- complaint mix -------------------------------------------------------------------------

_MIX_SQL = f"""
SELECT strftime(month, '%Y-%m') AS month, {_ALL_OR_DEPARTMENT},
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
        "month": None if month is None else ym.parse(month),
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
