"""What moved it (issue 19, part 2): the change split by segment, mix and rate effects.

Expected values are the arithmetic of the rule, written out.
"""

from __future__ import annotations

import doctest
import io
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indicators import explain, store, stored_indicators
from indicators.explain import ExplainError, numerator_parts, ratio_parts, sum_parts
from indicators.explain_cli import run_cli


def test_doctests():
    assert doctest.testmod(explain).failed == 0


def test_two_segments_by_hand():
    # North 45 of 50 satisfied, then 72 of 80; South 40 of 50, then 8 of 20
    parts = {p.segment: p for p in ratio_parts({"North": (45, 50), "South": (40, 50)},
                                               {"North": (72, 80), "South": (8, 20)}, scale=100)}
    north, south = parts["North"], parts["South"]
    # weights 0.5 → 0.8 and 0.5 → 0.2; rates 90 → 90 and 80 → 40
    assert north.mix_effect == pytest.approx((0.8 - 0.5) * (90 + 90) / 2)
    assert north.rate_effect == pytest.approx(0)
    assert south.mix_effect == pytest.approx((0.2 - 0.5) * (80 + 40) / 2)
    assert south.rate_effect == pytest.approx((40 - 80) * (0.5 + 0.2) / 2)
    # CSAT 85 % → 80 %: −5 points, all of it accounted for
    total = (72 + 8) / 100 * 100 - (45 + 40) / 100 * 100
    assert north.contribution + south.contribution == pytest.approx(total) == pytest.approx(-5)


def test_a_segment_in_one_month_only_is_all_mix():
    parts = {p.segment: p for p in ratio_parts({"A": (5, 10)}, {"A": (5, 10), "B": (10, 10)},
                                               scale=100)}
    # B is new: weight 0 → 0.5 at its own rate 100 → mix 0.5 × 100, no rate effect
    assert (parts["B"].mix_effect, parts["B"].rate_effect) == (pytest.approx(50.0), 0.0)
    assert math.isnan(parts["B"].before)


def test_sums_and_numerators():
    assert [(p.segment, p.contribution) for p in sum_parts({"A": 3}, {"A": 5, "B": 1})] == [
        ("A", 2.0), ("B", 1.0)]
    # complaints per 100 purchases by component: 4 of 200 → 3 of 100 purchases
    parts = numerator_parts({"people": 4}, {"people": 3}, (200, 100), scale=100)
    assert parts[0].contribution == pytest.approx(3 / 100 * 100 - 4 / 200 * 100)


def test_nothing_to_divide_by():
    with pytest.raises(ExplainError, match="no value"):
        ratio_parts({"A": (0, 0)}, {"A": (1, 2)}, scale=100)


pair = st.tuples(st.integers(0, 1000), st.integers(0, 1000)).map(
    lambda t: (min(t), max(t)))
segments = st.dictionaries(st.sampled_from("ABCDEFG"), pair, min_size=1, max_size=7)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(before=segments, after=segments, scale=st.sampled_from([1.0, 100.0]))
def test_contributions_add_up_to_the_change_and_mix_plus_rate_to_each(before, after, scale):
    d0, d1 = sum(d for _, d in before.values()), sum(d for _, d in after.values())
    if d0 == 0 or d1 == 0:
        return
    parts = ratio_parts(before, after, scale=scale)
    change = scale * sum(n for n, _ in after.values()) / d1 - scale * sum(
        n for n, _ in before.values()) / d0
    assert sum(p.contribution for p in parts) == pytest.approx(change, abs=1e-9)
    for p in parts:
        assert p.mix_effect + p.rate_effect == pytest.approx(p.contribution, abs=1e-12)


# --- on a database ---------------------------------------------------------------------------


