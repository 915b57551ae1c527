"""The benchmark end to end at a tiny N: it runs, stores every row, and reports every figure.

Timings are not asserted here (they belong in the benchmark's output); only the structure of
the results and the counts.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from bench import generate, run

N = 2_000


def test_the_generator_writes_n_purchases_and_the_other_datasets_in_proportion(tmp_path: Path):
    paths = generate.write_files(tmp_path, N)
    counts = {}
    for name, path in paths.items():
        with path.open(newline="", encoding="utf-8") as f:
            counts[name] = sum(1 for _ in csv.reader(f)) - 1
    assert counts == {
        "purchases": N,
        "complaints": round(N * generate.SHARES["complaints"]),
        "responses": round(N * generate.SHARES["responses"]),
        "surveys": round(N * generate.SHARES["surveys"]),
    }
    # the same N gives the same bytes
    first = paths["purchases"].read_bytes()
    assert generate.write_files(tmp_path, N)["purchases"].read_bytes() == first


def test_customers_repeat_across_months(tmp_path: Path):
    path = generate.write_files(tmp_path, N)["purchases"]
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    customers = {r["customer_id"] for r in rows}
    months = {r["purchased_at"][:7] for r in rows}
    departments = {r["department"] for r in rows}
    assert len(customers) <= N // generate.PURCHASES_PER_CUSTOMER
    assert len(months) == generate.MONTHS
    assert departments == set(generate.DEPARTMENTS)
    customer_months = {(r["customer_id"], r["department"], r["purchased_at"][:7]) for r in rows}
    assert len(customer_months) < 0.8 * N


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("bench")
    run.main(["--n", str(N), "--out", str(out), "--repeat", "2"])
    return json.loads((out / "results.json").read_text()), out


def test_the_benchmark_stores_n_purchases_and_every_other_row(results):
    report, _ = results
    (result,) = report["runs"]
    assert result["n"] == N
    assert result["raw_csv"]["rows"] == N
    assert result["ingest_purchases"]["rows"] == N
    assert result["ingest_purchases"]["stored"] == N
    assert result["ingest_others"]["rows"] == {
        name: round(N * share) for name, share in generate.SHARES.items()
    }
    assert result["pandas"]["rows"] == N


def test_the_benchmark_reports_every_step_target_and_memory(results):
    report, out = results
    (result,) = report["runs"]
    for step in ("raw_csv", "ingest_purchases", "ingest_others", "report", "overview_full",
                 "pandas"):
        assert result[step]["seconds"] > 0
        assert result[step]["peak_rss_mb"] > 0
    # timed steps run twice here (--repeat 2): the lower of the two counts
    for step in ("raw_csv", "ingest_purchases", "report", "overview_full", "pandas"):
        assert len(result[step]["runs_seconds"]) == 2
        assert result[step]["seconds"] == min(result[step]["runs_seconds"])
    # every month × (8 departments + All) × every indicator
    assert result["report"]["rows"] == generate.MONTHS * 9 * 24
    assert set(result["overview"]) == set(run.OVERVIEW_DEPARTMENTS)
    for overview in result["overview"].values():
        assert overview["indicators"] == 24
        assert overview["rows"] == 12 * 24
        assert overview["warm_seconds"] > 0
    # the overview as the app serves it: its cached loaders, cold then warm
    assert set(result["overview_app"]) == set(run.OVERVIEW_DEPARTMENTS)
    for overview in result["overview_app"].values():
        assert overview["indicators"] == 24
        assert overview["seconds"] > 0 and overview["warm_seconds"] > 0
    assert set(report["summary"][str(N)]) >= {"ingest_ratio", "report_s", "overview_cold_s",
                                               "overview_warm_s", "ours_vs_pandas",
                                               "peak_rss_ours_mb"}
    assert [t["name"] for t in report["targets"]][:7] == [
        "ingest ratio b / a", "full report (c)", "overview cold (d), Online store",
        "overview cold (d), All", "overview warm (d)", "peak RSS of our steps (e)",
        "(b + c) / pandas (f)",
    ]
    assert all(isinstance(t["passed"], bool) for t in report["targets"])
    # the big files are removed unless --keep
    assert not (out / "data" / str(N)).exists()
    assert not (out / "db" / str(N) / "service.duckdb").exists()


def test_the_median_run_counts_and_every_run_is_kept():
    runs = [{"seconds": 3.0, "peak_rss_mb": 10.0}, {"seconds": 1.0, "peak_rss_mb": 30.0},
            {"seconds": 2.0, "peak_rss_mb": 20.0}]
    chosen = run._median(runs)
    assert chosen["seconds"] == 2.0
    assert chosen["runs_seconds"] == [3.0, 1.0, 2.0]
    assert chosen["peak_rss_mb"] == 30.0  # the worst run's memory, not the median run's
