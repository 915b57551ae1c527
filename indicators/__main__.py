"""The command line for analysts who automate monthly loads.

    python -m indicators ingest --db PATH [--encoding E] [--date-format F] [--wait S] [--strict] FILE...
    python -m indicators demo   --db PATH [--wait S]
    python -m indicators report --db PATH [--month M | --from M --to M] [--department NAME]
                                [--indicator ID] [--exact] [--format csv|json]
    python -m indicators route  --db PATH [the same filters] [--exact] [--format csv|json]
    python -m indicators check  --db PATH [--wait S]
    python -m indicators rebuild --db PATH [--wait S]
    python -m indicators complete --db PATH [--department NAME] [--format csv|json]
    python -m indicators complete --db PATH --month YYYY-MM [--department NAME] [--undo] [--wait S]
    python -m indicators undo   --db PATH [--wait S] [--user U] LOAD_ID
    python -m indicators explain --db PATH --indicator ID --month YYYY-MM [--department D]
                                 [--by department|component|channel] [--against previous|year|target]
                                 [--format csv|json]
    python -m indicators unusual --db PATH [--month YYYY-MM] [--department D] [--format csv|json]
    python -m indicators records --db PATH --indicator ID --month YYYY-MM [--department D]
                                 [--component C] [--sort COLUMN] [--desc] [--limit N]
                                 [--offset N] [--format csv|json]
    python -m indicators checkin add  --db PATH --indicator ID --department NAME --month YYYY-MM
                                      --status STATUS --note TEXT [--user U] [--wait S]
    python -m indicators checkin list --db PATH [--indicator ID] [--department NAME] [--format csv|json]
    python -m indicators note add     --db PATH --month YYYY-MM --note TEXT [--indicator ID]
                                      [--department NAME] [--user U] [--wait S]
    python -m indicators note list    --db PATH [--indicator ID] [--department NAME] [--format csv|json]

Exit codes: 0 success; 1 a file was rejected (ingest), the database stayed busy, the disk
filled up (the load was rolled back), the data is unusable (a damaged database: DuckDB cannot
open or read it), the check found a problem (a table that does not read whole, a stored
indicator table that differs from a full recomputation), an undo was refused (``undo``: the
reason on stderr, nothing changed) or a check-in or note broke a rule (``checkin add``, ``note
add``: the field, the value and the rule on stderr, nothing written; a missing database is not
created: :mod:`indicators.checkins_cli`); 2 usage error — a FILE that is a directory or does not
exist, and a ``--db`` (or ``$SERVICE_DB``) that names no DuckDB database: a data file (CSV, Parquet …), a
folder, an empty file, whatever its name, or a new name not ending in ``.duckdb`` / ``.db``
(:func:`indicators.store.database_file_problem`); nothing is created then.

Every ``error:`` line goes to stderr, one line, with no traceback; stdout carries only what a
command prints as its result (tables, the per-file report of ``ingest``).

``ingest --strict`` rejects a file instead of loading it with a warning: dates at 1970-01-01
or more than five years from the file's other dates, a file named latin-1/cp1251 that is
UTF-8, more than 1,000 new departments (see docs/datasets.md, "Warnings").
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import duckdb

from indicators import store


def _parser() -> argparse.ArgumentParser:
    from indicators.ingest import DATE_FORMATS, ENCODINGS

    parser = argparse.ArgumentParser(
        prog="python -m indicators",
        description="Service strategy dashboard: load data and print indicators.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def db_option(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--db",
            default=None,
            help=f"DuckDB file (default: ${store.DB_ENV} or {store.DEFAULT_DB})",
        )

    def wait_option(p: argparse.ArgumentParser, default: float) -> None:
        p.add_argument(
            "--wait",
            type=float,
            default=default,
            metavar="SECONDS",
            help="while another process (e.g. the app) holds the database, retry this long "
            f"(default {default:g})",
        )

    p = sub.add_parser("ingest", help="validate and load CSV/XLSX/Parquet files")
    db_option(p)
    p.add_argument("--encoding", default="utf-8", choices=ENCODINGS, help="CSV text encoding")
    p.add_argument(
        "--date-format", default="ISO", choices=tuple(DATE_FORMATS), help="how dates are written"
    )
    p.add_argument(
        "--delimiter", choices=(",", ";"), default=None, help="CSV delimiter (default: from header)"
    )
    p.add_argument("--user", default=None, help="who is loading, for the upload log")
    p.add_argument(
        "--strict",
        action="store_true",
        help="reject a file with anything that is otherwise a warning (default: load it and "
        "warn): dates at 1970-01-01 (the Unix epoch) or more than 5 years from the file's other "
        "dates, a file named latin-1/cp1251 that is UTF-8, more than 1,000 new departments",
    )
    wait_option(p, store.DEFAULT_WAIT_SECONDS)
    p.add_argument("files", nargs="+", metavar="FILE")

    p = sub.add_parser("demo", help="write the bundled demo dataset into a database")
    db_option(p)
    wait_option(p, store.DEFAULT_WAIT_SECONDS)

    def output_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--month", help="only this month (YYYY-MM)")
        p.add_argument("--from", dest="first", metavar="YYYY-MM",
                       help="only this month and later")
        p.add_argument("--to", dest="last", metavar="YYYY-MM", help="only this month and earlier")
        p.add_argument("--department", help="only this department (All = every department)")
        p.add_argument("--indicator", help="only this indicator (a catalog id)")
        p.add_argument("--format", choices=("csv", "json"), default="csv")
        p.add_argument("--exact", action="store_true",
                       help="every digit (default: values rounded for people)")

    p = sub.add_parser("report", help="print the indicator table")
    db_option(p)
    output_options(p)
    p.add_argument("--by", choices=("channel",), default=None,
                   help="channel: one row per channel too (a channel column; department × "
                   "channel and All × channel)")

    p = sub.add_parser("route", help="print the route to every target")
    db_option(p)
    output_options(p)

    p = sub.add_parser(
        "rebuild", help="recompute the stored indicator table from every stored row"
    )
    db_option(p)
    wait_option(p, store.DEFAULT_WAIT_SECONDS)

    p = sub.add_parser(
        "check", help="open the database, read every table, print row counts, and verify the "
        "stored indicator table equals a full recomputation",
    )
    db_option(p)
    wait_option(p, 10.0)

    p = sub.add_parser(
        "complete",
        help="list which months are complete, or mark a month complete by hand (--month)",
    )
    db_option(p)
    p.add_argument("--month", help="mark this month (YYYY-MM) complete by hand")
    p.add_argument(
        "--department",
        help="with --month: only this department (default: every department, i.e. All); "
        "without: list only this department",
    )
    p.add_argument("--undo", action="store_true", help="with --month: remove the mark instead")
    p.add_argument("--format", choices=("csv", "json"), default="csv", help="of the list")
    p.add_argument("--user", default=None, help="who marks, kept with the mark")
    wait_option(p, store.DEFAULT_WAIT_SECONDS)

    p = sub.add_parser(
        "undo", help="undo an accepted upload: put back the rows it replaced (newest first)"
    )
    db_option(p)
    p.add_argument("--user", default=None, help="who is undoing, for the upload log")
    wait_option(p, store.DEFAULT_WAIT_SECONDS)
    p.add_argument("load_id", type=int, metavar="LOAD_ID", help="the upload's # in the upload log")

    p = sub.add_parser("explain", help="what moved an indicator: its change split by segment")
    db_option(p)
    p.add_argument("--indicator", required=True, help="a catalog id")
    p.add_argument("--month", required=True, metavar="YYYY-MM", help="the month explained")
    p.add_argument("--department", default=None,
                   help="with --by component: this department (default All)")
    p.add_argument("--by", choices=("department", "component", "channel"), default="department")
    p.add_argument("--against", choices=("previous", "year", "target"), default="previous",
                   help="the previous month (default), the same month a year earlier, or the "
                        "planned value of the indicator's target in the month")
    p.add_argument("--format", choices=("csv", "json"), default="csv")

    p = sub.add_parser("unusual", help="the month's unusual values, each with its reason")
    db_option(p)
    p.add_argument("--month", default=None, metavar="YYYY-MM",
                   help="the month listed (default: the latest with data)")
    p.add_argument("--department", default=None,
                   help="only this department (All = every department together; default: "
                   "every department and All)")
    p.add_argument("--format", choices=("csv", "json"), default="csv")

    p = sub.add_parser("records", help="the stored rows behind an indicator's value")
    db_option(p)
    p.add_argument("--indicator", required=True, help="a catalog id")
    p.add_argument("--month", required=True, metavar="YYYY-MM", help="the month")
    p.add_argument("--department", default=None, help="only this department (default All)")
    p.add_argument("--component", default=None,
                   help="complaint indicators: only this service component (or unclassified)")
    p.add_argument("--sort", default=None, metavar="COLUMN",
                   help="a listed column (default: the date column)")
    p.add_argument("--desc", action="store_true", help="sort descending")
    p.add_argument("--limit", type=int, default=None, metavar="N",
                   help="at most N rows, N >= 1 (default: every row)")
    p.add_argument("--offset", type=int, default=0, metavar="N", help="skip the first N rows")
    p.add_argument("--format", choices=("csv", "json"), default="csv")

    from indicators.checkins_cli import add_subcommands

    add_subcommands(sub, db_option=db_option, wait_option=wait_option)
    return parser


CREATES = ("ingest", "demo")
"""The commands that write, and so may create a new database file."""


def _db_source(given: str | None) -> str:
    """Where ``--db``'s value came from, for messages."""
    if given is not None:
        return "--db"
    return f"${store.DB_ENV}" if os.environ.get(store.DB_ENV) else "the default database"


