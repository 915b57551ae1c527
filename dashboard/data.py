"""Cached loaders and the few writes the app makes — the only place with ``st.cache_*``.

No connection lives for the app's lifetime: DuckDB lets one process hold a file for writing, and
the command line (``python -m indicators ingest``) must be able to load while the app runs.  So
every loader opens a short read-only connection, computes, and closes it; results are cached
with ``st.cache_data`` keyed by the database path and a *data version* (the file's and its WAL's
modification time and size), so a load from the command line also refreshes the app.  Writes
open a short read-write connection and then clear the caches.

The public functions take no arguments about the database: they read ``$SERVICE_DB`` (through
:func:`indicators.store.default_db_path`) and the data version each time, then call the cached
functions with those as explicit arguments (a cached function never reads globals).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd
import streamlit as st

from indicators import catalog, store

if TYPE_CHECKING:
    from indicators.ingest import IngestResult

CACHE_TTL_SECONDS = 600
"""A safety net: the data version already changes when the file does."""

Version = tuple[int, int, int, int]


class DatabaseBusy(RuntimeError):
    """Another process holds the database file for writing (e.g. a command-line load)."""


# --- where the data is -----------------------------------------------------------------


def db_path() -> Path:
    """The database the app shows: ``$SERVICE_DB`` or ``data/service.duckdb``."""
    return store.default_db_path()


def data_version(path: Path) -> Version:
    """Modification time (ns) and size of the file and its WAL; all zero if there is no file."""
    parts: list[int] = []
    for p in (path, path.with_name(path.name + ".wal")):
        try:
            st_ = p.stat()
            parts += [st_.st_mtime_ns, st_.st_size]
        except FileNotFoundError:
            parts += [0, 0]
    return parts[0], parts[1], parts[2], parts[3]


def _key() -> tuple[str, Version]:
    path = db_path()
    return str(path), data_version(path)


@contextmanager
def _read(path: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short read-only connection; :class:`DatabaseBusy` while a writer holds the file."""
    try:
        con = store.connect(path, read_only=True)
    except (duckdb.IOException, duckdb.ConnectionException) as exc:
        raise DatabaseBusy(
            f"The database {path} is busy (another program is writing to it). "
            "Try again in a moment."
        ) from exc
    try:
        yield con
    finally:
        con.close()


# --- cached loaders (explicit path + version arguments only) ---------------------------


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=4, show_spinner="Computing indicators…")
def _indicators(path: str, version: Version) -> pd.DataFrame:
    from indicators.compute import indicator_table

    with _read(path) as con:
        return indicator_table(con)


_STORED: dict[str, Callable[[duckdb.DuckDBPyConnection], object]] = {
    "settings": store.read_settings,
    "targets": store.read_targets,
    "row_counts": store.row_counts,
    "upload_log": store.read_upload_log,
}
"""Small reads straight from the store, cached by :func:`_stored` under these names."""


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=16, show_spinner=False)
def _stored(path: str, version: Version, what: str) -> Any:
    with _read(path) as con:
        return _STORED[what](con)


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=4, show_spinner=False)
def _complaint_mix(path: str, version: Version) -> pd.DataFrame:
    from indicators.compute import complaint_mix

    with _read(path) as con:
        return complaint_mix(con)


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=32, show_spinner=False)
def _histogram(
    path: str, version: Version, month: str, department: str
) -> tuple[pd.DataFrame, float]:
    from indicators.compute import promised_minutes, response_time_histogram

    with _read(path) as con:
        hist = response_time_histogram(con, month=month, department=department)
        return hist, promised_minutes(con, month=month, department=department)


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=4, show_spinner=False)
def _route(path: str, version: Version) -> tuple[pd.DataFrame, pd.DataFrame]:
    from indicators.route import route_summary, route_table

    targets = _stored(path, version, "targets")
    table = _indicators(path, version)
    return route_table(targets, table), route_summary(targets, table)


# --- what pages call -------------------------------------------------------------------


@dataclass(frozen=True)
class DataState:
    """Whether there is anything to show, and why not."""

    exists: bool
    rows: int
    error: str | None = None

    @property
    def ready(self) -> bool:
        return self.exists and self.rows > 0 and self.error is None


def state() -> DataState:
    """The database's state: missing file, no rows, busy, or ready."""
    path, version = _key()
    if not Path(path).exists():
        return DataState(exists=False, rows=0)
    try:
        counts = _stored(path, version, "row_counts")
    except DatabaseBusy as exc:
        return DataState(exists=True, rows=0, error=str(exc))
    except duckdb.CatalogException:
        # A DuckDB file made by something else, without our tables yet: nothing to show.
        return DataState(exists=True, rows=0)
    return DataState(exists=True, rows=int(counts["rows"].sum()) if len(counts) else 0)


