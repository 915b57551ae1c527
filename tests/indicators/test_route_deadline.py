"""The route at and after its target month, and forecasts kept within the unit's range (issue 15).

Expected values are the arithmetic of the rule they check: SPEC §3 up to the target month; after
it ``planned = target`` and the status is ``achieved`` (met) or ``missed``; the forecast is
clamped to the indicator's value bounds.
"""

import math

import pandas as pd
import pytest

from indicators import catalog, months, route
from indicators.route import (
    PAST_DEADLINE_MONTHS,
    STATUSES,
    route_summary,
    route_table,
)

NAN = float("nan")
HAIR = 1e-6


def targets(**row: object) -> pd.DataFrame:
    """One target; default: complaint rate (lower is better) from 5.0 in 2025-01 to 2.0 by 2025-06."""
    defaults = {"indicator": "complaint_rate", "department": "*", "baseline_month": "2025-01",
                "target_month": "2025-06", "target": 2.0, "baseline": 5.0, "tolerance": 0.3}
    return pd.DataFrame([{**defaults, **row}])


def values(by_month: dict[str, float], indicator: str = "complaint_rate") -> pd.DataFrame:
    return pd.DataFrame({"month": list(by_month), "department": "All", "indicator": indicator,
                         "value": [float(v) for v in by_month.values()]})


def summary(t: pd.DataFrame, v: pd.DataFrame) -> pd.Series:
    frame = route_summary(t, v)
    assert len(frame) == 1
    return frame.iloc[0]


def status_in(table: pd.DataFrame, month: str) -> str:
    rows = table[table["month"] == month]
    assert len(rows) == 1
    return str(rows.iloc[0]["status"])


def test_statuses_in_order_with_missed_after_off_track():
    assert STATUSES == ("achieved", "on track", "at risk", "off track", "missed", "no data")


# --- before, at and after the target month -------------------------------------------


def test_before_the_target_month_spec_statuses_and_pace_needed():
    # 2025-03: planned = 5 + (2 − 5) × 2 / 5 = 3.8; 4.1 is 0.3 worse: at risk (tolerance 0.3)
    row = summary(targets(), values({"2025-01": 5.0, "2025-03": 4.1}))
    assert row["latest_month"] == "2025-03"
    assert row["status"] == "at risk"
    assert row["planned_at_latest"] == pytest.approx(5 + (2 - 5) * 2 / 5)
    assert row["pace_needed"] == pytest.approx((2.0 - 4.1) / 3)
    assert math.isnan(row["deadline_actual"])
    assert row["met_month"] is None


def test_at_the_target_month_the_spec_status_still_holds():
    # planned = target = 2.0 in 2025-06: 2.2 is within the tolerance 0.3 (at risk), 2.9 is not
    t = targets()
    at_risk = summary(t, values({"2025-01": 5.0, "2025-06": 2.2}))
    assert (at_risk["status"], at_risk["deadline_actual"]) == ("at risk", 2.2)
    off = summary(t, values({"2025-01": 5.0, "2025-06": 2.9}))
    assert (off["status"], off["met_month"]) == ("off track", None)
    assert math.isnan(off["pace_needed"])
    met = summary(t, values({"2025-01": 5.0, "2025-06": 2.0}))
    assert (met["status"], met["met_month"]) == ("achieved", "2025-06")


def test_rows_continue_past_the_target_month_to_the_latest_data():
    t = targets()
    table = route_table(t, values({"2025-01": 5.0, "2025-06": 2.9, "2025-09": 2.7}))
    assert list(table["month"]) == months.span("2025-01", "2025-09")
    after = table[table["month"] > "2025-06"]
    assert list(after["planned"]) == [2.0, 2.0, 2.0]  # planned = the target after the deadline
    assert list(after["status"]) == ["no data", "no data", "missed"]
    assert status_in(table, "2025-06") == "off track"
    # travelled keeps its formula: (2.7 − 5) ÷ (2 − 5) × 100
    assert table["travelled"].iloc[-1] == pytest.approx((2.7 - 5) / (2 - 5) * 100)


def test_without_data_after_the_target_month_the_rows_stop_there():
    table = route_table(targets(), values({"2025-01": 5.0, "2025-02": 4.4}))
    assert list(table["month"]) == months.span("2025-01", "2025-06")


