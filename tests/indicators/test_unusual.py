"""Unusual values (issue 19, part 3): the robust score, its basis, the threshold boundary, the
minimum volume, the reason, the setting and the volumes from the row counts.

Every expected value is the rule's arithmetic on a history written out in the test.
"""

from __future__ import annotations

import doctest
import io
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from indicators import months, store, stored_indicators, unusual, unusual_cli
from indicators.scope import Scope
from indicators.unusual import flag, volumes_from_row_counts
from tests.indicators.engine_rows import complaint, make_db, purchase


def test_doctests():
    assert doctest.testmod(unusual).failed == 0


def series(values: dict[str, float], *, department: str = "North",
           indicator: str = "complaints") -> pd.DataFrame:
    return pd.DataFrame({"month": list(values), "department": department,
                         "indicator": indicator, "value": [float(v) for v in values.values()]})


def decembers(last: float, *, earlier=(10, 12, 11)) -> pd.DataFrame:
    """Decembers of 2022 … 2024 (``earlier``) and 2025 (``last``)."""
    years = range(2025 - len(earlier), 2026)
    return series(dict(zip((f"{y}-12" for y in years), [*earlier, last], strict=True)))


def last(frame: pd.DataFrame) -> pd.Series:
    return frame.iloc[-1]


def test_same_month_score_by_hand():
    row = last(flag(decembers(20), threshold=5, min_volume=0))
    # usual = median(10, 12, 11) = 11; MAD = median(|10−11|, |12−11|, |11−11|) = median(1, 1, 0)
    assert (row.usual, row.mad, row.basis) == (11.0, 1.0, "same month")
    assert row.score == (20 - 11) / 1
    assert bool(row.unusual) and row.reason == "9.0 MAD above the usual December"


def test_a_value_exactly_at_the_threshold_is_unusual_and_just_below_is_not():
    at = last(flag(decembers(11 + 5 * 1), threshold=5, min_volume=0))
    assert at.score == 5.0 and bool(at.unusual)
    below = last(flag(decembers(15.9), threshold=5, min_volume=0))
    assert below.score == pytest.approx(4.9) and not bool(below.unusual) and below.reason == ""
    below_side = last(flag(decembers(11 - 5 * 1), threshold=5, min_volume=0))
    assert below_side.score == -5.0 and bool(below_side.unusual)
    assert below_side.reason == "5.0 MAD below the usual December"


def test_the_boundary_holds_in_decimal_arithmetic():
    # usual 0.9, MAD 0.2: (1.9 − 0.9) / 0.2 is 5 in decimals, 4.999999999999998 in binary
    history = decembers(1.9, earlier=(0.7, 0.9, 1.1))
    row = last(flag(history, threshold=5, min_volume=0))
    assert row.score < 5 and row.score == pytest.approx(5.0) and bool(row.unusual)
    assert row.reason == "5.0 MAD above the usual December"


@pytest.mark.parametrize(("volume", "flagged"), [(29, False), (30, True), (31, True)])
def test_the_minimum_volume(volume, flagged):
    history = decembers(1000)  # (1000 − 11) / 1 = 989 MAD
    volumes = history[["month", "department", "indicator"]].assign(volume=volume)
    row = last(flag(history, threshold=5, min_volume=30, volumes=volumes))
    assert row.score == 989.0 and row.volume == volume
    assert bool(row.unusual) is flagged
    assert (row.reason != "") is flagged


def test_no_volumes_and_a_value_without_a_volume_row_have_no_volume_rule():
    history = decembers(1000)
    assert bool(last(flag(history, threshold=5, min_volume=10**6)).unusual)
    other = history[["month", "department", "indicator"]].assign(indicator="purchases", volume=1)
    row = last(flag(history, threshold=5, min_volume=10**6, volumes=other))
    assert math.isnan(row.volume) and bool(row.unusual)


def trailing_history(value: float) -> pd.DataFrame:
    """2024-12 is 30 (one earlier December only); 2025-01 … 2025-11 are 10, 12, 10, 12 …;
    2025-12 is ``value``."""
    values = {"2024-12": 30.0}
    values |= {f"2025-{m:02d}": (10.0 if m % 2 else 12.0) for m in range(1, 12)}
    values["2025-12"] = value
    return series(values)


