"""Loading a clean file: one transaction that inserts its rows, checks what only the inserted
rows can tell, logs the upload, keeps the replaced rows for undo and deletes them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb

from indicators import store, undo
from indicators.ingest.cells import stage_columns
from indicators.ingest.dates import DateFormat
from indicators.ingest.problems import IngestResult, Problem, reject_one, slices_text
from indicators.ingest.read_csv import lost_records
from indicators.ingest.rules import source_rules, unique_sets
from indicators.ingest.source import Source
from indicators.ingest.sql import REJECTS, SLICES, STAGE, Params, drop_rejects, quote, table_name
from indicators.schema import (
    ALL_DEPARTMENTS_TARGET,
    DATASETS,
    MONTH_DATASETS,
    Dataset,
)

# Fixed statements (identifiers from the module's constants and the schema's names only).
_NEW_ROWS = "rowid > $stored_until"
"""The rows a load appended: after the table's last rowid before it (parameter)."""
_LAST_ROWID = {name: f"SELECT coalesce(max(rowid), -1) FROM {quote(name)}" for name in DATASETS}
_DELETE_STORED = {name: f"DELETE FROM {quote(name)} WHERE NOT ({_NEW_ROWS})" for name in DATASETS}
"""Per dataset: its table's last rowid; delete every row but the load's (replace-all)."""
_COUNT_RAGGED = f"SELECT count(*) FROM temp.{REJECTS}"
_SORTED_SLICES = f"SELECT * FROM {SLICES} ORDER BY ALL"



class NotClean(Exception):
    """The fast load found something wrong; it rolled back and the full path reports it."""


_BROKEN_ROW = "a row breaks a rule of the contract"
"""The fast load's error text (a constant): a broken row aborts its INSERT."""


def load_clean(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    dataset: Dataset,
    positions: dict[str, int],
    result: IngestResult,
    user: str | None,
    *,
    date_format: DateFormat | None,
    date_format_name: str,
    time_zone: str,
    replace_all: bool,
) -> None:
    """The fast path: load a clean file straight into its table in one transaction.

    One ``INSERT … SELECT`` reads the file and writes the typed values into the table (the
    stored table is the only copy made: staging first and copying after cost as much again).
    A row that breaks any rule aborts the INSERT — its first column is ``error(…)`` for such a
    row — and so does DuckDB on a row it cannot split.  Still inside the transaction: ragged
    rows (the rejects table), duplicate keys among the new rows (sorted 64-bit hashes of the
    key: distinct hashes prove distinct keys; fewer hashes than keys, a duplicate or very rarely
    a collision, counts as not clean) and an empty file are checked; then the log row is
    written, the stored rows of the file's slices kept for undo and deleted, and the
    transaction committed.

    The new rows are told from the stored ones by ``rowid``: rows appended inside a transaction
    get row ids above every stored row's.  Anything wrong raises :class:`NotClean` (or a
    ``duckdb.Error``) after a ROLLBACK: nothing was changed, and the caller's full path stages
    the file again to report every problem exactly.
    """
    p = Params()
    raw, typed = stage_columns(
        source, dataset, positions, p, date_format=date_format, time_zone=time_zone
    )
    rules = source_rules(source, dataset, positions, date_format=date_format_name)
    for rule in rules:
        p.values.update(rule.params)
    broken = " OR ".join(f"({r.violated})" for r in rules) or "false"
    targets = list(dataset.column_names) + (["month"] if dataset.event else [])
    values = [quote("v_" + c) for c in targets]
    values[0] = f"CASE WHEN {broken} THEN error({p(_BROKEN_ROW)}) ELSE {values[0]} END"
    table = table_name(dataset)
    if source.csv_path is not None:
        drop_rejects(con)
    con.execute("BEGIN TRANSACTION")
    try:
        (stored_until,) = con.execute(_LAST_ROWID[dataset.name]).fetchone()
        until = {"stored_until": stored_until}
        (result.rows,) = con.execute(
            f"INSERT INTO {table} ({', '.join(quote(c) for c in targets)}) "
            f"SELECT {', '.join(values)} FROM (SELECT *, {', '.join(typed)} "
            f"FROM (SELECT {', '.join(raw)} FROM {source.from_sql}))",
            p.values,
        ).fetchone()
        store.pause_for_test("staged")
        if result.rows == 0 and not replace_all:
            raise NotClean("no data rows")
        if source.csv_path is not None:
            (ragged,) = con.execute(_COUNT_RAGGED).fetchone()
            if ragged:
                raise NotClean("ragged rows")
            if lost_records(source, result.rows):
                raise NotClean("rows lost")
        for cols in unique_sets(dataset):
            if not all(c in positions for c in cols):
                continue
            key = ", ".join(quote(c) for c in cols)
            present = " AND ".join(f"{quote(c)} IS NOT NULL" for c in cols)
            # Rows whose hash equals the previous one in hash order (a sort: about a third
            # faster at 10 M rows than count(DISTINCT …), whose hash table holds every key).
            (same,) = con.execute(
                f"SELECT count(*) FILTER (WHERE h = before) FROM (SELECT h, lag(h) OVER "
                f"(ORDER BY h) AS before FROM (SELECT hash({key}) AS h FROM {table} "
                f"WHERE {_NEW_ROWS} AND {present}))",
                until,
            ).fetchone()
            if same:
                raise NotClean("duplicate keys")
        result.slices = collect_slices(con, dataset, f"{table} WHERE {_NEW_ROWS}", prefix="", params=until)
        if _many_departments(dataset, result.slices) or _unknown_departments(
            con, dataset, result.slices
        ):
            # The full path weighs them (guard_departments, warn_unknown_departments).
            raise NotClean("departments to weigh")
        result.outcome = "accepted"
        result.message = accepted_message(result, dataset, replace_all=replace_all)
        load_id = _log(con, result, user, slices_text(result.slices))
        undo.keep_removed(
            con, dataset, load_id, slices=None if replace_all else SLICES,
            stored_until=stored_until,
        )
        if replace_all:
            con.execute(_DELETE_STORED[dataset.name], until)
        else:
            match = " AND ".join(
                f"{table}.{quote(k)} = s.k{i}" for i, k in enumerate(dataset.slice_key)
            )
            con.execute(
                f"DELETE FROM {table} USING {SLICES} AS s WHERE NOT ({table}.{_NEW_ROWS}) "
                f"AND {match}",
                until,
            )
        store.pause_for_test("deleted")
        store.pause_for_test("inserted")
        undo.prune(con)
        store.pause_for_test("before_commit")
        con.execute("COMMIT")
    except BaseException:
        _rollback(con)
        result.outcome, result.rows, result.slices, result.message = "rejected", 0, [], ""
        result.load_id = None
        raise
    store.pause_for_test("committed")


