"""A targets file naming a department that no stored row of any dataset holds is accepted, with
a warning in its report (and in the upload log) that names the department: usually a typo,
sometimes a department whose first files are still to come."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pandas as pd
import pytest

from indicators import store
from indicators.__main__ import main
from indicators.ingest import ingest_file, ingest_frame
from tests.indicators.test_ingest import fresh_connection, write

TARGET_HEADER = "indicator,department,baseline_month,target_month,target\n"
PURCHASES = (
    "purchase_id,purchased_at,customer_id,department,amount\n"
    "p1,2025-01-05,c1,North,10\n"
    "p2,2025-01-06,c2,South,20\n"
)
COMPLAINTS = (
    "complaint_id,opened_at,department,customer_id,component\n"
    "k1,2025-01-07,Returns desk,c1,product\n"
)


def _targets(*departments: str) -> str:
    return TARGET_HEADER + "".join(f"csat,{d},2025-01,2025-06,80\n" for d in departments)


@pytest.fixture
def con(tmp_path) -> Iterator[duckdb.DuckDBPyConnection]:
    """North and South have purchases, Returns desk only complaints."""
    for connection in fresh_connection():
        assert ingest_file(connection, write(tmp_path, "p.csv", PURCHASES)).accepted
        assert ingest_file(connection, write(tmp_path, "k.csv", COMPLAINTS)).accepted
        yield connection


def _last_message(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("SELECT message FROM upload_log ORDER BY id DESC LIMIT 1").fetchone()[0]


def test_an_unknown_department_is_loaded_with_a_warning_naming_it(con, tmp_path):
    result = ingest_file(con, write(tmp_path, "t.csv", _targets("North", "Atlantis", "*")))
    assert result.accepted, result.problems
    assert result.rows == 3
    assert result.warnings == [
        "targets for 1 department without any data: 'Atlantis' — check the spelling "
        "(the targets are stored, and show no data until its files are loaded)"
    ]
    assert _last_message(con).endswith("; warning: " + result.warnings[0])
    stored = store.read_targets(con)
    assert sorted(stored["department"]) == ["*", "Atlantis", "North"]


def test_known_departments_and_the_star_give_no_warning(con, tmp_path):
    # Returns desk has only complaints: a row in any dataset makes a department known.
    result = ingest_file(con, write(tmp_path, "t.csv", _targets("North", "Returns desk", "*")))
    assert result.accepted
    assert result.warnings == []
    assert "warning" not in _last_message(con)


def test_many_unknown_departments_name_the_first_five_and_count_the_rest(con, tmp_path):
    unknown = ["U7", "U1", "U6", "U2", "U5", "U3", "U4"]
    result = ingest_file(con, write(tmp_path, "t.csv", _targets("South", *unknown)))
    assert result.accepted
    assert result.warnings == [
        "targets for 7 departments without any data: 'U1', 'U2', 'U3', 'U4', 'U5' and "
        f"{7 - 5} more — check the spelling (the targets are stored, and show no data until "
        "their files are loaded)"
    ]


def test_on_an_empty_database_every_named_department_is_unknown(tmp_path):
    for con in fresh_connection():
        result = ingest_file(con, write(tmp_path, "t.csv", _targets("North", "*")))
        assert result.accepted
        assert len(result.warnings) == 1
        assert "1 department without any data: 'North'" in result.warnings[0]


def test_only_the_star_is_never_unknown(tmp_path):
    for con in fresh_connection():
        result = ingest_file(con, write(tmp_path, "t.csv", _targets("*")))
        assert result.accepted and result.warnings == []


def test_a_long_name_is_cut_to_forty_characters(con, tmp_path):
    name = "Department of " + "x" * 50
    result = ingest_file(con, write(tmp_path, "t.csv", _targets(name)))
    assert result.accepted
    (warning,) = result.warnings
    assert f"without any data: '{name[:40]}' — check" in warning
    assert name[:41] not in warning


def test_a_rejected_targets_file_has_problems_not_this_warning(con, tmp_path):
    text = _targets("Atlantis") + "csat,North,2025-07,2025-06,80\n"  # target month before baseline
    result = ingest_file(con, write(tmp_path, "t.csv", text))
    assert not result.accepted
    assert result.warnings == []
    assert store.read_targets(con).empty


def test_the_targets_editor_path_warns_too(con):
    frame = pd.DataFrame({
        "indicator": ["csat", "revenue"], "department": ["Atlantis", "North"],
        "baseline_month": ["2025-01", "2025-01"], "target_month": ["2025-06", "2025-06"],
        "target": [80.0, 100.0],
    })
    result = ingest_frame(con, frame, file_name="targets editor", replace_all=True)
    assert result.accepted
    assert result.warnings == [
        "targets for 1 department without any data: 'Atlantis' — check the spelling "
        "(the targets are stored, and show no data until its files are loaded)"
    ]


def test_the_command_line_prints_the_warning_and_exits_0(tmp_path, capsys):
    db = tmp_path / "cli.duckdb"
    purchases = write(tmp_path, "p.csv", PURCHASES)
    targets = write(tmp_path, "t.csv", _targets("North", "Atlantis"))
    assert main(["ingest", "--db", str(db), str(purchases), str(targets)]) == 0
    lines = capsys.readouterr().out.splitlines()
    accepted = next(i for i, line in enumerate(lines) if line.startswith("accepted: t.csv"))
    assert lines[accepted + 1] == (
        "  warning: targets for 1 department without any data: 'Atlantis' — check the "
        "spelling (the targets are stored, and show no data until its files are loaded)"
    )
