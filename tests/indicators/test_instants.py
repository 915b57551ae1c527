"""Instants (issue 16, item 2): a stored timestamp is the instant (UTC), a duration is the time
that passed, an event's month is its month in the organisation's zone.

Expected durations are written as the arithmetic of the clock times in the file: the wall-clock
difference, then the hour a daylight-saving change adds or takes away.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from indicators import facts, store, undo
from indicators.ingest import DATE_FORMATS, ingest_file, ingest_frame
from indicators.ingest.cells import stage_columns
from indicators.ingest.sql import Params
from indicators.migrations import SCHEMA_VERSION, stored_version
from indicators.schema import DATASETS
from tests.indicators.test_ingest import assert_problem, fresh_connection, load, write

NEW_YORK = "America/New_York"
MOSCOW = "Europe/Moscow"
RESPONSES = "request_id,department,received_at,responded_at\n"
COMPLAINTS = "complaint_id,opened_at,department,resolved_at\n"


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    yield from fresh_connection()


def in_zone(con: duckdb.DuckDBPyConnection, zone: str) -> duckdb.DuckDBPyConnection:
    store.write_setting(con, "time_zone", zone)
    return con


def fact(con: duckdb.DuckDBPyConnection, month: str, column: str, department: str = "All"):
    table = facts.facts_table(con)
    row = table[(table["month"] == month) & (table["department"] == department)]
    assert len(row) == 1, table[["month", "department"]]
    return row.iloc[0][column]


def minutes_stored(con: duckdb.DuckDBPyConnection) -> list[tuple[str, float]]:
    return con.execute(
        "SELECT request_id, date_diff('microsecond', received_at, responded_at) / 6e7 "
        "FROM responses ORDER BY 1"
    ).fetchall()


# --- the 311 case: a week that crosses the spring change ---------------------------------------

OPENED, CLOSED = "2015-03-03T08:50:52-05:00", "2015-03-10T13:44:14-04:00"
# 7 days, plus the clock times' difference, minus the hour the clocks went forward on 8 March.
ELAPSED_MINUTES = 7 * 24 * 60 + (13 * 60 + 44 + 14 / 60) - (8 * 60 + 50 + 52 / 60) - 60


def test_the_311_case_resolution_hours_are_the_time_that_passed(con, tmp_path):
    in_zone(con, NEW_YORK)
    load(con, tmp_path, "c.csv", COMPLAINTS + f"k1,{OPENED},Sanitation,{CLOSED}\n")
    assert round(ELAPSED_MINUTES, 2) == 10_313.37
    assert fact(con, "2015-03", "resolution_hours_median") == pytest.approx(ELAPSED_MINUTES / 60)
    # Stored as UTC: 08:50:52 + 5 h and 13:44:14 + 4 h.
    assert con.execute("SELECT opened_at, resolved_at, month FROM complaints").fetchone() == (
        dt.datetime(2015, 3, 3, 13, 50, 52),
        dt.datetime(2015, 3, 10, 17, 44, 14),
        dt.date(2015, 3, 1),
    )


def test_the_311_case_as_a_response_is_10313_minutes_not_10373(con, tmp_path):
    in_zone(con, NEW_YORK)
    load(con, tmp_path, "r.csv", RESPONSES + f"r1,Sanitation,{OPENED},{CLOSED}\n")
    minutes = fact(con, "2015-03", "response_minutes_median")
    assert minutes == pytest.approx(ELAPSED_MINUTES)
    assert minutes != pytest.approx(ELAPSED_MINUTES + 60)


# --- both changes, with offsets and naive, New York and Moscow ---------------------------------


@pytest.mark.parametrize(
    ("zone", "received", "responded", "minutes"),
    [
        # Spring, New York (02:00 EST → 03:00 EDT on 8 March 2015).
        (NEW_YORK, "2015-03-08T01:50-05:00", "2015-03-08T03:10-04:00", (3 * 60 + 10) - (60 + 50) - 60),
        (NEW_YORK, "2015-03-08 01:50", "2015-03-08 03:10", (3 * 60 + 10) - (60 + 50) - 60),
        # Autumn, New York (02:00 EDT → 01:00 EST on 1 November 2015).
        (NEW_YORK, "2015-11-01T01:50-04:00", "2015-11-01T01:10-05:00", (60 + 10) - (60 + 50) + 60),
        (NEW_YORK, "2015-11-01 00:50", "2015-11-01 03:10", (3 * 60 + 10) - 50 + 60),
        # Moscow has kept +03:00 since 26 October 2014: the same naive files, plain differences.
        (MOSCOW, "2015-03-08 01:50", "2015-03-08 03:10", (3 * 60 + 10) - (60 + 50)),
        (MOSCOW, "2015-11-01 00:50", "2015-11-01 03:10", (3 * 60 + 10) - 50),
        (MOSCOW, "2015-03-29 01:50", "2015-03-29 03:10", (3 * 60 + 10) - (60 + 50)),
        (MOSCOW, "2015-10-25T01:50+03:00", "2015-10-25T03:10+03:00", (3 * 60 + 10) - (60 + 50)),
    ],
)
def test_response_minutes_across_a_change_are_elapsed_time(
    con, tmp_path, zone, received, responded, minutes
):
    in_zone(con, zone)
    load(con, tmp_path, "r.csv", RESPONSES + f"r1,Support,{received},{responded}\n")
    assert minutes_stored(con) == [("r1", pytest.approx(minutes))]
    assert fact(con, received[:7], "response_minutes_median") == pytest.approx(minutes)


def test_the_autumn_request_answered_20_minutes_later_is_accepted(con, tmp_path):
    in_zone(con, NEW_YORK)
    text = RESPONSES + "r1,Support,2015-11-01T01:50-04:00,2015-11-01T01:10-05:00\n"
    result = load(con, tmp_path, "r.csv", text)
    assert result.accepted and result.rows == 1
    # 01:50 EDT is 05:50 UTC; 01:10 EST is 06:10 UTC.
    assert con.execute("SELECT received_at, responded_at FROM responses").fetchone() == (
        dt.datetime(2015, 11, 1, 5, 50),
        dt.datetime(2015, 11, 1, 6, 10),
    )
    assert minutes_stored(con) == [("r1", pytest.approx((60 + 10) - (60 + 50) + 60))]


def test_the_same_request_written_without_offsets_is_rejected(con, tmp_path):
    # 01:50 and 01:10 on 1 November each occur twice in New York; both are read as the later
    # instant (EST), so the answer is 40 minutes before the request: the honest reading.
    in_zone(con, NEW_YORK)
    text = RESPONSES + "r1,Support,2015-11-01 01:50,2015-11-01 01:10\n"
    problem = assert_problem(
        ingest_file(con, write(tmp_path, "r.csv", text)), 2, "responded_at",
        "must not be before received_at",
    )
    assert problem.value == "2015-11-01 01:10"


# --- naive times in a gap or an overlap --------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "written", "utc"),
    [
        # Spring gap: 02:30 does not exist; read with the offset before the change (EST, −5).
        (NEW_YORK, "2015-03-08 02:30", dt.datetime(2015, 3, 8, 2 + 5, 30)),
        # Autumn overlap: 01:30 occurs twice; read as the later instant (EST, −5).
        (NEW_YORK, "2015-11-01 01:30", dt.datetime(2015, 11, 1, 1 + 5, 30)),
        (NEW_YORK, "2015-11-01 00:59:59", dt.datetime(2015, 11, 1, 0 + 4, 59, 59)),  # EDT, −4
        (NEW_YORK, "2015-11-01 02:00", dt.datetime(2015, 11, 1, 2 + 5)),
        # Berlin: gap 02:00–03:00 on 29 March (CET, +1 before), overlap on 25 October.
        ("Europe/Berlin", "2015-03-29 02:30", dt.datetime(2015, 3, 29, 2 - 1, 30)),
        ("Europe/Berlin", "2015-10-25 02:30", dt.datetime(2015, 10, 25, 2 - 1, 30)),
        # Moscow's last change (26 October 2014, +4 → +3): the later instant, +3.
        (MOSCOW, "2014-10-26 01:30", dt.datetime(2014, 10, 25, 24 + 1 - 3, 30)),
        (MOSCOW, "2015-03-08 02:30", dt.datetime(2015, 3, 7, 24 + 2 - 3, 30)),
    ],
)
def test_naive_times_in_a_gap_or_an_overlap(con, tmp_path, zone, written, utc):
    in_zone(con, zone)
    load(con, tmp_path, "c.csv", COMPLAINTS + f"k1,{written},Sales,\n")
    assert con.execute("SELECT opened_at FROM complaints").fetchone() == (utc,)


# --- the month is the month in the organisation's zone -----------------------------------------


@pytest.mark.parametrize(
    ("zone", "written", "month"),
    [
        (NEW_YORK, "2025-01-31T23:30-05:00", "2025-01"),
        ("UTC", "2025-01-31T23:30-05:00", "2025-02"),  # 04:30 UTC on 1 February
        (NEW_YORK, "2025-01-31 23:30", "2025-01"),  # the month the text says
        ("UTC", "2025-01-31 23:30", "2025-01"),
        ("Asia/Tokyo", "2025-01-31T20:00Z", "2025-02"),  # 05:00 on 1 February in Tokyo
        ("Asia/Tokyo", "2025-02-01 05:00", "2025-02"),  # stored 20:00 UTC on 31 January
    ],
)
def test_an_event_belongs_to_its_month_in_the_zone(con, tmp_path, zone, written, month):
    if zone != "UTC":
        in_zone(con, zone)
    result = load(con, tmp_path, "c.csv", COMPLAINTS + f"k1,{written},Sales,\n")
    assert result.slices == [(month, "Sales")]
    assert fact(con, month, "complaints") == 1


def test_a_named_format_is_local_time_too(con, tmp_path):
    in_zone(con, NEW_YORK)
    text = RESPONSES + "r1,Support,3/8/2015 01:50,3/8/2015 03:10\n"
    load(con, tmp_path, "r.csv", text, date_format="M/D/YYYY")
    assert con.execute("SELECT received_at, responded_at FROM responses").fetchone() == (
        dt.datetime(2015, 3, 8, 1 + 5, 50),
        dt.datetime(2015, 3, 8, 3 + 4, 10),
    )


def test_a_typed_column_with_a_zone_holds_instants_one_without_wall_clock_times(con):
    in_zone(con, NEW_YORK)
    con.execute("SET TimeZone = 'Asia/Kolkata'")  # how DuckDB renders the zoned column
    frame = pd.DataFrame({
        "request_id": ["r1"],
        "department": ["Support"],
        "received_at": pd.to_datetime(["2015-11-01T01:50-04:00"]),
        "responded_at": pd.to_datetime(["2015-11-01T01:10-05:00"]),
    })
    assert ingest_frame(con, frame, file_name="zoned").accepted
    naive = frame.assign(
        request_id=["r2"], department=["Sales"],
        received_at=pd.to_datetime(["2015-03-08 01:50"]),
        responded_at=pd.to_datetime(["2015-03-08 03:10"]),
    )
    assert ingest_frame(con, naive, file_name="naive").accepted
    assert minutes_stored(con) == [
        ("r1", pytest.approx((60 + 10) - (60 + 50) + 60)),
        ("r2", pytest.approx((3 * 60 + 10) - (60 + 50) - 60)),
    ]


def test_nothing_depends_on_the_sessions_time_zone(con, tmp_path):
    in_zone(con, NEW_YORK)
    con.execute("SET TimeZone = 'Asia/Kolkata'")
    text = RESPONSES + "r1,Support,2015-03-08 01:50,2015-03-08T03:10-04:00\n"
    load(con, tmp_path, "r.csv", text)
    assert con.execute("SELECT received_at, responded_at, month FROM responses").fetchone() == (
        dt.datetime(2015, 3, 8, 1 + 5, 50),
        dt.datetime(2015, 3, 8, 3 + 4, 10),
        dt.date(2015, 3, 1),
    )


# --- the repeat window is 90 × 24 hours of elapsed time ----------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "repeats"),
    [
        # 1 January → 1 April is 31 + 28 + 31 = 90 days on the wall clock, and 30 minutes more;
        # the spring change took an hour away: 89 days 23 h 30 min passed, inside the window.
        ("2015-01-01 12:00", "2015-04-01 12:30", 1),
        # 1 September → 30 November is 29 + 31 + 30 = 90 days, 30 minutes less on the clock;
        # the autumn change gave an hour back: 90 days 30 min passed, outside.
        ("2015-09-01 12:00", "2015-11-30 11:30", 0),
    ],
)
def test_the_repeat_window_counts_elapsed_time(con, tmp_path, first, second, repeats):
    in_zone(con, NEW_YORK)
    text = "complaint_id,opened_at,department,customer_id,component\n"
    text += f"k1,{first},Sales,c1,product\nk2,{second},Sales,c1,product\n"
    load(con, tmp_path, "c.csv", text)
    assert fact(con, second[:7], "repeat_complaints") == repeats


# --- UTC costs nothing -------------------------------------------------------------------------


def typed_sql(zone: str, date_format: str = "ISO") -> str:
    """The typed columns' SQL of the responses dataset read in ``zone``."""

    class _Source:
        params: dict[str, object] = {}
        decimal_comma = False
        ascii_only = True
        edge_spaces = True

    p = Params()
    positions = {c.name: i for i, c in enumerate(DATASETS["responses"].columns)}
    _, typed = stage_columns(
        _Source(), DATASETS["responses"], positions, p,  # type: ignore[arg-type]
        date_format=DATE_FORMATS[date_format], time_zone=zone,
    )
    return " ".join(typed)


