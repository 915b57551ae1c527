"""Cached loaders and the few writes the app makes — the only place with ``st.cache_*``.

No connection lives for the app's lifetime: DuckDB lets one process hold a file for writing, and
while it does no other process can open the file at all; the command line (``python -m
indicators ingest``) must be able to load while the app runs.  So connections are short: a page
run shares one, opened by its first read that misses the cache and closed when the page is drawn
(:func:`reading`, around every page in ``app.py``); outside such a block every loader opens its
own, computes, and closes it.  Results are cached with ``st.cache_data`` keyed by the
database path and a *data version* (the file's and its WAL's modification time and size), so a
load from the command line also refreshes the app.  Writes open the same kind of connection,
one at a time (:data:`_WRITES`), and then clear the caches.

**One configuration for every connection** (:func:`_connect`).  Within one process DuckDB
refuses a second connection to a file with different options (read-only next to read-write,
another memory limit …), so reads and writes open the file identically: read-write, with the
store's memory limit and spill folder, and *sandboxed* — DuckDB may touch no file outside the
database's folder (which holds the upload folder, :func:`upload_root`), and the configuration is
locked.  Connections of concurrent sessions therefore share one DuckDB instance: a reader sees
the last committed state, never half an upload.

**Busy is not an error.**  While another process holds the file, every read raises
:class:`DatabaseBusy` ("a load is in progress — figures refresh when it ends"), which the pages
show instead of a traceback, and a write is refused with "try again" and changes nothing.

The public functions take no arguments about the database or the user: they read
``$SERVICE_DB`` (through :func:`indicators.store.default_db_path`), the data version and the
signed-in user's department scope (:func:`dashboard.auth.current`) each time, then call the
cached functions with those as explicit arguments (a cached function never reads globals).

**Scoping is done here, where data is read.**  Every cached loader takes the scope as an
argument, so it is part of the cache key, and keeps only the rows of the departments in scope
plus *All* (the organisation-wide figure a team lead compares with).  A team lead therefore never
receives another department's rows, whatever page or URL asked and however warm the cache is.
The one exception is :func:`_indicator_computation`, the expensive all-department computation
(*All* is computed from every row, so it cannot be computed per scope); it is private and only
ever read through the scoped :func:`_indicators`.  Writes check the role here too
(:func:`dashboard.auth.require_editor`), whatever the pages draw.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import duckdb
import pandas as pd
import streamlit as st

from dashboard import auth
from dashboard.format import md_text
from dashboard.scorecard import TREND_MONTHS
from indicators import catalog, store, undo
from indicators.units import Currency

if TYPE_CHECKING:
    from indicators.ingest import IngestResult

CACHE_TTL_SECONDS = 600
"""A safety net: the data version already changes when the file does."""

Version = tuple[int, int, int, int]


_LOG = logging.getLogger(__name__)

LOAD_IN_PROGRESS = "A data load is in progress — figures refresh when it ends."
WRITE_REFUSED = (
    "A data load is in progress in another program, so nothing was changed. "
    "Try again when it ends."
)
WRITE_WAIT_SECONDS = 120.0
"""How long a write waits for another write of this app (another session's upload)."""


class DatabaseUnavailable(RuntimeError):
    """The database cannot be used right now; the message is for the user."""


class DatabaseBusy(DatabaseUnavailable):
    """Another process holds the database file (e.g. a command-line load)."""


class DatabaseUnreadable(DatabaseUnavailable):
    """The file is not a database this app can open (the server log has the details)."""


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


def upload_root(path: str | Path) -> Path:
    """Where the app keeps uploaded files (and ingest's scratch copies) until they are loaded."""
    return Path(path).absolute().parent / "uploads"


def _connect(path: str | Path, *, busy: str) -> duckdb.DuckDBPyConnection:
    """The app's only way to open the database: one configuration for every connection.

    :class:`DatabaseBusy` (with the ``busy`` message) while another process holds the file;
    :class:`DatabaseUnreadable` when the file is not a database.
    """
    try:
        return store.connect(path, sandbox=[upload_root(path)])
    except store.NotADatabase as exc:
        _LOG.error("%s: %s", store.DB_ENV, exc)
        raise DatabaseUnreadable(
            f"The database is set by {store.DB_ENV}: {md_text(store.printable(exc.path))} "
            f"{md_text(exc.problem)}. Set {store.DB_ENV} to a DuckDB database file "
            "(e.g. data/service.duckdb); `python -m indicators check` tells what is wrong with it."
        ) from None
    except duckdb.IOException as exc:
        if store.is_lock_error(exc):
            raise DatabaseBusy(busy) from exc
        _LOG.exception("Cannot open the database %s", path)
        raise DatabaseUnreadable(
            "The database file cannot be read. An administrator can run "
            "`python -m indicators check` on it; the server log has the details."
        ) from exc
    except duckdb.ConnectionException as exc:
        # Something else in this process holds the file with other options (never the app
        # itself, whose connections are all alike): wait for it like for another process.
        raise DatabaseBusy(busy) from exc


def _open(path: str | Path, *, busy: str) -> duckdb.DuckDBPyConnection:
    """A new connection (:func:`_connect`), unless another process waits for the file.

    While :func:`indicators.store.writer_waiting` sees a live waiter (a command-line load),
    :class:`DatabaseBusy` with ``busy`` and nothing opened: the connections in flight finish
    their pages and close, and the waiting process gets the file (fair access).
    """
    if store.writer_waiting(path) is not None:
        raise DatabaseBusy(busy)
    return _connect(path, busy=busy)


_RUN = threading.local()
"""The read connections held for the current script run of this thread (see :func:`reading`)."""


@contextmanager
def reading() -> Iterator[None]:
    """Share one read connection among the reads of a block: one page run, in ``app.py``.

    A cold page misses several caches (row counts, filters, targets, settings, the indicators);
    each would otherwise open the file, start a DuckDB instance and fill its buffers again
    (~20 ms each, and the columns the filters read are read again by the indicators).  Inside
    the block the first read opens the connection and the later ones reuse it; it is closed
    when the block ends, so the file is held only while the page is drawn, and a command-line
    load waits for that (``--wait``), as it waits for any read.  A run whose every loader is
    cached opens nothing.  Nested blocks share the outer one's connection.
    """
    if getattr(_RUN, "held", None) is not None:
        yield
        return
    held: dict[str, duckdb.DuckDBPyConnection] = {}
    _RUN.held = held
    try:
        yield
    finally:
        _RUN.held = None
        for con in held.values():
            con.close()


@contextmanager
def _read(path: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection for a read; :class:`DatabaseBusy` while another process holds the file.

    Inside :func:`reading`, the block's shared connection (opened by the first read); else a
    short connection of its own, closed after the read.
    """
    held: dict[str, duckdb.DuckDBPyConnection] | None = getattr(_RUN, "held", None)
    if held is not None:
        if path not in held:
            held[path] = _open(path, busy=LOAD_IN_PROGRESS)
        yield held[path]
        return
    con = _open(path, busy=LOAD_IN_PROGRESS)
    try:
        yield con
    finally:
        con.close()


def available() -> bool:
    """Whether the database can be opened now (no other process holds it)."""
    try:
        _open(db_path(), busy=LOAD_IN_PROGRESS).close()
    except DatabaseUnavailable:
        return False
    return True


# --- cached loaders (explicit path + version arguments only) ---------------------------


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


def _settings_in_scope(settings: store.Settings, scope: auth.Scope) -> store.Settings:
    if scope is None:
        return settings
    allowed = {*scope, store.ANY_DEPARTMENT}
    return dataclasses.replace(
        settings,
        promised_minutes={d: v for d, v in settings.promised_minutes.items() if d in allowed},
        expected_datasets={d: v for d, v in settings.expected_datasets.items() if d in allowed},
    )


def _log_in_scope(log: pd.DataFrame, scope: auth.Scope) -> pd.DataFrame:
    # Log rows name the slices (departments) each upload replaced; only analysts (unscoped)
    # read the log, so a scoped caller gets its columns and no rows.
    return log if scope is None else log.iloc[0:0]


# --- cached loaders (explicit path + version + scope arguments only) --------------------


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=4, show_spinner="Computing indicators…")
def _indicator_computation(path: str, version: Version) -> pd.DataFrame:
    """Every department's indicators. Private: read only through the scoped :func:`_indicators`."""
    from indicators.compute import indicator_table

    with _read(path) as con:
        return indicator_table(con)


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=32, show_spinner=False)
def _indicators(path: str, version: Version, scope: auth.Scope) -> pd.DataFrame:
    return in_scope(_indicator_computation(path, version), scope)


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=8, show_spinner=False)
def _grid(path: str, version: Version, scope: auth.Scope) -> tuple[list[str], list[str]]:
    """Reported months (newest first) and departments (``All`` first), in scope.

    The same months and departments as the indicator table's, read without computing it (the
    bounds of each dataset and its distinct departments), so the filters cost milliseconds.
    """
    from indicators.facts import month_grid

    with _read(path) as con:
        months, named = month_grid(con)
    if scope is not None:
        named = [d for d in named if d in scope]
    return sorted(months, reverse=True), [catalog.ALL_DEPARTMENTS, *named]


