"""Ingest: encodings, delimiters, decimal commas, date formats, time zones, Excel and Parquet."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import duckdb
import openpyxl
import pytest

from indicators import store
from indicators.ingest import DATE_FORMATS, ENCODINGS, ingest_file
from tests.indicators.test_ingest import (
    PURCHASE_HEADER,
    assert_problem,
    fresh_connection,
    load,
    rejected_unchanged,
    write,
)


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    yield from fresh_connection()


def test_public_constants():
    assert ENCODINGS == ("utf-8", "cp1251", "latin-1")
    assert tuple(DATE_FORMATS) == (
        "ISO", "DD.MM.YYYY", "DD/MM/YYYY", "M/D/YYYY", "M/D/YYYY h:mm AM/PM",
        "DD/MM/YYYY h:mm AM/PM",
    )


# --- encodings -----------------------------------------------------------------------------

CYRILLIC = (
    "complaint_id,opened_at,department,category\n"
    "k1,2025-03-01,Продажи,жалоба\n"
    "k2,2025-03-02,Поддержка,\n"
)


@pytest.mark.parametrize(
    ("encoding", "raw_encoding"),
    [("utf-8", "utf-8"), ("utf-8", "utf-8-sig"), ("cp1251", "cp1251")],
)
def test_cyrillic_departments_in_each_encoding(con, tmp_path, encoding, raw_encoding):
    path = write(tmp_path, "c.csv", CYRILLIC, encoding=raw_encoding)
    result = ingest_file(con, path, encoding=encoding)
    assert result.accepted, result.problems
    assert result.slices == [("2025-03", "Поддержка"), ("2025-03", "Продажи")]
    assert con.execute("SELECT department, category FROM complaints ORDER BY 1").fetchall() == [
        ("Поддержка", None),
        ("Продажи", "жалоба"),
    ]


def test_bom_header_is_recognised(con, tmp_path):
    text = "\ufeffPurchase_ID,purchased_at,customer_id,department,amount\np,2025-03-01,c,S,1\n"
    result = load(con, tmp_path, "bom.csv", text)
    assert result.ignored_columns == []


def test_latin1(con, tmp_path):
    text = "complaint_id,opened_at,department\nk1,2025-03-01,Café Müller\n"
    path = write(tmp_path, "l.csv", text, encoding="latin-1")
    assert ingest_file(con, path, encoding="latin-1").accepted
    assert con.execute("SELECT department FROM complaints").fetchone() == ("Café Müller",)


def test_legacy_encoding_under_default_is_rejected_with_row_and_hint(con, tmp_path):
    path = write(tmp_path, "c.csv", CYRILLIC, encoding="cp1251")
    result = rejected_unchanged(con, path)
    problem = assert_problem(result, 2, "department", "not valid UTF-8")
    assert "cp1251" in problem.rule
    assert_problem(result, 3, "department", "not valid UTF-8")


def test_legacy_encoding_in_header_is_rejected(con, tmp_path):
    path = write(tmp_path, "h.csv", "жалоба,opened_at\n1,2\n", encoding="cp1251")
    result = rejected_unchanged(con, path)
    assert_problem(result, 1, None, "not valid UTF-8")


# --- delimiters and decimal commas -----------------------------------------------------------


def test_semicolon_with_decimal_comma(con, tmp_path):
    text = (
        "purchase_id;purchased_at;customer_id;department;amount;list_amount\n"
        "1;2025-03-01;c;Sales;12,50;15\n2;2025-03-02;c;Sales;3.25;\n"
    )
    result = load(con, tmp_path, "semi.csv", text)
    assert result.rows == 2
    assert con.execute("SELECT amount, list_amount FROM purchases ORDER BY 1").fetchall() == [
        (3.25, None),
        (12.5, 15.0),
    ]


def test_delimiter_parameter_overrides_detection(con, tmp_path):
    # The header has more commas than semicolons, yet the file is ;-delimited.
    text = (
        'purchase_id;purchased_at;customer_id;department;amount;"a,b,c,d,e,f,g"\n'
        "1;2025-03-01;c;Sales;2,5;x\n"
    )
    path = write(tmp_path, "odd.csv", text)
    result = ingest_file(con, path, delimiter=";")
    assert result.accepted, result.problems
    assert result.ignored_columns == ["a,b,c,d,e,f,g"]
    assert con.execute("SELECT amount FROM purchases").fetchone() == (2.5,)


def test_decimal_comma_in_comma_file_is_unreadable(con, tmp_path):
    text = PURCHASE_HEADER + 'p1,2025-03-01,c,Sales,"12,5",\n'
    result = rejected_unchanged(con, write(tmp_path, "comma.csv", text))
    problem = assert_problem(result, 2, "amount", "a decimal comma only in ;-delimited files")
    assert problem.value == "12,5"


def test_crlf_line_endings_and_quoted_fields(con, tmp_path):
    text = PURCHASE_HEADER.replace("\n", "\r\n") + '"p,1",2025-03-01,c,"Sales ""A""",1,\r\n'
    load(con, tmp_path, "crlf.csv", text)
    assert con.execute("SELECT purchase_id, department FROM purchases").fetchone() == (
        "p,1",
        'Sales "A"',
    )