@pytest.mark.parametrize("zone", sorted(store.UTC_ZONES))
def test_a_utc_zone_reads_with_no_icu_call(zone):
    sql = typed_sql(zone, "M/D/YYYY")
    assert "timezone(" not in sql
    assert "make_timestamp(epoch_us(try_cast(" in sql  # zoned text: its microseconds


def test_another_zone_reads_with_one_icu_call_per_value_and_month():
    sql = typed_sql(NEW_YORK)
    # received_at, responded_at (naive branch each) and the month.
    assert sql.count("timezone(") == 3


def test_every_utc_zone_has_offset_zero_at_every_instant(con):
    known = {n for (n,) in con.execute("SELECT name FROM pg_timezone_names()").fetchall()}
    zones = sorted(store.UTC_ZONES & known)
    assert "UTC" in zones and "Etc/UTC" in zones
    for zone in zones:
        (shifted,) = con.execute(
            "SELECT count(*) FILTER (WHERE timezone($zone, ts) <> make_timestamptz(epoch_us(ts))) "
            "FROM (SELECT TIMESTAMP '1900-01-01' + to_hours(h * 997) AS ts "
            "FROM range(1200) AS r(h))",
            {"zone": zone},
        ).fetchone()
        assert shifted == 0, zone


# --- changing the zone -------------------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "service.duckdb"
    store.connect(path).close()
    return path


