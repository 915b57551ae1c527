"""Named date formats: the 12-hour clock (M/D/YYYY and DD/MM/YYYY with AM/PM), read exactly
and only when named; two-digit years rejected with their reason, each cell breaking one rule.

Time zone: the default (UTC), so a naive time is stored as written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import duckdb
import pytest

from indicators.__main__ import main
from indicators.ingest import DATE_FORMATS, ingest_file
from indicators.ingest.rules import TWO_DIGIT_YEAR_RULE
from tests.indicators.test_ingest import fresh_connection, rejected_unchanged, write

HEADER = "complaint_id,opened_at,department\n"
US = "M/D/YYYY h:mm AM/PM"
DAY_FIRST = "DD/MM/YYYY h:mm AM/PM"


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    yield from fresh_connection()


def _file(tmp_path, *values: str):
    rows = "".join(f"k{i},{v},Sales\n" for i, v in enumerate(values))
    return write(tmp_path, "d.csv", HEADER + rows)


def test_the_formats_one_may_name():
    assert tuple(DATE_FORMATS) == (
        "ISO", "DD.MM.YYYY", "DD/MM/YYYY", "M/D/YYYY", US, DAY_FIRST,
    )


@pytest.mark.parametrize(
    ("date_format", "written", "stored"),
    [
        (US, "01/05/2015 12:40:41 PM", dt.datetime(2015, 1, 5, 12, 40, 41)),  # 12 PM = 12 h
        (US, "1/5/2015 12:05 AM", dt.datetime(2015, 1, 5, 0, 5)),  # 12 AM = 00 h
        (US, "1/5/2015 1:00 pm", dt.datetime(2015, 1, 5, 1 + 12, 0)),  # lower case
        (US, "1/5/2015 9:03 am", dt.datetime(2015, 1, 5, 9, 3)),
        (US, "12/31/2015 11:59:59 Pm", dt.datetime(2015, 12, 31, 11 + 12, 59, 59)),
        (DAY_FIRST, "05/01/2015 12:40:41 PM", dt.datetime(2015, 1, 5, 12, 40, 41)),
        (DAY_FIRST, "5/1/2015 12:05 AM", dt.datetime(2015, 1, 5, 0, 5)),
        (DAY_FIRST, "5/1/2015 1:00 pm", dt.datetime(2015, 1, 5, 1 + 12, 0)),
        (DAY_FIRST, "31/12/2015 11:59:59 pm", dt.datetime(2015, 12, 31, 11 + 12, 59, 59)),
        # ISO is always accepted as well.
        (US, "2015-01-05T13:00:00", dt.datetime(2015, 1, 5, 13, 0)),
    ],
)
def test_12_hour_times_are_read_exactly(con, tmp_path, date_format, written, stored):
    result = ingest_file(con, _file(tmp_path, written), date_format=date_format)
    assert result.accepted, result.problems
    assert con.execute("SELECT opened_at, month FROM complaints").fetchone() == (
        stored,
        stored.date().replace(day=1),
    )


@pytest.mark.parametrize("date_format", [US, DAY_FIRST])
@pytest.mark.parametrize(
    "written",
    [
        "1/5/2015 13:00 PM",  # hour 13 is not on a 12-hour clock
        "1/5/2015 0:30 AM",  # nor is hour 0
        "1/5/2015 1:00PM",  # AM/PM after one space
        "1/5/2015 1:00  PM",
        "1/5/2015 1:00",  # a 24-hour time is not this format
        "1/5/2015",  # nor a date without a time
        "1/5/2015 1:00:00.5 PM",
        "1/5/2015 1:60 PM",
    ],
)
def test_what_is_not_a_12_hour_time_is_rejected(con, tmp_path, date_format, written):
    result = rejected_unchanged(con, _file(tmp_path, written), date_format=date_format)
    assert [(p.row, p.column, p.value) for p in result.problems] == [(2, "opened_at", written)]
    assert result.problems[0].rule.startswith("not a valid date/time")


def test_the_order_is_the_one_named_never_swapped(con, tmp_path):
    """13/01/2015 is 13 January only day first; month first it is refused, not swapped."""
    path = _file(tmp_path, "13/01/2015 9:00 AM")
    result = rejected_unchanged(con, path, date_format=US)
    assert result.problems[0].value == "13/01/2015 9:00 AM"
    assert ingest_file(con, path, date_format=DAY_FIRST).accepted
    assert con.execute("SELECT opened_at FROM complaints").fetchone() == (
        dt.datetime(2015, 1, 13, 9, 0),
    )


def test_12_hour_times_are_never_read_unless_named(con, tmp_path):
    result = rejected_unchanged(con, _file(tmp_path, "1/5/2015 9:03 AM"))
    assert result.problems[0].rule.startswith("not a valid date/time: ISO")


def test_the_command_line_takes_the_new_formats(tmp_path, capsys):
    db = tmp_path / "s.duckdb"
    path = _file(tmp_path, "01/05/2015 12:40:41 PM", "1/6/2015 9:03 am")
    assert main(["ingest", "--db", str(db), "--date-format", US, str(path)]) == 0
    assert "accepted: d.csv → complaints, 2 rows, slices 2015-01 Sales" in capsys.readouterr().out
    check = duckdb.connect(str(db), read_only=True)
    try:
        assert check.execute("SELECT opened_at FROM complaints ORDER BY 1").fetchall() == [
            (dt.datetime(2015, 1, 5, 12, 40, 41),),
            (dt.datetime(2015, 1, 6, 9, 3),),
        ]
    finally:
        check.close()


# --- two-digit years ---------------------------------------------------------------------------


@pytest.mark.parametrize("date_format", ["ISO", "M/D/YYYY", "DD.MM.YYYY", US, DAY_FIRST])
def test_two_digit_years_are_rejected_with_the_reason_one_rule_a_cell(
    con, tmp_path, date_format
):
    written = ["1/5/15", "05.01.15", "15-01-05", "1/5/15 9:03 PM", "05/01/15 14:05"]
    result = rejected_unchanged(con, _file(tmp_path, *written), date_format=date_format)
    # Rows 2…6, one problem each: the two-digit year, not also "not a valid date/time".
    assert [(p.row, p.column, p.value, p.rule) for p in result.problems] == [
        (row, "opened_at", value, TWO_DIGIT_YEAR_RULE)
        for row, value in zip(range(2, 7), written, strict=True)
    ]
    assert TWO_DIGIT_YEAR_RULE == "a two-digit year: write the year in full (2015, not 15)"
    assert result.summary_lines() == [f"opened_at: {TWO_DIGIT_YEAR_RULE} — 5 rows, first 2, 3, 4"]


def test_four_digit_years_beside_two_digit_ones_load_once_fixed(con, tmp_path):
    result = rejected_unchanged(con, _file(tmp_path, "1/5/2015", "1/6/15"), date_format="M/D/YYYY")
    assert [(p.row, p.value, p.rule) for p in result.problems] == [(3, "1/6/15", TWO_DIGIT_YEAR_RULE)]
    assert ingest_file(con, _file(tmp_path, "1/5/2015", "1/6/2015"), date_format="M/D/YYYY").accepted


def test_an_unreadable_date_and_a_two_digit_year_are_two_rules(con, tmp_path):
    result = rejected_unchanged(con, _file(tmp_path, "1/5/15", "soon", "2/7/15"))
    assert [(p.row, p.rule.split(":")[0]) for p in result.problems] == [
        (2, "a two-digit year"),
        (3, "not a valid date/time"),
        (4, "a two-digit year"),
    ]
    assert [(s.rule.split(":")[0], s.count, s.first_rows) for s in result.summary] == [
        ("a two-digit year", 2, (2, 4)),
        ("not a valid date/time", 1, (3,)),
    ]
