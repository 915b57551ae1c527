"""The benchmark: ``python -m bench.run --n 1000000 --n 10000000`` (``make bench``).

For every ``N`` it takes the synthetic files of :mod:`bench.generate` (written once and cached
under ``<out>/data``; not timed), runs each step in its own process (:mod:`bench.steps`) and
prints one table with every target of issue 17, PASS or FAIL:

(a) ``raw_csv``       DuckDB alone: ``CREATE TABLE … AS SELECT * FROM read_csv(…)``;
(b) ``ingest``        the bulk load: our validated ``ingest_file`` of the same file into a fresh
                      database, whatever it keeps current included; the ratio b / a.  The other
                      datasets follow (complaints, responses, retention, surveys, targets);
(c) ``ready``         the indicators ready to read, every month, department and All
                      (``stored_indicators.read``: the stored table, or computed while the code
                      stores none); ``recompute`` the full computation (what a rebuild does);
(g) ``pages``         the first request after a load of the scorecard, a family page
                      (quality) and the route, for All and for the biggest department, in the
                      app's own process (every cache cleared), and the same request warm — the
                      page's ``dashboard.data`` reads alone, and the whole script run;
(h) ``monthly``       one new month of every dataset loaded into a copy of the history, ÷ the
                      bulk load of every dataset (b + the others) of the same run;
(i) ``setting``       a settings change as the settings page makes it (the iceberg factor);
(j) ``report``        ``python -m indicators report`` as CSV and as JSON of a long history with
                      many departments (:data:`bench.generate.LONG`: 1.3 M indicator rows, run
                      once, not per N) ÷ DuckDB's own ``COPY … TO`` CSV of the same rows;
(e) peak RSS of every step (``VmHWM`` of its process; the app server's in (l));
(f) ``pandas``, (k) ``polars``: read_csv + the quantity and price indicators, each against
                      ours, (b + c);
(l) ``browser``       the page as a person gets it, in Chromium (:mod:`bench.browser`), cold
                      after a load and warm.

The smaller N's serve the growth targets (1 M → 10 M no worse than linear) and run only the
steps those compare (a, b, c, h, the loads and (g)'s reads); the others run at the largest N.

The results also go to ``<out>/results.json``.  Timings are wall-clock seconds of the work
itself (interpreter start-up and imports excluded), the median of ``--repeat`` runs (default
3; (a) and (b) alternate run by run; the peers run ``--peer-repeat`` times, default 1, being
slow and far from the line); a report run slower than :data:`SLOW_RUN_SECONDS` is not
repeated.  Every run's time is kept in ``runs_seconds``.  The machine's load average is
recorded before and after, because other processes disturb the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import generate
from bench.steps import PAGE_KINDS

DEFAULT_OUT = Path("bench") / "out"
DEPARTMENTS_MEASURED: tuple[str, ...] = ("All", generate.DEPARTMENTS[0])
"""Pages measured: every department together, and the biggest department."""
LONG_N = 200_000
"""Purchases of the long history (j): ≈ 4 per month and department."""

MAX_FIRST_REQUEST_SECONDS = 0.3
MAX_FIRST_OVER_WARM = 3.0
MAX_DRAWN_WARM_SECONDS = 1.5
MAX_DRAWN_COLD_SECONDS = 2.0
MAX_BULK_RATIO = 2.0
MAX_MONTHLY_SHARE = 0.15
MAX_REPORT_CSV_RATIO = 2.0
MAX_REPORT_JSON_RATIO = 3.0
MAX_PEAK_RSS_MB = 2048.0
MAX_VS_PEER = 1.0
SLOW_RUN_SECONDS = 20.0
"""A report run slower than this is not repeated: its median would cost minutes."""
OUR_STEPS: tuple[str, ...] = (
    "ingest_purchases", "ingest_others", "ready", "recompute", "pages", "monthly", "setting",
)
FULL_ONLY: frozenset[str] = frozenset({"recompute", "setting", "pandas", "polars", "browser"})
"""Steps measured at the largest N alone (no target compares them across N)."""


@dataclass(frozen=True)
class Check:
    """One target, judged on the largest N (growth: between the smallest and the largest)."""

    name: str
    value: float | None
    limit: float
    unit: str

    @property
    def passed(self) -> bool:
        return self.value is not None and self.value <= self.limit


def _step(step: str, data: Path, db: Path, **options: Any) -> dict[str, Any]:
    """Run one step in a fresh interpreter and return its JSON line (a list option repeats)."""
    command = [sys.executable, "-m", "bench.steps", step, "--data", str(data), "--db", str(db)]
    for key, value in options.items():
        for one in value if isinstance(value, (list, tuple)) else [value]:
            command += [f"--{key}", str(one)]
    done = subprocess.run(command, capture_output=True, text=True, check=False,
                          cwd=Path(__file__).resolve().parent.parent)
    if done.returncode != 0:
        raise RuntimeError(f"step {step} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _remove_db(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median time (the lower one of an even count), with every run's seconds
    in ``runs_seconds`` and the worst ``peak_rss_mb``.  A median, because single timings on a
    shared 2-core machine wander by ±10 % and more from run to run."""
    chosen = sorted(runs, key=lambda r: r["seconds"])[(len(runs) - 1) // 2]
    return {**chosen, "runs_seconds": [r["seconds"] for r in runs],
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs)}


