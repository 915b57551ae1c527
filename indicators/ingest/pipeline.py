"""The stages in order: :func:`ingest_file` (a path or a prepared file) and
:func:`ingest_frame` (a table of cells, e.g. the targets editor).

A file is recognised, then loaded by :func:`indicators.ingest.load.load_clean`, the one load
path, which reads it once.  Only a file it finds not clean is read again, by
:func:`indicators.ingest.explain.stage` and :func:`~indicators.ingest.explain.validate`, to
report every problem; that second read never loads anything.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from indicators import store
from indicators.ingest.dates import DATE_FORMATS
from indicators.ingest.explain import stage, validate
from indicators.ingest.load import (
    Checkpoint,
    NotClean,
    csv_reader_gave_up,
    load_clean,
    log_rejection,
    no_checkpoint,
)
from indicators.ingest.problems import IngestResult, Problem, Rejected, reject_one
from indicators.ingest.read_csv import line_ending_fault
from indicators.ingest.reading import (
    DELIMITERS,
    ENCODINGS,
    MAX_UPLOAD_BYTES,
    PreparedFile,
    open_file,
    prepare_file,
)
from indicators.ingest.recognise import recognise
from indicators.ingest.scratch import temporary
from indicators.ingest.source import Source, describe, position_names, typed_source
from indicators.ingest.sql import FRAME
from indicators.schema import Dataset


def _ingest_source(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    *,
    user: str | None,
    date_format: str,
    replace_all: bool,
    strict: bool = False,
    checkpoint: Checkpoint = no_checkpoint,
) -> IngestResult:
    result = IngestResult(source.name, None, "rejected")
    try:
        dataset, positions, result.ignored_columns = recognise(source)
        result.dataset = dataset.name
        time_zone = store.read_settings(con).time_zone
        try:
            load_clean(
                con,
                source,
                dataset,
                positions,
                result,
                user,
                date_format=DATE_FORMATS[date_format],
                date_format_name=date_format,
                time_zone=time_zone,
                replace_all=replace_all,
                strict=strict,
                checkpoint=checkpoint,
            )
            return result
        except NotClean as not_clean:
            if not_clean.reader_error is not None:
                raise _unreadable(source, not_clean.reader_error) from None
            return _explain(
                con, source, dataset, positions, result, not_clean,
                user=user, date_format=date_format, time_zone=time_zone, replace_all=replace_all,
            )
    except Rejected as rejected:
        return log_rejection(con, result, rejected.problems, len(rejected.problems), user)


def _explain(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    dataset: Dataset,
    positions: dict[str, int],
    result: IngestResult,
    not_clean: NotClean,
    *,
    user: str | None,
    date_format: str,
    time_zone: str,
    replace_all: bool,
) -> IngestResult:
    """Stage the file the load found not clean, log its rejection with every problem found.

    Finding none is a fault of the code (the load and the explanation disagree): raised, and
    nothing is loaded.
    """
    try:
        result.rows = stage(
            con, source, dataset, positions,
            date_format=DATE_FORMATS[date_format], time_zone=time_zone,
        )
    except duckdb.Error as err:
        if source.csv_path is None or not csv_reader_gave_up(err):
            raise
        raise _unreadable(source, err) from None
    problems, total, result.summary = validate(
        con, source, dataset, positions, date_format=date_format
    )
    if not problems and result.rows == 0 and not replace_all:
        problems, total = [Problem(source.name, None, None, None, "no data rows")], 1
    if not problems:
        raise RuntimeError(
            f"{source.name}: the load found the file not clean ({not_clean.reason}) but staging "
            "it again found no problem; nothing was loaded (a fault of the loader, not the file)"
        )
    return log_rejection(con, result, problems, total, user)


def _unreadable(source: Source, err: duckdb.Error) -> Rejected:
    """The rejection of a CSV file DuckDB's reader gave up on: where its line endings go
    wrong when that is the cause, else DuckDB's own reason."""
    fault = line_ending_fault(source.csv_path) if source.csv_path else None
    if fault is not None:
        return reject_one(
            source.name,
            f"{fault[1]}: the file mixes line endings; save it again with one kind (CRLF or LF)",
            row=fault[0],
        )
    return reject_one(source.name, f"the file could not be read: {err}")


