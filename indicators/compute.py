"""Indicators from monthly facts: pure functions, DataFrame in, DataFrame out.

The indicator long table has the columns

* ``month`` — text ``YYYY-MM``;
* ``department`` — text, ``All`` (:data:`catalog.ALL_DEPARTMENTS`) for every department together;
* ``indicator`` — a catalog id (:data:`catalog.INDICATOR_IDS`);
* ``value`` — float64; NaN means *missing*.

It covers every month from the first to the last that holds any data, every department and
``All``, every indicator, sorted by month, then ``All`` first and departments by name, then
catalog order.  Units follow the catalog: percentages are percent values (12.5 means 12.5 %),
``per 100`` is per 100 purchases, money is in the data's currency, times in minutes or hours
of elapsed time (differences of the stored instants: :mod:`indicators.facts`).

Missing versus zero: a count or a sum over no rows is 0 (it is in the facts); a ratio whose
denominator is 0 is NaN, never 0.  Growth compares with a month that must be inside the
reported months and have revenue > 0, else it is NaN.

:func:`facts_table` and :func:`response_time_histogram` (binned in SQL) are re-exported from
:mod:`indicators.facts` so that callers need only this module.

**One promise per request.**  The promise-kept rate, :func:`promise_summary` (what the headline
says) and :func:`response_times_by_promise` (the histogram's colours) judge every request by
the same rule: its own ``promised_minutes``, else its department's promise setting, else the
``*`` setting, else 60.  A request is *kept* when answered within that promise; an unanswered
request is not kept (it has no wait, so it is in the rate and the summary, not the histogram).

:data:`FORMULAS` maps every catalog id to its formula over one row of facts; the functions
here never mutate their inputs and do not depend on row order.

Examples
--------
>>> import pandas as pd
>>> from indicators.store import Settings
>>> facts = pd.DataFrame({"month": ["2025-01"], "department": ["All"], "purchases": [4],
...                       "revenue": [100.0], "complaints": [1]})
>>> wide = indicator_values(facts, settings=Settings(), indicators=("average_ticket",
...                         "complaint_rate", "estimated_dissatisfied"))
>>> wide[["average_ticket", "complaint_rate", "estimated_dissatisfied"]].iloc[0].tolist()
[25.0, 25.0, 2.0]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import duckdb
import pandas as pd

from indicators import catalog
from indicators import facts as facts_sql
from indicators import months as months_of
from indicators.catalog import ALL_DEPARTMENTS, INDICATOR_IDS, SERVICE_COMPONENTS, UNCLASSIFIED
from indicators.facts import facts_table
from indicators.facts import response_time_bins as response_time_histogram
from indicators.store import Settings, read_settings

__all__ = [
    "FORMULAS",
    "LONG_COLUMNS",
    "MIX_COMPONENTS",
    "complaint_mix",
    "facts_table",
    "indicator_table",
    "indicator_values",
    "indicators_from_facts",
    "mix_from_counts",
    "promise_summary",
    "promised_minutes",
    "response_time_histogram",
    "response_times_by_promise",
    "sort_long",
    "sort_wide",
    "with_revenue_history",
]

LONG_COLUMNS: tuple[str, ...] = ("month", "department", "indicator", "value")
MIX_COMPONENTS: tuple[str, ...] = (*SERVICE_COMPONENTS, UNCLASSIFIED)

Formula = Callable[[pd.DataFrame, Settings], pd.Series]


def _ratio(numerator: pd.Series, denominator: pd.Series, scale: float = 1.0) -> pd.Series:
    """``numerator ÷ denominator × scale``; NaN wherever the denominator is 0 or missing."""
    den = denominator.astype("float64")
    return numerator.astype("float64") / den.where(den != 0) * scale


def _growth(f: pd.DataFrame, earlier: str) -> pd.Series:
    return (_ratio(f["revenue"], f[earlier]) - 1.0) * 100.0


def _column(name: str) -> Formula:
    def value(f: pd.DataFrame, settings: Settings) -> pd.Series:
        return f[name].astype("float64")

    return value


FORMULAS: dict[str, Formula] = {
    "purchases": _column("purchases"),
    "revenue": _column("revenue"),
    "active_customers": _column("active_customers"),
    "new_customers": _column("new_customers"),
    "revenue_growth_mom": lambda f, s: _growth(f, "revenue_previous_month"),
    "revenue_growth_yoy": lambda f, s: _growth(f, "revenue_previous_year"),
    "returning_customers_rate": lambda f, s: _ratio(
        f["returning_customers"], f["active_customers"], 100.0
    ),
    "retention_rate": lambda f, s: _ratio(
        f["retention_end"] - f["retention_new"], f["retention_start"], 100.0
    ),
    "complaints": _column("complaints"),
    "complaint_rate": lambda f, s: _ratio(f["complaints"], f["purchases"], 100.0),
    "estimated_dissatisfied": lambda f, s: f["complaints"].astype("float64") * s.iceberg_factor,
    # the product in this order: the stored estimated dissatisfied × share × revenue per customer
    # (stored_indicators.STORED_PRODUCTS rewrites it so after a setting, to the same double)
    "revenue_at_risk": lambda f, s: (
        f["complaints"].astype("float64") * s.iceberg_factor * (s.dissatisfied_leave_share / 100.0)
        * _ratio(f["revenue"], f["active_customers"])
    ),
    "repeat_complaint_rate": lambda f, s: _ratio(
        f["repeat_complaints"], f["complaints_with_customer"], 100.0
    ),
    "contacts_per_100_purchases": lambda f, s: _ratio(
        f["requests"] + f["complaints"], f["purchases"], 100.0
    ),
    "first_contact_resolution": lambda f, s: _ratio(f["fcr_resolved"], f["fcr_judged"], 100.0),
    "csat": lambda f, s: _ratio(f["csat_satisfied"], f["csat_answers"], 100.0),
    "nps": lambda f, s: _ratio(f["nps_promoters"] - f["nps_detractors"], f["nps_answers"], 100.0),
    "ces": lambda f, s: _ratio(f["ces_easy"], f["ces_answers"], 100.0),
    "ces_mean": lambda f, s: _ratio(f["ces_score_sum"], f["ces_answers"]),
    "response_time_median": _column("response_minutes_median"),
    "response_time_p90": _column("response_minutes_p90"),
    "promise_kept_rate": lambda f, s: _ratio(f["promise_kept"], f["requests"], 100.0),
    "resolution_time_median": _column("resolution_hours_median"),
    "unresolved_complaints_rate": lambda f, s: _ratio(
        f["unresolved_complaints"], f["complaints"], 100.0
    ),
    "complaints_resolved_within_promise": lambda f, s: _ratio(
        f["complaints_within_promise"], f["complaints"], 100.0
    ),
    "complaints_closed_3_business_days": lambda f, s: _ratio(
        f["complaints_closed_3_business_days"], f["complaints"], 100.0
    ),
    "complaints_closed_8_weeks": lambda f, s: _ratio(
        f["complaints_closed_8_weeks"], f["complaints"], 100.0
    ),
    "complaints_closed_later": lambda f, s: _ratio(
        f["complaints_closed_later"], f["complaints"], 100.0
    ),
    "complaint_backlog": _column("backlog"),
    "backlog_age_median": _column("backlog_age_median_days"),
    "backlog_over_8_weeks": lambda f, s: _ratio(f["backlog_over_8_weeks"], f["backlog"], 100.0),
    "average_ticket": lambda f, s: _ratio(f["revenue"], f["purchases"]),
    "revenue_per_customer": lambda f, s: _ratio(f["revenue"], f["active_customers"]),
    "discount_rate": lambda f, s: (1.0 - _ratio(f["list_paid"], f["list_amount"])) * 100.0,
    "compensation_per_complaint": lambda f, s: _ratio(f["compensation"], f["complaints"]),
    "compensation_share": lambda f, s: _ratio(f["compensation"], f["revenue"], 100.0),
}
"""Every catalog indicator's formula over facts (with the revenue history columns added)."""


