"""AppTest: check-ins and event notes on the route page — stored, shown, exported, by role.

The database is the roles fixture (tests/app/test_roles.py): a CSAT target for North (60 in
2025-01 to 70 by 2025-03) and a revenue target for South (99 by 2025-06) whose owner is the
executive, so that the owner's right can be seen apart from the role's.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dashboard import checkins_panel, data
from indicators import checkins, store
from tests.app.test_roles import ANALYST, EXECUTIVE, LEAD_NORTH, as_user, build_roles_db
from tests.app.test_route_page import PAGE, plain

HOSTILE = "=HYPERLINK(\"http://evil\") <script>alert(1)</script> **loud** [x](http://evil)"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = build_roles_db(tmp_path / "checkins.duckdb")
    con = store.connect(path)
    try:
        con.execute("UPDATE targets SET owner = ? WHERE department = 'South'", [EXECUTIVE])
    finally:
        con.close()
    monkeypatch.setenv(store.DB_ENV, str(path))
    data.clear_caches()
    return path


def route_page(email: str):
    """The route page as ``email``, every card's story opened (it draws when opened)."""
    at = as_user(email)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    for key in [k for k in at.session_state if str(k).startswith("story-")]:
        at.session_state[key] = True
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def submit_buttons(at) -> list[str]:
    return [b.label for b in at.button if b.label in ("Save the check-in", "Save the note")]


