"""The Plotly figures carry the expected traces and values (no browser needed)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from indicators import charts

NAN = float("nan")


def _table() -> pd.DataFrame:
    rows = [
        ("2025-01", "North", "csat", 60.0), ("2025-02", "North", "csat", NAN),
        ("2025-03", "North", "csat", 70.0),
        ("2025-01", "South", "csat", 80.0), ("2025-02", "South", "csat", 75.0),
        ("2025-03", "South", "csat", 50.0),
        ("2025-01", "All", "csat", 65.0), ("2025-02", "All", "csat", 75.0),
        ("2025-03", "All", "csat", 62.0),
        ("2025-03", "East", "csat", NAN),
        ("2025-03", "North", "complaint_rate", 2.0), ("2025-03", "South", "complaint_rate", 1.0),
        ("2025-03", "All", "complaint_rate", 1.5),
    ]
    return pd.DataFrame(rows, columns=["month", "department", "indicator", "value"])


def test_trend_has_department_and_all_and_keeps_gaps():
    fig = charts.make_trend_figure(_table(), "csat", "North", target=80.0, target_month="2025-06")
    north, all_ = fig.data
    assert (north.name, all_.name) == ("North", "All")
    assert list(north.x) == ["2025-01-01", "2025-02-01", "2025-03-01"]
    assert north.y[0] == 60.0 and math.isnan(north.y[1]) and north.y[2] == 70.0
    assert north.connectgaps is False
    assert fig.layout.title.text == "Customer satisfaction (CSAT)"
    assert fig.layout.yaxis.title.text == "%"
    (target,) = fig.layout.shapes
    assert target.y0 == target.y1 == 80.0
    assert "Target 80.0 % by 2025-06" in fig.layout.annotations[0].text


def test_trend_for_all_has_one_line():
    fig = charts.make_trend_figure(_table(), "csat", "All", title=None)
    assert [t.name for t in fig.data] == ["All"]
    assert fig.layout.title.text is None


def test_ranking_puts_the_best_first_by_direction_and_missing_last():
    fig = charts.make_ranking_figure(_table(), "csat", "2025-03", highlight="North")
    (bars,) = fig.data
    # Horizontal bars are drawn bottom-up: reversed, the order reads best first.
    assert list(bars.y)[::-1] == ["North", "South", "East"]
    # Labels are written as on the cards: one decimal and the unit.
    assert list(bars.text)[::-1] == ["70.0 %", "50.0 %", "—"]
    assert bars.marker.color[list(bars.y).index("North")] == charts.HIGHLIGHT_COLOUR
    assert fig.layout.shapes[0].x0 == 62.0  # All as the reference line


def test_ranking_of_a_lower_is_better_indicator():
    fig = charts.make_ranking_figure(_table(), "complaint_rate", "2025-03")
    assert list(fig.data[0].y)[::-1] == ["South", "North"]


def test_complaint_mix_stacks_components_in_catalog_order():
    mix = pd.DataFrame({
        "month": ["2025-01", "2025-01", "2025-02", "2025-01"],
        "department": ["All", "All", "All", "All"],
        "component": ["product", "people", "people", "unclassified"],
        "complaints": [3, 1, 2, 0],
        "share": [75.0, 25.0, 100.0, 0.0],
    })
    fig = charts.make_complaint_mix_figure(mix, "All")
    assert [t.name for t in fig.data] == ["Product", "People"]  # no bar for an empty component
    assert list(fig.data[0].y) == [3, 0]
    assert list(fig.data[1].y) == [1, 2]
    assert fig.layout.barmode == "stack"


def test_histogram_marks_the_promise_and_stacks_kept_over_not_kept():
    # 5 + 3 + 2 requests; the 60–90 bin holds one that kept a 120-minute promise of its own.
    hist = pd.DataFrame({"bin_start": [0.0, 30.0, 60.0], "bin_end": [30.0, 60.0, 90.0],
                         "requests": [5, 3, 2], "kept": [5, 3, 1], "not_kept": [0, 0, 1]})
    fig = charts.make_response_histogram_figure(hist, 60.0)
    kept, not_kept = fig.data
    assert (kept.name, not_kept.name) == (charts.KEPT_NAME, charts.NOT_KEPT_NAME)
    assert fig.layout.barmode == "stack"
    # the median wait is in the 0–30 bin: the axis is in minutes
    assert list(kept.x) == [15.0, 45.0, 75.0]
    assert list(kept.width) == [30.0, 30.0, 30.0]
    assert list(kept.y) == [5, 3, 1] and list(not_kept.y) == [0, 0, 1]
    assert (kept.marker.color, not_kept.marker.color) == (charts.HIGHLIGHT_COLOUR,
                                                          charts.PROMISE_COLOUR)
    assert kept.customdata[2] == "60–90 min: 1 request kept their promise"
    assert fig.layout.shapes[0].x0 == 60.0
    assert "Promise 60 min" in fig.layout.annotations[0].text


def test_route_has_plan_actual_forecast_and_target():
    route = pd.DataFrame({
        "month": ["2025-01", "2025-02", "2025-03", "2025-04"],
        "planned": [60.0, 63.0, 66.0, 70.0],
        "actual": [60.0, 62.0, 64.0, NAN],
        "forecast": [NAN, NAN, 64.0, 66.0],
    })
    summary = {"indicator": "csat", "target": 70.0, "target_month": "2025-04",
               "latest_month": "2025-03", "latest_actual": 64.0, "forecast_at_target": 66.0,
               "forecast_method": "least squares"}
    fig = charts.make_route_figure(route, summary)
    names = [t.name for t in fig.data]
    assert names == ["Planned route", "Actual", "Forecast (least squares)", "Target"]
    assert list(fig.data[0].y) == [60.0, 63.0, 66.0, 70.0]
    assert list(fig.data[2].x) == ["2025-03-01", "2025-04-01"]
    assert list(fig.data[2].y) == [64.0, 66.0]
    assert list(fig.data[3].y) == [70.0]


def test_route_without_forecast_column_uses_the_summary():
    route = pd.DataFrame({"month": ["2025-01", "2025-02"], "planned": [1.0, 2.0],
                          "actual": [1.0, 1.5]})
    summary = {"indicator": "complaint_rate", "target": 2.0, "target_month": "2025-06",
               "latest_month": "2025-02", "latest_actual": 1.5, "forecast_at_target": NAN}
    fig = charts.make_route_figure(route, summary)
    assert not [t.name for t in fig.data if t.name.startswith("Forecast")]


def test_route_draws_the_band_steps_check_ins_and_notes():
    route = pd.DataFrame({
        "month": ["2025-01", "2025-02", "2025-03", "2025-04"],
        "planned": [60.0, 60.0, 65.0, 70.0],
        "actual": [60.0, 61.0, NAN, NAN],
        "forecast": [NAN, 61.0, 63.0, 65.0],
        "forecast_low": [NAN, 61.0, 60.0, 58.0],
        "forecast_high": [NAN, 61.0, 66.0, 72.0],
    })
    summary = {"indicator": "csat", "target": 70.0, "target_month": "2025-04",
               "latest_month": "2025-02", "latest_actual": 61.0, "forecast_at_target": 65.0,
               "forecast_method": "seasonal", "shape": "steps"}
    fig = charts.make_route_figure(
        route, summary, checkins=[("2025-02", "off track: <b>two</b> agents on leave")],
        notes=[("2025-03", "new ticket system"), ("2025-03", "=1+1")])
    by_name = {t.name: t for t in fig.data}
    assert by_name["Planned route (steps)"].line.shape == "hv"
    low, high = by_name["80 % range, low"], by_name["80 % range"]
    assert list(low.y) == [61.0, 60.0, 58.0] and list(high.y) == [61.0, 66.0, 72.0]
    assert high.fill == "tonexty" and low.showlegend is False
    assert "Forecast (seasonal)" in by_name
    # the check-in sits on the actual value of its month; the notes on the planned value (no data)
    checkin, notes = by_name["Check-in"], by_name["Notes"]
    assert (list(checkin.x), list(checkin.y)) == (["2025-02-01"], [61.0])
    assert (list(notes.x), list(notes.y)) == (["2025-03-01"], [65.0])
    assert checkin.customdata[0] == "2025-02: off track: &lt;b&gt;two&lt;/b&gt; agents on leave"
    assert notes.customdata[0] == "2025-03: new ticket system<br>2025-03: =1+1"
    assert len([s for s in fig.layout.shapes if s.x0 in ("2025-02-01", "2025-03-01")]) == 2


def test_trend_notes_sit_on_the_department_line_or_the_floor():
    table = pd.DataFrame({"month": ["2025-01", "2025-02", "2025-01", "2025-02"],
                          "department": ["North", "North", "All", "All"],
                          "indicator": "csat", "value": [70.0, 72.0, 60.0, 65.0]})
    fig = charts.make_trend_figure(table, "csat", "North",
                                   notes=[("2025-02", "new survey"), ("2025-05", "later")])
    notes = next(t for t in fig.data if t.name == "Notes")
    # 2025-05 has no value: the marker sits at the lowest value drawn, 60
    assert (list(notes.x), list(notes.y)) == (["2025-02-01", "2025-05-01"], [72.0, 60.0])


@pytest.mark.parametrize("name", ["csat trend", "Ünïcode / slash"])
def test_image_config_names_the_saved_png(name):
    config = charts.image_config(name)
    options = config["toImageButtonOptions"]
    assert options["format"] == "png"
    assert "/" not in options["filename"] and " " not in options["filename"]
