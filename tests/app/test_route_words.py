"""The route in plain words (dashboard.route_words): every wording at its boundary, by hand.

Each case goes through the engine (``route_summary``) and then the words, so the words are
checked against what the route page really receives.  Numbers are written as the cards write
them (``dashboard.format``): percent with one decimal, a change of a percentage in ``pp``.
"""

from __future__ import annotations

import doctest

import pandas as pd
import pytest

from dashboard import route_words
from dashboard.route_words import (
    SORTS,
    TABLE_COLUMNS,
    WORST_FIRST,
    indicator_name,
    ordered,
    status_rank,
    summary_table,
)
from indicators.route import route_summary

NAN = float("nan")


def target(**row: object) -> pd.DataFrame:
    """Default: CSAT (higher is better) from 50 % in 2025-01 to 80 % by 2025-07, tolerance 3."""
    defaults = {"indicator": "csat", "department": "*", "baseline_month": "2025-01",
                "target_month": "2025-07", "target": 80.0, "baseline": 50.0, "tolerance": 3.0}
    return pd.DataFrame([{**defaults, **row}])


def values(by_month: dict[str, float], indicator: str = "csat") -> pd.DataFrame:
    return pd.DataFrame({"month": list(by_month), "department": "All", "indicator": indicator,
                         "value": [float(v) for v in by_month.values()]})


def words(t: pd.DataFrame, v: pd.DataFrame) -> route_words.RouteWords:
    rows = route_summary(t, v).to_dict("records")
    assert len(rows) == 1
    return route_words.route_words(rows[0])


# --- share of the route travelled, before the deadline ---------------------------------


@pytest.mark.parametrize(
    ("actual", "text", "progress"),
    [
        # (62 − 50) ÷ (80 − 50) = 40 %
        (62.0, "40 % of the route travelled, 60 % to go", 0.4),
        (50.0, "0 % of the route travelled, 100 % to go", 0.0),
        # 50 − 47.9 = 2.1 points the wrong way
        (47.9, "moved away from the target by 2.1 pp", None),
        # (79.9 − 50) ÷ 30 = 99.67 %: rounded down, never "100 %" before the target is reached
        (79.9, "99 % of the route travelled, 1 % to go", 0.99),
        (80.0, "100 % of the route travelled, 0 % to go", 1.0),
        # 81.3 − 80 = 1.3 points past the target
        (81.3, "beyond the target by 1.3 pp", None),
        # 49.99 is 0.01 below the baseline: rounds to nothing, so it reads as no way travelled
        (49.99, "0 % of the route travelled, 100 % to go", 0.0),
        (80.01, "100 % of the route travelled, 0 % to go", 1.0),
    ],
)
def test_travelled_at_each_boundary(actual, text, progress):
    w = words(target(), values({"2025-01": 50.0, "2025-03": actual}))
    assert w.phase == "open"
    assert (w.travelled, w.progress) == (text, progress)
    assert w.headline == text


def test_travelled_on_a_lower_is_better_indicator_is_measured_in_its_unit():
    t = target(indicator="complaint_rate", baseline=5.0, target=2.0, tolerance=0.3)
    # 5.3 is 0.3 above the baseline 5.0: the wrong way for a rate that should fall
    w = words(t, values({"2025-01": 5.0, "2025-03": 5.3}, "complaint_rate"))
    assert w.travelled == "moved away from the target by 0.3"
    # 1.5 is 0.5 below the target 2.0
    w = words(t, values({"2025-01": 5.0, "2025-03": 1.5}, "complaint_rate"))
    assert w.travelled == "beyond the target by 0.5"


def test_no_travelled_without_a_value():
    w = words(target(), values({}))
    assert (w.travelled, w.progress) == ("share of the route travelled: —", None)


# --- figures while the target is open ----------------------------------------------------