def _shift_months(labels: pd.Series, by: int) -> pd.Series:
    """Each ``YYYY-MM`` of ``labels`` moved ``by`` months (:func:`months.shift`, once per month)."""
    moved = {m: months_of.shift(m, by) for m in labels.astype("str").unique()}
    return labels.astype("str").map(moved).astype("str")


def with_revenue_history(facts: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``facts`` with ``revenue_previous_month`` and ``revenue_previous_year``.

    The earlier revenue is looked up by month label in the facts themselves, so a month outside
    the facts gives NaN (and so a missing growth).
    """
    revenue = facts[["month", "department", "revenue"]]
    out = facts.copy()
    for column, months_back in (("revenue_previous_month", 1), ("revenue_previous_year", 12)):
        earlier = pd.DataFrame({
            "month": _shift_months(revenue["month"], months_back),
            "department": revenue["department"],
            column: revenue["revenue"].astype("float64"),
        })
        out = out.drop(columns=column, errors="ignore").merge(
            earlier, on=["month", "department"], how="left", validate="many_to_one"
        )
    return out


def indicator_values(
    facts: pd.DataFrame, *, settings: Settings, indicators: Iterable[str] = INDICATOR_IDS
) -> pd.DataFrame:
    """Wide table: ``month``, ``department`` and one float64 column per indicator."""
    f = with_revenue_history(facts)
    columns = {"month": f["month"].astype("str"), "department": f["department"].astype("str")}
    for indicator in indicators:
        columns[indicator] = FORMULAS[indicator](f, settings).astype("float64")
    return pd.DataFrame(columns)


def _department_order(departments: pd.Series) -> pd.Series:
    """Sort key: ``All`` first, then departments by name."""
    return departments.map(lambda d: (d != ALL_DEPARTMENTS, d))


def sort_long(table: pd.DataFrame) -> pd.DataFrame:
    """Sort a long table by month, department (``All`` first) and catalog order."""
    position = {indicator: i for i, indicator in enumerate(INDICATOR_IDS)}
    keyed = table.assign(
        _department=_department_order(table["department"]),
        _indicator=table["indicator"].map(position),
    )
    ordered = keyed.sort_values(["month", "_department", "_indicator"], kind="stable")
    return ordered.drop(columns=["_department", "_indicator"]).reset_index(drop=True)


def sort_wide(table: pd.DataFrame) -> pd.DataFrame:
    """Sort a wide table (:func:`indicator_values`) by month, then department (``All`` first):
    its rows, each read in catalog order, are then the long table's rows in order."""
    keyed = table.assign(_department=_department_order(table["department"]))
    ordered = keyed.sort_values(["month", "_department"], kind="stable")
    return ordered.drop(columns=["_department"]).reset_index(drop=True)


def indicators_from_facts(
    facts: pd.DataFrame, *, settings: Settings, indicators: Sequence[str] = INDICATOR_IDS
) -> pd.DataFrame:
    """The indicator long table (see the module docstring) from a facts table; only
    ``indicators`` (catalog order) when given."""
    indicators = [i for i in INDICATOR_IDS if i in set(indicators)]
    wide = indicator_values(facts, settings=settings, indicators=indicators)
    long = wide.melt(
        id_vars=["month", "department"],
        value_vars=indicators,
        var_name="indicator",
        value_name="value",
    )
    long = long.astype({"month": "str", "department": "str", "indicator": "str",
                        "value": "float64"})
    return sort_long(long[list(LONG_COLUMNS)])


def fact_parts(indicators: Iterable[str]) -> frozenset[str]:
    """The parts of the facts (:data:`facts.PARTS`) that ``indicators`` read, from the catalog's
    sources: a customer id of purchases the customers (``cu``), any other column of purchases
    the purchases' counts and sums (``p``), complaints ``c``, responses ``r``, retention ``rn``,
    surveys ``s``.

    >>> sorted(fact_parts(["csat"])), sorted(fact_parts(["compensation_share"]))
    (['s'], ['c', 'p'])
    """
    parts = set()
    for indicator in indicators:
        if indicator in OWN_PART:
            parts.add(OWN_PART[indicator])
            continue
        for source in catalog.get(indicator).sources:
            dataset, column = source.split(".")
            if dataset == "purchases":
                parts.add("cu" if column == "customer_id" else "p")
            else:
                parts.add(DATASET_PART[dataset])
    return frozenset(parts)


GROWTH_INDICATORS: tuple[str, ...] = ("revenue_growth_mom", "revenue_growth_yoy")
"""The indicators that compare a month's purchases with those of 1 and 12 months before."""

OWN_PART: dict[str, str] = {
    "complaint_backlog": "b", "backlog_age_median": "b", "backlog_over_8_weeks": "b",
    "first_contact_resolution": "f",
}
"""Indicators read from a part of their own rather than their datasets' usual one: the backlog at
the months' ends (``b``) and first-contact resolution (``f``)."""

DATASET_PART: dict[str, str] = {"complaints": "c", "responses": "r", "retention": "rn",
                                "surveys": "s"}
"""The part of the facts each dataset but purchases feeds (purchases: ``p`` and ``cu``)."""


def indicator_table(
    con: duckdb.DuckDBPyConnection,
    *,
    settings: Settings | None = None,
    months: tuple[str, str] | None = None,
    departments: Sequence[str] | None = None,
    in_transaction: bool = False,
    indicators: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Every indicator for every month × (departments + ``All``), as the long table.

    ``settings`` defaults to :func:`store.read_settings` (iceberg factor and leave share,
    promised minutes).
    Empty (with the four columns) when no dataset holds a row.

    ``months`` (``(first, last)``, ``YYYY-MM``, both included) and ``departments`` (names, with
    or without ``All``) give only those rows of the full table, with the same values, at the
    cost of those months and departments: what a scorecard for one month and department needs
    (see :func:`facts.facts_table`).  The 12 months before ``first`` are read as well, for the
    growth indicators (:data:`GROWTH_INDICATORS`, when they are wanted).  ``None`` (the
    default) means no restriction.  ``in_transaction``: see
    :func:`facts.facts_table`.  ``indicators``: only those (catalog ids), computed from only
    the parts of the facts they read (:func:`fact_parts`), with the same values.
    """
    settings = read_settings(con) if settings is None else settings
    wanted = INDICATOR_IDS if indicators is None else tuple(indicators)
    parts = None if indicators is None else fact_parts(wanted)
    if months is None and departments is None:
        facts = facts_table(con, settings=settings, in_transaction=in_transaction, parts=parts)
        return indicators_from_facts(facts, settings=settings, indicators=wanted)
    # the growth compares with 1 and 12 months before: only its indicators read them
    back = 12 if any(i in GROWTH_INDICATORS for i in wanted) else 0
    history = None if months is None else (months_of.shift(months[0], -back), months[1])
    facts = facts_table(con, settings=settings, months=history, departments=departments,
                        full_from=None if months is None else months[0],
                        in_transaction=in_transaction, parts=parts)
    table = indicators_from_facts(facts, settings=settings, indicators=wanted)
    if months is not None:
        table = table[table["month"] >= months[0]].reset_index(drop=True)
    return table


def mix_from_counts(
    counts: pd.DataFrame, *, months: list[str], departments: list[str]
) -> pd.DataFrame:
    """The complaint mix over the full grid from sparse counts (:func:`facts.complaint_counts`).

    Every month × (``All`` + departments) × component (the six and ``unclassified``) appears;
    ``share`` is the component's percent of that month's and department's complaints, NaN when
    there were none.
    """
    grid = pd.MultiIndex.from_product(
        [months, [ALL_DEPARTMENTS, *departments], list(MIX_COMPONENTS)],
        names=["month", "department", "component"],
    ).to_frame(index=False)
    mix = grid.merge(
        counts[["month", "department", "component", "complaints"]],
        on=["month", "department", "component"], how="left", validate="one_to_one",
    )
    mix["complaints"] = mix["complaints"].fillna(0).astype("int64")
    total = mix.groupby(["month", "department"])["complaints"].transform("sum")
    mix["share"] = _ratio(mix["complaints"], total, 100.0)
    return mix.astype({"month": "str", "department": "str", "component": "str"})


def complaint_mix(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Complaints per month, department (and ``All``) and service component, with shares.

    Columns ``month``, ``department``, ``component`` (the six components and
    ``unclassified``), ``complaints`` (int64) and ``share`` (% of that month's complaints in the
    department; NaN when it had none).  Same months and departments as :func:`indicator_table`.
    """
    from indicators.stored_indicators import grid  # the stored row counts' grid: no scan

    months, departments = grid(con)
    return mix_from_counts(
        facts_sql.complaint_counts(con), months=months, departments=departments
    )


def promised_minutes(
    con: duckdb.DuckDBPyConnection,
    *,
    month: str | None,
    department: str,
    settings: Settings | None = None,
) -> float:
    """The promise to draw beside :func:`response_time_histogram` for the same scope.

    The effective promise (``promised_minutes``, else the department's setting) that most
    requests in scope carry — the shorter one on a tie; with no requests, the setting for the
    department (for ``All``, the ``*`` setting, else 60).
    """
    settings = read_settings(con) if settings is None else settings
    found = con.cursor().execute(
        _PROMISE_MOST_CARRIED_SQL,
        {**facts_sql._scope_parameters(month, department),
         **facts_sql._promise_parameters(settings)},
    ).fetchone()
    return float(settings.promise_for(department) if found is None else found[0])


# --- one promise per request --------------------------------------------------------------

_JUDGED = f"""WITH promise AS (
{facts_sql._PROMISE_TABLE}
), scoped AS (
    SELECT month, department, promised_minutes, {facts_sql._MINUTES} AS minutes
    {facts_sql._SCOPE}
), judged AS (
    SELECT s.month, s.minutes,
           coalesce(s.promised_minutes, pr.minutes, $default_promise)::DOUBLE AS promised
    FROM scoped AS s LEFT JOIN promise AS pr ON pr.department = s.department
)"""

_PROMISE_MOST_CARRIED_SQL = _JUDGED + """
SELECT promised FROM judged GROUP BY promised ORDER BY count(*) DESC, promised LIMIT 1"""

_PROMISE_SUMMARY_SQL = _JUDGED + """
SELECT strftime(month, '%Y-%m') AS month,
       count(*) AS requests,
       count(minutes) AS answered,
       count(*) FILTER (WHERE minutes <= promised) AS kept,
       quantile_cont(promised, 0.5) AS promise_median,
       min(promised) AS promise_min,
       max(promised) AS promise_max,
       quantile_cont(minutes, 0.5) AS wait_median
FROM judged GROUP BY month ORDER BY month"""

PROMISE_SUMMARY_COLUMNS: tuple[str, ...] = (
    "month", "department", "requests", "answered", "kept", "promise_median", "promise_min",
    "promise_max", "promises_vary", "kept_rate", "wait_median",
)


def promise_summary(
    con: duckdb.DuckDBPyConnection,
    *,
    month: str | None,
    department: str,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Per month (only ``month`` if given) of ``department`` (``All``: every request), in SQL:

    ``requests`` received, ``answered``, ``kept`` (answered within the request's own promise,
    see the module docstring), ``promise_median`` / ``promise_min`` / ``promise_max`` (minutes,
    over every request's effective promise; median as ``quantile_cont``), ``promises_vary``
    (min ≠ max), ``kept_rate`` (kept ÷ requests × 100, the promise-kept indicator) and
    ``wait_median`` (median minutes of the answered ones, the median response time; NaN when
    none was answered).  A month without requests has no row.
    """
    settings = read_settings(con) if settings is None else settings
    frame = con.cursor().execute(
        _PROMISE_SUMMARY_SQL,
        {**facts_sql._scope_parameters(month, department),
         **facts_sql._promise_parameters(settings)},
    ).df()
    frame = frame.astype({"requests": "int64", "answered": "int64", "kept": "int64",
                          "promise_median": "float64", "promise_min": "float64",
                          "promise_max": "float64", "wait_median": "float64"})
    frame.insert(1, "department", pd.Series([department] * len(frame), dtype="str"))
    frame["promises_vary"] = (frame["promise_min"] != frame["promise_max"]).astype("bool")
    frame["kept_rate"] = _ratio(frame["kept"], frame["requests"], 100.0)
    frame["month"] = frame["month"].astype("str")
    return frame[list(PROMISE_SUMMARY_COLUMNS)]


def response_times_by_promise(
    con: duckdb.DuckDBPyConnection,
    *,
    month: str | None,
    department: str,
    settings: Settings | None = None,
    bin_minutes: float | None = None,
    max_bins: int = 40,
) -> pd.DataFrame:
    """:func:`response_time_histogram`'s bins, each split by whether its requests kept their
    *own* promise: columns ``bin_start``, ``bin_end`` (float64), ``requests``, ``kept``,
    ``not_kept`` (int64; ``kept + not_kept = requests``).

    The bins are those of :func:`facts.response_time_bins` for the same scope (same widths,
    same tail bin); answered requests only.  No rows when nothing was answered.
    """
    settings = read_settings(con) if settings is None else settings
    bins = response_time_histogram(
        con, month=month, department=department, bin_minutes=bin_minutes, max_bins=max_bins
    )
    empty = {"kept": pd.Series(dtype="int64"), "not_kept": pd.Series(dtype="int64")}
    if bins.empty:
        return bins.assign(**empty)
    width = float(bins["bin_end"].iloc[0] - bins["bin_start"].iloc[0])
    counted = con.cursor().execute(
        _JUDGED + """
        SELECT least(CAST(floor(minutes / $width) AS BIGINT), $last) AS bin,
               count(*) FILTER (WHERE minutes <= promised) AS kept,
               count(*) FILTER (WHERE minutes > promised) AS not_kept
        FROM judged WHERE minutes IS NOT NULL GROUP BY 1""",
        {**facts_sql._scope_parameters(month, department),
         **facts_sql._promise_parameters(settings), "width": width, "last": len(bins) - 1},
    ).df()
    split = counted.set_index("bin").reindex(range(len(bins)), fill_value=0)
    out = bins.reset_index(drop=True)
    out["kept"] = split["kept"].to_numpy().astype("int64")
    out["not_kept"] = split["not_kept"].to_numpy().astype("int64")
    return out

