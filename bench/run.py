"""The benchmark: ``python -m bench.run --n 1000000 --n 10000000``.

For every ``N`` it writes the synthetic files (:mod:`bench.generate`, not timed), then runs each
step in its own process (:mod:`bench.steps`) and prints one table with the targets:

(a) ``raw_csv``        DuckDB alone: ``CREATE TABLE … AS SELECT * FROM read_csv(…)``;
(b) ``ingest``         our validated ``ingest_file`` of the same file into a fresh database;
                       the ratio b / a;
(c) ``report``         ``indicator_table`` over every indicator, month, department and All,
                       after complaints, responses and surveys are ingested too;
(d) ``overview_app``   the overview page as the app serves it (its ``st.cache_data`` loaders:
                       row counts, the filters' months and departments, the indicators and
                       route of that department and month computed for them alone, settings;
                       then the scorecard) for the latest month, for All and for the biggest
                       department, cold (new process) and warm (the same request again);
                       ``overview`` the engine alone on the same scope, no cache;
                       ``overview_full`` the full table then the scorecard (what the other
                       pages compute once per data version);
(e) peak RSS of every step (``VmHWM`` of its process);
(f) ``pandas``         read_csv + groupby computing the quantity and price indicators, and the
                       ratio (b + c) / f.

The results also go to ``<out>/results.json``.  Timings are wall-clock seconds of the work
itself (interpreter start-up and imports excluded), the median of ``--repeat`` runs (default
3; (a) and (b) alternate run by run); every run's time is kept in ``runs_seconds``.  The
machine's load average is recorded before and after, because other processes disturb the
figures.
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

DEFAULT_OUT = Path("bench") / "out"
OVERVIEW_DEPARTMENTS: tuple[str, ...] = ("All", generate.DEPARTMENTS[0])
"""Scorecards measured: every department together, and the biggest department."""

MAX_INGEST_RATIO = 1.5
MAX_REPORT_SECONDS = 5.0
MAX_OVERVIEW_COLD_SECONDS = 1.0
MAX_OVERVIEW_WARM_SECONDS = 0.2
MAX_PEAK_RSS_MB = 2048.0
MAX_VS_PANDAS = 1.0
OUR_STEPS: tuple[str, ...] = (
    "ingest_purchases", "ingest_others", "report", "overview", "overview_app",
)


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


def _step(step: str, data: Path, db: Path, **options: str) -> dict[str, Any]:
    """Run one step in a fresh interpreter and return its JSON line."""
    command = [sys.executable, "-m", "bench.steps", step, "--data", str(data), "--db", str(db)]
    for key, value in options.items():
        command += [f"--{key}", value]
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


def _median_step(step: str, data: Path, db: Path, repeat: int, **options: str) -> dict[str, Any]:
    """The step ``repeat`` times, each in a fresh process: :func:`_median` of the runs."""
    return _median([_step(step, data, db, **options) for _ in range(repeat)])


def run_one(n: int, out: Path, *, keep: bool = False, repeat: int = 3,
            log=print) -> dict[str, Any]:
    """Every step at ``n`` purchases; the steps' JSON by step name (overviews by department)."""
    data = out / "data" / str(n)
    dbs = out / "db" / str(n)
    dbs.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    files = generate.write_files(data, n)
    log(f"N = {n:,}: files written in {time.perf_counter() - started:.1f} s "
        f"(purchases {files['purchases'].stat().st_size / 1e6:.0f} MB)")
    raw_db, db = dbs / "raw.duckdb", dbs / "service.duckdb"
    _remove_db(raw_db)
    _remove_db(db)
    results: dict[str, Any] = {"n": n, "purchases_mb": files["purchases"].stat().st_size / 1e6,
                               "repeat": repeat}

    def show(label: str, result: dict[str, Any]) -> None:
        spread = ", ".join(f"{x:.2f}" for x in result.get("runs_seconds", []))
        log(f"  {label}: {result['seconds']:.2f} s" + (f" (runs {spread})" if spread else ""))

    try:
        # (a) and (b) alternate run by run, so that a slow spell of the machine hits both
        raw_runs, ingest_runs = [], []
        for _ in range(repeat):
            _remove_db(raw_db)
            raw_runs.append(_step("raw_csv", data, raw_db))
            _remove_db(db)
            ingest_runs.append(_step("ingest_purchases", data, db))
        for step, runs in (("raw_csv", raw_runs), ("ingest_purchases", ingest_runs)):
            results[step] = _median(runs)
            show(step, results[step])
        # the last ingest's database is the one the other steps read
        results["ingest_others"] = _step("ingest_others", data, db)
        show("ingest_others", results["ingest_others"])
        results["report"] = _median_step("report", data, db, repeat)
        show("report", results["report"])
        _remove_db(raw_db)
        results["overview"] = {}
        for department in OVERVIEW_DEPARTMENTS:
            results["overview"][department] = _median_step("overview", data, db, repeat,
                                                           department=department)
            show(f"overview {department}", results["overview"][department])
        results["overview_full"] = _median_step("overview_full", data, db, repeat,
                                                department=OVERVIEW_DEPARTMENTS[0])
        show("overview via the full table", results["overview_full"])
        results["overview_app"] = {}
        for department in OVERVIEW_DEPARTMENTS:
            results["overview_app"][department] = _median_step("overview_app", data, db, repeat,
                                                               department=department)
            show(f"overview (app) {department}", results["overview_app"][department])
        results["pandas"] = _median_step("pandas", data, db, repeat)
        show("pandas", results["pandas"])
    finally:
        _remove_db(raw_db)
        if not keep:
            _remove_db(db)
            shutil.rmtree(data, ignore_errors=True)
    return results


