"""One benchmark step per process: ``python -m bench.steps STEP --data DIR --db FILE …``.

Each step runs in a fresh interpreter so that nothing is cached between steps (DuckDB's buffer
pool, pandas' imports) and so that the peak resident memory (``VmHWM`` of the process) belongs
to that step alone.  The step prints one JSON object on its last line of stdout: ``seconds``
(the measured work only, imports and interpreter start-up excluded), ``peak_rss_mb`` and
whatever the step counts (rows stored, rows computed).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DATASET_FILES: tuple[str, ...] = ("purchases", "complaints", "responses", "surveys")
NO_SIZE_LIMIT = 1 << 62
"""The app caps uploads at 200 MB; the benchmark's files are bigger on purpose."""


def peak_rss_mb() -> float:
    """This process's peak resident set size (``VmHWM``) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    started = time.perf_counter()
    out = work()
    return {"seconds": time.perf_counter() - started, **out}


def raw_csv(data: Path, db: Path, **_: Any) -> dict[str, Any]:
    """(a) DuckDB alone: the purchases CSV into a table of a fresh database file."""
    import duckdb

    con = duckdb.connect(str(db))
    try:

        def work() -> dict[str, Any]:
            con.execute(
                "CREATE TABLE purchases_raw AS SELECT * FROM read_csv($path)",
                {"path": str(data / "purchases.csv")},
            )
            con.execute("CHECKPOINT")
            (rows,) = con.execute("SELECT count(*) FROM purchases_raw").fetchone()
            return {"rows": rows}

        return _timed(work)
    finally:
        con.close()


def ingest_purchases(data: Path, db: Path, **_: Any) -> dict[str, Any]:
    """(b) Our validated ingest of the purchases file into a fresh database file."""
    from indicators import ingest, store

    con = store.connect(db)
    try:

        def work() -> dict[str, Any]:
            result = ingest.ingest_file(con, data / "purchases.csv", max_bytes=NO_SIZE_LIMIT)
            if not result.accepted:
                raise RuntimeError(ingest.format_result(result))
            con.execute("CHECKPOINT")
            return {"rows": result.rows}

        out = _timed(work)
        (out["stored"],) = con.execute("SELECT count(*) FROM purchases").fetchone()
        return out
    finally:
        con.close()


def ingest_others(data: Path, db: Path, **_: Any) -> dict[str, Any]:
    """Complaints, responses and surveys into the same database (needed by the report)."""
    from indicators import ingest, store

    con = store.connect(db)
    try:
        rows: dict[str, int] = {}
        seconds: dict[str, float] = {}
        started = time.perf_counter()
        for name in DATASET_FILES[1:]:
            t0 = time.perf_counter()
            result = ingest.ingest_file(con, data / f"{name}.csv", max_bytes=NO_SIZE_LIMIT)
            if not result.accepted:
                raise RuntimeError(ingest.format_result(result))
            rows[name] = result.rows
            seconds[name] = time.perf_counter() - t0
        con.execute("CHECKPOINT")
        return {"seconds": time.perf_counter() - started, "rows": rows, "by_dataset": seconds}
    finally:
        con.close()


def report(db: Path, **_: Any) -> dict[str, Any]:
    """(c) The full indicator table, on a fresh read-only connection."""
    from indicators import compute, store

    con = store.connect(db, read_only=True)
    try:
        return _timed(lambda: {"rows": len(compute.indicator_table(con))})
    finally:
        con.close()


def _latest_month(con: Any) -> str:
    (month,) = con.execute("SELECT strftime(max(month), '%Y-%m') FROM purchases").fetchone()
    return month


def overview(db: Path, *, department: str, month: str | None = None, **_: Any) -> dict[str, Any]:
    """(d) The overview page's numbers for one month and department, cold then warm.

    What the page computes: the indicator table, then the scorecard (value, previous month,
    12-month trend per indicator).  Here the table is the scoped one (only the months and the
    department the scorecard reads), from :func:`overview_table`.
    """
    from dashboard.scorecard import scorecard
    from indicators import store

    con = store.connect(db, read_only=True)
    try:
        month = month or _latest_month(con)

        def work() -> dict[str, Any]:
            table = overview_table(con, department=department, month=month)
            card = scorecard(table, department, month)
            return {"rows": len(table), "indicators": len(card)}

        cold = _timed(work)
        warm = [_timed(work)["seconds"] for _ in range(3)]
        return {**cold, "warm_seconds": sorted(warm)[1], "month": month,
                "department": department}
    finally:
        con.close()


def overview_table(con: Any, *, department: str, month: str) -> Any:
    """The rows of the indicator table the overview's scorecard reads: 12 months to ``month``."""
    from dashboard.scorecard import TREND_MONTHS
    from indicators import compute
    from indicators.facts import shift_month

    first = shift_month(month, -(TREND_MONTHS - 1))
    return compute.indicator_table(con, months=(first, month), departments=[department])


def overview_full(db: Path, *, department: str, month: str | None = None,
                  **_: Any) -> dict[str, Any]:
    """The overview as the app computes it today: the full table, then the scorecard."""
    from dashboard.scorecard import scorecard
    from indicators import compute, store

    con = store.connect(db, read_only=True)
    try:
        month = month or _latest_month(con)
        return _timed(lambda: {
            "indicators": len(scorecard(compute.indicator_table(con), department, month))
        })
    finally:
        con.close()


