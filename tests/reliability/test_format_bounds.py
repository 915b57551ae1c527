"""Bounds on Excel and Parquet input, temporary files on every way out, and format-aware fuzzing.

- A workbook may unpack to at most ``XLSX_MAX_BYTES`` (``$SERVICE_XLSX_MAX_BYTES``) and hold at
  most ``XLSX_MAX_ROWS`` rows (``$SERVICE_XLSX_MAX_ROWS``): checked on the zip's declared sizes,
  on the bytes really inflated and the sheet's row tags before parsing, and on the rows and CSV
  text while converting.  The issue's real probe (a 1.8 MB workbook of 12 M rows) is refused
  in seconds.  The conversion runs before the database is opened.
- Temporary files go on an exception, Ctrl-C and SIGTERM; a SIGKILLed run's scratch folder is
  removed by the next run (``scratch_folder``).
- Parquet: a nested (LIST, STRUCT, MAP) or binary column where the contract expects text, a
  number or a date is rejected naming the type; NaN and infinities are "must be a finite
  number" with their row.
- Hypothesis builds random plausible Parquet files and workbooks; the oracle is the command
  line's: exit 0 or 1, one verdict per file, no traceback, and ``check`` ok after.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import signal
import struct
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indicators import ingest, store
from indicators.__main__ import main
from indicators.ingest import (
    XLSX_MAX_BYTES,
    XLSX_MAX_ROWS,
    ingest_file,
    prepare_file,
    scratch_folder,
    scratch_root,
    xlsx_limits,
)
from tests.indicators.test_ingest import fresh_connection, rejected_unchanged
from tests.reliability.test_properties import PROFILE

ROOT = Path(__file__).resolve().parents[2]
PURCHASE_COLUMNS = ["purchase_id", "purchased_at", "customer_id", "department", "amount"]


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    yield from fresh_connection()


# --- building workbooks byte by byte -----------------------------------------------------------

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/>'
    "{strings}</Types>"
)
_STRINGS_TYPE = (
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sharedStrings+xml"/>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>{strings}</Relationships>'
)
_STRINGS_REL = (
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/sharedStrings" Target="sharedStrings.xml"/>'
)
_SHEET_START = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_END = b"</sheetData></worksheet>"


def _inline(texts: Iterable[str], r: int | None = None) -> bytes:
    """One sheet row of inline strings (row number ``r`` if given)."""
    cells = "".join(f'<c t="inlineStr"><is><t>{t}</t></is></c>' for t in texts)
    return (f'<row r="{r}">' if r else "<row>").encode() + cells.encode() + b"</row>"


def _package(
    path: Path, rows: Iterable[bytes], *, strings: list[str] | None = None, zip64: bool = True
) -> Path:
    """A one-sheet workbook whose sheet XML is ``rows`` streamed in (fast, few bytes on disk)."""
    shared = strings is not None
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        book.writestr("[Content_Types].xml", _CONTENT_TYPES.format(strings=_STRINGS_TYPE if shared else ""))
        book.writestr("_rels/.rels", _RELS)
        book.writestr("xl/workbook.xml", _WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.format(strings=_STRINGS_REL if shared else ""))
        if shared:
            items = "".join(f"<si><t>{s}</t></si>" for s in strings)
            book.writestr(
                "xl/sharedStrings.xml",
                '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                f"{items}</sst>",
            )
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=zip64) as sheet:
            sheet.write(_SHEET_START)
            for chunk in rows:
                sheet.write(chunk)
            sheet.write(_SHEET_END)
    return path


def _workbook(path: Path, rows: list[list[object]]) -> Path:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def _purchase_rows(n: int) -> list[list[object]]:
    return [PURCHASE_COLUMNS] + [[f"p{i}", "2025-03-01", "c1", "Sales", 1] for i in range(n)]


def _no_scratch_left(db: Path) -> bool:
    return not list(scratch_root(db).glob("scratch-*"))


# --- the limits and their settings -------------------------------------------------------------


def test_the_limits_and_their_variables(monkeypatch):
    assert (XLSX_MAX_BYTES, XLSX_MAX_ROWS) == (1_000_000_000, 1_048_576)
    monkeypatch.delenv("SERVICE_XLSX_MAX_BYTES", raising=False)
    monkeypatch.delenv("SERVICE_XLSX_MAX_ROWS", raising=False)
    assert xlsx_limits() == ingest.XlsxLimits(1_000_000_000, 1_048_576)
    monkeypatch.setenv("SERVICE_XLSX_MAX_BYTES", "5000")
    monkeypatch.setenv("SERVICE_XLSX_MAX_ROWS", " 7 ")
    assert xlsx_limits() == ingest.XlsxLimits(5000, 7)


@pytest.mark.parametrize("value", ["lots", "0", "-3", "1.5"])
def test_a_bad_limit_setting_is_a_usage_error(tmp_path, monkeypatch, capsys, value):
    monkeypatch.setenv("SERVICE_XLSX_MAX_ROWS", value)
    path = _workbook(tmp_path / "p.xlsx", _purchase_rows(1))
    assert main(["ingest", "--db", str(tmp_path / "s.duckdb"), str(path)]) == 2
    assert capsys.readouterr() == (
        "", f"error: SERVICE_XLSX_MAX_ROWS must be a whole number above 0, got {value!r}\n"
    )


# --- rows ----------------------------------------------------------------------------------------


def test_the_issue_probe_12_million_rows_is_refused_in_seconds(tmp_path, capsys):
    """The issue's probe, real size: 1.8 MB on disk, 12,000,001 rows, 324 MB of sheet XML."""
    row = b"<row><c><v>1</v></c></row>"
    path = _package(
        tmp_path / "huge.xlsx",
        [_inline(PURCHASE_COLUMNS)] + [row * 40_000] * 300,  # header + 12,000,000 rows
    )
    assert path.stat().st_size < 3_000_000
    db = tmp_path / "s.duckdb"
    started = time.monotonic()
    assert main(["ingest", "--db", str(db), str(path)]) == 1
    elapsed = time.monotonic() - started
    out = capsys.readouterr().out
    assert (
        "huge.xlsx: the sheet has 12,000,001 rows, more than the limit of 1,048,576 rows "
        "($SERVICE_XLSX_MAX_ROWS); split the data or save it as CSV"
    ) in out
    assert elapsed < 20, elapsed  # openpyxl would convert for minutes (30,000 rows a second)
    assert _no_scratch_left(db)
    assert main(["check", "--db", str(db)]) == 0


