"""The benchmark's own logic at a tiny N: the files it generates, the peers' numbers, the
ratios and targets it derives, and one run end to end that stores every row.

Timings are not asserted here (they belong in the benchmark's output); only the structure of
the results, the counts, and the values computed from given figures.
"""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench import browser, generate, run, steps
from indicators import compute, ingest, store
from indicators import months as month_labels
from indicators.catalog import INDICATOR_IDS

N = 2_000


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# --- the generator ----------------------------------------------------------------------


def test_the_generator_writes_every_dataset_in_proportion(tmp_path: Path):
    paths = generate.write_files(tmp_path, N)
    counts = {name: len(_rows(path)) for name, path in paths.items()}
    assert counts == {
        "purchases": N,
        "complaints": round(N * generate.SHARES["complaints"]),
        "responses": round(N * generate.SHARES["responses"]),
        "retention": 36 * 8,  # every month × every department
        "surveys": round(N * generate.SHARES["surveys"]),
        "targets": len(generate.TARGETS),
    }
    for row in _rows(paths["retention"]):
        assert 0 <= int(row["new_customers"]) <= int(row["customers_end"])
    # the same N gives the same bytes
    first = paths["purchases"].read_bytes()
    assert generate.write_files(tmp_path, N)["purchases"].read_bytes() == first


def test_customers_repeat_across_months(tmp_path: Path):
    rows = _rows(generate.write_files(tmp_path, N)["purchases"])
    customers = {r["customer_id"] for r in rows}
    months = {r["purchased_at"][:7] for r in rows}
    departments = {r["department"] for r in rows}
    assert len(customers) <= N // generate.PURCHASES_PER_CUSTOMER
    assert months == set(month_labels.span("2023-01", "2025-12"))
    assert departments == set(generate.DEPARTMENTS)
    customer_months = {(r["customer_id"], r["department"], r["purchased_at"][:7]) for r in rows}
    assert len(customer_months) < 0.8 * N