def test_one_earlier_december_falls_back_to_the_trailing_12_months():
    row = last(flag(trailing_history(30), threshold=5, min_volume=0))
    # the 12 months before 2025-12: 30 and six 10s, five 12s → sorted 10×6, 12×5, 30:
    # median = (10 + 12) / 2 = 11; deviations 1×11 and 19 → MAD 1
    assert (row.basis, row.usual, row.mad) == ("trailing 12", 11.0, 1.0)
    assert row.score == (30 - 11) / 1
    # highest of the 13 months compared (30 ties 2024-12: not strictly highest)
    assert row.reason == "19.0 MAD above the usual of the last 12 months"


def test_two_earlier_decembers_are_the_same_month_basis():
    history = pd.concat([series({"2023-12": 30.0}), trailing_history(30)], ignore_index=True)
    row = last(flag(history, threshold=5, min_volume=0))
    # Decembers 2023 and 2024: 30 and 30 → usual 30, MAD 0, mean deviation 0, scale 1 % of 30
    assert (row.basis, row.usual, row.mad, row.score) == ("same month", 30.0, 0.0, 0.0)
    assert not bool(row.unusual)


def test_too_little_history_has_no_score():
    values = {f"2025-{m:02d}": float(m) for m in range(1, 7)}  # 5 months before 2025-06
    frame = flag(series(values), threshold=5, min_volume=0)
    assert list(frame["basis"]) == [""] * 6
    assert frame["score"].isna().all() and not frame["unusual"].any()
    assert list(frame["reason"]) == [""] * 6


def test_six_trailing_values_are_enough_and_missing_ones_do_not_count():
    values = {f"2025-{m:02d}": float(m) for m in range(1, 8)}  # 6 months before 2025-07
    frame = flag(series(values), threshold=5, min_volume=0)
    row = last(frame)
    # 1 … 6: median 3.5, deviations 2.5 1.5 0.5 0.5 1.5 2.5 → MAD 1.5
    assert (row.basis, row.usual, row.mad) == ("trailing 12", 3.5, 1.5)
    assert row.score == (7 - 3.5) / 1.5
    with_gap = series({**values, "2025-03": np.nan})
    gap_row = last(flag(with_gap, threshold=5, min_volume=0))
    assert gap_row.basis == "" and math.isnan(gap_row.score)
    # the missing month itself gets no row
    assert "2025-03" not in set(flag(with_gap, threshold=5, min_volume=0)["month"])


def test_mad_zero_falls_back_to_the_mean_absolute_deviation():
    # Decembers 5, 5, 5, 9: usual 5, MAD median(0, 0, 0, 4) = 0; mean deviation 4 / 4 = 1
    history = decembers(12, earlier=(5, 5, 5, 9))
    row = last(flag(history, threshold=5, min_volume=0))
    assert (row.usual, row.mad, row.scale) == (5.0, 0.0, 1.0)
    assert row.score == (12 - 5) / 1
    assert row.reason == "7.0 mean deviations above the usual December"


def test_all_equal_references_score_in_percent_of_the_usual():
    history = decembers(92, earlier=(100, 100, 100))
    row = last(flag(history, threshold=5, min_volume=0))
    # no spread at all: the scale is 1 % of 100 → (92 − 100) / 1 = −8, i.e. 8 % below
    assert (row.mad, row.scale, row.score) == (0.0, 1.0, -8.0)
    assert row.reason == "8.0 % below the usual December"
    equal = last(flag(decembers(100, earlier=(100, 100, 100)), threshold=5, min_volume=0))
    assert equal.score == 0.0 and not bool(equal.unusual)


def test_references_all_zero_have_no_scale():
    row = last(flag(decembers(4, earlier=(0, 0, 0)), threshold=5, min_volume=0))
    assert math.isnan(row.scale) and math.isnan(row.score) and not bool(row.unusual)
    same = last(flag(decembers(0, earlier=(0, 0, 0)), threshold=5, min_volume=0))
    assert same.score == 0.0 and not bool(same.unusual)
    other = decembers(20).assign(department="South")
    scored = flag(pd.concat([decembers(4, earlier=(0, 0, 0)), other]), threshold=5,
                  min_volume=0)
    assert np.isfinite(scored["score"].dropna()).all()


def long_history(last_value: float) -> pd.DataFrame:
    """2024-01 … 2025-11 alternate 10 and 12 (23 months), then 2025-12 is ``last_value``."""
    labels = months.span("2024-01", "2025-12")
    values = [10.0 if i % 2 else 12.0 for i in range(len(labels) - 1)] + [last_value]
    return series(dict(zip(labels, values, strict=True)))