def test_identifiers_stay_text_and_cells_are_trimmed(con, tmp_path):
    load(con, tmp_path, "ids.csv", PURCHASE_HEADER + " 007 ,2025-03-01, 0042 , Sales , 1 ,\n")
    assert con.execute(
        "SELECT purchase_id, customer_id, department, amount FROM purchases"
    ).fetchone() == ("007", "0042", "Sales", 1.0)


def test_unicode_spaces_are_trimmed_like_spaces_and_tabs_are_kept(con, tmp_path):
    """A file with non-ASCII bytes trims every cell; an ASCII one only where U+0020 is."""
    nbsp, em_space = "\u00a0", "\u2003"
    load(con, tmp_path, "u.csv", PURCHASE_HEADER
         + f"p1,2025-03-01,c1,{nbsp}Sales{em_space},{nbsp}2 ,\n"
         + "p2,2025-03-01,c2,\tSales , 3,\n")
    assert con.execute(
        "SELECT purchase_id, department, amount FROM purchases ORDER BY 1"
    ).fetchall() == [("p1", "Sales", 2.0), ("p2", "\tSales", 3.0)]


def test_an_empty_quoted_cell_is_missing_in_an_ascii_file(con, tmp_path):
    load(con, tmp_path, "q.csv",
         PURCHASE_HEADER + 'p1,2025-03-01,c1,Sales,2,""\np2,2025-03-01,c2,Sales,3,"  "\n')
    assert con.execute(
        "SELECT purchase_id, list_amount IS NULL FROM purchases ORDER BY 1"
    ).fetchall() == [("p1", True), ("p2", True)]


# --- dates, formats and the time zone ----------------------------------------------------------


@pytest.mark.parametrize(
    ("date_format", "written", "stored"),
    [
        ("ISO", "2025-03-07", dt.datetime(2025, 3, 7)),
        ("ISO", "2025-03-07T14:05", dt.datetime(2025, 3, 7, 14, 5)),
        ("ISO", "2025-03-07 14:05:09", dt.datetime(2025, 3, 7, 14, 5, 9)),
        ("ISO", "2025-03-07T14:05:09.250", dt.datetime(2025, 3, 7, 14, 5, 9, 250000)),
        ("ISO", "2025-03-07T14:05:00Z", dt.datetime(2025, 3, 7, 14, 5)),
        ("ISO", "2025-03-07T14:05:00+01:00", dt.datetime(2025, 3, 7, 13, 5)),
        ("DD.MM.YYYY", "07.03.2025", dt.datetime(2025, 3, 7)),
        ("DD.MM.YYYY", "07.03.2025 14:05", dt.datetime(2025, 3, 7, 14, 5)),
        ("DD.MM.YYYY", "2025-03-07", dt.datetime(2025, 3, 7)),
        ("DD/MM/YYYY", "07/03/2025 14:05:09", dt.datetime(2025, 3, 7, 14, 5, 9)),
        ("M/D/YYYY", "3/7/2018 14:05", dt.datetime(2018, 3, 7, 14, 5)),
        ("M/D/YYYY", "3/7/2018 4:05:09", dt.datetime(2018, 3, 7, 4, 5, 9)),
        ("M/D/YYYY", "12/31/2018", dt.datetime(2018, 12, 31)),
    ],
)
def test_date_formats(con, tmp_path, date_format, written, stored):
    text = f"complaint_id,opened_at,department\nk1,{written},Sales\n"
    load(con, tmp_path, "d.csv", text, date_format=date_format)
    assert con.execute("SELECT opened_at FROM complaints").fetchone() == (stored,)