class Overview(NamedTuple):
    """What the scorecard of one department and month reads (:func:`overview`)."""

    table: pd.DataFrame
    """The indicator long table of the department, for the months the scorecard shows."""
    route: pd.DataFrame
    """The route table of the department's targets (:func:`indicators.route.route_table`)."""
    summary: pd.DataFrame
    """Their route summary (:func:`indicators.route.route_summary`)."""


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=64, show_spinner="Computing the scorecard…")
def _overview(
    path: str, version: Version, scope: auth.Scope, department: str, month: str
) -> Overview:
    """What the scorecard of one department and month reads (:class:`Overview`).

    Computed for that department and the months the scorecard shows only (the 12 months to
    ``month``, and the baseline months of the department's targets): a first look at the
    overview does not wait for every department and month (:func:`_indicator_computation`).
    The values are those of the full table; the route rows cover the months up to ``month``.
    How the department compares with the others is a read of its own (:func:`_compare`).
    """
    from indicators.compute import indicator_table
    from indicators.facts import shift_month
    from indicators.route import route_summary, route_table

    _check_department(department, scope)
    targets = _stored(path, version, "targets", scope)
    mine = targets[targets["department"].isin(_target_departments(department))]
    first = min([shift_month(month, -(TREND_MONTHS - 1)),
                 *[m for m in mine["baseline_month"].astype("str") if m <= month]])
    with _read(path) as con:
        table = indicator_table(con, months=(first, month), departments=[department])
    return Overview(table, route_table(mine, table), route_summary(mine, table))


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=64, show_spinner=False)
def _compare(
    path: str, version: Version, scope: auth.Scope, department: str, month: str
) -> pd.DataFrame:
    """The department's rank and All's value in ``month`` (:func:`scorecard.compare_frame`);
    empty for All, the figure the departments compare with.

    Ranking needs every department's values in the month (:func:`_month_values`, computed
    once per month for every department and scope); the result keeps the department's rank
    and the count alone, so a team lead's holds nothing of another department.  Departments
    are ranked by what they have loaded (an indicator whose dataset a department has not loaded
    in the month is no value; All's too) and their volume against ``min_volume``.

    A read of its own, not part of :func:`_overview`: every department's month costs more than
    the department's own twelve (new customers need every customer's first purchase in every
    department), so the scorecard draws its cards first and adds the compare lines after.
    """
    from dashboard.scorecard import COMPARE_COLUMNS, compare_frame, month_rows

    _check_department(department, scope)
    if department == catalog.ALL_DEPARTMENTS:
        return pd.DataFrame(columns=list(COMPARE_COLUMNS))
    values = _month_values(path, version, month)
    status = _month_status(path, version)
    at = status[status["month"] == month]
    # as completeness.missing_in, for every department at once
    not_loaded = {str(d): frozenset(m) for d, m in zip(at["department"], at["missing"], strict=True)}
    return compare_frame(
        values, department, rows=month_rows(_stored(path, version, "row_counts", None), month),
        min_volume=_stored(path, version, "settings", None).min_volume, not_loaded=not_loaded,
    )


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=8, show_spinner=False)
def _month_values(path: str, version: Version, month: str) -> pd.DataFrame:
    """Every department's and All's indicators in one month. Private: read only through
    :func:`_overview`, which keeps the department's rank and count alone."""
    from indicators.compute import indicator_table

    with _read(path) as con:
        return indicator_table(con, months=(month, month))


