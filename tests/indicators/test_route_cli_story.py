"""``route`` prints each target's story: its owner, latest check-in, the notes of each month."""

from __future__ import annotations

import csv
import io
import json

from indicators import checkins, store
from indicators.report import run_route_cli
from tests.app.conftest import build_fixture_db


def make_db(tmp_path):
    path = build_fixture_db(tmp_path / "story.duckdb")  # csat North: 60 → 70 by 2025-03
    con = store.connect(path)
    try:
        con.execute("UPDATE targets SET owner = 'lead@x.org'")
        checkins.add_checkin(con, indicator="csat", department="North", month="2025-01",
                             status="on track", note="first", author="lead@x.org")
        checkins.add_checkin(con, indicator="csat", department="North", month="2025-02",
                             status="off track", note="=two agents on leave", author="lead@x.org")
        checkins.add_note(con, month="2025-02", note="new ticket system", department="North")
        checkins.add_note(con, month="2025-02", note="price change")  # every department
        checkins.add_note(con, month="2025-02", note="south only", department="South")
        checkins.add_note(con, month="2025-02", note="revenue only", indicator="revenue",
                          department="North")
    finally:
        con.close()
    return path


def run(path, fmt):
    out, err = io.StringIO(), io.StringIO()
    assert run_route_cli(path, fmt=fmt, out=out, err=err) == 0, err.getvalue()
    return out.getvalue()


def test_json_has_the_latest_check_in_the_history_and_the_notes_that_belong(tmp_path):
    printed = json.loads(run(make_db(tmp_path), "json"))
    (target,) = printed["targets"]
    assert (target["owner"], target["checkin_month"], target["checkin_status"],
            target["checkin_note"]) == ("lead@x.org", "2025-02", "off track",
                                        "=two agents on leave")
    assert [(c["month"], c["note"]) for c in printed["checkins"]] == [
        ("2025-01", "first"), ("2025-02", "=two agents on leave")]
    # the notes on csat in North: every department's first, then North's; not South's, not
    # revenue's
    by_month = {r["month"]: r["notes"] for r in printed["routes"]}
    assert by_month["2025-02"] == "price change\nnew ticket system"
    assert by_month["2025-01"] is None
    assert sorted(n["note"] for n in printed["notes"]) == ["new ticket system", "price change"]


def test_csv_repeats_the_latest_check_in_and_neutralises_its_formula(tmp_path):
    rows = list(csv.DictReader(io.StringIO(run(make_db(tmp_path), "csv"))))
    assert [r["month"] for r in rows] == ["2025-01", "2025-02", "2025-03"]
    assert {r["checkin_note"] for r in rows} == {"'=two agents on leave"}
    assert {r["checkin_status"] for r in rows} == {"off track"}
    assert [r["notes"] for r in rows] == ["", "price change\nnew ticket system", ""]
