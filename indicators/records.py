"""The records behind a number: the stored rows an indicator of one month and scope was computed
from, paged and sorted, for the page that lists them and the ``records`` command.

:data:`SOURCES` says, for every indicator whose value is a count, a sum or a rate of stored rows,
which dataset's rows it was computed from (:class:`RecordSource`) — the same rule as
:mod:`indicators.facts`, row by row:

===============================  ===========  ===================================================
indicator                        dataset      rows listed (``counted``: in the numerator)
===============================  ===========  ===================================================
``purchases``, ``revenue``,      purchases    the month's purchases (revenue: Σ ``amount``)
``average_ticket``
``active_customers``,            purchases    the month's purchases; ``counted``: the customer's
``revenue_per_customer``                      first purchase in the list (earliest
                                              ``purchased_at``, then ``purchase_id``), so
                                              counted = the distinct customers
``discount_rate``                purchases    those that carry ``list_amount``; ``counted``:
                                              paid below it (``amount < list_amount``)
``complaints``,                  complaints   the month's complaints
``estimated_dissatisfied``,
``complaint_rate``,
``compensation_per_complaint``,
``compensation_share``
``repeat_complaint_rate``        complaints   those that carry a ``customer_id``; ``counted``:
                                              the customer opened a complaint on the same
                                              component in the 90 days before, in any department
``unresolved_complaints_rate``   complaints   the month's complaints; ``counted``: no
                                              ``resolved_at``
``resolution_time_median``       complaints   those resolved (with ``hours`` opened → resolved)
``response_time_median``,        responses    the month's answered requests (with ``minutes``)
``response_time_p90``
``promise_kept_rate``            responses    every request received in the month (with
                                              ``minutes`` and ``promise``, the minutes promised:
                                              its own, else its department's setting);
                                              ``counted``: answered within the promise
``csat``                         surveys      the month's ``csat`` answers; ``counted``: 4 or 5
``nps``                          surveys      the month's ``nps`` answers; ``counted``: a
                                              promoter (9–10), ``detractor``: 0–6
``retention_rate``               retention    the month's rows (one per department)
===============================  ===========  ===================================================

So ``total`` is the indicator's count (purchases, complaints, estimated dissatisfied ÷ the
iceberg factor, the rows a median is over) and, for a rate, ``counted`` of ``total`` is its
numerator and denominator (``100 × counted ÷ total``; NPS ``100 × (counted − subtracted) ÷
total``).  Two ratios divide by another dataset's rows: ``complaint_rate`` by the
``purchases`` records of the same month and scope, ``compensation_share`` by the ``revenue``
records (:attr:`RecordSource.per`).  :attr:`Records.sums` are the exact sums over every
matching row (``amount``, ``list_amount``, ``compensation``, the retention counts).

Not listed, with the reason (:data:`WHY_NOT`): new and returning customers (whether a customer
counts depends on purchases in other months, up to the whole history), the revenue growth
rates (two months compared: list each month's ``revenue``), revenue at risk (a product of
complaints and revenue per customer: list each), the backlog (complaints of earlier months),
first-contact resolution (later contacts decide), contacts per 100 purchases (two datasets), and,
not yet, the complaints within the promise, the FCA bands and customer effort.

**Month** is the stored ``month`` column: the event's month in the organisation's time zone.
**Scope**: ``department`` (``All``: every department) and ``allowed``, the departments the
reader may see (None: every one).  A department outside ``allowed`` is refused
(:class:`RecordsForbidden`); ``All`` with ``allowed`` set lists the allowed departments' rows
only — so a team lead's ``All`` is the total of their departments, not the organisation's.
The repeat window still looks at every department's earlier complaints (as the indicator
does), but lists only rows of the scope.

**Order**: ``order_by`` is one of the listed columns (:attr:`RecordSource.sortable`: the
dataset's own columns, and the derived ones above), never text from the caller; missing values
last in both directions; ties broken by the dataset's key and then every other contract column,
ascending, so a page is the same rows, in the same order, run after run.  Default: by the
dataset's date column.

**Money is exact**: ``DECIMAL`` cells come back as :class:`decimal.Decimal` (None when empty),
never through a float; the sums too.

Examples
--------
>>> SOURCES["csat"].dataset, SOURCES["csat"].is_rate
('surveys', True)
>>> SOURCES["complaint_rate"].per
'purchases'
>>> "new_customers" in WHY_NOT
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import duckdb
import pandas as pd

from indicators import catalog, stored_indicators
from indicators import facts as facts_sql
from indicators import months as ym
from indicators.catalog import ALL_DEPARTMENTS, NOT_GIVEN, SERVICE_COMPONENTS, UNCLASSIFIED
from indicators.schema import DATASETS
from indicators.store import read_settings

KEYS: dict[str, str] = {
    "purchases": "purchase_id",
    "complaints": "complaint_id",
    "responses": "request_id",
    "surveys": "survey_id",
    "retention": "department",
}
"""Each listed dataset's key: the tiebreak of every order."""