def test_the_next_month_holds_one_month_of_every_dataset_after_the_history(tmp_path: Path):
    history = _rows(generate.write_files(tmp_path / "history", N)["purchases"])
    month = generate.write_month(tmp_path / "month", N)
    assert set(month) == set(generate.MONTH_DATASETS)
    purchases = _rows(month["purchases"])
    assert len(purchases) == round(N / 36)  # 56: a 36th of the history
    assert {r["purchased_at"][:7] for r in purchases} == {"2026-01"}
    # ids follow the history's (P0 … P1999), customers are the history's customer numbers
    assert [r["purchase_id"] for r in purchases] == [f"P{i}" for i in range(N, N + 56)]
    assert all(int(r["customer_id"][1:]) < N // 8 for r in purchases)
    assert {r["customer_id"] for r in purchases} & {r["customer_id"] for r in history}
    assert len(_rows(month["complaints"])) == round(N * 0.05 / 36)  # 3
    assert len(_rows(month["responses"])) == round(N * 0.20 / 36)  # 11
    retention = _rows(month["retention"])
    assert [(r["month"], r["department"]) for r in retention] == [
        ("2026-01", d) for d in generate.DEPARTMENTS
    ]
    assert generate.next_month() == "2026-01"


def test_a_long_history_has_its_months_and_departments(tmp_path: Path):
    shape = generate.Shape(months=30, departments=12)
    rows = _rows(generate.write_files(tmp_path, 3_000, shape=shape)["purchases"])
    # 30 months ending in 2025-12 start 29 months earlier: 2023-07
    assert {r["purchased_at"][:7] for r in rows} == set(month_labels.span("2023-07", "2025-12"))
    assert {r["department"] for r in rows} == {
        *generate.DEPARTMENTS, "Department 009", "Department 010", "Department 011",
        "Department 012",
    }
    # the default shape's: 547 months = 45 years and 7 months before 2025-12
    assert generate.LONG.first_month == "1980-05"
    assert generate.LONG.months * (generate.LONG.departments + 1) * 24 == 1_302_048


def test_the_files_are_written_once_and_again_when_the_generator_changes(tmp_path: Path):
    history, month, written = generate.cached_files(tmp_path, N)
    assert written and history["purchases"].is_file() and month["purchases"].is_file()
    assert generate.cached_files(tmp_path, N)[2] is False
    (tmp_path / str(N) / generate.STAMP).write_text("another generator")
    assert generate.cached_files(tmp_path, N)[2] is True
    assert generate.cached_files(tmp_path, N, shape=generate.Shape(months=12))[0][
        "purchases"].parent.name == f"{N}-12m-8d"


# --- the peers ------------------------------------------------------------------------------

PEER_ROWS = [
    # purchase_id, purchased_at, customer_id, department, amount, list_amount
    ("P1", "2025-01-05T10:00:00", "C1", "A", "10.00", "20.00"),
    ("P2", "2025-01-20T10:00:00", "C1", "A", "30.00", ""),
    ("P3", "2025-01-10T10:00:00", "C2", "B", "5.00", "5.00"),
    ("P4", "2025-02-03T10:00:00", "C1", "A", "20.00", "25.00"),
    ("P5", "2025-02-04T10:00:00", "C3", "A", "7.00", ""),
    ("P6", "2026-01-15T10:00:00", "C1", "A", "4.00", ""),  # 11 months after: returning
    ("P7", "2026-02-01T10:00:00", "C2", "B", "8.00", ""),  # 13 months after: neither
]
NAN = math.nan
PEER_EXPECTED = {
    # (department, month): purchases, revenue, active, new, returning %, ticket, per customer,
    # discount %
    ("A", "2025-01"): (2, 10 + 30, 1, 1, 0, (10 + 30) / 2, 10 + 30, (1 - 10 / 20) * 100),
    ("A", "2025-02"): (2, 20 + 7, 2, 1, 1 / 2 * 100, (20 + 7) / 2, (20 + 7) / 2,
                       (1 - 20 / 25) * 100),
    ("A", "2026-01"): (1, 4, 1, 0, 1 / 1 * 100, 4, 4, NAN),
    ("B", "2025-01"): (1, 5, 1, 1, 0, 5, 5, (1 - 5 / 5) * 100),
    ("B", "2026-02"): (1, 8, 1, 0, 0, 8, 8, NAN),
    ("All", "2025-01"): (3, 10 + 30 + 5, 2, 2, 0, (10 + 30 + 5) / 3, (10 + 30 + 5) / 2,
                         (1 - (10 + 5) / (20 + 5)) * 100),
    ("All", "2025-02"): (2, 20 + 7, 2, 1, 1 / 2 * 100, (20 + 7) / 2, (20 + 7) / 2,
                         (1 - 20 / 25) * 100),
    ("All", "2026-01"): (1, 4, 1, 0, 100, 4, 4, NAN),
    ("All", "2026-02"): (1, 8, 1, 0, 0, 8, 8, NAN),
}


@pytest.fixture
def peer_file(tmp_path: Path) -> Path:
    path = tmp_path / "purchases.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["purchase_id", "purchased_at", "customer_id", "department", "amount",
                         "channel", "list_amount"])
        for pid, when, customer, department, amount, listed in PEER_ROWS:
            writer.writerow([pid, when, customer, department, amount, "store", listed])
    return path


def _as_dict(frame: pd.DataFrame) -> dict[tuple[str, str], tuple[float, ...]]:
    values = frame[list(steps.PEER_INDICATORS)].astype("float64").to_numpy()
    return {(d, m): tuple(v) for d, m, v in zip(frame["department"], frame["month"], values,
                                                strict=True)}


@pytest.mark.parametrize("peer", ["pandas", "polars"])
def test_each_peer_computes_the_hand_worked_indicators(peer_file: Path, peer: str):
    table = steps.pandas_table(peer_file) if peer == "pandas" else (
        steps.polars_table(peer_file).to_pandas())
    assert list(table.columns) == ["department", "month", *steps.PEER_INDICATORS]
    got = _as_dict(table)
    assert set(got) == set(PEER_EXPECTED)
    for key, expected in PEER_EXPECTED.items():
        np.testing.assert_allclose(got[key], expected, rtol=1e-12, err_msg=str(key))