def indicators() -> pd.DataFrame:
    """The indicator long table (``month``, ``department``, ``indicator``, ``value``)."""
    return _indicators(*_key())


def settings() -> store.Settings:
    return _stored(*_key(), "settings")


def targets() -> pd.DataFrame:
    """Stored targets, months as ``YYYY-MM`` text, ``*`` = all departments."""
    return _stored(*_key(), "targets")


def row_counts() -> pd.DataFrame:
    """Stored rows per dataset, month and department."""
    return _stored(*_key(), "row_counts")


def upload_log() -> pd.DataFrame:
    """The newest uploads first."""
    return _stored(*_key(), "upload_log")


def complaint_mix() -> pd.DataFrame:
    return _complaint_mix(*_key())


def response_histogram(month: str, department: str) -> tuple[pd.DataFrame, float]:
    """Binned response times of the month's answered requests, and the promise to mark."""
    path, version = _key()
    return _histogram(path, version, month, department)


def route() -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(route_table, route_summary)`` for every stored target."""
    return _route(*_key())


def departments() -> list[str]:
    """Departments with data, ``All`` first."""
    table = indicators()
    named = sorted(d for d in table["department"].unique().tolist() if d != catalog.ALL_DEPARTMENTS)
    return [catalog.ALL_DEPARTMENTS, *named]


def months() -> list[str]:
    """Reported months, newest first."""
    return sorted(indicators()["month"].unique().tolist(), reverse=True)


def clear_caches() -> None:
    """Forget every cached result, so all pages read the database afresh."""
    for fn in (_indicators, _stored, _complaint_mix, _histogram, _route):
        fn.clear()


# --- writes ----------------------------------------------------------------------------


@contextmanager
def _write() -> Iterator[duckdb.DuckDBPyConnection]:
    """A short read-write connection; the caches are cleared after it closes."""
    path = db_path()
    try:
        con = store.connect(path)
    except (duckdb.IOException, duckdb.ConnectionException) as exc:
        raise DatabaseBusy(
            f"The database {path} is busy (another program is using it). Try again in a moment."
        ) from exc
    try:
        yield con
    finally:
        con.close()
        clear_caches()


@dataclass(frozen=True)
class Upload:
    """One file the user handed to the upload page."""

    name: str
    data: bytes


def ingest_uploads(
    uploads: Sequence[Upload],
    *,
    encoding: str,
    date_format: str,
    user: str | None = None,
    progress: Callable[[int, str], None] | None = None,
) -> list[IngestResult]:
    """Validate and load each file in turn; one :class:`indicators.ingest.IngestResult` each.

    Each file is written to a private temporary folder (its bytes only; the browser-supplied
    name is passed as ``file_name`` for the report and the log, never used as a path) and
    handed to ``ingest_file``, which loads an accepted file in its own transaction and rejects
    a bad one whole.
    """
    from indicators.ingest import ingest_file

    results: list[IngestResult] = []
    with tempfile.TemporaryDirectory(prefix="upload-") as tmp, _write() as con:
        for i, upload in enumerate(uploads):
            if progress is not None:
                progress(i, upload.name)
            target = Path(tmp) / f"upload-{i}{Path(upload.name).suffix.lower()[:8]}"
            target.write_bytes(upload.data)
            results.append(
                ingest_file(
                    con, target, encoding=encoding, date_format=date_format,
                    user=user, file_name=upload.name,
                )
            )
        if progress is not None:
            progress(len(uploads), "")
    return results


def save_targets(frame: pd.DataFrame, *, user: str | None = None) -> IngestResult:
    """Replace every stored target by ``frame`` (validated whole; nothing changes if rejected)."""
    from indicators.ingest import ingest_frame

    with _write() as con:
        return ingest_frame(con, frame, file_name="targets editor", user=user, replace_all=True)


def save_setting(key: str, value: str | float, *, department: str = store.ANY_DEPARTMENT) -> None:
    """Validate and store one setting; :class:`indicators.store.SettingError` if refused."""
    with _write() as con:
        store.write_setting(con, key, value, department=department)


def time_zones() -> list[str]:
    """IANA time zone names DuckDB knows (for the settings page)."""
    return _time_zones()


@st.cache_data(ttl=24 * 3600, max_entries=1, show_spinner=False)
def _time_zones() -> list[str]:
    con = duckdb.connect()
    try:
        rows = con.execute(
            "SELECT name FROM pg_timezone_names() WHERE name LIKE '%/%' OR name = 'UTC' ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]
