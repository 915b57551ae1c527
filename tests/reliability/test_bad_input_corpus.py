"""The bad-input corpus: every file is loaded exactly right or rejected with a precise reason.

Each file under ``corpus/`` has one defect (or one harmless peculiarity of real exports). The
manifest below says, per file, either ``Load``: the exact rows the dataset's table gains, or
``Reject``: every problem reported (row as in the file with the header as row 1, column,
offending value, and a piece of the rule's text). Every file is ingested into a database that
already holds a month of every dataset (``BASE``), and a rejection must leave every table
exactly as it was, with one more row in the upload log.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import openpyxl
import pytest

from indicators import store
from indicators.ingest import (
    EARLIEST_DATE,
    MAX_FUTURE_DAYS,
    MAX_UPLOAD_BYTES,
    IngestResult,
    format_result,
    ingest_file,
    latest_date,
)
from indicators.schema import DATASETS
from tests.indicators.test_ingest import log_rows, rejected_unchanged, snapshot, write

CORPUS = Path(__file__).parent / "corpus"

BASE: dict[str, str] = {
    "purchases": (
        "purchase_id,purchased_at,customer_id,department,amount,channel,list_amount\n"
        "b1,2025-03-03T09:00,c1,Sales,10,web,12\n"
        "b2,2025-03-04,c2,Support,5.5,,\n"
    ),
    "complaints": (
        "complaint_id,opened_at,department,customer_id,component,resolved_at,compensation\n"
        "bk1,2025-03-05T10:00,Sales,c1,product,2025-03-06T10:00,3\n"
    ),
    "responses": (
        "request_id,department,received_at,responded_at,promised_minutes\n"
        "br1,Support,2025-03-05T08:00,2025-03-05T08:20,30\n"
    ),
    "retention": (
        "month,department,customers_start,customers_end,new_customers\n2025-03,Sales,90,100,15\n"
    ),
    "surveys": (
        "survey_id,answered_at,department,kind,score,customer_id\n"
        "bs1,2025-03-07,Sales,nps,9,c1\n"
    ),
    "targets": (
        "indicator,department,baseline_month,target_month,target,baseline,tolerance\n"
        "nps,Sales,2025-01,2025-12,40,,\n"
    ),
}
"""A month (March 2025) of every dataset; the corpus files are about April 2025."""


def seeded_connection(directory: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory database holding ``BASE``; the caller closes it."""
    connection = duckdb.connect()
    store.init_db(connection)
    for name, text in BASE.items():
        result = ingest_file(connection, write(directory, f"base_{name}.csv", text))
        assert result.accepted, result.problems
    return connection


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = seeded_connection(tmp_path)
    yield connection
    connection.close()


# --- the manifest ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """The file loads; ``rows`` are exactly the rows its dataset's table gains."""

    dataset: str
    rows: list[tuple]
    ignored: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reject:
    """The file is rejected with exactly these problems: (row, column, value, rule piece)."""

    problems: list[tuple[int | None, str | None, str | None, str]]
    dataset: str | None = None


APRIL = dt.date(2025, 4, 1)
NUMBER = "not a number (use a decimal point"
AMOUNT = "not an amount: write digits with a decimal point, e.g. 1234.50"
DATE = "not a valid date/time: ISO"
SHAPE = "unknown file shape: closest dataset is"
CONTROL = "holds an invisible control character (such as NUL) or a byte-order mark (U+FEFF)"
FUTURE = f"more than {MAX_FUTURE_DAYS} days in the future (after "
PAST = f"before {EARLIEST_DATE:%Y-%m-%d}; check the year"
P1 = ("p1", dt.datetime(2025, 4, 1, 10), "c1", "Sales", 10.0, "web", 12.0, APRIL)
P2 = ("p2", dt.datetime(2025, 4, 2), "c2", "Sales", 20.0, None, None, APRIL)

