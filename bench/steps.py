"""One benchmark step per process: ``python -m bench.steps STEP --data DIR --db FILE …``.

Each step runs in a fresh interpreter so that nothing is cached between steps (DuckDB's buffer
pool, pandas' imports) and so that the peak resident memory (``VmHWM`` of the process) belongs
to that step alone.  The step prints one JSON object on its last line of stdout: ``seconds``
(the measured work only, imports and interpreter start-up excluded), ``peak_rss_mb`` and
whatever the step counts (rows stored, rows computed).

The peers (:func:`pandas_table`, :func:`polars_table`) are functions of the CSV file that return
the indicators they compute, so the tests can check their values by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

OTHER_DATASETS: tuple[str, ...] = ("complaints", "responses", "retention", "surveys", "targets")
"""Loaded after the purchases, in the generator's order."""
MONTH_DATASETS: tuple[str, ...] = ("purchases", "complaints", "responses", "retention", "surveys")
"""A monthly load: one month of each (targets are not monthly)."""
NO_SIZE_LIMIT = 1 << 62
"""The app caps uploads at 200 MB; the benchmark's files are bigger on purpose."""
PAGE_KINDS: tuple[str, ...] = ("scorecard", "family", "route")
"""The page kinds measured: the scorecard, a family page (quality: the family renderer and
the complaint mix) and the route."""
PEER_INDICATORS: tuple[str, ...] = (
    "purchases", "revenue", "active_customers", "new_customers", "returning_customers_rate",
    "average_ticket", "revenue_per_customer", "discount_rate",
)
"""The quantity and price indicators both peers compute (catalog ids, SPEC §2)."""


def peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident set size (``VmHWM``) in MB of this process, or of process ``pid``."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    started = time.perf_counter()
    out = work()
    return {"seconds": time.perf_counter() - started, **out}


