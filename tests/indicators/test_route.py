"""The route (SPEC §3): planned path, travelled/remaining, status, forecast, pace needed.

Expected values are written as the arithmetic of the rule they check.
"""

import doctest
import math

import duckdb
import pandas as pd
import pytest

from indicators import months, route, store
from indicators.route import (
    STATUSES,
    forecast_line,
    route_summary,
    route_table,
    status_for,
)

NAN = float("nan")
HAIR = 1e-6


def make_targets(*rows: dict) -> pd.DataFrame:
    """Targets shaped as ``store.read_targets`` returns them; defaults: csat, all departments."""
    defaults = {
        "indicator": "csat", "department": "*", "baseline_month": "2025-01",
        "target_month": "2025-07", "target": 80.0, "baseline": NAN, "tolerance": NAN,
    }
    return pd.DataFrame([{**defaults, **r} for r in rows])


def make_indicators(values: dict[str, float], *, indicator: str = "csat",
                    department: str = "All") -> pd.DataFrame:
    return pd.DataFrame({
        "month": list(values),
        "department": department,
        "indicator": indicator,
        "value": [float(v) for v in values.values()],
    })


def one_summary(targets: pd.DataFrame, indicators: pd.DataFrame) -> pd.Series:
    summary = route_summary(targets, indicators)
    assert len(summary) == 1
    return summary.iloc[0]


def at(table: pd.DataFrame, month: str) -> pd.Series:
    rows = table[table["month"] == month]
    assert len(rows) == 1
    return rows.iloc[0]


# --- planned, travelled, remaining -----------------------------------------------------


def test_planned_path_is_the_straight_route_from_baseline_to_target():
    table = route_table(make_targets({"baseline": 50.0}), make_indicators({}))
    assert list(table["month"]) == months.span("2025-01", "2025-07")
    assert list(table["planned"]) == [50 + (80 - 50) * k / 6 for k in range(7)]
    assert table["planned"].iloc[0] == 50.0
    assert table["planned"].iloc[-1] == 80.0


def test_travelled_and_remaining_share_of_the_route():
    actual = {"2025-02": 62.0, "2025-03": 45.0, "2025-04": 86.0}
    table = route_table(make_targets({"baseline": 50.0}), make_indicators(actual))
    assert at(table, "2025-02")["travelled"] == (62 - 50) / (80 - 50) * 100
    assert at(table, "2025-02")["remaining"] == 100 - (62 - 50) / (80 - 50) * 100
    assert at(table, "2025-03")["travelled"] == (45 - 50) / (80 - 50) * 100  # below 0
    assert at(table, "2025-04")["travelled"] == (86 - 50) / (80 - 50) * 100  # above 100
    assert math.isnan(at(table, "2025-05")["travelled"])
    assert math.isnan(at(table, "2025-05")["remaining"])


def test_travelled_on_a_lower_is_better_indicator_counts_downward():
    targets = make_targets({"indicator": "complaint_rate", "baseline": 5.0, "target": 2.0})
    table = route_table(targets, make_indicators({"2025-03": 4.4}, indicator="complaint_rate"))
    assert at(table, "2025-03")["travelled"] == pytest.approx((4.4 - 5.0) / (2.0 - 5.0) * 100)
    assert at(table, "2025-03")["remaining"] == pytest.approx(100 - (4.4 - 5) / (2 - 5) * 100)


def test_target_equal_to_baseline_leaves_travelled_missing():
    targets = make_targets({"baseline": 80.0})
    table = route_table(targets, make_indicators({"2025-02": 79.0}))
    assert math.isnan(at(table, "2025-02")["travelled"])
    assert list(table["planned"]) == [80.0] * 7
    assert "undefined" in one_summary(targets, make_indicators({"2025-02": 79.0}))["note"]


# --- status ----------------------------------------------------------------------------

