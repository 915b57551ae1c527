"""One promise per request (issue 15, item 8): the rate, the headline and the histogram's colours
judge every request by its own ``promised_minutes``, else its department's promise setting.

Settings: ``*`` promises 60 minutes, department A 30.

=======  ====  ========  ======  =================  ===============
month    dept  request   waited  promise (its own)  kept
=======  ====  ========  ======  =================  ===============
2025-01  A     r1        20      30 (A's setting)   yes
2025-01  A     r2        40      30 (A's setting)   no
2025-01  A     r3        100     120 (own)          yes
2025-01  A     r4        —       240 (own)          no (unanswered)
2025-01  B     r5        50      60 (``*``)         yes
2025-01  B     r6        70      60 (``*``)         no
2025-02  B     r7        10      60                 yes
2025-02  B     r8        60      60                 yes (exactly)
=======  ====  ========  ======  =================  ===============
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from dashboard.format import promise_headline
from indicators import charts, store
from indicators.compute import indicator_table, promise_summary, response_times_by_promise
from tests.indicators.engine_rows import make_db, request


def _at(day: str, minutes: int | None) -> tuple[str, str | None]:
    start = pd.Timestamp(f"{day} 09:00")
    end = None if minutes is None else str(start + pd.Timedelta(minutes=minutes))
    return str(start), end


def _request(rid: str, department: str, day: str, minutes: int | None,
             promised: float | None = None) -> dict[str, object]:
    received, responded = _at(day, minutes)
    return request(rid, department, received, responded, promised=promised)


REQUESTS = [
    _request("r1", "A", "2025-01-05", 20),
    _request("r2", "A", "2025-01-06", 40),
    _request("r3", "A", "2025-01-07", 100, promised=120),
    _request("r4", "A", "2025-01-08", None, promised=240),
    _request("r5", "B", "2025-01-05", 50),
    _request("r6", "B", "2025-01-06", 70),
    _request("r7", "B", "2025-02-05", 10),
    _request("r8", "B", "2025-02-06", 60),
]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_db(tmp_path_factory.mktemp("promise") / "p.duckdb", {"responses": REQUESTS},
                   [("promised_minutes", 60, "*"), ("promised_minutes", 30, "A")])


def _summary(db: Path, month: str | None, department: str) -> pd.DataFrame:
    con = store.connect(db, read_only=True)
    try:
        return promise_summary(con, month=month, department=department)
    finally:
        con.close()


def _histogram(db: Path, department: str, **options: object) -> pd.DataFrame:
    con = store.connect(db, read_only=True)
    try:
        return response_times_by_promise(con, month="2025-01", department=department, **options)
    finally:
        con.close()


@pytest.mark.parametrize(("month", "department", "expected"), [
    # every request of January: promises 30, 30, 120, 240, 60, 60
    ("2025-01", "All", {"requests": 6, "answered": 5, "kept": 3,
                        "promise_median": (60 + 60) / 2, "promise_min": 30, "promise_max": 240,
                        "promises_vary": True, "kept_rate": 3 / 6 * 100,
                        "wait_median": 50}),  # waits 20, 40, 50, 70, 100
    ("2025-01", "A", {"requests": 4, "answered": 3, "kept": 2,
                      "promise_median": (30 + 120) / 2, "promise_min": 30, "promise_max": 240,
                      "promises_vary": True, "kept_rate": 2 / 4 * 100, "wait_median": 40}),
    ("2025-01", "B", {"requests": 2, "answered": 2, "kept": 1, "promise_median": 60,
                      "promise_min": 60, "promise_max": 60, "promises_vary": False,
                      "kept_rate": 1 / 2 * 100, "wait_median": (50 + 70) / 2}),
    ("2025-02", "All", {"requests": 2, "answered": 2, "kept": 2, "promise_median": 60,
                        "promise_min": 60, "promise_max": 60, "promises_vary": False,
                        "kept_rate": 100.0, "wait_median": (10 + 60) / 2}),
])
def test_the_summary_judges_each_request_by_its_own_promise(db, month, department, expected):
    (row,) = _summary(db, month, department).to_dict("records")
    assert row["month"] == month and row["department"] == department
    for key, value in expected.items():
        assert row[key] == pytest.approx(value), key


def test_the_summary_has_one_row_per_month_with_requests(db):
    assert _summary(db, None, "A")["month"].tolist() == ["2025-01"]
    assert _summary(db, None, "All")["month"].tolist() == ["2025-01", "2025-02"]
    assert _summary(db, "2025-03", "All").empty


@pytest.mark.parametrize(("month", "department", "rate"), [
    ("2025-01", "All", 3 / 6 * 100), ("2025-01", "A", 2 / 4 * 100),
    ("2025-01", "B", 1 / 2 * 100), ("2025-02", "B", 2 / 2 * 100),
])
def test_the_promise_kept_indicator_uses_the_same_rule(db, month, department, rate):
    con = store.connect(db, read_only=True)
    table = indicator_table(con)
    con.close()
    value = table[(table["month"] == month) & (table["department"] == department)
                  & (table["indicator"] == "promise_kept_rate")]["value"].iloc[0]
    assert value == pytest.approx(rate)


def test_the_histogram_splits_each_bin_by_the_requests_own_promise(db):
    # 50-minute bins up to the longest wait (100): [0, 50) r1 20 kept, r2 40 not (A's 30);
    # [50, 100) r5 50 kept, r6 70 not (60); [100, 150) r3 100 kept (its own 120).
    hist = _histogram(db, "All", bin_minutes=50)
    assert list(hist.columns) == ["bin_start", "bin_end", "requests", "kept", "not_kept"]
    assert hist["bin_start"].tolist() == [0.0, 50.0, 100.0]
    assert hist["kept"].tolist() == [1, 1, 1]
    assert hist["not_kept"].tolist() == [1, 1, 0]
    assert hist["requests"].tolist() == [2, 2, 1]


def test_one_line_at_the_common_promise_would_have_coloured_a_kept_request_red(db):
    # A's most common promise is its 30-minute setting; r3 waited 100 minutes and kept its own
    # 120: the bin [100, 150) is all kept, whatever a line at 30 says.
    hist = _histogram(db, "A", bin_minutes=50)
    assert hist["kept"].tolist() == [1, 0, 1]
    assert hist["not_kept"].tolist() == [1, 0, 0]


def test_the_tail_bin_keeps_the_split(db):
    # three 20-minute bins at most: [40, 100] holds r2 (not), r5 (kept), r6 (not), r3 (kept)
    hist = _histogram(db, "All", bin_minutes=20, max_bins=3)
    assert hist["bin_end"].tolist() == [20.0, 40.0, 100.0]
    assert hist["kept"].tolist() == [0, 1, 2]
    assert hist["not_kept"].tolist() == [0, 0, 2]
    # every answered request that kept its promise is in a kept bar: 3 of the summary's 3 kept
    assert int(hist["kept"].sum()) == 3


def test_no_answered_requests_no_bins(db):
    con = store.connect(db, read_only=True)
    hist = response_times_by_promise(con, month="2025-03", department="All")
    con.close()
    assert hist.empty and list(hist.columns) == ["bin_start", "bin_end", "requests", "kept",
                                                 "not_kept"]


def test_the_figure_stacks_kept_and_not_kept_with_no_single_promise_line(db):
    fig = charts.make_response_histogram_figure(_histogram(db, "All", bin_minutes=50), None)
    kept, not_kept = fig.data
    assert list(kept.y) == [1, 1, 1] and list(not_kept.y) == [1, 1, 0]
    assert fig.layout.barmode == "stack"
    assert not fig.layout.shapes  # promises vary: no line


def test_the_headline_says_when_promises_vary(db):
    (row,) = _summary(db, "2025-01", "All").to_dict("records")
    assert promise_headline(row, month="2025-01", setting=60.0) == (
        "Promises vary (median **60 min**): kept for **50.0 %** of requests in 2025-01, "
        "median wait 50 min."
    )


def test_the_headline_with_one_promise(db):
    (row,) = _summary(db, "2025-02", "B").to_dict("records")
    # waits 10 and 60: median 35
    assert promise_headline(row, month="2025-02", setting=60.0) == (
        "Respond within **60 min**. Kept for **100.0 %** of requests in 2025-02 "
        "(median wait 35 min)."
    )


def test_the_headline_without_requests_gives_the_setting():
    assert promise_headline(None, month="2025-03", setting=30.0) == (
        "Respond within **30 min** (the promise setting). No requests in 2025-03."
    )


def test_the_headline_in_hours_and_days_like_the_olist_example():
    # requests with their own promises: median 122 h, kept 74.9 %, median wait 167 h
    row = {"promises_vary": True, "promise_median": 122 * 60.0, "kept_rate": 74.9,
           "wait_median": 167 * 60.0}
    assert promise_headline(row, month="2018-06", setting=60.0) == (
        "Promises vary (median **5.1 days**): kept for **74.9 %** of requests in 2018-06, "
        "median wait 7.0 days."  # 122 / 24 = 5.08 days, 167 / 24 = 6.96 days
    )