def test_open_target_shows_latest_projection_and_pace():
    # 50, 53, 56 climb 3 a month: 56 + 3 × 4 = 68 by 2025-07; pace (80 − 56) ÷ 4 = 6 pp a month
    w = words(target(), values({"2025-01": 50.0, "2025-02": 53.0, "2025-03": 56.0}))
    # an exact line has no spread: the range is the value itself, and 68 < 80 is certain to miss
    assert w.figures == (("Latest (2025-03)", "56.0 %"), ("Projected for 2025-07", "68.0 %"),
                         ("80 % range", "68.0 %"), ("Chance of reaching the target", "0 %"),
                         ("Pace needed", "+6.0 pp per month"))
    # 56 + 3 × k ≥ 80 at k = 8: 2025-11, after the deadline
    assert w.forecast == "Forecast (least squares): expected in 2025-11, after the deadline."
    assert w.baseline == "Baseline 50.0 % in 2025-01, tolerance 3.0 pp."


def test_an_achieved_open_target_has_no_pace_needed():
    w = words(target(), values({"2025-01": 50.0, "2025-03": 81.0}))
    assert [label for label, _ in w.figures] == ["Latest (2025-03)", "Projected for 2025-07"]
    assert w.forecast == "Already at or better than the target."


def test_a_projection_is_kept_within_the_unit_in_words_too():
    # 70, 85, 100 climb 15 a month: 100 + 15 × 4 = 160 by 2025-07, but a share stops at 100 %
    w = words(target(), values({"2025-01": 70.0, "2025-02": 85.0, "2025-03": 100.0}))
    assert dict(w.figures)["Projected for 2025-07"] == "100.0 %"


# --- at the deadline ---------------------------------------------------------------------


def test_at_the_deadline_achieved():
    # lower is better: 11.6 % is at or better than 12 %
    t = target(indicator="unresolved_complaints_rate", baseline=20.0, target=12.0)
    w = words(t, values({"2025-01": 20.0, "2025-07": 11.6}, "unresolved_complaints_rate"))
    assert w.phase == "deadline"
    assert w.headline == "achieved (11.6 %, target 12.0 %)"
    assert w.figures == (("Actual in 2025-07, the target month", "11.6 %"),)
    assert w.forecast is None


def test_at_the_deadline_not_met():
    t = target(indicator="complaint_rate", baseline=5.0, target=2.0, tolerance=0.3)
    w = words(t, values({"2025-01": 5.0, "2025-07": 2.9}, "complaint_rate"))
    assert w.headline == "not met at the deadline (2.9, target 2.0)"
    assert "Pace needed" not in dict(w.figures)
    assert not any(label.startswith("Projected") for label, _ in w.figures)


# --- after the deadline ------------------------------------------------------------------


def test_missed_at_the_deadline():
    t = target(indicator="complaint_rate", baseline=5.0, target=2.0, tolerance=0.3)
    w = words(t, values({"2025-01": 5.0, "2025-07": 2.9, "2025-09": 2.7}, "complaint_rate"))
    assert w.phase == "after"
    assert w.headline == "missed (2.9 at the deadline, target 2.0) — now 2.7"
    assert w.figures == (("At the deadline (2025-07)", "2.9"), ("Latest (2025-09)", "2.7"))


def test_met_at_the_deadline_then_worse():
    t = target(indicator="unresolved_complaints_rate", baseline=5.0, target=2.0, tolerance=0.3,
               target_month="2025-06")
    v = values({"2025-01": 5.0, "2025-05": 3.0, "2025-06": 2.0, "2025-12": 11.6},
               "unresolved_complaints_rate")
    w = words(t, v)
    assert w.headline == "met in 2025-06 — now 11.6 %, worse than the target"
    assert "Pace needed" not in dict(w.figures)


def test_achieved_after_the_deadline():
    t = target(indicator="complaint_rate", baseline=5.0, target=2.0, tolerance=0.3)
    w = words(t, values({"2025-01": 5.0, "2025-07": 2.9, "2025-08": 1.8}, "complaint_rate"))
    assert w.headline == "achieved after the deadline (1.8, target 2.0; 2.9 at the deadline)"


def test_achieved_at_and_after_the_deadline():
    t = target(indicator="unresolved_complaints_rate", baseline=20.0, target=12.0)
    v = values({"2025-01": 20.0, "2025-07": 11.9, "2025-08": 11.6}, "unresolved_complaints_rate")
    assert words(t, v).headline == "achieved (11.6 %, target 12.0 %)"


def test_missed_without_a_value_at_the_deadline():
    t = target(indicator="complaint_rate", baseline=5.0, target=2.0, tolerance=0.3)
    w = words(t, values({"2025-01": 5.0, "2025-08": 2.7}, "complaint_rate"))
    assert w.headline == "missed (no value at the deadline, target 2.0) — now 2.7"
    assert dict(w.figures)["At the deadline (2025-07)"] == "—"