def _seconds(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def copy_db(source: Path, target: Path) -> None:
    """Copy a database file (and its WAL, if any) over ``target``."""
    for suffix in ("", ".wal"):
        here = source.with_name(source.name + suffix)
        there = target.with_name(target.name + suffix)
        there.unlink(missing_ok=True)
        if here.exists():
            shutil.copyfile(here, there)


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


def _ingest(con: Any, path: Path) -> int:
    from indicators import ingest

    result = ingest.ingest_file(con, path, max_bytes=NO_SIZE_LIMIT)
    if not result.accepted:
        raise RuntimeError(ingest.format_result(result))
    return result.rows


def ingest_purchases(data: Path, db: Path, **_: Any) -> dict[str, Any]:
    """(b) The bulk load: our validated ingest of the purchases file into a fresh database file
    (with whatever the load keeps current: the stored indicators, once they are stored)."""
    from indicators import store

    con = store.connect(db)
    try:

        def work() -> dict[str, Any]:
            rows = _ingest(con, data / "purchases.csv")
            con.execute("CHECKPOINT")
            return {"rows": rows}

        out = _timed(work)
        (out["stored"],) = con.execute("SELECT count(*) FROM purchases").fetchone()
        return out
    finally:
        con.close()


def _ingest_each(db: Path, files: dict[str, Path]) -> dict[str, Any]:
    """Load ``files`` in turn into ``db``, then CHECKPOINT; seconds and rows per dataset."""
    from indicators import store

    con = store.connect(db)
    try:
        rows: dict[str, int] = {}
        seconds: dict[str, float] = {}
        started = time.perf_counter()
        for name, path in files.items():
            t0 = time.perf_counter()
            rows[name] = _ingest(con, path)
            seconds[name] = time.perf_counter() - t0
        con.execute("CHECKPOINT")
        return {"seconds": time.perf_counter() - started, "rows": rows, "by_dataset": seconds}
    finally:
        con.close()


def ingest_others(data: Path, db: Path, **_: Any) -> dict[str, Any]:
    """Complaints, responses, retention, surveys and targets into the same database."""
    return _ingest_each(db, {name: data / f"{name}.csv" for name in OTHER_DATASETS})


def ingest_all(data: Path, db: Path, **_: Any) -> dict[str, Any]:
    """Every dataset into a fresh database (the long history of (j): not a target)."""
    return _ingest_each(db, {name: data / f"{name}.csv" for name in ("purchases",
                                                                       *OTHER_DATASETS)})


def monthly(data: Path, db: Path, **_: Any) -> dict[str, Any]:
    """(h) A monthly load: the month after the history, every dataset, into a copy of ``db``
    (``monthly.duckdb`` beside it, copied first and not timed; kept for the next steps)."""
    target = db.with_name("monthly.duckdb")
    copy_db(db, target)
    return _ingest_each(target, {name: data / "month" / f"{name}.csv"
                                 for name in MONTH_DATASETS})


def ready(db: Path, **_: Any) -> dict[str, Any]:
    """(c) The indicators ready to read: every month, department and All, as the pages and the
    CLI read them (:func:`indicators.stored_indicators.read`, read-only) — the stored table
    once it is stored, a computation from the data while it is not."""
    from indicators import store, stored_indicators
    from indicators.scope import Scope

    con = store.connect(db, read_only=True)
    try:
        return _timed(lambda: {"rows": len(stored_indicators.read(con, Scope()))})
    finally:
        con.close()


def recompute(db: Path, **_: Any) -> dict[str, Any]:
    """The full computation (:func:`indicators.compute.indicator_table`): what a rebuild does."""
    from indicators import compute, store

    con = store.connect(db, read_only=True)
    try:
        return _timed(lambda: {"rows": len(compute.indicator_table(con))})
    finally:
        con.close()


# --- (g) the first request of a page, in the app's own process ----------------------------


def _sidebar(department: str) -> str:
    """What ``app.py`` and the sidebar read for every page; the month the filters choose."""
    from dashboard import auth, data, filters

    data.state()
    data.departments()
    months = data.months()
    auth.current()
    month = filters.default_month(months, filters.incomplete_months(department))
    data.channels()  # the channel filter
    data.currency()
    return month


def _caption() -> None:
    """What :func:`dashboard.widgets.view_caption` reads (the page's incomplete notice and
    the freshness line)."""
    from dashboard import data

    data.completeness()
    data.state()
    data.freshness()
    data.settings()


def _scorecard_reads(department: str, month: str) -> None:
    from dashboard import data
    from indicators.catalog import ALL_DEPARTMENTS
    from indicators.months import shift

    data.state()
    data.overview(department, month)
    data.completeness()
    _caption()
    data.settings()
    data.event_notes()
    data.unusual(department, (shift(month, -11), month))  # the cards' flags
    data.not_loaded(department, month)
    data.promise_summary(month, department)
    if department != ALL_DEPARTMENTS:
        data.compare(department, month)


def _family_reads(department: str, month: str) -> None:
    from dashboard import data

    data.state()
    _caption()
    data.indicators()
    data.not_loaded(department, month)
    data.complaint_mix()
    data.indicators()
    data.targets()
    data.row_counts()
    data.settings()
    data.completeness()
    data.event_notes()
    data.channels()
    data.by_channel(department, month)  # the channel comparison
    data.unusual(department)  # the trends' flags


def _route_reads(department: str, month: str) -> None:
    from dashboard import data

    data.state()
    _caption()
    data.route()
    data.checkins()
    data.event_notes()


PAGE_READS: dict[str, Callable[[str, str], None]] = {
    "scorecard": _scorecard_reads,
    "family": _family_reads,
    "route": _route_reads,
}
"""Per page kind, the :mod:`dashboard.data` calls its script makes (``app_pages/overview.py``,
``app_pages/quality.py`` with :func:`dashboard.family.sections`, ``app_pages/route.py``), in
order; the sidebar's come first (:func:`_sidebar`)."""


def page_request(kind: str, department: str) -> None:
    """One request of page ``kind`` for ``department``, as ``app.py`` runs it: the sidebar's
    and the page's reads on the run's shared connection (:func:`dashboard.data.reading`)."""
    from dashboard import data

    with data.reading():
        month = _sidebar(department)
        PAGE_READS[kind](department, month)


PAGE_SCRIPTS: dict[str, str] = {
    "scorecard": "app_pages/overview.py", "family": "app_pages/quality.py",
    "route": "app_pages/route.py",
}
"""The page each kind runs, as ``app.py``'s ``st.navigation`` names it."""
ROOT = Path(__file__).resolve().parent.parent


_COMPONENTS: list[Any] = []
"""The process's one registry of Streamlit components (see :func:`_components`)."""


def _components() -> Any:
    """The registry of installed Streamlit components, discovered once for the process — as
    the server does, once when its runtime starts (``streamlit.runtime.Runtime``).  A new
    ``AppTest`` would discover them again at its first run, a scan of every installed
    package's metadata (0.1–0.2 s here) that no request to a running server pays."""
    if not _COMPONENTS:
        from streamlit.components.v2.component_manager import BidiComponentManager

        registry = BidiComponentManager()
        registry.discover_and_register_components(start_file_watching=False)
        _COMPONENTS.append(registry)
    return _COMPONENTS[0]


def script_run(kind: str, department: str) -> None:
    """One whole run of ``app.py`` showing page ``kind`` for ``department`` (the sidebar's
    URL parameter), in this process (Streamlit's ``AppTest``: a new session, the process's
    caches and components, :func:`_components`); an error if the page raised."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at._bidi_component_manager = _components()  # as the server's: discovered once
    at.query_params["department"] = department
    at.switch_page(PAGE_SCRIPTS[kind])
    at.run()
    if at.exception:
        raise RuntimeError(f"{kind} for {department}: {[e.value for e in at.exception]}")


def _cold_and_warm(request: Callable[[str, str], None], departments: list[str],
                   rounds: int) -> dict:
    """``request(kind, department)`` of every page kind and department: once untimed (an app
    that has served pages before: its modules imported), then ``rounds`` times after
    :func:`dashboard.data.clear_caches` (cold) and again (warm); the median of each."""
    from dashboard import data

    for kind in PAGE_KINDS:
        for department in departments:
            request(kind, department)
    runs: dict[tuple[str, str], dict[str, list[float]]] = {}
    for _ in range(rounds):
        for kind in PAGE_KINDS:
            for department in departments:
                data.clear_caches()
                figures = runs.setdefault((kind, department), {"seconds": [], "warm_seconds": []})
                figures["seconds"].append(_seconds(lambda: request(kind, department)))  # noqa: B023
                figures["warm_seconds"].append(_seconds(lambda: request(kind, department)))  # noqa: B023
    found: dict[str, dict[str, dict[str, float]]] = {}
    for (kind, department), figures in runs.items():
        found.setdefault(kind, {})[department] = {
            key: statistics.median(values) for key, values in figures.items()
        }
    return found


def pages(db: Path, *, departments: list[str], rounds: int = 3, script_rounds: int = 1,
          **_: Any) -> dict[str, Any]:
    """(g) Every page kind for every department, in the app's own process: the first request
    after a load (every cache cleared) and the same request served warm (:func:`_cold_and_warm`),
    twice over — the page's reads alone (:func:`page_request`, what its ``dashboard.data``
    loaders take; the median of ``rounds``) and the whole script run (:func:`script_run`: the
    reads and building every element the page sends, as the server does before the browser
    draws anything; ``script_rounds``, none when 0).

    Streamlit's ``st.cache_data`` runs here with the same caches as in the app (bare mode for
    the reads; ``AppTest``'s session for the scripts).
    """
    import logging

    os.environ["SERVICE_DB"] = str(db.absolute())
    # bare mode warns once per cached call that there is no Streamlit runtime
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    started = time.perf_counter()
    found = {"pages": _cold_and_warm(page_request, departments, rounds)}
    if script_rounds:
        found["scripts"] = _cold_and_warm(script_run, departments, script_rounds)
    return {"seconds": time.perf_counter() - started, **found, "rounds": rounds,
            "script_rounds": script_rounds}


def setting(db: Path, **_: Any) -> dict[str, Any]:
    """(i) A settings change as the settings page makes it (:func:`dashboard.data.save_setting`,
    :func:`dashboard.writes.save_setting`): a custom iceberg factor one higher than the one in
    effect, which enters every department's estimated dissatisfied customers and revenue at
    risk."""
    import logging

    os.environ["SERVICE_DB"] = str(db.absolute())
    from dashboard import data
    from indicators import store

    logging.getLogger("streamlit").setLevel(logging.ERROR)
    con = store.connect(db, read_only=True)
    try:
        before = store.read_settings(con).iceberg_factor
    finally:
        con.close()
    # as the settings page saves the iceberg: where complaints are counted and the factor
    out = _timed(lambda: {"said": data.save_settings(
        {"iceberg_counted_at": "custom", "iceberg_factor": before + 1})})
    return {**out, "before": before, "iceberg_factor": before + 1}


# --- (j) the report of a long history ------------------------------------------------------


@contextmanager
def _stdout_to(path: Path) -> Iterator[None]:
    """Send this process's standard output — Python's and file descriptor 1, which DuckDB's
    ``COPY … TO '/dev/stdout'`` would write to — to ``path`` while the block runs."""
    sys.stdout.flush()
    saved = os.dup(1)
    saved_stdout = sys.stdout
    with path.open("wb") as target:
        os.dup2(target.fileno(), 1)
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stdout = saved_stdout
            os.dup2(saved, 1)
            os.close(saved)


def _copy_reference(db: Path, target: Path) -> float:
    """DuckDB's own ``COPY … TO`` CSV of the indicator long table: the stored table when there
    is one; else the same rows computed first (not timed) into a table of their own."""
    import duckdb

    from indicators import store, stored_indicators
    from indicators.scope import Scope

    con = store.connect(db, read_only=True)
    try:
        stored = stored_indicators.exists(con)
        frame = None if stored else stored_indicators.read(con, Scope())
        if stored:
            statement = f"COPY {stored_indicators.TABLE} TO $path (HEADER)"
            return _seconds(lambda: con.execute(statement, {"path": str(target)}))
    finally:
        con.close()
    scratch = duckdb.connect()
    try:
        scratch.register("computed", frame)
        scratch.execute("CREATE TABLE indicator_rows AS SELECT * FROM computed")
        scratch.unregister("computed")
        return _seconds(lambda: scratch.execute("COPY indicator_rows TO $path (HEADER)",
                                                {"path": str(target)}))
    finally:
        scratch.close()


def report_output(db: Path, *, fmt: str, **_: Any) -> dict[str, Any]:
    """(j) ``python -m indicators report --format csv|json`` (the CLI's ``main``, in this
    process, standard output to a file) — or, ``copy``, DuckDB's ``COPY`` of the same rows."""
    target = db.with_name(f"report-{fmt}.{'csv' if fmt == 'copy' else fmt}")
    # A new file each run, for every format alike: truncating the last run's output (its pages
    # still in the cache) costs in proportion to its size, and is not the cost of producing it.
    target.unlink(missing_ok=True)
    if fmt == "copy":
        seconds = _copy_reference(db, target)
    else:
        from indicators.__main__ import _parser
        from indicators.__main__ import main as cli
        from indicators.report import run_report_cli  # noqa: F401  imported, as in a CLI's start

        _parser()  # the commands' modules imported too: what is timed is the output

        with _stdout_to(target):
            started = time.perf_counter()
            code = cli(["report", "--db", str(db), "--format", fmt])
            seconds = time.perf_counter() - started
        if code != 0:
            raise RuntimeError(f"report --format {fmt} exited {code}")
    with target.open("rb") as f:
        lines = sum(1 for _ in f)
    return {"seconds": seconds, "bytes": target.stat().st_size, "lines": lines, "format": fmt}