def test_the_peers_agree_with_the_engine_on_generated_data(tmp_path: Path):
    paths = generate.write_files(tmp_path, N)
    con = store.connect(tmp_path / "engine.duckdb")
    try:
        assert ingest.ingest_file(con, paths["purchases"]).accepted
        engine = compute.indicator_table(con)
    finally:
        con.close()
    wide = engine[engine["indicator"].isin(steps.PEER_INDICATORS)].pivot_table(
        index=["department", "month"], columns="indicator", values="value", dropna=False)
    pandas_rows = steps.pandas_table(paths["purchases"])
    polars_rows = steps.polars_table(paths["purchases"]).to_pandas()
    pd.testing.assert_frame_equal(pandas_rows.reset_index(drop=True), polars_rows,
                                  check_dtype=False)
    # the peers have a row where a department sold in the month; the engine's grid has every
    # month and department (0 purchases where none): compare where the peers have rows
    for (department, month), values in _as_dict(pandas_rows).items():
        ours = wide.loc[(department, month), list(steps.PEER_INDICATORS)].to_numpy("float64")
        np.testing.assert_allclose(values, ours, rtol=1e-9, err_msg=f"{department} {month}")


# --- figures and targets from given results ---------------------------------------------


def _pages(cold: float, warm: float) -> dict:
    return {kind: {d: {"seconds": cold, "warm_seconds": warm} for d in run.DEPARTMENTS_MEASURED}
            for kind in steps.PAGE_KINDS}


def _result(n: int, scale: float) -> dict:
    def step(seconds: float, rss: float = 100.0) -> dict:
        return {"seconds": seconds * scale, "peak_rss_mb": rss * scale}

    return {
        "n": n, "raw_csv": step(2.0), "ingest_purchases": step(3.0), "ingest_others": step(1.0),
        "ready": step(0.5), "recompute": step(2.5), "monthly": step(0.4), "setting": step(0.2),
        "pandas": step(7.0, 300.0), "polars": step(2.0, 200.0),
        "pages": {"seconds": 9.0, "peak_rss_mb": 150.0, "pages": _pages(0.2, 0.05),
                  "scripts": _pages(0.6, 0.3)},
        "browser": {"seconds": 30.0, "peak_rss_mb": 40.0, "server_peak_rss_mb": 500.0,
                    "pages": _pages(1.8, 1.2)},
    }


LONG = {"n": 3_000, "months": 30, "departments": 12,
        "ingest": {"seconds": 1.0, "peak_rss_mb": 120.0},
        "copy": {"seconds": 0.5, "peak_rss_mb": 90.0, "lines": 9_361},
        "csv": {"seconds": 0.75, "peak_rss_mb": 130.0},
        "json": {"seconds": 2.0, "peak_rss_mb": 140.0}}


def test_the_summary_computes_every_ratio_from_the_steps():
    figures = run.summary(_result(10, 1.0))
    assert figures["ingest_ratio"] == 3.0 / 2.0
    assert figures["bulk_s"] == 3.0 + 1.0
    assert figures["monthly_share"] == 0.4 / (3.0 + 1.0)
    assert figures["ours_vs_pandas"] == (3.0 + 0.5) / 7.0
    assert figures["ours_vs_polars"] == (3.0 + 0.5) / 2.0
    assert figures["peak_rss_ours_mb"] == 500.0  # the app server's, above every step's 100 MB
    assert figures["reads_route_ratio"] == 0.2 / 0.05
    assert figures["script_family_seconds"] == 0.6
    assert figures["browser_scorecard_warm_seconds"] == 1.2
    assert run.long_summary(LONG)["rows"] == 9_360
    assert run.long_summary(LONG)["json_ratio"] == 2.0 / 0.5