def _target_departments(department: str) -> tuple[str, ...]:
    """Target rows that apply to ``department`` in the stored form (``*`` is All's)."""
    if department == catalog.ALL_DEPARTMENTS:
        return (store.ANY_DEPARTMENT, catalog.ALL_DEPARTMENTS)
    return (department,)


def _check_department(department: str, scope: auth.Scope) -> None:
    if scope is not None and department not in (*scope, catalog.ALL_DEPARTMENTS):
        raise auth.Forbidden(f"Department {department!r} is outside your view.")


_Read = Callable[[duckdb.DuckDBPyConnection], Any]
_Keep = Callable[[Any, auth.Scope], Any]
_STORED: dict[str, tuple[_Read, _Keep]] = {
    "settings": (store.read_settings, _settings_in_scope),
    "targets": (store.read_targets, lambda t, s: in_scope(t, s, also=(store.ANY_DEPARTMENT,))),
    "row_counts": (store.row_counts, in_scope),
    "upload_log": (store.read_upload_log, _log_in_scope),
    "undoable": (undo.undoable, _log_in_scope),
}
"""Small reads straight from the store and how each is scoped, cached by :func:`_stored`."""


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=64, show_spinner=False)
def _stored(path: str, version: Version, what: str, scope: auth.Scope) -> Any:
    read, keep = _STORED[what]
    with _read(path) as con:
        return keep(read(con), scope)


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=4, show_spinner=False)
def _total_rows(path: str, version: Version) -> int:
    """Stored rows in every dataset: whether there is anything to show (a count, no rows)."""
    with _read(path) as con:
        return store.stored_rows(con)


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=16, show_spinner=False)
def _complaint_mix(path: str, version: Version, scope: auth.Scope) -> pd.DataFrame:
    from indicators.compute import complaint_mix

    with _read(path) as con:
        return in_scope(complaint_mix(con), scope)


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=32, show_spinner=False)
def _histogram(
    path: str, version: Version, month: str, department: str, scope: auth.Scope
) -> pd.DataFrame:
    from indicators.compute import response_times_by_promise

    _check_department(department, scope)
    with _read(path) as con:
        # Every department's promise settings judge the requests of All, as in the facts.
        return response_times_by_promise(con, month=month, department=department)


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=64, show_spinner=False)
def _promise(
    path: str, version: Version, month: str, department: str, scope: auth.Scope
) -> pd.DataFrame:
    from indicators.compute import promise_summary

    _check_department(department, scope)
    with _read(path) as con:
        return promise_summary(con, month=month, department=department)


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=16, show_spinner=False)
def _route(path: str, version: Version, scope: auth.Scope) -> tuple[pd.DataFrame, pd.DataFrame]:
    from indicators.route import route_summary, route_table

    # Scoped inputs give a scoped route: "*" targets are All's, the others are in scope.
    targets = _stored(path, version, "targets", scope)
    table = _indicators(path, version, scope)
    return route_table(targets, table), route_summary(targets, table)