MAX_NEW_DEPARTMENTS: int = 1_000
"""More new departments than this in one file (names no stored row holds) is a warning, and
with ``ingest --strict`` a rejection: it is nearly always swapped columns (ids read as
departments), and every report and page then carries a line per id — a file of 200,000 such
departments made ``report`` pass 9.8 GB."""
_DEPARTMENT_EXAMPLES = 3


def _slice_departments(dataset: Dataset, slices: Sequence[tuple[str, ...]]) -> set[str]:
    at = dataset.slice_key.index("department")
    return {s[at] for s in slices}


def _many_departments(dataset: Dataset, slices: Sequence[tuple[str, ...]]) -> bool:
    """More departments in the file than may be new: only then are the stored ones looked up."""
    return len(_slice_departments(dataset, slices)) > MAX_NEW_DEPARTMENTS


def guard_departments(
    con: duckdb.DuckDBPyConnection, dataset: Dataset, result: IngestResult, *, strict: bool
) -> None:
    """Warn about a file bringing more than :data:`MAX_NEW_DEPARTMENTS` new departments, or
    with ``strict`` reject it; runs before the load's transaction, so stored rows are the old."""
    if not _many_departments(dataset, result.slices):
        return
    stored = set(store.departments(con)) | {ALL_DEPARTMENTS_TARGET}
    new = sorted(_slice_departments(dataset, result.slices) - stored)
    if len(new) <= MAX_NEW_DEPARTMENTS:
        return
    examples = ", ".join(repr(d[:40]) for d in new[:_DEPARTMENT_EXAMPLES])
    text = (
        f"{len(new):,} new departments (no stored row names them), more than "
        f"{MAX_NEW_DEPARTMENTS:,} in one file, e.g. {examples}; check that the columns are "
        "not swapped"
    )
    if strict:
        raise reject_one(
            result.file_name, f"{text} (--strict)", column="department", value=str(len(new))
        )
    result.warnings.append(text)
    result.message += f"; warning: {text}"


_UNKNOWN_EXAMPLES = 5
_UNSTORED_DEPARTMENTS = (
    "SELECT d FROM (SELECT DISTINCT unnest(CAST($names AS VARCHAR[])) AS d) AS named WHERE "
    + " AND ".join(
        f'NOT EXISTS (SELECT 1 FROM "{name}" WHERE "{name}".department = named.d)'
        for name in MONTH_DATASETS
    )
    + " ORDER BY d"
)
"""Of ``$names``, those that no row of any dataset with months names (fixed identifiers)."""


def _unknown_departments(
    con: duckdb.DuckDBPyConnection, dataset: Dataset, slices: Sequence[tuple[str, ...]]
) -> list[str]:
    """The departments a targets file names that no stored row of any dataset holds, sorted
    (``*``, all departments, is never unknown); none for other datasets."""
    if dataset.month_column is not None:  # only targets are not sliced by month
        return []
    named = sorted(_slice_departments(dataset, slices) - {ALL_DEPARTMENTS_TARGET})
    if not named:
        return []
    return [d for (d,) in con.execute(_UNSTORED_DEPARTMENTS, {"names": named}).fetchall()]