# --- order, filter and table of the route page -------------------------------------------


def _summary() -> pd.DataFrame:
    return pd.DataFrame({
        "indicator": ["csat", "nps", "complaint_rate", "csat", "revenue"],
        "department": ["All", "All", "North", "North", "South"],
        "target_month": ["2025-09", "2025-06", "2025-12", "2025-06", "2025-03"],
        "status": ["achieved", "missed", "at risk", "no data", "off track"],
    })


def test_status_rank_is_worst_first():
    assert WORST_FIRST == ("missed", "off track", "at risk", "on track", "achieved", "no data")
    assert sorted(["no data", "on track", "missed", "achieved", "off track", "at risk"],
                  key=status_rank) == list(WORST_FIRST)


def test_ordered_by_status_deadline_and_indicator():
    frame = _summary()
    by_status = ordered(frame)
    assert list(by_status["status"]) == ["missed", "off track", "at risk", "achieved", "no data"]
    by_deadline = ordered(frame, sort=SORTS[1])
    assert list(by_deadline["target_month"]) == ["2025-03", "2025-06", "2025-06", "2025-09",
                                                 "2025-12"]
    # the two June targets: missed before no data
    assert list(by_deadline["status"])[1:3] == ["missed", "no data"]
    by_label = ordered(frame, sort=SORTS[2])
    # Complaints per 100 purchases, Customer satisfaction (CSAT) ×2, Net promoter score, Revenue
    assert list(by_label["indicator"]) == ["complaint_rate", "csat", "csat", "nps", "revenue"]
    assert list(by_label["department"])[1:3] == ["All", "North"]  # achieved before no data


def test_filter_keeps_the_chosen_statuses_and_the_focused_target():
    frame = _summary()
    assert list(ordered(frame, statuses=["at risk"])["department"]) == ["North"]
    assert ordered(frame, statuses=[]).empty
    kept = ordered(frame, statuses=["missed"], focused=("csat", "All"))
    assert list(zip(kept["indicator"], kept["status"], strict=True)) == [
        ("csat", "achieved"), ("nps", "missed")]


def test_the_focused_target_comes_first():
    first = ordered(_summary(), focused=("revenue", "South")).iloc[0]
    assert (first["indicator"], first["department"]) == ("revenue", "South")
    assert list(ordered(_summary(), focused=("nope", "All"))["status"])[0] == "missed"


def test_summary_table_has_human_headers_and_values_rounded_for_people():
    t = pd.concat([
        target(),
        target(indicator="complaint_rate", department="North", baseline=5.0, target=2.0,
               tolerance=0.3),
    ], ignore_index=True)
    v = pd.concat([
        values({"2025-01": 50.0, "2025-02": 53.0, "2025-03": 56.0}),
        values({"2025-01": 5.0, "2025-03": 1 / 3 * 10}, "complaint_rate").assign(
            department="North"),
    ], ignore_index=True)
    table = summary_table(route_summary(t, v))
    assert list(table.columns) == list(TABLE_COLUMNS)
    assert not any("_" in c for c in table.columns)
    complaints, csat = table.iloc[0], table.iloc[1]
    assert complaints["Indicator"] == "Complaints per 100 purchases · per 100"
    assert complaints["Latest value"] == f"{1 / 3 * 10:.1f}"  # 3.3, not 3.3333333333333335
    assert complaints["Target"] == "2.0"
    # (3.33 − 5) ÷ (2 − 5) = 55.6 % travelled, rounded down
    assert complaints["Where it stands"] == "55 % of the route travelled, 45 % to go"
    assert csat["Indicator"] == "Customer satisfaction (CSAT) · %"
    assert csat["Projected for the target month"] == "68.0 %"
    assert csat["Pace needed per month"] == "+6.0 pp"


def test_indicator_name_carries_the_unit():
    assert indicator_name("csat") == "Customer satisfaction (CSAT) · %"
    assert indicator_name("resolution_time_median") == "Resolution time (median) · time"


def test_docstring_examples_hold():
    result = doctest.testmod(route_words)
    assert result.attempted > 0 and result.failed == 0