# --- what pages call -------------------------------------------------------------------


@dataclass(frozen=True)
class DataState:
    """Whether there is anything to show, and why not."""

    exists: bool
    rows: int
    error: str | None = None
    busy: bool = False
    """The error is a load in progress elsewhere: it ends by itself."""

    @property
    def ready(self) -> bool:
        return self.exists and self.rows > 0 and self.error is None


def state() -> DataState:
    """The database's state: missing file, no rows, busy, or ready."""
    path, version = _key()
    if not Path(path).exists():
        return DataState(exists=False, rows=0)
    try:
        rows = _total_rows(path, version)
    except DatabaseUnavailable as exc:
        return DataState(exists=True, rows=0, error=str(exc), busy=isinstance(exc, DatabaseBusy))
    except duckdb.CatalogException:
        # A DuckDB file made by something else, without our tables yet: nothing to show.
        return DataState(exists=True, rows=0)
    return DataState(exists=True, rows=rows)


def _scope() -> auth.Scope:
    return auth.current().scope


def indicators() -> pd.DataFrame:
    """The indicator long table (``month``, ``department``, ``indicator``, ``value``), in scope."""
    return _indicators(*_key(), _scope())


def settings() -> store.Settings:
    """Settings; a team lead's per-department promises are only theirs and the default."""
    return _stored(*_key(), "settings", _scope())


def targets() -> pd.DataFrame:
    """Stored targets in scope, months as ``YYYY-MM`` text, ``*`` = all departments."""
    return _stored(*_key(), "targets", _scope())