PLANNED_HIGHER = 50 + (80 - 50) * 2 / 6  # csat at 2025-03, baseline 50, target 80 by 2025-07
PLANNED_LOWER = 5.0 + (2.0 - 5.0) * 2 / 6  # complaint_rate at 2025-03, baseline 5, target 2


@pytest.mark.parametrize(
    ("indicator", "baseline", "target", "actual", "expected"),
    [
        ("csat", 50.0, 80.0, 80.0, "achieved"),
        ("csat", 50.0, 80.0, 85.0, "achieved"),
        ("csat", 50.0, 80.0, 80.0 - HAIR, "on track"),
        ("csat", 50.0, 80.0, PLANNED_HIGHER, "on track"),
        ("csat", 50.0, 80.0, PLANNED_HIGHER - 3.0, "at risk"),
        ("csat", 50.0, 80.0, PLANNED_HIGHER - 3.0 - HAIR, "off track"),
        ("csat", 50.0, 80.0, NAN, "no data"),
        ("complaint_rate", 5.0, 2.0, 2.0, "achieved"),
        ("complaint_rate", 5.0, 2.0, 1.5, "achieved"),
        ("complaint_rate", 5.0, 2.0, PLANNED_LOWER, "on track"),
        ("complaint_rate", 5.0, 2.0, PLANNED_LOWER + 0.3, "at risk"),
        ("complaint_rate", 5.0, 2.0, PLANNED_LOWER + 0.3 + HAIR, "off track"),
        ("complaint_rate", 5.0, 2.0, NAN, "no data"),
    ],
)
def test_status_at_its_boundaries(indicator, baseline, target, actual, expected):
    tolerance = 3.0 if indicator == "csat" else 0.3
    targets = make_targets({"indicator": indicator, "baseline": baseline, "target": target,
                            "tolerance": tolerance})
    table = route_table(targets, make_indicators({"2025-03": actual}, indicator=indicator))
    assert at(table, "2025-03")["status"] == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((60.0, 60.0, 80.0, 3.0, "higher"), "on track"),
        ((57.0, 60.0, 80.0, 3.0, "higher"), "at risk"),
        ((57.0 - HAIR, 60.0, 80.0, 3.0, "higher"), "off track"),
        ((57.0, 60.0, 80.0, 0.0, "higher"), "off track"),
        ((63.0, 60.0, 40.0, 3.0, "lower"), "at risk"),
        ((63.0 + HAIR, 60.0, 40.0, 3.0, "lower"), "off track"),
        ((57.0, 60.0, 40.0, 3.0, "lower"), "on track"),
        ((40.0, 60.0, 40.0, 3.0, "lower"), "achieved"),
        ((NAN, 60.0, 80.0, 3.0, "higher"), "no data"),
        ((None, 60.0, 80.0, 3.0, "higher"), "no data"),
        ((70.0, NAN, 80.0, 3.0, "higher"), "no data"),
    ],
)
def test_status_for(args, expected):
    assert status_for(*args) == expected
    assert expected in STATUSES


def test_status_for_rejects_an_unknown_direction_and_a_negative_tolerance():
    with pytest.raises(ValueError, match="direction"):
        status_for(1.0, 1.0, 2.0, 0.1, "up")
    with pytest.raises(ValueError, match="tolerance"):
        status_for(1.0, 1.5, 2.0, -0.1, "higher")


def test_months_after_the_latest_data_have_no_data():
    targets = make_targets({"baseline": 50.0})
    table = route_table(targets, make_indicators({"2025-01": 50.0, "2025-02": 56.0}))
    assert list(table["status"]) == ["on track", "on track"] + ["no data"] * 5