def _db_problem(command: str, db: str) -> str | None:
    """Why ``db`` is no database for ``command``, or None (see the module docstring).

    A file without DuckDB's header is none, whatever its name (``.duckdb`` too). The reading
    commands leave a missing file, and a DuckDB file that DuckDB cannot read (damaged), to
    their own messages (exit 1: nothing to show, NOT OK).
    """
    path = Path(db)
    if path.is_file() and path.stat().st_size == 0:
        # Refused here, not by DuckDB once the command has begun (and made its scratch folder).
        if command in CREATES:
            return "is an empty file, not a DuckDB database; delete it to start a new database there"
        return "is an empty file, not a DuckDB database: there is nothing to read"
    if command in CREATES:
        return store.database_file_problem(db, create=True)
    if path.is_dir() or (path.is_file() and not store.is_duckdb_file(path)):
        return store.database_file_problem(db, create=False)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    source = _db_source(args.db)
    args.db = args.db if args.db is not None else str(store.default_db_path())
    problem = _db_problem(args.command, args.db)
    if problem is not None:
        store.print_to_stderr(f"error: {source} {store.printable(args.db)} {problem}")
        return 2
    try:
        return _run(args)
    except store.NotADatabase as exc:
        store.print_to_stderr(f"error: {source} {exc}")
        return 2
    except Exception as exc:
        if store.is_disk_full(exc):
            store.print_to_stderr(
                f"error: {store.disk_full_message(args.db, what=_not_loaded(args))}"
            )
            return 1
        if not isinstance(exc, duckdb.Error):
            raise
        # The commands report what they expect (busy, refused, no data); what DuckDB raises
        # past them is the database failing to open or read: damaged, or of another version.
        reason = store.printable(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        store.print_to_stderr(
            f"error: {source} {store.printable(args.db)} cannot be opened or read: {reason}"
        )
        return 1


def _not_loaded(args: argparse.Namespace) -> str:
    """What a full disk left unloaded: the load in progress was rolled back."""
    if args.command == "undo":
        return "nothing was undone"
    if args.command in ("checkin", "note"):
        return "nothing was written"
    if len(getattr(args, "files", ())) > 1:
        return "the file in progress and the ones after it were not loaded"
    return "nothing was loaded"


def _output_filters(args: argparse.Namespace) -> dict[str, object]:
    """``report`` and ``route``'s filters and precision, as keyword arguments."""
    return {"month": args.month, "first": args.first, "last": args.last,
            "department": args.department, "indicator": args.indicator, "exact": args.exact}


def _run(args: argparse.Namespace) -> int:
    if args.command == "ingest":
        from indicators.ingest import run_cli

        return run_cli(
            args.db,
            args.files,
            encoding=args.encoding,
            date_format=args.date_format,
            delimiter=args.delimiter,
            user=args.user,
            wait=args.wait,
            strict=args.strict,
        )
    if args.command == "check":
        from indicators.stored_indicators import checked_health

        health = checked_health(args.db, wait=args.wait)
        print("\n".join(health.lines()))
        return 0 if health.ok else 1
    if args.command == "demo":
        from indicators.demo import run_cli

        return run_cli(args.db, wait=args.wait)
    if args.command == "report":
        from indicators.report import run_report_cli

        return run_report_cli(args.db, fmt=args.format, by=args.by, **_output_filters(args))
    if args.command == "route":
        from indicators.report import run_route_cli

        return run_route_cli(args.db, fmt=args.format, **_output_filters(args))
    if args.command == "rebuild":
        from indicators.stored_indicators import run_rebuild_cli

        return run_rebuild_cli(args.db, wait=args.wait)
    if args.command == "complete":
        from indicators.report import run_complete_cli

        return run_complete_cli(
            args.db, month=args.month, department=args.department, undo=args.undo,
            fmt=args.format, user=args.user, wait=args.wait,
        )
    if args.command == "undo":
        from indicators.undo import run_cli as run_undo_cli

        return run_undo_cli(args.db, args.load_id, user=args.user, wait=args.wait)
    if args.command == "explain":
        from indicators.explain_cli import run_cli as run_explain_cli

        return run_explain_cli(args.db, indicator=args.indicator, month=args.month,
                               department=args.department, by=args.by, against=args.against,
                               fmt=args.format)
    if args.command == "unusual":
        from indicators.unusual_cli import run_cli as run_unusual_cli

        return run_unusual_cli(args.db, month=args.month, department=args.department,
                               fmt=args.format)
    if args.command == "records":
        from indicators.records_cli import run_cli as run_records_cli

        return run_records_cli(args.db, indicator=args.indicator, month=args.month,
                               department=args.department, component=args.component,
                               sort=args.sort, descending=args.desc, limit=args.limit,
                               offset=args.offset, fmt=args.format)
    if args.command in ("checkin", "note"):
        from indicators.checkins_cli import run_cli as run_checkins_cli

        return run_checkins_cli(args)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader (e.g. `| head`) closed the pipe: stop quietly, as command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    sys.exit(code)