def warn_unknown_departments(
    con: duckdb.DuckDBPyConnection, dataset: Dataset, result: IngestResult
) -> None:
    """A targets file naming departments without data is loaded, with a warning naming them:
    usually a typo, sometimes a department whose first files are still to come."""
    unknown = _unknown_departments(con, dataset, result.slices)
    if not unknown:
        return
    names = ", ".join(repr(d[:40]) for d in unknown[:_UNKNOWN_EXAMPLES])
    more = len(unknown) - _UNKNOWN_EXAMPLES
    plural = len(unknown) != 1
    text = (
        f"targets for {len(unknown):,} department{'s' if plural else ''} without any data: "
        f"{names}" + (f" and {more:,} more" if more > 0 else "")
        + " — check the spelling (the targets are stored, and show no data until "
        f"{'their' if plural else 'its'} files are loaded)"
    )
    result.warnings.append(text)
    result.message += f"; warning: {text}"


def accepted_message(result: IngestResult, dataset: Dataset, *, replace_all: bool) -> str:
    return f"{result.rows} rows of {dataset.name} loaded; replaced " + (
        "the whole table" if replace_all else slices_text(result.slices)
    )



# --- loading and the log -------------------------------------------------------------------


def collect_slices(
    con: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    rows: str = STAGE,
    *,
    prefix: str = "v_",
    params: dict[str, object] | None = None,
) -> list[tuple[str, str]]:
    """The distinct slice keys of ``rows`` (the stage, or the new rows of the table; ``params``
    for its parameters), kept in the temp table the DELETE joins, and returned sorted as text."""
    keys = ", ".join(f"{quote(prefix + k)} AS k{i}" for i, k in enumerate(dataset.slice_key))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {SLICES} AS SELECT DISTINCT {keys} FROM {rows}", params
    )
    found = con.execute(_SORTED_SLICES).fetchall()
    return [
        tuple(v.strftime("%Y-%m") if isinstance(v, dt.date) else str(v) for v in row)
        for row in found
    ]


def _log(
    con: duckdb.DuckDBPyConnection, result: IngestResult, user: str | None, slices: str
) -> int:
    """Write the file's ``upload_log`` entry; its id, also set as ``result.load_id``."""
    (result.load_id,) = con.execute(
        """INSERT INTO upload_log (uploaded_at, "user", file_name, dataset, slices, "rows",
                                   outcome, message)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
        [
            dt.datetime.now(dt.UTC).replace(tzinfo=None),
            user,
            result.file_name,
            result.dataset,
            slices,
            result.rows,
            result.outcome,
            result.message,
        ],
    ).fetchone()
    return result.load_id


def load_staged(
    con: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    result: IngestResult,
    user: str | None,
    *,
    replace_all: bool,
) -> None:
    """Replace the file's slices and log the upload, all in one transaction.

    The log entry comes first: its id marks the rows the DELETE removes, kept for undo
    (:func:`indicators.undo.keep_removed`) before they go.
    """
    table = table_name(dataset)
    targets = list(dataset.column_names) + (["month"] if dataset.event else [])
    if replace_all:
        delete = f"DELETE FROM {table}"
    else:
        match = " AND ".join(f"{table}.{quote(k)} = s.k{i}" for i, k in enumerate(dataset.slice_key))
        delete = f"DELETE FROM {table} USING {SLICES} AS s WHERE {match}"
    # store.pause_for_test: no-op unless $INDICATORS_TEST_PAUSE_AT names the point (crash tests).
    store.pause_for_test("staged")
    con.execute("BEGIN TRANSACTION")
    try:
        load_id = _log(con, result, user, slices_text(result.slices))
        undo.keep_removed(con, dataset, load_id, slices=None if replace_all else SLICES)
        con.execute(delete)
        store.pause_for_test("deleted")
        con.execute(
            f"INSERT INTO {table} ({', '.join(quote(c) for c in targets)}) "
            f"SELECT {', '.join(quote('v_' + c) for c in targets)} FROM {STAGE}"
        )
        store.pause_for_test("inserted")
        undo.prune(con)
        store.pause_for_test("before_commit")
        con.execute("COMMIT")
    except BaseException:
        _rollback(con)
        result.load_id = None
        raise
    store.pause_for_test("committed")


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """ROLLBACK after a failed step of a load.  A COMMIT that could not write (a full disk)
    has ended the transaction already: its error, not "no transaction is active", is raised."""
    try:
        con.execute("ROLLBACK")
    except duckdb.TransactionException as exc:
        if "no transaction is active" not in str(exc):
            raise


def log_rejection(
    con: duckdb.DuckDBPyConnection,
    result: IngestResult,
    problems: list[Problem],
    total: int,
    user: str | None,
) -> IngestResult:
    result.outcome = "rejected"
    result.problems = problems
    result.slices = []
    # The outcome is said by whoever shows the message ("rejected: f.csv — …", the log's
    # outcome column), so the message itself does not repeat it.
    if total > len(problems):
        result.message = f"{total} problems (the first {len(problems)} listed); nothing was stored"
    elif len(problems) == 1:
        result.message = f"{problems[0].rule}; nothing was stored"
    else:
        result.message = f"{len(problems)} problems; nothing was stored"
    _log(con, result, user, "")
    return result