def _check_options(encoding: str, date_format: str, delimiter: str | None) -> None:
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {ENCODINGS}, got {encoding!r}")
    if date_format not in DATE_FORMATS:
        raise ValueError(f"date_format must be one of {tuple(DATE_FORMATS)}, got {date_format!r}")
    if delimiter is not None and delimiter not in DELIMITERS:
        raise ValueError(f"delimiter must be one of {DELIMITERS}, got {delimiter!r}")


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    path: str | Path | PreparedFile,
    *,
    encoding: str = "utf-8",
    date_format: str = "ISO",
    delimiter: str | None = None,
    user: str | None = None,
    file_name: str | None = None,
    max_bytes: int = MAX_UPLOAD_BYTES,
    strict: bool = False,
    scratch: Path | None = None,
    checkpoint: Checkpoint | None = None,
) -> IngestResult:
    """Validate one CSV/XLSX/Parquet file and, if it is clean, replace its slices.

    ``file_name`` is what reports and the log call the file (default: the path's name).
    ``path`` may be a :class:`PreparedFile` (its own name and checks then apply), so that a
    workbook was converted before ``con`` locked the database. With ``strict``, a file
    bringing more than :data:`MAX_NEW_DEPARTMENTS` new departments is rejected instead of
    loaded with a warning, and so is one with any warning of
    :func:`indicators.ingest.warnings.row_warnings` or found while reading. Temporary copies
    go into ``scratch`` (default: Python's temp folder). ``checkpoint`` is called with the
    name of each point the load passes (:mod:`indicators.ingest.load`; crash tests). Options
    that are not allowed values raise ``ValueError``; everything wrong with the file itself is
    a rejected :class:`IngestResult`.
    """
    _check_options(encoding, date_format, delimiter)
    # A private cursor keeps the staging tables and the transaction off the caller's connection.
    with con.cursor() as cur, temporary(scratch) as tmp:
        prepared = path
        if not isinstance(prepared, PreparedFile):
            prepared = prepare_file(path, scratch=tmp, file_name=file_name, max_bytes=max_bytes)
        try:
            source = open_file(cur, prepared, encoding=encoding, delimiter=delimiter, tmp=tmp)
        except Rejected as rejected:
            result = IngestResult(prepared.name, None, "rejected")
            return log_rejection(cur, result, rejected.problems, len(rejected.problems), user)
        return _ingest_source(
            cur, source, user=user, date_format=date_format, replace_all=False, strict=strict,
            checkpoint=checkpoint or no_checkpoint,
        )


def ingest_frame(
    con: duckdb.DuckDBPyConnection,
    frame: pd.DataFrame,
    *,
    file_name: str,
    user: str | None = None,
    replace_all: bool = False,
    checkpoint: Checkpoint | None = None,
) -> IngestResult:
    """Validate and load a table of cells (e.g. the targets editor) like a file.

    Rows are numbered as in a file with a header (the first row is row 2). With
    ``replace_all`` the whole stored table of the dataset is replaced, and an empty frame
    clears it. ``checkpoint`` as for :func:`ingest_file`.
    """
    header = [str(c) for c in frame.columns]
    renamed = frame.set_axis(position_names(len(header)), axis=1)
    with con.cursor() as cur:
        if not header:
            result = IngestResult(file_name, None, "rejected")
            problems = [Problem(file_name, None, None, None, "file is empty")]
            return log_rejection(cur, result, problems, 1, user)
        cur.register(FRAME, renamed)
        try:
            source = typed_source(file_name, header, describe(cur, FRAME, {}), FRAME, {})
            return _ingest_source(
                cur, source, user=user, date_format="ISO", replace_all=replace_all,
                checkpoint=checkpoint or no_checkpoint,
            )
        finally:
            cur.unregister(FRAME)