def test_changing_the_zone_moves_months_and_clears_undo(db, tmp_path, capsys):
    con = store.connect(db)
    first = load(
        con, tmp_path, "p1.csv",
        "purchase_id,purchased_at,customer_id,department,amount\n"
        "p1,2025-01-31T23:30-05:00,c1,Shop,10\n"  # 04:30 UTC on 1 February
        "p2,2025-01-15T12:00Z,c2,Shop,5\n",
    )
    second = load(
        con, tmp_path, "p2.csv",
        "purchase_id,purchased_at,customer_id,department,amount\np3,2025-02-01T12:00Z,c3,Cafe,7\n",
    )
    assert fact(con, "2025-01", "purchases") == 1 and fact(con, "2025-02", "purchases") == 2
    assert len(undo.undoable(con)) == 2

    note = store.write_setting(con, "time_zone", NEW_YORK)

    assert note is not None
    assert "1 stored row moved to another month" in note
    assert "the undo history of 2 uploads was cleared" in note
    assert con.execute("SELECT purchase_id, month FROM purchases ORDER BY 1").fetchall() == [
        ("p1", dt.date(2025, 1, 1)),
        ("p2", dt.date(2025, 1, 1)),
        ("p3", dt.date(2025, 2, 1)),
    ]
    assert fact(con, "2025-01", "purchases") == 2 and fact(con, "2025-02", "purchases") == 1
    assert fact(con, "2025-01", "revenue") == 10 + 5
    # Instants do not change.
    assert con.execute("SELECT purchased_at FROM purchases WHERE purchase_id = 'p1'").fetchone() == (
        dt.datetime(2025, 2, 1, 4, 30),
    )
    assert undo.undoable(con).empty
    assert con.execute("SELECT count(*) FROM upload_slices").fetchone() == (0,)
    for name in DATASETS:
        assert con.execute(f'SELECT count(*) FROM "{store.removed_table(name)}"').fetchone() == (0,)
    assert store.read_settings(con).time_zone == NEW_YORK
    # The same zone again changes nothing more.
    assert store.write_setting(con, "time_zone", NEW_YORK) is None
    con.close()

    assert undo.run_cli(str(db), second.load_id, user=None) == 1
    said = capsys.readouterr().err
    assert f"cannot undo upload #{second.load_id} (p2.csv): the time zone setting was changed" in said
    assert "cleared what undo kept" in said and "nothing was changed" in said
    assert undo.run_cli(str(db), first.load_id, user=None) == 1
    assert "the time zone setting was changed after it" in capsys.readouterr().err


