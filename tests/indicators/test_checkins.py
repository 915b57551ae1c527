"""Target check-ins and event notes (:mod:`indicators.checkins`): stored and read back exactly,
the latest per target, the notes that apply to a chart, every rejection naming the field, the
value and the rule with nothing written, the role rule, the upload log row that undo leaves
alone, and hostile text kept as text.

The database: purchases in North and South (2025-01 … 2025-03); targets csat North (baseline
2025-01, target 2025-06, owner ``Ana.Lead@Example.org``), csat for All (``*``, no owner) and
nps South (owner ``Boris``).
"""

from __future__ import annotations

import csv
import datetime as dt
import doctest
import io
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from indicators import checkins, export, route, store, undo
from indicators.catalog import INDICATOR_IDS
from indicators.checkins import (
    CheckinError,
    CheckinForbidden,
    add_checkin,
    add_note,
    latest_checkins,
    may_write_checkin,
    may_write_note,
    read_checkins,
    read_notes,
)
from tests.indicators.engine_rows import make_db, purchase

NOW = datetime(2025, 6, 3, 10, 0)
OWNER = "Ana.Lead@Example.org"


def target(indicator: str, department: str, owner: str | None) -> dict[str, object]:
    return {"indicator": indicator, "department": department, "baseline_month": "2025-01",
            "target_month": "2025-06", "target": 80.0, "owner": owner}


DATA = {
    "purchases": [
        purchase("p1", "2025-01-05 10:00", "c1", "North", 10.0),
        purchase("p2", "2025-02-05 10:00", "c2", "South", 20.0),
        purchase("p3", "2025-03-05 10:00", "c3", "North", 30.0),
    ],
    "targets": [target("csat", "North", OWNER), target("csat", "*", None),
                target("nps", "South", "Boris")],
}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return make_db(tmp_path / "c.duckdb", DATA)


@pytest.fixture
def con(db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = store.connect(db)
    yield connection
    connection.close()


def checkin(con: duckdb.DuckDBPyConnection, **given: object) -> int:
    values = {"indicator": "csat", "department": "North", "month": "2025-03",
              "status": "off track", "note": "two agents out sick", "now": NOW, **given}
    return add_checkin(con, **values)


def note(con: duckdb.DuckDBPyConnection, **given: object) -> int:
    return add_note(con, **{"month": "2025-02", "note": "price change", "now": NOW, **given})


def rows(frame: pd.DataFrame) -> list[dict[str, object]]:
    return frame.to_dict("records")


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {
        name: con.execute(f'SELECT * FROM "{name}" ORDER BY ALL').fetchall()
        for name in store.table_names()
    }


def log(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        'SELECT uploaded_at, "user", file_name, dataset, slices, "rows", outcome, message, '
        "undoes, warnings FROM upload_log ORDER BY id"
    ).fetchall()


# --- stored and read back ---------------------------------------------------------------------


def test_a_checkin_is_stored_and_read_back_exactly(con):
    new_id = checkin(con, note="line one\n\tline two", author="ana")
    assert con.execute("SELECT * FROM target_checkins").fetchall() == [
        (new_id, "csat", "North", date(2025, 3, 1), "off track", "line one\n\tline two", "ana",
         NOW),
    ]
    assert rows(read_checkins(con)) == [
        {"id": new_id, "indicator": "csat", "department": "North", "month": "2025-03",
         "status": "off track", "note": "line one\n\tline two", "author": "ana",
         "written_at": pd.Timestamp(NOW)},
    ]
    assert list(read_checkins(con).columns) == list(checkins.CHECKIN_COLUMNS)


@pytest.mark.parametrize("department", ["All", "*", " All "])
def test_all_and_star_both_name_the_all_target_stored_as_star_shown_as_all(con, department):
    checkin(con, department=department, status="on track")
    assert con.execute("SELECT department FROM target_checkins").fetchall() == [("*",)]
    assert read_checkins(con)["department"].tolist() == ["All"]


def test_a_time_with_an_offset_is_stored_as_utc(con):
    checkin(con, now=datetime(2025, 6, 3, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))))
    assert read_checkins(con)["written_at"].tolist() == [pd.Timestamp(2025, 6, 3, 10, 0)]


