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

**A waiting process gets the file within a bound.**  The app's readers open and close the file
page by page; with many people browsing, one of them nearly always holds it, and a load would
wait in vain.  So a process that finds the file busy announces itself: :func:`connect_waiting`
writes ``<db>.writer-waiting`` (its pid, its process start time and when it gives up; written
whole to a scratch file, then renamed over) and removes it when it has the file or gives up.
The app opens no *new* connection while :func:`writer_waiting` sees a live marker (it shows "a
data load is in progress"), so the file is free as soon as the pages in flight are drawn.  A
marker whose process has ended (pid gone, or reused by a process that started at another time)
or whose waiter has given up is ignored, and the next waiter replaces it.

**Health.**  :func:`health` opens a file read-only and reads every table whole
(:func:`check`); ``python -m indicators check`` prints it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import glob
import os
import re
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import duckdb
import pandas as pd

from indicators import iceberg
from indicators.schema import DATASETS, MONTH_DATASETS, Dataset, table_ddl

T = TypeVar("T")

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

DEFAULT_ICEBERG_FACTOR = iceberg.DEFAULT_CUSTOM_FACTOR
DEFAULT_PROMISED_MINUTES = 60.0
DEFAULT_COMPLAINT_PROMISE_DAYS = 3
"""Business days within which a complaint is promised to be resolved (the FCA's first band)."""
DEFAULT_FCR_DAYS = 7
"""Days without a new contact from the customer that make a resolution a first-contact one."""
DEFAULT_TIME_ZONE = "UTC"
DEFAULT_MIN_VOLUME = 30
DEFAULT_UNUSUAL_THRESHOLD = 5.0
"""Raw MAD units beyond which a value is unusual (:mod:`indicators.unusual` says why 5)."""
ANY_DEPARTMENT = "*"

_META_DDL = (
    """CREATE TABLE IF NOT EXISTS settings (
        key VARCHAR NOT NULL,
        department VARCHAR NOT NULL,
        value VARCHAR NOT NULL,
        PRIMARY KEY (key, department))""",
    """CREATE TABLE IF NOT EXISTS complete_months (
        month DATE NOT NULL,
        department VARCHAR NOT NULL,
        marked_by VARCHAR,
        marked_at TIMESTAMP NOT NULL,
        PRIMARY KEY (month, department))""",
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
        message VARCHAR,
        undoes BIGINT,
        warnings VARCHAR)""",
    # A database made before undo (or warnings) existed gets the column (a no-op once there).
    "ALTER TABLE upload_log ADD COLUMN IF NOT EXISTS undoes BIGINT",
    "ALTER TABLE upload_log ADD COLUMN IF NOT EXISTS warnings VARCHAR",
    """CREATE TABLE IF NOT EXISTS upload_slices (
        load_id BIGINT NOT NULL,
        dataset VARCHAR NOT NULL,
        k0 VARCHAR,
        k1 VARCHAR)""",
    "CREATE SEQUENCE IF NOT EXISTS target_checkins_id",
    """CREATE TABLE IF NOT EXISTS target_checkins (
        id BIGINT PRIMARY KEY DEFAULT nextval('target_checkins_id'),
        indicator VARCHAR NOT NULL,
        department VARCHAR NOT NULL,
        month DATE NOT NULL,
        status VARCHAR NOT NULL,
        note VARCHAR NOT NULL,
        author VARCHAR,
        written_at TIMESTAMP NOT NULL)""",
    "CREATE SEQUENCE IF NOT EXISTS event_notes_id",
    """CREATE TABLE IF NOT EXISTS event_notes (
        id BIGINT PRIMARY KEY DEFAULT nextval('event_notes_id'),
        month DATE NOT NULL,
        indicator VARCHAR,
        department VARCHAR NOT NULL,
        note VARCHAR NOT NULL,
        author VARCHAR,
        written_at TIMESTAMP NOT NULL)""",
)
"""The tables besides the datasets'.  ``upload_log.undoes``: the load an ``undo`` entry undid;
``upload_log.warnings``: what an accepted file loaded with looked wrong, one warning a line
(NULL: none; the message ends with them too, ``; warning: …``).
``upload_slices``: the slices (slice key values as text) each accepted load replaced, while
its removed rows are kept (``k0`` NULL: it replaced the whole table); see :mod:`indicators.undo`.
``target_checkins`` (``department`` ``*``: the All target, as in ``targets``) and ``event_notes``
(``indicator`` NULL: every indicator; ``department`` ``*``: every department): what people wrote
about a target's month and about a month's events; see :mod:`indicators.checkins`."""

REMOVED_PREFIX = "removed_"
"""``removed_<dataset>``: the rows each kept load removed, with its ``load_id``."""


def removed_table(dataset: str) -> str:
    """The table keeping the rows loads of ``dataset`` removed — a dataset of the schema only."""
    if dataset not in DATASETS:
        raise ValueError(f"not a dataset of the schema: {dataset!r}")
    return REMOVED_PREFIX + dataset


def _removed_ddl(dataset: Dataset) -> str:
    """The dataset's stored columns (its own and the derived ``month``) after ``load_id``; no
    constraints: the rows are copies, checked when they were loaded."""
    cols = [f'"{c.name}" {c.sql_type}' for c in dataset.columns]
    if dataset.event:
        cols.append('"month" DATE')
    return (
        f'CREATE TABLE IF NOT EXISTS "{removed_table(dataset.name)}" '
        f'(load_id BIGINT NOT NULL, {", ".join(cols)})'
    )


UNDO_TABLES: tuple[str, ...] = ("upload_slices", *(REMOVED_PREFIX + name for name in DATASETS))
"""What undo keeps."""
ADDED_TABLES: tuple[str, ...] = (
    "complete_months", *UNDO_TABLES, "schema_version", "indicator_values", "slice_rows",
    "target_checkins", "event_notes", "indicator_values_by_channel",
)
"""Tables added since the first version (issue 15; ``schema_version``, issue 16; the stored
indicators, issue 17: :mod:`indicators.stored_indicators`; check-ins and event notes, issue 18:
:mod:`indicators.checkins`; the indicators per channel, issue 19): a database made
before gets them at its next write (any connection that
is not read-only); until then :func:`check` does not count their absence as a problem."""


def default_db_path() -> Path:
    """``$SERVICE_DB`` if set, else ``data/service.duckdb``."""
    return Path(os.environ.get(DB_ENV) or DEFAULT_DB)


class DatabaseBusy(RuntimeError):
    """Another process held the database file for longer than the caller would wait."""


def is_lock_error(exc: BaseException) -> bool:
    """Whether ``exc`` is DuckDB saying another process holds the file."""
    return isinstance(exc, duckdb.IOException) and "Could not set lock" in str(exc)


DB_SUFFIXES: tuple[str, ...] = (".duckdb", ".db")
"""A *new* database file is created only under a name with one of these endings."""
_MAGIC_OFFSET = 8
_MAGIC = b"DUCK"
"""DuckDB's file format: the main header holds ``DUCK`` at byte 8 (checked on files made by the
installed DuckDB, 2.0)."""
_NOT_VALID = "not a valid DuckDB database file"
"""DuckDB's words for a file it will not open (e.g. an empty one)."""