_MINUTES = "date_diff('microsecond', received_at, responded_at) / 6e7"
_HOURS = "date_diff('microsecond', opened_at, resolved_at) / 3.6e9"

# The complaints with whether each repeats an earlier one, as in facts.complaints_sql: the
# window reads the 4 months before (they cover the 90 days) in every department.
_REPEATS = """(
    SELECT *, CASE WHEN customer_id IS NOT NULL THEN
               count(*) OVER (
                   PARTITION BY customer_id, coalesce(component, $unclassified)
                   ORDER BY opened_at
                   RANGE BETWEEN INTERVAL 90 DAYS PRECEDING AND CURRENT ROW EXCLUDE GROUP
               ) > 0
           END AS is_repeat
    FROM complaints WHERE month BETWEEN $month - INTERVAL 4 MONTH AND $month
) AS complaints"""

# Each request with its promise, as in facts.responses_sql.
_PROMISES = f"""(
    SELECT r.*, coalesce(r.promised_minutes, pr.minutes, $default_promise) AS promise
    FROM responses AS r
    LEFT JOIN ({facts_sql._PROMISE_TABLE}) AS pr ON pr.department = r.department
) AS responses"""

_FIRST_OF_CUSTOMER = ("row_number() OVER (PARTITION BY customer_id "
                      "ORDER BY purchased_at, purchase_id) = 1")


@dataclass(frozen=True)
class RecordSource:
    """Which stored rows an indicator was computed from (module docstring).

    ``where``: fixed SQL on a row of ``dataset`` (besides the month and the scope); ``counted``:
    fixed SQL, true for a row in the numerator (None: the indicator is no rate, every row
    counts); ``subtracted``: ``(column, SQL)`` for the rows the numerator subtracts (NPS's
    detractors); ``derived``: ``(column, SQL)`` computed per row and listed after the contract
    columns; ``sums``: the columns summed over every matching row; ``per``: the indicator whose
    records are a rate's denominator when it is another dataset's; ``source``: the FROM
    (``dataset`` itself, or it with the window or join a row's flag needs); ``params``: the
    parameters that FROM needs (``repeat``, ``promise``).
    """

    dataset: str
    rows: str
    where: str = "true"
    counted: str | None = None
    counted_means: str = ""
    subtracted: tuple[str, str] | None = None
    derived: tuple[tuple[str, str], ...] = ()
    sums: tuple[str, ...] = ()
    per: str | None = None
    source: str | None = None
    params: str | None = None

    @property
    def is_rate(self) -> bool:
        """The rows carry ``counted``: the indicator's numerator is some of them."""
        return self.counted is not None

    @property
    def contract(self) -> tuple[str, ...]:
        """The dataset's stored contract columns, in contract order (no derived ``month``)."""
        return DATASETS[self.dataset].column_names

    @property
    def columns(self) -> tuple[str, ...]:
        """The listed columns: the contract's, the derived ones, ``counted`` and the
        subtracted flag for a rate."""
        flags = ("counted",) * self.is_rate + tuple(
            name for name, _ in ([self.subtracted] if self.subtracted else []))
        return (*self.contract, *(name for name, _ in self.derived), *flags)

    @property
    def sortable(self) -> tuple[str, ...]:
        """What ``order_by`` may name: every listed column."""
        return self.columns

    @property
    def default_order(self) -> str:
        return DATASETS[self.dataset].month_column or KEYS[self.dataset]