@pytest.mark.parametrize(
    ("indicator", "baseline", "target"),
    [("csat", 50.0, 80.0), ("complaint_rate", 5.0, 2.0)],
)
def test_default_tolerance_is_ten_percent_of_the_route(indicator, baseline, target):
    tolerance = abs(target - baseline) * 0.1
    planned = baseline + (target - baseline) * 2 / 6
    worse = 1.0 if target > baseline else -1.0  # worse is down for csat, up for complaints
    targets = make_targets({"indicator": indicator, "baseline": baseline, "target": target})
    cases = {"2025-03": planned - worse * tolerance, "2025-04": NAN}
    summary = one_summary(targets, make_indicators(cases, indicator=indicator))
    assert summary["tolerance"] == pytest.approx(tolerance)
    table = route_table(targets, make_indicators(cases, indicator=indicator))
    assert at(table, "2025-03")["status"] == "at risk"
    beyond = {"2025-03": planned - worse * (tolerance + HAIR)}
    table = route_table(targets, make_indicators(beyond, indicator=indicator))
    assert at(table, "2025-03")["status"] == "off track"


def test_given_tolerance_is_used_as_is():
    targets = make_targets({"baseline": 50.0, "tolerance": 0.0})
    table = route_table(targets, make_indicators({"2025-03": PLANNED_HIGHER - HAIR}))
    assert at(table, "2025-03")["status"] == "off track"
    assert one_summary(targets, make_indicators({}))["tolerance"] == 0.0


# --- baseline --------------------------------------------------------------------------


def test_baseline_is_measured_at_the_baseline_month_when_not_given():
    indicators = make_indicators({"2024-12": 40.0, "2025-01": 52.0, "2025-02": 57.0})
    targets = make_targets({})
    summary = one_summary(targets, indicators)
    assert summary["baseline"] == 52.0
    assert summary["tolerance"] == pytest.approx(abs(80 - 52) * 0.1)
    table = route_table(targets, indicators)
    assert at(table, "2025-02")["planned"] == 52 + (80 - 52) * 1 / 6
    assert at(table, "2025-02")["travelled"] == (57 - 52) / (80 - 52) * 100


def test_given_baseline_wins_over_the_measured_one():
    indicators = make_indicators({"2025-01": 52.0, "2025-02": 57.0})
    targets = make_targets({"baseline": 50.0})
    assert one_summary(targets, indicators)["baseline"] == 50.0
    assert at(route_table(targets, indicators), "2025-02")["planned"] == 50 + (80 - 50) * 1 / 6


def test_no_baseline_given_nor_measured_means_no_route():
    indicators = make_indicators({"2025-02": 57.0, "2025-03": 60.0, "2025-04": 63.0})
    targets = make_targets({})
    table = route_table(targets, indicators)
    assert list(table["status"]) == ["no data"] * 7
    assert table["planned"].isna().all()
    assert table["travelled"].isna().all()
    assert at(table, "2025-02")["actual"] == 57.0
    summary = one_summary(targets, indicators)
    assert math.isnan(summary["baseline"])
    assert summary["status"] == "no data"
    assert "no baseline" in summary["note"]
    assert "2025-01" in summary["note"]
    # the forecast needs no baseline: 57, 60, 63 climb 3 a month
    assert summary["forecast_at_target"] == pytest.approx(63 + 3 * 3)


# --- forecast --------------------------------------------------------------------------


def test_forecast_line_on_an_exact_straight_line():
    slope, intercept = forecast_line(["2025-01", "2025-02", "2025-03", "2025-04"],
                                     [50.0, 53.0, 56.0, 59.0])
    assert slope == pytest.approx(3.0)
    assert slope * months.index("2025-12") + intercept == pytest.approx(59 + 3 * 8)


def test_forecast_line_needs_three_points_and_skips_missing_values():
    assert forecast_line(["2025-01", "2025-02"], [1.0, 2.0]) is None
    assert forecast_line(["2025-01", "2025-02", "2025-03"], [1.0, NAN, 2.0]) is None
    assert forecast_line([], []) is None