def _median_step(step: str, data: Path, db: Path, repeat: int, *,
                 slow: float | None = None, **options: Any) -> dict[str, Any]:
    """The step ``repeat`` times, each in a fresh process (fewer when a run takes longer than
    ``slow`` seconds): :func:`_median` of the runs."""
    runs = []
    for _ in range(repeat):
        runs.append(_step(step, data, db, **options))
        if slow is not None and runs[-1]["seconds"] > slow:
            break
    return _median(runs)


def _attempt(measure, label: str, log) -> dict[str, Any]:
    """``measure()``, or ``{"error": …}`` when its step failed: the other steps still run, and
    the targets that need this one say FAIL."""
    try:
        return measure()
    except RuntimeError as exc:
        log(f"  {label}: FAILED\n" + "\n".join("    " + line for line in str(exc).splitlines()[-6:]))
        return {"error": str(exc)[-4000:]}


def run_one(n: int, out: Path, *, keep: bool = False, repeat: int = 3, peer_repeat: int = 1,
            full: bool = True, browser: bool = True, log=print) -> dict[str, Any]:
    """Every step at ``n`` purchases; the steps' JSON by step name.

    Not ``full`` (an N below the largest, measured for the growth to the largest): only the
    steps the growth targets compare — the loads, the indicators ready and the pages' reads.
    """
    dbs = out / "db" / str(n)
    dbs.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    history, _, written = generate.cached_files(out / "data", n)
    data = history["purchases"].parent
    log(f"N = {n:,}: files {'written' if written else 'cached'} in "
        f"{time.perf_counter() - started:.1f} s "
        f"(purchases {history['purchases'].stat().st_size / 1e6:.0f} MB)")
    raw_db, db, month_db = dbs / "raw.duckdb", dbs / "service.duckdb", dbs / "monthly.duckdb"
    for path in (raw_db, db, month_db):
        _remove_db(path)
    results: dict[str, Any] = {"n": n, "purchases_mb": history["purchases"].stat().st_size / 1e6,
                               "repeat": repeat}

    def show(label: str, result: dict[str, Any]) -> None:
        spread = ", ".join(f"{x:.2f}" for x in result.get("runs_seconds", []))
        log(f"  {label}: {result['seconds']:.2f} s" + (f" (runs {spread})" if spread else ""))

    departments = list(DEPARTMENTS_MEASURED)
    try:
        # (a) and (b) alternate run by run, so that a slow spell of the machine hits both
        raw_runs, ingest_runs = [], []
        for _ in range(repeat):
            _remove_db(raw_db)
            raw_runs.append(_step("raw_csv", data, raw_db))
            _remove_db(db)
            ingest_runs.append(_step("ingest_purchases", data, db))
        _remove_db(raw_db)
        for step, runs in (("raw_csv", raw_runs), ("ingest_purchases", ingest_runs)):
            results[step] = _median(runs)
            show(step, results[step])
        # the last ingest's database is the one the other steps read
        measured = (
            ("ingest_others", "load of the other datasets", lambda: _step("ingest_others", data, db)),
            # (g) right after the load, as a person opening the app after it
            ("pages", "pages (g)",
             lambda: _step("pages", data, db, department=departments, rounds=repeat,
                           **{"script-rounds": 1 if full else 0})),
            ("ready", "indicators ready (c)", lambda: _median_step("ready", data, db, repeat)),
            ("recompute", "full recomputation", lambda: _step("recompute", data, db)),
            ("monthly", "monthly load (h)", lambda: _median_step("monthly", data, db, repeat)),
            # the last monthly load's copy takes the settings change and the browser's loads
            ("setting", "settings change (i)",
             lambda: _median_step("setting", data, month_db, repeat)),
            ("pandas", "pandas (f)", lambda: _median_step("pandas", data, db, peer_repeat)),
            ("polars", "polars (k)", lambda: _median_step("polars", data, db, peer_repeat)),
            ("browser", "browser (l)",
             lambda: _step("browser", data, month_db, department=departments)),
        )
        for step, label, measure in measured:
            if (step == "browser" and not browser) or (step in FULL_ONLY and not full):
                continue
            results[step] = _attempt(measure, label, log)
            if "error" not in results[step]:
                show(label, results[step])
    finally:
        for path in (raw_db, month_db) if keep else (raw_db, db, month_db):
            _remove_db(path)
    return results