class NotADatabase(ValueError):
    """The path names no DuckDB database, and none may be created there; nothing was opened.

    E.g. ``--db march.csv`` (a data file), a folder, an empty file, or a new name that does not
    end in ``.duckdb`` / ``.db``.  The message names the path (:func:`printable`) and the rule.
    """

    def __init__(self, path: str | Path, problem: str) -> None:
        super().__init__(f"{printable(str(path))} {problem}")
        self.path = str(path)
        self.problem = problem


_OPENED: set[tuple[int, int]] = set()
"""The files (device, inode) this process has opened as databases or created.

Their header is never read again: DuckDB locks the file with a POSIX lock, and closing *any*
descriptor of a file drops every such lock the process holds on it, so reading the header of
a file that a connection of this process has open would let another process open it for
writing at the same time."""


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def is_duckdb_file(path: str | Path) -> bool:
    """Whether the file at ``path`` carries DuckDB's header (``DUCK`` at byte 8).

    A file this process already opened as a database is not opened again (see :data:`_OPENED`).
    """
    if _identity(Path(path)) in _OPENED:
        return True
    try:
        with open(path, "rb") as file:
            head = file.read(_MAGIC_OFFSET + len(_MAGIC))
    except OSError:
        return False
    return head[_MAGIC_OFFSET:] == _MAGIC


def named_like_database(path: str | Path) -> bool:
    """Whether the name ends in ``.duckdb`` or ``.db`` (any case)."""
    return Path(path).suffix.lower() in DB_SUFFIXES


def database_file_problem(path: str | Path, *, create: bool) -> str | None:
    """Why ``path`` cannot be opened as a database (``create``: or made one); None if it can.

    An existing file must carry DuckDB's header, except an empty file with a database name,
    which DuckDB itself refuses (see :func:`connect`).  A missing file may be created only
    under a database name, and not where its write-ahead log (``<name>.wal``) survived alone:
    DuckDB would drop that log's changes when it creates the new file.
    """
    path = Path(path)
    if path.is_dir():
        return "is a folder, not a DuckDB database file"
    if path.exists():
        if is_duckdb_file(path) or (named_like_database(path) and path.stat().st_size == 0):
            return None
        if path.stat().st_size == 0:
            return _EMPTY
        return "is not a DuckDB database file (it lacks DuckDB's file header)"
    if not create:
        return "does not exist"
    if not named_like_database(path):
        return "does not exist, and a new database file must be named *.duckdb or *.db"
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        return (
            f"does not exist, but its write-ahead log {printable(wal.name)} does; a new database "
            "there would drop the log's changes: restore the database file, or move the log away"
        )
    return None


_EMPTY = "is an empty file, not a DuckDB database; delete it to start a new database there"


def refuse_non_database(path: str | Path, *, create: bool) -> None:
    """:class:`NotADatabase` (naming the path and the rule) if :func:`database_file_problem`."""
    problem = database_file_problem(path, create=create)
    if problem is not None:
        raise NotADatabase(path, problem)


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk is full (``ENOSPC``, from Python or from DuckDB)."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True
    return isinstance(exc, duckdb.Error) and os.strerror(errno.ENOSPC) in str(exc)


def disk_full_message(path: str | Path, *, what: str = "nothing was loaded") -> str:
    """What a command says when the disk filled up during a load (which was rolled back)."""
    shown = printable(str(Path(path).absolute()))
    return f"no space left on the disk holding {shown}; {what}"