@pytest.mark.parametrize(
    ("after", "expected"),
    [(2.0, "achieved"), (2.0 - 0.5, "achieved"), (2.0 + HAIR, "missed"), (11.6, "missed")],
)
def test_status_after_the_target_month_is_achieved_or_missed_at_its_boundary(after, expected):
    row = summary(targets(), values({"2025-01": 5.0, "2025-06": 2.9, "2025-07": after}))
    assert row["latest_month"] == "2025-07"
    assert row["status"] == expected
    assert row["planned_at_latest"] == 2.0


def test_a_higher_is_better_target_after_its_month():
    t = targets(indicator="csat", baseline=50.0, target=80.0, tolerance=3.0)
    v = values({"2025-01": 50.0, "2025-06": 80.0, "2025-08": 80.0 - HAIR}, indicator="csat")
    assert summary(t, v)["status"] == "missed"
    v = values({"2025-01": 50.0, "2025-06": 70.0, "2025-08": 80.0}, indicator="csat")
    assert summary(t, v)["status"] == "achieved"


def test_met_at_the_deadline_then_worse_is_missed_and_remembers_when_it_was_met():
    # the case: unresolved complaints met 2.0 % in the target month, 11.6 % now
    t = targets(indicator="unresolved_complaints_rate", baseline=5.0, target=2.0)
    v = values({"2025-01": 5.0, "2025-05": 3.0, "2025-06": 2.0, "2025-12": 11.6},
               indicator="unresolved_complaints_rate")
    row = summary(t, v)
    assert (row["status"], row["latest_month"], row["latest_actual"]) == ("missed", "2025-12", 11.6)
    assert row["deadline_actual"] == 2.0
    assert row["met_month"] == "2025-06"  # 2025-05 (3.0) was not met: the run starts in June


def test_met_month_is_the_start_of_the_run_of_met_months_that_ends_at_the_deadline():
    # met in 2025-02, lost in 2025-03, met again 2025-04 … 2025-06: the run starts in April;
    # a month without data (2025-05) neither breaks nor starts the run
    v = values({"2025-01": 5.0, "2025-02": 1.9, "2025-03": 2.5, "2025-04": 2.0, "2025-06": 1.8})
    assert summary(targets(), v)["met_month"] == "2025-04"
    # met every month from the baseline month on: the run starts at the baseline month
    v = values({"2024-12": 1.0, "2025-01": 1.5, "2025-06": 1.8})
    assert summary(targets(), v)["met_month"] == "2025-01"


def test_missed_at_the_deadline_has_no_met_month():
    v = values({"2025-01": 5.0, "2025-04": 1.9, "2025-06": 2.9, "2025-08": 2.7})
    row = summary(targets(), v)
    assert (row["status"], row["deadline_actual"], row["met_month"]) == ("missed", 2.9, None)


def test_no_value_in_the_target_month_leaves_the_deadline_missing():
    row = summary(targets(), values({"2025-01": 5.0, "2025-05": 2.0, "2025-07": 2.5}))
    assert math.isnan(row["deadline_actual"])
    assert row["met_month"] is None
    assert row["status"] == "missed"


def test_status_can_move_back_after_the_deadline():
    v = values({"2025-01": 5.0, "2025-06": 2.9, "2025-07": 1.9, "2025-08": 2.4, "2025-09": 2.0})
    table = route_table(targets(), v)
    statuses = [status_in(table, m) for m in ("2025-07", "2025-08", "2025-09")]
    assert statuses == ["achieved", "missed", "achieved"]


def test_pace_needed_and_the_projection_are_absent_after_the_deadline():
    v = values({"2025-03": 4.0, "2025-04": 3.5, "2025-05": 3.0, "2025-06": 2.8, "2025-08": 2.6})
    row = summary(targets(), v)
    assert math.isnan(row["pace_needed"])
    assert math.isnan(row["forecast_at_target"])
    assert route_table(targets(), v)["forecast"].isna().all()


