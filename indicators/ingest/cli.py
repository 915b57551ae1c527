"""``python -m indicators ingest``: load files into a database from the command line.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import duckdb

from indicators import store
from indicators.ingest.pipeline import ingest_file
from indicators.ingest.problems import format_result
from indicators.ingest.read_excel import xlsx_limits
from indicators.ingest.reading import PreparedFile, prepare_file
from indicators.ingest.scratch import scratch_folder, scratch_root, sigterm_unwinds


def run_cli(
    db: str,
    files: list[str],
    *,
    encoding: str,
    date_format: str,
    delimiter: str | None,
    user: str | None,
    wait: float = store.DEFAULT_WAIT_SECONDS,
    strict: bool = False,
) -> int:
    """Ingest every file into ``db``; 0 all accepted, 1 any rejected or busy, 2 usage error.

    While another process (the app, another load) holds the file, wait up to ``wait`` seconds,
    saying so on stderr; then give up with exit 1 and nothing loaded.  Workbooks are converted
    to CSV before the database is opened, so a conversion never holds it.  Temporary files live
    in a :func:`scratch_folder` under :func:`scratch_root` and are removed on every way out
    (SIGTERM raises ``SystemExit(143)`` here; a SIGKILLed run's folder goes at the next run).
    With ``strict``, too many new departments reject a file (:data:`MAX_NEW_DEPARTMENTS`).
    """
    unreadable = [problem for f in files if (problem := _file_problem(f)) is not None]
    for problem in unreadable:
        store.print_to_stderr(f"error: {problem}")
    if unreadable:
        return 2
    try:
        xlsx_limits()
    except ValueError as err:
        store.print_to_stderr(f"error: {store.printable(str(err))}")
        return 2
    with sigterm_unwinds(), scratch_folder(_cli_scratch_root(db)) as tmp:
        prepared = [prepare_file(f, scratch=tmp) for f in files]
        return _ingest_prepared(
            db,
            files,
            prepared,
            wait=wait,
            tmp=tmp,
            options={
                "encoding": encoding,
                "date_format": date_format,
                "delimiter": delimiter,
                "user": user,
                "strict": strict,
            },
        )


def _file_problem(file: str) -> str | None:
    """Why a FILE argument cannot be loaded at all (a usage error, exit 2), or None."""
    path, shown = Path(file), store.printable(file)
    if path.is_dir():
        return f"{shown} is a directory; name the files in it (e.g. {shown}/*.csv)"
    if not path.exists():
        return f"no such file: {shown}"
    if not path.is_file():
        return f"{shown} is not a regular file"
    return None


def _cli_scratch_root(db: str) -> Path:
    """:func:`scratch_root` of ``db``, or a folder in Python's temp folder when ``db``'s folder
    cannot hold it (opening the database then fails and says why)."""
    root = scratch_root(db)
    if root.parent.is_dir() and os.access(root.parent, os.W_OK):
        return root
    return Path(tempfile.gettempdir()) / "indicators-scratch"


def _ingest_prepared(
    db: str,
    files: list[str],
    prepared: list[PreparedFile],
    *,
    wait: float,
    tmp: Path,
    options: dict[str, object],
) -> int:
    """Open ``db`` (waiting while it is busy) and load each prepared file; the exit code."""
    try:
        con = store.connect_waiting(db, wait=wait, notify=store.print_to_stderr)
    except store.DatabaseBusy as err:
        store.print_to_stderr(
            f"error: {store.printable(db)}: {err}; nothing was loaded, try again later"
        )
        return 1
    except (duckdb.Error, OSError) as err:
        store.print_to_stderr(
            f"error: cannot open database {store.printable(db)}: {store.printable(str(err))}"
        )
        return 2
    rejected = 0
    try:
        for i, (f, ready) in enumerate(zip(files, prepared, strict=True), 1):
            print(f"[{i}/{len(files)}] {store.printable(f)} …", flush=True)
            result = ingest_file(
                con, ready, scratch=tmp, checkpoint=store.pause_for_test, **options
            )
            rejected += not result.accepted
            print(format_result(result), flush=True)
            for warning in result.warnings:
                print(f"  warning: {store.printable(warning)}", flush=True)
    finally:
        con.close()
    if len(files) > 1:
        print(f"{len(files) - rejected} accepted, {rejected} rejected")
    return 1 if rejected else 0