def run_long(out: Path, n: int, shape: generate.Shape, *, keep: bool = False, repeat: int = 3,
             log=print) -> dict[str, Any]:
    """(j) ``report`` of a long history × many departments as CSV and JSON, and DuckDB's
    ``COPY`` of the same rows, on a database holding every dataset of it."""
    started = time.perf_counter()
    history, _, written = generate.cached_files(out / "data", n, shape=shape)
    data = history["purchases"].parent
    log(f"long history, {shape.months} months × {shape.departments} departments, "
        f"{n:,} purchases: files {'written' if written else 'cached'} in "
        f"{time.perf_counter() - started:.1f} s")
    dbs = out / "db" / f"long{shape.key}"
    dbs.mkdir(parents=True, exist_ok=True)
    db = dbs / "service.duckdb"
    _remove_db(db)
    results: dict[str, Any] = {"n": n, "months": shape.months, "departments": shape.departments}
    try:
        results["ingest"] = _step("ingest_all", data, db)
        log(f"  load of every dataset: {results['ingest']['seconds']:.2f} s")
        for fmt in ("copy", "csv", "json"):
            label = "COPY" if fmt == "copy" else f"report {fmt}"
            results[fmt] = _attempt(lambda fmt=fmt: _median_step(
                "report_output", data, db, repeat, slow=SLOW_RUN_SECONDS, format=fmt), label, log)
            if "error" not in results[fmt]:
                log(f"  {label}: {results[fmt]['seconds']:.2f} s "
                    f"({results[fmt]['bytes'] / 1e6:.0f} MB)")
    finally:
        for name in ("report-copy.csv", "report-csv.csv", "report-json.json"):
            (dbs / name).unlink(missing_ok=True)
        if not keep:
            _remove_db(db)
    return results


# --- the figures and the targets ----------------------------------------------------------


def _figure(result: dict[str, Any], step: str, key: str = "seconds") -> float | None:
    """Figure ``key`` of ``step``; None when the step did not run or failed."""
    value = result.get(step, {}).get(key)
    return None if value is None else float(value)