def test_rows_up_to_the_limit_load_and_one_more_is_refused(con, tmp_path, monkeypatch):
    monkeypatch.setenv("SERVICE_XLSX_MAX_ROWS", "3")
    fits = ingest_file(con, _workbook(tmp_path / "fits.xlsx", _purchase_rows(2)))
    assert fits.accepted and fits.rows == 2
    result = rejected_unchanged(con, _workbook(tmp_path / "over.xlsx", _purchase_rows(3)))
    assert [(p.file, p.row, p.column, p.rule) for p in result.problems] == [
        (
            "over.xlsx", None, None,
            "the sheet has 4 rows, more than the limit of 3 rows ($SERVICE_XLSX_MAX_ROWS); "
            "split the data or save it as CSV",
        )
    ]


def test_rows_are_counted_again_while_converting(con, tmp_path, monkeypatch):
    """Two row tags, but row 2 is numbered 9: openpyxl makes sheet rows 2–8 of the gap, so the
    conversion sees 9 rows though the tag count before parsing saw 2."""
    monkeypatch.setenv("SERVICE_XLSX_MAX_ROWS", "5")
    path = _package(
        tmp_path / "gap.xlsx",
        [_inline(PURCHASE_COLUMNS, 1), _inline(["p1", "2025-03-01", "c1", "Sales", "1"], 9)],
    )
    result = rejected_unchanged(con, path)
    assert [p.rule for p in result.problems] == [
        "the sheet has at least 6 rows, more than the limit of 5 rows ($SERVICE_XLSX_MAX_ROWS); "
        "split the data or save it as CSV"
    ]


# --- bytes ---------------------------------------------------------------------------------------


def test_the_declared_unpacked_size_is_checked_first(con, tmp_path, monkeypatch):
    path = _workbook(tmp_path / "big.xlsx", _purchase_rows(300))
    with zipfile.ZipFile(path) as book:
        declared = sum(part.file_size for part in book.infolist())
    assert declared > 20_000
    monkeypatch.setenv("SERVICE_XLSX_MAX_BYTES", "20000")
    result = rejected_unchanged(con, path)
    assert [p.rule for p in result.problems] == [
        f"the workbook unpacks to {declared:,} bytes, more than the limit of 20,000 bytes "
        "($SERVICE_XLSX_MAX_BYTES); split the data or save it as CSV"
    ]
    monkeypatch.setenv("SERVICE_XLSX_MAX_BYTES", str(declared))
    assert ingest_file(con, path).accepted