_PURCHASES = "the month's purchases"
_COMPLAINTS = "the month's complaints"
_FIRST = "the customer's first purchase in the list, so counted = the distinct customers"

SOURCES: dict[str, RecordSource] = {
    "purchases": RecordSource("purchases", _PURCHASES, sums=("amount",)),
    "revenue": RecordSource("purchases", _PURCHASES, sums=("amount",)),
    "average_ticket": RecordSource("purchases", _PURCHASES, sums=("amount",)),
    "active_customers": RecordSource("purchases", _PURCHASES, counted=_FIRST_OF_CUSTOMER,
                                     counted_means=_FIRST, sums=("amount",)),
    "revenue_per_customer": RecordSource("purchases", _PURCHASES, counted=_FIRST_OF_CUSTOMER,
                                         counted_means=_FIRST, sums=("amount",)),
    "discount_rate": RecordSource(
        "purchases", "the month's purchases that carry list_amount",
        where="list_amount IS NOT NULL", counted="amount < list_amount",
        counted_means="paid below its list amount", sums=("amount", "list_amount")),
    "complaints": RecordSource("complaints", _COMPLAINTS, sums=("compensation",)),
    "estimated_dissatisfied": RecordSource("complaints", _COMPLAINTS, sums=("compensation",)),
    "complaint_rate": RecordSource("complaints", _COMPLAINTS, sums=("compensation",),
                                   per="purchases"),
    "compensation_per_complaint": RecordSource("complaints", _COMPLAINTS,
                                               sums=("compensation",)),
    "compensation_share": RecordSource("complaints", _COMPLAINTS, sums=("compensation",),
                                       per="revenue"),
    "repeat_complaint_rate": RecordSource(
        "complaints", "the month's complaints that carry a customer_id",
        where="customer_id IS NOT NULL", counted="coalesce(is_repeat, false)",
        counted_means="the customer opened a complaint on the same component in the 90 days "
        "before, in any department", sums=("compensation",), source=_REPEATS, params="repeat"),
    "unresolved_complaints_rate": RecordSource(
        "complaints", _COMPLAINTS, counted="resolved_at IS NULL",
        counted_means="not resolved", sums=("compensation",)),
    "resolution_time_median": RecordSource(
        "complaints", "the month's resolved complaints", where="resolved_at IS NOT NULL",
        derived=(("hours", _HOURS),), sums=("compensation",)),
    "response_time_median": RecordSource(
        "responses", "the month's answered requests", where="responded_at IS NOT NULL",
        derived=(("minutes", _MINUTES),)),
    "response_time_p90": RecordSource(
        "responses", "the month's answered requests", where="responded_at IS NOT NULL",
        derived=(("minutes", _MINUTES),)),
    "promise_kept_rate": RecordSource(
        "responses", "every request received in the month",
        counted=f"coalesce({_MINUTES} <= promise, false)",
        counted_means="answered within its promise (an unanswered request is not)",
        derived=(("minutes", _MINUTES), ("promise", "promise")), source=_PROMISES,
        params="promise"),
    "csat": RecordSource("surveys", "the month's csat answers", where="kind = 'csat'",
                         counted="score >= 4", counted_means="scored 4 or 5"),
    "nps": RecordSource("surveys", "the month's nps answers", where="kind = 'nps'",
                        counted="score >= 9", counted_means="a promoter (9–10)",
                        subtracted=("detractor", "score <= 6")),
    "retention_rate": RecordSource(
        "retention", "the month's retention rows, one per department",
        sums=("customers_start", "customers_end", "new_customers")),
}
"""Every indicator whose rows can be listed, and which rows (module docstring)."""

