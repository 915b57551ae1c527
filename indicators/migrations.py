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

Step = Callable[[duckdb.DuckDBPyConnection], None]

VERSION_TABLE = "schema_version"
VERSION_DDL = f"""CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (
    version INTEGER NOT NULL,
    step VARCHAR NOT NULL,
    applied_at TIMESTAMP NOT NULL)"""

STEPS: tuple[tuple[int, str, Step], ...] = ()
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