def test_the_sheets_text_is_counted_while_converting(con, tmp_path, monkeypatch):
    """One 10,000-character shared string in 50 cells: 12 KB of XML, 500 KB of text.  Each row
    writes 10,000 characters plus two quotes and a comma; the tenth passes 100,000."""
    rows = [b'<row><c t="s"><v>0</v></c></row>' for _ in range(50)]
    path = _package(tmp_path / "echo.xlsx", rows, strings=["x" * 10_000])
    with zipfile.ZipFile(path) as book:
        assert sum(part.file_size for part in book.infolist()) < 100_000
    monkeypatch.setenv("SERVICE_XLSX_MAX_BYTES", "100000")
    result = rejected_unchanged(con, path)
    assert [p.rule for p in result.problems] == [
        f"the sheet's text is at least {10 * (10_000 + 3):,} bytes, more than the limit of "
        "100,000 bytes ($SERVICE_XLSX_MAX_BYTES); split the data or save it as CSV"
    ]


def test_a_zip_that_understates_a_parts_size_is_not_unpacked_past_it(con, tmp_path):
    """The directory says the sheet is 100 bytes; the data says 2.7 MB.  Python's zipfile stops
    at the declared size and the CRC fails: a rejection, never an unbounded read."""
    path = tmp_path / "liar.xlsx"
    _package(path, [_inline(["p", "2025-03-01", "c", "Sales", "1"]) * 50_000], zip64=False)
    data = bytearray(path.read_bytes())
    (entry,) = _central_entries(bytes(data), b"xl/worksheets/sheet1.xml")
    struct.pack_into("<I", data, entry + 24, 100)  # its uncompressed size
    path.write_bytes(bytes(data))
    result = rejected_unchanged(con, path)
    (problem,) = result.problems
    assert problem.rule.startswith("not a readable Excel workbook: ")
    assert "sheet1.xml" in problem.rule


def _central_entries(data: bytes, name: bytes) -> list[int]:
    """Offsets of the central-directory entries of part ``name`` (written without zip64, so
    the 32-bit size field at offset 24 is the one zipfile reads)."""
    found, at = [], data.find(b"PK\x01\x02")
    while at != -1:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + length] == name:
            found.append(at)
        at = data.find(b"PK\x01\x02", at + 4)
    return found


# --- temporary files: every way out ----------------------------------------------------------


