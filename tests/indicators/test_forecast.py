"""The forecast with its band and the chance of a target (issue 18, part 2).

Expected values are written as the arithmetic of the rule they check.
"""

import doctest
import math

import pandas as pd
import pytest
from scipy import stats

from indicators import forecast, months
from indicators.forecast import LINE, SEASONAL, project
from indicators.route import route_summary, route_table

SEASON = [100.0] * 11 + [200.0]  # January … November 100, December 200


def series(values, start="2023-01"):
    return pd.Series([float(v) for v in values],
                     index=[months.shift(start, i) for i in range(len(values))])


def test_doctests():
    assert doctest.testmod(forecast).failed == 0


# --- the seasonal model ------------------------------------------------------------------


def test_an_exactly_seasonal_series_continues_its_season():
    p = project("purchases", series(SEASON * 3), until="2026-12")  # 2023-01 … 2025-12
    assert p.method == SEASONAL
    assert p.origin == "2025-12"
    for h in range(1, 13):
        month = months.shift("2025-12", h)
        expected = 200.0 if month.endswith("-12") else 100.0
        assert p.mean_at(month) == pytest.approx(expected, rel=1e-6)


def test_a_seasonal_series_with_a_trend_continues_both():
    # 2 more every month on top of the season: month i is SEASON[i mod 12] + 2 × i
    values = [SEASON[i % 12] + 2 * i for i in range(36)]
    p = project("purchases", series(values), until="2026-12")
    assert p.method == SEASONAL
    for h in range(1, 13):
        i = 35 + h
        assert p.mean_at(months.shift("2025-12", h)) == pytest.approx(SEASON[i % 12] + 2 * i,
                                                                      rel=1e-3)


def test_seasonal_needs_24_consecutive_months_ending_in_the_latest():
    assert project("purchases", series(SEASON * 2), until="2025-06").method == SEASONAL
    assert project("purchases", series((SEASON * 2)[1:]), until="2025-06").method == LINE
    # a gap: only the 12 months after it are consecutive
    gappy = pd.concat([series(SEASON * 2, "2021-01"), series(SEASON, "2024-01")])
    assert project("purchases", gappy, until="2025-06").method == LINE


def test_a_noisy_seasonal_series_has_a_band_around_its_forecast():
    noise = [((i * 7919) % 13 - 6) * 0.5 for i in range(48)]  # a fixed ±3 wobble
    values = [SEASON[i % 12] + n for i, n in enumerate(noise)]
    p = project("purchases", series(values, "2022-01"), until="2026-12")
    low, high = p.band_at("2026-06")
    assert low < p.mean_at("2026-06") < high
    assert p.mean_at("2026-06") == pytest.approx(100.0, abs=4.0)
    assert p.mean_at("2026-12") == pytest.approx(200.0, abs=6.0)
    # the band is the 80 % interval of a normal distribution: mean ± z(0.9) × scale
    i = months.months_between(p.origin, "2026-06")
    z = stats.norm.ppf(0.9)
    assert (low, high) == pytest.approx((p.centre[i] - z * p.scale[i], p.centre[i] + z * p.scale[i]))


# --- the least-squares line --------------------------------------------------------------


def test_on_a_straight_line_the_least_squares_path_is_the_line_with_no_spread():
    p = project("csat", series([50, 53, 56], "2025-01"), until="2025-07")
    assert p.method == LINE
    assert [p.mean_at(months.shift("2025-03", h)) for h in range(5)] == pytest.approx(
        [56 + 3 * h for h in range(5)])
    assert p.band_at("2025-07") == pytest.approx((56 + 3 * 4, 56 + 3 * 4))


def test_the_line_band_is_its_prediction_interval():
    # 50, 54, 52, 56: x̄ = 1.5, ȳ = 53, slope = Σ(x − x̄)(y − ȳ) ÷ Σ(x − x̄)² = 8 ÷ 5 = 1.6
    p = project("csat", series([50, 54, 52, 56], "2025-01"), until="2025-07")
    slope, intercept = 8 / 5, 53 - 8 / 5 * 1.5
    fitted = [intercept + slope * x for x in range(4)]
    s = math.sqrt(sum((y - f) ** 2 for y, f in zip([50, 54, 52, 56], fitted, strict=True)) / (4 - 2))
    x0 = 6  # 2025-07 is the seventh month
    se = s * math.sqrt(1 + 1 / 4 + (x0 - 1.5) ** 2 / 5)
    t = stats.t.ppf(0.9, 4 - 2)
    mean = intercept + slope * x0
    assert p.mean_at("2025-07") == pytest.approx(mean)
    assert p.band_at("2025-07") == pytest.approx((mean - t * se, mean + t * se))
    # the chance of at least 60: P(T₂ ≥ (60 − mean) ÷ se)
    assert p.probability("2025-07", 60.0, "higher") == pytest.approx(
        1 - stats.t.cdf((60 - mean) / se, 2))


def test_fewer_than_three_values_give_no_projection():
    assert project("csat", series([50, 53], "2025-01"), until="2025-07") is None


# --- the probability ---------------------------------------------------------------------


