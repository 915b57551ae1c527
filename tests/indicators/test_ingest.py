"""Ingest: every dataset loads with exact values; every SPEC §1 rule rejects the whole file.

Every rejection names the row (as in the file, header = row 1), the column and the rule, and
leaves the data tables exactly as they were.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from indicators import store
from indicators.ingest import IngestResult, Problem, ingest_file, ingest_frame
from indicators.schema import DATASETS

# --- helpers shared by the other ingest test modules --------------------------------------


def fresh_connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory database with every table, closed afterwards (the ``con`` fixtures)."""
    connection = duckdb.connect()
    store.init_db(connection)
    yield connection
    connection.close()


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    yield from fresh_connection()


def write(directory: Path, name: str, text: str, *, encoding: str = "utf-8") -> Path:
    path = directory / name
    path.write_bytes(text.encode(encoding))
    return path


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every data table's contents, sorted, to compare before/after an upload."""
    return {
        name: sorted(con.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
        for name in DATASETS
    }


def log_rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        'SELECT file_name, dataset, slices, "rows", outcome FROM upload_log ORDER BY id'
    ).fetchall()


def assert_problem(result: IngestResult, row: int | None, column: str | None, rule: str) -> Problem:
    """The result is a rejection holding a problem at ``row``/``column`` whose rule says ``rule``."""
    assert result.outcome == "rejected"
    assert not result.accepted
    matching = [
        p for p in result.problems if p.row == row and p.column == column and rule in p.rule
    ]
    assert matching, f"no problem at row {row}, column {column} with {rule!r}: {result.problems}"
    return matching[0]


def rejected_unchanged(
    con: duckdb.DuckDBPyConnection, path: Path, **options: object
) -> IngestResult:
    """Ingest a file that must be rejected and check nothing but one log row changed."""
    before, log_before = snapshot(con), log_rows(con)
    result = ingest_file(con, path, **options)
    assert result.outcome == "rejected", result
    assert snapshot(con) == before
    log_after = log_rows(con)
    assert log_after[:-1] == log_before
    assert log_after[-1][0] == result.file_name
    assert log_after[-1][4] == "rejected"
    return result


PURCHASES = (
    "purchase_id,purchased_at,customer_id,department,amount,channel,list_amount\n"
    "007,2025-03-07T14:05,c1,Sales,12.5,web,15\n"
    "008,2025-03-08 09:00:00,c2,Sales,20,,\n"
    "009,2025-03-09,c1,Support,0,shop,0\n"
)


def load(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, name: str, text: str, **options: object
) -> IngestResult:
    result = ingest_file(con, write(tmp_path, name, text), **options)
    assert result.accepted, result.problems
    return result


# --- every dataset loads with exact values -------------------------------------------------


def test_purchases_load_exact_values(con, tmp_path):
    result = load(con, tmp_path, "purchases.csv", PURCHASES, user="ana")
    assert (result.dataset, result.rows) == ("purchases", 3)
    assert result.slices == [("2025-03", "Sales"), ("2025-03", "Support")]
    assert result.ignored_columns == []
    rows = con.execute("SELECT * FROM purchases ORDER BY purchase_id").fetchall()
    march = dt.date(2025, 3, 1)
    assert rows == [
        ("007", dt.datetime(2025, 3, 7, 14, 5), "c1", "Sales", 12.5, "web", 15.0, march),
        ("008", dt.datetime(2025, 3, 8, 9, 0), "c2", "Sales", 20.0, None, None, march),
        ("009", dt.datetime(2025, 3, 9), "c1", "Support", 0.0, "shop", 0.0, march),
    ]
    assert log_rows(con) == [
        ("purchases.csv", "purchases", "2025-03 Sales; 2025-03 Support", 3, "accepted")
    ]
    assert con.execute('SELECT "user" FROM upload_log').fetchone() == ("ana",)