WHY_NOT: dict[str, str] = {
    "new_customers": "whether a customer is new depends on every earlier purchase, not on "
    "the month's rows: list the month's purchases (active_customers) instead",
    "returning_customers_rate": "whether a customer returns depends on the 12 months before, "
    "not on the month's rows: list the month's purchases (active_customers) instead",
    "revenue_growth_mom": "a growth rate compares two months: list each month's revenue",
    "revenue_growth_yoy": "a growth rate compares two months: list each month's revenue",
    "revenue_at_risk": "a product of complaints and revenue per customer: list the month's "
    "complaints (estimated_dissatisfied) and purchases (revenue_per_customer)",
    "complaint_backlog": "the backlog at a month's end holds complaints opened in any earlier "
    "month: list those months' complaints (unresolved_complaints_rate) instead",
    "backlog_age_median": "the backlog holds complaints of earlier months (see "
    "complaint_backlog)",
    "backlog_over_8_weeks": "the backlog holds complaints of earlier months (see "
    "complaint_backlog)",
    "first_contact_resolution": "whether a contact was resolved at the first contact depends on "
    "the customer's later contacts, in any month and department",
    "contacts_per_100_purchases": "two datasets counted: list the month's complaints "
    "(complaints) and requests (promise_kept_rate)",
    "complaints_resolved_within_promise": "not listed yet (business days are counted in the "
    "indicator only): list the month's complaints (resolution_time_median)",
    "complaints_closed_3_business_days": "not listed yet (as complaints_resolved_within_promise)",
    "complaints_closed_8_weeks": "not listed yet (as complaints_resolved_within_promise)",
    "complaints_closed_later": "not listed yet (as complaints_resolved_within_promise)",
    "ces": "not listed yet: list the month's surveys of csat or nps, or read the ces answers in "
    "the surveys file",
    "ces_mean": "not listed yet (as ces)",
}
"""The indicators whose rows are not listed, and why."""

COMPONENT_DATASETS = ("complaints",)
"""The datasets whose rows carry a service component (``component`` narrows them)."""


class RecordsError(ValueError):
    """Records that can't be listed as asked (the message names what is wrong)."""


class RecordsForbidden(PermissionError):
    """The reader may not see that department's rows."""


@dataclass(frozen=True, eq=False)
class Records:
    """One page of the rows behind an indicator, and the counts over every matching row.

    Frozen, compared by identity (a frame has no truth value to compare by).

    ``frame``: the page (``columns``, typed: text ``str``, timestamps ``datetime64`` (UTC
    instants, as stored), money ``Decimal`` objects (None when empty), numbers ``float64``,
    integers ``Int64``, flags ``bool``); ``total``: the rows matching; ``counted``: those in the
    numerator (``total`` for an indicator that is no rate); ``subtracted``: NPS's detractors
    (None for every other indicator); ``sums``: each of the source's sum columns over every
    matching row (``Decimal`` for money, ``int`` for counts; 0 over no rows).
    """

    indicator: str
    month: str
    department: str
    component: str | None
    dataset: str
    columns: tuple[str, ...]
    frame: pd.DataFrame
    total: int
    counted: int
    subtracted: int | None
    sums: dict[str, Decimal | int]
    offset: int
    limit: int | None


def source_of(indicator: str) -> RecordSource:
    """The indicator's :class:`RecordSource`; :class:`RecordsError` naming why not."""
    if indicator in SOURCES:
        return SOURCES[indicator]
    if indicator in WHY_NOT:
        raise RecordsError(f"the rows behind {indicator} can't be listed: {WHY_NOT[indicator]}")
    try:
        catalog.get(indicator)
    except KeyError:
        raise RecordsError(f"unknown indicator {indicator!r}") from None
    raise RecordsError(f"the rows behind {indicator} can't be listed")  # pragma: no cover