def test_route_follows_the_data_at_most_the_cap_past_the_deadline():
    horizon = months.shift("2025-06", PAST_DEADLINE_MONTHS)
    v = values({"2025-01": 5.0, horizon: 1.0, months.shift(horizon, 1): 9.0})
    table = route_table(targets(), v)
    assert len(table) == 5 + 1 + PAST_DEADLINE_MONTHS  # baseline … target, then the cap
    assert table["month"].iloc[-1] == horizon
    row = summary(targets(), v)
    assert (row["latest_month"], row["status"]) == (horizon, "achieved")
    assert f"after {horizon}" in row["note"]


# --- bounded forecasts -----------------------------------------------------------------


def test_a_percentage_heading_to_133_is_projected_at_100():
    # csat 70, 79, 88 climbs 9 a month: 88 + 9 × 5 = 133 by 2025-08, but a share stops at 100
    t = targets(indicator="csat", baseline=70.0, target=95.0, target_month="2025-08",
                tolerance=NAN)
    v = values({"2025-01": 70.0, "2025-02": 79.0, "2025-03": 88.0}, indicator="csat")
    row = summary(t, v)
    assert 88 + 9 * 5 == 133
    assert row["forecast_at_target"] == 100.0
    forecast = route_table(t, v).set_index("month")["forecast"]
    assert list(forecast.loc["2025-03":]) == [88.0, 88 + 9, 100.0, 100.0, 100.0, 100.0]
    # the month it is reached is the line's: 88 + 9 × k ≥ 95 first at k = 1
    assert row["reached_month"] == "2025-04"


def test_nps_heading_to_minus_120_is_projected_at_minus_100():
    t = targets(indicator="nps", baseline=0.0, target=30.0, target_month="2025-07",
                tolerance=NAN)
    v = values({"2025-01": 0.0, "2025-02": -20.0, "2025-03": -40.0}, indicator="nps")
    assert -40 - 20 * 4 == -120
    assert summary(t, v)["forecast_at_target"] == -100.0
    assert summary(t, v)["reached_note"] == "not expected by 2027-07"


def test_a_forecast_within_the_bounds_is_unchanged():
    t = targets(indicator="csat", baseline=70.0, target=95.0, target_month="2025-05")
    v = values({"2025-01": 70.0, "2025-02": 72.0, "2025-03": 74.0}, indicator="csat")
    assert summary(t, v)["forecast_at_target"] == pytest.approx(74 + 2 * 2)


@pytest.mark.parametrize(
    ("indicator", "low", "high"),
    [("csat", 0.0, 100.0), ("promise_kept_rate", 0.0, 100.0),
     ("unresolved_complaints_rate", 0.0, 100.0), ("discount_rate", 0.0, 100.0),
     ("returning_customers_rate", 0.0, 100.0), ("retention_rate", 0.0, 100.0),
     ("repeat_complaint_rate", 0.0, 100.0), ("nps", -100.0, 100.0),
     ("compensation_share", 0.0, math.inf), ("revenue_growth_mom", -100.0, math.inf),
     ("revenue_growth_yoy", -100.0, math.inf), ("purchases", 0.0, math.inf),
     ("revenue", 0.0, math.inf), ("response_time_median", 0.0, math.inf),
     ("resolution_time_median", 0.0, math.inf), ("complaint_rate", 0.0, math.inf)],
)
def test_value_bounds(indicator, low, high):
    assert catalog.bounds(indicator) == (low, high)
    assert catalog.get(indicator).bounds == (low, high)
    assert catalog.clamp(indicator, low - 1) == low
    assert catalog.clamp(indicator, high + 1) == high
    assert catalog.clamp(indicator, 50.0) == 50.0
    assert math.isnan(catalog.clamp(indicator, NAN))


def test_every_indicator_has_bounds_with_low_below_high():
    for ind in catalog.INDICATORS:
        low, high = catalog.bounds(ind.id)
        assert low < high, ind.id


def test_summary_columns_for_the_deadline():
    assert {"deadline_actual", "met_month"} <= set(route.SUMMARY_COLUMNS)
    frame = route_summary(targets(), values({"2025-01": 5.0, "2025-06": 2.0}))
    assert frame["deadline_actual"].dtype == "float64"
    assert frame["met_month"].map(lambda v: v is None or isinstance(v, str)).all()