def printable(text: str) -> str:
    """``text`` with every character that is not printable shown escaped, as ``repr`` does.

    Control characters (line breaks, escape, the C1 controls), format characters (zero-width,
    bidi) and the other non-printing ones are written as Python writes them in a string
    literal (a line break as backslash-n, escape as backslash-x1b, U+202E as backslash-u202e),
    so a name cannot start a new line, reorder the text or drive the terminal.

    >>> printable("a\\nb\\x1b[31m\\u202ec.csv")
    'a\\\\nb\\\\x1b[31m\\\\u202ec.csv'
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


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

    Only a DuckDB database is opened, and a new one is created only under a ``.duckdb`` /
    ``.db`` name (:func:`database_file_problem`); anything else is :class:`NotADatabase`,
    before DuckDB sees the path (it would open a CSV or Parquet file as an empty in-memory
    database, and store nothing).
    """
    path = Path(path)
    with _OPENING:
        refuse_non_database(path, create=not read_only)
        if not read_only and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            _create_database(path)
        con = _duckdb_connect(path, read_only=read_only)
        _OPENED.add(_identity(path))
        try:
            if sandbox is not None:
                _sandbox(con, [path.absolute().parent, *(Path(f).absolute() for f in sandbox)])
            if not read_only:
                init_db(con)
        except BaseException:
            con.close()
            raise
    return con


_STALE_NEW_SECONDS = 60


def _create_database(path: Path) -> None:
    """A new database at ``path`` with every table, made whole or not at all.

    It is built under a hidden name next to ``path``, checkpointed, closed and only then linked
    into place, so a process killed while creating it leaves no file at ``path`` (at worst a
    hidden ``.<name>.new-*`` file, removed by the next creation once a minute old), never an
    empty or half-made database.  If another process created the database meanwhile, its file
    is kept and ours dropped.
    """
    for stale in path.parent.glob(f".{glob.escape(path.name)}.new-*"):
        with contextlib.suppress(OSError):
            if time.time() - stale.stat().st_mtime > _STALE_NEW_SECONDS:
                stale.unlink()
    new = path.with_name(f".{path.name}.new-{os.getpid()}-{threading.get_ident()}")
    new.unlink(missing_ok=True)
    con = duckdb.connect(str(new), config=connection_config(new))
    try:
        init_db(con)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    try:
        os.link(new, path)
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links
        if not path.exists():
            os.replace(new, path)
    finally:
        new.unlink(missing_ok=True)