@pytest.mark.parametrize(
    ("date_format", "written"),
    [
        ("ISO", "07.03.2025"),  # non-ISO without the format named
        ("ISO", "3/7/2018 14:05"),
        ("DD.MM.YYYY", "31.02.2025"),  # impossible date
        ("DD/MM/YYYY", "07/13/2025"),  # month 13: never swapped into 13 July
        ("M/D/YYYY", "13/7/2018"),
        ("DD.MM.YYYY", "07/03/2025"),  # another format than the one named
        ("ISO", "2025-03-07T14:05+1"),
    ],
)
def test_unreadable_or_ambiguous_dates_are_rejected(con, tmp_path, date_format, written):
    text = f"complaint_id,opened_at,department\nk1,2025-03-01,Sales\nk2,{written},Sales\n"
    result = rejected_unchanged(con, write(tmp_path, "d.csv", text), date_format=date_format)
    problem = assert_problem(result, 3, "opened_at", "not a valid date/time")
    assert problem.value == written


def test_offset_timestamp_near_midnight_lands_in_the_org_month(con, tmp_path):
    store.write_setting(con, "time_zone", "Europe/Madrid")
    text = (
        "request_id,department,received_at,responded_at\n"
        # 23:30 UTC on 31 March is 01:30 on 1 April in Madrid (CEST, +02:00).
        "r1,Support,2025-03-31T23:30:00Z,2025-04-01T00:10:00+00:00\n"
        # A naive timestamp is Madrid time: stays in March, stored as 21:30 UTC.
        "r2,Support,2025-03-31 23:30,\n"
    )
    result = load(con, tmp_path, "tz.csv", text)
    assert result.slices == [("2025-03", "Support"), ("2025-04", "Support")]
    # Stored timestamps are the instants, in UTC (the month is Madrid's).
    assert con.execute(
        "SELECT request_id, received_at, responded_at, month FROM responses ORDER BY 1"
    ).fetchall() == [
        ("r1", dt.datetime(2025, 3, 31, 23, 30), dt.datetime(2025, 4, 1, 0, 10), dt.date(2025, 4, 1)),
        ("r2", dt.datetime(2025, 3, 31, 23 - 2, 30), None, dt.date(2025, 3, 1)),
    ]


def test_offsets_are_compared_as_instants(con, tmp_path):
    # 10:00+02:00 is 08:00 UTC, so an answer at 09:00Z comes after it.
    text = (
        "request_id,department,received_at,responded_at\n"
        "r1,Support,2025-03-01T10:00+02:00,2025-03-01T09:00Z\n"
    )
    load(con, tmp_path, "tz.csv", text)
    assert con.execute("SELECT received_at, responded_at FROM responses").fetchone() == (
        dt.datetime(2025, 3, 1, 8),
        dt.datetime(2025, 3, 1, 9),
    )


# --- Excel and Parquet -------------------------------------------------------------------------


def _workbook(path, rows, *, sheets=1):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for i in range(1, sheets):
        book.create_sheet(f"Other {i}")
    book.save(path)
    return path


