"""Ingest's strict rules of issue 14: UTC offsets, invisible format characters, ``*`` as a
department, the cap on numbers, and the bounds of targets' months and routes.

Each probe was accepted before (and moved rows by days, showed two "All"s, summed to ``inf``
or made ``route`` run for minutes); each is now a rejection naming row, column, value and rule,
which changes nothing.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections.abc import Iterator

import duckdb
import pandas as pd
import pytest

from indicators import route, store
from indicators.ingest import EARLIEST_DATE, ingest_file, ingest_frame, latest_target_month
from indicators.ingest.bytescan import scan_bytes
from indicators.ingest.cells import FORMAT_CHARACTERS
from indicators.schema import MAX_MONEY, MAX_ROUTE_MONTHS
from tests.indicators.test_ingest import assert_problem, rejected_unchanged, write

COMPLAINTS = "complaint_id,opened_at,department\n"
PURCHASES = "purchase_id,purchased_at,customer_id,department,amount,list_amount\n"
TARGETS = "indicator,department,baseline_month,target_month,target,baseline,tolerance\n"


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    store.init_db(connection)
    yield connection
    connection.close()


# --- UTC offsets -------------------------------------------------------------------------------

OFFSET_RULE = "the UTC offset is out of range: write Z or ±HH:MM with HH at most 14 and MM at most 59"


@pytest.mark.parametrize(
    "written",
    [
        "2025-03-07T14:05+99:99",  # the probes
        "2025-03-07T14:05+24:00",
        "2025-03-07T14:05-9999",
        "2025-03-07T14:05+00:60",
        "2025-03-07T14:05:00+15",  # hour-only form, same bound
        "2025-03-07 14:05:00.5-1460",
    ],
)
def test_an_offset_out_of_range_is_rejected_with_the_rule(con, tmp_path, written):
    text = COMPLAINTS + f"k1,2025-03-01,Sales\nk2,{written},Sales\n"
    result = rejected_unchanged(con, write(tmp_path, "o.csv", text))
    assert [(p.row, p.column, p.value, p.rule) for p in result.problems] == [
        (3, "opened_at", written, OFFSET_RULE)
    ]


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        # 14:05 at +14:00 is 00:05 UTC; the organisation's zone is UTC by default.
        ("2025-03-07T14:05+14:00", dt.datetime(2025, 3, 7, 0, 5)),
        ("2025-03-07T14:05-14:59", dt.datetime(2025, 3, 8, 5, 4)),  # 14:05 + 14:59
        ("2025-03-07T14:05+0530", dt.datetime(2025, 3, 7, 8, 35)),  # 14:05 - 5:30
        ("2025-03-07T14:05-03", dt.datetime(2025, 3, 7, 17, 5)),
        ("2025-03-07T14:05Z", dt.datetime(2025, 3, 7, 14, 5)),
    ],
)
def test_offsets_within_range_are_converted(con, tmp_path, written, stored):
    result = ingest_file(con, write(tmp_path, "o.csv", COMPLAINTS + f"k1,{written},Sales\n"))
    assert result.accepted, result.problems
    assert con.execute("SELECT opened_at FROM complaints").fetchone() == (stored,)


def test_an_impossible_date_with_a_good_offset_is_unreadable_not_an_offset(con, tmp_path):
    result = rejected_unchanged(
        con, write(tmp_path, "o.csv", COMPLAINTS + "k1,2025-02-30T10:00+01:00,Sales\n")
    )
    assert [p.rule.startswith("not a valid date/time") for p in result.problems] == [True]


# --- invisible format characters (Unicode Cf) ------------------------------------------------


def test_the_format_character_ranges_hold_every_cf_character():
    """The written-out ranges cover Python's Unicode table (the scan and the SQL use them)."""
    listed = {c for low, high in FORMAT_CHARACTERS for c in range(low, high + 1)}
    cf = {c for c in range(0x110000) if unicodedata.category(chr(c)) == "Cf"}
    assert cf <= listed
    assert all(unicodedata.category(chr(c)) in ("Cf", "Cn") for c in listed)


@pytest.mark.parametrize(
    ("department", "char"),
    [
        ("All\u200b", "U+200B zero-width space: a second 'All'"),
        ("Sales\u200d", "U+200D zero-width joiner"),
        ("\u202eselaS", "U+202E right-to-left override"),
        ("Sa\u2066les\u2069", "U+2066/U+2069 bidi isolates"),
        ("Sales\u00ad", "U+00AD soft hyphen"),
        ("Sales\U000e0041", "U+E0041 tag character"),
    ],
)
def test_format_characters_in_text_cells_are_rejected(con, tmp_path, department, char):
    text = COMPLAINTS + f"k1,2025-03-01,Sales\nk2,2025-03-02,{department}\n"
    result = rejected_unchanged(con, write(tmp_path, "cf.csv", text))
    problem = assert_problem(result, 3, "department", "another format character (Unicode Cf")
    assert problem.value == department, char


