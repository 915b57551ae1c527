"""Channels as a dimension: the indicators per month × department (and ``All``) × channel.

Purchases, complaints, responses and surveys carry an optional ``channel``.  This module
computes, in SQL, the monthly facts per channel (:func:`channel_facts`) and from them the
indicators per channel (:func:`channel_indicator_table`), with the same formulas as the
totals (:data:`indicators.compute.FORMULAS`).  :mod:`indicators.stored_indicators` stores them
beside the totals and keeps them current.

**The rules.**

* A row's channel is its ``channel`` as stored; an empty one (or a dataset stored before
  surveys had a channel) is the value :data:`~indicators.catalog.NOT_GIVEN` (``not given``),
  a channel of its own, never dropped.  A channel literally called ``not given`` is the same
  value.
* **Which indicators** (:data:`CHANNEL_INDICATORS`): every indicator computed from rows that
  carry a channel.  A cross-dataset ratio is filtered to the channel on both sides: the
  complaint rate of ``web`` is ``web``'s complaints per 100 of ``web``'s purchases, the
  compensation share ``web``'s compensation ÷ ``web``'s revenue.  Revenue growth compares the
  channel's revenue with the same channel's revenue of the earlier month (read from those
  months' purchases alone: m − 1 and m − 12).
* **Not per channel** (:data:`NOT_PER_CHANNEL`): new customers and returning customers (a
  customer's history across channels: a first purchase on the web followed by one in store
  would make a "new" customer of the store who is no new customer), the retention rate (the
  retention dataset has no channel), and active customers and revenue per customer: a count
  of distinct customers per month, department and channel took 2.8 s of the 3.4 s of every
  per-channel indicator at 10 M purchases (a bulk load rebuilds them), so distinct customers
  are not counted per channel.
* **Which rows exist.**  A (month, department, channel) row exists when purchases,
  complaints, responses or surveys hold a row of that month, department and channel; an
  ``All`` × channel row when they hold one of that month and channel in any department.  Every
  per-channel indicator has a value there (a count 0, a ratio over nothing missing).  Months
  are the reported months (as the totals').
* ``All`` × channel is computed from the rows, never from the departments' values.

The query, like :mod:`indicators.facts`', depends only on the scope's shape; every value is a
parameter; table and column names are this module's fixed text.

>>> "new_customers" in CHANNEL_INDICATORS, "complaint_rate" in CHANNEL_INDICATORS
(False, True)
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import pandas as pd

from indicators import compute, facts
from indicators import months as ym
from indicators.catalog import ALL_DEPARTMENTS, INDICATOR_IDS, NOT_GIVEN, UNCLASSIFIED
from indicators.facts import FactsScope, Sql, with_query
from indicators.store import Settings, read_settings

CHANNEL_DATASETS: tuple[str, ...] = ("purchases", "complaints", "responses", "surveys")
"""The datasets whose rows carry a channel."""
NOT_PER_CHANNEL: dict[str, str] = {
    "active_customers": "distinct customers per channel are not kept (a customer who buys in "
                        "two channels is one customer of the whole; counting them per channel "
                        "would cost most of a load's time)",
    "new_customers": "a customer's first purchase may be in another channel",
    "returning_customers_rate": "a customer's earlier purchases may be in another channel",
    "retention_rate": "the retention dataset has no channel",
    "revenue_per_customer": "distinct customers per channel are not kept (see active customers)",
    "complaints_resolved_within_promise": "not computed per channel yet (the business days "
                                          "and the FCA bands are kept per department)",
    "complaints_closed_3_business_days": "not computed per channel yet (as the promise)",
    "complaints_closed_8_weeks": "not computed per channel yet (as the promise)",
    "complaints_closed_later": "not computed per channel yet (as the promise)",
    "complaint_backlog": "the backlog is a month-end state kept per department, not per channel",
    "backlog_age_median": "the backlog is kept per department, not per channel",
    "backlog_over_8_weeks": "the backlog is kept per department, not per channel",
    "first_contact_resolution": "a customer's next contact may come through another channel",
    "revenue_at_risk": "it needs revenue per customer (see active customers)",
}
"""The indicators not computed per channel, and why (docs/indicators.md, "Per channel")."""
CHANNEL_INDICATORS: tuple[str, ...] = tuple(i for i in INDICATOR_IDS if i not in NOT_PER_CHANNEL)
"""The indicators computed per channel, catalog order."""
LONG_COLUMNS: tuple[str, ...] = ("month", "department", "channel", "indicator", "value")
"""The per-channel long table: the indicator long table with ``channel`` after ``department``."""

CHANNEL_COUNT_COLUMNS: tuple[str, ...] = (
    "purchases", "list_purchases", "complaints", "complaints_with_customer",
    "repeat_complaints", "unresolved_complaints", "requests", "answered_requests",
    "promise_kept", "csat_answers", "csat_satisfied", "nps_answers", "nps_promoters",
    "nps_detractors", "ces_answers", "ces_easy", "ces_score_sum",
)
CHANNEL_SUM_COLUMNS: tuple[str, ...] = (
    "revenue", "list_amount", "list_paid", "compensation", "revenue_previous_month",
    "revenue_previous_year",
)
CHANNEL_QUANTILE_COLUMNS: tuple[str, ...] = tuple(
    c for c in facts.QUANTILE_COLUMNS if c != "backlog_age_median_days")
CHANNEL_FACT_COLUMNS: tuple[str, ...] = (
    "month", "department", "channel", *CHANNEL_COUNT_COLUMNS, *CHANNEL_SUM_COLUMNS,
    *CHANNEL_QUANTILE_COLUMNS,
)
""":func:`channel_facts`' columns: :mod:`indicators.facts`' columns that mean something per
channel (``revenue_previous_month`` / ``_year``: the channel's revenue then; NaN when that
month had no purchase in the channel)."""

_COLUMNS_SQL = """SELECT table_name FROM duckdb_columns()
    WHERE database_name = current_database() AND schema_name = 'main'
      AND column_name = 'channel'"""


def _channel_of(has_column: bool) -> str:
    """SQL: a row's channel (empty → ``$not_given``); a table without the column: not given."""
    return "coalesce(nullif(channel, ''), $not_given)" if has_column else "$not_given"


