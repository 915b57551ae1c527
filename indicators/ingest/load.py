"""Loading a clean file: the one transaction that writes a file's rows (no other code does).

The transaction, one function per step; the ``checkpoint`` named in brackets is called once
the step is done (a crash test stops or kills the process there):

1. :func:`_insert`: one ``INSERT … SELECT`` reads the file and writes its typed rows into the
   table; a row that breaks a rule aborts it  [``inserted``]
2. :func:`_check`: what only the whole file tells — no data rows, ragged rows, records lost,
   duplicate keys
3. :func:`_warnings`: the file's slices, then what loads but looks wrong (found while reading,
   in the new rows, about departments); with ``strict`` a warning rejects the file
4. :func:`_log`: the ``upload_log`` row  [``logged``]
5. :func:`indicators.undo.keep_removed`: the stored rows of the slices, kept for undo
   [``kept_for_undo``]
6. :func:`_delete_old_slices`: those stored rows deleted  [``old_slices_deleted``]
7. :func:`indicators.undo.prune`: what older loads kept beyond the last 20  [``undo_pruned``]
8. :func:`indicators.stored_indicators.refresh`: the stored indicators the file's slices can
   change, recomputed  [``indicators_kept``]
9. ``COMMIT``  [``committed``]

**Why rowid.** The new rows go straight into the table (staging them first and copying after
costs as much again), so until the DELETE the table holds the stored rows and the file's
together.  Rows appended inside a transaction get row ids above every stored row's, so the
table's last rowid before the INSERT (``stored_until``) tells them apart: ``rowid >
$stored_until`` are the file's rows, the others the stored ones — for the checks, the slices,
the warnings, the undo copy and the DELETE.

**What goes wrong.** Every way out before the COMMIT rolls the whole transaction back first.
A file that is not clean raises :class:`NotClean`, and the caller explains it
(:mod:`indicators.ingest.explain`: staged again, every problem found).  Only three things make
a file not clean: a row breaking a rule (DuckDB's error carries :data:`_BROKEN_ROW`), DuckDB's
CSV reader giving up on the file (:func:`csv_reader_gave_up`), and a failed :func:`_check`.
A warning with ``strict`` raises :class:`~indicators.ingest.problems.Rejected`.  Any other
error (a full disk, a fault of the code) is raised as it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import partial

import duckdb
import numpy as np

from indicators import stored_indicators, undo
from indicators.ingest.cells import stage_columns
from indicators.ingest.dates import DateFormat
from indicators.ingest.problems import (
    FileWarning,
    IngestResult,
    Problem,
    Rejected,
    rejection_message,
    slices_text,
    summarise,
)
from indicators.ingest.read_csv import file_rows, lost_records
from indicators.ingest.rules import any_violated, source_rules, unique_sets
from indicators.ingest.source import Source
from indicators.ingest.sql import REJECTS, SLICES, Params, drop_rejects, quote, table_name
from indicators.ingest.warnings import row_warnings
from indicators.schema import (
    ALL_DEPARTMENTS_TARGET,
    DATASETS,
    MONTH_DATASETS,
    Dataset,
)

Checkpoint = Callable[[str], None]
"""Called with a point's name once the load has got there (see the module docstring)."""


def no_checkpoint(point: str) -> None:
    """The default :data:`Checkpoint`: nothing happens at any point."""