def _pages(result: dict[str, Any], scope: str) -> dict[str, dict[str, dict[str, float]]]:
    """``{kind: {department: {"seconds", "warm_seconds"}}}`` of (g) (``pages`` or
    ``script``) or (l) (``browser``); empty when that step did not run."""
    step, key = {"reads": ("pages", "pages"), "script": ("pages", "scripts"),
                 "browser": ("browser", "pages")}[scope]
    return result.get(step, {}).get(key, {})


def _worst(pages: dict[str, dict[str, dict[str, float]]], kind: str, key: str) -> float | None:
    """The worst figure ``key`` of page ``kind`` over the departments (``seconds``,
    ``warm_seconds`` or ``ratio``: cold ÷ warm of the same request).

    >>> _worst({"route": {"All": {"seconds": 0.2, "warm_seconds": 0.1},
    ...                   "North": {"seconds": 0.3, "warm_seconds": 0.2}}}, "route", "ratio")
    2.0
    """
    figures = pages.get(kind)
    if not figures:
        return None
    if key == "ratio":
        return max(f["seconds"] / f["warm_seconds"] for f in figures.values())
    return max(f[key] for f in figures.values())


def _sum(*parts: float | None) -> float | None:
    return None if any(p is None for p in parts) else sum(parts)  # type: ignore[arg-type]


def _ratio(top: float | None, bottom: float | None) -> float | None:
    return None if top is None or not bottom else top / bottom


def summary(result: dict[str, Any]) -> dict[str, float | None]:
    """The figures of one N that the table shows (None: not measured at this N, or failed)."""
    raw, ingest = _figure(result, "raw_csv"), _figure(result, "ingest_purchases")
    bulk = _sum(ingest, _figure(result, "ingest_others"))
    ours = _sum(ingest, _figure(result, "ready"))
    out: dict[str, float | None] = {
        "raw_csv_s": raw,
        "ingest_s": ingest,
        "ingest_ratio": _ratio(ingest, raw),
        "ingest_others_s": _figure(result, "ingest_others"),
        "bulk_s": bulk,
        "ready_s": _figure(result, "ready"),
        "recompute_s": _figure(result, "recompute"),
        "monthly_s": _figure(result, "monthly"),
        "monthly_share": _ratio(_figure(result, "monthly"), bulk),
        "setting_s": _figure(result, "setting"),
        "pandas_s": _figure(result, "pandas"),
        "polars_s": _figure(result, "polars"),
        "ours_s": ours,
        "ours_vs_pandas": _ratio(ours, _figure(result, "pandas")),
        "ours_vs_polars": _ratio(ours, _figure(result, "polars")),
        "peak_rss_raw_csv_mb": _figure(result, "raw_csv", "peak_rss_mb"),
        "peak_rss_pandas_mb": _figure(result, "pandas", "peak_rss_mb"),
        "peak_rss_polars_mb": _figure(result, "polars", "peak_rss_mb"),
        "peak_rss_server_mb": _figure(result, "browser", "server_peak_rss_mb"),
    }
    ours_rss = [_figure(result, s, "peak_rss_mb") for s in OUR_STEPS]
    out["peak_rss_ours_mb"] = max([r for r in (*ours_rss, out["peak_rss_server_mb"])
                                   if r is not None], default=None)
    for scope in ("reads", "script", "browser"):
        pages = _pages(result, scope)
        for kind in PAGE_KINDS:
            for key in ("seconds", "warm_seconds", "ratio"):
                out[f"{scope}_{kind}_{key}"] = _worst(pages, kind, key)
    firsts = [out[f"reads_{kind}_seconds"] for kind in PAGE_KINDS]
    out["first_request_s"] = None if None in firsts else max(firsts)  # type: ignore[type-var]
    return out