def _key(scope: FactsScope) -> tuple[str, str]:
    """The ``department, channel`` columns and the GROUP BY over rows with ``ch``, ``All``
    from the rows themselves (``GROUPING SETS``), or only what the scope holds."""
    if not scope.with_all:
        return "department, ch AS channel", "GROUP BY month, department, ch"
    if not scope.departments:
        return "$all AS department, ch AS channel", "GROUP BY month, ch"
    return ("CASE WHEN grouping(department) = 1 THEN $all ELSE department END AS department, "
            "ch AS channel", "GROUP BY GROUPING SETS ((month, department, ch), (month, ch))")


def _only(has_channel: bool, channels: Sequence[str] | None) -> Sql:
    """SQL: `` AND`` the row's channel is one of ``channels`` (None: nothing, every channel)."""
    if channels is None:
        return Sql("")
    return Sql(f" AND list_contains($only_channels, {_channel_of(has_channel)})",
               {"only_channels": list(channels)})


def _source(table: str, has_channel: bool, scope: FactsScope, since: str, columns: str,
            channels: Sequence[str] | None = None) -> Sql:
    """``table``'s rows of months ``$lo`` … ``$hi`` (``since="history"``: those months and the
    months 1 and 12 before them, :func:`_history_runs`) and of the scope's departments without
    ``All`` (and of ``channels`` only, when given), with ``ch``."""
    values: dict[str, object] = {"lo": scope.lo, "hi": scope.hi, "not_given": NOT_GIVEN}
    where = "month BETWEEN $lo AND $hi"
    if since == "history":
        runs = _history_runs(scope)
        names = "abc"[: len(runs)]  # $history_a_lo …: parameter names are letters
        where = "(" + " OR ".join(f"month BETWEEN $history_{n}_lo AND $history_{n}_hi"
                                  for n in names) + ")"
        values = {"not_given": NOT_GIVEN}
        for n, (lo, hi) in zip(names, runs, strict=True):
            values[f"history_{n}_lo"], values[f"history_{n}_hi"] = lo, hi
    if not scope.with_all:
        where += " AND list_contains($departments, department)"
        values["departments"] = list(scope.departments)
    only = _only(has_channel, channels)
    return Sql(f"(SELECT month, department, {_channel_of(has_channel)} AS ch{columns} "
               f"FROM {table} WHERE {where}{only.text})", {**values, **only.params})


