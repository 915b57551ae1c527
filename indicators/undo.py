"""Undo an accepted upload: put back exactly the rows it replaced (issue 15, item 2).

**What is kept.**  Every accepted load, inside its own transaction, writes its ``upload_log``
entry first, then copies the stored rows its DELETE is about to remove into
``removed_<dataset>`` (the dataset's stored columns after ``load_id``) and lists the slices it
replaces in ``upload_slices`` (``k0``, ``k1``: the slice key's values as text; ``k0`` NULL: a
replace-all load, the targets editor, which replaces the whole table) — :func:`keep_removed`.
A load into a table that held no row copies nothing.  The kept rows of the last
:data:`UNDO_KEEP_LOADS` accepted loads stay; older ones are dropped in the same transaction as
the next load (:func:`prune`).  So ``upload_slices`` lists exactly the loads that are kept and
not undone.

**Undo** (:func:`undo_load`), in one transaction: delete the rows now stored in the load's
slices (the whole table for a replace-all load), insert the rows the load removed, drop what
was kept for it, and write an ``upload_log`` entry of its own: outcome ``undo``, ``undoes`` =
the load's id, message ``undid upload #12 (march.csv): restored 40 rows, removed 25``.  The
original entry keeps its outcome ``accepted``; :func:`indicators.store.read_upload_log` tells
it is undone (``undone_by``).  Rows restored are the rows removed, value for value; their
order in the table (``rowid``) is not kept.

**Undo in order, newest first.**  An undo is refused (:class:`UndoRefused`, naming the load and
why; nothing changed) when the load

* is not in the log, or was not an accepted load: a rejected upload changed nothing, and an
  undo entry cannot be undone (upload the file again to redo it);
* was undone already (by ``#N``);
* is no longer kept: it is older than the last :data:`UNDO_KEEP_LOADS` accepted loads, was
  loaded before undo existed, or before a change of the time zone setting that moved stored
  rows to other months (which clears what undo kept: :func:`indicators.store.change_time_zone`);
* has a *later* accepted load of the same dataset, not undone, that replaced an overlapping
  slice (the same month and department — indicator and department for targets — or either
  replaced the whole table): that load removed this one's rows, so undoing this one now would
  not give back the state before it.  Undo the later one first.  A later load of other slices
  or another dataset does not block.

Identifiers in SQL come from the schema's fixed lists only; every value is a parameter.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from indicators import store, stored_indicators
from indicators.schema import DATASETS, Dataset

UNDO_KEEP_LOADS: int = 20
"""The rows removed by this many of the newest accepted loads are kept, so these can be undone."""
UNDO_OUTCOME = "undo"
"""The ``upload_log`` outcome of an undo's own entry."""
STORY_OUTCOMES: tuple[str, ...] = ("check-in", "note")
"""The outcomes of the log rows a check-in or an event note writes
(:mod:`indicators.checkins`): not loads, so nothing to undo."""
SHOWN_SLICES = 3
"""Slices named in a refusal; more are counted."""


def _q(name: str) -> str:
    """Quote an identifier taken from the schema's fixed lists."""
    return '"' + name + '"'


def _stored_columns(dataset: Dataset) -> list[str]:
    """The columns of the dataset's table: its own and, for events, the derived ``month``."""
    return [*dataset.column_names, *(["month"] if dataset.event else [])]


def _key_type(dataset: Dataset, key: str) -> str:
    """The SQL type of a slice key column in the dataset's table (``month`` is a DATE)."""
    return "DATE" if key == "month" else dataset.column(key).sql_type


def _match(dataset: Dataset, table: str) -> str:
    """``table``'s row lies in slice ``s`` (columns ``k0``, ``k1`` typed like the table's)."""
    return " AND ".join(f"{table}.{_q(k)} = s.k{i}" for i, k in enumerate(dataset.slice_key))


# --- what a load keeps ----------------------------------------------------------------------


_TEMP_TABLE = re.compile(r"[a-z_]+")


