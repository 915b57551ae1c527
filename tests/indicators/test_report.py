"""The ``report`` and ``route`` commands: formats, filters, missing values and exit codes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from indicators import store
from indicators.catalog import INDICATOR_IDS
from indicators.report import (
    NO_DATA_MESSAGE,
    ROUTE_OUTPUT_COLUMNS,
    ROUTE_TARGET_COLUMNS,
    format_number,
    run_report_cli,
    run_route_cli,
)
from tests.indicators.engine_rows import complaint, make_db, purchase

ROOT = Path(__file__).resolve().parents[2]

# 2025-01: two purchases in A (0.1 + 0.2 is not 0.3 in floating point); 2025-02: a complaint only.
DATA = {
    "purchases": [
        purchase("p1", "2025-01-05 10:00", "c1", "A", 0.1),
        purchase("p2", "2025-01-06 10:00", "c2", "A", 0.2),
    ],
    "complaints": [complaint("k1", "2025-02-03 10:00", "A")],
}
TARGET = {"indicator": "purchases", "department": "*", "baseline_month": "2025-01",
          "target_month": "2025-03", "target": 4.0}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # a custom iceberg factor, 10 unless set: the estimated dissatisfied below
    return make_db(tmp_path_factory.mktemp("report") / "r.duckdb", DATA,
                   [("iceberg_counted_at", "custom", "*")])


def _run(db: Path, **options: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    options = {"month": None, "department": None, "fmt": "csv", **options}
    code = run_report_cli(db, out=out, err=err, **options)
    return code, out.getvalue(), err.getvalue()


def _csv_value(text: str, month: str, department: str, indicator: str) -> str:
    rows = list(csv.reader(io.StringIO(text)))
    (value,) = [r[3] for r in rows[1:] if r[:3] == [month, department, indicator]]
    return value


def test_csv_has_every_row_full_precision_and_empty_missing(db: Path) -> None:
    code, out, err = _run(db)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "month,department,indicator,value,complete"
    assert len(lines) == 1 + 2 * 2 * len(INDICATOR_IDS)
    # 0.1 + 0.2 summed exactly (amounts are decimals), not repr(0.1 + 0.2) = 0.30000000000000004
    assert _csv_value(out, "2025-01", "A", "revenue") == "0.3"
    assert _csv_value(out, "2025-01", "A", "average_ticket") == repr(0.3 / 2)
    assert _csv_value(out, "2025-01", "All", "purchases") == "2"
    assert _csv_value(out, "2025-02", "A", "average_ticket") == ""  # no purchases: missing
    assert _csv_value(out, "2025-02", "A", "purchases") == "0"


def test_json_filtered_to_one_month_and_all(db: Path) -> None:
    code, out, _ = _run(db, month="2025-02", department="All", fmt="json")
    assert code == 0
    records = json.loads(out)
    assert [r["indicator"] for r in records] == list(INDICATOR_IDS)
    assert {(r["month"], r["department"]) for r in records} == {("2025-02", "All")}
    by_id = {r["indicator"]: r["value"] for r in records}
    assert by_id["average_ticket"] is None and by_id["complaint_rate"] is None
    assert by_id["complaints"] == 1 and by_id["estimated_dissatisfied"] == 1 * 10


@pytest.mark.parametrize(("options", "pairs"), [
    ({"month": "2025-01"}, {("2025-01", "All"), ("2025-01", "A")}),
    ({"department": "A"}, {("2025-01", "A"), ("2025-02", "A")}),
    ({"month": " 2025-02 ", "department": "A"}, {("2025-02", "A")}),
])
def test_filters(db: Path, options: dict[str, str], pairs: set[tuple[str, str]]) -> None:
    code, out, _ = _run(db, fmt="json", **options)
    assert code == 0
    assert {(r["month"], r["department"]) for r in json.loads(out)} == pairs


@pytest.mark.parametrize(("options", "message"), [
    ({"month": "2024-12"}, "unknown month '2024-12'"),
    ({"month": "2025-1"}, "YYYY-MM"),
    ({"department": "Z"}, "unknown department 'Z'; the data has: All, A"),
    ({"department": "all"}, "unknown department 'all'"),
])
def test_unknown_filters_exit_2(db: Path, options: dict[str, str], message: str) -> None:
    code, out, err = _run(db, **options)
    assert (code, out) == (2, "")
    assert message in err


def test_empty_database_says_how_to_load(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    store.connect(path).close()
    code, out, err = _run(path)
    assert (code, out) == (1, "")
    assert NO_DATA_MESSAGE in err


def test_missing_database_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.duckdb"
    code, _, err = _run(path)
    assert code == 1 and NO_DATA_MESSAGE in err
    assert not path.exists()


def test_report_leaves_the_file_untouched(db: Path) -> None:
    before = db.read_bytes()
    assert _run(db)[0] == 0
    assert db.read_bytes() == before


def test_command_line_end_to_end(db: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "indicators", "report", "--db", str(db), "--department", "A"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert run.returncode == 0, run.stderr
    # text mode reads the CRLF row ends as "\n"
    assert run.stdout == _run(db, department="A")[1].replace("\r\n", "\n")
    bad = subprocess.run(
        [sys.executable, "-m", "indicators", "report", "--db", str(db), "--month", "1999-01"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert bad.returncode == 2 and bad.stdout == "" and "unknown month" in bad.stderr


def test_csv_text_that_a_spreadsheet_would_run_is_neutralised(tmp_path: Path) -> None:
    db = make_db(tmp_path / "h.duckdb", {"purchases": [
        purchase("p1", "2025-01-05 10:00", "c1", "=HYPERLINK(\"x\")", 2.5),
        purchase("p2", "2025-01-05 11:00", "c2", "-5", -0.0),
    ]})
    code, out, _ = _run(db, month="2025-01")
    assert code == 0 and out.endswith("\r\n")
    rows = list(csv.DictReader(io.StringIO(out)))
    departments = {r["department"] for r in rows}
    assert departments == {"All", "'=HYPERLINK(\"x\")", "'-5"}
    revenue = {r["department"]: r["value"] for r in rows if r["indicator"] == "revenue"}
    assert revenue["All"] == "2.5"  # numbers stay numbers: 2.5 + 0


@pytest.mark.parametrize(("value", "text"), [
    (3.0, "3"), (-0.0, "0"), (12.5, "12.5"), (1 / 3, repr(1 / 3)), (1e300, repr(1e300)),
    (float("nan"), ""), (None, ""),
])
def test_format_number(value: float | None, text: str) -> None:
    assert format_number(value) == text


# --- route ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def db_with_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_db(tmp_path_factory.mktemp("route") / "t.duckdb", {**DATA, "targets": [TARGET]})


def _route(db: Path, fmt: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return run_route_cli(db, fmt=fmt, out=out, err=err), out.getvalue(), err.getvalue()


def test_route_csv_is_one_table_with_the_target_figures_on_each_month(db_with_target: Path) -> None:
    code, out, _ = _route(db_with_target, "csv")
    assert code == 0
    months = list(csv.DictReader(io.StringIO(out)))
    assert tuple(months[0]) == ROUTE_OUTPUT_COLUMNS + ROUTE_TARGET_COLUMNS
    assert [m["month"] for m in months] == ["2025-01", "2025-02", "2025-03"]
    assert {m["department"] for m in months} == {"All"}
    # baseline measured at 2025-01: 2 purchases; planned 2 → 4 over two months
    assert [m["planned"] for m in months] == ["2", "3", "4"]
    assert [m["actual"] for m in months] == ["2", "0", ""]
    # latest data 2025-02 (0 purchases); pace needed to reach 4 by 2025-03: (4 - 0) / 1
    assert {m["pace_needed"] for m in months} == {"4"}


def test_route_json(db_with_target: Path) -> None:
    code, out, _ = _route(db_with_target, "json")
    assert code == 0
    doc = json.loads(out)
    assert set(doc) == {"routes", "targets", "checkins", "notes"}
    assert (doc["checkins"], doc["notes"]) == ([], [])  # none written
    assert [r["actual"] for r in doc["routes"]] == [2, 0, None]
    assert doc["targets"][0]["target"] == 4


def test_route_without_targets_exits_1(db: Path) -> None:
    code, out, err = _route(db, "csv")
    assert (code, out) == (1, "") and "no targets" in err
