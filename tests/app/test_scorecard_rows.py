"""The scorecard's pure parts, by hand: rank among departments, volumes, the compare line, the
trend and its colour, "— not loaded", the status strip, the sparkline, the table and its export.
"""

from __future__ import annotations

import base64
import doctest
import math

import pandas as pd
import pytest

from dashboard import scorecard as sc
from dashboard.format import STATUS_COLOURS

NAN = float("nan")


# --- rank_among ---------------------------------------------------------------------------


@pytest.mark.parametrize(("department", "expected"), [
    ("B", (1, 3)),  # 12.5 is the best
    ("A", (2, 3)),  # only B is better; A and C tie and share the rank
    ("C", (2, 3)),
])
def test_ties_share_a_rank_higher_is_better(department, expected):
    values = {"A": 10.0, "B": 12.5, "C": 10.0}
    assert sc.rank_among(values, department, "higher", None, 30) == expected


@pytest.mark.parametrize(("department", "expected"), [("A", (1, 3)), ("C", (1, 3)), ("B", (3, 3))])
def test_lower_is_better_ranks_the_smallest_first(department, expected):
    # A and C tie at 5 ahead of B's 10: B has two departments strictly better → 1 + 2 = 3rd
    values = {"A": 5.0, "B": 10.0, "C": 5.0}
    assert sc.rank_among(values, department, "lower", None, 30) == expected


def test_a_department_without_a_value_is_not_ranked_nor_counted():
    values = {"A": 5.0, "B": NAN, "C": None}
    assert sc.rank_among(values, "B", "lower", None, 30) == (None, 1)
    assert sc.rank_among(values, "A", "lower", None, 30) == (1, 1)


def test_a_department_under_the_minimum_volume_is_neither_ranked_nor_counted():
    values = {"A": 10.0, "B": 12.0, "C": 50.0}
    volumes = {"A": 40, "B": 30, "C": 29}
    # C (29 rows < 30) would be best, but is out: B (exactly 30) is ranked, A is 2nd of 2
    assert sc.rank_among(values, "A", "higher", volumes, 30) == (2, 2)
    assert sc.rank_among(values, "B", "higher", volumes, 30) == (1, 2)
    assert sc.rank_among(values, "C", "higher", volumes, 30) == (None, 2)
    # with no minimum every department with a value counts
    assert sc.rank_among(values, "A", "higher", volumes, 0) == (3, 3)


def test_a_department_absent_from_the_volumes_has_none():
    assert sc.rank_among({"A": 1.0, "B": 2.0}, "B", "higher", {"A": 40}, 30) == (None, 1)


def test_all_is_never_ranked():
    values = {"All": 100.0, "A": 10.0}
    assert sc.rank_among(values, "A", "higher", None, 0) == (1, 1)
    assert sc.rank_among(values, "All", "higher", None, 0) == (None, 1)


def test_a_direction_other_than_higher_or_lower_is_refused():
    with pytest.raises(ValueError, match="direction"):
        sc.rank_among({"A": 1.0}, "A", "up", None, 0)


