"""Fair access to the file: a command-line load gets it within a bound while the app is busy.

DuckDB lets one process hold the file.  Busy readers of the app overlap, so without a gap the
load would wait until its ``--wait`` runs out.  A waiting process announces itself in
``<db>.writer-waiting`` (:func:`indicators.store.connect_waiting`); the app opens no new
connection while a live process waits (:func:`dashboard.data._open`), so the file is free as
soon as the connections in flight close.  Stale markers (dead pid, reused pid, given up) are
ignored.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from dashboard import data
from indicators import store
from tests.reliability.procs import (
    WAIT,
    count,
    ingest_cli,
    ingest_now,
    many_purchases,
    purchases_csv,
    snapshot,
)

READERS = 8
HOLD_SECONDS = 0.25
"""How long each reader keeps its connection, as a page being drawn (staggered: never a gap)."""
START_BOUND = 10.0
"""The guarantee: a waiting load starts within this many seconds."""


@pytest.fixture(autouse=True)
def no_secrets_file(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.runtime.secrets import secrets_singleton

    monkeypatch.setattr(secrets_singleton, "_secrets", {})


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """60 purchases; the app (``SERVICE_DB``) points here."""
    path = tmp_path / "service.duckdb"
    ingest_now(
        path,
        purchases_csv(tmp_path / "base.csv", many_purchases("n", "North", "2025-01", 60)),
    )
    monkeypatch.setenv(store.DB_ENV, str(path))
    data.clear_caches()
    return path


class BusyReaders:
    """``READERS`` threads reading through :mod:`dashboard.data` as page runs do, back to back.

    Each opens the page's shared connection (:func:`data.reading`), counts purchases and holds
    it for :data:`HOLD_SECONDS`; a refused read ("a load is in progress") waits a little and
    tries again, as the waiting page does.  Every outcome is recorded with its time.
    """

    def __init__(self, db: Path) -> None:
        self.db = str(db)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.counts: list[tuple[float, int, int]] = []  # (time, reader, purchases seen)
        self.busy: list[tuple[float, str]] = []
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._loop, args=(i,)) for i in range(READERS)]

    def _loop(self, reader: int) -> None:
        time.sleep(reader * HOLD_SECONDS / READERS)  # staggered: one is always open
        while not self.stop.is_set():
            try:
                with data.reading(), data._read(self.db) as con:
                    (n,) = con.execute("SELECT count(*) FROM purchases").fetchone()
                    time.sleep(HOLD_SECONDS)
                with self.lock:
                    self.counts.append((time.monotonic(), reader, n))
            except data.DatabaseBusy as exc:
                with self.lock:
                    self.busy.append((time.monotonic(), str(exc)))
                time.sleep(0.1)
            except BaseException as exc:  # the assertions below show it
                self.errors.append(exc)
                return

    def __enter__(self) -> BusyReaders:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=WAIT)

    def wait_until_all_saw(self, n: int, since: float, timeout: float = WAIT) -> set[int]:
        """Until every reader has read ``n`` purchases after ``since``; the readers that did."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                saw = {r for t, r, seen in self.counts if t >= since and seen == n}
            if len(saw) == READERS or time.monotonic() >= deadline or self.errors:
                return saw
            time.sleep(0.05)


def wait_for_stdout(cli, text: str, timeout: float) -> float | None:
    """Seconds until a stdout line of ``cli`` holds ``text``; ``None`` if not within ``timeout``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if any(text in line for line in cli.stdout):
            return time.monotonic() - start
        if cli.proc.poll() is not None and not any(text in line for line in cli.stdout):
            time.sleep(0.1)  # let the pump thread catch up with the last lines
            return (time.monotonic() - start) if any(text in line for line in cli.stdout) else None
        time.sleep(0.02)
    return None


def test_a_load_gets_the_file_from_busy_readers_within_the_bound_and_readers_resume(db, tmp_path):
    east = purchases_csv(tmp_path / "east.csv", many_purchases("e", "East", "2025-02", 7))
    with BusyReaders(db) as readers:
        time.sleep(1.0)  # the readers are all running
        assert not readers.errors and len(readers.counts) >= READERS
        with ingest_cli(db, east, wait=START_BOUND + 5) as cli:
            # "[1/1] east.csv …" is printed once the load has the file
            started = wait_for_stdout(cli, "[1/1]", timeout=START_BOUND + 8)
            code = cli.finish()
        done = time.monotonic()
        output = "".join(cli.stdout + cli.stderr)
        assert started is not None and started < START_BOUND, output
        assert code == 0, output
        # While the load waited and ran, readers were told so; after it, all read the new count.
        assert any(message == data.LOAD_IN_PROGRESS for _, message in readers.busy)
        saw = readers.wait_until_all_saw(60 + 7, since=done)
    assert not readers.errors, readers.errors
    assert saw == set(range(READERS))
    assert not store.waiting_marker(db).exists()
    assert count(db) == 60 + 7


def test_a_load_that_gives_up_removes_its_marker(db, tmp_path):
    holder_file = purchases_csv(tmp_path / "east.csv", many_purchases("e", "East", "2025-03", 7))
    waiting_file = purchases_csv(tmp_path / "west.csv", many_purchases("w", "West", "2025-03", 5))
    with ingest_cli(db, holder_file, pause="inserted") as holder:
        holder.wait_paused("inserted")
        with ingest_cli(db, waiting_file, wait=3) as waiting:
            waiting.wait_for(store.BUSY_MESSAGE)
            marker = store.Waiter.parse(store.waiting_marker(db).read_text(encoding="ascii"))
            assert marker is not None and marker.pid == waiting.proc.pid
            assert store.writer_waiting(db) == marker
            assert waiting.finish() == 1
        assert not store.waiting_marker(db).exists()
        holder.kill()


def another_process_can_open(db: Path) -> bool:
    code = (
        "import sys, duckdb\n"
        "try:\n    duckdb.connect(sys.argv[1]).close()\n"
        "except duckdb.IOException as e:\n    sys.exit(3 if 'Could not set lock' in str(e) else 4)\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(db)], timeout=WAIT)
    assert result.returncode in (0, 3), result
    return result.returncode == 0


def test_the_app_holds_the_file_while_any_of_its_connections_is_open(db):
    """Closing any descriptor of a file drops every POSIX lock the process holds on it, DuckDB's
    included: nothing may open and close the database file beside DuckDB's own connection, or
    a second connection's open and close would let another process write at the same time."""
    with data._read(str(db)) as first:
        with data._read(str(db)) as second:
            second.execute("SELECT 1")
        assert not another_process_can_open(db)
        first.execute("SELECT 1")
    assert another_process_can_open(db)