def records(
    con: duckdb.DuckDBPyConnection,
    *,
    indicator: str,
    month: str,
    department: str = ALL_DEPARTMENTS,
    component: str | None = None,
    allowed: Sequence[str] | None = None,
    order_by: str | None = None,
    descending: bool = False,
    limit: int | None = 100,
    offset: int = 0,
    channel: str | None = None,
) -> Records:
    """The rows ``indicator`` of ``month`` (``YYYY-MM``) in ``department`` was computed from.

    ``department``: a stored department, or ``All`` — every department, or with ``allowed``
    set, the allowed departments only.  ``allowed``: the departments the reader may see (names,
    not ``All``; None: every one); a ``department`` outside it raises
    :class:`RecordsForbidden`.  ``component``: for the complaint indicators, only complaints
    of that service component (``unclassified``: those without one).  ``channel``: only rows of
    that channel (``not given``: those without one; :mod:`indicators.channels`' rule) — not on
    retention rows, which carry none.  ``order_by``: a column
    of :attr:`RecordSource.sortable` (default: the date column), ``descending`` its direction;
    missing values last, ties by the key.  ``limit`` rows (None: every row; 0: none, the counts
    only) from ``offset``.  The page and the counts are read in one snapshot.

    :class:`RecordsError`: an unknown or unlisted indicator, a month that is not ``YYYY-MM``,
    a department not in the data, a component on rows without one or not a component, a column
    not listed, a negative limit or offset.
    """
    source = source_of(indicator)
    label = _month(month)
    if allowed is not None:
        allowed = tuple(allowed)
        if ALL_DEPARTMENTS in allowed:
            raise RecordsError(f"allowed names departments; {ALL_DEPARTMENTS!r} is none "
                               "(None allows every department)")
    if department != ALL_DEPARTMENTS and allowed is not None and department not in allowed:
        raise RecordsForbidden(f"the rows of {department} are not yours to see")
    _check_component(source, indicator, component)
    if channel is not None and "channel" not in source.contract:
        raise RecordsError(f"{indicator}'s rows ({source.dataset}) carry no channel")
    order = source.default_order if order_by is None else order_by
    if order not in source.sortable:
        raise RecordsError(f"can't sort {indicator}'s rows by {order_by!r}: sort by one of "
                           f"{', '.join(source.sortable)}")
    if limit is not None and (isinstance(limit, bool) or limit < 0):
        raise RecordsError(f"limit must be 0 or more (None: every row); got {limit!r}")
    if isinstance(offset, bool) or offset < 0:
        raise RecordsError(f"offset must be 0 or more; got {offset!r}")

    cur = con.cursor()
    cur.execute("BEGIN TRANSACTION")
    try:
        if department != ALL_DEPARTMENTS and department not in stored_indicators.grid(cur)[1]:
            raise RecordsError(f"no department {department!r} in the data")
        params = _params(cur, source, label, department, component, allowed)
        present = _stored_columns(cur, source.dataset)
        scoped = _scoped(source, department, component, allowed, present)
        if channel is not None:
            # a table stored before its rows had a channel (surveys, opened read-only): all
            # of its rows are "not given"
            row_channel = ("coalesce(nullif(channel, ''), $not_given)" if "channel" in present
                           else "$not_given")
            scoped += f" AND {row_channel} = $channel"
            params.update({"channel": channel, "not_given": NOT_GIVEN})
        counts = _counts(source)
        row = cur.execute(f"WITH scoped AS ({scoped}) SELECT {counts} FROM scoped",
                          params).fetchone()
        page = cur.execute(
            f"WITH scoped AS ({scoped}) SELECT {_listed(source)} FROM scoped "
            f"ORDER BY {_order(source, order, descending)}"
            + ("" if limit is None else " LIMIT $limit") + " OFFSET $offset",
            {**params, "offset": offset, **({} if limit is None else {"limit": limit})},
        ).fetchall()
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    cur.execute("COMMIT")
    total, counted = int(row[0]), int(row[1])
    subtracted = int(row[2]) if source.subtracted else None
    found = row[3 if source.subtracted else 2:]
    sums = {name: _sum(source, name, value) for name, value in zip(source.sums, found,
                                                                  strict=True)}
    return Records(indicator, label, department, component, source.dataset, source.columns,
                   _frame(source, page), total, counted, subtracted, sums, offset, limit)


def _month(month: str) -> str:
    try:
        return ym.label(ym.parse(month))
    except (ValueError, TypeError):
        raise RecordsError(f"month must be YYYY-MM; got {month!r}") from None


def _check_component(source: RecordSource, indicator: str, component: str | None) -> None:
    if component is None:
        return
    if source.dataset not in COMPONENT_DATASETS:
        raise RecordsError(f"{indicator}'s rows carry no component (only the complaint "
                           "indicators do)")
    if component not in (*SERVICE_COMPONENTS, UNCLASSIFIED):
        raise RecordsError(f"component must be one of {', '.join(SERVICE_COMPONENTS)} or "
                           f"{UNCLASSIFIED}; got {component!r}")