def test_forecast_on_an_exact_straight_line_higher_is_better():
    indicators = make_indicators({"2025-01": 50.0, "2025-02": 53.0, "2025-03": 56.0,
                                  "2025-04": 59.0})
    summary = one_summary(make_targets({"target_month": "2025-12"}), indicators)
    assert summary["forecast_at_target"] == pytest.approx(59 + 3 * 8)
    # 59 + 3 × k ≥ 80 first at k = 7 months after 2025-04 (exactly on the target)
    assert summary["reached_month"] == months.shift("2025-04", 7) == "2025-11"
    assert summary["reached_note"] == "expected in 2025-11"


def test_forecast_on_an_exact_straight_line_lower_is_better():
    indicators = make_indicators({"2025-01": 5.0, "2025-02": 4.5, "2025-03": 4.0},
                                 indicator="complaint_rate")
    targets = make_targets({"indicator": "complaint_rate", "target": 2.0,
                            "target_month": "2025-12"})
    summary = one_summary(targets, indicators)
    # the line reaches 4.0 − 0.5 × 9 = −0.5 by 2025-12: a complaint rate can't go below 0
    assert summary["forecast_at_target"] == max(4.0 - 0.5 * 9, 0.0)
    # 4.0 − 0.5 × k ≤ 2.0 first at k = 4 months after 2025-03
    assert summary["reached_month"] == "2025-07"


def test_forecast_reached_month_between_whole_months_rounds_up():
    indicators = make_indicators({"2025-01": 50.0, "2025-02": 53.0, "2025-03": 56.0})
    summary = one_summary(make_targets({"target": 61.0, "target_month": "2025-12"}), indicators)
    # 56 + 3 × k ≥ 61 needs k ≥ 5/3: the second month after 2025-03
    assert summary["reached_month"] == "2025-05"


@pytest.mark.parametrize(
    "values",
    [[60.0, 60.0, 60.0, 60.0], [60.0, 58.0, 56.0, 54.0]],
    ids=["flat", "wrong direction"],
)
def test_flat_or_wrong_direction_line_is_not_expected(values):
    span = months.span("2025-01", "2025-04")
    summary = one_summary(make_targets({"target_month": "2025-12"}),
                          make_indicators(dict(zip(span, values, strict=True))))
    # the forecast looks 24 months past the target month
    assert summary["reached_note"] == "not expected by " + months.shift("2025-12", 24)
    assert summary["reached_month"] is None
    slope = (values[-1] - values[0]) / 3
    assert summary["forecast_at_target"] == pytest.approx(values[-1] + slope * 8)


@pytest.mark.parametrize("step", [1e-3, 1e-300], ids=["a century away", "near flat"])
def test_a_line_that_reaches_the_target_only_after_a_century_is_not_expected(step):
    # step × k ≥ 20 needs k = 20 ÷ step months, beyond 24 months after the target month
    span = months.span("2025-01", "2025-03")
    indicators = make_indicators({m: step * k for k, m in enumerate(span)})
    summary = one_summary(make_targets({"baseline": 0.0, "target": 20.0}), indicators)
    assert summary["reached_note"] == "not expected by 2027-07"
    assert summary["reached_month"] is None


def test_wrong_direction_for_a_lower_is_better_indicator():
    indicators = make_indicators({"2025-01": 4.0, "2025-02": 4.5, "2025-03": 5.0},
                                 indicator="complaint_rate")
    targets = make_targets({"indicator": "complaint_rate", "target": 2.0})
    assert one_summary(targets, indicators)["reached_note"] == "not expected by 2027-07"


def test_fewer_than_three_months_with_data_give_no_forecast():
    indicators = make_indicators({"2025-01": 50.0, "2025-02": NAN, "2025-03": 56.0})
    summary = one_summary(make_targets({}), indicators)
    assert math.isnan(summary["forecast_at_target"])
    assert summary["reached_month"] is None
    assert summary["reached_note"] == "not enough data for a forecast"
    assert route_table(make_targets({}), indicators)["forecast"].isna().all()