def test_every_target_of_the_issue_is_judged():
    found = {c.name: c for c in run.checks([_result(1, 1.0), _result(10, 2.0)], LONG)}
    passed = {name: c.passed for name, c in found.items()}
    # the pages' figures are the same at both N (not scaled): 0.2 s ≤ 0.3 s
    assert found["(g) first request, scorecard (reads)"].value == 0.2
    assert passed["(g) first request, scorecard (reads)"]
    assert found["(g) first ÷ warm, family (reads)"].value == 0.2 / 0.05
    assert not passed["(g) first ÷ warm, family (reads)"]  # 4 × > 3 ×
    assert not passed["(g) first request, route (whole script)"]  # 0.6 s > 0.3 s
    assert passed["(g) first ÷ warm, route (whole script)"]  # 2 × ≤ 3 ×
    assert passed["(l) drawn in Chromium, warm, route"]  # 1.2 s ≤ 1.5 s
    assert passed["(l) drawn in Chromium, cold, family"]  # 1.8 s ≤ 2 s
    assert found["(b) bulk load ÷ DuckDB's read_csv (a)"].value == (3.0 * 2) / (2.0 * 2)
    assert found["(h) monthly load ÷ bulk load"].value == (0.4 * 2) / ((3.0 + 1.0) * 2)
    assert passed["(h) monthly load ÷ bulk load"]  # 0.1 × ≤ 0.15 ×
    assert found["(j) report CSV ÷ DuckDB's COPY"].value == 0.75 / 0.5
    assert passed["(j) report CSV ÷ DuckDB's COPY"]
    assert not passed["(j) report JSON ÷ DuckDB's COPY"]  # 4 × > 3 ×
    # the app server's 500 MB (not scaled) above every step's 100 MB × 2 and (j)'s 140 MB
    assert found["(e) peak RSS of our steps"].value == 500.0
    assert found["(b + c) ÷ polars (k)"].value == (3.0 * 2 + 0.5 * 2) / (2.0 * 2)
    assert not passed["(b + c) ÷ polars (k)"]
    assert passed["(b + c) ÷ pandas (f)"]
    # every step took twice as long at 10 × the rows: growth 2 × ≤ 10 ×
    assert found["growth 1 → 10: bulk load"].value == 2.0 and passed["growth 1 → 10: bulk load"]
    assert found["growth 1 → 10: first request (reads)"].value == 1.0
    assert len(found) == 12 + 6 + 2 + 2 + 3 + 5


def test_a_step_that_failed_leaves_its_targets_failing_and_the_others_judged():
    broken = _result(10, 1.0)
    broken["browser"] = {"error": "chromium crashed"}
    found = {c.name: c for c in run.checks([broken])}
    assert found["(l) drawn in Chromium, cold, route"].value is None
    assert not found["(l) drawn in Chromium, cold, route"].passed
    assert found["(b) bulk load ÷ DuckDB's read_csv (a)"].passed
    table = run.format_table([broken], list(found.values()))
    assert "(l) drawn in Chromium, cold, route" in table and "—" in table


def test_the_median_run_counts_and_every_run_is_kept():
    runs = [{"seconds": 3.0, "peak_rss_mb": 10.0}, {"seconds": 1.0, "peak_rss_mb": 30.0},
            {"seconds": 2.0, "peak_rss_mb": 20.0}]
    chosen = run._median(runs)
    assert chosen["seconds"] == 2.0
    assert chosen["runs_seconds"] == [3.0, 1.0, 2.0]
    assert chosen["peak_rss_mb"] == 30.0  # the worst run's memory, not the median run's


def test_the_report_s_output_goes_to_the_file_from_python_and_from_file_descriptor_1(
        tmp_path: Path):
    target = tmp_path / "out.txt"
    with steps._stdout_to(target):
        print("from python")
        os.write(1, b"from the descriptor\n")
    # Python's writes are buffered until the block ends: both arrive, in either order
    assert sorted(target.read_text().splitlines()) == ["from python", "from the descriptor"]


def test_a_page_address_names_its_department():
    assert browser.page_url("http://h:1", "scorecard", "All") == "http://h:1/?department=All"
    assert browser.page_url("http://h:1", "route", "Call centre") == (
        "http://h:1/route?department=Call+centre")


# --- one run end to end -----------------------------------------------------------------


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("bench")
    # 0: every step ran (unmet targets are results, not errors; --strict would make them 1)
    assert run.main(["--n", str(N), "--out", str(out), "--repeat", "2", "--no-browser",
                     "--long-n", "3000", "--long-months", "30", "--long-departments", "12"]) == 0
    return json.loads((out / "results.json").read_text()), out


