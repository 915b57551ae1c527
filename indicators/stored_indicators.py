"""The stored indicator table: computed by the engine, kept current by every change, read by every
page, export and command.

**What is stored.**  :data:`TABLE` holds the indicator long table of
:func:`indicators.compute.indicator_table` — ``month`` (``YYYY-MM``), ``department`` (``All``
among them), ``indicator`` (a catalog id), ``value`` (DOUBLE; NULL where the table has NaN,
*missing*) — one row per reported month × (every department and ``All``) × indicator, exactly the
rows and values a full computation gives.

**Kept current in the writer's transaction.**  Every change of what the indicators are made of
rewrites the part of the table it can change *inside its own transaction*, before its COMMIT: a
load (:func:`indicators.ingest.load.load_clean`), an undo (:func:`indicators.undo.undo_load`), a
settings change (:func:`indicators.store.write_setting`, a new time zone included) and, through
loads, ``demo``.  DuckDB's transactions are snapshots, so a reader sees the data and the
indicators of the same version, old with old or new with new: never one without the other.

**Incremental** (:func:`refresh`).  A load replaces *slices* (month × department) of one
dataset.  What those slices can change, for the departments touched and ``All``:

* purchases of month m: every month from m on — m's values, growth at m+1 and m+12, returning
  customers m+1 … m+12, new customers from m on (a customer's first purchase may move);
* complaints of month m: months m … m+3 in *every* department — a complaint is a repeat when the
  same customer complained about the same component within 90 days before, in any department
  (90 days after the end of m fall at the latest in m+3) — and months m … the last for the
  departments touched and ``All``: a complaint still open is in the backlog at every month's end
  after it;
* responses, retention, surveys of month m: m alone;
* complaints or responses, besides: the first-contact resolution of every department, from the
  first month it can move (:data:`CONTACT_READERS`, :func:`_contacts_changed_from`) — a
  contact is judged by the customer's later contacts in any department and against the latest
  contact stored.

Only the indicators that read the dataset (:func:`reading`, from the catalog's sources) are
rewritten, from only the parts of the facts they read: a month of surveys costs the surveys.
Besides, the grid itself may change: months new to the table (before the first or after the last
month) get every department's rows, a department new to the table gets every month's, and months
and departments no longer holding any data are deleted.  A settings change rewrites what the
setting enters: the time zone everything; the iceberg settings (where complaints are counted,
the custom factor) the estimated dissatisfied customers and the revenue at risk, the share of
dissatisfied customers who leave the revenue at risk, the first-contact days the first-contact
resolution, the holidays the complaints within the promise and the FCA bands, everywhere; a
department's promised minutes that department's and ``All``'s promise kept, its complaint
promise days their complaints within the promise (the ``*`` value: that indicator everywhere).

**Row counts.**  :data:`ROWS_TABLE` keeps the stored rows per dataset, month and department
the same way (recounted for the slices a load or an undo changed, everything on a rebuild):
what the pages read for complete months, volumes and the month and department lists
(:func:`row_counts`, :func:`grid`), instead of a pass over every row.

**Rebuild and check.**  :func:`rebuild` recomputes the whole table (``python -m indicators
rebuild``, and the migration that adds the table to an older database); :func:`differences`
compares it with a full recomputation, value for value (NULL = NULL), which ``python -m
indicators check`` reports.  Code that writes the dataset tables by hand (SQL outside the
product) must call :func:`rebuild` after.

**Reading** (:func:`read`, :func:`select`): a :class:`~indicators.scope.Scope` narrows months and
departments in SQL.  A database made before the table existed, opened read-only (so not yet
upgraded), is computed live instead, with the same values.

**Per channel** (:data:`CHANNEL_TABLE`).  The indicators per month × department (and ``All``)
× channel of :func:`indicators.channels.channel_indicator_table` — its rows and values exactly
— are stored in a table of their own, so that this table, its readers and their speed stay as
they were.  It is written with this one, in the same transactions, by the same rules: every
scope :func:`refresh` rewrites is rewritten there too.  After a load or an undo of a dataset
with channels, the per-channel indicators that read the dataset are rewritten, and the keys
(month, department, channel) follow the rows loaded: a key that holds no row any more loses
its rows, a key new to the table (a month of surveys can bring a channel to a department) gets
every per-channel indicator, computed from its channels' rows alone.  After a setting, the
setting's indicators alone (no key changes); after a change of retention, nothing (it has no
channel and enters no per-channel indicator).  The months and departments leaving the grid
are deleted from it as from this one; :func:`rebuild` rebuilds both, and :func:`differences` compares both with a full
recomputation.  A read whose scope names ``channels`` (:class:`~indicators.scope.Scope`) reads
it: :data:`CHANNEL_LONG_COLUMNS`, those channels' rows.  :func:`channels` lists the stored
channels.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import duckdb
import pandas as pd

from indicators import months as month_labels
from indicators.catalog import ALL_DEPARTMENTS, INDICATOR_IDS, INDICATORS
from indicators.channels import CHANNEL_DATASETS
from indicators.schema import MONTH_DATASETS
from indicators.scope import Scope

TABLE = "indicator_values"
LONG_COLUMNS: tuple[str, ...] = ("month", "department", "indicator", "value")
DDL = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    month VARCHAR NOT NULL,
    department VARCHAR NOT NULL,
    indicator VARCHAR NOT NULL,
    value DOUBLE)"""

ROWS_TABLE = "slice_rows"
ROWS_DDL = f"""CREATE TABLE IF NOT EXISTS {ROWS_TABLE} (
    dataset VARCHAR NOT NULL,
    month VARCHAR NOT NULL,
    department VARCHAR NOT NULL,
    "rows" BIGINT NOT NULL)"""
"""The stored rows per dataset, month (``YYYY-MM``) and department: what
:func:`indicators.store.row_counts` counts, kept with the indicators (the pages' completeness,
grid and volumes read it instead of a pass over every row)."""

