"""Helpers for the reliability tests: CSV files, command-line loads in real processes, snapshots.

A command-line load runs as ``python -m indicators ingest`` in its own process.  With
``pause=<point>`` it stops inside the load (``$INDICATORS_TEST_PAUSE_AT``, see
:func:`indicators.store.pause_for_test`), holding the database file, until the test resumes it
(a newline on its stdin) or kills it.  Every wait is bounded and says what it waited for.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable, Sequence
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

    def __init__(self, args: Sequence[str], *, pause: str | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if k != store.PAUSE_ENV}
        if pause is not None:
            env[store.PAUSE_ENV] = pause
        self.args = list(args)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "indicators", *self.args],
            cwd=ROOT, env=env, text=True,
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