def test_the_reason_says_highest_and_lowest_in_n_months():
    high = last(flag(long_history(30), threshold=5, min_volume=0))
    # one earlier December (2024-12) → trailing: 2024-12 … 2025-11 hold six 10s and six 12s,
    # median 11, MAD 1; 30 is above every one of the 24 months 2024-01 … 2025-12
    assert high.reason == "highest in 24 months; 19.0 MAD above the usual of the last 12 months"
    low = last(flag(long_history(-8), threshold=5, min_volume=0))
    assert low.reason == "lowest in 24 months; 19.0 MAD below the usual of the last 12 months"


def test_highest_needs_twelve_months_compared():
    eleven = {f"2025-{m:02d}": (10.0 if m % 2 else 12.0) for m in range(1, 11)}
    row = last(flag(series({**eleven, "2025-11": 50.0}), threshold=5, min_volume=0))
    assert bool(row.unusual) and not row.reason.startswith("highest")  # 11 months compared
    twelve = {f"2025-{m:02d}": (10.0 if m % 2 else 12.0) for m in range(1, 12)}
    row = last(flag(series({**twelve, "2025-12": 50.0}), threshold=5, min_volume=0))
    assert row.reason.startswith("highest in 12 months; ")


def test_series_are_scored_apart_and_in_the_input_order():
    north, south = decembers(20), decembers(11)
    south["department"] = "South"
    frame = flag(pd.concat([south, north], ignore_index=True), threshold=5, min_volume=0)
    assert list(frame["department"]) == ["South"] * 4 + ["North"] * 4
    assert list(frame["unusual"]) == [False] * 7 + [True]


def test_months_limit_the_rows_scored_not_the_history():
    frame = flag(decembers(20), threshold=5, min_volume=0, months=("2025-01", "2025-12"))
    assert list(frame["month"]) == ["2025-12"] and frame.iloc[0].score == 9.0


@pytest.mark.parametrize(("options", "says"), [
    ({"threshold": 0, "min_volume": 0}, "threshold must be a positive number"),
    ({"threshold": float("nan"), "min_volume": 0}, "threshold must be a positive number"),
    ({"threshold": 5, "min_volume": -1}, "min_volume must be a whole number"),
])
def test_bad_options_are_refused(options, says):
    with pytest.raises(ValueError, match=says):
        flag(decembers(20), **options)


def test_a_bad_history_is_refused():
    with pytest.raises(ValueError, match="lacks the column"):
        flag(decembers(20).drop(columns="value"), threshold=5, min_volume=0)
    twice = pd.concat([decembers(20), decembers(20).tail(1)])
    with pytest.raises(ValueError, match="more than one row for 2025-12 North complaints"):
        flag(twice, threshold=5, min_volume=0)
    with pytest.raises(ValueError, match="YYYY-MM"):
        flag(series({"2025-13": 1.0}), threshold=5, min_volume=0)


def test_an_empty_history_gives_the_columns():
    frame = flag(decembers(20).iloc[:0], threshold=5, min_volume=0)
    assert frame.empty and tuple(frame.columns) == unusual.FLAG_COLUMNS


# --- the volumes --------------------------------------------------------------------------


def test_volumes_from_row_counts_by_hand():
    counts = pd.DataFrame({
        "dataset": ["purchases", "purchases", "complaints", "complaints", "surveys",
                    "retention", "purchases"],
        "month": ["2025-01", "2025-01", "2025-01", "2025-01", "2025-01", "2025-01", "2025-03"],
        "department": ["North", "South", "North", "South", "North", "North", "North"],
        "rows": [1000, 40, 3, 7, 25, 1, 50],
    })
    v = volumes_from_row_counts(counts).set_index(["month", "department", "indicator"])["volume"]
    assert v["2025-01", "North", "purchases"] == 1000
    assert v["2025-01", "North", "complaints"] == 3
    assert v["2025-01", "North", "complaint_rate"] == min(3, 1000)
    assert v["2025-01", "South", "complaint_rate"] == min(7, 40)
    assert v["2025-01", "All", "complaint_rate"] == min(3 + 7, 1000 + 40)
    assert v["2025-01", "All", "revenue"] == 1000 + 40
    assert v["2025-01", "North", "csat"] == 25 and v["2025-01", "South", "csat"] == 0
    assert v["2025-03", "North", "complaint_rate"] == min(0, 50)
    assert v["2025-02", "All", "purchases"] == 0  # a month between, without rows
    assert "retention_rate" not in set(v.index.get_level_values("indicator"))
    only = volumes_from_row_counts(counts, departments=["South"])
    assert set(only["department"]) == {"South"}
    with_all = volumes_from_row_counts(counts, departments=["All"])
    assert set(with_all["department"]) == {"All"}
    assert with_all.set_index(["month", "indicator"])["volume"]["2025-01", "complaints"] == 10


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return _tiny_db(tmp_path_factory.mktemp("unusual"))


