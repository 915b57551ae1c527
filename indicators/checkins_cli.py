"""``python -m indicators checkin …`` and ``note …``: write and list check-ins and event notes.

    python -m indicators checkin add  --db PATH --indicator ID --department NAME --month YYYY-MM
                                      --status STATUS --note TEXT [--user U] [--wait S]
    python -m indicators checkin list --db PATH [--indicator ID] [--department NAME]
                                      [--format csv|json] [--wait S]
    python -m indicators note add     --db PATH --month YYYY-MM --note TEXT [--indicator ID]
                                      [--department NAME] [--user U] [--wait S]
    python -m indicators note list    --db PATH [--indicator ID] [--department NAME]
                                      [--format csv|json] [--wait S]

The rules are :mod:`indicators.checkins`'; whoever holds the database file writes as an analyst
(no role is checked).  ``add`` prints ``stored check-in #3: check-in for csat in North, 2025-06:
off track``; ``list`` prints every check-in (``checkin list``: :func:`~indicators.checkins.
read_checkins`) or the notes that apply to the chart of ``--indicator`` in ``--department``
(``note list``: :func:`~indicators.checkins.read_notes`), as CSV neutralised against formulas
(:func:`indicators.export.to_csv_bytes`) or as a JSON list of objects; ``written_at`` is UTC,
``YYYY-MM-DD HH:MM:SS``.

Exit codes: 0 done; 1 a write refused by a rule (the field, the value and the rule on stderr;
nothing written), no database at the path (nothing is created), or the database stayed busy;
2 a usage error (argparse's, an unknown ``--indicator`` for ``list``, a ``--db`` that is no
database: :mod:`indicators.__main__`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import duckdb
import pandas as pd

from indicators import checkins, export, store
from indicators.catalog import INDICATOR_IDS

LIST_WAIT_SECONDS = 10.0
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

Option = Callable[..., None]


def add_subcommands(
    sub: argparse._SubParsersAction, *, db_option: Option, wait_option: Option
) -> None:
    """``checkin`` and ``note``, each with ``add`` and ``list``, on ``python -m indicators``."""
    checkin = sub.add_parser("checkin", help="write or list target check-ins")
    actions = checkin.add_subparsers(dest="action", required=True)
    p = actions.add_parser("add", help="store an owner's check-in on a target's month")
    _common(p, db_option, wait_option, store.DEFAULT_WAIT_SECONDS)
    p.add_argument("--indicator", required=True, help="the target's indicator (a catalog id)")
    p.add_argument("--department", required=True, help="the target's department (All: *)")
    p.add_argument("--month", required=True, metavar="YYYY-MM", help="the month checked in on")
    p.add_argument("--status", required=True,
                   help=f"what the owner asserts: {', '.join(checkins.CHECKIN_STATUSES)}")
    p.add_argument("--note", required=True, help="what the owner says (line breaks allowed)")
    p.add_argument("--user", default=None, help="who writes, kept with the check-in")
    _list_parser(actions, db_option, wait_option, "list every check-in")

    note = sub.add_parser("note", help="write or list event notes on the charts")
    actions = note.add_subparsers(dest="action", required=True)
    p = actions.add_parser("add", help="store a note on what happened in a month")
    _common(p, db_option, wait_option, store.DEFAULT_WAIT_SECONDS)
    p.add_argument("--month", required=True, metavar="YYYY-MM", help="the month it happened")
    p.add_argument("--note", required=True, help="what happened (line breaks allowed)")
    p.add_argument("--indicator", default=None, help="only on this indicator's charts "
                   "(default: every indicator)")
    p.add_argument("--department", default=store.ANY_DEPARTMENT,
                   help="only in this department (default: every department, All)")
    p.add_argument("--user", default=None, help="who writes, kept with the note")
    _list_parser(actions, db_option, wait_option, "list the notes that apply to a chart")


def _common(p: argparse.ArgumentParser, db_option: Option, wait_option: Option,
            wait: float) -> None:
    db_option(p)
    wait_option(p, wait)


def _list_parser(actions: argparse._SubParsersAction, db_option: Option, wait_option: Option,
                 help_text: str) -> None:
    p = actions.add_parser("list", help=help_text)
    _common(p, db_option, wait_option, LIST_WAIT_SECONDS)
    p.add_argument("--indicator", default=None, help="only this indicator (a catalog id)")
    p.add_argument("--department", default=None, help="only this department (All = *)")
    p.add_argument("--format", choices=("csv", "json"), default="csv")


def run_cli(args: argparse.Namespace, *, out: TextIO | None = None,
            err: TextIO | None = None) -> int:
    """Run ``checkin``/``note`` ``add``/``list`` as parsed by :func:`add_subcommands`."""
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    if args.action == "list":
        return list_cli(args.db, what=args.command, indicator=args.indicator,
                        department=args.department, fmt=args.format, wait=args.wait,
                        out=out, err=err)
    # Once stored, the values are valid: stripped, they are what the log's line says.
    month, indicator = args.month.strip(), args.indicator and args.indicator.strip()
    if args.command == "checkin":
        def write(con: duckdb.DuckDBPyConnection) -> str:
            new_id = checkins.add_checkin(
                con, indicator=args.indicator, department=args.department, month=args.month,
                status=args.status, note=args.note, author=args.user,
            )
            said = checkins.checkin_summary(indicator, args.department, month, args.status)
            return f"stored check-in #{new_id}: {said}"
    else:
        def write(con: duckdb.DuckDBPyConnection) -> str:
            new_id = checkins.add_note(
                con, month=args.month, note=args.note, indicator=args.indicator,
                department=args.department, author=args.user,
            )
            return f"stored note #{new_id}: {checkins.note_summary(month, indicator, args.department)}"
    return add_cli(args.db, write, wait=args.wait, out=out, err=err)


def add_cli(
    db: str | Path, write: Callable[[duckdb.DuckDBPyConnection], str], *, wait: float,
    out: TextIO, err: TextIO,
) -> int:
    """``write(con)`` on the database opened for writing, printing what it says: 0; 1 when the
    database is not there (none is created) or stays busy, or a rule refuses the write."""
    path = Path(db)
    if not path.is_file():
        print(f"error: no database at {store.printable(str(path))}; nothing was written "
              "(create one with `python -m indicators ingest` or `demo`)", file=err)
        return 1
    try:
        con = store.connect_waiting(path, wait=wait, notify=store.print_to_stderr)
    except store.DatabaseBusy as busy:
        print(f"error: {store.printable(str(path))}: {busy}; nothing was written", file=err)
        return 1
    try:
        said = write(con)
    except checkins.CheckinError as problem:
        print(f"error: {store.printable(str(problem))}; nothing was written", file=err)
        return 1
    finally:
        con.close()
    print(store.printable(said), file=out)
    return 0


@contextmanager
def _reading(db: str | Path, wait: float) -> Iterator[duckdb.DuckDBPyConnection]:
    con = store.connect_waiting(db, read_only=True, wait=wait, notify=store.print_to_stderr)
    try:
        yield con
    finally:
        con.close()


def list_cli(
    db: str | Path, *, what: str, indicator: str | None, department: str | None, fmt: str,
    wait: float = LIST_WAIT_SECONDS, out: TextIO, err: TextIO,
) -> int:
    """Print the check-ins (``what`` ``checkin``) or the notes that apply (``note``) as CSV or
    JSON: 0; 1 no database or busy; 2 an unknown ``indicator``."""
    if indicator is not None and indicator not in INDICATOR_IDS:
        print(f"error: unknown indicator {store.printable(repr(indicator))}; known: "
              f"{', '.join(INDICATOR_IDS)}", file=err)
        return 2
    path = Path(db)
    if not path.is_file():
        print(f"error: no database at {store.printable(str(path))}", file=err)
        return 1
    read = checkins.read_checkins if what == "checkin" else checkins.read_notes
    try:
        with _reading(path, wait) as con:
            frame = read(con, indicator=indicator, department=department)
    except store.DatabaseBusy as busy:
        print(f"error: {store.printable(str(path))}: {busy}", file=err)
        return 1
    frame = frame.assign(written_at=frame["written_at"].dt.strftime(TIME_FORMAT))
    if fmt == "json":
        json.dump(_records(frame), out, ensure_ascii=False)
        out.write("\n")
    else:
        out.write(export.to_csv_bytes(frame).decode("utf-8"))
    return 0


def _records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows as JSON objects: ids as numbers, missing text as null."""
    return [
        {c: (v.item() if hasattr(v, "item") else v) for c, v in zip(frame.columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]