class NotClean(Exception):
    """The file is not clean; the load rolled back (nothing changed) and the caller explains it.

    ``reader_error``: DuckDB's CSV reader gave up on the file (staging it again would too).
    """

    def __init__(self, reason: str, reader_error: duckdb.Error | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reader_error = reader_error


_BROKEN_ROW = "a row breaks a rule of the contract"
"""The INSERT's ``error(…)`` text (a constant): a broken row aborts the statement."""
_BROKEN_ROW_ERROR = f"Invalid Input Error: {_BROKEN_ROW}"
"""What DuckDB raises (an ``InvalidInputException``) when that ``error(…)`` fires, whole."""
_CSV_READER_GAVE_UP = (
    "Invalid Input Error: The CSV Parser state machine reached an invalid state"
)
"""How DuckDB 2.0's error begins (an ``InvalidInputException``) when its CSV reader cannot go
on at all: a file mixing CRLF and LF, a lone CR outside quotes.  Ragged rows, bad quotes and
invalid UTF-8 go to its rejects table instead (they are :func:`_check`'s ragged rows)."""

# Fixed statements (identifiers from the module's constants and the schema's names only).
_NEW_ROWS = "rowid > $stored_until"
"""The rows a load appended: after the table's last rowid before it (parameter)."""
_LAST_ROWID = {name: f"SELECT coalesce(max(rowid), -1) FROM {quote(name)}" for name in DATASETS}
_DELETE_STORED = {name: f"DELETE FROM {quote(name)} WHERE NOT ({_NEW_ROWS})" for name in DATASETS}
"""Per dataset: its table's last rowid; delete every row but the load's (replace-all)."""
_COUNT_RAGGED = f"SELECT count(*) FROM temp.{REJECTS}"
_SORTED_SLICES = f"SELECT * FROM {SLICES} ORDER BY ALL"
_OLD_DEPARTMENTS = {
    name: " UNION ".join(
        f"SELECT DISTINCT department FROM {quote(other)}"
        + (f" WHERE NOT ({_NEW_ROWS})" if other == name else "")
        for other in MONTH_DATASETS
    )
    for name in DATASETS
}
"""Per dataset being loaded: every department a stored row names (the load's rows aside)."""


def csv_reader_gave_up(err: BaseException) -> bool:
    """Whether ``err`` is DuckDB's CSV reader giving up on a file (:data:`_CSV_READER_GAVE_UP`)."""
    return isinstance(err, duckdb.InvalidInputException) and str(err).startswith(
        _CSV_READER_GAVE_UP
    )


def _not_clean(err: BaseException, source: Source) -> NotClean | None:
    """``err`` as :class:`NotClean` when it says the file is not clean; else None (raise it)."""
    if isinstance(err, NotClean):
        return err
    if isinstance(err, duckdb.InvalidInputException) and str(err) == _BROKEN_ROW_ERROR:
        return NotClean("a row breaks a rule")
    if source.csv_path is not None and csv_reader_gave_up(err):
        return NotClean("DuckDB's CSV reader gave up on the file", reader_error=err)
    return None


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
    strict: bool = False,
    checkpoint: Checkpoint = no_checkpoint,
) -> None:
    """Load a clean file into its table and log it, in one transaction (see the module).

    Fills ``result`` (rows, slices, message, warnings, load id).  Raises :class:`NotClean` or
    :class:`~indicators.ingest.problems.Rejected` (``strict``) after a ROLLBACK, and any other
    error as it is, after a ROLLBACK too.
    """
    insert, params = _insert_statement(
        source, dataset, positions,
        date_format=date_format, date_format_name=date_format_name, time_zone=time_zone,
    )
    if source.csv_path is not None:
        drop_rejects(con)
    con.execute("BEGIN TRANSACTION")
    try:
        (stored_until,) = con.execute(_LAST_ROWID[dataset.name]).fetchone()
        until = {"stored_until": stored_until}
        (result.rows,) = con.execute(insert, params).fetchone()
        checkpoint("inserted")
        _check(con, source, dataset, positions, result.rows, until, replace_all=replace_all)
        result.slices = _collect_slices(con, dataset, until)
        weighed, noted = _warnings(con, source, dataset, result.slices, until)
        if strict and weighed:
            raise Rejected(
                [Problem(result.file_name, None, w.column, w.value, f"{w.text} (--strict)")
                 for w in weighed]
            )
        result.outcome = "accepted"
        result.message = _accepted_message(result, dataset, replace_all=replace_all)
        for warning in weighed + noted:
            result.warnings.append(warning.text)
            result.message += f"; warning: {warning.text}"
        load_id = _log(con, result, user, slices_text(result.slices))
        checkpoint("logged")
        undo.keep_removed(
            con, dataset, load_id, slices=None if replace_all else SLICES,
            stored_until=stored_until,
        )
        checkpoint("kept_for_undo")
        _delete_old_slices(con, dataset, until, replace_all=replace_all)
        checkpoint("old_slices_deleted")
        undo.prune(con)
        checkpoint("undo_pruned")
        stored_indicators.refresh(con, dataset.name, None if replace_all else result.slices)
        checkpoint("indicators_kept")
        con.execute("COMMIT")
    except BaseException as err:
        _rollback(con)
        result.outcome, result.slices, result.message, result.warnings = "rejected", [], "", []
        result.load_id = None
        not_clean = _not_clean(err, source)
        if not_clean is None or not_clean is err:
            raise
        raise not_clean from err
    checkpoint("committed")