@pytest.fixture
def tiny(built, tmp_path):
    """A copy of the module's tiny database, for one test."""
    return Path(shutil.copy(built, tmp_path / "unusual.duckdb"))


def _tiny_db(tmp_path):
    """Decembers only (the months between hold nothing): North 10, 12, 11 and then 20
    complaints, 40 purchases each December (the same 40 customers, amount 10); South 1, 1, 2 and
    then 4 complaints, no purchases.  Complaints counted with a custom factor, 10 unless set."""
    rows: dict[str, list] = {"purchases": [], "complaints": []}
    n = 0
    for year, (north, south) in {2022: (10, 1), 2023: (12, 1), 2024: (11, 2),
                                 2025: (20, 4)}.items():
        for i in range(40):
            rows["purchases"].append(purchase(f"p{year}{i}", f"{year}-12-02 10:00", f"c{i}",
                                              "North", 10))
        for department, count in (("North", north), ("South", south)):
            for _ in range(count):
                n += 1
                rows["complaints"].append(complaint(f"k{n}", f"{year}-12-05 10:00", department))
    return make_db(tmp_path / "unusual.duckdb", rows, [("iceberg_counted_at", "custom", "*")])


def test_volumes_on_a_tiny_database(tiny):
    con = store.connect(tiny, read_only=True)
    try:
        v = volumes_from_row_counts(stored_indicators.row_counts(con))
    finally:
        con.close()
    v = v.set_index(["month", "department", "indicator"])["volume"]
    assert v["2025-12", "North", "complaints"] == 20
    assert v["2025-12", "South", "complaints"] == 4
    assert v["2025-12", "All", "complaints"] == 20 + 4
    assert v["2025-12", "North", "complaint_rate"] == min(20, 40)
    assert v["2025-12", "South", "complaint_rate"] == min(4, 0)
    assert v["2024-06", "North", "purchases"] == 0


def test_unusual_in_reads_the_stored_history_and_the_settings(tiny):
    path = tiny
    con = store.connect(path)
    try:
        store.write_setting(con, "min_volume", 5)
        flags = unusual.unusual_in(con, Scope(("2025-12", "2025-12"), ("North", "South", "All")),
                                   indicators=["complaints"])
    finally:
        con.close()
    by = flags.set_index("department")
    # North: Decembers 10, 12, 11 (the months between hold 0 complaints, but the Decembers
    # are the basis) → usual 11, MAD 1; 20 is 9 MAD above, volume 20 ≥ 5
    assert (by.at["North", "usual"], by.at["North", "score"]) == (11.0, 9.0)
    assert by.at["North", "reason"].endswith("9.0 MAD above the usual December")
    # South: Decembers 1, 1, 2 → usual 1, MAD 0 → mean deviation (0 + 0 + 1) / 3; 4 is
    # (4 − 1) / (1/3) = 9 mean deviations above, but from 4 complaints < 5: not flagged
    assert by.at["South", "score"] == pytest.approx((4 - 1) / (1 / 3))
    assert by.at["South", "volume"] == 4 and not bool(by.at["South", "unusual"])
    # All: 11, 13, 13 → usual 13, MAD 0 → mean deviation 2 / 3; 24 is (24 − 13) / (2/3)
    assert by.at["All", "score"] == pytest.approx((24 - 13) / (2 / 3))
    assert bool(by.at["All", "unusual"])


# --- the setting --------------------------------------------------------------------------