REPEAT_MONTHS_AFTER = 3
"""Months after a complaint's month whose repeats it can change (90 days reach into m+3)."""
CONTACT_READERS: dict[str, tuple[str, ...]] = {
    "complaints": ("first_contact_resolution",),
    "responses": ("first_contact_resolution",),
}
"""Indicators that a change of the dataset can move in earlier months and every department: a
contact's first-contact resolution looks at the customer's later contacts in every department,
and is judged against the latest contact stored (:func:`indicators.facts.fcr_sql`;
:func:`_contacts_changed_from` says from which month)."""
WHOLE_TABLE_SETTINGS: frozenset[str] = frozenset({"time_zone"})
"""Settings that enter every indicator (a new zone moves rows to other months)."""
ORGANISATION_SETTINGS: dict[str, tuple[str, ...]] = {
    "iceberg_factor": ("estimated_dissatisfied", "revenue_at_risk"),
    "iceberg_counted_at": ("estimated_dissatisfied", "revenue_at_risk"),
    "dissatisfied_leave_share": ("revenue_at_risk",),
    "fcr_days": ("first_contact_resolution",),
    "holidays": ("complaints_resolved_within_promise", "complaints_closed_3_business_days",
                 "complaints_closed_8_weeks", "complaints_closed_later"),
}
"""Settings for every department that enter some indicators: those, everywhere."""
DEPARTMENT_SETTINGS: frozenset[str] = frozenset({"promised_minutes", "complaint_promise_days"})
"""Settings per department: that department's and All's indicators (``*``: every one)."""

SETTING_READERS: dict[str, tuple[str, ...]] = {
    "promised_minutes": ("promise_kept_rate",),
    "complaint_promise_days": ("complaints_resolved_within_promise",),
}
"""The indicators a per-department setting enters."""
CHANNEL_SCALED_SETTINGS: dict[str, tuple[str, str]] = {
    "iceberg_factor": ("estimated_dissatisfied", "complaints"),
    "iceberg_counted_at": ("estimated_dissatisfied", "complaints"),
}
"""Settings whose indicator is another stored indicator × the setting (``compute.FORMULAS``:
estimated dissatisfied = complaints × iceberg factor): the per-channel rows are rewritten from
the stored ones, not recomputed (the same double product).  The scale is the factor in effect,
``Settings.iceberg_factor``, whichever of the two settings changed."""
STORED_PRODUCTS: dict[str, tuple[str, str]] = {
    "revenue_at_risk": ("estimated_dissatisfied", "revenue_per_customer"),
}
"""Indicators that are a stored indicator × a setting's share × another stored indicator
(``compute.FORMULAS``: revenue at risk = estimated dissatisfied × leave share ÷ 100 × revenue
per customer): after a setting, rewritten from the stored ones in SQL, in the formula's order
(the same double product), not recomputed — revenue per customer would need every month's
distinct customers."""


CHANNEL_TABLE = "indicator_values_by_channel"
CHANNEL_LONG_COLUMNS: tuple[str, ...] = ("month", "department", "channel", "indicator", "value")
CHANNEL_DDL = f"""CREATE TABLE IF NOT EXISTS {CHANNEL_TABLE} (
    month VARCHAR NOT NULL,
    department VARCHAR NOT NULL,
    channel VARCHAR NOT NULL,
    indicator VARCHAR NOT NULL,
    value DOUBLE)"""
"""The per-channel indicators (:mod:`indicators.channels`): ``channel`` after ``department``."""

_LIVE = "indicator_values_live"
"""The temp table :func:`select` computes into when the stored table is not there."""

# Fixed statements (the table's name is the module's constant).
_EXISTS = (
    "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
    f"AND schema_name = 'main' AND table_name = '{TABLE}'"
)
_IN_MONTHS = (
    "(CAST($first AS VARCHAR) IS NULL OR month >= $first) "
    "AND (CAST($last AS VARCHAR) IS NULL OR month <= $last)"
)
_IN_CHANNELS = (
    "(CAST($channels AS VARCHAR[]) IS NULL "
    "OR list_contains(CAST($channels AS VARCHAR[]), channel))"
)
_IN_DEPARTMENTS = (
    "(CAST($departments AS VARCHAR[]) IS NULL "
    "OR list_contains(CAST($departments AS VARCHAR[]), department))"
)
_SCOPE_WHERE = (
    f"{_IN_MONTHS} AND {_IN_DEPARTMENTS} AND (CAST($indicators AS VARCHAR[]) IS NULL "
    "OR list_contains(CAST($indicators AS VARCHAR[]), indicator))"
)
ORDER = (
    "ORDER BY month, department <> $all, department, "
    "list_position(CAST($order AS VARCHAR[]), indicator)"
)
"""The long table's order (:func:`indicators.compute.sort_long`) over columns ``month``,
``department`` and ``indicator``; binds ``$all`` and ``$order`` (:func:`select`'s parameters)."""
CHANNEL_ORDER = (
    "ORDER BY month, department <> $all, department, channel, "
    "list_position(CAST($order AS VARCHAR[]), indicator)"
)
"""The per-channel long table's order (:func:`indicators.channels.sort_long`): as
:data:`ORDER`, channels by name within a department."""
_INSERT = (
    f"INSERT INTO {TABLE} SELECT month, department, indicator, "
    "CASE WHEN isnan(value) THEN NULL ELSE value END FROM fresh_indicators"
)
_DELETE_SCOPE = f"DELETE FROM {TABLE} WHERE {_SCOPE_WHERE}"
_OFF_GRID = (
    " WHERE NOT list_contains(CAST($months AS VARCHAR[]), month) "
    "OR (department <> $all AND NOT list_contains(CAST($departments AS VARCHAR[]), department))"
)
_DELETE_OFF_GRID = f"DELETE FROM {TABLE}{_OFF_GRID}"
_CHANNEL_INSERT = (
    f"INSERT INTO {CHANNEL_TABLE} SELECT month, department, channel, indicator, "
    "CASE WHEN isnan(value) THEN NULL ELSE value END FROM fresh_channel_indicators"
)
_CHANNEL_DELETE_SCOPE = f"DELETE FROM {CHANNEL_TABLE} WHERE {_SCOPE_WHERE}"
_CHANNEL_DELETE_OFF_GRID = f"DELETE FROM {CHANNEL_TABLE}{_OFF_GRID}"
_STORED_GRID = (
    f"SELECT list(DISTINCT month ORDER BY month), "
    f"list(DISTINCT department ORDER BY department) FILTER (WHERE department <> $all) "
    f"FROM {TABLE}"
)