def stored(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def texts(at) -> list[str]:
    return [plain(m.value) for m in at.markdown] + [plain(i.value) for i in at.info] + [
        plain(c.value) for c in at.caption]


def test_an_analyst_adds_a_check_in_and_sees_it_beside_the_computed_status(db):
    at = route_page(ANALYST)
    # both targets' cards offer both forms
    assert submit_buttons(at) == ["Save the check-in", "Save the note"] * 2
    at.selectbox(key="checkin-month-csat-North").set_value("2025-02")
    at.selectbox(key="checkin-status-csat-North").set_value("off track")
    at.text_area(key="checkin-note-csat-North").input(HOSTILE)
    next(b for b in at.button if b.label == "Save the check-in"
         and "csat-North" in str(b.proto.form_id)).click().run()
    assert not at.exception
    rows = stored(db, "SELECT indicator, department, strftime(month, '%Y-%m'), status, note, "
                      "author FROM target_checkins")
    assert rows == [("csat", "North", "2025-02", "off track", HOSTILE, ANALYST)]
    log = stored(db, "SELECT file_name, dataset, \"rows\", outcome, \"user\" FROM upload_log "
                     "WHERE outcome = 'check-in'")
    assert log == [("check-in", "target_checkins", 1, "check-in", ANALYST)]
    # the card says it, with the status computed for 2025-02: no CSAT answers then → no data
    latest = [t for t in texts(at) if t.startswith("Latest check-in: ")]
    assert latest == [f"Latest check-in: 2025-02 · off track (computed: no data) — {HOSTILE} · "
                      f"{ANALYST}"]
    # the text is shown, never run: markdown specials are escaped in what was sent
    raw = [i.value for i in at.info if "Latest check-in" in plain(i.value)][0]
    assert "**loud**" not in raw and "[x](http" not in raw and "\\*\\*loud\\*\\*" in raw


def test_a_note_for_every_indicator_lands_on_every_card_of_its_department(db):
    at = route_page(ANALYST)
    at.selectbox(key="note-month-csat-North").set_value("2025-02")
    at.checkbox(key="note-all-csat-North").check()
    at.text_area(key="note-text-csat-North").input("new ticket system")
    next(b for b in at.button if b.label == "Save the note"
         and "csat-North" in str(b.proto.form_id)).click().run()
    assert not at.exception
    assert stored(db, "SELECT strftime(month, '%Y-%m'), indicator, department, note FROM "
                      "event_notes") == [("2025-02", None, "North", "new ticket system")]
    notes = [t for t in texts(at) if "new ticket system" in t]
    # North's card lists it; South's does not (another department)
    assert notes == ["- 2025-02 · note (every indicator, North): new ticket system"]


def test_a_team_lead_writes_for_their_department_only(db):
    at = route_page(LEAD_NORTH)
    assert submit_buttons(at) == ["Save the check-in", "Save the note"]  # North's card only
    # and the write itself refuses the South target, whatever the page drew
    con = store.connect(db)
    try:
        with pytest.raises(checkins.CheckinForbidden):
            checkins.add_checkin(con, indicator="revenue", department="South", month="2025-02",
                                 status="on track", note="x",
                                 access=("team_lead", ("North",), LEAD_NORTH))
    finally:
        con.close()
    assert stored(db, "SELECT count(*) FROM target_checkins") == [(0,)]


def test_an_executive_reads_and_writes_only_as_owner(db):
    con = store.connect(db)
    try:
        checkins.add_checkin(con, indicator="csat", department="North", month="2025-03",
                             status="at risk", note="two agents on leave", author=ANALYST)
    finally:
        con.close()
    at = route_page(EXECUTIVE)
    # reads North's check-in; may write a check-in only on South's target, which they own
    assert any(t.startswith("Latest check-in: 2025-03 · at risk") for t in texts(at))
    assert submit_buttons(at) == ["Save the check-in"]
    assert [b.proto.form_id for b in at.button if b.label == "Save the check-in"] == [
        "checkin-form-revenue-South"]


def test_a_team_lead_never_receives_another_departments_check_ins_or_notes(db):
    con = store.connect(db)
    try:
        checkins.add_checkin(con, indicator="revenue", department="South", month="2025-02",
                             status="off track", note="south secret")
        checkins.add_note(con, month="2025-02", note="south event", department="South")
        checkins.add_note(con, month="2025-02", note="everyone's event")
    finally:
        con.close()
    at = route_page(LEAD_NORTH)
    shown = "\n".join(texts(at)) + "\n".join(df.value.to_csv() for df in at.dataframe)
    assert "south secret" not in shown and "south event" not in shown
    assert "everyone's event" in shown
    # scoped where it is read: the loaders, with North's scope, return no South row
    from dashboard import connection, loaders

    key = (str(db), connection.data_version(db))
    assert set(loaders.checkins(*key, ("North",))["department"]) == set()
    assert set(loaders.event_notes(*key, ("North",))["department"]) == {"All"}


def test_the_export_carries_each_targets_latest_check_in():
    summary = pd.DataFrame({"indicator": ["csat", "revenue"], "department": ["North", "South"]})
    history = pd.DataFrame({
        "indicator": ["csat", "csat"], "department": ["North", "North"],
        "month": ["2025-01", "2025-02"], "status": ["on track", "off track"],
        "note": ["fine", "=1+1"], "author": ["a", "b"],
    })
    out = checkins_panel.with_latest_checkin(summary, history)
    assert out["checkin_month"].tolist() == ["2025-02", None]
    assert out["checkin_status"].tolist() == ["off track", None]
    assert out["checkin_note"].tolist() == ["=1+1", None]
    # and the CSV download neutralises the formula
    from indicators import export

    assert re.search(rb"'=1\+1", export.to_csv_bytes(out))


def test_a_scorecard_card_marks_the_months_with_notes_and_says_this_months():
    from dashboard import scorecard

    card = pd.DataFrame({
        "indicator": ["csat", "revenue"], "month": ["2025-03", "2025-03"],
        "trend_months": [["2025-01", "2025-02", "2025-03"]] * 2,
    })
    notes = pd.DataFrame({
        "month": ["2025-02", "2025-03", "2025-03", "2024-12"],
        "indicator": [None, "csat", "revenue", None],
        "department": ["North", "All", "South", "All"],
        "note": ["system change", HOSTILE, "south only", "too early"],
    })
    out = scorecard.with_notes(card, notes, "North").set_index("indicator")
    # csat: North's note for every indicator (2025-02) and All's csat note (2025-03)
    assert out.at["csat", "note_months"] == ["2025-02", "2025-03"]
    assert out.at["csat", "notes_now"] == [HOSTILE]
    # a note on every indicator is said once for the page, not on each card
    assert scorecard.general_notes(notes, "North", "2025-02") == ["system change"]
    assert scorecard.general_notes(notes, "North", "2025-03") == []
    # revenue: only the North note; South's is another department's
    assert (out.at["revenue", "note_months"], out.at["revenue", "notes_now"]) == (
        ["2025-02"], [])
    # the sparkline draws one triangle per noted month and its hover names the months only
    row = {"label": "CSAT", "unit": "%", "trend": [60.0, 70.0, 80.0], "target": float("nan"),
           "trend_colour": "green", "trend_months": ["2025-01", "2025-02", "2025-03"],
           "note_months": out.at["csat", "note_months"]}
    spark = scorecard.sparkline(row)
    assert len(spark.notes) == 2
    assert spark.title.endswith("Notes on events (triangles): 2025-02, 2025-03")
    assert scorecard.sparkline_svg(spark).count(f'fill="{scorecard.SPARK_NOTE_COLOUR}"') == 2