def test_a_note_is_stored_and_read_back_exactly(con):
    every = note(con)
    one = note(con, month="2025-03", indicator="csat", department="North", note="outage",
               author="bo")
    assert con.execute("SELECT * FROM event_notes ORDER BY id").fetchall() == [
        (every, date(2025, 2, 1), None, "*", "price change", None, NOW),
        (one, date(2025, 3, 1), "csat", "North", "outage", "bo", NOW),
    ]
    assert rows(read_notes(con)) == [
        {"id": every, "month": "2025-02", "indicator": None, "department": "All",
         "note": "price change", "author": None, "written_at": pd.Timestamp(NOW)},
        {"id": one, "month": "2025-03", "indicator": "csat", "department": "North",
         "note": "outage", "author": "bo", "written_at": pd.Timestamp(NOW)},
    ]


def test_read_checkins_filters_and_sorts_all_first_then_month(con):
    south = checkin(con, indicator="nps", department="South", month="2025-02")
    north_late = checkin(con, month="2025-04")
    north_early = checkin(con, month="2025-02")
    everyone = checkin(con, department="All", month="2025-05")
    assert read_checkins(con)["id"].tolist() == [everyone, north_early, north_late, south]
    assert read_checkins(con, indicator="nps")["id"].tolist() == [south]
    assert read_checkins(con, department="All")["id"].tolist() == [everyone]
    # a team lead's view: their departments; All's only when All is among them
    assert read_checkins(con, departments=["North"])["id"].tolist() == [north_early, north_late]
    assert read_checkins(con, departments=["North", "All"])["id"].tolist() == [
        everyone, north_early, north_late,
    ]
    assert read_checkins(con, departments=[]).empty


def test_latest_checkins_takes_the_latest_month_then_the_last_written(con):
    later_month = checkin(con, month="2025-04", now=datetime(2025, 5, 1), status="at risk")
    checkin(con, month="2025-03", now=datetime(2025, 6, 1))  # written later, an earlier month
    checkin(con, department="All", month="2025-05", now=datetime(2025, 6, 1, 9))
    all_last = checkin(con, department="All", month="2025-05", now=datetime(2025, 6, 1, 10),
                       status="achieved")
    checkin(con, indicator="nps", department="South", month="2025-02", now=NOW)
    south_tie = checkin(con, indicator="nps", department="South", month="2025-02", now=NOW,
                        status="missed")  # same month, same time: the higher id
    latest = latest_checkins(con)
    assert latest[["id", "indicator", "department", "month", "status"]].values.tolist() == [
        [all_last, "csat", "All", "2025-05", "achieved"],
        [later_month, "csat", "North", "2025-04", "at risk"],
        [south_tie, "nps", "South", "2025-02", "missed"],
    ]
    assert latest_checkins(con, departments=["South"])["id"].tolist() == [south_tie]


def test_the_notes_that_apply_to_a_chart(con):
    everything = note(con, month="2025-02")
    csat_everywhere = note(con, month="2025-02", indicator="csat")
    csat_north = note(con, month="2025-03", indicator="csat", department="North")
    nps_south = note(con, month="2025-03", indicator="nps", department="South")
    north = note(con, month="2025-01", department="North")

    def ids(**chart: object) -> list[int]:
        return read_notes(con, **chart)["id"].tolist()

    assert ids(indicator="csat", department="North") == [
        north, everything, csat_everywhere, csat_north,
    ]
    assert ids(indicator="csat", department="All") == [everything, csat_everywhere]
    assert ids(indicator="nps", department="South") == [everything, nps_south]
    assert ids(indicator="nps") == [north, everything, nps_south]
    assert ids(department="South") == [everything, csat_everywhere, nps_south]
    assert ids() == [north, everything, csat_everywhere, csat_north, nps_south]
    # a team lead of North: North's notes and those for every department
    assert ids(departments=["North"]) == [north, everything, csat_everywhere, csat_north]


