"""Complete months: the rules of :mod:`indicators.completeness`, worked out by hand.

Every case is a small table of row counts (dataset, month, department, rows) written out in the
test; the expected statuses are read off that table by the module's rules, one boundary each.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from indicators import completeness, store
from indicators.completeness import (
    describe_missing,
    indicator_not_loaded,
    latest_complete,
    mark_complete,
    month_status,
    not_loaded,
    read_marked,
    status_of,
)
from tests.indicators.engine_rows import complaint, make_db, purchase, survey


def counts(*rows: tuple[str, str, str, int]) -> pd.DataFrame:
    """Row counts from ``(dataset, month, department, rows)`` tuples."""
    return pd.DataFrame(rows, columns=["dataset", "month", "department", "rows"])


def status_row(status: pd.DataFrame, month: str, department: str) -> dict[str, object]:
    (row,) = status[(status["month"] == month) & (status["department"] == department)].to_dict(
        "records"
    )
    return row


# North delivers purchases every month and surveys from 2025-02 on; South delivers purchases in
# 2025-01 only (it stopped).  Small volumes: no department reaches 30 rows, so all count for All.
LATER = counts(
    ("purchases", "2025-01", "North", 3),
    ("purchases", "2025-02", "North", 2),
    ("purchases", "2025-03", "North", 4),
    ("surveys", "2025-02", "North", 5),
    ("purchases", "2025-01", "South", 1),
)


def test_a_dataset_delivered_later_is_expected_only_from_its_first_month():
    status = month_status(LATER)
    # 2025-01: surveys not delivered yet, so only purchases are expected: complete
    assert status_row(status, "2025-01", "North")["complete"] is True
    assert status_row(status, "2025-02", "North")["missing"] == ()
    # 2025-03: surveys came in 2025-02, none now
    north = status_row(status, "2025-03", "North")
    assert north["complete"] is False and north["missing"] == ("surveys",)


def test_the_department_that_stopped():
    status = month_status(LATER)
    # South: purchases were delivered in 2025-01, so they are missing in every later month
    assert status_row(status, "2025-02", "South")["missing"] == ("purchases",)
    assert status_row(status, "2025-03", "South")["missing"] == ("purchases",)
    # All in 2025-02: South had rows the month before, so it counts and holds All back
    all_feb = status_row(status, "2025-02", "All")
    assert all_feb["complete"] is False
    assert all_feb["missing"] == ("purchases",)
    assert all_feb["incomplete_departments"] == ("South",)
    # All in 2025-03: South had no rows in 2025-02 or 2025-03, so only North counts (surveys)
    all_mar = status_row(status, "2025-03", "All")
    assert all_mar["missing"] == ("surveys",)
    assert all_mar["incomplete_departments"] == ("North",)
    assert status_row(status, "2025-01", "All")["complete"] is True


def test_one_row_per_month_and_department_all_first():
    status = month_status(LATER)
    assert list(status.columns) == list(completeness.STATUS_COLUMNS)
    assert status[["month", "department"]].values.tolist() == [
        [m, d] for m in ("2025-01", "2025-02", "2025-03") for d in ("All", "North", "South")
    ]


def test_a_month_without_any_rows_between_two_is_incomplete():
    gap = counts(("purchases", "2025-01", "A", 2), ("purchases", "2025-03", "A", 2))
    status = month_status(gap)
    assert status_row(status, "2025-02", "A")["missing"] == ("purchases",)
    assert status_row(status, "2025-02", "All")["missing"] == ("purchases",)  # A had rows in 01
    assert status_row(status, "2025-03", "All")["complete"] is True


def test_the_expected_setting_replaces_what_was_delivered():
    # North never delivered complaints, yet the setting expects them; surveys (delivered) are
    # not expected by it.
    expected = {"North": ("purchases", "complaints")}
    status = month_status(LATER, expected=expected)
    assert status_row(status, "2025-01", "North")["missing"] == ("complaints",)
    assert status_row(status, "2025-03", "North")["missing"] == ("complaints",)  # not surveys


def test_the_default_setting_applies_to_every_other_department():
    expected = {"*": ("purchases", "surveys"), "North": ("purchases",)}
    status = month_status(LATER, expected=expected)
    # North's own setting: purchases only (surveys missing in 2025-03 no longer counts)
    assert status_row(status, "2025-03", "North")["complete"] is True
    # South: the default, purchases and surveys
    assert status_row(status, "2025-01", "South")["missing"] == ("surveys",)


def test_an_empty_setting_for_a_department_falls_back_to_the_default():
    status = month_status(LATER, expected={"*": ("purchases",), "North": ()})
    assert status_row(status, "2025-03", "North")["complete"] is True  # surveys not expected


def test_nothing_is_expected_before_a_departments_first_rows():
    late = counts(("purchases", "2025-01", "A", 1), ("purchases", "2025-02", "B", 1),
                  ("purchases", "2025-02", "A", 1))
    status = month_status(late, expected={"*": ("purchases", "complaints")})
    # B starts in 2025-02: in 2025-01 nothing is expected of it, even with the setting
    assert status_row(status, "2025-01", "B")["complete"] is True
    assert status_row(status, "2025-02", "B")["missing"] == ("complaints",)


def test_a_month_marked_for_a_department_is_complete_whatever_is_missing():
    status = month_status(LATER, marked={("2025-03", "North")})
    north = status_row(status, "2025-03", "North")
    assert north["complete"] is True and north["missing"] == () and north["marked"] is True
    # All in 2025-03 was held back by North alone: now complete, and not itself marked
    all_mar = status_row(status, "2025-03", "All")
    assert all_mar["complete"] is True and all_mar["marked"] is False
    # a mark holds for its month only
    assert status_row(status, "2025-02", "South")["complete"] is False


def test_a_month_marked_for_every_department_completes_all_and_each():
    status = month_status(LATER, marked={("2025-02", "*")})
    for department in ("All", "North", "South"):
        row = status_row(status, "2025-02", department)
        assert row["complete"] is True and row["marked"] is True
    assert status_row(status, "2025-03", "All")["complete"] is False


# Big (40 purchase rows a month) and Tiny (2 rows) departments: with the default minimum volume
# of 30 only Big counts for All; Tiny is still judged on its own.
VOLUMES = counts(
    ("purchases", "2025-01", "Big", 40), ("purchases", "2025-02", "Big", 40),
    ("purchases", "2025-01", "Tiny", 2),
)


def test_a_department_below_the_minimum_volume_does_not_hold_all_back():
    status = month_status(VOLUMES, min_volume=30)
    assert status_row(status, "2025-02", "Tiny")["missing"] == ("purchases",)
    assert status_row(status, "2025-02", "All")["complete"] is True


def test_at_the_minimum_volume_a_department_counts():
    # Tiny's 2 rows reach a minimum of 2 (≥), not one of 3
    assert status_row(month_status(VOLUMES, min_volume=2), "2025-02", "All")["missing"] == (
        "purchases",
    )
    assert status_row(month_status(VOLUMES, min_volume=3), "2025-02", "All")["complete"] is True


def test_the_volume_of_the_month_before_counts_too():
    # Big delivers its 40 rows in 2025-01 only: it reaches the volume in 2025-02 through the
    # month before, so its missing purchases hold All back.
    stopped = counts(("purchases", "2025-01", "Big", 40), ("purchases", "2025-02", "Tiny", 2))
    all_feb = status_row(month_status(stopped, min_volume=30), "2025-02", "All")
    assert all_feb["missing"] == ("purchases",) and all_feb["incomplete_departments"] == ("Big",)


def test_when_no_department_reaches_the_volume_every_one_counts():
    small = counts(("purchases", "2025-01", "A", 2), ("purchases", "2025-01", "B", 2),
                   ("purchases", "2025-02", "A", 2))
    all_feb = status_row(month_status(small, min_volume=30), "2025-02", "All")
    assert all_feb["missing"] == ("purchases",) and all_feb["incomplete_departments"] == ("B",)


def test_the_partial_upload_of_the_issue():
    """Six departments deliver every dataset; next month only 4 purchases of one arrive."""
    departments = [f"D{i}" for i in range(6)]
    rows = [(ds, "2025-12", d, 100) for d in departments
            for ds in ("purchases", "complaints", "responses", "retention", "surveys")]
    rows.append(("purchases", "2026-01", "D0", 4))
    status = month_status(counts(*rows))
    d0 = status_row(status, "2026-01", "D0")
    assert d0["missing"] == ("complaints", "responses", "retention", "surveys")
    all_jan = status_row(status, "2026-01", "All")
    assert all_jan["missing"] == ("purchases", "complaints", "responses", "retention", "surveys")
    assert all_jan["incomplete_departments"] == tuple(departments)
    assert latest_complete(status, "All") == "2025-12"
    assert latest_complete(status, "D0") == "2025-12"


@pytest.mark.parametrize("rows", [LATER, VOLUMES])
def test_the_order_of_the_row_counts_does_not_matter(rows: pd.DataFrame):
    """``status_of`` reads the counts in no particular order."""
    for seed in range(5):
        shuffled = rows.sample(frac=1, random_state=seed).reset_index(drop=True)
        pd.testing.assert_frame_equal(month_status(shuffled), month_status(rows))


def test_latest_complete_is_none_when_no_month_is():
    status = month_status(counts(("purchases", "2025-01", "A", 1), ("surveys", "2025-02", "A", 1)))
    assert latest_complete(status, "A") == "2025-01"
    status = month_status(counts(("purchases", "2025-01", "A", 1)),
                          expected={"A": ("purchases", "surveys")})
    assert latest_complete(status, "A") is None


def test_not_loaded_is_the_missing_set_and_empty_when_complete_or_marked():
    assert not_loaded(LATER, "2025-03", "North") == frozenset({"surveys"})
    assert not_loaded(LATER, "2025-02", "All") == frozenset({"purchases"})
    assert not_loaded(LATER, "2025-02", "North") == frozenset()
    assert not_loaded(LATER, "2025-03", "North", marked={("2025-03", "*")}) == frozenset()
    assert not_loaded(LATER, "2025-03", "North", expected={"North": ("purchases",)}) == frozenset()
    assert not_loaded(LATER, "1999-01", "North") == frozenset()  # outside the data


@pytest.mark.parametrize(("indicator", "missing", "expected"), [
    ("complaint_rate", {"purchases"}, True),       # complaints ÷ purchases: either missing
    ("complaint_rate", {"complaints"}, True),
    ("csat", {"purchases", "complaints"}, False),  # surveys only
    ("csat", {"surveys"}, True),
    ("revenue", {"complaints"}, False),
    ("compensation_share", {"purchases"}, True),   # compensation ÷ revenue
    ("retention_rate", frozenset(), False),
])
def test_indicator_not_loaded(indicator: str, missing: set[str], expected: bool):
    assert indicator_not_loaded(indicator, missing) is expected


@pytest.mark.parametrize(("missing", "departments", "text"), [
    (set(), (), ""),
    ({"complaints"}, (), "complaints not yet loaded for 2026-01"),
    ({"surveys", "complaints"}, (), "complaints and surveys not yet loaded for 2026-01"),
    ({"surveys", "purchases", "responses"}, (),
     "purchases, responses and surveys not yet loaded for 2026-01"),
    ({"complaints"}, ("Call centre",), "complaints not yet loaded for 2026-01 (Call centre)"),
    ({"complaints"}, ("A", "B", "C"), "complaints not yet loaded for 2026-01 (A, B and C)"),
    ({"complaints"}, ("A", "B", "C", "D"), "complaints not yet loaded for 2026-01 (4 departments)"),
])
def test_describe_missing(missing: set[str], departments: tuple[str, ...], text: str):
    assert describe_missing(missing, "2026-01", departments=departments) == text


# --- the store ---------------------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return make_db(tmp_path / "c.duckdb", {
        "purchases": [purchase("p1", "2025-01-05 10:00", "c1", "North", 5.0),
                      purchase("p2", "2025-02-05 10:00", "c1", "North", 5.0)],
        "complaints": [complaint("k1", "2025-01-06 10:00", "North")],
        "surveys": [survey("s1", "2025-02-07 10:00", "South", "csat", 5)],
    })


def test_status_of_reads_the_store(db: Path):
    con = store.connect(db)
    try:
        status = status_of(con)
    finally:
        con.close()
    # North delivered complaints in 2025-01 and none in 2025-02
    assert status_row(status, "2025-02", "North")["missing"] == ("complaints",)
    # South starts in 2025-02 with surveys: complete; nothing expected of it in 2025-01
    assert status_row(status, "2025-02", "South")["complete"] is True
    assert status_row(status, "2025-01", "South")["complete"] is True


def test_marks_are_stored_and_removed(db: Path):
    con = store.connect(db)
    try:
        assert mark_complete(con, "2025-02", "North", user="ana") == ("2025-02", "North", False)
        assert mark_complete(con, " 2025-02 ", "North") == ("2025-02", "North", True)  # again
        assert mark_complete(con, "2025-01", "All") == ("2025-01", "*", False)  # All = every
        assert read_marked(con) == {("2025-02", "North"), ("2025-01", "*")}
        assert status_row(status_of(con), "2025-02", "North")["complete"] is True
        (who,) = con.execute(
            "SELECT marked_by FROM complete_months WHERE department = 'North'"
        ).fetchone()
        assert who == "ana"
        assert mark_complete(con, "2025-02", "North", complete=False)[2] is True
        assert mark_complete(con, "2025-02", "North", complete=False)[2] is False  # not there
        assert read_marked(con) == {("2025-01", "*")}
    finally:
        con.close()


@pytest.mark.parametrize(("month", "department", "message"), [
    ("2025-1", "North", "YYYY-MM"),
    ("2024-12", "North", "no data in 2024-12; the data has 2025-01 … 2025-02"),
    ("2025-02", "Atlantis", "unknown department 'Atlantis'"),
])
def test_a_bad_mark_is_refused_and_writes_nothing(db: Path, month: str, department: str,
                                                  message: str):
    con = store.connect(db)
    try:
        with pytest.raises(completeness.MarkError, match=message):
            mark_complete(con, month, department)
        assert read_marked(con) == frozenset()
    finally:
        con.close()


def test_the_docstring_examples_hold():
    import doctest

    result = doctest.testmod(completeness)
    assert result.attempted >= 8 and result.failed == 0