def test_the_threshold_setting_round_trip(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    try:
        assert store.read_settings(con).unusual_threshold == store.DEFAULT_UNUSUAL_THRESHOLD == 5
        store.write_setting(con, "unusual_threshold", "3.5")
        assert store.read_settings(con).unusual_threshold == 3.5
        store.delete_setting(con, "unusual_threshold", department="*")
        assert store.read_settings(con).unusual_threshold == 5.0
    finally:
        con.close()


@pytest.mark.parametrize(("value", "department", "says"), [
    ("five", "*", "unusual_threshold must be a number"),
    ("0", "*", "unusual_threshold must be a positive number"),
    ("-2", "*", "unusual_threshold must be a positive number"),
    ("nan", "*", "unusual_threshold must be a positive number"),
    ("inf", "*", "unusual_threshold must be a positive number"),
    ("4", "North", "unusual_threshold applies to every department"),
])
def test_a_bad_threshold_is_refused_and_nothing_written(tmp_path, value, department, says):
    con = store.connect(tmp_path / "s.duckdb")
    try:
        store.write_setting(con, "unusual_threshold", 7)
        with pytest.raises(store.SettingError, match=says):
            store.write_setting(con, "unusual_threshold", value, department=department)
        assert store.read_settings(con).unusual_threshold == 7.0
    finally:
        con.close()


def test_the_threshold_changes_the_flags_not_the_stored_table(tiny):
    con = store.connect(tiny)
    try:
        before = stored_indicators.read(con)
        assert stored_indicators.refresh_for_setting(con, "unusual_threshold", "*") == 0
        scope = Scope(("2025-12", "2025-12"), ("North",))
        store.write_setting(con, "min_volume", 0)
        assert bool(unusual.unusual_in(con, scope, indicators=["complaints"]).iloc[0].unusual)
        store.write_setting(con, "unusual_threshold", 9.5)  # North's score is 9
        assert not bool(unusual.unusual_in(con, scope, indicators=["complaints"]).iloc[0].unusual)
        store.write_setting(con, "unusual_threshold", 9)  # inclusive
        assert bool(unusual.unusual_in(con, scope, indicators=["complaints"]).iloc[0].unusual)
        pd.testing.assert_frame_equal(stored_indicators.read(con), before)
    finally:
        con.close()


# --- the command --------------------------------------------------------------------------


def run(path, **options):
    out, err = io.StringIO(), io.StringIO()
    code = unusual_cli.run_cli(path, out=out, err=err,
                               **{"month": None, "department": None, "fmt": "json", **options})
    return code, out.getvalue(), err.getvalue()


def test_the_command_lists_the_unusual_values_of_the_latest_month(tiny):
    code, out, _ = run(tiny)
    assert code == 0
    doc = json.loads(out)
    assert (doc["month"], doc["threshold"], doc["min_volume"]) == ("2025-12", 5.0, 30)
    found = {(v["department"], v["indicator"]): v for v in doc["values"]}
    # North's 20 complaints: 9 MAD, but from 20 rows < the default minimum of 30
    assert ("North", "complaints") not in found
    # North's complaint rate: Decembers 10/40, 12/40, 11/40 per 100 → 25, 30, 27.5: usual 27.5,
    # MAD 2.5; 20/40 → 50 is (50 − 27.5) / 2.5 = 9 MAD — but its volume min(20, 40) < 30 too
    assert ("North", "complaint_rate") not in found
    # every other value of 2025-12 equals its usual Decembers (purchases 40, revenue 400,
    # returning customers 100 % …) or comes from fewer than 30 rows
    assert doc["values"] == []


def test_the_command_csv_and_its_refusals(tiny):
    path = tiny
    code, out, _ = run(path, fmt="csv", department="North", month="2025-12")
    assert code == 0 and out.splitlines()[0] == ",".join(unusual_cli.COLUMNS)
    assert (run(path, month="2025-13")[0], run(path, month="2031-01")[0]) == (2, 2)
    code, out, err = run(path, department="Mars")
    assert (code, out) == (2, "") and "no data for department 'Mars'" in err


def test_the_command_with_a_low_minimum_lists_north(tiny, capsys):
    from indicators.__main__ import main

    path = tiny
    con = store.connect(path)
    try:
        store.write_setting(con, "min_volume", 20)
    finally:
        con.close()
    assert main(["unusual", "--db", str(path), "--department", "North", "--format", "csv"]) == 0
    rows = [line.split(",") for line in capsys.readouterr().out.splitlines()[1:]]
    by = {r[2]: r for r in rows}
    assert by["complaints"][3:7] == ["20", "11", "1", "9"]
    # 20 is above every month of 2024-01 … 2025-12 (0 between the Decembers, 11 in 2024-12)
    assert by["complaints"][-1] == "highest in 24 months; 9.0 MAD above the usual December"
    # estimated dissatisfied: 10 × the complaints, the same 9 MAD; volume the 20 complaints
    # revenue at risk: 10 × 30 % × 10 per customer = 3 × the estimated dissatisfied, 9 MAD too
    assert set(by) == {"complaints", "complaint_rate", "estimated_dissatisfied",
                       "revenue_at_risk"}
    assert by["estimated_dissatisfied"][3:7] == ["200", "110", "10", "9"]
    assert float(by["revenue_at_risk"][6]) == pytest.approx(
        (20 * 10 * 0.3 * 10 - 11 * 10 * 0.3 * 10) / (1 * 10 * 0.3 * 10))
    # complaint rate 50 against 25, 30, 27.5: (50 − 27.5) / 2.5
    assert float(by["complaint_rate"][6]) == pytest.approx((50 - 27.5) / 2.5)
