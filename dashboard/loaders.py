"""The app's cached reads: one small loader per thing a page reads, each scoped to the user.

Every loader is declared with :func:`dashboard.cache.loader` (so :func:`dashboard.cache.
clear_caches` clears it) and takes its whole cache key as arguments — the database path, the
data version (:func:`dashboard.connection.data_version`), the user's department scope
(:data:`dashboard.auth.Scope`) and what it reads (a month, a department); it never reads
globals.  The pages do not call these: :mod:`dashboard.data` reads the current database and user
and passes them.  Each read takes its connection from :func:`dashboard.connection.read`.

**Indicators have one read path:** :func:`indicators.stored_indicators.read` with an
:class:`indicators.scope.Scope` — the family pages' and the route's table (:func:`indicators`),
the scorecard's department and months (:func:`overview`), every department's month for the
ranking (:func:`_month_values`).  The stored table makes a scoped read cheap, so each loader
reads what it shows, and nothing computes the whole table to filter it.

**Scoping is done here, where data is read.**  A scoped loader keeps only the rows of the
departments in scope plus *All* (the organisation-wide figure a team lead compares with): a team
lead never receives another department's rows, whatever page or URL asked and however warm the
cache is.  Asking for a department outside the scope raises :class:`dashboard.auth.Forbidden`
(:func:`check_department`).  The two unscoped reads of every department, :func:`_month_values`
and :func:`_month_status`, are private: read only by :func:`compare` (which keeps the rank and
the count alone) and :func:`completeness` (which names other departments only as
:data:`OTHER_DEPARTMENTS`).
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import duckdb
import pandas as pd

from dashboard import auth
from dashboard.cache import loader
from dashboard.connection import Version, read
from dashboard.scorecard import TREND_MONTHS
from indicators import catalog, store, stored_indicators, undo
from indicators.scope import Scope

OTHER_DEPARTMENTS = "other departments"
"""What a team lead reads where All's incomplete departments lie outside their view."""


# --- scoping (pure) ---------------------------------------------------------------------


def in_scope(
    frame: pd.DataFrame, scope: auth.Scope, *, also: tuple[str, ...] = (catalog.ALL_DEPARTMENTS,)
) -> pd.DataFrame:
    """The rows of ``frame`` whose ``department`` is in ``scope`` or ``also``; all if unscoped.

    >>> t = pd.DataFrame({"department": ["All", "North", "South"], "value": [3, 1, 2]})
    >>> in_scope(t, ("North",))["department"].tolist()
    ['All', 'North']
    """
    if scope is None:
        return frame
    keep = frame["department"].isin([*scope, *also])
    return frame.loc[keep].reset_index(drop=True)


def indicator_scope(scope: auth.Scope) -> Scope:
    """What a user in ``scope`` may read of the indicator table: every department when
    unscoped, else All and the departments in scope.

    >>> indicator_scope(("North",)).departments, indicator_scope(None).everything
    (('All', 'North'), True)
    """
    return Scope() if scope is None else Scope(departments=(catalog.ALL_DEPARTMENTS, *scope))


def check_department(department: str, scope: auth.Scope) -> None:
    """:class:`dashboard.auth.Forbidden` unless ``department`` is All or in ``scope``."""
    if scope is not None and department not in (*scope, catalog.ALL_DEPARTMENTS):
        raise auth.Forbidden(f"Department {department!r} is outside your view.")


def settings_in_scope(settings: store.Settings, scope: auth.Scope) -> store.Settings:
    """``settings`` with the per-department ones of departments outside ``scope`` left out."""
    if scope is None:
        return settings
    allowed = {*scope, store.ANY_DEPARTMENT}
    return dataclasses.replace(
        settings,
        promised_minutes={d: v for d, v in settings.promised_minutes.items() if d in allowed},
        expected_datasets={d: v for d, v in settings.expected_datasets.items() if d in allowed},
        complaint_promise_days={d: v for d, v in settings.complaint_promise_days.items()
                                if d in allowed},
    )


def log_in_scope(log: pd.DataFrame, scope: auth.Scope) -> pd.DataFrame:
    """The upload log for ``scope``: whole for analysts (unscoped), its columns and no rows
    for anyone scoped (log rows name the slices, i.e. departments, each upload replaced)."""
    return log if scope is None else log.iloc[0:0]