def test_forecast_uses_only_the_last_six_months_with_data():
    line = {m: 50.0 + 2 * k for k, m in enumerate(months.span("2025-01", "2025-06"))}
    indicators = make_indicators({"2024-12": 1000.0, **line})  # the outlier is 7 months back
    summary = one_summary(make_targets({"target_month": "2025-12"}), indicators)
    assert summary["forecast_at_target"] == pytest.approx(60 + 2 * 6)


def test_forecast_window_counts_months_with_data_not_calendar_months():
    # 2025-03 has no data, so the six latest months with data reach back to 2024-12;
    # the outlier in 2024-11 is the seventh and is left out.
    line = {m: 50.0 + 2 * months.months_between("2024-12", m)
            for m in ["2024-12", "2025-01", "2025-02", "2025-04", "2025-05", "2025-06"]}
    indicators = make_indicators({"2024-11": 1000.0, "2025-03": NAN, **line})
    summary = one_summary(make_targets({"target_month": "2025-12"}), indicators)
    assert summary["forecast_at_target"] == pytest.approx(50 + 2 * 12)


def test_forecast_may_use_months_before_the_baseline():
    indicators = make_indicators({"2025-01": 50.0, "2025-02": 53.0, "2025-03": 56.0})
    targets = make_targets({"baseline_month": "2025-03", "target_month": "2025-12"})
    summary = one_summary(targets, indicators)
    assert summary["forecast_at_target"] == pytest.approx(56 + 3 * 9)


def test_forecast_column_follows_the_line_from_the_latest_month():
    indicators = make_indicators({"2025-01": 50.0, "2025-02": 53.0, "2025-03": 56.0})
    table = route_table(make_targets({}), indicators)
    assert table["forecast"].iloc[:2].isna().all()
    assert list(table["forecast"].iloc[2:]) == pytest.approx([56 + 3 * k for k in range(5)])


def test_latest_actual_at_or_better_than_target_is_already_achieved():
    indicators = make_indicators({"2025-01": 50.0, "2025-02": 81.0})
    summary = one_summary(make_targets({}), indicators)
    assert summary["reached_note"] == "already achieved"
    assert summary["reached_month"] == "2025-02"
    assert summary["status"] == "achieved"


# --- summary at the latest month, pace needed ------------------------------------------


def test_summary_reads_the_latest_month_with_data():
    indicators = make_indicators({"2025-01": 50.0, "2025-02": 53.0, "2025-03": 56.0})
    summary = one_summary(make_targets({"tolerance": 5.0}), indicators)
    planned = 50 + (80 - 50) * 2 / 6
    assert summary["latest_month"] == "2025-03"
    assert summary["latest_actual"] == 56.0
    assert summary["planned_at_latest"] == planned
    assert summary["status"] == "at risk"  # 56 is 4 below the planned 60, within 5
    assert summary["travelled"] == (56 - 50) / (80 - 50) * 100
    assert summary["remaining"] == 100 - (56 - 50) / (80 - 50) * 100
    assert pd.isna(summary["note"])


def test_pace_needed():
    indicators = make_indicators({"2025-01": 50.0, "2025-02": 53.0, "2025-04": 59.0})
    summary = one_summary(make_targets({"target_month": "2025-12"}), indicators)
    assert summary["pace_needed"] == (80 - 59) / 8


def test_pace_needed_lower_is_better_is_negative():
    indicators = make_indicators({"2025-01": 5.0, "2025-03": 4.0}, indicator="complaint_rate")
    targets = make_targets({"indicator": "complaint_rate", "target": 2.0})
    assert one_summary(targets, indicators)["pace_needed"] == (2.0 - 4.0) / 4


def test_pace_needed_is_missing_at_the_target_month_and_without_data():
    at_target = make_indicators({"2025-01": 50.0, "2025-07": 70.0})
    assert math.isnan(one_summary(make_targets({}), at_target)["pace_needed"])
    assert math.isnan(one_summary(make_targets({"baseline": 50.0}),
                                  make_indicators({}))["pace_needed"])


