"""A page run reads the database through one connection, and lets go of the file when drawn.

Opening the file costs a DuckDB instance and cold buffers each time; a cold overview used to
open it five times.  Inside :func:`dashboard.connection.reading` (every page run, in
``app.py``) the first read that misses its cache opens the connection and the others reuse it;
the block's end closes it, so a command-line load can take the file.  A run whose every loader is cached opens
nothing.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dashboard import data, loaders
from indicators import store


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every path the app's loaders open, in order (the real connection is still made)."""
    calls: list[str] = []
    real = store.connect

    def counting(path, **kwargs):
        calls.append(str(path))
        return real(path, **kwargs)

    monkeypatch.setattr(store, "connect", counting)
    return calls


def held_by_this_process(path: Path) -> bool:
    """Whether a DuckDB instance of this process still has the file open.

    Within one process DuckDB refuses a second connection with another configuration while
    the first is open; once every connection is closed the instance is gone and it succeeds.
    """
    try:
        duckdb.connect(str(path), read_only=True).close()
    except duckdb.ConnectionException:
        return True
    return False


def test_a_cold_page_run_opens_the_file_once_and_closes_it(fixture_db, app, opened):
    data.clear_caches()
    at = app.run()
    assert not at.exception
    # rows, filters, targets, the scorecard's indicators, settings: five reads, one connection
    assert opened == [str(fixture_db)]
    assert at.metric  # the scorecard was drawn from those reads
    assert not held_by_this_process(fixture_db)


def test_a_warm_page_run_opens_nothing(fixture_db, app, opened):
    data.clear_caches()
    app.run()
    opened.clear()
    at = app.run()
    assert not at.exception
    assert opened == []


def test_reads_in_a_block_share_one_connection_and_nested_blocks_the_outer_one(
    fixture_db, opened
):
    data.clear_caches()
    path, version = str(fixture_db), data.data_version(fixture_db)
    with data.reading():
        assert loaders.total_rows(path, version) == 6 + 2 + 3  # purchases, complaints, surveys
        with data.reading():
            months, departments = loaders.grid(path, version, None)
        assert held_by_this_process(fixture_db)
        targets = loaders.targets(path, version, None)
    assert (months, departments) == (["2025-02", "2025-01"], ["All", "North", "South"])
    assert targets["indicator"].tolist() == ["csat"]
    assert opened == [path]
    assert not held_by_this_process(fixture_db)


def test_outside_a_block_every_read_opens_and_closes_its_own(fixture_db, opened):
    data.clear_caches()
    path, version = str(fixture_db), data.data_version(fixture_db)
    loaders.total_rows(path, version)
    assert not held_by_this_process(fixture_db)
    loaders.grid(path, version, None)
    assert opened == [path, path]


def test_a_busy_file_fails_the_read_and_the_next_read_tries_again(
    fixture_db, opened, monkeypatch: pytest.MonkeyPatch
):
    data.clear_caches()
    path, version = str(fixture_db), data.data_version(fixture_db)
    real = store.connect
    busy = {"left": 1}

    def busy_once(p, **kwargs):
        if busy["left"]:
            busy["left"] -= 1
            raise duckdb.IOException('Could not set lock on file "x": Conflicting lock is held')
        return real(p, **kwargs)

    monkeypatch.setattr(store, "connect", busy_once)
    with data.reading():
        with pytest.raises(data.DatabaseBusy):
            loaders.total_rows(path, version)
        assert loaders.total_rows(path, version) == 11
    assert not held_by_this_process(fixture_db)