def status_in_scope(status: pd.DataFrame, scope: auth.Scope) -> pd.DataFrame:
    """The rows of a :func:`indicators.completeness.month_status` frame in ``scope`` (and All's),
    All's incomplete departments outside it named only as :data:`OTHER_DEPARTMENTS`.

    >>> s = pd.DataFrame({"month": ["2025-02"] * 3, "department": ["All", "North", "South"],
    ...                   "incomplete_departments": [("North", "South"), (), ()]})
    >>> status_in_scope(s, ("North",))["incomplete_departments"].tolist()
    [('North', 'other departments'), ()]
    """
    if scope is None:
        return status
    kept = in_scope(status, scope).copy()

    def hide(names: tuple[str, ...]) -> tuple[str, ...]:
        mine = tuple(d for d in names if d in scope)
        return mine + ((OTHER_DEPARTMENTS,) if len(mine) < len(names) else ())

    kept["incomplete_departments"] = [hide(tuple(n)) for n in kept["incomplete_departments"]]
    return kept


def target_departments(department: str) -> tuple[str, ...]:
    """Target rows that apply to ``department`` in the stored form (``*`` is All's)."""
    if department == catalog.ALL_DEPARTMENTS:
        return (store.ANY_DEPARTMENT, catalog.ALL_DEPARTMENTS)
    return (department,)


# --- small stored things, one loader each ------------------------------------------------


@loader(max_entries=4)
def total_rows(path: str, version: Version) -> int:
    """Stored rows in every dataset: whether there is anything to show (a count, no rows)."""
    with read(path) as con:
        return store.stored_rows(con)


@loader(max_entries=16)
def settings(path: str, version: Version, scope: auth.Scope) -> store.Settings:
    """Settings; a scoped user's per-department ones are only theirs and the default."""
    with read(path) as con:
        return settings_in_scope(store.read_settings(con), scope)


@loader(max_entries=16)
def targets(path: str, version: Version, scope: auth.Scope) -> pd.DataFrame:
    """Stored targets in scope (``*`` targets, All's, for everyone)."""
    with read(path) as con:
        return in_scope(store.read_targets(con), scope, also=(store.ANY_DEPARTMENT,))


@loader(max_entries=16)
def row_counts(path: str, version: Version, scope: auth.Scope) -> pd.DataFrame:
    """Stored rows per dataset, month and department, in scope."""
    with read(path) as con:
        return in_scope(stored_indicators.row_counts(con), scope)


@loader(max_entries=4)
def upload_log(path: str, version: Version, scope: auth.Scope) -> pd.DataFrame:
    """The newest uploads first (rows for analysts only: :func:`log_in_scope`)."""
    with read(path) as con:
        return log_in_scope(store.read_upload_log(con), scope)


@loader(max_entries=4)
def undoable(path: str, version: Version, scope: auth.Scope) -> pd.DataFrame:
    """The accepted uploads that can be undone now (rows for analysts only)."""
    with read(path) as con:
        return log_in_scope(undo.undoable(con), scope)


@loader(max_entries=8)
def grid(path: str, version: Version, scope: auth.Scope) -> tuple[list[str], list[str]]:
    """Reported months (newest first) and departments (``All`` first), in scope.

    The same months and departments as the indicator table's, read from the stored row
    counts (:func:`indicators.stored_indicators.grid`).
    """
    with read(path) as con:
        months, named = stored_indicators.grid(con)
    if scope is not None:
        named = [d for d in named if d in scope]
    return sorted(months, reverse=True), [catalog.ALL_DEPARTMENTS, *named]


@loader(max_entries=4)
def health(path: str, version: Version) -> store.Health:
    """:func:`indicators.store.check`: every table read whole, rows each."""
    with read(path) as con:
        return store.check(con, path)


