"""A rejected file summarised: one line per (column, rule) with the count of ALL its rows and the
first of them, most frequent first, above the per-row list; the value shown is the cell.

The files are written out here; every count and row number below is worked out by hand (the
header is row 1, so the data row ``i`` of a list that starts at 2 is file row ``i``).
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from indicators import store
from indicators.__main__ import main
from indicators.ingest import MAX_PROBLEMS, Problem, format_result
from indicators.ingest.problems import RuleSummary
from tests.indicators.test_ingest import fresh_connection, rejected_unchanged, write

HEADER = "purchase_id,purchased_at,customer_id,department,amount\n"
NEGATIVE = (4, 9, 15, 20)
"""File rows whose amount is -5."""
EMPTY_CUSTOMER = (6, 11)
"""File rows whose customer_id is empty."""


def two_kinds() -> str:
    """20 data rows (file rows 2…21): 4 negative amounts and 2 empty customer ids."""
    lines = []
    for row in range(2, 22):
        amount = "-5" if row in NEGATIVE else "10"
        customer = "" if row in EMPTY_CUSTOMER else f"c{row}"
        lines.append(f"p{row},2025-03-01,{customer},Sales,{amount}\n")
    return HEADER + "".join(lines)


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    yield from fresh_connection()


# --- a file with two kinds of problem ----------------------------------------------------------


def test_the_summary_counts_each_rule_most_frequent_first(con, tmp_path):
    result = rejected_unchanged(con, write(tmp_path, "two.csv", two_kinds()))
    assert result.summary == [
        RuleSummary("amount", "must be ≥ 0", 4, (4, 9, 15)),
        RuleSummary("customer_id", "required value is empty", 2, (6, 11)),
    ]
    assert result.summary_lines() == [
        "amount: must be ≥ 0 — 4 rows, first 4, 9, 15",
        "customer_id: required value is empty — 2 rows: 6, 11",
    ]
    assert result.message == f"{4 + 2} problems in 2 rules; nothing was stored"
    # Every problem is still listed, in file order.
    assert [(p.row, p.column, p.value) for p in result.problems] == [
        (4, "amount", "-5"),
        (6, "customer_id", ""),
        (9, "amount", "-5"),
        (11, "customer_id", ""),
        (15, "amount", "-5"),
        (20, "amount", "-5"),
    ]


def test_the_command_prints_the_message_then_the_summary_then_the_rows(tmp_path, capsys):
    db = tmp_path / "s.duckdb"
    path = write(tmp_path, "two.csv", two_kinds())
    assert main(["ingest", "--db", str(db), str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"[1/1] {path} …"
    assert lines[1:6] == [
        "rejected: two.csv (purchases) — 6 problems in 2 rules; nothing was stored",
        "  amount: must be ≥ 0 — 4 rows, first 4, 9, 15",
        "  customer_id: required value is empty — 2 rows: 6, 11",
        "  two.csv row 4 column amount value '-5': must be ≥ 0",
        "  two.csv row 6 column customer_id value '': required value is empty",
    ]
    log = store.connect(db, read_only=True)
    try:
        assert log.execute("SELECT outcome, message FROM upload_log").fetchall() == [
            ("rejected", "6 problems in 2 rules; nothing was stored")
        ]
    finally:
        log.close()


# --- counts beyond the listed cap -----------------------------------------------------------------


def test_500_broken_rows_are_counted_though_200_are_listed(con, tmp_path):
    lines = "".join(f"p{row},2025-03-01,c,Sales,-1\n" for row in range(2, 502))
    result = rejected_unchanged(con, write(tmp_path, "many.csv", HEADER + lines))
    assert len(result.problems) == MAX_PROBLEMS == 200
    assert result.summary == [RuleSummary("amount", "must be ≥ 0", 500, (2, 3, 4))]
    assert result.message == "500 problems in 1 rule (the first 200 listed); nothing was stored"
    assert format_result(result).splitlines()[:3] == [
        "rejected: many.csv (purchases) — 500 problems in 1 rule (the first 200 listed); "
        "nothing was stored",
        "  amount: must be ≥ 0 — 500 rows, first 2, 3, 4",
        "  many.csv row 2 column amount value '-1': must be ≥ 0",
    ]


def test_each_rule_is_counted_over_the_whole_file(con, tmp_path):
    """3,000 negative amounts (rows 2…3001) then 2,500 empty customers (rows 3002…5501): the
    list stops at row 201, the counts do not."""
    negative = "".join(f"p{row},2025-03-01,c,Sales,-1\n" for row in range(2, 3002))
    empty = "".join(f"p{row},2025-03-01,,Sales,1\n" for row in range(3002, 5502))
    result = rejected_unchanged(con, write(tmp_path, "big.csv", HEADER + negative + empty))
    assert result.summary_lines() == [
        "amount: must be ≥ 0 — 3,000 rows, first 2, 3, 4",
        "customer_id: required value is empty — 2,500 rows, first 3002, 3003, 3004",
    ]
    assert result.message == (
        "5,500 problems in 2 rules (the first 200 listed); nothing was stored"
    )
    assert result.problems[-1].row == 201


def test_duplicates_and_cross_column_rules_summarise_without_the_row_detail(con, tmp_path):
    text = (
        "purchase_id,purchased_at,customer_id,department,amount,list_amount\n"
        "p1,2025-03-01,c,Sales,10,12\n"  # row 2
        "p1,2025-03-01,c,Sales,10,12\n"  # row 3: duplicate of row 2
        "p3,2025-03-01,c,Sales,10,8\n"  # row 4: list_amount below amount
        "p1,2025-03-01,c,Sales,10,12\n"  # row 5: duplicate of row 2
        "p5,2025-03-01,c,Sales,10,9\n"  # row 6: list_amount below amount
    )
    result = rejected_unchanged(con, write(tmp_path, "d.csv", text))
    assert result.summary_lines() == [
        "purchase_id: duplicate purchase_id — 2 rows: 3, 5",
        "list_amount: must be ≥ amount — 2 rows: 4, 6",
    ]
    assert [(p.row, p.rule) for p in result.problems] == [
        (3, "duplicate purchase_id (first in row 2)"),
        (4, "must be ≥ amount (amount = 10)"),
        (5, "duplicate purchase_id (first in row 2)"),
        (6, "must be ≥ amount (amount = 10)"),
    ]


# --- structural problems: the count of values, the cell, never the line ---------------------------


def test_ragged_rows_say_how_many_values_and_summarise_per_kind(con, tmp_path):
    text = (
        HEADER
        + "p2,2025-03-01,c,Sales,1,x,y\n"  # row 2: 7 values
        + "p3,2025-03-01,c,Sales,1\n"
        + "p4,2025-03-01,c\n"  # row 4: 3 values
        + "p5,2025-03-01,c,Sales,1,x\n"  # row 5: 6 values
        + "p6,2025-03-01,c,Sales,-1\n"  # row 6: a negative amount
    )
    result = rejected_unchanged(con, write(tmp_path, "r.csv", text))
    assert [(p.row, p.column, p.value, p.rule) for p in result.problems] == [
        (2, None, None, "too many values in the row: 7 values, the header has 5"),
        (4, "department", None, "too few values in the row: 3 values, the header has 5"),
        (5, None, None, "too many values in the row: 6 values, the header has 5"),
        (6, "amount", "-1", "must be ≥ 0"),
    ]
    assert result.summary == [
        RuleSummary(None, "too many values in the row", 2, (2, 5)),
        RuleSummary(None, "too few values in the row", 1, (4,)),
        RuleSummary("amount", "must be ≥ 0", 1, (6,)),
    ]
    assert result.summary_lines()[0] == "too many values in the row — 2 rows: 2, 5"


def test_a_byte_that_is_not_utf8_shows_its_cell_escaped_not_the_line(con, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(
        (HEADER + "p2,2025-03-01,c2,Sales,1\np3,2025-03-01,c3,Caf\xe9 M\xfcller,1\n").encode(
            "latin-1"
        )
    )
    result = rejected_unchanged(con, path)
    assert result.problems == [
        Problem(
            "latin.csv",
            3,
            "department",
            r"Caf\xe9 M\xfcller",
            "not valid UTF-8: name the file's encoding (cp1251 or latin-1)",
        )
    ]


def test_300_rows_not_utf8_are_counted_and_the_200_listed_show_their_cells(con, tmp_path):
    path = tmp_path / "many.csv"
    rows = "".join(f"p{row},2025-03-01,c,Caf\xe9,1\n" for row in range(2, 302))
    path.write_bytes((HEADER + rows).encode("latin-1"))
    result = rejected_unchanged(con, path)
    rule = "not valid UTF-8: name the file's encoding (cp1251 or latin-1)"
    assert result.summary == [RuleSummary("department", rule, 300, (2, 3, 4))]
    assert result.message == "300 problems in 1 rule (the first 200 listed); nothing was stored"
    assert [(p.row, p.value) for p in result.problems] == [
        (row, r"Caf\xe9") for row in range(2, 202)
    ]


def test_a_quoted_cell_not_utf8_is_found_past_a_quoted_line_break(con, tmp_path):
    path = tmp_path / "q.csv"
    path.write_bytes(
        HEADER.encode() + b'p2,2025-03-01,"c\n2",Sales,1\np3,2025-03-01,"x, \xff",Sales,1\n'
    )
    result = rejected_unchanged(con, path)
    assert [(p.row, p.column, p.value) for p in result.problems] == [
        (3, "customer_id", r"x, \xff")
    ]


def test_a_file_rejected_while_read_is_summarised_from_its_problems(con, tmp_path):
    result = rejected_unchanged(con, write(tmp_path, "shape.csv", "purchase_id,amount\np,1\n"))
    columns = ("purchased_at", "customer_id", "department")
    assert [s.column for s in result.summary] == list(columns)
    assert all(s.count == 1 and s.first_rows == (1,) for s in result.summary)
    # Each rule broken once: the list says it all, so no summary lines are printed.
    assert result.summary_lines() == []
    assert result.message == "3 problems in 3 rules; nothing was stored"
    assert format_result(result).splitlines()[1].startswith("  shape.csv row 1 column ")


def test_a_single_problem_is_the_message(con, tmp_path):
    result = rejected_unchanged(con, write(tmp_path, "one.csv", HEADER + "p,2025-03-01,c,S,-1\n"))
    assert result.message == "must be ≥ 0; nothing was stored"
    assert result.summary == [RuleSummary("amount", "must be ≥ 0", 1, (2,))]
    assert result.summary_lines() == []


@pytest.mark.parametrize(
    ("summary", "line"),
    [
        (RuleSummary("amount", "must be ≥ 0", 1, (18,)), "amount: must be ≥ 0 — row 18"),
        (RuleSummary("amount", "must be ≥ 0", 2, (18, 27)), "amount: must be ≥ 0 — 2 rows: 18, 27"),
        (
            RuleSummary("amount", "must be ≥ 0", 3_838, (18, 27, 41)),
            "amount: must be ≥ 0 — 3,838 rows, first 18, 27, 41",
        ),
        (RuleSummary(None, "no data rows", 1), "no data rows"),
        (RuleSummary(None, "bad quoting", 12_000, (2, 3, 12_345)),
         "bad quoting — 12,000 rows, first 2, 3, 12345"),
    ],
)
def test_a_summary_line(summary, line):
    assert summary.line() == line


# --- dates that fit no named format: which one they look like -------------------------------------

DATES_HEADER = "complaint_id,opened_at,department\n"
ISO_RULE = "not a valid date/time: ISO"


def _dates(con, tmp_path, *values: str, date_format: str = "ISO"):
    rows = "".join(f"k{i},{v},Sales\n" for i, v in enumerate(values))
    return rejected_unchanged(
        con, write(tmp_path, "d.csv", DATES_HEADER + rows), date_format=date_format
    )


def test_12_hour_times_are_recognised_and_the_flag_named(con, tmp_path):
    result = _dates(con, tmp_path, "01/05/2015 12:40:41 PM", "1/13/2015 9:03 am")
    assert result.summary_lines() == [
        "opened_at: not a valid date/time; these look like M/D/YYYY h:mm AM/PM: add "
        "--date-format 'M/D/YYYY h:mm AM/PM' (on the upload page: Date format M/D/YYYY h:mm "
        "AM/PM) — 2 rows: 2, 3"
    ]
    # The rows keep the rule in full (ISO and the formats one may name).
    assert all(p.rule.startswith(ISO_RULE) for p in result.problems)


def test_dotted_dates_look_like_dd_mm_yyyy(con, tmp_path):
    result = _dates(con, tmp_path, "07.03.2025", "31.12.2024 14:05")
    assert result.summary[0].rule == (
        "not a valid date/time; these look like DD.MM.YYYY: add --date-format 'DD.MM.YYYY' "
        "(on the upload page: Date format DD.MM.YYYY)"
    )


def test_ambiguous_dates_name_both_orders_and_how_to_tell(con, tmp_path):
    result = _dates(con, tmp_path, "01/05/2015", "03/04/2015")
    assert result.summary[0].rule == (
        "not a valid date/time; these could be DD/MM/YYYY or M/D/YYYY (01/05/2015 is 1 May "
        "2015 as DD/MM/YYYY, 5 January 2015 as M/D/YYYY), and no day above 12 tells which: "
        "check how the file was exported, then add --date-format 'DD/MM/YYYY' or "
        "--date-format 'M/D/YYYY' (on the upload page: Date format)"
    )


def test_a_day_above_12_tells_the_order(con, tmp_path):
    """13/04/2015 is only D/M; 03/04/2015 fits both, so D/M reads 2 of 2 and M/D 1 of 2."""
    result = _dates(con, tmp_path, "03/04/2015", "13/04/2015")
    assert "these look like DD/MM/YYYY: add --date-format 'DD/MM/YYYY'" in result.summary[0].rule


def test_most_values_fitting_say_how_many(con, tmp_path):
    result = _dates(con, tmp_path, "07.03.2025", "n/a", "08.03.2025")
    assert "2 of the first 3 look like DD.MM.YYYY" in result.summary[0].rule


def test_a_named_format_that_does_not_fit_points_to_the_one_that_does(con, tmp_path):
    result = _dates(con, tmp_path, "1/13/2015 9:03 PM", date_format="M/D/YYYY")
    assert result.summary[0].rule.startswith(
        "not a valid date/time; these look like M/D/YYYY h:mm AM/PM"
    )


def test_no_hint_when_no_format_reads_the_values(con, tmp_path):
    result = _dates(con, tmp_path, "yesterday", "2/30/2015")
    assert result.summary[0].rule.startswith(ISO_RULE)
    assert "look like" not in result.summary[0].rule
