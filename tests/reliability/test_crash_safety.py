"""A load killed with SIGKILL at any point leaves exactly the old state or exactly the new one.

The command-line load runs in its own process and stops at a named point of its one
transaction (``$INDICATORS_TEST_PAUSE_AT``: the command line passes
:func:`indicators.store.pause_for_test` to the load as its checkpoint); the test kills it there
with SIGKILL (no cleanup, no rollback), reopens the file and compares every table's full
contents with the state before the load and with the state a finished load gives.  Every point
is killed at: before ``committed`` nothing has changed, at ``committed`` the load is whole.  The file must then pass the health check,
in Python and through ``python -m indicators check``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from indicators import store
from tests.reliability.procs import (
    Cli,
    ingest_cli,
    ingest_now,
    many_purchases,
    purchases_csv,
    snapshot,
)

BEFORE_COMMIT = ("inserted", "logged", "kept_for_undo", "old_slices_deleted", "undo_pruned")
"""The load's points inside its transaction, in order (:mod:`indicators.ingest.load`)."""
LAST_BEFORE_COMMIT = BEFORE_COMMIT[-1]


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The database before the load, the file to load, and the contents a finished load gives."""
    folder = tmp_path_factory.mktemp("crash")
    base = purchases_csv(
        folder / "base.csv",
        many_purchases("old-n", "North", "2025-01", 500) + many_purchases("old-s", "South", "2025-01", 300),
    )
    # Replaces the January North slice (500 rows -> 40) and adds February: a partial load
    # would show up as a missing slice, a doubled one, or a log row without its data.
    new = purchases_csv(
        folder / "new.csv",
        many_purchases("new-n", "North", "2025-01", 40) + many_purchases("feb", "North", "2025-02", 2000),
    )
    before_db = folder / "before.duckdb"
    ingest_now(before_db, base)
    after_db = folder / "after.duckdb"
    shutil.copy(before_db, after_db)
    ingest_now(after_db, new)
    return {
        "db": before_db,
        "file": new,
        "before": snapshot(before_db),
        "after": snapshot(after_db),
    }


def fresh_copy(states: dict[str, object], tmp_path: Path) -> Path:
    db = tmp_path / "service.duckdb"
    shutil.copy(states["db"], db)  # type: ignore[arg-type]
    return db


def assert_healthy(db: Path) -> None:
    health = store.health(db)
    assert health.ok, health.problems
    check = Cli(["check", "--db", str(db)])
    try:
        assert check.finish() == 0, "".join(check.stdout + check.stderr)
    finally:
        check.kill()
    assert "purchases:" in "".join(check.stdout)


def test_the_states_differ_in_every_way_a_partial_load_could_show(states):
    before, after = states["before"], states["after"]
    assert len(before["purchases"]) == 800 and len(after["purchases"]) == 300 + 40 + 2000
    assert len(after["upload_log"]) == len(before["upload_log"]) + 1


@pytest.mark.parametrize("point", BEFORE_COMMIT)
def test_killed_before_the_commit_leaves_the_old_state(states, tmp_path, point):
    db = fresh_copy(states, tmp_path)
    with ingest_cli(db, states["file"], pause=point) as cli:
        cli.wait_paused(point)
        cli.kill()
    assert snapshot(db) == states["before"]
    assert_healthy(db)


def test_killed_after_the_commit_keeps_the_new_state(states, tmp_path):
    db = fresh_copy(states, tmp_path)
    with ingest_cli(db, states["file"], pause="committed") as cli:
        cli.wait_paused("committed")
        cli.kill()
    assert snapshot(db) == states["after"]
    assert_healthy(db)


@pytest.mark.parametrize("attempt", range(3))
def test_killed_while_committing_leaves_the_old_or_the_new_state(states, tmp_path, attempt):
    """Resumed at the last point before COMMIT and killed at once: the kill lands before, during
    or after the commit.

    Where exactly is up to the scheduler; the assertion holds wherever it lands.
    """
    db = fresh_copy(states, tmp_path)
    with ingest_cli(db, states["file"], pause=LAST_BEFORE_COMMIT) as cli:
        cli.wait_paused(LAST_BEFORE_COMMIT)
        cli.resume()
        cli.kill()
    assert snapshot(db) in (states["before"], states["after"]), "a partial load is visible"
    assert_healthy(db)


def test_health_reports_a_damaged_file_and_the_check_command_exits_1(tmp_path):
    # A real database's header with garbage after it (a file without DuckDB's header is no
    # database at all: `check --db` refuses it, exit 2, tests/indicators/test_cli_errors.py).
    db = tmp_path / "broken.duckdb"
    store.connect(db).close()
    db.write_bytes(db.read_bytes()[:4096] + b"this is not a database" * 1000)
    health = store.health(db)
    assert not health.ok and "cannot be opened" in health.problems[0]
    check = Cli(["check", "--db", str(db)])
    try:
        assert check.finish() == 1
    finally:
        check.kill()
    assert "NOT OK" in "".join(check.stdout)
    assert "Traceback" not in "".join(check.stdout + check.stderr)


def test_health_reports_a_missing_table(tmp_path):
    import duckdb

    db = tmp_path / "partial.duckdb"
    store.connect(db).close()
    con = duckdb.connect(str(db))
    con.execute("DROP TABLE surveys")
    con.close()
    health = store.health(db)
    assert not health.ok and health.problems == ["table surveys is missing"]
    assert health.tables["purchases"] == 0