def make_db(tmp_path):
    """Purchases and complaints in 2025-01 and 2025-02: North 4 → 2 purchases with 1 → 1
    complaint (people, then product), South 1 → 2 purchases with 0 → 1 complaint (people)."""
    path = tmp_path / "explain.duckdb"
    con = store.connect(path)
    try:
        purchases = [("p1", "2025-01-05", "North"), ("p2", "2025-01-06", "North"),
                     ("p3", "2025-01-07", "North"), ("p4", "2025-01-08", "North"),
                     ("p5", "2025-01-09", "South"), ("p6", "2025-02-03", "North"),
                     ("p7", "2025-02-04", "North"), ("p8", "2025-02-05", "South"),
                     ("p9", "2025-02-06", "South")]
        con.executemany(
            """INSERT INTO purchases (purchase_id, purchased_at, customer_id, department, amount,
                                      month)
               VALUES (?, CAST(? AS TIMESTAMP), 'c', ?, 10, date_trunc('month', CAST(? AS DATE)))""",
            [(i, t, d, t) for i, t, d in purchases])
        complaints = [("k1", "2025-01-10", "North", "people"),
                      ("k2", "2025-02-10", "North", "product"),
                      ("k3", "2025-02-11", "South", "people")]
        con.executemany(
            """INSERT INTO complaints (complaint_id, opened_at, department, customer_id, component,
                                       month)
               VALUES (?, CAST(? AS TIMESTAMP), ?, 'c', ?, date_trunc('month', CAST(? AS DATE)))""",
            [(i, t, d, c, t) for i, t, d, c in complaints])
        stored_indicators.rebuild(con)
    finally:
        con.close()
    return path


def run(path, *args, **options):
    out, err = io.StringIO(), io.StringIO()
    code = run_cli(path, out=out, err=err, **{"department": None, "by": "department",
                                              "against": "previous", "fmt": "json", **options})
    return code, out.getvalue(), err.getvalue()


def test_complaint_rate_by_department_on_a_database(tmp_path):
    code, out, _ = run(make_db(tmp_path), indicator="complaint_rate", month="2025-02")
    assert code == 0
    doc = json.loads(out)
    # All: 1 of 5 purchases (20) → 2 of 4 (50)
    assert (doc["value_before"], doc["value_after"]) == (pytest.approx(20.0), pytest.approx(50.0))
    assert doc["total_change"] == pytest.approx(50.0 - 20.0)
    north, south = doc["segments"]
    # North: weight 4/5 → 2/4, rate 25 → 50; South: weight 1/5 → 2/4, rate 0 → 50
    assert north["mix_effect"] == pytest.approx((2 / 4 - 4 / 5) * (25 + 50) / 2)
    assert north["rate_effect"] == pytest.approx((50 - 25) * (4 / 5 + 2 / 4) / 2)
    assert south["mix_effect"] == pytest.approx((2 / 4 - 1 / 5) * (0 + 50) / 2)
    assert south["rate_effect"] == pytest.approx((50 - 0) * (1 / 5 + 2 / 4) / 2)
    assert north["contribution"] + south["contribution"] == pytest.approx(30.0)


def test_complaints_by_component_csv_ends_with_the_total(tmp_path):
    code, out, _ = run(make_db(tmp_path), indicator="complaints", month="2025-02",
                       by="component", fmt="csv")
    assert code == 0
    rows = {line.split(",")[0]: line.split(",")[1:4] for line in out.splitlines()[1:]}
    assert rows["people"] == ["1", "1", "0"]  # 1 in January (North), 1 in February (South)
    assert rows["product"] == ["0", "1", "1"]
    assert rows["total"] == ["1", "2", "1"]


def test_csv_keeps_negative_numbers_and_neutralises_a_hostile_department(tmp_path):
    path = make_db(tmp_path)
    con = store.connect(path)
    try:
        con.execute("UPDATE purchases SET department = '=cmd' WHERE department = 'North'")
        con.execute("UPDATE complaints SET department = '=cmd' WHERE department = 'North'")
        stored_indicators.rebuild(con)
    finally:
        con.close()
    code, out, _ = run(path, indicator="purchases", month="2025-02", fmt="csv")
    assert code == 0
    # '=cmd' (North) 4 → 2 purchases: −2, written as a number; its name neutralised
    assert "'=cmd,4,2,-2,," in out.splitlines()