def _insert_statement(
    source: Source,
    dataset: Dataset,
    positions: dict[str, int],
    *,
    date_format: DateFormat | None,
    date_format_name: str,
    time_zone: str,
) -> tuple[str, dict[str, object]]:
    """The ``INSERT … SELECT`` that reads the file once and writes the typed values into the
    table (the stored table is the only copy made), and its parameters.  Its first column is
    ``error(…)`` for a row that breaks any rule, which aborts the statement."""
    p = Params()
    raw, typed = stage_columns(
        source, dataset, positions, p, date_format=date_format, time_zone=time_zone
    )
    rules = source_rules(source, dataset, positions, date_format=date_format_name)
    for rule in rules:
        p.values.update(rule.params)
    broken = any_violated(rules)
    targets = list(dataset.column_names) + (["month"] if dataset.event else [])
    values = [quote("v_" + c) for c in targets]
    values[0] = f"CASE WHEN {broken} THEN error({p(_BROKEN_ROW)}) ELSE {values[0]} END"
    statement = (
        f"INSERT INTO {table_name(dataset)} ({', '.join(quote(c) for c in targets)}) "
        f"SELECT {', '.join(values)} FROM (SELECT *, {', '.join(typed)} "
        f"FROM (SELECT {', '.join(raw)} FROM {source.from_sql}))"
    )
    return statement, p.values


def _check(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    dataset: Dataset,
    positions: dict[str, int],
    rows: int,
    until: dict[str, object],
    *,
    replace_all: bool,
) -> None:
    """Raise :class:`NotClean` for what no single row tells: no data rows (unless the load
    replaces the whole table), rows DuckDB could not split (its rejects table), records lost
    between the file's own count and DuckDB's, duplicate keys among the new rows."""
    if rows == 0 and not replace_all:
        raise NotClean("no data rows")
    if source.csv_path is not None:
        (ragged,) = con.execute(_COUNT_RAGGED).fetchone()
        if ragged:
            raise NotClean("ragged rows")
        if lost_records(source, rows):
            raise NotClean("records lost")
    for cols in unique_sets(dataset):
        if all(c in positions for c in cols) and _duplicates(con, dataset, cols, until):
            raise NotClean(f"duplicate {', '.join(cols)}")