def _history_runs(scope: FactsScope) -> list[tuple[object, object]]:
    """The months the purchases are read from: the scope's, and those 1 and 12 months before
    them (the revenue growth compares with them), as disjoint runs of first days, in order
    (a month's load reads 3 months of purchases, not 13)."""
    lo, hi = ym.index(ym.label(scope.lo)), ym.index(ym.label(scope.hi))
    spans = sorted((max(lo - back, ym.FIRST_INDEX), max(hi - back, ym.FIRST_INDEX))
                   for back in (0, 1, 12))
    runs: list[list[int]] = []
    for first, last in spans:
        if runs and first <= runs[-1][1] + 1:
            runs[-1][1] = max(runs[-1][1], last)
        else:
            runs.append([first, last])
    return [(ym.parse(ym.from_index(a)), ym.parse(ym.from_index(b))) for a, b in runs]


def _aggregate(name: str, scope: FactsScope, measures: str, source: Sql) -> Sql:
    key, group = _key(scope)
    labels = {"all": ALL_DEPARTMENTS} if scope.with_all else {}
    return Sql(f"{name} AS MATERIALIZED (\n    SELECT month, {key},\n{measures}\n"
               f"    FROM {source.text} AS src\n    {group}\n)", {**labels, **source.params})


PARTS: dict[str, tuple[str, ...]] = {
    "p": ("purchases BIGINT", "revenue DECIMAL(38,4)", "list_purchases BIGINT",
          "list_amount DECIMAL(38,4)", "list_paid DECIMAL(38,4)"),
    "c": ("complaints BIGINT", "complaints_with_customer BIGINT", "repeat_complaints BIGINT",
          "unresolved_complaints BIGINT", "resolution_hours_median DOUBLE",
          "compensation DECIMAL(38,4)"),
    "r": ("requests BIGINT", "answered_requests BIGINT", "promise_kept BIGINT", "q DOUBLE[]"),
    "s": ("csat_answers BIGINT", "csat_satisfied BIGINT", "nps_answers BIGINT",
          "nps_promoters BIGINT", "nps_detractors BIGINT", "ces_answers BIGINT",
          "ces_easy BIGINT", "ces_score_sum BIGINT"),
}
"""The parts of the per-channel facts and their columns (``p`` reads 12 months more, for the
revenue growth)."""


def _no_rows(name: str) -> Sql:
    columns = ", ".join(f"CAST(NULL AS {c.split()[1]}) AS {c.split()[0]}" for c in PARTS[name])
    return Sql(f"{name} AS (\n    SELECT CAST(NULL AS DATE) AS month, CAST(NULL AS VARCHAR) "
               f"AS department, CAST(NULL AS VARCHAR) AS channel, {columns} WHERE false\n)")


