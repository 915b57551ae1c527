"""No silent row loss: every record of a CSV file is loaded or named in a rejection.

DuckDB reads a CSV file in buffers (32 MiB then, 128 MB now) and, with its rejects table on,
skipped a record that does not fit one without a trace: a file with a 32 MB line between two good rows was
"accepted, 2 rows" (issue 14).  Now the byte scan counts the file's records itself and rejects
a record longer than ``MAX_LINE_BYTES`` naming its row, and a load is accepted only when
DuckDB's rows plus its rejected rows equal that count — on the command line and in the app's
upload alike (both call ``ingest_file``).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dashboard import data
from indicators import store
from indicators.__main__ import main
from indicators.ingest import MAX_LINE_BYTES, bytescan, ingest_file
from tests.indicators.test_ingest import rejected_unchanged
from tests.reliability.procs import ingest_now, many_purchases, purchases_csv

HEADER = b"purchase_id,purchased_at,customer_id,department,amount,channel\n"
GOOD_BEFORE = b"p1,2025-03-03T09:00,c1,Sales,10,web\n"
GOOD_AFTER = b"p3,2025-03-04T09:00,c1,Sales,11,web\n"
PREFIX = b"p2,2025-03-03T09:00,c1,Sales,10,"
"""The long row's cells before its channel, which is made as long as the test needs."""


def long_row_file(path: Path, line_bytes: int, *, between: bool = True) -> Path:
    """A purchases file whose row 3 (row 2 when alone) is ``line_bytes`` long without its LF."""
    row = PREFIX + b"x" * (line_bytes - len(PREFIX)) + b"\n"
    with path.open("wb") as f:
        f.write(HEADER + (GOOD_BEFORE if between else b""))
        f.write(row)
        f.write(GOOD_AFTER if between else b"")
    return path


@pytest.fixture
def con():
    connection = duckdb.connect()
    store.init_db(connection)
    yield connection
    connection.close()


def test_the_32_mb_line_between_good_rows_is_rejected_by_the_command(tmp_path, capsys):
    """The issue's probe, real size: it was "accepted: … 2 rows", exit 0."""
    size = 32 * 1024 * 1024
    path = long_row_file(tmp_path / "probe.csv", size)
    db = tmp_path / "probe.duckdb"
    assert main(["ingest", "--db", str(db), str(path)]) == 1
    out = capsys.readouterr().out
    rule = (
        f"line 3 is {size / 1e6:.1f} MB ({size:,} bytes); the limit is 8 MB (8,000,000 bytes) "
        "a line"
    )
    assert f"rejected: probe.csv — {rule}; nothing was stored" in out
    # No value: a problem's value is a cell, never the raw line.
    assert f"  probe.csv row 3: {rule}" in out
    check = duckdb.connect(str(db))
    try:
        assert check.execute("SELECT count(*) FROM purchases").fetchone() == (0,)
        assert check.execute('SELECT outcome, "rows" FROM upload_log').fetchall() == [
            ("rejected", 0)
        ]
    finally:
        check.close()


def test_a_sole_row_past_the_limit_names_the_limit_not_no_data_rows(con, tmp_path, monkeypatch):
    """A 150 MB sole row said "no data rows"; the limit is lowered to keep the file small."""
    monkeypatch.setattr(bytescan, "MAX_LINE_BYTES", 1000)
    result = rejected_unchanged(con, long_row_file(tmp_path / "sole.csv", 5000, between=False))
    assert [(p.row, p.column, p.rule) for p in result.problems] == [
        (2, None, "line 2 is 0.0 MB (5,000 bytes); the limit is 0.001 MB (1,000 bytes) a line")
    ]
    assert result.problems[0].value is None


def test_the_line_limit_is_exact_at_its_real_size(con, tmp_path):
    """MAX_LINE_BYTES (8 MB): a row of exactly that many bytes loads whole, one more byte is a
    rejection naming the row — in a file with LF and in one with CRLF line breaks."""
    path = long_row_file(tmp_path / "at.csv", MAX_LINE_BYTES)
    result = ingest_file(con, path)
    assert result.accepted, result.problems
    assert con.execute("SELECT length(channel) FROM purchases WHERE purchase_id = 'p2'").fetchone() == (
        MAX_LINE_BYTES - len(PREFIX),
    )
    over = long_row_file(tmp_path / "over.csv", MAX_LINE_BYTES + 1)
    result = rejected_unchanged(con, over)
    assert [(p.row, p.rule) for p in result.problems] == [
        (3, "line 3 is 8.0 MB (8,000,001 bytes); the limit is 8 MB (8,000,000 bytes) a line")
    ]
    crlf = tmp_path / "crlf.csv"
    crlf.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert ingest_file(con, crlf).accepted


def test_a_3_mb_text_cell_loads(con, tmp_path):
    """DuckDB's default 2 MB line limit refused it; the documented limit is 8 MB."""
    path = long_row_file(tmp_path / "cell.csv", 3_000_000)
    result = ingest_file(con, path)
    assert result.accepted and result.rows == 3, result.problems


