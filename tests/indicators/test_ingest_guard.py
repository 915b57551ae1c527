"""The department-count guard: a file bringing more than ``MAX_NEW_DEPARTMENTS`` departments no
stored row names (usually swapped columns) loads with a warning, or with ``--strict`` is rejected
and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from indicators import ingest, store
from indicators.__main__ import main
from indicators.ingest import MAX_NEW_DEPARTMENTS, ingest_file
from tests.indicators.test_ingest import PURCHASE_HEADER, fresh_connection, snapshot, write


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    yield from fresh_connection()


def _purchases(departments: list[str], prefix: str = "p") -> str:
    """One purchase per department, all in 2025-03."""
    return PURCHASE_HEADER + "".join(
        f"{prefix}{i},2025-03-01,c{i},{d},1,\n" for i, d in enumerate(departments)
    )


def _names(n: int, start: int = 0) -> list[str]:
    return [f"D{i:05d}" for i in range(start, start + n)]


def test_the_limit_is_a_thousand():
    assert MAX_NEW_DEPARTMENTS == 1_000


def test_one_more_new_department_than_the_limit_loads_with_a_warning(con, tmp_path):
    path = write(tmp_path, "swapped.csv", _purchases(_names(1_001)))
    result = ingest_file(con, path)
    assert result.accepted, result.problems
    assert result.rows == 1_001
    (warning,) = result.warnings
    assert warning.startswith("1,001 new departments (no stored row names them), more than 1,000")
    assert "e.g. 'D00000', 'D00001', 'D00002'" in warning
    assert "check that the columns are not swapped" in warning
    (message,) = con.execute("SELECT message FROM upload_log").fetchone()
    assert message.endswith("; warning: " + warning)


def test_exactly_the_limit_gives_no_warning(con, tmp_path):
    result = ingest_file(con, write(tmp_path, "fine.csv", _purchases(_names(1_000))))
    assert result.accepted and result.warnings == []


def test_departments_already_stored_are_not_new(con, tmp_path, monkeypatch):
    monkeypatch.setattr(ingest.load, "MAX_NEW_DEPARTMENTS", 2)
    assert ingest_file(con, write(tmp_path, "old.csv", _purchases(_names(3), "o"))).accepted
    # D00000..D00004: three stored, two new — not more than the limit of 2.
    result = ingest_file(con, write(tmp_path, "more.csv", _purchases(_names(5), "m")))
    assert result.accepted and result.warnings == []
    # D00000..D00007 in complaints: five stored (in purchases), three new, D00005..D00007.
    text = "complaint_id,opened_at,department\n" + "".join(
        f"k{i},2025-03-02,{d}\n" for i, d in enumerate(_names(8))
    )
    result = ingest_file(con, write(tmp_path, "complaints.csv", text))
    assert result.accepted
    assert result.warnings == [
        "3 new departments (no stored row names them), more than 2 in one file, "
        "e.g. 'D00005', 'D00006', 'D00007'; check that the columns are not swapped"
    ]


def test_strict_rejects_and_changes_nothing(con, tmp_path, monkeypatch):
    monkeypatch.setattr(ingest.load, "MAX_NEW_DEPARTMENTS", 2)
    before = snapshot(con)
    result = ingest_file(con, write(tmp_path, "swapped.csv", _purchases(_names(3))), strict=True)
    assert not result.accepted
    (problem,) = result.problems
    assert (problem.file, problem.row, problem.column, problem.value) == (
        "swapped.csv", None, "department", "3",
    )
    assert problem.rule == (
        "3 new departments (no stored row names them), more than 2 in one file, "
        "e.g. 'D00000', 'D00001', 'D00002'; check that the columns are not swapped (--strict)"
    )
    assert snapshot(con) == before
    assert con.execute('SELECT outcome, "rows" FROM upload_log').fetchall() == [("rejected", 3)]


def test_the_command_line_prints_the_warning_and_strict_exits_1(tmp_path, capsys):
    db = tmp_path / "s.duckdb"
    path = write(tmp_path, "swapped.csv", _purchases(_names(1_001)))
    assert main(["ingest", "--db", str(db), "--strict", str(path)]) == 1
    out = capsys.readouterr().out
    assert "rejected: swapped.csv (purchases) — 1,001 new departments" in out
    assert "  swapped.csv column department value '1001': 1,001 new departments" in out
    con = store.connect(db, read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM purchases").fetchone() == (0,)
    finally:
        con.close()

    assert main(["ingest", "--db", str(db), str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("accepted: swapped.csv → purchases, 1001 rows")
    assert lines[2].startswith("  warning: 1,001 new departments (no stored row names them)")


def test_the_upload_page_shows_the_warning(tmp_path, monkeypatch):
    from streamlit.runtime.secrets import secrets_singleton
    from streamlit.testing.v1 import AppTest

    from dashboard import data
    from tests.app.conftest import APP

    monkeypatch.setattr(secrets_singleton, "_secrets", {})
    monkeypatch.setattr(ingest.load, "MAX_NEW_DEPARTMENTS", 2)
    db = tmp_path / "service.duckdb"
    store.connect(db).close()
    monkeypatch.setenv(store.DB_ENV, str(db))
    data.clear_caches()
    (result,) = data.ingest_uploads(
        [data.Upload("swapped.csv", _purchases(_names(3)).encode())],
        encoding="utf-8",
        date_format="ISO",
    )
    assert result.accepted and len(result.warnings) == 1
    at = AppTest.from_file(APP, default_timeout=30)
    at.switch_page("app_pages/upload.py")
    at.session_state["upload_results"] = [result]
    at.run()
    assert not at.exception
    shown = [w.value for w in at.warning if "new departments" in w.value]
    assert len(shown) == 1, [w.value for w in at.warning]
    assert shown[0].startswith("3 new departments")
    assert "'D00000', 'D00001', 'D00002'" in shown[0]