@pytest.mark.parametrize("values", [[50, 54, 52, 56, 55, 59], None], ids=["line", "seasonal"])
def test_probability_is_a_half_at_the_projection_and_tends_to_0_and_1(values):
    if values is None:
        noise = [((i * 7919) % 13 - 6) * 0.5 for i in range(36)]
        p = project("purchases", series([SEASON[i % 12] + n for i, n in enumerate(noise)]),
                    until="2026-06")
        indicator_month = "2026-06"
    else:
        p = project("csat", series(values, "2025-01"), until="2025-12")
        indicator_month = "2025-12"
    mean = p.mean_at(indicator_month)
    assert p.probability(indicator_month, mean, "higher") == pytest.approx(0.5)
    assert p.probability(indicator_month, mean, "lower") == pytest.approx(0.5)
    assert p.probability(indicator_month, mean - 1e4, "higher") > 0.999
    assert p.probability(indicator_month, mean + 1e4, "higher") < 0.001
    assert p.probability(indicator_month, mean + 1e4, "lower") > 0.999


def test_bounded_units_clamp_the_forecast_and_band():
    # 70, 85, 100 climb 15 a month: 100 + 15 × 4 = 160 by 2025-07, but a share stops at 100 %
    p = project("csat", series([70, 85, 100], "2025-01"), until="2025-07")
    assert p.mean_at("2025-07") == 100.0
    assert p.band_at("2025-07") == (100.0, 100.0)
    # NPS 0, −20, −40 heads to −120 by 2025-07: NPS stops at −100
    q = project("nps", series([0, -20, -40], "2025-01"), until="2025-07")
    assert q.mean_at("2025-07") == -100.0


# --- in the route ------------------------------------------------------------------------


def _targets(**row):
    defaults = {"indicator": "purchases", "department": "*", "baseline_month": "2025-12",
                "target_month": "2026-12", "target": 220.0, "baseline": float("nan"),
                "tolerance": float("nan")}
    return pd.DataFrame([{**defaults, **row}])


def _table(values, start="2023-01", indicator="purchases"):
    labels = [months.shift(start, i) for i in range(len(values))]
    return pd.DataFrame({"month": labels, "department": "All", "indicator": indicator,
                         "value": [float(v) for v in values]})


def test_route_summary_gives_the_seasonal_projection_its_band_and_probability():
    summary = route_summary(_targets(), _table(SEASON * 3)).iloc[0]
    assert summary["forecast_method"] == SEASONAL
    assert summary["forecast_at_target"] == pytest.approx(200.0, rel=1e-6)  # December again
    # an exact season has no spread: 200 < 220 can't be reached, and never is within 24 months
    assert summary["reach_probability"] == 0.0
    assert summary["reached_note"] == "not expected by " + months.shift("2026-12", 24)
    assert summary["reached_month"] is None
    # up to 2025-11 (100), a target of 150 is met by the first December ahead
    up_to_november = _table((SEASON * 3)[:-1])
    met = route_summary(_targets(target=150.0, baseline_month="2025-11"), up_to_november).iloc[0]
    assert met["reach_probability"] == 1.0
    assert (met["reached_month"], met["reached_note"]) == ("2025-12", "expected in 2025-12")


def test_route_table_carries_the_forecast_and_band_from_the_latest_month():
    # 50, 53, 56 in 2025-01 … 03, target month 2025-07: the line 56 + 3k with no spread
    targets = pd.DataFrame([{"indicator": "csat", "department": "*", "baseline_month": "2025-01",
                             "target_month": "2025-07", "target": 80.0, "baseline": float("nan"),
                             "tolerance": float("nan")}])
    table = route_table(targets, _table([50, 53, 56], "2025-01", "csat")).set_index("month")
    assert table.loc["2025-01":"2025-02", ["forecast", "forecast_low", "forecast_high"]] \
        .isna().all().all()
    for column in ("forecast", "forecast_low", "forecast_high"):
        assert list(table.loc["2025-03":, column]) == pytest.approx([56 + 3 * k for k in range(5)])
    summary = route_summary(targets, _table([50, 53, 56], "2025-01", "csat")).iloc[0]
    assert summary["forecast_method"] == LINE
    assert (summary["forecast_low"], summary["forecast_high"]) == pytest.approx((68.0, 68.0))
    assert summary["reach_probability"] == 0.0  # 56 + 3 × 4 = 68 < 80, with no spread


def test_no_probability_once_the_target_month_is_measured():
    targets = pd.DataFrame([{"indicator": "csat", "department": "*", "baseline_month": "2025-01",
                             "target_month": "2025-03", "target": 80.0, "baseline": float("nan"),
                             "tolerance": float("nan")}])
    summary = route_summary(targets, _table([50, 53, 56], "2025-01", "csat")).iloc[0]
    assert math.isnan(summary["reach_probability"])


def test_without_the_forecast_everything_else_is_the_same():
    targets, table = _targets(target=150.0), _table(SEASON * 3)
    routes, summary = route_table(targets, table), route_summary(targets, table)
    from indicators.route import route_tables

    bare_routes, bare = route_tables(targets, table, forecast=False)
    forecast_columns = ["forecast_at_target", "forecast_low", "forecast_high",
                        "forecast_method", "reach_probability", "reached_month", "reached_note"]
    assert bare[forecast_columns].isna().all().all()
    kept = [c for c in summary.columns if c not in forecast_columns]
    pd.testing.assert_frame_equal(bare[kept], summary[kept])
    month_columns = ["forecast", "forecast_low", "forecast_high"]
    assert bare_routes[month_columns].isna().all().all()
    pd.testing.assert_frame_equal(bare_routes.drop(columns=month_columns),
                                  routes.drop(columns=month_columns))