def test_a_refused_or_interrupted_conversion_leaves_no_csv(tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    path = _workbook(tmp_path / "p.xlsx", _purchase_rows(200))
    monkeypatch.setenv("SERVICE_XLSX_MAX_ROWS", "100")
    refused = prepare_file(path, scratch=scratch)
    assert refused.problems and refused.sheet is None
    assert list(scratch.iterdir()) == []

    monkeypatch.delenv("SERVICE_XLSX_MAX_ROWS")
    calls = []

    def interrupted(value: object) -> str:
        calls.append(value)
        if len(calls) == 300:
            raise KeyboardInterrupt
        return str(value)

    monkeypatch.setattr(ingest.read_excel, "_cell_text", interrupted)
    with pytest.raises(KeyboardInterrupt):
        prepare_file(path, scratch=scratch)
    assert list(scratch.iterdir()) == []


def test_a_scratch_folder_goes_on_an_exception_and_a_dead_runs_at_the_next_run(tmp_path, monkeypatch):
    root = tmp_path / "uploads"
    with pytest.raises(RuntimeError), scratch_folder(root) as folder:
        (folder / "sheet.csv").write_text("x")
        raise RuntimeError
    assert list(root.iterdir()) == []
    # A run killed outright left its folder; a live run's folder holds its lock.
    dead = root / "scratch-dead"
    dead.mkdir()
    (dead / ".lock").touch()
    (dead / "sheet-1.csv").write_text("left behind")
    monkeypatch.setattr(ingest.scratch, "SCRATCH_STALE_SECONDS", 0.0)
    with scratch_folder(root) as alive, scratch_folder(root) as second:
        assert not dead.exists()
        assert alive.exists() and second.exists()
    assert list(root.iterdir()) == []


def test_a_young_unlocked_folder_is_left_alone(tmp_path):
    """Its owner may not have taken its lock yet (it is made before it is locked)."""
    root = tmp_path / "uploads"
    young = root / "scratch-young"
    young.mkdir(parents=True)
    (young / ".lock").touch()
    with scratch_folder(root):
        assert young.exists()


def test_the_workbook_is_converted_before_the_database_is_opened(tmp_path, monkeypatch, capsys):
    db = tmp_path / "s.duckdb"
    path = _workbook(tmp_path / "p.xlsx", _purchase_rows(3))
    seen: list[list[str]] = []
    connect_waiting = store.connect_waiting

    def opening(*args: object, **kwargs: object) -> duckdb.DuckDBPyConnection:
        seen.append(
            [p.read_text() for p in scratch_root(db).glob("scratch-*/sheet-*.csv")]
        )
        return connect_waiting(*args, **kwargs)

    monkeypatch.setattr(store, "connect_waiting", opening)
    assert main(["ingest", "--db", str(db), str(path)]) == 0
    assert seen == [
        [
            '"purchase_id","purchased_at","customer_id","department","amount"\n'
            + "".join(f'"p{i}","2025-03-01","c1","Sales","1"\n' for i in range(3))
        ]
    ]
    assert "accepted: p.xlsx → purchases, 3 rows" in capsys.readouterr().out
    assert _no_scratch_left(db)


def _slow_workbook(path: Path) -> Path:
    """About ten seconds of openpyxl parsing: time to stop the conversion in the middle."""
    header = _inline(PURCHASE_COLUMNS)
    rows = b"".join(_inline([f"p{i}", "2025-03-01", "c1", "Sales", "1"]) for i in range(60_000))
    return _package(path, [header, rows])


def _converting(db: Path) -> subprocess.Popen:
    """A command-line load of a slow workbook, once its sheet CSV has started (else fail)."""
    path = _slow_workbook(db.parent / "slow.xlsx")
    proc = subprocess.Popen(
        [sys.executable, "-m", "indicators", "ingest", "--db", str(db), str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not list(scratch_root(db).glob("scratch-*/sheet-*.csv")):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the conversion never started in the scratch folder"
        time.sleep(0.05)
    return proc


def test_sigterm_during_a_conversion_removes_its_files(tmp_path):
    db = tmp_path / "data" / "s.duckdb"
    db.parent.mkdir()
    proc = _converting(db)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 128 + signal.SIGTERM, (out, err)
    assert "stopped by SIGTERM" in err and "Traceback" not in err
    assert _no_scratch_left(db)
    assert not db.exists()  # the database was never opened


def test_sigkill_during_a_conversion_leaves_files_the_next_run_removes(tmp_path, monkeypatch, capsys):
    db = tmp_path / "data" / "s.duckdb"
    db.parent.mkdir()
    proc = _converting(db)
    proc.kill()
    proc.communicate(timeout=15)
    (left,) = scratch_root(db).glob("scratch-*")
    assert list(left.glob("sheet-*.csv"))
    monkeypatch.setattr(ingest.scratch, "SCRATCH_STALE_SECONDS", 0.0)  # instead of waiting a minute
    fine = _workbook(tmp_path / "fine.xlsx", _purchase_rows(1))
    assert main(["ingest", "--db", str(db), str(fine)]) == 0
    assert not left.exists() and _no_scratch_left(db)
    assert list(scratch_root(db).iterdir()) == []


# --- Parquet column types and non-finite numbers ---------------------------------------------


def _parquet(path: Path, columns: dict[str, pa.Array], **options: object) -> Path:
    pq.write_table(pa.table(columns), path, **options)
    return path


BASE_COLUMNS = {
    "purchase_id": pa.array(["p1", "p2"]),
    "purchased_at": pa.array(["2025-03-01", "2025-03-02"]),
    "customer_id": pa.array(["c1", "c2"]),
    "department": pa.array(["Sales", "Sales"]),
    "amount": pa.array([1.5, 2.0]),
}


@pytest.mark.parametrize(
    ("column", "values", "kind", "duckdb_type", "expected"),
    [
        ("department", pa.array([["Sales"], ["Sales"]]), "LIST", "VARCHAR[]", "text"),
        ("department", pa.array([{"x": 1}, {"x": 2}]), "STRUCT", "STRUCT(x BIGINT)", "text"),
        (
            "department",
            pa.array([[("a", 1)], [("b", 2)]], type=pa.map_(pa.string(), pa.int64())),
            "MAP", "MAP(VARCHAR, BIGINT)", "text",
        ),
        ("department", pa.array([b"Sales", b"\xd0\x9f"]), "BINARY", "BLOB", "text"),
        ("amount", pa.array([[1.0], [2.0]]), "LIST", "DOUBLE[]", "a number"),
        ("purchased_at", pa.array([b"2025-03-01", b"2025-03-02"]), "BINARY", "BLOB", "a date/time"),
    ],
)
def test_a_nested_or_binary_contract_column_is_rejected(
    con, tmp_path, column, values, kind, duckdb_type, expected
):
    path = _parquet(tmp_path / "odd.parquet", BASE_COLUMNS | {column: values})
    result = rejected_unchanged(con, path)
    plain = "string" if expected == "text" else expected.split()[-1]
    assert [(p.file, p.row, p.column, p.value, p.rule) for p in result.problems] == [
        (
            "odd.parquet", 1, column, duckdb_type,
            f"a {kind} column in the Parquet file, where {column} must hold {expected}; "
            f"write it as a plain {plain} column",
        )
    ]


def test_a_nested_column_the_contract_ignores_is_just_ignored(con, tmp_path):
    path = _parquet(tmp_path / "extra.parquet", BASE_COLUMNS | {"tags": pa.array([["a"], []])})
    result = ingest_file(con, path)
    assert result.accepted and result.ignored_columns == ["tags"]


@pytest.mark.parametrize("float_type", [pa.float64(), pa.float32()])
def test_nan_and_infinities_are_not_finite_numbers(con, tmp_path, float_type):
    amounts = pa.array([1.0, float("nan"), float("inf"), float("-inf"), 2.0], type=float_type)
    columns = {k: pa.array([v.as_py() for v in a] * 3)[:5] for k, a in BASE_COLUMNS.items()}
    columns["purchase_id"] = pa.array([f"p{i}" for i in range(5)])
    path = _parquet(tmp_path / "nan.parquet", columns | {"amount": amounts})
    result = rejected_unchanged(con, path)
    # Rows as if after a header: the file's rows 0..4 are rows 2..6.
    assert [(p.row, p.column, p.value, p.rule) for p in result.problems] == [
        (3, "amount", "NaN", "must be a finite number"),
        (4, "amount", "inf", "must be a finite number"),
        (5, "amount", "-inf", "must be a finite number"),
    ]
    assert all("SELECT" not in p.rule and "LINE" not in p.rule for p in result.problems)


def test_a_nan_in_a_later_row_group_is_found(con, tmp_path):
    """DuckDB's Parquet row-group statistics leave NaN out: a pushed-down filter skips it."""
    n = 3_000
    columns = {
        "purchase_id": pa.array([f"p{i}" for i in range(n)]),
        "purchased_at": pa.array(["2025-03-01"] * n),
        "customer_id": pa.array(["c1"] * n),
        "department": pa.array(["Sales"] * n),
        "amount": pa.array([1.0] * (n - 1) + [float("nan")]),
    }
    path = _parquet(tmp_path / "groups.parquet", columns, row_group_size=1_000)
    assert pq.ParquetFile(path).num_row_groups == 3
    result = rejected_unchanged(con, path)
    assert [(p.row, p.value) for p in result.problems] == [(n + 1, "NaN")]


def test_a_nan_in_an_ignored_column_loads(con, tmp_path):
    path = _parquet(tmp_path / "x.parquet", BASE_COLUMNS | {"score": pa.array([float("nan"), 1.0])})
    result = ingest_file(con, path)
    assert result.accepted, result.problems
    assert con.execute("SELECT amount FROM purchases ORDER BY 1").fetchall() == [(1.5,), (2.0,)]


# --- format-aware fuzzing: random plausible Parquet files and workbooks ------------------------

NEAR_HEADERS = (
    *PURCHASE_COLUMNS, "list_amount", "channel", "complaint_id", "opened_at", "component",
    "Department", " amount ", "purchase id", "amount\u200b", "départment", "extra",
)
"""Contract columns, and headers near them (case, spaces, a zero-width space, an accent)."""
UNICODE_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from("\u200b\u200d\u202e\u2066\u2069\ufeff\u00ad"),  # Cf: format characters
        st.sampled_from("e\u0301a\u0308\u0327"),  # combining marks
        st.sampled_from("😀𝔸𐍈🂡"),  # astral, no surrogates
        st.sampled_from("שלום مرحبا"),  # right to left
        st.sampled_from("\t\n\r\x01\x07\x1b\x7f"),  # controls, no NUL
        st.sampled_from("Sales;,=+-\"' 0123456789"),
    ),
    max_size=12,
)
_TEXTS = st.one_of(st.sampled_from(["Sales", "2025-03-01", "2025-03", "c1", "1", ""]), UNICODE_TEXT)


def _parquet_column(n: int) -> st.SearchStrategy[pa.Array]:
    floats = st.one_of(
        st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, 1.5, float("nan")])
    )
    return st.one_of(
        st.lists(st.one_of(st.none(), _TEXTS), min_size=n, max_size=n).map(pa.array),
        st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n).map(pa.array),
        st.lists(floats, min_size=n, max_size=n).map(pa.array),
        st.lists(st.booleans(), min_size=n, max_size=n).map(pa.array),
        st.lists(st.binary(max_size=6), min_size=n, max_size=n).map(pa.array),
        st.lists(st.lists(_TEXTS, max_size=2), min_size=n, max_size=n).map(pa.array),
        st.lists(st.fixed_dictionaries({"x": st.integers(0, 9)}), min_size=n, max_size=n).map(pa.array),
        st.lists(
            st.datetimes(
                min_value=dt.datetime(1800, 1, 1),
                max_value=dt.datetime(2200, 1, 1),
            ),
            min_size=n,
            max_size=n,
        ).map(pa.array),
        st.just(pa.nulls(n)),
    )