def test_a_change_that_moves_no_row_keeps_the_undo_history(con, tmp_path):
    # Mid-month noon UTC is 07:00 in New York, 15:00 in Moscow: the same month everywhere.
    header = "purchase_id,purchased_at,customer_id,department,amount\n"
    load(con, tmp_path, "p1.csv", header + "p1,2025-03-15T12:00Z,c1,Shop,10\n")
    again = load(con, tmp_path, "p2.csv", header + "p2,2025-03-16T12:00Z,c2,Shop,7\n")
    note = store.write_setting(con, "time_zone", NEW_YORK)
    assert note is not None and "0 stored rows moved" in note and "undo history is kept" in note
    assert undo.undoable(con)["id"].tolist() == [again.load_id]
    assert undo.undo_load(con, again.load_id, user=None).restored == 1
    assert con.execute("SELECT purchase_id FROM purchases").fetchall() == [("p1",)]


def test_a_kept_row_that_would_move_clears_the_undo_history(con, tmp_path):
    # p1 (04:30 UTC on 1 February: January in New York) is only kept for undo, replaced by p2.
    header = "purchase_id,purchased_at,customer_id,department,amount\n"
    load(con, tmp_path, "p1.csv", header + "p1,2025-02-01T04:30Z,c1,Shop,10\n")
    load(con, tmp_path, "p2.csv", header + "p2,2025-02-15T12:00Z,c2,Shop,7\n")
    note = store.write_setting(con, "time_zone", NEW_YORK)
    assert note is not None and "0 stored rows moved" in note
    assert "the undo history of 2 uploads was cleared" in note
    assert undo.undoable(con).empty