_COUNT_ALL = {
    name: f"""INSERT INTO {ROWS_TABLE} SELECT '{name}', strftime(m, '%Y-%m'), department, n
              FROM (SELECT "month" AS m, department, count(*) AS n FROM "{name}" GROUP BY ALL)"""
    for name in MONTH_DATASETS
}
_COUNT_SLICES = {
    # Joined on the stored DATE, not its text: the join's month bounds then skip the row groups
    # of other months (0.02 s instead of 0.2 s for a month of 10 M purchases).
    name: f"""INSERT INTO {ROWS_TABLE} SELECT '{name}', strftime(m, '%Y-%m'), department, n
              FROM (SELECT t."month" AS m, t.department, count(*) AS n
                    FROM "{name}" AS t
                    JOIN (SELECT CAST(unnest(CAST($months AS VARCHAR[])) || '-01' AS DATE) AS m,
                                 unnest(CAST($departments AS VARCHAR[])) AS d) AS s
                      ON t."month" = s.m AND t.department = s.d
                    GROUP BY ALL)"""
    for name in MONTH_DATASETS
}
_DELETE_SLICES = f"""DELETE FROM {ROWS_TABLE} AS r USING (
    SELECT unnest(CAST($months AS VARCHAR[])) AS m, unnest(CAST($departments AS VARCHAR[])) AS d
) AS s WHERE r.dataset = $dataset AND r.month = s.m AND r.department = s.d"""
_ROWS_EXISTS = _EXISTS.replace(f"'{TABLE}'", f"'{ROWS_TABLE}'")
_READ_ROWS = f'SELECT dataset, month, department, "rows" FROM {ROWS_TABLE}'
_ROWS_ORDER = " ORDER BY dataset, month, department"
_ROWS_GRID = (f"SELECT min(month), max(month), list(DISTINCT department ORDER BY department) "
              f"FROM {ROWS_TABLE}")