def test_readers_on_a_database_without_the_tables_give_no_rows(db):
    raw = duckdb.connect(str(db))
    raw.execute("DROP TABLE target_checkins")
    raw.execute("DROP TABLE event_notes")
    raw.close()
    assert store.health(db).ok  # read-only: the tables come with the next write
    con = store.connect(db, read_only=True)
    try:
        for frame, columns in ((read_checkins(con), checkins.CHECKIN_COLUMNS),
                               (latest_checkins(con), checkins.CHECKIN_COLUMNS),
                               (read_notes(con, indicator="csat"), checkins.NOTE_COLUMNS)):
            assert frame.empty and list(frame.columns) == list(columns)
    finally:
        con.close()
    store.connect(db).close()
    health = store.health(db)
    assert health.ok and health.tables["target_checkins"] == 0 == health.tables["event_notes"]


def test_the_store_lists_and_creates_both_tables(con):
    assert {"target_checkins", "event_notes"} <= set(store.table_names())
    assert {"target_checkins", "event_notes"} <= set(store.ADDED_TABLES)
    store.init_db(con)  # idempotent
    assert store.check(con).ok


def test_the_doctests_hold():
    assert doctest.testmod(checkins).failed == 0


def test_the_statuses_are_the_routes_but_no_data():
    assert checkins.CHECKIN_STATUSES == ("achieved", "on track", "at risk", "off track", "missed")
    assert set(checkins.CHECKIN_STATUSES) == set(route.STATUSES) - {"no data"}


# --- rejections ---------------------------------------------------------------------------------

CATALOG = ", ".join(INDICATOR_IDS)

CHECKIN_REJECTIONS = [
    ({"indicator": "xyz"}, f"indicator 'xyz': must be a catalog id: {CATALOG}"),
    ({"department": "South"},
     "department 'South': must name a stored target of csat; csat has targets for All, North"),
    ({"indicator": "nps", "department": "North"},
     "department 'North': must name a stored target of nps; nps has targets for South"),
    ({"indicator": "revenue"},
     "department 'North': must name a stored target of revenue; revenue has no target at all"),
    ({"month": "2025-13"}, "month '2025-13': must be written YYYY-MM (0001-01 to 9999-12)"),
    ({"month": "June"}, "month 'June': must be written YYYY-MM (0001-01 to 9999-12)"),
    ({"month": "2024-12"},
     "month '2024-12': must lie on the target's route, 2025-01 to 2035-06 (its baseline month "
     "to 120 months after its target month)"),
    ({"month": "2035-07"},
     "month '2035-07': must lie on the target's route, 2025-01 to 2035-06 (its baseline month "
     "to 120 months after its target month)"),
    ({"status": "no data"},
     "status 'no data': must be one of achieved, on track, at risk, off track, missed"),
    ({"status": "On Track"},
     "status 'On Track': must be one of achieved, on track, at risk, off track, missed"),
    ({"note": ""}, "note '': must not be empty"),
    ({"note": " \n\t "}, "note ' \\n\\t ': must not be empty"),
    ({"note": "x" * 2001},
     f"note '{'x' * 40}…': must be at most 2000 characters (it has 2001)"),
    ({"note": "bell\x07"},
     "note 'bell\\x07': holds the control character U+0007 at character 5; the only control "
     "characters allowed are line breaks (\\n) and tabs"),
    ({"note": "a\r\nb"},
     "note 'a\\r\\nb': holds the control character U+000D at character 2; the only control "
     "characters allowed are line breaks (\\n) and tabs"),
    ({"note": "abc\u202edcba"},
     "note 'abc\\u202edcba': holds the control character U+202E at character 4; the only control "
     "characters allowed are line breaks (\\n) and tabs"),
    ({"author": "ana\nbob"}, "author 'ana\\nbob': must be at most 200 printable characters"),
]


@pytest.mark.parametrize(("given", "message"), CHECKIN_REJECTIONS)
def test_a_rejected_checkin_names_field_value_and_rule_and_writes_nothing(con, given, message):
    checkin(con)  # something there already, kept as it is
    before = snapshot(con)
    with pytest.raises(CheckinError) as raised:
        checkin(con, **given)
    assert str(raised.value) == message
    assert snapshot(con) == before


def test_a_note_of_2000_characters_is_accepted(con):
    checkin(con, note="x" * 2000)
    assert read_checkins(con)["note"].str.len().tolist() == [2000]


