"""One load path: a clean file is read once and loaded by ``load.load_clean`` alone; a file that
is not clean is explained afterwards (staged again) and nothing loads; any other DuckDB error is
raised with the store unchanged; the checkpoints come in order, each after what it names.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from indicators.ingest import explain, ingest_file, ingest_frame, load, pipeline
from indicators.ingest.problems import FileWarning, Problem
from tests.indicators.test_ingest import PURCHASE_HEADER, fresh_connection, snapshot, write

POINTS = ["inserted", "logged", "kept_for_undo", "old_slices_deleted", "undo_pruned",
          "indicators_kept", "committed"]


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    yield from fresh_connection()


@pytest.fixture
def stages(monkeypatch) -> list[str]:
    """The names of the files :func:`explain.stage` read again (the explanation's pass)."""
    calls: list[str] = []

    def counted(con, source, *args, **kwargs):
        calls.append(source.name)
        return explain.stage(con, source, *args, **kwargs)

    monkeypatch.setattr(pipeline, "stage", counted)
    return calls


def purchases(tmp_path: Path, name: str, rows: list[str]) -> Path:
    return write(tmp_path, name, PURCHASE_HEADER + "".join(r + "\n" for r in rows))


def stored(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "SELECT purchase_id, department, strftime(month, '%Y-%m') FROM purchases ORDER BY ALL"
    ).fetchall()


def log(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute('SELECT file_name, outcome, "rows" FROM upload_log ORDER BY id').fetchall()


# --- read once; explained only when not clean ----------------------------------------------


def test_a_clean_file_is_loaded_without_a_second_read(con, tmp_path, stages):
    result = ingest_file(con, purchases(tmp_path, "clean.csv", [
        "p1,2025-03-01,c1,Sales,10,12", "p2,2025-03-02,c2,Sales,20,",
    ]))
    assert result.accepted, result.problems
    assert stages == []
    assert stored(con) == [("p1", "Sales", "2025-03"), ("p2", "Sales", "2025-03")]


@pytest.mark.parametrize(
    ("rows", "row", "column"),
    [
        (["p1,2025-03-01,c1,Sales,10,12", "p2,2025-03-02,c2,Sales,-5,"], 3, "amount"),
        (["p1,2025-03-01,c1,Sales,10,12", "p1,2025-03-02,c2,Sales,5,"], 3, "purchase_id"),
        (["p1,2025-03-01,c1,Sales,10,12", "p2,2025-03-02,c2"], 3, "department"),
    ],
    ids=["rule", "duplicate key", "ragged row"],
)
def test_a_file_that_is_not_clean_is_staged_once_and_nothing_loads(
    con, tmp_path, stages, rows, row, column
):
    assert ingest_file(con, purchases(tmp_path, "old.csv", ["o1,2025-03-05,c9,Sales,1,"])).accepted
    before = snapshot(con)
    result = ingest_file(con, purchases(tmp_path, "bad.csv", rows))
    assert not result.accepted
    assert [(p.row, p.column) for p in result.problems] == [(row, column)]
    assert stages == ["bad.csv"]
    assert snapshot(con) == before
    assert [entry[:2] for entry in log(con)] == [("old.csv", "accepted"), ("bad.csv", "rejected")]


def test_a_file_the_csv_reader_gives_up_on_is_rejected_with_its_row_without_staging(
    con, tmp_path, stages
):
    # A lone CR outside quotes: DuckDB's reader stops ("invalid state"), the row is found apart.
    path = write(tmp_path, "cr.csv", PURCHASE_HEADER + "p1,2025-03-01,c1,Sa\rles,10,\n")
    result = ingest_file(con, path)
    assert not result.accepted
    (problem,) = result.problems
    assert (problem.row, problem.column) == (2, None)
    assert problem.rule.startswith("a carriage return (CR) inside the row")
    assert stages == []
    assert stored(con) == []


def test_more_new_departments_than_the_limit_load_once_with_the_warning(
    con, tmp_path, stages, monkeypatch
):
    monkeypatch.setattr(load, "MAX_NEW_DEPARTMENTS", 2)
    rows = [f"p{i},2025-03-01,c{i},D{i},1," for i in range(3)]
    result = ingest_file(con, purchases(tmp_path, "swapped.csv", rows))
    assert result.accepted and stages == []
    (warning,) = result.warnings
    assert warning.startswith("3 new departments (no stored row names them), more than 2")
    assert result.message.endswith("; warning: " + warning)
    assert len(stored(con)) == 3


def test_too_many_new_departments_with_strict_reject_in_the_one_pass(
    con, tmp_path, stages, monkeypatch
):
    monkeypatch.setattr(load, "MAX_NEW_DEPARTMENTS", 2)
    assert ingest_file(con, purchases(tmp_path, "old.csv", ["o1,2025-03-05,c9,D0,1,"])).accepted
    before = snapshot(con)
    # D0 is stored: D1, D2, D3 are the 3 new ones (the file's own rows do not count as stored).
    rows = [f"p{i},2025-03-01,c{i},D{i},1," for i in range(4)]
    result = ingest_file(con, purchases(tmp_path, "swapped.csv", rows), strict=True)
    assert not result.accepted and stages == []
    (problem,) = result.problems
    assert (problem.row, problem.column, problem.value) == (None, "department", "3")
    assert problem.rule.startswith("3 new departments") and problem.rule.endswith("(--strict)")
    assert snapshot(con) == before
    assert log(con) == [("old.csv", "accepted", 1), ("swapped.csv", "rejected", 4)]


# --- the warnings hook ---------------------------------------------------------------------

EPOCH = FileWarning("purchased_at", "1970-01-01", "1 date at 1970-01-01, an export's default")


@pytest.fixture
def hooked(monkeypatch) -> list[int]:
    """``row_warnings`` gives :data:`EPOCH`; records how many rows its ``rows_sql`` selected."""
    seen: list[int] = []

    def found(con, dataset, rows_sql, params, **options):
        seen.append(con.execute(f"SELECT count(*) FROM {rows_sql}", params).fetchone()[0])
        return [EPOCH]

    monkeypatch.setattr(load, "row_warnings", found)
    return seen


def test_row_warnings_see_only_the_new_rows_and_are_reported(con, tmp_path, hooked):
    old = ["o1,2025-03-05,c9,Sales,1,", "o2,2025-04-05,c9,Sales,1,"]
    assert ingest_file(con, purchases(tmp_path, "old.csv", old)).accepted
    new = ["p1,2025-03-01,c1,Sales,10,", "p2,2025-03-02,c2,Sales,20,", "p3,2025-03-03,c3,Sales,5,"]
    result = ingest_file(con, purchases(tmp_path, "new.csv", new))
    assert result.accepted
    # old.csv's hook saw its 2 rows; new.csv's its own 3, not the 2 stored (one of them kept).
    assert hooked == [2, 3]
    assert result.warnings == [EPOCH.text]
    assert result.message.endswith("; warning: " + EPOCH.text)
    (message,) = con.execute("SELECT message FROM upload_log WHERE id = ?", [result.load_id]).fetchone()
    assert message == result.message
    assert stored(con) == [
        ("o2", "Sales", "2025-04"),
        ("p1", "Sales", "2025-03"), ("p2", "Sales", "2025-03"), ("p3", "Sales", "2025-03"),
    ]


def test_a_warning_with_strict_rejects_and_changes_nothing(con, tmp_path, hooked, stages):
    before = snapshot(con)
    result = ingest_file(
        con, purchases(tmp_path, "epoch.csv", ["p1,1970-01-01,c1,Sales,10,"]), strict=True
    )
    assert not result.accepted and stages == []
    assert result.problems == [
        Problem("epoch.csv", None, "purchased_at", "1970-01-01", EPOCH.text + " (--strict)")
    ]
    assert result.warnings == []
    assert snapshot(con) == before
    assert log(con) == [("epoch.csv", "rejected", 1)]


def test_warnings_found_while_reading_are_reported_and_strict_rejects(
    con, tmp_path, monkeypatch
):
    monkeypatch.setattr(load, "row_warnings", lambda *args, **options: [])
    named = FileWarning(None, "latin-1", "the file is named latin-1 but looks like UTF-8")
    opened = pipeline.open_file

    def with_warning(*args, **kwargs):
        source = opened(*args, **kwargs)
        source.warnings.append(named)
        return source

    monkeypatch.setattr(pipeline, "open_file", with_warning)
    path = purchases(tmp_path, "named.csv", ["p1,2025-03-01,c1,Sales,10,"])
    strict = ingest_file(con, path, strict=True)
    assert strict.problems == [Problem("named.csv", None, None, "latin-1", named.text + " (--strict)")]
    assert stored(con) == []
    loaded = ingest_file(con, path)
    assert loaded.accepted and loaded.warnings == [named.text]
    assert stored(con) == [("p1", "Sales", "2025-03")]


# --- other errors are raised ---------------------------------------------------------------


@pytest.mark.parametrize("point", POINTS[:-1])
@pytest.mark.parametrize(
    "error",
    [duckdb.InternalException("boom"), duckdb.InvalidInputException("Invalid Input Error: other")],
    ids=["internal", "invalid input, not the rule's"],
)
def test_any_other_error_in_the_transaction_is_raised_and_changes_nothing(
    con, tmp_path, stages, point, error
):
    assert ingest_file(con, purchases(tmp_path, "old.csv", ["o1,2025-03-05,c9,Sales,1,"])).accepted
    before, logged = snapshot(con), log(con)

    def fail(at: str) -> None:
        if at == point:
            raise error

    path = purchases(tmp_path, "new.csv", ["p1,2025-03-01,c1,Sales,10,"])
    with pytest.raises(type(error), match=str(error)):
        ingest_file(con, path, checkpoint=fail)
    assert stages == []
    assert snapshot(con) == before and log(con) == logged


def test_an_error_raised_by_a_step_of_the_load_is_raised(con, tmp_path, monkeypatch):
    def boom(con) -> None:
        raise duckdb.InternalException("boom")

    monkeypatch.setattr(load.undo, "prune", boom)
    with pytest.raises(duckdb.InternalException, match="boom"):
        ingest_file(con, purchases(tmp_path, "new.csv", ["p1,2025-03-01,c1,Sales,10,"]))
    assert stored(con) == [] and log(con) == []


def test_not_clean_but_nothing_found_is_a_fault_raised_not_a_load(con, tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "validate", lambda *args, **kwargs: ([], 0, []))
    path = purchases(tmp_path, "bad.csv", ["p1,2025-03-01,c1,Sales,-5,"])
    with pytest.raises(RuntimeError, match=r"bad\.csv: the load found the file not clean"):
        ingest_file(con, path)
    assert stored(con) == [] and log(con) == []


# --- checkpoints ---------------------------------------------------------------------------


def test_the_checkpoints_come_in_order_and_none_for_a_file_a_rule_rejects(con, tmp_path):
    passed: list[str] = []
    good = purchases(tmp_path, "good.csv", ["p1,2025-03-01,c1,Sales,10,"])
    assert ingest_file(con, good, checkpoint=passed.append).accepted
    assert passed == POINTS
    passed.clear()
    bad = purchases(tmp_path, "bad.csv", ["p1,2025-03-01,c1,Sales,-5,"])
    assert not ingest_file(con, bad, checkpoint=passed.append).accepted
    assert passed == []
    passed.clear()
    twice = purchases(tmp_path, "twice.csv", ["p1,2025-03-01,c1,Sales,1,"] * 2)
    assert not ingest_file(con, twice, checkpoint=passed.append).accepted
    assert passed == ["inserted"]  # the duplicate is found on the inserted rows


def test_a_frame_load_passes_the_same_checkpoints(con):
    import pandas as pd

    frame = pd.DataFrame(
        {"indicator": ["csat"], "department": ["*"], "baseline_month": ["2025-01"],
         "target_month": ["2025-12"], "target": ["90"]}
    )
    passed: list[str] = []
    result = ingest_frame(con, frame, file_name="editor", replace_all=True, checkpoint=passed.append)
    assert result.accepted, result.problems
    assert passed == POINTS


def test_each_checkpoint_comes_after_what_it_names(con, tmp_path, monkeypatch):
    """Inside the transaction, on the load's own cursor: what each point sees."""
    old = ["o1,2025-03-05,c9,Sales,1,", "o2,2025-03-06,c9,Sales,1,", "o3,2025-04-05,c9,Sales,1,"]
    assert ingest_file(con, purchases(tmp_path, "old.csv", old)).accepted
    cursor: list[duckdb.DuckDBPyConnection] = []
    real = pipeline.load_clean

    def spied(cur, *args, **kwargs):
        cursor.append(cur)
        return real(cur, *args, **kwargs)

    monkeypatch.setattr(pipeline, "load_clean", spied)
    seen: dict[str, tuple] = {}

    def look(point: str) -> None:
        (cur,) = cursor
        seen[point] = cur.execute(
            "SELECT (SELECT count(*) FROM purchases), (SELECT count(*) FROM upload_log), "
            "(SELECT count(*) FROM removed_purchases), (SELECT value FROM indicator_values "
            "WHERE month = '2025-03' AND department = 'Sales' AND indicator = 'revenue')"
        ).fetchone()

    new = ["p1,2025-03-01,c1,Sales,10,"]  # replaces March Sales (2 stored rows), keeps April
    assert ingest_file(con, purchases(tmp_path, "new.csv", new), checkpoint=look).accepted
    assert seen == {
        # March's revenue: the old rows' 1 + 1 until the stored indicators follow the new 10
        "inserted": (3 + 1, 1, 0, 1 + 1),
        "logged": (3 + 1, 1 + 1, 0, 1 + 1),
        "kept_for_undo": (3 + 1, 1 + 1, 2, 1 + 1),
        "old_slices_deleted": (3 + 1 - 2, 1 + 1, 2, 1 + 1),
        "undo_pruned": (3 + 1 - 2, 1 + 1, 2, 1 + 1),
        "indicators_kept": (3 + 1 - 2, 1 + 1, 2, 10),
        "committed": (3 + 1 - 2, 1 + 1, 2, 10),
    }