def exists(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the database holds the stored table (a database of an earlier version opened
    read-only does not, until it is opened for writing)."""
    return bool(con.execute(_EXISTS).fetchone()[0])


_CHANNEL_EXISTS = _EXISTS.replace(f"'{TABLE}'", f"'{CHANNEL_TABLE}'")
_CHANNEL_LIVE = "indicator_values_by_channel_live"


def channel_table_exists(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the database holds the per-channel table (not one of an earlier version opened
    read-only)."""
    return bool(con.execute(_CHANNEL_EXISTS).fetchone()[0])


def channels(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every channel of the per-channel indicators, by name (``not given`` among them when a
    row has no channel); computed when the database does not store them."""
    if not channel_table_exists(con):
        from indicators.channels import channel_indicator_table

        table = channel_indicator_table(con, indicators=("purchases",))
        return sorted(set(table["channel"]))
    return [c for (c,) in con.execute(
        f"SELECT DISTINCT channel FROM {CHANNEL_TABLE} ORDER BY channel").fetchall()]


def _scope_params(scope: Scope) -> dict[str, object]:
    """``$first``, ``$last``, ``$departments`` of :data:`_IN_MONTHS` and :data:`_IN_DEPARTMENTS`
    (NULL: no restriction)."""
    first, last = scope.months if scope.months is not None else (None, None)
    return {"first": first, "last": last,
            "departments": None if scope.departments is None else list(scope.departments)}


def select(
    con: duckdb.DuckDBPyConnection,
    scope: Scope | None = None,
    *,
    indicators: Sequence[str] | None = None,
    ordered: bool = True,
) -> tuple[str, dict[str, object]]:
    """A SELECT statement and its named parameters giving the columns of :data:`LONG_COLUMNS`
    of ``scope`` (``value`` NULL where missing), sorted as :func:`indicators.compute.sort_long`:
    month, ``All`` first then departments by name, catalog order (:data:`ORDER`; with
    ``ordered=False`` in no order: a statement that joins the rows to others sorts them
    afterwards by :data:`ORDER`, with the same parameters).  Readable on ``con`` (inside
    ``COPY (…) TO`` or for Arrow batches).

    Where the stored table is not there (an older database opened read-only) the table is first
    computed into a temporary table of ``con``, so the statement reads the same values.
    """
    scope = scope or Scope()
    if scope.channels is not None:
        return _select_channels(con, scope, indicators=indicators, ordered=ordered)
    source = TABLE
    if not exists(con):
        live = _live(con, scope)
        con.register("fresh_indicators", live)
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {_LIVE} AS SELECT month, department, "
                        "indicator, CASE WHEN isnan(value) THEN NULL ELSE value END AS value "
                        "FROM fresh_indicators")
        finally:
            con.unregister("fresh_indicators")
        source = f"temp.{_LIVE}"
    sql = (f"SELECT month, department, indicator, value FROM {source} "
           f"WHERE {_SCOPE_WHERE} {ORDER if ordered else ''}")
    params = {**_scope_params(scope), "all": ALL_DEPARTMENTS, "order": list(INDICATOR_IDS),
              "indicators": None if indicators is None else list(indicators)}
    return sql, params


def _select_channels(
    con: duckdb.DuckDBPyConnection, scope: Scope, *, indicators: Sequence[str] | None,
    ordered: bool,
) -> tuple[str, dict[str, object]]:
    """:func:`select` of a scope with ``channels``: :data:`CHANNEL_LONG_COLUMNS` of
    :data:`CHANNEL_TABLE` (computed into a temporary table where it is not stored), in
    :data:`CHANNEL_ORDER` unless not ``ordered``."""
    source = CHANNEL_TABLE
    if not channel_table_exists(con):
        live = _live_channels(con, scope)
        con.register("fresh_channel_indicators", live)
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {_CHANNEL_LIVE} AS SELECT month, "
                        "department, channel, indicator, CASE WHEN isnan(value) THEN NULL "
                        "ELSE value END AS value FROM fresh_channel_indicators")
        finally:
            con.unregister("fresh_channel_indicators")
        source = f"temp.{_CHANNEL_LIVE}"
    sql = (f"SELECT month, department, channel, indicator, value FROM {source} "
           f"WHERE {_SCOPE_WHERE} AND {_IN_CHANNELS} {CHANNEL_ORDER if ordered else ''}")
    params = {**_scope_params(scope), "all": ALL_DEPARTMENTS, "order": list(INDICATOR_IDS),
              "indicators": None if indicators is None else list(indicators),
              "channels": list(scope.channels or ())}
    return sql, params


def read(
    con: duckdb.DuckDBPyConnection,
    scope: Scope | None = None,
    *,
    indicators: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The indicator long table of ``scope`` (the columns of :data:`LONG_COLUMNS`: month text
    ``YYYY-MM``, department with ``All``, catalog id, float64 value with NaN for missing),
    sorted as :func:`indicators.compute.sort_long`; only ``indicators`` when given.

    The same rows and values as :func:`indicators.compute.indicator_table` with the same months
    and departments.

    A scope with ``channels``: the per-channel rows of those channels
    (:data:`CHANNEL_LONG_COLUMNS`, ``channel`` text), sorted by :data:`CHANNEL_ORDER` — the
    rows and values of :func:`indicators.channels.channel_indicator_table`."""
    scope = scope or Scope()
    if scope.channels is not None:
        sql, params = _select_channels(con, scope, indicators=indicators, ordered=True)
        frame = con.execute(sql, params).df()
        return frame.astype({"month": "str", "department": "str", "channel": "str",
                             "indicator": "str", "value": "float64"})
    if not exists(con):
        table = _live(con, scope)
        if indicators is not None:
            table = table[table["indicator"].isin(set(indicators))].reset_index(drop=True)
        return table
    sql, params = select(con, scope, indicators=indicators)
    frame = con.execute(sql, params).df()
    return _typed(frame)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype({"month": "str", "department": "str", "indicator": "str",
                         "value": "float64"})


def _live(con: duckdb.DuckDBPyConnection, scope: Scope, *, in_transaction: bool = False,
          indicators: Sequence[str] | None = None) -> pd.DataFrame:
    from indicators.compute import indicator_table

    return indicator_table(con, months=scope.months, departments=scope.departments,
                           in_transaction=in_transaction, indicators=indicators)


def _live_channels(con: duckdb.DuckDBPyConnection, scope: Scope, *,
                   in_transaction: bool = False,
                   indicators: Sequence[str] | None = None) -> pd.DataFrame:
    from indicators.channels import channel_indicator_table

    return channel_indicator_table(con, months=scope.months, departments=scope.departments,
                                   channels=scope.channels, in_transaction=in_transaction,
                                   indicators=indicators)


def reading(dataset: str) -> tuple[str, ...]:
    """The indicators whose formula reads ``dataset`` (the catalog's sources), catalog order.

    >>> reading("surveys")
    ('csat', 'nps')
    """
    return tuple(i.id for i in INDICATORS if any(s.split(".")[0] == dataset for s in i.sources))


# --- writing ----------------------------------------------------------------------------


def create(con: duckdb.DuckDBPyConnection) -> None:
    """Create the (empty) tables: for a new database, whose datasets are empty too."""
    con.execute(DDL)
    con.execute(ROWS_DDL)
    con.execute(CHANNEL_DDL)


def _count_rows(con: duckdb.DuckDBPyConnection, dataset: str,
                slices: Iterable[tuple[str, str]] | None) -> None:
    """Recount ``dataset``'s stored rows in ``slices`` (``(YYYY-MM, department)``; None: every
    one), on ``con`` inside the caller's transaction."""
    if not con.execute(_ROWS_EXISTS).fetchone()[0]:  # a database stored before the counts
        con.execute(ROWS_DDL)
        for name in MONTH_DATASETS:
            con.execute(_COUNT_ALL[name])
        return
    if slices is None:
        con.execute(f"DELETE FROM {ROWS_TABLE} WHERE dataset = $dataset", {"dataset": dataset})
        con.execute(_COUNT_ALL[dataset])
        return
    pairs = sorted({(m[:7], d) for m, d in slices})
    keys = {"months": [m for m, _ in pairs], "departments": [d for _, d in pairs]}
    con.execute(_DELETE_SLICES, {**keys, "dataset": dataset})
    con.execute(_COUNT_SLICES[dataset], keys)


def row_counts(con: duckdb.DuckDBPyConnection, *, ordered: bool = True) -> pd.DataFrame:
    """Stored rows per dataset, month and department, as :func:`indicators.store.row_counts`
    (read from :data:`ROWS_TABLE`; counted when the database has none).  ``ordered=False``: the
    same rows in no particular order, for a reader they do not depend on (sorting is most of
    the read)."""
    if not con.execute(_ROWS_EXISTS).fetchone()[0]:
        from indicators.store import row_counts as counted

        return counted(con)
    return _frame(con, _READ_ROWS + (_ROWS_ORDER if ordered else ""))


def _frame(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    """``sql``'s rows as ``execute(sql).df()`` gives them, read through Arrow (text columns
    several times faster); an empty result as ``df()`` gives it (object columns)."""
    con.complete()  # the lookup before may have left its result open; sql() needs it done
    table = con.sql(sql).to_arrow_table()
    return table.to_pandas() if table.num_rows else con.execute(sql).df()


def grid(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[str]]:
    """Every reported month and every department, as :func:`indicators.facts.month_grid`
    (from :data:`ROWS_TABLE`; read from the datasets when the database has none)."""
    if not con.execute(_ROWS_EXISTS).fetchone()[0]:
        from indicators.facts import month_grid

        return month_grid(con)
    return _data_grid(con)


def _write(con: duckdb.DuckDBPyConnection, scope: Scope,
           indicators: Sequence[str] | None = None, *, rows_change: bool = True,
           channels: bool = True) -> int:
    """Replace the stored rows of ``scope`` (of ``indicators`` only, when given) by the
    engine's, computed on ``con`` (inside the caller's transaction), and, with ``channels``,
    the per-channel rows of ``scope`` (:func:`_write_channels`); the rows written (of this
    table)."""
    fresh = _live(con, scope, in_transaction=True, indicators=indicators)
    con.execute(_DELETE_SCOPE, {**_scope_params(scope),
                                "indicators": None if indicators is None else list(indicators)})
    if channels:
        _write_channels(con, scope, indicators, rows_change=rows_change)
    if fresh.empty:
        return 0
    con.register("fresh_indicators", fresh)
    try:
        con.execute(_INSERT)
    finally:
        con.unregister("fresh_indicators")
    return len(fresh)


_CHANNEL_KEYS = (f"SELECT DISTINCT month, department, channel FROM {CHANNEL_TABLE} "
                 f"WHERE {_IN_MONTHS} AND {_IN_DEPARTMENTS}")
_CHANNEL_DELETE_KEYS = (
    f"DELETE FROM {CHANNEL_TABLE} AS t USING gone_channel_keys AS g "
    "WHERE t.month = g.month AND t.department = g.department AND t.channel = g.channel"
)
_KEY = ["month", "department", "channel"]


def _write_channels(con: duckdb.DuckDBPyConnection, scope: Scope,
                    indicators: Sequence[str] | None, *, rows_change: bool = True) -> int:
    """Replace the per-channel rows of ``scope`` (months and departments) by
    :func:`indicators.channels.channel_indicator_table`'s; the rows written.

    ``indicators`` None: every per-channel indicator.  Else, with ``rows_change`` (a load or
    an undo of a dataset those indicators read), the keys (month, department, channel) are
    compared with the stored ones: the rows of the keys that exist no more are deleted, a key
    new to the table gets every per-channel indicator (computed from its channels' rows alone),
    and the other keys ``indicators`` afresh.  Without ``rows_change`` (a setting, which changes
    no key), ``indicators`` only."""
    from indicators.channels import CHANNEL_INDICATORS

    con.execute(CHANNEL_DDL)
    wanted = None if indicators is None else [i for i in indicators if i in CHANNEL_INDICATORS]
    if wanted is not None and not wanted:
        if not rows_change:
            return 0
        wanted = None  # no per-channel indicator reads the dataset: its keys may still change
    in_scope = Scope(scope.months, scope.departments)
    fresh = _live_channels(con, in_scope, in_transaction=True, indicators=wanted)
    con.execute(_CHANNEL_DELETE_SCOPE, {
        **_scope_params(scope), "indicators": wanted})
    if wanted is not None and rows_change:
        fresh = _with_new_keys(con, in_scope, fresh)
    if fresh.empty:
        return 0
    con.register("fresh_channel_indicators", fresh)
    try:
        con.execute(_CHANNEL_INSERT)
    finally:
        con.unregister("fresh_channel_indicators")
    return len(fresh)


def _with_new_keys(con: duckdb.DuckDBPyConnection, scope: Scope, fresh: pd.DataFrame
                   ) -> pd.DataFrame:
    """``fresh`` (some per-channel indicators of every key of ``scope`` that holds rows now),
    the stored rows of ``scope``'s keys that hold none deleted; for a key not stored yet, every
    per-channel indicator instead (its stored rows: none)."""
    stored = con.execute(_CHANNEL_KEYS, _scope_params(scope)).df().astype("str")
    now = fresh[_KEY].drop_duplicates()
    stored_index = pd.MultiIndex.from_frame(stored[_KEY])
    now_index = pd.MultiIndex.from_frame(now)
    gone = stored[~stored_index.isin(now_index)]
    if not gone.empty:
        con.register("gone_channel_keys", gone)
        try:
            con.execute(_CHANNEL_DELETE_KEYS)
        finally:
            con.unregister("gone_channel_keys")
    new = now[~now_index.isin(stored_index)]
    if new.empty:
        return fresh
    channels = tuple(sorted(set(new["channel"])))
    whole = _live_channels(con, Scope(scope.months, scope.departments, channels),
                           in_transaction=True)
    new_index = pd.MultiIndex.from_frame(new)
    is_new = pd.MultiIndex.from_frame(fresh[_KEY]).isin(new_index)
    whole = whole[pd.MultiIndex.from_frame(whole[_KEY]).isin(new_index)]
    return pd.concat([fresh[~is_new], whole], ignore_index=True)


def rebuild(con: duckdb.DuckDBPyConnection, *, in_transaction: bool = False,
            channels: bool = True, counted: bool = False) -> int:
    """Recompute the whole table from every stored row, in one transaction (the caller's with
    ``in_transaction``), and the per-channel table unless not ``channels`` (a change of
    retention, which enters none of it); the rows written.  The row counts
    (:data:`ROWS_TABLE`) are counted again, unless ``counted``: :func:`refresh` has just
    brought them up to date."""
    from indicators.store import transaction

    with transaction(con, joined=in_transaction):
        con.execute(DDL)
        con.execute(ROWS_DDL)
        if not counted:
            con.execute(f"DELETE FROM {ROWS_TABLE}")
            for dataset in MONTH_DATASETS:
                con.execute(_COUNT_ALL[dataset])
        con.execute(f"DELETE FROM {TABLE}")
        if channels or not channel_table_exists(con):
            con.execute(CHANNEL_DDL)
            con.execute(f"DELETE FROM {CHANNEL_TABLE}")
            channels = True
        return _write(con, Scope(), channels=channels)


def rebuild_channels(con: duckdb.DuckDBPyConnection) -> int:
    """Recompute the whole per-channel table, inside the caller's transaction (the migration
    that adds it to an older database); the rows written."""
    con.execute(CHANNEL_DDL)
    con.execute(f"DELETE FROM {CHANNEL_TABLE}")
    return _write_channels(con, Scope(), None)


def _data_grid(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[str]]:
    """The reported months and the departments the datasets hold now, read on ``con`` itself
    (inside the writer's transaction, its own rows included) from :data:`ROWS_TABLE`, which
    :func:`_count_rows` has just brought up to date (a read of it, not of every row)."""
    first, last, departments = con.execute(_ROWS_GRID).fetchone()
    if first is None:
        return [], []
    return month_labels.span(first, last), list(departments)


def _runs(labels: Iterable[str]) -> list[tuple[str, str]]:
    """Consecutive months as ``(first, last)`` runs."""
    runs: list[tuple[str, str]] = []
    for month in sorted(labels):
        if runs and month_labels.shift(runs[-1][1], 1) == month:
            runs[-1] = (runs[-1][0], month)
        else:
            runs.append((month, month))
    return runs


def changed_scopes(
    dataset: str, slices: Iterable[tuple[str, str]], *, last_month: str
) -> list[Scope]:
    """What a change of ``slices`` (``(YYYY-MM, department)``) of ``dataset`` can change (the
    rules in the module docstring), months up to ``last_month``.

    >>> changed_scopes("purchases", [("2025-03", "North")], last_month="2025-12")
    [Scope(months=('2025-03', '2025-12'), departments=('North', 'All'), channels=None)]
    >>> changed_scopes("complaints", [("2025-03", "North")], last_month="2025-12")
    [Scope(months=('2025-03', '2025-06'), departments=None, channels=None), \
Scope(months=('2025-03', '2025-12'), departments=('North', 'All'), channels=None)]
    >>> changed_scopes("surveys", [("2025-03", "North"), ("2025-05", "South")],
    ...                last_month="2025-12")
    [Scope(months=('2025-03', '2025-03'), departments=('North', 'South', 'All'), channels=None), \
Scope(months=('2025-05', '2025-05'), departments=('North', 'South', 'All'), channels=None)]
    """
    pairs = sorted({(m[:7], d) for m, d in slices})
    if not pairs:
        return []
    touched = (*sorted({d for _, d in pairs}), ALL_DEPARTMENTS)
    first = pairs[0][0]
    if dataset == "purchases":
        return [Scope((first, max(last_month, first)), touched)]
    if dataset == "complaints":
        last = max(m for m, _ in pairs)
        return [Scope((first, month_labels.shift(last, REPEAT_MONTHS_AFTER)), None),
                Scope((first, max(last_month, first)), touched)]
    return [Scope(run, touched) for run in _runs({m for m, _ in pairs})]


def refresh(
    con: duckdb.DuckDBPyConnection, dataset: str, slices: Iterable[tuple[str, str]] | None
) -> int:
    """Keep the table current after ``slices`` of ``dataset`` changed, inside the caller's
    transaction (``slices`` None: the whole dataset changed — rebuilt).  The rows written."""
    if dataset not in MONTH_DATASETS:
        return 0  # targets: not an input of the indicators
    # retention carries no channel: its change leaves every per-channel row as it was
    channels = dataset in CHANNEL_DATASETS
    if slices is None:
        return rebuild(con, in_transaction=True, channels=channels)
    slices = list(slices)
    _count_rows(con, dataset, slices)  # first: the grid below is read from the counts
    con.execute(DDL)
    if not channel_table_exists(con):  # stored before channels: filled whole, once
        rebuild_channels(con)
    grid_months, grid_departments = _data_grid(con)
    stored_months, stored_departments = con.execute(
        _STORED_GRID, {"all": ALL_DEPARTMENTS}
    ).fetchone()
    stored_months, stored_departments = stored_months or [], stored_departments or []
    if not grid_months:
        con.execute(f"DELETE FROM {TABLE}")
        con.execute(f"DELETE FROM {CHANNEL_TABLE}")
        return 0
    if not stored_months:
        return rebuild(con, in_transaction=True, channels=channels, counted=True)
    off_grid = {"months": grid_months, "departments": grid_departments, "all": ALL_DEPARTMENTS}
    con.execute(_DELETE_OFF_GRID, off_grid)
    con.execute(_CHANNEL_DELETE_OFF_GRID, off_grid)
    first, last = grid_months[0], grid_months[-1]
    # (scope, the indicators to rewrite there; None: every one)
    work: list[tuple[Scope, tuple[str, ...] | None]] = [
        (scope, reading(dataset)) for scope in changed_scopes(dataset, slices, last_month=last)
    ]
    new_departments = sorted(set(grid_departments) - set(stored_departments))
    if new_departments:
        work.append((Scope(None, tuple(new_departments)), None))
    work += [(Scope(run, None), None) for run in _runs(set(grid_months) - set(stored_months))]
    everyone = (ALL_DEPARTMENTS, *grid_departments)
    clipped = [(c, i) for c, i in ((_clip(s, first, last), i) for s, i in work) if c is not None]
    if any(i is None and _covers(c, first, last, everyone) for c, i in clipped):
        # the whole grid: one full pass is cheaper (the counts are current already)
        return rebuild(con, in_transaction=True, channels=channels, counted=True)
    written = 0
    for scope, indicators in _without_covered(clipped, everyone):
        written += _write(con, _named(scope, first, last, everyone), indicators,
                          channels=channels)
    if dataset in CONTACT_READERS:
        # not per channel: the per-channel keys follow the dataset's own scopes above
        since = _contacts_changed_from(con, _first_month(slices), first)
        written += _write(con, _named(Scope((since, last), None), first, last, everyone),
                          CONTACT_READERS[dataset], channels=False)
    return written


def _first_month(slices: Iterable[tuple[str, str]]) -> str:
    """The earliest month (``YYYY-MM``) of ``slices``."""
    return min(m[:7] for m, _ in slices)


_CONTACTS_BEFORE = """SELECT max(t) - to_days(CAST($days AS INTEGER)) FROM (
    SELECT max(opened_at) AS t FROM complaints WHERE month < $changed
    UNION ALL SELECT max(received_at) FROM responses WHERE month < $changed)"""
_CLOSED_SINCE = """SELECT strftime(min(month), '%Y-%m') FROM (
    SELECT month FROM complaints WHERE customer_id IS NOT NULL AND resolved_at >= $since
    UNION ALL
    SELECT month FROM responses WHERE customer_id IS NOT NULL AND responded_at >= $since)"""


def _contacts_changed_from(con: duckdb.DuckDBPyConnection, changed: str, first: str) -> str:
    """The first month whose first-contact resolution a change of contacts (complaints or
    requests) of months ``changed`` on can move (:func:`indicators.facts.fcr_sql`).

    Every changed contact was opened after *h*, the latest contact stored before ``changed``,
    and the horizon before and after the change are both at least *h*.  So only contacts closed
    at or after *T* = *h* − the first-contact days can be judged otherwise (a changed contact in
    their window, or the horizon passing them), and only months ending after *T* can change
    whether they are judged: the months from the first such contact's month, and from the
    month before *T*'s (a day of zone offset to spare), to the last.  No contact before
    ``changed``: every month from ``first``."""
    from indicators.store import read_settings

    days = read_settings(con).fcr_days
    (since,) = con.execute(_CONTACTS_BEFORE, {"days": days,
                                              "changed": month_labels.parse(changed)}).fetchone()
    if since is None:
        return first
    (closed,) = con.execute(_CLOSED_SINCE, {"since": since}).fetchone()
    judged = month_labels.shift(since.strftime("%Y-%m"), -1)
    return max(first, min(judged, closed or judged, changed))


def _named(scope: Scope, first: str, last: str, everyone: tuple[str, ...]) -> Scope:
    """``scope`` as :func:`_write` computes it inside a load: the whole grid as no scope (the
    full pass of the parts wanted), every department by name otherwise (the facts are read on
    ``con`` itself, the transaction's own rows, where "every department" would look the
    departments up afresh)."""
    if _covers(scope, first, last, everyone):
        return Scope()
    if scope.departments is None:
        return Scope(scope.months, everyone)
    return scope


def _without_covered(
    work: list[tuple[Scope, tuple[str, ...] | None]], everyone: tuple[str, ...]
) -> list[tuple[Scope, tuple[str, ...] | None]]:
    """``work`` without the items that another one holds whole, for at least their indicators (a
    month new to the table rewrites everything the load changed in it; a month of complaints
    appended is rewritten once, for the repeats and the backlog together)."""
    def holds(big: Scope, small: Scope) -> bool:
        lo, hi = big.months or ("0001-01", "9999-12")
        months = small.months is not None and lo <= small.months[0] and small.months[1] <= hi
        named = set(big.departments or everyone)
        return months and set(small.departments or everyone) <= named

    def writes(big: tuple[str, ...] | None, small: tuple[str, ...] | None) -> bool:
        return big is None or (small is not None and set(small) <= set(big))

    def dropped(i: int) -> bool:
        scope, indicators = work[i]
        for j, (other, other_indicators) in enumerate(work):
            if j == i or not (holds(other, scope) and writes(other_indicators, indicators)):
                continue
            # two items that hold each other: the earlier one stays
            if not (holds(scope, other) and writes(indicators, other_indicators)) or j < i:
                return True
        return False

    return [item for i, item in enumerate(work) if not dropped(i)]


def _covers(scope: Scope, first: str, last: str, everyone: tuple[str, ...]) -> bool:
    """Whether ``scope`` is the whole grid (months ``first`` … ``last``, every department)."""
    months_all = scope.months is None or scope.months == (first, last)
    departments_all = scope.departments is None or set(everyone) <= set(scope.departments)
    return months_all and departments_all


def _clip(scope: Scope, first: str, last: str) -> Scope | None:
    """``scope``'s months within the grid's ``first`` … ``last``; None when none is."""
    if scope.months is None:
        return scope
    lo, hi = max(scope.months[0], first), min(scope.months[1], last)
    return None if lo > hi else Scope((lo, hi), scope.departments)


_SCALE_CHANNELS = f"""UPDATE {CHANNEL_TABLE} AS t SET value = b.value * $factor
FROM {CHANNEL_TABLE} AS b
WHERE t.indicator = $scaled AND b.indicator = $base AND b.month = t.month
  AND b.department = t.department AND b.channel = t.channel"""


def _scale_channels(con: duckdb.DuckDBPyConnection, key: str) -> None:
    """Rewrite the per-channel indicator setting ``key`` scales (:data:`CHANNEL_SCALED_SETTINGS`)
    from the stored base indicator × the iceberg factor in effect now (inside the caller's
    transaction)."""
    from indicators.store import read_settings

    scaled, base = CHANNEL_SCALED_SETTINGS[key]
    factor = float(read_settings(con).iceberg_factor)
    con.execute(_SCALE_CHANNELS, {"factor": factor, "scaled": scaled, "base": base})


_STORED_PRODUCT = f"""UPDATE {TABLE} AS t SET value = a.value * $share * b.value
FROM {TABLE} AS a, {TABLE} AS b
WHERE t.indicator = $product AND a.indicator = $left AND b.indicator = $right
  AND a.month = t.month AND a.department = t.department
  AND b.month = t.month AND b.department = t.department"""


def _rewrite_products(con: duckdb.DuckDBPyConnection, indicators: Sequence[str]) -> None:
    """Rewrite the :data:`STORED_PRODUCTS` among ``indicators`` from the stored factors and the
    leave share now (inside the caller's transaction; after the factors are current)."""
    from indicators.store import read_settings

    share = read_settings(con).dissatisfied_leave_share / 100.0
    for product in (i for i in indicators if i in STORED_PRODUCTS):
        left, right = STORED_PRODUCTS[product]
        con.execute(_STORED_PRODUCT, {"share": share, "product": product, "left": left,
                                      "right": right})


def refresh_for_setting(con: duckdb.DuckDBPyConnection, key: str, department: str) -> int:
    """Keep the table current after setting ``key`` (of ``department``) changed, inside the
    caller's transaction; the rows written (0: the setting is not an input)."""
    if not exists(con):
        return 0
    if not channel_table_exists(con):
        rebuild_channels(con)
    if key in WHOLE_TABLE_SETTINGS:
        return rebuild(con, in_transaction=True)
    if key in DEPARTMENT_SETTINGS and department == "*":
        # the default of every department without its own: the indicator everywhere
        return _write(con, Scope(), SETTING_READERS[key], rows_change=False)
    if key in ORGANISATION_SETTINGS:
        entered = ORGANISATION_SETTINGS[key]
        recomputed = tuple(i for i in entered if i not in STORED_PRODUCTS)
        written = 0
        if recomputed:
            written = _write(con, Scope(), recomputed, rows_change=False,
                             channels=key not in CHANNEL_SCALED_SETTINGS)
        if key in CHANNEL_SCALED_SETTINGS:
            _scale_channels(con, key)
        _rewrite_products(con, entered)
        return written
    if key in DEPARTMENT_SETTINGS:
        stored = [d for (d,) in con.execute(
            f"SELECT DISTINCT department FROM {TABLE} WHERE department = $d", {"d": department}
        ).fetchall()]
        if not stored:
            return 0
        return _write(con, Scope(None, (department, ALL_DEPARTMENTS)), SETTING_READERS[key],
                      rows_change=False)
    return 0


# --- checking --------------------------------------------------------------------------

_DIFFERENCES = f"""
SELECT coalesce(s.month, f.month) AS month, coalesce(s.department, f.department) AS department,
       CAST(NULL AS VARCHAR) AS channel,
       coalesce(s.indicator, f.indicator) AS indicator, s.value AS stored, f.value AS computed
FROM {TABLE} AS s
FULL OUTER JOIN (SELECT month, department, indicator,
                        CASE WHEN isnan(value) THEN NULL ELSE value END AS value
                 FROM fresh_indicators) AS f
  ON s.month = f.month AND s.department = f.department AND s.indicator = f.indicator
WHERE s.month IS NULL OR f.month IS NULL OR s.value IS DISTINCT FROM f.value
ORDER BY 1, 2, 4
"""
_CHANNEL_DIFFERENCES = f"""
SELECT coalesce(s.month, f.month) AS month, coalesce(s.department, f.department) AS department,
       coalesce(s.channel, f.channel) AS channel,
       coalesce(s.indicator, f.indicator) AS indicator, s.value AS stored, f.value AS computed
FROM (SELECT month, department, channel, indicator, count(*) AS copies,
             CASE WHEN count(*) = 1 THEN any_value(value) END AS value
      FROM {CHANNEL_TABLE} GROUP BY ALL) AS s
FULL OUTER JOIN (SELECT month, department, channel, indicator,
                        CASE WHEN isnan(value) THEN NULL ELSE value END AS value
                 FROM fresh_channel_indicators) AS f
  ON s.month = f.month AND s.department = f.department AND s.channel = f.channel
     AND s.indicator = f.indicator
WHERE s.month IS NULL OR f.month IS NULL OR s.copies > 1 OR s.value IS DISTINCT FROM f.value
ORDER BY 1, 2, 3, 4
"""


def differences(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Where the stored tables and a full recomputation disagree (``month``, ``department``,
    ``channel``, ``indicator``, ``stored``, ``computed``; a row missing on one side has NULL
    there; ``channel`` NULL: a cell of the table of every channel together, else of
    :data:`CHANNEL_TABLE`, where a cell stored twice is a difference too, its ``stored``
    NULL); empty when they are equal.  Read in one transaction (one
    snapshot).  A database without the per-channel table (an older one opened read-only) is
    compared on the other alone."""
    cur = con.cursor()
    cur.execute("BEGIN TRANSACTION")
    try:
        fresh = _live(cur, Scope(), in_transaction=True)
        cur.register("fresh_indicators", fresh)
        try:
            found = cur.execute(_DIFFERENCES).df()
        finally:
            cur.unregister("fresh_indicators")
        if channel_table_exists(cur):
            fresh = _live_channels(cur, Scope(), in_transaction=True)
            cur.register("fresh_channel_indicators", fresh)
            try:
                by_channel = cur.execute(_CHANNEL_DIFFERENCES).df()
            finally:
                cur.unregister("fresh_channel_indicators")
            if not by_channel.empty:
                found = by_channel if found.empty else pd.concat([found, by_channel],
                                                                  ignore_index=True)
    finally:
        cur.execute("ROLLBACK")
    return found


def check_problems(con: duckdb.DuckDBPyConnection) -> list[str]:
    """What ``check`` says about the stored table: nothing when it equals a full
    recomputation, else how many cells differ and the first few."""
    if not exists(con):
        return []  # an older database: the table comes with the next write
    problems = []
    if con.execute(_ROWS_EXISTS).fetchone()[0]:
        from indicators.store import row_counts as counted

        stored_counts, counts = row_counts(con), counted(con)
        if not stored_counts.equals(counts):
            problems.append("the stored row counts differ from the datasets' rows; run "
                            "`python -m indicators rebuild`")
    found = differences(con)
    if found.empty:
        return problems
    shown = "; ".join(
        f"{r.month} {r.department}{'' if pd.isna(r.channel) else ' ' + str(r.channel)} "
        f"{r.indicator}: stored {r.stored}, computed {r.computed}"
        for r in found.head(3).itertuples()
    )
    return [*problems, f"the stored indicator table differs from a full recomputation in "
            f"{len(found):,} cell{'s' if len(found) != 1 else ''} ({shown}); run "
            "`python -m indicators rebuild`"]


def checked_health(db: str, *, wait: float):  # -> store.Health
    """:func:`indicators.store.health` (every table reads whole) and, when that is ok, whether
    the stored indicators equal a full recomputation (:func:`check_problems`): ``check``."""
    from indicators import store

    health = store.health(db, wait=wait)
    if not health.ok:
        return health
    con = store.connect_waiting(db, read_only=True, wait=wait)
    try:
        problems = check_problems(con)
    finally:
        con.close()
    if not problems:
        return health
    return store.Health(health.path, False, health.tables, [*health.problems, *problems])


# --- the command --------------------------------------------------------------------------


def run_rebuild_cli(db: str, *, wait: float) -> int:
    """``python -m indicators rebuild``: recompute the stored table; 0 done, 1 the database
    cannot be opened or stayed busy."""
    from indicators import store

    try:
        con = store.connect_waiting(db, read_only=False, wait=wait)
    except store.DatabaseBusy as exc:
        store.print_to_stderr(str(exc))
        return 1
    try:
        written = rebuild(con)
    finally:
        con.close()
    print(f"{db}: the stored indicator table rebuilt ({written:,} rows)")
    return 0