# --- the marker as the app reads it ------------------------------------------------------


def write_marker(db: Path, pid: int, started: str, until: float) -> None:
    store.waiting_marker(db).write_text(
        store.Waiter(pid, started, until).text(), encoding="ascii"
    )


def live_marker(db: Path) -> None:
    """A marker of a live process (this one) that waits for another minute."""
    write_marker(db, os.getpid(), store._process_start(os.getpid()), time.time() + 60)


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_while_a_process_waits_the_app_opens_nothing_new_and_refuses_writes(db):
    before = snapshot(db)
    with data.reading(), data._read(str(db)) as in_flight:
        live_marker(db)
        # the page in flight keeps its connection and finishes
        assert in_flight.execute("SELECT count(*) FROM purchases").fetchone() == (60,)
    with pytest.raises(data.DatabaseBusy) as refused, data._read(str(db)):
        pass
    assert str(refused.value) == data.LOAD_IN_PROGRESS
    assert data.available() is False
    status = data.state()
    assert status.busy and status.error == data.LOAD_IN_PROGRESS
    with pytest.raises(data.DatabaseBusy) as write_refused:
        data.save_setting("iceberg_factor", 12)
    assert str(write_refused.value) == data.WRITE_REFUSED
    store.waiting_marker(db).unlink()
    assert snapshot(db) == before
    assert data.available() is True


def test_an_app_write_in_flight_finishes_when_a_process_starts_waiting(db):
    with data._write() as con:
        live_marker(db)
        store.write_setting(con, "iceberg_factor", 12)
    store.waiting_marker(db).unlink()
    with data._read(str(db)) as con:
        assert con.execute(
            "SELECT value FROM settings WHERE key = 'iceberg_factor'"
        ).fetchone() == ("12",)


@pytest.mark.parametrize(
    "marker",
    ["dead pid", "reused pid", "given up", "garbage"],
)
def test_a_stale_marker_is_ignored(db, marker):
    if marker == "dead pid":
        write_marker(db, dead_pid(), "", time.time() + 60)
    elif marker == "reused pid":  # this process's pid, but a process started at another time
        write_marker(db, os.getpid(), "1", time.time() + 60)
    elif marker == "given up":
        write_marker(db, os.getpid(), store._process_start(os.getpid()), time.time() - 1)
    else:
        store.waiting_marker(db).write_text("not a marker", encoding="ascii")
    assert store.writer_waiting(db) is None
    with data._read(str(db)) as con:
        assert con.execute("SELECT count(*) FROM purchases").fetchone() == (60,)
    assert data.available() is True


def test_a_waiting_process_replaces_a_stale_marker_and_keeps_a_live_one(db):
    write_marker(db, dead_pid(), "", time.time() + 60)
    store.announce_waiting(db, until=time.time() + 30)
    mine = store.writer_waiting(db)
    assert mine is not None and mine.pid == os.getpid()
    # another live waiter's marker is left alone, and withdrawing removes only one's own
    other = subprocess.Popen(["sleep", "30"])
    try:
        write_marker(db, other.pid, store._process_start(other.pid), time.time() + 30)
        store.announce_waiting(db, until=time.time() + 30)
        assert store.writer_waiting(db).pid == other.pid
        store.withdraw_waiting(db)
        assert store.writer_waiting(db).pid == other.pid
    finally:
        other.kill()
        other.wait()
    assert store.writer_waiting(db) is None  # its process ended