def _overview_worst(result: dict[str, Any], key: str, step: str = "overview_app") -> float:
    return max(o[key] for o in result[step].values())


def _peak(result: dict[str, Any], step: str) -> float:
    if step in ("overview", "overview_app"):
        return max(o["peak_rss_mb"] for o in result[step].values())
    return result[step]["peak_rss_mb"]


def summary(result: dict[str, Any]) -> dict[str, float]:
    """The figures of one N that the table shows."""
    raw, ingest = result["raw_csv"]["seconds"], result["ingest_purchases"]["seconds"]
    report = result["report"]["seconds"]
    return {
        "raw_csv_s": raw,
        "ingest_s": ingest,
        "ingest_ratio": ingest / raw,
        "ingest_others_s": result["ingest_others"]["seconds"],
        "report_s": report,
        "overview_cold_s": _overview_worst(result, "seconds"),
        "overview_cold_all_s": result["overview_app"][OVERVIEW_DEPARTMENTS[0]]["seconds"],
        "overview_cold_department_s": result["overview_app"][OVERVIEW_DEPARTMENTS[1]]["seconds"],
        "overview_warm_s": _overview_worst(result, "warm_seconds"),
        "engine_cold_all_s": result["overview"][OVERVIEW_DEPARTMENTS[0]]["seconds"],
        "engine_cold_department_s": result["overview"][OVERVIEW_DEPARTMENTS[1]]["seconds"],
        "engine_warm_s": _overview_worst(result, "warm_seconds", "overview"),
        "overview_full_table_s": result["overview_full"]["seconds"],
        "pandas_s": result["pandas"]["seconds"],
        "ours_vs_pandas": (ingest + report) / result["pandas"]["seconds"],
        "peak_rss_ours_mb": max(_peak(result, s) for s in OUR_STEPS),
        "peak_rss_raw_csv_mb": result["raw_csv"]["peak_rss_mb"],
        "peak_rss_pandas_mb": result["pandas"]["peak_rss_mb"],
    }


def checks(results: list[dict[str, Any]]) -> list[Check]:
    """The targets of the issue, judged on the largest N; growth between smallest and largest."""
    big = summary(results[-1])
    out = [
        Check("ingest ratio b / a", big["ingest_ratio"], MAX_INGEST_RATIO, "×"),
        Check("full report (c)", big["report_s"], MAX_REPORT_SECONDS, "s"),
        Check(f"overview cold (d), {OVERVIEW_DEPARTMENTS[1]}", big["overview_cold_department_s"],
              MAX_OVERVIEW_COLD_SECONDS, "s"),
        Check(f"overview cold (d), {OVERVIEW_DEPARTMENTS[0]}", big["overview_cold_all_s"],
              MAX_OVERVIEW_COLD_SECONDS, "s"),
        Check("overview warm (d)", big["overview_warm_s"], MAX_OVERVIEW_WARM_SECONDS, "s"),
        Check("peak RSS of our steps (e)", big["peak_rss_ours_mb"], MAX_PEAK_RSS_MB, "MB"),
        Check("(b + c) / pandas (f)", big["ours_vs_pandas"], MAX_VS_PANDAS, "×"),
    ]
    if len(results) > 1:
        small = summary(results[0])
        growth = results[-1]["n"] / results[0]["n"]
        for key, label in (("ingest_s", "ingest"), ("report_s", "report"),
                           ("overview_cold_s", "overview cold")):
            out.append(Check(f"{label} growth {results[0]['n']:,} → {results[-1]['n']:,}",
                             big[key] / small[key], growth, "×"))
    return out