def _duplicates(
    con: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    cols: Sequence[str],
    until: dict[str, object],
) -> bool:
    """Whether two new rows share the key ``cols`` (rows missing a part of it aside).

    Sorted 64-bit hashes of the key first: distinct hashes prove distinct keys.  They are
    sorted by NumPy, in one array of 8 bytes a row (80 MB at 10 M rows): its vectorised sort
    took 0.4–0.6 s at 10 M purchases, where DuckDB's ``lag(h) OVER (ORDER BY h)`` took
    1.2–2.1 s and ``count(DISTINCT …)`` more.  Equal hashes are a duplicate or, very rarely, a
    collision: only then are the keys themselves counted, so a collision never rejects a clean
    file.
    """
    table = table_name(dataset)
    key = ", ".join(quote(c) for c in cols)
    present = " AND ".join(f"{quote(c)} IS NOT NULL" for c in cols)
    new = f"FROM {table} WHERE {_NEW_ROWS} AND {present}"
    hashes = con.execute(f"SELECT hash({key}) AS h {new}", until).fetchnumpy()["h"]
    hashes.sort()
    if not np.any(hashes[1:] == hashes[:-1]):
        return False
    (extra,) = con.execute(f"SELECT count(*) - count(DISTINCT ({key})) {new}", until).fetchone()
    return extra > 0


def _warnings(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    dataset: Dataset,
    slices: Sequence[tuple[str, ...]],
    until: dict[str, object],
) -> tuple[list[FileWarning], list[FileWarning]]:
    """What the file does that looks like a mistake, in two lists: warnings that ``strict``
    turns into a rejection (found while reading, in the new rows by
    :func:`indicators.ingest.warnings.row_warnings`, too many new departments), and notes it
    does not (targets for departments without data: often files still to come)."""
    rows = f"{table_name(dataset)} WHERE {_NEW_ROWS}"
    numbered = None if source.csv_path is None else partial(file_rows, source)
    weighed = [*source.warnings, *row_warnings(con, dataset, rows, until, file_rows=numbered)]
    weighed += _many_new_departments(con, dataset, slices, until)
    return weighed, _unknown_departments_warning(con, dataset, slices)