def test_the_benchmark_stores_n_purchases_and_every_other_row(results):
    report, _ = results
    (result,) = report["runs"]
    assert result["n"] == N
    assert result["raw_csv"]["rows"] == N
    assert result["ingest_purchases"]["rows"] == N
    assert result["ingest_purchases"]["stored"] == N
    assert result["ingest_others"]["rows"] == {
        "complaints": round(N * 0.05), "responses": round(N * 0.20), "retention": 36 * 8,
        "surveys": round(N * 0.05), "targets": len(generate.TARGETS),
    }
    # a 36th of each event dataset, every department's retention row
    assert result["monthly"]["rows"] == {
        "purchases": round(N / 36), "complaints": round(N * 0.05 / 36),
        "responses": round(N * 0.20 / 36), "retention": 8, "surveys": round(N * 0.05 / 36),
    }
    # each run sets a custom factor one above the one in effect, on the same copy: the front
    # line's 2 → 3, then 3 → 4
    assert result["setting"]["iceberg_factor"] == result["setting"]["before"] + 1
    assert result["setting"]["before"] in (2.0, 2.0 + 1)
    assert result["pandas"]["rows"] == result["polars"]["rows"]


def test_the_benchmark_reports_every_step_target_and_memory(results):
    report, out = results
    (result,) = report["runs"]
    for step in ("raw_csv", "ingest_purchases", "ingest_others", "ready", "recompute",
                 "pages", "monthly", "setting", "pandas", "polars"):
        assert "error" not in result[step], result[step]
        assert result[step]["seconds"] > 0
        assert result[step]["peak_rss_mb"] > 0
    # timed steps run twice here (--repeat 2): the lower of the two counts
    for step in ("raw_csv", "ingest_purchases", "ready", "monthly", "setting"):
        assert len(result[step]["runs_seconds"]) == 2
        assert result[step]["seconds"] == min(result[step]["runs_seconds"])
    # every month × (8 departments + All) × every indicator
    assert result["ready"]["rows"] == result["recompute"]["rows"] == 36 * 9 * len(INDICATOR_IDS)
    for scope in ("pages", "scripts"):
        assert set(result["pages"][scope]) == set(steps.PAGE_KINDS)
        for kind in steps.PAGE_KINDS:
            figures = result["pages"][scope][kind]
            assert set(figures) == set(run.DEPARTMENTS_MEASURED)
            assert all(f["seconds"] > 0 and f["warm_seconds"] > 0 for f in figures.values())
    assert "browser" not in result  # --no-browser
    long = report["long"]
    rows = 30 * (12 + 1) * len(INDICATOR_IDS)
    assert long["copy"]["lines"] == rows + 1  # a header and every row
    assert long["csv"]["lines"] == rows + 1
    assert long["json"]["bytes"] > long["csv"]["bytes"]
    names = [t["name"] for t in report["targets"]]
    assert "(j) report JSON ÷ DuckDB's COPY" in names and "(b + c) ÷ polars (k)" in names
    assert all(isinstance(t["passed"], bool) for t in report["targets"])
    # the files stay cached for the next run; the databases go unless --keep
    assert (out / "data" / str(N) / generate.STAMP).is_file()
    assert not (out / "db" / str(N) / "service.duckdb").exists()
    assert not (out / "db" / str(N) / "monthly.duckdb").exists()


@pytest.mark.browser
def test_the_browser_step_times_a_page_cold_after_a_load_and_warm(tmp_path: Path):
    from tests.browser.conftest import skip_without_chromium

    skip_without_chromium()
    history, month, _ = generate.cached_files(tmp_path, N)
    db = tmp_path / "service.duckdb"
    steps.ingest_all(data=history["purchases"].parent, db=db)
    found = browser.measure(db, list(month.values()), kinds=("scorecard",),
                            departments=("All",))
    figures = found["pages"]["scorecard"]["All"]
    assert figures["seconds"] > 0 and figures["warm_seconds"] > 0
    assert figures["load_seconds"] > 0
    assert found["server_peak_rss_mb"] > 0
