"""The DuckDB store: where the database lives, its tables, settings and the upload log.

Loading files is :mod:`indicators.ingest`; monthly facts are :mod:`indicators.facts`.
Nothing here runs at import time: a connection is opened only by :func:`connect`.

**Every connection is bounded.**  :func:`connect` gives each connection a memory limit
(``$SERVICE_DB_MEMORY``, default 4GB) and a spill folder next to the database file
(``<db>.tmp``), so one large upload or computation spills to disk instead of taking the
machine's memory.  With ``sandbox`` it also switches off DuckDB's access to any file outside the
database's folder and the given folders, and locks that configuration (the app serves with it).

**One writer process at a time.**  DuckDB lets one process hold the file for writing and, while
it does, no other process can open it at all, not even read-only ("Could not set lock").
:func:`connect_waiting` waits and retries for a bounded time; :class:`DatabaseBusy` says the wait
ran out.  Within one process DuckDB refuses a second connection to the same file with a different
configuration, so a process must open every connection with the same options (the app always
uses the same ``sandbox``; see :mod:`dashboard.data`).

**Health.**  :func:`health` opens a file read-only and reads every table whole
(:func:`check`); ``python -m indicators check`` prints it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from indicators.schema import DATASETS, MONTH_DATASETS, table_ddl

DEFAULT_DB = Path("data") / "service.duckdb"
DB_ENV = "SERVICE_DB"
MEMORY_ENV = "SERVICE_DB_MEMORY"
DEFAULT_MEMORY_LIMIT = "4GB"
"""DuckDB's memory cap per process (its own default is 80 % of the machine's RAM)."""
DEFAULT_WAIT_SECONDS = 120.0
"""How long :func:`connect_waiting` waits for another process to release the file."""
BUSY_MESSAGE = "database busy (used by another process), retrying…"
PAUSE_ENV = "INDICATORS_TEST_PAUSE_AT"
PAUSE_MARKER = "INDICATORS_TEST_PAUSED_AT="

DEFAULT_ICEBERG_FACTOR = 10.0
DEFAULT_PROMISED_MINUTES = 60.0
DEFAULT_TIME_ZONE = "UTC"
ANY_DEPARTMENT = "*"

_META_DDL = (
    """CREATE TABLE IF NOT EXISTS settings (
        key VARCHAR NOT NULL,
        department VARCHAR NOT NULL,
        value VARCHAR NOT NULL,
        PRIMARY KEY (key, department))""",
    "CREATE SEQUENCE IF NOT EXISTS upload_log_id",
    """CREATE TABLE IF NOT EXISTS upload_log (
        id BIGINT PRIMARY KEY DEFAULT nextval('upload_log_id'),
        uploaded_at TIMESTAMP NOT NULL,
        "user" VARCHAR,
        file_name VARCHAR NOT NULL,
        dataset VARCHAR,
        slices VARCHAR,
        "rows" BIGINT,
        outcome VARCHAR NOT NULL,
        message VARCHAR)""",
)


def default_db_path() -> Path:
    """``$SERVICE_DB`` if set, else ``data/service.duckdb``."""
    return Path(os.environ.get(DB_ENV) or DEFAULT_DB)


class DatabaseBusy(RuntimeError):
    """Another process held the database file for longer than the caller would wait."""


def is_lock_error(exc: BaseException) -> bool:
    """Whether ``exc`` is DuckDB saying another process holds the file."""
    return isinstance(exc, duckdb.IOException) and "Could not set lock" in str(exc)


def connection_config(path: str | Path) -> dict[str, str]:
    """The options every connection to ``path`` opens with: memory cap and spill folder.

    The same path gives the same dict, so connections of one process share one DuckDB
    instance (DuckDB refuses a second connection to a file with different options).
    """
    path = Path(path).absolute()
    return {
        "memory_limit": os.environ.get(MEMORY_ENV) or DEFAULT_MEMORY_LIMIT,
        "temp_directory": str(path.with_name(path.name + ".tmp")),
    }


_OPENING = threading.Lock()
"""Connecting and configuring is one step per process: a second thread joining the same DuckDB
instance must not find it half-configured (sandbox set but not yet locked)."""


def connect(
    path: str | Path,
    *,
    read_only: bool = False,
    sandbox: Sequence[str | Path] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the database file, creating it and its tables when opened for writing.

    Every connection gets :func:`connection_config`.  With ``sandbox`` (folders, possibly empty)
    DuckDB may read and write files only in the database's folder, its spill folder and those
    folders, and the configuration is locked so no SQL can switch that back on.  The sandbox
    belongs to the process's DuckDB instance for this file: every connection a process opens to
    the file while one is open shares it.
    """
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    with _OPENING:
        con = duckdb.connect(str(path), read_only=read_only, config=connection_config(path))
        try:
            if sandbox is not None:
                _sandbox(con, [path.absolute().parent, *(Path(f).absolute() for f in sandbox)])
            if not read_only:
                init_db(con)
        except BaseException:
            con.close()
            raise
    return con