def long_summary(long: dict[str, Any]) -> dict[str, float | None]:
    """The figures of (j) (None where a step failed)."""
    copy = _figure(long, "copy")
    lines = _figure(long, "copy", "lines")
    rss = [_figure(long, k, "peak_rss_mb") for k in ("ingest", "csv", "json")]
    return {
        "rows": None if lines is None else lines - 1,
        "load_s": _figure(long, "ingest"),
        "copy_s": copy,
        "csv_s": _figure(long, "csv"),
        "json_s": _figure(long, "json"),
        "csv_ratio": _ratio(_figure(long, "csv"), copy),
        "json_ratio": _ratio(_figure(long, "json"), copy),
        "peak_rss_mb": max([r for r in rss if r is not None], default=None),
    }


def checks(results: list[dict[str, Any]], long: dict[str, Any] | None = None) -> list[Check]:
    """The targets of issue 17, judged on the largest N; growth between smallest and largest."""
    big = summary(results[-1])
    out: list[Check] = []
    for scope, what in (("reads", "reads"), ("script", "whole script")):
        for kind in PAGE_KINDS:
            out.append(Check(f"(g) first request, {kind} ({what})",
                             big[f"{scope}_{kind}_seconds"], MAX_FIRST_REQUEST_SECONDS, "s"))
            out.append(Check(f"(g) first ÷ warm, {kind} ({what})",
                             big[f"{scope}_{kind}_ratio"], MAX_FIRST_OVER_WARM, "×"))
    for kind in PAGE_KINDS:
        out.append(Check(f"(l) drawn in Chromium, warm, {kind}",
                         big[f"browser_{kind}_warm_seconds"], MAX_DRAWN_WARM_SECONDS, "s"))
        out.append(Check(f"(l) drawn in Chromium, cold, {kind}",
                         big[f"browser_{kind}_seconds"], MAX_DRAWN_COLD_SECONDS, "s"))
    out += [
        Check("(b) bulk load ÷ DuckDB's read_csv (a)", big["ingest_ratio"], MAX_BULK_RATIO, "×"),
        Check("(h) monthly load ÷ bulk load", big["monthly_share"], MAX_MONTHLY_SHARE, "×"),
    ]
    if long is not None:
        figures = long_summary(long)
        out += [
            Check("(j) report CSV ÷ DuckDB's COPY", figures["csv_ratio"], MAX_REPORT_CSV_RATIO,
                  "×"),
            Check("(j) report JSON ÷ DuckDB's COPY", figures["json_ratio"],
                  MAX_REPORT_JSON_RATIO, "×"),
        ]
    peaks = [big["peak_rss_ours_mb"], long_summary(long)["peak_rss_mb"] if long else None]
    peak = max([p for p in peaks if p is not None], default=None)
    out += [
        Check("(e) peak RSS of our steps", peak, MAX_PEAK_RSS_MB, "MB"),
        Check("(b + c) ÷ pandas (f)", big["ours_vs_pandas"], MAX_VS_PEER, "×"),
        Check("(b + c) ÷ polars (k)", big["ours_vs_polars"], MAX_VS_PEER, "×"),
    ]
    if len(results) > 1:
        small = summary(results[0])
        growth = results[-1]["n"] / results[0]["n"]
        for key, label in (("ingest_s", "bulk load"), ("ready_s", "indicators ready"),
                           ("first_request_s", "first request (reads)"),
                           ("monthly_s", "monthly load"), ("peak_rss_ours_mb", "peak RSS")):
            out.append(Check(f"growth {_short(results[0]['n'])} → {_short(results[-1]['n'])}:"
                             f" {label}", _ratio(big[key], small[key]), growth, "×"))
    return out


def _short(n: int) -> str:
    """``n`` purchases in few characters.

    >>> _short(10_000_000), _short(2_000)
    ('10 M', '2,000')
    """
    return f"{n // 1_000_000} M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n:,}"


