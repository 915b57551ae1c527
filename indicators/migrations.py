"""Bringing a database made by an earlier version up to the current shape, step by step.

``schema_version`` records every step applied (its number, name and when).  A database
created by this version is stamped with :data:`SCHEMA_VERSION` at once; one made before has no
stamp (version 0) and gets every step after its version, each in its own transaction, the
first time it is opened for writing (:func:`indicators.store.init_db`).  A read-only
connection never changes the file: until a write, it reads the older shape.

A step is a function of the connection that changes stored rows and tables to the next
shape; it must be safe to run on a database of any size (set-based SQL) and must leave
nothing half done (the transaction around it rolls back on any error).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import duckdb

from indicators import store
from indicators.schema import DATASETS, MAX_MONEY, MONEY_SQL_TYPE
from indicators.store import removed_table

Step = Callable[[duckdb.DuckDBPyConnection], None]

VERSION_TABLE = "schema_version"
VERSION_DDL = f"""CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (
    version INTEGER NOT NULL,
    step VARCHAR NOT NULL,
    applied_at TIMESTAMP NOT NULL)"""


class StepFailed(Exception):
    """A step met stored data it cannot convert; its transaction rolled back, nothing changed."""


# --- step 1: instants ------------------------------------------------------------------------

_TIMESTAMP_TABLES: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (table, tuple(c.name for c in dataset.columns if c.kind == "timestamp"))
    for dataset in DATASETS.values()
    if any(c.kind == "timestamp" for c in dataset.columns)
    for table in (dataset.name, removed_table(dataset.name))
)
"""(table, its timestamp columns): the event datasets' tables and what undo keeps of them."""


def _instants(con: duckdb.DuckDBPyConnection) -> None:
    """Event timestamps from wall-clock time in the organisation's zone to the instant, in UTC.

    Earlier versions stored every timestamp as local time in the ``time_zone`` setting (a
    value with an offset was converted to it); now a stored timestamp is the instant, so that a
    duration is the time that passed.  Each stored value is read as a wall-clock time in that
    zone, as a file's time without an offset is read (docs/datasets.md: in an autumn overlap
    hour the later instant — the earlier one, if that is what the file said, is lost already).
    The ``month`` columns stay: they were the months in that zone.  In a UTC zone (the
    default) nothing changes and nothing is read.
    """
    found = con.execute(
        "SELECT value FROM settings WHERE key = 'time_zone' AND department = ?",
        [store.ANY_DEPARTMENT],
    ).fetchone()
    zone = found[0] if found else store.DEFAULT_TIME_ZONE
    if store.is_utc_zone(zone):
        return
    for table, columns in _TIMESTAMP_TABLES:
        assignments = ", ".join(
            f"{q} = {store.utc_of_local_sql(q, '$zone')}" for q in (f'"{c}"' for c in columns)
        )
        con.execute(f'UPDATE "{table}" SET {assignments}', {"zone": zone})


# --- step 2: exact money ---------------------------------------------------------------------

_MONEY_TABLES: tuple[tuple[str, str], ...] = tuple(
    (table, column.name)
    for dataset in DATASETS.values()
    for table in (dataset.name, removed_table(dataset.name))
    for column in dataset.columns
    if column.kind == "money"
)
"""(table, column) of every stored amount: the datasets' tables and what undo keeps."""
_COLUMN_TYPE = """SELECT data_type FROM duckdb_columns()
    WHERE database_name = current_database() AND schema_name = 'main'
      AND table_name = $table AND column_name = $column"""


def _money_as_decimal(con: duckdb.DuckDBPyConnection) -> None:
    """Amounts (``purchases.amount``, ``list_amount``, ``complaints.compensation`` and their
    ``removed_`` copies) from DOUBLE to ``DECIMAL(18,4)``, summed exactly from then on.

    Each stored double becomes its shortest decimal text (the text it was read from, for any
    amount of at most 15 significant digits) rounded to 4 decimal places, half away from zero:
    ``0.1`` → 0.1000, ``12.34567`` → 12.3457 — earlier versions accepted more decimals.  A value
    that does not fit (10^14 or more in magnitude, beyond :data:`~indicators.schema.MAX_MONEY`,
    or not finite: only hand-made data) fails the step with :class:`StepFailed`, naming table,
    column and value, before any table is changed.
    """
    doubles = []
    for table, column in _MONEY_TABLES:
        found = con.execute(_COLUMN_TYPE, {"table": table, "column": column}).fetchone()
        if found is not None and found[0] != MONEY_SQL_TYPE:
            doubles.append((table, column))
    for table, column in doubles:
        (bad,) = con.execute(
            f'SELECT min("{column}") FILTER (WHERE NOT isfinite("{column}") '
            f'OR abs("{column}") >= $too_large) FROM "{table}"',
            {"too_large": 1e14},
        ).fetchone()
        if bad is not None:
            raise StepFailed(
                f'{table}.{column} holds {bad!r}, which does not fit {MONEY_SQL_TYPE} (at most '
                f"{MAX_MONEY:,} in magnitude): correct or remove that row with the version that "
                "wrote it, then open the database again; nothing was changed"
            )
    for table, column in doubles:
        con.execute(
            f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET DATA TYPE {MONEY_SQL_TYPE} '
            f'USING CAST(CAST("{column}" AS VARCHAR) AS {MONEY_SQL_TYPE})'
        )


# --- step 3: the stored indicator table ------------------------------------------------------


def _stored_indicators(con: duckdb.DuckDBPyConnection) -> None:
    """The indicator table stored and filled from every stored row
    (:mod:`indicators.stored_indicators`), kept current by every write from then on."""
    from indicators import stored_indicators

    stored_indicators.rebuild(con, in_transaction=True)