def test_complaints_load_with_components_lower_cased(con, tmp_path):
    text = (
        "Complaint_ID , OPENED_AT,department,customer_id,component,category,resolved_at,"
        "compensation\n"
        "k1,2025-03-02T10:00,Sales,c1,People,rude,2025-03-02T12:30,5.25\n"
        "k2,2025-03-03T10:00,Sales,,,,,\n"
    )
    result = load(con, tmp_path, "complaints.csv", text)
    assert (result.dataset, result.rows) == ("complaints", 2)
    rows = con.execute("SELECT * FROM complaints ORDER BY complaint_id").fetchall()
    assert rows == [
        (
            "k1",
            dt.datetime(2025, 3, 2, 10),
            "Sales",
            "c1",
            "people",
            "rude",
            dt.datetime(2025, 3, 2, 12, 30),
            5.25,
            None,
            dt.date(2025, 3, 1),
        ),
        (
            "k2",
            dt.datetime(2025, 3, 3, 10),
            "Sales",
            None,
            None,
            None,
            None,
            None,
            None,
            dt.date(2025, 3, 1),
        ),
    ]


def test_responses_load_with_unanswered_request(con, tmp_path):
    text = (
        "request_id,department,received_at,responded_at,promised_minutes\n"
        "r1,Support,2025-03-01T08:00,2025-03-01T08:45,30\n"
        "r2,Support,2025-03-01T09:00,,\n"
    )
    result = load(con, tmp_path, "responses.csv", text)
    assert result.rows == 2
    assert con.execute("SELECT * FROM responses ORDER BY request_id").fetchall() == [
        (
            "r1",
            "Support",
            dt.datetime(2025, 3, 1, 8),
            dt.datetime(2025, 3, 1, 8, 45),
            30.0,
            None,
            None,  # customer_id
            dt.date(2025, 3, 1),
        ),
        ("r2", "Support", dt.datetime(2025, 3, 1, 9), None, None, None, None,
         dt.date(2025, 3, 1)),
    ]


def test_retention_loads_months_as_first_day(con, tmp_path):
    text = (
        "month,department,customers_start,customers_end,new_customers\n"
        "2025-03,Sales,100,110,20\n"
        "2025-04,Sales,110,105,0\n"
    )
    result = load(con, tmp_path, "retention.csv", text)
    assert result.slices == [("2025-03", "Sales"), ("2025-04", "Sales")]
    assert con.execute("SELECT * FROM retention ORDER BY month").fetchall() == [
        (dt.date(2025, 3, 1), "Sales", 100, 110, 20),
        (dt.date(2025, 4, 1), "Sales", 110, 105, 0),
    ]


def test_surveys_load_kind_case_insensitive(con, tmp_path):
    text = (
        "survey_id,answered_at,department,kind,score,customer_id\n"
        "s1,2025-03-05,Sales,CSAT,5,c1\n"
        "s2,2025-03-06,Sales,nps,0,\n"
        "s3,2025-03-06,Sales,Nps,10,c2\n"
    )
    load(con, tmp_path, "surveys.csv", text)
    assert con.execute("SELECT survey_id, kind, score FROM surveys ORDER BY 1").fetchall() == [
        ("s1", "csat", 5),
        ("s2", "nps", 0),
        ("s3", "nps", 10),
    ]


def test_targets_load_by_indicator_and_department(con, tmp_path):
    text = (
        "indicator,department,baseline_month,target_month,target,baseline,tolerance\n"
        "CSAT,*,2025-01,2025-12,90,80,2\n"
        "complaint_rate,Sales,2025-01,2025-06,1.5,,\n"
    )
    result = load(con, tmp_path, "targets.csv", text)
    assert result.slices == [("complaint_rate", "Sales"), ("csat", "*")]
    assert con.execute("SELECT * FROM targets ORDER BY indicator").fetchall() == [
        # shape, steps and owner: not in the file, empty
        ("complaint_rate", "Sales", dt.date(2025, 1, 1), dt.date(2025, 6, 1), 1.5, None, None,
         None, None, None),
        ("csat", "*", dt.date(2025, 1, 1), dt.date(2025, 12, 1), 90.0, 80.0, 2.0,
         None, None, None),
    ]
    assert log_rows(con)[-1][2] == "complaint_rate Sales; csat *"


def test_extra_columns_are_ignored_and_reported(con, tmp_path):
    text = "purchase_id,purchased_at,customer_id,department,amount,Notes,\n1,2025-03-01,c,S,1,x,\n"
    result = load(con, tmp_path, "extra.csv", text)
    assert result.ignored_columns == ["Notes", "(column 7 without a name)"]
    assert "notes" not in [r[0] for r in con.execute("DESCRIBE purchases").fetchall()]