_ROWS: tuple[tuple[str, str, str], ...] = (
    ("raw_csv_s", "(a) DuckDB read_csv → table", "{:.2f} s"),
    ("ingest_s", "(b) ingest purchases (validated)", "{:.2f} s"),
    ("ingest_ratio", "    ratio b / a", "{:.2f} ×"),
    ("ingest_others_s", "    ingest complaints+responses+surveys", "{:.2f} s"),
    ("report_s", "(c) full report (indicator_table)", "{:.2f} s"),
    ("overview_cold_department_s", f"(d) overview in the app, cold, {OVERVIEW_DEPARTMENTS[1]}",
     "{:.3f} s"),
    ("overview_cold_all_s", f"    overview in the app, cold, {OVERVIEW_DEPARTMENTS[0]}",
     "{:.3f} s"),
    ("overview_warm_s", "    overview in the app, warm (worst dept)", "{:.3f} s"),
    ("engine_cold_all_s", f"    scoped engine cold, {OVERVIEW_DEPARTMENTS[0]}", "{:.3f} s"),
    ("engine_cold_department_s", f"    scoped engine cold, {OVERVIEW_DEPARTMENTS[1]}",
     "{:.3f} s"),
    ("engine_warm_s", "    scoped engine again, no cache (worst)", "{:.3f} s"),
    ("overview_full_table_s", "    overview via the full table", "{:.2f} s"),
    ("peak_rss_ours_mb", "(e) peak RSS, our steps", "{:.0f} MB"),
    ("peak_rss_raw_csv_mb", "    peak RSS, DuckDB read_csv", "{:.0f} MB"),
    ("peak_rss_pandas_mb", "    peak RSS, pandas", "{:.0f} MB"),
    ("pandas_s", "(f) pandas read_csv + groupby", "{:.2f} s"),
    ("ours_vs_pandas", "    ratio (b + c) / f", "{:.2f} ×"),
)


def format_table(results: list[dict[str, Any]], found: list[Check]) -> str:
    """The figures per N, then the targets with PASS/FAIL."""
    sums = [summary(r) for r in results]
    head = f"{'':42}" + "".join(f"{'N = ' + format(r['n'], ','):>18}" for r in results)
    lines = [head, "-" * len(head)]
    for key, label, fmt in _ROWS:
        lines.append(f"{label:42}" + "".join(f"{fmt.format(s[key]):>18}" for s in sums))
    lines += ["", f"{'target':42}{'value':>18}{'limit':>18}  result", "-" * 86]
    for c in found:
        value = "—" if c.value is None else f"{c.value:.2f} {c.unit}"
        lines.append(f"{c.name:42}{value:>18}{'≤ ' + format(c.limit, 'g') + ' ' + c.unit:>18}  "
                     f"{'PASS' if c.passed else 'FAIL'}")
    return "\n".join(lines)


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark ingest, report and overview.")
    parser.add_argument("--n", type=int, action="append", help="purchases (repeatable)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where data and JSON go")
    parser.add_argument("--keep", action="store_true",
                        help="keep the CSV files and the database afterwards")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each timed step; the median counts (default 3)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    sizes = sorted(set(args.n or [1_000_000, 10_000_000]))
    args.out.mkdir(parents=True, exist_ok=True)
    load_before = _load()
    results = [run_one(n, args.out, keep=args.keep, repeat=args.repeat) for n in sizes]
    found = checks(results)
    import duckdb
    import pandas as pd

    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "duckdb": duckdb.__version__,
            "pandas": pd.__version__,
            "load_before": load_before,
            "load_after": _load(),
        },
        "runs": results,
        "summary": {str(r["n"]): summary(r) for r in results},
        "targets": [{**asdict(c), "passed": c.passed} for c in found],
    }
    (args.out / "results.json").write_text(json.dumps(report, indent=2))
    print()
    print(format_table(results, found))
    print(f"\nload average before {load_before}, after {report['machine']['load_after']}; "
          f"{os.cpu_count()} CPUs; results in {args.out / 'results.json'}")
    return 0 if all(c.passed for c in found) else 1


if __name__ == "__main__":
    raise SystemExit(main())