def keep_removed(
    con: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    load_id: int,
    *,
    slices: str | None,
    stored_until: int | None = None,
) -> None:
    """Before load ``load_id``'s DELETE (same transaction): keep the rows it will remove.

    ``slices``: the temp table of the load's slice keys (``k0``, ``k1``, typed like the table's
    columns) that its DELETE joins; None: the load replaces the whole table.  ``stored_until``:
    the table's last rowid before the load, when the load's own rows are in the table already
    (only the rows up to it are stored ones; ``-1``: the table was empty, nothing is copied);
    None: every row of the table is a stored one.
    """
    if slices is not None and not _TEMP_TABLE.fullmatch(slices):
        raise ValueError(f"not a temp table name: {slices!r}")
    name = dataset.name
    if slices is None:
        con.execute("INSERT INTO upload_slices VALUES (?, ?, NULL, NULL)", [load_id, name])
    else:
        con.execute(
            "INSERT INTO upload_slices SELECT ?, ?, CAST(k0 AS VARCHAR), CAST(k1 AS VARCHAR) "
            f"FROM {slices}",
            [load_id, name],
        )
    if stored_until is not None and stored_until < 0:
        return
    table = _q(name)
    columns = _stored_columns(dataset)
    source = table if slices is None else f"{table} JOIN {slices} AS s ON {_match(dataset, table)}"
    where, params = "true", {"load_id": load_id}
    if stored_until is not None:
        where, params["stored_until"] = f"NOT ({table}.rowid > $stored_until)", stored_until
    con.execute(
        f"INSERT INTO {_q(store.removed_table(name))} (load_id, {', '.join(map(_q, columns))}) "
        f"SELECT $load_id, {', '.join(f'{table}.{_q(c)}' for c in columns)} "
        f"FROM {source} WHERE {where}",
        params,
    )


_NEWEST_ACCEPTED = """SELECT min(id), count(*) FROM (
    SELECT id FROM upload_log WHERE outcome = 'accepted' ORDER BY id DESC LIMIT ?)"""


def prune(con: duckdb.DuckDBPyConnection) -> None:
    """Drop what is kept for loads older than the last :data:`UNDO_KEEP_LOADS` accepted ones
    (in the caller's transaction, after the new load's log entry)."""
    oldest, kept = con.execute(_NEWEST_ACCEPTED, [UNDO_KEEP_LOADS]).fetchone()
    if kept < UNDO_KEEP_LOADS:
        return
    (lowest,) = con.execute("SELECT min(load_id) FROM upload_slices").fetchone()
    if lowest is None or lowest >= oldest:
        return
    for table in store.UNDO_TABLES:
        con.execute(f"DELETE FROM {_q(table)} WHERE load_id < ?", [oldest])


# --- refusals --------------------------------------------------------------------------------


class UndoRefused(ValueError):
    """The load cannot be undone (now); the message names it and says why.  Nothing changed."""

    def __init__(self, load_id: int, message: str) -> None:
        super().__init__(message)
        self.load_id = load_id


@dataclass(frozen=True)
class _Entry:
    id: int
    file_name: str
    dataset: str | None
    slices: str
    outcome: str
    undoes: int | None

    def name(self) -> str:
        return f"upload #{self.id} ({self.file_name})"


def _entry(con: duckdb.DuckDBPyConnection, load_id: int) -> _Entry | None:
    row = con.execute(
        "SELECT id, file_name, dataset, coalesce(slices, ''), outcome, undoes "
        "FROM upload_log WHERE id = ?",
        [load_id],
    ).fetchone()
    return None if row is None else _Entry(*row)


# Pairs (load, later load of the same dataset that replaced an overlapping slice, that slice):
# equal keys, or either load replaced the whole table (k0 NULL).  Three joins rather than one
# with OR, so the equal keys are matched by hash, not pair by pair.
_OVERLAPS = """
    SELECT a.load_id AS id, b.load_id AS later, b.k0, b.k1
    FROM upload_slices AS a JOIN upload_slices AS b
      ON b.dataset = a.dataset AND b.k0 = a.k0 AND b.k1 = a.k1 AND b.load_id > a.load_id
    UNION ALL
    SELECT a.load_id, b.load_id, b.k0, b.k1
    FROM (SELECT * FROM upload_slices WHERE k0 IS NULL) AS a JOIN upload_slices AS b
      ON b.dataset = a.dataset AND b.load_id > a.load_id
    UNION ALL
    SELECT a.load_id, b.load_id, b.k0, b.k1
    FROM upload_slices AS a JOIN (SELECT * FROM upload_slices WHERE k0 IS NULL) AS b
      ON b.dataset = a.dataset AND b.load_id > a.load_id"""

_BLOCKERS = f"""
    SELECT DISTINCT o.later, l.file_name, o.k0, o.k1
    FROM ({_OVERLAPS}) AS o JOIN upload_log AS l ON l.id = o.later
    WHERE o.id = ?
    ORDER BY o.later DESC, o.k0, o.k1"""


def _slice_text(dataset: str, k0: str | None, k1: str | None) -> str:
    if k0 is None:
        return f"the whole {dataset} table"
    first = k0[:7] if DATASETS[dataset].slice_key[0] == "month" else k0
    return f"{first} {k1}"