def test_format_characters_in_an_id_are_rejected(con, tmp_path):
    text = COMPLAINTS + "k\u200b1,2025-03-01,Sales\n"
    result = rejected_unchanged(con, write(tmp_path, "cf.csv", text))
    assert_problem(result, 2, "complaint_id", "format character")


def test_visible_non_ascii_text_still_loads(con, tmp_path):
    """Dashes, quotes, № and Cyrillic share first bytes with format characters but are text."""
    department = "Отдел продаж — «Север» №1 “A” …"
    result = ingest_file(con, write(tmp_path, "ok.csv", COMPLAINTS + f"k1,2025-03-01,{department}\n"))
    assert result.accepted, result.problems
    assert con.execute("SELECT department FROM complaints").fetchone() == (department,)


@pytest.mark.parametrize(
    ("data", "holds"),
    [
        (b"a,b\n1,All\xe2\x80\x8b\n", True),  # U+200B
        (b"a,b\n1,\xe2\x80\xae2\n", True),  # U+202E
        (b"a,b\n1,\xc2\xad2\n", True),  # U+00AD
        (b"a,b\n1,\xf3\xa0\x81\x81\n", True),  # U+E0041
        (b"a,b\n1,\xe2\x80\x942 \xe2\x80\x9cq\xe2\x80\x9d\n", False),  # em dash, quotes
        (b"a,b\n1,\xc2\xa0\xc3\xad\xd0\xb9\n", False),  # NBSP, í, й
        (b"a" * ((1 << 22) - 1) + b"\xe2\x80\x8b", True),  # split across two read chunks
        (b"a" * ((1 << 22) - 2) + b"\xe2\x80\x8b", True),
    ],
)
def test_byte_scan_finds_format_characters(tmp_path, data, holds):
    """The scan that lets a clean file skip the per-cell rule must see every Cf character."""
    path = tmp_path / "scan.csv"
    path.write_bytes(data)
    assert scan_bytes(path).controls is holds


def test_format_characters_in_a_frame_are_rejected(con):
    """The targets editor (a frame, not byte-scanned) gets the same rule."""
    frame = pd.DataFrame(
        {"indicator": ["nps"], "department": ["Sales\u200b"], "baseline_month": ["2025-01"],
         "target_month": ["2025-12"], "target": ["40"]}
    )
    result = ingest_frame(con, frame, file_name="targets editor")
    assert_problem(result, 2, "department", "format character")


# --- "*" as a data department ----------------------------------------------------------------


@pytest.mark.parametrize("star", ["*", " * "])
def test_star_is_not_a_data_department(con, tmp_path, star):
    text = COMPLAINTS + f"k1,2025-03-01,Sales\nk2,2025-03-02,{star}\n"
    result = rejected_unchanged(con, write(tmp_path, "star.csv", text))
    assert [(p.row, p.column, p.value, p.rule) for p in result.problems] == [
        (3, "department", "*", "'*' means all departments only in targets; rename the department")
    ]


def test_star_still_means_all_departments_in_targets(con, tmp_path):
    result = ingest_file(con, write(tmp_path, "t.csv", TARGETS + "nps,*,2025-01,2025-12,40,,\n"))
    assert result.accepted, result.problems


# --- numbers: finite and capped ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "value"),
    [("1.5e308", "1.5e308"), ("1000000000000001", "1000000000000001"), ("2e15", "2e15")],
)
def test_an_amount_above_the_cap_is_rejected(con, tmp_path, cell, value):
    """Three 1.5e308 amounts summed to inf; any amount of 10^14 or more is now a rejection."""
    text = PURCHASES + "p1,2025-03-01,c1,Sales,10,\n" + f"p2,2025-03-01,c1,Sales,{cell},\n"
    result = rejected_unchanged(con, write(tmp_path, "big.csv", text))
    assert [(p.row, p.column, p.value, p.rule) for p in result.problems] == [
        (3, "amount", value,
         "larger than 99,999,999,999,999.9999 in magnitude, the largest amount stored; check the value")
    ]


def test_the_cap_itself_loads(con, tmp_path):
    text = PURCHASES + f"p1,2025-03-01,c1,Sales,{MAX_MONEY},\n"
    assert ingest_file(con, write(tmp_path, "cap.csv", text)).accepted
    assert con.execute("SELECT amount FROM purchases").fetchone() == (MAX_MONEY,)