def _duckdb_connect(path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect`` with :func:`connection_config`; a file DuckDB finds invalid (an
    empty one: DuckDB refuses it) is :class:`NotADatabase`."""
    try:
        return duckdb.connect(str(path), read_only=read_only, config=connection_config(path))
    except duckdb.IOException as exc:
        if _NOT_VALID not in str(exc):
            raise
        empty = path.is_file() and path.stat().st_size == 0
        raise NotADatabase(path, _EMPTY if empty else f"is {_NOT_VALID}") from None


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
    gives_up_at = time.time() + max(wait, 0.0)
    told = False
    try:
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
                announce_waiting(path, until=gives_up_at)
                if notify is not None and not told:
                    notify(BUSY_MESSAGE)
                    told = True
                time.sleep(poll)
    finally:
        withdraw_waiting(path)


# --- the waiting writer's marker ----------------------------------------------------------

WAITING_SUFFIX = ".writer-waiting"


def waiting_marker(path: str | Path) -> Path:
    """``<db>.writer-waiting`` next to the database: a process waiting for the file."""
    path = Path(path).absolute()
    return path.with_name(path.name + WAITING_SUFFIX)


@dataclass(frozen=True)
class Waiter:
    """What a waiting process writes in its marker."""

    pid: int
    started: str
    """The process's start time (``/proc/<pid>/stat``), telling it from a later one with its
    pid; empty where the system does not say."""
    until: float
    """When it gives up (seconds since the epoch): after that the marker is stale."""

    def text(self) -> str:
        return f"{self.pid} {self.started or '-'} {self.until:.3f}\n"

    @classmethod
    def parse(cls, text: str) -> Waiter | None:
        parts = text.split()
        try:
            pid, started, until = int(parts[0]), parts[1], float(parts[2])
        except (IndexError, ValueError):
            return None
        return cls(pid, "" if started == "-" else started, until)


def _process_start(pid: int) -> str:
    """Field 22 of ``/proc/<pid>/stat`` (clock ticks after boot); empty if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return ""
    fields = stat.rsplit(")", 1)[-1].split()  # the name (field 2) may hold spaces and ")"
    return fields[19] if len(fields) > 19 else ""


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would end the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _is_live(waiter: Waiter) -> bool:
    if waiter.until < time.time() or not _pid_alive(waiter.pid):
        return False
    return not waiter.started or _process_start(waiter.pid) in ("", waiter.started)


def _read_marker(path: str | Path) -> Waiter | None:
    try:
        return Waiter.parse(waiting_marker(path).read_text(encoding="ascii"))
    except (OSError, UnicodeDecodeError):
        return None


def writer_waiting(path: str | Path) -> Waiter | None:
    """The live process waiting for the file at ``path``, if any; stale markers are ignored.

    One small file read (none when there is no marker): cheap enough before every connection.
    """
    waiter = _read_marker(path)
    return waiter if waiter is not None and _is_live(waiter) else None


def announce_waiting(path: str | Path, *, until: float) -> None:
    """Write this process's marker, unless another live process has one (it waits first).

    Written whole to a scratch file and renamed over the marker, so a reader never sees half
    a marker.  Without write access to the folder the process waits unannounced, as before.
    """
    current = writer_waiting(path)
    if current is not None:
        return
    me = Waiter(os.getpid(), _process_start(os.getpid()), until)
    marker = waiting_marker(path)
    scratch = marker.with_name(f"{marker.name}.{me.pid}")
    try:
        scratch.write_text(me.text(), encoding="ascii")
        os.replace(scratch, marker)
    except OSError:
        scratch.unlink(missing_ok=True)


def withdraw_waiting(path: str | Path) -> None:
    """Remove this process's marker (another process's is left alone)."""
    mine = _read_marker(path)
    if mine is not None and mine.pid == os.getpid():
        waiting_marker(path).unlink(missing_ok=True)


def print_to_stderr(message: str) -> None:
    """Say ``message`` on stderr at once (progress on stdout stays machine-readable)."""
    print(message, file=sys.stderr, flush=True)


def pause_for_test(point: str) -> None:
    """Test hook: stop at a named point of a load so a test can kill or watch the process.

    A no-op unless ``$INDICATORS_TEST_PAUSE_AT`` names ``point``; then it prints
    ``INDICATORS_TEST_PAUSED_AT=<point>`` on stderr and waits for one line on stdin (a test
    writes a newline to go on, or kills the process; a closed stdin goes on at once).
    The command line passes it to the load as its ``checkpoint`` (the loader itself reads no
    environment variable; the app passes none): the points of
    :func:`indicators.ingest.load.load_clean`, in order, are ``inserted``, ``logged``,
    ``kept_for_undo``, ``old_slices_deleted``, ``undo_pruned``, ``indicators_kept`` (the last
    before the COMMIT) and ``committed``.  :func:`indicators.undo.undo_load` calls it itself:
    ``undo_deleted``, ``undo_restored``, ``undo_indicators_kept``, ``undo_before_commit``,
    ``undo_committed``.
    """
    if os.environ.get(PAUSE_ENV) != point:
        return
    print(PAUSE_MARKER + point, file=sys.stderr, flush=True)
    sys.stdin.readline()


def init_db(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table that is missing and bring an older database's rows up to the current
    shape (:mod:`indicators.migrations`); idempotent."""
    from indicators import migrations

    (existing,) = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name = 'upload_log'"
    ).fetchone()
    for ddl in _META_DDL:
        con.execute(ddl)
    for dataset in DATASETS.values():
        con.execute(table_ddl(dataset))
        con.execute(_removed_ddl(dataset))
    if not existing:  # an older database gets it, filled, from its migration step
        from indicators import stored_indicators

        stored_indicators.create(con)
        # a new database counts complaints at the front line; one without the row predates
        # the choice (read as custom, its own factor: migration step 7)
        _store_setting(con, "iceberg_counted_at", ANY_DEPARTMENT, iceberg.DEFAULT_COUNTED_AT)
    migrations.upgrade(con, fresh=not existing)


# --- health ----------------------------------------------------------------------------


def table_names() -> tuple[str, ...]:
    """Every table the store keeps: settings, the upload log, one per dataset and the tables
    added since (:data:`ADDED_TABLES`: the months marked complete, what undo keeps, the schema
    version, the stored indicators, check-ins and event notes)."""
    return ("settings", "upload_log", *DATASETS, *ADDED_TABLES)


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
            if name not in ADDED_TABLES:  # those come with the next write
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
    except (duckdb.Error, NotADatabase) as exc:
        return Health(str(path), False, problems=[f"cannot be opened: {exc}"])
    try:
        return check(con, path)
    finally:
        con.close()


# --- settings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """What the computation takes from the settings table."""

    custom_iceberg_factor: float = DEFAULT_ICEBERG_FACTOR
    """The ``iceberg_factor`` setting: the analyst's own factor, used when complaints are
    counted ``custom`` (:attr:`iceberg_factor` is the factor in effect)."""
    iceberg_counted_at: str = iceberg.DEFAULT_COUNTED_AT
    """Where complaints are counted (:data:`indicators.iceberg.COUNTED_AT`): it sets the factor.
    A database without the setting reads as ``custom`` (:func:`read_settings`)."""
    dissatisfied_leave_share: float = iceberg.DEFAULT_LEAVE_SHARE
    """Percent of the estimated dissatisfied customers assumed to leave (revenue at risk)."""
    time_zone: str = DEFAULT_TIME_ZONE
    """The organisation's IANA zone.  Stored timestamps are instants (UTC); an event's ``month``
    is its month in this zone, and a time written without an offset is read in it.  Changing it
    recomputes the stored months and, if any moves, clears the undo history
    (:func:`change_time_zone`, :data:`TIME_ZONE_CHANGE`)."""
    promised_minutes: dict[str, float] = field(default_factory=dict)
    """Per-department promise; the ``*`` entry (else 60) applies to every other department."""
    currency_code: str = ""
    """ISO 4217 code (``EUR``) written after money figures when there is no symbol; empty = none."""
    currency_symbol: str = ""
    """Written before money figures (``€``); empty = none (then the code, if any)."""
    min_volume: int = DEFAULT_MIN_VOLUME
    """Rows a department needs in the month to be ranked (below, listed with ``n = …``)."""
    unusual_threshold: float = DEFAULT_UNUSUAL_THRESHOLD
    """|score| (raw MAD units) from which a value is flagged unusual (:mod:`indicators.unusual`);
    read when flags are read, so it enters no stored indicator."""
    expected_datasets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Per department (``*`` = every other), the datasets a complete month must hold; empty =
    every dataset the department has ever delivered."""
    complaint_promise_days: dict[str, int] = field(default_factory=dict)
    """Per department (``*`` = every other, else 3), the business days within which a complaint
    is promised to be resolved (:func:`indicators.facts.complaints_sql`)."""
    holidays: tuple[dt.date, ...] = ()
    """Dates that are not business days besides Saturdays and Sundays (the whole organisation)."""
    fcr_days: int = DEFAULT_FCR_DAYS
    """Days after a resolution in which no new contact from the customer may come for it to
    count as resolved at the first contact."""

    def complaint_promise_for(self, department: str) -> int:
        return self.complaint_promise_days.get(
            department, self.complaint_promise_days.get(ANY_DEPARTMENT,
                                                        DEFAULT_COMPLAINT_PROMISE_DAYS))

    @property
    def iceberg_factor(self) -> float:
        """Dissatisfied customers per complaint: the factor in effect (where complaints are
        counted, or the custom number)."""
        return iceberg.factor(self.iceberg_counted_at, custom=self.custom_iceberg_factor)

    def expected_for(self, department: str) -> tuple[str, ...]:
        """The datasets a complete month of ``department`` must hold; ``()`` = not set."""
        return self.expected_datasets.get(
            department, self.expected_datasets.get(ANY_DEPARTMENT, ())
        )

    def promise_for(self, department: str) -> float:
        return self.promised_minutes.get(
            department, self.promised_minutes.get(ANY_DEPARTMENT, DEFAULT_PROMISED_MINUTES)
        )


def read_settings(con: duckdb.DuckDBPyConnection) -> Settings:
    rows = con.execute("SELECT key, department, value FROM settings ORDER BY ALL").fetchall()
    factor, tz, promises = DEFAULT_ICEBERG_FACTOR, DEFAULT_TIME_ZONE, {}
    code, symbol, min_volume = "", "", DEFAULT_MIN_VOLUME
    unusual = DEFAULT_UNUSUAL_THRESHOLD
    expected: dict[str, tuple[str, ...]] = {}
    complaint_days: dict[str, int] = {}
    holidays: tuple[dt.date, ...] = ()
    fcr_days = DEFAULT_FCR_DAYS
    counted_at, leave_share = iceberg.LEGACY_COUNTED_AT, iceberg.DEFAULT_LEAVE_SHARE
    for key, department, value in rows:
        if key == "iceberg_factor":
            factor = float(value)
        elif key == "iceberg_counted_at":
            counted_at = value
        elif key == "dissatisfied_leave_share":
            leave_share = float(value)
        elif key == "time_zone":
            tz = value
        elif key == "promised_minutes":
            promises[department] = float(value)
        elif key == "currency_code":
            code = value
        elif key == "currency_symbol":
            symbol = value
        elif key == "min_volume":
            min_volume = int(value)
        elif key == "unusual_threshold":
            unusual = float(value)
        elif key == "expected_datasets":
            expected[department] = tuple(d for d in value.split(",") if d)
        elif key == "complaint_promise_days":
            complaint_days[department] = int(value)
        elif key == "holidays":
            holidays = tuple(dt.date.fromisoformat(d) for d in value.split(",") if d)
        elif key == "fcr_days":
            fcr_days = int(value)
    return Settings(
        custom_iceberg_factor=factor, iceberg_counted_at=counted_at,
        dissatisfied_leave_share=leave_share, time_zone=tz, promised_minutes=promises,
        currency_code=code, currency_symbol=symbol, min_volume=min_volume, expected_datasets=expected,
        unusual_threshold=unusual, complaint_promise_days=complaint_days, holidays=holidays,
        fcr_days=fcr_days,
    )


class SettingError(ValueError):
    """A setting value that breaks its rule; nothing was written."""


def write_setting(
    con: duckdb.DuckDBPyConnection, key: str, value: str | float, *, department: str = ANY_DEPARTMENT
) -> str | None:
    """Validate and store one setting (``iceberg_factor``, ``time_zone``, ``promised_minutes`` …),
    with the stored indicators it enters recomputed, in one transaction (the caller's, if it
    holds one: :func:`indicators.stored_indicators.refresh_for_setting`).

    Returns what else the write did, in words for the page, or None: only a new ``time_zone``
    does more (:func:`change_time_zone`: months recomputed, undo history cleared).
    """
    return _keeping_indicators(
        con, key, department, lambda: _write_setting(con, key, value, department=department)
    )


def _keeping_indicators(
    con: duckdb.DuckDBPyConnection, key: str, department: str, write: Callable[[], T]
) -> T:
    """``write()`` and the stored indicators that setting ``key`` enters, in one transaction."""
    from indicators import stored_indicators

    with transaction(con):
        done = write()
        stored_indicators.refresh_for_setting(con, key, department)
    return done


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection, *, joined: bool | None = None) -> Iterator[None]:
    """One transaction around the block: the caller's, when ``con`` is inside one already
    (``joined``; None: find out), else its own, committed at the end and rolled back on any
    error."""
    own = not (_in_transaction(con) if joined is None else joined)
    if own:
        con.execute("BEGIN TRANSACTION")
    try:
        yield
        if own:
            con.execute("COMMIT")
    except BaseException:
        if own:
            con.execute("ROLLBACK")
        raise


def _write_setting(
    con: duckdb.DuckDBPyConnection, key: str, value: str | float, *, department: str
) -> str | None:
    text = str(value).strip()
    if key in POSITIVE_SETTINGS:
        try:
            number = float(text)
        except ValueError:
            raise SettingError(f"{key} must be a number, got {text!r}") from None
        if not number > 0 or number != number or number == float("inf"):
            raise SettingError(f"{key} must be a positive number, got {text!r}")
        if key != "promised_minutes" and department != ANY_DEPARTMENT:
            raise SettingError(f"{key} applies to every department")
    elif key in WHOLE_NUMBER_SETTINGS:
        if not re.fullmatch(r"[0-9]{1,4}", text) or int(text) < 1:
            raise SettingError(f"{key} must be a whole number from 1 to 9999, got {text!r}")
        text = str(int(text))
        if key != "complaint_promise_days" and department != ANY_DEPARTMENT:
            raise SettingError(f"{key} applies to every department")
    elif key == "holidays":
        text = _checked_holidays(text)
        if department != ANY_DEPARTMENT:
            raise SettingError("holidays applies to every department")
    elif key in ICEBERG_SETTINGS:
        text = _checked_iceberg_setting(key, text)
        if department != ANY_DEPARTMENT:
            raise SettingError(f"{key} applies to every department")
    elif key in ORG_WIDE_SETTINGS or key == "expected_datasets":
        text = _checked_text_setting(key, text)
        if key in ORG_WIDE_SETTINGS and department != ANY_DEPARTMENT:
            raise SettingError(f"{key} applies to every department")
    elif key == "time_zone":
        known = con.execute("SELECT 1 FROM pg_timezone_names() WHERE name = ?", [text]).fetchone()
        if known is None:
            raise SettingError(f"unknown time zone {text!r} (use an IANA name such as Europe/Madrid)")
        if department != ANY_DEPARTMENT:
            raise SettingError("time_zone applies to every department")
        if text != read_settings(con).time_zone:
            return change_time_zone(con, text)
    else:
        raise SettingError(f"unknown setting {key!r}")
    _store_setting(con, key, department, text)
    return None


def _store_setting(con: duckdb.DuckDBPyConnection, key: str, department: str, text: str) -> None:
    con.execute(
        "INSERT OR REPLACE INTO settings (key, department, value) VALUES (?, ?, ?)",
        [key, department, text],
    )


POSITIVE_SETTINGS: tuple[str, ...] = ("iceberg_factor", "promised_minutes", "unusual_threshold")
"""Settings that are a positive number (``promised_minutes`` per department, the others for
every department)."""
WHOLE_NUMBER_SETTINGS: tuple[str, ...] = ("complaint_promise_days", "fcr_days")
"""Settings that are a whole number of days from 1 (``complaint_promise_days`` per department,
``fcr_days`` for every department)."""
ORG_WIDE_SETTINGS: tuple[str, ...] = ("currency_code", "currency_symbol", "min_volume")
"""Settings that have one value for the whole organisation (besides the iceberg and the zone)."""
MAX_CURRENCY_SYMBOL = 4
ICEBERG_SETTINGS: tuple[str, ...] = ("iceberg_counted_at", "dissatisfied_leave_share")
"""Where complaints are counted and the share of dissatisfied customers who leave
(:mod:`indicators.iceberg`), for every department (``iceberg_factor``: a positive number)."""


def _checked_iceberg_setting(key: str, text: str) -> str:
    """The stored form of an :data:`ICEBERG_SETTINGS` value, or SettingError."""
    if key == "iceberg_counted_at":
        if text not in iceberg.COUNTED_AT:
            raise SettingError("iceberg_counted_at must be one of "
                               f"{', '.join(iceberg.COUNTED_AT)}, got {text!r}")
        return text
    try:
        share = float(text)
    except ValueError:
        raise SettingError(f"dissatisfied_leave_share must be a number, got {text!r}") from None
    if not 0 <= share <= 100:
        raise SettingError(
            f"dissatisfied_leave_share must be a percent from 0 to 100, got {text!r}")
    return repr(share)


def _checked_text_setting(key: str, text: str) -> str:
    """The stored form of a currency, minimum-volume or expected-datasets value, or SettingError."""
    if key == "currency_code":
        if text and not re.fullmatch(r"[A-Z]{3}", text):
            raise SettingError(f"currency_code must be three capital letters (ISO 4217, e.g. EUR), got {text!r}")
        return text
    if key == "currency_symbol":
        if len(text) > MAX_CURRENCY_SYMBOL or any(
            unicodedata.category(ch)[0] in "CZ" or ch in "\\`*_[]<>#|~$" for ch in text
        ):
            raise SettingError(
                f"currency_symbol must be at most {MAX_CURRENCY_SYMBOL} visible characters, "
                f"no markup (e.g. €, £, kr; for dollars use the code USD: the pages' text "
                f"reads a $ sign as the start of a formula), got {text!r}"
            )
        return text
    if key == "min_volume":
        if not re.fullmatch(r"[0-9]{1,9}", text):
            raise SettingError(f"min_volume must be a whole number ≥ 0, got {text!r}")
        return str(int(text))
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in MONTH_DATASETS]
    if unknown:
        raise SettingError(
            f"expected_datasets lists unknown dataset(s) {', '.join(map(repr, unknown))}; "
            f"known: {', '.join(MONTH_DATASETS)}"
        )
    return ",".join(sorted(set(names), key=list(MONTH_DATASETS).index))