def test_a_transaction_is_told_from_autocommit(con):
    assert not store._in_transaction(con)
    con.begin()
    assert store._in_transaction(con)
    con.rollback()
    assert not store._in_transaction(con)


def test_a_load_after_the_change_can_be_undone(db, tmp_path):
    con = store.connect(db)
    header = "purchase_id,purchased_at,customer_id,department,amount\n"
    load(con, tmp_path, "p1.csv", header + "p1,2025-03-01T12:00Z,c1,Shop,10\n")
    store.write_setting(con, "time_zone", NEW_YORK)
    later = load(con, tmp_path, "p2.csv", header + "p2,2025-03-02 12:00,c2,Shop,7\n")
    undone = undo.undo_load(con, later.load_id, user=None)
    assert (undone.restored, undone.removed) == (1, 1)
    assert con.execute("SELECT purchase_id FROM purchases").fetchall() == [("p1",)]
    con.close()


def test_a_zone_change_inside_the_callers_transaction_rolls_back_whole(con, tmp_path):
    load(con, tmp_path, "c.csv", COMPLAINTS + "k1,2025-01-31T23:30-05:00,Sales,\n")
    con.begin()
    store.write_setting(con, "time_zone", NEW_YORK)
    assert con.execute("SELECT month FROM complaints").fetchone() == (dt.date(2025, 1, 1),)
    con.rollback()
    assert con.execute("SELECT month FROM complaints").fetchone() == (dt.date(2025, 2, 1),)
    assert store.read_settings(con).time_zone == "UTC"
    assert len(undo.undoable(con)) == 1


