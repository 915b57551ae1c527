"""The command line says which months are complete: ``report``'s and ``route``'s ``complete``
columns, and the ``complete`` verb that lists months and marks one complete by hand.

The database: A buys twice in 2025-01; in 2025-02 only a complaint of A arrives.  By the rules
(:mod:`indicators.completeness`; no department reaches 30 rows, so every one counts for All):
2025-01 expects purchases (A's only dataset so far) and has them: complete.  2025-02 expects
purchases and complaints (both delivered by then) and lacks purchases: incomplete, for A and All.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from indicators import store
from indicators.__main__ import main
from indicators.catalog import INDICATOR_IDS
from indicators.completeness import read_marked
from indicators.report import run_complete_cli, run_report_cli, run_route_cli
from tests.indicators.engine_rows import complaint, make_db, purchase

ROOT = Path(__file__).resolve().parents[2]

DATA = {
    "purchases": [
        purchase("p1", "2025-01-05 10:00", "c1", "A", 1.0),
        purchase("p2", "2025-01-06 10:00", "c2", "A", 2.0),
    ],
    "complaints": [complaint("k1", "2025-02-03 10:00", "A")],
}
TARGET = {"indicator": "purchases", "department": "*", "baseline_month": "2025-01",
          "target_month": "2025-03", "target": 4.0}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return make_db(tmp_path / "c.duckdb", {**DATA, "targets": [TARGET]})


def report(db: Path, fmt: str = "csv", **options: object) -> str:
    out, err = io.StringIO(), io.StringIO()
    options = {"month": None, "department": None, **options}
    assert run_report_cli(db, fmt=fmt, out=out, err=err, **options) == 0, err.getvalue()
    return out.getvalue()


def complete(db: Path, **options: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    options = {"month": None, "department": None, "undo": False, **options}
    code = run_complete_cli(db, out=out, err=err, wait=0, **options)
    return code, out.getvalue(), err.getvalue()


def flags(text: str) -> dict[tuple[str, str], set[str]]:
    """``(month, department)`` → the ``complete`` cells of its report rows."""
    seen: dict[tuple[str, str], set[str]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        seen.setdefault((row["month"], row["department"]), set()).add(row["complete"])
    return seen


def test_report_csv_says_per_month_and_department_whether_it_is_complete(db):
    text = report(db)
    assert text.splitlines()[0] == "month,department,indicator,value,complete"
    assert flags(text) == {
        ("2025-01", "All"): {"true"}, ("2025-01", "A"): {"true"},
        ("2025-02", "All"): {"false"}, ("2025-02", "A"): {"false"},
    }
    assert len(text.splitlines()) == 1 + 2 * 2 * len(INDICATOR_IDS)


def test_report_json_has_true_and_false(db):
    records = json.loads(report(db, "json", month="2025-02", department="A"))
    assert {r["complete"] for r in records} == {False}
    assert len(records) == len(INDICATOR_IDS)
    jan = json.loads(report(db, "json", month="2025-01"))
    assert {r["complete"] for r in jan} == {True}


def test_marking_a_month_complete_makes_report_say_so(db):
    code, out, err = complete(db, month="2025-02")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "2025-02 every department (All): marked complete",
        "2025-02 All: complete",
    ]
    assert flags(report(db, month="2025-02")) == {
        ("2025-02", "All"): {"true"}, ("2025-02", "A"): {"true"},
    }


def test_a_mark_for_one_department_and_its_undo(db):
    code, out, _ = complete(db, month="2025-02", department="A", user="ana")
    assert code == 0
    assert out.splitlines() == ["2025-02 A: marked complete", "2025-02 A: complete"]
    # All was held back by A alone
    assert flags(report(db, month="2025-02"))[("2025-02", "All")] == {"true"}

    code, out, _ = complete(db, month="2025-02", department="A", undo=True)
    assert code == 0
    assert out.splitlines() == [
        "2025-02 A: removed the mark",
        "2025-02 A: incomplete — purchases not yet loaded for 2025-02",
    ]
    code, out, _ = complete(db, month="2025-02", department="A", undo=True)
    assert out.splitlines()[0] == "2025-02 A: was not marked complete; nothing changed"
    assert flags(report(db, month="2025-02"))[("2025-02", "A")] == {"false"}


@pytest.mark.parametrize(("options", "message"), [
    ({"month": "2025-13"}, "YYYY-MM"),
    ({"month": "2024-12"}, "no data in 2024-12"),
    ({"month": "2025-02", "department": "Z"}, "unknown department 'Z'"),
    ({"undo": True}, "--undo needs --month"),
    ({"department": "Z"}, "unknown department 'Z'; the data has: All, A"),
])
def test_unknown_months_and_departments_exit_2_and_change_nothing(db, options, message):
    before = db.read_bytes()
    code, out, err = complete(db, **options)
    assert code == 2 and message in err
    con = store.connect(db, read_only=True)
    try:
        assert read_marked(con) == frozenset()
    finally:
        con.close()
    if "month" not in options:
        assert out == "" and db.read_bytes() == before  # read-only: the file is untouched


def test_marking_needs_an_existing_database(tmp_path):
    path = tmp_path / "nowhere.duckdb"
    code, _, err = complete(path, month="2025-01")
    assert code == 1 and "no database" in err
    assert not path.exists()


def test_the_list_of_months(db):
    code, out, _ = complete(db)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["month"], r["department"], r["complete"], r["marked"], r["missing"])
            for r in rows] == [
        ("2025-01", "All", "true", "false", ""),
        ("2025-01", "A", "true", "false", ""),
        ("2025-02", "All", "false", "false", "purchases"),
        ("2025-02", "A", "false", "false", "purchases"),
    ]
    complete(db, month="2025-02", department="A")
    code, out, _ = complete(db, department="A", fmt="json")
    assert json.loads(out) == [
        {"month": "2025-01", "department": "A", "complete": True, "marked": False, "missing": []},
        {"month": "2025-02", "department": "A", "complete": True, "marked": True, "missing": []},
    ]


def test_route_says_whether_each_month_and_the_latest_one_is_complete(db):
    out, err = io.StringIO(), io.StringIO()
    assert run_route_cli(db, fmt="csv", out=out, err=err) == 0
    months = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [m["month"] for m in months] == ["2025-01", "2025-02", "2025-03"]
    # 2025-03 lies past the data: no status to say
    assert [m["complete"] for m in months] == ["true", "false", ""]
    assert {(m["latest_month"], m["latest_month_complete"]) for m in months} == {
        ("2025-02", "false")
    }
    out = io.StringIO()
    assert run_route_cli(db, fmt="json", out=out, err=err) == 0
    doc = json.loads(out.getvalue())
    assert [r["complete"] for r in doc["routes"]] == [True, False, None]
    assert doc["targets"][0]["latest_month_complete"] is False


def test_the_verb_end_to_end(db):
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "indicators", "complete", "--db", str(db),
                               *args], cwd=ROOT, capture_output=True, text=True, check=False)

    done = cli("--month", "2025-02", "--department", "A", "--user", "ana")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "2025-02 A: marked complete"
    listed = cli("--department", "A", "--format", "json")
    assert [r["marked"] for r in json.loads(listed.stdout)] == [False, True]
    bad = cli("--month", "1999-01")
    assert bad.returncode == 2 and bad.stdout == "" and "no data in 1999-01" in bad.stderr
    assert main(["complete", "--db", str(db), "--month", "2025-02", "--undo",
                 "--department", "A"]) == 0