def _checked_holidays(text: str) -> str:
    """The stored form of a holiday list (ISO dates, sorted, once each), or SettingError.

    >>> _checked_holidays("2025-12-25, 2025-01-01,2025-12-25")
    '2025-01-01,2025-12-25'
    """
    days = set()
    for item in (t.strip() for t in text.replace(";", ",").replace("\n", ",").split(",")):
        if not item:
            continue
        try:
            if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", item):
                raise ValueError
            days.add(dt.date.fromisoformat(item))
        except ValueError:
            raise SettingError(
                f"holidays must be dates written YYYY-MM-DD, separated by commas; "
                f"{item!r} is not one") from None
    return ",".join(d.isoformat() for d in sorted(days))


def delete_setting(con: duckdb.DuckDBPyConnection, key: str, *, department: str) -> None:
    """Remove a setting (its default applies again); the time zone goes back to UTC through
    :func:`write_setting`, so the stored months follow."""
    if key == "time_zone":
        write_setting(con, key, DEFAULT_TIME_ZONE, department=department)
        return
    _keeping_indicators(con, key, department, lambda: con.execute(
        "DELETE FROM settings WHERE key = ? AND department = ?", [key, department]
    ))


# --- instants and the organisation's months -----------------------------------------------

UTC_ZONES: frozenset[str] = frozenset({
    "UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu",
    "GMT", "Etc/GMT", "Etc/GMT0", "Etc/GMT+0", "Etc/GMT-0", "GMT0", "GMT+0", "GMT-0",
    "Etc/Greenwich", "Greenwich",
})
"""Zones whose offset is zero at every instant: local time is UTC, and the SQL below converts
nothing (an ICU ``timezone()`` call costs about 0.25–0.35 µs a row on the 2-core bench
machine, per timestamp cell and once more for the month)."""