@pytest.mark.parametrize("cell", ["1e999", "-1e999", "inf", "nan", "-2e15"])
def test_non_finite_or_huge_numbers_are_rejected_in_every_number_column(con, tmp_path, cell):
    """Targets' target (no minimum), one problem per cell."""
    text = TARGETS + f"nps,Sales,2025-01,2025-12,{cell},,\n"
    result = rejected_unchanged(con, write(tmp_path, "t.csv", text))
    assert [(p.row, p.column) for p in result.problems] == [(2, "target")]


def test_a_huge_number_in_a_frame_is_rejected(con):
    frame = pd.DataFrame(
        {"indicator": ["nps"], "department": ["Sales"], "baseline_month": ["2025-01"],
         "target_month": ["2025-12"], "target": [float("inf")], "baseline": [3e15]}
    )
    result = ingest_frame(con, frame, file_name="targets editor")
    assert sorted((p.row, p.column) for p in result.problems) == [(2, "baseline"), (2, "target")]


# --- targets' months and the route's length ----------------------------------------------------


def test_a_baseline_month_before_1900_is_rejected(con, tmp_path):
    """``0001-01`` passed and broke the scorecard."""
    text = TARGETS + "nps,Sales,0001-01,2025-12,40,,\n"
    result = rejected_unchanged(con, write(tmp_path, "t.csv", text))
    assert [(p.row, p.column, p.value, p.rule) for p in result.problems] == [
        (2, "baseline_month", "0001-01", "before 1900-01; check the year"),
        (2, "target_month", "2025-12",
         f"more than {MAX_ROUTE_MONTHS} months after baseline_month: a route spans at most "
         f"{MAX_ROUTE_MONTHS} months (baseline_month = 0001-01)"),
    ]


def test_a_target_month_past_ten_years_ahead_is_rejected(con, tmp_path):
    latest = latest_target_month()
    after = dt.date(latest.year + (latest.month == 12), latest.month % 12 + 1, 1)
    start = dt.date(after.year - 5, after.month, 1)
    text = TARGETS + f"nps,Sales,{start:%Y-%m},{after:%Y-%m},40,,\n"
    result = rejected_unchanged(con, write(tmp_path, "t.csv", text))
    assert [(p.row, p.column, p.rule) for p in result.problems] == [
        (2, "target_month", f"more than 10 years ahead (after {latest:%Y-%m}); check the year")
    ]


def test_the_bounds_themselves_load(con, tmp_path):
    """1900-01 and the latest month are allowed, and a route of exactly 120 months."""
    latest = latest_target_month()
    start = dt.date(latest.year - 10, latest.month, 1)  # 10 years = 120 months
    text = TARGETS + f"nps,Sales,{start:%Y-%m},{latest:%Y-%m},40,,\n"
    text += f"csat,Sales,{EARLIEST_DATE:%Y-%m},1901-01,4,,\n"
    result = ingest_file(con, write(tmp_path, "t.csv", text))
    assert result.accepted, result.problems


def test_a_route_one_month_too_long_is_rejected(con, tmp_path):
    text = TARGETS + "nps,Sales,2020-01,2030-02,40,,\n"  # 10 years and one month: 121 months
    result = rejected_unchanged(con, write(tmp_path, "t.csv", text))
    assert [(p.row, p.column, p.value) for p in result.problems] == [(2, "target_month", "2030-02")]
    assert "more than 120 months after baseline_month" in result.problems[0].rule


def test_the_targets_editor_gets_the_month_bounds(con):
    frame = pd.DataFrame(
        {"indicator": ["nps"], "department": ["*"], "baseline_month": ["0001-01"],
         "target_month": ["9999-12"], "target": ["40"]}
    )
    result = ingest_frame(con, frame, file_name="targets editor", replace_all=True)
    assert not result.accepted
    assert sorted((p.column, p.rule.split(";")[0]) for p in result.problems)[:2] == [
        ("baseline_month", "before 1900-01"),
        ("target_month", f"more than 10 years ahead (after {latest_target_month():%Y-%m})"),
    ]


def test_route_draws_no_route_longer_than_the_bound():
    """Targets stored before the rule (or built by hand): the route refuses, quickly."""
    targets = pd.DataFrame(
        {"indicator": ["nps"], "department": ["Sales"], "baseline_month": ["0001-01"],
         "target_month": ["9999-12"], "target": [40.0], "baseline": [10.0],
         "tolerance": [math.nan]}
    )
    indicators = pd.DataFrame(
        {"indicator": ["nps"], "department": ["Sales"], "month": ["2025-01"], "value": [20.0]}
    )
    assert route.route_table(targets, indicators).empty
    (note,) = route.route_summary(targets, indicators)["note"]
    assert note == f"the route spans {9999 * 12 + 11 - 12} months; at most {MAX_ROUTE_MONTHS} are drawn"