NOTE_REJECTIONS = [
    ({"indicator": "xyz"}, f"indicator 'xyz': must be a catalog id: {CATALOG}"),
    ({"department": "Atlantis"},
     "department 'Atlantis': must be All (every department) or a department that occurs in "
     "the data"),
    ({"month": "2025-2"}, "month '2025-2': must be written YYYY-MM (0001-01 to 9999-12)"),
    ({"note": "   "}, "note '   ': must not be empty"),
    ({"note": "\x1b[31mred"},
     "note '\\x1b[31mred': holds the control character U+001B at character 1; the only control "
     "characters allowed are line breaks (\\n) and tabs"),
]


@pytest.mark.parametrize(("given", "message"), NOTE_REJECTIONS)
def test_a_rejected_note_names_field_value_and_rule_and_writes_nothing(con, given, message):
    note(con)
    before = snapshot(con)
    with pytest.raises(CheckinError) as raised:
        note(con, **given)
    assert str(raised.value) == message
    assert snapshot(con) == before


def test_a_failure_after_the_row_rolls_the_row_back_too(con, monkeypatch):
    def broken_log(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the log could not be written")

    before = snapshot(con)
    monkeypatch.setattr(checkins, "_log", broken_log)
    with pytest.raises(RuntimeError):
        checkin(con)
    with pytest.raises(RuntimeError):
        note(con)
    assert snapshot(con) == before


# --- who may write -------------------------------------------------------------------------------

NORTH_LEAD = ("team_lead", ("North",), "north.lead@example.org")


@pytest.mark.parametrize(
    ("who", "department", "owner", "allowed"),
    [
        (("analyst", None, "an@example.org"), "North", None, True),
        (("analyst", None, "an@example.org"), "*", None, True),
        (NORTH_LEAD, "North", None, True),
        (NORTH_LEAD, " North ", None, True),
        (NORTH_LEAD, "South", None, False),
        (NORTH_LEAD, "*", None, False),
        (NORTH_LEAD, "All", None, False),
        (("team_lead", None, "lead@example.org"), "North", None, False),
        (("executive", None, "ceo@example.org"), "North", None, False),
        (("executive", None, "ceo@example.org"), "*", "someone@example.org", False),
        (("executive", None, "ceo@example.org"), "*", "ceo@example.org", True),
        (("executive", None, " CEO@Example.ORG "), "*", "ceo@example.org", True),
        (("executive", None, "ceo@example.org"), "North", " Ceo@Example.org", True),
        (("team_lead", ("North",), "boris"), "South", "Boris", True),
        (("executive", None, None), "*", None, False),
        (("executive", None, ""), "*", "", False),
        # non-ASCII text is compared exactly (the Kelvin sign is not a K)
        (("executive", None, "\u212aate@example.org"), "*", "kate@example.org", False),
        (("guest", ("North",), "x@example.org"), "North", None, False),
    ],
)
def test_who_may_write_a_checkin(who, department, owner, allowed):
    role, departments, user = who
    assert may_write_checkin(
        role, departments, user, department=department, owner=owner
    ) is allowed


@pytest.mark.parametrize(
    ("who", "department", "allowed"),
    [
        (("analyst", None), "*", True),
        (("analyst", None), "South", True),
        (("team_lead", ("North",)), "North", True),
        (("team_lead", ("North",)), "South", False),
        (("team_lead", ("North",)), "*", False),
        (("team_lead", ("North",)), "All", False),
        (("executive", None), "North", False),
        (("executive", None), "*", False),
    ],
)
def test_who_may_write_a_note(who, department, allowed):
    role, departments = who
    assert may_write_note(role, departments, department=department) is allowed


def test_access_refused_writes_nothing_and_does_not_tell_whether_the_target_exists(con):
    before = snapshot(con)
    with pytest.raises(CheckinForbidden) as refused:
        checkin(con, department="South", access=NORTH_LEAD)  # no csat target in South
    assert str(refused.value) == (
        "team_lead 'north.lead@example.org' may not write check-ins on csat in South: only "
        "analysts, team leads of that department and the target's owner may"
    )
    with pytest.raises(CheckinForbidden):
        checkin(con, department="All", access=NORTH_LEAD)
    with pytest.raises(CheckinForbidden):
        checkin(con, access=("executive", None, "ceo@example.org"))
    with pytest.raises(CheckinForbidden) as refused:
        note(con, department="All", access=NORTH_LEAD[:2] + ("north.lead@example.org",))
    assert str(refused.value) == (
        "team_lead 'north.lead@example.org' may not write event notes for All: only analysts "
        "and team leads of that department may"
    )
    assert snapshot(con) == before


def test_access_granted_writes(con):
    checkin(con, access=("executive", None, " ana.lead@example.org"))  # the owner
    checkin(con, month="2025-04", access=NORTH_LEAD)
    note(con, department="North", access=NORTH_LEAD)
    assert read_checkins(con)["month"].tolist() == ["2025-03", "2025-04"]
    assert read_notes(con)["department"].tolist() == ["North"]


# --- the upload log and undo ---------------------------------------------------------------------


def test_each_write_adds_one_log_row_that_undo_does_not_treat_as_a_load(con, db):
    before = log(con)
    first = checkin(con, department="All", month="2025-06", status="off track", author="ana")
    note(con, indicator="csat", department="North", author="bo")
    note(con)
    assert log(con) == [
        *before,
        (NOW, "ana", "check-in", "target_checkins", None, 1, "check-in",
         "check-in for csat in All, 2025-06: off track", None, None),
        (NOW, "bo", "event note", "event_notes", None, 1, "note",
         "event note for 2025-02 (csat in North)", None, None),
        (NOW, None, "event note", "event_notes", None, 1, "note",
         "event note for 2025-02 (every indicator in every department)", None, None),
    ]
    shown = store.read_upload_log(con)
    assert shown[["file_name", "outcome", "rows"]].head(3).values.tolist() == [
        ["event note", "note", 1], ["event note", "note", 1], ["check-in", "check-in", 1],
    ]
    assert shown["undone_by"].isna().all()
    entry = int(shown["id"].iloc[2])
    assert undo.undoable(con).empty  # the test database's rows were written by hand, not loaded
    assert undo.refusal(con, entry) == (
        f"cannot undo upload #{entry} (check-in): it is a check-in, not a load; check-ins and "
        "notes stay as written"
    )
    assert set(undo.STORY_OUTCOMES) == {checkins.CHECKIN_OUTCOME, checkins.NOTE_OUTCOME}
    state = snapshot(con)
    with pytest.raises(undo.UndoRefused):
        undo.undo_load(con, entry, user="ana")
    assert snapshot(con) == state
    assert first == read_checkins(con)["id"].item()


def test_checkins_do_not_count_as_loads_for_undo(tmp_path, con):
    """An accepted load stays undoable after check-ins and notes are written around it."""
    from indicators.ingest import ingest_file

    path = tmp_path / "p.csv"
    path.write_text("purchase_id,purchased_at,customer_id,department,amount\n"
                    "p9,2025-03-09,c9,North,9\n", encoding="utf-8")
    load = ingest_file(con, path)
    assert load.accepted
    checkin(con)
    note(con)
    assert undo.undoable(con)["id"].tolist() == [load.load_id]
    done = undo.undo_load(con, load.load_id, user="ana")
    assert done.undoes == load.load_id
    assert len(read_checkins(con)) == 1 and len(read_notes(con)) == 1


# --- hostile text stays text -----------------------------------------------------------------------

HOSTILE = [
    # (text as written, the CSV cell as a spreadsheet gets it)
    ("=1+1", "'=1+1"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("+1", "'+1"),
    ("-2", "'-2"),
    ("<script>alert(1)</script>", "<script>alert(1)</script>"),
    ('=HYPERLINK("http://x.example","click")', '\'=HYPERLINK("http://x.example","click")'),
    ("first line\n=1+1", "first line\n'=1+1"),
    ("tab\there", "tab\there"),
]


@pytest.mark.parametrize(("text", "cell"), HOSTILE)
def test_hostile_text_round_trips_unchanged_and_exports_neutralised(con, text, cell):
    checkin(con, note=text)
    note(con, note=text)
    assert read_checkins(con)["note"].tolist() == [text]
    assert read_notes(con)["note"].tolist() == [text]
    for frame in (read_checkins(con), read_notes(con)):
        exported = export.to_csv_bytes(frame).decode("utf-8")
        (header, row) = list(csv.reader(io.StringIO(exported, newline="")))
        assert row[header.index("note")] == cell