# --- (f) and (k): the peers ---------------------------------------------------------------


def _label(m: Any) -> list[str]:
    """Month indices (year × 12 + month − 1) as ``YYYY-MM``."""
    return [f"{int(i) // 12:04d}-{int(i) % 12 + 1:02d}" for i in m]


def pandas_table(path: Path) -> Any:
    """(f) pandas alone: read the CSV, then the quantity and price indicators by groupby.

    Per month × department and for All: purchases, revenue, active and new customers,
    returning rate (bought in one of the 12 previous months), average ticket, revenue per
    customer and discount rate — the same definitions as the engine (SPEC §2).  One row per
    ``department`` (``All`` included) and ``month``, a column per :data:`PEER_INDICATORS`.
    """
    import numpy as np
    import pandas as pd

    frame = pd.read_csv(
        path,
        usecols=["purchased_at", "customer_id", "department", "amount", "list_amount"],
        dtype={"customer_id": "str", "department": "str", "purchased_at": "str",
               "amount": "float64", "list_amount": "float64"},
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

    everywhere = table([]).assign(department="All")
    out = pd.concat([table(["department"]), everywhere], ignore_index=True)
    out["month"] = _label(out["m"])
    return out[["department", "month", *PEER_INDICATORS]]


def polars_table(path: Path) -> Any:
    """(k) polars alone: the same indicators as :func:`pandas_table`, the same rows, computed
    with polars' expressions (a benchmark-only dependency: ``requirements-dev.txt``)."""
    import polars as pl

    stamp = pl.col("purchased_at")
    frame = (
        pl.scan_csv(path, schema_overrides={
            "purchased_at": pl.String, "customer_id": pl.String, "department": pl.String,
            "amount": pl.Float64, "list_amount": pl.Float64,
        })
        .select(
            "customer_id", "department", "amount", "list_amount",
            m=stamp.str.slice(0, 4).cast(pl.Int64) * 12 + stamp.str.slice(5, 2).cast(pl.Int64)
            - 1,
            list_paid=pl.when(pl.col("list_amount").is_not_null()).then(pl.col("amount")),
        )
        .collect()
    )

    def table(keys: list[str]) -> pl.DataFrame:
        by = [*keys, "m"]
        prev = pl.col("m").shift(1).over(["customer_id", *keys])
        customers = (
            frame.lazy().select([*keys, "customer_id", "m"]).unique()
            .sort(["customer_id", *keys, "m"])
            .with_columns(new=prev.is_null(), returning=(prev >= pl.col("m") - 12).fill_null(False))
            .group_by(by)
            .agg(active_customers=pl.len(), new_customers=pl.col("new").sum(),
                 returning=pl.col("returning").sum())
        )
        sums = frame.lazy().group_by(by).agg(
            purchases=pl.len(), revenue=pl.col("amount").sum(),
            list_amount=pl.col("list_amount").sum(), list_paid=pl.col("list_paid").sum(),
        )
        listed = pl.when(pl.col("list_amount") != 0).then(pl.col("list_amount"))
        return (
            sums.join(customers, on=by)
            .with_columns(
                returning_customers_rate=pl.col("returning") / pl.col("active_customers") * 100,
                average_ticket=pl.col("revenue") / pl.col("purchases"),
                revenue_per_customer=pl.col("revenue") / pl.col("active_customers"),
                discount_rate=(1 - pl.col("list_paid") / listed) * 100,
            )
            .sort(by)  # group_by's order is arbitrary; pandas' groupby sorts
            .collect()
        )

    everywhere = table([]).with_columns(department=pl.lit("All"))
    columns = ["department", "m", *PEER_INDICATORS]
    out = pl.concat([table(["department"]).select(columns), everywhere.select(columns)])
    months = _label(out["m"].to_list())
    return out.with_columns(month=pl.Series(months)).select(
        ["department", "month", *PEER_INDICATORS])


def pandas_peer(data: Path, **_: Any) -> dict[str, Any]:
    """(f) :func:`pandas_table` of the purchases file, timed."""
    return _timed(lambda: {"rows": len(pandas_table(data / "purchases.csv"))})


def polars_peer(data: Path, **_: Any) -> dict[str, Any]:
    """(k) :func:`polars_table` of the purchases file, timed."""
    return _timed(lambda: {"rows": len(polars_table(data / "purchases.csv"))})


def browser(data: Path, db: Path, *, departments: list[str], **_: Any) -> dict[str, Any]:
    """(l) Every page kind in Chromium, cold after a load and warm (:mod:`bench.browser`)."""
    from bench import browser as chromium

    # The month's retention file: a real load (every cache of the app misses after it) that
    # takes a second, where the whole month would take the monthly load's time six times over.
    files = [data / "month" / "retention.csv"]
    return chromium.measure(db, files, kinds=PAGE_KINDS, departments=departments)


STEPS: dict[str, Callable[..., dict[str, Any]]] = {
    "raw_csv": raw_csv,
    "ingest_purchases": ingest_purchases,
    "ingest_others": ingest_others,
    "ingest_all": ingest_all,
    "ready": ready,
    "recompute": recompute,
    "pages": pages,
    "monthly": monthly,
    "setting": setting,
    "report_output": report_output,
    "pandas": pandas_peer,
    "polars": polars_peer,
    "browser": browser,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run one benchmark step and print JSON.")
    parser.add_argument("step", choices=sorted(STEPS))
    parser.add_argument("--data", type=Path, required=True, help="directory of the CSV files")
    parser.add_argument("--db", type=Path, required=True, help="DuckDB file of the step")
    parser.add_argument("--department", action="append", dest="departments",
                        help="a department of the page steps (repeatable; default All)")
    parser.add_argument("--format", dest="fmt", choices=("csv", "json", "copy"), default="csv",
                        help="report_output: the report's format, or DuckDB's COPY")
    parser.add_argument("--rounds", type=int, default=3,
                        help="pages: cold and warm reads of each page (the median counts)")
    parser.add_argument("--script-rounds", type=int, default=1,
                        help="pages: cold and warm whole script runs of each page (0: none)")
    args = parser.parse_args(argv)
    out = STEPS[args.step](
        data=args.data, db=args.db, departments=args.departments or ["All"], fmt=args.fmt,
        rounds=args.rounds, script_rounds=args.script_rounds,
    )
    out["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