# --- every rule broken once: the whole file is rejected -----------------------------------

PURCHASE_HEADER = "purchase_id,purchased_at,customer_id,department,amount,list_amount\n"
GOOD_PURCHASE = "p1,2025-03-01,c1,Sales,10,12\n"


@pytest.fixture
def loaded(con, tmp_path):
    """A database that already holds data, so an unchanged table is a real check."""
    load(con, tmp_path, "seed.csv", PURCHASES)
    return con


@pytest.mark.parametrize(
    ("line", "column", "value", "rule"),
    [
        ("p2,2025-03-02,c1,Sales,-1,", "amount", "-1", "must be ≥ 0"),
        ("p2,2025-03-02,c1,Sales,10,9.5", "list_amount", "9.5", "must be ≥ amount"),
        ("p2,2025-03-02,c1,Sales,ten,", "amount", "ten", "not an amount"),
        ("p2,2025-03-02,c1,Sales,NaN,", "amount", "NaN", "not an amount"),
        ("p2,2025-03-02,c1,Sales,inf,", "amount", "inf", "not an amount"),
        ("p2,2025-03-02,c1,Sales,1e999,", "amount", "1e999", "larger than 99,999,999,999,999.9999"),
        ("p2,2025-03-02,c1,,10,", "department", "", "required value is empty"),
        ("p2,,c1,Sales,10,", "purchased_at", "", "required value is empty"),
        ("p2,2025-13-01,c1,Sales,10,", "purchased_at", "2025-13-01", "not a valid date/time"),
        ("p2,2025-02-31,c1,Sales,10,", "purchased_at", "2025-02-31", "not a valid date/time"),
        ("p2,2025-3-7,c1,Sales,10,", "purchased_at", "2025-3-7", "not a valid date/time"),
        (
            "p1,2025-03-02,c1,Sales,10,",
            "purchase_id",
            "p1",
            "duplicate purchase_id (first in row 2)",
        ),
    ],
)
def test_purchase_rule_rejects_whole_file(loaded, tmp_path, line, column, value, rule):
    path = write(tmp_path, "bad.csv", PURCHASE_HEADER + GOOD_PURCHASE + line + "\n")
    result = rejected_unchanged(loaded, path)
    problem = assert_problem(result, 3, column, rule)
    assert problem.value == value
    assert problem.file == "bad.csv"
    assert len(result.problems) == 1