def _log(
    con: duckdb.DuckDBPyConnection, result: IngestResult, user: str | None, slices: str
) -> int:
    """Write the file's ``upload_log`` entry; its id, also set as ``result.load_id``.

    ``warnings``: the result's warnings so far, one a line (NULL: none) — so a load's
    warnings must be found before it is logged."""
    (result.load_id,) = con.execute(
        """INSERT INTO upload_log (uploaded_at, "user", file_name, dataset, slices, "rows",
                                   outcome, message, warnings)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
        [
            dt.datetime.now(dt.UTC).replace(tzinfo=None),
            user,
            result.file_name,
            result.dataset,
            slices,
            result.rows,
            result.outcome,
            result.message,
            "\n".join(result.warnings) or None,
        ],
    ).fetchone()
    return result.load_id


def _delete_old_slices(
    con: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    until: dict[str, object],
    *,
    replace_all: bool,
) -> None:
    """Delete the stored rows of the file's slices (``SLICES``), or every stored row."""
    if replace_all:
        con.execute(_DELETE_STORED[dataset.name], until)
        return
    table = table_name(dataset)
    match = " AND ".join(f"{table}.{quote(k)} = s.k{i}" for i, k in enumerate(dataset.slice_key))
    con.execute(
        f"DELETE FROM {table} USING {SLICES} AS s WHERE NOT ({table}.{_NEW_ROWS}) AND {match}",
        until,
    )


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """ROLLBACK after a failed step of a load.  A COMMIT that could not write (a full disk)
    has ended the transaction already: its error, not "no transaction is active", is raised."""
    try:
        con.execute("ROLLBACK")
    except duckdb.TransactionException as exc:
        if "no transaction is active" not in str(exc):
            raise


# --- departments ---------------------------------------------------------------------------

MAX_NEW_DEPARTMENTS: int = 1_000
"""More new departments than this in one file (names no stored row holds) is a warning, and
with ``ingest --strict`` a rejection: it is nearly always swapped columns (ids read as
departments), and every report and page then carries a line per id — a file of 200,000 such
departments made ``report`` pass 9.8 GB."""
_DEPARTMENT_EXAMPLES = 3


def _slice_departments(dataset: Dataset, slices: Sequence[tuple[str, ...]]) -> set[str]:
    at = dataset.slice_key.index("department")
    return {s[at] for s in slices}


def _many_new_departments(
    con: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    slices: Sequence[tuple[str, ...]],
    until: dict[str, object],
) -> list[FileWarning]:
    """A warning when the file brings more than :data:`MAX_NEW_DEPARTMENTS` departments no
    stored row names (the file's own rows aside); the stored ones are looked up only when the
    file names more departments than that."""
    named = _slice_departments(dataset, slices)
    if len(named) <= MAX_NEW_DEPARTMENTS:
        return []
    stored = {d for (d,) in con.execute(_OLD_DEPARTMENTS[dataset.name], until).fetchall()}
    new = sorted(named - stored - {ALL_DEPARTMENTS_TARGET})
    if len(new) <= MAX_NEW_DEPARTMENTS:
        return []
    examples = ", ".join(repr(d[:40]) for d in new[:_DEPARTMENT_EXAMPLES])
    text = (
        f"{len(new):,} new departments (no stored row names them), more than "
        f"{MAX_NEW_DEPARTMENTS:,} in one file, e.g. {examples}; check that the columns are "
        "not swapped"
    )
    return [FileWarning("department", str(len(new)), text)]


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


def _unknown_departments_warning(
    con: duckdb.DuckDBPyConnection, dataset: Dataset, slices: Sequence[tuple[str, ...]]
) -> list[FileWarning]:
    """A targets file naming departments without data loads with a warning naming them:
    usually a typo, sometimes a department whose first files are still to come (so ``strict``
    does not reject it).  ``*``, all departments, is never unknown; other datasets: none."""
    if dataset.month_column is not None:  # only targets are not sliced by month
        return []
    named = sorted(_slice_departments(dataset, slices) - {ALL_DEPARTMENTS_TARGET})
    if not named:
        return []
    unknown = [d for (d,) in con.execute(_UNSTORED_DEPARTMENTS, {"names": named}).fetchall()]
    if not unknown:
        return []
    names = ", ".join(repr(d[:40]) for d in unknown[:_UNKNOWN_EXAMPLES])
    more = len(unknown) - _UNKNOWN_EXAMPLES
    plural = len(unknown) != 1
    text = (
        f"targets for {len(unknown):,} department{'s' if plural else ''} without any data: "
        f"{names}" + (f" and {more:,} more" if more > 0 else "")
        + " — check the spelling (the targets are stored, and show no data until "
        f"{'their' if plural else 'its'} files are loaded)"
    )
    return [FileWarning("department", str(len(unknown)), text)]


# --- slices, messages and the log of a rejection -------------------------------------------


def _accepted_message(result: IngestResult, dataset: Dataset, *, replace_all: bool) -> str:
    return f"{result.rows} rows of {dataset.name} loaded; replaced " + (
        "the whole table" if replace_all else slices_text(result.slices)
    )


def _collect_slices(
    con: duckdb.DuckDBPyConnection, dataset: Dataset, until: dict[str, object]
) -> list[tuple[str, str]]:
    """The distinct slice keys of the new rows, kept in the temp table ``SLICES`` (the undo
    copy and the DELETE join it), and returned sorted as text."""
    keys = ", ".join(f"{quote(k)} AS k{i}" for i, k in enumerate(dataset.slice_key))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {SLICES} AS SELECT DISTINCT {keys} "
        f"FROM {table_name(dataset)} WHERE {_NEW_ROWS}",
        until,
    )
    found = con.execute(_SORTED_SLICES).fetchall()
    return [
        tuple(v.strftime("%Y-%m") if isinstance(v, dt.date) else str(v) for v in row)
        for row in found
    ]


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
    # explain.validate's summary counts every row; problems found while reading are all listed.
    result.summary = result.summary or summarise(problems)
    result.message = rejection_message(problems, total, result.summary)
    _log(con, result, user, "")
    return result