def _sandbox(con: duckdb.DuckDBPyConnection, folders: Sequence[Path]) -> None:
    # DuckDB 2.0 takes allowed_directories only once the database is open (not in the
    # connect config), and a locked configuration means the instance is already sandboxed.
    locked = con.execute("SELECT current_setting('lock_configuration')").fetchone()
    if locked is not None and locked[0]:
        external = con.execute("SELECT current_setting('enable_external_access')").fetchone()
        if external is None or external[0]:
            raise duckdb.ConnectionException("the database is open unsandboxed in this process")
        return
    con.execute("SET allowed_directories = ?", [[str(f) for f in folders]])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def connect_waiting(
    path: str | Path,
    *,
    read_only: bool = False,
    wait: float = DEFAULT_WAIT_SECONDS,
    notify: Callable[[str], None] | None = None,
    poll: float = 0.5,
) -> duckdb.DuckDBPyConnection:
    """:func:`connect`, waiting up to ``wait`` seconds while another process holds the file.

    ``notify`` is told :data:`BUSY_MESSAGE` once, when the first attempt finds the file locked.
    :class:`DatabaseBusy` when the wait runs out; any other error is raised as it comes.
    """
    deadline = time.monotonic() + max(wait, 0.0)
    told = False
    while True:
        try:
            return connect(path, read_only=read_only)
        except duckdb.IOException as exc:
            if not is_lock_error(exc):
                raise
            if time.monotonic() >= deadline:
                raise DatabaseBusy(
                    f"database busy (used by another process) for {wait:g} s; gave up"
                ) from None
            if notify is not None and not told:
                notify(BUSY_MESSAGE)
                told = True
            time.sleep(poll)


def print_to_stderr(message: str) -> None:
    """Say ``message`` on stderr at once (progress on stdout stays machine-readable)."""
    print(message, file=sys.stderr, flush=True)


def pause_for_test(point: str) -> None:
    """Test hook: stop at a named point of a load so a test can kill or watch the process.

    A no-op unless ``$INDICATORS_TEST_PAUSE_AT`` names ``point``; then it prints
    ``INDICATORS_TEST_PAUSED_AT=<point>`` on stderr and waits for one line on stdin (a test
    writes a newline to go on, or kills the process; a closed stdin goes on at once).
    Points in :func:`indicators.ingest._load`: ``staged``, ``deleted``, ``inserted``,
    ``before_commit``, ``committed``.
    """
    if os.environ.get(PAUSE_ENV) != point:
        return
    print(PAUSE_MARKER + point, file=sys.stderr, flush=True)
    sys.stdin.readline()


def init_db(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table that is missing (idempotent)."""
    for ddl in _META_DDL:
        con.execute(ddl)
    for dataset in DATASETS.values():
        con.execute(table_ddl(dataset))


# --- health ----------------------------------------------------------------------------


def table_names() -> tuple[str, ...]:
    """Every table the store keeps: settings, the upload log and one per dataset."""
    return ("settings", "upload_log", *DATASETS)


@dataclass(frozen=True)
class Health:
    """Whether a database file opens and every table reads whole; rows per table."""

    path: str
    ok: bool
    tables: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report ``python -m indicators check`` prints."""
        head = f"{self.path}: {'ok' if self.ok else 'NOT OK'}"
        rows = [f"  {name}: {count} rows" for name, count in self.tables.items()]
        return [head, *rows, *(f"  problem: {p}" for p in self.problems)]


def check(con: duckdb.DuckDBPyConnection, path: str | Path = "") -> Health:
    """Read every table whole (a hash over all its rows, not just the count's metadata)."""
    tables: dict[str, int] = {}
    problems: list[str] = []
    present = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = 'main'"
        ).fetchall()
    }
    for name in table_names():
        if name not in present:
            problems.append(f"table {name} is missing")
            continue
        try:
            row = con.execute(f'SELECT count(*), bit_xor(hash(t)) FROM "{name}" AS t').fetchone()
        except duckdb.Error as exc:
            problems.append(f"table {name} cannot be read: {str(exc).splitlines()[0]}")
            continue
        tables[name] = int(row[0]) if row else 0
    return Health(str(path), not problems, tables, problems)


def health(path: str | Path, *, wait: float = 0.0) -> Health:
    """Open ``path`` read-only (waiting up to ``wait`` s for another process) and :func:`check` it."""
    path = Path(path)
    if not path.is_file():
        return Health(str(path), False, problems=["no such database file"])
    try:
        con = connect_waiting(path, read_only=True, wait=wait)
    except DatabaseBusy as exc:
        return Health(str(path), False, problems=[str(exc)])
    except duckdb.Error as exc:
        return Health(str(path), False, problems=[f"cannot be opened: {exc}"])
    try:
        return check(con, path)
    finally:
        con.close()