def row_counts() -> pd.DataFrame:
    """Stored rows per dataset, month and department, in scope."""
    return _stored(*_key(), "row_counts", _scope())


def upload_log() -> pd.DataFrame:
    """The newest uploads first (analysts only: the log names every department's slices)."""
    return _stored(*_key(), "upload_log", auth.require_editor().scope)


def undoable_uploads() -> pd.DataFrame:
    """The accepted uploads that can be undone now, newest first (analysts only;
    :func:`indicators.undo.undoable`)."""
    return _stored(*_key(), "undoable", auth.require_editor().scope)


def complaint_mix() -> pd.DataFrame:
    """Complaints by component, month and department, in scope."""
    return _complaint_mix(*_key(), _scope())


def response_histogram(month: str, department: str) -> pd.DataFrame:
    """Binned response times of the month's answered requests, each bin split into the
    requests that kept their own promise and those that did not
    (:func:`indicators.compute.response_times_by_promise`).

    :class:`dashboard.auth.Forbidden` for a department outside the user's view.
    """
    path, version = _key()
    return _histogram(path, version, month, department, _scope())


def promise_summary(month: str, department: str) -> dict[str, Any] | None:
    """The month's promise for ``department`` (All: every request): requests, kept, the median
    promise and whether promises vary (:func:`indicators.compute.promise_summary`); ``None``
    when the month has no requests.

    :class:`dashboard.auth.Forbidden` for a department outside the user's view.
    """
    path, version = _key()
    rows = _promise(path, version, month, department, _scope())
    return None if rows.empty else rows.iloc[0].to_dict()


def currency() -> Currency:
    """The currency money is written in (the settings'; none while there is nothing to read)."""
    if not state().ready:
        return Currency()
    chosen = settings()
    return Currency(symbol=chosen.currency_symbol, code=chosen.currency_code)


def route() -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(route_table, route_summary)`` for every stored target in scope."""
    return _route(*_key(), _scope())


def overview(department: str, month: str) -> Overview:
    """``(table, route, summary)`` for the scorecard of one department and month, computed for
    it alone (see :func:`_overview` and :class:`Overview`).

    :class:`dashboard.auth.Forbidden` for a department outside the user's view.
    """
    path, version = _key()
    return _overview(path, version, _scope(), department, month)


def compare(department: str, month: str) -> pd.DataFrame:
    """All's value and ``department``'s rank among the departments in ``month``, per indicator
    (:data:`dashboard.scorecard.COMPARE_COLUMNS`; empty for All).  A team lead gets the rank
    among every department as a number, and nothing of the others (see :func:`_compare`).

    :class:`dashboard.auth.Forbidden` for a department outside the user's view.
    """
    path, version = _key()
    return _compare(path, version, _scope(), department, month)


def departments() -> list[str]:
    """Departments with data in the user's view, ``All`` first."""
    return _grid(*_key(), _scope())[1]


def months() -> list[str]:
    """Reported months, newest first."""
    return _grid(*_key(), _scope())[0]


def clear_caches() -> None:
    """Forget every cached result, so all pages read the database afresh."""
    for fn in (
        _indicator_computation, _indicators, _stored, _total_rows, _complaint_mix, _histogram,
        _promise,
        _route, _health, _grid, _overview, _compare, _month_values, _month_status, _completeness, _freshness,
    ):
        fn.clear()


# --- writes ----------------------------------------------------------------------------


_WRITES = threading.Lock()
"""One write of this app at a time: two sessions' uploads land one after the other (DuckDB would
refuse the second of two transactions that replace the same rows at once)."""