@pytest.mark.parametrize(
    ("text", "row", "column", "rule"),
    [
        (
            "complaint_id,opened_at,department,component\nk1,2025-03-01,Sales,kitchen\n",
            2,
            "component",
            "not one of: product, procedures, facilities, systems, information",
        ),
        (
            "complaint_id,opened_at,department,resolved_at\n"
            "k1,2025-03-01T10:00,Sales,2025-03-01T09:59\n",
            2,
            "resolved_at",
            "must not be before opened_at",
        ),
        (
            "complaint_id,opened_at,department,compensation\nk1,2025-03-01,Sales,-0.5\n",
            2,
            "compensation",
            "must be ≥ 0",
        ),
        (
            "request_id,department,received_at,responded_at\n"
            "r1,Support,2025-03-01T10:00,2025-03-01T09:00\n",
            2,
            "responded_at",
            "must not be before received_at",
        ),
        (
            "request_id,department,received_at,responded_at,promised_minutes\n"
            "r1,Support,2025-03-01T10:00,,0\n",
            2,
            "promised_minutes",
            "must be > 0",
        ),
        (
            "survey_id,answered_at,department,kind,score\ns1,2025-03-01,Sales,csat,0\n",
            2,
            "score",
            "a csat score must be between 1 and 5",
        ),
        (
            "survey_id,answered_at,department,kind,score\ns1,2025-03-01,Sales,nps,11\n",
            2,
            "score",
            "a nps score must be between 0 and 10",
        ),
        (
            "survey_id,answered_at,department,kind,score\ns1,2025-03-01,Sales,effort,3\n",
            2,
            "kind",
            "not one of: csat, nps, ces",
        ),
        (
            "survey_id,answered_at,department,kind,score\ns1,2025-03-01,Sales,ces,8\n",
            2,
            "score",
            "a ces score must be between 1 and 7",
        ),
        (
            "survey_id,answered_at,department,kind,score\ns1,2025-03-01,Sales,csat,4.0\n",
            2,
            "score",
            "not a whole number",
        ),
        (
            "month,department,customers_start,customers_end,new_customers\n"
            "2025-03,Sales,100,110,111\n",
            2,
            "new_customers",
            "must be ≤ customers_end",
        ),
        (
            "month,department,customers_start,customers_end,new_customers\n"
            "2025-03,Sales,-1,110,10\n",
            2,
            "customers_start",
            "must be ≥ 0",
        ),
        (
            "month,department,customers_start,customers_end,new_customers\n"
            "2025-3,Sales,100,110,10\n",
            2,
            "month",
            "not a valid month written YYYY-MM",
        ),
        (
            "month,department,customers_start,customers_end,new_customers\n"
            "2025-13,Sales,100,110,10\n",
            2,
            "month",
            "not a valid month written YYYY-MM",
        ),
        (
            "month,department,customers_start,customers_end,new_customers\n"
            "2025-03,Sales,100,110,10\n2025-04,Sales,100,110,10\n2025-03,Sales,1,1,1\n",
            4,
            "month",
            "duplicate (month, department) (first in row 2)",
        ),
        (
            "indicator,department,baseline_month,target_month,target\n"
            "happiness,Sales,2025-01,2025-06,1\n",
            2,
            "indicator",
            "not one of: purchases, revenue",
        ),
        (
            "indicator,department,baseline_month,target_month,target\n"
            "csat,Sales,2025-06,2025-06,90\n",
            2,
            "target_month",
            "must be after baseline_month",
        ),
        (
            "indicator,department,baseline_month,target_month,target\n"
            "csat,Sales,2025-01,2025-06,90\nCSAT,Sales,2025-02,2025-07,95\n",
            3,
            "indicator",
            "duplicate (indicator, department) (first in row 2)",
        ),
        (
            "complaint_id,opened_at,department\nk1,2025-03-01,Sales\nk2,2025-03-01, all \n",
            3,
            "department",
            "'All' is reserved for every department together",
        ),
        (
            "indicator,department,baseline_month,target_month,target\n"
            "csat,All,2025-01,2025-06,90\n",
            2,
            "department",
            "write * for all departments, not 'All'",
        ),
        (
            "purchase_id,purchased_at,customer_id,department,amount\n"
            "p1,3/7/2025 14:05,c1,Sales,1\n",
            2,
            "purchased_at",
            "name it (DD.MM.YYYY, DD/MM/YYYY, M/D/YYYY, M/D/YYYY h:mm AM/PM or DD/MM/YYYY h:mm AM/PM)",
        ),
    ],
)
def test_rule_rejects_whole_file(loaded, tmp_path, text, row, column, rule):
    result = rejected_unchanged(loaded, write(tmp_path, "bad.csv", text))
    assert_problem(result, row, column, rule)


def test_every_problem_is_reported_with_its_row(loaded, tmp_path):
    text = PURCHASE_HEADER + GOOD_PURCHASE + "p2,2025-03-02,c1,Sales,-1,\np3,bad,c1,,5,\n"
    result = rejected_unchanged(loaded, write(tmp_path, "bad.csv", text))
    assert [(p.row, p.column, p.value) for p in result.problems] == [
        (3, "amount", "-1"),
        (4, "department", ""),
        (4, "purchased_at", "bad"),
    ]
    frame = result.problems_frame()
    assert list(frame.columns) == ["file", "row", "column", "value", "rule"]
    assert frame["row"].tolist() == [3, 4, 4]
    assert result.message == "3 problems in 3 rules; nothing was stored"


def test_problems_are_capped_at_200_but_counted(loaded, tmp_path):
    lines = "".join(f"p{i},2025-03-01,c,Sales,-{i},\n" for i in range(1, 251))
    result = rejected_unchanged(loaded, write(tmp_path, "many.csv", PURCHASE_HEADER + lines))
    assert len(result.problems) == 200
    assert result.problems[0] == Problem("many.csv", 2, "amount", "-1", "must be ≥ 0")
    assert result.problems[-1].row == 201
    assert "250 problems" in result.message