def is_utc_zone(zone: str) -> bool:
    """Whether local time in ``zone`` is UTC at every instant (:data:`UTC_ZONES`)."""
    return zone in UTC_ZONES


def utc_of_local_sql(local: str, zone: str) -> str:
    """SQL for the instant, as a UTC ``TIMESTAMP``, of ``local`` (SQL for a naive TIMESTAMP: a
    wall-clock time) read in ``zone`` (SQL for the zone name: a parameter).

    ``timezone(zone, ts)`` is ICU's reading of the wall clock (see *Times and time zones* in
    docs/datasets.md: a time in a spring-forward gap takes the offset before the change, one in
    the autumn overlap the later instant); its TIMESTAMPTZ is turned into UTC by its microseconds
    (``make_timestamp(epoch_us(…))``): no second ICU call, and nothing depends on the session's
    ``TimeZone``.
    """
    return f"make_timestamp(epoch_us(timezone({zone}, {local})))"


def utc_of_instant_sql(instant: str) -> str:
    """SQL for a TIMESTAMPTZ ``instant`` as a UTC ``TIMESTAMP`` (its microseconds since the
    epoch; no ICU call, whatever the session's ``TimeZone``)."""
    return f"make_timestamp(epoch_us({instant}))"


def month_sql(utc: str, zone: str | None) -> str:
    """SQL for the month (a DATE, its first day) in which UTC ``TIMESTAMP`` ``utc`` falls in the
    organisation's zone (``zone``: SQL for its name, a parameter; None: a zone of
    :data:`UTC_ZONES`, where the month is the UTC month and no ICU call is made)."""
    if zone is None:
        return f"CAST(date_trunc('month', {utc}) AS DATE)"
    return f"CAST(date_trunc('month', timezone({zone}, make_timestamptz(epoch_us({utc})))) AS DATE)"