def _parts_sql(scope: FactsScope, settings: Settings, has: dict[str, bool],
               parts: frozenset[str], *, history: bool = True,
               channels: Sequence[str] | None = None) -> list[Sql]:
    """The parts' CTEs (``history``: the purchases of the months 1 and 12 before too, for the
    revenue growth; ``channels``: those channels' rows only)."""
    built: list[Sql] = []
    if "p" in parts:
        built.append(_aggregate("p", scope, """\
           count(*) AS purchases,
           sum(amount) AS revenue,
           count(list_amount) AS list_purchases,
           sum(list_amount) AS list_amount,
           sum(amount) FILTER (WHERE list_amount IS NOT NULL) AS list_paid""",
            _source("purchases", has["purchases"], scope, "history" if history else "lo",
                    ", amount, list_amount", channels)))
    else:
        built.append(_no_rows("p"))
    if "c" in parts:
        # Whether a complaint repeats looks 90 days back in every department and channel (the
        # 4 months before the scope cover them), as for the totals.
        rows = _source("complaints", has["complaints"], scope, "lo", "")
        history = "month BETWEEN $lo - INTERVAL 4 MONTH AND $hi"
        if not scope.with_all:
            history += (" AND (list_contains($departments, department) OR customer_id IN ("
                        "SELECT customer_id FROM complaints WHERE month BETWEEN $lo AND $hi "
                        "AND list_contains($departments, department)))")
        built.append(Sql(f"""ct AS (
    SELECT month, department, {_channel_of(has["complaints"])} AS ch, customer_id, opened_at,
           resolved_at, compensation,
           CASE WHEN customer_id IS NOT NULL THEN
               count(*) OVER (
                   PARTITION BY customer_id, coalesce(component, $unclassified)
                   ORDER BY opened_at
                   RANGE BETWEEN INTERVAL 90 DAYS PRECEDING AND CURRENT ROW EXCLUDE GROUP
               ) > 0
           END AS is_repeat
    FROM complaints WHERE {history}
)""", {"unclassified": UNCLASSIFIED, **rows.params}))
        where = "month BETWEEN $lo AND $hi" + (
            "" if scope.with_all else " AND list_contains($departments, department)")
        only = Sql("") if channels is None else Sql(" AND list_contains($only_channels, ch)",
                                                     {"only_channels": list(channels)})
        built.append(_aggregate("c", scope, """\
           count(*) AS complaints,
           count(customer_id) AS complaints_with_customer,
           count(*) FILTER (WHERE is_repeat) AS repeat_complaints,
           count(*) FILTER (WHERE resolved_at IS NULL) AS unresolved_complaints,
           quantile_cont(date_diff('microsecond', opened_at, resolved_at) / 3.6e9, 0.5)
               AS resolution_hours_median,
           coalesce(sum(compensation), 0) AS compensation""",
            Sql(f"(SELECT * FROM ct WHERE {where}{only.text})", only.params)))
    else:
        built.append(_no_rows("c"))
    if "r" in parts:
        rows = _source("responses", has["responses"], scope, "lo",
                       ", received_at, responded_at, promised_minutes", channels)
        built.append(Sql(f"promise AS (\n{facts._PROMISE_TABLE}\n)",
                         facts._promise_parameters(settings)))
        built.append(Sql(f"""rt AS (
    SELECT r.month, r.department, r.ch,
           date_diff('microsecond', r.received_at, r.responded_at) / 6e7 AS minutes,
           coalesce(r.promised_minutes, pr.minutes, $default_promise) AS promised
    FROM {rows.text} AS r
    LEFT JOIN promise AS pr ON pr.department = r.department
)""", rows.params))
        built.append(_aggregate("r", scope, """\
           count(*) AS requests,
           count(minutes) AS answered_requests,
           count(*) FILTER (WHERE minutes <= promised) AS promise_kept,
           quantile_cont(minutes, [0.5, 0.9]) AS q""", Sql("rt", {})))
    else:
        built.append(_no_rows("r"))
    if "s" in parts:
        built.append(_aggregate("s", scope, """\
           count(*) FILTER (WHERE kind = 'csat') AS csat_answers,
           count(*) FILTER (WHERE kind = 'csat' AND score >= 4) AS csat_satisfied,
           count(*) FILTER (WHERE kind = 'nps') AS nps_answers,
           count(*) FILTER (WHERE kind = 'nps' AND score >= 9) AS nps_promoters,
           count(*) FILTER (WHERE kind = 'nps' AND score <= 6) AS nps_detractors,
           count(*) FILTER (WHERE kind = 'ces') AS ces_answers,
           count(*) FILTER (WHERE kind = 'ces' AND score >= 5) AS ces_easy,
           coalesce(sum(score) FILTER (WHERE kind = 'ces'), 0) AS ces_score_sum""",
            _source("surveys", has["surveys"], scope, "lo", ", kind, score", channels)))
    else:
        built.append(_no_rows("s"))
    return built