def test_deleting_the_zone_setting_goes_back_to_utc_months(con, tmp_path):
    in_zone(con, NEW_YORK)
    load(con, tmp_path, "c.csv", COMPLAINTS + "k1,2025-01-31T23:30-05:00,Sales,\n")
    assert con.execute("SELECT month FROM complaints").fetchone() == (dt.date(2025, 1, 1),)
    store.delete_setting(con, "time_zone", department=store.ANY_DEPARTMENT)
    assert con.execute("SELECT month FROM complaints").fetchone() == (dt.date(2025, 2, 1),)


# --- migration step 1: an older database stored local times -----------------------------------


def _old_database(path: Path, zone: str) -> None:
    """A database as an earlier version left it: wall-clock times in ``zone``, no version."""
    con = store.connect(path)
    con.execute("DROP TABLE schema_version")
    con.execute("INSERT INTO settings VALUES ('time_zone', '*', ?)", [zone])
    con.execute(
        """INSERT INTO responses (request_id, department, received_at, responded_at, month)
           VALUES ('r1', 'Support', TIMESTAMP '2015-11-01 00:50', TIMESTAMP '2015-11-01 03:10',
                   DATE '2015-11-01'),
                  ('r2', 'Support', TIMESTAMP '2015-03-31 23:30', NULL, DATE '2015-03-01')"""
    )
    con.execute(
        """INSERT INTO removed_complaints (load_id, complaint_id, opened_at, department,
               resolved_at, month)
           VALUES (1, 'k1', TIMESTAMP '2015-03-08 01:50', 'Sales', TIMESTAMP '2015-03-08 03:10',
                   DATE '2015-03-01')"""
    )
    con.close()


def test_the_instants_step_converts_local_times_to_utc(tmp_path):
    path = tmp_path / "old.duckdb"
    _old_database(path, NEW_YORK)
    con = store.connect(path)
    assert stored_version(con) == SCHEMA_VERSION
    assert ("instants",) in con.execute("SELECT step FROM schema_version").fetchall()
    assert con.execute(
        "SELECT request_id, received_at, responded_at, month FROM responses ORDER BY 1"
    ).fetchall() == [
        # 00:50 EDT (−4) and 03:10 EST (−5) on 1 November: 200 minutes apart.
        ("r1", dt.datetime(2015, 11, 1, 0 + 4, 50), dt.datetime(2015, 11, 1, 3 + 5, 10),
         dt.date(2015, 11, 1)),
        # 23:30 EDT on 31 March is 03:30 UTC on 1 April; its month stays March.
        ("r2", dt.datetime(2015, 4, 1, 23 + 4 - 24, 30), None, dt.date(2015, 3, 1)),
    ]
    assert minutes_stored(con)[0] == ("r1", pytest.approx((3 * 60 + 10) - 50 + 60))
    assert con.execute("SELECT opened_at, resolved_at, month FROM removed_complaints").fetchone() == (
        dt.datetime(2015, 3, 8, 1 + 5, 50), dt.datetime(2015, 3, 8, 3 + 4, 10), dt.date(2015, 3, 1),
    )
    con.close()
    # Opening it again runs no step a second time.
    con = store.connect(path)
    assert con.execute("SELECT received_at FROM responses WHERE request_id = 'r1'").fetchone() == (
        dt.datetime(2015, 11, 1, 4, 50),
    )
    con.close()


def test_the_instants_step_changes_nothing_in_utc(tmp_path):
    path = tmp_path / "old.duckdb"
    _old_database(path, "UTC")
    con = store.connect(path)
    assert stored_version(con) == SCHEMA_VERSION
    assert con.execute("SELECT received_at FROM responses WHERE request_id = 'r1'").fetchone() == (
        dt.datetime(2015, 11, 1, 0, 50),
    )
    con.close()