def test_xlsx_one_sheet_loads(con, tmp_path):
    path = _workbook(
        tmp_path / "p.xlsx",
        [
            ["purchase_id", "purchased_at", "customer_id", "department", "amount", "list_amount"],
            ["007", dt.datetime(2025, 3, 7, 14, 5), 42, "Sales", 12.5, 15.0],
            [8, "2025-03-08", "c2", "Sales", 7.0, None],
            [None, None, None, None, None, None],
        ],
    )
    result = ingest_file(con, path)
    assert result.accepted, result.problems
    assert result.rows == 2
    assert con.execute(
        "SELECT purchase_id, purchased_at, customer_id, amount, list_amount FROM purchases ORDER BY 1"
    ).fetchall() == [
        ("007", dt.datetime(2025, 3, 7, 14, 5), "42", 12.5, 15.0),
        ("8", dt.datetime(2025, 3, 8), "c2", 7.0, None),
    ]


def test_xlsx_whole_float_reads_as_integer(con, tmp_path):
    path = _workbook(
        tmp_path / "r.xlsx",
        [
            ["month", "department", "customers_start", "customers_end", "new_customers"],
            ["2025-03", "Sales", 100.0, 110.0, 20.0],
        ],
    )
    assert ingest_file(con, path).accepted
    assert con.execute("SELECT customers_start, new_customers FROM retention").fetchone() == (
        100,
        20,
    )


def test_xlsx_problem_rows_are_sheet_rows(con, tmp_path):
    path = _workbook(
        tmp_path / "p.xlsx",
        [
            ["purchase_id", "purchased_at", "customer_id", "department", "amount"],
            ["1", "2025-03-01", "c", "Sales", 1],
            [None, None, None, None, None],
            ["2", "2025-03-01", "c", "Sales", -3],
        ],
    )
    result = rejected_unchanged(con, path)
    assert_problem(result, 3, "purchase_id", "required value is empty")
    assert_problem(result, 4, "amount", "must be ≥ 0")


def test_xlsx_with_two_sheets_is_rejected(con, tmp_path):
    path = _workbook(
        tmp_path / "two.xlsx",
        [["complaint_id", "opened_at", "department"], ["k1", "2025-03-01", "Sales"]],
        sheets=2,
    )
    result = rejected_unchanged(con, path)
    assert "the workbook has 2 sheets" in result.problems[0].rule
    assert "one sheet" in result.problems[0].rule


def test_parquet_loads_with_typed_columns_as_text(con, tmp_path):
    path = tmp_path / "s.parquet"
    source = duckdb.connect()
    source.execute(
        """COPY (SELECT * FROM (VALUES
               ('s1', TIMESTAMP '2025-03-05 10:00:00', 'Sales', 'CSAT', 4.0, NULL),
               ('s2', TIMESTAMP '2025-04-01 00:00:00', 'Sales', 'nps', 9.0, 'c9'))
             AS v(survey_id, answered_at, department, kind, score, customer_id))
           TO ? (FORMAT parquet)""",
        [str(path)],
    )
    result = ingest_file(con, path)
    assert result.accepted, result.problems
    assert result.slices == [("2025-03", "Sales"), ("2025-04", "Sales")]
    assert con.execute(
        "SELECT survey_id, answered_at, kind, score, customer_id FROM surveys ORDER BY 1"
    ).fetchall() == [
        ("s1", dt.datetime(2025, 3, 5, 10), "csat", 4, None),
        ("s2", dt.datetime(2025, 4, 1), "nps", 9, "c9"),
    ]


def test_parquet_problems_use_row_numbers_after_a_header(con, tmp_path):
    path = tmp_path / "s.parquet"
    source = duckdb.connect()
    source.execute(
        """COPY (SELECT * FROM (VALUES ('s1', '2025-03-05', 'Sales', 'csat', 4.5))
             AS v(survey_id, answered_at, department, kind, score)) TO ? (FORMAT parquet)""",
        [str(path)],
    )
    result = rejected_unchanged(con, path)
    problem = assert_problem(result, 2, "score", "not a whole number")
    assert problem.value == "4.5"