def _blocked(con: duckdb.DuckDBPyConnection, entry: _Entry) -> str | None:
    """Why a later load stops ``entry``'s undo, or None."""
    rows = con.execute(_BLOCKERS, [entry.id]).fetchall()
    if not rows:
        return None
    later, file_name = rows[0][0], rows[0][1]
    mine = [_slice_text(entry.dataset or "", k0, k1) for lid, _, k0, k1 in rows if lid == later]
    shown = ", ".join(mine[:SHOWN_SLICES])
    if len(mine) > SHOWN_SLICES:
        shown += f" and {len(mine) - SHOWN_SLICES} more slices"
    others = sorted({lid for lid, *_ in rows} - {later}, reverse=True)
    also = ""
    if others:
        also = " (later upload" + ("s " if len(others) > 1 else " ")
        also += ", ".join(f"#{lid}" for lid in others) + " overlap it too: undo newest first)"
    return f"upload #{later} ({file_name}) later replaced {shown}; undo #{later} first{also}"


def _is_kept(con: duckdb.DuckDBPyConnection, load_id: int) -> bool:
    found = con.execute("SELECT 1 FROM upload_slices WHERE load_id = ? LIMIT 1", [load_id])
    return found.fetchone() is not None


def _among_newest(con: duckdb.DuckDBPyConnection, load_id: int) -> bool:
    oldest, kept = con.execute(_NEWEST_ACCEPTED, [UNDO_KEEP_LOADS]).fetchone()
    return kept < UNDO_KEEP_LOADS or load_id >= oldest


def refusal(con: duckdb.DuckDBPyConnection, load_id: int) -> str | None:
    """Why load ``load_id`` cannot be undone now (the message :class:`UndoRefused` carries), or
    None if it can.  Reads only."""
    entry = _entry(con, load_id)
    if entry is None:
        return f"cannot undo upload #{load_id}: there is no such upload in the log"
    head = f"cannot undo {entry.name()}"
    if entry.outcome == UNDO_OUTCOME:
        return (
            f"{head}: it is itself an undo (of #{entry.undoes}), and an undo cannot be undone; "
            "upload the file again to redo it"
        )
    if entry.outcome in STORY_OUTCOMES:
        return (f"{head}: it is a {entry.outcome}, not a load; check-ins and notes stay as "
                "written")
    if entry.outcome != "accepted":
        return f"{head}: it was {entry.outcome}, so it changed nothing and there is nothing to undo"
    (undone_by,) = con.execute(
        "SELECT min(id) FROM upload_log WHERE undoes = ?", [load_id]
    ).fetchone()
    if undone_by is not None:
        return f"{head}: it was already undone by #{undone_by}"
    if not _is_kept(con, load_id):
        if load_id <= store.undo_cleared_through(con):
            return (
                f"{head}: the time zone setting was changed after it, which moved the stored "
                "rows to their months in the new zone and cleared what undo kept; upload the "
                "files again to change the data"
            )
        if _among_newest(con, load_id):
            return f"{head}: it was loaded before undo existed, so the rows it replaced were not kept"
        return (
            f"{head}: it is older than the last {UNDO_KEEP_LOADS} accepted uploads, whose "
            "replaced rows are the only ones kept"
        )
    blocked = _blocked(con, entry)
    return None if blocked is None else f"{head}: {blocked}"


# --- undo ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UndoResult:
    """An undo that was done."""

    load_id: int
    """The undo's own ``upload_log`` entry."""
    undoes: int
    """The load it undid."""
    file_name: str
    dataset: str
    slices: str
    """The slices the load replaced, as the log writes them (empty: the whole table)."""
    restored: int
    """Rows put back: the rows the load had removed."""
    removed: int
    """Rows taken out: the rows the load had stored."""
    message: str


def undo_load(con: duckdb.DuckDBPyConnection, load_id: int, *, user: str | None) -> UndoResult:
    """Undo accepted load ``load_id`` in one transaction (see the module docstring).

    :class:`UndoRefused` (nothing changed) when :func:`refusal` gives a reason.  The checks run
    inside the transaction, so nothing can slip in between them and the undo.
    """
    with con.cursor() as cur:
        cur.execute("BEGIN TRANSACTION")
        try:
            result = _undo(cur, load_id, user)
            store.pause_for_test("undo_before_commit")
            cur.execute("COMMIT")
        except BaseException:
            _rollback(cur)
            raise
    store.pause_for_test("undo_committed")
    return result