@pytest.mark.parametrize(("options", "says"), [
    ({"indicator": "response_time_median"}, "a median is not a sum"),
    ({"indicator": "active_customers"}, "one customer of All"),
    ({"indicator": "csat", "by": "component"}, "carry a component"),
    ({"indicator": "complaints", "department": "North"}, "leave out --department"),
    ({"indicator": "retention_rate", "by": "channel"}, "not computed per channel"),
    ({"indicator": "active_customers", "by": "channel"}, "two channels"),
    ({"indicator": "csat"}, "no value"),
    ({"indicator": "nope"}, "unknown indicator"),
])
def test_what_cannot_be_split_says_why_with_exit_2(tmp_path, options, says):
    code, out, err = run(make_db(tmp_path), month="2025-02", **options)
    assert (code, out) == (2, "") and says in err


def test_the_command_line_and_the_stored_values_agree(tmp_path, capsys):
    from indicators.__main__ import main
    from indicators.scope import Scope

    path = make_db(tmp_path)
    assert main(["explain", "--db", str(path), "--indicator", "complaint_rate", "--month",
                 "2025-02", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    con = store.connect(path)
    try:
        table = stored_indicators.read(con, Scope(), indicators=["complaint_rate"])
    finally:
        con.close()
    stored = table[table["department"] == "All"].set_index("month")["value"]
    assert (doc["value_before"], doc["value_after"]) == (stored["2025-01"], stored["2025-02"])
    with pytest.raises(SystemExit) as usage:  # argparse's choices
        main(["explain", "--db", str(path), "--indicator", "complaints", "--month", "2025-02",
              "--by", "planet"])
    assert usage.value.code == 2


# --- against the target's planned value ----------------------------------------------------


def add_target(path, indicator, baseline, target, *, department="*"):
    con = store.connect(path)
    try:
        con.execute(
            """INSERT INTO targets (indicator, department, baseline_month, target_month, target,
                                    baseline, tolerance)
               VALUES (?, ?, DATE '2025-01-01', DATE '2025-03-01', ?, ?, 0)""",
            [indicator, department, target, baseline])
    finally:
        con.close()


def test_a_ratio_against_its_target_is_each_weight_times_its_distance_from_the_plan(tmp_path):
    path = make_db(tmp_path)
    add_target(path, "complaint_rate", 20.0, 10.0)  # straight 20 → 10 over two months
    code, out, _ = run(path, indicator="complaint_rate", month="2025-02", against="target")
    assert code == 0
    doc = json.loads(out)
    planned = 20.0 + (10.0 - 20.0) * 1 / 2
    assert doc["compared_with"] == "target"
    assert (doc["value_before"], doc["value_after"]) == (pytest.approx(planned), pytest.approx(50))
    north, south = doc["segments"]
    # February: North 1 of 2 purchases (weight 2/4, rate 50), South 1 of 2 (2/4, 50)
    assert north["contribution"] == pytest.approx(2 / 4 * (50 - planned))
    assert south["contribution"] == pytest.approx(2 / 4 * (50 - planned))
    assert (north["mix_effect"], north["rate_effect"]) == (0.0, pytest.approx(17.5))
    assert doc["total_change"] == pytest.approx(50 - planned)


def test_a_sum_against_its_target_shares_the_plan_as_the_baseline_month(tmp_path):
    path = make_db(tmp_path)
    add_target(path, "complaints", 1.0, 3.0)  # planned in February: 1 + (3 − 1) / 2 = 2
    code, out, _ = run(path, indicator="complaints", month="2025-02", by="component",
                       against="target", fmt="csv")
    assert code == 0
    rows = {line.split(",")[0]: line.split(",")[1:4] for line in out.splitlines()[1:]}
    # January: the one complaint was about people → the whole plan of 2 is people's
    assert rows["people"] == ["2", "1", "-1"]
    assert rows["product"] == ["0", "1", "1"]
    assert rows["total"] == ["2", "2", "0"]


def test_against_a_target_that_is_not_there_or_a_month_off_its_route(tmp_path):
    path = make_db(tmp_path)
    code, _, err = run(path, indicator="complaint_rate", month="2025-02", against="target")
    assert code == 2 and "no target for complaint_rate in All" in err
    add_target(path, "complaint_rate", 20.0, 10.0)
    code, _, err = run(path, indicator="complaint_rate", month="2024-12", against="target")
    assert code == 2 and "not on the route" in err


def test_a_team_lead_sees_the_other_departments_as_one_segment(tmp_path):
    con = store.connect(make_db(tmp_path))
    try:
        result = explain.explain(con, indicator="purchases", month="2025-02",
                                 allowed=frozenset({"North"}))
    finally:
        con.close()
    parts = {p.segment: p for p in result.parts}
    assert set(parts) == {"North", explain.OTHERS}
    assert parts["North"].contribution == 2 - 4
    assert parts[explain.OTHERS].contribution == 2 - 1  # South, unnamed
    assert math.isnan(parts[explain.OTHERS].before)
    assert result.total_change == (2 + 2) - (4 + 1)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(after=segments, planned=st.floats(0, 100), scale=st.sampled_from([1.0, 100.0]))
def test_the_gaps_to_a_plan_add_up(after, planned, scale):
    d = sum(d for _, d in after.values())
    if d == 0:
        return
    rate = scale * sum(n for n, _ in after.values()) / d
    parts = explain.gap_ratio_parts(after, planned, scale=scale)
    assert sum(p.contribution for p in parts) == pytest.approx(rate - planned, abs=1e-9)
    baseline = {s: n for s, (n, _) in after.items()}
    if sum(baseline.values()):
        gaps = explain.gap_sum_parts(baseline, {s: d for s, (_, d) in after.items()}, planned)
        assert sum(p.contribution for p in gaps) == pytest.approx(d - planned, abs=1e-6)


def test_the_backlog_and_customer_effort_split_by_department(tmp_path):
    """Issue 20's sums and ratios split like the others.  January's end: North has k1 open (k2
    resolved in January), South nothing; February's end: North k1, South k3 and k4."""
    from tests.indicators.engine_rows import complaint, survey
    from tests.indicators.engine_rows import make_db as make_rows

    db = make_rows(tmp_path / "backlog.duckdb", {
        "complaints": [
            complaint("k1", "2025-01-05 10:00", "North"),
            complaint("k2", "2025-01-06 10:00", "North", resolved="2025-01-07 10:00"),
            complaint("k3", "2025-02-05 10:00", "South"),
            complaint("k4", "2025-02-06 10:00", "South", resolved="2025-03-01 00:00"),
        ],
        "surveys": [survey("e1", "2025-01-10 10:00", "North", "ces", 6),
                    survey("e2", "2025-02-10 10:00", "North", "ces", 2),
                    survey("e3", "2025-02-10 11:00", "South", "ces", 7)],
    })
    code, out, _ = run(db, indicator="complaint_backlog", month="2025-02")
    assert code == 0
    doc = json.loads(out)
    assert (doc["value_before"], doc["value_after"]) == (1, 1 + 2)
    parts = {p["segment"]: p["contribution"] for p in doc["segments"]}
    assert parts == {"North": 1 - 1, "South": 2 - 0}
    code, out, _ = run(db, indicator="ces", month="2025-02")
    doc = json.loads(out)
    # All: 1 easy of 1 → 1 of 2; North 1 of 1 → 0 of 1, South none → 1 of 1
    assert (doc["value_before"], doc["value_after"]) == (100 * 1 / 1, 100 * 1 / 2)
    assert sum(p["contribution"] for p in doc["segments"]) == pytest.approx(50 - 100)