@loader(max_entries=1, ttl=24 * 3600)
def time_zones() -> list[str]:
    """IANA time zone names DuckDB knows (for the settings page)."""
    con = duckdb.connect()
    try:
        rows = con.execute(
            "SELECT name FROM pg_timezone_names() WHERE name LIKE '%/%' OR name = 'UTC' ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]


# --- indicators: one read path ------------------------------------------------------------


def in_channel(scope: Scope, channel: str | None) -> Scope:
    """``scope`` narrowed to one channel (None: every channel together, the totals).

    >>> in_channel(Scope(departments=("All",)), "web").channels, in_channel(Scope(), None)
    (('web',), Scope(months=None, departments=None, channels=None))
    """
    return scope if channel is None else dataclasses.replace(scope, channels=(channel,))


def _read_indicators(con: duckdb.DuckDBPyConnection, scope: Scope, channel: str | None
                     ) -> pd.DataFrame:
    """The indicator long table of ``scope`` — of one channel's rows when ``channel`` is given
    (the per-channel table, its ``channel`` column dropped: the same shape as the totals)."""
    table = stored_indicators.read(con, in_channel(scope, channel))
    return table if channel is None else table.drop(columns=["channel"])


@loader(max_entries=32, show_spinner="Reading the indicators…")
def indicators(
    path: str, version: Version, scope: auth.Scope, channel: str | None = None
) -> pd.DataFrame:
    """The indicator long table of every month, All and the departments in ``scope``; of one
    channel when ``channel`` is given."""
    with read(path) as con:
        table = _read_indicators(con, indicator_scope(scope), channel)
    return in_scope(table, scope)


@loader(max_entries=4)
def channels(path: str, version: Version) -> list[str]:
    """Every channel the indicators are computed for, by name (``not given`` among them when a
    row has none): channel names only, for every role."""
    with read(path) as con:
        return stored_indicators.channels(con)


@loader(max_entries=32)
def by_channel(
    path: str, version: Version, scope: auth.Scope, department: str, month: str
) -> pd.DataFrame:
    """Every channel's indicators of ``department`` (or All) in ``month``: the per-channel long
    table (``channel`` a column) for the family pages' channel comparison."""
    check_department(department, scope)
    names = tuple(channels(path, version))
    if not names:
        return pd.DataFrame(columns=["month", "department", "channel", "indicator", "value"])
    with read(path) as con:
        return stored_indicators.read(
            con, Scope(months=(month, month), departments=(department,), channels=names))


class Overview(NamedTuple):
    """What the scorecard of one department and month reads (:func:`overview`)."""

    table: pd.DataFrame
    """The indicator long table of the department, for the months the scorecard shows."""
    route: pd.DataFrame
    """The route table of the department's targets (:func:`indicators.route.route_table`)."""
    summary: pd.DataFrame
    """Their route summary (:func:`indicators.route.route_summary`)."""


@loader(max_entries=64, show_spinner="Reading the scorecard…")
def overview(
    path: str, version: Version, scope: auth.Scope, department: str, month: str,
    channel: str | None = None,
) -> Overview:
    """What the scorecard of one department and month reads (:class:`Overview`).

    The department's indicators for the 12 months to ``month`` and the months its targets'
    routes read (:func:`indicators.route.first_month_read`: from the baseline month, a year
    earlier for a seasonal route), so the route rows cover the months up to ``month``.  How the department compares with the others is a read of its own
    (:func:`compare`).  Of one ``channel``: its values, and no target (targets are set for
    every channel together).
    """
    from indicators.months import shift
    from indicators.route import first_month_read, route_tables

    check_department(department, scope)
    stored = targets(path, version, scope)
    mine = stored[stored["department"].isin(target_departments(department))]
    if channel is not None:
        mine = mine.iloc[0:0]
    reads = [first_month_read(t) for t in mine.to_dict("records")]
    first = min([shift(month, -(TREND_MONTHS - 1)), *[m for m in reads if m <= month]])
    with read(path) as con:
        table = _read_indicators(
            con, Scope(months=(first, month), departments=(department,)), channel)
    # The scorecard shows where each target stands, not where it is heading: no forecast.
    return Overview(table, *route_tables(mine, table, forecast=False))


@loader(max_entries=8)
def _month_values(
    path: str, version: Version, month: str, channel: str | None = None
) -> pd.DataFrame:
    """Every department's and All's indicators in one month (of one channel). Private: read
    only through :func:`compare`, which keeps the department's rank and count alone."""
    with read(path) as con:
        return _read_indicators(con, Scope(months=(month, month)), channel)


@loader(max_entries=64)
def compare(
    path: str, version: Version, scope: auth.Scope, department: str, month: str,
    channel: str | None = None,
) -> pd.DataFrame:
    """The department's rank and All's value in ``month`` (:func:`scorecard.compare_frame`);
    empty for All, the figure the departments compare with.

    Ranking needs every department's values in the month (:func:`_month_values`, read once
    per month for every department and scope); the result keeps the department's rank and the
    count alone, so a team lead's holds nothing of another department.  Departments are ranked
    by what they have loaded (an indicator whose dataset a department has not loaded in the
    month is no value; All's too) and their volume against ``min_volume``.
    """
    from dashboard.scorecard import COMPARE_COLUMNS, compare_frame, month_rows

    check_department(department, scope)
    if department == catalog.ALL_DEPARTMENTS:
        return pd.DataFrame(columns=list(COMPARE_COLUMNS))
    values = _month_values(path, version, month, channel)
    status = _month_status(path, version)
    at = status[status["month"] == month]
    # as completeness.missing_in, for every department at once
    not_loaded = {str(d): frozenset(m) for d, m in zip(at["department"], at["missing"], strict=True)}
    return compare_frame(
        values, department, rows=month_rows(row_counts(path, version, None), month),
        min_volume=settings(path, version, None).min_volume, not_loaded=not_loaded,
    )


@loader(max_entries=16)
def checkins(path: str, version: Version, scope: auth.Scope) -> pd.DataFrame:
    """Every check-in on a target in scope (All's targets for everyone)."""
    from indicators import checkins as stored

    with read(path) as con:
        return in_scope(stored.read_checkins(con), scope)


@loader(max_entries=16)
def event_notes(path: str, version: Version, scope: auth.Scope) -> pd.DataFrame:
    """Every note on an event in scope: notes for All (every department) and the scope's."""
    from indicators import checkins as stored

    with read(path) as con:
        return in_scope(stored.read_notes(con), scope)


@loader(max_entries=16)
def route(path: str, version: Version, scope: auth.Scope) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(route_table, route_summary)`` of every stored target in scope."""
    from indicators.route import route_tables

    # Scoped inputs give a scoped route: "*" targets are All's, the others are in scope.
    chosen = targets(path, version, scope)
    table = indicators(path, version, scope)
    return route_tables(chosen, table)


# --- other reads of the stored rows --------------------------------------------------------


@loader(max_entries=16)
def complaint_mix(path: str, version: Version, scope: auth.Scope) -> pd.DataFrame:
    """Complaints by component, month and department, in scope."""
    from indicators.compute import complaint_mix as mix

    with read(path) as con:
        return in_scope(mix(con), scope)


@loader(max_entries=32)
def histogram(
    path: str, version: Version, month: str, department: str, scope: auth.Scope
) -> pd.DataFrame:
    """:func:`indicators.compute.response_times_by_promise` of ``department`` in ``month``."""
    from indicators.compute import response_times_by_promise

    check_department(department, scope)
    with read(path) as con:
        # Every department's promise settings judge the requests of All, as in the facts.
        return response_times_by_promise(con, month=month, department=department)


@loader(max_entries=64)
def promise(
    path: str, version: Version, month: str, department: str, scope: auth.Scope
) -> pd.DataFrame:
    """:func:`indicators.compute.promise_summary` of ``department`` in ``month``."""
    from indicators.compute import promise_summary

    check_department(department, scope)
    with read(path) as con:
        return promise_summary(con, month=month, department=department)


# --- complete months and data freshness ---------------------------------------------------


@loader(max_entries=4)
def _month_status(path: str, version: Version) -> pd.DataFrame:
    """Every department's complete months. Private: read only through :func:`completeness`
    (and by :func:`compare`, which keeps only the rank and count of the chosen department).

    From the same cached row counts and settings as the other loaders: the row counts are one
    pass over every dataset, read once per data version.
    """
    from indicators.completeness import month_status, read_marked

    chosen = settings(path, version, None)
    counts = row_counts(path, version, None)
    with read(path) as con:
        marked = read_marked(con)
    return month_status(counts, expected=chosen.expected_datasets, marked=marked,
                        min_volume=chosen.min_volume)


@loader(max_entries=32)
def completeness(path: str, version: Version, scope: auth.Scope) -> pd.DataFrame:
    """Every month's completeness in ``scope`` (:func:`status_in_scope`)."""
    return status_in_scope(_month_status(path, version), scope)


# Accepted loads and undos change a dataset's rows; rejected files change nothing.
_FRESHNESS = """
    SELECT dataset, max(uploaded_at) AS last_loaded
    FROM upload_log
    WHERE outcome IN ('accepted', 'undo') AND dataset IS NOT NULL
    GROUP BY dataset"""


@loader(max_entries=4)
def freshness(path: str, version: Version) -> pd.DataFrame:
    """The last accepted load per dataset: dataset names and times only, for every role."""
    from indicators.schema import DATASET_NAMES

    with read(path) as con:
        last = con.execute(_FRESHNESS).df()
    order = {name: i for i, name in enumerate(DATASET_NAMES)}
    last = last[last["dataset"].isin(order)]
    last = last.assign(_order=last["dataset"].map(order)).sort_values("_order")
    return last.drop(columns=["_order"]).reset_index(drop=True)


# --- what moved it ---------------------------------------------------------------------------


@loader(max_entries=64, show_spinner="Working out what moved it…")
def explanation(
    path: str, version: Version, scope: auth.Scope, indicator: str, month: str,
    department: str, by: str, against: str,
) -> tuple[object, str | None]:
    """``(Explanation, None)`` — :func:`indicators.explain.explain` of ``department`` — or
    ``(None, why it can't be split)``.  A scoped reader gets the departments outside the scope
    as one segment (:func:`indicators.explain.merge_others`)."""
    from indicators import explain

    check_department(department, scope)
    allowed = None if scope is None else frozenset(scope)
    with read(path) as con:
        try:
            return explain.explain(con, indicator=indicator, month=month, department=department,
                                   by=by, against=against, allowed=allowed), None
        except explain.ExplainError as problem:
            return None, str(problem)


# --- unusual values --------------------------------------------------------------------------

UNUSUAL_COLUMNS = ("month", "department", "indicator", "value", "score", "reason")


@loader(max_entries=64)
def unusual(
    path: str, version: Version, scope: auth.Scope, department: str,
    months: tuple[str, str] | None,
) -> pd.DataFrame:
    """The unusual values of ``department`` (or All) in ``months`` (None: every month)
    (:func:`indicators.unusual.unusual_in`, with the settings' threshold and minimum volume):
    only the flagged ones, :data:`UNUSUAL_COLUMNS`."""
    from indicators.unusual import unusual_in

    check_department(department, scope)
    counts = row_counts(path, version, None)  # volumes; only the department's are kept
    with read(path) as con:
        flags = unusual_in(con, Scope(months=months, departments=(department,)),
                           row_counts=counts)
    flagged = flags[flags["unusual"].astype(bool)]
    return flagged[list(UNUSUAL_COLUMNS)].reset_index(drop=True)


# --- the records behind a number -------------------------------------------------------------


@loader(max_entries=32, show_spinner="Reading the rows…")
def records(
    path: str, version: Version, scope: auth.Scope, indicator: str, month: str,
    department: str, component: str | None, order_by: str | None, descending: bool,
    limit: int | None, offset: int, channel: str | None = None,
) -> tuple[object, str | None]:
    """``(Records, None)`` — :func:`indicators.records.records` of ``department`` — or
    ``(None, why not)``.  A team lead's rows are their departments' only, All among them
    (``allowed``: the engine refuses another department and narrows All)."""
    from indicators import records as rows

    check_department(department, scope)
    with read(path) as con:
        try:
            return rows.records(con, indicator=indicator, month=month, department=department,
                                component=component, allowed=scope, order_by=order_by,
                                descending=descending, limit=limit, offset=offset,
                                channel=channel), None
        except rows.RecordsError as problem:
            return None, str(problem)