MANIFEST: dict[str, Load | Reject] = {
    # --- purchases: every rule --------------------------------------------------------------
    "purchases_missing_amount_column.csv": Reject([(1, "amount", None, f"{SHAPE} purchases")]),
    "purchases_empty_customer_id.csv": Reject(
        [(3, "customer_id", "", "required value is empty")], "purchases"
    ),
    "purchases_unreadable_amount.csv": Reject([(3, "amount", "12.5.1", AMOUNT)], "purchases"),
    "purchases_unreadable_date.csv": Reject([(3, "purchased_at", "2025-04-31", DATE)], "purchases"),
    "purchases_negative_amount.csv": Reject([(3, "amount", "-20", "must be ≥ 0")], "purchases"),
    "purchases_list_below_amount.csv": Reject(
        [(3, "list_amount", "19.99", "must be ≥ amount (amount = 20)")], "purchases"
    ),
    "purchases_duplicate_id.csv": Reject(
        [(4, "purchase_id", "p1", "duplicate purchase_id (first in row 2)")], "purchases"
    ),
    "purchases_department_all.csv": Reject(
        [(3, "department", "ALL", "'All' is reserved for every department together")],
        "purchases",
    ),
    # --- encodings, delimiters, numbers and dates as real exports write them ----------------
    "purchases_cp1251_read_as_utf8.csv": Reject(
        [(3, "department", None, "not valid UTF-8: name the file's encoding (cp1251 or latin-1)")],
        "purchases",
    ),
    "purchases_utf16.csv": Reject([(1, None, None, "the file is UTF-16")]),
    "purchases_mixed_delimiters.csv": Reject(
        # A row DuckDB cannot split has no value (the value is a cell, never the raw line).
        [(3, "purchased_at", None, "too few values in the row: 1 value, the header has 7")],
        "purchases",
    ),
    "purchases_decimal_comma_in_comma_file.csv": Reject(
        [(3, "amount", "20,5", AMOUNT)], "purchases"
    ),
    "purchases_semicolon_decimal_comma.csv": Load(
        "purchases", [("p1", dt.datetime(2025, 4, 1, 10), "c1", "Sales", 10.5, "web", 12.25, APRIL)]
    ),
    "purchases_ambiguous_date.csv": Reject(
        [(3, "purchased_at", "03/04/2025", "name it (DD.MM.YYYY, DD/MM/YYYY, M/D/YYYY, M/D/YYYY h:mm AM/PM or DD/MM/YYYY h:mm AM/PM)")],
        "purchases",
    ),
    "purchases_year_9999.csv": Reject([(3, "purchased_at", "9999-04-02", FUTURE)], "purchases"),
    "purchases_year_2099.csv": Reject([(3, "purchased_at", "2099-04-02", FUTURE)], "purchases"),
    "purchases_year_0025.csv": Reject([(3, "purchased_at", "0025-04-02", PAST)], "purchases"),
    # --- identifiers, structure, quoting ---------------------------------------------------
    "purchases_id_007.csv": Load(
        "purchases",
        [
            ("007", dt.datetime(2025, 4, 1), "0042", "Sales", 7.0, None, None, APRIL),
            ("7", dt.datetime(2025, 4, 1), "42", "Sales", 7.0, None, None, APRIL),
        ],
    ),
    "purchases_too_few_values.csv": Reject(
        [
            (3, "department", None, "too few values in the row: 3 values, the header has 7"),
            (4, "amount", "-1", "must be ≥ 0"),  # the row after a ragged one keeps its number
        ],
        "purchases",
    ),
    "purchases_too_many_values.csv": Reject(
        [(3, None, None, "too many values in the row: 8 values, the header has 7")],
        "purchases",
    ),
    "purchases_quoted_newline.csv": Load(
        "purchases",
        [("p1", dt.datetime(2025, 4, 1), "c1", "Sales", 10.0, "web\nshop", 12.0, APRIL), P2],
    ),
    "purchases_quoted_newline_then_error.csv": Reject(
        [(3, "amount", "-20", "must be ≥ 0")], "purchases"
    ),
    "purchases_unterminated_quote.csv": Reject(
        [(3, "customer_id", None, "bad quoting (Value with unterminated quote found.)")],
        "purchases",
    ),
    "purchases_header_twice.csv": Reject(
        [
            (3, "amount", "amount", AMOUNT),
            (3, "list_amount", "list_amount", AMOUNT),
            (3, "purchased_at", "purchased_at", DATE),
        ],
        "purchases",
    ),
    "purchases_header_only.csv": Reject([(None, None, None, "no data rows")], "purchases"),
    "purchases_blank_lines.csv": Load("purchases", [P1, P2]),
    "purchases_bom_mid_file.csv": Reject([(3, "purchase_id", "\ufeffp2", CONTROL)], "purchases"),
    "purchases_nul_byte.csv": Reject([(3, "customer_id", "c\x002", CONTROL)], "purchases"),
    "purchases_trailing_delimiter.csv": Load(
        "purchases", [P1, P2], ignored=("(column 8 without a name)",)
    ),
    "purchases_crlf.csv": Load("purchases", [P1, P2]),
    # CRLF lines then an LF one (files pasted together) read exactly, no CR left in a value.
    "purchases_mixed_line_endings.csv": Load("purchases", [P1, P2]),
    # DuckDB cannot read past this and says only "invalid state": the row is found in Python.
    "purchases_lone_carriage_return.csv": Reject(
        [(3, None, None, "a carriage return (CR) inside the row: the file mixes line endings")],
        "purchases",
    ),
    "purchases_formula_cells.csv": Load(
        "purchases",
        [
            # Stored verbatim as text; neutralising is the CSV export's job, not the store's.
            ("p1", dt.datetime(2025, 4, 1), "=1+1", "Sales", 10.0, '=HYPERLINK("http://x")', 12.0,
             APRIL),
            ("p2", dt.datetime(2025, 4, 2), "@SUM(A1)", "Sales", 20.0, "+cmd", None, APRIL),
        ],
    ),
    "purchases_one_column.csv": Reject(
        [(1, c, None, f"{SHAPE} purchases") for c in
         ("purchased_at", "customer_id", "department", "amount")]
    ),
    "empty_zero_bytes.csv": Reject([(None, None, None, "file is empty")]),
    "binary_garbage.csv": Reject(
        [(1, None, None, "not valid UTF-8: name the file's encoding (cp1251 or latin-1)")]
    ),
    # --- complaints -------------------------------------------------------------------------
    "complaints_missing_department_column.csv": Reject(
        [(1, "department", None, f"{SHAPE} complaints")]
    ),
    "complaints_empty_opened_at.csv": Reject(
        [(3, "opened_at", "", "required value is empty")], "complaints"
    ),
    "complaints_unknown_component.csv": Reject(
        [(3, "component", "kitchen", "not one of: product, procedures, facilities, systems")],
        "complaints",
    ),
    "complaints_resolved_before_opened.csv": Reject(
        [(3, "resolved_at", "2025-04-02T08:59",
          "must not be before opened_at (opened_at = 2025-04-02T09:00)")],
        "complaints",
    ),
    "complaints_negative_compensation.csv": Reject(
        [(3, "compensation", "-0.01", "must be ≥ 0")], "complaints"
    ),
    "complaints_duplicate_id.csv": Reject(
        # Ids are case-sensitive text: K1 is another complaint than k1.
        [(4, "complaint_id", "k1", "duplicate complaint_id (first in row 2)")], "complaints"
    ),
    # --- responses --------------------------------------------------------------------------
    "responses_responded_before_received.csv": Reject(
        [(3, "responded_at", "2025-04-01T08:59:59",
          "must not be before received_at (received_at = 2025-04-01T09:00)")],
        "responses",
    ),
    "responses_promised_minutes_zero.csv": Reject(
        [(3, "promised_minutes", "0", "must be > 0")], "responses"
    ),
    "responses_unreadable_promised_minutes.csv": Reject(
        [(3, "promised_minutes", "1h", NUMBER)], "responses"
    ),
    "responses_responded_year_2099.csv": Reject(
        [(3, "responded_at", "2099-04-01T09:30", FUTURE)], "responses"
    ),
    "responses_offset_timestamps.csv": Load(
        "responses",
        [("r1", "Support", dt.datetime(2025, 4, 1, 6), dt.datetime(2025, 4, 1, 6, 30), 45.0,
          None, None, APRIL)],
    ),
    # --- retention --------------------------------------------------------------------------
    "retention_new_above_end.csv": Reject(
        [(3, "new_customers", "41", "must be ≤ customers_end (customers_end = 40)")], "retention"
    ),
    "retention_unreadable_integer.csv": Reject(
        [(3, "customers_start", "50.0", "not a whole number")], "retention"
    ),
    "retention_unreadable_month.csv": Reject(
        [(3, "month", "2025-4", "not a valid month written YYYY-MM")], "retention"
    ),
    "retention_negative_customers.csv": Reject(
        [
            (3, "customers_end", "-40", "must be ≥ 0"),
            # The same cell breaks a second rule; both are reported.
            (3, "new_customers", "0", "must be ≤ customers_end (customers_end = -40)"),
        ],
        "retention",
    ),
    "retention_duplicate_month_department.csv": Reject(
        [(4, "month", "2025-04 Sales", "duplicate (month, department) (first in row 2)")],
        "retention",
    ),
    "retention_month_2099.csv": Reject([(3, "month", "2099-04", FUTURE)], "retention"),
    # --- surveys ----------------------------------------------------------------------------
    "surveys_csat_score_6.csv": Reject(
        [(3, "score", "6", "a csat score must be between 1 and 5 (kind = csat)")], "surveys"
    ),
    "surveys_csat_score_0.csv": Reject(
        [(3, "score", "0", "a csat score must be between 1 and 5 (kind = CSAT)")], "surveys"
    ),
    "surveys_nps_score_11.csv": Reject(
        [(3, "score", "11", "a nps score must be between 0 and 10 (kind = nps)")], "surveys"
    ),
    "surveys_nps_score_negative.csv": Reject(
        [(3, "score", "-1", "a nps score must be between 0 and 10 (kind = nps)")], "surveys"
    ),
    "surveys_unknown_kind.csv": Reject([(3, "kind", "effort", "not one of: csat, nps, ces")],
                                       "surveys"),
    "surveys_empty_score.csv": Reject([(3, "score", "", "required value is empty")], "surveys"),
    # --- targets ----------------------------------------------------------------------------
    "targets_unknown_indicator.csv": Reject(
        [(3, "indicator", "happiness", "not one of: purchases, revenue")], "targets"
    ),
    "targets_target_month_not_after_baseline.csv": Reject(
        [(3, "target_month", "2025-06", "must be after baseline_month (baseline_month = 2025-06)")],
        "targets",
    ),
    "targets_duplicate_indicator_department.csv": Reject(
        [(4, "indicator", "CSAT *", "duplicate (indicator, department) (first in row 2)")],
        "targets",
    ),
    "targets_department_all.csv": Reject(
        [(3, "department", "All", "write * for all departments, not 'All'")], "targets"
    ),
    "targets_unreadable_target.csv": Reject([(3, "target", "forty", NUMBER)], "targets"),
    "targets_target_month_years_ahead.csv": Load(
        # The future-date rule is for data rows: a target may lie years ahead.
        # The optional shape, steps and owner columns are absent, so stored as NULL.
        "targets",
        [("csat", "*", dt.date(2025, 1, 1), dt.date(2030, 12, 1), 95.0, 80.0, 2.0, None, None, None)],
    ),
}


