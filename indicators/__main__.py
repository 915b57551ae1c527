"""The command line for analysts who automate monthly loads.

    python -m indicators ingest --db PATH [--encoding E] [--date-format F] [--wait S] FILE...
    python -m indicators demo   --db PATH
    python -m indicators report --db PATH [--month YYYY-MM] [--department NAME] [--format csv|json]
    python -m indicators route  --db PATH [--format csv|json]
    python -m indicators check  --db PATH [--wait S]

Exit codes: 0 success; 1 a file was rejected (ingest), the database stayed busy, the data is
unusable or the check found a problem; 2 usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

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
            default=str(store.default_db_path()),
            help="DuckDB file (default: $SERVICE_DB or data/service.duckdb)",
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
    wait_option(p, store.DEFAULT_WAIT_SECONDS)
    p.add_argument("files", nargs="+", metavar="FILE")

    p = sub.add_parser("demo", help="write the bundled demo dataset into a database")
    db_option(p)

    p = sub.add_parser("report", help="print the indicator table")
    db_option(p)
    p.add_argument("--month", help="only this month (YYYY-MM)")
    p.add_argument("--department", help="only this department (All = every department)")
    p.add_argument("--format", choices=("csv", "json"), default="csv")

    p = sub.add_parser("route", help="print the route to every target")
    db_option(p)
    p.add_argument("--format", choices=("csv", "json"), default="csv")

    p = sub.add_parser("check", help="open the database, read every table, print row counts")
    db_option(p)
    wait_option(p, 10.0)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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
        )
    if args.command == "check":
        health = store.health(args.db, wait=args.wait)
        print("\n".join(health.lines()))
        return 0 if health.ok else 1
    if args.command == "demo":
        from indicators.demo import run_cli

        return run_cli(args.db)
    if args.command == "report":
        from indicators.report import run_report_cli

        return run_report_cli(args.db, month=args.month, department=args.department, fmt=args.format)
    if args.command == "route":
        from indicators.report import run_route_cli

        return run_route_cli(args.db, fmt=args.format)
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