UNDO_CLEARED = "undo_cleared_through"
"""A settings row (department ``*``): the last ``upload_log`` id whose kept rows a change of
time zone cleared, so that undo can say why such an upload cannot be undone."""

TIME_ZONE_CHANGE = (
    "Events belong to the month of their time in this zone, and a time written without an "
    "offset (2025-03-07 14:05) is read as a time in this zone. Changing the zone moves every "
    "stored event to its month in the new zone at once and, if any event changes month, clears "
    "the undo history: uploads made before the change can no longer be undone. Stored times "
    "keep the instant they were read as: upload again the files whose times carry no offset to "
    "read them in the new zone."
)
"""What a change of :attr:`Settings.time_zone` does, as the settings page says it."""


def _in_transaction(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the connection is inside an explicit transaction: two statements then share one
    transaction id (trying ``BEGIN`` instead would abort the caller's transaction)."""
    first = con.execute("SELECT txid_current()").fetchone()
    return first == con.execute("SELECT txid_current()").fetchone()


def _event_months(zone: str) -> tuple[dict[str, object], list[tuple[Dataset, str]]]:
    """The parameters and, per event dataset, the SQL of its rows' month in ``zone``."""
    utc = is_utc_zone(zone)
    months = [
        (d, month_sql(f'"{d.month_column}"', None if utc else "$zone"))
        for d in DATASETS.values()
        if d.event
    ]
    return ({} if utc else {"zone": zone}), months


def recompute_months(con: duckdb.DuckDBPyConnection, zone: str) -> int:
    """Set the ``month`` of every stored event row to the month of its dated column (a UTC
    instant) in ``zone``; the number of rows whose month changed.

    One set-based UPDATE per event dataset, writing only the rows that move.  The rows kept for
    undo are not recomputed (:func:`change_time_zone` clears them when anything moves).
    """
    params, months = _event_months(zone)
    moved = 0
    for dataset, month in months:
        (count,) = con.execute(
            f'UPDATE "{dataset.name}" SET "month" = {month} WHERE "month" <> {month}', params
        ).fetchone()
        moved += int(count)
    return moved


def _kept_rows_move(con: duckdb.DuckDBPyConnection, zone: str) -> bool:
    """Whether any row kept for undo falls in another month in ``zone`` than it was kept with."""
    params, months = _event_months(zone)
    for dataset, month in months:
        found = con.execute(
            f'SELECT 1 FROM "{removed_table(dataset.name)}" WHERE "month" <> {month} LIMIT 1',
            params,
        ).fetchone()
        if found is not None:
            return True
    return False


def clear_undo(con: duckdb.DuckDBPyConnection) -> int:
    """Drop everything undo keeps (``upload_slices`` and every ``removed_<dataset>``) and record
    the last upload it covered (:data:`UNDO_CLEARED`); how many loads were kept."""
    (kept,) = con.execute("SELECT count(DISTINCT load_id) FROM upload_slices").fetchone()
    con.execute("DELETE FROM upload_slices")
    for name in DATASETS:
        con.execute(f'DELETE FROM "{removed_table(name)}"')
    (last,) = con.execute("SELECT coalesce(max(id), 0) FROM upload_log").fetchone()
    _store_setting(con, UNDO_CLEARED, ANY_DEPARTMENT, str(last))
    return int(kept)


def undo_cleared_through(con: duckdb.DuckDBPyConnection) -> int:
    """The last upload whose kept rows a change of time zone cleared (0: none was)."""
    found = con.execute(
        "SELECT value FROM settings WHERE key = ? AND department = ?", [UNDO_CLEARED, ANY_DEPARTMENT]
    ).fetchone()
    return int(found[0]) if found else 0


def change_time_zone(con: duckdb.DuckDBPyConnection, zone: str) -> str:
    """Make ``zone`` (a name DuckDB knows) the organisation's time zone, in one transaction (the
    caller's, if it holds one): every stored event row's ``month`` recomputed
    (:func:`recompute_months`), the undo history cleared (:func:`clear_undo`: its slices are
    months of the old zone) unless no row, stored or kept, changes month, the setting written.
    Returns what was done, in words (:data:`TIME_ZONE_CHANGE` says it in general).

    Stored timestamps are instants and do not change: a time that was read without an offset
    keeps the instant it was read as in the old zone.
    """
    with transaction(con):
        moved = recompute_months(con, zone)
        cleared = clear_undo(con) if moved or _kept_rows_move(con, zone) else None
        _store_setting(con, "time_zone", ANY_DEPARTMENT, zone)
    rows = f"{moved:,} stored row{'s' if moved != 1 else ''}"
    if cleared is None:
        undo = "the undo history is kept (no row it holds changes month)"
    elif cleared:
        undo = (
            f"the undo history of {cleared} upload{'s' if cleared != 1 else ''} was cleared "
            "(they can no longer be undone)"
        )
    else:
        undo = "there was no undo history to clear"
    return (
        f"time zone set to {zone}: {rows} moved to another month; {undo}. Stored times keep the "
        "instant they were read as: upload again the files whose times carry no offset to read "
        "them in the new zone."
    )


# --- reading back -----------------------------------------------------------------------


def read_upload_log(con: duckdb.DuckDBPyConnection, *, limit: int = 200) -> pd.DataFrame:
    """The newest uploads first; ``undoes``: the load an ``undo`` entry undid, ``undone_by``: the
    ``undo`` entry that undid an accepted load (both ``<NA>`` where there is none);
    ``warnings``: the file's warnings, one a line (None: none)."""
    return con.execute(
        """SELECT l.id, l.uploaded_at, l."user", l.file_name, l.dataset, l.slices, l."rows",
                  l.outcome, l.message, l.warnings, l.undoes, u.id AS undone_by
           FROM upload_log AS l LEFT JOIN upload_log AS u ON u.undoes = l.id
           ORDER BY l.id DESC LIMIT ?""",
        [limit],
    ).df()


# Fixed statements over the datasets with months (table names from the schema only).
# Grouped first, formatted after: strftime on every row cost 7 × the grouping at 10 M rows.
_ROW_COUNTS = " UNION ALL ".join(
    f"""SELECT '{name}' AS dataset, strftime(m, '%Y-%m') AS month, department, "rows"
        FROM (SELECT "month" AS m, department, count(*) AS "rows" FROM "{name}" GROUP BY ALL)"""
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


TARGET_TEXT_COLUMNS: tuple[str, ...] = ("shape", "steps", "owner")
"""The targets' columns added by migration step 4: missing (read as empty) in an older
database opened read-only."""


def read_targets(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Stored targets with months as ``YYYY-MM`` text; ``shape``, ``steps`` and ``owner`` empty
    (None) where not given."""
    (present,) = con.execute(
        "SELECT list(column_name) FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name = 'targets'"
    ).fetchone()
    added = ", ".join(
        f'"{c}"' if c in (present or []) else f'CAST(NULL AS VARCHAR) AS "{c}"'
        for c in TARGET_TEXT_COLUMNS
    )
    frame = con.execute(
        f"""SELECT indicator, department,
                  strftime(baseline_month, '%Y-%m') AS baseline_month,
                  strftime(target_month, '%Y-%m') AS target_month,
                  target, baseline, tolerance, {added}
           FROM targets ORDER BY indicator, department"""
    ).df()
    for column in TARGET_TEXT_COLUMNS:  # None, never NaN, for a missing text
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame


def departments(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every department that appears in any event or retention dataset, sorted."""
    return [d for (d,) in con.execute(_DEPARTMENTS).fetchall()]