def test_every_corpus_file_has_a_manifest_entry_and_one_defect_each():
    files = {p.name for p in CORPUS.iterdir() if p.name != "README.md"}
    assert files == set(MANIFEST)
    assert len(files) >= 40
    # Tiny files only: anything large is generated by a test.
    assert max(p.stat().st_size for p in CORPUS.iterdir()) < 4096


def assert_loaded(
    con: duckdb.DuckDBPyConnection, result: IngestResult, expected: Load, before: dict
) -> None:
    """The file's table gained exactly ``expected.rows``; every other table is unchanged."""
    assert result.accepted, result.problems
    assert result.dataset == expected.dataset
    assert result.rows == len(expected.rows)
    assert tuple(result.ignored_columns) == expected.ignored
    after = snapshot(con)
    gained = sorted(before[expected.dataset] + expected.rows, key=repr)
    assert after[expected.dataset] == gained
    assert {k: v for k, v in after.items() if k != expected.dataset} == {
        k: v for k, v in before.items() if k != expected.dataset
    }


def assert_rejected(result: IngestResult, expected: Reject) -> None:
    """Exactly the expected problems, each with its row, column, value and rule."""
    assert result.dataset == expected.dataset
    got = [(p.row, p.column) for p in result.problems]
    assert got == [(row, column) for row, column, _, _ in expected.problems], result.problems
    for problem, (_, _, value, rule) in zip(result.problems, expected.problems, strict=True):
        assert rule in problem.rule, problem
        assert problem.file == result.file_name
        if value is not None:
            assert problem.value == value, problem
    # The message names the problem or the count, once, and that nothing was stored.
    assert result.message.endswith("; nothing was stored")
    assert not result.message.startswith("rejected")


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_corpus_file(seeded, name):
    expected = MANIFEST[name]
    path = CORPUS / name
    if isinstance(expected, Reject):
        assert_rejected(rejected_unchanged(seeded, path), expected)
        return
    before = snapshot(seeded)
    result = ingest_file(seeded, path)
    assert_loaded(seeded, result, expected, before)
    # Loading the same file again changes nothing.
    after = snapshot(seeded)
    assert ingest_file(seeded, path).accepted
    assert snapshot(seeded) == after