def test_quoted_multiline_record_counts_as_one_row(loaded, tmp_path):
    text = (
        "complaint_id,opened_at,department,category\n"
        'k1,2025-03-01,Sales,"two\nlines"\n'
        "k2,2025-03-01,,x\n"
    )
    result = rejected_unchanged(loaded, write(tmp_path, "multi.csv", text))
    assert_problem(result, 3, "department", "required value is empty")


def test_blank_lines_keep_file_row_numbers(loaded, tmp_path):
    text = PURCHASE_HEADER + GOOD_PURCHASE + "\n\np2,2025-03-02,c1,Sales,-1,\n"
    result = rejected_unchanged(loaded, write(tmp_path, "blank.csv", text))
    assert_problem(result, 5, "amount", "must be ≥ 0")


def test_missing_required_column(loaded, tmp_path):
    text = "purchase_id,purchased_at,customer_id,department\np1,2025-03-01,c1,Sales\n"
    result = rejected_unchanged(loaded, write(tmp_path, "nocol.csv", text))
    problem = assert_problem(result, 1, "amount", "closest dataset is purchases")
    assert "missing: amount" in problem.rule


def test_unknown_shape_names_closest_dataset(loaded, tmp_path):
    result = rejected_unchanged(loaded, write(tmp_path, "odd.csv", "foo,bar\n1,2\n"))
    assert result.dataset is None
    assert all(p.row == 1 and "unknown file shape" in p.rule for p in result.problems)


def test_duplicate_header_column_after_normalising(loaded, tmp_path):
    text = "purchase_id,purchased_at,customer_id,department,amount, AMOUNT\np1,2025-03-01,c,S,1,2\n"
    result = rejected_unchanged(loaded, write(tmp_path, "dup.csv", text))
    problem = assert_problem(result, 1, "amount", "duplicate column name (columns 5 and 6)")
    assert problem.value == " AMOUNT"


def test_empty_file(loaded, tmp_path):
    result = rejected_unchanged(loaded, write(tmp_path, "empty.csv", ""))
    assert result.problems == [Problem("empty.csv", None, None, None, "file is empty")]


def test_header_only_file(loaded, tmp_path):
    result = rejected_unchanged(loaded, write(tmp_path, "header.csv", PURCHASE_HEADER))
    assert result.dataset == "purchases"
    assert result.problems == [Problem("header.csv", None, None, None, "no data rows")]


def test_ragged_row_is_reported_with_its_row(loaded, tmp_path):
    text = PURCHASE_HEADER + GOOD_PURCHASE + "p2,2025-03-02,c1\n" + "p3,2025-03-02,c1,S,-1,\n"
    result = rejected_unchanged(loaded, write(tmp_path, "ragged.csv", text))
    assert_problem(result, 3, "department", "too few values in the row")
    # The row after a ragged one keeps its own number.
    assert_problem(result, 4, "amount", "must be ≥ 0")


def test_file_larger_than_the_cap(loaded, tmp_path):
    path = write(tmp_path, "big.csv", PURCHASES)
    result = rejected_unchanged(loaded, path, max_bytes=100)
    assert result.problems[0].rule.startswith("file is larger than 0.0001 MB")


def test_missing_file_is_a_logged_rejection(loaded, tmp_path):
    result = rejected_unchanged(loaded, tmp_path / "nope.csv")
    assert "file does not exist" in result.problems[0].rule


def test_bad_options_raise(con, tmp_path):
    path = write(tmp_path, "p.csv", PURCHASES)
    with pytest.raises(ValueError, match="encoding"):
        ingest_file(con, path, encoding="utf-16")
    with pytest.raises(ValueError, match="date_format"):
        ingest_file(con, path, date_format="YYYY/MM/DD")
    with pytest.raises(ValueError, match="delimiter"):
        ingest_file(con, path, delimiter="\t")


# --- idempotency and slice replacement -----------------------------------------------------


def test_same_file_twice_is_idempotent(con, tmp_path):
    path = write(tmp_path, "purchases.csv", PURCHASES)
    assert ingest_file(con, path).accepted
    after_first = snapshot(con)
    second = ingest_file(con, path)
    assert second.accepted
    assert snapshot(con) == after_first
    assert [r[4] for r in log_rows(con)] == ["accepted", "accepted"]