def _rows() -> list[tuple[str, str, str]]:
    rows = [
        ("raw_csv_s", "(a) DuckDB read_csv → table", "{:.2f} s"),
        ("ingest_s", "(b) bulk load of the purchases (validated)", "{:.2f} s"),
        ("ingest_ratio", "    ratio b / a", "{:.2f} ×"),
        ("ingest_others_s", "    load of the other datasets", "{:.2f} s"),
        ("ready_s", "(c) indicators ready (every row)", "{:.2f} s"),
        ("recompute_s", "    full recomputation (indicator_table)", "{:.2f} s"),
    ]
    departments = " · ".join(DEPARTMENTS_MEASURED)
    for scope, label in (("reads", "reads"), ("script", "whole script")):
        for kind in PAGE_KINDS:
            rows += [
                (f"{scope}_{kind}_seconds", f"(g) {kind}, {label}: first (worst)", "{:.3f} s"),
                (f"{scope}_{kind}_warm_seconds", "    warm (worst)", "{:.3f} s"),
                (f"{scope}_{kind}_ratio", "    first ÷ warm (worst)", "{:.1f} ×"),
            ]
    rows += [
        ("monthly_s", "(h) monthly load (a month of every dataset)", "{:.2f} s"),
        ("monthly_share", "    ÷ bulk load of every dataset", "{:.3f} ×"),
        ("setting_s", "(i) settings change (iceberg factor)", "{:.2f} s"),
        ("peak_rss_ours_mb", "(e) peak RSS, our steps", "{:.0f} MB"),
        ("peak_rss_server_mb", "    peak RSS, the app server in (l)", "{:.0f} MB"),
        ("peak_rss_raw_csv_mb", "    peak RSS, DuckDB read_csv", "{:.0f} MB"),
        ("peak_rss_pandas_mb", "    peak RSS, pandas", "{:.0f} MB"),
        ("peak_rss_polars_mb", "    peak RSS, polars", "{:.0f} MB"),
        ("ours_s", "    ours: (b) + (c)", "{:.2f} s"),
        ("pandas_s", "(f) pandas read_csv + groupby", "{:.2f} s"),
        ("ours_vs_pandas", "    ratio (b + c) / f", "{:.2f} ×"),
        ("polars_s", "(k) polars read_csv + group_by", "{:.2f} s"),
        ("ours_vs_polars", "    ratio (b + c) / k", "{:.2f} ×"),
    ]
    for kind in PAGE_KINDS:
        rows += [
            (f"browser_{kind}_seconds", f"(l) {kind} in Chromium: cold (worst)", "{:.2f} s"),
            (f"browser_{kind}_warm_seconds", "    warm (worst)", "{:.2f} s"),
        ]
    rows.append(("", f"    (g), (l): worst of {departments}", ""))
    return rows


LABEL = 48