def _rows_sql(scope: FactsScope, has: dict[str, bool], channels: Sequence[str] | None = None
             ) -> Sql:
    """``k``: every (month, department, channel) that holds a row of a channel dataset, and
    (month, ``All``, channel) — the rows of the per-channel table (of ``channels`` only, when
    given)."""
    sources = [_source(t, has[t], scope, "lo", "", channels) for t in CHANNEL_DATASETS]
    union = " UNION ALL ".join(f"SELECT DISTINCT month, department, ch FROM {s.text}"
                               for s in sources)
    params: dict[str, object] = {}
    for s in sources:
        params.update(s.params)
    key, group = _key(scope)
    if scope.with_all:
        params["all"] = ALL_DEPARTMENTS
    return Sql(f"k AS MATERIALIZED (\n    SELECT month, {key} FROM ({union}) AS src\n"
               f"    {group}\n)", params)


_SELECT = """SELECT strftime(k.month, '%Y-%m') AS month, k.department, k.channel,
       coalesce(p.purchases, 0) AS purchases,
       coalesce(p.list_purchases, 0) AS list_purchases,
       coalesce(c.complaints, 0) AS complaints,
       coalesce(c.complaints_with_customer, 0) AS complaints_with_customer,
       coalesce(c.repeat_complaints, 0) AS repeat_complaints,
       coalesce(c.unresolved_complaints, 0) AS unresolved_complaints,
       coalesce(r.requests, 0) AS requests,
       coalesce(r.answered_requests, 0) AS answered_requests,
       coalesce(r.promise_kept, 0) AS promise_kept,
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
       p1.revenue::DOUBLE AS revenue_previous_month,
       p12.revenue::DOUBLE AS revenue_previous_year,
       c.resolution_hours_median::DOUBLE AS resolution_hours_median,
       r.q[1]::DOUBLE AS response_minutes_median,
       r.q[2]::DOUBLE AS response_minutes_p90
FROM k
LEFT JOIN p USING (month, department, channel)
LEFT JOIN c USING (month, department, channel)
LEFT JOIN r USING (month, department, channel)
LEFT JOIN s USING (month, department, channel)
LEFT JOIN p AS p1 ON p1.month = CAST(k.month - INTERVAL 1 MONTH AS DATE)
    AND p1.department = k.department AND p1.channel = k.channel
LEFT JOIN p AS p12 ON p12.month = CAST(k.month - INTERVAL 12 MONTH AS DATE)
    AND p12.department = k.department AND p12.channel = k.channel
WHERE k.month BETWEEN $lo AND $hi
  AND (k.department = $all_label OR list_contains($grid_departments, k.department))
ORDER BY k.month, k.department <> $all_label, k.department, k.channel"""


def channel_columns(con: duckdb.DuckDBPyConnection) -> dict[str, bool]:
    """Whether each channel dataset's table has a ``channel`` column (surveys stored by an
    earlier version, opened read-only, have none: every answer is not given)."""
    found = {name for (name,) in con.execute(_COLUMNS_SQL).fetchall()}
    return {t: t in found for t in CHANNEL_DATASETS}