@contextmanager
def _write() -> Iterator[duckdb.DuckDBPyConnection]:
    """A short connection for a write, after any other write of this app; caches cleared after.

    :class:`DatabaseBusy` ("try again", nothing changed) while another process holds the file,
    or when another session's write has not ended within :data:`WRITE_WAIT_SECONDS`.
    """
    if not _WRITES.acquire(timeout=WRITE_WAIT_SECONDS):
        raise DatabaseBusy(
            "Another upload or save is still running, so nothing was changed. "
            "Try again when it ends."
        )
    try:
        con = _open(db_path(), busy=WRITE_REFUSED)
        try:
            yield con
        finally:
            con.close()
            clear_caches()
    finally:
        _WRITES.release()


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
    progress: Callable[[int, str], None] | None = None,
) -> list[IngestResult]:
    """Validate and load each file in turn; one :class:`indicators.ingest.IngestResult` each.

    Analysts only (:class:`dashboard.auth.Forbidden` otherwise); the upload log records the
    signed-in user's email, or ``local`` when sign-in is off.

    Each file is written to a private scratch folder under :func:`upload_root` (its bytes
    only; the browser-supplied name is passed as ``file_name`` for the report and the log, never
    used as a path) and checked, a workbook converted to CSV, before the database is opened;
    then each is handed to ``ingest_file``, which loads an accepted file in its own transaction
    and rejects a bad one whole.  The folder goes when the block ends (a killed server's, at the
    next upload: :func:`indicators.ingest.scratch_folder`); every copy stays inside the folder
    the app's connections may read.
    """
    user = auth.require_editor().user
    try:
        return _ingest_uploads(uploads, encoding, date_format, progress, user)
    except (OSError, duckdb.Error) as exc:
        if not store.is_disk_full(exc):
            raise
        what = "the file in progress was not loaded (earlier files of this upload are in the log)"
        raise DatabaseUnavailable(md_text(store.disk_full_message(db_path(), what=what))) from None


def _ingest_uploads(
    uploads: Sequence[Upload],
    encoding: str,
    date_format: str,
    progress: Callable[[int, str], None] | None,
    user: str,
) -> list[IngestResult]:
    from indicators.ingest import ingest_file, prepare_file, scratch_folder

    results: list[IngestResult] = []
    with scratch_folder(upload_root(db_path())) as tmp:
        prepared = []
        for i, upload in enumerate(uploads):
            if progress is not None:
                progress(i, upload.name)
            target = tmp / f"upload-{i}{Path(upload.name).suffix.lower()[:8]}"
            target.write_bytes(upload.data)
            prepared.append(prepare_file(target, scratch=tmp, file_name=upload.name))
        with _write() as con:
            for i, ready in enumerate(prepared):
                if progress is not None:
                    progress(i, ready.name)
                results.append(
                    ingest_file(
                        con, ready, encoding=encoding, date_format=date_format, user=user,
                        scratch=tmp,
                    )
                )
        if progress is not None:
            progress(len(uploads), "")
    return results


def save_targets(frame: pd.DataFrame) -> IngestResult:
    """Replace every stored target by ``frame`` (validated whole; nothing changes if rejected).

    Analysts only; the upload log records who saved.
    """
    from indicators.ingest import ingest_frame

    user = auth.require_editor().user
    with _write() as con:
        return ingest_frame(con, frame, file_name="targets editor", user=user, replace_all=True)


def undo_upload(load_id: int) -> undo.UndoResult:
    """Undo accepted upload ``load_id``: its replaced rows back, in one transaction, logged.

    Analysts only (:class:`dashboard.auth.Forbidden` otherwise); the log records who undid.
    :class:`indicators.undo.UndoRefused` (nothing changed) names the upload and why not.
    """
    user = auth.require_editor().user
    try:
        with _write() as con:
            return undo.undo_load(con, load_id, user=user)
    except (OSError, duckdb.Error) as exc:
        if not store.is_disk_full(exc):
            raise
        raise DatabaseUnavailable(
            md_text(store.disk_full_message(db_path(), what="nothing was undone"))
        ) from None


def save_setting(
    key: str, value: str | float, *, department: str = store.ANY_DEPARTMENT
) -> str | None:
    """Validate and store one setting; :class:`indicators.store.SettingError` if refused.

    Returns what else the write did, in words (a new time zone: months recomputed, undo history
    cleared), or None.  Analysts only (:class:`dashboard.auth.Forbidden` otherwise).
    """
    auth.require_editor()
    with _write() as con:
        return store.write_setting(con, key, value, department=department)


def save_settings(values: Mapping[str, str | float]) -> None:
    """Validate and store several organisation-wide settings in one transaction: all or none.

    :class:`indicators.store.SettingError` (nothing stored) names the first refused value.
    Analysts only (:class:`dashboard.auth.Forbidden` otherwise).
    """
    auth.require_editor()
    with _write() as con:
        con.begin()
        try:
            for key, value in values.items():
                store.write_setting(con, key, value)
        except BaseException:
            con.rollback()
            raise
        con.commit()


