"""How the app opens and closes the database: one configuration, short connections, busy is
not an error.

No connection lives for the app's lifetime: DuckDB lets one process hold a file for writing, and
while it does no other process can open the file at all; the command line (``python -m
indicators ingest``) must be able to load while the app runs.  So connections are short: a page
run shares one, opened by its first read that misses a cache and closed when the page is drawn
(:func:`reading`, around every page in ``app.py``); outside such a block every read opens its
own connection and closes it (:func:`read`).  Writes open the same kind of connection, one at
a time (:data:`_WRITES`), and clear the caches after (:func:`write`).  Cached results are keyed
by the database path and its *data version* (:func:`data_version`: the file's and its WAL's
modification time and size), so a load from the command line also refreshes the app.

**One configuration for every connection** (:func:`connect`).  Within one process DuckDB
refuses a second connection to a file with different options (read-only next to read-write,
another memory limit …), so reads and writes open the file identically: read-write, with the
store's memory limit and spill folder, and *sandboxed* — DuckDB may touch no file outside the
database's folder for uploads (:func:`upload_root`), and the configuration is locked.
Connections of concurrent sessions therefore share one DuckDB instance: a reader sees the last
committed state, never half an upload.

**Busy is not an error.**  While another process holds the file, every read raises
:class:`DatabaseBusy` ("a load is in progress — figures refresh when it ends"), which the pages
show instead of a traceback, and a write is refused with "try again" and changes nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from dashboard.cache import clear_caches
from dashboard.format import md_text
from indicators import store

Version = tuple[int, int, int, int]
"""A data version: modification time (ns) and size of the file and of its WAL."""

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


def key() -> tuple[str, Version]:
    """``(path, data version)`` of the app's database now: the first arguments of a loader."""
    path = db_path()
    return str(path), data_version(path)


def upload_root(path: str | Path) -> Path:
    """Where the app keeps uploaded files (and ingest's scratch copies) until they are loaded:
    ``uploads`` next to the database, the only folder its sandboxed connections may read (the
    same folder as :func:`indicators.ingest.scratch.scratch_root`)."""
    from indicators.ingest.scratch import scratch_root

    return scratch_root(path)


# --- opening ---------------------------------------------------------------------------


def connect(path: str | Path, *, busy: str) -> duckdb.DuckDBPyConnection:
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


def open_connection(path: str | Path, *, busy: str) -> duckdb.DuckDBPyConnection:
    """A new connection (:func:`connect`), unless another process waits for the file.

    While :func:`indicators.store.writer_waiting` sees a live waiter (a command-line load),
    :class:`DatabaseBusy` with ``busy`` and nothing opened: the connections in flight finish
    their pages and close, and the waiting process gets the file (fair access).
    """
    if store.writer_waiting(path) is not None:
        raise DatabaseBusy(busy)
    return connect(path, busy=busy)


def available() -> bool:
    """Whether the database can be opened now (no other process holds it)."""
    try:
        open_connection(db_path(), busy=LOAD_IN_PROGRESS).close()
    except DatabaseUnavailable:
        return False
    return True


# --- reading ---------------------------------------------------------------------------


_RUN = threading.local()
"""The read connections held for the current script run of this thread (see :func:`reading`)."""


@contextmanager
def reading() -> Iterator[None]:
    """Share one read connection among the reads of a block: one page run, in ``app.py``.

    A cold page misses several caches (row counts, filters, targets, settings, the indicators);
    each would otherwise open the file, start a DuckDB instance and fill its buffers again
    (~20 ms each).  Inside the block the first read opens the connection and the later ones
    reuse it; it is closed when the block ends, so the file is held only while the page is
    drawn, and a command-line load waits for that (``--wait``), as it waits for any read.  A run
    whose every loader is cached opens nothing.  Nested blocks share the outer one's connection.
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
def read(path: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection for a read; :class:`DatabaseBusy` while another process holds the file.

    Inside :func:`reading`, the block's shared connection (opened by the first read); else a
    short connection of its own, closed after the read.
    """
    held: dict[str, duckdb.DuckDBPyConnection] | None = getattr(_RUN, "held", None)
    if held is not None:
        if path not in held:
            held[path] = open_connection(path, busy=LOAD_IN_PROGRESS)
        yield held[path]
        return
    con = open_connection(path, busy=LOAD_IN_PROGRESS)
    try:
        yield con
    finally:
        con.close()


# --- writing ---------------------------------------------------------------------------


_WRITES = threading.Lock()
"""One write of this app at a time: two sessions' uploads land one after the other (DuckDB would
refuse the second of two transactions that replace the same rows at once)."""


@contextmanager
def write() -> Iterator[duckdb.DuckDBPyConnection]:
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
        con = open_connection(db_path(), busy=WRITE_REFUSED)
        try:
            yield con
        finally:
            con.close()
            clear_caches()
    finally:
        _WRITES.release()
