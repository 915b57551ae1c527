"""Helpers for the reliability tests: CSV files, command-line loads in real processes, snapshots.

A command-line load runs as ``python -m indicators ingest`` in its own process.  With
``pause=<point>`` it stops at that checkpoint of the load (``$INDICATORS_TEST_PAUSE_AT``, see
:func:`indicators.store.pause_for_test`, which the command line passes to the load), holding
the database file, until the test resumes it (a newline on its stdin) or kills it.  The app
passes its loads no checkpoint: :func:`streamlit_with_checkpoints` runs a server whose loads
get one, for a test that stops the app inside a load.  Every wait is bounded and says what it waited for.
For kills in volume, :class:`Forks` runs the command line as forks of one warm process and
SIGKILLs each after a given delay or once a given file exists.
"""

from __future__ import annotations

import json
import os
import queue
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from indicators import store

ROOT = Path(__file__).resolve().parents[2]
WAIT = 60.0
"""Seconds any single wait may take before the test fails (never a timing assertion)."""

HEADER = "purchase_id,purchased_at,customer_id,department,amount\n"


def purchases_csv(path: Path, rows: Iterable[tuple[str, str, str, str, float]]) -> Path:
    """A purchases file; every value is written as a CSV field (quoted when it has to be)."""
    import csv

    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(HEADER)
        writer = csv.writer(f, lineterminator="\n")
        for row in rows:
            writer.writerow(row)
    return path


def many_purchases(prefix: str, department: str, month: str, n: int) -> list[tuple]:
    """``n`` purchases of one department in one month (``month`` as ``YYYY-MM``)."""
    return [
        (f"{prefix}{i}", f"{month}-{1 + i % 28:02d}T10:00:00", f"c{i % 97}", department, 1.0 + i % 5)
        for i in range(n)
    ]


def snapshot(db: Path) -> dict[str, list[tuple]]:
    """Every table's full contents, sorted; the log without its id and clock time."""
    con = store.connect(db, read_only=True)
    try:
        out: dict[str, list[tuple]] = {}
        for name in store.table_names():
            columns = "* EXCLUDE (id, uploaded_at)" if name == "upload_log" else "*"
            out[name] = con.execute(f'SELECT {columns} FROM "{name}" ORDER BY ALL').fetchall()
        return out
    finally:
        con.close()


def count(db: Path, table: str = "purchases") -> int:
    con = store.connect(db, read_only=True)
    try:
        return con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    finally:
        con.close()


def ingest_now(db: Path, *files: Path) -> None:
    """Load files in this process (building the 'before' and the expected 'after' states)."""
    from indicators.ingest import ingest_file

    con = store.connect(db)
    try:
        for f in files:
            result = ingest_file(con, f, user="setup")
            assert result.accepted, result.message
    finally:
        con.close()


class Cli:
    """``python -m indicators <args>`` in its own process; stderr lines are collected as they come."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        pause: str | None = None,
        module: str = "indicators",
        env: Mapping[str, str] | None = None,
    ) -> None:
        """``python -m <module> <args>``; ``env`` adds variables to this process's environment."""
        variables = {k: v for k, v in os.environ.items() if k != store.PAUSE_ENV}
        variables.update(env or {})
        if pause is not None:
            variables[store.PAUSE_ENV] = pause
        self.args = list(args)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, *self.args],
            cwd=ROOT, env=variables, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._readers = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self.stdout, False), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr, True), daemon=True),
        ]
        for t in self._readers:
            t.start()

    def _pump(self, stream, sink: list[str], signal_lines: bool) -> None:
        for line in stream:
            sink.append(line)
            if signal_lines:
                self._lines.put(line)
        if signal_lines:
            self._lines.put(None)

    def wait_for(self, text: str, timeout: float = WAIT) -> None:
        """Until a stderr line holds ``text``; fails with what the process said otherwise."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self._lines.get(timeout=max(remaining, 0.01))
            except queue.Empty:
                line = ""
                if time.monotonic() >= deadline:
                    raise AssertionError(
                        f"no {text!r} on stderr of {self.args} within {timeout:g} s; "
                        f"stderr: {''.join(self.stderr)!r}"
                    ) from None
            if line is None:
                raise AssertionError(
                    f"{self.args} ended (exit {self.proc.wait()}) before saying {text!r}; "
                    f"stdout: {''.join(self.stdout)!r} stderr: {''.join(self.stderr)!r}"
                )
            if text in line:
                return

    def wait_paused(self, point: str) -> None:
        self.wait_for(store.PAUSE_MARKER + point)

    def resume(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()

    def finish(self, timeout: float = WAIT) -> int:
        """The exit code; stdin is closed first so any later pause goes straight on."""
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"{self.args} did not end within {timeout:g} s") from None
        for t in self._readers:
            t.join(timeout=WAIT)
        return code

    def kill(self) -> None:
        """SIGKILL: no cleanup, no rollback, as in a crash or an OOM kill."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=WAIT)

    def __enter__(self) -> Cli:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None and not stream.closed:
                stream.close()


def ingest_cli(
    db: Path, *files: Path, pause: str | None = None, wait: float | None = None
) -> Cli:
    """A command-line load; it logs user ``setup``, as :func:`ingest_now` does."""
    args = ["ingest", "--db", str(db), "--user", "setup"]
    if wait is not None:
        args += ["--wait", str(wait)]
    return Cli([*args, *map(str, files)], pause=pause)


# --- Many kills at random moments: the command line forked from one warm process -------------


@dataclass(frozen=True)
class Forked:
    """How one forked command ended: its exit code (``-9``: SIGKILLed), seconds from fork to end."""

    args: tuple[str, ...]
    code: int
    seconds: float
    stdout: str
    stderr: str

    @property
    def killed(self) -> bool:
        return self.code == -signal.SIGKILL

    def said(self) -> str:
        return f"{list(self.args)} exit {self.code} after {self.seconds:.3f} s; " \
            f"stdout: {self.stdout!r} stderr: {self.stderr!r}"


class Forks:
    """``python -m indicators <args>`` as forks of one process that imported it once.

    Starting Python and importing DuckDB and pandas takes about a second here, longer than the
    load under test; a kill test in volume forks instead.  Each child runs the command line's own
    ``main(args)`` (as ``python -m indicators`` does) with stdin on ``/dev/null`` and its output in
    files; the parent, its only waiter, SIGKILLs it ``kill_after`` seconds after the fork unless it
    has ended (the child's PID cannot be reused before the parent reaps it).  The parent never
    opens a database, so a child inherits no DuckDB state.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._runs = 0
        env = {k: v for k, v in os.environ.items() if k != store.PAUSE_ENV}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from tests.reliability.procs import serve_forks; serve_forks()"],
            cwd=ROOT, env=env, text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )

    def run(
        self, args: Sequence[str], *, kill_after: float | None = None, kill_when: Path | None = None
    ) -> Forked:
        """Run one command to its end (at most :data:`WAIT` s), or SIGKILL it ``kill_after``
        seconds after the fork, or as soon as the file ``kill_when`` exists (polled every 50 µs)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._runs += 1
        log = self.folder / f"run-{self._runs}"
        request = {
            "args": list(args), "kill_after": kill_after, "log": str(log),
            "kill_when": None if kill_when is None else str(kill_when),
        }
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline()
        if not reply:
            raise AssertionError(f"the fork server ended (exit {self.proc.wait(timeout=WAIT)})")
        answer = json.loads(reply)
        return Forked(
            tuple(args), answer["code"], answer["seconds"],
            Path(f"{log}.out").read_text(errors="replace"),
            Path(f"{log}.err").read_text(errors="replace"),
        )

    def close(self) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=WAIT)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def serve_forks() -> None:
    """The :class:`Forks` server: one JSON request a line on stdin, one JSON reply on stdout."""
    import indicators.__main__  # noqa: F401 - imported once here, not in each child
    import indicators.ingest  # noqa: F401
    import indicators.report  # noqa: F401

    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            _forked_child(request["args"], request["log"])
        code = _wait_or_kill(pid, request["kill_after"], request["kill_when"])
        reply = {"code": code, "seconds": time.monotonic() - started}
        print(json.dumps(reply), flush=True)


def _wait_or_kill(pid: int, kill_after: float | None, kill_when: str | None) -> int:
    """The child's exit code; SIGKILLed first if it runs past ``kill_after`` (or :data:`WAIT`),
    or once the file ``kill_when`` exists."""
    ended = os.pidfd_open(pid)
    try:
        deadline = time.monotonic() + (WAIT if kill_after is None else max(kill_after, 0.0))
        step = None if kill_when is None else 0.00005
        while True:
            left = max(deadline - time.monotonic(), 0.0)
            ready, _, _ = select.select([ended], [], [], left if step is None else min(step, left))
            if ready:
                break
            if time.monotonic() >= deadline or (kill_when and os.path.exists(kill_when)):
                os.kill(pid, signal.SIGKILL)
                break
    finally:
        os.close(ended)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _forked_child(args: list[str], log: str) -> None:
    """In the child: ``main(args)`` with its output in ``<log>.out`` / ``<log>.err``; never returns."""
    code = 1
    try:
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        for fd, suffix in ((1, ".out"), (2, ".err")):
            os.dup2(os.open(log + suffix, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), fd)
        sys.stdin = open(os.devnull)  # noqa: SIM115 - the child ends with os._exit
        from indicators.__main__ import main

        code = main(args)
    except SystemExit as exit_:  # argparse's usage errors
        code = exit_.code if isinstance(exit_.code, int) else 2
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


# --- The app with checkpoints in its loads ----------------------------------------------------

CHECKPOINTED_STREAMLIT = "tests.reliability.procs"
"""``python -m`` this module: ``streamlit <args>`` (:func:`streamlit_with_checkpoints`)."""


def streamlit_with_checkpoints() -> None:
    """``streamlit <args>`` whose file loads pass :func:`indicators.store.pause_for_test` as
    their checkpoint.  The app itself passes none (the loader's hook stays out of the app);
    this wraps :func:`indicators.ingest.ingest_file`, which ``dashboard.data`` looks up at each
    upload, in this server process only."""
    import functools

    from streamlit.web.cli import main

    import indicators.ingest

    indicators.ingest.ingest_file = functools.partial(
        indicators.ingest.ingest_file, checkpoint=store.pause_for_test
    )
    main(prog_name="streamlit")


if __name__ == "__main__":
    streamlit_with_checkpoints()