def format_table(results: list[dict[str, Any]], found: list[Check],
                 long: dict[str, Any] | None = None) -> str:
    """The figures per N, (j), then the targets with PASS/FAIL."""
    sums = [summary(r) for r in results]
    head = f"{'':{LABEL}}" + "".join(f"{'N = ' + format(r['n'], ','):>16}" for r in results)
    lines = [head, "-" * len(head)]
    for key, label, fmt in _rows():
        cells = ["" if not key else "—" if s[key] is None else fmt.format(s[key]) for s in sums]
        lines.append(f"{label:{LABEL}}" + "".join(f"{c:>16}" for c in cells))
    if long is not None:
        f = {k: "—" if v is None else f"{v:,.2f}" for k, v in long_summary(long).items()}
        lines += [
            "",
            f"(j) report of {f['rows'].removesuffix('.00')} indicator rows ({long['months']} "
            f"months × {long['departments']} departments + All, {long['n']:,} purchases)",
            f"    load of every dataset {f['load_s']} s; DuckDB COPY → CSV {f['copy_s']} s;"
            f" report CSV {f['csv_s']} s ({f['csv_ratio']} ×); JSON {f['json_s']} s"
            f" ({f['json_ratio']} ×)",
        ]
    width = LABEL + 34
    lines += ["", f"{'target':{LABEL}}{'value':>14}{'limit':>14}  result", "-" * width]
    for c in found:
        # three decimals below 1: a share of 0.152 must not read as the limit's 0.15
        digits = 3 if c.value is not None and abs(c.value) < 1 else 2
        value = "—" if c.value is None else f"{c.value:.{digits}f} {c.unit}"
        lines.append(f"{c.name:{LABEL}}{value:>14}{'≤ ' + format(c.limit, 'g') + ' ' + c.unit:>14}"
                     f"  {'PASS' if c.passed else 'FAIL'}")
    return "\n".join(lines)


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark loads, pages, report and peers.")
    parser.add_argument("--n", type=int, action="append", help="purchases (repeatable)")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when a target is not met (default: only when a step failed)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where data and JSON go")
    parser.add_argument("--keep", action="store_true",
                        help="keep the databases afterwards (the CSV files are always kept)")
    parser.add_argument("--fresh", action="store_true",
                        help="write the CSV files again instead of using the cached ones")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each timed step; the median counts (default 3)")
    parser.add_argument("--peer-repeat", type=int, default=1,
                        help="runs of the pandas and polars peers (default 1)")
    parser.add_argument("--no-browser", dest="browser", action="store_false",
                        help="leave out (l), the pages in Chromium")
    parser.add_argument("--long-n", type=int, default=LONG_N,
                        help=f"purchases of the long history of (j) (default {LONG_N:,})")
    parser.add_argument("--long-months", type=int, default=generate.LONG.months)
    parser.add_argument("--long-departments", type=int, default=generate.LONG.departments)
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.peer_repeat < 1:
        parser.error("--repeat and --peer-repeat must be at least 1")
    sizes = sorted(set(args.n or [1_000_000, 10_000_000]))
    args.out.mkdir(parents=True, exist_ok=True)
    if args.fresh:
        shutil.rmtree(args.out / "data", ignore_errors=True)
    load_before = _load()
    started = time.perf_counter()
    results = [run_one(n, args.out, keep=args.keep, repeat=args.repeat,
                       peer_repeat=args.peer_repeat, full=n == sizes[-1], browser=args.browser)
               for n in sizes]
    shape = generate.Shape(months=args.long_months, departments=args.long_departments)
    long = run_long(args.out, args.long_n, shape, keep=args.keep, repeat=args.repeat)
    found = checks(results, long)
    import duckdb
    import pandas as pd
    import polars as pl

    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "duckdb": duckdb.__version__,
            "pandas": pd.__version__,
            "polars": pl.__version__,
            "load_before": load_before,
            "load_after": _load(),
            "wall_seconds": time.perf_counter() - started,
        },
        "runs": results,
        "long": long,
        "summary": {str(r["n"]): summary(r) for r in results},
        "long_summary": long_summary(long),
        "targets": [{**asdict(c), "passed": c.passed} for c in found],
    }
    (args.out / "results.json").write_text(json.dumps(report, indent=2))
    print()
    print(format_table(results, found, long))
    passed = sum(c.passed for c in found)
    print(f"\n{passed} of {len(found)} targets met; load average before {load_before}, after "
          f"{report['machine']['load_after']}; {os.cpu_count()} CPUs; "
          f"{report['machine']['wall_seconds']:.0f} s; results in {args.out / 'results.json'}")
    failed = sorted(step for run in [*results, long] if isinstance(run, dict)
                    for step, out in run.items() if isinstance(out, dict) and "error" in out)
    if failed:
        print(f"steps that failed: {', '.join(failed)}")
        return 1
    return 1 if args.strict and passed < len(found) else 0


if __name__ == "__main__":
    raise SystemExit(main())
