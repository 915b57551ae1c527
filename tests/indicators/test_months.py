"""indicators.months: the one module for month labels and their arithmetic (issue 17, point 3).

Expected values are worked out by hand from ``index = year × 12 + (month − 1)``.
"""

from __future__ import annotations

import datetime as dt
import doctest

import pandas as pd
import pytest

from indicators import months


def test_the_doctests_hold():
    assert doctest.testmod(months).failed == 0


@pytest.mark.parametrize(("start", "by", "expected"), [
    ("2025-01", 0, "2025-01"),
    ("2025-12", 1, "2026-01"),       # December → January of the next year
    ("2026-01", -1, "2025-12"),      # and back
    ("2025-11", 2, "2026-01"),
    ("2025-01", -13, "2023-12"),     # 2025 × 12 + 0 − 13 = 2023 × 12 + 11
    ("2024-06", 24, "2026-06"),
    ("2024-06", -24, "2022-06"),
    ("2000-03", 12 * 100 - 3, "2099-12"),
    ("0001-01", 0, "0001-01"),       # the first month there is
    ("0001-02", -1, "0001-01"),
    ("9999-11", 1, "9999-12"),       # the last
])
def test_shift_moves_by_whole_months_across_years(start, by, expected):
    assert months.shift(start, by) == expected
    assert months.months_between(start, expected) == by
    assert months.months_between(expected, start) == -by


@pytest.mark.parametrize(("start", "by"), [("0001-01", -1), ("9999-12", 1), ("2025-01", -2025 * 12)])
def test_a_shift_past_year_1_or_9999_is_refused_not_wrapped(start, by):
    with pytest.raises(ValueError, match="outside 0001-01"):
        months.shift(start, by)


def test_index_counts_twelve_months_a_year_from_year_0():
    assert months.index("2025-01") == 2025 * 12
    assert months.index("2025-12") == 2025 * 12 + 11
    assert months.index("0001-01") == months.FIRST_INDEX == 12
    assert months.index("9999-12") == months.LAST_INDEX == 9999 * 12 + 11
    assert months.from_index(2025 * 12 + 12) == "2026-01"


@pytest.mark.parametrize("bad", [
    "2025-13", "2025-00", "2025-1", "25-01", "2025-01-01", "", "2025/01", "0000-01",
    "202５-01",        # a full-width digit: a digit to Python's \d, not to a month
    "2025-01x", "x2025-01",
])
def test_parse_refuses_what_is_not_a_month_and_names_it(bad):
    with pytest.raises(ValueError, match="YYYY-MM") as err:
        months.parse(bad)
    assert repr(bad) in str(err.value)


@pytest.mark.parametrize("bad", [None, 202501, dt.date(2025, 1, 1)])
def test_parse_refuses_what_is_not_text(bad):
    with pytest.raises(ValueError, match="YYYY-MM"):
        months.index(bad)  # type: ignore[arg-type]


def test_parse_gives_the_first_day_and_ignores_surrounding_spaces():
    assert months.parse("2024-02") == dt.date(2024, 2, 1)
    assert months.parse(" 2024-02\n") == dt.date(2024, 2, 1)
    assert months.parse("0001-01") == dt.date(1, 1, 1)
    assert months.parse("9999-12") == dt.date(9999, 12, 1)


@pytest.mark.parametrize(("day", "expected"), [
    (dt.date(2025, 3, 31), "2025-03"),
    (dt.datetime(2025, 12, 31, 23, 59, 59), "2025-12"),
    (pd.Timestamp("2026-01-01T00:00"), "2026-01"),
    (dt.date(1, 1, 1), "0001-01"),
    (dt.date(987, 7, 4), "0987-07"),   # four digits, always
])
def test_label_is_the_month_a_date_falls_in(day, expected):
    assert months.label(day) == expected
    assert months.parse(months.label(day)) == dt.date(day.year, day.month, 1)


def test_span_is_inclusive_and_crosses_years():
    assert months.span("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert months.span("2025-02", "2025-02") == ["2025-02"]
    assert months.span("2025-02", "2025-01") == []
    assert len(months.span("2001-01", "2025-12")) == 25 * 12
    assert months.range is months.span


def test_cover_fills_the_months_between_the_earliest_and_the_latest():
    assert months.cover(["2025-03", "2024-12", "2025-03"]) == [
        "2024-12", "2025-01", "2025-02", "2025-03"]
    assert months.cover([]) == []
    assert months.cover(["2025-07"]) == ["2025-07"]


@pytest.mark.parametrize(("month", "expected"), [
    ("2025-01", True), ("2025-12", True), ("2025-06", True),     # both ends included
    ("2024-12", False), ("2026-01", False),
])
def test_between_includes_both_ends(month, expected):
    assert months.between(month, "2025-01", "2025-12") is expected


def test_between_checks_its_months():
    with pytest.raises(ValueError, match="YYYY-MM"):
        months.between("2025-1", "2025-01", "2025-12")