def overview_app(db: Path, *, department: str, month: str | None = None,
                 **_: Any) -> dict[str, Any]:
    """(d) The overview page as the app serves it: its cached loaders, cold then warm.

    What ``app_pages/overview.py`` (and the sidebar it sits in) reads through
    :mod:`dashboard.data` — whether there is data (row counts), the filters' months and
    departments and which months are complete, the indicators and route of the chosen department
    and month (computed for them alone), the settings, the freshness line, the promise headline
    and, for a department, All's value and its rank among the departments — on one connection, as ``app.py`` runs a page
    (:func:`dashboard.data.reading`), and the scorecard it builds from them.  Streamlit's
    ``st.cache_data`` runs here in "bare mode" (no server), with the same cache as in the app:
    cold is the first request after a load, warm the same request again in the same process.
    """
    import logging

    from dashboard import data
    from dashboard.scorecard import scorecard

    # bare mode warns once per cached call that there is no Streamlit runtime
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    path = db.absolute()
    key = (str(path), data.data_version(path))
    chosen: dict[str, str] = {}

    def work() -> dict[str, Any]:
        with data.reading():  # as app.py runs every page: one connection for the run's reads
            data._total_rows(*key)
            months, _ = data._grid(*key, None)
            data._completeness(*key, None)  # the filters' default month and labels
            chosen.setdefault("month", month or months[0])
            table, route_rows, summary = data._overview(*key, None, department, chosen["month"])
            data._stored(*key, "settings", None)
            data._freshness(*key)  # the "last loads" line
            data._promise(*key, chosen["month"], department, None)  # the promise headline
            if department != "All":  # All's value and the rank, drawn after the cards
                data._compare(*key, None, department, chosen["month"])
        card = scorecard(table, department, chosen["month"], targets=summary, route=route_rows)
        return {"indicators": len(card)}

    cold = _timed(work)
    warm = [_timed(work)["seconds"] for _ in range(3)]
    return {**cold, "warm_seconds": sorted(warm)[1], "month": chosen["month"],
            "department": department}


def pandas_baseline(data: Path, **_: Any) -> dict[str, Any]:
    """(f) pandas alone: read the CSV, then the quantity and price indicators by groupby.

    Per month × department and for All: purchases, revenue, active and new customers,
    returning rate (bought in one of the 12 previous months), average ticket, revenue per
    customer and discount rate — the same definitions as the engine (SPEC §2).
    """
    import numpy as np
    import pandas as pd

    def work() -> dict[str, Any]:
        frame = pd.read_csv(
            data / "purchases.csv",
            usecols=["purchased_at", "customer_id", "department", "amount", "list_amount"],
            dtype={"customer_id": "str", "department": "str", "purchased_at": "str"},
            engine="pyarrow",
        )
        # ISO text: the month is the first seven characters; months as integers for "m − 12"
        stamp = pd.to_datetime(frame["purchased_at"].str.slice(0, 7), format="%Y-%m")
        frame["m"] = stamp.dt.year * 12 + stamp.dt.month - 1
        frame = frame.drop(columns="purchased_at")
        frame["list_paid"] = frame["amount"].where(frame["list_amount"].notna())

        def customers(keys: list[str]) -> pd.DataFrame:
            cm = frame[[*keys, "customer_id", "m"]].drop_duplicates()
            cm = cm.sort_values(["customer_id", *keys, "m"])
            prev = cm.groupby(["customer_id", *keys], sort=False)["m"].shift()
            cm["new"] = prev.isna()
            cm["returning"] = prev >= cm["m"] - 12
            return cm.groupby([*keys, "m"]).agg(
                active_customers=("customer_id", "size"),
                new_customers=("new", "sum"),
                returning=("returning", "sum"),
            )

        def table(keys: list[str]) -> pd.DataFrame:
            sums = frame.groupby([*keys, "m"]).agg(
                purchases=("amount", "size"),
                revenue=("amount", "sum"),
                list_amount=("list_amount", "sum"),
                list_paid=("list_paid", "sum"),
            )
            out = sums.join(customers(keys))
            out["returning_customers_rate"] = out["returning"] / out["active_customers"] * 100
            out["average_ticket"] = out["revenue"] / out["purchases"]
            out["revenue_per_customer"] = out["revenue"] / out["active_customers"]
            out["discount_rate"] = (
                1 - out["list_paid"] / out["list_amount"].replace(0, np.nan)
            ) * 100
            return out.reset_index()

        by_department = table(["department"])
        everywhere = table([])
        return {"rows": len(frame), "groups": len(by_department) + len(everywhere)}

    return _timed(work)


STEPS: dict[str, Callable[..., dict[str, Any]]] = {
    "raw_csv": raw_csv,
    "ingest_purchases": ingest_purchases,
    "ingest_others": ingest_others,
    "report": report,
    "overview": overview,
    "overview_full": overview_full,
    "overview_app": overview_app,
    "pandas": pandas_baseline,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run one benchmark step and print JSON.")
    parser.add_argument("step", choices=sorted(STEPS))
    parser.add_argument("--data", type=Path, required=True, help="directory of the CSV files")
    parser.add_argument("--db", type=Path, required=True, help="DuckDB file of the step")
    parser.add_argument("--department", default="Online store")
    parser.add_argument("--month", default=None, help="YYYY-MM (default: the latest month)")
    args = parser.parse_args(argv)
    out = STEPS[args.step](
        data=args.data, db=args.db, department=args.department, month=args.month
    )
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