def database_health() -> store.Health:
    """The database's health (:func:`indicators.store.check`): every table read whole, rows each.

    :class:`DatabaseUnavailable` while it cannot be opened.
    """
    return _health(*_key())


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=4, show_spinner=False)
def _health(path: str, version: Version) -> store.Health:
    with _read(path) as con:
        return store.check(con, path)


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


# --- complete months and data freshness ---------------------------------------------------

OTHER_DEPARTMENTS = "other departments"
"""What a team lead reads where All's incomplete departments lie outside their view."""


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=4, show_spinner=False)
def _month_status(path: str, version: Version) -> pd.DataFrame:
    """Every department's complete months. Private: read only through :func:`_completeness`
    (and by :func:`_compare`, which keeps only the rank and count of the chosen department).

    From the same cached row counts and settings as the other loaders: the row counts are one
    pass over every dataset, read once per data version.
    """
    from indicators.completeness import month_status, read_marked

    settings: store.Settings = _stored(path, version, "settings", None)
    counts: pd.DataFrame = _stored(path, version, "row_counts", None)
    with _read(path) as con:
        marked = read_marked(con)
    return month_status(counts, expected=settings.expected_datasets, marked=marked,
                        min_volume=settings.min_volume)


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


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=32, show_spinner=False)
def _completeness(path: str, version: Version, scope: auth.Scope) -> pd.DataFrame:
    return status_in_scope(_month_status(path, version), scope)


# Accepted loads and undos change a dataset's rows; rejected files change nothing.
_FRESHNESS = """
    SELECT dataset, max(uploaded_at) AS last_loaded
    FROM upload_log
    WHERE outcome IN ('accepted', 'undo') AND dataset IS NOT NULL
    GROUP BY dataset"""


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=4, show_spinner=False)
def _freshness(path: str, version: Version) -> pd.DataFrame:
    """The last accepted load per dataset: dataset names and times only, for every role."""
    from indicators.schema import DATASET_NAMES

    with _read(path) as con:
        last = con.execute(_FRESHNESS).df()
    order = {name: i for i, name in enumerate(DATASET_NAMES)}
    last = last[last["dataset"].isin(order)]
    last = last.assign(_order=last["dataset"].map(order)).sort_values("_order")
    return last.drop(columns=["_order"]).reset_index(drop=True)


def completeness() -> pd.DataFrame:
    """Per month and department in scope (and All): ``complete``, the ``missing`` datasets,
    ``marked`` by hand, and All's ``incomplete_departments`` (see
    :mod:`indicators.completeness`); outside a team lead's view only "other departments"."""
    return _completeness(*_key(), _scope())


def not_loaded(department: str, month: str) -> frozenset[str]:
    """The datasets ``department`` (or All) lacks in ``month``; empty when complete or marked.

    :class:`dashboard.auth.Forbidden` for a department outside the user's view.
    """
    from indicators.completeness import missing_in

    scope = _scope()
    _check_department(department, scope)
    return missing_in(_completeness(*_key(), scope), month, department)


def latest_complete_month(department: str) -> str | None:
    """The newest month complete for ``department`` (or All), None when no month is."""
    from indicators.completeness import latest_complete

    scope = _scope()
    _check_department(department, scope)
    return latest_complete(_completeness(*_key(), scope), department)


def freshness() -> pd.DataFrame:
    """``dataset``, ``last_loaded`` (UTC): the last accepted load of each dataset, in the
    datasets' order; no department names, so every role may read it."""
    return _freshness(*_key())


def mark_month_complete(month: str, department: str, complete: bool) -> None:
    """Mark ``month`` complete by hand for ``department`` (``*`` or All: every department), or
    remove the mark; :class:`indicators.completeness.MarkError` (nothing written) for an
    unknown month or department.  Analysts only (:class:`dashboard.auth.Forbidden` otherwise).
    """
    from indicators.completeness import mark_complete

    user = auth.require_editor().user
    with _write() as con:
        mark_complete(con, month, department, complete=complete, user=user)


def clear_expected_datasets(department: str) -> None:
    """Remove ``department``'s ``expected_datasets`` setting (``*``: the default), so the
    datasets it delivered before (or the default) are expected again.  Analysts only."""
    auth.require_editor()
    with _write() as con:
        store.delete_setting(con, "expected_datasets", department=department)