@pytest.mark.parametrize(("n", "text"), [
    (1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (10, "10th"), (11, "11th"), (12, "12th"),
    (13, "13th"), (21, "21st"), (22, "22nd"), (23, "23rd"), (101, "101st"), (111, "111th"),
    (112, "112th"),
])
def test_ordinal(n, text):
    assert sc.ordinal(n) == text


# --- volumes and the compare frame ----------------------------------------------------------


ROWS = {
    "purchases": {"A": 40, "B": 40, "C": 40, "D": 5},
    "complaints": {"A": 2, "B": 4, "C": 2},
    "surveys": {"A": 30, "B": 30},
    "retention": {"A": 1, "D": 1},
}


def test_a_rate_is_judged_on_the_most_rows_among_its_sources():
    # complaint_rate reads complaints and purchases: the larger count of the two
    assert sc.indicator_volumes(ROWS, "complaint_rate") == {"A": 40, "B": 40, "C": 40, "D": 5}
    assert sc.indicator_volumes(ROWS, "csat") == {"A": 30, "B": 30}


def test_a_count_is_judged_on_the_departments_rows_in_every_dataset_but_retention():
    assert sc.indicator_volumes(ROWS, "complaints") == {
        "A": 40 + 2 + 30, "B": 40 + 4 + 30, "C": 40 + 2, "D": 5,
    }


def test_an_indicator_of_the_retention_summary_alone_has_no_volume():
    assert sc.indicator_volumes(ROWS, "retention_rate") is None


def test_month_rows_from_the_store_row_counts():
    counts = pd.DataFrame({
        "dataset": ["purchases", "purchases", "surveys"],
        "month": ["2025-03", "2025-02", "2025-03"],
        "department": ["A", "A", "B"],
        "rows": [40, 7, 30],
    })
    assert sc.month_rows(counts, "2025-03") == {"purchases": {"A": 40}, "surveys": {"B": 30}}


def month_values() -> pd.DataFrame:
    rows = [
        ("All", "revenue", 400 + 500 + 400 + 250), ("A", "revenue", 400.0),
        ("B", "revenue", 500.0), ("C", "revenue", 400.0), ("D", "revenue", 250.0),
        ("All", "csat", (24 + 27) / (30 + 30) * 100), ("A", "csat", 24 / 30 * 100),
        ("B", "csat", 27 / 30 * 100), ("C", "csat", NAN), ("D", "csat", NAN),
    ]
    return pd.DataFrame({
        "month": "2025-03",
        "department": [r[0] for r in rows],
        "indicator": [r[1] for r in rows],
        "value": [float(r[2]) for r in rows],
    })


def test_the_compare_frame_holds_alls_value_and_the_rank_only():
    frame = sc.compare_frame(month_values(), "A", rows=ROWS, min_volume=30).set_index("indicator")
    assert list(frame.reset_index().columns) == list(sc.COMPARE_COLUMNS)
    revenue = frame.loc["revenue"]
    # B 500 first; A and C tie at 400; D (5 purchases < 30) not ranked
    assert (revenue["all_value"], revenue["rank"], revenue["ranked_of"]) == (1550.0, 2.0, 3)
    assert (revenue["volume"], revenue["below_min_volume"]) == (40.0, False)
    csat = frame.loc["csat"]
    assert csat["all_value"] == pytest.approx((24 + 27) / 60 * 100)
    assert (csat["rank"], csat["ranked_of"]) == (2.0, 2)  # B's 90 % beats A's 80 %
    # an indicator without values in the month: nothing ranked, All missing
    assert math.isnan(frame.loc["nps", "all_value"]) and frame.loc["nps", "ranked_of"] == 0


def test_a_department_too_small_to_rank_says_its_volume():
    revenue = sc.compare_frame(month_values(), "D", rows=ROWS, min_volume=30).set_index(
        "indicator").loc["revenue"]
    assert math.isnan(revenue["rank"])
    assert (revenue["ranked_of"], revenue["volume"], revenue["below_min_volume"]) == (3, 5.0, True)


def test_a_department_that_has_not_loaded_a_dataset_is_not_ranked_on_it():
    frame = sc.compare_frame(month_values(), "A", rows=ROWS, min_volume=30,
                             not_loaded={"B": frozenset({"surveys"})}).set_index("indicator")
    assert (frame.loc["csat", "rank"], frame.loc["csat", "ranked_of"]) == (1.0, 1)
    assert (frame.loc["revenue", "rank"], frame.loc["revenue", "ranked_of"]) == (2.0, 3)


def test_when_all_has_not_loaded_a_dataset_its_value_is_not_shown():
    frame = sc.compare_frame(month_values(), "A", rows=ROWS, min_volume=30,
                             not_loaded={"All": frozenset({"surveys"})}).set_index("indicator")
    assert math.isnan(frame.loc["csat", "all_value"]) and bool(frame.loc["csat", "all_not_loaded"])
    assert frame.loc["revenue", "all_value"] == 1550.0
    assert not bool(frame.loc["revenue", "all_not_loaded"])


def test_without_a_value_a_department_is_not_ranked_whatever_its_volume():
    csat = sc.compare_frame(month_values(), "C", rows=ROWS, min_volume=30).set_index(
        "indicator").loc["csat"]
    assert math.isnan(csat["rank"]) and csat["volume"] == 0.0
    assert not bool(csat["below_min_volume"])  # so the card says "not ranked", not "(n = 0)"


def test_the_compare_line():
    assert sc.compare_text(74.94, "csat", 6.0, 6) == "All 74.9 % · 6th of 6"
    assert sc.compare_text(1550.0, "purchases", 1.0, 3) == "All 1,550 · 1st of 3"
    assert sc.compare_text(74.94, "csat", NAN, 5) == "All 74.9 % · not ranked"
    assert sc.compare_text(74.94, "csat", NAN, 5, volume=4.0, below_min_volume=True) == (
        "All 74.9 % · not ranked (n = 4)")
    assert sc.compare_text(NAN, "csat", NAN, 0) == "All — · not ranked"
    assert sc.compare_text(NAN, "csat", NAN, 0, all_not_loaded=True) == "All not loaded · not ranked"


# --- trend --------------------------------------------------------------------------------


def test_the_least_squares_slope_and_its_standard_error():
    # x = 0, 1, 2; mean 1 and 2; Σ(x−x̄)(y−ȳ) = 1, Σ(x−x̄)² = 2; residuals −0.5, 1, −0.5
    slope, se = sc.trend_fit([1.0, 3.0, 2.0])
    assert slope == pytest.approx(1 / 2)
    assert se == pytest.approx(math.sqrt((0.25 + 1 + 0.25) / (3 - 2) / 2))
    # x = 0..4, ȳ = 9.78; Σ(x−x̄)(y−ȳ) = −1.1, Σ(x−x̄)² = 10; Σ residual² = 0.027
    slope, se = sc.trend_fit([10.0, 9.9, 9.7, 9.8, 9.5])
    assert slope == pytest.approx(-1.1 / 10)
    assert se == pytest.approx(math.sqrt(0.027 / (5 - 2) / 10))


def test_a_missing_month_is_left_out_but_keeps_its_place():
    # points (0, 1), (2, 3), (3, 4) lie on y = x + 1
    slope, se = sc.trend_fit([1.0, None, 3.0, 4.0])
    assert slope == pytest.approx(1.0) and se == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(("values", "expected"), [
    ([1.0, 2.0, 3.0, 4.0], "up"),
    ([10.0, 9.9, 9.7, 9.8, 9.5], "down"),  # slope −0.11 against 2 × 0.03
    ([1.0, 3.0, 2.0], "flat"),  # slope 0.5 against 2 × 0.87
    ([0.0, 1.0, 0.0, 3.0], "flat"),  # slope 0.8 against 2 × √0.28 ≈ 1.06
    ([5.0, 5.0, 5.0], "flat"),
    ([1.0, None, 2.0], None),  # two points: no trend
    ([], None),
])
def test_the_trend(values, expected):
    assert sc.trend(values) == expected


@pytest.mark.parametrize(("values", "direction", "status", "colour"), [
    ([1.0, 2.0, 3.0], "higher", None, "green"),
    ([1.0, 2.0, 3.0], "lower", None, "red"),  # a year-long rise of a lower-is-better figure
    ([3.0, 2.0, 1.0], "lower", None, "green"),
    ([1.0, 3.0, 2.0], "higher", None, "gray"),
    ([1.0, 2.0], "higher", None, "gray"),
    ([1.0, 2.0, 3.0], "higher", "off track", STATUS_COLOURS["off track"]),
    ([1.0, 2.0, 3.0], "higher", "on track", STATUS_COLOURS["on track"]),
    ([1.0, 2.0, 3.0], "lower", "missed", STATUS_COLOURS["missed"]),
    ([1.0, 2.0, 3.0], "higher", "no data", "green"),  # no status to show: the trend's colour
])
def test_the_sparkline_colour(values, direction, status, colour):
    assert sc.trend_colour(values, direction, status) == colour


# --- the rows: not loaded ----------------------------------------------------------------


def north(values: dict[str, list[float]]) -> pd.DataFrame:
    months = ["2025-01", "2025-02", "2025-03"]
    return pd.DataFrame([
        {"month": m, "department": "North", "indicator": ind, "value": v}
        for ind, vs in values.items() for m, v in zip(months, vs, strict=True)
    ])


TABLE = north({"purchases": [2.0, 3.0, 4.0], "complaints": [1.0, 1.0, 0.0],
               "complaint_rate": [50.0, 100 / 3, 0.0]})


def test_an_indicator_whose_dataset_is_not_loaded_shows_not_loaded_no_change_no_colour():
    card = sc.scorecard(TABLE, "North", "2025-03",
                        not_loaded={"2025-03": frozenset({"complaints"})}).set_index("indicator")
    for indicator in ("complaints", "complaint_rate"):  # complaint_rate reads complaints too
        row = card.loc[indicator]
        assert row["value_text"] == "— not loaded" and bool(row["not_loaded"])
        assert math.isnan(row["value"]) and pd.isna(row["delta_text"])
        assert row["trend_colour"] == "gray"
    assert card.loc["complaints", "trend"] == [1.0, 1.0, None]
    purchases = card.loc["purchases"]
    assert (purchases["value"], purchases["delta_text"], bool(purchases["not_loaded"])) == (
        4.0, f"+{4 - 3}", False)
    assert purchases["trend_colour"] == "green"  # 2, 3, 4: up, and higher is better


def test_a_previous_month_not_loaded_gives_no_change():
    card = sc.scorecard(TABLE, "North", "2025-03",
                        not_loaded={"2025-02": frozenset({"complaints"})}).set_index("indicator")
    row = card.loc["complaints"]
    assert (row["value"], row["value_text"]) == (0.0, "0") and pd.isna(row["delta_text"])
    assert row["trend"] == [1.0, None, 0.0]


def test_the_iceberg_without_a_complaints_file_says_so():
    text = sc.iceberg_sentence(0.0, 0.0, not_loaded=True)
    assert "Complaints not loaded" in text and "0 complaints" not in text
    assert sc.iceberg_sentence(38.0, 380.0) == "38 complaints → about 380 dissatisfied customers"


def test_the_rows_carry_the_compare_line():
    compare = sc.compare_frame(month_values().assign(department=lambda f: f["department"].replace(
        {"A": "North"})), "North", rows={"purchases": {"North": 40, "B": 40, "C": 40}},
        min_volume=30)
    table = pd.DataFrame({"month": ["2025-03"], "department": ["North"], "indicator": ["revenue"],
                          "value": [400.0]})
    card = sc.scorecard(table, "North", "2025-03", compare=compare).set_index("indicator")
    # revenue: B 500 first, North and C 400 share 2nd; D has no purchases rows here, so 0 < 30
    assert card.loc["revenue", "compare_text"] == "All 1,550 · 2nd of 3"
    assert (card.loc["revenue", "rank"], card.loc["revenue", "ranked_of"]) == (2.0, 3.0)
    without = sc.scorecard(table, "North", "2025-03").set_index("indicator")
    assert pd.isna(without.loc["revenue", "compare_text"])


# --- the status strip --------------------------------------------------------------------


def targets_and_route() -> tuple[pd.DataFrame, pd.DataFrame]:
    summary = pd.DataFrame([
        ("csat", "North", "2025-01", "2025-03", 70.0),
        ("complaint_rate", "North", "2024-12", "2025-02", 20.0),
        ("revenue", "North", "2024-12", "2025-01", 100.0),
        ("active_customers", "North", "2025-03", "2025-06", 9.0),
        ("purchases", "North", "2024-12", "2025-04", 6.0),
        ("average_ticket", "North", "2024-12", "2025-03", 15.0),
        ("new_customers", "North", "2024-12", "2025-04", 3.0),
        ("nps", "North", "2024-12", "2025-04", 10.0),
    ], columns=["indicator", "department", "baseline_month", "target_month", "target"])
    route = pd.DataFrame([
        ("csat", "North", "2025-02", NAN, 65.0, "no data"),
        ("complaint_rate", "North", "2025-02", 100 / 3, 20.0, "off track"),
        ("revenue", "North", "2025-02", 50.0, 100.0, "missed"),
        ("purchases", "North", "2025-02", 3.0, 3.5, "at risk"),
        ("average_ticket", "North", "2025-02", 50 / 3, 13.3, "achieved"),
        ("new_customers", "North", "2025-02", 2.0, 1.5, "on track"),
        ("purchases", "North", "2025-01", 2.0, 2.25, "off track"),
    ], columns=["indicator", "department", "month", "actual", "planned", "status"])
    return route, summary


def test_the_strip_counts_each_status_in_the_month():
    route, summary = targets_and_route()
    strip = sc.status_strip(route, summary, "2025-02")
    assert strip.counts == {"achieved": 1, "on track": 1, "at risk": 1, "off track": 1,
                            "missed": 1}
    assert list(strip.counts) == list(sc.STRIP_STATUSES)
    # csat has no value in 2025-02; nps has no route row although its baseline is earlier
    assert strip.no_data == 2
    assert strip.not_started == 1  # active_customers starts in 2025-03
    assert strip.targets == 8


def test_the_strip_names_the_missed_then_the_off_track_targets():
    route, summary = targets_and_route()
    strip = sc.status_strip(route, summary, "2025-02")
    assert [a["indicator"] for a in strip.attention] == ["revenue", "complaint_rate"]
    assert strip.attention[0]["text"] == "Revenue — missed: 50.00, target 100.00 by 2025-01"
    assert strip.attention[1]["text"] == (
        f"Complaints per 100 purchases — off track: {100 / 3:.1f}, planned {20:.1f}")
    assert {a["department"] for a in strip.attention} == {"North"}


def test_the_strip_of_another_month_reads_that_months_rows():
    route, summary = targets_and_route()
    strip = sc.status_strip(route, summary, "2025-01")
    assert strip.counts["off track"] == 1 and sum(strip.counts.values()) == 1
    assert strip.not_started == 1  # active_customers; csat's baseline month is 2025-01: no row
    assert strip.no_data == 8 - 1 - 1


def test_no_targets_is_an_empty_strip():
    route, summary = targets_and_route()
    strip = sc.status_strip(route.iloc[0:0], summary.iloc[0:0], "2025-02")
    assert strip.targets == 0 and strip.attention == []


# --- sparkline, table, export --------------------------------------------------------------


def card_row(**changes) -> dict:
    row = {"label": "Customer satisfaction (CSAT)", "unit": "%", "trend": [60.0, None, 66.5],
           "trend_months": ["2025-01", "2025-02", "2025-03"], "trend_colour": "red",
           "target": 70.0}
    return {**row, **changes}


def test_the_sparkline_is_coloured_gapped_and_marks_the_target():
    row = card_row(trend=[60.0, 62.0, None, 66.5],
                   trend_months=["2025-01", "2025-02", "2025-03", "2025-04"])
    spark = sc.sparkline(row)
    # x: 4 months evenly from 4 to 120 - 4 = 116, a step of (120 - 2 * 4) / 3
    step = (120 - 2 * 4) / 3
    # y: the values and the target span 60 … 70; 70 at the top (4), 60 at the bottom (44 - 4)
    def y(v):
        return 4 + (70 - v) / (70 - 60) * (44 - 2 * 4)
    assert spark.runs == [[(4.0, y(60.0)), (4 + step, y(62.0))], [(4 + 3 * step, y(66.5))]]
    assert y(60.0) == 40.0 and y(66.5) == pytest.approx(4 + 3.5 / 10 * 36)
    assert spark.target_y == 4.0  # the target, 70, is the highest: the top
    assert spark.colour == sc.SPARK_COLOURS["red"]
    assert spark.title.split("\n") == [
        "Customer satisfaction (CSAT), month by month:",
        "2025-01: 60.0 %", "2025-02: 62.0 %", "2025-03: —", "2025-04: 66.5 %",
        "Target 70.0 % (dashed)",
    ]
    svg = sc.sparkline_svg(spark)
    # the line breaks at the gap: one stroke over January–February; 66.5 stands alone as a dot
    assert f'd="M4.00,40.00 L{4 + step:.2f},{y(62.0):.2f}"' in svg
    assert f"M{4 + 3 * step:.2f},{y(66.5):.2f} h0.01" in svg
    assert 'd="M0,4.00 H120"' in svg and 'stroke-dasharray="4 3"' in svg
    assert svg.count(sc.SPARK_COLOURS["red"]) == 2  # the line and its dots


def test_the_sparkline_is_a_picture_with_its_months_on_hover():
    img = sc.sparkline_html(card_row())
    prefix = '<img src="data:image/svg+xml;base64,'
    assert img.startswith(prefix)
    encoded = img[len(prefix):img.index('"', len(prefix))]
    assert base64.b64decode(encoded).decode() == sc.sparkline_svg(sc.sparkline(card_row()))
    assert ('title="Customer satisfaction (CSAT), month by month:&#10;2025-01: 60.0 %&#10;'
            '2025-02: —&#10;2025-03: 66.5 %&#10;Target 70.0 % (dashed)"') in img
    assert f"height:{sc.SPARK_HEIGHT}px" in img


def test_a_sparkline_label_is_escaped_in_its_hover_text():
    img = sc.sparkline_html(card_row(label='A "quoted" <b>label</b> & more'))
    assert "<b>" not in img and "&lt;b&gt;" in img and "&quot;quoted&quot;" in img


def test_no_target_no_line_and_under_two_values_no_sparkline():
    spark = sc.sparkline(card_row(target=NAN, trend_colour="gray"))
    assert spark.target_y is None and spark.colour == sc.SPARK_COLOURS["gray"]
    # without the target the values alone span the height: 66.5 on top, 60 at the bottom
    assert spark.runs == [[(4.0, 40.0)], [(116.0, 4.0)]]
    assert "stroke-dasharray" not in sc.sparkline_svg(spark)
    assert sc.sparkline(card_row(trend=[None, None, 66.5])) is None
    assert sc.sparkline_html(card_row(trend=[None, None, 66.5])) is None


def test_a_flat_sparkline_runs_through_the_middle():
    spark = sc.sparkline(card_row(trend=[5.0, 5.0, 5.0], target=NAN))
    assert spark.runs == [[(4.0, 22.0), (60.0, 22.0), (116.0, 22.0)]]  # 44 / 2; x 4, 4 + 56, …


def test_the_table_reads_for_people_and_the_export_keeps_full_precision():
    targets = pd.DataFrame({"indicator": ["complaint_rate"], "department": ["North"],
                            "target": [20.0], "target_month": ["2025-06"]})
    card = sc.scorecard(TABLE, "North", "2025-03", targets=targets)
    shown = sc.display_frame(card).set_index("Indicator")
    assert list(shown.columns) == ["Value", "Change vs previous month", "Target", "Target month",
                                   "Status"]
    assert shown.loc["Complaints per 100 purchases", "Target"] == "20.0"
    assert shown.loc["Complaints per 100 purchases", "Value"] == "0.0"
    exported = sc.export_frame(card).set_index("indicator")
    assert exported.loc["complaint_rate", "previous_month_value"] == 100 / 3  # not rounded
    assert {"trend", "trend_months", "value_text", "compare_text"}.isdisjoint(exported.columns)
    assert {"all_value", "rank", "ranked_of", "not_loaded", "target"} <= set(exported.columns)


def test_the_table_has_the_compare_column_when_the_card_compares():
    compare = sc.compare_frame(month_values(), "A", rows=ROWS, min_volume=30)
    table = month_values()[lambda f: f["department"] == "A"]
    shown = sc.display_frame(sc.scorecard(table, "A", "2025-03", compare=compare))
    assert "All and rank" in shown.columns
    assert shown.set_index("Indicator").loc["Revenue", "All and rank"] == "All 1,550 · 2nd of 3"


def test_docstring_examples_hold():
    result = doctest.testmod(sc)
    assert result.attempted > 0 and result.failed == 0


def test_the_compare_can_be_added_to_cards_drawn_before_it():
    compare = sc.compare_frame(month_values(), "A", rows=ROWS, min_volume=30)
    table = month_values()[lambda f: f["department"] == "A"]
    before = sc.scorecard(table, "A", "2025-03")
    after = sc.add_compare(before, compare)
    assert before["compare_text"].isna().all()  # the input is left as it was
    pd.testing.assert_frame_equal(after, sc.scorecard(table, "A", "2025-03", compare=compare))


def test_first_contact_resolution_of_the_latest_month_reads_not_judged_yet():
    """Seven days after the latest month have not passed: its card says so, not a bare dash;
    an earlier month without a value stays a plain missing value."""
    t = pd.DataFrame({"month": ["2025-01", "2025-02"], "department": ["All", "All"],
                      "indicator": ["first_contact_resolution"] * 2,
                      "value": [float("nan"), float("nan")]})
    latest = sc.scorecard(t, "All", "2025-02", latest="2025-02").set_index("indicator")
    earlier = sc.scorecard(t, "All", "2025-01", latest="2025-02").set_index("indicator")
    assert latest.loc["first_contact_resolution", "value_text"] == "— not judged yet"
    assert earlier.loc["first_contact_resolution", "value_text"] == "—"
