"""Route shapes (issue 18): straight, seasonal from the 12 months before the baseline, and
steps given month by month — planned values written as arithmetic here."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from indicators import months, store
from indicators.ingest import ingest_file
from indicators.route import parse_steps, route_summary, route_table, seasonal_profile

NAN = math.nan


def targets(**row: object) -> pd.DataFrame:
    defaults = {"indicator": "purchases", "department": "*", "baseline_month": "2025-01",
                "target_month": "2026-01", "target": 110.0, "baseline": 100.0,
                "tolerance": 1.0, "shape": "seasonal", "steps": None, "owner": None}
    return pd.DataFrame([{**defaults, **row}])


def values(by_month: dict[str, float], indicator: str = "purchases") -> pd.DataFrame:
    return pd.DataFrame({"month": list(by_month), "department": "All", "indicator": indicator,
                         "value": [float(v) for v in by_month.values()]})


def at(table: pd.DataFrame, month: str) -> pd.Series:
    rows = table[table["month"] == month]
    assert len(rows) == 1
    return rows.iloc[0]


# A year of purchases before the baseline: 100 a month, a July of 50.
YEAR_2024 = {m: (50.0 if m == "2024-07" else 100.0) for m in months.span("2024-01", "2024-12")}
MEAN_2024 = (11 * 100 + 50) / 12


def test_a_count_profile_is_each_month_over_the_years_mean():
    profile, how = seasonal_profile("purchases", pd.Series(YEAR_2024), "2025-01")
    assert how == "ratio"
    assert profile[7] == pytest.approx(50 / MEAN_2024)
    assert profile[1] == pytest.approx(100 / MEAN_2024)


def test_seasonal_count_route_dips_in_the_low_month_and_still_ends_at_the_target():
    table = route_table(targets(), values(YEAR_2024))
    # Baseline and target both in January: the profile's line is flat at s(Jan), so
    # planned(m) = straight(m) × s(m) ÷ s(Jan) with straight(m) = 100 + 10 × k ÷ 12.
    assert at(table, "2025-07")["planned"] == pytest.approx((100 + 10 * 6 / 12) * 50 / 100)
    assert at(table, "2025-03")["planned"] == pytest.approx(100 + 10 * 2 / 12)
    assert at(table, "2025-01")["planned"] == 100.0
    assert at(table, "2026-01")["planned"] == 110.0


def test_a_department_that_follows_its_season_is_on_track_every_month():
    # This year's purchases: last year's profile grown along the straight route.
    route = months.span("2025-01", "2025-12")
    follow = {m: (100 + 10 * k / 12) * (0.5 if m.endswith("-07") else 1.0)
              for k, m in enumerate(route)}
    seasonal = route_table(targets(), values({**YEAR_2024, **follow}))
    assert set(seasonal[seasonal["month"].isin(route)]["status"]) == {"on track"}
    straight = route_table(targets(shape="straight"), values({**YEAR_2024, **follow}))
    # the straight route plans 105 for July: 52.5 is 52.5 short, beyond the tolerance of 1
    assert at(straight, "2025-07")["status"] == "off track"
    summary = route_summary(targets(), values({**YEAR_2024, **follow})).iloc[0]
    assert summary["shape"] == "seasonal" and summary["shape_note"] is None


def test_a_share_profile_takes_differences_and_bends_towards_a_low_target_month():
    year = {m: (70.0 if m == "2024-12" else 80.0) for m in months.span("2024-01", "2024-12")}
    t = targets(indicator="csat", baseline_month="2025-01", target_month="2025-12",
                target=86.0, baseline=80.0, tolerance=0.6)
    profile, how = seasonal_profile("csat", pd.Series(year), "2025-01")
    assert how == "difference"
    mean = (11 * 80 + 70) / 12
    assert profile[12] == pytest.approx(70 - mean)
    table = route_table(t, values(year, "csat"))
    # n = 11; s(Jan) − s(Dec) = 10, so the profile's line falls 10 × k ÷ 11 and
    # planned = 80 + 6k/11 + 10k/11 for a month whose own index is January's
    assert at(table, "2025-06")["planned"] == pytest.approx(80 + 6 * 5 / 11 + 10 * 5 / 11)
    assert at(table, "2025-11")["planned"] == pytest.approx(80 + 6 * 10 / 11 + 10 * 10 / 11)
    assert at(table, "2025-12")["planned"] == 86.0


def test_a_count_profile_with_an_empty_month_takes_differences():
    year = {**YEAR_2024, "2024-07": 0.0}
    assert seasonal_profile("purchases", pd.Series(year), "2025-01")[1] == "difference"


def test_a_seasonal_route_without_12_months_before_the_baseline_is_straight_and_says_so():
    short = {m: v for m, v in YEAR_2024.items() if m != "2024-03"}
    summary = route_summary(targets(), values(short)).iloc[0]
    assert summary["shape"] == "straight"
    assert summary["shape_note"] == (
        "seasonal route needs a value in each of the 12 months before the baseline "
        "(2024-01 … 2024-12); drawn straight"
    )
    table = route_table(targets(), values(short))
    assert at(table, "2025-07")["planned"] == pytest.approx(100 + 10 * 6 / 12)


def test_steps_hold_until_the_next_and_the_target_month_is_the_target():
    t = targets(indicator="csat", baseline_month="2025-01", target_month="2025-12",
                baseline=80.0, target=90.0, shape="steps", steps="2025-04=84; 2025-08=88")
    table = route_table(t, values({"2025-01": 80.0, "2025-04": 83.0}, "csat"))
    planned = dict(zip(table["month"], table["planned"], strict=True))
    assert [planned[m] for m in months.span("2025-01", "2025-12")] == (
        [80.0] * 3 + [84.0] * 4 + [88.0] * 4 + [90.0])
    # 83 against a planned 84 with the default tolerance |90 − 80| ÷ 10 = 1: at risk
    assert at(table, "2025-04")["status"] == "at risk"


def test_steps_shape_without_steps_is_straight_and_says_so():
    summary = route_summary(targets(shape="steps"), values(YEAR_2024)).iloc[0]
    assert (summary["shape"], summary["shape_note"]) == ("straight",
                                                         "no steps given; drawn straight")


def test_no_shape_is_straight():
    t = targets(shape=None, indicator="csat", target=86.0, baseline=80.0)
    table = route_table(t, values({"2025-01": 80.0}, "csat"))
    assert at(table, "2025-04")["planned"] == pytest.approx(80 + 6 * 3 / 12)
    assert route_summary(t, values({"2025-01": 80.0}, "csat")).iloc[0]["shape"] == "straight"


def test_parse_steps():
    assert parse_steps(" 2025-03 = 1.5 ;2025-02=-2;") == {"2025-02": -2.0, "2025-03": 1.5}
    assert parse_steps(None) == {} and parse_steps(NAN) == {} and parse_steps("  ") == {}


# --- from a targets file ---------------------------------------------------------------


def test_steps_shape_and_owner_from_a_targets_file(tmp_path):
    db = tmp_path / "t.duckdb"
    con = store.connect(db)
    store.init_db(con)
    path = tmp_path / "targets.csv"
    path.write_text(
        "indicator,department,baseline_month,target_month,target,baseline,shape,steps,owner\n"
        "csat,*,2025-01,2025-12,90,80,Steps,2025-04=84; 2025-08=88,ana@example.com\n"
        "nps,*,2025-01,2025-12,40,20,,,\n",
        encoding="utf-8",
    )
    result = ingest_file(con, path)
    assert result.accepted, result
    stored = store.read_targets(con)
    csat = stored[stored["indicator"] == "csat"].iloc[0]
    assert (csat["shape"], csat["steps"], csat["owner"]) == (
        "steps", "2025-04=84; 2025-08=88", "ana@example.com")
    nps = stored[stored["indicator"] == "nps"].iloc[0]
    assert (nps["shape"], nps["steps"], nps["owner"]) == (None, None, None)
    table = route_table(stored, values({"2025-01": 80.0}, "csat"))
    assert at(table[table["indicator"] == "csat"], "2025-09")["planned"] == 88.0
    summary = route_summary(stored, values({"2025-01": 80.0}, "csat"))
    assert list(summary["owner"]) == ["ana@example.com", None]
    con.close()


@pytest.mark.parametrize(("shape", "steps", "message"), [
    ("straight", "2025-03=82", "given only when shape is steps"),
    ("steps", "", "required when shape is steps"),
    ("steps", "2025-02=3;2025-02=4", "a month appears more than once in the steps"),
    ("steps", "2025-02=x", "not steps: write YYYY-MM=value pairs separated by ;"),
    ("steps", "2025-13=3", "a step's month is not a valid month written YYYY-MM"),
    ("steps", "2025-12=3", "a step's month must be after baseline_month and before target_month"),
    ("circle", "", "not one of: straight, seasonal, steps"),
])
def test_a_bad_shape_or_steps_is_rejected_with_the_cell_and_nothing_stored(
        tmp_path, shape, steps, message):
    con = store.connect(tmp_path / "t.duckdb")
    store.init_db(con)
    path = tmp_path / "targets.csv"
    path.write_text(
        "indicator,department,baseline_month,target_month,target,shape,steps\n"
        f"csat,*,2025-01,2025-12,90,{shape},{steps}\n",
        encoding="utf-8",
    )
    result = ingest_file(con, path)
    assert not result.accepted
    assert any(message in p.rule and p.row == 2 for p in result.problems), result.problems
    assert store.read_targets(con).empty
    con.close()