def channel_facts(
    con: duckdb.DuckDBPyConnection,
    *,
    settings: Settings | None = None,
    months: tuple[str, str] | None = None,
    departments: Sequence[str] | None = None,
    in_transaction: bool = False,
    parts: frozenset[str] | None = None,
    history: bool = True,
    channels: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The monthly facts per channel (:data:`CHANNEL_FACT_COLUMNS`), one row per existing
    (month, department or ``All``, channel) (module docstring), sorted by month, ``All`` first,
    department, channel.

    ``months``, ``departments``, ``in_transaction`` as :func:`indicators.facts.facts_table`
    (the same rows and values as without them, for those months and departments);
    ``parts``: only those of :data:`PARTS` (the others' counts 0, sums 0, medians NaN);
    ``history``: False leaves out the purchases of the months 1 and 12 before the scope's
    (``revenue_previous_month`` / ``_year`` NaN: for indicators other than the growth);
    ``channels``: only those channels' rows (read from those channels' rows alone; the same
    values as without)."""
    settings = read_settings(con) if settings is None else settings
    cur = con if in_transaction else con.cursor()
    if not in_transaction:
        cur.execute("BEGIN TRANSACTION")
    try:
        scope = facts.resolve_scope(cur, months, departments)
        frame = None
        if scope is not None:
            has = channel_columns(cur)
            wanted = frozenset(PARTS) if parts is None else parts
            query = with_query([*_parts_sql(scope, settings, has, wanted, history=history,
                                            channels=channels),
                                _rows_sql(scope, has, channels)],
                               Sql(_SELECT, {"lo": scope.lo, "hi": scope.hi,
                                             "all_label": ALL_DEPARTMENTS,
                                             "grid_departments": list(scope.departments)}))
            frame = cur.execute(query.text, dict(query.params)).df()
    except BaseException:
        if not in_transaction:
            cur.execute("ROLLBACK")
        raise
    if not in_transaction:
        cur.execute("COMMIT")
    if frame is None:
        frame = pd.DataFrame({name: pd.Series(dtype="object") for name in CHANNEL_FACT_COLUMNS})
    for name in CHANNEL_COUNT_COLUMNS:
        frame[name] = frame[name].astype("int64")
    for name in (*CHANNEL_SUM_COLUMNS, *CHANNEL_QUANTILE_COLUMNS):
        frame[name] = frame[name].astype("float64")
    for name in ("month", "department", "channel"):
        frame[name] = frame[name].astype("str")
    return frame[list(CHANNEL_FACT_COLUMNS)]


def _parts_of(indicators: Sequence[str]) -> frozenset[str]:
    """The parts of :data:`PARTS` that ``indicators`` read (:func:`compute.fact_parts`)."""
    return frozenset(compute.fact_parts(indicators)) & frozenset(PARTS)


def indicators_from_channel_facts(
    frame: pd.DataFrame, *, settings: Settings, indicators: Sequence[str] = CHANNEL_INDICATORS
) -> pd.DataFrame:
    """The per-channel long table (:data:`LONG_COLUMNS`) of ``indicators`` from
    :func:`channel_facts`, sorted by month, ``All`` first, department, channel, catalog
    order."""
    wanted = [i for i in CHANNEL_INDICATORS if i in set(indicators)]
    columns = {name: frame[name].astype("str") for name in ("month", "department", "channel")}
    for indicator in wanted:
        columns[indicator] = compute.FORMULAS[indicator](frame, settings).astype("float64")
    wide = pd.DataFrame(columns, index=frame.index)
    long = wide.melt(id_vars=["month", "department", "channel"], value_vars=wanted,
                     var_name="indicator", value_name="value")
    long = long.astype({"month": "str", "department": "str", "channel": "str",
                        "indicator": "str", "value": "float64"})
    return sort_long(long[list(LONG_COLUMNS)])


def sort_long(table: pd.DataFrame) -> pd.DataFrame:
    """Sort a per-channel long table: month, ``All`` first then departments by name, channel by
    name, catalog order."""
    position = {indicator: i for i, indicator in enumerate(INDICATOR_IDS)}
    keyed = table.assign(_all=table["department"] != ALL_DEPARTMENTS,
                         _indicator=table["indicator"].map(position))
    ordered = keyed.sort_values(["month", "_all", "department", "channel", "_indicator"],
                                kind="stable")
    return ordered.drop(columns=["_all", "_indicator"]).reset_index(drop=True)


def channel_indicator_table(
    con: duckdb.DuckDBPyConnection,
    *,
    settings: Settings | None = None,
    months: tuple[str, str] | None = None,
    departments: Sequence[str] | None = None,
    channels: Sequence[str] | None = None,
    in_transaction: bool = False,
    indicators: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Every per-channel indicator (:data:`CHANNEL_INDICATORS`; only ``indicators`` of them when
    given) for every existing month × department (and ``All``) × channel, as the per-channel
    long table (:data:`LONG_COLUMNS`); only ``months``, ``departments`` and ``channels`` when
    given, with the same values (computed from those months' rows and the 12 months before
    them for the growth).  Empty with the five columns when nothing is stored."""
    settings = read_settings(con) if settings is None else settings
    wanted = CHANNEL_INDICATORS if indicators is None else tuple(
        i for i in indicators if i in CHANNEL_INDICATORS)
    frame = channel_facts(con, settings=settings, months=months, departments=departments,
                          in_transaction=in_transaction, parts=_parts_of(wanted),
                          history=any(i in compute.GROWTH_INDICATORS for i in wanted),
                          channels=channels)
    return indicators_from_channel_facts(frame, settings=settings, indicators=wanted)
