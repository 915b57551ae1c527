"""Command-line errors (issue 16: 7): every ``error:`` line on stderr, stdout empty, exit 2 for
a usage error (a FILE that is a directory or missing, a ``--db`` that is no DuckDB database),
and nothing created; a damaged database is one line too (exit 1), never a traceback.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from indicators import store
from indicators.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
PURCHASES = "purchase_id,purchased_at,customer_id,department,amount\np1,2025-03-01,c1,Sales,10\n"

COMMANDS = {
    "ingest": ["ingest", "--db", "{db}", "{file}"],
    "demo": ["demo", "--db", "{db}"],
    "report": ["report", "--db", "{db}"],
    "route": ["route", "--db", "{db}"],
    "check": ["check", "--db", "{db}"],
    "complete": ["complete", "--db", "{db}"],
    "complete --month": ["complete", "--db", "{db}", "--month", "2025-03"],
    "undo": ["undo", "--db", "{db}", "1"],
}


def _args(command: str, db: Path | str, file: Path | str = "") -> list[str]:
    return [a.format(db=db, file=file) for a in COMMANDS[command]]


def _folder_listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _not_databases(folder: Path) -> dict[str, tuple[Path, str]]:
    """Files that are no DuckDB database, each with the rule the message must give."""
    csv_file = folder / "march.csv"
    csv_file.write_text(PURCHASES, encoding="utf-8")
    parquet = folder / "march.parquet"
    with duckdb.connect() as con:
        con.execute(f"COPY (SELECT 1 AS a) TO '{parquet}' (FORMAT parquet)")
    parquet_named = folder / "parquet.duckdb"
    shutil.copy(parquet, parquet_named)
    empty, empty_named = folder / "empty", folder / "empty.duckdb"
    empty.touch()
    empty_named.touch()
    directory, directory_named = folder / "folder", folder / "folder.duckdb"
    directory.mkdir()
    directory_named.mkdir()
    header = "is not a DuckDB database file (it lacks DuckDB's file header)"
    return {
        "csv": (csv_file, header),
        "parquet": (parquet, header),
        "parquet named .duckdb": (parquet_named, header),
        "empty file": (empty, "is an empty file, not a DuckDB database"),
        "empty file named .duckdb": (empty_named, "is an empty file, not a DuckDB database"),
        "directory": (directory, "is a folder, not a DuckDB database file"),
        "directory named .duckdb": (directory_named, "is a folder, not a DuckDB database file"),
    }


KINDS = [
    "csv", "parquet", "parquet named .duckdb", "empty file", "empty file named .duckdb",
    "directory", "directory named .duckdb",
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_db_that_is_no_database_is_a_usage_error_on_stderr(tmp_path, capsys, command, kind):
    db, rule = _not_databases(tmp_path)[kind]
    good = tmp_path / "good.csv"
    good.write_text(PURCHASES, encoding="utf-8")
    before = db.read_bytes() if db.is_file() else None
    listing = _folder_listing(tmp_path)
    assert main(_args(command, db, good)) == 2
    out, err = capsys.readouterr()
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith(f"error: --db {db} {rule}")
    assert _folder_listing(tmp_path) == listing, "nothing was created"
    if before is not None:
        assert db.read_bytes() == before
    else:
        assert list(db.iterdir()) == []


def test_a_directory_given_as_file_is_said_to_be_one(tmp_path, capsys):
    db, folder = tmp_path / "s.duckdb", tmp_path / "march"
    folder.mkdir()
    assert main(["ingest", "--db", str(db), str(folder)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"error: {folder} is a directory; name the files in it (e.g. {folder}/*.csv)\n"
    assert not db.exists()


def test_a_missing_file_is_no_such_file(tmp_path, capsys):
    db, good = tmp_path / "s.duckdb", tmp_path / "good.csv"
    good.write_text(PURCHASES, encoding="utf-8")
    assert main(["ingest", "--db", str(db), str(good), str(tmp_path / "nope.csv")]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"error: no such file: {tmp_path / 'nope.csv'}\n"
    assert not db.exists(), "no file is loaded when one of them cannot be"


def test_every_bad_file_is_named_before_anything_is_loaded(tmp_path, capsys):
    db, folder = tmp_path / "s.duckdb", tmp_path / "april"
    folder.mkdir()
    assert main(["ingest", "--db", str(db), str(tmp_path / "gone.csv"), str(folder)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"error: no such file: {tmp_path / 'gone.csv'}",
        f"error: {folder} is a directory; name the files in it (e.g. {folder}/*.csv)",
    ]


def _damaged(folder: Path) -> Path:
    """A real database whose blocks after DuckDB's headers are overwritten: the header says
    DuckDB, the contents fail their checksums."""
    db = folder / "damaged.duckdb"
    store.connect(db).close()
    data = bytearray(db.read_bytes())
    data[12288:] = bytes((i * 7) & 0xFF for i in range(len(data) - 12288))
    db.write_bytes(bytes(data))
    return db


@pytest.mark.parametrize("command", ["demo", "undo", "report", "route", "complete"])
def test_a_damaged_database_is_one_line_on_stderr(tmp_path, capsys, command):
    db = _damaged(tmp_path)
    assert main(_args(command, db)) == 1
    out, err = capsys.readouterr()
    assert out == ""
    (line,) = err.splitlines()
    assert line.startswith("error: ") and str(db.name) in line
    assert "Corrupt database file" in line  # DuckDB's reason, after ours


def test_the_real_commands_print_no_traceback(tmp_path):
    """The same in a process of its own: the exit code, stderr only, no traceback."""
    folder = tmp_path / "march"
    folder.mkdir()
    damaged = _damaged(tmp_path)
    csv_file = tmp_path / "march.csv"
    csv_file.write_text(PURCHASES, encoding="utf-8")
    runs = [
        (["ingest", "--db", str(tmp_path / "s.duckdb"), str(folder)], 2, "is a directory"),
        (["report", "--db", str(csv_file)], 2, "is not a DuckDB database file"),
        (["check", "--db", str(folder)], 2, "is a folder, not a DuckDB database file"),
        (["undo", "--db", str(damaged), "1"], 1, "cannot be opened or read"),
    ]
    for args, code, said in runs:
        done = subprocess.run(
            [sys.executable, "-m", "indicators", *args],
            cwd=ROOT, capture_output=True, text=True, encoding="utf-8", check=False,
        )
        assert done.returncode == code, (args, done.stderr)
        assert done.stdout == ""
        assert said in done.stderr and "Traceback" not in done.stderr
        assert len(done.stderr.splitlines()) == 1