def test_data_after_the_target_month_moves_the_verdict():
    # issue 15: the route goes on past the deadline and the latest value gives the status
    indicators = make_indicators({"2025-01": 50.0, "2025-07": 70.0, "2025-09": 90.0})
    summary = one_summary(make_targets({}), indicators)
    assert summary["latest_month"] == "2025-09"
    assert summary["status"] == "achieved"  # 90 is at or above the target 80
    assert summary["deadline_actual"] == 70.0
    assert summary["met_month"] is None  # 70 in the target month is below 80
    table = route_table(make_targets({}), indicators)
    assert list(table["month"]) == months.span("2025-01", "2025-09")
    assert at(table, "2025-07")["status"] == "off track"  # SPEC §3 up to the target month
    assert list(table["status"].iloc[-2:]) == ["no data", "achieved"]


# --- departments, missing data, edge rows ----------------------------------------------


def test_star_department_reads_and_shows_all():
    indicators = pd.concat([
        make_indicators({"2025-01": 50.0, "2025-02": 55.0}, department="All"),
        make_indicators({"2025-01": 10.0, "2025-02": 11.0}, department="Sales"),
    ])
    targets = make_targets({}, {"department": "Sales", "target": 20.0})
    table = route_table(targets, indicators)
    assert sorted(set(table["department"])) == ["All", "Sales"]
    assert at(table[table["department"] == "All"], "2025-02")["actual"] == 55.0
    assert at(table[table["department"] == "Sales"], "2025-02")["actual"] == 11.0
    summary = route_summary(targets, indicators)
    assert list(summary["department"]) == ["All", "Sales"]
    assert list(summary["baseline"]) == [50.0, 10.0]


def test_target_with_no_data_at_all():
    targets = make_targets({"baseline": 50.0})
    table = route_table(targets, make_indicators({"2025-03": 9.0}, indicator="nps"))
    assert list(table["status"]) == ["no data"] * 7
    assert list(table["planned"]) == [50 + (80 - 50) * k / 6 for k in range(7)]
    summary = one_summary(targets, make_indicators({}))
    assert summary["status"] == "no data"
    assert summary["latest_month"] is None
    assert math.isnan(summary["latest_actual"])
    assert summary["reached_note"] == "not enough data for a forecast"
    assert "no data" in summary["note"]


def test_only_data_before_the_baseline_month_is_not_a_status():
    indicators = make_indicators({"2024-10": 40.0, "2024-11": 45.0, "2024-12": 50.0})
    summary = one_summary(make_targets({"baseline": 50.0}), indicators)
    assert summary["latest_month"] == "2024-12"
    assert summary["status"] == "no data"
    assert math.isnan(summary["planned_at_latest"])
    assert summary["pace_needed"] == (80 - 50) / 7
    assert summary["reached_month"] == "2025-06"  # 50 + 5 × k ≥ 80 at k = 6


def test_target_month_not_after_baseline_month_has_no_route():
    targets = make_targets({"baseline_month": "2025-07", "target_month": "2025-07"})
    assert route_table(targets, make_indicators({"2025-07": 50.0})).empty
    assert "not after" in one_summary(targets, make_indicators({"2025-07": 50.0}))["note"]


def test_unknown_indicator_is_said_not_guessed():
    summary = one_summary(make_targets({"indicator": "happiness", "baseline": 1.0}),
                          make_indicators({}))
    assert summary["status"] == "no data"
    assert "unknown indicator" in summary["note"]


def test_two_targets_for_one_indicator_and_department_are_refused():
    targets = make_targets({}, {"department": "All"})
    with pytest.raises(ValueError, match="more than one target"):
        route_table(targets, make_indicators({}))