def test_reupload_replaces_only_its_slice(con, tmp_path):
    load(
        con,
        tmp_path,
        "all.csv",
        PURCHASE_HEADER
        + "a1,2025-02-10,c1,Sales,1,\n"  # February Sales: untouched
        + "a2,2025-03-10,c1,Sales,2,\n"  # March Sales: replaced (dropped)
        + "a3,2025-03-11,c2,Sales,3,\n"  # March Sales: replaced (kept with new amount)
        + "a4,2025-03-12,c3,Support,4,\n",  # March Support: untouched
    )
    result = load(
        con,
        tmp_path,
        "march_sales.csv",
        PURCHASE_HEADER + "a3,2025-03-11,c2,Sales,30,\na5,2025-03-31T23:59,c4,Sales,5,\n",
    )
    assert result.slices == [("2025-03", "Sales")]
    rows = con.execute(
        "SELECT purchase_id, department, amount FROM purchases ORDER BY purchase_id"
    ).fetchall()
    assert rows == [
        ("a1", "Sales", 1.0),
        ("a3", "Sales", 30.0),
        ("a4", "Support", 4.0),
        ("a5", "Sales", 5.0),
    ]


def test_targets_reupload_replaces_indicator_department_pairs(con, tmp_path):
    header = "indicator,department,baseline_month,target_month,target\n"
    load(
        con,
        tmp_path,
        "t1.csv",
        header + "csat,*,2025-01,2025-12,90\nnps,Sales,2025-01,2025-12,30\n",
    )
    load(con, tmp_path, "t2.csv", header + "csat,*,2025-01,2025-12,95\n")
    assert con.execute(
        "SELECT indicator, department, target FROM targets ORDER BY 1"
    ).fetchall() == [
        ("csat", "*", 95.0),
        ("nps", "Sales", 30.0),
    ]


# --- frames (the targets editor) ----------------------------------------------------------


def test_frame_replace_all_replaces_whole_table(con, tmp_path):
    import pandas as pd

    header = "indicator,department,baseline_month,target_month,target\n"
    load(
        con, tmp_path, "t.csv", header + "csat,*,2025-01,2025-12,90\nnps,Sales,2025-01,2025-12,30\n"
    )
    frame = pd.DataFrame(
        {
            "indicator": ["revenue"],
            "department": ["Sales"],
            "baseline_month": ["2025-01"],
            "target_month": ["2025-06"],
            "target": ["1000"],
            "baseline": [None],
            "tolerance": [""],
        }
    )
    result = ingest_frame(con, frame, file_name="targets editor", user="ana", replace_all=True)
    assert result.accepted, result.problems
    assert con.execute(
        "SELECT indicator, department, target, baseline FROM targets"
    ).fetchall() == [
        ("revenue", "Sales", 1000.0, None),
    ]
    assert log_rows(con)[-1] == ("targets editor", "targets", "revenue Sales", 1, "accepted")


def test_frame_numbers_and_rejection_rows(con):
    import pandas as pd

    frame = pd.DataFrame(
        {
            "indicator": ["csat", "csat"],
            "department": ["Sales", "Support"],
            "baseline_month": ["2025-01", "2025-05"],
            "target_month": ["2025-06", "2025-02"],
            "target": [90.0, 7.0],
        }
    )
    before = snapshot(con)
    result = ingest_frame(con, frame, file_name="editor")
    assert_problem(result, 3, "target_month", "must be after baseline_month")
    assert snapshot(con) == before


def test_frame_empty_with_replace_all_clears_table(con, tmp_path):
    import pandas as pd

    load(
        con,
        tmp_path,
        "t.csv",
        "indicator,department,baseline_month,target_month,target\ncsat,*,2025-01,2025-12,90\n",
    )
    empty = pd.DataFrame(
        columns=["indicator", "department", "baseline_month", "target_month", "target"], dtype="str"
    )
    assert ingest_frame(con, empty, file_name="editor", replace_all=True).accepted
    assert con.execute("SELECT count(*) FROM targets").fetchone() == (0,)
    assert not ingest_frame(con, empty, file_name="editor").accepted
