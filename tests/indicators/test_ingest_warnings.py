"""Warnings a person would want (issue 16: 6): dates at the Unix epoch or far from the file's
other dates, and a file named latin-1/cp1251 that is UTF-8.  The file still loads; the warning
is on the result, printed by the command line and kept in the upload log; ``--strict`` turns
each into a rejection that stores nothing.

Rows are as in the file: the header is row 1, so the data row at position ``i`` (0 = the first)
is row ``i + 2``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path

import duckdb
import pytest

from dashboard import uploads
from indicators import store
from indicators.__main__ import main
from indicators.ingest import ingest_file, prepare_file
from indicators.ingest import read_csv as read_csv_module
from indicators.ingest.problems import Rejected
from indicators.ingest.read_csv import transcode
from indicators.ingest.warnings import FAR_YEARS, row_warnings
from indicators.schema import DATASETS

NEW_ROWS = '"{table}" WHERE rowid > $stored_until'
EPOCH_NOTE = "(the Unix epoch, often an export's empty date)"


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    store.init_db(connection)
    yield connection
    connection.close()


def _utc_month(instant: str | None, zone: str) -> str:
    """The month of a UTC instant in ``zone``, as the load stores it."""
    from zoneinfo import ZoneInfo

    assert instant is not None
    local = dt.datetime.fromisoformat(instant).replace(tzinfo=dt.UTC).astimezone(ZoneInfo(zone))
    return f"{local:%Y-%m}-01"


def add_purchases(
    con: duckdb.DuckDBPyConnection, instants: Sequence[str], *, zone: str = "UTC", first: int = 0
) -> int:
    """Append purchases at these UTC instants (month in ``zone``); the last rowid before them."""
    (until,) = con.execute('SELECT coalesce(max(rowid), -1) FROM "purchases"').fetchone()
    con.executemany(
        "INSERT INTO purchases (purchase_id, purchased_at, customer_id, department, amount, month)"
        " VALUES (?, ?, 'c', 'Sales', 1, ?)",
        [
            (f"p{first + i}", instant, _utc_month(instant, zone))
            for i, instant in enumerate(instants)
        ],
    )
    return until


def warnings_of(con, dataset: str, until: int, **options):
    return row_warnings(
        con, DATASETS[dataset], NEW_ROWS.format(table=dataset), {"stored_until": until}, **options
    )


def march(days: int) -> list[str]:
    """One purchase a day from 2025-03-01, at noon UTC."""
    return [f"2025-03-{d + 1:02d} 12:00:00" for d in range(days)]


# --- the Unix epoch ------------------------------------------------------------------------------


def test_epoch_dates_are_counted_and_their_first_rows_named(con):
    instants = march(20)
    for position in (2, 5, 8, 9):
        instants[position] = "1970-01-01 00:00:00"
    (warning,) = warnings_of(con, "purchases", add_purchases(con, instants))
    assert warning.column == "purchased_at" and warning.value == "1970-01-01"
    assert warning.text == (
        f"purchased_at: 4 rows dated 1970-01-01 {EPOCH_NOTE}, first rows {2 + 2}, {5 + 2}, "
        f"{8 + 2} — check the export; the report now reaches back to 1970-01"
    )


def test_one_epoch_row_is_named_alone(con):
    instants = march(5)
    instants[3] = "1970-01-01 08:30:00"
    (warning,) = warnings_of(con, "purchases", add_purchases(con, instants))
    assert f"1 row dated 1970-01-01 {EPOCH_NOTE}, row {3 + 2} — check" in warning.text


@pytest.mark.parametrize(
    ("zone", "instants", "epoch", "month"),
    [
        # New York is UTC-5 in January 1970: its 1970-01-01 runs 05:00 UTC to 05:00 UTC.
        # 00:00 UTC (the epoch itself; local 1969-12-31 19:00) is on the UTC date; 04:00 UTC on
        # the 2nd is 23:00 local on the 1st; 05:00 UTC on the 2nd is the local 2nd: not epoch.
        (
            "America/New_York",
            ["1970-01-01 00:00:00", "1970-01-02 04:00:00", "1969-12-31 23:59:59"],
            2,
            "1969-12",  # the epoch instant's local month
        ),
        # Tokyo is UTC+9: its 1970-01-01 starts 1969-12-31 15:00 UTC.
        (
            "Asia/Tokyo",
            ["1969-12-31 15:00:00", "1970-01-01 23:59:59", "1969-12-31 14:59:59"],
            2,
            "1970-01",
        ),
    ],
)
def test_the_epoch_is_the_utc_date_or_the_local_date(con, zone, instants, epoch, month):
    store.write_setting(con, "time_zone", zone)
    until = add_purchases(con, [*instants, *march(3)], zone=zone)
    found = warnings_of(con, "purchases", until)
    assert found[0].text.startswith(f"purchased_at: {epoch} rows dated 1970-01-01 ")
    assert found[0].text.endswith(f"; the report now reaches back to {month}")
    # The third value is no epoch date in either reading: it is a far date instead.
    assert [w.text.split(",")[0] for w in found[1:]] == ["purchased_at: 1 row dated 1969-12-31"]


def test_an_epoch_date_in_a_column_that_sets_no_month_says_nothing_of_the_report(con):
    (until,) = con.execute('SELECT coalesce(max(rowid), -1) FROM "complaints"').fetchone()
    con.executemany(
        "INSERT INTO complaints (complaint_id, opened_at, department, resolved_at, month) "
        "VALUES (?, ?, 'Sales', ?, DATE '2025-03-01')",
        [("k1", "2025-03-01 10:00", None), ("k2", "2025-03-02 10:00", "1970-01-01"),
         ("k3", "2025-03-03 10:00", None)],
    )
    (warning,) = warnings_of(con, "complaints", until)
    assert warning.text == (
        f"resolved_at: 1 row dated 1970-01-01 {EPOCH_NOTE}, row {1 + 2} — check the export"
    )


def test_retention_months_at_the_epoch(con):
    con.executemany(
        "INSERT INTO retention VALUES (?, 'Sales', 10, 10, 1)",
        [("2025-01-01",), ("2025-02-01",), ("1970-01-01",)],
    )
    (warning,) = warnings_of(con, "retention", -1)
    assert warning.text == (
        f"month: 1 row for month 1970-01 {EPOCH_NOTE}, row {2 + 2} — check the export; "
        "the report now reaches back to 1970-01"
    )


# --- far dates -----------------------------------------------------------------------------------


def test_one_row_nine_years_before_the_others_is_far(con):
    instants = march(20)
    instants[6] = "2016-03-04 09:00:00"  # nine years before March 2025
    (warning,) = warnings_of(con, "purchases", add_purchases(con, instants))
    assert warning.column == "purchased_at" and warning.value == "2016-03-04"
    assert warning.text == (
        f"purchased_at: 1 row dated 2016-03-04, more than {FAR_YEARS} years before the file's "
        f"other dates (2025-03-01 … 2025-03-20), row {6 + 2} — check the year; the report now "
        "reaches back to 2016-03"
    )


def test_far_rows_after_the_others_are_listed_with_their_range(con):
    history = [f"{2014 + i // 12}-{i % 12 + 1:02d}-15 10:00:00" for i in range(24)]  # 2014–2015
    instants = [*history, "2025-01-02 10:00:00", "2025-02-03 10:00:00"]
    (warning,) = warnings_of(con, "purchases", add_purchases(con, instants))
    assert warning.text == (
        f"purchased_at: 2 rows dated 2025-01-02 … 2025-02-03, more than {FAR_YEARS} years after "
        f"the file's other dates (2014-01-15 … 2015-12-15), rows {24 + 2}, {25 + 2} — check the "
        "year"
    )


@pytest.mark.parametrize(
    "instants",
    [
        # Eight real years, a row a month, 2017-01 … 2024-12: no gap at all.
        [f"{2017 + m // 12}-{m % 12 + 1:02d}-10 10:00:00" for m in range(8 * 12)],
        # Eight years, one row in each of the first seven and thousands in the last.
        [f"{2017 + y}-06-01 10:00:00" for y in range(7)] + ["2024-06-01 10:00:00"] * 3000,
        # Gaps of just under five years: 2015-03-02 to 2020-03-01 is not more than five years.
        ["2015-03-02 10:00:00", "2020-03-01 10:00:00", "2025-02-28 10:00:00"],
    ],
    ids=["monthly", "skewed", "gaps-under-five-years"],
)
def test_a_normal_multi_year_file_does_not_warn(con, instants):
    assert warnings_of(con, "purchases", add_purchases(con, instants)) == []


def test_a_gap_just_over_five_years_warns(con):
    # 2020-02-28 + 5 years = 2025-02-28, a day before the next date (2025-03-01).
    instants = ["2020-02-28 12:00:00", *march(3)]
    (warning,) = warnings_of(con, "purchases", add_purchases(con, instants))
    assert warning.text.startswith("purchased_at: 1 row dated 2020-02-28, more than 5 years before")


def test_empty_values_are_not_dates(con):
    (until,) = con.execute('SELECT coalesce(max(rowid), -1) FROM "responses"').fetchone()
    con.executemany(
        "INSERT INTO responses (request_id, department, received_at, responded_at, month) "
        "VALUES (?, 'Sales', ?, NULL, DATE '2025-03-01')",
        [(f"r{i}", t) for i, t in enumerate(march(4))],
    )
    assert warnings_of(con, "responses", until) == []


def test_targets_get_no_date_warnings(con):
    con.execute(
        "INSERT INTO targets (indicator, department, baseline_month, target_month, target) "
        "VALUES ('revenue', '*', DATE '1970-01-01', DATE '2030-01-01', 1)"
    )
    assert warnings_of(con, "targets", -1) == []


# --- which rows: only the load's, numbered as in the file ----------------------------------------


def test_only_the_new_rows_count_and_are_numbered_from_the_first_new_one(con):
    add_purchases(con, ["1970-01-01 00:00:00", *march(3)])  # stored before: not this file's
    con.execute("BEGIN TRANSACTION")  # the load's: new rows get ids far above the stored ones
    instants = march(10)
    instants[4] = "1970-01-01 00:00:00"
    until = add_purchases(con, instants, first=100)
    (warning,) = warnings_of(con, "purchases", until)
    con.execute("ROLLBACK")
    assert f"1 row dated 1970-01-01 {EPOCH_NOTE}, row {4 + 2} —" in warning.text


def test_file_rows_map_positions_to_the_rows_of_the_file(con):
    """A CSV with blank lines: the load passes read_csv.file_rows of its source."""
    instants = march(6)
    instants[1] = instants[3] = "1970-01-01 00:00:00"
    seen: list[set[int]] = []

    def file_rows(positions: set[int]) -> dict[int, int]:
        seen.append(set(positions))
        return {p: p + 2 + 10 for p in positions}  # ten blank lines before the data

    (warning,) = warnings_of(con, "purchases", add_purchases(con, instants), file_rows=file_rows)
    assert seen == [{1, 3}]
    assert f"rows {1 + 12}, {3 + 12} —" in warning.text


# --- a file named latin-1 or cp1251 that is UTF-8 ------------------------------------------------

COMPLAINTS = "complaint_id,opened_at,department\n"


@pytest.mark.parametrize(
    ("encoding", "garbled"),
    [("latin-1", "CafÃ©"), ("cp1251", "CafГ©")],  # é is C3 A9 in UTF-8
)
def test_a_utf8_file_named_legacy_warns_with_an_example(tmp_path, encoding, garbled):
    path = tmp_path / "c.csv"
    path.write_bytes((COMPLAINTS + "k1,2025-03-01,Café\nk2,2025-03-02,Bäckerei\n").encode())
    target, (warning,) = transcode(path, encoding, tmp_path / "out.csv", "c.csv")
    assert warning.value == "Café"
    assert warning.text == (
        f"this file looks like UTF-8 (e.g. 'Café' read as '{garbled}'): load it as utf-8, not "
        f"{encoding}"
    )
    assert garbled in target.read_text(encoding="utf-8")  # loaded as named, garbled


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("latin-1", COMPLAINTS + "k1,2025-03-01,Café\n"),
        ("cp1251", COMPLAINTS + "k1,2025-03-01,Продажи\n"),
        ("latin-1", COMPLAINTS + "k1,2025-03-01,Sales\n"),  # ASCII: no multi-byte sequence
    ],
    ids=["latin-1", "cp1251", "ascii"],
)
def test_a_real_legacy_file_does_not_warn(tmp_path, encoding, text):
    path = tmp_path / "c.csv"
    path.write_bytes(text.encode(encoding))
    target, warnings = transcode(path, encoding, tmp_path / "out.csv", "c.csv")
    assert warnings == []
    assert target.read_text(encoding="utf-8") == text


def test_a_character_split_between_chunks_is_still_utf8(tmp_path, monkeypatch):
    monkeypatch.setattr(read_csv_module, "_CHUNK_BYTES", 3)  # "a,Ã|©…": é split in two
    path = tmp_path / "c.csv"
    path.write_bytes("a,é\n".encode())
    assert [w.value for w in transcode(path, "latin-1", tmp_path / "o.csv", "c.csv")[1]] == ["é"]


def test_a_file_ending_inside_a_character_is_not_utf8(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes("a,é\n".encode() + b"x\xc3")
    assert transcode(path, "latin-1", tmp_path / "o.csv", "c.csv")[1] == []


def test_a_utf8_byte_order_mark_is_rejected(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(b"\xef\xbb\xbf" + COMPLAINTS.encode() + b"k1,2025-03-01,Sales\n")
    with pytest.raises(Rejected) as caught:
        transcode(path, "cp1251", tmp_path / "o.csv", "c.csv")
    (problem,) = caught.value.problems
    assert (problem.row, problem.rule) == (
        1,
        "the file starts with UTF-8's byte-order mark, so it is UTF-8, not cp1251: load it as "
        "utf-8",
    )


def test_a_utf8_file_with_a_byte_cp1251_lacks_says_it_looks_like_utf8(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes((COMPLAINTS + "k1,2025-03-01,Бојана\n").encode())  # ј is D1 98 in UTF-8
    with pytest.raises(Rejected) as caught:
        transcode(path, "cp1251", tmp_path / "o.csv", "c.csv")
    assert caught.value.problems[0].rule == (
        "byte b'\\x98' is not valid cp1251; it looks like UTF-8: load it as utf-8"
    )


# --- a directory given as a file -----------------------------------------------------------------


def test_a_directory_is_said_to_be_one(con, tmp_path):
    folder = tmp_path / "march"
    folder.mkdir()
    (problem,) = prepare_file(folder, scratch=tmp_path).problems
    assert problem.rule == f"is a directory, not a file: {folder}"
    result = ingest_file(con, folder)
    assert not result.accepted and result.problems[0].rule == problem.rule


# --- loaded with the warning: the result, the command line, the upload log; --strict ----------

PURCHASES = "purchase_id,purchased_at,customer_id,department,amount\n"


def epoch_file(tmp_path: Path) -> tuple[Path, str]:
    rows = [f"p{i},2025-03-{i + 1:02d},c,Sales,1\n" for i in range(6)]
    rows[1] = "p1,1970-01-01,c,Sales,1\n"
    rows[4] = "p4,1970-01-01 00:00:00,c,Sales,1\n"
    path = tmp_path / "epoch.csv"
    path.write_text(PURCHASES + "".join(rows), encoding="utf-8")
    return path, (
        f"purchased_at: 2 rows dated 1970-01-01 {EPOCH_NOTE}, rows {1 + 2}, {4 + 2} — check the "
        "export; the report now reaches back to 1970-01"
    )


def far_file(tmp_path: Path) -> tuple[Path, str]:
    rows = [f"p{i},2025-03-{i + 1:02d},c,Sales,1\n" for i in range(6)]
    rows[2] = "p2,2016-03-03,c,Sales,1\n"
    path = tmp_path / "far.csv"
    path.write_text(PURCHASES + "".join(rows), encoding="utf-8")
    return path, (
        f"purchased_at: 1 row dated 2016-03-03, more than 5 years before the file's other dates "
        f"(2025-03-01 … 2025-03-06), row {2 + 2} — check the year; the report now reaches back "
        "to 2016-03"
    )


def utf8_file(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "named-latin1.csv"
    path.write_bytes((PURCHASES + "p1,2025-03-01,c,Café,1\n").encode())
    return path, (
        "this file looks like UTF-8 (e.g. 'Café' read as 'CafÃ©'): load it as utf-8, not latin-1"
    )


FILES = {"epoch": (epoch_file, "utf-8"), "far": (far_file, "utf-8"), "utf8": (utf8_file, "latin-1")}


def _log(db: Path) -> list[tuple]:
    with store.connect(db, read_only=True) as log_con:
        return log_con.execute(
            "SELECT outcome, message, warnings FROM upload_log ORDER BY id"
        ).fetchall()


@pytest.mark.parametrize("kind", list(FILES))
def test_a_file_with_a_warning_loads_and_the_warning_is_kept(con, tmp_path, kind):
    make, encoding = FILES[kind]
    path, text = make(tmp_path)
    result = ingest_file(con, path, encoding=encoding)
    assert result.accepted, result.problems
    assert result.warnings == [text]
    assert result.message.endswith(f"; warning: {text}")
    assert con.execute("SELECT outcome, warnings FROM upload_log").fetchall() == [
        ("accepted", text)
    ]
    shown = uploads.log_table(store.read_upload_log(con))
    assert shown["Warnings"].tolist() == [text]


@pytest.mark.parametrize("kind", list(FILES))
def test_the_command_line_prints_the_warning(tmp_path, capsys, kind):
    make, encoding = FILES[kind]
    path, text = make(tmp_path)
    db = tmp_path / "s.duckdb"
    assert main(["ingest", "--db", str(db), "--encoding", encoding, str(path)]) == 0
    out, err = capsys.readouterr()
    assert f"\n  warning: {text}\n" in out and err == ""
    ((outcome, message, warnings),) = _log(db)
    assert (outcome, warnings) == ("accepted", text) and message.endswith(text)


@pytest.mark.parametrize("kind", list(FILES))
def test_strict_rejects_the_file_and_stores_nothing(tmp_path, capsys, kind):
    make, encoding = FILES[kind]
    path, text = make(tmp_path)
    db = tmp_path / "s.duckdb"
    args = ["ingest", "--db", str(db), "--encoding", encoding, "--strict", str(path)]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert f"rejected: {path.name} (purchases) — {text} (--strict); nothing was stored" in out
    with store.connect(db, read_only=True) as check:
        assert check.execute("SELECT count(*) FROM purchases").fetchone() == (0,)
    ((outcome, _, warnings),) = _log(db)
    assert (outcome, warnings) == ("rejected", None)


def test_rows_are_the_files_own_past_a_blank_line(con, tmp_path):
    """DuckDB skips the blank line; the warning still names the epoch row as in the file."""
    text = PURCHASES + "p0,2025-03-01,c,Sales,1\n\np1,2025-03-02,c,Sales,1\np2,1970-01-01,c,Sales,1\n"
    path = tmp_path / "blank.csv"
    path.write_text(text, encoding="utf-8")
    result = ingest_file(con, path)
    assert result.accepted, result.problems
    # header 1, p0 2, the blank line 3, p1 4, p2 5
    assert [w.split(" — ")[0] for w in result.warnings] == [
        f"purchased_at: 1 row dated 1970-01-01 {EPOCH_NOTE}, row 5"
    ]
