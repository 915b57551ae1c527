"""The DuckDB store: where the database lives, its tables, settings and the upload log.

Loading files is :mod:`indicators.ingest`; monthly facts are :mod:`indicators.facts`.
Nothing here runs at import time: a connection is opened only by :func:`connect`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from indicators.schema import DATASETS, table_ddl

DEFAULT_DB = Path("data") / "service.duckdb"
DB_ENV = "SERVICE_DB"

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


def connect(path: str | Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the database file, creating it and its tables when opened for writing."""
    path = Path(path)
    if read_only:
        return duckdb.connect(str(path), read_only=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    init_db(con)
    return con


def init_db(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table that is missing (idempotent)."""
    for ddl in _META_DDL:
        con.execute(ddl)
    for dataset in DATASETS.values():
        con.execute(table_ddl(dataset))


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


def row_counts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Stored rows per dataset, month and department (targets are not sliced by month)."""
    parts = [
        f"""SELECT '{name}' AS dataset, strftime("month", '%Y-%m') AS month, department,
                   count(*) AS "rows"
            FROM "{name}" GROUP BY ALL"""
        for name, d in DATASETS.items()
        if d.month_column is not None
    ]
    sql = " UNION ALL ".join(parts) + " ORDER BY dataset, month, department"
    return con.execute(sql).df()


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
    parts = [
        f'SELECT DISTINCT department FROM "{name}"'
        for name, d in DATASETS.items()
        if d.month_column is not None
    ]
    rows = con.execute(" UNION ".join(parts) + " ORDER BY 1").fetchall()
    return [r[0] for r in rows]
