"""Named scenarios for every indicator, expected values written as the arithmetic by hand.

Rows go straight into the stored tables (``engine_rows``), so these tests do not depend on
ingestion.  Scenario ``shop``: departments A, B (and C, seen only in retention), 2025-01 to
2025-03, February without purchases or surveys; settings iceberg factor 7 and a 30-minute
promise in A (60 elsewhere).  ``history``: one department over 2024-01 … 2025-02 for growth and
the returning window.  ``repeats``: the 90-day repeat-complaint window.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from indicators import store
from indicators.catalog import INDICATOR_IDS
from indicators.compute import (
    complaint_mix,
    indicator_table,
    promised_minutes,
    response_time_histogram,
)
from indicators.facts import DepartmentNameError, facts_table, shift_month
from tests.indicators.engine_rows import complaint, make_db, purchase, request, retention, survey

NAN = math.nan

SCENARIOS: dict[str, tuple[dict[str, list[dict[str, object]]], list[tuple[str, object, str]]]] = {
    "shop": (
        {
            "purchases": [
                purchase("p1", "2025-01-05 10:00", "c1", "A", 100, list_amount=120),
                purchase("p2", "2025-01-06 10:00", "c2", "A", 50),
                purchase("p3", "2025-01-07 10:00", "c1", "A", 30, list_amount=30),
                purchase("p4", "2025-01-08 10:00", "c1", "B", 200, list_amount=250),
                purchase("p5", "2025-03-02 10:00", "c3", "A", 80),
                purchase("p6", "2025-03-03 10:00", "c2", "B", 40, list_amount=50),
            ],
            "complaints": [
                complaint("k1", "2025-01-10 09:00", "A", customer="c1", component="product",
                          resolved="2025-01-10 11:00", compensation=10),
                complaint("k2", "2025-01-11 09:00", "A"),
                complaint("k3", "2025-02-10 09:00", "A", customer="c1", component="product",
                          resolved="2025-02-10 14:00", compensation=5),
                complaint("k4", "2025-02-11 09:00", "A", customer="c1", component="people"),
                complaint("k5", "2025-03-04 09:00", "B", customer="c9", component="systems",
                          resolved="2025-03-04 10:00"),
            ],
            "responses": [
                request("r1", "A", "2025-01-05 09:00", "2025-01-05 09:30"),  # exactly the promise
                request("r2", "A", "2025-01-05 10:00", "2025-01-05 10:40"),
                request("r3", "A", "2025-01-05 11:00", None),
                request("r4", "A", "2025-01-05 12:00", "2025-01-05 12:20", promised=15),
                request("r5", "B", "2025-01-06 09:00", "2025-01-06 09:50"),
                request("r6", "B", "2025-01-06 10:00", "2025-01-06 11:30"),
            ],
            "surveys": [
                *(survey(f"s{i}", "2025-01-20 12:00", "A", "csat", s)
                  for i, s in enumerate((5, 4, 3, 1))),
                *(survey(f"n{i}", "2025-01-21 12:00", "A", "nps", s)
                  for i, s in enumerate((10, 9, 8, 3))),
                survey("b1", "2025-01-22 12:00", "B", "csat", 5),
            ],
            "retention": [
                retention("2025-01", "A", 100, 95, 10),
                retention("2025-01", "B", 50, 60, 20),
                retention("2025-03", "C", 10, 10, 0),
            ],
        },
        [("iceberg_counted_at", "custom", "*"), ("iceberg_factor", 7, "*"),
         ("promised_minutes", 30, "A")],
    ),
    # The service manager's indicators (UTC).  2025-01-03 is a Friday; 2025-02-05 (a
    # Wednesday) is a holiday; B promises 2 business days, A the default 3.  The latest contact
    # stored (the FCR horizon) is r3, 2025-03-15 00:00.
    "service": (
        {
            "purchases": [
                *(purchase(f"sp{i}", "2025-01-12 10:00", f"b{i}", "A", 10) for i in range(4)),
                purchase("sp4", "2025-01-12 10:00", "b9", "B", 10),
                *(purchase(f"sq{i}", "2025-03-12 10:00", f"b{i}", "A", 10) for i in range(2)),
            ],
            "complaints": [
                # Fri → Wed: Mon, Tue, Wed = 3 business days
                complaint("s1", "2025-01-03 10:00", "A", customer="c1",
                          resolved="2025-01-08 17:00"),
                # Fri → Thu 00:00: 4 business days
                complaint("s2", "2025-01-03 10:00", "A", customer="c2",
                          resolved="2025-01-09 00:00"),
                # Sat → Sun: 0 business days
                complaint("s3", "2025-01-04 12:00", "A", resolved="2025-01-05 08:00"),
                # 59 days: after 8 weeks; open at the ends of January and February
                complaint("s4", "2025-01-10 00:00", "A", customer="c4",
                          resolved="2025-03-10 00:00"),
                complaint("s5", "2025-01-20 00:00", "A", customer="c5"),  # never resolved
                # resolved at the very instant January ended: open at its end, 0 business days
                complaint("s6", "2025-01-31 12:00", "A", customer="c3",
                          resolved="2025-02-01 00:00"),
                # c2's complaint in another department, 4 days after r2 was answered
                complaint("s9", "2025-01-20 10:00", "B", customer="c2",
                          resolved="2025-01-21 10:00"),
                # Mon → Thu 23:59: Tue, (Wed a holiday), Thu = 2 business days, B's promise
                complaint("s7", "2025-02-03 09:00", "B", customer="c6",
                          resolved="2025-02-06 23:59"),
                # exactly 8 weeks (56 × 24 hours)
                complaint("s8", "2025-03-02 00:00", "A", resolved="2025-04-27 00:00"),
            ],
            "responses": [
                # exactly 7 days after s1 was resolved: s1 is no first-contact resolution
                request("r1", "A", "2025-01-15 17:00", "2025-01-15 18:00", customer="c1"),
                # 7 days and a minute after s2 was resolved: s2 is one
                request("r2", "A", "2025-01-16 00:01", "2025-01-16 01:00", customer="c2"),
                request("r3", "A", "2025-03-15 00:00", None),
            ],
            "surveys": [
                *(survey(f"e{i}", "2025-01-20 12:00", "A", "ces", s)
                  for i, s in enumerate((4, 5, 7, 1))),
                survey("e9", "2025-01-21 12:00", "B", "ces", 5),
            ],
        },
        [("complaint_promise_days", 2, "B"), ("holidays", "2025-02-05", "*")],
    ),
    "history": (
        {
            "purchases": [
                purchase("q1", "2024-01-15 10:00", "c1", "A", 60),
                purchase("q2", "2024-01-20 10:00", "c2", "A", 40),
                purchase("q3", "2024-12-05 10:00", "c3", "A", 50),
                purchase("q4", "2025-01-31 23:59", "c1", "A", 150),
                purchase("q5", "2025-02-01 00:00", "c2", "A", 40),
                purchase("q6", "2025-02-10 10:00", "c3", "A", 10),
            ],
        },
        [],
    ),
    "repeats": (
        {
            "complaints": [
                complaint("k1", "2025-01-01 10:00", "A", customer="c1", component="product"),
                complaint("k2", "2025-04-01 10:00", "B", customer="c1", component="product"),
                complaint("k3", "2025-01-01 10:00", "A", customer="c2", component="product"),
                complaint("k4", "2025-04-01 10:01", "A", customer="c2", component="product"),
                complaint("k5", "2025-03-01 10:00", "A", customer="c3"),
                complaint("k6", "2025-03-15 10:00", "A", customer="c3"),
                complaint("k7", "2025-03-20 10:00", "A", customer="c3", component="people"),
                complaint("k8", "2025-03-05 12:00", "A", customer="c4", component="product"),
                complaint("k9", "2025-03-05 12:00", "A", customer="c4", component="product"),
            ],
        },
        [],
    ),
}

# (scenario, month, department, indicator, expected)
EXPECTED: list[tuple[str, str, str, str, float]] = [
    # quantity
    ("shop", "2025-01", "A", "purchases", 3),
    ("shop", "2025-01", "B", "purchases", 1),
    ("shop", "2025-01", "All", "purchases", 3 + 1),
    ("shop", "2025-02", "All", "purchases", 0),  # a month with no purchases
    ("shop", "2025-01", "C", "purchases", 0),  # a department seen only in retention
    ("shop", "2025-01", "A", "revenue", 100 + 50 + 30),
    ("shop", "2025-01", "All", "revenue", 100 + 50 + 30 + 200),
    ("shop", "2025-02", "A", "revenue", 0),
    ("shop", "2025-01", "A", "active_customers", 2),
    ("shop", "2025-01", "B", "active_customers", 1),
    ("shop", "2025-01", "All", "active_customers", 2),  # c1 in A and B counts once
    ("shop", "2025-01", "All", "new_customers", 2),
    ("shop", "2025-03", "A", "new_customers", 1),  # c3
    ("shop", "2025-03", "B", "new_customers", 1),  # c2's first purchase in B
    ("shop", "2025-03", "All", "new_customers", 1),  # c2 bought in A before: only c3
    ("shop", "2025-01", "A", "revenue_growth_mom", NAN),  # previous month outside the data
    ("shop", "2025-02", "A", "revenue_growth_mom", (0 / (100 + 50 + 30) - 1) * 100),
    ("shop", "2025-03", "A", "revenue_growth_mom", NAN),  # February revenue is 0
    ("shop", "2025-03", "All", "revenue_growth_yoy", NAN),
    ("history", "2025-01", "A", "revenue_growth_mom", (150 / 50 - 1) * 100),
    ("history", "2024-02", "A", "revenue_growth_mom", (0 / (60 + 40) - 1) * 100),
    ("history", "2025-01", "A", "revenue_growth_yoy", (150 / (60 + 40) - 1) * 100),
    ("history", "2025-01", "All", "revenue_growth_yoy", (150 / (60 + 40) - 1) * 100),
    ("history", "2025-02", "A", "revenue_growth_yoy", NAN),  # 2024-02 revenue is 0
    ("history", "2024-12", "A", "revenue_growth_yoy", NAN),  # 2023-12 outside the data
    ("shop", "2025-03", "A", "returning_customers_rate", 0 / 1 * 100),
    ("shop", "2025-03", "B", "returning_customers_rate", 0 / 1 * 100),  # c2 new in B
    ("shop", "2025-03", "All", "returning_customers_rate", 1 / 2 * 100),  # c2 bought in A
    ("shop", "2025-02", "All", "returning_customers_rate", NAN),
    ("history", "2025-01", "A", "returning_customers_rate", 1 / 1 * 100),  # m−12 counts
    ("history", "2025-02", "A", "returning_customers_rate", 1 / 2 * 100),  # m−13 does not
    ("history", "2025-02", "All", "returning_customers_rate", 1 / 2 * 100),
    ("history", "2025-02", "A", "new_customers", 0),
    ("history", "2024-01", "A", "new_customers", 2),
    ("shop", "2025-01", "A", "retention_rate", (95 - 10) / 100 * 100),
    ("shop", "2025-01", "B", "retention_rate", (60 - 20) / 50 * 100),
    ("shop", "2025-01", "All", "retention_rate", (95 + 60 - 10 - 20) / (100 + 50) * 100),
    ("shop", "2025-02", "A", "retention_rate", NAN),
    ("shop", "2025-03", "C", "retention_rate", (10 - 0) / 10 * 100),
    ("shop", "2025-01", "A", "complaints", 2),
    ("shop", "2025-01", "B", "complaints", 0),  # a department with no complaints
    ("shop", "2025-02", "All", "complaints", 2),
    # quality
    ("shop", "2025-01", "A", "complaint_rate", 2 / 3 * 100),
    ("shop", "2025-01", "B", "complaint_rate", 0 / 1 * 100),
    ("shop", "2025-01", "All", "complaint_rate", 2 / 4 * 100),
    ("shop", "2025-02", "A", "complaint_rate", NAN),
    ("shop", "2025-01", "A", "estimated_dissatisfied", 2 * 7),
    ("shop", "2025-01", "B", "estimated_dissatisfied", 0),
    # complaints × 7 × 30 % (the default leave share) × revenue per customer
    ("shop", "2025-01", "A", "revenue_at_risk", 2 * 7 * 30 / 100 * ((100 + 50 + 30) / 2)),
    ("shop", "2025-01", "B", "revenue_at_risk", 0 * 7 * 30 / 100 * (200 / 1)),
    ("shop", "2025-01", "All", "revenue_at_risk", 2 * 7 * 30 / 100 * ((100 + 50 + 30 + 200) / 2)),
    ("shop", "2025-02", "A", "revenue_at_risk", NAN),  # complaints, but no purchase that month
    ("shop", "2025-01", "A", "repeat_complaint_rate", 0 / 1 * 100),  # k2 has no customer
    ("shop", "2025-02", "A", "repeat_complaint_rate", 1 / 2 * 100),  # k3 repeats k1
    ("shop", "2025-01", "B", "repeat_complaint_rate", NAN),
    ("repeats", "2025-04", "B", "repeat_complaint_rate", 1 / 1 * 100),  # exactly 90 days, other dept
    ("repeats", "2025-04", "A", "repeat_complaint_rate", 0 / 1 * 100),  # 90 days and a minute
    ("repeats", "2025-04", "All", "repeat_complaint_rate", 1 / 2 * 100),
    ("repeats", "2025-03", "A", "repeat_complaint_rate", 1 / 5 * 100),  # unclassified twice
    ("repeats", "2025-01", "All", "repeat_complaint_rate", 0 / 2 * 100),
    ("repeats", "2025-02", "All", "repeat_complaint_rate", NAN),
    ("shop", "2025-01", "A", "csat", 2 / 4 * 100),
    ("shop", "2025-01", "B", "csat", 1 / 1 * 100),
    ("shop", "2025-01", "All", "csat", (2 + 1) / (4 + 1) * 100),
    ("shop", "2025-02", "A", "csat", NAN),  # no surveys that month
    ("shop", "2025-01", "A", "nps", (2 - 1) / 4 * 100),
    ("shop", "2025-01", "B", "nps", NAN),
    ("shop", "2025-01", "All", "nps", (2 - 1) / 4 * 100),
    # opportunity
    ("shop", "2025-01", "A", "response_time_median", 30),  # r3 unanswered: left out
    ("shop", "2025-01", "B", "response_time_median", (50 + 90) / 2),
    ("shop", "2025-01", "All", "response_time_median", 40),
    ("shop", "2025-02", "A", "response_time_median", NAN),
    ("shop", "2025-01", "A", "response_time_p90", 30 + 0.8 * (40 - 30)),
    ("shop", "2025-01", "B", "response_time_p90", 50 + 0.9 * (90 - 50)),
    ("shop", "2025-01", "All", "response_time_p90", 50 + 0.6 * (90 - 50)),
    ("shop", "2025-01", "A", "promise_kept_rate", 1 / 4 * 100),  # r3 unanswered = not kept
    ("shop", "2025-01", "B", "promise_kept_rate", 1 / 2 * 100),
    ("shop", "2025-01", "All", "promise_kept_rate", (1 + 1) / (4 + 2) * 100),
    ("shop", "2025-02", "A", "promise_kept_rate", NAN),
    ("shop", "2025-01", "A", "resolution_time_median", 2),
    ("shop", "2025-02", "A", "resolution_time_median", 5),
    ("shop", "2025-03", "All", "resolution_time_median", 1),
    ("shop", "2025-01", "B", "resolution_time_median", NAN),
    ("shop", "2025-01", "A", "unresolved_complaints_rate", 1 / 2 * 100),
    ("shop", "2025-02", "A", "unresolved_complaints_rate", 1 / 2 * 100),
    ("shop", "2025-01", "B", "unresolved_complaints_rate", NAN),
    # the service manager's
    ("service", "2025-01", "A", "complaint_backlog", 3),  # s4, s5, s6 (resolved at the end)
    ("service", "2025-01", "B", "complaint_backlog", 0),
    ("service", "2025-02", "All", "complaint_backlog", 2),  # s4, s5
    ("service", "2025-03", "A", "complaint_backlog", 2),  # s5, s8
    ("service", "2025-01", "A", "backlog_age_median", 12),  # ages 22, 12 and 0.5 days
    ("service", "2025-02", "A", "backlog_age_median", (50 + 40) / 2),
    ("service", "2025-03", "A", "backlog_age_median", ((12 + 28 + 31) + 30) / 2),
    ("service", "2025-01", "B", "backlog_age_median", NAN),
    ("service", "2025-01", "A", "backlog_over_8_weeks", 0 / 3 * 100),
    ("service", "2025-03", "A", "backlog_over_8_weeks", 1 / 2 * 100),  # s5: 71 days
    ("service", "2025-01", "B", "backlog_over_8_weeks", NAN),
    ("service", "2025-01", "A", "complaints_resolved_within_promise", 3 / 6 * 100),  # s1 s3 s6
    ("service", "2025-02", "B", "complaints_resolved_within_promise", 1 / 1 * 100),  # holiday
    ("service", "2025-02", "All", "complaints_resolved_within_promise", 1 / 1 * 100),
    ("service", "2025-02", "A", "complaints_resolved_within_promise", NAN),
    ("service", "2025-01", "All", "complaints_resolved_within_promise", (3 + 1) / (6 + 1) * 100),
    ("service", "2025-01", "A", "complaints_closed_3_business_days", 3 / 6 * 100),
    ("service", "2025-01", "A", "complaints_closed_8_weeks", 1 / 6 * 100),  # s2
    ("service", "2025-03", "A", "complaints_closed_8_weeks", 1 / 1 * 100),  # s8: exactly 8 weeks
    ("service", "2025-01", "A", "complaints_closed_later", 1 / 6 * 100),  # s4
    ("service", "2025-01", "A", "unresolved_complaints_rate", 1 / 6 * 100),  # s5: the fourth band
    ("service", "2025-01", "A", "first_contact_resolution", 3 / 5 * 100),  # s2 r1 s6; not s1 r2
    ("service", "2025-01", "B", "first_contact_resolution", 1 / 1 * 100),  # s9
    ("service", "2025-01", "All", "first_contact_resolution", 4 / 6 * 100),
    ("service", "2025-02", "All", "first_contact_resolution", 1 / 1 * 100),  # s7
    ("service", "2025-02", "A", "first_contact_resolution", NAN),
    ("service", "2025-03", "All", "first_contact_resolution", NAN),  # 7 days after March: later
    ("service", "2025-01", "A", "contacts_per_100_purchases", (2 + 6) / 4 * 100),
    ("service", "2025-01", "B", "contacts_per_100_purchases", (0 + 1) / 1 * 100),
    ("service", "2025-03", "A", "contacts_per_100_purchases", (1 + 1) / 2 * 100),
    ("service", "2025-02", "A", "contacts_per_100_purchases", NAN),
    ("service", "2025-01", "A", "ces", 2 / 4 * 100),  # 5 and 7; not 4
    ("service", "2025-01", "All", "ces", 3 / 5 * 100),
    ("service", "2025-02", "A", "ces", NAN),
    ("service", "2025-01", "A", "ces_mean", (4 + 5 + 7 + 1) / 4),
    ("service", "2025-01", "All", "ces_mean", (4 + 5 + 7 + 1 + 5) / 5),
    # price
    ("shop", "2025-01", "A", "average_ticket", (100 + 50 + 30) / 3),
    ("shop", "2025-01", "All", "average_ticket", (100 + 50 + 30 + 200) / 4),
    ("shop", "2025-02", "A", "average_ticket", NAN),
    ("shop", "2025-01", "A", "revenue_per_customer", (100 + 50 + 30) / 2),
    ("shop", "2025-01", "All", "revenue_per_customer", (100 + 50 + 30 + 200) / 2),
    ("shop", "2025-01", "A", "discount_rate", (1 - (100 + 30) / (120 + 30)) * 100),  # p2 has none
    ("shop", "2025-01", "All", "discount_rate",
     (1 - (100 + 30 + 200) / (120 + 30 + 250)) * 100),
    ("shop", "2025-03", "A", "discount_rate", NAN),  # no purchase with list_amount
    ("shop", "2025-03", "B", "discount_rate", (1 - 40 / 50) * 100),
    ("shop", "2025-02", "All", "discount_rate", NAN),
    ("shop", "2025-01", "A", "compensation_per_complaint", (10 + 0) / 2),  # empty = 0 paid
    ("shop", "2025-02", "A", "compensation_per_complaint", 5 / 2),
    ("shop", "2025-01", "B", "compensation_per_complaint", NAN),
    ("shop", "2025-01", "A", "compensation_share", 10 / (100 + 50 + 30) * 100),
    ("shop", "2025-01", "All", "compensation_share", 10 / (100 + 50 + 30 + 200) * 100),
    ("shop", "2025-02", "A", "compensation_share", NAN),
]


@pytest.fixture(scope="module")
def databases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("scenarios")
    return {name: make_db(root / f"{name}.duckdb", data, settings)
            for name, (data, settings) in SCENARIOS.items()}


@pytest.fixture(scope="module")
def tables(databases: dict[str, Path]) -> dict[str, pd.DataFrame]:
    out = {}
    for name, path in databases.items():
        con = store.connect(path, read_only=True)
        out[name] = indicator_table(con)
        con.close()
    return out


def _value(table: pd.DataFrame, month: str, department: str, indicator: str) -> float:
    row = table[(table["month"] == month) & (table["department"] == department)
                & (table["indicator"] == indicator)]
    assert len(row) == 1, (month, department, indicator)
    return float(row["value"].iloc[0])


@pytest.mark.parametrize(("scenario", "month", "department", "indicator", "expected"), EXPECTED,
                         ids=[f"{s}-{m}-{d}-{i}" for s, m, d, i, _ in EXPECTED])
def test_indicator_value(tables: dict[str, pd.DataFrame], scenario: str, month: str,
                         department: str, indicator: str, expected: float) -> None:
    value = _value(tables[scenario], month, department, indicator)
    if math.isnan(expected):
        assert math.isnan(value)
    else:
        assert value == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(("scenario", "month", "department", "indicator", "expected"), EXPECTED,
                         ids=[f"{s}-{m}-{d}-{i}" for s, m, d, i, _ in EXPECTED])
def test_indicator_value_of_a_scorecard_scope(
    databases: dict[str, Path], scenario: str, month: str, department: str, indicator: str,
    expected: float,
) -> None:
    """The same value when only that department and the 12 months to ``month`` are computed
    (as the overview does): a repeat still sees the earlier complaint in another department,
    a new customer the purchases before the scope, growth the revenue 12 months back."""
    first = shift_month(month, -11)
    con = store.connect(databases[scenario], read_only=True)
    try:
        table = indicator_table(con, months=(first, month), departments=[department])
    finally:
        con.close()
    assert set(table["department"]) == {department}
    value = _value(table, month, department, indicator)
    if math.isnan(expected):
        assert math.isnan(value)
    else:
        assert value == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_every_indicator_has_a_scenario() -> None:
    assert {indicator for *_, indicator, _ in EXPECTED} == set(INDICATOR_IDS)


def test_all_median_is_computed_from_rows_not_averaged(tables: dict[str, pd.DataFrame]) -> None:
    shop = tables["shop"]
    departments = [_value(shop, "2025-01", d, "response_time_median") for d in ("A", "B")]
    assert _value(shop, "2025-01", "All", "response_time_median") == 40
    assert sum(departments) / 2 == (30 + (50 + 90) / 2) / 2 != 40


def test_full_grid_in_report_order(tables: dict[str, pd.DataFrame]) -> None:
    shop = tables["shop"]
    assert list(shop.columns) == ["month", "department", "indicator", "value"]
    assert len(shop) == 3 * (1 + 3) * len(INDICATOR_IDS)
    assert shop["value"].dtype == "float64"
    first = shop.iloc[: len(INDICATOR_IDS)]
    assert set(first["month"]) == {"2025-01"} and set(first["department"]) == {"All"}
    assert list(first["indicator"]) == list(INDICATOR_IDS)
    assert list(dict.fromkeys(shop["department"])) == ["All", "A", "B", "C"]
    assert list(dict.fromkeys(shop["month"])) == ["2025-01", "2025-02", "2025-03"]


def test_explicit_settings_override_the_stored_ones(databases: dict[str, Path]) -> None:
    con = store.connect(databases["shop"], read_only=True)
    table = indicator_table(con, settings=store.Settings(iceberg_counted_at="custom",
                                                        custom_iceberg_factor=3.0))
    con.close()
    assert _value(table, "2025-01", "A", "estimated_dissatisfied") == 2 * 3
    # no per-department promise any more: r2 (40 min) is within the default 60
    assert _value(table, "2025-01", "A", "promise_kept_rate") == 2 / 4 * 100


def test_empty_store_gives_an_empty_table(tmp_path: Path) -> None:
    con = store.connect(tmp_path / "empty.duckdb")
    table = indicator_table(con)
    assert table.empty and list(table.columns) == ["month", "department", "indicator", "value"]
    assert complaint_mix(con).empty


@pytest.mark.parametrize("scope", [{}, {"months": ("2025-01", "2025-02"), "departments": ["A"]},
                                   {"months": ("2025-01", "2025-02"), "departments": ["All"]}],
                         ids=["full", "a-department", "all-alone"])
def test_a_department_named_all_is_refused(tmp_path: Path, scope: dict) -> None:
    path = make_db(tmp_path / "clash.duckdb",
                   {"purchases": [purchase("p", "2025-01-01 10:00", "c", "A", 1)],
                    "surveys": [survey("s", "2025-02-01 10:00", "All", "csat", 5)]})
    con = store.connect(path, read_only=True)
    with pytest.raises(DepartmentNameError):
        facts_table(con, **scope)


# --- complaint mix ------------------------------------------------------------------------

MIX_EXPECTED: list[tuple[str, str, str, int, float]] = [
    ("2025-01", "A", "product", 1, 1 / 2 * 100),
    ("2025-01", "A", "unclassified", 1, 1 / 2 * 100),
    ("2025-01", "A", "people", 0, 0 / 2 * 100),
    ("2025-01", "B", "product", 0, NAN),  # no complaints in B that month
    ("2025-02", "All", "people", 1, 1 / 2 * 100),
    ("2025-03", "All", "systems", 1, 1 / 1 * 100),
    ("2025-03", "C", "systems", 0, NAN),
]


@pytest.mark.parametrize(("month", "department", "component", "complaints", "share"),
                         MIX_EXPECTED)
def test_complaint_mix(databases: dict[str, Path], month: str, department: str,
                       component: str, complaints: int, share: float) -> None:
    con = store.connect(databases["shop"], read_only=True)
    mix = complaint_mix(con)
    con.close()
    assert len(mix) == 3 * (1 + 3) * 7
    row = mix[(mix["month"] == month) & (mix["department"] == department)
              & (mix["component"] == component)]
    assert int(row["complaints"].iloc[0]) == complaints
    got = float(row["share"].iloc[0])
    assert math.isnan(got) if math.isnan(share) else got == pytest.approx(share)


# --- response-time histogram and the promise beside it --------------------------------------

# Answered minutes in 2025-01: A 30, 40, 20 (r3 unanswered); B 50, 90.
HISTOGRAMS: list[tuple[dict[str, object], list[tuple[float, float, int]]]] = [
    ({"month": "2025-01", "department": "All", "bin_minutes": 20},
     [(0, 20, 0), (20, 40, 2), (40, 60, 2), (60, 80, 0), (80, 100, 1)]),
    ({"month": "2025-01", "department": "A", "bin_minutes": 10},
     [(0, 10, 0), (10, 20, 0), (20, 30, 1), (30, 40, 1), (40, 50, 1)]),
    ({"month": None, "department": "B", "bin_minutes": 50}, [(0, 50, 0), (50, 100, 2)]),
    # three bins at most: the last holds the tail up to the longest wait
    ({"month": "2025-01", "department": "All", "bin_minutes": 10, "max_bins": 3},
     [(0, 10, 0), (10, 20, 0), (20, 90, 5)]),
    ({"month": "2025-02", "department": "All"}, []),
]


@pytest.mark.parametrize(("scope", "bins"), HISTOGRAMS)
def test_response_time_histogram(databases: dict[str, Path], scope: dict[str, object],
                                 bins: list[tuple[float, float, int]]) -> None:
    con = store.connect(databases["shop"], read_only=True)
    hist = response_time_histogram(con, **scope)
    con.close()
    assert list(hist.columns) == ["bin_start", "bin_end", "requests"]
    assert list(hist.itertuples(index=False, name=None)) == bins


def test_histogram_picks_a_round_width_within_max_bins(databases: dict[str, Path]) -> None:
    con = store.connect(databases["shop"], read_only=True)
    hist = response_time_histogram(con, month="2025-01", department="All")
    con.close()
    # longest wait 90: widths 1 and 2 need 91 and 46 bins, 5 needs 19
    assert (hist["bin_end"] - hist["bin_start"]).unique().tolist() == [5]
    assert len(hist) == 90 // 5 + 1 and hist["requests"].sum() == 5


@pytest.mark.parametrize(("month", "department", "expected"), [
    ("2025-01", "A", 30),  # three requests on A's 30-minute setting, one promised 15
    ("2025-01", "B", 60),
    ("2025-01", "All", 30),
    (None, "C", 60),  # no requests: the setting
])
def test_promised_minutes(databases: dict[str, Path], month: str | None, department: str,
                          expected: float) -> None:
    con = store.connect(databases["shop"], read_only=True)
    assert promised_minutes(con, month=month, department=department) == expected
    con.close()