def _undo(con: duckdb.DuckDBPyConnection, load_id: int, user: str | None) -> UndoResult:
    why = refusal(con, load_id)
    if why is not None:
        raise UndoRefused(load_id, why)
    entry = _entry(con, load_id)
    assert entry is not None and entry.dataset is not None
    dataset = DATASETS[entry.dataset]
    table = _q(dataset.name)
    kept = _q(store.removed_table(dataset.name))
    columns = ", ".join(map(_q, _stored_columns(dataset)))
    keys = ", ".join(
        f"CAST(k{i} AS {_key_type(dataset, k)}) AS k{i}" for i, k in enumerate(dataset.slice_key)
    )
    slices = con.execute(
        "SELECT k0, k1 FROM upload_slices WHERE load_id = ? ORDER BY ALL", [load_id]
    ).fetchall()
    whole = any(k0 is None for k0, _ in slices)
    if whole:
        (removed,) = con.execute(f"DELETE FROM {table}").fetchone()
    else:
        (removed,) = con.execute(
            f"DELETE FROM {table} USING (SELECT {keys} FROM upload_slices WHERE load_id = ?) "
            f"AS s WHERE {_match(dataset, table)}",
            [load_id],
        ).fetchone()
    store.pause_for_test("undo_deleted")
    (restored,) = con.execute(
        f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {kept} WHERE load_id = ?",
        [load_id],
    ).fetchone()
    store.pause_for_test("undo_restored")
    con.execute(f"DELETE FROM {kept} WHERE load_id = ?", [load_id])
    con.execute("DELETE FROM upload_slices WHERE load_id = ?", [load_id])
    stored_indicators.refresh(con, dataset.name, None if whole or not slices else slices)
    store.pause_for_test("undo_indicators_kept")
    message = (
        f"undid {entry.name()}: restored {restored:,} row{'' if restored == 1 else 's'}, "
        f"removed {removed:,}"
    )
    (undo_id,) = con.execute(
        """INSERT INTO upload_log (uploaded_at, "user", file_name, dataset, slices, "rows",
                                   outcome, message, undoes)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
        [
            dt.datetime.now(dt.UTC).replace(tzinfo=None), user, entry.file_name, dataset.name,
            entry.slices, restored, UNDO_OUTCOME, message, load_id,
        ],
    ).fetchone()
    return UndoResult(
        undo_id, load_id, entry.file_name, dataset.name, entry.slices, restored, removed, message
    )


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """ROLLBACK; a COMMIT that failed (a full disk) has ended the transaction already."""
    try:
        con.execute("ROLLBACK")
    except duckdb.TransactionException as exc:
        if "no transaction is active" not in str(exc):
            raise


# --- what can be undone ------------------------------------------------------------------------


_KEPT_ROWS = " UNION ALL ".join(
    f'SELECT load_id, count(*) AS n FROM "{store.removed_table(name)}" GROUP BY ALL'
    for name in DATASETS
)
_UNDOABLE = f"""
    SELECT l.id, l.uploaded_at, l."user", l.file_name, l.dataset, l.slices, l."rows",
           coalesce(k.n, 0) AS replaced_rows, w.whole_table
    FROM upload_log AS l
    JOIN (SELECT load_id, bool_or(k0 IS NULL) AS whole_table FROM upload_slices GROUP BY ALL)
      AS w ON w.load_id = l.id
    LEFT JOIN ({_KEPT_ROWS}) AS k ON k.load_id = l.id
    WHERE l.outcome = 'accepted'
      AND l.id NOT IN (SELECT id FROM ({_OVERLAPS}))
      AND NOT EXISTS (SELECT 1 FROM upload_log AS u WHERE u.undoes = l.id)
    ORDER BY l.id DESC
    LIMIT ?"""


def undoable(con: duckdb.DuckDBPyConnection, *, limit: int = UNDO_KEEP_LOADS) -> pd.DataFrame:
    """The loads that can be undone now (kept, not undone, no later load overlaps them), newest
    first: ``id, uploaded_at, user, file_name, dataset, slices, rows`` as in the log, plus
    ``replaced_rows`` (the rows an undo puts back) and ``whole_table`` (it replaced the whole
    table: an undo deletes every row the table holds now)."""
    return con.execute(_UNDOABLE, [limit]).df()


# --- command line ------------------------------------------------------------------------------


def run_cli(
    db: str, load_id: int, *, user: str | None, wait: float = store.DEFAULT_WAIT_SECONDS
) -> int:
    """``python -m indicators undo``: 0 undone, 1 refused (why on stderr), busy or no database.

    While another process holds the file, wait up to ``wait`` seconds (saying so on stderr),
    then give up with exit 1 and nothing changed.
    """
    if not Path(db).is_file():
        store.print_to_stderr(f"error: {store.printable(db)} does not exist; nothing to undo")
        return 1
    try:
        con = store.connect_waiting(db, wait=wait, notify=store.print_to_stderr)
    except store.DatabaseBusy as err:
        store.print_to_stderr(
            f"error: {store.printable(db)}: {err}; nothing was undone, try again later"
        )
        return 1
    try:
        result = undo_load(con, load_id, user=user)
    except UndoRefused as refused:
        store.print_to_stderr(f"error: {store.printable(str(refused))}; nothing was changed")
        return 1
    finally:
        con.close()
    print(store.printable(f"{result.message} (logged as #{result.load_id})"), flush=True)
    return 0