def test_duplicate_indicator_values_are_refused():
    indicators = pd.concat([make_indicators({"2025-01": 50.0})] * 2)
    with pytest.raises(ValueError, match="more than one value"):
        route_summary(make_targets({}), indicators)


def test_no_targets_give_empty_tables_with_their_columns():
    empty = make_targets({}).iloc[0:0]
    table = route_table(empty, make_indicators({"2025-01": 1.0}))
    summary = route_summary(empty, make_indicators({"2025-01": 1.0}))
    assert list(table.columns) == list(route.ROUTE_COLUMNS) and table.empty
    assert list(summary.columns) == list(route.SUMMARY_COLUMNS) and summary.empty


# --- contract: dtypes, purity, order ---------------------------------------------------


def _scenario() -> tuple[pd.DataFrame, pd.DataFrame]:
    targets = make_targets(
        {"baseline": 50.0},
        {"indicator": "complaint_rate", "department": "Sales", "target": 2.0,
         "target_month": "2025-06", "tolerance": 0.5},
        {"indicator": "nps", "target": 30.0},
    )
    indicators = pd.concat([
        make_indicators({"2025-01": 51.0, "2025-02": 54.0, "2025-03": 59.0, "2025-04": NAN}),
        make_indicators({"2025-01": 5.0, "2025-02": 4.8, "2025-03": 4.1, "2025-04": 3.9},
                        indicator="complaint_rate", department="Sales"),
        make_indicators({"2025-01": 9.0}, indicator="complaint_rate"),
    ], ignore_index=True)
    return targets, indicators


def test_inputs_are_not_mutated():
    targets, indicators = _scenario()
    targets_before, indicators_before = targets.copy(deep=True), indicators.copy(deep=True)
    route_table(targets, indicators)
    route_summary(targets, indicators)
    pd.testing.assert_frame_equal(targets, targets_before)
    pd.testing.assert_frame_equal(indicators, indicators_before)


def test_row_order_of_the_inputs_is_irrelevant():
    targets, indicators = _scenario()
    shuffled_t = targets.sample(frac=1, random_state=3).reset_index(drop=True)
    shuffled_i = indicators.sample(frac=1, random_state=7).reset_index(drop=True)
    pd.testing.assert_frame_equal(route_table(targets, indicators),
                                  route_table(shuffled_t, shuffled_i))
    pd.testing.assert_frame_equal(route_summary(targets, indicators),
                                  route_summary(shuffled_t, shuffled_i))


def test_output_types():
    targets, indicators = _scenario()
    table = route_table(targets, indicators)
    assert list(table.columns) == list(route.ROUTE_COLUMNS)
    for column in ("actual", "planned", "travelled", "remaining", "forecast"):
        assert table[column].dtype == "float64"
    assert set(table["status"]) <= set(STATUSES)
    assert list(table.index) == list(range(len(table)))
    summary = route_summary(targets, indicators)
    assert list(summary["indicator"]) == ["complaint_rate", "csat", "nps"]
    assert summary["reached_month"].map(lambda v: v is None or isinstance(v, str)).all()


def test_works_on_targets_as_read_from_the_store():
    con = duckdb.connect()
    store.init_db(con)
    con.execute(
        "INSERT INTO targets (indicator, department, baseline_month, target_month, target, "
        "baseline, tolerance) VALUES ('csat', '*', DATE '2025-01-01', DATE '2025-07-01', 80, "
        "NULL, NULL), ('complaint_rate', 'Sales', DATE '2025-01-01', DATE '2025-06-01', 2, 5, 0.5)"
    )
    targets = store.read_targets(con)
    con.close()
    _, indicators = _scenario()
    summary = route_summary(targets, indicators)
    assert list(summary["department"]) == ["Sales", "All"]
    assert list(summary["baseline"]) == [5.0, 51.0]
    assert len(route_table(targets, indicators)) == 6 + 7


def test_docstring_examples_hold():
    result = doctest.testmod(route)
    assert result.attempted > 0 and result.failed == 0