@st.composite
def parquet_tables(draw: st.DrawFn) -> pa.Table:
    n = draw(st.integers(0, 4))
    headers = draw(st.lists(st.sampled_from(NEAR_HEADERS), min_size=1, max_size=7, unique=True))
    return pa.table({h: draw(_parquet_column(n)) for h in headers})


_XLSX_CELL = st.one_of(
    st.none(),
    _TEXTS.filter(lambda t: not openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE.search(t)),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.datetimes(
        min_value=dt.datetime(1900, 3, 1),
        max_value=dt.datetime(2100, 1, 1),
    ),
    st.booleans(),
)
"""openpyxl refuses C0 controls but tab and line breaks in a cell, so those never reach a sheet."""


@st.composite
def workbooks(draw: st.DrawFn) -> list[list[object]]:
    headers = draw(st.lists(st.sampled_from(NEAR_HEADERS), min_size=1, max_size=7, unique=True))
    rows = draw(
        st.lists(st.lists(_XLSX_CELL, min_size=len(headers), max_size=len(headers)), max_size=4)
    )
    return [headers, *rows]


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("format-fuzz")


def _run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(argv)
    return code, out.getvalue()


def _assert_the_command_line_oracle(fuzz_dir: Path, files: list[Path]) -> None:
    """Exit 0 or 1, one verdict per file, no traceback; then ``check`` is ok.  One database for
    every example: whatever earlier examples loaded, the next load and the check must hold."""
    db = fuzz_dir / "fuzz.duckdb"
    code, out = _run(["ingest", "--db", str(db), *map(str, files)])
    assert code in (0, 1), out
    verdicts = [line for line in out.splitlines() if line.startswith(("accepted: ", "rejected: "))]
    assert len(verdicts) == len(files), out
    assert "Traceback" not in out
    assert (code == 0) == all(v.startswith("accepted: ") for v in verdicts), out
    code, out = _run(["check", "--db", str(db)])
    assert code == 0, out
    assert _no_scratch_left(db)


@settings(PROFILE, max_examples=min(PROFILE.max_examples, 40))
@given(table=parquet_tables())
def test_random_parquet_files_get_a_clear_verdict(fuzz_dir, table):
    path = fuzz_dir / "random.parquet"
    pq.write_table(table, path)
    _assert_the_command_line_oracle(fuzz_dir, [path])


@settings(PROFILE, max_examples=min(PROFILE.max_examples, 40))
@given(rows=workbooks(), second=parquet_tables())
def test_random_workbooks_get_a_clear_verdict(fuzz_dir, rows, second):
    book = _workbook(fuzz_dir / "random.xlsx", rows)
    other = fuzz_dir / "other.parquet"
    pq.write_table(second, other)
    _assert_the_command_line_oracle(fuzz_dir, [book, other])
