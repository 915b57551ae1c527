"""`--db` and `$SERVICE_DB` open only a DuckDB database, or create one under a database name.

Issue 14: `ingest --db march.csv april.csv` (a typo) or `SERVICE_DB=data.parquet` made DuckDB
open the data file as an empty in-memory database; `ingest` and `demo` said "accepted" /
"ready", exit 0, and stored nothing.  Now anything that is not a DuckDB database file (DuckDB's
header: ``DUCK`` at byte 8) and may not become one is exit 2 with a message naming the path and
the rule, in every command, and a clear message in the app; the file named is left untouched.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from indicators import store
from indicators.__main__ import main
from tests.reliability.procs import Cli, many_purchases, purchases_csv, snapshot

NOT_A_DB = "is not a DuckDB database file"


def _data_files(folder: Path) -> dict[str, Path]:
    """A CSV, a Parquet and a JSON file, as a typo in --db would name them."""
    csv_file = purchases_csv(folder / "march.csv", many_purchases("m", "A", "2025-03", 2))
    parquet, json_file = folder / "march.parquet", folder / "march.json"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM read_csv('{csv_file}')) TO '{parquet}' (FORMAT parquet)")
    con.execute(f"COPY (SELECT * FROM read_csv('{csv_file}')) TO '{json_file}' (FORMAT json)")
    con.close()
    return {"csv": csv_file, "parquet": parquet, "json": json_file}


@pytest.fixture
def data_files(tmp_path: Path) -> dict[str, Path]:
    return _data_files(tmp_path)


def test_duckdb_writes_its_magic_at_byte_8(tmp_path):
    """The header check matches what the installed DuckDB writes."""
    db = tmp_path / "real.duckdb"
    duckdb.connect(str(db)).close()
    assert db.read_bytes()[8:12] == b"DUCK"
    assert store.is_duckdb_file(db)
    assert not store.is_duckdb_file(tmp_path / "missing.duckdb")


@pytest.mark.parametrize("kind", ["csv", "parquet", "json"])
@pytest.mark.parametrize("command", ["ingest", "demo", "report", "route", "check"])
def test_a_data_file_as_db_is_a_usage_error_and_stays_untouched(
    data_files, tmp_path, capsys, command, kind
):
    target = data_files[kind]
    before = target.read_bytes()
    args = [command, "--db", str(target)]
    if command == "ingest":
        args.append(str(data_files["csv"]))  # `ingest --db march.csv april.csv`
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert f"error: --db {target} {NOT_A_DB}" in err
    assert "accepted" not in out and "ready" not in out
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "march.csv", "march.json", "march.parquet"
    ], "no database, WAL or spill folder was made beside the data file"


def test_the_real_command_says_so_without_a_traceback(data_files):
    cli = Cli(["ingest", "--db", str(data_files["csv"]), str(data_files["csv"])])
    try:
        assert cli.finish() == 2
    finally:
        cli.kill()
    assert "".join(cli.stdout) == ""
    said = "".join(cli.stderr)
    assert f"--db {data_files['csv']} {NOT_A_DB}" in said and "Traceback" not in said


def test_service_db_naming_a_data_file_is_named_in_the_message(data_files, capsys, monkeypatch):
    monkeypatch.setenv(store.DB_ENV, str(data_files["parquet"]))
    assert main(["demo"]) == 2
    assert f"error: $SERVICE_DB {data_files['parquet']} {NOT_A_DB}" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("service", "does not exist, and a new database file must be named *.duckdb or *.db"),
        ("service.csv", "does not exist, and a new database file must be named *.duckdb or *.db"),
    ],
)
def test_a_new_database_needs_a_database_name(tmp_path, capsys, name, rule):
    csv_file = purchases_csv(tmp_path / "april.csv", many_purchases("a", "A", "2025-04", 2))
    db = tmp_path / name
    assert main(["ingest", "--db", str(db), str(csv_file)]) == 2
    assert f"error: --db {db} {rule}" in capsys.readouterr().err
    assert not db.exists()


@pytest.mark.parametrize("name", ["new.duckdb", "new.db", "NEW.DUCKDB"])
def test_a_new_database_name_creates_the_database(tmp_path, capsys, name):
    csv_file = purchases_csv(tmp_path / "april.csv", many_purchases("a", "A", "2025-04", 3))
    db = tmp_path / name
    assert main(["ingest", "--db", str(db), str(csv_file)]) == 0
    assert store.is_duckdb_file(db) and len(snapshot(db)["purchases"]) == 3


def test_an_existing_duckdb_file_opens_whatever_its_name(tmp_path, capsys):
    """The header decides, not the name: a database saved as `backup.bin` still opens."""
    db = tmp_path / "backup.bin"
    store.connect(tmp_path / "made.duckdb").close()
    (tmp_path / "made.duckdb").rename(db)
    assert main(["check", "--db", str(db)]) == 0
    assert f"{db}: ok" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["empty.duckdb", "empty.csv"])
def test_an_empty_file_is_refused_and_left_alone(tmp_path, capsys, name):
    """DuckDB itself refuses a 0-byte file ("not a valid DuckDB database"): we say why."""
    db = tmp_path / name
    db.touch()
    csv_file = purchases_csv(tmp_path / "april.csv", many_purchases("a", "A", "2025-04", 2))
    assert main(["ingest", "--db", str(db), str(csv_file)]) == 2
    err = capsys.readouterr().err
    assert f"{db} is an empty file, not a DuckDB database; delete it" in err
    assert db.read_bytes() == b""


def test_a_lone_write_ahead_log_is_not_thrown_away(tmp_path, capsys):
    """A WAL without its database: DuckDB would create the file and silently drop the log."""
    wal_source = tmp_path / "w.duckdb"
    con = duckdb.connect(str(wal_source))
    con.execute("SET checkpoint_threshold = '1TB'")  # keep the change in the log
    con.execute("CREATE TABLE t AS SELECT 42 AS a")
    log = (tmp_path / "w.duckdb.wal").read_bytes()
    con.close()
    db = tmp_path / "service.duckdb"
    (tmp_path / "service.duckdb.wal").write_bytes(log)
    assert main(["demo", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert f"{db} does not exist, but its write-ahead log service.duckdb.wal does" in err
    assert not db.exists() and (tmp_path / "service.duckdb.wal").read_bytes() == log


def test_a_folder_is_refused(tmp_path, capsys):
    folder = tmp_path / "data.duckdb"
    folder.mkdir()
    assert main(["report", "--db", str(folder)]) == 2
    assert f"{folder} is a folder, not a DuckDB database file" in capsys.readouterr().err


def test_store_connect_refuses_a_data_file_before_duckdb_sees_it(data_files):
    """Every caller (the app, demo, tests) goes through store.connect: it checks too."""
    for path in data_files.values():
        with pytest.raises(store.NotADatabase, match=NOT_A_DB):
            store.connect(path)
        with pytest.raises(store.NotADatabase, match=NOT_A_DB):
            store.connect(path, read_only=True)


def test_the_app_names_service_db_and_the_path(data_files, monkeypatch):
    from dashboard import data
    from dashboard.format import md_text

    monkeypatch.setenv(store.DB_ENV, str(data_files["csv"]))
    data.clear_caches()
    status = data.state()
    assert status.error is not None and not status.busy
    # Markdown-escaped (the page shows it with st.error): the variable, the path and the rule.
    assert status.error.startswith(
        f"The database is set by SERVICE_DB: {md_text(str(data_files['csv']))} "
        f"{md_text(NOT_A_DB)}"
    ), status.error
    assert not data.available()
    assert data_files["csv"].read_bytes().startswith(b"purchase_id,")