def _params(cur: duckdb.DuckDBPyConnection, source: RecordSource, month: str, department: str,
            component: str | None, allowed: tuple[str, ...] | None) -> dict[str, object]:
    params: dict[str, object] = {"month": ym.parse(month)}
    if department != ALL_DEPARTMENTS:
        params["department"] = department
    elif allowed is not None:
        params["allowed"] = list(allowed)
    if component is not None:
        params["component"] = component
    if source.params == "repeat" or component is not None:
        params["unclassified"] = UNCLASSIFIED
    if source.params == "promise":
        params.update(facts_sql._promise_parameters(read_settings(cur)))
    return params


def _stored_columns(cur: duckdb.DuckDBPyConnection, dataset: str) -> frozenset[str]:
    """The columns the stored table of ``dataset`` has (an older database may lack one the
    contract added since, until its first write migrates it)."""
    rows = cur.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name = ?", [dataset]).fetchall()
    return frozenset(name for (name,) in rows)


def _scoped(source: RecordSource, department: str, component: str | None,
            allowed: tuple[str, ...] | None, present: frozenset[str] | None = None) -> str:
    """The matching rows: the listed columns and, for the counts, the flags."""
    where = ["month = $month", f"({source.where})"]
    if department != ALL_DEPARTMENTS:
        where.append("department = $department")
    elif allowed is not None:
        where.append("list_contains($allowed::VARCHAR[], department)")
    if component is not None:
        where.append("coalesce(component, $unclassified) = $component")
    columns = [_contract_cell(source, name) if present is None or name in present
               else f'NULL AS "{name}"' for name in source.contract]
    columns += [f"{sql} AS {name}" for name, sql in source.derived]
    if source.is_rate:
        columns.append(f"{source.counted} AS counted")
    if source.subtracted:
        columns.append(f"{source.subtracted[1]} AS {source.subtracted[0]}")
    table = source.source or f'"{source.dataset}"'
    return f"SELECT {', '.join(columns)} FROM {table} WHERE {' AND '.join(where)}"


def _contract_cell(source: RecordSource, name: str) -> str:
    if DATASETS[source.dataset].column(name).kind == "month":
        return f"strftime(\"{name}\", '%Y-%m') AS \"{name}\""
    return f'"{name}"'


def _counts(source: RecordSource) -> str:
    parts = ["count(*)", "count(*) FILTER (WHERE counted)" if source.is_rate else "count(*)"]
    if source.subtracted:
        parts.append(f"count(*) FILTER (WHERE {source.subtracted[0]})")
    parts += [f'coalesce(sum("{name}"), 0)' for name in source.sums]
    return ", ".join(parts)


def _listed(source: RecordSource) -> str:
    return ", ".join(f'"{name}"' for name in source.columns)


def _order(source: RecordSource, order: str, descending: bool) -> str:
    """``order`` (a listed column, checked by the caller) then the key and every other contract
    column: the same order whatever the rows' order in storage."""
    ties = [KEYS[source.dataset], *(c for c in source.contract if c != KEYS[source.dataset])]
    terms = [f'"{order}" {"DESC" if descending else "ASC"} NULLS LAST']
    terms += [f'"{name}" ASC NULLS LAST' for name in ties if name != order]
    return ", ".join(terms)


def _sum(source: RecordSource, name: str, value: object) -> Decimal | int:
    if DATASETS[source.dataset].column(name).kind == "money":
        return value if isinstance(value, Decimal) else Decimal(str(value))
    return int(value)


_DTYPES = {"id": "str", "text": "str", "choice": "str", "month": "str", "timestamp":
           "datetime64[us]", "number": "float64", "integer": "Int64", "money": "object"}


def _frame(source: RecordSource, rows: list[tuple]) -> pd.DataFrame:
    """The page as a typed frame; money cells stay the :class:`Decimal` DuckDB gave."""
    columns = {}
    for i, name in enumerate(source.columns):
        values = [row[i] for row in rows]
        if name in source.contract:
            dtype = _DTYPES[DATASETS[source.dataset].column(name).kind]
        elif any(name == derived for derived, _ in source.derived):
            dtype = "float64"
        else:
            dtype = "bool"
        columns[name] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(columns, columns=list(source.columns))