# --- step 4: a target's shape, steps and owner ------------------------------------------------

_TARGET_COLUMNS_ADDED: tuple[str, ...] = ("shape", "steps", "owner")


def _target_shapes(con: duckdb.DuckDBPyConnection) -> None:
    """The targets (and what undo keeps of them) get the columns ``shape``, ``steps`` and
    ``owner``, empty: every stored target keeps its straight route and has no owner yet."""
    for table in ("targets", removed_table("targets")):
        for column in _TARGET_COLUMNS_ADDED:
            con.execute(f'ALTER TABLE "{table}" ADD COLUMN IF NOT EXISTS "{column}" VARCHAR')


# --- step 5: channels --------------------------------------------------------------------------


def _channels(con: duckdb.DuckDBPyConnection) -> None:
    """The surveys (and what undo keeps of them) get the column ``channel``, empty: every
    stored answer's channel is *not given*; then the per-channel indicator table
    (:data:`indicators.stored_indicators.CHANNEL_TABLE`) is stored and filled from every stored
    row, kept current by every write from then on."""
    from indicators import stored_indicators

    for table in ("surveys", removed_table("surveys")):
        con.execute(f'ALTER TABLE "{table}" ADD COLUMN IF NOT EXISTS "channel" VARCHAR')
    stored_indicators.rebuild_channels(con)


# --- step 6: the service manager's indicators ----------------------------------------------------


def _service_manager(con: duckdb.DuckDBPyConnection) -> None:
    """The responses (and what undo keeps of them) get the column ``customer_id``, empty (no
    stored request is judged for first-contact resolution); then both stored indicator tables
    are rebuilt, so that they hold the indicators added with it (backlog, complaints within the
    promise, first-contact resolution, contacts per 100 purchases, customer effort)."""
    from indicators import stored_indicators

    for table in ("responses", removed_table("responses")):
        con.execute(f'ALTER TABLE "{table}" ADD COLUMN IF NOT EXISTS "customer_id" VARCHAR')
    stored_indicators.rebuild(con, in_transaction=True)


# --- step 7: where complaints are counted ------------------------------------------------------
# (step 6 is the service manager's indicators, issue 20 point 1)

_SETTING = "SELECT value FROM settings WHERE key = $key AND department = $all"


def _iceberg_counted_at(con: duckdb.DuckDBPyConnection) -> None:
    """A database made before the iceberg factor became a choice of where complaints are
    counted (:mod:`indicators.iceberg`) keeps its numbers: it gets ``iceberg_counted_at =
    custom`` and, without an ``iceberg_factor`` row, that factor's old default, 10, written
    down, so the settings page says "custom ×10" and a later default cannot move them.  The
    stored indicators are then rebuilt if they lack revenue at risk (added with the step)."""
    from indicators import iceberg, stored_indicators

    every = {"all": store.ANY_DEPARTMENT}
    if con.execute(_SETTING, {**every, "key": "iceberg_counted_at"}).fetchone() is None:
        con.execute("INSERT INTO settings VALUES ('iceberg_counted_at', $all, $custom)",
                    {**every, "custom": iceberg.LEGACY_COUNTED_AT})
        if con.execute(_SETTING, {**every, "key": "iceberg_factor"}).fetchone() is None:
            con.execute("INSERT INTO settings VALUES ('iceberg_factor', $all, $factor)",
                        {**every, "factor": repr(iceberg.DEFAULT_CUSTOM_FACTOR)})
    if stored_indicators.exists(con) and not con.execute(
        f"SELECT count(*) FROM {stored_indicators.TABLE} WHERE indicator = 'revenue_at_risk'"
    ).fetchone()[0]:
        stored_indicators.rebuild(con, in_transaction=True)


STEPS: tuple[tuple[int, str, Step], ...] = (
    (1, "instants", _instants),
    (2, "exact money", _money_as_decimal),
    (3, "stored indicators", _stored_indicators),
    (4, "target shapes and owners", _target_shapes),
    (5, "channels", _channels),
    (6, "service manager's indicators", _service_manager),
    (7, "iceberg counted at", _iceberg_counted_at),
)
"""Every step, in order: (version it brings the database to, name, function)."""

SCHEMA_VERSION: int = max((version for version, _, _ in STEPS), default=0)
"""The shape this version of the product writes."""


def stored_version(con: duckdb.DuckDBPyConnection) -> int:
    """The last version applied to the database (0: made before versions were recorded)."""
    (version,) = con.execute(f"SELECT coalesce(max(version), 0) FROM {VERSION_TABLE}").fetchone()
    return int(version)


def _stamp(con: duckdb.DuckDBPyConnection, version: int, step: str) -> None:
    con.execute(
        f"INSERT INTO {VERSION_TABLE} (version, step, applied_at) VALUES (?, ?, ?)",
        [version, step, dt.datetime.now(dt.UTC).replace(tzinfo=None)],
    )


def upgrade(con: duckdb.DuckDBPyConnection, *, fresh: bool) -> list[str]:
    """Apply the steps a database still lacks; the names of those applied.

    ``fresh``: the tables were created just now, in the current shape (stamp it, run nothing).
    """
    con.execute(VERSION_DDL)
    if fresh:
        if stored_version(con) < SCHEMA_VERSION:
            _stamp(con, SCHEMA_VERSION, "created")
        return []
    applied = []
    for version, name, step in STEPS:
        if version <= stored_version(con):
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            step(con)
            _stamp(con, version, name)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied
