"""SIGKILLs at random moments, in volume: a load, and the app during an upload, leave exactly the
old state or exactly the new one, the file passes ``python -m indicators check``, and the next
load works.

``test_crash_safety`` kills a load at each named point; here the moment is random.  Each load
of 50,000 purchases takes about a third of a second; its run is cut into :data:`STRATA` equal spans
and each kill lands at a random moment of one span (seeded: ``$KILL_SEED``, default
:data:`DEFAULT_SEED`, so CI always draws the same moments; every assertion message names the
seed, the scenario, the span and the moment).  A load that ended before its kill is checked as
a finished load and run again with the delay halved, so every span lands one real kill.
Three loads: a first load into a new database file (old state: no file, or every table there
and empty), a load replacing stored slices, a rejected file (the rejection is logged outside
the load's transaction).  The volume uses :class:`tests.reliability.procs.Forks` (the command
line forked from one warm process: Python and its imports start in about a second, longer than
the load); one kill starts a real ``python -m indicators ingest`` and checks with a real
``python -m indicators check``.  Two tests kill a first load at the moments a random kill rarely
hits: as DuckDB creates the file, and while the new file gets its tables.  The app runs as a
real ``streamlit run`` server, driven in Chromium, and is killed inside the load's transaction
(at the load's ``inserted`` checkpoint, ``$INDICATORS_TEST_PAUSE_AT`` in a server whose loads are
given :func:`indicators.store.pause_for_test`) or at a random moment after the upload's bytes
reach its scratch folder.

States are compared as a digest of every table: its row count and the sum of its rows' hashes
(the upload log without its id and clock time, the schema versions without theirs), and the list
of stored tables.
"""

from __future__ import annotations

import os
import random
import shutil
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from dashboard.auth import LOCAL_USER
from dashboard.data import upload_root
from indicators import store
from indicators.ingest import ingest_file
from tests.browser.conftest import free_port
from tests.reliability.procs import (
    CHECKPOINTED_STREAMLIT,
    WAIT,
    Cli,
    Forks,
    count,
    ingest_cli,
    ingest_now,
    many_purchases,
    purchases_csv,
)
from tests.reliability.test_crash_safety import assert_healthy

DEFAULT_SEED = 14
SEED = int(os.environ.get("KILL_SEED", DEFAULT_SEED))
STRATA = 8
"""Kills per load scenario; three scenarios give 24 kills a run."""
ROWS = 50_000
"""Rows of the loaded file: a load of about a third of a second here."""
LATER_ROWS = 10
HALVINGS = 4
"""How often a kill that came too late is tried again, earlier."""
LOADS = ("first", "replace", "rejected")

Digest = tuple[tuple[str, int, int], ...]
MISSING = -1
"""The row count :func:`digest` gives a table the file lacks (a stray table: ``STRAY``)."""
STRAY = -2


def digest(db: Path) -> Digest:
    """Every stored table with its row count and the sum of its rows' hashes; missing and stray
    tables are marked."""
    con = store.connect(db, read_only=True)
    try:
        present = {
            name for (name,) in
            con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()
        }
        out = [_table_digest(con, name) if name in present else (name, MISSING, 0)
               for name in store.table_names()]
        out += [(name, STRAY, 0) for name in sorted(present - set(store.table_names()))]
        return tuple(out)
    finally:
        con.close()


_CLOCK_COLUMNS = {"upload_log": "id, uploaded_at", "schema_version": "applied_at"}
"""Columns that differ between two runs of the same loads (ids, clock times): not compared."""


def _table_digest(con, name: str) -> tuple[str, int, int]:
    rows = f'SELECT * EXCLUDE ({_CLOCK_COLUMNS[name]}) FROM "{name}"' \
        if name in _CLOCK_COLUMNS else f'SELECT * FROM "{name}"'
    n, total = con.execute(
        f"SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0) FROM ({rows}) t"
    ).fetchone()
    return name, n, int(total)


def rows_of(state: Digest, table: str = "purchases") -> int:
    return next(n for name, n, _ in state if name == table)


@dataclass
class Load:
    """One load to kill: the database it starts from, the file, the states a kill may leave."""

    name: str
    file: Path
    base: Path | None
    """The database before the load; None: no file yet (a first load creates it)."""
    old: Digest
    new: Digest
    code: int
    """Exit code of the load run to its end."""
    seconds: float = 0.0
    """How long the load runs to its end in a fork (measured before the kills)."""

    def fresh_db(self, folder: Path) -> Path:
        folder.mkdir(parents=True)
        db = folder / "service.duckdb"
        if self.base is not None:
            shutil.copy(self.base, db)
        return db

    def args(self, db: Path, file: Path | None = None) -> list[str]:
        return ["ingest", "--db", str(db), "--user", "setup", str(file or self.file)]

    def state(self, db: Path) -> str:
        """``old`` or ``new``; anything else describes what the kill left."""
        if not db.exists():
            return "old" if self.base is None else "no database file"
        try:
            found = digest(db)
        except Exception as exc:  # noqa: BLE001 - reported as the state the kill left
            return f"unreadable: {exc}"
        if found == self.old:
            return "old"
        if found == self.new:
            return "new"
        return (
            f"neither the old nor the new state: {describe(found)} "
            f"(old: {describe(self.old)}; new: {describe(self.new)})"
        )


def describe(state: Digest) -> str:
    labels = {MISSING: "missing", STRAY: "a stray table"}
    return ", ".join(f"{name} {labels.get(n, f'{n} rows')}" for name, n, _ in state)


class Kills:
    """The loads, built once; the fork server; the file the load after a kill loads."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        (folder / "forks").mkdir()
        self.forks = Forks(folder / "forks")
        big = many_purchases("new-n", "North", "2025-03", ROWS)
        self.big = purchases_csv(folder / "big.csv", big)
        # One bad amount in the last row: the load reads the whole file, then rejects it.
        self.bad = purchases_csv(
            folder / "bad.csv", [*big, ("bad-1", "2025-03-05T10:00:00", "c1", "North", "lots")]
        )
        self.later = purchases_csv(
            folder / "later.csv", many_purchases("later", "South", "2025-05", LATER_ROWS)
        )
        self.base = folder / "base.duckdb"
        ingest_now(
            self.base,
            purchases_csv(
                folder / "base.csv",
                many_purchases("old-n", "North", "2025-03", 20_000)
                + many_purchases("old-s", "South", "2025-03", 5_000),
            ),
        )
        self.loads: dict[str, Load] = {}

    def load(self, name: str) -> Load:
        """The load ``name``, its states built and its run measured on first use."""
        if name not in self.loads:
            load = getattr(self, f"_{name}")()
            self._measure(load)
            self.loads[name] = load
        return self.loads[name]

    def _first(self) -> Load:
        empty = self.folder / "empty.duckdb"
        store.connect(empty).close()
        new = self.folder / "first-after.duckdb"
        ingest_now(new, self.big)
        return Load("first", self.big, None, digest(empty), digest(new), 0)

    def _replace(self) -> Load:
        new = self.folder / "replace-after.duckdb"
        shutil.copy(self.base, new)
        ingest_now(new, self.big)
        return Load("replace", self.big, self.base, digest(self.base), digest(new), 0)

    def _rejected(self) -> Load:
        new = self.folder / "rejected-after.duckdb"
        shutil.copy(self.base, new)
        con = store.connect(new)
        try:
            result = ingest_file(con, self.bad, user="setup")
        finally:
            con.close()
        problems = [(p.row, p.column, p.value) for p in result.problems]
        assert not result.accepted and problems == [(ROWS + 2, "amount", "lots")], problems
        return Load("rejected", self.bad, self.base, digest(self.base), digest(new), 1)

    def _app(self) -> Load:
        """The replacing load as the app's upload page does it (sign-in off: user ``local``)."""
        new = self.folder / "app-after.duckdb"
        shutil.copy(self.base, new)
        con = store.connect(new)
        try:
            assert ingest_file(con, self.big, user=LOCAL_USER).accepted
        finally:
            con.close()
        app = Load("app", self.big, self.base, digest(self.base), digest(new), 0)
        app.seconds = self.load("replace").seconds
        return app

    def _measure(self, load: Load) -> None:
        if load.seconds:
            return
        db = load.fresh_db(self.folder / f"{load.name}-measure")
        run = self.forks.run(load.args(db))
        assert run.code == load.code and load.state(db) == "new", run.said()
        load.seconds = run.seconds

    def assert_recovered(self, load: Load, db: Path, state: str, where: str) -> None:
        """The file passes ``check`` (if the kill left one) and takes the next load whole."""
        before = 0
        if db.exists():
            check = self.forks.run(["check", "--db", str(db)])
            assert check.code == 0 and ": ok" in check.stdout, f"{where}; check: {check.said()}"
            before = rows_of(load.new if state == "new" else load.old)
        later = self.forks.run(load.args(db, self.later))
        assert later.code == 0, f"{where}; the next load: {later.said()}"
        assert count(db) == before + LATER_ROWS, where


@pytest.fixture(scope="module")
def kills(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kills]:
    k = Kills(tmp_path_factory.mktemp("kills"))
    try:
        yield k
    finally:
        k.forks.close()


def test_the_states_are_what_each_load_should_leave(kills: Kills):
    """Old and new differ where a partial load would show: rows, slices and the log."""
    first, replace, rejected = (kills.load(name) for name in LOADS)
    counts = {
        name: [(rows_of(s, "purchases"), rows_of(s, "upload_log")) for s in (x.old, x.new)]
        for name, x in zip(LOADS, (first, replace, rejected), strict=True)
    }
    assert counts == {
        "first": [(0, 0), (ROWS, 1)],
        "replace": [(20_000 + 5_000, 1), (5_000 + ROWS, 2)],
        "rejected": [(25_000, 1), (25_000, 2)],  # the rejection is logged, nothing stored
    }
    assert all(n >= 0 for x in (first, replace, rejected) for s in (x.old, x.new) for _, n, _ in s)


def moment(name: str, span: int, seconds: float) -> float:
    """A random moment of span ``span`` of ``STRATA`` equal spans of ``seconds`` (seeded)."""
    rng = random.Random(f"{SEED}/{name}/{span}")
    return seconds * (span + rng.random()) / STRATA


def where(load: Load, span: int, delay: float, said: str) -> str:
    return (
        f"seed {SEED} ($KILL_SEED), load {load.name!r}, span {span + 1} of {STRATA} "
        f"of {load.seconds:.3f} s, killed at {delay:.3f} s: {said}"
    )


def kill_until_landed(
    load: Load, folder: Path, span: int, delay: float,
    run: Callable[[Path, float], tuple[bool, int, str]],
) -> tuple[Path, str, str]:
    """``run(db, delay)`` (True if the kill hit a live process, its exit code, what it said) until
    a kill lands, halving the delay after a load that ended first; the db, its state, the context.
    """
    for attempt in range(HALVINGS + 1):
        db = load.fresh_db(folder / f"attempt-{attempt}")
        killed, code, said = run(db, delay)
        context = where(load, span, delay, said)
        state = load.state(db)
        assert state in ("old", "new"), f"{context}; the kill left {state}"
        if killed:
            return db, state, context
        assert code == load.code and state == "new", f"{context}; it ended, but left {state}"
        delay /= 2
    raise AssertionError(f"{context}; every load ended before its kill")


@pytest.mark.parametrize("span", range(STRATA))
@pytest.mark.parametrize("name", LOADS)
def test_a_load_killed_at_a_random_moment_leaves_the_old_or_the_new_state(
    kills: Kills, tmp_path: Path, name: str, span: int
):
    load = kills.load(name)

    def forked(db: Path, delay: float) -> tuple[bool, int, str]:
        run = kills.forks.run(load.args(db), kill_after=delay)
        return run.killed, run.code, run.said()

    db, state, context = kill_until_landed(
        load, tmp_path, span, moment(name, span, load.seconds), forked
    )
    kills.assert_recovered(load, db, state, context)


def kill_a_first_load_when(kills: Kills, tmp_path: Path, marker: Callable[[Path], Path]) -> None:
    """Three first loads, each SIGKILLed as soon as ``marker(db)`` exists; each must leave the
    old state (no file, or every table there and empty), pass ``check`` and take the next load."""
    load = kills.load("first")
    for attempt in range(3):
        db = load.fresh_db(tmp_path / f"attempt-{attempt}")
        run = kills.forks.run(load.args(db), kill_when=marker(db))
        size = db.stat().st_size if db.exists() else None
        context = (
            f"a first load killed as {marker(db).name} appeared (attempt {attempt + 1}; "
            f"{db.name} then {size} bytes): {run.said()}"
        )
        assert run.killed, context
        state = load.state(db)
        assert state == "old", f"{context}; the kill left {state}"
        kills.assert_recovered(load, db, state, context)


def test_a_first_load_killed_as_it_creates_the_database_file(kills: Kills, tmp_path: Path):
    """DuckDB creates the file, then writes its header: a kill between leaves 0 or 4096 bytes."""
    kill_a_first_load_when(kills, tmp_path, lambda db: db)


def test_a_first_load_killed_while_it_creates_the_tables(kills: Kills, tmp_path: Path):
    """The write-ahead log appears with the first table the new file gets."""
    kill_a_first_load_when(kills, tmp_path, lambda db: db.with_name(db.name + ".wal"))


def wait_for_stdout(cli: Cli, text: str) -> None:
    deadline = time.monotonic() + WAIT
    while not any(text in line for line in cli.stdout):
        assert cli.proc.poll() is None, f"{cli.args} ended before saying {text!r}: {cli.stdout}"
        assert time.monotonic() < deadline, f"no {text!r} from {cli.args} within {WAIT:g} s"
        time.sleep(0.002)


def test_a_real_command_line_load_killed_at_a_random_moment(kills: Kills, tmp_path: Path):
    """``python -m indicators ingest`` in its own process, killed a random moment after it
    opened the database (its ``[1/1]`` line); ``check`` runs as its own process too."""
    load = kills.load("replace")

    def real(db: Path, delay: float) -> tuple[bool, int, str]:
        with ingest_cli(db, load.file) as cli:
            wait_for_stdout(cli, "[1/1]")
            time.sleep(delay)
            cli.kill()
        return cli.proc.returncode == -9, cli.proc.returncode, "".join(cli.stdout + cli.stderr)

    span = random.Random(f"{SEED}/real").randrange(STRATA)
    db, state, context = kill_until_landed(
        load, tmp_path, span, moment("real", span, load.seconds), real
    )
    if db.exists():
        assert_healthy(db)
    kills.assert_recovered(load, db, state, context)


# --- The app, killed during an upload ---------------------------------------------------------

APP_KILLS = ("inserted", "random")
"""A kill paused inside the load's transaction, one at a random moment of the save (each kill
costs a fresh server, about 12 s here: its first page run dominates; add ``random-2`` … for
more)."""
APP_STATES = {"inserted": ("old",)}
WAIT_MS = int(WAIT * 1000)


@contextmanager
def app_server(db: Path, *, pause: str | None) -> Iterator[tuple[str, Cli]]:
    """``streamlit run app.py`` on ``db`` (127.0.0.1), healthy; SIGKILLed when the block ends.
    With ``pause``, its loads stop at that checkpoint (:func:`streamlit_with_checkpoints`).

    Not :func:`tests.browser.conftest.streamlit_server`: the test needs the process (to kill
    it) and its stdin and stderr (the pause hook).
    """
    port = free_port()
    server = Cli(
        ["run", "app.py", "--server.address", "127.0.0.1", "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        module="streamlit" if pause is None else CHECKPOINTED_STREAMLIT,
        env={store.DB_ENV: str(db)}, pause=pause,
    )
    base = f"http://127.0.0.1:{port}"
    with server:
        wait_healthy(base, server)
        yield base, server


def wait_healthy(base: str, server: Cli) -> None:
    deadline = time.monotonic() + WAIT
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        assert server.proc.poll() is None, f"the app ended: {''.join(server.stderr)!r}"
        assert time.monotonic() < deadline, f"the app was not healthy within {WAIT:g} s"
        time.sleep(0.2)


def saving(db: Path) -> bool:
    """Whether the app's save is under way: its scratch copy of the upload is there."""
    return bool(list(upload_root(db).glob("*/upload-0.csv")))


def wait_for_scratch_copy(db: Path) -> None:
    """Until the app has written the upload to its scratch folder: the save has begun."""
    deadline = time.monotonic() + WAIT
    while not saving(db):
        assert time.monotonic() < deadline, f"no upload in {upload_root(db)} within {WAIT:g} s"
        time.sleep(0.002)


def upload_and_kill(
    page, load: Load, folder: Path, pause: str | None, delay: float
) -> tuple[Path, bool, str]:
    """Upload ``load.file`` on a fresh app and SIGKILL the server paused at ``pause``, or
    ``delay`` seconds after the save began; the db, whether the save was still under way, and
    the context for messages."""
    db = load.fresh_db(folder)
    with app_server(db, pause=pause) as (base, server):
        page.goto(f"{base}/upload")
        files = page.locator('[data-testid="stFileUploader"] input[type="file"]')
        files.set_input_files(str(load.file), timeout=WAIT_MS)
        page.get_by_text(load.file.name).first.wait_for(timeout=WAIT_MS)
        page.get_by_role("button", name="Validate and load").click(timeout=WAIT_MS)
        if pause is not None:
            server.wait_paused(pause)
        else:
            wait_for_scratch_copy(db)
            time.sleep(delay)
        during = saving(db)
        server.kill()
    when = f"paused at {pause!r}" if pause else f"{delay:.3f} s into the save"
    context = (
        f"seed {SEED} ($KILL_SEED), the app killed {when} "
        f"({'during' if during else 'after'} the save); "
        f"server said: {''.join(server.stderr)[-2000:]!r}"
    )
    return db, during, context


@pytest.mark.browser
@pytest.mark.parametrize("how", APP_KILLS)
def test_the_app_killed_during_an_upload_leaves_the_old_or_the_new_state(
    kills: Kills, page, tmp_path: Path, how: str
):
    """A kill that came after the save had ended is checked too, then tried again earlier."""
    load = kills.load("app")
    pause = None if how.startswith("random") else how
    delay = random.Random(f"{SEED}/app/{how}").uniform(0, load.seconds)
    for attempt in range(HALVINGS if pause is None else 1):
        db, during, context = upload_and_kill(page, load, tmp_path / f"a{attempt}", pause, delay)
        state = load.state(db)
        assert state in APP_STATES.get(how, ("old", "new")), f"{context}; the kill left {state}"
        if during:
            break
        delay /= 2
    else:
        raise AssertionError(f"{context}; every kill came after the save had ended")
    kills.assert_recovered(load, db, state, context)