def test_a_row_the_reader_skips_unseen_is_caught_by_the_count(con, tmp_path, monkeypatch):
    """The independent count, with the scan's limit lifted: DuckDB skips a row that does not
    fit its read buffer (8 MiB more than its 128 MB) and reports nothing; the file's own count
    of 3 data rows against the 2 read rejects it."""
    monkeypatch.setattr(bytescan, "MAX_LINE_BYTES", 10**9)
    size = bytescan.CSV_BUFFER_BYTES + 8 * 1024 * 1024
    result = rejected_unchanged(con, long_row_file(tmp_path / "lost.csv", size))
    assert [(p.row, p.rule) for p in result.problems] == [
        (None, "the file holds 3 data rows but 2 could be read; check its quotes and line breaks")
    ]


def test_a_quoted_record_over_several_lines_counts_as_one_row(con, tmp_path):
    """A record's size includes its quoted line breaks, so many short lines can exceed it."""
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(bytescan, "MAX_LINE_BYTES", 100)
    try:
        body = b'p2,2025-03-03T09:00,c1,Sales,10,"' + b"ab\n" * 40 + b'"\n'
        path = tmp_path / "multi.csv"
        path.write_bytes(HEADER + GOOD_BEFORE + body + GOOD_AFTER)
        result = rejected_unchanged(con, path)
        size = len(body) - 1
        assert [(p.row, p.rule) for p in result.problems] == [
            (3, f"line 3 is 0.0 MB ({size:,} bytes); the limit is 0.0001 MB (100 bytes) a line")
        ]
    finally:
        monkeypatch.undo()


@pytest.mark.parametrize(
    ("name", "data", "rows"),
    [
        ("blank lines", HEADER + b"\n" + GOOD_BEFORE + b"\n\n" + GOOD_AFTER + b"\n", 2),
        ("CRLF blank lines", (HEADER + GOOD_BEFORE + b"\n" + GOOD_AFTER).replace(b"\n", b"\r\n"), 2),
        ("CR only (classic Mac)", (HEADER + GOOD_BEFORE + GOOD_AFTER).replace(b"\n", b"\r"), 2),
        ("no final line break", HEADER + GOOD_BEFORE + GOOD_AFTER.rstrip(b"\n"), 2),
        ("quoted line breaks", HEADER + b'p1,2025-03-03,c1,Sales,10,"a\n\nb"\n' + GOOD_AFTER, 2),
        ("doubled quotes", HEADER + b'p1,2025-03-03,c1,Sales,10,"say ""hi"""\n' + GOOD_AFTER, 2),
        # A quote inside an unquoted field is text (to DuckDB and the csv module alike): the
        # byte scan cannot follow it and the count is taken again by the csv module.
        ("a quote inside a field", HEADER + b'p1,2025-03-03,c1,Sales,10,TV 55"\n' + GOOD_AFTER, 2),
        (
            "two quotes inside fields",
            HEADER + b'p1,2025-03-03,c1,Sales,10,5" screen\np4,2025-03-03,c1,Sales,1,x\n'
            b'p5,2025-03-03,c1,Sales,1,12" pipe\n' + GOOD_AFTER,
            4,
        ),
    ],
)
def test_files_whose_records_the_count_must_follow_load_exactly(con, tmp_path, name, data, rows):
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    result = ingest_file(con, path)
    assert result.accepted, (name, result.problems)
    assert result.rows == rows
    assert con.execute("SELECT count(*) FROM purchases").fetchone() == (rows,)


def test_a_quote_inside_a_field_does_not_fake_a_long_row(con, tmp_path, monkeypatch):
    """Between two literal quotes the byte scan sees one long "record"; the csv module's walk
    finds every row short, and the file loads."""
    monkeypatch.setattr(bytescan, "MAX_LINE_BYTES", 200)
    middle = b"".join(
        b"m%d,2025-03-03,c1,Sales,1,x\n" % i for i in range(20)
    )
    data = HEADER + b'p1,2025-03-03,c1,Sales,10,5" screen\n' + middle
    data += b'p4,2025-03-03,c1,Sales,1,12" pipe\n'
    path = tmp_path / "quotes.csv"
    path.write_bytes(data)
    assert bytescan.scan_bytes(path).long_lines  # what the scan alone would have said
    result = ingest_file(con, path)
    assert result.accepted and result.rows == 22, result.problems


# --- the app's upload ------------------------------------------------------------------------


@pytest.fixture
def app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from streamlit.runtime.secrets import secrets_singleton

    monkeypatch.setattr(secrets_singleton, "_secrets", {})
    path = tmp_path / "data" / "service.duckdb"
    ingest_now(path, purchases_csv(tmp_path / "base.csv", many_purchases("p", "North", "2025-01", 5)))
    monkeypatch.setenv(store.DB_ENV, str(path))
    data.clear_caches()
    return path


def test_the_app_upload_rejects_the_long_row_too(app_db, tmp_path, monkeypatch):
    monkeypatch.setattr(bytescan, "MAX_LINE_BYTES", 1000)
    upload = long_row_file(tmp_path / "up.csv", 5000).read_bytes()
    (result,) = data.ingest_uploads(
        [data.Upload("up.csv", upload)], encoding="utf-8", date_format="ISO"
    )
    assert not result.accepted
    assert [(p.file, p.row) for p in result.problems] == [("up.csv", 3)]
    assert "the limit is 0.001 MB (1,000 bytes) a line" in result.problems[0].rule