def test_manifest_summary():
    """The corpus covers both outcomes and every dataset."""
    loads = [n for n, e in MANIFEST.items() if isinstance(e, Load)]
    rejects = [n for n, e in MANIFEST.items() if isinstance(e, Reject)]
    assert (len(loads), len(rejects)) == (10, 55)
    covered = {e.dataset for e in MANIFEST.values() if e.dataset}
    assert covered == set(DATASETS)


# --- files built here: too big or binary to commit ---------------------------------------------


def test_file_far_over_the_size_limit_is_rejected_before_reading(seeded, tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text(BASE["purchases"])
    with path.open("r+b") as f:  # sparse: the size is what counts, no disk is used
        f.truncate(MAX_UPLOAD_BYTES * 3)
    result = rejected_unchanged(seeded, path)
    assert [(p.row, p.column, p.rule) for p in result.problems] == [
        (None, None, f"file is larger than {MAX_UPLOAD_BYTES / 1e6:g} MB (629.1 MB)")
    ]


def test_file_over_a_given_max_bytes_is_rejected(seeded, tmp_path):
    lines = "".join(f"p{i},2025-04-01,c{i},Sales,{i},,\n" for i in range(5000))
    path = write(tmp_path, "big.csv", BASE["purchases"].splitlines(True)[0] + lines)
    size = os.path.getsize(path)
    assert size > 100_000
    result = rejected_unchanged(seeded, path, max_bytes=64 * 1024)
    assert [(p.row, p.column, p.rule) for p in result.problems] == [
        (None, None, f"file is larger than 0.065536 MB ({size / 1e6:.1f} MB)")
    ]


def _workbook(path: Path, sheets: list[list[list[object]]]) -> Path:
    book = openpyxl.Workbook()
    for i, rows in enumerate(sheets):
        sheet = book.active if i == 0 else book.create_sheet(f"Sheet{i + 1}")
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


XLSX_PURCHASES = [
    ["purchase_id", "purchased_at", "customer_id", "department", "amount"],
    ["007", "2025-04-01", "c1", "Sales", 10],
]


def test_spreadsheet_with_two_sheets_is_rejected(seeded, tmp_path):
    path = _workbook(tmp_path / "two.xlsx", [XLSX_PURCHASES, [["notes"], ["draft"]]])
    result = rejected_unchanged(seeded, path)
    assert [(p.row, p.column, p.rule) for p in result.problems] == [
        (
            None,
            None,
            "the workbook has 2 sheets (Sheet, Sheet2); save the data as a workbook with one sheet",
        )
    ]


def test_spreadsheet_with_one_sheet_loads_ids_as_text(seeded, tmp_path):
    before = snapshot(seeded)
    result = ingest_file(seeded, _workbook(tmp_path / "one.xlsx", [XLSX_PURCHASES]))
    row = ("007", dt.datetime(2025, 4, 1), "c1", "Sales", 10.0, None, None, APRIL)
    assert_loaded(seeded, result, Load("purchases", [row]), before)


def test_header_with_an_unclosed_quote_over_the_csv_field_limit(seeded, tmp_path):
    """Regression: the header reader raised ``_csv.Error: field larger than field limit``."""
    lines = "".join(f"p{i},2025-04-01,c{i},Sales,{i},,\n" for i in range(6000))
    path = write(tmp_path, "quote.csv", '"' + BASE["purchases"].splitlines(True)[0] + lines)
    result = rejected_unchanged(seeded, path)
    assert [(p.row, p.column, p.rule) for p in result.problems] == [
        (
            1,
            None,
            "row 1 (the header) cannot be read: field larger than field limit (131072); "
            "check its quotes",
        )
    ]


def test_field_over_the_csv_limit_before_a_blank_line_keeps_row_numbers(seeded, tmp_path):
    """Regression: the row-number walk (files with blank lines) raised ``_csv.Error``."""
    header = "purchase_id,purchased_at,customer_id,department,amount,channel\n"
    text = header + f'p1,2025-04-01,c1,Sales,1,"{"x" * 200_000}"\n\np2,2025-04-01,c1,Sales,-1,\n'
    result = rejected_unchanged(seeded, write(tmp_path, "long.csv", text))
    assert [(p.row, p.column, p.value, p.rule) for p in result.problems] == [
        (4, "amount", "-1", "must be ≥ 0")
    ]


# --- the future-date decision ---------------------------------------------------------------


def test_latest_date_is_a_year_and_a_day_after_today():
    assert MAX_FUTURE_DAYS == 366
    assert latest_date(dt.date(2025, 3, 1)) == dt.date(2026, 3, 2)


@pytest.mark.parametrize("column", ["purchased_at", "month"])
def test_dates_up_to_the_limit_load_and_one_day_later_is_rejected(seeded, tmp_path, column):
    """Rows may be dated up to ``MAX_FUTURE_DAYS`` ahead (scheduled events, clock skew);
    later is a mistyped year, rejected with the row rather than stretching every report."""
    last = latest_date()
    after = last + dt.timedelta(days=1)
    if column == "purchased_at":
        header = BASE["purchases"].splitlines(True)[0]
        ok = header + f"f1,{last:%Y-%m-%d}T23:59:59,c1,Sales,1,,\n"
        bad = header + f"f1,{after:%Y-%m-%d}T00:00,c1,Sales,1,,\n"
        value = f"{after:%Y-%m-%d}T00:00"
    else:
        # A retention month is its first day: the month after the limit's is the first refused.
        header = BASE["retention"].splitlines(True)[0]
        next_month = (last.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        ok = header + f"{last:%Y-%m},Sales,1,1,1\n"
        bad = header + f"{next_month:%Y-%m},Sales,1,1,1\n"
        value = f"{next_month:%Y-%m}"
    assert ingest_file(seeded, write(tmp_path, "ok.csv", ok)).accepted
    result = rejected_unchanged(seeded, write(tmp_path, "bad.csv", bad))
    assert [(p.row, p.column, p.value, p.rule) for p in result.problems] == [
        (2, column, value, f"more than 366 days in the future (after {last:%Y-%m-%d}); check the year")
    ]


def test_earliest_date_loads(seeded, tmp_path):
    header = BASE["purchases"].splitlines(True)[0]
    path = write(tmp_path, "old.csv", header + "o1,1900-01-01,c1,Sales,1,,\n")
    assert ingest_file(seeded, path).accepted


# --- the command line's line for a rejected file --------------------------------------------


def test_rejected_file_line_says_rejected_once(seeded):
    result = ingest_file(seeded, CORPUS / "purchases_header_twice.csv")
    first = format_result(result).splitlines()[0]
    assert first == (
        "rejected: purchases_header_twice.csv (purchases) — 3 problems in 3 rules; "
        "nothing was stored"
    )
    single = format_result(ingest_file(seeded, CORPUS / "purchases_negative_amount.csv"))
    assert single.splitlines()[0] == (
        "rejected: purchases_negative_amount.csv (purchases) — must be ≥ 0; nothing was stored"
    )
    assert log_rows(seeded)[-1][4] == "rejected"


@pytest.mark.parametrize(
    ("text", "row", "rule"),
    [
        (
            b"complaint_id,opened_at,department\r\nk1,2025-04-01,Sales\nk2,2025-04-02,Sales\r\n",
            2,
            "the row ends with LF but the header with CRLF: the file mixes line endings",
        ),
        (
            b'complaint_id,opened_at,department,category\nk1,2025-04-01,Sales,"two\nlines"\n'
            b"k2,2025-04-02T08:00:\r00Z,Sales,\n",
            3,
            "a carriage return (CR) inside the row: the file mixes line endings",
        ),
    ],
)
def test_line_ending_faults_name_their_row(seeded, tmp_path, text, row, rule):
    """Regression: DuckDB's "CSV parser state machine reached an invalid state" was passed on
    as the only problem, with no row; the row is now found (quoted line breaks count once)."""
    path = tmp_path / "endings.csv"
    path.write_bytes(text)
    result = rejected_unchanged(seeded, path)
    assert [(p.row, p.column) for p in result.problems] == [(row, None)]
    assert rule in result.problems[0].rule
    assert result.problems[0].rule.endswith("save it again with one kind (CRLF or LF)")


def test_a_carriage_return_inside_quotes_is_kept(seeded, tmp_path):
    path = tmp_path / "cr.csv"
    path.write_bytes(b'complaint_id,opened_at,department,category\nk1,2025-04-01,Sales,"a\rb"\n')
    assert ingest_file(seeded, path).accepted
    assert seeded.execute("SELECT category FROM complaints WHERE complaint_id = 'k1'").fetchone() == (
        "a\rb",
    )


@pytest.mark.parametrize(
    ("data", "holds"),
    [
        (b"a,b\n1,2\n", False),
        (b"\xef\xbb\xbfa,b\n1,2\n", False),  # the leading BOM is the encoding mark
        (b"a,b\n\xef\xbb\xbf1,2\n", True),
        (b"a,b\n1,\x002\n", True),
        (b"a,b\r\n1,\t2\r\n", False),  # tab and line breaks are not control characters here
        (b"a" * ((1 << 22) - 1) + b"\xef\xbb\xbf", True),  # a BOM across two read chunks
        (b"a,b\n1,\x7f2\n", True),  # DEL
        (b"a,b\r\n1,\x1f2\r\n", True),  # a control byte beside CR LF
        (b"a,\xc3\xa9\n" * 10 + b"1,2\x0b\n", True),  # beside non-ASCII text
        (b"a,b\n" + b"1,2\n" * (1 << 21) + b"3,\x084\n", True),  # in a later chunk
        (b"a,b\n" + b"1,\xc3\xa9\n" * (1 << 21), False),
    ],
)
def test_control_byte_scan(tmp_path, data, holds):
    """The byte scan that lets a clean file skip the per-cell control-character rule."""
    from indicators.ingest.bytescan import scan_bytes

    path = tmp_path / "scan.csv"
    path.write_bytes(data)
    assert scan_bytes(path).controls is holds


@pytest.mark.parametrize(
    ("data", "ascii_only"),
    [
        (b"a,b\n1,2\n", True),
        (b"\xef\xbb\xbfa,b\n1,2\n", True),  # the encoding mark is not data
        (b"a,b\n1,\xc2\xa02\n", False),  # U+00A0, which trim() removes too
        (b"a" * (1 << 22) + b"\xc3\xa9", False),  # past the first chunk
    ],
)
def test_byte_scan_tells_an_ascii_file(tmp_path, data, ascii_only):
    """Only an all-ASCII file takes the cheap trim (prefix/suffix U+0020 test)."""
    from indicators.ingest.bytescan import scan_bytes

    path = tmp_path / "scan.csv"
    path.write_bytes(data)
    assert scan_bytes(path).ascii is ascii_only


def test_control_characters_in_a_frame_are_rejected(seeded):
    """Frames (the targets editor) are not byte-scanned: the cell rule always applies."""
    import pandas as pd

    from indicators.ingest import ingest_frame

    frame = pd.DataFrame(
        {"indicator": ["nps"], "department": ["Sa\x00les"], "baseline_month": ["2025-01"],
         "target_month": ["2025-12"], "target": ["40"]}
    )
    before = snapshot(seeded)
    result = ingest_frame(seeded, frame, file_name="editor")
    assert [(p.row, p.column, p.value) for p in result.problems] == [(2, "department", "Sa\x00les")]
    assert CONTROL in result.problems[0].rule
    assert snapshot(seeded) == before