# --- settings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """What the computation takes from the settings table."""

    iceberg_factor: float = DEFAULT_ICEBERG_FACTOR
    time_zone: str = DEFAULT_TIME_ZONE
    promised_minutes: dict[str, float] = field(default_factory=dict)
    """Per-department promise; the ``*`` entry (else 60) applies to every other department."""

    def promise_for(self, department: str) -> float:
        return self.promised_minutes.get(
            department, self.promised_minutes.get(ANY_DEPARTMENT, DEFAULT_PROMISED_MINUTES)
        )


def read_settings(con: duckdb.DuckDBPyConnection) -> Settings:
    rows = con.execute("SELECT key, department, value FROM settings").fetchall()
    iceberg, tz, promises = DEFAULT_ICEBERG_FACTOR, DEFAULT_TIME_ZONE, {}
    for key, department, value in rows:
        if key == "iceberg_factor":
            iceberg = float(value)
        elif key == "time_zone":
            tz = value
        elif key == "promised_minutes":
            promises[department] = float(value)
    return Settings(iceberg_factor=iceberg, time_zone=tz, promised_minutes=promises)


class SettingError(ValueError):
    """A setting value that breaks its rule; nothing was written."""


def write_setting(
    con: duckdb.DuckDBPyConnection, key: str, value: str | float, *, department: str = ANY_DEPARTMENT
) -> None:
    """Validate and store one setting (``iceberg_factor``, ``time_zone``, ``promised_minutes``)."""
    text = str(value).strip()
    if key == "iceberg_factor" or key == "promised_minutes":
        try:
            number = float(text)
        except ValueError:
            raise SettingError(f"{key} must be a number, got {text!r}") from None
        if not number > 0 or number != number or number == float("inf"):
            raise SettingError(f"{key} must be a positive number, got {text!r}")
        if key == "iceberg_factor" and department != ANY_DEPARTMENT:
            raise SettingError("iceberg_factor applies to every department")
    elif key == "time_zone":
        known = con.execute("SELECT 1 FROM pg_timezone_names() WHERE name = ?", [text]).fetchone()
        if known is None:
            raise SettingError(f"unknown time zone {text!r} (use an IANA name such as Europe/Madrid)")
        if department != ANY_DEPARTMENT:
            raise SettingError("time_zone applies to every department")
    else:
        raise SettingError(f"unknown setting {key!r}")
    con.execute(
        "INSERT OR REPLACE INTO settings (key, department, value) VALUES (?, ?, ?)",
        [key, department, text],
    )


def delete_setting(con: duckdb.DuckDBPyConnection, key: str, *, department: str) -> None:
    con.execute("DELETE FROM settings WHERE key = ? AND department = ?", [key, department])


# --- reading back -----------------------------------------------------------------------


def read_upload_log(con: duckdb.DuckDBPyConnection, *, limit: int = 200) -> pd.DataFrame:
    """The newest uploads first."""
    return con.execute(
        """SELECT id, uploaded_at, "user", file_name, dataset, slices, "rows", outcome, message
           FROM upload_log ORDER BY id DESC LIMIT ?""",
        [limit],
    ).df()


# Fixed statements over the datasets with months (table names from the schema only).
_ROW_COUNTS = " UNION ALL ".join(
    f"""SELECT '{name}' AS dataset, strftime("month", '%Y-%m') AS month, department,
               count(*) AS "rows"
        FROM "{name}" GROUP BY ALL"""
    for name in MONTH_DATASETS
) + " ORDER BY dataset, month, department"
_STORED_ROWS = "SELECT coalesce(sum(n), 0) FROM (" + " UNION ALL ".join(
    f'SELECT count(*) AS n FROM "{name}"' for name in MONTH_DATASETS
) + ")"
_DEPARTMENTS = " UNION ".join(
    f'SELECT DISTINCT department FROM "{name}"' for name in MONTH_DATASETS
) + " ORDER BY 1"


def row_counts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Stored rows per dataset, month and department (targets are not sliced by month)."""
    return con.execute(_ROW_COUNTS).df()


def stored_rows(con: duckdb.DuckDBPyConnection) -> int:
    """How many rows the datasets with months hold in all (targets not counted): the sum of
    :func:`row_counts`, from each table's row count alone (no scan)."""
    (total,) = con.execute(_STORED_ROWS).fetchone()
    return int(total)


def read_targets(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Stored targets with months as ``YYYY-MM`` text."""
    return con.execute(
        """SELECT indicator, department,
                  strftime(baseline_month, '%Y-%m') AS baseline_month,
                  strftime(target_month, '%Y-%m') AS target_month,
                  target, baseline, tolerance
           FROM targets ORDER BY indicator, department"""
    ).df()


def departments(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every department that appears in any event or retention dataset, sorted."""
    return [d for (d,) in con.execute(_DEPARTMENTS).fetchall()]
